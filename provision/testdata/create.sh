#!/bin/sh
# Test create hook: prints $SHADOWSCALE_COUNT instances taken from $ADDRS
# (space separated) as a JSON array (FORMAT=array) or one object per line,
# and logs each id to $LOG.
set -eu
i=0
out=""
for addr in $ADDRS; do
	[ "$i" -lt "$SHADOWSCALE_COUNT" ] || break
	i=$((i + 1))
	echo "create vm-$i $SHADOWSCALE_PROVIDER" >>"$LOG"
	obj="{\"id\": \"vm-$i\", \"addr\": \"$addr\", \"meta\": {\"zone\": \"z$i\"}}"
	if [ "${FORMAT:-lines}" = array ]; then
		out="${out:+$out, }$obj"
	else
		echo "$obj"
	fi
done
if [ "${FORMAT:-lines}" = array ]; then
	echo "[$out]"
fi
