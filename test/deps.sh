#!/bin/sh
# deps.sh build|dist|check: make sure the Debian packages that building
# mosh, building the release binaries for every architecture (make dist), or
# building and testing (make check, which tests those binaries too) needs are
# installed. As root it installs the missing ones with apt-get (one update,
# one install), first adding the foreign architectures whose musl-dev it
# needs and, for dist and check, a deb-src line (the targets without a musl
# package are built from source packages); otherwise it prints the exact
# commands to run. deps.sh list MODE prints MODE's packages.
set -u
build="make gcc libc6-dev musl-tools libbearssl-dev zlib1g-dev"
# The multiarch musl-dev packages bring the compiler wrappers
# (aarch64-linux-musl-gcc, ...); riscv64 and big-endian mips have none.
dist="$build dpkg-dev gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf \
gcc-i686-linux-gnu gcc-mipsel-linux-gnu gcc-mips-linux-gnu \
gcc-riscv64-linux-gnu musl-dev:arm64 musl-dev:armhf musl-dev:i386 \
musl-dev:mipsel"
check="$dist libssl-dev clang libclang-rt-14-dev python3 mosh tmux \
openssh-server openssh-client iproute2 iptables procps less vim-tiny valgrind \
qemu-user-static file busybox dropbear-bin"
list=
[ "${1:-}" = list ] && { list=1; shift; }
case "${1:-build}" in
build) want=$build ;;
dist) want=$dist ;;
check) want=$check ;;
*) echo "usage: $0 [list] build|dist|check" >&2; exit 2 ;;
esac
[ -n "$list" ] && { echo $want; exit 0; }
command -v dpkg-query >/dev/null 2>&1 || exit 0	# not Debian: see README
missing=
arches=
for p in $want; do
	case $p in
	*:*)
		a=${p#*:}
		dpkg --print-foreign-architectures | grep -qx "$a" ||
		    arches="$arches $a"
		;;
	esac
	s=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)
	case "$s" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
# apt-get source needs a deb-src line for the distribution's main archive.
src=
if [ "$want" != "$build" ] &&
    ! apt-get source -q --print-uris musl >/dev/null 2>&1; then
	. /etc/os-release
	# The main archive, as this machine's own apt sources name it.
	uri=$(sed -n 's/^URIs:[ 	]*//p' /etc/apt/sources.list.d/*.sources \
	    2>/dev/null | tr ' ' '\n' | grep -v -- '-security' | head -n 1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++)
	    if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
	    /etc/apt/sources.list 2>/dev/null)
	if [ -z "$uri" ]; then
		echo "mosh: no Debian archive in the apt sources" >&2
		exit 1
	fi
	src="Types: deb-src
URIs: $uri
Suites: ${VERSION_CODENAME:-bookworm}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
fi
[ -n "$missing$src" ] || exit 0
srcfile=/etc/apt/sources.list.d/debian-src.sources
if [ "$(id -u)" -ne 0 ]; then
	echo "mosh: missing packages; run as root:" >&2
	for a in $arches; do
		echo "  dpkg --add-architecture $a" >&2
	done
	[ -n "$src" ] && printf '  cat >%s <<EOF\n%s\nEOF\n' "$srcfile" \
	    "$src" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
for a in $arches; do
	dpkg --add-architecture "$a" || exit 1
done
[ -n "$src" ] && { printf '%s\n' "$src" >"$srcfile" || exit 1; }
apt-get update -q >/dev/null &&
    { [ -z "$missing" ] || apt-get install -y -q$missing >/dev/null; } || {
	echo "mosh: apt-get install$missing failed" >&2
	exit 1
}
