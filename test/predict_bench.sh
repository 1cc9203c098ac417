#!/bin/sh
# predict_bench.sh: how well local echo prediction does for a typist on a
# slow link, ours against upstream's client. The same seeded workload
# (shell commands, then editing a file in vi; gaps of 80-250 ms between
# keystrokes) is typed into our client and into Debian's mosh-client, each
# connected to our server through test/relay.c with 250 ms of delay each
# way (500 ms round trip).
#
# Both clients are measured the same way, from the outside:
# test/predict_rec.py runs the client on a pty and timestamps every
# keystroke and every byte the client draws; on the server side it sits
# between the server's pty and the shell and timestamps what the shell
# really shows after each keystroke. test/predict_replay.c (our emulator)
# turns both recordings into screens. Figures:
#   instant  keystrokes that changed the server's screen and whose whole
#            change was on the client's screen within 5 ms of typing
#   wrong    keystrokes after which the client showed, at any moment, a
#            character the server's screen did not have in that cell
#            within 3 s either way
# The Mosh paper reports about 70% instant and 0.9% wrong on a 3G link.
# Run from the repository root (make bench does):  sh test/predict_bench.sh
# The workload is typed once per seed in SEEDS (default "1 2": a run is
# about 80 s per client and seed), alternating the clients, and the counts
# are summed: a single run varies by a few points with how keystrokes fall
# between the server's frames. CLIENTS=ours measures our client alone.
# KEEP_TMP=1 keeps the recordings; PREDICT_BENCH_DEBUG=1 on an analyze
# says which keystrokes were late or wrong.
. test/lib.sh

SEEDS=${SEEDS:-1 2}
CLIENTS=${CLIENTS:-ours upstream}
DELAY=250
REPLAY=obj-bench/predict_replay

for bin in ./mosh "$PYTHON" "$RELAY" "$REPLAY" bash vi; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		fail "missing $bin (make mosh obj-check/relay $REPLAY)"
		done_tests
	fi
done
upstream=mosh-client
if [ "$CLIENTS" = ours ]; then
	upstream=
elif ! command -v "$upstream" >/dev/null 2>&1; then
	skip "no mosh-client: upstream not measured"
	upstream=
fi

# run NAME SEED CLIENT...: one recorded session of workload SEED; the
# analysis goes to $T/res.NAME.SEED.
run()
{
	r_name=$1.$2
	r_seed=$2
	shift 2
	mkdir -p "$T/home.$r_name"
	r_t0=$(now_ms)
	"$PYTHON" test/predict_rec.py gen "$r_seed" >"$T/schedule.$r_name"
	server_start "./mosh server" "export PS1='\$ ' HOME='$T/home.$r_name' \
	    HISTFILE=/dev/null; cd; exec $PYTHON '$PWD/test/predict_rec.py' \
	    server '$T/srv.$r_name' -- bash --norc --noprofile -i" || return 1
	relay_start -l 0 -t "127.0.0.1:$SERVER_PORT" --delay "$DELAY" ||
	    return 1
	env MOSH_KEY="$SERVER_KEY" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
	    "$PYTHON" test/predict_rec.py client "$T/cli.$r_name" \
	    "$T/schedule.$r_name" -- "$@" 127.0.0.1 "$RELAY_PORT" \
	    >"$T/cli.$r_name.out" 2>&1
	r_rc=$?
	relay_stop
	[ -n "$SERVER_PID" ] && stop_pid "$SERVER_PID"
	[ "$r_rc" -eq 0 ] || return 1
	"$PYTHON" test/predict_rec.py analyze "$REPLAY" \
	    "$T/srv.$r_name" "$T/cli.$r_name" >"$T/res.$r_name" || return 1
	echo "  $r_name: $(cat "$T/res.$r_name")," \
	    "$((($(now_ms) - r_t0) / 1000)) s"
}

# field FILE WORD: the number after WORD in an analysis line.
field()
{
	sed -n "s/.* $2 \([0-9]*\).*/\1/p; s/^$2 \([0-9]*\).*/\1/p" "$1" |
	    head -n 1
}

echo "predict_bench: seeds $SEEDS, $(($("$PYTHON" test/predict_rec.py \
    gen 1 | wc -l))) keystrokes each, RTT $((2 * DELAY)) ms"
for seed in $SEEDS; do
	check "our client recorded (seed $seed)" run ours "$seed" ./mosh client
	if [ -n "$upstream" ]; then
		check "upstream mosh-client recorded (seed $seed)" \
		    run upstream "$seed" "$upstream"
	fi
done

# The measure itself: a character drawn into a recording where the server
# never had one must count as one more wrong keystroke.
set -- $SEEDS
if [ -s "$T/res.ours.$1" ]; then
	awk '{ print } /^K / && ++k == 100 {
		printf "O %.0f 1b371b5b32303b373048511b38\n", $2 + 1 }' \
	    "$T/cli.ours.$1" >"$T/cli.inject"
	"$PYTHON" test/predict_rec.py analyze "$REPLAY" "$T/srv.ours.$1" \
	    "$T/cli.inject" >"$T/res.inject"
	if [ "$(field "$T/res.inject" wrong)" -eq \
	    $(($(field "$T/res.ours.$1" wrong) + 1)) ]; then
		ok "a wrong character drawn by hand is counted"
	else
		fail "a wrong character drawn by hand is counted:" \
		    "$(cat "$T/res.inject") vs $(cat "$T/res.ours.$1")"
	fi
fi

# sum WHO WORD: WORD summed over the seeds measured ("" if none).
sum()
{
	s_n=
	for s_seed in $SEEDS; do
		[ -s "$T/res.$1.$s_seed" ] || continue
		s_n=$((${s_n:-0} + $(field "$T/res.$1.$s_seed" "$2")))
	done
	echo "$s_n"
}

# pct N D: N/D as a percentage with one decimal; "-" without figures.
pct()
{
	awk -v n="$1" -v d="$2" 'BEGIN {
		if (n == "" || d == "" || d == 0) print "-"
		else printf "%.1f%%", 100 * n / d }'
}

ratio()
{
	awk -v a="${1%\%}" -v b="${2%\%}" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-"
		else printf "%.2f", a / b }'
}

o_inst=$(pct "$(sum ours instant)" "$(sum ours effect)")
u_inst=$(pct "$(sum upstream instant)" "$(sum upstream effect)")
o_wrong=$(pct "$(sum ours wrong)" "$(sum ours keys)")
u_wrong=$(pct "$(sum upstream wrong)" "$(sum upstream keys)")
printf '%-30s %10s %10s %7s\n' "prediction, $((2 * DELAY)) ms RTT" ours \
    upstream ratio
printf '%-30s %10s %10s %7s\n' "instant (<= 5 ms)" "$o_inst" "$u_inst" \
    "$(ratio "$o_inst" "$u_inst")"
printf '%-30s %10s %10s %7s\n' "wrong at some moment" "$o_wrong" \
    "$u_wrong" "$(ratio "$o_wrong" "$u_wrong")"
printf '%-30s %10s %10s\n' "keystrokes (with an effect)" \
    "$(sum ours keys) ($(sum ours effect))" \
    "$(sum upstream keys) ($(sum upstream effect))"
done_tests
