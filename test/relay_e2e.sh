#!/bin/sh
# relay_e2e.sh: proves the end-to-end tools (test/relay.c, test/lib.sh)
# work, with Debian's mosh 1.4.0 only, so that a failure in another e2e
# test points at mosh and not at the harness. Run from the repository root
# after `make obj-check/relay`:  sh test/relay_e2e.sh
#
#   lib.sh's tmux, wait and process helpers on plain panes
#   relay alone, with a UDP echo: seeded loss and duplication are
#     deterministic, hop (control port, SIGUSR1, --hop-at) changes the
#     source port the server sees, outage (control port, SIGUSR2) drops,
#     delay delays, jitter and --reorder reorder, the rate limit queues and
#     drops, flows, datagram size and queue are bounded, --pidfile and
#     --max-time work, IPv6 works
#   (a) mosh-server + mosh-client on loopback in tmux: prompt, echo
#   (b) the same through the relay, 300 ms RTT and 10% loss each way
#   (c) a total outage: "Last contact" appears, then goes, session works
#   (d) a source-port hop: the server re-attaches and keeps serving
#   (e) sshd_start: ssh with $SSH_CMD runs a command on 127.0.0.1, and
#       Debian's mosh bootstraps over it with --ssh="$SSH_CMD"
#   (f) as root: namespaces, mosh across them, roaming the client address,
#       a link outage, a relay run inside a namespace
. test/lib.sh

for bin in mosh-server mosh-client tmux "$PYTHON" "$RELAY"; do
	if ! command -v "$bin" >/dev/null 2>&1; then
		fail "missing $bin (make obj-check/relay; test/deps.sh check)"
		done_tests
	fi
done

# A UDP echo server that answers "SEQ SRCPORT" padded to the size asked,
# and clients that report what came back.
cat >"$T/udp.py" <<'EOF'
import socket, sys, time
mode = sys.argv[1]
fam = socket.AF_INET6 if "-6" in sys.argv else socket.AF_INET
lo = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
s = socket.socket(fam, socket.SOCK_DGRAM)
if mode == "echo":
    s.bind((lo, 0))
    print("READY", s.getsockname()[1], flush=True)
    while True:
        d, a = s.recvfrom(65536)
        s.sendto(d.split(b" ")[0] + b" %d " % a[1], a)
elif mode == "ping":
    # ping PORT N TIMEOUT_MS: one at a time; print the answered bitmap
    # and the source ports the echo server saw.
    port, n, tmo = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    s.settimeout(tmo / 1000.0)
    bits, ports, rtt = "", set(), None
    for i in range(n):
        t0 = time.monotonic()
        s.sendto(b"%d " % i, (lo, port))
        got = "0"
        try:
            while True:
                w = s.recvfrom(65536)[0].split()
                if int(w[0]) == i:
                    got = "1"
                    ports.add(w[1].decode())
                    r = time.monotonic() - t0
                    rtt = r if rtt is None else min(rtt, r)
                    break
        except socket.timeout:
            pass
        bits += got
    print(bits, ",".join(sorted(ports)) or "-",
          int(rtt * 1000) if rtt is not None else -1)
elif mode == "burst":
    # burst PORT N SIZE WAIT_MS [PACE]: send N datagrams at once (or
    # PACE at a time, 1 ms apart); print how many came back, the ms
    # between the first and the last, and how many came after one sent
    # later than them (reordering).
    port, n, size, wait = [int(x) for x in sys.argv[2:6]]
    pace = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6] != "-6" \
        else n
    for i in range(n):
        s.sendto((b"%d " % i).ljust(size, b"x"), (lo, port))
        if i % pace == pace - 1:
            time.sleep(0.001)
    s.settimeout(wait / 1000.0)
    times, seqs = [], []
    try:
        while True:
            seqs.append(int(s.recvfrom(65536)[0].split()[0]))
            times.append(time.monotonic())
    except socket.timeout:
        pass
    inv = sum(1 for i in range(1, len(seqs)) if seqs[i] < seqs[i - 1])
    print(len(times), int((times[-1] - times[0]) * 1000) if times else 0,
          inv)
