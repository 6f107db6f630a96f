#!/bin/sh
# Test list hook: one instance as an array.
echo "[{\"id\": \"vm-1\", \"addr\": \"$ADDRS\"}, {\"id\": \"orphan\", \"addr\": \"10.0.0.9:80\"}]"
