#!/bin/sh
# run.sh: run each test program or script given as an argument, read the
# "N passed, N failed" line it ends with, and print the total in the same
# form. A program that exits non-zero, times out, or prints no such line
# counts as one more failure. TEST_TIMEOUT (seconds) bounds each program.
: "${TEST_TIMEOUT:=900}"
tp=0
tf=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
for t in "$@"; do
	[ -e "$t" ] || continue
	case "$t" in
	*.sh) cmd="sh $t" ;;
	*) cmd="$t" ;;
	esac
	timeout -k 10 "$TEST_TIMEOUT" $cmd >"$out" 2>&1
	rc=$?
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(printf '%s\n' "$line" | sed -nE 's/^(.*[^0-9])?([0-9]+) passed, .*/\2/p')
	f=$(printf '%s\n' "$line" | sed -nE 's/.*passed, ([0-9]+) failed.*/\1/p')
	[ -n "$p" ] || p=0
	[ -n "$f" ] || f=0
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ -z "$line" ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		cat "$out"
		echo "FAIL $t (exit $rc)"
	else
		echo "ok   $t: $p passed"
	fi
	tp=$((tp + p))
	tf=$((tf + f))
done
echo "$tp passed, $tf failed"
[ "$tf" -eq 0 ]
