/*
 * framebuf_test.c: the screen model and the renderer.
 *
 * 1. Model: copy-on-write sharing, generations, resize (terminal.md §8),
 *    equality (terminal.md §1), clipboard.
 * 2. The renderer examples of terminal.md §14.2, read from
 *    test/cases/rcases.py: exact bytes for D1-D21 and D24, convergence for
 *    D22 and D23 (where upstream's receiver ends with a different screen).
 * 3. Convergence: for random pairs of frames, feeding fb_diff(old, new)
 *    into an emulator that shows old must leave it showing new. Frames come
 *    from random application output through the emulator and from direct
 *    construction. Seeded: FB_SEED=n reproduces a run, FB_PAIRS=n scales it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"
#include "test/test.h"

/* ---- helpers ---- */

static uint64_t rng_state;

static uint32_t
rnd(void)
{
	/* xorshift64*: reproducible on every platform. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static int
rn(int n)
{
	return n <= 1 ? 0 : (int)(rnd() % (uint32_t)n);
}

static const struct fb_caps caps_server = { 1, 1, 1 };
static const struct fb_caps caps_dumb = { 0, 0, 1 };

static void
put_utf8(char *out, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Print form of a cell (terminal.md §4.2), for comparing and dumping. */
static size_t
print_form(const struct fb_cell *c, char *out)
{
	size_t n = 0;

	if (c->len == 0) {
		out[n++] = ' ';
		return n;
	}
	if (c->flags & FB_FALLBACK) {
		out[n++] = (char)0xc2;
		out[n++] = (char)0xa0;
	}
	memcpy(out + n, c->c, c->len);
	return n + c->len;
}

static void
dump_rend(const struct fb_rend *r)
{
	fprintf(stderr, "{fg %x bg %x attr %x}", (unsigned)r->fg,
	    (unsigned)r->bg, (unsigned)r->attr);
}

static void
dump_fb(const char *name, const struct fb *fb)
{
	char t[64];
	size_t n;
	int y, x;

	fprintf(stderr, "  %s: %dx%d cursor (%d,%d) modes %x mouse %d/%d "
	    "bell %u title_init %d title '%.*s' icon '%.*s' clip '%.*s' rend ",
	    name, fb->w, fb->h, fb->cy, fb->cx, fb->modes, fb->mouse_mode,
	    fb->mouse_enc, (unsigned)fb->bell, fb->title_init,
	    (int)fb->title_len, fb->title, (int)fb->icon_len, fb->icon,
	    fb->clip ? (int)fb->clip->len : 0, fb->clip ? fb->clip->s : "");
	dump_rend(&fb->rend);
	fprintf(stderr, "\n");
	for (y = 0; y < fb->h; y++) {
		fprintf(stderr, "   %2d |", y);
		for (x = 0; x < fb->w; x++) {
			const struct fb_cell *c = fb_cell(fb, y, x);

			if (c->len == 0) {
				fprintf(stderr, ".");
				continue;
			}
			n = print_form(c, t);
			fprintf(stderr, "%.*s", (int)n, t);
		}
		fprintf(stderr, "|%s\n",
		    fb_cell(fb, y, fb->w - 1)->flags & FB_WRAP ? " wrap" : "");
	}
}

static void
dump_bytes(const char *name, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "  %s (%zu bytes): ", name, n);
	for (i = 0; i < n; i++) {
		if (p[i] == 0x1b) {
			fprintf(stderr, "\\e");
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(stderr, "\\x%02x", p[i]);
		} else {
			fputc(p[i], stderr);
		}
	}
	fprintf(stderr, "\n");
}

#define SERVER_ATTRS (FB_FAINT | FB_STRIKE)

/*
 * Does the receiver (client) show what the server frame holds? Cells
 * compare by print form, width and rendition: an empty cell and a space
 * look the same, and so do a fallback cell and U+00A0 plus its marks. The
 * renderer cannot send the attributes only the server keeps, the wrap flag
 * of the bottom row, nor a wide character in the last column (it sends a
 * blank). The title is compared only once the server has one.
 */
static int
shows(const struct fb *srv, const struct fb *cli, char *why, size_t whylen)
{
	char a[64], b[64];
	size_t an, bn;
	struct fb_rend ra, rb;
	int y, x;
	unsigned m = FB_M_CURSOR | FB_M_REVERSE | FB_M_PASTE | FB_M_FOCUS;

	if (srv->w != cli->w || srv->h != cli->h) {
		snprintf(why, whylen, "size");
		return 0;
	}
	if (srv->cy != cli->cy || srv->cx != cli->cx) {
		snprintf(why, whylen, "cursor");
		return 0;
	}
	if ((srv->modes ^ cli->modes) & m) {
		snprintf(why, whylen, "modes");
		return 0;
	}
	if (srv->mouse_mode != cli->mouse_mode ||
	    srv->mouse_enc != cli->mouse_enc) {
		snprintf(why, whylen, "mouse");
		return 0;
	}
	ra = srv->rend;
	rb = cli->rend;
	ra.attr &= ~SERVER_ATTRS;
	rb.attr &= ~SERVER_ATTRS;
	if (memcmp(&ra, &rb, sizeof(ra)) != 0) {
		snprintf(why, whylen, "current rendition");
		return 0;
	}
	if (srv->title_init && (srv->title_len != cli->title_len ||
	    memcmp(srv->title, cli->title, srv->title_len) != 0 ||
	    srv->icon_len != cli->icon_len ||
	    memcmp(srv->icon, cli->icon, srv->icon_len) != 0)) {
		snprintf(why, whylen, "title/icon");
		return 0;
	}
	an = srv->clip ? srv->clip->len : 0;
	bn = cli->clip ? cli->clip->len : 0;
	if (an != bn || (an && memcmp(srv->clip->s, cli->clip->s, an))) {
		snprintf(why, whylen, "clipboard");
		return 0;
	}
	for (y = 0; y < srv->h; y++) {
		for (x = 0; x < srv->w; x++) {
			const struct fb_cell *s = fb_cell(srv, y, x);
			const struct fb_cell *c = fb_cell(cli, y, x);
			unsigned sf = s->flags, cf = c->flags;

			an = print_form(s, a);
			bn = print_form(c, b);
			if ((sf & FB_WIDE) && x == srv->w - 1) {
				an = 1;
				a[0] = ' ';
				sf &= ~FB_WIDE;
				if (cf & FB_WIDE) {
					/* A receiver that started as a copy. */
					bn = 1;
					b[0] = ' ';
					cf &= ~FB_WIDE;
				}
			}
			if (x != srv->w - 1) {
				/* DCH can move a wrap flag off the edge. */
				sf &= ~FB_WRAP;
				cf &= ~FB_WRAP;
			}
			ra = s->r;
			rb = c->r;
			ra.attr &= ~SERVER_ATTRS;
			rb.attr &= ~SERVER_ATTRS;
			if (y == srv->h - 1) {
				sf &= ~FB_WRAP;
				cf &= ~FB_WRAP;
			}
			if (an != bn || memcmp(a, b, an) != 0 ||
			    memcmp(&ra, &rb, sizeof(ra)) != 0 ||
			    ((sf ^ cf) & (FB_WIDE | FB_WRAP))) {
				snprintf(why, whylen, "cell (%d,%d)", y, x);
				return 0;
			}
		}
	}
	return 1;
}

