#!/bin/sh
# boot_e2e.sh: the front end (`mosh [options] [user@]host`) against a real
# OpenSSH server on 127.0.0.1 (test/lib.sh's sshd_start), in tmux.
#
#   (a) options alone: upstream's messages and exit 255 for bad ones,
#       --fake-proxy announces "MOSH IP" and copies bytes, --family filters
#   (b) a session with the remote's mosh-server (Debian's here): typed
#       commands work, the client holds no MOSH_KEY, ssh is gone
#   (c) our server: a command's output and exit, --no-init keeps it on the
#       screen, the default (alternate screen) does not
#   (d) -p, --bind-server and --predict through the relay: the server binds
#       the port asked; with replies cut, -a shows typing and -n does not
#   (e) upstream's Perl wrapper with ours as client and server; --local
#   (f) self-install for a user whose PATH has no mosh-server and only sh,
#       cat, mkdir, chmod, mv, rm, uname, wc, ls, id, sha256sum: upload,
#       reuse without upload, a corrupted copy replaced, no checksum tool
#       (sent every time), reuse checked by cksum, a
#       remote mosh-server used unless --install, an architecture no
#       binary of ours runs on (install_e2e.sh: other machines, other
#       directories, BusyBox and Dropbear)
#   (g) errors: unknown host, ssh failure, no MOSH CONNECT, UDP blocked by
#       the relay with --udp-only (else the session goes through ssh:
#       tunnel_e2e.sh): one clear last line, non-zero exit, terminal
#       restored
# Servers started over ssh are not ours to track by PID: they end with
# their session, or after MOSH_SERVER_NETWORK_TMOUT / 60 s without a client.
. test/lib.sh

for b_bin in ssh /usr/sbin/sshd tmux mosh-server mosh-client "$RELAY"; do
	if ! command -v "$b_bin" >/dev/null 2>&1; then
		fail "missing $b_bin (make obj-check/relay; test/deps.sh check)"
		done_tests
	fi
done
[ -x ./mosh ] || { fail "./mosh is not built"; done_tests; }

MOSH=$PWD/mosh
# The front end remembers hosts that needed the self-install under here.
XDG_CACHE_HOME=$T/lcache
export XDG_CACHE_HOME
ME=$(id -un)
OURS="env MOSH_SERVER_NETWORK_TMOUT=20 $MOSH server"
b_user=

b_cleanup()
{
	[ -n "$b_user" ] && userdel -f "$b_user" 2>/dev/null
	b_user=
}
trap 'b_rc=$?; b_cleanup; (exit $b_rc); t_cleanup' EXIT

# fe NAME ARGS...: the front end in tmux (80x24); its stderr goes to
# $T/NAME.fe, the terminal modes after it ended to $T/NAME.stty.
fe()
{
	b_n=$1
	shift
	b_cmd="exec 2>'$T/$b_n.fe'; '$MOSH'"
	for b_a in "$@"; do
		b_cmd="$b_cmd '$(printf '%s' "$b_a" | sed "s/'/'\\\\''/g")'"
	done
	tmux_start "$b_n" 80 24 "$b_cmd; b_s=\$?; stty -a >'$T/$b_n.stty'; (exit \$b_s)"
}

# ended NAME STATUS MSG: the session ended with STATUS ("nz": not 0) and
# left the terminal in cooked mode.
ended()
{
	if ! tmux_wait_exit "$1" 40; then
		fail "$3: did not end"
		return
	fi
	b_st=$(tmux_status "$1")
	case $2 in
	nz) check "$3: exit status non-zero ($b_st)" [ "$b_st" != 0 ] ;;
	*) check "$3: exit status $2 ($b_st)" [ "$b_st" = "$2" ] ;;
	esac
	check "$3: terminal restored" eval \
	    "! grep -Eq '(^| )-(icanon|echo|isig|icrnl|opost)( |;|\$)' '$T/$1.stty'"
}

