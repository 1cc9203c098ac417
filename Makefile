# mosh: the mobile shell as one static binary.
#   make          build ./mosh (static, musl, BearSSL, zlib) and print its size
#   make check    unit tests under ASan+UBSan, corpus replays, end-to-end tests
#   make bench    speed and memory, side by side with upstream's binaries
#   make fuzz     libFuzzer targets (clang)
#   make install  PREFIX=/usr/local DESTDIR=...
#   make run      build, then a session on this machine over loopback
# Local overrides go in config.mk, which is not committed.

VERSION = 0.1.0
PREFIX  = /usr/local
BINDIR  = $(PREFIX)/bin

MODS    = ocb net ssp vt framebuf predict
ROLES   = mosh server client boot tunnel
WARN    = -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wvla -Wformat=2
DEFS    = -D_GNU_SOURCE -DMOSH_VERSION=\"$(VERSION)\"

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

TESTS   = $(patsubst test/%.c,obj-check/%,$(wildcard test/*_test.c))
FUZZERS = $(patsubst test/%.c,%,$(filter-out test/fuzz_main.c,$(wildcard test/fuzz_*.c)))
BENCHES = $(patsubst test/%.c,obj-bench/%,$(wildcard test/*_bench.c))
TOOLS   = $(patsubst test/%.c,obj-check/%,$(wildcard test/relay.c test/recorder.c \
          test/ptytime.c))
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

# A fuzz target's replay driver: the same entry point fed every corpus file.
obj-check/fuzz_%: test/fuzz_%.c test/fuzz_main.c $(CHKOBJ)
	$(HOSTCC) $(CHKFLAGS) $(DEFS) -I. -o $@ $< test/fuzz_main.c $(CHKOBJ) $(TLIBS)

check: deps-check
	@$(MAKE) --no-print-directory mosh $(TESTS) $(FUZZERS:%=obj-check/%) $(TOOLS)
	@sh test/run.sh $(TESTS) $(FUZZERS:%=obj-check/%) test/*_e2e.sh test/doc_check.sh

# Long end-to-end variants (minutes each): the full fault matrix.
check-long: deps-check
	@$(MAKE) --no-print-directory mosh $(TOOLS)
	@TEST_TIMEOUT=3600 sh test/run.sh test/*_long.sh

obj-bench/%.o: %.c mosh.h Makefile
	@mkdir -p obj-bench
	$(HOSTCC) $(BENCHFLAGS) $(DEFS) -c -o $@ $<

obj-bench/%_bench: test/%_bench.c $(BENCHOBJ)
	$(HOSTCC) $(BENCHFLAGS) $(DEFS) -I. -o $@ $< $(BENCHOBJ) $(TLIBS)

# Each test/*_bench.c and test/*_bench.sh prints its figures with upstream's
# (or OpenSSL's) from the same run, and the ratio; session_bench.sh runs
# vt_bench itself, for its summary. Exits 1 if any of them failed.
bench: mosh $(BENCHES) $(TOOLS)
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

install: mosh
	mkdir -p $(DESTDIR)$(BINDIR)
	cp -f mosh $(DESTDIR)$(BINDIR)/mosh
	chmod 755 $(DESTDIR)$(BINDIR)/mosh
	ln -sf mosh $(DESTDIR)$(BINDIR)/mosh-client
	ln -sf mosh $(DESTDIR)$(BINDIR)/mosh-server

clean:
	rm -rf mosh obj obj-check obj-bench obj-fuzz

.PHONY: all check check-long deps-check bench fuzz install clean run
.SECONDARY:
