#!/bin/sh
# install_e2e.sh: the self-install to hosts unlike this one, through a real
# OpenSSH server (test/lib.sh's sshd_start) and Dropbear's, in tmux.
#
#   (a) another machine: the test user's uname says Linux aarch64 and
#       MOSH_INSTALL_EMULATOR runs the copy through qemu-aarch64-static;
#       the first connection sends mosh-linux-aarch64 (found in
#       $XDG_DATA_HOME/mosh) and the session works, the second reuses it
#   (b) ~/.cache a noexec tmpfs, then a read-only one: the next directory
#       is used, -v says why the first was refused, the session works
#   (c) a login shell that is BusyBox ash with only BusyBox applets on the
#       PATH, reached through Dropbear: self-install and a session
#   (d) errors, each one clear last line and exit 255: no binary for the
#       remote's machine (naming every place looked), --install=FILE for
#       the wrong machine, no usable directory
# Needs root (test users, mounts). Servers started over ssh end with their
# session, or after MOSH_SERVER_NETWORK_TMOUT without a client.
. test/lib.sh

QEMU=/usr/bin/qemu-aarch64-static
AARCH=$PWD/dist/mosh-linux-aarch64
for i_bin in ssh /usr/sbin/sshd tmux busybox dropbear dropbearkey "$QEMU"; do
	if ! command -v "$i_bin" >/dev/null 2>&1; then
		fail "missing $i_bin (test/deps.sh check)"
		done_tests
	fi
done
[ -x ./mosh ] || { fail "./mosh is not built"; done_tests; }
[ -f "$AARCH" ] || { fail "$AARCH is not built (make $AARCH)"; done_tests; }
if [ "$(id -u)" -ne 0 ]; then
	skip "install_e2e needs root (test users, mounts)"
	done_tests
fi

MOSH=$PWD/mosh
XDG_CACHE_HOME=$T/lcache
XDG_DATA_HOME=$T/ldata
export XDG_CACHE_HOME XDG_DATA_HOME
i_user=
i_user2=
i_uid=
i_shells=

i_cleanup()
{
	mountpoint -q "$T/home/.cache" 2>/dev/null && umount "$T/home/.cache"
	[ -n "$i_uid" ] && rm -rf "/dev/shm/mosh-$i_uid"
	[ -n "$i_shells" ] && sed -i "\\|^$T/bbshell\$|d" /etc/shells
	[ -n "$i_user" ] && userdel -f "$i_user" 2>/dev/null
	[ -n "$i_user2" ] && userdel -f "$i_user2" 2>/dev/null
	i_user=
	i_user2=
}
trap 'i_rc=$?; i_cleanup; (exit $i_rc); t_cleanup' EXIT

if ! sshd_start; then
	fail "sshd did not start"
	done_tests
fi
SSH="$SSH_CMD"

# fe NAME ARGS...: the front end in tmux (80x24), stderr in $T/NAME.fe.
fe()
{
	i_n=$1
	shift
	i_cmd="exec 2>'$T/$i_n.fe'; '$MOSH'"
	for i_a in "$@"; do
		i_cmd="$i_cmd '$i_a'"
	done
	tmux_start "$i_n" 80 24 "$i_cmd"
}

# last_line FILE: the last non-empty line of FILE.
last_line()
{
	grep -v '^[[:space:]]*$' "$1" | tail -n 1
}

# session NAME MSG WORD: a prompt, a typed command's output, exit.
session()
{
	if check "$2: prompt" wait_screen "$1" '^ie>' 40; then
		tmux_type "$1" "echo $3""ok"
		tmux_keys "$1" Enter
		check "$2: typed command works" wait_screen "$1" "^$3ok\$" 20
		tmux_type "$1" exit
		tmux_keys "$1" Enter
	fi
	if tmux_wait_exit "$1" 40; then
		check "$2: exit status 0" [ "$(tmux_status "$1")" = 0 ]
	else
		fail "$2: did not end"
	fi
}

# The OpenSSH test user: PATH has only what the script needs, and a fake
# uname; $T/renv is read by its login shell (the remote's environment).
i_user=moshi$$
chmod 711 "$T" "$T/ssh"
chmod 644 "$T/ssh/authorized_keys"
mkdir -p "$T/rbin" "$T/home" "$T/tmp" "$T/ldata/mosh" "$T/empty"
for i_t in sh cat mkdir chmod mv rm wc ls id sha256sum od env; do
	ln -s "$(command -v $i_t)" "$T/rbin/$i_t"
