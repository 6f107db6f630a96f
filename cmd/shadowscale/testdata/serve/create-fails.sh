#!/bin/sh
# An exec provider's create hook that fails, as a cloud API out of quota.
echo "quota exceeded in zone z1" >&2
exit 3
