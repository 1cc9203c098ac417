# lib.sh: helpers for the end-to-end tests (test/*_e2e.sh), POSIX sh
# (dash; bash works too). Source it from the repository root, where make
# check runs them (as `sh test/x_e2e.sh`):
#
#   . test/lib.sh
#   server_start mosh-server "export PS1='e2e> '; exec sh" -v ||
#       fail "server"
#   CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
#   client_start c 80 24 mosh-client 127.0.0.1 "$SERVER_PORT"
#   check "prompt" wait_screen c '^e2e>' 10
#   tmux_type c 'echo hi'; tmux_keys c Enter
#   check "output" wait_screen c '^hi$' 10
#   done_tests
#
# Sourcing it makes a private temp dir $T, exports LANG=LC_ALL=C.UTF-8
# (the only UTF-8 locale here; Debian's mosh refuses to run without one),
# and installs an EXIT/INT/TERM/HUP/PIPE trap that, even after a failed
# check, stops every process started through these helpers (by PID, never
# by name), kills this script's private tmux server, deletes the network
# namespaces, and removes $T (kept when KEEP_TMP=1 is set); if the script
# is killed outright (SIGKILL), a watchdog does the same. Names starting
# with t_ are the helpers' own variables. capture-pane drops trailing
# blanks, so match a prompt as '^e2e>' rather than 'e2e> $'.
#
# Results
#   at_exit "CMD"          run CMD at exit before the cleanup (do not set
#                          an EXIT trap of your own: it would replace it)
#   ok MSG / fail MSG      count one pass / failure and print it
#   check MSG CMD...       run CMD; ok MSG if it exits 0, else fail MSG
#   skip MSG               print "skip: MSG": test/run.sh counts it, and
#                          under CI=true fails the run unless MSG is on
#                          test/skips.allow
#   done_tests             print "N passed, N failed"; exit 1 on failures
# Time
#   now_ms                 wall-clock milliseconds (date +%s%N)
#   wait_for "CMD" SEC     eval CMD every 0.1 s until it succeeds (return 0)
#                          or SEC seconds pass (return 1); SEC may be 2.5;
#                          CMD must not mention $1 or $2 (use variables)
# Ports
#   free_port [udp|tcp]    print a port that was free a moment ago
#   $PYTHON                python3 to use (/usr/bin/python3 if present)
# Processes (only these are ever killed, and only by PID)
#   spawn NAME CMD...      run CMD in the background, output to $T/NAME.out
#                          and $T/NAME.err; sets BG_PID; remembers it
#   track_pid PID          remember a PID started some other way
#   stop_pid PID           TERM, wait up to 3 s, then KILL; forgets it
#   wait_pid_gone PID SEC  wait until PID has ended (return 0) or SEC pass
# tmux (one private server per test script: tmux -L $TMUX_NAME -f /dev/null;
# status line off, so the pane is exactly W x H)
#   tm ARGS...             tmux on the private server
#   tmux_start NAME W H "CMD"   new session NAME running (CMD) in the
#                          default shell; its exit status goes to
#                          $T/NAME.status when it ends (tmux 3.3a forgets
#                          a dead pane's status); the pane then keeps the
#                          final screen until tmux_kill
#   tmux_type NAME TEXT    type TEXT literally (send-keys -l)
#   tmux_keys NAME KEY...  send named keys (Enter, C-c, Up, Escape ...)
#   tmux_capture NAME      print the pane as text
#   tmux_capture_e NAME    the same with attribute escapes (capture-pane -e)
#   tmux_cursor NAME       print "X Y" (0-based)
#   wait_screen NAME REGEX SEC  poll until a line of the pane matches the
#                          extended REGEX; on timeout print the pane to
#                          stderr and return 1
#   wait_gone NAME REGEX SEC    poll until no line matches
#   wait_same NAME1 NAME2 SEC [-e]  poll until two panes show the same
#                          text (-e: and attributes); else print a diff
#   wait_text NAME FILE SEC     poll until the pane's text is FILE's
#                          (trailing empty lines ignored); else a diff
#   tmux_resize NAME W H   resize the window
#   tmux_status NAME       print the command's exit status ("" if running)
#   tmux_wait_exit NAME SEC     wait until the command has ended
#   pane_child NAME COND   print the PID of a process under NAME's pane for
#                          which the awk condition COND holds (over comm,
#                          the command's name, and args, its ps line)
#   tmux_kill              kill the private tmux server
# mosh (binaries are parameters: "mosh-server" / "mosh-client" for Debian's,
# "./mosh server" / "./mosh client" for ours)
#   server_start SERVER "CMD" [SERVER ARGS...]
#                          run SERVER new -p ${SERVER_PORT_REQ:-0}
#                          -i ${SERVER_IP:-127.0.0.1} -l LANG=C.UTF-8 ARGS
#                          -- sh -c CMD, wait for MOSH CONNECT (10 s); sets
#                          SERVER_PORT, SERVER_KEY, SERVER_PID (the
#                          detached daemon, from "pid = N"), SERVER_LOG (its
#                          stderr, which -v fills); returns 1 on failure.
#                          A server that prints no "pid = N" line gets a
#                          warning and an empty SERVER_PID.
#                          Runs under $SERVER_WRAP when set (e.g.
#                          "ip netns exec NS", or "env VAR=VALUE").
#   client_cmd CLIENT IP PORT [KEY]  print the shell command that runs the
#                          client with MOSH_KEY (default $SERVER_KEY), LANG
#                          and $CLIENT_ENV (e.g. MOSH_PREDICTION_DISPLAY=
#                          never), under $CLIENT_WRAP when set
#   client_start NAME W H CLIENT IP PORT [KEY]  tmux_start of client_cmd
# sshd on 127.0.0.1
#   sshd_start             keys and config in $T, start /usr/sbin/sshd -D;
#                          sets SSHD_PORT, SSHD_PID, SSH_KEY and SSH_CMD (for
#                          ssh or --ssh=); returns 1 if it does not come up.
#                          SSHD_ADDR (127.0.0.1), SSHD_PORT_REQ (a free
#                          port), SSHD_CONF (more config lines) and
#                          SSHD_WRAP ("ip netns exec NS") change where and
#                          how it runs
#   sshd_stop
# network namespaces (root only; 10.77.x.y exist only inside them)
#   ns_setup               namespaces $NS_C (client) and $NS_S (server)
#                          joined by veth $NS_C_IF <-> $NS_S_IF:
#                          client $NS_C_IP=10.77.1.2, server $NS_S_IP=
#                          10.77.1.1 (/24), lo up in both; returns 1 (after
#                          a skip line) if not root, no ip netns, or no
#                          right to create one, 2 (after a message on
#                          stderr) if setting up failed later
#   ns_exec NS CMD...      run CMD in namespace NS
#   ns_roam [NEWIP]        move the client to NEWIP (default the next
#                          address, 10.77.1.3, .4, ...): add the new one,
#                          delete the old; sets NS_C_IP
#   ns_link down|up        take the veth pair down or up (a real outage)
#   ns_cleanup             delete both namespaces (and so the veths)
#
# Relay: $RELAY is obj-check/relay (see test/relay.c).
#   relay_start ARGS...    start one with --max-time 600 ARGS, wait for its
#                          RELAY line; sets RELAY_PORT, RELAY_CTL, RELAY_PID
#                          and RELAY_ERR (its stderr: -v log, statistics)
#   relay_ctl CMD...       send a control command to $RELAY_CTL, print the
#                          reply; exit status 0 on "ok"
#   relay_stat up|down FIELD   print one counter: in out drop loss outage
#                          queue full stale err dup reord; and (either
#                          direction) flows hops
#   relay_stop             TERM $RELAY_PID; statistics go to $RELAY_ERR
# For two relays at once, save RELAY_PORT, RELAY_CTL and RELAY_PID of the
# first before starting the second, and set them back to address it.
# RELAY_WRAP="ip netns exec NS" runs the relay (and relay_ctl, since the
# control port is on that namespace's loopback) in a namespace.

