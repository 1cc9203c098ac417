#!/bin/sh
# dispatch_e2e.sh: the static ./mosh from the outside: how it is linked,
# role dispatch through links named mosh-server and mosh-client, --help and
# --version, the command-line errors of both roles (compared byte for byte
# with upstream's mosh-server and mosh-client where those are installed and
# exit before doing anything), terminfo lookups, and a client on a pty.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
T() { timeout -k 2 10 "$@"; }
# Our client runs only under a UTF-8 locale; C.UTF-8 is the one here.
LANG=C.UTF-8
LC_ALL=C.UTF-8
export LANG LC_ALL

ok() {
	pass=$((pass + 1))
}
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}
# check NAME: the previous command's outcome, as "$1" (0 = true).
expect() {	# expect NAME STATUS WANTED-STATUS
	if [ "$2" -eq "$3" ]; then ok; else bad "$1: exit $2, want $3"; fi
}
same() {	# same NAME FILE-A FILE-B
	if cmp -s "$2" "$3"; then ok; else
		bad "$1: outputs differ"; diff "$2" "$3" >&2
	fi
}
has() {		# has NAME FILE TEXT: the file contains the fixed text
	if grep -qF -- "$3" "$2"; then ok; else
		bad "$1: no '$3' in:"; cat "$2" >&2
	fi
}
lines() {	# lines NAME FILE N
	n=$(wc -l < "$2")
	if [ "$n" -eq "$3" ]; then ok; else
		bad "$1: $n lines, want $3:"; cat "$2" >&2
	fi
}

[ -x ./mosh ] || { echo "no ./mosh (run make)"; echo "0 passed, 1 failed"; exit 1; }

# --- the binary
file ./mosh > "$tmp/o" 2>&1
has "file: static" "$tmp/o" "statically linked"
ldd ./mosh > "$tmp/o" 2>&1
has "ldd: not dynamic" "$tmp/o" "not a dynamic executable"

# --- make install: the binary and two links to it
make -s install PREFIX=/usr DESTDIR="$tmp/inst" > "$tmp/o" 2>&1
expect "make install" $? 0
cmp -s ./mosh "$tmp/inst/usr/bin/mosh"
expect "install: mosh" $? 0
for l in mosh-client mosh-server; do
	[ "$(readlink "$tmp/inst/usr/bin/$l")" = mosh ]
	expect "install: $l -> mosh" $? 0
done
"$tmp/inst/usr/bin/mosh-server" --version > "$tmp/o" 2>&1
has "installed mosh-server" "$tmp/o" "mosh-server ("

# --- dispatch through links
mkdir "$tmp/bin"
ln -s "$PWD/mosh" "$tmp/bin/mosh-server"
ln -s "$PWD/mosh" "$tmp/bin/mosh-client"
ln -s "$PWD/mosh" "$tmp/bin/mosh"
OURS="$tmp/bin"
ours() { PATH="$OURS:$PATH" T "$@"; }
up=
if [ -x /usr/bin/mosh-server ] && [ -x /usr/bin/mosh-client ]; then
	up=/usr/bin
fi
theirs() { PATH="$up:$PATH" T "$@"; }

ours mosh-server --version > "$tmp/o"; expect "server --version" $? 0
has "server banner" "$tmp/o" "mosh-server (mosh-c "
has "server banner compat" "$tmp/o" "compatible with mosh 1.4.0)"
ours mosh-client --version > "$tmp/o"; expect "client --version" $? 0
has "client banner" "$tmp/o" "mosh-client (mosh-c "
ours mosh --version > "$tmp/o"; expect "mosh --version" $? 0
has "mosh banner" "$tmp/o" "mosh (mosh-c "
./mosh server --version > "$tmp/o"; expect "mosh server --version" $? 0
has "subcommand server" "$tmp/o" "mosh-server (mosh-c "
./mosh client --version > "$tmp/o"; expect "mosh client --version" $? 0
has "subcommand client" "$tmp/o" "mosh-client (mosh-c "
"$tmp/bin/mosh-server" --version > "$tmp/o"; expect "server by path" $? 0
has "server by path" "$tmp/o" "mosh-server (mosh-c "

