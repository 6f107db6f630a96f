#!/bin/sh
# Test destroy hook: logs the instance; succeeds for unknown ids too.
echo "destroy $SHADOWSCALE_INSTANCE_ID $SHADOWSCALE_INSTANCE_ADDR" >>"$LOG"
