/*
 * framebuf.c: the screen model (struct fb) and the frame-diff renderer.
 *
 * A frame is an array of row pointers; rows are reference counted and shared
 * between copies, so copying a frame costs one pointer per row and anyone
 * changing a row unshares it first (fb_row_mut). Invariants: every row of a
 * frame has exactly w cells; the cursor is always inside the screen; bytes of
 * a cell past its length are zero, so cells compare with memcmp.
 *
 * fb_diff follows terminal.md section 9 (the renderer of upstream Mosh
 * 1.4.0) byte for byte in the common cases, except where upstream leaves the
 * receiver with a different screen (section 9.5 and D23 of section 14.2):
 * the cursor is marked unknown whenever it sits past the last column, and
 * the cell after a wide character is drawn when the receiver would otherwise
 * hold something else there. The output stays within the vocabulary of
 * section 9.6, which is what both ends' emulators understand.
 */
#include <stdio.h>

#include "mosh.h"

/* ---- rows ---- */

static struct fb_row *
row_alloc(int w)
{
	struct fb_row *r;

	/* w is at most FB_MAX_COLS, so this cannot overflow. */
	r = calloc(1, sizeof(*r) + (size_t)w * sizeof(struct fb_cell));
	if (r != NULL) {
		r->refs = 1;
	}
	return r;
}

static void
row_put(struct fb_row *r)
{
	if (r != NULL && --r->refs == 0) {
		free(r);
	}
}

static void
row_blank(struct fb_row *r, int w, uint32_t bg)
{
	int x;

	memset(r->cells, 0, (size_t)w * sizeof(struct fb_cell));
	if (bg != 0) {
		for (x = 0; x < w; x++) {
			r->cells[x].r.bg = bg;
		}
	}
}

static int
size_ok(int w, int h)
{
	return w >= 1 && w <= FB_MAX_COLS && h >= 1 && h <= FB_MAX_ROWS &&
	    (size_t)h <= SIZE_MAX / sizeof(struct fb_row *);
}

static void
tabs_default(struct fb *fb, int from, int to)
{
	int x;

	for (x = from; x < to; x++) {
		if (x % 8 == 0) {
			fb->tabs[x / 8] |= (uint8_t)(1u << (x % 8));
		}
	}
}

int
fb_init(struct fb *fb, int w, int h)
{
	int y;

	memset(fb, 0, sizeof(*fb));
	if (!size_ok(w, h)) {
		return -1;
	}
	if ((fb->rows = calloc((size_t)h, sizeof(*fb->rows))) == NULL) {
		return -1;
	}
	for (y = 0; y < h; y++) {
		if ((fb->rows[y] = row_alloc(w)) == NULL) {
			fb->h = y;
			fb_free(fb);
			return -1;
		}
		fb->rows[y]->gen = ++fb->gen_next;
	}
	fb->w = w;
	fb->h = h;
	fb->bottom = h - 1;
	fb->modes = FB_M_AUTOWRAP | FB_M_CURSOR;
	fb->saved.modes = FB_M_AUTOWRAP;
	fb->default_tabs = 1;
	tabs_default(fb, 0, w);
	return 0;
}

void
fb_free(struct fb *fb)
{
	int y;

	if (fb->rows != NULL) {
		for (y = 0; y < fb->h; y++) {
			row_put(fb->rows[y]);
		}
		free(fb->rows);
	}
	fb_clip_put(fb->clip);
	memset(fb, 0, sizeof(*fb));
}

int
fb_copy(struct fb *dst, const struct fb *src)
{
	struct fb_row **rows;
	int y;

	if ((rows = calloc((size_t)src->h, sizeof(*rows))) == NULL) {
		return -1;
	}
	*dst = *src;
	dst->rows = rows;
	for (y = 0; y < src->h; y++) {
		rows[y] = src->rows[y];
		rows[y]->refs++;
	}
	if (dst->clip != NULL) {
		dst->clip->refs++;
	}
	return 0;
}

struct fb_cell *
fb_row_mut(struct fb *fb, int y)
{
	struct fb_row *r = fb->rows[y], *n;

	if (r->refs > 1) {
		if ((n = row_alloc(fb->w)) == NULL) {
			return NULL;
		}
		memcpy(n->cells, r->cells, (size_t)fb->w * sizeof(struct fb_cell));
		n->gen = r->gen;
		r->refs--;
		fb->rows[y] = r = n;
	}
	return r->cells;
}

struct fb_cell *
fb_row_blank(struct fb *fb, int y, uint32_t bg)
{
	struct fb_row *r = fb->rows[y];

	if (r->refs > 1) {
		if ((r = row_alloc(fb->w)) == NULL) {
			return NULL;
		}
		fb->rows[y]->refs--;
		fb->rows[y] = r;
	}
	row_blank(r, fb->w, bg);
	r->gen = ++fb->gen_next;
	return r->cells;
}

