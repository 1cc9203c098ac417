#!/bin/sh
# session_bench.sh: whole sessions over loopback, our ./mosh side by side
# with Debian's mosh 1.4.0 (mosh-server, mosh-client) in the same run,
# alternating (ours first in odd rounds, upstream first in even ones), and
# the median of the rounds. It ends with a summary, one line per figure:
# ours, upstream, the ratio ours/upstream, and the target. Nothing is
# asserted, but a figure that could not be measured (a session that did
# not start, a marker that never showed) reads FAILED, and the script then
# exits 1. Run from the repository root after `make mosh obj-check/ptytime
# obj-bench/vt_bench` (make bench does):  sh test/session_bench.sh
#
# The client runs on a pty owned by test/ptytime.c, which is its terminal:
# it types the keys and timestamps where a key enters the client's pty and
# where the client's drawing leaves it (no terminal emulator, no polling).
#   bulk   the server's shell prints a ready line and reads a line; ptytime
#          types Enter, and the shell cats a generated 50 MB mix (text,
#          colours, cursor movement, erases: test/session_bench.py gen mix)
#          or runs seq 1 3000000, then prints an end marker; the wall time
#          from Enter to the marker drawn by the client, the CPU time of
#          the server daemon and of the client over that interval, their
#          peak RSS, and the datagrams and UDP payload bytes in each
#          direction over that interval (iptables counters on rules this
#          script adds for the server's port, and removes).
#   ceiling the same inputs through a bare pty (cooked, as a shell's pty
#          is) read by a tight loop, without any emulator: the physical
#          limit of this machine.
#   emulator obj-bench/vt_bench: our emulator alone, in process.
#   keys   one letter at a time at an idle shell prompt (60-180 ms apart),
#          prediction off: key into the client's pty to echo out of it.
#   idle   ours and upstream's sessions side by side with an idle shell,
#          from the start to the end of all the above: RSS of server and
#          client, traffic in each direction in B/s.
#   size   stripped sizes; Debian's binaries with their shared libraries.
#
# Knobs: BENCH_ROUNDS (3) rounds of every session pair; BENCH_MB (50) the
# size of the mix; BENCH_SEQ (3000000) the count for seq; BENCH_KEYS (40)
# keystrokes per session; BENCH_IDLE (60) the least seconds of idle
# traffic counted (the idle sessions run through all the others);
# BENCH_CROSS=1 adds the mix with our server and Debian's client and the
# other way round; BENCH_EXTRA="ascii cjk" (default none) adds bulk
# sessions on inputs of plain text lines and of CJK lines, BENCH_MB each;
# BENCH_TIMEOUT (60) seconds before a wait is given up; BENCH_PARTS (all
# of "mix seq keys idle ceiling emu size") the parts to run, e.g.
# BENCH_PARTS=keys for the keystroke figures alone.
. test/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
MB=${BENCH_MB:-50}
SEQ=${BENCH_SEQ:-3000000}
KEYS=${BENCH_KEYS:-40}
IDLE=${BENCH_IDLE:-60}
CROSS=${BENCH_CROSS:-0}
EXTRA=${BENCH_EXTRA:-}
PARTS=${BENCH_PARTS:-mix seq keys idle ceiling emu size}
TMO=${BENCH_TIMEOUT:-60}
PT=obj-check/ptytime
VTB=obj-bench/vt_bench
GEN=test/session_bench.py
OURS_S="./mosh server"
OURS_C="./mosh client"
READY=BENCH-READY
# No character of the marker occurs in any input (checked below), so no
# client can leave one of its cells undrawn as unchanged.
MARK='QZX@WY#+'
RES=$T/results
CHAIN=MOSHBENCH$$
t_begin=$(now_ms)
: >"$RES"

echo "session_bench: ours (./mosh) against Debian's mosh 1.4.0, loopback," \
    "80x24; median of $ROUNDS rounds"