LANG=C.UTF-8
LC_ALL=C.UTF-8
export LANG LC_ALL
unset TMUX

RELAY=${RELAY:-obj-check/relay}
# The system's python3 when there is one: a version manager's shim on PATH
# can cost a third of a second per start.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/mosh-e2e.XXXXXX") || exit 1
TMUX_NAME=mosh-e2e-$$
t_pass=0
t_fail=0
t_pids=
t_sshd=
t_ns=

# ---- results ----

# Seconds since lib.sh was sourced, for the ok/FAIL lines.
t_elapsed()
{
	t_e=$(($(now_ms) - t_start))
	printf '%d.%d' $((t_e / 1000)) $((t_e % 1000 / 100))
}

ok()
{
	t_pass=$((t_pass + 1))
	echo "ok: $* [$(t_elapsed)s]"
}

fail()
{
	t_fail=$((t_fail + 1))
	echo "FAIL: $* [$(t_elapsed)s]"
}

check()
{
	t_msg=$1
	shift
	if "$@"; then
		ok "$t_msg"
	else
		fail "$t_msg"
	fi
}

skip()
{
	echo "skip: $*"
}

done_tests()
{
	echo "${0##*/}: $t_pass passed, $t_fail failed"
	[ "$t_fail" -eq 0 ] && exit 0
	exit 1
}