/*
 * Is p[0..n) within the renderer's vocabulary (terminal.md §9.6)? Printable
 * text, BEL BS LF CR, CSI with digits and ';' ending in H, 2J, X, K, r, m,
 * and private modes ending in h or l, OSC 0/1/2/52;c; ending in BEL.
 */
static int
in_vocabulary(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '[') {
			k = i + 2;
			if (k < n && p[k] == '?') {
				k++;
			}
			while (k < n && ((p[k] >= '0' && p[k] <= '9') ||
			    p[k] == ';')) {
				k++;
			}
			if (k >= n || p[k] == 0 ||
			    strchr(p[i + 2] == '?' ? "hl" : "HJXKrm", p[k]) ==
			    NULL) {
				return 0;
			}
			if (p[k] == 'J' && !(k == i + 3 && p[i + 2] == '2')) {
				return 0;
			}
			i = k + 1;
		} else if (p[i] == 0x1b && i + 1 < n && p[i + 1] == ']') {
			k = i + 2;
			if (!(n - k > 2 && p[k] >= '0' && p[k] <= '2' &&
			    p[k + 1] == ';') &&
			    !(n - k > 5 && memcmp(p + k, "52;c;", 5) == 0)) {
				return 0;
			}
			while (k < n && p[k] >= 0x20) {
				k++;
			}
			if (k == n || p[k] != 0x07) {
				return 0;
			}
			i = k + 1;
		} else if (p[i] < 0x20 && p[i] != 0x07 && p[i] != 0x08 &&
		    p[i] != 0x0a && p[i] != 0x0d) {
			return 0;
		} else {
			i++;
		}
	}
	return 1;
}

/* ---- 1. the model ---- */

static void
test_model(void)
{
	struct fb a, b;
	struct fb_cell *c;
	uint64_t g;

	CHECK(fb_init(&a, 0, 5) == -1);
	CHECK(fb_init(&a, 5, FB_MAX_ROWS + 1) == -1);
	CHECK(fb_init(&a, FB_MAX_COLS + 1, 5) == -1);
	CHECK(fb_init(&a, 10, 4) == 0);
	CHECK(a.w == 10 && a.h == 4 && a.cy == 0 && a.cx == 0);
	CHECK(a.modes == (FB_M_AUTOWRAP | FB_M_CURSOR));
	CHECK(a.top == 0 && a.bottom == 3 && a.default_tabs);
	CHECK(a.tabs[0] == 1 && a.tabs[1] == 1);

	/* A copy shares rows; changing one unshares only that row. */
	CHECK(fb_copy(&b, &a) == 0);
	CHECK(a.rows[0] == b.rows[0] && a.rows[0]->refs == 2);
	CHECK(fb_equal(&a, &b));
	g = b.rows[1]->gen;
	c = fb_row_mut(&b, 1);
	CHECK(c != NULL && b.rows[1] != a.rows[1]);
	CHECK(b.rows[1]->gen == g && a.rows[1]->refs == 1);
	CHECK(b.rows[0] == a.rows[0]);
	CHECK(fb_equal(&a, &b));	/* same cells: still equal */
	c[3].len = 1;
	c[3].c[0] = 'x';
	CHECK(!fb_equal(&a, &b));
	CHECK(fb_cell(&a, 1, 3)->len == 0);
	CHECK(fb_row_mut(&b, 1) == c);	/* already unshared: no copy */

	/* A wholly reset row gets a new generation. */
	c = fb_row_blank(&b, 2, 42);
	CHECK(c != NULL && b.rows[2]->gen != a.rows[2]->gen);
	CHECK(c[0].r.bg == 42 && c[9].r.bg == 42 && c[5].len == 0);
	CHECK(a.rows[2]->refs == 1 && fb_cell(&a, 2, 0)->r.bg == 0);
	fb_free(&b);

	/* Equality: compared and not compared fields (terminal.md §1). */
	CHECK(fb_copy(&b, &a) == 0);
	b.top = 1;
	b.modes &= ~FB_M_AUTOWRAP;
	b.wrap_pending = 1;
	b.icon_len = 1;
	b.icon[0] = 'i';
	CHECK(!fb_equal(&a, &b));	/* icon: compared, harmlessly */
	b.icon_len = 0;
	CHECK(fb_equal(&a, &b));
	b.modes |= FB_M_ALTSCROLL;
	CHECK(!fb_equal(&a, &b));
	b.modes = a.modes;
	b.bell++;
	CHECK(!fb_equal(&a, &b));
	b.bell = a.bell;
	b.rend.fg = 31;
	CHECK(!fb_equal(&a, &b));
	b.rend = a.rend;
	b.mouse_enc = 1006;
	CHECK(!fb_equal(&a, &b));
	b.mouse_enc = 0;
	CHECK(fb_clip_set(&b, "aGk=", 4) == 0);
	CHECK(!fb_equal(&a, &b));
	CHECK(fb_clip_set(&a, "aGk=", 4) == 0);
	CHECK(fb_equal(&a, &b));
	CHECK(fb_clip_set(&a, "", 0) == 0 && a.clip == NULL);
	fb_free(&b);
	fb_free(&a);
}

static void
test_resize(void)
{
	struct fb a, b;
	struct fb_cell *c;
	struct fb_row *r0;

	CHECK(fb_init(&a, 10, 4) == 0);
	c = fb_row_mut(&a, 0);
	c[9].flags |= FB_WRAP;
	c[0].len = 1;
	c[0].c[0] = 'A';
	c = fb_row_mut(&a, 3);
	c[0].len = 1;
	c[0].c[0] = 'Z';
	a.cy = 3;
	a.cx = 9;
	a.top = 1;
	a.bottom = 2;
	a.rend.bg = 44;
	a.comb_y = 3;
	a.comb_x = 9;
	a.wrap_pending = 1;

	/* Same width, fewer rows: rows kept by identity, bottom dropped. */
	r0 = a.rows[0];
	CHECK(fb_copy(&b, &a) == 0);
	CHECK(fb_resize(&b, 10, 2) == 0);
	CHECK(b.rows[0] == r0 && b.h == 2);
	CHECK(b.cy == 1 && b.cx == 9 && b.wrap_pending == 1);
	CHECK(b.top == 0 && b.bottom == 1);
	CHECK(b.comb_y == -1);
	CHECK(fb_cell(&b, 0, 9)->flags & FB_WRAP);	/* width kept */
	fb_free(&b);

	/* Wider and taller: new cells and rows blank in the current bg. */
	CHECK(fb_copy(&b, &a) == 0);
	CHECK(fb_resize(&b, 20, 6) == 0);
	CHECK(fb_cell(&b, 0, 0)->c[0] == 'A');
	CHECK(fb_cell(&b, 3, 0)->c[0] == 'Z');
	CHECK(fb_cell(&b, 0, 10)->r.bg == 44 && fb_cell(&b, 0, 19)->r.bg == 44);
	CHECK(fb_cell(&b, 5, 0)->r.bg == 44);
	CHECK(fb_cell(&b, 0, 5)->r.bg == 0);
	CHECK(!(fb_cell(&b, 0, 9)->flags & FB_WRAP));	/* width changed */
	CHECK(b.tabs[1] == 1 && b.tabs[2] & 1);		/* column 16 */
	CHECK(b.cy == 3 && b.cx == 9 && b.comb_y == 3);
	CHECK(b.top == 0 && b.bottom == 5);
	CHECK(fb_cell(&a, 0, 9)->flags & FB_WRAP);	/* a untouched */
	fb_free(&b);

	/* Narrower: cut, cursor clamped; no default stops after TBC 3. */
	CHECK(fb_copy(&b, &a) == 0);
	b.default_tabs = 0;
	memset(b.tabs, 0, sizeof(b.tabs));
	CHECK(fb_resize(&b, 4, 4) == 0);
	CHECK(b.cx == 3 && b.cy == 3 && b.comb_y == -1);
	CHECK(fb_resize(&b, 30, 4) == 0);
	CHECK(b.tabs[1] == 0 && b.tabs[2] == 0);
	CHECK(fb_cell(&b, 0, 0)->c[0] == 'A' && fb_cell(&b, 0, 5)->len == 0);
	CHECK(fb_resize(&b, 0, 4) == -1 && b.w == 30);
	/* Cut: a wrap flag DCH left mid-row becomes the row's (upstream). */
	c = fb_row_mut(&b, 1);
	c[29].flags |= FB_WRAP;
	c[9].flags |= FB_WRAP;
	CHECK(fb_resize(&b, 10, 4) == 0);
	CHECK(fb_cell(&b, 1, 9)->flags & FB_WRAP);
	CHECK(fb_resize(&b, 12, 4) == 0);
	CHECK(!(fb_cell(&b, 1, 9)->flags & FB_WRAP));
	CHECK(!(fb_cell(&b, 1, 11)->flags & FB_WRAP));
	CHECK(fb_resize(&b, 4, FB_MAX_ROWS + 1) == -1 && b.h == 4);
	fb_free(&b);
	fb_free(&a);
}

