#!/bin/sh
# secrets_e2e.sh: where the session key may and may not be, during a live
# session of ours on loopback (the client in tmux, started by a script that
# reads the key from a file, so the harness puts it in no command line):
#   no process's command line holds the printable key;
#   no process's environment holds it: the client has wiped and removed
#   MOSH_KEY (its name stays in the block /proc shows, the value is gone);
#   the printable key is not left anywhere in the memory of the server or
#   the client once the session runs (root only: /proc/PID/mem);
#   core dumps are off in the server and the client (limit 0), and the
#   shell the server starts has the original limit back;
#   the server, the client and the front end are not dumpable: run as
#   nobody, nobody cannot read or ptrace them, but can its shell (root
#   only); the server's test-only frame dump never writes through a
#   symlink.
# Then, when valgrind is there, memcheck on the static binary (definedness
# and stack checks only: musl's malloc is linked in, so no heap checks):
# usage and error paths of both roles, and a short session of the two
# under valgrind, with hostile output (a control in a title, a huge ICH).
# Run from the repository root: sh test/secrets_e2e.sh
. test/lib.sh

MOSH=./mosh

for bin in tmux "$PYTHON" "$MOSH"; do
	if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then
		fail "missing $bin (make; test/deps.sh check)"
		done_tests
	fi
done

# A soft core limit of our own choosing (when the hard one allows), to see
# it come back in the shell.
if [ "$(ulimit -H -c)" = unlimited ] ||
    [ "$(ulimit -H -c)" -ge 2048 ] 2>/dev/null; then
	ulimit -S -c 2048
fi

# key_in_memory PID: how many times the printable key is in its memory.
cat >"$T/memscan.py" <<'EOF'
import re, sys
pid = sys.argv[1]
key = open(sys.argv[2], "rb").read().strip()
assert len(key) == 22
hits = 0
with open("/proc/%s/maps" % pid) as maps, \
        open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if f[1][0] != "r" or (len(f) > 5 and f[5] in ("[vvar]",
                                                     "[vsyscall]")):
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        try:
            mem.seek(lo)
            hits += mem.read(hi - lo).count(key)
        except (OSError, ValueError, OverflowError):
            pass
print(hits)
EOF

core_soft()
{
	sed -n 's/^Max core file size[[:space:]]*\([0-9a-z]*\).*/\1/p' \
	    "/proc/$1/limits"
}

server_start "$MOSH server" "export PS1='e2e> '; exec sh" ||
	fail "server starts"
[ -n "$SERVER_PID" ] || { fail "server pid"; done_tests; }
printf '%s\n' "$SERVER_KEY" >"$T/key"
cat >"$T/client.sh" <<EOF
MOSH_KEY=\$(cat '$T/key')
export MOSH_KEY
LANG=C.UTF-8 LC_ALL=C.UTF-8 MOSH_PREDICTION_DISPLAY=never
export LANG LC_ALL MOSH_PREDICTION_DISPLAY
exec $MOSH client 127.0.0.1 $SERVER_PORT
EOF
tmux_start c 80 24 "sh '$T/client.sh'"
check "prompt" wait_screen c '^e2e>' 15
tmux_type c 'echo sec-$((6 * 7))'
tmux_keys c Enter
check "session usable" wait_screen c '^sec-42$' 10

