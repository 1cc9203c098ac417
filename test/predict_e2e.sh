#!/bin/sh
# predict_e2e.sh: local echo prediction seen from the outside. Our server
# and our client (in tmux) talk through test/relay.c with 200 ms of delay
# each way, so nothing the server sends in answer to a keystroke can reach
# the screen before 400 ms have passed; whatever shows up sooner was drawn
# by the client alone. Each check runs with our client, then with Debian's
# mosh-client (when installed) as the reference. Run from the repository
# root after `make mosh obj-check/relay`:  sh test/predict_e2e.sh
#
#   (a) at a shell prompt a typed character shows at once, underlined
#       (adaptive display, long round trip), and loses the underline once
#       the server has echoed it
#   (b) at a password prompt (echo off) typed characters never show
#   (c) an application that echoes something else (upper case): the wrong
#       guess is replaced by the server's text within about a round trip
#   (d) MOSH_PREDICTION_DISPLAY=never: a typed character waits for the
#       server's echo
#   (e) our rule: at a prompt where typing was confirmed to echo, the
#       first character of the next command shows at once (upstream
#       waits for the echo); the password prompt of (b) still shows
#       nothing, nor does a program without a prompt that turns echo off
#   (f) our rule: a program whose first key echoes nothing (an editor's
#       command key) and which then echoes: the guess for that key is
#       never shown, the keys after it appear within a few round trips,
#       and once confirmed a new key shows at once
#
# "At once" means polled from right after send-keys for at most EARLY_MS;
# a check whose polling ran late (a loaded machine) is retried once with a
# fresh keystroke. "Never" checks poll for the whole early window, then
# look again after more than a round trip.
. test/lib.sh

DELAY=200			# one way, ms
RTT=$((2 * DELAY))
EARLY_MS=150			# well under RTT: the client's own drawing
LATE_S=3			# generous bound for anything the server sends
CORRECT_S=1.6			# a wrong guess replaced: 4 RTT (2 + slack)

for bin in ./mosh tmux "$PYTHON" "$RELAY"; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		fail "missing $bin (make mosh obj-check/relay)"
		done_tests
	fi
done

# early NAME KEYS ERE: type KEYS, then poll the pane (with attributes) until
# a line matches ERE or EARLY_MS pass. Returns 0 if it matched in time, 1 if
# not, 2 if the polling itself came too late to tell (rerun it). The last
# capture is in $T/early.cap, the delay in EARLY_GOT (ms).
early()
{
	e_t0=$(now_ms)
	tmux_type "$1" "$2"
	while :; do
		tmux_capture_e "$1" >"$T/early.cap"
		EARLY_GOT=$(($(now_ms) - e_t0))
		if [ "$EARLY_GOT" -ge "$RTT" ]; then
			return 2
		fi
		if grep -Eq -e "$3" "$T/early.cap"; then
			return 0
		fi
		if [ "$EARLY_GOT" -ge "$EARLY_MS" ]; then
			return 1
		fi
		sleep 0.01
	done
}

# show_cap MSG: the last early capture on stderr, escapes made visible.
show_cap()
{
	echo "$1 ($EARLY_GOT ms); screen:" >&2
	sed -n '1,6p' "$T/early.cap" | cat -v | sed 's/^/  |/' >&2
}

# The last non-empty line of the pane, with attributes: the line being
# typed on in these tests.
line_e()
{
	tmux_capture_e "$1" | grep -v '^$' | tail -n 1
}

# wait_plain NAME TEXT SEC: poll until the last non-empty line is exactly
# TEXT with no attribute escapes at all (so no underline either).
wait_plain()
{
	w_name=$1
	w_text=$2
	if wait_for '[ "$(line_e "$w_name")" = "$w_text" ]' "$3"; then
		return 0
	fi
	echo "wait_plain: last line is not '$2' after $3 s:" >&2
	line_e "$1" | cat -v | sed 's/^/  |/' >&2
	return 1
}