# ---- time ----

now_ms()
{
	t_ns_now=$(date +%s%N)
	echo $((t_ns_now / 1000000))
}

# wait_for "CMD" SEC. The deadline is kept in the positional parameters,
# which are the only variables local to a call in POSIX sh, so CMD may
# itself call wait_for (but may not refer to $1 or $2).
wait_for()
{
	set -- "$1" $(($(now_ms) + $(t_sec_ms "$2")))
	while :; do
		if eval "$1"; then
			return 0
		fi
		[ "$(now_ms)" -lt "$2" ] || return 1
		sleep 0.1
	done
}

t_sec_ms()
{
	case $1 in
	*.*)
		t_i=${1%%.*}
		t_f=${1#*.}
		t_f=$(printf '%.3s' "${t_f}000")
		echo $((${t_i:-0} * 1000 + $(echo "$t_f" | sed 's/^0*//;s/^$/0/')))
		;;
	*) echo $(($1 * 1000)) ;;
	esac
}

# ---- ports ----

free_port()
{
	"$PYTHON" -c '
import socket, sys
t = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "${1:-udp}"
}

# ---- processes ----

spawn()
{
	t_name=$1
	shift
	: >"$T/$t_name.out"
	: >"$T/$t_name.err"
	"$@" >"$T/$t_name.out" 2>"$T/$t_name.err" </dev/null &
	BG_PID=$!
	echo "$BG_PID" >"$T/$t_name.pid"
	track_pid "$BG_PID"
}

track_pid()
{
	t_pids="$t_pids $1"
	echo "$t_pids" >"$T/.pids"
}

t_forget()
{
	t_new=
	for t_p in $t_pids; do
		[ "$t_p" = "$1" ] || t_new="$t_new $t_p"
	done
	t_pids=$t_new
	echo "$t_pids" >"$T/.pids"
}

