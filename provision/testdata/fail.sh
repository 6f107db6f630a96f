#!/bin/sh
# Test hook that fails: prints one instance (a partial creation), then
# noise and an error on stderr, and exits 3.
echo "{\"id\": \"vm-partial\", \"addr\": \"$ADDRS\"}"
i=0
while [ "$i" -lt 200 ]; do echo "noise line $i" >&2; i=$((i + 1)); done
echo "quota exceeded in zone z1" >&2
exit 3