for bin in mosh-server mosh-client "$PYTHON" ./mosh "$PT" "$VTB" seq; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		echo "session_bench: FAILED: $bin is missing (make mosh" \
		    "obj-check/ptytime obj-bench/vt_bench)"
		exit 1
	fi
done
echo "  load average now: $(cut -d ' ' -f 1-3 /proc/loadavg) on" \
    "$(getconf _NPROCESSORS_ONLN) CPUs"

# want PART: is PART in BENCH_PARTS?
want()
{
	case " $PARTS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# ---- results ----

# put FIG IMPL VALUE: one measurement; "FAIL" when it could not be made
# (VALUE is empty or not a number).
put()
{
	case ${3:-} in
	'' | *[!0-9.]* | *.*.* | .)
		echo "$1 $2 FAIL" >>"$RES"
		;;
	*)
		echo "$1 $2 $3" >>"$RES"
		;;
	esac
}

# median FIG IMPL: the median of the numeric values, "-" if none.
median()
{
	awk -v f="$1" -v i="$2" '$1 == f && $2 == i && $3 != "FAIL" {
		v[++n] = $3 }
	END {
		if (n == 0) { print "-"; exit }
		for (a = 2; a <= n; a++) {
			x = v[a]
			for (b = a - 1; b >= 1 && v[b] > x; b--) {
				v[b + 1] = v[b]
			}
			v[b + 1] = x
		}
		if (n % 2) { print v[(n + 1) / 2] }
		else { print (v[n / 2] + v[n / 2 + 1]) / 2 }
	}' "$RES"
}

# fails FIG IMPL: how many measurements failed.
fails()
{
	awk -v f="$1" -v i="$2" '$1 == f && $2 == i && $3 == "FAIL" { n++ }
	    END { print n + 0 }' "$RES"
}

# pctl FILE P: the P-th percentile (nearest rank) of the numbers in FILE.
pctl()
{
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 }
	END {
		if (NR == 0) { print "-"; exit }
		k = int(NR * p / 100 + 0.999999)
		if (k < 1) { k = 1 }
		print v[k]
	}'
}

# fmt VALUE DECIMALS: a number with that many decimals; "-" stays.
fmt()
{
	awk -v x="$1" -v d="$2" 'BEGIN {
		if (x == "-" || x == "") { print "-" }
		else { printf "%.*f\n", d, x }
	}'
}

ratio()
{
	awk -v x="$1" -v y="$2" 'BEGIN {
		if (x == "-" || y == "-" || x == "" || y == "" || y + 0 == 0) {
			print "-"
		} else {
			printf "%.2f\n", x / y
		}
	}'
}

# field NAME FILE: the value of NAME=VALUE in FILE ("" if absent or -1).
field()
{
	sed -n "s/.*\\b$1=\\([-0-9.]*\\).*/\\1/p" "$2" 2>/dev/null |
	    head -n 1 | sed 's/^-1$//'
}

# scale VALUE DIV: VALUE / DIV ("" stays "").
scale()
{
	[ -n "$1" ] || return 0
	awk -v x="$1" -v d="$2" 'BEGIN { print x / d }'
}

# ---- traffic counters (iptables, root only) ----

COUNT=0
if [ "$(id -u)" = 0 ] && command -v iptables >/dev/null 2>&1 &&
    iptables -w -N "$CHAIN" 2>/dev/null; then
	if iptables -w -I OUTPUT -o lo -p udp -j "$CHAIN"; then
		COUNT=1
		at_exit "iptables -w -D OUTPUT -o lo -p udp -j $CHAIN; \
		    iptables -w -F $CHAIN; iptables -w -X $CHAIN"
	else
		iptables -w -X "$CHAIN"
	fi
fi
[ "$COUNT" = 1 ] || echo "  no iptables counters (needs root): traffic" \
    "figures will read FAILED"

