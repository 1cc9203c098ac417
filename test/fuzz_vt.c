/*
 * fuzz_vt.c: host output -> emulator A -> fb_diff -> emulator B.
 *
 * The input is a script: byte 0 picks the receiver's capabilities, how
 * often a full redraw happens and whether A has the server's extensions
 * (alternate screen, DEC graphics); then each record is a length byte n
 * followed by n bytes of application output (n < 0xf0), or 0xf0..0xff
 * followed by two bytes giving a new size. After every record A's new frame
 * is rendered against its previous one and fed to B, which has only ever
 * seen renderer output. Aborts when a cursor leaves the screen, when the
 * renderer writes anything outside the vocabulary of terminal.md §9.6, or
 * when B does not show what A holds (allowing only the differences the
 * renderer documents). A third emulator S gets A's input in slow mode (the
 * state machine alone, no fast paths) and must end up exactly like A.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"

#define FUZZ_VT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fb sa, sb, ss, prev;
static struct vt va, vb, vs;
static struct buf diff;

static void
dump(const char *name, const struct fb *f)
{
	int y, x;

	fprintf(stderr, "%s: %dx%d cursor (%d,%d)\n", name, f->w, f->h,
	    f->cy, f->cx);
	for (y = 0; y < f->h && f->rows != NULL; y++) {
		fprintf(stderr, "%3d|", y);
		for (x = 0; x < f->w; x++) {
			const struct fb_cell *c = fb_cell(f, y, x);

			if (c->len == 0) {
				fputc('.', stderr);
			} else {
				fprintf(stderr, "%s%.*s",
				    c->flags & FB_FALLBACK ? "\302\240" : "",
				    (int)c->len, c->c);
			}
		}
		fprintf(stderr, "|%s\n", fb_cell(f, y, f->w - 1)->flags &
		    FB_WRAP ? " wrap" : "");
	}
}

static void
fail(const char *what, int y, int x)
{
	size_t i;

	fprintf(stderr, "fuzz_vt: %s (%d,%d)\n", what, y, x);
	dump("previous", &prev);
	dump("A", &sa);
	dump("B", &sb);
	fprintf(stderr, "diff: ");
	for (i = 0; i < diff.len; i++) {
		fprintf(stderr, diff.p[i] < 0x20 || diff.p[i] == 0x7f ?
		    "\\x%02x" : "%c", diff.p[i]);
	}
	fprintf(stderr, "\n");
	abort();
}

static void
check_cursor(const struct fb *fb)
{
	if (fb->cy < 0 || fb->cy >= fb->h || fb->cx < 0 || fb->cx >= fb->w) {
		fail("cursor out of range", fb->cy, fb->cx);
	}
}

/* A and S: the same frame, cell for cell, and the same emulator state. */
static void
check_same(const struct fb *a, const struct fb *s)
{
	int y;

	if (!fb_equal(a, s) || a->wrap_pending != s->wrap_pending ||
	    a->comb_y != s->comb_y || a->comb_x != s->comb_x ||
	    a->modes != s->modes || a->top != s->top ||
	    a->bottom != s->bottom ||
	    memcmp(&a->rend, &s->rend, sizeof(a->rend)) != 0) {
		fail("the fast paths differ from the state machine", a->cy,
		    a->cx);
	}
	for (y = 0; y < a->h; y++) {
		if (memcmp(a->rows[y]->cells, s->rows[y]->cells,
		    (size_t)a->w * sizeof(struct fb_cell)) != 0) {
			fail("the fast paths differ from the state machine",
			    y, 0);
		}
	}
}

/* Code points of UTF-8 text (no validation: it came from the emulator). */
static size_t
cps(const char *s, size_t n, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (((uint8_t)s[i] & 0xc0) != 0x80) {
			if (k == max) {
				return i;
			}
			k++;
		}
	}
	return n;
}

/*
 * A title goes out as OSC 0;, 1; or 2; and the receiver keeps 256 code
 * points of the whole OSC string, so 254 of the title: longer titles (which
 * an application can set with the OSC ";" form) arrive cut, as upstream.
 */
static int
title_eq(const char *a, size_t an, const char *b, size_t bn)
{
	an = cps(a, an, 254);
	return an == bn && memcmp(a, b, an) == 0;
}

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