# fe_pid NAME: the PID of ./mosh among the processes under NAME's pane.
fe_pid()
{
	b_q=$(tm display -p -t "$1" '#{pane_pid}')
	b_i=0
	while [ -n "$b_q" ] && [ $b_i -lt 6 ]; do
		b_next=
		for b_p in $b_q; do
			if [ "$(readlink "/proc/$b_p/exe")" = "$MOSH" ]; then
				echo "$b_p"
				return 0
			fi
			b_next="$b_next $(ps -o pid= --ppid "$b_p")"
		done
		b_q=$b_next
		b_i=$((b_i + 1))
	done
	return 1
}

# last_line FILE: the last non-empty line of FILE.
last_line()
{
	grep -v '^[[:space:]]*$' "$1" | tail -n 1
}

# ---- (a) options alone ----

"$MOSH" --frobnicate host >"$T/o" 2>&1
check "(a) unknown option: exit 255" [ $? -eq 255 ]
check "(a) unknown option: upstream's line" grep -qx 'Unknown option: frobnicate' "$T/o"
"$MOSH" host ls -la >"$T/o" 2>&1
check "(a) options after the host are options (exit 255)" [ $? -eq 255 ]
check "(a) ... named as upstream does" grep -qx 'Unknown option: la' "$T/o"
"$MOSH" --pred=never host >"$T/o" 2>&1
check "(a) an ambiguous prefix names the candidates (exit $?)" grep -qx \
    'Option pred is ambiguous (predict, predict-overwrite)' "$T/o"
"$MOSH" --predict=sometimes host >"$T/o" 2>&1
check "(a) --predict=sometimes: exit 255" [ $? -eq 255 ]
check "(a) --predict=sometimes: upstream's line" \
    grep -q 'Unknown mode "sometimes"\.' "$T/o"
for b_p in 70000 x 0:5 1:70000 5:4; do
	"$MOSH" -p "$b_p" host >"$T/o" 2>&1
	b_rc=$?
	check "(a) -p $b_p: exit 255 ($b_rc), one line" \
	    eval '[ $b_rc -eq 255 ] && [ $(wc -l <"$T/o") -eq 1 ]'
done
check "(a) -p 5:4: upstream's text" grep -q \
    'Server-side port range (5:4): low port greater than high port\.' "$T/o"
"$MOSH" --help >"$T/o" 2>&1
b_rc=$?
check "(a) --help: exit 0 ($b_rc), upstream's usage line" eval \
    '[ $b_rc -eq 0 ] && grep -q "\[options\] \[--\] \[user@\]host \[command...\]" "$T/o"'
"$MOSH" --version >"$T/o" 2>&1
b_rc=$?
check "(a) --version: exit 0 ($b_rc)" [ $b_rc -eq 0 ]
b_closed=$(free_port tcp)
"$MOSH" --fake-proxy -- 127.0.0.1 "$b_closed" </dev/null >"$T/o" 2>&1
check "(a) --fake-proxy to a closed port: exit 255" [ $? -eq 255 ]
check "(a) ... says where it tried" grep -q \
    "Could not connect to 127.0.0.1, last tried 127.0.0.1: Connection refused" "$T/o"

if ! sshd_start; then
	fail "sshd did not start"
	done_tests
fi
SSH="$SSH_CMD"

printf 'SSH-2.0-test\r\n' | timeout 5 "$MOSH" --family=inet --fake-proxy \
    -- 127.0.0.1 "$SSHD_PORT" >"$T/o" 2>"$T/e"
check "(a) --fake-proxy: MOSH IP on stderr" grep -qx 'MOSH IP 127.0.0.1' "$T/e"
check "(a) --fake-proxy: the server's banner on stdout" grep -q '^SSH-2.0-' "$T/o"
timeout 5 "$MOSH" --family=inet6 --fake-proxy -- 127.0.0.1 "$SSHD_PORT" \
    </dev/null >"$T/o" 2>&1
