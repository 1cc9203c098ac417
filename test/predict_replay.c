/*
 * predict_replay.c: turns a timestamped recording of what a program wrote to
 * its terminal into the sequence of screens a terminal showed, using our
 * emulator. Used by test/predict_bench.sh (built there against the bench
 * objects) to judge local echo prediction the same way for any client.
 *
 * Usage: predict_replay [-x] [-g USEC] [-w W] [-h H] < RECORDING
 *
 * The recording has one record a line; only "O <usec> <hex bytes>" (output
 * the program wrote at that time) is used, other lines are skipped. Records
 * closer than USEC (-g, default 1000) to the next one are taken as one
 * frame: a frame a client wrote at once may come out of the pty in several
 * reads. For an application's output, -g 0 makes every read a frame of its
 * own, since a server may send its screen between any two reads. For each
 * frame it prints
 *   F <usec> <cursor row> <cursor col>
 * then "R <row> <text>" for each row whose text changed since the previous
 * frame: one character per cell (an empty cell as a space), renditions
 * left out. -x turns on the server's extensions (alternate screen), to
 * model what a server's screen holds rather than a client's terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"

#define LINE_MAX_BYTES (1 << 20)
#define ROW_BYTES (FB_MAX_COLS * FB_CELL_BYTES + 1)

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Decode hex in place; returns the byte count, or -1 on a bad digit. */
static long
unhex(char *s)
{
	const char *r = s;
	long n = 0;
	int hi, lo;

	while (r[0] != '\0' && r[0] != '\n') {
		hi = hexval((unsigned char)r[0]);
		lo = hexval((unsigned char)r[1]);
		if (hi < 0 || lo < 0) {
			return -1;
		}
		s[n++] = (char)(hi << 4 | lo);
		r += 2;
	}
	return n;
}

/* Row y as text into out (ROW_BYTES). */
static void
row_text(const struct fb *fb, int y, char *out)
{
	const struct fb_cell *c;
	size_t n = 0;
	int x;

	for (x = 0; x < fb->w; x++) {
		c = fb_cell(fb, y, x);
		if (c->len == 0) {
			out[n++] = ' ';
		} else {
			memcpy(out + n, c->c, c->len);
			n += c->len;
		}
	}
	out[n] = '\0';
}

static void
emit(const struct fb *fb, char **prev, unsigned long long t, char *row)
{
	int y;

	printf("F %llu %d %d\n", t, fb->cy, fb->cx);
	for (y = 0; y < fb->h; y++) {
		row_text(fb, y, row);
		if (strcmp(row, prev[y]) != 0) {
			printf("R %d %s\n", y, row);
			strcpy(prev[y], row);
		}
	}
}

int
main(int argc, char **argv)
{
	static char line[LINE_MAX_BYTES];
	struct fb fb;
	struct vt vt;
	char **prev, *row;
	unsigned long long t, last = 0, gap = 1000;
	int w = 80, h = 24, ext = 0, pending = 0, i, y;
	long n;
	char *end;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-x") == 0) {
			ext = 1;
		} else if (strcmp(argv[i], "-g") == 0 && i + 1 < argc) {
			gap = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
			w = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-h") == 0 && i + 1 < argc) {
			h = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: predict_replay [-x] [-g USEC] "
			    "[-w W] [-h H] < RECORDING\n");
			return 2;
		}
	}
	if (fb_init(&fb, w, h) == -1) {
		fprintf(stderr, "predict_replay: bad size %dx%d\n", w, h);
		return 2;
	}
	vt_init(&vt, &fb);
	vt.server_ext = ext;
	prev = calloc((size_t)h, sizeof(*prev));
	row = malloc(ROW_BYTES);
	if (prev == NULL || row == NULL) {
		return 2;
	}
	for (y = 0; y < h; y++) {
		prev[y] = calloc(1, ROW_BYTES);
		if (prev[y] == NULL) {
			return 2;
		}
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (line[0] != 'O' || line[1] != ' ') {
			continue;
		}
		t = strtoull(line + 2, &end, 10);
		if (*end != ' ') {
			continue;
		}
		n = unhex(end + 1);
		if (n < 0) {
			fprintf(stderr, "predict_replay: bad record\n");
			continue;
		}
		if (pending && t > last + gap) {
			emit(&fb, prev, last, row);
			pending = 0;
		}
		vt_feed(&vt, (const uint8_t *)end + 1, (size_t)n);
		/* Answers to queries go nowhere: the recording has them. */
		vt.reply.len = 0;
		last = t;
		pending = 1;
	}
	if (pending) {
		emit(&fb, prev, last, row);
	}
	for (y = 0; y < h; y++) {
		free(prev[y]);
	}
	free(prev);
	free(row);
	vt_free(&vt);
	fb_free(&fb);
	return 0;
}
