/*
 * vt_bench.c: emulator throughput, in process, on three generated inputs of
 * 24 MB each (deterministic): plain ASCII lines; coloured text with cursor
 * movement and erases (the shape of ls --color, compiler and top output);
 * UTF-8 CJK text. The input is fed in 4 KB chunks, as a pty delivers it,
 * to an 80x24 frame; the figure is the best of three runs in CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mosh.h"

#define INPUT_BYTES (24u << 20)
#define CHUNK 4096

static uint32_t seed;

static uint32_t
rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % n;
}

static void
put(struct buf *b, const char *s)
{
	if (buf_append(b, s, strlen(s)) == -1) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

static void
word(struct buf *b)
{
	char w[16];
	uint32_t i, n = 1 + rnd(10);

	for (i = 0; i < n; i++) {
		w[i] = (char)('a' + rnd(26));
	}
	w[n] = ' ';
	w[n + 1] = 0;
	put(b, w);
}

static void
gen_ascii(struct buf *b)
{
	uint32_t i, n;

	while (b->len < INPUT_BYTES) {
		n = rnd(14);
		for (i = 0; i < n; i++) {
			word(b);
		}
		put(b, "\r\n");
	}
}

static void
gen_colour(struct buf *b)
{
	char s[64];
	uint32_t i, n, y;

	while (b->len < INPUT_BYTES) {
		switch (rnd(4)) {
		case 0:	/* ls --color */
			for (i = 0; i < 6; i++) {
				snprintf(s, sizeof(s), "\033[0%s;3%um",
				    rnd(2) ? ";1" : "", 1 + rnd(7));
				put(b, s);
				word(b);
				put(b, "\033[0m  ");
			}
			put(b, "\r\n");
			break;
		case 1:	/* compiler diagnostics */
			put(b, "\033[1mfile.c:12:5: \033[1;31merror: \033[0m"
			    "\033[1m");
			n = 3 + rnd(8);
			for (i = 0; i < n; i++) {
				word(b);
			}
			put(b, "\033[0m\r\n");
			break;
		default:	/* top: home, rows rewritten, erases */
			put(b, "\033[H\033[7m  PID USER  PR  NI  VIRT  RES "
			    "\033[K\033[0m");
			for (y = 2; y < 24; y++) {
				snprintf(s, sizeof(s), "\033[%u;1H%5u ", y,
				    rnd(99999));
				put(b, s);
				n = 2 + rnd(6);
				for (i = 0; i < n; i++) {
					word(b);
				}
				snprintf(s, sizeof(s),
				    "\033[38;5;%um%u.%u\033[m\033[K",
				    rnd(256), rnd(100), rnd(10));
				put(b, s);
			}
			put(b, "\033[J");
			break;
		}
	}
}

static void
gen_cjk(struct buf *b)
{
	char s[4];
	uint32_t cp, i, n;

	while (b->len < INPUT_BYTES) {
		n = 5 + rnd(30);
		for (i = 0; i < n; i++) {
			cp = 0x4e00 + rnd(0x5000);
			s[0] = (char)(0xe0 | cp >> 12);
			s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			s[2] = (char)(0x80 | (cp & 0x3f));
			s[3] = 0;
			put(b, s);
			if (rnd(8) == 0) {
				put(b, "\xe3\x80\x82");	/* full stop */
			}
		}
		put(b, "\r\n");
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The best of three runs, in CPU time: the machine may be busy. */
static void
run(const char *name, void (*gen)(struct buf *))
{
	struct buf in = { NULL, 0, 0 };
	struct fb fb;
	struct vt vt;
	size_t off, n;
	double t0, t, best = 1e9;
	int k;

	seed = 42;
	gen(&in);
	for (k = 0; k < 3; k++) {
		if (fb_init(&fb, 80, 24) == -1) {
			fprintf(stderr, "fb_init failed\n");
			exit(1);
		}
		vt_init(&vt, &fb);
		t0 = now();
		for (off = 0; off < in.len; off += n) {
			n = MIN(CHUNK, in.len - off);
			vt_feed(&vt, in.p + off, n);
			vt.reply.len = 0;
		}
		t = now() - t0;
		best = t < best ? t : best;
		vt_free(&vt);
		fb_free(&fb);
	}
	printf("vt_feed %-8s %6.1f MB in %.3f s CPU: %8.1f MB/s\n", name,
	    (double)in.len / 1e6, best, (double)in.len / 1e6 / best);
	buf_free(&in);
}

/* With an argument, only the input of that name. */
int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*gen)(struct buf *);
	} in[] = { { "ascii", gen_ascii }, { "colour", gen_colour },
	    { "cjk", gen_cjk } };
	size_t i;

	for (i = 0; i < LEN(in); i++) {
		if (argc < 2 || strcmp(argv[1], in[i].name) == 0) {
			run(in[i].name, in[i].gen);
		}
	}
	return 0;
}
