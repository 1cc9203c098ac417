/*
 * framebuf.c: the screen model (struct fb) and the frame-diff renderer.
 *
 * A frame is an array of row pointers; rows are reference counted and shared
 * between copies, so copying a frame costs one pointer per row and anyone
 * changing a row unshares it first (fb_row_mut). Invariants: every row of a
 * frame has exactly w cells; the cursor is always inside the screen; bytes of
 * a cell past its length are zero, so cells compare with memcmp.
 *
 * fb_diff follows terminal.md §9 (the renderer of upstream Mosh
 * 1.4.0) byte for byte in the common cases, except where upstream leaves the
 * receiver with a different screen (§9.5 and D23 of §14.2):
 * the cursor is marked unknown whenever it sits past the last column, and
 * the cell after a wide character is drawn when the receiver would otherwise
 * hold something else there. The output stays within the vocabulary of
 * §9.6, which is what both ends' emulators understand.
 *
 * Section numbers (§) refer to doc/terminal.md unless another doc is named.
 */
#include <stdio.h>

#include "mosh.h"

/* ---- rows ---- */

static size_t
row_bytes(int w)
{
	/* w is at most FB_MAX_COLS, so this cannot overflow. */
	return sizeof(struct fb_row) + (size_t)w * sizeof(struct fb_cell);
}

static int
row_ptr_cmp(const void *a, const void *b)
{
	const struct fb_row *x = *(struct fb_row *const *)a;
	const struct fb_row *y = *(struct fb_row *const *)b;

	return x < y ? -1 : x > y;
}

size_t
fb_rows_bytes(struct fb_row *const *rows, int h, struct fb_row *const *base,
    int bh)
{
	struct fb_row *seen[FB_MAX_ROWS];
	size_t n = 0;
	int y;

	bh = base != NULL ? MAX(MIN(bh, FB_MAX_ROWS), 0) : 0;
	if (bh > 0) {
		memcpy(seen, base, (size_t)bh * sizeof(*seen));
		qsort(seen, (size_t)bh, sizeof(*seen), row_ptr_cmp);
	}
	for (y = 0; y < h; y++) {
		if (bh <= 0 || bsearch(&rows[y], seen, (size_t)bh,
		    sizeof(*seen), row_ptr_cmp) == NULL) {
			n += row_bytes(rows[y]->w);
		}
	}
	return n + (size_t)h * sizeof(*rows);
}

size_t
fb_bytes(const struct fb *fb, const struct fb *base)
{
	size_t n;

	n = fb_rows_bytes(fb->rows, fb->h, base ? base->rows : NULL,
	    base ? base->h : 0);
	if (fb->pool != NULL && (base == NULL || base->pool != fb->pool)) {
		n += sizeof(*fb->pool) + FB_POOL_BYTES;
	}
	if (fb->clip != NULL && (base == NULL || base->clip != fb->clip)) {
		n += sizeof(*fb->clip) + fb->clip->len + 1;
	}
	return n;
}

/* A row of w cells from the pool or the heap; its cells are not set. */
static struct fb_row *
row_alloc(struct fb_pool *p, int w)
{
	struct fb_row *r;

	if (p != NULL && p->w != w) {
		/* The frames were resized: the spares are the wrong size. */
		while (p->n > 0) {
			free(p->row[--p->n]);
		}
		p->w = w;
	}
	if (p != NULL && p->n > 0) {
		r = p->row[--p->n];
	} else if ((r = malloc(row_bytes(w))) == NULL) {
		return NULL;
	}
	r->refs = 1;
	r->w = w;
	r->gen = 0;
	return r;
}

/* Drop a reference; the last one gives the row to the pool or frees it. */
static void
row_put(struct fb_pool *p, struct fb_row *r)
{
	if (r == NULL || --r->refs > 0) {
		return;
	}
	if (p != NULL && r->w == p->w && p->n < FB_POOL_ROWS &&
	    (size_t)(p->n + 1) * row_bytes(r->w) <= FB_POOL_BYTES) {
		p->row[p->n++] = r;
		return;
	}
	free(r);
}