elif mode == "many":
    # many PORT N: N clients (N source ports) send one datagram each,
    # twice over; print how many replies came back.
    port, n = int(sys.argv[2]), int(sys.argv[3])
    socks = [socket.socket(fam, socket.SOCK_DGRAM) for i in range(n)]
    got = 0
    for rnd in range(2):
        for c in socks:
            c.sendto(b"0 ", (lo, port))
            c.settimeout(1.0)
            try:
                c.recvfrom(65536)
                got += 1
            except socket.timeout:
                pass
    print(got)
EOF

# ---- lib.sh itself ----

tmux_start l1 20 5 "printf 'a\\nb\\n'; exec sleep 60"
tmux_start l2 20 5 "printf 'a\\nb\\n'; exec sleep 60"
tmux_start l3 20 5 "printf 'a\\nc\\n'; exec sleep 60"
printf 'a\nb\n' >"$T/ab"
check "lib: wait_same on equal panes" wait_same l1 l2 5
check "lib: wait_same fails on different panes" \
    eval '! wait_same l1 l3 0.3 2>/dev/null'
check "lib: wait_text" wait_text l1 "$T/ab" 5
check "lib: wait_text fails on other text" \
    eval '! wait_text l3 "$T/ab" 0.3 2>/dev/null'
tmux_resize l1 30 7
r=$(tm display-message -p -t l1 '#{window_width}x#{window_height}')
check "lib: tmux_resize ($r)" [ "$r" = 30x7 ]
tmux_start l4 20 5 "printf '\\033[1mB\\033[0m'; exit 3"
check "lib: tmux_wait_exit" tmux_wait_exit l4 5
check "lib: tmux_status keeps the exit status" [ "$(tmux_status l4)" = 3 ]
check "lib: tmux_capture_e shows attributes" \
    eval 'tmux_capture_e l4 | grep -q "$(printf "\\033")\\[1mB"'
tmux_start l5 20 5 "exec cat"
tmux_type l5 'x y'
tmux_keys l5 Enter C-d
check "lib: tmux_type and tmux_keys" \
    eval 'tmux_wait_exit l5 5 && [ "$(tmux_capture l5 | grep -c "^x y$")" = 2 ]'
check "lib: tmux_cursor" eval '[ "$(tmux_cursor l3)" = "0 2" ]'
a=$(now_ms)
check "lib: wait_for gives up" eval '! wait_for false 0.5'
b=$(now_ms)
check "lib: ... after about its time ($((b - a)) ms)" \
    eval '[ $((b - a)) -ge 500 ] && [ $((b - a)) -lt 3000 ]'
check "lib: wait_for nests" wait_for 'wait_for true 1' 1
spawn sleeper sleep 60
p=$BG_PID
stop_pid "$p"
check "lib: stop_pid" eval '! t_alive $p'
for n in l1 l2 l3 l4 l5; do
	tm kill-session -t "$n"
done

# ---- the relay alone ----

spawn echo "$PYTHON" "$T/udp.py" echo
wait_for "grep -q READY '$T/echo.out'" 5
ECHO_PORT=$(sed -n 's/^READY //p' "$T/echo.out")

relay_run()
{
	relay_start -l 0 -t "127.0.0.1:$ECHO_PORT" "$@" || return 1
}