/* ---- 2. the renderer examples of terminal.md §14.2 ---- */

struct rcase {
	char id[8];
	int w, h;
	uint8_t old[256], new[256];
	size_t oldn, newn;
	char mode[8];
};

static int
parse_rcase(const char *line, struct rcase *rc)
{
	const char *p = line, *s;
	size_t n;

	memset(rc, 0, sizeof(*rc));
	if ((p = t_next_str(p, &s, &n)) == NULL || n >= sizeof(rc->id)) {
		return -1;
	}
	memcpy(rc->id, s, n);
	if ((p = t_next_str(p, &s, &n)) == NULL) {	/* title */
		return -1;
	}
	if (sscanf(p, ",%d,%d,", &rc->w, &rc->h) != 2) {
		return -1;
	}
	if ((p = t_next_str(p, &s, &n)) == NULL || n >= sizeof(rc->old)) {
		return -1;
	}
	rc->oldn = t_unescape(s, n, rc->old);
	if ((p = t_next_str(p, &s, &n)) == NULL || n >= sizeof(rc->new)) {
		return -1;
	}
	rc->newn = t_unescape(s, n, rc->new);
	if ((p = t_next_str(p, &s, &n)) == NULL || n >= sizeof(rc->mode)) {
		return -1;
	}
	memcpy(rc->mode, s, n);
	return 0;
}

/*
 * Expected output: upstream's bytes (terminal.md §14.2), except D22 and D23
 * where upstream's receiver diverges; there these are our bytes, which
 * converge (checked below as for every case).
 */
static const struct {
	const char *id, *want;
	int upstream;
} rwant[] = {
	{ "D1", "hello", 1 },
	{ "D2", "\033[?5l\033[r\033[0m\033[H\033[2J\033[?25lhello\033[K\r\n"
	    "\033[K\n\033[K\033[1;6H\033[?25h\033[0m\033[?2004l\033[?1003l"
	    "\033[?1002l\033[?1001l\033[?1000l\033[?1004l\033[?1015l"
	    "\033[?1006l\033[?1005l", 1 },
	{ "D3", "\033[?25l\r\nworld\033[?25h", 1 },
	{ "D4", "ab\033[0;1;31mc\033[0m", 1 },
	{ "D5", "\033[?25l\033[1;3H\033[5X\033[1;8H7\033[1;3H\033[?25h", 1 },
	{ "D6", "\033[?25l\033[1;3H   5\b\b\b\b\033[?25h", 1 },
	{ "D7", "\033[?25l\b\b\b\b\033[K\r\033[?25h", 1 },
	{ "D8", "\033[0;42m\033[K\033[0m", 1 },
	{ "D9", "\033[?25l\033[1;10HZ\r\n\033[?25h", 1 },
	{ "D10", "ab\033[?25l\033[1;9Hx\033[1;10Hyz\033[?25h", 1 },
	{ "D11", "\033[0m\r\n\n\033[?25l\033[3;1H5\r\n6\033[?25h", 1 },
	{ "D12", "\033[0m\033[1;4r\033[?25l\033[4;1H\n\033[r\033[1;1H"
	    "\033[?25h", 1 },
	{ "D13", "\xe6\xbc\xa2" "e\xcc\x81", 1 },
	{ "D14", "\033[?25l\n\xc2\xa0\xcc\x82\033[?25h", 1 },
	{ "D15", "\033]0;t\a", 1 },
	{ "D16", "\033]1;b\a\033]2;a\a", 1 },
	{ "D17", "\a", 1 },
	{ "D18", "\033]52;c;aGk=\a", 1 },
	{ "D19", "\033[?5h\033[?25l\033[?2004h\033[?1002h\033[?1004h"
	    "\033[?1006h", 1 },
	{ "D20", "\033[?1002l\033[?1000h\033[?1006l\033[?1015h", 1 },
	{ "D21", "\b\b\b\b", 1 },
	/* Upstream: ...0123456789\b\b\b, one column off on the receiver. */
	{ "D22", "\033[?25l\n\n0123456789\033[3;8H\033[?25h", 0 },
	/* Upstream: ab<wide>, never drawing the X over its right half. */
	{ "D23", "ab\xe6\xbc\xa2\033[?25l\bX\033[?25h", 0 },
	{ "D24", "\033[r\033[0m\033[H\033[2J\033[?25labc\033[K\r\n\033[K"
	    "\033[1;4H\033[?25h\033[0m\033[?2004l\033[?1003l\033[?1002l"
	    "\033[?1001l\033[?1000l\033[?1004l\033[?1015l\033[?1006l"
	    "\033[?1005l", 1 },
};

static int rcase_exact;