# count_on PORT / count_off PORT: count UDP from and to a server's port.
count_on()
{
	[ "$COUNT" = 1 ] || return 0
	iptables -w -A "$CHAIN" -p udp --sport "$1"
	iptables -w -A "$CHAIN" -p udp --dport "$1"
}

count_off()
{
	[ "$COUNT" = 1 ] || return 0
	iptables -w -D "$CHAIN" -p udp --sport "$1"
	iptables -w -D "$CHAIN" -p udp --dport "$1"
}

# The ptytime hook that saves the counters as $T/ipt.NAME.go and .end.
hook()
{
	echo "sh -c 'iptables -w -n -v -x -L $CHAIN >$T/ipt.$1.\$0'"
}

# traffic NAME PORT: "down_pkts down_payload up_pkts up_payload" between
# the go and end snapshots (payload: less 28 bytes of IPv4 and UDP header
# per datagram); nothing if the snapshots are missing.
traffic()
{
	[ -s "$T/ipt.$1.go" ] && [ -s "$T/ipt.$1.end" ] || return 0
	awk -v p="$2" '
	{
		s = 0
		for (i = 1; i <= NF; i++) {
			if ($i == "spt:" p) { s = 1 }
			if ($i == "dpt:" p) { s = 2 }
		}
		if (s == 0) { next }
		k = NR == FNR ? -1 : 1
		pk[s] += k * $1
		by[s] += k * $2
	}
	END {
		printf "%d %d %d %d\n", pk[1], by[1] - 28 * pk[1], pk[2],
		    by[2] - 28 * pk[2]
	}' "$T/ipt.$1.go" "$T/ipt.$1.end"
}

# ---- inputs ----

MIX=$T/mix.in
: >"$MIX"
if want mix || want ceiling; then
	echo "session_bench: generating the $MB MB mix ($GEN gen mix)"
	if ! "$PYTHON" "$GEN" gen mix "$MIX" "$MB"; then
		echo "session_bench: FAILED: $GEN gen mix"
		exit 1
	fi
fi
MIXSIZE=$(wc -c <"$MIX")
for k in $EXTRA; do
	echo "session_bench: generating $MB MB of $k ($GEN gen $k)"
	if ! "$PYTHON" "$GEN" gen "$k" "$T/$k.in" "$MB"; then
		echo "session_bench: FAILED: $GEN gen $k"
		exit 1
	fi
done
for f in "$MIX" $(for k in $EXTRA; do echo "$T/$k.in"; done); do
	if printf '%s' "$MARK" | fold -w 1 | sort -u |
	    while read -r c; do grep -qF -- "$c" "$f" && echo "$c"; done |
	    grep -q .; then
		echo "session_bench: FAILED: a character of the marker is in" \
		    "$f"
		exit 1
	fi
done

# ---- one bulk session ----

