# faults_lib.sh: helpers for faults_e2e.sh and faults_long.sh, sourced
# after test/lib.sh from the repository root.
#
# A session runs obj-check/recorder instead of a shell: it records every
# byte the pty delivers to $FL_REC and draws a screen that depends only on
# those bytes. The test types seeded keys with tmux (printable ASCII,
# UTF-8, control characters, arrows) and appends the bytes the recorder
# must read to $FL_EXP; arrows are typed while the client has put the pane
# in application cursor-key mode (ESC O A) and the server translates them
# back to ESC [ A, since the recorder never sets DECCKM (terminal.md §10).
#
#   fl_session NAME PAIRING   start server (with the recorder), relay at
#                          300 ms RTT (150 ms each way) and client NAME
#                          (80x24) in tmux; PAIRING is ours, ours-deb
#                          (our server, Debian's client) or deb-ours;
#                          FL_DIRECT=1: no relay (namespaces)
#   fl_type SEED N         type N seeded keys, in small paced bursts
#   fl_loss, fl_paste, fl_reorder, fl_outage, fl_stop, fl_hop, fl_roam:
#                          one fault each (see their comments)
#   fl_check MSG SEC       the record equals what was typed (exactly once,
#                          in order) and the client's screen shows what the
#                          recorder drew, within SEC seconds; prints the time
#   fl_end                 stop the client, relay and server of the session
#   fl_client_pid          the PID of the client process in pane $FL_NAME

FL_RECORDER=${FL_RECORDER:-$PWD/obj-check/recorder}
FL_N=0

cat >"$T/typer.py" <<'EOF'
# typer.py SOCKET TARGET SEED N EXPFILE: type N seeded keys into the tmux
# pane, a few per send-keys, and append the bytes each produces to EXPFILE.
import random, subprocess, sys, time
sock, target, seed, n, exp = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
rng = random.Random(seed)
# No ';' (a tmux separator at the end of an argument), quotes or backslash.
PRINT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" \
    " !#$%&()*+,-./:<=>?@[]^_{|}~"
UTF8 = ["\u00e9", "\u20ac", "\u0436", "\u65e5", "\U0001f600", "\u00df"]
CTRL = {"C-a": b"\x01", "C-b": b"\x02", "C-e": b"\x05", "C-k": b"\x0b",
        "C-u": b"\x15", "C-c": b"\x03", "C-d": b"\x04", "C-z": b"\x1a",
        "Tab": b"\t", "Enter": b"\r", "BSpace": b"\x7f"}
ARROW = {"Up": b"\x1b[A", "Down": b"\x1b[B", "Right": b"\x1b[C",
         "Left": b"\x1b[D"}
keys = []
if len(sys.argv) > 6 and sys.argv[6] == "paste":
    # one long literal string, as a paste: n characters
    s = "".join(rng.choice(PRINT) if rng.random() < 0.9 else rng.choice(UTF8)
                for j in range(n))
    keys.append(("-l", s, s.encode()))
    n = 0
for i in range(n):
    r = rng.random()
    if r < 0.5:
        s = "".join(rng.choice(PRINT) for j in range(rng.randint(1, 6)))
        keys.append(("-l", s, s.encode()))
    elif r < 0.65:
        s = rng.choice(UTF8)
        keys.append(("-l", s, s.encode()))
    elif r < 0.85:
        k = rng.choice(sorted(CTRL))
        keys.append(("k", k, CTRL[k]))
    else:
        k = rng.choice(sorted(ARROW))
        keys.append(("k", k, ARROW[k]))
i = 0
with open(exp, "ab") as f:
    while i < len(keys):
        burst = keys[i:i + (rng.randint(1, 5) if n else 1)]
        i += len(burst)
        cmd = ["tmux", "-L", sock, "-f", "/dev/null"]
        for kind, s, b in burst:
            if cmd[-1] != "/dev/null":
                cmd.append(";")
            if kind == "-l":
                cmd += ["send-keys", "-t", target, "-l", "--", s]
            else:
                cmd += ["send-keys", "-t", target, s]
        if subprocess.call(cmd) != 0:
            sys.exit(1)
        for kind, s, b in burst:
            f.write(b)
        f.flush()
        time.sleep(rng.uniform(0.01, 0.08))
EOF