static void
run_rcase(const struct rcase *rc)
{
	struct fb srv, old, cli, blank;
	struct vt vs, vc;
	struct buf o = { 0 }, o1 = { 0 };
	const char *want = NULL;
	char why[64];
	size_t i;
	int ok;

	for (i = 0; i < LEN(rwant); i++) {
		if (strcmp(rwant[i].id, rc->id) == 0) {
			want = rwant[i].want;
		}
	}
	CHECK(want != NULL);
	if (want == NULL) {
		fprintf(stderr, "no expected output for %s\n", rc->id);
		return;
	}
	if (fb_init(&srv, rc->w, rc->h) == -1 ||
	    fb_init(&cli, rc->w, rc->h) == -1 ||
	    fb_init(&blank, rc->w, rc->h) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vs, &srv);
	vt_init(&vc, &cli);
	vt_feed(&vs, rc->old, rc->oldn);
	/* The receiver gets the old state through the renderer. */
	CHECK(fb_diff(&blank, &srv, 1, &caps_server, &o1) == 0);
	vt_feed(&vc, o1.p, o1.len);
	CHECK(fb_copy(&old, &srv) == 0);
	if (strcmp(rc->mode, "resize") == 0) {
		CHECK(vt_resize(&vs, 8, 2) == 0);	/* D24 */
	}
	vt_feed(&vs, rc->new, rc->newn);
	CHECK(fb_diff(&old, &srv, strcmp(rc->mode, "diffu") != 0,
	    &caps_server, &o) == 0);
	CHECK(in_vocabulary(o.p, o.len));
	ok = CHECK_MEM(o.p, o.len, want, strlen(want));
	if (!ok) {
		fprintf(stderr, "renderer example %s\n", rc->id);
		dump_bytes("got", o.p, o.len);
		dump_bytes("want", (const uint8_t *)want, strlen(want));
	}
	for (i = 0; i < LEN(rwant); i++) {
		if (ok && rwant[i].upstream &&
		    strcmp(rwant[i].id, rc->id) == 0) {
			rcase_exact++;
		}
	}
	if (srv.w != cli.w || srv.h != cli.h) {
		CHECK(vt_resize(&vc, srv.w, srv.h) == 0);
	}
	vt_feed(&vc, o.p, o.len);
	ok = shows(&srv, &cli, why, sizeof(why));
	CHECK(ok);
	if (!ok) {
		fprintf(stderr, "renderer example %s does not converge: %s\n",
		    rc->id, why);
		dump_fb("server", &srv);
		dump_fb("client", &cli);
	}
	buf_free(&o);
	buf_free(&o1);
	vt_free(&vs);
	vt_free(&vc);
	fb_free(&srv);
	fb_free(&old);
	fb_free(&cli);
	fb_free(&blank);
}

static void
test_rcases(void)
{
	FILE *f;
	char line[1024];
	struct rcase rc;
	int n = 0;

	if ((f = fopen("test/cases/rcases.py", "r")) == NULL) {
		perror("test/cases/rcases.py");
		CHECK(0);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, " (\"D", 4) != 0) {
			continue;
		}
		CHECK(parse_rcase(line, &rc) == 0);
		run_rcase(&rc);
		n++;
	}
	fclose(f);
	CHECK(n == (int)LEN(rwant));
	/* The vocabulary checker itself. */
	CHECK(!in_vocabulary((const uint8_t *)"\033[1;2f", 6));
	CHECK(!in_vocabulary((const uint8_t *)"\033[J", 3));
	CHECK(!in_vocabulary((const uint8_t *)"\033[?7l\033[4h", 9));
	CHECK(!in_vocabulary((const uint8_t *)"\033]8;;x\033\\", 8));
	CHECK(!in_vocabulary((const uint8_t *)"\033]2;x", 5));
	CHECK(!in_vocabulary((const uint8_t *)"a\tb", 3));
	CHECK(in_vocabulary((const uint8_t *)"\033[?1006h\033]52;c;\a\b", 17));
	printf("renderer examples: %d run, %d byte-exact with upstream\n", n,
	    rcase_exact);
}

/* ---- 3. convergence ---- */

/* Characters to draw with: narrow, wide, and combining marks. */
static const uint32_t narrow_cps[] = {
	'a', 'Z', '0', '~', '.', ' ', 0xe9, 0xa0, 0xff, 0x3b1, 0x416, 0x2500,
	0x20ac, 0xfb01,
};
static const uint32_t wide_cps[] = {
	0x6f22, 0x5b57, 0xac00, 0x3042, 0xff21, 0x1f600, 0x1f680,
};
static const uint32_t comb_cps[] = { 0x301, 0x302, 0x308, 0x20d7, 0x5b4 };

static uint32_t
rnd_color(int base)
{
	switch (rn(5)) {
	case 0:
	case 1:
		return 0;
	case 2:
		return (uint32_t)(base + rn(8));
	case 3:
		return (uint32_t)(base + rn(256));
	default:
		return FB_RGB | (rnd() & 0xffffffu);
	}
}

static struct fb_rend
rnd_rend(void)
{
	struct fb_rend r;

	r.fg = rnd_color(30);
	r.bg = rnd_color(40);
	r.attr = rn(3) ? 0 : (rnd() & 0xffu);
	return r;
}

/* A random cell that the emulator could have made. */
static void
rnd_cell(struct fb_cell *c, uint32_t bg)
{
	size_t n = 0;
	int k;

	fb_cell_reset(c, rn(3) ? bg : rnd_color(40));
	if (rn(3) == 0) {
		return;		/* blank: only a background */
	}
	c->r = rnd_rend();
	if (rn(12) == 0) {
		c->flags |= FB_FALLBACK;
	} else {
		put_utf8(c->c, &n, narrow_cps[rn(LEN(narrow_cps))]);
	}
	for (k = (c->flags & FB_FALLBACK) ? 1 + rn(2) : (rn(6) ? 0 : 1 + rn(3));
	    k > 0; k--) {
		put_utf8(c->c, &n, comb_cps[rn(LEN(comb_cps))]);
	}
	c->len = (uint8_t)n;
}

static void
rnd_row(struct fb *fb, int y)
{
	struct fb_cell *c;
	uint32_t bg = rn(2) ? 0 : rnd_color(40);
	size_t n;
	int x;

	if ((c = fb_row_mut(fb, y)) == NULL) {
		return;
	}
	for (x = 0; x < fb->w; x++) {
		if (rn(6) == 0) {
			/* A wide character and its blank right half. */
			fb_cell_reset(&c[x], 0);
			c[x].r = rnd_rend();
			n = 0;
			put_utf8(c[x].c, &n, wide_cps[rn(LEN(wide_cps))]);
			if (rn(5) == 0) {
				put_utf8(c[x].c, &n,
				    comb_cps[rn(LEN(comb_cps))]);
			}
			c[x].len = (uint8_t)n;
			c[x].flags = FB_WIDE;
			if (x + 1 < fb->w) {
				x++;
				fb_cell_reset(&c[x], c[x - 1].r.bg);
				if (rn(8) == 0) {
					/* Printed over the right half (D23). */
					rnd_cell(&c[x], bg);
				}
			}
			continue;
		}
		rnd_cell(&c[x], bg);
	}
	c[fb->w - 1].flags &= ~FB_WRAP;
	if (rn(4) == 0) {
		c[fb->w - 1].flags |= FB_WRAP;
	}
}

static void
rnd_text(char *s, size_t *len, size_t max)
{
	size_t n = 0;
	int k = rn(6) == 0 ? 0 : 1 + rn(12);
	uint32_t cp;

	while (k-- > 0 && n + 4 <= max) {
		cp = rn(4) ? (uint32_t)(0x21 + rn(94)) :
		    0xe9 + (uint32_t)rn(20);
		put_utf8(s, &n, cp);
	}
	*len = n;
}

