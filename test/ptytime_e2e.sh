#!/bin/sh
# ptytime_e2e.sh: test/ptytime.c, the pty driver behind session_bench.sh,
# against small shell commands: that it finds text only where a terminal
# would print it, times out when text never shows, times keystroke echoes,
# drains a pty to the end and runs its hooks. No timing is asserted beyond
# "a number came out". Run from the repository root after
# `make obj-check/ptytime` (make check does):  sh test/ptytime_e2e.sh
. test/lib.sh

PT=obj-check/ptytime
if [ ! -x "$PT" ]; then
	fail "$PT is missing (make obj-check/ptytime)"
	done_tests
fi

# A number (integer or decimal) and nothing else.
is_num()
{
	printf '%s\n' "$1" | grep -Eq '^[0-9]+(\.[0-9]+)?$'
}

# drain: every byte, with ONLCR adding a CR to each of the 1000 newlines.
out=$($PT -t 10 drain -- seq 1 1000)
check "drain exits 0 and prints ms" is_num "$(echo "$out" |
    sed -n 's/^ms=\([0-9.]*\) .*/\1/p')"
check "drain counts the bytes after ONLCR" \
    [ "$(echo "$out" | sed -n 's/.* bytes=//p')" = \
    "$(($(seq 1 1000 | wc -c) + 1000))" ]

# wait: the marker is split by attributes (still visible) and, before
# that, shown only in a window title (not visible); the hook runs twice.
out=$($PT -t 10 -x "sh -c 'echo \$0 >>$T/hook'" wait RDY 'QZX@' -- \
    sh -c 'printf "\033]0;QZX@\007RDY\n"; read x; \
    printf "Q\033[1mZ\033[0mX\033[31m@\033[m\n"; exec sleep 30')
rc=$?
check "wait finds a marker split by SGR" [ "$rc" -eq 0 ]
check "wait prints ms" is_num "$(echo "$out" | sed -n 's/^ms=//p')"
check "wait reads the client's RSS" is_num "$(echo "$out" |
    sed -n 's/.*cli_rss_kb=\([0-9]*\).*/\1/p')"
printf '%s\n' "$out" >"$T/w.out"
check "wait reports no server without -p" grep -q 'srv_cpu_ms=-1 ' "$T/w.out"
check "hook ran with go, then end" \
    [ "$(cat "$T/hook" 2>/dev/null | tr '\n' ' ')" = "go end " ]

# A marker only in a title, or only inside a CSI, never shows: exit 1.
$PT -t 1 wait RDY 'QZX@' -- sh -c 'printf "RDY\n"; read x; \
    printf "\033]2;QZX@\033\\\\\033[1QZX@"; exec sleep 30' \
    >"$T/t.out" 2>"$T/t.err"
check "a marker hidden in escapes times out" [ $? -eq 1 ]
check "the timeout is reported" grep -q 'not visible' "$T/t.err"

# The marker never comes and the command ends first: exit 1, promptly.
t0=$(now_ms)
$PT -t 20 wait RDY 'QZX@' -- sh -c 'printf "RDY\n"; read x; echo done' \
    >"$T/e.out" 2>"$T/e.err"
check "a command that ends without the marker fails" [ $? -eq 1 ]
check "it fails when the command ends, not at the timeout" \
    [ $(($(now_ms) - t0)) -lt 15000 ]

# keys: cat on a cooked pty (the line discipline echoes each key).
$PT -t 10 keys 'p>' 7 -- sh -c 'printf "p> "; exec cat' >"$T/k.out" \
    2>"$T/k.err"
check "keys exits 0" [ $? -eq 0 ]
check "keys prints one time per key" \
    [ "$(grep -c '^key [0-9][0-9.]*$' "$T/k.out")" -eq 7 ]

# A command that never echoes: keys fails on the first key.
$PT -t 1 keys 'p>' 3 -- sh -c 'stty -echo; printf "p> "; exec cat' \
    >"$T/n.out" 2>"$T/n.err"
check "keys without echo fails" [ $? -eq 1 ]
check "and names the key" grep -q "key 1 ('a') not echoed" "$T/n.err"

# idle: the figures come after SEC seconds and SIGUSR1, the hook around
# them. SIGUSR1 comes early here: it still waits for SEC.
rm -f "$T/hook"
$PT -t 5 -x "sh -c 'echo \$0 >>$T/hook'" idle 'p>' 2 -- \
    sh -c 'printf "p> "; exec cat' >"$T/i.out" 2>"$T/i.err" &
ipid=$!
track_pid "$ipid"
sleep 1.5
kill -USR1 "$ipid"
sleep 1
check "idle waits for SEC after an early SIGUSR1" \
    [ ! -s "$T/i.out" ]
wait_for '! t_alive $ipid' 10
wait "$ipid"
check "idle exits 0" [ $? -eq 0 ]
t_forget "$ipid"
check "idle hooks" [ "$(tr '\n' ' ' <"$T/hook" 2>/dev/null)" = "go end " ]
check "idle reports how long it counted" \
    [ "$(sed -n 's/^ms=\([0-9]*\).*/\1/p' "$T/i.out")" -ge 2000 ]
check "idle reads the RSS" grep -q 'cli_rss_kb=[0-9]' "$T/i.out"

# Without SIGUSR1 it goes on after SEC.
$PT -t 5 idle 'p>' 0.1 -- sh -c 'printf "p> "; exec cat' >"$T/j.out" \
    2>"$T/j.err" &
jpid=$!
track_pid "$jpid"
sleep 2.5
check "idle without SIGUSR1 is still counting" t_alive "$jpid"
kill -USR1 "$jpid"
wait_for '! t_alive $jpid' 10
wait "$jpid"
check "and ends on SIGUSR1" [ $? -eq 0 ]
t_forget "$jpid"

# Usage errors exit 2.
$PT wait only-one -- true 2>/dev/null
check "a missing argument is a usage error" [ $? -eq 2 ]
$PT drain 2>/dev/null
check "a missing command is a usage error" [ $? -eq 2 ]
done_tests