# Alive and not a zombie (a finished child stays a zombie until waited for).
t_alive()
{
	t_st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$t_st" ] && [ "${t_st#Z}" = "$t_st" ]
}

stop_pid()
{
	t_forget "$1"
	kill -TERM "$1" 2>/dev/null || return 0
	t_i=0
	while t_alive "$1" && [ "$t_i" -lt 30 ]; do
		sleep 0.1
		t_i=$((t_i + 1))
		# A signal that lands between fork and exec can be lost in
		# the shell's own handler: say it again.
		[ $((t_i % 5)) -eq 0 ] && kill -TERM "$1" 2>/dev/null
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

wait_pid_gone()
{
	wait_for "! t_alive $1" "$2"
}

# ---- tmux ----

tm()
{
	tmux -L "$TMUX_NAME" -f /dev/null "$@"
}

tmux_start()
{
	rm -f "$T/$1.status"
	# Options are set in the same command list that may create the
	# server. The pane outlives the command (tmux 3.3a's remain-on-exit
	# would scroll the final screen away to print "Pane is dead").
	tm new-session -d -s "$1" -x "$2" -y "$3" \
	    "($4); echo \$? > '$T/$1.status'; exec sleep 3600" \; \
	    set -g status off \; \
	    set -g history-limit 2000 \; set -g escape-time 0 \; \
	    resize-window -t "$1" -x "$2" -y "$3" || return 1
}

tmux_type()
{
	tm send-keys -t "$1" -l "$2"
}

tmux_keys()
{
	t_name=$1
	shift
	tm send-keys -t "$t_name" "$@"
}

tmux_capture()
{
	tm capture-pane -p -t "$1"
}

tmux_capture_e()
{
	tm capture-pane -p -e -t "$1"
}

tmux_cursor()
{
	tm display-message -p -t "$1" '#{cursor_x} #{cursor_y}'
}

# Does a line of the pane match the extended regex?
t_has()
{
	tmux_capture "$1" 2>/dev/null | grep -Eq -e "$2"
}

wait_screen()
{
	t_ws_name=$1
	t_ws_re=$2
	if wait_for 't_has "$t_ws_name" "$t_ws_re"' "$3"; then
		return 0
	fi
	echo "wait_screen $1: no match for /$2/ within $3 s; screen:" >&2
	tmux_capture "$1" | sed 's/^/  |/' >&2
	return 1
}

wait_gone()
{
	t_ws_name=$1
	t_ws_re=$2
	if wait_for '! t_has "$t_ws_name" "$t_ws_re"' "$3"; then
		return 0
	fi
	echo "wait_gone $1: /$2/ still there after $3 s; screen:" >&2
	tmux_capture "$1" | sed 's/^/  |/' >&2
	return 1
}

# wait_same NAME1 NAME2 SEC [-e]: poll until two panes show the same text
# (with -e, the same text and attributes); on timeout print a diff.
wait_same()
{
	t_ws_a=$1
	t_ws_b=$2
	t_ws_e=${4:-}
	if wait_for '[ "$(tm capture-pane -p $t_ws_e -t "$t_ws_a")" = \
	    "$(tm capture-pane -p $t_ws_e -t "$t_ws_b")" ]' "$3"; then
		return 0
	fi
	tm capture-pane -p $t_ws_e -t "$1" >"$T/same.a"
	tm capture-pane -p $t_ws_e -t "$2" >"$T/same.b"
	echo "wait_same: $1 and $2 still differ after $3 s:" >&2
	diff -u "$T/same.a" "$T/same.b" | sed 's/^/  |/' >&2
	return 1
}

# wait_text NAME FILE SEC: poll until the pane's text equals FILE's
# (trailing empty lines ignored on both sides); on timeout print a diff.
wait_text()
{
	t_ws_name=$1
	t_ws_file=$2
	if wait_for '[ "$(tmux_capture "$t_ws_name")" = \
	    "$(cat "$t_ws_file")" ]' "$3"; then
		return 0
	fi
	tmux_capture "$1" >"$T/text.got"
	echo "wait_text: $1 differs from $2 after $3 s:" >&2
	diff -u "$2" "$T/text.got" | sed 's/^/  |/' >&2
	return 1
}

tmux_resize()
{
	tm resize-window -t "$1" -x "$2" -y "$3"
}

tmux_status()
{
	cat "$T/$1.status" 2>/dev/null
}

pane_child()
{
	t_pp=$(tm display-message -p -t "$1" '#{pane_pid}')
	ps -e -o pid= -o ppid= -o comm= -o args= | awk -v root="$t_pp" '
	    { par[$1] = $2; cm[$1] = $3; ar[$1] = $0 }
	    END {
		for (p in par) {
			comm = cm[p]
			args = ar[p]
			if (!('"$2"')) {
				continue
			}
			q = p
			for (i = 0; i < 20 && q != "" && q != root; i++) {
				q = par[q]
			}
			if (q == root) {
				print p
				exit
			}
		}
	    }'
}

tmux_wait_exit()
{
	wait_for "[ -s '$T/$1.status' ]" "$2"
}

tmux_kill()
{
	tm kill-server 2>/dev/null
	return 0
}

# ---- mosh ----

server_start()
{
	t_srv=$1
	t_cmd=$2
	shift 2
	t_n=${t_srvn:-0}
	t_srvn=$((t_n + 1))
	SERVER_LOG=$T/server$t_n.err
	: >"$T/server$t_n.out"
	: >"$SERVER_LOG"
	# The server forks a daemon and exits; the daemon keeps stderr (its
	# -v log) but not stdout, so both can go to files.
	${SERVER_WRAP:-} $t_srv new -p "${SERVER_PORT_REQ:-0}" \
	    -i "${SERVER_IP:-127.0.0.1}" -l LANG=C.UTF-8 "$@" -- \
	    sh -c "$t_cmd" >"$T/server$t_n.out" 2>"$SERVER_LOG" </dev/null &
	t_bootpid=$!
	track_pid "$t_bootpid"
	wait_for "grep -q '^MOSH CONNECT' '$T/server$t_n.out'" 10
	t_rc=$?
	# The daemon names itself on stderr just before or after that line.
	[ "$t_rc" -eq 0 ] && wait_for "grep -q 'pid = ' '$SERVER_LOG'" 2
	# The first process exits once the daemon is forked: reap it.
	if wait_for "! t_alive $t_bootpid" 5; then
		t_forget "$t_bootpid"
		wait "$t_bootpid" 2>/dev/null
	fi
	SERVER_PID=$(sed -n 's/.*pid = \([0-9][0-9]*\).*/\1/p' "$SERVER_LOG" |
	    head -n 1)
	if [ -n "$SERVER_PID" ]; then
		track_pid "$SERVER_PID"
	else
		echo "server_start: no '[mosh-server detached, pid = N]'" \
		    "from $t_srv: it will not be stopped at exit" >&2
	fi
	set -- $(grep '^MOSH CONNECT' "$T/server$t_n.out" | head -n 1)
	SERVER_PORT=${3:-}
	SERVER_KEY=${4:-}
	if [ "$t_rc" -ne 0 ] || [ -z "$SERVER_KEY" ]; then
		echo "server_start: no MOSH CONNECT from $t_srv; output:" >&2
		cat "$T/server$t_n.out" "$SERVER_LOG" | sed 's/^/  |/' >&2
		return 1
	fi
	return 0
}

client_cmd()
{
	echo "${CLIENT_WRAP:-} env MOSH_KEY=${4:-$SERVER_KEY} LANG=C.UTF-8" \
	    "LC_ALL=C.UTF-8 ${CLIENT_ENV:-} $1 $2 $3"
}

client_start()
{
	tmux_start "$1" "$2" "$3" "$(client_cmd "$4" "$5" "$6" "${7:-}")"
}

# ---- relay ----

relay_start()
{
	t_n=${t_relayn:-0}
	t_relayn=$((t_n + 1))
	spawn "relay$t_n" ${RELAY_WRAP:-} "$RELAY" --max-time 600 "$@"
	RELAY_PID=$BG_PID
	RELAY_ERR=$T/relay$t_n.err
	if ! wait_for "grep -q '^RELAY' '$T/relay$t_n.out'" 5; then
		echo "relay_start: no RELAY line; stderr:" >&2
		sed 's/^/  |/' "$RELAY_ERR" >&2
		return 1
	fi
	set -- $(cat "$T/relay$t_n.out")
	RELAY_PORT=$2
	RELAY_CTL=$3
}

relay_ctl()
{
	${RELAY_WRAP:-} "$RELAY" -C "$RELAY_CTL" "$@"
}

# relay_stat up|down FIELD: one number from the relay's statistics, e.g.
# relay_stat down loss (fields: in out drop loss outage queue full stale
# err dup reord).
relay_stat()
{
	t_st=$(relay_ctl stats) || return 1
	case $1:$2 in
	*:flows | *:hops) ;;
	down:*) t_st=${t_st#* down } ;;
	*) t_st=${t_st%% down *} ;;
	esac
	printf ' %s\n' "$t_st" | sed -n "s/.*[ (]$2=\([0-9]*\).*/\1/p"
}