b_rc=$?
check "(a) --family=inet6 does not use an IPv4 address (exit $b_rc)" \
    eval '[ $b_rc -eq 255 ] && ! grep -q "MOSH IP" "$T/o"'

# ---- (b) a session with the remote's own mosh-server ----

fe b --family=inet --ssh="$SSH" "$ME"@127.0.0.1 -- env PS1='b> ' sh
if check "(b) prompt over ssh, Debian's mosh-server" wait_screen b '^b>' 15; then
	tmux_type b 'echo typ""ed-b'
	tmux_keys b Enter
	check "(b) typed command works" wait_screen b '^typed-b$' 10
	b_fe=$(fe_pid b)
	check "(b) the front end ($b_fe) is still running, as the client" \
	    [ -n "$b_fe" ]
	check "(b) no MOSH_KEY in its /proc environment" eval \
	    "! tr '\\0' '\\n' <'/proc/$b_fe/environ' | grep -q '^MOSH_KEY='"
	check "(b) ssh has ended" eval "[ -z \"\$(ps -o pid= --ppid $b_fe)\" ]"
	tmux_type b exit
	tmux_keys b Enter
fi
ended b 0 "(b)"

# The other ways to learn the server's address (protocol.md §11.2).
for b_m in remote local; do
	fe b$b_m --experimental-remote-ip=$b_m --ssh="$SSH" --server="$OURS" \
	    "$ME"@127.0.0.1 -- env PS1="$b_m> " sh
	if check "(b) --experimental-remote-ip=$b_m: prompt" \
	    wait_screen b$b_m "^$b_m>" 15; then
		tmux_type b$b_m exit
		tmux_keys b$b_m Enter
	fi
	ended b$b_m 0 "(b) --experimental-remote-ip=$b_m"
done
check "(b) remote mode says where the address came from" grep -q \
    'Using remote IP address 127.0.0.1 from \$SSH_CONNECTION' "$T/bremote.fe"

# ---- (c) our server, a command, --no-init ----

fe c --no-init --ssh="$SSH" --server="$OURS" "$ME"@127.0.0.1 -- \
    sh -c 'echo hi; exit 3'
ended c 0 "(c) mosh -- sh -c 'echo hi; exit 3'"
check "(c) hi shown, kept by --no-init" wait_screen c '^hi$' 2
fe c2 --ssh="$SSH" --server="$OURS" "$ME"@127.0.0.1 -- sh -c 'echo hi; exit 3'
ended c2 0 "(c) the same with init"
check "(c) with init the output was on the alternate screen" \
    wait_gone c2 '^hi$' 2

# ---- (d) -p, --bind-server, --predict through the relay ----

b_port=$(free_port udp)
if relay_start -l "$b_port" -t "127.0.0.3:$b_port"; then
	for b_m in a n; do
		fe d$b_m -$b_m -p "$b_port" --bind-server=127.0.0.3 \
		    --ssh="$SSH" --server="$OURS" "$ME"@127.0.0.1 -- \
		    env PS1='d> ' sh
		if ! check "(d -$b_m) prompt with -p $b_port" \
		    wait_screen d$b_m '^d>' 15; then
			continue
		fi
		check "(d -$b_m) the server bound 127.0.0.3:$b_port" eval \
		    "ss -Hlun 'sport = :$b_port' | grep -q '127.0.0.3:$b_port'"
		# The server confirms a first guess in this line (upstream
		# shows nothing of an unconfirmed line, whatever the mode).
		tmux_type d$b_m 'echo x'
		wait_screen d$b_m '^d> echo x$' 5
		sleep 1		# the server's echo is in (loopback)
		relay_ctl outage on down >/dev/null
		tmux_type d$b_m 'pr3d'
		if [ $b_m = a ]; then
			check "(d -a) typing shows while replies are cut" \
			    wait_screen da '^d> echo xpr3d' 5
		else
			sleep 1.5
			check "(d -n) typing does not show while replies are cut" \
			    wait_gone dn 'pr3d' 0.1
		fi
		relay_ctl outage off down >/dev/null
		tmux_keys d$b_m Enter
		check "(d -$b_m) the command ran" wait_screen d$b_m '^xpr3d$' 10
		tmux_type d$b_m exit
		tmux_keys d$b_m Enter
		ended d$b_m 0 "(d -$b_m)"
	done
	relay_stop
