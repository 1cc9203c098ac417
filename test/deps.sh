#!/bin/sh
# deps.sh build|check: make sure the Debian packages that building (or
# building and testing) mosh needs are installed. As root it installs the
# missing ones with apt-get; otherwise it prints the exact command to run.
set -u
build="make gcc libc6-dev musl-tools libbearssl-dev zlib1g-dev"
check="$build libssl-dev clang libclang-rt-14-dev python3 mosh tmux \
openssh-server openssh-client iproute2 iptables procps less vim-tiny valgrind"
case "${1:-build}" in
build) want=$build ;;
check) want=$check ;;
*) echo "usage: $0 build|check" >&2; exit 2 ;;
esac
command -v dpkg-query >/dev/null 2>&1 || exit 0	# not Debian: see README
missing=
for p in $want; do
	s=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null)
	case "$s" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "mosh: missing packages; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null && apt-get install -y -q$missing >/dev/null || {
	echo "mosh: apt-get install$missing failed" >&2
	exit 1
}