/* Random draw state: cursor, modes, rendition, title, clipboard, bell. */
static void
rnd_state(struct fb *fb)
{
	static const int mouse[] = { 0, 0, 9, 1000, 1001, 1002, 1003 };
	static const int enc[] = { 0, 0, 1005, 1006, 1015 };
	char clip[64];
	size_t n;

	fb->cy = rn(fb->h);
	fb->cx = rn(fb->w);
	fb->modes = FB_M_AUTOWRAP | (rnd() & (FB_M_CURSOR | FB_M_REVERSE |
	    FB_M_PASTE | FB_M_FOCUS | FB_M_ALTSCROLL));
	fb->mouse_mode = mouse[rn(LEN(mouse))];
	fb->mouse_enc = enc[rn(LEN(enc))];
	fb->rend = rn(2) ? rnd_rend() : fb->rend;
	if (rn(4) == 0) {
		fb->title_init = 1;
		rnd_text(fb->title, &fb->title_len, 200);
		if (rn(2)) {
			memcpy(fb->icon, fb->title, fb->title_len);
			fb->icon_len = fb->title_len;
		} else {
			rnd_text(fb->icon, &fb->icon_len, 200);
		}
	}
	if (rn(5) == 0) {
		rnd_text(clip, &n, sizeof(clip));
		fb_clip_set(fb, clip, n);
	}
	fb->bell += (uint32_t)rn(2);
}

static void
rnd_frame(struct fb *fb, int w, int h)
{
	int y;

	if (fb_init(fb, w, h) == -1) {
		return;
	}
	for (y = 0; y < h; y++) {
		if (rn(4)) {
			rnd_row(fb, y);
		}
	}
	rnd_state(fb);
}

/* A new frame from old: changed rows, scrolls, state, sometimes a resize. */
static int
rnd_successor(struct fb *nw, const struct fb *old)
{
	struct fb_row *t[FB_MAX_ROWS];
	int y, k, top, bot, i;

	if (fb_copy(nw, old) == -1) {
		return -1;
	}
	if (rn(3) == 0) {
		/* Scroll rows top..bot up by k, blank rows come in. */
		top = rn(3) ? 0 : rn(nw->h);
		bot = rn(2) ? nw->h - 1 : top + rn(nw->h - top);
		k = 1 + rn(bot - top + 1);
		for (i = top; i <= bot; i++) {
			t[i] = nw->rows[i];
		}
		for (i = top; i <= bot; i++) {
			if (i + k <= bot) {
				nw->rows[i] = t[i + k];
			} else {
				nw->rows[i] = t[i - (bot - top + 1 - k)];
			}
		}
		for (i = bot - k + 1; i <= bot; i++) {
			fb_row_blank(nw, i, rn(3) ? 0 : rnd_color(40));
		}
	}
	for (y = 0; y < nw->h; y++) {
		if (rn(4) == 0) {
			rnd_row(nw, y);
		} else if (rn(6) == 0) {
			/* A few cells only. */
			struct fb_cell *c = fb_row_mut(nw, y);
			int x = rn(nw->w);

			if (c != NULL && !(c[x].flags & FB_WIDE) &&
			    (x == 0 || !(c[x - 1].flags & FB_WIDE))) {
				rnd_cell(&c[x], 0);
				if (x == nw->w - 1 && rn(2)) {
					c[x].flags |= FB_WRAP;
				}
			}
		}
	}
	if (rn(2)) {
		rnd_state(nw);
	} else {
		nw->cy = rn(nw->h);
		nw->cx = rn(nw->w);
	}
	if (rn(12) == 0) {
		fb_resize(nw, 1 + rn(14), 1 + rn(8));
	}
	return 0;
}

struct conv {
	int pairs, fails;
	uint64_t seed;
};

/*
 * The receiver holds old (a copy put into the state the renderer always
 * leaves behind); fb_diff(old, new) must make it show new.
 */
static int
converge_pair(struct conv *cv, const struct fb *old, const struct fb *nw,
    int initialized, const struct fb_caps *caps, const char *what)
{
	struct fb cli;
	struct vt vc;
	struct buf o = { 0 };
	char why[64];
	int ok;

	if (fb_copy(&cli, old) == -1) {
		return 0;
	}
	cli.top = 0;
	cli.bottom = cli.h - 1;
	cli.modes = (cli.modes & ~(FB_M_ORIGIN | FB_M_INSERT)) | FB_M_AUTOWRAP;
	cli.wrap_pending = 0;
	vt_init(&vc, &cli);
	if (fb_diff(old, nw, initialized, caps, &o) == -1) {
		ok = 0;
		snprintf(why, sizeof(why), "fb_diff failed");
	} else {
		if (nw->w != cli.w || nw->h != cli.h) {
			vt_resize(&vc, nw->w, nw->h);
		}
		vt_feed(&vc, o.p, o.len);
		ok = shows(nw, &cli, why, sizeof(why)) && vc.reply.len == 0;
		if (ok && !in_vocabulary(o.p, o.len)) {
			ok = 0;
			snprintf(why, sizeof(why), "outside the vocabulary");
		}
	}
	cv->pairs++;
	if (!ok) {
		cv->fails++;
		if (cv->fails <= 3) {
			fprintf(stderr, "convergence (%s, seed %llu, pair %d, "
			    "initialized %d, ech %d bce %d): %s\n", what,
			    (unsigned long long)cv->seed, cv->pairs,
			    initialized, caps->ech, caps->bce, why);
			dump_fb("old", old);
			dump_fb("new", nw);
			dump_fb("receiver", &cli);
			dump_bytes("diff", o.p, o.len);
		}
	}
	buf_free(&o);
	vt_free(&vc);
	fb_free(&cli);
	return ok;
}

static void
converge_constructed(struct conv *cv, int n)
{
	struct fb a, b;
	int i, w, h;

	for (i = 0; i < n; i++) {
		if (rn(10) == 0) {
			w = 40 + rn(60);
			h = 10 + rn(20);
		} else {
			w = 1 + rn(14);
			h = 1 + rn(8);
		}
		rnd_frame(&a, w, h);
		if (rn(4) == 0) {
			rnd_frame(&b, 1 + rn(14), 1 + rn(8));
		} else if (rnd_successor(&b, &a) == -1) {
			fb_free(&a);
			continue;
		}
		converge_pair(cv, &a, &b, 1, &caps_server, "constructed");
		converge_pair(cv, &a, &b, rn(4) != 0, &caps_dumb,
		    "constructed");
		if (rn(4) == 0) {
			converge_pair(cv, &a, &b, 0, &caps_server,
			    "constructed");
		}
		fb_free(&a);
		fb_free(&b);
	}
}