# bulk FIG IMPL SERVER CLIENT "CMD": one session that runs CMD on Enter.
bulk()
{
	b_fig=$1
	b_impl=$2
	b_name=$1.$2.$ROUND
	b_ok=0
	if server_start "$3" "printf '$READY\\n'; read x; $5; \
	    printf '\\033[0m\\n$MARK\\n'; exec sleep 300"; then
		b_srv=$SERVER_PID
		b_port=$SERVER_PORT
		count_on "$b_port"
		rm -f "$T/ipt.$b_name.go" "$T/ipt.$b_name.end"
		if $PT -t "$TMO" -p "$b_srv" -x "$(hook "$b_name")" \
		    wait "$READY" "$MARK" -- env MOSH_KEY="$SERVER_KEY" \
		    LANG=C.UTF-8 LC_ALL=C.UTF-8 MOSH_PREDICTION_DISPLAY=never \
		    $4 127.0.0.1 "$b_port" >"$T/$b_name.out" \
		    2>"$T/$b_name.err"; then
			b_ok=1
		fi
		stop_pid "$b_srv"
		count_off "$b_port"
	fi
	if [ "$b_ok" = 1 ]; then
		b_ms=$(field ms "$T/$b_name.out")
		put "$b_fig.wall" "$b_impl" "$(scale "$b_ms" 1000)"
		put "$b_fig.scpu" "$b_impl" \
		    "$(scale "$(field srv_cpu_ms "$T/$b_name.out")" 1000)"
		put "$b_fig.ccpu" "$b_impl" \
		    "$(scale "$(field cli_cpu_ms "$T/$b_name.out")" 1000)"
		put "$b_fig.shwm" "$b_impl" \
		    "$(field srv_hwm_kb "$T/$b_name.out")"
		put "$b_fig.chwm" "$b_impl" \
		    "$(field cli_hwm_kb "$T/$b_name.out")"
		set -- $(traffic "$b_name" "$b_port")
		put "$b_fig.dpk" "$b_impl" "${1:-}"
		put "$b_fig.dby" "$b_impl" "${2:-}"
		put "$b_fig.upk" "$b_impl" "${3:-}"
		put "$b_fig.uby" "$b_impl" "${4:-}"
		echo "  round $ROUND $b_fig $b_impl: $(fmt "$b_ms" 0) ms," \
		    "server CPU $(field srv_cpu_ms "$T/$b_name.out") ms," \
		    "${1:--} datagrams and ${2:--} bytes down"
	else
		for f in wall scpu ccpu shwm chwm dpk dby upk uby; do
			put "$b_fig.$f" "$b_impl"
		done
		echo "  round $ROUND $b_fig $b_impl: FAILED:" \
		    "$(cat "$T/$b_name.err" 2>/dev/null | tail -n 3)"
	fi
}

# keys IMPL SERVER CLIENT: one session of $KEYS keystrokes; the latencies
# are added to $T/keys.IMPL.
keys()
{
	k_name=keys.$1.$ROUND
	k_ok=0
	if server_start "$2" "export PS1='bench> '; exec sh"; then
		k_srv=$SERVER_PID
		if $PT -t 10 -p "$k_srv" keys 'bench>' "$KEYS" -- \
		    env MOSH_KEY="$SERVER_KEY" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		    MOSH_PREDICTION_DISPLAY=never $3 127.0.0.1 \
		    "$SERVER_PORT" >"$T/$k_name.out" 2>"$T/$k_name.err"; then
			k_ok=1
		fi
		stop_pid "$k_srv"
	fi
	if [ "$k_ok" = 1 ]; then
		awk '$1 == "key" { print $2 }' "$T/$k_name.out" \
		    >>"$T/keys.$1"
		awk '$1 == "key" { print $2 }' "$T/$k_name.out" \
		    >"$T/$k_name.ms"
		put keys "$1" 1
		echo "  round $ROUND keys $1:" \
		    "median $(pctl "$T/$k_name.ms" 50) ms," \
		    "p90 $(pctl "$T/$k_name.ms" 90) ms"
	else
		put keys "$1"
		echo "  round $ROUND keys $1: FAILED:" \
		    "$(tail -n 3 "$T/$k_name.err" 2>/dev/null)"
	fi
}

# ---- idle sessions ----

# idle_start IMPL SERVER CLIENT: a session with an idle shell, on a
# ptytime in the background that counts from 1 s after the prompt until
# it gets SIGUSR1 (at least $IDLE s); sets I_PID, I_SRV and I_PORT.
# Both run through all the rounds below: one heartbeat every few seconds
# disturbs nothing, and the long window makes the B/s figure exact to a
# fraction of a datagram.
idle_start()
{
	I_PID=
	I_SRV=
	I_PORT=
	if ! server_start "$2" "export PS1='bench> '; exec sh"; then
		return 1
	fi
	I_SRV=$SERVER_PID
	I_PORT=$SERVER_PORT
	count_on "$I_PORT"
	rm -f "$T/ipt.idle.$1.go" "$T/ipt.idle.$1.end"
	$PT -t 10 -p "$I_SRV" -x "$(hook "idle.$1")" idle 'bench>' "$IDLE" \
	    -- env MOSH_KEY="$SERVER_KEY" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
	    MOSH_PREDICTION_DISPLAY=never $3 127.0.0.1 "$I_PORT" \
	    >"$T/idle.$1.out" 2>"$T/idle.$1.err" &
	I_PID=$!
	track_pid "$I_PID"
}

