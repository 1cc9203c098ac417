#!/bin/sh
# tunnel_e2e.sh: the ssh path when UDP is blocked (doc/protocol.md §14).
# The server host is a network namespace with its own sshd, reached from
# the client's namespace over a veth pair; iptables in the server's
# namespace drops UDP arriving on the veth (its loopback, which the tunnel
# role uses to reach the server, is untouched).
#
#   (a) UDP blocked: our server and Debian's mosh-server reach a prompt
#       through ssh, the bar says so; typed commands, colour, resize,
#       Ctrl-^ . and a shell exit work
#   (b) the path's ssh is killed mid-session: it is rebuilt, and the
#       recorder saw every typed byte exactly once, in order
#   (c) UDP unblocked mid-session: the tunnel's frames stop growing and the
#       path closes; blocked again: back through ssh
#   (d) UDP open: no path stays open, the session is as before
#   (e) hostile input to `mosh tunnel`: bad lengths, frames that are no
#       datagram for the server, a closed stdin end it without sending
#       anything
. test/lib.sh
. test/faults_lib.sh
. test/tunnel_lib.sh

for t_bin in ssh /usr/sbin/sshd tmux iptables mosh-server "$FL_RECORDER"; do
	if ! command -v "$t_bin" >/dev/null 2>&1; then
		fail "missing $t_bin (make obj-check/recorder)"
		done_tests
	fi
done
[ -x ./mosh ] || { fail "./mosh is not built"; done_tests; }

# ---- (e) hostile input, no namespaces needed ----

# udp.py PORTFILE COUNTFILE: count datagrams on a fresh UDP port.
cat >"$T/udp.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
n = 0
while True:
    s.recv(4096)
    n += 1
    open(sys.argv[2], "w").write("%d\n" % n)
EOF
spawn udp "$PYTHON" "$T/udp.py" "$T/udp.port" "$T/udp.count"
U_PID=$BG_PID
wait_for "[ -s '$T/udp.port' ]" 5
U_PORT=$(cat "$T/udp.port")
# frame LEN BYTE: a frame header of LEN and LEN bytes of BYTE (octal).
frame()
{
	printf "\\$(printf %03o $(($1 >> 8)))\\$(printf %03o $(($1 & 255)))"
	head -c "$1" /dev/zero | tr '\0' "\\$2"
}
tun()
{
	timeout 5 "$MOSH" tunnel 127.0.0.1 "$U_PORT" >"$T/tun.out" \
	    2>"$T/tun.err"
}
frame 64 001 | tun
t_rc=$?
check "(e) a valid frame: exit 0 at EOF ($t_rc)" [ $t_rc -eq 0 ]
check "(e) ... the tunnel said hello" grep -qx 'MOSH TUNNEL 1' "$T/tun.out"
check "(e) ... one datagram reached the port" \
    wait_for "[ \"\$(cat '$T/udp.count' 2>/dev/null)\" = 1 ]" 3
{ printf '\377\377'; head -c 70000 /dev/zero; } | tun
t_rc=$?
check "(e) an oversized length: exit 2 ($t_rc)" [ $t_rc -eq 2 ]
check "(e) ... says why" grep -q 'length out of range' "$T/tun.err"
printf '\000\000' | tun
check "(e) a zero length: exit 2" [ $? -eq 2 ]
frame 10 001 | tun
check "(e) a frame shorter than a datagram: exit 2" [ $? -eq 2 ]
frame 64 377 | tun
check "(e) a frame with the client's direction bit: exit 2" [ $? -eq 2 ]
head -c 100000 /dev/urandom | tun
t_rc=$?
check "(e) random bytes: ended cleanly, never hung ($t_rc)" \
    eval "[ $t_rc -eq 0 ] || [ $t_rc -eq 2 ]"
tun </dev/null
check "(e) a closed stdin: exit 0" [ $? -eq 0 ]
sleep 0.3
t_n=$(cat "$T/udp.count")
# random bytes can frame a datagram now and then; the others sent none
check "(e) nothing else was sent ($t_n datagrams)" [ "$t_n" -le 3 ]
stop_pid "$U_PID"

# ---- the namespaces, sshd, iptables (test/tunnel_lib.sh) ----

tn_setup
t_rc=$?
[ $t_rc -eq 1 ] && done_tests
[ $t_rc -eq 2 ] && { fail "tn_setup"; done_tests; }
OURS="$MOSH server"
block() { tn_block "$@"; }
lo_udp() { tn_lo_udp; }
fe() { tn_fe "$@"; }
path_pid() { tn_path_pid "$1"; }

# ---- (a) UDP blocked: a prompt through ssh ----