/* Random application output: everything the emulator interprets. */
static size_t
rnd_output(char *s, size_t max, int w, int h)
{
	static const char *const ctl[] = {
		"\r", "\n", "\r\n", "\b", "\t", "\a", "\033M", "\033D", "\033E",
		"\033[K", "\033[1K", "\033[2K", "\033[J", "\033[1J", "\033[2J",
		"\033[3X", "\033[7X", "\033[L", "\033[2M", "\033[3@", "\033[2P",
		"\033[S", "\033[2T", "\033[m", "\033[1;4;7m", "\033[5;8;3m",
		"\033[22;24;27m", "\033[9;2m", "\033[41m", "\033[42;33m",
		"\033[38;5;200m", "\033[48;5;17m", "\033[38;2;10;20;30m",
		"\033[48;2;1;2;3m", "\033[91;104m", "\033[39;49m", "\033[0m",
		"\033[?5h", "\033[?5l", "\033[?25l", "\033[?25h", "\033[?2004h",
		"\033[?2004l", "\033[?1000h", "\033[?1002h", "\033[?9h",
		"\033[?1003l", "\033[?1004h", "\033[?1004l", "\033[?1006h",
		"\033[?1015h", "\033[?1005l", "\033[?1007h", "\033[?7l",
		"\033[?7h", "\033[?6h", "\033[?6l", "\033[4h", "\033[4l",
		"\0337", "\0338", "\033[r", "\033]0;title\a",
		"\033]2;t\xc3\xa9\a",
		"\033]1;icon\033\\", "\033]52;c;aGVsbG8=\a", "\033]52;c;\a",
		"\033c", "\033[!p", "\033[3g", "\033H", "\033[?3h",
		"\033#8", "\033[Z", "\033[2I", "\033[G", "\033[d",
	};
	size_t n = 0, len;
	char t[64];
	int k, j;
	uint32_t cp;

	for (k = 1 + rn(12); k > 0 && n + 64 < max; k--) {
		switch (rn(10)) {
		case 0:
		case 1:
		case 2:
			/* Text, mostly ASCII, to fill and wrap rows. */
			for (j = 1 + rn(2 * w); j > 0 && n + 8 < max; j--) {
				cp = (uint32_t)(0x21 + rn(94));
				if (rn(8) == 0) {
					cp = wide_cps[rn(LEN(wide_cps))];
				} else if (rn(10) == 0) {
					cp = comb_cps[rn(LEN(comb_cps))];
				} else if (rn(12) == 0) {
					cp = narrow_cps[rn(LEN(narrow_cps))];
				}
				put_utf8(s, &n, cp);
			}
			break;
		case 3:
		case 4:
			/* Cursor moves, often to the edges. */
			snprintf(t, sizeof(t), "\033[%d;%dH",
			    rn(3) ? 1 + rn(h) : h, rn(3) ? 1 + rn(w) :
			    w - rn(2));
			len = strlen(t);
			memcpy(s + n, t, len);
			n += len;
			break;
		case 5:
			snprintf(t, sizeof(t), "\033[%d;%dr", 1 + rn(h),
			    1 + rn(h));
			len = strlen(t);
			memcpy(s + n, t, len);
			n += len;
			break;
		case 6:
			/* Bytes that are not valid UTF-8, and C1 forms. */
			s[n++] = (char)(0x80 + rn(128));
			break;
		default:
			j = rn(LEN(ctl));
			len = strlen(ctl[j]);
			memcpy(s + n, ctl[j], len);
			n += len;
			break;
		}
	}
	return n;
}

/*
 * A session as it happens: the server's emulator runs random output, each
 * state is rendered against the previous one and fed to a client that has
 * only ever seen renderer output. Now and then the size changes, a frame is
 * a full redraw, or the receiver has no ECH/BCE.
 */
static void
converge_session(struct conv *cv, int steps)
{
	struct fb srv, prev, cli;
	struct vt vs, vc;
	struct buf o = { 0 };
	const struct fb_caps *caps = rn(3) ? &caps_server : &caps_dumb;
	char out[4096], why[64];
	size_t n;
	int i, w, h, init, ok;

	w = rn(4) ? 2 + rn(14) : 80;
	h = rn(4) ? 1 + rn(8) : 24;
	if (fb_init(&srv, w, h) == -1) {
		return;
	}
	if (fb_init(&cli, w, h) == -1) {
		fb_free(&srv);
		return;
	}
	vt_init(&vs, &srv);
	vt_init(&vc, &cli);
	for (i = 0; i < steps; i++) {
		if (fb_copy(&prev, &srv) == -1) {
			break;
		}
		n = rnd_output(out, sizeof(out), srv.w, srv.h);
		vt_feed(&vs, (const uint8_t *)out, n);
		vs.reply.len = 0;
		if (rn(15) == 0) {
			vt_resize(&vs, 1 + rn(14), 1 + rn(8));
		}
		init = rn(10) != 0;
		o.len = 0;
		if (fb_diff(&prev, &srv, init, caps, &o) == -1) {
			CHECK(0);
			fb_free(&prev);
			break;
		}
		if (cli.w != srv.w || cli.h != srv.h) {
			vt_resize(&vc, srv.w, srv.h);
		}
		vt_feed(&vc, o.p, o.len);
		ok = shows(&srv, &cli, why, sizeof(why)) && vc.reply.len == 0;
		if (ok && !in_vocabulary(o.p, o.len)) {
			ok = 0;
			snprintf(why, sizeof(why), "outside the vocabulary");
		}
		cv->pairs++;
		if (!ok) {
			cv->fails++;
			if (cv->fails <= 3) {
				fprintf(stderr, "convergence (session, seed "
				    "%llu, pair %d, step %d, initialized %d, "
				    "ech %d bce %d): %s\n",
				    (unsigned long long)cv->seed, cv->pairs, i,
				    init, caps->ech, caps->bce, why);
				dump_bytes("output", (const uint8_t *)out, n);
				dump_fb("old", &prev);
				dump_fb("new", &srv);
				dump_fb("receiver", &cli);
				dump_bytes("diff", o.p, o.len);
			}
			fb_free(&prev);
			break;	/* the receiver is off now */
		}
		fb_free(&prev);
	}
	buf_free(&o);
	vt_free(&vs);
	vt_free(&vc);
	fb_free(&srv);
	fb_free(&cli);
}

static void
test_convergence(void)
{
	struct conv cv = { 0, 0, 0 };
	const char *e;
	int pairs = 30000, i;

	if ((e = getenv("FB_SEED")) != NULL) {
		cv.seed = strtoull(e, NULL, 10);
	} else {
		cv.seed = 20261125;
	}
	if ((e = getenv("FB_PAIRS")) != NULL) {
		pairs = atoi(e);
	}
	rng_state = cv.seed ? cv.seed : 1;
	printf("convergence: seed %llu (FB_SEED=n to repeat)\n",
	    (unsigned long long)cv.seed);
	converge_constructed(&cv, pairs / 3);
	i = 0;
	while (cv.pairs < pairs && i++ < pairs) {
		converge_session(&cv, 1 + rn(30));
	}
	printf("convergence: %d pairs, %d failed\n", cv.pairs, cv.fails);
	CHECK(cv.pairs >= pairs);
	CHECK(cv.fails == 0);
}

/*
 * Scripted sessions for the places where our renderer departs from
 * upstream's: each step's output goes to the server's emulator, the frame
 * is rendered against the previous one and fed to the client, which must
 * show the server's frame after every step. steps: NULL-terminated.
 */
