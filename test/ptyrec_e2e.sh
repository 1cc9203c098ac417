#!/bin/sh
# ptyrec_e2e.sh: what our client writes to the user's terminal, recorded
# byte for byte (script(1) between tmux and the client), when a program on
# the server prints what a hostile file could hold:
#   an OSC 52 clipboard query ("?") never reaches the terminal, while a
#   valid base64 clipboard is carried;
#   under a locale that is not UTF-8 the client refuses with upstream's
#   line and writes no byte 0x80-0x9f (which an 8-bit terminal would read
#   as C1 controls: CSI, OSC, DCS) and no escape sequence at all.
# Run from the repository root: sh test/ptyrec_e2e.sh
. test/lib.sh

MOSH=./mosh

for bin in tmux script od "$MOSH"; do
	if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then
		fail "missing $bin (make; test/deps.sh check)"
		done_tests
	fi
done

# rec NAME LOCALE: the client in tmux under script(1), its output in
# $T/NAME.rec; the client command is in a file, so no quoting is nested.
rec()
{
	{
		echo "exec env MOSH_KEY=$SERVER_KEY LANG=$2 LC_ALL=$2" \
		    "MOSH_PREDICTION_DISPLAY=never $MOSH client 127.0.0.1" \
		    "$SERVER_PORT"
	} >"$T/$1.sh"
	tmux_start "$1" 80 24 "script -q -f -c 'sh $T/$1.sh' $T/$1.rec"
}

# ---- the clipboard ----
server_start "$MOSH server" "printf '\\033]52;c;?\\007'; sleep 0.3;
printf '\\033]52;c;QUJD\\007'; sleep 0.3; printf '\\033]52;c;?\\033\\\\';
sleep 0.3; printf 'clip-done\\n'; exec sleep 600" || fail "server"
rec clip C.UTF-8
check "the program's output is drawn" \
    wait_for "grep -q clip-done '$T/clip.rec'" 15
check "a valid clipboard is carried" grep -q ']52;c;QUJD' "$T/clip.rec"
check "no clipboard query reaches the terminal" \
    sh -c "! grep -q ']52;[^;]*;?' '$T/clip.rec'"
tmux_keys clip C-^ .
check "the client ends" tmux_wait_exit clip 10

# ---- a terminal that is not UTF-8 ----
server_start "$MOSH server" "printf '\\033[H\\303\\2336n\\303\\235x'; exec sleep 600" ||
    fail "server"
rec latin1 en_US.ISO-8859-1
check "the client refuses" tmux_wait_exit latin1 10
check "with upstream's line" \
    grep -q 'mosh-client needs a UTF-8 native locale to run' "$T/latin1.rec"
c1=$(od -An -tu1 -v "$T/latin1.rec" | tr -s ' ' '\n' |
    awk '$1 >= 128 && $1 <= 159 { n++ } END { print n + 0 }')
check "no byte 0x80-0x9f reaches the terminal ($c1)" [ "$c1" -eq 0 ]
check "no escape sequence reaches the terminal" \
    sh -c "! od -An -tx1 -v '$T/latin1.rec' | grep -q ' 1b'"
done_tests
