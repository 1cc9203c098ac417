#!/bin/sh
# loss_bench.sh: sessions through the seeded relay (obj-check/relay) at
# heavy loss, our ./mosh side by side with Debian's mosh 1.4.0 in the same
# run. Figures are printed as "ours X, upstream Y, ratio X/Y", upstream
# being Debian's server with Debian's client; the cross pairings (our
# server with Debian's client, Debian's server with our client) are
# printed against the same upstream figure. Nothing is asserted. Run from
# the repository root after `make` and `make obj-check/relay` (make bench
# does both):
#   sh test/loss_bench.sh
#
#   1. connect: the relay loses LB_LOSS (0.5) of the datagrams each way and
#      delays each by 150 ms (300 ms round trip); wall time from the start
#      of the client to the shell's prompt on its screen (80x24, in tmux).
#      Relay seeds 1, 2 and 3; the worst and the median are printed.
#   2. typed command: in a session through the same relay (seed 7), type
#      LB_CMDS (10) short commands ("expr N + 1000") key by key, 60 ms
#      apart, then Enter; wall time from Enter until the command's output
#      shows on the client (MOSH_PREDICTION_DISPLAY=never). Median and
#      worst, and the datagrams the relay received each way while the
#      commands were typed (the price of the copies sent under loss).
#
# About three and a half minutes, most of it Debian's client waiting 3 s
# between tries to reach its server.
# LB_PAIRS (default "ours deb ours-deb deb-ours") picks the pairings.
# Every wait is bounded (LB_CONNECT_MAX 20 s, LB_CMD_MAX 15 s); a figure
# that could not be measured prints as "-".
. test/lib.sh

LB_LOSS=${LB_LOSS:-0.5}
LB_CMDS=${LB_CMDS:-10}
LB_CONNECT_MAX=${LB_CONNECT_MAX:-20}
LB_CMD_MAX=${LB_CMD_MAX:-15}
LB_SEEDS=${LB_SEEDS:-"1 2 3"}
LB_PAIRS=${LB_PAIRS:-"ours deb ours-deb deb-ours"}
t_begin=$(now_ms)

for bin in mosh-server mosh-client tmux "$PYTHON" ./mosh "$RELAY"; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		echo "loss_bench: skip: $bin is missing (make; make" \
		    "obj-check/relay; test/deps.sh)"
		exit 0
	fi
done

# lb.py wait SOCK TARGET T0_MS REGEX MAX: print the ms from T0_MS (wall
# clock) until a line of the pane matches REGEX; exit 1 after MAX s.
# lb.py cmds SOCK TARGET N MAX: type N commands as described above and
# print one time in ms per line ("-" for one that did not show in MAX s).
cat >"$T/lb.py" <<'EOF'
import re, subprocess, sys, time

def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null"] +
                          list(args), capture_output=True, text=True).stdout

def seen(sock, target, rx):
    return any(rx.search(l) for l in
               tmux(sock, "capture-pane", "-p", "-t", target).splitlines())

def wait(sock, target, t0, rx, limit):
    end = time.time() + limit
    while time.time() < end:
        if seen(sock, target, rx):
            return time.time() * 1000 - t0
        time.sleep(0.004)
    return None

cmd, sock, target = sys.argv[1], sys.argv[2], sys.argv[3]
if cmd == "wait":
    ms = wait(sock, target, float(sys.argv[4]), re.compile(sys.argv[5]),
              float(sys.argv[6]))
    if ms is None:
        sys.exit(1)
    print("%.0f" % ms)
else:
    n, limit = int(sys.argv[4]), float(sys.argv[5])
    for i in range(n):
        v = 1000 + 7 * i + 3
        for ch in "expr %d + 1000" % (v - 1000):
            tmux(sock, "send-keys", "-t", target, "-l", ch)
            time.sleep(0.06)
        t0 = time.time() * 1000
        tmux(sock, "send-keys", "-t", target, "Enter")
        ms = wait(sock, target, t0, re.compile("^%d$" % v), limit)
        print("-" if ms is None else "%.0f" % ms, flush=True)
        # let the prompt come back before the next command
        wait(sock, target, time.time() * 1000,
             re.compile("^%d$" % v), 0)
        time.sleep(0.8)
EOF

pair_bins()
{
	case $1 in
	ours) LB_SRV="./mosh server" LB_CLI="./mosh client" ;;
	deb) LB_SRV=mosh-server LB_CLI=mosh-client ;;
	ours-deb) LB_SRV="./mosh server" LB_CLI=mosh-client ;;
	deb-ours) LB_SRV=mosh-server LB_CLI="./mosh client" ;;
	esac
}