# --- help
usage='Usage: mosh-server new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] [-- COMMAND...]'
printf '%s\n' "$usage" > "$tmp/want"
ours mosh-server --help > "$tmp/o" 2>&1; expect "server --help" $? 0
same "server --help" "$tmp/o" "$tmp/want"
ours mosh-server new -v -h > "$tmp/o" 2>&1; expect "server -h" $? 0
same "server -h" "$tmp/o" "$tmp/want"
ours mosh-client --help > "$tmp/o" 2>&1; expect "client --help" $? 0
has "client usage 1" "$tmp/o" "Usage: mosh-client [-# 'ARGS'] IP PORT"
has "client usage 2" "$tmp/o" "       mosh-client -c"
./mosh --help > "$tmp/o" 2>&1; expect "mosh --help" $? 0
has "mosh --help: host named server" "$tmp/o" "mosh -- server"

# --- the front end (upstream's wrapper: usage and exit 255 on errors)
./mosh --frobnicate > "$tmp/o" 2>&1; expect "unknown option" $? 255
has "unknown option named" "$tmp/o" "Unknown option: frobnicate"
./mosh -p > "$tmp/o" 2>&1; expect "option without value" $? 255
has "option without value named" "$tmp/o" "Option p requires an argument"
./mosh > "$tmp/o" 2>&1; expect "no host" $? 255
has "no host: usage" "$tmp/o" "Usage: ./mosh [options]"
# With --ssh=echo the ssh command line comes back as a line of output.
./mosh --ssh=echo -- server > "$tmp/o" 2>&1; expect "host named server" $? 255
has "host named server" "$tmp/o" " server -- mosh-server 'new' '-c' "
./mosh --ssh=echo --predict=never -a user@host -- ls > "$tmp/o" 2>&1
expect "no server output" $? 255
has "ssh command line" "$tmp/o" "-tt -S none -o ProxyCommand="
has "remote command" "$tmp/o" "user@host -- mosh-server 'new' '-c' "
has "remote command's command" "$tmp/o" "'--' 'ls'"

# --- server command-line errors: upstream's texts, exit 1, nothing started
for p in abc 70000 -1 1:x 1:70000 5:4 0:5 99999999999999999999 2:; do
	ours mosh-server new -p "$p" > "$tmp/o" 2> "$tmp/e"
	expect "server -p $p" $? 1
	has "server -p $p: range line" "$tmp/e" "mosh-server: Bad UDP port range ($p)"
	has "server -p $p: usage" "$tmp/e" "$usage"
	if [ -n "$up" ]; then
		theirs mosh-server new -p "$p" > "$tmp/uo" 2> "$tmp/ue"
		same "server -p $p vs upstream" "$tmp/e" "$tmp/ue"
	fi
done
ours mosh-server new -p 70000 2> "$tmp/e"
has "low range text" "$tmp/e" "(Low) port number 70000 outside valid range [0..65535]"
ours mosh-server new -p 5:4 2> "$tmp/e"
has "greater text" "$tmp/e" "Low port 5 greater than high port 4"
ours mosh-server new -p 0:5 2> "$tmp/e"
has "low 0 text" "$tmp/e" "Low port 0 incompatible with port ranges"
ours mosh-server new -p 1:x 2> "$tmp/e"
has "high text" "$tmp/e" "Invalid high port number (x)"
ours mosh-server new -p 1:70000 2> "$tmp/e"
has "high range text" "$tmp/e" "High port number 70000 outside valid range [0..65535]"
for args in "new -c abc" "new -c 25x" "new -x -p abc" "new -c 8 -v -l LANG=C -p 1:0" \
    "a b c" "1.2.3.4 abc" "new -p abc -- --help" "new -i 1.2.3.4 x -p :5"; do
	# shellcheck disable=SC2086
	ours mosh-server $args > "$tmp/o" 2> "$tmp/e"
	expect "server $args" $? 1
	if [ -n "$up" ]; then
		# shellcheck disable=SC2086
		theirs mosh-server $args > "$tmp/uo" 2> "$tmp/ue"
		same "server $args vs upstream" "$tmp/e" "$tmp/ue"
	fi
done
./mosh server new -c abc 2> "$tmp/e"; expect "mosh server -c abc" $? 1
has "mosh server names itself" "$tmp/e" "mosh server: Bad number of colors (abc)"
# A legacy non-UTF-8 locale asked for by the client cannot be served.
LANG=C LC_ALL= LC_CTYPE= ours mosh-server new -l LANG=en_US.ISO-8859-1 \
    > "$tmp/o" 2> "$tmp/e"