relay_stop()
{
	[ -n "${RELAY_PID:-}" ] && stop_pid "$RELAY_PID"
	RELAY_PID=
}

# ---- sshd ----

sshd_start()
{
	mkdir -p "$T/ssh" /run/sshd
	rm -f "$T/ssh/host" "$T/ssh/user"
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/user" || return 1
	cp "$T/ssh/user.pub" "$T/ssh/authorized_keys"
	SSHD_PORT=${SSHD_PORT_REQ:-$(free_port tcp)}
	cat >"$T/ssh/sshd_config" <<EOF
ListenAddress ${SSHD_ADDR:-127.0.0.1}
Port $SSHD_PORT
HostKey $T/ssh/host
AuthorizedKeysFile $T/ssh/authorized_keys
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $T/ssh/sshd.pid
AcceptEnv LANG LC_*
${SSHD_CONF:-}
EOF
	spawn sshd ${SSHD_WRAP:-} /usr/sbin/sshd -D -f "$T/ssh/sshd_config" \
	    -E "$T/ssh/sshd.log"
	SSHD_PID=$BG_PID
	t_sshd=$SSHD_PID
	SSH_KEY=$T/ssh/user
	SSH_CMD="ssh -F /dev/null -p $SSHD_PORT -i $SSH_KEY"
	SSH_CMD="$SSH_CMD -o StrictHostKeyChecking=no"
	SSH_CMD="$SSH_CMD -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
	SSH_CMD="$SSH_CMD -o LogLevel=ERROR"
	if ! wait_for "${SSHD_WRAP:-} ss -Hltn 'sport = :$SSHD_PORT' |
	    grep -q ." 5; then
		echo "sshd_start: sshd did not come up; log:" >&2
		cat "$T/ssh/sshd.log" "$T/sshd.err" | sed 's/^/  |/' >&2
		return 1
	fi
}

