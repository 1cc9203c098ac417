#!/bin/sh
# run.sh: run each test program or script given as an argument, read the
# "N passed, N failed" line it ends with and the "skip: MSG" lines it
# printed (test/lib.sh's skip), and print the total as "N passed, N failed,
# N skipped". One more failure is counted for a program that exits
# non-zero, times out, prints no such line, or ran no check and skipped
# nothing. Under CI=true each skip whose message matches no entry of
# test/skips.allow (SKIPS_ALLOW) is a failure too: in CI every test must
# really run. TEST_TIMEOUT (seconds) bounds each program.
: "${TEST_TIMEOUT:=900}"
: "${SKIPS_ALLOW:=test/skips.allow}"
tp=0
tf=0
ts=0
out=$(mktemp)
allow=$(mktemp)
trap 'rm -f "$out" "$allow"' EXIT INT TERM

# The allow-list: one extended regex per line, then " # " and the reason
# it may be skipped in CI. Comment and blank lines are ignored; an entry
# without a reason makes the run fail under CI.
if [ "${CI:-}" = true ]; then
	if [ -f "$SKIPS_ALLOW" ]; then
		grep -v -e '^#' -e '^[[:space:]]*$' "$SKIPS_ALLOW" >"$allow"
	fi
	bad=$(grep -c -v -e ' # ..*[^[:space:]]' "$allow")
	if [ "$bad" -ne 0 ]; then
		grep -v -e ' # ..*[^[:space:]]' "$allow" | sed 's/^/  |/'
		echo "FAIL $SKIPS_ALLOW: $bad entries without a reason"
		tf=$((tf + bad))
	fi
	sed -i 's/[[:space:]]*# .*//' "$allow"
fi

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
	s=$(grep -c '^skip: ' "$out")
	[ -n "$p" ] || p=0
	[ -n "$f" ] || f=0
	why=
	if [ -z "$line" ]; then
		why="no \"N passed, N failed\" line"
	elif [ "$p" -eq 0 ] && [ "$s" -eq 0 ] && [ "$f" -eq 0 ]; then
		why="ran no check and skipped none"
	fi
	if [ "$f" -eq 0 ] && { [ "$rc" -ne 0 ] || [ -n "$why" ]; }; then
		f=1
	fi
	if [ "${CI:-}" = true ] && [ "$s" -ne 0 ]; then
		n=$(sed -n 's/^skip: //p' "$out" | grep -c -v -E -f "$allow")
		if [ "$n" -ne 0 ]; then
			f=$((f + n))
			why="$n skips not in $SKIPS_ALLOW (CI=true):"
			why="$why$(sed -n 's/^skip: //p' "$out" |
			    grep -v -E -f "$allow" | sed 's/^/\n  skip: /')"
		fi
	fi
	if [ "$f" -ne 0 ]; then
		cat "$out"
		echo "FAIL $t (exit $rc)${why:+: $why}"
	elif [ "$s" -ne 0 ]; then
		echo "ok   $t: $p passed, $s skipped"
		grep '^skip: ' "$out" | sed 's/^/       /'
	else
		echo "ok   $t: $p passed"
	fi
	tp=$((tp + p))
	tf=$((tf + f))
	ts=$((ts + s))
done
echo "$tp passed, $tf failed, $ts skipped"
[ "$tf" -eq 0 ]
