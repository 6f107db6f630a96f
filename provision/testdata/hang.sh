#!/bin/sh
# Test hook that never finishes: a child sleeps in the same process group;
# its PID goes to $PIDFILE so the test can check it was killed.
sleep 60 &
echo $! >"$PIDFILE"
wait