else
	fail "(d) relay did not start"
fi

# (g) blocked UDP runs in the background while (e) and (f) go on.
b_gport=$(free_port udp)
b_gok=
if relay_start -l "$b_gport" -t "127.0.0.3:$b_gport" --loss 1; then
	b_gok=1
	fe gu --udp-only -p "$b_gport" --bind-server=127.0.0.3 \
	    --ssh="$SSH" --server="$OURS" "$ME"@127.0.0.1
	check "(g) blocked UDP: the bar names the port and the cause" \
	    wait_screen gu "No reply on UDP port $b_gport: a firewall may be blocking UDP 60001-60999" 10
fi

# ---- (e) upstream's Perl wrapper with ours as both halves; --local ----

mkdir -p "$T/bin"
ln -s "$MOSH" "$T/bin/mosh-client"
ln -s "$MOSH" "$T/bin/mosh-server"
tmux_start e 80 24 "mosh --client='$T/bin/mosh-client' \
    --server='env MOSH_SERVER_NETWORK_TMOUT=20 $T/bin/mosh-server' \
    --ssh='$SSH' "$ME"@127.0.0.1 -- env PS1='e> ' sh"
if check "(e) Debian's wrapper runs our client and server" \
    wait_screen e '^e>' 15; then
	tmux_type e 'echo perl-""ok'
	tmux_keys e Enter
	check "(e) typed command works" wait_screen e '^perl-ok$' 10
	tmux_type e exit
	tmux_keys e Enter
	check "(e) exit status 0" eval \
	    'tmux_wait_exit e 10 && [ "$(tmux_status e)" = 0 ]'
fi
fe ec --client=/usr/bin/mosh-client --ssh="$SSH" "$ME"@127.0.0.1 -- \
    env PS1='ec> ' sh
if check "(e) our front end runs Debian's client (--client)" \
    wait_screen ec '^ec>' 15; then
	tmux_type ec 'echo deb-""client'
	tmux_keys ec Enter
	check "(e) --client: typed command works" wait_screen ec '^deb-client$' 10
	tmux_type ec exit
	tmux_keys ec Enter
fi
ended ec 0 "(e) --client"
fe l --local 127.0.0.1 -- env PS1='l> ' sh
if check "(e) --local: prompt without ssh" wait_screen l '^l>' 15; then
	tmux_type l 'echo loc""al'
	tmux_keys l Enter
	check "(e) --local: typed command works" wait_screen l '^local$' 10
	tmux_type l exit
	tmux_keys l Enter
fi
ended l 0 "(e) --local"

# ---- (f) self-install ----

b_user=mosht$$
chmod 711 "$T" "$T/ssh"
chmod 644 "$T/ssh/authorized_keys"
mkdir -p "$T/rbin" "$T/home"
for b_t in sh cat mkdir chmod mv rm uname wc ls id sha256sum; do
	ln -s "$(command -v $b_t)" "$T/rbin/$b_t"
done
cat >"$T/shell" <<EOF
#!/bin/sh
PATH=$T/rbin
MOSH_SERVER_NETWORK_TMOUT=20
export PATH MOSH_SERVER_NETWORK_TMOUT
exec /bin/sh "\$@"
EOF
chmod 755 "$T/shell" "$T/rbin"
if [ "$(id -u)" -ne 0 ]; then
	skip "(f) self-install needs root to add a test user"
	b_user=