/* Does B show what A holds? The rules of framebuf_test.c's shows(). */
static void
check_shows(const struct fb *a, const struct fb *b)
{
	unsigned m = FB_M_CURSOR | FB_M_REVERSE | FB_M_PASTE | FB_M_FOCUS;
	char pa[64], pb[64];
	size_t na, nb;
	struct fb_rend ra, rb;
	int y, x;

	if (a->w != b->w || a->h != b->h) {
		fail("size", b->h, b->w);
	}
	if (a->cy != b->cy || a->cx != b->cx) {
		fail("cursor differs", b->cy, b->cx);
	}
	if (((a->modes ^ b->modes) & m) || a->mouse_mode != b->mouse_mode ||
	    a->mouse_enc != b->mouse_enc) {
		fail("modes differ", 0, 0);
	}
	ra = a->rend;
	rb = b->rend;
	ra.attr &= ~(FB_FAINT | FB_STRIKE);
	rb.attr &= ~(FB_FAINT | FB_STRIKE);
	if (memcmp(&ra, &rb, sizeof(ra)) != 0) {
		fail("current rendition differs", 0, 0);
	}
	if (a->title_init && (!title_eq(a->title, a->title_len, b->title,
	    b->title_len) || !title_eq(a->icon, a->icon_len, b->icon,
	    b->icon_len))) {
		fail("title differs", 0, 0);
	}
	na = a->clip ? a->clip->len : 0;
	nb = b->clip ? b->clip->len : 0;
	if (na != nb || (na && memcmp(a->clip->s, b->clip->s, na) != 0)) {
		fail("clipboard differs", 0, 0);
	}
	for (y = 0; y < a->h; y++) {
		if (memcmp(a->rows[y]->cells, b->rows[y]->cells,
		    (size_t)a->w * sizeof(struct fb_cell)) == 0) {
			continue;	/* the common case, quickly */
		}
		for (x = 0; x < a->w; x++) {
			const struct fb_cell *ca = fb_cell(a, y, x);
			const struct fb_cell *cb = fb_cell(b, y, x);
			unsigned fa = ca->flags, fbl = cb->flags;

			na = print_form(ca, pa);
			nb = print_form(cb, pb);
			if ((fa & FB_WIDE) && x == a->w - 1) {
				/* Sent as a blank: a receiver would wrap it. */
				na = 1;
				pa[0] = ' ';
				fa &= ~FB_WIDE;
			}
			if (x != a->w - 1 || y == a->h - 1) {
				/* Only the last cell's flag is the row's. */
				fa &= ~FB_WRAP;
				fbl &= ~FB_WRAP;
			}
			ra = ca->r;
			rb = cb->r;
			ra.attr &= ~(FB_FAINT | FB_STRIKE);
			rb.attr &= ~(FB_FAINT | FB_STRIKE);
			if (na != nb || memcmp(pa, pb, na) != 0 ||
			    memcmp(&ra, &rb, sizeof(ra)) != 0 ||
			    ((fa ^ fbl) & (FB_WIDE | FB_WRAP))) {
				fprintf(stderr, "A: flags %x rend %x/%x/%x; "
				    "B: flags %x rend %x/%x/%x\n", ca->flags,
				    (unsigned)ca->r.fg, (unsigned)ca->r.bg,
				    (unsigned)ca->r.attr, cb->flags,
				    (unsigned)cb->r.fg, (unsigned)cb->r.bg,
				    (unsigned)cb->r.attr);
				fail("cell differs", y, x);
			}
		}
	}
}

/* Is p[0..n) a CSI with only digits and ';' and one of the finals? */
static size_t
csi_len(const uint8_t *p, size_t n)
{
	size_t i = 2;

	if (i < n && p[i] == '?') {
		i++;
	}
	while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == ';')) {
		i++;
	}
	if (i >= n || strchr("HJXKrmhl", p[i]) == NULL || p[i] == 0) {
		fail("CSI outside the vocabulary", (int)i, p[i]);
	}
	if (p[2] == '?' && p[i] != 'h' && p[i] != 'l') {
		fail("private CSI outside the vocabulary", (int)i, p[i]);
	}
	if (p[2] != '?' && (p[i] == 'h' || p[i] == 'l')) {
		fail("ANSI mode outside the vocabulary", (int)i, p[i]);
	}
	if (p[i] == 'J' && !(i == 3 && p[2] == '2')) {
		fail("ED other than 2J", (int)i, p[i]);
	}
	return i + 1;
}