done
printf '#!/bin/sh\necho Linux aarch64\n' >"$T/rbin/uname"
cat >"$T/shell" <<EOF
#!/bin/sh
PATH=$T/rbin
MOSH_SERVER_NETWORK_TMOUT=20
TMPDIR=$T/tmp
export PATH MOSH_SERVER_NETWORK_TMOUT TMPDIR
[ -f $T/renv ] && . $T/renv
exec /bin/sh "\$@"
EOF
chmod 755 "$T/shell" "$T/rbin" "$T/rbin/uname"
if ! useradd -p '*' -M -d "$T/home" -s "$T/shell" "$i_user"; then
	fail "useradd failed"
	i_user=
	done_tests
fi
i_uid=$(id -u "$i_user")
chown "$i_user" "$T/home" "$T/tmp"
cp "$AARCH" "$T/ldata/mosh/"
(cd "$T/ldata/mosh" && sha256sum mosh-linux-aarch64 >SHA256SUMS)

# ---- (a) another machine ----

echo "MOSH_INSTALL_EMULATOR=$QEMU; export MOSH_INSTALL_EMULATOR" >"$T/renv"
fe a1 -v --ssh="$SSH" "$i_user@127.0.0.1" -- env PS1='ie> ' sh
session a1 "(a1) aarch64 host" aarch
check "(a1) sent mosh-linux-aarch64" \
    grep -q "uploading $T/ldata/mosh/mosh-linux-aarch64" "$T/a1.fe"
i_file=$(ls "$T/home/.cache/mosh"/mosh-* 2>/dev/null | head -n 1)
check "(a1) the cached copy is the aarch64 binary" cmp -s "$AARCH" "$i_file"
fe a2 -v --ssh="$SSH" "$i_user@127.0.0.1" -- env PS1='ie> ' sh
session a2 "(a2) aarch64 again" again
check "(a2) no upload" eval "! grep -q uploading '$T/a2.fe'"
check "(a2) the copy was reused" \
    grep -q 'the server has a copy (checked with sha256sum)' "$T/a2.fe"
: >"$T/renv"
rm -f "$T/rbin/uname"
ln -s "$(command -v uname)" "$T/rbin/uname"

# ---- (b) ~/.cache noexec, then read-only ----

if mount -t tmpfs -o "noexec,mode=0700,uid=$i_uid" tmpfs "$T/home/.cache"
then
	fe b1 -v --ssh="$SSH" "$i_user@127.0.0.1" -- env PS1='ie> ' sh
	session b1 "(b1) noexec ~/.cache" noexec
	check "(b1) -v: ~/.cache/mosh refused, cannot run there" grep -q \
	    "refused on the server: $T/home/.cache/mosh: cannot run" "$T/b1.fe"
	check "(b1) -v: the next directory used" grep -q \
	    "running the copy in /dev/shm/mosh-$i_uid on the server" "$T/b1.fe"
	umount "$T/home/.cache"
else
	fail "(b1) cannot mount a tmpfs"
fi
rm -rf "/dev/shm/mosh-$i_uid"
if mount -t tmpfs -o "ro,mode=0700,uid=$i_uid" tmpfs "$T/home/.cache"; then
	fe b2 -v --ssh="$SSH" "$i_user@127.0.0.1" -- env PS1='ie> ' sh
	session b2 "(b2) read-only ~/.cache" readonly
	check "(b2) -v: ~/.cache/mosh cannot be created" grep -q \
	    "refused on the server: $T/home/.cache/mosh: cannot be created" \
	    "$T/b2.fe"
	check "(b2) the copy in /dev/shm/mosh-$i_uid" \
	    cmp -s "$MOSH" "$(ls /dev/shm/mosh-$i_uid/mosh-* | head -n 1)"
	umount "$T/home/.cache"
else
	fail "(b2) cannot mount a tmpfs"
fi

# ---- (c) BusyBox ash only, through Dropbear ----