void
fb_clip_put(struct fb_str *s)
{
	if (s != NULL && --s->refs == 0) {
		free(s);
	}
}

int
fb_clip_set(struct fb *fb, const char *s, size_t n)
{
	struct fb_str *c = NULL;

	if (n > 0) {
		if (n > SIZE_MAX - sizeof(*c) - 1 ||
		    (c = malloc(sizeof(*c) + n + 1)) == NULL) {
			return -1;
		}
		c->refs = 1;
		c->len = n;
		memcpy(c->s, s, n);
		c->s[n] = '\0';
	}
	fb_clip_put(fb->clip);
	fb->clip = c;
	return 0;
}

static int
clip_equal(const struct fb_str *a, const struct fb_str *b)
{
	size_t al = a ? a->len : 0, bl = b ? b->len : 0;

	if (a == b) {
		return 1;
	}
	return al == bl && (al == 0 || memcmp(a->s, b->s, al) == 0);
}

static int
row_equal(const struct fb_row *a, const struct fb_row *b, int w)
{
	return a == b ||
	    memcmp(a->cells, b->cells, (size_t)w * sizeof(struct fb_cell)) == 0;
}

/* The modes upstream compares (terminal.md section 1). */
#define CMP_MODES (FB_M_CURSOR | FB_M_REVERSE | FB_M_PASTE | FB_M_FOCUS | \
	FB_M_ALTSCROLL)

int
fb_equal(const struct fb *a, const struct fb *b)
{
	int y;

	if (a->w != b->w || a->h != b->h || a->cy != b->cy ||
	    a->cx != b->cx || ((a->modes ^ b->modes) & CMP_MODES) ||
	    a->mouse_mode != b->mouse_mode || a->mouse_enc != b->mouse_enc ||
	    memcmp(&a->rend, &b->rend, sizeof(a->rend)) != 0 ||
	    a->bell != b->bell || a->title_len != b->title_len ||
	    memcmp(a->title, b->title, a->title_len) != 0 ||
	    a->icon_len != b->icon_len ||
	    memcmp(a->icon, b->icon, a->icon_len) != 0 ||
	    !clip_equal(a->clip, b->clip)) {
		return 0;
	}
	for (y = 0; y < a->h; y++) {
		if (!row_equal(a->rows[y], b->rows[y], a->w)) {
			return 0;
		}
	}
	return 1;
}

int
fb_resize(struct fb *fb, int w, int h)
{
	struct fb_row **rows;
	int y, keep = MIN(fb->h, h), x;

	if (!size_ok(w, h)) {
		return -1;
	}
	if (w == fb->w && h == fb->h) {
		return 0;
	}
	if ((rows = calloc((size_t)h, sizeof(*rows))) == NULL) {
		return -1;
	}
	/* Allocate everything first so that failure leaves fb untouched. */
	for (y = 0; y < h; y++) {
		if (y < keep && w == fb->w) {
			continue;
		}
		if ((rows[y] = row_alloc(w)) == NULL) {
			goto fail;
		}
		row_blank(rows[y], w, fb->rend.bg);
		if (y < keep) {
			memcpy(rows[y]->cells, fb->rows[y]->cells,
			    (size_t)MIN(w, fb->w) * sizeof(struct fb_cell));
			for (x = 0; x < MIN(w, fb->w); x++) {
				rows[y]->cells[x].flags &= ~FB_WRAP;
			}
			rows[y]->gen = fb->rows[y]->gen;
		} else {
			rows[y]->gen = ++fb->gen_next;
		}
	}
	for (y = 0; y < fb->h; y++) {
		if (y < keep && w == fb->w) {
			rows[y] = fb->rows[y];
		} else {
			row_put(fb->rows[y]);
		}
	}
	free(fb->rows);
	fb->rows = rows;

	/* Tab stops: columns past the old width start clear or default. */
	if (w < fb->w) {
		for (x = w; x < fb->w; x++) {
			fb->tabs[x / 8] &= (uint8_t)~(1u << (x % 8));
		}
	} else if (fb->default_tabs) {
		tabs_default(fb, fb->w, w);
	}
	fb->w = w;
	fb->h = h;
	fb->top = 0;
	fb->bottom = h - 1;
	fb->cy = MIN(MAX(fb->cy, 0), h - 1);
	fb->cx = MIN(MAX(fb->cx, 0), w - 1);
	if (fb->comb_y >= h || fb->comb_x >= w) {
		fb->comb_y = -1;
	}
	return 0;
fail:
	for (y = 0; y < h; y++) {
		row_put(rows[y]);
	}
	free(rows);
	return -1;
}
