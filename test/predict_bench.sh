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
# SEED=N changes the workload's timing; KEEP_TMP=1 keeps the recordings.
. test/lib.sh

SEED=${SEED:-1}
DELAY=250
BENCHOBJ="obj-bench/ocb.o obj-bench/net.o obj-bench/ssp.o obj-bench/vt.o"
BENCHOBJ="$BENCHOBJ obj-bench/framebuf.o obj-bench/predict.o"

for bin in ./mosh "$PYTHON" "$RELAY" bash vi; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		fail "missing $bin (make mosh obj-check/relay)"
		done_tests
	fi
done
if ! make -s $BENCHOBJ || ! ${HOSTCC:-cc} -O2 -std=c99 -D_GNU_SOURCE -I. \
    -o "$T/replay" test/predict_replay.c $BENCHOBJ \
    -lbearssl -lz -lcrypto -lutil -lm; then
	fail "building test/predict_replay.c"
	done_tests
fi

"$PYTHON" test/predict_rec.py gen "$SEED" >"$T/schedule"
nkeys=$(wc -l <"$T/schedule")

# run NAME CLIENT...: one recorded session; prints the analysis line.
run()
{
	r_name=$1
	shift
	mkdir -p "$T/home.$r_name"
	r_t0=$(now_ms)
	server_start "./mosh server" "export PS1='\$ ' HOME='$T/home.$r_name' \
	    HISTFILE=/dev/null; cd; exec $PYTHON '$PWD/test/predict_rec.py' \
	    server '$T/srv.$r_name' -- bash --norc --noprofile -i" || return 1
	relay_start -l 0 -t "127.0.0.1:$SERVER_PORT" --delay "$DELAY" ||
	    return 1
	env MOSH_KEY="$SERVER_KEY" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
	    "$PYTHON" test/predict_rec.py client "$T/cli.$r_name" \
	    "$T/schedule" -- "$@" 127.0.0.1 "$RELAY_PORT" \
	    >"$T/cli.$r_name.out" 2>&1
	r_rc=$?
	relay_stop
	[ -n "$SERVER_PID" ] && stop_pid "$SERVER_PID"
	[ "$r_rc" -eq 0 ] || return 1
	"$PYTHON" test/predict_rec.py analyze "$T/replay" \
	    "$T/srv.$r_name" "$T/cli.$r_name" >"$T/res.$r_name" || return 1
	echo "$r_name: $(cat "$T/res.$r_name")," \
	    "$((($(now_ms) - r_t0) / 1000)) s" >&2
}

# pct N D: N/D as a percentage with one decimal.
pct()
{
	awk -v n="$1" -v d="$2" 'BEGIN { printf "%.1f", d ? 100 * n / d : 0 }'
}

field()		# field NAME WORD
{
	sed -n "s/.* $2 \([0-9]*\).*/\1/p; s/^$2 \([0-9]*\).*/\1/p" \
	    "$T/res.$1" | head -n 1
}

echo "predict_bench: $nkeys keystrokes (seed $SEED), RTT $((2 * DELAY)) ms"
check "our client recorded" run ours ./mosh client
if command -v mosh-client >/dev/null 2>&1; then
	check "upstream mosh-client recorded" run upstream mosh-client
else
	skip "no mosh-client: upstream not measured"
fi

# The measure itself: a character drawn into a recording where the server
# never had one must count as a wrong keystroke.
if [ -s "$T/res.ours" ]; then
	awk '{ print } /^K / && ++k == 100 {
		printf "O %.0f 1b371b5b32303b373048511b38\n", $2 + 1 }' \
	    "$T/cli.ours" >"$T/cli.inject"
	"$PYTHON" test/predict_rec.py analyze "$T/replay" "$T/srv.ours" \
	    "$T/cli.inject" >"$T/res.inject"
	if [ "$(field inject wrong)" -eq $(($(field ours wrong) + 1)) ]; then
		ok "a wrong character drawn by hand is counted"
	else
		fail "a wrong character drawn by hand is counted:" \
		    "$(cat "$T/res.inject") vs $(cat "$T/res.ours")"
	fi
fi

for who in ours upstream; do
	[ -s "$T/res.$who" ] || continue
	eval "${who}_eff=\$(field $who effect)"
	eval "${who}_inst=\$(pct \$(field $who instant) \$${who}_eff)"
	eval "${who}_wrong=\$(pct \$(field $who wrong) \$(field $who keys))"
done
printf '%-28s %10s %10s %8s\n' "prediction, $((2 * DELAY)) ms RTT" ours \
    upstream ratio
if [ -s "$T/res.ours" ] && [ -s "$T/res.upstream" ]; then
	printf '%-28s %9s%% %9s%% %8s\n' "instant (<= 5 ms)" "$ours_inst" \
	    "$upstream_inst" "$(awk -v a="$ours_inst" -v b="$upstream_inst" \
	    'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	printf '%-28s %9s%% %9s%% %8s\n' "wrong at some moment" \
	    "$ours_wrong" "$upstream_wrong" "$(awk -v a="$ours_wrong" \
	    -v b="$upstream_wrong" \
	    'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	printf '%-28s %10s %10s\n' "keystrokes with an effect" "$ours_eff" \
	    "$upstream_eff"
elif [ -s "$T/res.ours" ]; then
	printf '%-28s %9s%% %10s\n' "instant (<= 5 ms)" "$ours_inst" -
	printf '%-28s %9s%% %10s\n' "wrong at some moment" "$ours_wrong" -
fi
done_tests