# Seeded fates: the same seed gives the same loss and duplication.
relay_run -s 7 --loss 0.3 --dup 0.2
r1=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 40 40)
s1=$(relay_ctl stats)
relay_stop
relay_run -s 7 --loss 0.3 --dup 0.2
r2=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 40 40)
s2=$(relay_ctl stats)
relay_stop
relay_run -s 8 --loss 0.3 --dup 0.2
s3=$(relay_ctl stats; "$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 40 40 >/dev/null)
s3=$(relay_ctl stats)
relay_stop
echo "seed 7: $s1"
echo "seed 8: $s3"
check "relay: same seed, same statistics" [ "$s1" = "$s2" ]
check "relay: same seed, same answered packets" \
    [ "${r1%% *}" = "${r2%% *}" ]
check "relay: another seed, other fates" [ "$s1" != "$s3" ]
up_loss=$(echo "$s1" | sed -n 's/^ok up [^(]*(loss=\([0-9]*\).*/\1/p')
check "relay: about 30% loss ($up_loss of 40 up)" \
    eval '[ "${up_loss:-0}" -ge 4 ] && [ "${up_loss:-0}" -le 24 ]'
case $s1 in
*"dup=0 "*"dup=0 "*) fail "relay: duplicates ($s1)" ;;
*) ok "relay: duplicates" ;;
esac

# Hop: the echo server sees a new source port; outage; delay.
relay_run -s 1 --delay 60
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 3 1000)
p1=$(echo "$r" | cut -d' ' -f2)
rtt=$(echo "$r" | cut -d' ' -f3)
check "relay: 60 ms each way gives >= 120 ms RTT ($rtt)" [ "$rtt" -ge 120 ]
relay_ctl delay 0 >/dev/null
relay_ctl hop >/dev/null
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 3 1000)
p2=$(echo "$r" | cut -d' ' -f2)
check "relay: hop changes the source port ($p1 -> $p2)" \
    eval '[ "${r%% *}" = 111 ] && [ "$p1" != "$p2" ]'
relay_ctl outage on >/dev/null
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 3 200)
check "relay: outage on drops everything ($r)" [ "${r%% *}" = 000 ]
relay_ctl outage off >/dev/null
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 3 1000)
check "relay: outage off passes again ($r)" [ "${r%% *}" = 111 ]
kill -USR2 "$RELAY_PID"
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 2 200)
kill -USR2 "$RELAY_PID"
check "relay: SIGUSR2 toggles the outage ($r)" [ "${r%% *}" = 00 ]
kill -USR1 "$RELAY_PID"
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 3 1000)
p3=$(echo "$r" | cut -d' ' -f2)
check "relay: SIGUSR1 hops ($p2 -> $p3)" \
    eval '[ "${r%% *}" = 111 ] && [ "$p2" != "$p3" ]'
check "relay: control rejects nonsense" \
    eval '! relay_ctl loss 2 >/dev/null && ! relay_ctl frob >/dev/null'
relay_stop
check "relay: statistics on SIGTERM" grep -q '^relay: up in=' "$RELAY_ERR"

# Rate: 20 x 1000 bytes at 20000 B/s with room for 5 queued: some are
# dropped, and the rest leave at least 50 ms apart.
relay_run --rate-up 20000 --queue 5000
r=$("$PYTHON" "$T/udp.py" burst "$RELAY_PORT" 20 1000 700)
n=$(echo "$r" | cut -d' ' -f1)
span=$(echo "$r" | cut -d' ' -f2)
check "relay: rate limit queues and drops ($n of 20 in $span ms)" \
    eval '[ "$n" -ge 3 ] && [ "$n" -lt 20 ] &&
    [ "$span" -ge $(((n - 1) * 40)) ]'
relay_stop

# Reordering: by jitter, and explicitly.
relay_run -s 3 --jitter 30
r=$("$PYTHON" "$T/udp.py" burst "$RELAY_PORT" 20 100 300)
check "relay: jitter reorders ($r)" \
    eval '[ "${r%% *}" = 20 ] && [ "${r##* }" -gt 0 ]'