expect "legacy locale refused" $? 1
has "legacy locale message" "$tmp/e" "mosh-server needs a UTF-8 native locale to run."
has "legacy locale charset" "$tmp/e" '"ISO-8859-1"'

# --- client command-line errors
for args in "" "1 2 3" "-x 127.0.0.1 1" "127.0.0.1 x" "-#"; do
	# shellcheck disable=SC2086
	ours mosh-client $args > "$tmp/o" 2> "$tmp/e"
	expect "client '$args'" $? 1
	has "client '$args' usage" "$tmp/e" "Usage: mosh-client [-# 'ARGS'] IP PORT"
	if [ -n "$up" ]; then
		# shellcheck disable=SC2086
		theirs mosh-client $args > "$tmp/uo" 2> "$tmp/ue"
		sed '/^mosh-client (/,/^There is NO WARRANTY/d' "$tmp/e" \
		    > "$tmp/e2"
		sed '/^mosh-client (/,/^There is NO WARRANTY/d' "$tmp/ue" \
		    > "$tmp/ue2"
		same "client '$args' vs upstream" "$tmp/e2" "$tmp/ue2"
	fi
done
for p in 0 70000 ""; do
	MOSH_KEY=x ours mosh-client 127.0.0.1 "$p" > "$tmp/o" 2> "$tmp/e"
	expect "client port '$p'" $? 1
	has "client port '$p'" "$tmp/e" "mosh-client: Bad UDP port ($p)"
done
env -u MOSH_KEY PATH="$OURS:$PATH" timeout 10 mosh-client 127.0.0.1 60001 \
    > "$tmp/o" 2> "$tmp/e"
expect "no MOSH_KEY" $? 1
printf 'MOSH_KEY environment variable not found.\n' > "$tmp/want"
same "no MOSH_KEY text" "$tmp/e" "$tmp/want"
MOSH_KEY=x MOSH_PREDICTION_DISPLAY=sometimes ours mosh-client 127.0.0.1 60001 \
    > "$tmp/o" 2> "$tmp/e"
expect "bad prediction mode" $? 1
printf 'Unknown prediction mode sometimes.\n' > "$tmp/want"
same "bad prediction mode text" "$tmp/e" "$tmp/want"
MOSH_KEY=x ours mosh-client example.com 60001 > "$tmp/o" 2> "$tmp/e"
expect "client name, not address" $? 1
has "client name: message" "$tmp/e" "Network exception: Bad IP address (example.com)"
has "client name: exiting" "$tmp/o" "[mosh is exiting.]"

# Not UTF-8 (a legacy charset, C, or nothing): the client refuses, as
# upstream's does, before it touches the terminal; so does the front end,
# before ssh runs.
for l in en_US.ISO-8859-1 C POSIX ""; do
	env -u LANG -u LC_CTYPE LC_ALL="$l" MOSH_KEY=x \
	    PATH="$OURS:$PATH" timeout -k 2 10 mosh-client 127.0.0.1 60001 \
	    > "$tmp/o" 2> "$tmp/e"
	expect "client locale '$l' refused" $? 1
	has "client locale '$l' message" "$tmp/e" \
	    "mosh-client needs a UTF-8 native locale to run."
	lines "client locale '$l': nothing on stdout" "$tmp/o" 0
done
has "client locale: the charset named" "$tmp/e" \
    'the client'"'"'s environment ([no charset variables]) specifies'
env -u LC_ALL -u LC_CTYPE LANG=en_US.ISO-8859-1 MOSH_KEY=x \
    PATH="$OURS:$PATH" timeout -k 2 10 mosh-client 127.0.0.1 60001 > "$tmp/o" 2> "$tmp/e"
printf '%s\n\n%s\n%s\n\n' \
    'mosh-client needs a UTF-8 native locale to run.' \
    'Unfortunately, the client'"'"'s environment (LANG=en_US.ISO-8859-1) specifies' \
    'the character set "ISO-8859-1".' > "$tmp/want"
same "client locale: upstream's text" "$tmp/e" "$tmp/want"
env -u LANG -u LC_CTYPE LC_ALL=en_US.ISO-8859-1 PATH="$OURS:$PATH" \
    timeout -k 2 10 mosh --ssh="sh -c 'echo ran >$tmp/ssh-ran' x" example.org \
    > "$tmp/o" 2> "$tmp/e"