elif ! useradd -p '*' -M -d "$T/home" -s "$T/shell" "$b_user"; then
	fail "(f) useradd failed"
	b_user=
fi
if [ -n "$b_user" ]; then
	chown "$b_user" "$T/home"
	b_cache=$T/home/.cache/mosh
	b_r=$($SSH "$b_user@127.0.0.1" 'command -v mosh-server' </dev/null)
	check "(f) the test user has no mosh-server ($b_r)" [ -z "$b_r" ]

	# f1: first connection uploads.
	fe f1 -v --ssh="$SSH" "$b_user@127.0.0.1" -- sh
	if check "(f1) session after self-install" wait_screen f1 '^\$' 15; then
		tmux_type f1 'echo inst""alled'
		tmux_keys f1 Enter
		check "(f1) typed command works" wait_screen f1 '^installed$' 10
		tmux_type f1 exit
		tmux_keys f1 Enter
	fi
	ended f1 0 "(f1)"
	check "(f1) the binary was uploaded" grep -q 'uploading' "$T/f1.fe"
	check "(f1) ... and the user is told" grep -q \
	    "copying mosh-.* to the server's $T/home/.cache/mosh" "$T/f1.fe"
	check "(f1) after a first ssh run found no mosh-server" grep -q \
	    'no mosh-server on the server: installing' "$T/f1.fe"
	check "(f1) the host is remembered" \
	    grep -qx "$b_user@127.0.0.1" "$T/lcache/mosh/install-hosts"
	b_file=$(ls "$b_cache"/mosh-* 2>/dev/null | head -n 1)
	check "(f1) cached as mosh-<version>-<hash> ($b_file)" \
	    eval 'case ${b_file##*/} in mosh-*-????????????????) true ;; *) false ;; esac'
	check "(f1) the cached copy is this binary" cmp -s "$MOSH" "$b_file"
	check "(f1) mode 700" eval "[ \"\$(stat -c %a '$b_file')\" = 700 ]"
	check "(f1) no temporary file left" eval \
	    "[ -z \"\$(ls -A '$b_cache' | grep -v '^mosh-')\" ]"
	b_ino=$(stat -c %i "$b_file")

	# f2: the second reuses it.
	fe f2 -v --ssh="$SSH" "$b_user@127.0.0.1" -- sh
	if check "(f2) second session" wait_screen f2 '^\$' 15; then
		tmux_type f2 exit
		tmux_keys f2 Enter
	fi
	ended f2 0 "(f2)"
	check "(f2) no upload" eval "! grep -q uploading '$T/f2.fe'"
	check "(f2) one ssh run" eval \
	    "[ \$(grep -c 'ssh ended with status' '$T/f2.fe') -eq 1 ]"
	check "(f2) the cached copy was checked" \
	    grep -q 'the server has a copy (checked with sha256sum)' "$T/f2.fe"
	check "(f2) the same file (inode)" [ "$(stat -c %i "$b_file")" = "$b_ino" ]

	# f3: a corrupted copy is replaced.
	printf 'corrupt' | dd of="$b_file" bs=1 seek=1000 conv=notrunc 2>/dev/null
	fe f3 -v --ssh="$SSH" "$b_user@127.0.0.1" -- sh
	if check "(f3) session after replacing a bad copy" wait_screen f3 '^\$' 15; then
		tmux_type f3 exit
		tmux_keys f3 Enter
	fi
	ended f3 0 "(f3)"
	check "(f3) uploaded again" grep -q 'uploading' "$T/f3.fe"
	check "(f3) the copy is good again" cmp -s "$MOSH" "$b_file"

	# f4: no checksum tool: the copy is sent again, and -v says so.
	rm -f "$T/rbin/sha256sum" "$b_file"
	fe f4 -v --ssh="$SSH" "$b_user@127.0.0.1" -- sh
	if check "(f4) session with size-only checking" wait_screen f4 '^\$' 15; then
		tmux_type f4 exit
		tmux_keys f4 Enter
	fi
	ended f4 0 "(f4)"
	check "(f4) -v says the copy is sent every time" \
	    grep -q 'the copy is sent every time' "$T/f4.fe"
	check "(f4) the copy is good" cmp -s "$MOSH" "$b_file"
	# With POSIX cksum, the copy is reused (f7 below).
	ln -s "$(command -v cksum)" "$T/rbin/cksum"

	# f6: with a mosh-server on its PATH, a host not remembered (the
	# same server as "localhost") gets upstream's command line; f7:
	# --install runs our copy there all the same.
	ln -s /usr/bin/mosh-server "$T/rbin/mosh-server"
	fe f6 -v --ssh="$SSH" "$b_user@localhost" -- sh
	if check "(f6) session with the remote's mosh-server" \
	    wait_screen f6 '^\$' 15; then
		tmux_type f6 exit
		tmux_keys f6 Enter
	fi
	ended f6 0 "(f6)"
	check "(f6) no install" eval "! grep -q 'install' '$T/f6.fe'"
	check "(f6) upstream's command line" grep -q \
	    "\[mosh-server 'new' '-c' '[0-9]*' '-s' '-l'" "$T/f6.fe"
	fe f7 -v --install --ssh="$SSH" "$b_user@localhost" -- sh
	if check "(f7) --install: session" wait_screen f7 '^\$' 15; then
		tmux_type f7 exit
		tmux_keys f7 Enter
	fi
	ended f7 0 "(f7)"
	check "(f7) --install ran our cached copy, checked by cksum" \
	    grep -q 'the server has a copy (checked with cksum)' "$T/f7.fe"
	rm -f "$T/rbin/mosh-server"

	# f5: a remote that cannot run this binary.
	rm -f "$T/rbin/uname"
	printf '#!/bin/sh\necho Linux armv6l\n' >"$T/rbin/uname"
	chmod 755 "$T/rbin/uname"
	"$MOSH" --ssh="$SSH" "$b_user@127.0.0.1" </dev/null >"$T/o" 2>&1
	check "(f5) another architecture: exit 255" [ $? -eq 255 ]
	check "(f5) ... said clearly" eval "last_line '$T/o' | grep -q \
	    'the server runs Linux armv6l, for which there is no mosh binary'"
