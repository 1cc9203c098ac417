# mosh: the mobile shell as one static binary.
#   make          build ./mosh (static, musl, BearSSL, zlib) and print its size
#   make check    unit tests under ASan+UBSan, corpus replays, end-to-end tests
#   make bench    speed and memory, side by side with upstream's binaries
#   make fuzz     libFuzzer targets (clang)
#   make dist     static binaries for every architecture, into dist/
#   make install  PREFIX=/usr/local DESTDIR=... (and dist/ if built)
#   make uninstall
#   make run      build, then a session on this machine over loopback
# Local overrides go in config.mk, which is not committed.

VERSION = 0.1.0
PREFIX  = /usr/local
BINDIR  = $(PREFIX)/bin
# make dist's binaries for other machines, which the self-install sends.
MOSHLIBDIR = $(PREFIX)/lib/mosh

MODS    = ocb net ssp vt framebuf predict
ROLES   = mosh server client boot tunnel
WARN    = -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2
DEFS    = -D_GNU_SOURCE -DMOSH_VERSION=\"$(VERSION)\" \
          -DMOSH_LIBDIR=\"$(MOSHLIBDIR)\"

# Release: a static musl binary. Debian's musl-gcc does not search
# /usr/include, so obj/include holds links to just the BearSSL and zlib
# headers; Debian's libbearssl.a and libz.a are glibc builds, so compat.c
# gives them the fortify helpers they call. On a musl system (Alpine) the
# plain compiler is musl already and finds everything by itself.
ifneq ($(shell command -v musl-gcc 2>/dev/null),)
CC      = musl-gcc
LIBDIR  = /usr/lib/$(shell gcc -dumpmachine)
RINC    = -Iobj/include
RLIBS   = $(LIBDIR)/libbearssl.a $(LIBDIR)/libz.a
COMPAT  = obj/compat.o
else
CC      = cc
RLIBS   = -lbearssl -lz
endif
# Link-time optimisation lets calls between the role files inline as they
# did within one file.
CFLAGS  = -Os -flto=auto $(WARN)

# Tests and benchmarks use the host toolchain (static musl cannot run ASan).
HOSTCC  = cc
CHKFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
          -fno-omit-frame-pointer $(WARN) -Werror
BENCHFLAGS = -O2 $(WARN)
TLIBS   = -lbearssl -lz -lcrypto -lutil -lm
FUZZCC  = clang
FUZZFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined $(WARN)

-include config.mk

# ocb.c runs BearSSL's bitsliced AES core on several blocks at once; only
# BearSSL's internal header declares it, so ocb.c declares it itself, for
# the version it was written against (0.6). Another version, or none found,
# builds the one-block-per-call code instead. BEARSSL_VERSION=0.6 on the
# command line or in config.mk skips the probe (dpkg, apk, pkg-config).
BEARSSL_VERSION ?= $(shell { dpkg-query -W -f='$${Version}' libbearssl-dev || \
          apk list -I bearssl-dev | sed -n 's/^bearssl-dev-\([^ ]*\) .*/\1/p' | \
          grep . || pkg-config --modversion bearssl; } 2>/dev/null)
ifneq ($(filter 0.6 0.6+% 0.6-%,$(BEARSSL_VERSION)),)
DEFS    += -DOCB_BEARSSL_CORE
endif