expect "front end: locale refused" $? 1
has "front end: locale message" "$tmp/e" \
    "mosh-client needs a UTF-8 native locale to run."
[ ! -e "$tmp/ssh-ran" ]
expect "front end: no ssh under a refused locale" $? 0
# A host operand with shell characters never reaches ssh's ProxyCommand %h.
for h in 'h;touch x' 'h$(id)' 'a b' "h'x" "$(printf 'h\033]0;x\007')"; do
	ours mosh --ssh="sh -c 'echo ran >$tmp/ssh-ran' x" "$h" \
	    > "$tmp/o" 2> "$tmp/e"
	expect "front end: host '$h' refused" $? 255
	has "front end: host '$h' message" "$tmp/e" "mosh: not a host name: "
	lines "front end: host '$h' one line" "$tmp/e" 1
	[ ! -e "$tmp/ssh-ran" ]
	expect "front end: host '$h': no ssh" $? 0
done
has "front end: host shown visibly" "$tmp/e" 'h\033]0;x\007'

MOSH_KEY=tooshort ours mosh-client 127.0.0.1 60001 > "$tmp/o" 2> "$tmp/e"
expect "bad key" $? 1
has "bad key message" "$tmp/e" "Crypto exception: Key must be 22 letters long."
has "bad key: exiting" "$tmp/o" "[mosh is exiting.]"
MOSH_KEY='!!!!!!!!!!!!!!!!!!!!!!' ours mosh-client 127.0.0.1 60001 \
    > "$tmp/o" 2> "$tmp/e"
expect "bad key base64" $? 1
has "bad key base64 message" "$tmp/e" "Crypto exception: Key must be well-formed base64."

# --- a server: the MOSH CONNECT line, one fork, the shell held back
gone() {	# gone PID: not running (absent or a zombie)
	st=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}
MOSH_SERVER_NETWORK_TMOUT=10x SSH_CONNECTION= T ./mosh server new -s \
    -i 127.0.0.1 -p 61200:61299 -- /bin/sleep 77 < /dev/null \
    > "$tmp/o" 2> "$tmp/e"
expect "server starts" $? 0
if grep -Eq '^MOSH CONNECT 612[0-9][0-9] [A-Za-z0-9/+]{22}$' "$tmp/o"; then
	ok; else bad "MOSH CONNECT line:"; cat "$tmp/o" >&2; fi
lines "server stdout: one line without a tty" "$tmp/o" 1
has "tmout quirk message" "$tmp/e" "MOSH_SERVER_NETWORK_TMOUT not a valid integer, ignoring"
has "-s without SSH_CONNECTION parse" "$tmp/e" "Warning: Could not parse SSH_CONNECTION; binding to any interface."
spid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$tmp/e")
if [ -n "$spid" ]; then
	ok
	sleep 0.3
	if ! gone "$spid"; then ok; else bad "daemon $spid not running"; fi
	kids=$(cat "/proc/$spid/task/$spid/children" 2>/dev/null)
	kid=${kids%% *}
	if [ -n "$kid" ] && [ "$(readlink "/proc/$kid/exe")" = "$(readlink -f ./mosh)" ]
	then ok; else bad "shell child $kid should still be mosh (not released)"; fi
	kill -TERM "$spid"
	i=0
	while ! gone "$spid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if gone "$spid"; then ok; else bad "daemon survives SIGTERM"; kill -9 "$spid"; fi
	i=0
	while [ -n "$kid" ] && ! gone "$kid" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1)); done
	if [ -z "$kid" ] || gone "$kid"; then ok; else
		bad "shell child survives"; kill -9 "$kid"; fi
else
	bad "no detached line:"; cat "$tmp/e" >&2
fi
# SIGUSR1 without MOSH_SERVER_SIGNAL_TMOUT, and the idle timeout, end a
# server that has no client at once.
waitgone() {	# waitgone PID TENTHS
	i=0
	while ! gone "$1" && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
	gone "$1"
}
T ./mosh server new -i 127.0.0.1 -p 61600:61649 -- /bin/sleep 77 \
    < /dev/null > "$tmp/o" 2> "$tmp/e"