fl_session()
{
	FL_NAME=$1
	FL_PAIR=$2
	FL_N=$((FL_N + 1))
	FL_REC=$T/rec$FL_N
	FL_EXP=$T/exp$FL_N
	: >"$FL_EXP"
	: >"$FL_REC"
	case $FL_PAIR in
	ours) fl_srv="./mosh server" fl_cli="./mosh client" ;;
	ours-deb) fl_srv="./mosh server" fl_cli=mosh-client ;;
	deb-ours) fl_srv=mosh-server fl_cli="./mosh client" ;;
	deb) fl_srv=mosh-server fl_cli=mosh-client ;;
	esac
	CLIENT_ENV=MOSH_PREDICTION_DISPLAY=never
	RELAY_PID=
	if ! server_start "$fl_srv" "exec '$FL_RECORDER' '$FL_REC'" -v; then
		return 1
	fi
	FL_SERVER_PID=$SERVER_PID
	if [ -n "${FL_DIRECT:-}" ]; then
		client_start "$FL_NAME" 80 24 "$fl_cli" "${SERVER_IP:-127.0.0.1}" \
		    "$SERVER_PORT" || return 1
	else
		relay_start -l 0 -t "127.0.0.1:$SERVER_PORT" \
		    -s "${FL_SEED:-1}" --delay 150 ${FL_RELAY_ARGS:-} || return 1
		client_start "$FL_NAME" 80 24 "$fl_cli" 127.0.0.1 \
		    "$RELAY_PORT" || return 1
	fi
	fl_render
	wait_text "$FL_NAME" "$T/scr$FL_N" 15
}

# The expected screen; capture-pane drops trailing blanks.
fl_render()
{
	"$FL_RECORDER" --render "$FL_EXP" | sed 's/ *$//' >"$T/scr$FL_N"
}

fl_type()
{
	"$PYTHON" "$T/typer.py" "$TMUX_NAME" "$FL_NAME" "$1" "$2" "$FL_EXP"
}

# 0: the record is the expected bytes; 1: a prefix so far; 2: wrong.
# The record grows while it is read: judge one snapshot of it.
fl_rec_state()
{
	cp "$FL_REC" "$T/rec.snap"
	if cmp -s "$T/rec.snap" "$FL_EXP"; then
		return 0
	fi
	fl_rn=$(wc -c <"$T/rec.snap")
	fl_en=$(wc -c <"$FL_EXP")
	if [ "$fl_rn" -lt "$fl_en" ] &&
	    head -c "$fl_rn" "$FL_EXP" | cmp -s - "$T/rec.snap"; then
		return 1
	fi
	return 2
}

fl_rec_done()
{
	fl_rec_state
	fl_rs=$?
	[ "$fl_rs" -ne 1 ]
}

fl_check()
{
	fl_msg=$1
	fl_t0=$(now_ms)
	wait_for fl_rec_done "$2"
	fl_rec_state
	fl_rs=$?
	fl_t1=$(now_ms)
	if [ "$fl_rs" -ne 0 ]; then
		fail "$fl_msg: record ($(wc -c <"$FL_REC") bytes) is not" \
		    "the $(wc -c <"$FL_EXP") typed bytes ($([ "$fl_rs" = 1 ] &&
		    echo 'missing some' || echo 'wrong, duplicated or out of order'))"
		cmp "$FL_REC" "$FL_EXP" >&2
		od -An -tx1 "$FL_EXP" | tail -n 3 >&2
		od -An -tx1 "$FL_REC" | tail -n 3 >&2
		return 1
	fi
	fl_render
	fl_left=$(($(t_sec_ms "$2") - (fl_t1 - fl_t0)))
	[ "$fl_left" -lt 2000 ] && fl_left=2000
	if ! wait_text "$FL_NAME" "$T/scr$FL_N" \
	    "$((fl_left / 1000)).$(printf '%03d' $((fl_left % 1000)))"; then
		fail "$fl_msg: record ok ($(wc -c <"$FL_EXP") bytes) but the" \
		    "screen did not converge"
		return 1
	fi
	fl_t2=$(now_ms)
	ok "$fl_msg: $(wc -c <"$FL_EXP") bytes exactly once, record in" \
	    "$((fl_t1 - fl_t0)) ms, screen in $((fl_t2 - fl_t0)) ms"
}

fl_client_pid()
{
	pane_child "$FL_NAME" 'comm == "mosh" || comm == "mosh-client"'
}

fl_end()
{
	tm kill-session -t "$FL_NAME" 2>/dev/null
	relay_stop
	[ -n "${FL_SERVER_PID:-}" ] && stop_pid "$FL_SERVER_PID"
	FL_SERVER_PID=
	return 0
}

# ---- phases: each types, impairs, heals and checks ----