relay_stop
relay_run -s 3 --reorder-up 0.3
r=$("$PYTHON" "$T/udp.py" burst "$RELAY_PORT" 20 100 500)
check "relay: --reorder reorders ($r)" \
    eval '[ "${r%% *}" = 20 ] && [ "${r##* }" -gt 0 ]'
relay_stop
relay_run --rate 1000000
r=$("$PYTHON" "$T/udp.py" burst "$RELAY_PORT" 20 100 300)
check "relay: no impairment keeps the order ($r)" \
    [ "$r" != "${r% 0}" ]
relay_stop

# Bounds: more clients than flows (the oldest are evicted), the largest
# datagram, and more packets than the queue holds.
relay_run
r=$("$PYTHON" "$T/udp.py" many "$RELAY_PORT" 80)
check "relay: 80 clients, 64 flows: all answered ($r)" [ "$r" = 160 ]
check "relay: evicted flows counted" [ "$(relay_stat up in)" = 160 ]
r=$("$PYTHON" "$T/udp.py" burst "$RELAY_PORT" 1 65507 1000)
check "relay: a 65507-byte datagram passes ($r)" [ "${r%% *}" = 1 ]
relay_ctl delay up 3000 >/dev/null
"$PYTHON" "$T/udp.py" burst "$RELAY_PORT" 4200 100 1 20 >/dev/null
r=$(relay_stat up full)
check "relay: a full queue drops ($r of $(relay_stat up in) dropped)" \
    [ "${r:-0}" -gt 0 ]
relay_ctl delay 0 >/dev/null
check "relay: the queue drains after the flood" \
    wait_for '[ "$(relay_stat up out)" -ge 4096 ]' 8
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 2 1000)
check "relay: still serving after the flood ($r)" [ "${r%% *}" = 11 ]
relay_stop

# A scheduled outage window, up only.
relay_run --outage-up 0:1500
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 1 200)
check "relay: --outage-up window drops ($r)" \
    eval '[ "${r%% *}" = 0 ] && [ "$(relay_stat up outage)" = 1 ] &&
    [ "$(relay_stat down in)" = 0 ]'
check "relay: traffic passes after the window" \
    wait_for 'r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 1 200);
    [ "${r%% *}" = 1 ]' 4
relay_stop

# Scheduled hop, pidfile, end of life.
relay_run --hop-at 1000 --max-time 3 --pidfile "$T/relay.pidfile"
check "relay: --pidfile" [ "$(cat "$T/relay.pidfile")" = "$RELAY_PID" ]
r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 1 1000)
check "relay: no hop before --hop-at" [ "$(relay_stat up hops)" = 0 ]
check "relay: hop at --hop-at" wait_for '[ "$(relay_stat up hops)" = 1 ]' 3
r2=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 1 1000)
check "relay: --hop-at ($r / $r2)" \
    eval '[ "${r%% *}" = 1 ] && [ "$(echo $r | cut -d" " -f2)" != \
    "$(echo $r2 | cut -d" " -f2)" ]'
check "relay: --max-time ends it" wait_for "! t_alive $RELAY_PID" 5
check "relay: pidfile removed at exit" [ ! -e "$T/relay.pidfile" ]
relay_stop

if "$PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	stop_pid "$(cat "$T/echo.pid")"
	spawn echo "$PYTHON" "$T/udp.py" echo -6
	wait_for "grep -q READY '$T/echo.out'" 5
	ECHO_PORT=$(sed -n 's/^READY //p' "$T/echo.out")
	relay_start -6 -l 0 -t "[::1]:$ECHO_PORT" --loss 0
	r=$("$PYTHON" "$T/udp.py" ping "$RELAY_PORT" 3 1000 -6)
	check "relay: IPv6 ($r)" [ "${r%% *}" = 111 ]
	relay_stop
else
	skip "no IPv6 loopback"
fi
stop_pid "$(cat "$T/echo.pid")"

# ---- (a) Debian's server and client, directly ----

CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
PS="export PS1='e2e> '; exec sh"
if server_start mosh-server "$PS" -v; then
	client_start a 80 24 mosh-client 127.0.0.1 "$SERVER_PORT"
	check "(a) prompt" wait_screen a '^e2e>' 10
	tmux_type a "echo hello-$$"
	tmux_keys a Enter
	check "(a) echo output" wait_screen a "^hello-$$\$" 10
	wait_screen a '^e2e>$' 5
	r=$(tmux_cursor a)
	y=$(tmux_capture a | grep -n '^e2e>$' | tail -n 1 | cut -d: -f1)
	check "(a) cursor after the new prompt ($r)" [ "$r" = "5 $((y - 1))" ]
	tmux_type a "exit"
	tmux_keys a Enter
	check "(a) client exits with the shell" tmux_wait_exit a 10
	check "(a) client exit status 0" [ "$(tmux_status a)" = 0 ]
else
	fail "(a) mosh-server did not start"
fi

# ---- (b)-(d) through the relay ----

if server_start mosh-server "$PS" -v; then
	# Seed 12 loses the 2nd datagram up and the 4th down, early on.
	relay_start -l 0 -t "127.0.0.1:$SERVER_PORT" -s 12 \
	    --delay 150 --loss 0.1
	client_start b 80 24 mosh-client 127.0.0.1 "$RELAY_PORT"
	check "(b) prompt over 300 ms RTT, 10% loss" wait_screen b '^e2e>' 15
	# One key at a time, so that there are enough datagrams to lose.
	for c in e c h o ' ' s l o w - $(echo $$ | sed 's/./& /g'); do
		tmux_type b "$c"
		sleep 0.05
	done
	tmux_keys b Enter
	check "(b) output converges" wait_screen b "^slow-$$\$" 15
	tmux_type b "echo \$((6 * 7))x"
	tmux_keys b Enter
	check "(b) second command" wait_screen b '^42x$' 15
	echo "(b) relay: $(relay_ctl stats)"
	lu=$(relay_stat up loss)
	ld=$(relay_stat down loss)
	check "(b) the relay lost some ($lu up, $ld down)" \
	    eval '[ "$lu" -gt 0 ] && [ "$ld" -gt 0 ]'
	relay_ctl loss 0 >/dev/null
	relay_ctl delay 0 >/dev/null

	# (c) Outage until the bar shows (mosh shows it after ~6.5 s
	# without contact), then restore the link.
	relay_ctl outage on >/dev/null
	check "(c) 'Last contact' bar during the outage" \
	    wait_screen b '^mosh: Last contact [0-9]+ seconds? ago' 15
	relay_ctl outage off >/dev/null
	tmux_type b "echo back-$$"
	tmux_keys b Enter
	check "(c) bar gone after the outage" \
	    wait_gone b 'Last contact' 15
	check "(c) session works after the outage" \
	    wait_screen b "^back-$$\$" 10

	# (d) The relay takes a new source port: the server must follow.
	n1=$(grep -c 'attached to client' "$SERVER_LOG")
	relay_ctl hop >/dev/null
	tmux_type b "echo hop-$$"
	tmux_keys b Enter
	check "(d) session works after a hop" wait_screen b "^hop-$$\$" 10
	check "(d) server log: attached to the new port" \
	    wait_for "[ \$(grep -c 'Server now attached to client' \
	    '$SERVER_LOG') -gt $n1 ]" 5
	p=$(grep 'attached to client' "$SERVER_LOG" | sed 's/.*://' |
	    sort -u | wc -l)
	check "(d) two client ports seen ($p)" [ "$p" -ge 2 ]
	tmux_type b "exit"
	tmux_keys b Enter
	check "(d) client exits" tmux_wait_exit b 10
	relay_stop
else
	fail "(b) mosh-server did not start"
fi

# ---- (e) sshd ----