# lb_start NAME PAIRING SEED: server with a plain sh, relay, client; sets
# LB_T0 (ms, just before the client starts) and LB_SRVPID.
lb_start()
{
	pair_bins "$2"
	if ! server_start "$LB_SRV" "export PS1='lb> '; exec sh"; then
		echo "loss_bench: $1: server did not start" >&2
		return 1
	fi
	LB_SRVPID=$SERVER_PID
	if ! relay_start -l 0 -t "127.0.0.1:$SERVER_PORT" -s "$3" \
	    --delay 150 --loss "$LB_LOSS"; then
		stop_pid "$LB_SRVPID"
		return 1
	fi
	CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
	LB_T0=$(now_ms)
	client_start "$1" 80 24 "$LB_CLI" 127.0.0.1 "$RELAY_PORT"
}

lb_end()
{
	tm kill-session -t "$1" 2>/dev/null
	relay_stop
	stop_pid "$LB_SRVPID"
}

# stats FILE: "median worst" of the numbers in FILE ("- -" if any is "-").
stats()
{
	if grep -q -- - "$1" || [ ! -s "$1" ]; then
		echo "- -"
		return
	fi
	sort -n "$1" | awk '{ v[NR] = $1 } END {
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%.0f %.0f\n", m, v[NR] }'
}

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

line()
{
	printf '%-44s ours %s, upstream %s, ratio %s\n' "$1" "${2:--}" \
	    "${3:--}" "$(ratio "${2:-}" "${3:-}")"
}

echo "loss_bench: relay at loss $LB_LOSS each way, 150 ms each way;" \
    "load average $(cut -d ' ' -f 1-3 /proc/loadavg)"

# ---- 1. connect ----
for p in $LB_PAIRS; do
	: >"$T/conn.$p"
	for s in $LB_SEEDS; do
		if lb_start "c$p$s" "$p" "$s"; then
			"$PYTHON" "$T/lb.py" wait "$TMUX_NAME" "c$p$s" "$LB_T0" \
			    '^lb>' "$LB_CONNECT_MAX" >>"$T/conn.$p" ||
			    echo - >>"$T/conn.$p"
			lb_end "c$p$s"
		else
			echo - >>"$T/conn.$p"
		fi
	done
	set -- $(stats "$T/conn.$p")
	eval "cm_$(echo $p | tr - _)=\$1 cw_$(echo $p | tr - _)=\$2"
	echo "  connect $p, seeds $LB_SEEDS: $(tr '\n' ' ' <"$T/conn.$p")ms"
done
line "connect to prompt: worst of 3, ms" "$cw_ours" "$cw_deb"
line "connect [our srv, Debian cli]: worst, ms" "$cw_ours_deb" "$cw_deb"
line "connect [Debian srv, our cli]: worst, ms" "$cw_deb_ours" "$cw_deb"
line "connect to prompt: median of 3, ms" "$cm_ours" "$cm_deb"

# ---- 2. typed command ----
for p in $LB_PAIRS; do
	: >"$T/cmd.$p"
	k=$(echo $p | tr - _)
	eval "tu_$k=- td_$k=-"
	if lb_start "t$p" "$p" 7; then
		if "$PYTHON" "$T/lb.py" wait "$TMUX_NAME" "t$p" "$LB_T0" \
		    '^lb>' 30 >/dev/null; then
			u0=$(relay_stat up in) d0=$(relay_stat down in)
			"$PYTHON" "$T/lb.py" cmds "$TMUX_NAME" "t$p" "$LB_CMDS" \
			    "$LB_CMD_MAX" >"$T/cmd.$p"
			u1=$(relay_stat up in) d1=$(relay_stat down in)
			eval "tu_$k=\$((u1 - u0)) td_$k=\$((d1 - d0))"
		else
			echo - >"$T/cmd.$p"
		fi
		lb_end "t$p"
	else
		echo - >"$T/cmd.$p"
	fi
	set -- $(stats "$T/cmd.$p")
	eval "tm_$k=\$1 tw_$k=\$2"
	echo "  command $p: $(tr '\n' ' ' <"$T/cmd.$p")ms"
done
line "typed command: median ms" "$tm_ours" "$tm_deb"
line "typed command [our srv, Debian cli]: median" "$tm_ours_deb" "$tm_deb"
line "typed command [Debian srv, our cli]: median" "$tm_deb_ours" "$tm_deb"
line "typed command: worst ms" "$tw_ours" "$tw_deb"
line "typed command: datagrams up" "$tu_ours" "$tu_deb"
line "typed command: datagrams down" "$td_ours" "$td_deb"
echo "  datagrams up/down: our srv, Debian cli $tu_ours_deb/$td_ours_deb;" \
    "Debian srv, our cli $tu_deb_ours/$td_deb_ours"
echo "loss_bench: done in $((($(now_ms) - t_begin) / 1000)) s"
