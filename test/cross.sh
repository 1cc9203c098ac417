#!/bin/sh
# cross.sh DIR DEBARCH|src TRIPLET: make DIR/sysroot a tree of what a static
# build for another machine links with, besides its own objects:
#   include/  BearSSL's and zlib's headers
#   lib/      libbearssl.a and libz.a
#   musl/     (src only) musl, with its compiler wrapper musl/bin/musl-gcc
# DEBARCH (arm64, armhf, ...): Debian's BearSSL and zlib packages for that
# architecture, fetched with apt-get download and unpacked, never installed
# (the C library then comes from the multiarch musl-dev package). src: no
# Debian architecture (riscv64, big-endian mips): musl, BearSSL and zlib are
# built from Debian's source packages (apt-get source) with TRIPLET-gcc.
# The tree is kept in $MOSH_DIST_CACHE (default ~/.cache/mosh-dist), under
# a name made of the package versions, and DIR/sysroot is a link to it; when
# nothing is cached it is made there first. Prints nothing on success.
set -eu
dir=$1
deb=$2
tri=$3
cache=${MOSH_DIST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/mosh-dist}
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=$(pwd)/$dir/cache
mkdir -p "$cache" "$dir"
fail()
{
	echo "cross.sh: $tri: $*" >&2
	exit 1
}

# The version apt would fetch of binary package $1 / source package $1.
binver()
{
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'
}
srcver()
{
	apt-get source -q --print-uris "$1" 2>/dev/null |
	    sed -n "s/^'[^']*' $1_\([^ ]*\)\.dsc .*/\1/p" | head -n 1
}

if [ "$deb" = src ]; then
	m=$(srcver musl)
	b=$(srcver bearssl)
	z=$(srcver zlib)
	[ -n "$m" ] && [ -n "$b" ] && [ -n "$z" ] ||
	    fail "no source packages musl, bearssl, zlib (a deb-src line; see test/deps.sh)"
	key=$tri-src-musl_$m-bearssl_$b-zlib_$z-gcc_$("$tri-gcc" -dumpversion)
else
	b=$(binver "libbearssl-dev:$deb")
	z=$(binver "zlib1g-dev:$deb")
	[ -n "$b" ] && [ "$b" != "(none)" ] && [ -n "$z" ] && [ "$z" != "(none)" ] ||
	    fail "no libbearssl-dev:$deb or zlib1g-dev:$deb (dpkg --add-architecture $deb; apt-get update)"
	key=$deb-bearssl_$b-zlib_$z
fi
key=$(echo "$key" | tr ':~' '__')
root=$cache/$key
if [ ! -f "$root/.ok" ]; then
	tmp=$(mktemp -d "$cache/.new.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT INT TERM HUP
	mkdir "$tmp/include" "$tmp/lib"
	if [ "$deb" != src ]; then
		(cd "$tmp" && apt-get download -q "libbearssl-dev:$deb=$b" \
		    "zlib1g-dev:$deb=$z") >"$tmp/log" 2>&1 ||
		    { cat "$tmp/log" >&2; fail "apt-get download failed"; }
		for p in "$tmp"/*.deb; do
			dpkg-deb -x "$p" "$tmp/x"
		done
		cp -R "$tmp"/x/usr/include/. "$tmp/include/"
		cp "$tmp"/x/usr/lib/*/libbearssl.a "$tmp"/x/usr/lib/*/libz.a \
		    "$tmp/lib/"
	else
		# Paths of the build tree are mapped away: the objects are
		# the same wherever they were built.
		map="-ffile-prefix-map=$tmp=."
		src=$tmp/src
		mkdir "$src"
		(cd "$src" && apt-get source -q musl bearssl zlib) >"$tmp/log" 2>&1 ||
		    { cat "$tmp/log" >&2; fail "apt-get source failed"; }
		echo "cross.sh: $tri: building musl $m, BearSSL $b, zlib $z" >&2
		# Installed under its final name (DESTDIR, then moved) since
		# the wrapper and its specs name their own directory.
		(cd "$src"/musl-*/ && ./configure --prefix="$root/musl" \
		    --target="$tri" CROSS_COMPILE="$tri-" --disable-shared \
		    CFLAGS="-Os $map" && make -j2 && \
		    make install DESTDIR="$tmp/stage") >>"$tmp/log" 2>&1 ||
		    { tail -30 "$tmp/log" >&2; fail "building musl failed"; }
		mv "$tmp/stage$root/musl" "$tmp/musl"
		# Until it is moved, the wrapper is pointed at the staged copy.
		sed "s|$root/musl|$tmp/musl|g" "$tmp/musl/lib/musl-gcc.specs" \
		    >"$tmp/stage.specs"
		cc="$tri-gcc -specs $tmp/stage.specs"
		(cd "$src"/bearssl-*/ && make -j2 CONF=Unix CC="$cc" \
		    CFLAGS="-Os $map" AR="$tri-ar" lib &&
		    cp build/libbearssl.a "$tmp/lib/" &&
		    cp inc/*.h "$tmp/include/") >>"$tmp/log" 2>&1 ||
		    { tail -30 "$tmp/log" >&2; fail "building BearSSL failed"; }
		(cd "$src"/zlib-*/ && CHOST=$tri CC="$cc" CFLAGS="-Os $map" \
		    ./configure --static && make -j2 libz.a &&
		    cp libz.a "$tmp/lib/" && cp zlib.h zconf.h "$tmp/include/") \
		    >>"$tmp/log" 2>&1 ||
		    { tail -30 "$tmp/log" >&2; fail "building zlib failed"; }
		rm -rf "$src" "$tmp/stage" "$tmp/stage.specs"
	fi
	rm -rf "$tmp/x" "$tmp"/*.deb "$tmp/log"
	: >"$tmp/.ok"
	rm -rf "$root"
	mv "$tmp" "$root"
	trap - EXIT INT TERM HUP
fi
ln -sfn "$root" "$dir/sysroot"