if want idle; then
	echo "session_bench: two idle sessions (ours, upstream's) run" \
	    "meanwhile, at least $IDLE s"
	idle_start ours "$OURS_S" "$OURS_C"
	io_pid=$I_PID io_srv=$I_SRV io_port=$I_PORT
	idle_start up mosh-server mosh-client
	iu_pid=$I_PID iu_srv=$I_SRV iu_port=$I_PORT
fi

# ---- rounds ----

: >"$T/keys.ours"
: >"$T/keys.up"
ROUND=1
while [ "$ROUND" -le "$ROUNDS" ]; do
	if [ $((ROUND % 2)) = 1 ]; then
		order="ours up"
	else
		order="up ours"
	fi
	want mix || order_mix=
	for impl in ${order_mix-$order}; do
		if [ "$impl" = ours ]; then
			bulk mix ours "$OURS_S" "$OURS_C" "cat '$MIX'"
		else
			bulk mix up mosh-server mosh-client "cat '$MIX'"
		fi
	done
	if [ "$CROSS" = 1 ] && want mix; then
		bulk mix xs "$OURS_S" mosh-client "cat '$MIX'"
		bulk mix xc mosh-server "$OURS_C" "cat '$MIX'"
	fi
	for k in $EXTRA; do
		for impl in $order; do
			if [ "$impl" = ours ]; then
				bulk "$k" ours "$OURS_S" "$OURS_C" \
				    "cat '$T/$k.in'"
			else
				bulk "$k" up mosh-server mosh-client \
				    "cat '$T/$k.in'"
			fi
		done
	done
	want seq || order_seq=
	for impl in ${order_seq-$order}; do
		if [ "$impl" = ours ]; then
			bulk seq ours "$OURS_S" "$OURS_C" "seq 1 $SEQ"
		else
			bulk seq up mosh-server mosh-client "seq 1 $SEQ"
		fi
	done
	want keys || order_keys=
	for impl in ${order_keys-$order}; do
		if [ "$impl" = ours ]; then
			keys ours "$OURS_S" "$OURS_C"
		else
			keys up mosh-server mosh-client
		fi
	done
	ROUND=$((ROUND + 1))
done

# ---- the ceiling and the emulator ----

if want ceiling; then
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for f in mix seq; do
			if [ "$f" = mix ]; then
				set -- cat "$MIX"
			else
				set -- seq 1 "$SEQ"
			fi
			if $PT -t "$TMO" drain -- "$@" >"$T/ceil.out" 2>&1
			then
				put "ceil.$f" ours \
				    "$(scale "$(field ms "$T/ceil.out")" 1000)"
			else
				put "ceil.$f" ours
			fi
		done
		r=$((r + 1))
	done
fi
if want emu; then
	if $VTB >"$T/vt.out" 2>&1; then
		for k in ascii colour cjk; do
			put "vt.$k" ours "$(awk -v k="$k" \
			    '$2 == k { print $(NF - 1) }' "$T/vt.out")"
		done
	else
		for k in ascii colour cjk; do
			put "vt.$k" ours
		done
	fi
fi

