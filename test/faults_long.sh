#!/bin/sh
# faults_long.sh: the full fault matrix behind `make check-long` (about
# 15 minutes). Same checks as test/faults_e2e.sh (every typed byte reaches
# the program exactly once and in order; the client's screen converges),
# for each pairing: ours, ours-deb (our server, Debian's client), deb-ours
# (Debian's server, our client), at 300 ms round trip:
#   loss 10%, 30% and 50% each way, relay seeds 1, 2 and 3 (a fresh session
#   per seed), each healed afterwards; 3000-character pastes at 30% and
#   50% loss; reordering with duplication; a 60 s
#   total outage; the client stopped with SIGSTOP for 60 s; three
#   source-port hops; as root, the client's address changing twice between
#   two network namespaces.
. test/lib.sh
. test/faults_lib.sh

for bin in mosh-server mosh-client tmux "$PYTHON" "$RELAY" ./mosh \
    "$FL_RECORDER"; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		fail "missing $bin (make; make obj-check/relay" \
		    "obj-check/recorder; test/deps.sh check)"
		done_tests
	fi
done

for pair in ours ours-deb deb-ours; do
	for seed in 1 2 3; do
		FL_SEED=$seed
		if ! fl_session "$pair" "$pair"; then
			fail "$pair seed $seed: session did not start"
			fl_end
			continue
		fi
		fl_type "$seed" 10
		fl_check "$pair seed $seed: clean link" 15
		for p in 0.1 0.3 0.5; do
			fl_loss "$pair seed $seed" "$p" "$((seed * 10))"
		done
		check "$pair seed $seed: server still running" \
		    t_alive "$FL_SERVER_PID"
		fl_end
	done
	FL_SEED=7
	if ! fl_session "$pair" "$pair"; then
		fail "$pair: session did not start"
		fl_end
		continue
	fi
	fl_paste "$pair" 0.3 150
	fl_paste "$pair" 0.5 160
	fl_reorder "$pair" 200
	fl_outage "$pair" 60 300
	fl_stop "$pair" 60 400
	fl_hop "$pair" 500
	check "$pair: server still running" t_alive "$FL_SERVER_PID"
	fl_end
	fl_roam "$pair"
done

done_tests