static void
script(const char *name, int w, int h, const char *const *steps,
    const char *must_not)
{
	struct fb srv, prev, cli;
	struct vt vs, vc;
	struct buf o = { 0 };
	char why[64];
	int i, ok;

	if (fb_init(&srv, w, h) == -1 || fb_init(&cli, w, h) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vs, &srv);
	vt_init(&vc, &cli);
	for (i = 0; steps[i] != NULL; i++) {
		if (fb_copy(&prev, &srv) == -1) {
			CHECK(0);
			break;
		}
		vt_feed(&vs, (const uint8_t *)steps[i], strlen(steps[i]));
		o.len = 0;
		CHECK(fb_diff(&prev, &srv, 1, &caps_server, &o) == 0);
		vt_feed(&vc, o.p, o.len);
		ok = shows(&srv, &cli, why, sizeof(why));
		CHECK(ok);
		if (must_not != NULL && o.len >= strlen(must_not)) {
			CHECK(memmem(o.p, o.len, must_not, strlen(must_not)) ==
			    NULL);
		}
		if (!ok) {
			fprintf(stderr, "script %s, step %d: %s\n", name, i,
			    why);
			dump_fb("server", &srv);
			dump_fb("client", &cli);
			dump_bytes("diff", o.p, o.len);
		}
		fb_free(&prev);
	}
	buf_free(&o);
	vt_free(&vs);
	vt_free(&vc);
	fb_free(&srv);
	fb_free(&cli);
}

static void
test_scripts(void)
{
	/* A wide character left in the last column goes out as a blank. */
	static const char *const wide_last[] = {
		"\033[?7labcde\xe6\xbc\xa2", "\033[2;1Hx", NULL
	};
	/* A soft wrap moved to the bottom row and back up again. */
	static const char *const wrap_bottom[] = {
		"\033[2;1Habcdefg", "\033[T", "\033[S", "\033[S", NULL
	};
	/* The cell after a wide character, drawn over and over. */
	static const char *const after_wide[] = {
		"\xe6\xbc\xa2\xe5\xad\x97", "\033[1;2HX", "\033[1;4H\033[41mY",
		"\033[1;1H\xe6\xbc\xa2", "\033[1;2H\xe5\xad\x97", NULL
	};
	/* Bottom-right cell, then moves back along the bottom row. */
	static const char *const corner[] = {
		"\033[3;1H01234", "\033[3;4H", "\033[3;5HZ", "\033[3;3Hq",
		"\033[3;5H\033[1mW\033[3;2H", NULL
	};

	script("wide in last column", 6, 3, wide_last, "\xe6\xbc\xa2");
	script("wrap at the bottom", 5, 3, wrap_bottom, NULL);
	script("after a wide char", 6, 2, after_wide, NULL);
	script("bottom-right corner", 5, 3, corner, NULL);
}

/* Rendering an unchanged frame writes nothing and skips every row. */
static void
test_unchanged(void)
{
	struct fb a, b;
	struct buf o = { 0 };

	rnd_frame(&a, 80, 24);
	CHECK(fb_copy(&b, &a) == 0);
	CHECK(fb_diff(&a, &b, 1, &caps_server, &o) == 0);
	CHECK(o.len == 0);
	fb_free(&a);
	fb_free(&b);
	buf_free(&o);
}

/*
 * Running out of memory while rendering: an output buffer that cannot grow
 * makes fb_diff fail cleanly (the caller discards the partial frame).
 */
static void
test_diff_fails(void)
{
	struct fb a, b;
	struct buf o = { 0 };
	uint8_t one[1];

	CHECK(fb_init(&a, 10, 3) == 0);
	CHECK(fb_copy(&b, &a) == 0);
	CHECK(fb_row_mut(&b, 1) != NULL);
	fb_row_mut(&b, 1)[0].len = 1;
	fb_row_mut(&b, 1)[0].c[0] = 'x';
	o.p = one;
	o.len = SIZE_MAX / 2;
	o.cap = SIZE_MAX / 2;	/* any append must fail */
	CHECK(fb_diff(&a, &b, 1, &caps_server, &o) == -1);
	CHECK(fb_diff(&a, &b, 0, &caps_server, &o) == -1);
	CHECK(fb_diff(&a, &a, 1, &caps_server, &o) == 0);	/* nothing */
	CHECK(o.p == one && o.len == SIZE_MAX / 2);
	fb_free(&a);
	fb_free(&b);
}

/*
 * A narrow character printed where a wide one was: a real terminal blanks
 * the wide character's right half in a colour of its own (tmux: the
 * default), so the renderer draws that cell again even though the frames
 * agree on it (a blank with the wide character's background).
 */
static void
test_narrow_over_wide(void)
{
	struct fb old, new;
	struct fb_cell *c;
	struct buf o = { 0 };

	CHECK(fb_init(&old, 4, 1) == 0);
	c = fb_row_mut(&old, 0);
	CHECK(c != NULL);
	if (c == NULL) {
		fb_free(&old);
		return;
	}
	c[0].r.bg = 44;
	memcpy(c[0].c, "\xe6\xbc\xa2", 3);
	c[0].len = 3;
	c[0].flags = FB_WIDE;
	fb_cell_reset(&c[1], 44);
	CHECK(fb_copy(&new, &old) == 0);
	c = fb_row_mut(&new, 0);
	CHECK(c != NULL);
	if (c != NULL) {
		fb_cell_reset(&c[0], 44);
		c[0].c[0] = 'a';
		c[0].len = 1;
		CHECK(fb_diff(&old, &new, 1, &caps_server, &o) == 0);
		/* Column 1 drawn again after the "a", in its colour. */
		CHECK(o.len > 0 &&
		    memmem(o.p, o.len, "\033[0;44ma ", 9) != NULL);
	}
	buf_free(&o);
	fb_free(&new);
	fb_free(&old);
}

/*
 * A wide character in the last two columns of a soft-wrapped row: its
 * blank right half carries the wrap flag, and drawing that blank again
 * (after a CUP into the right half) would erase the wide character.
 */
static void
test_wide_at_wrap(void)
{
	struct fb blank, new;
	struct fb_cell *c;
	struct buf o = { 0 };

	CHECK(fb_init(&blank, 4, 2) == 0);
	CHECK(fb_copy(&new, &blank) == 0);
	c = fb_row_mut(&new, 0);
	CHECK(c != NULL);
	if (c != NULL) {
		c[0].c[0] = 'a';
		c[0].len = 1;
		c[1].c[0] = 'b';
		c[1].len = 1;
		memcpy(c[2].c, "\xe6\xbc\xa2", 3);
		c[2].len = 3;
		c[2].flags = FB_WIDE;
		c[3].flags |= FB_WRAP;
		c = fb_row_mut(&new, 1);
	}
	CHECK(c != NULL);
	if (c != NULL) {
		c[0].c[0] = 'c';
		c[0].len = 1;
		CHECK(fb_diff(&blank, &new, 1, &caps_server, &o) == 0);
		CHECK(o.len > 0 &&
		    memmem(o.p, o.len, "\xe6\xbc\xa2", 3) != NULL);
		CHECK(o.len > 0 && memmem(o.p, o.len, "\033[1;4H", 6) == NULL);
	}
	buf_free(&o);
	fb_free(&new);
	fb_free(&blank);
}

/*
 * The bytes of one diff: the receiver shows what host bytes old drew on a
 * blank w x h screen, and the frame becomes what new draws after them.
 */