spid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$tmp/e")
if [ -n "$spid" ]; then
	sleep 0.3
	kill -USR1 "$spid"
	if waitgone "$spid" 30; then ok; else
		bad "SIGUSR1 does not end a lone server"; kill -9 "$spid"; fi
else
	bad "server for SIGUSR1 did not start"
fi
MOSH_SERVER_NETWORK_TMOUT=1 T ./mosh server new -i 127.0.0.1 \
    -p 61600:61649 -- /bin/sleep 77 < /dev/null > "$tmp/o" 2> "$tmp/e"
spid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$tmp/e")
if [ -n "$spid" ] && waitgone "$spid" 50; then ok; else
	bad "MOSH_SERVER_NETWORK_TMOUT=1 does not end a lone server"
	[ -z "$spid" ] || kill -9 "$spid"
fi
T ./mosh server new -i 127.0.0.1 -p 1:0 > "$tmp/o" 2>&1
expect "bad range still refused" $? 1

# --- terminfo: mosh-client -c against ncurses' tput
for t in xterm xterm-256color screen tmux-256color linux vt100 dumb; do
	w=$(TERM=$t tput colors 2>/dev/null) || continue
	g=$(TERM=$t ours mosh-client -c)
	if [ "$g" = "$w" ]; then ok; else bad "colors of $t: $g, want $w"; fi
done
g=$(TERM=no-such-terminal ours mosh-client -c); expect "unknown TERM -c" $? 0
if [ "$g" = "-1" ]; then ok; else bad "unknown TERM colors: $g"; fi
if command -v tic > /dev/null 2>&1; then
	# Our own entry, in $TERMINFO and in the hex directory layout.
	printf 'mosh-test|test,\n\tcolors#77, bce, ech=\\E[%%p1%%dX,\n' \
	    > "$tmp/t.src"
	tic -o "$tmp/ti" "$tmp/t.src" 2> /dev/null
	g=$(TERM=mosh-test TERMINFO="$tmp/ti" ours mosh-client -c)
	if [ "$g" = 77 ]; then ok; else bad "TERMINFO lookup: $g"; fi
	if [ -d "$tmp/ti/m" ]; then
		mv "$tmp/ti/m" "$tmp/ti/6d"
	fi
	g=$(TERM=mosh-test TERMINFO_DIRS="/nonexistent:$tmp/ti" \
	    ours mosh-client -c)
	if [ "$g" = 77 ]; then ok; else bad "hex layout lookup: $g"; fi
	head -c 20 "$tmp/ti/6d/mosh-test" > "$tmp/trunc"
	mkdir -p "$tmp/tj/m"
	cp "$tmp/trunc" "$tmp/tj/m/mosh-test"
	g=$(TERM=mosh-test TERMINFO="$tmp/tj" ours mosh-client -c)
	if [ "$g" = -1 ]; then ok; else bad "truncated entry: $g"; fi
else
	echo "skip: no tic: terminfo entries of our own"
fi

# --- a client on a pty: raw mode, environment wiped, Ctrl-^ . to leave
if command -v python3 > /dev/null 2>&1; then
	MOSH_KEY=Zm9vYmFyYmF6cXV4cXV1eA PATH="$OURS:$PATH" \
	    T python3 - "$tmp" > "$tmp/pty.out" 2>&1 <<'EOF'
import os, pty, select, sys, time
tmp = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("mosh-client", ["mosh-client", "127.0.0.1", "9"])
out = b""
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            out += d
    return True
pump(0.5)
env = open("/proc/%d/environ" % pid, "rb").read()
print("environ-has-key", b"Zm9vYmFyYmF6cXV4cXV1eA" in env)
print("environ-has-name", b"MOSH_KEY=" in env)
os.write(fd, b"\x1e.")
end = time.time() + 8
status = None
while time.time() < end:
    pump(0.1)
    p, st = os.waitpid(pid, os.WNOHANG)
    if p == pid:
        status = os.waitstatus_to_exitcode(st)
        break