# pid_of CMDLINE: the process with that command line (words joined by
# spaces); child_of PID: a child of that process.
pid_of()
{
	t_pid=
	for p in /proc/[0-9]*; do
		if [ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" = "$1 " ]; then
			t_pid=${p#/proc/}
		fi
	done
	echo "$t_pid"
}
child_of()
{
	t_pid=
	t_parent=$1
	for p in /proc/[0-9]*; do
		t_st=$(sed 's/^.*) //' "$p/stat" 2>/dev/null)
		set -- $t_st
		if [ "${2:-}" = "$t_parent" ]; then
			t_pid=${p#/proc/}
		fi
	done
	echo "$t_pid"
}
CPID=$(pid_of "$MOSH client 127.0.0.1 $SERVER_PORT")
SHPID=$(child_of "$SERVER_PID")
[ -n "$CPID" ] || fail "client pid"
[ -n "$SHPID" ] || fail "shell pid"

# The key is read from a file, so that no checker's command line has it.
nowhere()
{
	! grep -l -F -f "$T/key" /proc/[0-9]*/"$1" 2>/dev/null
}
check "key in no command line" nowhere cmdline
check "key in no environment" nowhere environ
# The client wipes the value in place and unsets the variable; the name
# stays in the block /proc shows, followed by zeros.
check "MOSH_KEY's value gone from the client's environment" sh -c \
    "! tr '\\0' '\\n' </proc/$CPID/environ | grep -q '^MOSH_KEY=.'"
check "the client's environment was read (LANG there)" sh -c \
    "tr '\\0' '\\n' </proc/$CPID/environ | grep -q '^LANG=C.UTF-8'"

if [ "$(id -u)" -eq 0 ]; then
	n=$("$PYTHON" "$T/memscan.py" "$SERVER_PID" "$T/key")
	check "printable key not in the server's memory ($n)" [ "$n" = 0 ]
	n=$("$PYTHON" "$T/memscan.py" "$CPID" "$T/key")
	check "printable key not in the client's memory ($n)" [ "$n" = 0 ]
	n=$("$PYTHON" "$T/memscan.py" "$SHPID" "$T/key")
	check "printable key not in the shell's memory ($n)" [ "$n" = 0 ]
	# The scanner can find what is there: its own argument.
	n=$("$PYTHON" "$T/memscan.py" self "$T/key")
	check "the memory scan works ($n)" [ "$n" -gt 0 ]
else
	skip "memory scans need root"
fi

check "server: core dumps off" [ "$(core_soft "$SERVER_PID")" = 0 ]
check "client: core dumps off" [ "$(core_soft "$CPID")" = 0 ]
CORE_OURS=$(core_soft $$)
echo "core limit: ours $CORE_OURS, the shell's $(core_soft "$SHPID")"
check "shell: the original core limit back" \
    [ "$(core_soft "$SHPID")" = "$CORE_OURS" ]

tmux_type c 'exit'
tmux_keys c Enter
check "client exits" tmux_wait_exit c 15
check "server exits" wait_for "! kill -0 $SERVER_PID 2>/dev/null" 10

# MOSH_SERVER_DUMP (test-only) writes a fresh file: a symlink planted at
# its temporary name is replaced, never written through.
echo keep >"$T/victim"
ln -s "$T/victim" "$T/d.dump.tmp"
SERVER_WRAP="env MOSH_SERVER_DUMP=$T/d.dump" server_start "$MOSH server" \
    "exec sleep 60" || fail "dump: server starts"
kill -USR2 "$SERVER_PID"
check "dump: written" wait_for "[ -s '$T/d.dump' ]" 5
check "dump: a file of its own" [ -f "$T/d.dump" ] && [ ! -L "$T/d.dump" ]
check "dump: the planted link's target untouched" \
    [ "$(cat "$T/victim")" = keep ]
check "dump: what it wrote is the frame" grep -q '^size 80 24$' "$T/d.dump"
kill "$SERVER_PID" 2>/dev/null

# Not dumpable: another process of the same user can neither ptrace the
# roles nor read their /proc/PID/mem or environ (the kernel gives those
# files to root); the shell is dumpable again. That needs a second uid:
# as root, the roles run as nobody, and nobody tries to read them.
NB="setpriv --reuid=65534 --regid=65534 --clear-groups"
readable()	# readable PID: nobody can read its environment
{
	$NB cat "/proc/$1/environ" >/dev/null 2>&1
}
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    $NB "$MOSH" --version >/dev/null 2>&1; then
	SERVER_WRAP=$NB server_start "$MOSH server" "exec sleep 60" ||
		fail "nobody's server starts"
	SHPID=$(child_of "$SERVER_PID")
	CLIENT_WRAP=$NB client_start n 80 24 "$MOSH client" 127.0.0.1 \
	    "$SERVER_PORT"
	wait_for "[ -n \"\$(pid_of '$MOSH client 127.0.0.1 $SERVER_PORT')\" ]" 10
	CPID=$(pid_of "$MOSH client 127.0.0.1 $SERVER_PORT")
	$NB "$MOSH" --ssh="sh -c 'sleep 10'" example.org </dev/null \
	    >/dev/null 2>&1 &
	FPID=$!
	track_pid "$FPID"
	wait_for "[ -n \"\$(child_of $FPID)\" ]" 10
	check "nobody's shell found" [ -n "$SHPID" ]
	check "nobody's client found" [ -n "$CPID" ]
	check "the test can read: nobody's shell is dumpable" readable "$SHPID"
	check "nobody cannot read its server" eval "! readable $SERVER_PID"
	check "nobody cannot read its client" eval "! readable $CPID"
	check "nobody cannot read its front end (during ssh)" \
	    eval "! readable $FPID"
	check "nobody cannot ptrace its server" \
	    eval "! $NB $PYTHON -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).ptrace(16, $SERVER_PID, 0, 0) != 0)'"
	kill "$SERVER_PID" "$FPID" "$SHPID" 2>/dev/null
	check "nobody's client exits" tmux_wait_exit n 20
else
	skip "dumpable checks need root and setpriv"
fi

if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind not installed"
	done_tests
fi
VG="valgrind -q --error-exitcode=99 --log-file=$T/vg.%p"
vg_rc()
{
	t_want=$1
	shift
	if [ -n "${VG_KEY:-}" ]; then
		env MOSH_KEY="$VG_KEY" $VG "$@" >/dev/null 2>&1 </dev/null
	else
		env -u MOSH_KEY $VG "$@" >/dev/null 2>&1 </dev/null
	fi
	[ $? -eq "$t_want" ]
}
check "valgrind: server --help" vg_rc 0 $MOSH server --help
check "valgrind: client --version" vg_rc 0 $MOSH client --version
check "valgrind: server with a bad port" vg_rc 1 $MOSH server new -p 99999
check "valgrind: client with a bad port" vg_rc 1 $MOSH client 127.0.0.1 x
check "valgrind: client without a key" vg_rc 1 $MOSH client 127.0.0.1 1
VG_KEY=short
check "valgrind: client with a bad key" vg_rc 1 $MOSH client 127.0.0.1 1
server_start "$VG $MOSH server" "export PS1='e2e> '; exec sh" ||
	fail "valgrind: server starts"
CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
client_start v 80 24 "$VG $MOSH client" 127.0.0.1 "$SERVER_PORT"
check "valgrind: prompt" wait_screen v '^e2e>' 30
tmux_type v 'printf "\033]2;t\001\033[999999999@x\n"; seq 1 300'
tmux_keys v Enter
check "valgrind: output" wait_screen v '^300$' 30
tmux_type v 'exit'
tmux_keys v Enter
check "valgrind: client exits" tmux_wait_exit v 30
check "valgrind: client status 0" [ "$(tmux_status v)" = 0 ]
check "valgrind: server exits" \
    wait_for "! kill -0 $SERVER_PID 2>/dev/null" 20
cat "$T"/vg.* 2>/dev/null | head -n 40
check "valgrind: no reports" [ -z "$(cat "$T"/vg.* 2>/dev/null)" ]
done_tests