static void
expect_diff(const char *what, int w, int h, const char *old,
    const char *new, const struct fb_caps *caps, const char *want)
{
	struct fb srv, prev;
	struct vt vs;
	struct buf o = { 0 };

	if (fb_init(&srv, w, h) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vs, &srv);
	vt_feed(&vs, (const uint8_t *)old, strlen(old));
	CHECK(fb_copy(&prev, &srv) == 0);
	vt_feed(&vs, (const uint8_t *)new, strlen(new));
	CHECK(fb_diff(&prev, &srv, 1, caps, &o) == 0);
	if (!CHECK_MEM(o.p, o.len, want, strlen(want))) {
		fprintf(stderr, "diff: %s\n", what);
		dump_bytes("got", o.p, o.len);
		dump_bytes("want", (const uint8_t *)want, strlen(want));
	}
	buf_free(&o);
	vt_free(&vs);
	fb_free(&prev);
	fb_free(&srv);
}

/*
 * The limits of terminal.md §9.1 and 9.4, each from both sides: ECH only
 * for more than four blanks; erasing (EL, ECH) only where the receiver
 * erases in the run's rendition, that is with bce or in the default
 * rendition; line feeds for fewer than five rows down, backspaces for fewer
 * than five columns left.
 */
static void
test_render_limits(void)
{
	static const struct fb_caps ech_only = { 1, 0, 1 };
	static const struct {
		const char *what;
		int h;
		const char *old, *new;
		const struct fb_caps *caps;
		const char *want;
	} cases[] = {
		{ "four blanks", 3, "0123456789", "\033[1;3H\033[4X",
		    &caps_server, "\033[?25l\033[1;3H    6\033[1;3H\033[?25h" },
		{ "coloured blanks, no bce", 3, "0123456789",
		    "\033[1;3H\033[42m\033[5X\033[0m", &ech_only,
		    "\033[?25l\033[1;3H\033[0;42m     \033[0m7\033[1;3H"
		    "\033[?25h" },
		{ "coloured row end, no bce", 3, "", "\033[42m\033[K\033[0m",
		    &ech_only, "\033[0;42m          \r\n\033[1;1H\033[0m" },
		{ "default blanks, no bce", 3, "0123456789", "\033[1;3H\033[5X",
		    &ech_only, "\033[?25l\033[1;3H\033[5X\033[1;8H7\033[1;3H"
		    "\033[?25h" },
		{ "default row end, no bce", 3, "0123456789",
		    "\033[1;6H\033[K\033[1;1H", &ech_only,
		    "\033[?25l\b\b\b\b\033[K\r\033[?25h" },
		{ "four rows down", 6, "", "\033[5;1H", &caps_server,
		    "\n\n\n\n" },
		{ "five rows down", 6, "", "\033[6;1H", &caps_server,
		    "\033[6;1H" },
		{ "four columns left", 3, "\033[1;7H", "\033[1;3H",
		    &caps_server, "\b\b\b\b" },
		{ "five columns left", 3, "\033[1;8H", "\033[1;3H",
		    &caps_server, "\033[1;3H" },
	};
	size_t i;

	for (i = 0; i < LEN(cases); i++) {
		expect_diff(cases[i].what, 10, cases[i].h, cases[i].old,
		    cases[i].new, cases[i].caps, cases[i].want);
	}
}

/* Every cell of row y is blank with background bg, and the row is whole. */
static int
row_is_blank(const struct fb *fb, int y, uint32_t bg)
{
	struct fb_cell blank;
	int x;

	memset(&blank, 0, sizeof(blank));
	blank.r.bg = bg;
	if (fb->rows[y]->w != fb->w) {
		return 0;
	}
	for (x = 0; x < fb->w; x++) {
		if (memcmp(fb_cell(fb, y, x), &blank, sizeof(blank)) != 0) {
			return 0;
		}
	}
	return 1;
}

/* Fill every cell of fb with c. */
static void
scribble(struct fb *fb, char c)
{
	struct fb_cell *r;
	int y, x;

	for (y = 0; y < fb->h; y++) {
		if ((r = fb_row_mut(fb, y)) == NULL) {
			continue;
		}
		for (x = 0; x < fb->w; x++) {
			r[x].c[0] = c;
			r[x].len = 1;
			r[x].r.fg = 31;
		}
	}
}

/*
 * The row pool: rows a copy releases come back dirty, and every way a
 * frame takes a row from the pool (blanking, growing, unsharing) must
 * set all of its cells; the pool keeps its bounds and follows resizes.
 */
static void
test_pool(void)
{
	struct fb fb, copy;
	size_t row;
	uint32_t bg;
	int y, ok = 1, i;

	if (fb_init(&fb, 30, 6) == -1) {
		CHECK(0);
		return;
	}
	CHECK(fb.pool != NULL && fb.pool->refs == 1 && fb.pool->n == 0);
	for (i = 0; i < 20; i++) {
		scribble(&fb, (char)('a' + i));
		CHECK(fb_copy(&copy, &fb) == 0);
		CHECK(fb.pool->refs == 2);
		/* Shared rows blanked: new rows, from the pool once the
		 * copies start releasing theirs. */
		for (y = 0; y < fb.h; y++) {
			bg = i % 2 ? 44 : 0;
			ok = ok && fb_row_blank(&fb, y, bg) != NULL &&
			    row_is_blank(&fb, y, bg);
		}
		fb_free(&copy);
		CHECK(fb.pool->refs == 1);
	}
	CHECK(ok);
	CHECK(fb.pool->n > 0 && fb.pool->n <= FB_POOL_ROWS);
	/* Growing takes dirty rows from the pool: they must come blank. */
	scribble(&fb, 'z');
	CHECK(fb_copy(&copy, &fb) == 0);
	scribble(&fb, 'y');	/* unshares every row */
	fb_free(&copy);		/* the 'z' rows go to the pool */
	CHECK(fb.pool->n >= 6);
	CHECK(fb_resize(&fb, 30, 12) == 0);
	for (y = 6; y < 12; y++) {
		CHECK(row_is_blank(&fb, y, 0));
	}
	for (y = 0; y < 6; y++) {
		CHECK(fb_cell(&fb, y, 29)->c[0] == 'y');
	}
	/* Unsharing takes a row from the pool and copies all of it. */
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(fb_row_mut(&fb, 0) != NULL);
	CHECK(memcmp(fb.rows[0]->cells, copy.rows[0]->cells,
	    (size_t)fb.w * sizeof(struct fb_cell)) == 0);
	CHECK(fb.rows[0] != copy.rows[0]);
	fb_free(&copy);
	/* A new width empties the pool of the old one. */
	CHECK(fb_resize(&fb, 31, 12) == 0);
	CHECK(fb.pool->w == 31 && fb.pool->n == 0);
	for (y = 0; y < 12; y++) {
		CHECK(fb.rows[y]->w == 31);
	}
	/* The pool's bounds hold for the widest rows too. */
	CHECK(fb_resize(&fb, FB_MAX_COLS, 40) == 0);
	CHECK(fb_copy(&copy, &fb) == 0);
	scribble(&fb, 'q');
	fb_free(&copy);
	row = sizeof(struct fb_row) + FB_MAX_COLS * sizeof(struct fb_cell);
	CHECK(fb.pool->n >= 1 && (size_t)fb.pool->n * row <= FB_POOL_BYTES);
	fb_free(&fb);
}

int
main(void)
{
	rng_state = 1;
	test_model();
	test_resize();
	test_unchanged();
	test_diff_fails();
	test_rcases();
	test_scripts();
	test_convergence();
	test_narrow_over_wide();
	test_wide_at_wrap();
	test_render_limits();
	test_pool();
	return TEST_DONE();
}