static void
pool_put(struct fb_pool *p)
{
	if (p == NULL || --p->refs > 0) {
		return;
	}
	while (p->n > 0) {
		free(p->row[--p->n]);
	}
	free(p);
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
	if ((fb->pool = calloc(1, sizeof(*fb->pool))) == NULL) {
		return -1;
	}
	fb->pool->refs = 1;
	fb->pool->w = w;
	if ((fb->rows = calloc((size_t)h, sizeof(*fb->rows))) == NULL) {
		fb_free(fb);
		return -1;
	}
	for (y = 0; y < h; y++) {
		if ((fb->rows[y] = row_alloc(fb->pool, w)) == NULL) {
			fb->h = y;
			fb_free(fb);
			return -1;
		}
		row_blank(fb->rows[y], w, 0);
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
			row_put(fb->pool, fb->rows[y]);
		}
		free(fb->rows);
	}
	pool_put(fb->pool);
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
	if (dst->pool != NULL) {
		dst->pool->refs++;
	}
	return 0;
}

struct fb_cell *
fb_row_mut(struct fb *fb, int y)
{
	struct fb_row *r = fb->rows[y], *n;

	if (r->refs > 1) {
		if ((n = row_alloc(fb->pool, fb->w)) == NULL) {
			return NULL;
		}
		memcpy(n->cells, r->cells,
		    (size_t)fb->w * sizeof(struct fb_cell));
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
		if ((r = row_alloc(fb->pool, fb->w)) == NULL) {
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

/*
 * Base64 (RFC 4648 §4) as OSC 52 carries it (terminal.md §7.14): the
 * alphabet, then at most two '=' that make the length a multiple of four;
 * unpadded, any length but one more than a multiple of four. A query ('?')
 * or anything else is not.
 */
int
fb_clip_valid(const char *s, size_t n)
{
	size_t i, pad = 0;

	while (pad < 2 && pad < n && s[n - 1 - pad] == '=') {
		pad++;
	}
	for (i = 0; i < n - pad; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		    s[i] == '/')) {
			return 0;
		}
	}
	return pad > 0 ? n % 4 == 0 : n % 4 != 1;
}

int
fb_clip_set(struct fb *fb, const char *s, size_t n)
{
	struct fb_str *c = NULL;

	if (!fb_clip_valid(s, n)) {
		return -1;
	}
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

/* The modes upstream compares (terminal.md §1). */
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

/*
 * The rows *rowsp, oh of ow cells, made h rows of w as terminal.md §8
 * says: top rows kept and cut or padded with cells blank in background bg;
 * new rows take gens from *gen. 0, or -1 (out of memory) with nothing
 * changed.
 */
static int
rows_resize(struct fb_pool *pool, uint64_t *gen, uint32_t bg,
    struct fb_row ***rowsp, int ow, int oh, int w, int h)
{
	struct fb_row **rows, **old = *rowsp;
	int y, keep = MIN(oh, h);

	if ((rows = calloc((size_t)h, sizeof(*rows))) == NULL) {
		return -1;
	}
	/* Allocate everything first so that failure leaves the rows as
	 * they were. */
	for (y = 0; y < h; y++) {
		if (y < keep && w == ow) {
			continue;
		}
		if ((rows[y] = row_alloc(pool, w)) == NULL) {
			goto fail;
		}
		row_blank(rows[y], w, bg);
		if (y < keep) {
			memcpy(rows[y]->cells, old[y]->cells,
			    (size_t)MIN(w, ow) * sizeof(struct fb_cell));
			/*
			 * The row's wrap flag goes, as upstream's: it clears
			 * the old last cell, so when the row is cut, a flag
			 * that DCH left on the new last cell stays.
			 */
			if (ow - 1 < w) {
				rows[y]->cells[ow - 1].flags &=
				    (uint8_t)~FB_WRAP;
			}
			rows[y]->gen = old[y]->gen;
		} else {
			rows[y]->gen = ++*gen;
		}
	}
	for (y = 0; y < oh; y++) {
		if (y < keep && w == ow) {
			rows[y] = old[y];
		} else {
			row_put(pool, old[y]);
		}
	}
	free(old);
	*rowsp = rows;
	return 0;
fail:
	for (y = 0; y < h; y++) {
		row_put(pool, rows[y]);
	}
	free(rows);
	return -1;
}

int
fb_resize(struct fb *fb, int w, int h)
{
	int x;

	if (!size_ok(w, h)) {
		return -1;
	}
	if (w == fb->w && h == fb->h) {
		return 0;
	}
	if (rows_resize(fb->pool, &fb->gen_next, fb->rend.bg, &fb->rows,
	    fb->w, fb->h, w, h) == -1) {
		return -1;
	}

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
}

struct fb_row **
fb_rows_hold(const struct fb *fb)
{
	struct fb_row **rows;
	int y;

	if ((rows = malloc((size_t)fb->h * sizeof(*rows))) == NULL) {
		return NULL;
	}
	for (y = 0; y < fb->h; y++) {
		rows[y] = fb->rows[y];
		rows[y]->refs++;
	}
	return rows;
}

void
fb_rows_release(struct fb_row **rows, int h)
{
	int y;

	if (rows == NULL) {
		return;
	}
	for (y = 0; y < h; y++) {
		row_put(NULL, rows[y]);
	}
	free(rows);
}

void
fb_rows_restore(struct fb *fb, struct fb_row **rows)
{
	int y;

	for (y = 0; y < fb->h; y++) {
		row_put(fb->pool, fb->rows[y]);
		fb->rows[y] = rows[y];
	}
	free(rows);
}

int
fb_rows_resize(struct fb *fb, struct fb_row ***rows, int ow, int oh)
{
	if (ow == fb->w && oh == fb->h) {
		return 0;
	}
	return rows_resize(fb->pool, &fb->gen_next, fb->rend.bg, rows, ow, oh,
	    fb->w, fb->h);
}

/* ---- the renderer (terminal.md §9) ---- */

/*
 * The renderer: where it writes, and what the receiving terminal is
 * believed to have while it does.
 */
struct render {
	struct buf *out;
	const struct fb *new;
	const struct fb_caps *caps;
	int err;
	int initialized;
	int cy, cx;		/* cursor; cy -1: unknown */
	int vis;		/* cursor visible */
	int pending;		/* the last print ended past the last column */
	int nowrap_y;		/* row shown without its wrap flag, or -1 */
	struct fb_rend sgr;
};

static const struct fb_cell zero_cell;
static const struct fb_rend zero_rend;

static void
put(struct render *s, const char *p, size_t n)
{
	if (!s->err && buf_append(s->out, p, n) == -1) {
		s->err = 1;
	}
}

static void
put_str(struct render *s, const char *p)
{
	put(s, p, strlen(p));
}

/* Append prefix, the decimal number n, suffix. */
static void
putn(struct render *s, const char *prefix, int n, const char *suffix)
{
	char t[16];
	int i = (int)sizeof(t);
	unsigned v = n < 0 ? 0 : (unsigned)n;

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && i > 0);
	put_str(s, prefix);
	put(s, t + i, sizeof(t) - (size_t)i);
	put_str(s, suffix);
}

static void
putrep(struct render *s, char c, int n)
{
	for (; n > 0; n--) {
		put(s, &c, 1);
	}
}

static int
rend_eq(const struct fb_rend *a, const struct fb_rend *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int
cell_eq(const struct fb_cell *a, const struct fb_cell *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void
put_color(struct render *s, uint32_t v, int base)
{
	char t[48];
	int n;

	if (v & FB_RGB) {
		n = snprintf(t, sizeof(t), ";%d;2;%u;%u;%u", base + 8,
		    (v >> 16) & 0xffu, (v >> 8) & 0xffu, v & 0xffu);
	} else if (v > (uint32_t)base + 7) {
		n = snprintf(t, sizeof(t), ";%d;5;%u", base + 8,
		    v - (uint32_t)base);
	} else if (v >= (uint32_t)base) {
		n = snprintf(t, sizeof(t), ";%u", v);
	} else {
		return;
	}
	if (n > 0 && (size_t)n < sizeof(t)) {
		put(s, t, (size_t)n);
	}
}

/* terminal.md §6.2: one complete SGR that starts with a reset. */
static void
put_sgr(struct render *s, const struct fb_rend *r)
{
	static const struct {
		uint32_t bit;
		const char *s;
	} attrs[] = {
		{ FB_BOLD, ";1" }, { FB_ITALIC, ";3" }, { FB_UNDERLINE, ";4" },
		{ FB_BLINK, ";5" }, { FB_INVERSE, ";7" },
		{ FB_INVISIBLE, ";8" },
	};
	size_t i;

	put_str(s, "\033[0");
	for (i = 0; i < LEN(attrs); i++) {
		if (r->attr & attrs[i].bit) {
			put_str(s, attrs[i].s);
		}
	}
	put_color(s, r->fg, 30);
	put_color(s, r->bg, 40);
	put_str(s, "m");
}

static void
set_sgr(struct render *s, const struct fb_rend *r, int force)
{
	if (force || !rend_eq(r, &s->sgr)) {
		put_sgr(s, r);
		s->sgr = *r;
	}
}

/* Move the cursor; short forms only from a known position. */
static void
move(struct render *s, int y, int x)
{
	s->pending = 0;
	if (s->cy >= 0) {
		if (x == 0 && y - s->cy >= 0 && y - s->cy < 5) {
			if (s->cx != 0) {
				put_str(s, "\r");
			}
			putrep(s, '\n', y - s->cy);
			s->cy = y;
			s->cx = x;
			return;
		}
		if (y == s->cy && x - s->cx < 0 && x - s->cx > -5) {
			putrep(s, '\b', s->cx - x);
			s->cx = x;
			return;
		}
	}
	putn(s, "\033[", y + 1, ";");
	putn(s, "", x + 1, "H");
	s->cy = y;
	s->cx = x;
}

static void
silent_move(struct render *s, int y, int x)
{
	if (s->cy == y && s->cx == x) {
		return;
	}
	if (s->vis) {
		put_str(s, "\033[?25l");
		s->vis = 0;
	}
	move(s, y, x);
}

/* A cell's width on the wire: 2 only for a wide cell with contents. */
static int
cell_width(const struct fb_cell *c)
{
	return (c->flags & FB_WIDE) && c->len > 0 ? 2 : 1;
}

/*
 * The receiver's cursor moved n columns right by printing. Past the last
 * column it waits to wrap, and a relative move from there would be off by
 * one (§9.5), so the position counts as unknown.
 */
static void
advance(struct render *s, int n)
{
	s->cx += n;
	if (s->cx >= s->new->w) {
		s->pending = 1;
		s->cy = -1;
	}
}

/*
 * Print a cell at the cursor, which is at column x. A wide cell in the last
 * column (left by autowrap off or a resize) cannot be shown there: the
 * receiver would wrap it onto the next row, so a blank goes out instead.
 */
static void
print_cell(struct render *s, const struct fb_cell *c, int x)
{
	int w = cell_width(c);

	s->pending = 0;
	if (w == 2 && x + 1 >= s->new->w) {
		put_str(s, " ");
		w = 1;
	} else if (c->len == 0) {
		put_str(s, " ");
	} else {
		if (c->flags & FB_FALLBACK) {
			put_str(s, "\302\240");	/* U+00A0 */
		}
		put(s, c->c, MIN(c->len, FB_CELL_BYTES));
	}
	advance(s, w);
}

/*
 * One row being drawn: the new row, and what the receiver shows there,
 * which is old except in the cells this drawing has changed or left unsure.
 */
struct row_draw {
	int y;
	const struct fb_row *row;
	const struct fb_row *old;	/* NULL: a blank default row */
	int wraps;			/* the new row soft-wraps */
	int blanked_x;			/* a cell a wide print blanked, or -1 */
	struct fb_cell blanked;		/* what the receiver holds there */
	int unknown_x;			/* a cell of unknown contents, or -1 */
	int unwrapped;			/* old's last cell lost its wrap flag */
	struct fb_cell last;		/* that cell as the receiver holds it */
};

/* The blank cells just before x, not written yet. */
struct run {
	int n;
	struct fb_rend sgr;
};

/*
 * What the receiver holds in cell x of the row, or NULL when that is not
 * known (a full redraw, or a cell the drawing left unsure).
 */
static const struct fb_cell *
held(const struct render *s, const struct row_draw *d, int x)
{
	if (x == d->blanked_x) {
		return &d->blanked;
	}
	if (x == d->unknown_x) {
		return NULL;
	}
	if (d->unwrapped && x == s->new->w - 1) {
		return &d->last;
	}
	if (!s->initialized) {
		return NULL;
	}
	return d->old != NULL ? &d->old->cells[x] : &zero_cell;
}

/* A wide print blanks the cell on its right in the print's background. */
static void
note_blanked(struct row_draw *d, int x, uint32_t bg, uint8_t flags)
{
	d->blanked_x = x;
	fb_cell_reset(&d->blanked, bg);
	d->blanked.flags |= flags;
}

/*
 * The receiver never got the wrap flag of the row that was at the bottom
 * (nothing followed it to wrap into); if that row has since moved up, its
 * last cell must be drawn again to hand the wrap on.
 */
static void
note_unwrapped(const struct render *s, struct row_draw *d)
{
	int last = s->new->w - 1;

	d->unwrapped = s->initialized && d->y == s->nowrap_y &&
	    d->y < s->new->h - 1 && d->old != NULL &&
	    (d->old->cells[last].flags & FB_WRAP);
	if (d->unwrapped) {
		d->last = d->old->cells[last];
		d->last.flags &= (uint8_t)~FB_WRAP;
	}
}

/*
 * The previous row soft-wrapped and its last cell was just printed: print
 * this row's first cell at once, so the receiver's autowrap sets the wrap
 * flag itself.
 */
static void
carry_wrap(struct render *s, struct row_draw *d)
{
	const struct fb_cell *c = &d->row->cells[0];

	set_sgr(s, &c->r, 0);
	print_cell(s, c, 0);
	if (cell_width(c) == 2 && s->new->w > 1) {
		note_blanked(d, 1, c->r.bg, 0);
	}
}

/* Whether the receiver shows the rest of the row already. */
static int
row_unchanged(const struct render *s, const struct row_draw *d)
{
	return s->initialized && d->row == d->old && !d->unwrapped &&
	    (d->blanked_x < 0 || cell_eq(&d->row->cells[1], &d->blanked));
}

/* Add cell c to the run of blanks; 0 if it is not a blank of the run's. */
static int
join_run(struct run *run, const struct fb_cell *c)
{
	if (c->len != 0) {
		return 0;
	}
	if (run->n == 0) {
		run->sgr = c->r;
	}
	if (!rend_eq(&c->r, &run->sgr)) {
		return 0;
	}
	run->n++;
	return 1;
}

/*
 * Write the run of blanks that ends before column x of row y (wraps: the
 * row soft-wraps). Where the receiver
 * erases in the run's rendition (bce, or the default rendition) the run is
 * erased: by EL up to the end of a row that does not wrap, by ECH when more
 * than four blanks lie inside the row. Anything else goes out as spaces.
 */
static void
flush_blanks(struct render *s, struct run *run, int y, int x, int wraps)
{
	int eol = x >= s->new->w, erase;

	if (run->n == 0) {
		return;
	}
	silent_move(s, y, x - run->n);
	set_sgr(s, &run->sgr, 0);
	erase = s->caps->bce || rend_eq(&s->sgr, &zero_rend);
	if (erase && eol && !wraps) {
		put_str(s, "\033[K");
	} else if (erase && !eol && s->caps->ech && run->n > 4) {
		putn(s, "\033[", run->n, "X");
	} else {
		putrep(s, ' ', run->n);
		advance(s, run->n);
	}
	run->n = 0;
}

/*
 * Print cell x over ref, what the receiver held there (NULL: unknown), and
 * note what the print did to the cell on its right.
 */
static void
draw_cell(struct render *s, struct row_draw *d, int x,
    const struct fb_cell *ref)
{
	const struct fb_cell *c = &d->row->cells[x];
	int cols = s->new->w;

	if (d->wraps && x + cell_width(c) >= cols) {
		/* Force a CUP before the last cell of a wrapped row. */
		s->cy = -1;
	}
	silent_move(s, d->y, x);
	set_sgr(s, &c->r, 0);
	print_cell(s, c, x);
	if (x + 1 >= cols) {
		return;
	}
	if (cell_width(c) == 2) {
		/*
		 * The receiver blanked the next cell with this bg; in the last
		 * column, the next row's first cell will set its wrap flag too.
		 */
		note_blanked(d, x + 1, c->r.bg,
		    d->row->cells[x + 1].flags & FB_WRAP);
	} else if (ref != NULL && cell_width(ref) == 2) {
		/*
		 * A narrow character over a wide one: the receiver blanked the
		 * right half in a colour of its own (tmux: the default), so
		 * that cell is drawn again.
		 */
		d->unknown_x = x + 1;
	}
}

/*
 * After the row's last cell: when it was printed in the last column the
 * receiver waits to wrap. A soft-wrapped row lets it wrap into the next row;
 * any other row above the bottom ends with CR LF, so the receiver never
 * waits across a frame there. Returns whether the next row carries a wrap.
 */
static int
finish_row(struct render *s, const struct row_draw *d)
{
	if (!s->pending || d->y >= s->new->h - 1) {
		return 0;
	}
	s->pending = 0;
	s->cy = d->y + 1;
	s->cx = 0;
	if (d->wraps) {
		return 1;
	}
	put_str(s, "\r\n");
	return 0;
}

/*
 * Draw row y of the new frame over what the receiver shows, old (NULL: a
 * blank default row; ignored on a full redraw). wrap_in says the previous
 * row soft-wrapped and its last cell was just printed. Returns whether this
 * row hands a soft wrap on to the next.
 */
static int
draw_row(struct render *s, int y, const struct fb_row *old, int wrap_in)
{
	struct row_draw d;
	struct run run = { 0, { 0, 0, 0 } };
	const struct fb_cell *c, *ref;
	int cols = s->new->w, x = 0;

	memset(&d, 0, sizeof(d));
	d.y = y;
	d.row = s->new->rows[y];
	d.old = old;
	d.wraps = (d.row->cells[cols - 1].flags & FB_WRAP) != 0;
	d.blanked_x = d.unknown_x = -1;
	if (wrap_in) {
		carry_wrap(s, &d);
		x = 1;
	}
	note_unwrapped(s, &d);
	if (row_unchanged(s, &d)) {
		x = cols;
	}
	for (; x < cols; x++) {
		c = &d.row->cells[x];
		ref = held(s, &d, x);
		if (run.n == 0 && ref != NULL && cell_eq(c, ref)) {
			/*
			 * Unchanged. Step one column even over a wide cell, so
			 * that the cell after it is looked at too (D23).
			 */
			continue;
		}
		if (join_run(&run, c)) {
			continue;
		}
		flush_blanks(s, &run, y, x, d.wraps);
		if (!join_run(&run, c)) {
			draw_cell(s, &d, x, ref);
		}
	}
	flush_blanks(s, &run, y, cols, d.wraps);
	return finish_row(s, &d);
}

/* Same row for the scroll detection: one object, or same gen and cells. */
static int
same_row(const struct fb_row *a, const struct fb_row *b, int w)
{
	if (a == NULL || b == NULL) {
		return 0;
	}
	return a == b || (a->gen == b->gen &&
	    memcmp(a->cells, b->cells,
	    (size_t)w * sizeof(struct fb_cell)) == 0);
}

/*
 * terminal.md §9.3: if the new top row is an old row further down, scroll the
 * receiver with a line feed at the bottom of a temporary region. Returns the
 * number of rows at the top that are then right.
 */
static int
scroll_opt(struct render *s, const struct fb_row **local)
{
	const struct fb *n = s->new;
	int h = n->h, k, lines, height, bottom, i, done;

	for (k = 0; k < h; k++) {
		if (!same_row(n->rows[0], local[k], n->w)) {
			continue;
		}
		if (k == 0) {
			break;
		}
		lines = k;
		height = 1;
		while (k + height < h &&
		    same_row(n->rows[height], local[k + height], n->w)) {
			height++;
		}
		/* The old bottom row moves up without its wrap flag. */
		done = height;
		if (k + height == h &&
		    (local[h - 1]->cells[n->w - 1].flags & FB_WRAP)) {
			if (--done == 0) {
				break;
			}
		}
		set_sgr(s, &zero_rend, 1);
		bottom = lines + height - 1;
		if (lines + height == h && s->cy == h - 1) {
			put_str(s, "\r");
			putrep(s, '\n', lines);
			s->cx = 0;
		} else {
			putn(s, "\033[1;", bottom + 1, "r");
			s->cy = -1;
			silent_move(s, bottom, 0);
			putrep(s, '\n', lines);
			put_str(s, "\033[r");
			s->cy = -1;
		}
		s->pending = 0;
		for (i = 0; i <= bottom; i++) {
			local[i] = i + lines <= bottom ? local[i + lines] :
			    NULL;
		}
		if (bottom == h - 1) {
			s->nowrap_y = h - 1 - lines;
		}
		return done;
	}
	return 0;
}

static int
str_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

static void
put_mode(struct render *s, int mode, int on)
{
	putn(s, "\033[?", mode, on ? "h" : "l");
}

/* Section 9.2: the title and icon name, one OSC when they are the same. */
static void
put_title(struct render *s, const struct fb *old, int initialized)
{
	const struct fb *n = s->new;

	if (!s->caps->title || !n->title_init || (initialized &&
	    str_eq(n->icon, n->icon_len, old->icon, old->icon_len) &&
	    str_eq(n->title, n->title_len, old->title, old->title_len))) {
		return;
	}
	if (str_eq(n->icon, n->icon_len, n->title, n->title_len)) {
		put_str(s, "\033]0;");
		put(s, n->title, n->title_len);
		put_str(s, "\a");
	} else {
		put_str(s, "\033]1;");
		put(s, n->icon, n->icon_len);
		put_str(s, "\a\033]2;");
		put(s, n->title, n->title_len);
		put_str(s, "\a");
	}
}

static void
put_clip(struct render *s, const struct fb *old)
{
	const struct fb *n = s->new;

	if (clip_equal(n->clip, old->clip)) {
		return;
	}
	put_str(s, "\033]52;c;");
	if (n->clip != NULL) {
		put(s, n->clip->s, n->clip->len);
	}
	put_str(s, "\a");
}

/*
 * Where drawing starts from: what the receiver shows of old, or a cleared
 * screen when there is no old frame of this size. Returns whether the
 * receiver shows old.
 */
static int
start_from(struct render *s, const struct fb *old, int initialized)
{
	const struct fb *n = s->new;

	if (!initialized || n->w != old->w || n->h != old->h) {
		put_str(s, "\033[r\033[0m\033[H\033[2J");
		initialized = 0;
		s->cy = s->cx = 0;
	} else {
		s->cy = old->cy;
		s->cx = old->cx;
		s->sgr = old->rend;
	}
	s->initialized = initialized;
	s->vis = (old->modes & FB_M_CURSOR) != 0;
	if (!initialized) {
		s->vis = 0;
		put_str(s, "\033[?25l");
	}
	return initialized;
}

/*
 * Draw every row that differs from what the receiver shows, after a scroll
 * when one fits. Returns -1 if memory ran out.
 */
static int
draw_rows(struct render *s, const struct fb *old)
{
	const struct fb_row *lstack[64], **local = lstack;
	int y, first = 0, wrap = 0;

	if (s->initialized) {
		if ((size_t)s->new->h > LEN(lstack)) {
			local = malloc((size_t)s->new->h * sizeof(*local));
			if (local == NULL) {
				return -1;
			}
		}
		for (y = 0; y < s->new->h; y++) {
			local[y] = old->rows[y];
		}
		first = scroll_opt(s, local);
	}
	for (y = first; y < s->new->h; y++) {
		wrap = draw_row(s, y, s->initialized ? local[y] : NULL, wrap);
	}
	if (local != lstack) {
		free(local);
	}
	return 0;
}

/*
 * Switch a mouse mode or encoding from `from` to `to` (0: none). Off means
 * every one off; else the old one goes off and the new one on.
 */
static void
put_mouse(struct render *s, int from, int to, const char *off)
{
	if (to == 0) {
		put_str(s, off);
		return;
	}
	if (from != 0) {
		put_mode(s, from, 0);
	}
	put_mode(s, to, 1);
}

/* Section 9.2: the cursor, the current rendition and the modes. */
static void
put_modes(struct render *s, const struct fb *old, int initialized)
{
	const struct fb *n = s->new;
	unsigned mch = n->modes ^ old->modes;

	if (!initialized || s->cy != n->cy || s->cx != n->cx) {
		move(s, n->cy, n->cx);
	}
	if (!initialized || ((n->modes & FB_M_CURSOR) != 0) != s->vis) {
		put_mode(s, 25, (n->modes & FB_M_CURSOR) != 0);
	}
	set_sgr(s, &n->rend, !initialized);
	if (!initialized || (mch & FB_M_PASTE)) {
		put_mode(s, 2004, (n->modes & FB_M_PASTE) != 0);
	}
	if (!initialized || n->mouse_mode != old->mouse_mode) {
		put_mouse(s, old->mouse_mode, n->mouse_mode,
		    "\033[?1003l\033[?1002l\033[?1001l\033[?1000l");
	}
	if (!initialized || (mch & FB_M_FOCUS)) {
		put_mode(s, 1004, (n->modes & FB_M_FOCUS) != 0);
	}
	if (!initialized || n->mouse_enc != old->mouse_enc) {
		put_mouse(s, old->mouse_enc, n->mouse_enc,
		    "\033[?1015l\033[?1006l\033[?1005l");
	}
}

int
fb_diff(const struct fb *old, const struct fb *new, int initialized,
    const struct fb_caps *caps, struct buf *out)
{
	struct render s;
	size_t mark = out->len;

	memset(&s, 0, sizeof(s));
	s.out = out;
	s.new = new;
	s.caps = caps;
	s.nowrap_y = new->h - 1;

	if (new->bell != old->bell) {
		put_str(&s, "\a");
	}
	put_title(&s, old, initialized);
	put_clip(&s, old);
	if (!initialized || ((new->modes ^ old->modes) & FB_M_REVERSE)) {
		put_mode(&s, 5, (new->modes & FB_M_REVERSE) != 0);
	}
	initialized = start_from(&s, old, initialized);
	if (draw_rows(&s, old) == -1) {
		out->len = mark;
		return -1;
	}
	put_modes(&s, old, initialized);
	if (s.err) {
		return -1;
	}
	return 0;
}