pump(0.2)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print("status", status)
open(tmp + "/pty.raw", "wb").write(out)
EOF
	has "pty client ran" "$tmp/pty.out" "environ-has-name"
	has "MOSH_KEY not in /proc/PID/environ" "$tmp/pty.out" "environ-has-key False"
	has "Ctrl-^ . leaves, status 1 (never connected)" "$tmp/pty.out" "status 1"
	has "open string" "$tmp/pty.raw" "$(printf '\033[?1h')"
	has "close string" "$tmp/pty.raw" "$(printf '\033[?1l\033[0m\033[?25h\033[?1003l')"
	has "never-heard message" "$tmp/pty.raw" "mosh did not make a successful connection to 127.0.0.1:9."
	has "exiting line" "$tmp/pty.raw" "[mosh is exiting.]"
else
	echo "skip: no python3: a client on a pty"
fi

# --- whole sessions on loopback: ours with ours, and with upstream's
# programs on either side. The shell is /bin/sh; typing reaches it, its
# echo comes back, and "exit" ends the session cleanly (status 0).
cat > "$tmp/sess.py" <<'EOF'
import fcntl, os, pty, re, select, signal, struct, subprocess, sys, termios, time
srv, cli, lo, how = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
env = dict(os.environ, PS1="$ ", TERM="xterm-256color", LANG="C.UTF-8",
           MOSH_SERVER_NETWORK_TMOUT="30")
env.pop("MOSH_KEY", None)
cmd = ["--", "/bin/sh"]
if how.startswith("login"):
    # No command: a login shell ("-sh") in $HOME, with the motd unless
    # ~/.hushlogin exists.
    home = os.path.join(os.environ["TMPDIR_E2E"], how)
    os.makedirs(home, exist_ok=True)
    if how == "login-hush":
        open(os.path.join(home, ".hushlogin"), "w").close()
    env.update(SHELL="/bin/sh", HOME=home)
    cmd = []
p = subprocess.run([srv, "new", "-c", "256", "-i", "127.0.0.1", "-p", lo]
                   + cmd,
                   capture_output=True, text=True, env=env,
                   stdin=subprocess.DEVNULL, timeout=10)
m = re.search(r"MOSH CONNECT (\d+) (\S{22})", p.stdout)
d = re.search(r"detached, pid = (\d+)", p.stderr)
if not m or not d:
    print("no server", p.stdout, p.stderr)
    sys.exit(1)
spid = int(d.group(1))
pid, fd = pty.fork()
if pid == 0:
    os.environ.clear()
    os.environ.update(env)
    k = m.group(2)
    if how == "wrongkey":
        k = ("B" if k[0] == "A" else "A") + k[1:]
    os.environ["MOSH_KEY"] = k
    os.execv(cli, [cli, "127.0.0.1", m.group(1)])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = b""
def pump(t, until=None):
    global out
    end = time.time() + t
    while time.time() < end and not (until and until in out):
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 65536)
            except OSError:
                return
            if not b:
                return
            out += b
if how == "wrongkey":
    pump(2)
    os.write(fd, b'\x1e.')
    end = time.time() + 15
    st = None
    while time.time() < end:
        pump(0.1)
        q, s = os.waitpid(pid, os.WNOHANG)
        if q == pid:
            st = os.waitstatus_to_exitcode(s)
            break
    print("status", st)
    print("never-heard", b"did not make a successful connection" in out)
    os.kill(spid, signal.SIGTERM)
    sys.exit(0)
pump(5, b"$ ")
os.write(fd, b'echo mosh""test\r')
pump(5, b"moshtest")
print("echoed", b"moshtest" in out)
os.write(fd, b'echo "T=$TERM.N=$NCURSES_NO_UTF8_ACS.D=$(pwd)."\r')
pump(5, b"T=xterm")
want = "T=xterm-256color.N=1.D=%s." % os.path.realpath(env["HOME"])
print("child-env", want.encode() in out)
if how.startswith("login"):
    os.write(fd, b'echo "Z=$0."\r')
    pump(5, b"Z=-")
    print("login-shell", b"Z=-sh." in out)
    motd = [l for l in open("/etc/motd", "rb").read().splitlines()
            if l.strip()]
    print("motd", bool(motd) and motd[0] in out)
if how == "paste":
    # A shell that does not read for 2 s while 60000 bytes arrive: the
    # pty fills up, and nothing may be lost or end the session.
    os.write(fd, b"stty raw -echo; sleep 2; head -c 60000 | wc -c; "
             b"stty sane\r")
    pump(0.5)
    for i in range(60):
        os.write(fd, b"a" * 1000)
        pump(0.01)
    pump(15, b"60000")
    print("pasted", b"60000" in out)
