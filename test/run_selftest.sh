#!/bin/sh
# run_selftest.sh: the rules of test/run.sh, each shown on fake tests: a
# test that ran no check fails, a skip is counted and is not a failure, but
# under CI=true only a skip on the allow-list passes, and an allow-list
# entry needs its reason. Run from the repository root (make check does):
#   sh test/run_selftest.sh
. test/lib.sh

fake()
{
	printf '%s\n' "$2" >"$T/$1.sh"
}
fake pass 'echo "ok: x"; echo "pass.sh: 2 passed, 0 failed"'
fake none 'echo "none.sh: 0 passed, 0 failed"'
fake noline 'echo hello'
fake exit1 'echo "exit1.sh: 1 passed, 0 failed"; exit 1'
fake failed 'echo "failed.sh: 1 passed, 1 failed"; exit 1'
fake skipall 'echo "skip: needs a thing"; echo "skipall.sh: 0 passed, 0 failed"'
fake skipsome 'echo "skip: late poll"; echo "skipsome.sh: 3 passed, 0 failed"'
printf '# a comment\n\nlate poll # the reason\n' >"$T/allow"
printf 'late poll\n' >"$T/noreason"

# runs NAME WANT-RC WANT-TOTAL [VAR=VALUE...] -- TESTS...: run run.sh on
# the fake tests; its exit status and total line must be as given.
runs()
{
	r_name=$1
	r_rc=$2
	r_want=$3
	shift 3
	r_env=
	while [ "$1" != -- ]; do
		r_env="$r_env $1"
		shift
	done
	shift
	r_args=
	for r_t in "$@"; do
		r_args="$r_args $T/$r_t.sh"
	done
	env -u CI SKIPS_ALLOW="$T/allow" $r_env sh test/run.sh $r_args \
	    >"$T/out" 2>&1
	r_got=$?
	r_total=$(tail -n 1 "$T/out")
	if [ "$r_got" -eq "$r_rc" ] && [ "$r_total" = "$r_want" ]; then
		ok "$r_name"
	else
		fail "$r_name: exit $r_got, \"$r_total\"; want exit $r_rc," \
		    "\"$r_want\""
		sed 's/^/  |/' "$T/out"
	fi
}

runs "a passing test passes" 0 "2 passed, 0 failed, 0 skipped" -- pass
runs "a test that ran no check fails" 1 "0 passed, 1 failed, 0 skipped" \
    -- none
runs "a test without a total line fails" 1 "0 passed, 1 failed, 0 skipped" \
    -- noline
runs "a non-zero exit fails" 1 "1 passed, 1 failed, 0 skipped" -- exit1
runs "failures are summed" 1 "3 passed, 1 failed, 0 skipped" -- pass failed
runs "a test that only skipped is counted as skipped" 0 \
    "0 passed, 0 failed, 1 skipped" -- skipall
runs "skips are summed" 0 "5 passed, 0 failed, 2 skipped" \
    -- pass skipall skipsome
runs "CI=true: a skip not on the allow-list fails" 1 \
    "0 passed, 1 failed, 1 skipped" CI=true -- skipall
runs "CI=true: a skip on the allow-list passes" 0 \
    "3 passed, 0 failed, 1 skipped" CI=true -- skipsome
runs "CI=true: an allow-list entry without a reason fails" 1 \
    "3 passed, 1 failed, 1 skipped" CI=true SKIPS_ALLOW="$T/noreason" \
    -- skipsome
runs "CI=true: no allow-list allows nothing" 1 \
    "3 passed, 1 failed, 1 skipped" CI=true SKIPS_ALLOW="$T/absent" \
    -- skipsome
check "the skip is named in the report" grep -q '^  skip: late poll' "$T/out"
done_tests
