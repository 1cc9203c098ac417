#!/bin/sh
# session_bench.sh: whole sessions over loopback, our ./mosh side by side
# with Debian's mosh 1.4.0 (mosh-server, mosh-client) in the same run.
# Figures are printed as "ours X, upstream Y, ratio X/Y"; nothing is
# asserted. Run from the repository root after `make` (make bench does):
#   sh test/session_bench.sh
#
#   1. throughput: an 80x24 session (client in tmux) whose command cats a
#      generated input (test/session_bench.py gen: plain ASCII lines;
#      coloured text with cursor movement and erases; UTF-8 CJK), then
#      prints a marker. Wall time from the start of the cat until the
#      marker shows on the client; CPU time (utime + stime, /proc/PID/stat)
#      of the server daemon and of the client over that interval; peak
#      RSS (VmHWM) of both. Pairings: ours-ours against Debian-Debian, and
#      (BENCH_CROSS=1, the default) each cross pairing against
#      Debian-Debian: our server with Debian's client, Debian's server
#      with our client.
#   2. idle memory: VmRSS of server and client with an idle shell; binary
#      sizes, and the shared libraries Debian's binaries load (ldd).
#   3. keystroke latency: send-keys of one character until its echo shows
#      on the client (MOSH_PREDICTION_DISPLAY=never), median of BENCH_KEYS.
#
# BENCH_MB (default 21) sets the input size, BENCH_RUNS (2) the runs of
# each of the two main pairings (the best is printed: other load on the
# machine only ever slows a run down), BENCH_KEYS (30) the number of
# keystrokes, BENCH_CROSS=0 skips the cross pairings, BENCH_POLL (0.005)
# the seconds between two looks at the client's pane.
. test/lib.sh

BENCH_MB=${BENCH_MB:-21}
BENCH_KEYS=${BENCH_KEYS:-30}
BENCH_CROSS=${BENCH_CROSS:-1}
BENCH_RUNS=${BENCH_RUNS:-2}
GEN=test/session_bench.py
MARK=BENCH-END-MARK
HZ=$(getconf CLK_TCK)
t_begin=$(now_ms)

for bin in mosh-server mosh-client tmux "$PYTHON" ./mosh; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		echo "session_bench: skip: $bin is missing (make; test/deps.sh)"
		exit 0
	fi
done

# ---- /proc readers (print nothing when the process is gone) ----

# utime + stime in clock ticks: fields 14 and 15, counted after the
# parenthesised command name, which may hold blanks.
cpu_ticks()
{
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk '{ print $12 + $13 }'
}

# proc_kb PID FIELD: VmRSS or VmHWM in kB.
proc_kb()
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# The client process in tmux pane NAME: the descendant of the pane's
# shell that runs mosh-client or our mosh.
client_pid()
{
	t_pp=$(tm display-message -p -t "$1" '#{pane_pid}')
	ps -e -o pid=,ppid=,comm= | awk -v root="$t_pp" '
	{ par[$1] = $2; comm[$1] = $3 }
	END {
		for (p in par) {
			if (comm[p] != "mosh-client" && comm[p] != "mosh") {
				continue
			}
			for (q = par[p]; q != "" && q > 1; q = par[q]) {
				if (q == root) {
					print p
					exit
				}
			}
		}
	}'
}

# ratio X Y: X/Y with two decimals, "-" when either is missing or Y is 0.
ratio()
{
	awk -v x="$1" -v y="$2" 'BEGIN {
		if (x == "" || y == "" || x == "-" || y == "-" || y + 0 == 0) {
			print "-"
		} else {
			printf "%.2f\n", x / y
		}
	}'
}

# line LABEL OURS UPSTREAM
line()
{
	printf '%-36s ours %s, upstream %s, ratio %s\n' "$1" "${2:--}" \
	    "${3:--}" "$(ratio "${2:-}" "${3:-}")"
}

ticks_s()
{
	[ -n "$1" ] || { echo -; return; }
	awk -v t="$1" -v hz="$HZ" 'BEGIN { printf "%.2f\n", t / hz }'
}

# ---- one throughput session ----

