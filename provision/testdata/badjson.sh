#!/bin/sh
# Test create hook printing broken JSON.
echo '{"id": "vm-1", "addr": '
