#!/bin/sh
# arch_e2e.sh: the release binaries of make dist (dist/mosh-linux-ARCH) on
# their own architectures, run under qemu-user (qemu-ARCH-static, called
# directly: binfmt_misc need not be mounted; x86_64 runs as it is):
#   - the unit test programs built for each target (obj-dist/ARCH/*_test,
#     or only those named in $ARCH_TESTS, as make check sets it), each one
#     check here with its own "N passed, N failed" line;
#   - each binary statically linked, x86_64 within 400 KB and the others
#     within 1.3 times its size;
#   - per target, three sessions at once in tmux panes: the emulated server
#     with our native client (./mosh) and with Debian's mosh-client, and the
#     emulated client with Debian's mosh-server: the prompt, a typed
#     command's output, SGR colour with UTF-8 text, and Ctrl-^ . ending
#     the client and its server.
# ARCHES (default: every dist/mosh-linux-* there is) limits the targets.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh

# The qemu-user for a target's name (empty: this machine runs it).
qemu_of()
{
	case $1 in
	x86_64) [ "$(uname -m)" = x86_64 ] || echo qemu-x86_64-static ;;
	armv7) echo qemu-arm-static ;;
	*) echo "qemu-$1-static" ;;
	esac
}

if [ -z "${ARCHES:-}" ]; then
	ARCHES=
	for f in dist/mosh-linux-*; do
		[ -x "$f" ] && ARCHES="$ARCHES ${f#dist/mosh-linux-}"
	done
fi
[ -n "$ARCHES" ] || { skip "no dist/mosh-linux-* (make dist)"; done_tests; }
have_tmux=1
command -v tmux >/dev/null 2>&1 && [ -x ./mosh ] || {
	skip "needs tmux and ./mosh: the sessions"
	have_tmux=
}
UP=1
if ! command -v mosh-server >/dev/null 2>&1 ||
    ! command -v mosh-client >/dev/null 2>&1; then
	skip "no Debian mosh-server/mosh-client: the sessions with them"
	UP=
fi
SH_CMD="export PS1='e2e> '; exec sh"
CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
# As in session_e2e.sh: the shell must not inherit an ignored SIGINT.
SW=
env --default-signal=INT,QUIT true 2>/dev/null &&
    SW="env --default-signal=INT,QUIT"
SERVER_WRAP=$SW
# Bold red, underlined green, then accents and wide CJK; and what tmux's
# capture-pane -e shows for the colour part of it.
COLOUR_CMD="printf '\\033[1;31mRED\\033[0;4;32mGRN\\033[0m caf\\303\\251 \\346\\227\\245\\346\\234\\254|\\n'"
COLOUR_E=$(printf '\033\\[1m\033\\[31mRED\033\\[0;4m\033\\[32m(\033\\[49m)?GRN')

# unit ARCH QEMU PROG: one test program, judged by its last count line.
unit()
{
	u_out=$T/unit.out
	u_name="$1: ${3##*/}"
	timeout -k 5 600 $2 "$3" >"$u_out" 2>&1 && u_rc=0 || u_rc=$?
	u_line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$u_out" | tail -n 1)
	case "$u_rc:$u_line" in
	0:*" passed, 0 failed"*) ok "$u_name: ${u_line##*: }" ;;
	*)
		tail -n 20 "$u_out" | sed 's/^/  |/'
		fail "$u_name: exit $u_rc, ${u_line:-no count line}"
		;;
	esac
}

# A session in pane NAME is through: prompt, output, colour, Ctrl-^ .
# (the server, $2, must then be gone).
session()
{
	check "$1: prompt" wait_screen "$1" '^e2e>' 30
	tmux_type "$1" 'echo hel""lo'
	tmux_keys "$1" Enter
	check "$1: command output" wait_screen "$1" '^hello$' 15
	tmux_type "$1" "clear; $COLOUR_CMD"
	tmux_keys "$1" Enter
	if wait_screen "$1" "^REDGRN café 日本\|" 15 &&
	    tmux_capture_e "$1" | grep -Eq "$COLOUR_E"; then
		ok "$1: colour and UTF-8"
	else
		tmux_capture_e "$1" | sed 's/^/  |/'
		fail "$1: colour and UTF-8"
	fi
	tmux_keys "$1" 'C-^'
	tmux_type "$1" .
	check "$1: Ctrl-^ . ends the client" tmux_wait_exit "$1" 15
	check "$1: with status 0" [ "$(tmux_status "$1")" = 0 ]
	check "$1: and the server" wait_pid_gone "$2" 15
}

# max_bytes ARCH: the size limit of a target's binary.
max_bytes()
{
	if [ "$1" = x86_64 ]; then
		echo 409600
	elif [ -f dist/mosh-linux-x86_64 ]; then
		echo $(($(wc -c <dist/mosh-linux-x86_64) * 13 / 10))
	fi
}

for a in $ARCHES; do
	bin=dist/mosh-linux-$a
	n=$(wc -c <"$bin")
	m=$(max_bytes "$a")
	[ -z "$m" ] || check "$a: $n bytes, at most $m" [ "$n" -le "$m" ]
	if command -v file >/dev/null 2>&1; then
		check "$a: statically linked" \
		    sh -c "file -b $bin | grep -q 'statically linked'"
	fi
	q=$(qemu_of "$a")
	if [ -n "$q" ] && ! command -v "$q" >/dev/null 2>&1; then
		skip "$a: no $q (qemu-user-static)"
		continue
	fi
	check "$a: $bin --version" sh -c "$q $bin --version | grep -q '^mosh '"
	for t in ${ARCH_TESTS:-obj-dist/$a/*_test}; do
		case $t in
		obj-dist/$a/*) [ -x "$t" ] && unit "$a" "$q" "$t" ;;
		esac
	done
	[ -n "$have_tmux" ] || continue
	# Up to three sessions at once: started together, then checked.
	server_start "$q $bin server" "$SH_CMD" -v ||
	    { fail "$a: emulated server starts"; continue; }
	p1=$SERVER_PID
	client_start "$a-ours" 80 24 "./mosh client" 127.0.0.1 "$SERVER_PORT"
	if [ -n "$UP" ]; then
		server_start "$q $bin server" "$SH_CMD" -v ||
		    fail "$a: emulated server starts"
		p2=$SERVER_PID
		client_start "$a-upc" 80 24 mosh-client 127.0.0.1 \
		    "$SERVER_PORT"
		server_start mosh-server "$SH_CMD" ||
		    fail "$a: mosh-server starts"
		p3=$SERVER_PID
		client_start "$a-ups" 80 24 "$q $bin client" 127.0.0.1 \
		    "$SERVER_PORT"
	fi
	session "$a-ours" "$p1"
	if [ -n "$UP" ]; then
		session "$a-upc" "$p2"
		session "$a-ups" "$p3"
	fi
done
done_tests