if want idle; then
	echo "session_bench: ending the idle sessions"
	for p in $io_pid $iu_pid; do
		kill -USR1 "$p" 2>/dev/null
	done
	for impl in ours up; do
		if [ "$impl" = ours ]; then
			p=$io_pid s=$io_srv port=$io_port
		else
			p=$iu_pid s=$iu_srv port=$iu_port
		fi
		ok=0
		if [ -n "$p" ] && wait "$p"; then
			ok=1
		fi
		[ -n "$p" ] && t_forget "$p"
		[ -n "$s" ] && stop_pid "$s"
		[ -n "$port" ] && count_off "$port"
		if [ "$ok" = 1 ]; then
			put idle.srss "$impl" \
			    "$(field srv_rss_kb "$T/idle.$impl.out")"
			put idle.crss "$impl" \
			    "$(field cli_rss_kb "$T/idle.$impl.out")"
			ims=$(field ms "$T/idle.$impl.out")
			set -- $(traffic "idle.$impl" "$port")
			if [ -n "${4:-}" ] && [ -n "$ims" ]; then
				echo "  idle $impl: $1 datagrams down, $3" \
				    "up in $(fmt "$ims" 0) ms"
				isec=$(scale "$ims" 1000)
				put idle.down "$impl" "$(scale "$2" "$isec")"
				put idle.up "$impl" "$(scale "$4" "$isec")"
				put idle.both "$impl" \
				    "$(scale $(($2 + $4)) "$isec")"
			else
				put idle.down "$impl"
				put idle.up "$impl"
				put idle.both "$impl"
			fi
		else
			echo "  idle $impl: FAILED:" \
			    "$(tail -n 3 "$T/idle.$impl.err" 2>/dev/null)"
			for f in srss crss down up both; do
				put "idle.$f" "$impl"
			done
		fi
	done
fi

# ---- sizes ----

if want size; then
	osize=$(wc -c <./mosh)
	ss=$(wc -c <"$(command -v mosh-server)")
	cs=$(wc -c <"$(command -v mosh-client)")
	libs=$(ldd "$(command -v mosh-server)" "$(command -v mosh-client)" |
	    awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u)
	lsum=0
	for l in $libs; do
		lsum=$((lsum + $(wc -c <"$(readlink -f "$l")")))
	done
	put size.bin ours "$osize"
	put size.bin up "$((ss + cs))"
	put size.all ours "$osize"
	put size.all up "$((ss + cs + lsum))"
fi

# ---- summary ----

FAILED=0
# row FIG LABEL DECIMALS TARGET: one summary line; upstream "-" when it
# has no such figure.
row()
{
	r_o=$(median "$1" ours)
	r_u=$(median "$1" up)
	r_f=$(($(fails "$1" ours) + $(fails "$1" up)))
	# A part that was not run has no row.
	[ "$r_o$r_u" = -- ] && [ "$r_f" = 0 ] && return 0
	r_os=$(fmt "$r_o" "$3")
	r_us=$(fmt "$r_u" "$3")
	r_note=
	if [ "$r_f" -gt 0 ]; then
		FAILED=1
		r_note="  FAILED in $r_f measurement(s)"
		[ "$r_o" = - ] && [ "$(fails "$1" ours)" -gt 0 ] && r_os=FAILED
		[ "$r_u" = - ] && [ "$(fails "$1" up)" -gt 0 ] && r_us=FAILED
	fi
	printf '%-40s ours %9s  upstream %9s  ratio %5s  target %s%s\n' \
	    "$2" "$r_os" "$r_us" "$(ratio "$r_o" "$r_u")" "$4" "$r_note"
}

# keyrow LABEL PCT TARGET: latency percentile over all rounds' keystrokes.
keyrow()
{
	want keys || return 0
	r_o=$(pctl "$T/keys.ours" "$2")
	r_u=$(pctl "$T/keys.up" "$2")
	r_os=$(fmt "$r_o" 2)
	r_us=$(fmt "$r_u" 2)
	r_note=
	if [ "$(fails keys ours)" -gt 0 ] || [ "$(fails keys up)" -gt 0 ]; then
		FAILED=1
		r_note="  FAILED in $(($(fails keys ours) + \
		    $(fails keys up))) session(s)"
		[ "$r_o" = - ] && r_os=FAILED
		[ "$r_u" = - ] && r_us=FAILED
	fi
	printf '%-40s ours %9s  upstream %9s  ratio %5s  target %s%s\n' \
	    "$1" "$r_os" "$r_us" "$(ratio "$r_o" "$r_u")" "$3" "$r_note"
}