t_tcp_listening()
{
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

sshd_stop()
{
	[ -n "$t_sshd" ] && stop_pid "$t_sshd"
	t_sshd=
}

# ---- network namespaces ----

ns_setup()
{
	if [ "$(id -u)" -ne 0 ]; then
		skip "network namespaces need root"
		return 1
	fi
	if ! ip netns list >/dev/null 2>&1; then
		skip "ip netns is not available"
		return 1
	fi
	NS_C=moshc$$
	NS_S=moshs$$
	NS_C_IF=vc$$
	NS_S_IF=vs$$
	NS_C_IP=10.77.1.2
	NS_S_IP=10.77.1.1
	t_nextip=3
	# A container without CAP_SYS_ADMIN lists namespaces but cannot
	# make one: that is a skip, not a failure.
	if ! ip netns add "$NS_C" 2>"$T/netns.err"; then
		ip netns del "$NS_C" 2>/dev/null
		skip "cannot create a network namespace: $(head -n 1 \
		    "$T/netns.err")"
		return 1
	fi
	t_ns="$NS_C"
	echo "$t_ns" >"$T/.ns"
	if ! { ip netns add "$NS_S" && t_ns="$NS_C $NS_S" &&
	    echo "$t_ns" >"$T/.ns" &&
	    ip link add "$NS_C_IF" netns "$NS_C" type veth \
	    peer name "$NS_S_IF" netns "$NS_S" &&
	    ip -n "$NS_C" link set lo up &&
	    ip -n "$NS_S" link set lo up &&
	    ip -n "$NS_C" addr add "$NS_C_IP/24" dev "$NS_C_IF" &&
	    ip -n "$NS_S" addr add "$NS_S_IP/24" dev "$NS_S_IF" &&
	    ip -n "$NS_C" link set "$NS_C_IF" up &&
	    ip -n "$NS_S" link set "$NS_S_IF" up &&
	    ip netns exec "$NS_C" sh -c "echo 1 > \
	    /proc/sys/net/ipv4/conf/$NS_C_IF/promote_secondaries"; }; then
		echo "ns_setup: could not create the namespaces" >&2
		ns_cleanup
		return 2
	fi
	# IPv4 addresses are usable at once; wait for the carrier.
	if ! wait_for "ip -n $NS_C -o link show $NS_C_IF |
	    grep -q 'state UP'" 5; then
		echo "ns_setup: the veth pair did not come up" >&2
		ns_cleanup
		return 2
	fi
}

ns_exec()
{
	t_name=$1
	shift
	ip netns exec "$t_name" "$@"
}

# The new address is added before the old one goes; promote_secondaries
# (set by ns_setup) keeps it when the old, primary one is deleted.
ns_roam()
{
	t_new=${1:-10.77.1.$t_nextip}
	t_nextip=$((t_nextip + 1))
	ip -n "$NS_C" addr add "$t_new/24" dev "$NS_C_IF" || return 1
	ip -n "$NS_C" addr del "$NS_C_IP/24" dev "$NS_C_IF" || return 1
	NS_C_IP=$t_new
}

ns_link()
{
	ip -n "$NS_C" link set "$NS_C_IF" "$1"
}

ns_cleanup()
{
	for t_n in $t_ns; do
		ip netns del "$t_n" 2>/dev/null
	done
	t_ns=
	return 0
}

t_start=$(now_ms)

# ---- cleanup ----

# at_exit "CMD": run CMD at exit, before the helpers clean up (a test must
# not set its own EXIT trap: it would replace the cleanup).
at_exit()
{
	t_atexit="${t_atexit:-}$1
"
}

t_cleanup()
{
	t_rc=$?
	# A signal that reaches a child between fork and exec runs these
	# traps in a copy of this shell (bash does); only the test's own
	# shell may clean up. A builtin's redirection is opened by the
	# process itself, so /proc/self names it.
	if [ -n "$t_main" ] && read -r t_me t_rest </proc/self/stat &&
	    [ "$t_me" != "$t_main" ]; then
		exit "$t_rc"
	fi
	trap '' INT TERM HUP PIPE
	: >"$T/.cleaning"
	eval "${t_atexit:-:}"
	tmux_kill
	for t_p in $t_pids; do
		kill -TERM "$t_p" 2>/dev/null
	done
	t_i=0
	while [ "$t_i" -lt 20 ]; do
		t_any=
		for t_p in $t_pids; do
			t_alive "$t_p" && t_any=1
		done
		[ -n "$t_any" ] || break
		sleep 0.1
		t_i=$((t_i + 1))
		if [ $((t_i % 5)) -eq 0 ]; then
			for t_p in $t_pids; do
				kill -TERM "$t_p" 2>/dev/null
			done
		fi
	done
	for t_p in $t_pids; do
		kill -KILL "$t_p" 2>/dev/null
	done
	t_pids=
	ns_cleanup
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$t_rc"
}

# A test killed with SIGKILL (a runner's hard timeout) runs no trap: a
# watchdog in its own session waits for this shell to go and then does
# the same cleanup from the files $T/.pids and $T/.ns. It leaves at once
# if the trap has run.
t_watchdog='
while kill -0 "$1" 2>/dev/null; do
	sleep 1
done
[ -d "$2" ] && [ ! -e "$2/.cleaning" ] || exit 0
tmux -L "$3" -f /dev/null kill-server 2>/dev/null
for p in $(cat "$2/.pids" 2>/dev/null); do
	kill -TERM "$p" 2>/dev/null
done
sleep 1
for p in $(cat "$2/.pids" 2>/dev/null); do
	kill -KILL "$p" 2>/dev/null
done
for n in $(cat "$2/.ns" 2>/dev/null); do
	ip netns del "$n" 2>/dev/null
done
rm -rf "$2"
'
if command -v setsid >/dev/null 2>&1; then
	setsid sh -c "$t_watchdog" watchdog $$ "$T" "$TMUX_NAME" \
	    </dev/null >/dev/null 2>&1 &
else
	sh -c "$t_watchdog" watchdog $$ "$T" "$TMUX_NAME" \
	    </dev/null >/dev/null 2>&1 &
fi

t_main=
read -r t_main t_rest </proc/self/stat 2>/dev/null || t_main=
trap t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