# session NAME SERVER CLIENT INPUT: sets R_WALL (ms), R_SCPU and R_CCPU
# (s), R_SHWM and R_CHWM (kB); "-" for what could not be measured. The
# server runs a shell command that waits for a go file, cats INPUT, then
# prints the marker and sleeps: the daemon is still there to be read
# when the marker shows, and is stopped by PID afterwards.
session()
{
	R_WALL=-
	R_SCPU=-
	R_CCPU=-
	R_SHWM=-
	R_CHWM=-
	s_go=$T/$1.go
	rm -f "$s_go"
	# The command waits for the go file, so that the clock starts with
	# the cat and not with the server's start-up.
	if ! server_start "$2" "printf 'BENCH-READY\\r\\n'; \
	    while [ ! -e '$s_go' ]; do sleep 0.02; done; cat '$4'; \
	    printf '\\033[0m\\r\\n$MARK\\r\\n'; exec sleep 300"; then
		echo "session_bench: $1: server did not start" >&2
		return 1
	fi
	s_srv=$SERVER_PID
	CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
	client_start "$1" 80 24 "$3" 127.0.0.1 "$SERVER_PORT"
	if ! wait_screen "$1" BENCH-READY 10; then
		tm kill-session -t "$1" 2>/dev/null
		stop_pid "$s_srv"
		return 1
	fi
	s_cli=$(client_pid "$1")
	s_sc0=$(cpu_ticks "$s_srv")
	s_cc0=$(cpu_ticks "$s_cli")
	if s_ms=$("$PYTHON" "$GEN" wait "$TMUX_NAME" "$1" "$s_go" "$MARK" \
	    60); then
		R_WALL=$s_ms
	else
		echo "session_bench: $1: no $MARK within 60 s" >&2
	fi
	s_sc1=$(cpu_ticks "$s_srv")
	s_cc1=$(cpu_ticks "$s_cli")
	R_SHWM=$(proc_kb "$s_srv" VmHWM)
	R_CHWM=$(proc_kb "$s_cli" VmHWM)
	if [ -n "$s_sc0" ] && [ -n "$s_sc1" ]; then
		R_SCPU=$(ticks_s $((s_sc1 - s_sc0)))
	fi
	if [ -n "$s_cc0" ] && [ -n "$s_cc1" ]; then
		R_CCPU=$(ticks_s $((s_cc1 - s_cc0)))
	fi
	tm kill-session -t "$1" 2>/dev/null
	stop_pid "$s_srv"
	return 0
}

# least X Y: the smaller number, ignoring "-".
least()
{
	awk -v x="$1" -v y="$2" 'BEGIN {
		if (x == "-" || x == "") { print (y == "" ? "-" : y) }
		else if (y == "-" || y == "" || x + 0 <= y + 0) { print x }
		else { print y }
	}'
}

mbps()
{
	awk -v f="$1" -v ms="$2" 'BEGIN {
		if (ms == "-" || ms + 0 == 0) { print "-" }
		else { printf "%.1f\n", f / 1e6 / (ms / 1000) }
	}'
}

# ---- 1. throughput ----

echo "session_bench: generating three inputs of $BENCH_MB MB" \
    "($GEN gen)"
# In parallel; wait for these PIDs only (lib.sh has a watchdog child).
g_pids=
for k in ascii colour cjk; do
	"$PYTHON" "$GEN" gen "$k" "$T/$k.in" "$BENCH_MB" &
	g_pids="$g_pids $!"
done
for p in $g_pids; do
	wait "$p"
done
OURS_S="./mosh server"
OURS_C="./mosh client"
echo "session_bench: 80x24, server cats the input, wall until the marker" \
    "shows on the client; best of $BENCH_RUNS"
echo "  load average now: $(cut -d ' ' -f 1-3 /proc/loadavg) on" \
    "$(getconf _NPROCESSORS_ONLN) CPUs (wall times suffer from other load;" \
    "CPU times less so)"
for k in ascii colour cjk; do
	in=$T/$k.in
	size=$(wc -c <"$in")
	ow=- os=- oc=- osh=- och=- uw=- us=- uc=- ush=- uch=-
	r=1
	while [ "$r" -le "$BENCH_RUNS" ]; do
		session "o$r-$k" "$OURS_S" "$OURS_C" "$in"
		ow=$(least "$ow" "$R_WALL") os=$(least "$os" "$R_SCPU")
		oc=$(least "$oc" "$R_CCPU") osh=$(least "$osh" "$R_SHWM")
		och=$(least "$och" "$R_CHWM")
		session "u$r-$k" mosh-server mosh-client "$in"
		uw=$(least "$uw" "$R_WALL") us=$(least "$us" "$R_SCPU")
		uc=$(least "$uc" "$R_CCPU") ush=$(least "$ush" "$R_SHWM")
		uch=$(least "$uch" "$R_CHWM")
		r=$((r + 1))
	done
	line "$k: wall ms" "$ow" "$uw"
	line "$k: MB/s (wall)" "$(mbps "$size" "$ow")" "$(mbps "$size" "$uw")"
	line "$k: server CPU s" "$os" "$us"
	line "$k: client CPU s" "$oc" "$uc"
	line "$k: server peak RSS kB" "$osh" "$ush"
	line "$k: client peak RSS kB" "$och" "$uch"
	if [ "$BENCH_CROSS" = 1 ]; then
		x1=- x1s=- x2=- x2c=-
		r=1
		while [ "$r" -le "$BENCH_RUNS" ]; do
			session "x$r-$k" "$OURS_S" mosh-client "$in"
			x1=$(least "$x1" "$R_WALL")
			x1s=$(least "$x1s" "$R_SCPU")
			session "y$r-$k" mosh-server "$OURS_C" "$in"
			x2=$(least "$x2" "$R_WALL")
			x2c=$(least "$x2c" "$R_CCPU")
			r=$((r + 1))
		done
		line "$k: wall ms [our srv, Debian cli]" "$x1" "$uw"
		line "$k: server CPU s [Debian cli]" "$x1s" "$us"
		line "$k: wall ms [Debian srv, our cli]" "$x2" "$uw"
		line "$k: client CPU s [Debian srv]" "$x2c" "$uc"
	fi