fi

# ---- (g) errors ----

fe g1 --ssh="$SSH" "$ME"@host.invalid
ended g1 255 "(g) unknown host"
check "(g) unknown host: the resolver's message (on stdout, as upstream)" \
    eval "tm capture-pane -p -J -S -100 -t g1 | \
    grep -q 'Could not resolve hostname host.invalid'"
check "(g) unknown host: a clear last line" eval \
    "last_line '$T/g1.fe' | grep -q 'ssh could not connect to "$ME"@host.invalid'"
fe g2 --ssh="$SSH" nosuchuser@127.0.0.1
ended g2 255 "(g) ssh failure"
check "(g) ssh failure: a clear last line" eval \
    "last_line '$T/g2.fe' | grep -q 'ssh could not connect to nosuchuser@127.0.0.1'"
fe g3 --ssh="$SSH" --server='echo not-mosh; true' "$ME"@127.0.0.1
ended g3 255 "(g) no MOSH CONNECT"
check "(g) no MOSH CONNECT: upstream's line" eval "last_line '$T/g3.fe' | \
    grep -q 'Did not find mosh server startup message'"
if [ -n "$b_gok" ]; then
	ended gu nz "(g) blocked UDP"
	check "(g) blocked UDP: the client names the address" grep -q \
	    "mosh did not make a successful connection to 127.0.0.1:$b_gport" \
	    "$T/gu.fe"
	relay_stop
else
	fail "(g) relay did not start"
fi

done_tests