block A
for t_s in ours deb; do
	if [ $t_s = ours ]; then
		fe a$t_s --ssh="$SSH" --server="$OURS" root@"$NS_S_IP" -- \
		    env PS1='a> ' sh
	else
		fe a$t_s --ssh="$SSH" root@"$NS_S_IP" -- env PS1='a> ' sh
	fi
	t_t0=$(now_ms)
	if ! check "(a $t_s) prompt with UDP blocked" wait_screen a$t_s '^a>' 20
	then
		cat "$T/a$t_s.fe" >&2
		continue
	fi
	echo "(a $t_s) prompt after $(($(now_ms) - t_t0)) ms"
	check "(a $t_s) the bar says UDP blocked: through ssh" \
	    wait_screen a$t_s 'UDP blocked: through ssh' 5
	tmux_type a$t_s 'echo typ""ed-a'
	tmux_keys a$t_s Enter
	check "(a $t_s) a typed command" wait_screen a$t_s '^typed-a$' 10
	tmux_type a$t_s "printf '\\033[31mred\\033[0m\\n'"
	tmux_keys a$t_s Enter
	check "(a $t_s) colour" eval "wait_for \"tmux_capture_e a$t_s |
	    grep -q '31mred'\" 10"
	tmux_resize a$t_s 100 30
	sleep 0.5
	tmux_type a$t_s 'stty size'
	tmux_keys a$t_s Enter
	check "(a $t_s) resize" wait_screen a$t_s '^30 100$' 10
	if [ $t_s = ours ]; then
		tmux_keys a$t_s C-^
		tmux_type a$t_s .
		check "(a $t_s) Ctrl-^ . ends the session" \
		    tmux_wait_exit a$t_s 15
	else
		tmux_type a$t_s exit
		tmux_keys a$t_s Enter
		check "(a $t_s) exit ends the session" tmux_wait_exit a$t_s 15
		check "(a $t_s) exit status 0" [ "$(tmux_status a$t_s)" = 0 ]
	fi
done
check "(a) our binary was uploaded for the tunnel" \
    eval "ls '$T/rcache/mosh/' | grep -q '^mosh-'"

# ---- (b) the path's ssh killed mid-session: every byte once ----

FL_N=100
FL_NAME=b
FL_REC=$T/recb
FL_EXP=$T/expb
: >"$FL_REC"
: >"$FL_EXP"
fe b --ssh="$SSH" --server="$OURS" -n root@"$NS_S_IP" -- \
    "$FL_RECORDER" "$FL_REC"
fl_render
if wait_text b "$T/scr$FL_N" 20; then
	fl_type 11 30
	fl_check "(b) before the cut" 30
	t_p=$(path_pid b)
	check "(b) the path runs ($t_p)" [ -n "$t_p" ]
	[ -n "$t_p" ] && kill "$t_p"
	fl_type 12 40
	fl_check "(b) after the path's ssh was killed" 40
	t_p2=$(path_pid b)
	check "(b) a new path ($t_p2, was $t_p)" \
	    eval "[ -n '$t_p2' ] && [ '$t_p2' != '$t_p' ]"
else
	fail "(b) the recorder's screen did not come"
	cat "$T/b.fe" >&2
fi
tm kill-session -t b 2>/dev/null

# ---- (c) UDP unblocked, then blocked again ----

fe c --ssh="$SSH" --server="$OURS" root@"$NS_S_IP" -- env PS1='c> ' sh
if check "(c) prompt, UDP blocked" wait_screen c '^c>' 20; then
	block D
	tmux_type c 'echo on-""udp'
	tmux_keys c Enter
	check "(c) a command once UDP is open" wait_screen c '^on-udp$' 10
	check "(c) the path closes" eval 'wait_for "[ -z \"\$(path_pid c)\" ]" 10'
	t_l1=$(lo_udp)
	tmux_type c 'echo still-""udp'
	tmux_keys c Enter
	check "(c) the session goes on over UDP" wait_screen c '^still-udp$' 10
	sleep 3
	t_l2=$(lo_udp)
	check "(c) the tunnel's frames stopped ($t_l1 -> $t_l2)" \
	    [ "$t_l1" = "$t_l2" ]
	block A
	tmux_type c 'echo back-""ssh'
	tmux_keys c Enter
	check "(c) blocked again: the command runs" \
	    wait_screen c '^back-ssh$' 20
	check "(c) ... through a new path" eval '[ -n "$(path_pid c)" ]'
	t_l3=$(lo_udp)
	check "(c) ... the tunnel carries frames again ($t_l2 -> $t_l3)" \
	    [ "$t_l3" -gt "$t_l2" ]
	tmux_type c exit
	tmux_keys c Enter
	check "(c) exit" tmux_wait_exit c 15
fi

# ---- (d) UDP open: no path ----

block D
fe d --ssh="$SSH" --server="$OURS" root@"$NS_S_IP" -- env PS1='d> ' sh
if check "(d) prompt, UDP open" wait_screen d '^d>' 20; then
	t_l1=$(lo_udp)
	sleep 4
	check "(d) no path after 4 s" eval '[ -z "$(path_pid d)" ]'
	check "(d) the tunnel carried nothing idle" [ "$(lo_udp)" = "$t_l1" ]
	check "(d) the bar says nothing of ssh" wait_gone d 'through ssh' 1
	tmux_type d exit
	tmux_keys d Enter
	check "(d) exit" tmux_wait_exit d 15
fi

# --udp-only keeps today's behaviour: no reply, no path.
block A
fe u --udp-only --ssh="$SSH" --server="$OURS" root@"$NS_S_IP"
check "(d) --udp-only with UDP blocked: no reply" wait_screen u \
    'No reply on UDP port' 10
check "(d) --udp-only: no path" eval '[ -z "$(path_pid u)" ]'
tm kill-session -t u 2>/dev/null

done_tests
