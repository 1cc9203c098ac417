#!/bin/sh
# faults_e2e.sh: the session survives network faults, with our server and
# client together and each paired with Debian's mosh 1.4.0, through a relay
# at 300 ms round trip (test/relay.c). The session runs a recorder instead
# of a shell (test/recorder.c); seeded keys are typed with tmux, and in
# every case every typed byte must reach the program exactly once and in
# order, and the client's screen must converge to what the program drew.
# Run from the repository root after make (./mosh) and make
# obj-check/relay obj-check/recorder:  sh test/faults_e2e.sh
#
# A representative subset (test/faults_long.sh has the full matrix):
#   ours, ours-deb (our server, Debian's client), deb-ours (Debian's
#   server, our client), each: 30% loss each way (seed 1, then healed),
#   a 3000-character paste at 30% loss, reordering with duplication, a 15 s total outage, three source-port
#   hops, and as root the client's address changing twice between two
#   network namespaces (skipped with a note otherwise); the client stopped
#   with SIGSTOP for 15 s where the client is ours.
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

# The checks themselves: a record with a byte missing, duplicated or out
# of order is not accepted.
FL_REC=$T/self.rec
FL_EXP=$T/self.exp
printf 'abc\033[Ad' >"$FL_EXP"
printf 'abc\033[A' >"$FL_REC"
fl_rec_state
check "self: a missing byte is pending" [ $? -eq 1 ]
printf 'abc\033[Add' >"$FL_REC"
fl_rec_state
check "self: a duplicated byte is wrong" [ $? -eq 2 ]
printf 'abc\033[dA' >"$FL_REC"
fl_rec_state
check "self: bytes out of order are wrong" [ $? -eq 2 ]
printf 'abc\033[Ad' >"$FL_REC"
fl_rec_state
check "self: the exact bytes are accepted" [ $? -eq 0 ]
"$FL_RECORDER" --render "$FL_EXP" >"$T/self.scr"
check "self: the recorder's screen counts the bytes" \
    grep -q '^REC n=7 h=' "$T/self.scr"

for pair in ours ours-deb deb-ours; do
	FL_SEED=1
	if ! fl_session "$pair" "$pair"; then
		fail "$pair: session did not start"
		fl_end
		continue
	fi
	fl_type 100 20
	fl_check "$pair: clean link" 15
	fl_loss "$pair" 0.3 1
	fl_paste "$pair" 0.3 150
	fl_reorder "$pair" 200
	fl_outage "$pair" 15 300
	case $pair in
	*-deb) ;;
	*) fl_stop "$pair" 15 400 ;;
	esac
	fl_hop "$pair" 500
	check "$pair: server still running" t_alive "$FL_SERVER_PID"
	fl_end
	fl_roam "$pair"
done

done_tests
