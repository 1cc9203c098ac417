/*
 * recorder.c: a stand-in for the shell in fault-injection tests. It puts
 * its terminal in raw mode, appends every byte it reads to FILE, and after
 * each read redraws a screen that depends only on the bytes read so far,
 * so a test can compute what the screen must converge to.
 *
 * Usage:
 *   recorder FILE            record stdin (a pty) into FILE, draw
 *   recorder --render FILE   print, as text, the screen the recorder draws
 *                            after reading FILE's bytes
 *
 * The screen (cleared and redrawn whole each time):
 *   line 1: "REC n=<bytes> h=<FNV-1a 32 of all bytes, 8 hex digits>"
 *   line 2: "last:" and the last 16 bytes (fewer at first) in hex
 *   line 3: "lines=<count of CR bytes>"
 *   lines 4 to 23: 76 characters each, pseudo-random from the hash and the
 *                  line number (ASCII, a few two- and three-byte UTF-8
 *                  characters of width 1), in a colour that varies too
 * so that every read changes most of the screen (a state diff of a few
 * fragments). The cursor is left at the start of line 24. It runs until
 * its input ends or it is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define LAST 16
#define FILL_ROWS 20
#define FILL_COLS 76

struct rec {
	uint64_t n, crs;
	uint32_t h;
	uint8_t last[LAST];
};

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->h = 2166136261u;
}

static void
rec_feed(struct rec *r, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		r->h = (r->h ^ p[i]) * 16777619u;
		r->last[r->n % LAST] = p[i];
		r->n++;
		if (p[i] == '\r') {
			r->crs++;
		}
	}
}

/* The filler lines; colours only when drawing (nl is "\r\n"). */
static int
fill(const struct rec *r, char *out, size_t cap, const char *nl)
{
	static const char *const wide[] = { "\xc3\xa9", "\xe2\x82\xac" };
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:-+=*#@";
	uint64_t x;
	size_t used = 0, need;
	int row, col, draw = nl[0] == '\r';
	char cell[16];

	for (row = 0; row < FILL_ROWS; row++) {
		x = ((uint64_t)r->h << 8 | (uint64_t)row) * 0x9e3779b97f4a7c15u
		    + r->n + 1;
		if (draw) {
			snprintf(cell, sizeof(cell), "\033[3%dm",
			    (int)(x % 7) + 1);
		} else {
			cell[0] = '\0';
		}
		for (col = 0; col <= FILL_COLS; col++) {
			need = strlen(cell);
			if (need >= cap - used) {
				return -1;
			}
			memcpy(out + used, cell, need);
			used += need;
			if (col == FILL_COLS) {
				break;
			}
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (x % 29 == 0) {
				snprintf(cell, sizeof(cell), "%s",
				    wide[(x >> 8) % 2]);
			} else {
				cell[0] = set[(x >> 8) % (sizeof(set) - 1)];
				cell[1] = '\0';
			}
		}
		need = strlen(nl) + (draw ? 4 : 0);
		if (need >= cap - used) {
			return -1;
		}
		if (draw) {
			memcpy(out + used, "\033[0m", 4);
			used += 4;
		}
		memcpy(out + used, nl, strlen(nl));
		used += strlen(nl);
	}
	return (int)used;
}

/* The screen as text lines (render) or as terminal output (draw). */
static int
rec_text(const struct rec *r, char *out, size_t cap, const char *nl)
{
	uint64_t i, k;
	int len;
	size_t used;

	len = snprintf(out, cap, "REC n=%llu h=%08x%slast:",
	    (unsigned long long)r->n, (unsigned)r->h, nl);
	if (len < 0 || (size_t)len >= cap) {
		return -1;
	}
	used = (size_t)len;
	k = r->n < LAST ? r->n : LAST;
	for (i = r->n - k; i < r->n; i++) {
		len = snprintf(out + used, cap - used, " %02x",
		    r->last[i % LAST]);
		if (len < 0 || (size_t)len >= cap - used) {
			return -1;
		}
		used += (size_t)len;
	}
	len = snprintf(out + used, cap - used, "%slines=%llu%s", nl,
	    (unsigned long long)r->crs, nl);
	if (len < 0 || (size_t)len >= cap - used) {
		return -1;
	}
	used += (size_t)len;
	len = fill(r, out + used, cap - used, nl);
	if (len < 0) {
		return -1;
	}
	return (int)(used + (size_t)len);
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
render(const char *path)
{
	uint8_t buf[4096];
	char text[8192];
	struct rec r;
	ssize_t n;
	int fd, len;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	rec_init(&r);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		rec_feed(&r, buf, (size_t)n);
	}
	close(fd);
	if (n < 0) {
		perror(path);
		return 1;
	}
	len = rec_text(&r, text, sizeof(text), "\n");
	if (len < 0 || write_all(1, text, (size_t)len) < 0) {
		return 1;
	}
	return 0;
}

static int
record(const char *path)
{
	uint8_t buf[4096];
	char scr[8192];
	struct termios tio;
	struct rec r;
	ssize_t n;
	int fd, len;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (tcgetattr(0, &tio) == 0) {
		cfmakeraw(&tio);
		tio.c_cc[VMIN] = 1;
		tio.c_cc[VTIME] = 0;
		if (tcsetattr(0, TCSANOW, &tio) < 0) {
			perror("tcsetattr");
			return 1;
		}
	}
	rec_init(&r);
	for (;;) {
		memcpy(scr, "\033[H\033[2J", 7);
		len = rec_text(&r, scr + 7, sizeof(scr) - 7, "\r\n");
		if (len < 0 || write_all(1, scr, (size_t)len + 7) < 0) {
			return 1;
		}
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		/* The record first: the screen must never be ahead of it. */
		if (write_all(fd, buf, (size_t)n) < 0) {
			perror(path);
			return 1;
		}
		rec_feed(&r, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--render") == 0) {
		return render(argv[2]);
	}
	if (argc == 2 && argv[1][0] != '-') {
		return record(argv[1]);
	}
	fprintf(stderr, "usage: recorder FILE | recorder --render FILE\n");
	return 2;
}