# fl_loss LABEL P SEED: loss P each way (relay reseeded through a fresh
# session by the caller); type, check under loss, heal, check again.
fl_loss()
{
	relay_ctl loss "$2" >/dev/null
	fl_type "$3" 60
	fl_check "$1: loss $2 each way, seed $3" 90
	relay_ctl loss 0 >/dev/null
	fl_type "$(($3 + 1000))" 10
	fl_check "$1: healed after loss $2" 10
}

fl_reorder()
{
	relay_ctl jitter 60 >/dev/null
	relay_ctl reorder 0.3 >/dev/null
	relay_ctl dup 0.3 >/dev/null
	fl_type "$2" 60
	fl_check "$1: reorder 0.3, dup 0.3, jitter 60 ms" 30
	fl_d=$(relay_stat up dup)
	fl_r=$(relay_stat up reord)
	check "$1: the relay duplicated ($fl_d) and reordered ($fl_r)" \
	    eval '[ "${fl_d:-0}" -gt 0 ] && [ "${fl_r:-0}" -gt 0 ]'
	relay_ctl jitter 0 >/dev/null
	relay_ctl reorder 0 >/dev/null
	relay_ctl dup 0 >/dev/null
}

# fl_paste LABEL LOSS SEED: a paste of 3000 characters under LOSS.
fl_paste()
{
	relay_ctl loss "$2" >/dev/null
	"$PYTHON" "$T/typer.py" "$TMUX_NAME" "$FL_NAME" "$3" 3000 "$FL_EXP" \
	    paste
	fl_check "$1: a 3000-character paste at loss $2" 60
	relay_ctl loss 0 >/dev/null
}

# fl_outage LABEL SEC SEED: a total outage of SEC seconds while typing.
fl_outage()
{
	relay_ctl outage on >/dev/null
	fl_n0=$(wc -c <"$FL_REC")
	fl_type "$3" 30
	sleep "$2"
	check "$1: nothing recorded during the outage" \
	    eval '[ "$(wc -c <"$FL_REC")" -eq "$fl_n0" ]'
	relay_ctl outage off >/dev/null
	fl_check "$1: after a $2 s outage" 8
}

# fl_stop LABEL SEC SEED: the client stopped for SEC seconds while typing.
fl_stop()
{
	fl_cp=$(fl_client_pid)
	if [ -z "$fl_cp" ]; then
		fail "$1: no client process found"
		return 1
	fi
	kill -STOP "$fl_cp"
	fl_type "$3" 30
	sleep "$2"
	kill -CONT "$fl_cp"
	fl_check "$1: client stopped (SIGSTOP) for $2 s" 8
}

# fl_hop LABEL SEED: the client's source port changes, several times,
# while typing.
fl_hop()
{
	fl_h0=$(relay_stat up hops)
	for fl_i in 1 2 3; do
		fl_type "$(($2 + fl_i))" 15
		relay_ctl hop >/dev/null
	done
	fl_type "$(($2 + 10))" 15
	fl_check "$1: source port changed 3 times" 15
	fl_h1=$(relay_stat up hops)
	check "$1: relay hopped ($fl_h0 -> $fl_h1)" \
	    [ "$((${fl_h1:-0} - ${fl_h0:-0}))" -eq 3 ]
}

# fl_roam PAIRING: server and client in two namespaces, the client's
# address changes twice while typing. Needs root and ip netns.
fl_roam()
{
	ns_setup
	fl_nsrc=$?
	if [ "$fl_nsrc" -eq 2 ]; then
		fail "roam $1: ns_setup"
		return 1
	fi
	[ "$fl_nsrc" -eq 0 ] || return 0
	SERVER_WRAP="ip netns exec $NS_S"
	SERVER_IP=$NS_S_IP
	CLIENT_WRAP="ip netns exec $NS_C"
	FL_DIRECT=1
	if fl_session r "$1"; then
		fl_type 41 20
		fl_check "roam $1: before roaming" 15
		for fl_i in 1 2; do
			fl_old=$NS_C_IP
			ns_roam
			fl_type "$((41 + fl_i))" 20
			fl_check "roam $1: client address $fl_old -> $NS_C_IP" 20
			check "roam $1: server attached to $NS_C_IP" \
			    wait_for "grep -q '$NS_C_IP' '$SERVER_LOG'" 5
		done
	else
		fail "roam $1: session did not start"
	fi
	fl_end
	SERVER_WRAP=
	SERVER_IP=
	CLIENT_WRAP=
	FL_DIRECT=
	ns_cleanup
}
