#!/bin/sh
# hostile_e2e.sh: forged and mangled datagrams against a running server and
# a running client (ours, on loopback, the client in tmux), sent by
# test/hostile.c with the session key from fresh source ports:
#   garbage, truncations and bit flips of an authentic datagram, reflected
#   authentic datagrams (the target's own direction), authentic datagrams
#   older than the newest seen from new addresses, replays of one of them,
#   and a flood of 100,000 invalid datagrams at each side.
# The shell prints a line every 50 ms meanwhile, so the server has frames
# to send: one that adopted a forged address even briefly would send there.
# After each: the attacker heard nothing back (nobody adopted its address),
# the server is still attached to the client's own socket, both processes
# live, the session still runs a command; after the floods the RSS of both
# grew by less than 1 MB and the server's -v log shows the drop counter.
# Run from the repository root after `make mosh obj-check/hostile` (make
# check does):  sh test/hostile_e2e.sh
. test/lib.sh

MOSH=./mosh
HOSTILE=obj-check/hostile
FLOOD=${HOSTILE_FLOOD:-100000}

for bin in tmux ss "$MOSH" "$HOSTILE"; do
	if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then
		fail "missing $bin (make mosh $HOSTILE; test/deps.sh check)"
		done_tests
	fi
done

rss_kb()
{
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"
}

# The client's PID: the process whose command line is ours with our port.
client_pid()
{
	for t_p in /proc/[0-9]*; do
		if [ "$(tr '\0' ' ' 2>/dev/null <"$t_p/cmdline")" = \
		    "$MOSH client 127.0.0.1 $SERVER_PORT " ]; then
			echo "${t_p#/proc/}"
			return 0
		fi
	done
	return 1
}

# The UDP ports a process has open, one a line.
udp_ports()
{
	ss -Huanp 2>/dev/null | grep "pid=$1," |
	    sed -n 's/^[^ ]*[[:space:]]*[0-9]*[[:space:]]*[0-9]*[[:space:]]*[^ ]*:\([0-9]*\)[[:space:]].*/\1/p'
}

# The port of the server's newest "attached" line.
attached_port()
{
	sed -n 's/^Server now attached to client at .*:\([0-9]*\)$/\1/p' \
	    "$SERVER_LOG" | tail -n 1
}

# hostile ROLE MODE ARGS...: run it at the server or the client.
hostile()
{
	t_role=$1
	t_mode=$2
	shift 2
	if [ "$t_role" = server ]; then
		t_port=$SERVER_PORT
	else
		t_port=$CLIENT_PORT
	fi
	MOSH_KEY=$SERVER_KEY "$HOSTILE" -d "$t_role" "$@" "$t_mode" \
	    127.0.0.1 "$t_port" >"$T/hostile.out" 2>&1
	cat "$T/hostile.out"
	grep -q "^hostile $t_mode: sent [1-9][0-9]* replies 0$" \
	    "$T/hostile.out"
}

# The session answers: type a command and see its output.
n_cmd=0
usable()
{
	n_cmd=$((n_cmd + 1))
	tmux_type c "echo mark-\$((6 * 7))-$n_cmd"
	tmux_keys c Enter
	wait_screen c "^mark-42-$n_cmd\$" 15
}

still_attached()
{
	t_a=$(attached_port)
	[ -n "$t_a" ] && udp_ports "$CPID" | grep -qx "$t_a"
}

alive()
{
	kill -0 "$SERVER_PID" 2>/dev/null && kill -0 "$CPID" 2>/dev/null
}

server_start "$MOSH server" "export PS1='e2e> '; exec sh" -v ||
	fail "server starts"
[ -n "$SERVER_PID" ] || { fail "server pid"; done_tests; }
CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
client_start c 80 24 "$MOSH client" 127.0.0.1 "$SERVER_PORT"
check "prompt" wait_screen c '^e2e>' 15
check "session usable at start" usable
CPID=$(client_pid) || { fail "client pid"; done_tests; }
CLIENT_PORT=$(udp_ports "$CPID" | tail -n 1)
[ -n "$CLIENT_PORT" ] || { fail "client port"; done_tests; }
check "server attached to the client's socket" still_attached

# While the shell prints a line every 50 ms the server sends a frame every
# few tens of ms, so one that adopted a forged source address even for a
# moment would send there before the client's next datagram takes it back.
ticker()
{
	tmux_type c "i=0; while [ \$i -lt $1 ]; do i=\$((i+1)); \
echo tick-\$i; sleep 0.05; done"
	tmux_keys c Enter
}

for role in server client; do
	ticker 80
	check "$role: garbage, nothing back" hostile "$role" garbage -n 300
	check "$role: truncations, nothing back" hostile "$role" trunc
	check "$role: bit flips, nothing back" hostile "$role" flip -w 200
	check "$role: reflected, nothing back" \
	    hostile "$role" reflect -n 300 -r 500
	check "$role: old authentic from new sources, nothing back" \
	    hostile "$role" old -n 200 -r 200
	check "$role: replays, nothing back" hostile "$role" replay -n 300 \
	    -r 500
	check "$role: ticker done" wait_screen c '^tick-80$' 20
	check "$role: both alive" alive
	check "$role: server still attached to the client" still_attached
	check "$role: session usable" usable
done

# The floods: RSS before and after (after one more command, so both sides
# have drawn and settled).
s0=$(rss_kb "$SERVER_PID")
c0=$(rss_kb "$CPID")
check "server: flood of $FLOOD invalid datagrams, nothing back" \
    hostile server flood -n "$FLOOD" -r 25000
check "client: flood of $FLOOD invalid datagrams, nothing back" \
    hostile client flood -n "$FLOOD" -r 25000
check "after the floods: both alive" alive
check "after the floods: server still attached to the client" still_attached
check "after the floods: session usable" usable
s1=$(rss_kb "$SERVER_PID")
c1=$(rss_kb "$CPID")
echo "RSS server ${s0} -> ${s1} kB, client ${c0} -> ${c1} kB"
check "server RSS grew < 1 MB" [ $((s1 - s0)) -lt 1024 ]
check "client RSS grew < 1 MB" [ $((c1 - c0)) -lt 1024 ]

# -v: the per-drop messages and the counter at powers of two.
grep '^Dropped datagrams' "$SERVER_LOG" | tail -n 1
t_max=$(sed -n 's/^Dropped datagrams: \([0-9]*\) .*/\1/p' "$SERVER_LOG" |
    sort -n | tail -n 1)
check "server -v: drop counter reached 16384" [ "${t_max:-0}" -ge 16384 ]
check "server -v: per-drop messages" \
    grep -q '^Crypto exception: Packet failed integrity check.$' \
    "$SERVER_LOG"
check "server -v: reflected ones named" grep -q \
    '^Crypto exception: Illegal counterparty input (possible denial of service)$' \
    "$SERVER_LOG"

# The end: exit the shell; the server prints its totals at exit.
tmux_type c 'exit'
tmux_keys c Enter
check "client exits" tmux_wait_exit c 15
check "server exits" wait_for "! kill -0 $SERVER_PID 2>/dev/null" 10
check "server -v: totals at exit" wait_for \
    "tail -n 3 '$SERVER_LOG' | grep -q '^Dropped datagrams: '" 5
done_tests