/* terminal.md §9.6: what a renderer may write. */
static void
check_vocabulary(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (p[i] == 0x1b) {
			if (i + 1 < n && p[i + 1] == '[') {
				i += csi_len(p + i, n - i);
				continue;
			}
			if (i + 1 < n && p[i + 1] == ']') {
				k = i + 2;
				if (!(n - k > 2 && p[k] >= '0' &&
				    p[k] <= '2' && p[k + 1] == ';') &&
				    !(n - k > 5 &&
				    memcmp(p + k, "52;c;", 5) == 0)) {
					fail("OSC outside the vocabulary",
					    0, 0);
				}
				while (k < n && p[k] != 0x07) {
					if (p[k] < 0x20 || p[k] == 0x1b) {
						fail("control inside OSC",
						    0, 0);
					}
					k++;
				}
				if (k == n) {
					fail("unterminated OSC", 0, 0);
				}
				if (k - i - 2 >= 5 &&
				    memcmp(p + i + 2, "52;c;", 5) == 0 &&
				    !fb_clip_valid((const char *)p + i + 7,
				    k - i - 7)) {
					fail("OSC 52 payload not base64", 0, 0);
				}
				i = k + 1;
				continue;
			}
			fail("ESC outside the vocabulary", 0, 0);
		}
		if (p[i] < 0x20 && p[i] != 0x07 && p[i] != 0x08 &&
		    p[i] != 0x0a && p[i] != 0x0d) {
			fail("control outside the vocabulary", 0, p[i]);
		}
		i++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fb_caps caps[2] = { { 1, 1, 1 }, { 0, 0, 1 } };
	const struct fb_caps *cp;
	size_t i = 1, n;
	int frame = 0, full;

	if (size < 1 || size > FUZZ_VT_MAX) {
		return 0;
	}
	cp = &caps[data[0] & 1];
	full = (data[0] >> 1) & 7;	/* every full-th frame is a redraw */
	if (fb_init(&sa, 80, 24) == -1 || fb_init(&sb, 80, 24) == -1 ||
	    fb_init(&ss, 80, 24) == -1) {
		abort();
	}
	vt_init(&va, &sa);
	vt_init(&vb, &sb);
	vt_init(&vs, &ss);
	vs.slow = 1;
	/* Only a server may speak the extensions; the receiver never does. */
	va.server_ext = (data[0] >> 4) & 1;
	vs.server_ext = va.server_ext;
	while (i < size) {
		if (fb_copy(&prev, &sa) == -1) {
			abort();
		}
		if (data[i] >= 0xf0) {
			if (size - i < 3) {
				fb_free(&prev);
				break;
			}
			vt_resize(&va, 1 + data[i + 1] % 120,
			    1 + data[i + 2] % 40);
			vt_resize(&vs, 1 + data[i + 1] % 120,
			    1 + data[i + 2] % 40);
			i += 3;
		} else {
			n = MIN((size_t)data[i], size - i - 1);
			vt_feed(&va, data + i + 1, n);
			vt_feed(&vs, data + i + 1, n);
			va.reply.len = 0;
			vs.reply.len = 0;
			i += 1 + n;
		}
		check_cursor(&sa);
		check_same(&sa, &ss);
		diff.len = 0;
		frame++;
		if (fb_diff(&prev, &sa, full == 0 || frame % full != 0, cp,
		    &diff) == -1) {
			abort();
		}
		check_vocabulary(diff.p, diff.len);
		if (sb.w != sa.w || sb.h != sa.h) {
			vt_resize(&vb, sa.w, sa.h);
		}
		vt_feed(&vb, diff.p, diff.len);
		check_cursor(&sb);
		if (vb.reply.len != 0) {
			fail("the receiver replied", 0, 0);
		}
		check_shows(&sa, &sb);
		diff.len = 0;
		if (fb_diff(&sa, &sa, 1, cp, &diff) == -1 || diff.len != 0) {
			fail("an unchanged frame renders to something", 0, 0);
		}
		fb_free(&prev);
	}
	vt_free(&va);
	vt_free(&vb);
	vt_free(&vs);
	fb_free(&sa);
	fb_free(&sb);
	fb_free(&ss);
	buf_free(&diff);
	return 0;
}