done

# ---- 2. idle memory and 3. keystroke latency ----

# idle NAME SERVER CLIENT: sets I_SRSS, I_CRSS (kB) and I_LAT (median ms).
idle()
{
	I_SRSS=-
	I_CRSS=-
	I_LAT=-
	I_MIN=-
	I_MAX=-
	if ! server_start "$2" "export PS1='bench> '; exec sh"; then
		echo "session_bench: $1: server did not start" >&2
		return 1
	fi
	i_srv=$SERVER_PID
	CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
	client_start "$1" 80 24 "$3" 127.0.0.1 "$SERVER_PORT"
	if wait_screen "$1" '^bench>' 10; then
		i_cli=$(client_pid "$1")
		sleep 1
		I_SRSS=$(proc_kb "$i_srv" VmRSS)
		I_CRSS=$(proc_kb "$i_cli" VmRSS)
		if "$PYTHON" "$GEN" keys "$TMUX_NAME" "$1" "$BENCH_KEYS" 5 \
		    >"$T/$1.keys"; then
			I_LAT=$(sort -n "$T/$1.keys" | awk '{ v[NR] = $1 }
			    END { if (NR % 2) { print v[(NR + 1) / 2] }
			    else { printf "%.2f\n",
			    (v[NR / 2] + v[NR / 2 + 1]) / 2 } }')
			I_MIN=$(sort -n "$T/$1.keys" | head -n 1)
			I_MAX=$(sort -n "$T/$1.keys" | tail -n 1)
		else
			echo "session_bench: $1: a keystroke did not echo" >&2
		fi
	fi
	tm kill-session -t "$1" 2>/dev/null
	stop_pid "$i_srv"
}

idle o-idle "$OURS_S" "$OURS_C"
osr=$I_SRSS ocr=$I_CRSS olat=$I_LAT omin=$I_MIN omax=$I_MAX
idle u-idle mosh-server mosh-client
usr=$I_SRSS ucr=$I_CRSS ulat=$I_LAT umin=$I_MIN umax=$I_MAX
echo "session_bench: idle shell, 1 s after the prompt shows"
line "idle: server RSS kB" "$osr" "$usr"
line "idle: client RSS kB" "$ocr" "$ucr"
echo "session_bench: keystroke round trip (send-keys to echo on the" \
    "client), $BENCH_KEYS keys"
line "keystroke: median ms" "$olat" "$ulat"
echo "  (ours min $omin max $omax; upstream min $umin max $umax;" \
    "each includes ~2-4 ms of tmux polling)"

# ---- binary sizes ----

osize=$(wc -c <./mosh)
ss_=$(wc -c <"$(command -v mosh-server)")
cs_=$(wc -c <"$(command -v mosh-client)")
echo "session_bench: binary sizes (ours is static and serves both roles)"
line "binary bytes, server + client" "$osize" "$((ss_ + cs_))"
libs=$(ldd "$(command -v mosh-server)" "$(command -v mosh-client)" |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	$1 ~ /^\// && $1 !~ /:$/ { print $1 }' |
    sort -u)
lsum=0
for l in $libs; do
	lsum=$((lsum + $(wc -c <"$(readlink -f "$l")")))
done
echo "  Debian's also load $(echo "$libs" | wc -l) shared libraries" \
    "(ldd), $lsum bytes:"
for l in $libs; do
	printf '    %-44s %s\n' "$l" "$(wc -c <"$(readlink -f "$l")")"
done
line "binary + shared libraries bytes" "$osize" "$((ss_ + cs_ + lsum))"
t_end=$(now_ms)
echo "session_bench: done in $(((t_end - t_begin) / 1000)) s"