if how == "unclean":
    os.kill(spid, signal.SIGKILL)
    time.sleep(0.2)
if how == "suspend":
    os.write(fd, b"\x1e\x1a")
    pump(3, b"[mosh is suspended.]")
    print("suspended", b"\x1b[37;44m[mosh is suspended.]\x1b[m" in out)
    time.sleep(0.2)
    st = open("/proc/%d/stat" % pid).read().split(")")[1].split()[0]
    print("stopped", st == "T")
    n = len(out)
    os.kill(pid, signal.SIGCONT)
    pump(1)
    print("reopened", b"\x1b[?1h" in out[n:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
pump(1)
os.write(fd, b"stty size\r")
pump(5, b"30 100")
print("resized", b"30 100" in out)
os.write(fd, b"printf '\\033]0;ti''tle\\007'\r")
pump(5, b"[mosh] title")
print("title", b"\x1b]0;[mosh] title\x07" in out)
os.write(fd, b"\x1e." if how in ("quit", "unclean") else b"exit\r")
st = None
end = time.time() + 10
while time.time() < end:
    pump(0.1)
    q, s = os.waitpid(pid, os.WNOHANG)
    if q == pid:
        st = os.waitstatus_to_exitcode(s)
        break
if st is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print("status", st)
print("exiting-line", b"[mosh is exiting.]" in out)
print("unclean-msg", b"mosh did not shut down cleanly" in out)
time.sleep(0.5)
try:
    state = open("/proc/%d/stat" % spid).read().split(")")[1].split()[0]
except OSError:
    state = "gone"
if state not in ("gone", "Z"):
    os.kill(spid, signal.SIGTERM)
print("server-left", state in ("gone", "Z"))
EOF
pairs="$OURS/mosh-server:$OURS/mosh-client:61400:61449"
if [ -n "$up" ]; then
	pairs="$pairs $up/mosh-server:$OURS/mosh-client:61450:61499"
	pairs="$pairs $OURS/mosh-server:$up/mosh-client:61500:61549"
else
	echo "skip: no upstream mosh-server/mosh-client: sessions with them"
fi
for pr in $pairs; do
	s=${pr%%:*}; r=${pr#*:}; c=${r%%:*}; range=${r#*:}
	for how in exit quit; do
		name="session $s with $c, $how"
		timeout -k 2 40 python3 "$tmp/sess.py" "$s" "$c" "$range" \
		    "$how" > "$tmp/s.out" 2>&1
		has "$name: typed text echoed" "$tmp/s.out" "echoed True"
		has "$name: TERM, NCURSES_NO_UTF8_ACS, home" "$tmp/s.out" \
		    "child-env True"
		has "$name: window size reaches the shell" "$tmp/s.out" "resized True"
		has "$name: title with prefix" "$tmp/s.out" "title True"
		has "$name: clean end" "$tmp/s.out" "status 0"
		has "$name: no unclean warning" "$tmp/s.out" "unclean-msg False"
		has "$name: exiting line" "$tmp/s.out" "exiting-line True"
		has "$name: server gone" "$tmp/s.out" "server-left True"
	done
done

timeout -k 2 40 python3 "$tmp/sess.py" "$OURS/mosh-server" "$OURS/mosh-client" \
    61550:61599 suspend > "$tmp/s.out" 2>&1
has "suspend: message" "$tmp/s.out" "suspended True"
has "suspend: stopped" "$tmp/s.out" "stopped True"
has "suspend: open string again on SIGCONT" "$tmp/s.out" "reopened True"
has "suspend: the session goes on" "$tmp/s.out" "resized True"
has "suspend: clean end" "$tmp/s.out" "status 0"
if [ -s /etc/motd ]; then
	for how in login login-hush; do
		TMPDIR_E2E=$tmp timeout -k 2 40 python3 "$tmp/sess.py" \
		    "$OURS/mosh-server" "$OURS/mosh-client" 61550:61599 $how \
		    > "$tmp/s.out" 2>&1
		has "$how: login shell" "$tmp/s.out" "login-shell True"
		has "$how: home" "$tmp/s.out" "child-env True"
		if [ $how = login ]; then
			has "login: motd" "$tmp/s.out" "motd True"
		else
			has "login-hush: no motd" "$tmp/s.out" "motd False"
		fi
		has "$how: clean end" "$tmp/s.out" "status 0"
	done
else
	echo "skip: no /etc/motd: login shells"
fi
timeout -k 2 60 python3 "$tmp/sess.py" "$OURS/mosh-server" "$OURS/mosh-client" \
    61550:61599 paste > "$tmp/s.out" 2>&1
has "paste into a busy shell arrives whole" "$tmp/s.out" "pasted True"
has "paste: clean end" "$tmp/s.out" "status 0"
timeout -k 2 40 python3 "$tmp/sess.py" "$OURS/mosh-server" "$OURS/mosh-client" \
    61550:61599 unclean > "$tmp/s.out" 2>&1
has "server killed: status 1" "$tmp/s.out" "status 1"
has "server killed: unclean message" "$tmp/s.out" "unclean-msg True"
has "server killed: exiting line" "$tmp/s.out" "exiting-line True"
timeout -k 2 40 python3 "$tmp/sess.py" "$OURS/mosh-server" "$OURS/mosh-client" \
    61550:61599 wrongkey > "$tmp/s.out" 2>&1
has "wrong key: no session, status 1" "$tmp/s.out" "status 1"
has "wrong key: never heard" "$tmp/s.out" "never-heard True"

# --- upstream's own front end (the Perl `mosh --local`) driving ours: it
# asks our client for the colour count, starts our server with its -c, -i
# and -l arguments, reads the MOSH CONNECT line and execs our client.
if [ -n "$up" ] && [ -x "$up/mosh" ] && command -v perl > /dev/null 2>&1; then
	cat > "$tmp/wrap.py" <<'EOF'
import fcntl, os, pty, select, struct, sys, termios, time
b, up = sys.argv[1], sys.argv[2]
env = dict(os.environ, PS1="$ ", TERM="xterm-256color", LANG="C.UTF-8",
           SHELL="/bin/sh", MOSH_SERVER_NETWORK_TMOUT="30")
env.pop("MOSH_KEY", None)
pid, fd = pty.fork()
if pid == 0:
    os.environ.clear()
    os.environ.update(env)
    os.execv(up + "/mosh", ["mosh", "--local", "--client=%s/mosh-client" % b,
             "--server=%s/mosh-server" % b, "-p", "61960:61969",
             "127.0.0.1"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = b""
def pump(t, until=None):
    global out
    end = time.time() + t
    while time.time() < end and not (until and until in out):
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                x = os.read(fd, 65536)
            except OSError:
                return
            if not x:
                return
            out += x
pump(5, b"$ ")
os.write(fd, b'echo "W=$TERM."\r')
pump(5, b"W=xterm-256color.")
print("wrapped", b"W=xterm-256color." in out)
os.write(fd, b"exit\r")
end = time.time() + 10
st = None
while time.time() < end:
    pump(0.1)
    q, s = os.waitpid(pid, os.WNOHANG)
    if q == pid:
        st = os.waitstatus_to_exitcode(s)
        break
if st is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print("status", st)
EOF
	timeout -k 2 40 python3 "$tmp/wrap.py" "$OURS" "$up" > "$tmp/s.out" 2>&1
	has "upstream's mosh --local with ours: session" "$tmp/s.out" "wrapped True"
	has "upstream's mosh --local with ours: clean end" "$tmp/s.out" "status 0"
else
	echo "skip: no upstream mosh or perl: upstream's mosh --local with ours"
fi

# A server started on a terminal guards its line against typed-ahead echo.
cat > "$tmp/srvtty.py" <<'EOF'
import os, pty, re, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["mosh-server", "new", "-i", "127.0.0.1", "-p",
             "61970:61979", "--", "/bin/sleep", "60"])
out = b""
end = time.time() + 5
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
os.waitpid(pid, 0)
print("guard", out.startswith(b"\r\r\n\r\nMOSH CONNECT "))
m = re.search(rb"detached, pid = (\d+)", out)
if m:
    os.kill(int(m.group(1)), signal.SIGTERM)
print("detached", m is not None)
EOF
timeout -k 2 20 python3 "$tmp/srvtty.py" "$OURS/mosh-server" > "$tmp/s.out" 2>&1
has "server on a tty: CR LF LF first" "$tmp/s.out" "guard True"
has "server on a tty: detached line" "$tmp/s.out" "detached True"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