echo "session_bench: summary (medians of $ROUNDS rounds; ratio is" \
    "ours/upstream)"
mbs=$(awk -v b="$MIXSIZE" 'BEGIN { printf "%.0f", b / 1e6 }')
row mix.wall "cat $mbs MB mix, Enter to marker, s" 3 "<= 0.25"
row mix.scpu "  server CPU, s" 2 "-"
row mix.ccpu "  client CPU, s" 2 "-"
row mix.dpk "  server->client datagrams" 0 "<= upstream"
row mix.dby "  server->client bytes (UDP payload)" 0 "<= upstream"
row mix.upk "  client->server datagrams" 0 "-"
row mix.shwm "  server peak RSS, kB" 0 "<= 3072"
row mix.chwm "  client peak RSS, kB" 0 "<= 2048"
if [ "$CROSS" = 1 ] && want mix; then
	printf '%-40s ours %9s  upstream %9s  ratio %5s\n' \
	    "  our server, Debian's client, s" \
	    "$(fmt "$(median mix.wall xs)" 3)" \
	    "$(fmt "$(median mix.wall up)" 3)" \
	    "$(ratio "$(median mix.wall xs)" "$(median mix.wall up)")"
	printf '%-40s ours %9s  upstream %9s  ratio %5s\n' \
	    "  Debian's server, our client, s" \
	    "$(fmt "$(median mix.wall xc)" 3)" \
	    "$(fmt "$(median mix.wall up)" 3)" \
	    "$(ratio "$(median mix.wall xc)" "$(median mix.wall up)")"
fi
for k in $EXTRA; do
	row "$k.wall" "cat $MB MB of $k, Enter to marker, s" 3 "-"
	row "$k.scpu" "  server CPU, s" 2 "-"
	row "$k.dpk" "  server->client datagrams" 0 "-"
	row "$k.dby" "  server->client bytes (UDP payload)" 0 "-"
done
row seq.wall "seq 1 $SEQ to marker, s" 3 "<= 0.2"
row seq.scpu "  server CPU, s" 2 "-"
row seq.dpk "  server->client datagrams" 0 "<= upstream"
row seq.dby "  server->client bytes (UDP payload)" 0 "<= upstream"
row ceil.mix "ceiling: bare pty, cat of the mix, s" 3 "-"
row ceil.seq "ceiling: bare pty, seq, s" 3 "-"
row vt.ascii "emulator alone, ASCII, MB/s" 1 ">= 500"
row vt.colour "emulator alone, colour mix, MB/s" 1 "-"
row vt.cjk "emulator alone, CJK, MB/s" 1 "-"
keyrow "keystroke to echo, median, ms" 50 "<= 3"
keyrow "keystroke to echo, p90, ms" 90 "-"
row idle.srss "server RSS idle, kB" 0 "<= 2048"
row idle.crss "client RSS idle, kB" 0 "<= 2048"
row idle.both "idle traffic, both ways, B/s" 1 "<= 43"
row idle.down "  server->client, B/s" 1 "-"
row idle.up "  client->server, B/s" 1 "-"
row size.bin "stripped bytes (ours: the one binary)" 0 "<= 409600"
row size.all "  with shared libraries" 0 "<= 409600"
want size && echo "  (upstream's sizes are mosh-server + mosh-client," \
    "the second line with the $(echo "$libs" | wc -l) shared libraries" \
    "they load (ldd); Debian's mosh wrapper script also needs Perl)"
want keys && echo "  (keystrokes: $(wc -l <"$T/keys.ours") of ours and" \
    "$(wc -l <"$T/keys.up") of upstream's)"
t_end=$(now_ms)
echo "session_bench: done in $(((t_end - t_begin) / 1000)) s"
exit "$FAILED"
