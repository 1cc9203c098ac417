#!/bin/sh
# tunnel_bench.sh: the session through the ssh path (doc/protocol.md §14)
# next to the same session over UDP, between two network namespaces
# (test/tunnel_lib.sh) with our server; "blocked" drops UDP arriving on
# the server's veth. Printed as "udp X, ssh Y, ratio Y/X". Nothing is
# asserted. Needs root; prints a skip line otherwise.
#   1. connect: wall time from the start of the front end to the shell's
#      prompt on its screen (tmux), TB_RUNS (3) runs each, median
#   2. keystroke to echo: TB_KEYS (20) keys typed one at a time at a
#      prompt with MOSH_PREDICTION_DISPLAY=never, wall time until the key
#      shows, median (tmux polling: a resolution of a few ms)
. test/lib.sh
. test/tunnel_lib.sh

TB_RUNS=${TB_RUNS:-3}
TB_KEYS=${TB_KEYS:-20}
if [ "$(id -u)" -ne 0 ] || ! command -v iptables >/dev/null 2>&1; then
	echo "tunnel_bench: skip: needs root and iptables"
	exit 0
fi
tn_setup >/dev/null
case $? in
1) echo "tunnel_bench: skip: no network namespaces"; exit 0 ;;
2) echo "tunnel_bench: FAILED to set up"; exit 1 ;;
esac

median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

# connect MODE: print the ms to the prompt.
connect()
{
	tb_t0=$(now_ms)
	tn_fe tb -n --ssh="$SSH" --server="$MOSH server" root@"$NS_S_IP" -- \
	    env PS1='tb> ' sh
	if wait_screen tb '^tb>' 20 2>/dev/null; then
		echo $(($(now_ms) - tb_t0))
	fi
}

# keys: at a prompt, print the ms of each key's echo.
keys()
{
	tb_i=0
	tb_s=abcdefghijklmnopqrstuvwxyz
	while [ $tb_i -lt "$TB_KEYS" ]; do
		tb_c=$(printf '%s' "$tb_s" | cut -c$((tb_i % 26 + 1)))
		tb_line=$(printf '%s' "$tb_s" | cut -c1-$((tb_i % 26 + 1)))
		[ $((tb_i % 26)) -eq 0 ] && { tmux_keys tb C-u; sleep 0.2; }
		tb_t0=$(now_ms)
		tmux_type tb "$tb_c"
		if wait_for "tmux_capture tb | grep -q '^tb> $tb_line\$'" 5; then
			echo $(($(now_ms) - tb_t0))
		fi
		tb_i=$((tb_i + 1))
		sleep 0.1
	done
}

for tb_m in udp ssh; do
	[ $tb_m = ssh ] && tn_block A
	tb_r=0
	: >"$T/conn.$tb_m"
	while [ $tb_r -lt "$TB_RUNS" ]; do
		connect >>"$T/conn.$tb_m"
		if [ $tb_r -eq $((TB_RUNS - 1)) ]; then
			sleep 1
			keys >"$T/keys.$tb_m"
		fi
		tm kill-session -t tb 2>/dev/null
		sleep 0.5
		tb_r=$((tb_r + 1))
	done
done
tn_block D

line()
{
	tb_u=$(median <"$T/$1.udp")
	tb_x=$(median <"$T/$1.ssh")
	tb_ratio=$(awk -v a="$tb_u" -v b="$tb_x" \
	    'BEGIN { if (a > 0 && b != "-") printf "%.2f", b / a; else print "-" }')
	printf 'tunnel: %-28s udp %6s ms  ssh %6s ms  ratio %s\n' "$2" \
	    "$tb_u" "$tb_x" "$tb_ratio"
}
line conn "connect to prompt (median)"
line keys "keystroke to echo (median)"