ESC=$(printf '\033')
UL="$ESC\\[([0-9;]*;)?4(;[0-9;]*)?m"	# an SGR turning underline on

start_session()		# start_session NAME [CLIENT_ENV]
{
	server_start "./mosh server" \
	    "export PS1='e2e> '; exec sh" || return 1
	relay_start -l 0 -t "127.0.0.1:$SERVER_PORT" --delay "$DELAY" ||
	    return 1
	CLIENT_ENV=${2:-}
	client_start "$1" 80 24 "$CLIENT" 127.0.0.1 "$RELAY_PORT" ||
	    return 1
	wait_screen "$1" '^e2e>' 10 || return 1
	# A few round trips so that the client has measured the delay.
	sleep 1.5
}

# suite LABEL CLIENT...: (a) to (d) with that client.
suite()
{
	W=$1
	shift
	CLIENT=$*
	pa=${W}a
	pd=${W}d

	# ---- (a) a shell prompt, adaptive display ----

	if ! start_session "$pa"; then
		fail "$W (a) session through the relay"
		return
	fi

	# The first character of an epoch is not shown before the server
	# confirms it (nothing is known yet about how this program echoes).
	tmux_type "$pa" x
	check "$W (a) warm-up character echoed" wait_plain "$pa" 'e2e> x' "$LATE_S"
	sleep 0.5

	# One retry with a fresh character if the machine was too slow to tell.
	a_line='e2e> x'
	for c in y z; do
		early "$pa" "$c" "^$a_line.*$c"
		rc=$?
		a_line="$a_line$c"
		[ "$rc" -eq 2 ] || break
	done
	if [ "$rc" -eq 0 ]; then
		ok "$W (a) typed character shown after $EARLY_GOT ms (RTT $RTT)"
		if grep -Eq -e "^e2e> x.*$UL[yz]" "$T/early.cap"; then
			ok "$W (a) unconfirmed character underlined"
		else
			fail "$W (a) unconfirmed character underlined"
			show_cap "no underline"
		fi
	else
		fail "$W (a) typed character shown within $EARLY_MS ms"
		show_cap "not shown"
		fail "$W (a) unconfirmed character underlined"
	fi
	check "$W (a) underline gone after the echo" \
	    wait_plain "$pa" "$a_line" "$LATE_S"

	# Two more in the same epoch, typed together: both at once, both plain
	# within a bound that is a round trip plus slack.
	early "$pa" "ab" "^$a_line.*a.*b"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$W (a) two more characters shown early"
	elif [ "$rc" -eq 2 ]; then
		skip "$W (a) two more characters: polled too late to tell"
	else
		fail "$W (a) two more characters shown early"
		show_cap "not shown"
	fi
	a_line="${a_line}ab"
	check "$W (a) both confirmed" wait_plain "$pa" "$a_line" "$LATE_S"
	# Erase the line (the kill character), so the prompt is empty again.
	tmux_keys "$pa" C-u
	check "$W (a) line erased" wait_plain "$pa" 'e2e>' "$LATE_S"

	# ---- (e) the next command's first character ----

	tmux_type "$pa" "echo hi"
	tmux_keys "$pa" Enter
	check "$W (e) command ran" wait_screen "$pa" '^hi$' "$LATE_S"
	check "$W (e) prompt back" wait_plain "$pa" 'e2e>' "$LATE_S"
	sleep 0.6
	early "$pa" w '^e2e> .*w'
	rc=$?
	if [ "$W" != ours ]; then
		[ "$rc" -eq 0 ] && echo "info: $W showed it at once"
	elif [ "$rc" -eq 0 ]; then
		ok "$W (e) first character at a known prompt shown after" \
		    "$EARLY_GOT ms"
	elif [ "$rc" -eq 2 ]; then
		skip "$W (e) first character: polled too late to tell"
	else
		fail "$W (e) first character at a known prompt shown at once"
		show_cap "not shown"
	fi
	check "$W (e) and echoed" wait_plain "$pa" 'e2e> w' "$LATE_S"
	tmux_keys "$pa" C-u
	check "$W (e) line erased" wait_plain "$pa" 'e2e>' "$LATE_S"

	# ---- (b) a password prompt: echo off ----

	tmux_type "$pa" "stty -echo; printf 'pw: '; read p; stty echo; echo \"got \$p\""
	tmux_keys "$pa" Enter
	check "$W (b) password prompt" wait_screen "$pa" '^pw:' "$LATE_S"
	sleep 0.6
	for c in s e c; do
		early "$pa" "$c" "^pw: .*[sec]"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			fail "$W (b) '$c' at the password prompt shown early"
			show_cap "shown"
		else
			ok "$W (b) '$c' at the password prompt not shown early"
		fi
		sleep 0.3
	done
	sleep 1.2
	if tmux_capture "$pa" | grep -q '^pw: *[a-z]'; then
		fail "$W (b) password never shown"
		tmux_capture "$pa" | sed -n '1,4p' | sed 's/^/  |/' >&2
	else
		ok "$W (b) password never shown"
	fi
	tmux_keys "$pa" Enter
	check "$W (b) program read it" wait_screen "$pa" 'got sec$' "$LATE_S"
	check "$W (b) prompt back" wait_screen "$pa" '^e2e>$' "$LATE_S"

	# (e) no prompt at all: a fresh line, echo off.
	tmux_type "$pa" "stty -echo; read p; stty echo; echo \"got \$p\""
	tmux_keys "$pa" Enter
	sleep 1.2
	for c in k y k; do
		early "$pa" "$c" "^($ESC\\[[0-9;]*m)*[ky]"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			fail "$W (e) '$c' on a silent line shown early"
			show_cap "shown"
		else
			ok "$W (e) '$c' on a silent line not shown early"
		fi
		sleep 0.3
	done
	sleep 1.2
	if tmux_capture "$pa" | grep -q '^[ky]'; then
		fail "$W (e) silent line never shown"
	else
		ok "$W (e) silent line never shown"
	fi
	tmux_keys "$pa" Enter
	check "$W (e) program read it" wait_screen "$pa" 'got kyk$' "$LATE_S"
	check "$W (e) prompt back again" wait_screen "$pa" '^e2e>$' "$LATE_S"

	# ---- (f) a command key that echoes nothing, then typing ----

	cat >"$T/ed.py" <<-'EOF'
	import os, termios, tty
	saved = termios.tcgetattr(0)
	tty.setraw(0)
	os.write(1, b"ed> ")
	b = os.read(0, 1)
	while True:
	    b = os.read(0, 1)
	    if not b or b == b"Q":
	        break
	    os.write(1, b)
	os.write(1, b"\r\n")
	termios.tcsetattr(0, termios.TCSADRAIN, saved)
	EOF
	tmux_type "$pa" "$PYTHON $T/ed.py"
	tmux_keys "$pa" Enter
	check "$W (f) editor-like program" wait_screen "$pa" '^ed>' "$LATE_S"
	sleep 0.6
	# i is the command key; "abcd" follow faster than a round trip.
	f_t0=$(now_ms)
	for c in i a b c d; do
		tmux_type "$pa" "$c"
		sleep 0.12
	done
	f_seen_i=0
	while [ $(($(now_ms) - f_t0)) -lt 3000 ]; do
		f_line=$(tmux_capture "$pa" | grep '^ed>' | tail -n 1)
		case $f_line in
		*i*) f_seen_i=1 ;;
		esac
		[ "$f_line" = 'ed> abcd' ] && break
		sleep 0.02
	done
	if [ "$f_seen_i" -eq 0 ]; then
		ok "$W (f) the command key's guess never shown"
	else
		fail "$W (f) the command key's guess never shown: '$f_line'"
	fi
	if wait_plain "$pa" 'ed> abcd' "$LATE_S"; then
		ok "$W (f) typing after it shown after $(($(now_ms) - f_t0)) ms"
	else
		fail "$W (f) typing after it shown"
	fi
	sleep 0.3
	early "$pa" e '^ed> abcd.*e'
	rc=$?
	if [ "$W" != ours ]; then
		[ "$rc" -eq 0 ] && echo "info: $W showed it at once"
	elif [ "$rc" -eq 0 ]; then
		ok "$W (f) then a new key shown at once ($EARLY_GOT ms)"
	elif [ "$rc" -eq 2 ]; then
		skip "$W (f) new key: polled too late to tell"
	else
		fail "$W (f) then a new key shown at once"
		show_cap "not shown"
	fi
	check "$W (f) and echoed" wait_plain "$pa" 'ed> abcde' "$LATE_S"
	tmux_type "$pa" Q
	check "$W (f) back to the shell" wait_screen "$pa" '^e2e>$' "$LATE_S"

	# ---- (c) a program that echoes in upper case ----

	cat >"$T/up.py" <<-'EOF'
	import os, tty
	tty.setraw(0)
	os.write(1, b"up> ")
	while True:
	    b = os.read(0, 1)
	    if not b or b == b"q":
	        break
	    os.write(1, b.upper())
	EOF
	tmux_type "$pa" "exec $PYTHON $T/up.py"
	tmux_keys "$pa" Enter
	check "$W (c) upper-case echo program" wait_screen "$pa" '^up>' "$LATE_S"
	sleep 0.5
	# Digits echo as typed: they confirm the epoch so that later guesses show.
	tmux_type "$pa" 1
	wait_plain "$pa" 'up> 1' "$LATE_S"
	sleep 0.5
	tmux_type "$pa" 2
	check "$W (c) digits echoed" wait_plain "$pa" 'up> 12' "$LATE_S"
	sleep 0.5
	# Now a letter: the client guesses it echoes as typed (shown early, or
	# not: either way the screen must end up showing the server's version).
	c_t0=$(now_ms)
	early "$pa" k "^up> 12.*k"
	rc=$?
	[ "$rc" -eq 0 ] && echo "info: wrong guess 'k' shown after $EARLY_GOT ms"
	if wait_plain "$pa" 'up> 12K' "$CORRECT_S"; then
		ok "$W (c) corrected to the server's 'K' after $(($(now_ms) - c_t0)) ms"
	else
		fail "$W (c) corrected to the server's 'K' within $CORRECT_S s"
	fi
	# Letters typed after the mistake are not guessed until confirmed.
	early "$pa" m "^up> 12K.*m"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$W (c) no guess right after a wrong one"
		show_cap "shown"
	else
		ok "$W (c) no guess right after a wrong one"
	fi
	check "$W (c) server's 'M'" wait_plain "$pa" 'up> 12KM' "$LATE_S"
	tmux_type "$pa" q
	relay_stop
	stop_pid "$SERVER_PID"

	# ---- (d) MOSH_PREDICTION_DISPLAY=never ----

	if start_session "$pd" MOSH_PREDICTION_DISPLAY=never; then
		tmux_type "$pd" x
		check "$W (d) warm-up character echoed" wait_plain "$pd" 'e2e> x' "$LATE_S"
		sleep 0.5
		d_line='e2e> x'
		for c in y z; do
			early "$pd" "$c" "^$d_line.*$c"
			rc=$?
			d_line="$d_line$c"
			if [ "$rc" -eq 0 ]; then
				fail "$W (d) '$c' not shown before the echo"
				show_cap "shown"
			else
				ok "$W (d) '$c' not shown before the echo"
			fi
			check "$W (d) '$c' shown after the echo, plain" \
			    wait_plain "$pd" "$d_line" "$LATE_S"
			sleep 0.3
		done
	else
		fail "$W (d) session through the relay"
	fi
	relay_stop
	stop_pid "$SERVER_PID"
}

suite ours ./mosh client
# The same expectations hold for upstream's client: checked here so that
# a change to them cannot drift away from the reference.
if command -v mosh-client >/dev/null 2>&1; then
	suite upstream mosh-client
else
	skip "no mosh-client: upstream's behaviour not checked"
fi

done_tests