i_user2=moshb$$
mkdir -p "$T/bb" "$T/home2/.ssh"
busybox --install -s "$T/bb"
cat >"$T/bbshell" <<EOF
#!/bin/busybox ash
PATH=$T/bb
MOSH_SERVER_NETWORK_TMOUT=20
export PATH MOSH_SERVER_NETWORK_TMOUT
exec /bin/busybox ash "\$@"
EOF
chmod 755 "$T/bbshell" "$T/bb"
echo "$T/bbshell" >>/etc/shells
i_shells=1
if useradd -p '*' -M -d "$T/home2" -s "$T/bbshell" "$i_user2"; then
	cp "$T/ssh/authorized_keys" "$T/home2/.ssh/authorized_keys"
	chmod 700 "$T/home2" "$T/home2/.ssh"
	chmod 600 "$T/home2/.ssh/authorized_keys"
	chown -R "$i_user2" "$T/home2"
	dropbearkey -t ed25519 -f "$T/db_host" >/dev/null 2>&1
	i_port=$(free_port tcp)
	spawn dropbear dropbear -F -E -s -p "127.0.0.1:$i_port" \
	    -r "$T/db_host" -P "$T/db.pid"
	if wait_for "t_tcp_listening $i_port" 5; then
		i_db="ssh -F /dev/null -p $i_port -i $SSH_KEY"
		i_db="$i_db -o StrictHostKeyChecking=no"
		i_db="$i_db -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
		i_db="$i_db -o LogLevel=ERROR"
		i_r=$($i_db "$i_user2@127.0.0.1" 'readlink $(command -v sh)' \
		    </dev/null)
		check "(c) the remote's sh is BusyBox ($i_r)" \
		    eval "case '$i_r' in */busybox) true;; *) false;; esac"
		fe c1 -v --ssh="$i_db" "$i_user2@127.0.0.1" -- \
		    env PS1='ie> ' sh
		session c1 "(c1) BusyBox through Dropbear" busybox
		check "(c1) uploaded" grep -q uploading "$T/c1.fe"
		check "(c1) the copy is this binary" cmp -s "$MOSH" \
		    "$(ls "$T/home2/.cache/mosh"/mosh-* | head -n 1)"
		fe c2 -v --ssh="$i_db" "$i_user2@127.0.0.1" -- \
		    env PS1='ie> ' sh
		session c2 "(c2) BusyBox again" bbagain
		check "(c2) reused, checked by BusyBox's sha256sum" grep -q \
		    'the server has a copy (checked with sha256sum)' "$T/c2.fe"
		stop_pid "$BG_PID"
	else
		fail "(c) dropbear did not start: $(cat "$T/dropbear.err")"
	fi
else
	fail "(c) useradd failed"
	i_user2=
fi

# ---- (d) errors ----

printf '#!/bin/sh\necho Linux armv7l\n' >"$T/rbin/uname.new"
chmod 755 "$T/rbin/uname.new"
rm -f "$T/rbin/uname"
mv "$T/rbin/uname.new" "$T/rbin/uname"
XDG_DATA_HOME=$T/empty "$MOSH" --ssh="$SSH" "$i_user@127.0.0.1" \
    </dev/null >"$T/d1" 2>&1
check "(d1) no binary for armv7l: exit 255" [ $? -eq 255 ]
check "(d1) ... names the system and every place looked" eval "last_line \
    '$T/d1' | grep 'the server runs Linux armv7l, and no mosh-linux-armv7' | \
    grep '$PWD/mosh-linux-armv7' | grep '$T/empty/mosh/mosh-linux-armv7' | \
    grep -q '/lib/mosh/mosh-linux-armv7'"

printf '#!/bin/sh\necho Linux aarch64\n' >"$T/rbin/uname"
"$MOSH" --install="$MOSH" --ssh="$SSH" "$i_user@127.0.0.1" </dev/null \
    >"$T/d2" 2>&1
check "(d2) --install=FILE for another machine: exit 255" [ $? -eq 255 ]
check "(d2) ... said clearly" eval "last_line '$T/d2' | grep -q \
    -- '--install=$MOSH: an ELF file for another machine'"

rm -f "$T/rbin/uname"
ln -s "$(command -v uname)" "$T/rbin/uname"
rm -rf "$T/home/.cache" "/dev/shm/mosh-$i_uid"
: >"$T/home/.cache"
ln -s "$T/tmp" "/dev/shm/mosh-$i_uid"
mkdir -p "$T/tmp/mosh-$i_uid"
"$MOSH" --ssh="$SSH" "$i_user@127.0.0.1" </dev/null >"$T/d3" 2>&1
check "(d3) no usable directory: exit 255" [ $? -eq 255 ]
check "(d3) ... one line naming each directory tried" eval "last_line \
    '$T/d3' | grep 'no usable directory' | \
    grep '$T/home/.cache/mosh (cannot be created)' | \
    grep '/dev/shm/mosh-$i_uid (a symbolic link)' | \
    grep -q '$T/tmp/mosh-$i_uid (not a directory of this user'"
rm -f "/dev/shm/mosh-$i_uid"

done_tests