if sshd_start; then
	r=$($SSH_CMD 127.0.0.1 echo ok 2>"$T/ssh.err" </dev/null)
	check "(e) ssh runs a command through sshd_start's server ($r)" \
	    [ "$r" = ok ]
	# Debian's mosh wrapper bootstraps over it. Its server is not ours to
	# track by PID, so it is told to give up 20 s after losing contact.
	cat >"$T/boot.sh" <<EOF
exec mosh --ssh="$SSH_CMD" --predict=never \\
    --server="env MOSH_SERVER_NETWORK_TMOUT=20 mosh-server" \\
    127.0.0.1 -- env PS1='e2e> ' sh
EOF
	tmux_start e 80 24 "sh $T/boot.sh"
	check "(e) mosh bootstraps over \$SSH_CMD" wait_screen e '^e2e>' 15
	tmux_type e "echo boot-$$"
	tmux_keys e Enter
	check "(e) bootstrapped session works" wait_screen e "^boot-$$\$" 10
	tmux_keys e C-d
	check "(e) mosh exits with status 0" \
	    eval 'tmux_wait_exit e 10 && [ "$(tmux_status e)" = 0 ]'
	sshd_stop
	check "(e) sshd stopped" eval '! t_tcp_listening $SSHD_PORT'
else
	fail "(e) sshd did not start"
fi

# ---- (f) network namespaces ----

ns_setup
ns_rc=$?
[ "$ns_rc" -eq 2 ] && fail "(f) ns_setup"
if [ "$ns_rc" -eq 0 ]; then
	ok "(f) namespaces up"
	SERVER_WRAP="ip netns exec $NS_S"
	SERVER_IP=$NS_S_IP
	if server_start mosh-server "$PS" -v; then
		CLIENT_WRAP="ip netns exec $NS_C"
		client_start f 80 24 mosh-client "$NS_S_IP" "$SERVER_PORT"
		check "(f) prompt across namespaces" wait_screen f '^e2e>' 10
		old=$NS_C_IP
		check "(f) roam moves the client address" ns_roam
		tmux_type f "echo roam-$$"
		tmux_keys f Enter
		check "(f) session works after roaming" \
		    wait_screen f "^roam-$$\$" 10
		check "(f) server attached to $NS_C_IP (was $old)" \
		    wait_for "grep -q 'attached to client at $NS_C_IP:' \
		    '$SERVER_LOG'" 5
		ns_link down
		check "(f) link down: 'Last contact' bar" \
		    wait_screen f 'Last contact' 15
		ns_link up
		check "(f) link up: bar gone" wait_gone f 'Last contact' 15
		tmux_keys f C-d
		check "(f) client exits" tmux_wait_exit f 10
		CLIENT_WRAP=
	else
		fail "(f) mosh-server in a namespace did not start"
	fi
	SERVER_WRAP=
	SERVER_IP=
	# A relay inside a namespace, driven from outside it.
	spawn nsecho ip netns exec "$NS_S" "$PYTHON" "$T/udp.py" echo
	if wait_for "grep -q READY '$T/nsecho.out'" 5; then
		p=$(sed -n 's/^READY //p' "$T/nsecho.out")
		RELAY_WRAP="ip netns exec $NS_S"
		relay_start -l 0 -t "127.0.0.1:$p"
		r=$(ns_exec "$NS_S" "$PYTHON" "$T/udp.py" ping "$RELAY_PORT" \
		    3 1000)
		check "(f) relay in a namespace ($r)" \
		    eval '[ "${r%% *}" = 111 ] &&
		    [ "$(relay_stat up out)" = 3 ]'
		relay_stop
		RELAY_WRAP=
	else
		fail "(f) echo server in a namespace"
	fi
	stop_pid "$(cat "$T/nsecho.pid")"
	ns_a=$NS_C
	ns_cleanup
	check "(f) namespaces removed" \
	    eval '! ip netns list | grep -q "^$ns_a\\b"'
fi

done_tests