TESTS   = $(patsubst test/%.c,obj-check/%,$(wildcard test/*_test.c))
FUZZERS = $(patsubst test/%.c,%,$(filter-out test/fuzz_main.c,$(wildcard test/fuzz_*.c)))
BENCHES = $(patsubst test/%.c,obj-bench/%,$(wildcard test/*_bench.c))
TOOLS   = $(patsubst test/%.c,obj-check/%,$(wildcard test/relay.c test/recorder.c \
          test/ptytime.c))
# Test tools that link the modules: with the check flags, or (for a
# benchmark's) with the bench flags.
MTOOLS  = obj-check/hostile
BTOOLS  = obj-bench/predict_replay
MODOBJ  = $(MODS:%=obj/%.o) $(ROLES:%=obj/%.o)
# Tests link every object; their mosh.o has no main() of its own.
CHKOBJ  = $(MODS:%=obj-check/%.o) $(ROLES:%=obj-check/%.o)
BENCHOBJ = $(MODS:%=obj-bench/%.o)

all: mosh

mosh: $(MODOBJ) $(COMPAT)
	$(CC) $(CFLAGS) -static -s -o $@ $(MODOBJ) $(COMPAT) $(RLIBS)
	@echo "mosh: $$(wc -c < $@) bytes, stripped"

obj/include:
	mkdir -p $@
	ln -sf /usr/include/bearssl.h /usr/include/bearssl /usr/include/zlib.h \
	    /usr/include/zconf.h $@/

obj/%.o: %.c mosh.h Makefile | obj/include
	$(CC) $(CFLAGS) $(DEFS) $(RINC) -c -o $@ $<

obj-check/%.o: %.c mosh.h Makefile
	@mkdir -p obj-check
	$(HOSTCC) $(CHKFLAGS) $(DEFS) -c -o $@ $<

obj-check/mosh.o obj-fuzz/mosh.o: DEFS += -DMOSH_NO_MAIN
# fuzz_cli catches the parsers' exit() (see its opening comment).
obj-check/fuzz_cli obj-fuzz/fuzz_cli: TLIBS += -Wl,--wrap=exit

obj-check/%_test: test/%_test.c test/test.h $(CHKOBJ)
	$(HOSTCC) $(CHKFLAGS) $(DEFS) -I. -o $@ $< $(CHKOBJ) $(TLIBS)

$(TOOLS): obj-check/%: test/%.c Makefile
	@mkdir -p obj-check
	$(HOSTCC) $(CHKFLAGS) $(DEFS) -o $@ $<

$(MTOOLS): obj-check/%: test/%.c $(CHKOBJ)
	$(HOSTCC) $(CHKFLAGS) $(DEFS) -I. -o $@ $< $(CHKOBJ) $(TLIBS)

# A fuzz target's replay driver: the same entry point fed every corpus file.
obj-check/fuzz_%: test/fuzz_%.c test/fuzz_main.c $(CHKOBJ)
	$(HOSTCC) $(CHKFLAGS) $(DEFS) -I. -o $@ $< test/fuzz_main.c $(CHKOBJ) $(TLIBS)

check: deps-check
	@$(MAKE) --no-print-directory mosh $(TESTS) $(FUZZERS:%=obj-check/%) $(TOOLS) \
	    $(MTOOLS) $(DISTBINS) $(DISTCHECK)
	@ARCH_TESTS="$(DISTCHECK)" sh test/run.sh test/run_selftest.sh $(TESTS) \
	    $(FUZZERS:%=obj-check/%) test/*_e2e.sh test/doc_check.sh

# Long end-to-end variants (minutes each): the full fault matrix.
check-long: deps-check
	@$(MAKE) --no-print-directory mosh $(TOOLS) $(DISTBINS) $(DISTCHECKLONG)
	@ARCH_TESTS="$(DISTCHECKLONG)" TEST_TIMEOUT=3600 sh test/run.sh \
	    test/*_long.sh

obj-bench/%.o: %.c mosh.h Makefile
	@mkdir -p obj-bench
	$(HOSTCC) $(BENCHFLAGS) $(DEFS) -c -o $@ $<

$(BENCHES) $(BTOOLS): obj-bench/%: test/%.c $(BENCHOBJ)
	$(HOSTCC) $(BENCHFLAGS) $(DEFS) -I. -o $@ $< $(BENCHOBJ) $(TLIBS)

# Each test/*_bench.c and test/*_bench.sh prints its figures with upstream's
# (or OpenSSL's) from the same run, and the ratio; session_bench.sh runs
# vt_bench itself, for its summary. Exits 1 if any of them failed.
bench: mosh $(BENCHES) $(TOOLS) $(BTOOLS)
	@rc=0; start=$$(date +%s); \
	for b in $(filter-out obj-bench/vt_bench,$(BENCHES)) test/*_bench.sh; do \
		[ -f "$$b" ] || continue; \
		case $$b in *.sh) sh "$$b" ;; *) "$$b" ;; esac || \
		    { echo "bench: FAILED: $$b"; rc=1; }; \
	done; \
	echo "bench: done in $$(($$(date +%s) - start)) s"; exit $$rc

obj-fuzz/%.o: %.c mosh.h Makefile
	@mkdir -p obj-fuzz
	$(FUZZCC) $(FUZZFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) $(DEFS) -c -o $@ $<

FUZZOBJ = $(MODS:%=obj-fuzz/%.o) $(ROLES:%=obj-fuzz/%.o)
obj-fuzz/fuzz_%: test/fuzz_%.c $(FUZZOBJ)
	$(FUZZCC) $(FUZZFLAGS) $(DEFS) -I. -o $@ $< $(FUZZOBJ) $(TLIBS)

fuzz: $(FUZZERS:%=obj-fuzz/%)

# Build, then a session on this machine: the server on loopback and the
# client connected to it, without ssh (the embedded default).
run:
	@sh test/deps.sh build
	@$(MAKE) --no-print-directory mosh
	./mosh --local 127.0.0.1

deps-check:
	@sh test/deps.sh check

# ---- make dist: one static binary per architecture, into dist/ ----
# A target's Debian architecture (src: none; musl, BearSSL and zlib are
# built from Debian's source packages), GNU triplet, compiler and flags;
# test/cross.sh makes its obj-dist/ARCH/sysroot. The objects are those of
# the mosh rule above.
DIST_ARCH = x86_64 aarch64 armv7 i386 mipsel mips riscv64
DISTMODS = $(MODS) $(ROLES) compat
DISTTESTMODS = $(MODS) $(filter-out mosh,$(ROLES))
DEB_x86_64  = amd64
TRI_x86_64  = x86_64-linux-gnu
DCC_x86_64  = x86_64-linux-musl-gcc
DEB_aarch64 = arm64
TRI_aarch64 = aarch64-linux-gnu
DCC_aarch64 = aarch64-linux-musl-gcc
DEB_armv7   = armhf
TRI_armv7   = arm-linux-gnueabihf
DCC_armv7   = arm-linux-musleabihf-gcc
AFLAGS_armv7 = -march=armv7-a+fp -mfpu=vfpv3-d16 -mfloat-abi=hard
DEB_i386    = i386
TRI_i386    = i686-linux-gnu
DCC_i386    = i386-linux-musl-gcc
DEB_mipsel  = mipsel
TRI_mipsel  = mipsel-linux-gnu
DCC_mipsel  = mipsel-linux-musl-gcc
AFLAGS_mipsel = -march=mips32r2
DEB_mips    = src
TRI_mips    = mips-linux-gnu
AFLAGS_mips = -march=mips32r2
DEB_riscv64 = src
TRI_riscv64 = riscv64-linux-gnu
# The same bytes from every run and every checkout: no build paths, no
# build id, file times and archive order from SOURCE_DATE_EPOCH.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
DISTFLAGS = -Os $(WARN) -ffile-prefix-map=$(CURDIR)/= -ffunction-sections \
          -fdata-sections
DISTLDFLAGS = -static -s -Wl,--gc-sections -Wl,--build-id=none
DISTBINS = $(DIST_ARCH:%=dist/mosh-linux-%)
# The unit tests built for each target, run under qemu by arch_e2e.sh:
# make check runs all of them on the 32-bit targets of either byte order
# and the quicker ones on the rest; make check-long all of them everywhere.
# Not boot_test, whose self-install half runs the host's sh and uname
# (which cannot report an emulated machine), nor ocb_test, which compares
# with OpenSSL; both run natively as ever.
DISTTESTS = $(filter-out boot_test ocb_test, \
          $(patsubst test/%.c,%,$(wildcard test/*_test.c)))
DIST_FULL = i386 mips
DIST_SLOW = framebuf_test ssp_test vt_test
DISTCHECK = $(foreach a,$(DIST_ARCH),$(addprefix obj-dist/$(a)/, \
          $(if $(filter $(a),$(DIST_FULL)),$(DISTTESTS), \
          $(filter-out $(DIST_SLOW),$(DISTTESTS)))))
DISTCHECKLONG = $(foreach a,$(DIST_ARCH),$(DISTTESTS:%=obj-dist/$(a)/%))

define DIST_RULES
DCC_$(1) ?= obj-dist/$(1)/sysroot/musl/bin/musl-gcc
DIST_$(1) = $$(DCC_$(1)) $$(AFLAGS_$(1)) -Iobj-dist/$(1)/sysroot/include
obj-dist/$(1)/sysroot/.ok:
	@sh test/cross.sh obj-dist/$(1) $(DEB_$(1)) $(TRI_$(1))

obj-dist/$(1)/%.o: %.c mosh.h Makefile | obj-dist/$(1)/sysroot/.ok
	$$(DIST_$(1)) $$(DISTFLAGS) $$(DEFS) -c -o $$@ $$<

dist/mosh-linux-$(1): $(DISTMODS:%=obj-dist/$(1)/%.o)
	@mkdir -p dist
	$$(DIST_$(1)) $$(DISTLDFLAGS) -o $$@ $$^ \
	    obj-dist/$(1)/sysroot/lib/libbearssl.a obj-dist/$(1)/sysroot/lib/libz.a
	@touch -d @$$(SOURCE_DATE_EPOCH) $$@

obj-dist/$(1)/mosh-nomain.o: mosh.c mosh.h Makefile | obj-dist/$(1)/sysroot/.ok
	$$(DIST_$(1)) $$(DISTFLAGS) $$(DEFS) -DMOSH_NO_MAIN -c -o $$@ $$<

obj-dist/$(1)/%_test: test/%_test.c test/test.h \
    $(DISTTESTMODS:%=obj-dist/$(1)/%.o) \
    obj-dist/$(1)/mosh-nomain.o obj-dist/$(1)/compat.o
	$$(DIST_$(1)) $$(DISTFLAGS) $$(DEFS) -I. -static -o $$@ $$< \
	    $$(filter %.o,$$^) obj-dist/$(1)/sysroot/lib/libbearssl.a \
	    obj-dist/$(1)/sysroot/lib/libz.a
endef
$(foreach a,$(DIST_ARCH),$(eval $(call DIST_RULES,$(a))))

dist: dist-deps
	@$(MAKE) --no-print-directory $(DISTBINS)
	@cd dist && sha256sum $(DIST_ARCH:%=mosh-linux-%) >SHA256SUMS && \
	    touch -d @$(SOURCE_DATE_EPOCH) SHA256SUMS && \
	    for f in $(DIST_ARCH:%=mosh-linux-%); do \
		echo "$$f: $$(wc -c <$$f) bytes"; done

dist-deps:
	@sh test/deps.sh dist

install: mosh
	mkdir -p $(DESTDIR)$(BINDIR)
	cp -f mosh $(DESTDIR)$(BINDIR)/mosh
	chmod 755 $(DESTDIR)$(BINDIR)/mosh
	ln -sf mosh $(DESTDIR)$(BINDIR)/mosh-client
	ln -sf mosh $(DESTDIR)$(BINDIR)/mosh-server
	@if [ -f dist/SHA256SUMS ]; then \
		echo "mkdir -p $(DESTDIR)$(MOSHLIBDIR); cp dist/* ..."; \
		mkdir -p $(DESTDIR)$(MOSHLIBDIR) && \
		cp -f dist/SHA256SUMS dist/mosh-linux-* \
		    $(DESTDIR)$(MOSHLIBDIR)/ && \
		chmod 755 $(DESTDIR)$(MOSHLIBDIR)/mosh-linux-*; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mosh $(DESTDIR)$(BINDIR)/mosh-client \
	    $(DESTDIR)$(BINDIR)/mosh-server
	@if [ -d $(DESTDIR)$(MOSHLIBDIR) ]; then \
		echo "rm -f $(DESTDIR)$(MOSHLIBDIR)/*; rmdir ..."; \
		rm -f $(DESTDIR)$(MOSHLIBDIR)/SHA256SUMS \
		    $(DESTDIR)$(MOSHLIBDIR)/mosh-linux-* && \
		rmdir $(DESTDIR)$(MOSHLIBDIR); fi

clean:
	rm -rf mosh obj obj-check obj-bench obj-fuzz obj-dist dist

.PHONY: all check check-long deps-check bench fuzz install uninstall clean \
	run dist dist-deps
.SECONDARY:
