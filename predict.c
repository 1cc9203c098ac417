/*
 * predict.c: local echo prediction, the notification bar and the title
 * prefix, i.e. every overlay the client paints on its copy of the server
 * frame before drawing it (prediction.md §1-§9, §11; terminal.md §11).
 *
 * The module is pure: no I/O, no clock, no globals. The caller passes the
 * time (ms, monotonic) and the frames; the only allocation is the array of
 * cell predictions, sized when the engine first sees a frame width.
 *
 * Invariants:
 *  - predictions are only ever painted into a frame the caller owns (a
 *    copy of the server frame); the emulator's frame is never touched;
 *  - a prediction is shown only when its epoch <= confirmed_epoch, and an
 *    epoch is confirmed only by a correct, non-blank cell prediction whose
 *    contents were not already there (§7.2: no prompt detection needed);
 *  - every cell prediction belongs to a row slot whose row is >= 0, and
 *    every column index is < cw == w (the cells are reset on a new width);
 *  - the cursor list is never longer than PRED_MAX_CURSORS.
 *
 * Section numbers (§) refer to doc/prediction.md unless another doc is named.
 */
#include <limits.h>
#include <stdio.h>

#include "mosh.h"

/* Validity of a prediction (§5). */
enum {
	V_PENDING,
	V_CORRECT,
	V_NOCREDIT,
	V_WRONG,
	V_INACTIVE
};

#define SRTT_TRIGGER_LOW 20
#define SRTT_TRIGGER_HIGH 30
#define FLAG_TRIGGER_LOW 50
#define FLAG_TRIGGER_HIGH 80
#define GLITCH_THRESHOLD 250
#define GLITCH_REPAIR_COUNT 10
#define GLITCH_REPAIR_MININTERVAL 150
#define GLITCH_FLAG_THRESHOLD 5000
#define PRED_WAKEUP_MS 50
#define PRED_SPEC_SPAN 8	/* cells looked at by ambiguous() */

#define SERVER_LATE_MS 6500
#define REPLY_LATE_MS 10000
#define MESSAGE_MS 1000
#define NET_ERROR_MS 3100	/* the ACK interval (3000) + 100 */
#define COUNTUP_MS 1000
#define COUNTUP_SLOW_MS 3000	/* after 60 s of silence, to save power */
#define SILENT_LONG_MS 60000

static void replay(struct pred *, const struct fb *, int);

/* Time since t; 0 if the caller's clock says t is still to come. */
static uint64_t
since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

/* ---- cells ---- */

/* Blank: empty, a space or U+00A0 (§5). */
static int
text_blank(const char *c, size_t len)
{
	return len == 0 || (len == 1 && c[0] == ' ') ||
	    (len == 2 && (uint8_t)c[0] == 0xc2 && (uint8_t)c[1] == 0xa0);
}

static int
cell_blank(const struct fb_cell *c)
{
	return text_blank(c->c, c->len);
}

/* Contents match: both blank, or the same bytes (renditions ignored). */
static int
text_match(const char *a, size_t alen, const char *b, size_t blen)
{
	if (text_blank(a, alen) && text_blank(b, blen)) {
		return 1;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

static int
cell_match(const struct fb_cell *a, const struct fb_cell *b)
{
	return text_match(a->c, a->len, b->c, b->len);
}

static void
orig_push(struct pred_cell *pc, const struct fb_cell *c)
{
	struct pred_text *t;
	size_t n;

	/* Full: the newest overwrites the last slot, the oldest stay. */
	t = &pc->orig[pc->norig < PRED_MAX_ORIG ? pc->norig++ :
	    PRED_MAX_ORIG - 1];
	n = MIN((size_t)c->len, sizeof(t->c));
	memset(t, 0, sizeof(*t));
	memcpy(t->c, c->c, n);
	t->len = (uint8_t)n;
}

/* A cell prediction judged or withdrawn: inactive, nothing remembered. */
static void
pcell_reset(struct pred_cell *pc)
{
	pc->active = 0;
	pc->unknown = 0;
	pc->norig = 0;
	pc->epoch = UINT64_MAX;
	pc->expire = UINT64_MAX;
}

/*
 * §3 make(): a prediction replacing an active, known one remembers the old
 * replacement as contents that earn no credit; otherwise it starts afresh.
 * The replacement itself is left for the caller to set.
 */
static void
pcell_make(struct pred *p, struct pred_cell *pc, uint64_t now)
{
	if (pc->active && !pc->unknown) {
		orig_push(pc, &pc->repl);
	} else {
		pc->unknown = 0;
		pc->norig = 0;
	}
	pc->active = 1;
	pc->epoch = p->prediction_epoch;
	pc->expire = p->frame_sent + 1;
	pc->made = now;
}

static void
cell_set_char(struct fb_cell *c, uint32_t ch)
{
	memset(c->c, 0, sizeof(c->c));
	c->flags = 0;
	if (ch < 0x80) {
		c->c[0] = (char)ch;
		c->len = 1;
	} else if (ch < 0x800) {
		c->c[0] = (char)(0xc0 | ch >> 6);
		c->c[1] = (char)(0x80 | (ch & 0x3f));
		c->len = 2;
	} else if (ch < 0x10000) {
		c->c[0] = (char)(0xe0 | ch >> 12);
		c->c[1] = (char)(0x80 | ((ch >> 6) & 0x3f));
		c->c[2] = (char)(0x80 | (ch & 0x3f));
		c->len = 3;
	} else {
		c->c[0] = (char)(0xf0 | ch >> 18);
		c->c[1] = (char)(0x80 | ((ch >> 12) & 0x3f));
		c->c[2] = (char)(0x80 | ((ch >> 6) & 0x3f));
		c->c[3] = (char)(0x80 | (ch & 0x3f));
		c->len = 4;
	}
}

/* ---- engine state (§3) ---- */

void
pred_init(struct pred *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	vt_parser_init(&p->parser);
	p->mode = PRED_ADAPTIVE;
	p->prediction_epoch = 1;
	p->confirmed_epoch = 0;
	p->send_interval = 250;
	p->cells = NULL;
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		p->rows[i].row = -1;
	}
}

void
pred_free(struct pred *p)
{
	int i;

	free(p->cells);
	p->cells = NULL;
	p->cw = 0;
	p->w = p->h = 0;	/* the next cull sizes the cells again */
	p->ncursors = 0;
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		p->rows[i].row = -1;
	}
}

void
pred_set_mode(struct pred *p, enum pred_mode mode, int overwrite)
{
	p->mode = mode;
	p->overwrite = overwrite != 0;
}

void
pred_set_upstream(struct pred *p, int upstream)
{
	p->upstream = upstream != 0;
}

/* Our rules apply: not asked for upstream's alone, and a mode they fit. */
static int
ours(const struct pred *p)
{
	return !p->upstream &&
	    (p->mode == PRED_ADAPTIVE || p->mode == PRED_ALWAYS);
}

int
pred_parse_mode(const char *s, enum pred_mode *mode)
{
	if (s == NULL || strcmp(s, "adaptive") == 0) {
		*mode = PRED_ADAPTIVE;
	} else if (strcmp(s, "always") == 0) {
		*mode = PRED_ALWAYS;
	} else if (strcmp(s, "never") == 0) {
		*mode = PRED_NEVER;
	} else if (strcmp(s, "experimental") == 0) {
		*mode = PRED_EXPERIMENTAL;
	} else {
		return -1;
	}
	return 0;
}

void
pred_set_net(struct pred *p, uint64_t frame_acked, uint64_t late_ack,
    unsigned send_interval)
{
	p->frame_acked = frame_acked;
	p->late_ack = late_ack;
	p->send_interval = send_interval;
}

void
pred_set_sent(struct pred *p, uint64_t frame_sent)
{
	p->frame_sent = frame_sent;
}

static void
become_tentative(struct pred *p)
{
	if (p->mode != PRED_EXPERIMENTAL) {
		p->prediction_epoch++;
	}
}

static void
clear_all(struct pred *p)
{
	int i;

	p->replay_due = 0;
	p->spec_epoch = 0;
	p->ncursors = 0;
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		p->rows[i].row = -1;
	}
}

/* Every prediction withdrawn; the next ones start a new epoch. */
static void
reset_all(struct pred *p)
{
	clear_all(p);
	become_tentative(p);
	p->trust_epoch = 0;
}

void
pred_reset(struct pred *p)
{
	reset_all(p);
	/* What was typed before cannot be guessed again on a new screen. */
	p->nkeys = 0;
	p->keys_lost = p->frame_sent + 1;
}

void
pred_paste(struct pred *p)
{
	pred_reset(p);
}

static struct pred_cell *
row_cells(struct pred *p, int slot)
{
	return p->cells + (size_t)slot * (size_t)p->cw;
}

/*
 * The overlay of screen row r, made if needed; NULL if every slot holds
 * active predictions (the prediction is then dropped) or there are no cells.
 */
static struct pred_cell *
get_row(struct pred *p, int r)
{
	int i, j, freeslot = -1;
	struct pred_cell *c;

	if (p->cells == NULL || r < 0) {
		return NULL;
	}
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		if (p->rows[i].row == r) {
			return row_cells(p, i);
		}
	}
	for (i = 0; i < PRED_MAX_ROWS && freeslot < 0; i++) {
		if (p->rows[i].row < 0) {
			freeslot = i;
		}
	}
	/* No free slot: reuse one whose predictions are all judged. */
	for (i = 0; i < PRED_MAX_ROWS && freeslot < 0; i++) {
		c = row_cells(p, i);
		for (j = 0; j < p->cw && !c[j].active; j++) {
		}
		if (j == p->cw) {
			freeslot = i;
		}
	}
	if (freeslot < 0) {
		return NULL;
	}
	p->rows[freeslot].row = r;
	c = row_cells(p, freeslot);
	memset(c, 0, (size_t)p->cw * sizeof(*c));
	for (j = 0; j < p->cw; j++) {
		pcell_reset(&c[j]);
	}
	return c;
}

static struct pred_cursor *
cursor(struct pred *p)
{
	return &p->cursors[p->ncursors - 1];
}

static void
cursor_push(struct pred *p, int row, int col)
{
	struct pred_cursor *c;

	if (p->ncursors == PRED_MAX_CURSORS) {
		memmove(&p->cursors[0], &p->cursors[1],
		    (PRED_MAX_CURSORS - 1) * sizeof(p->cursors[0]));
		p->ncursors--;
	}
	c = &p->cursors[p->ncursors++];
	c->row = row;
	c->col = col;
	c->active = 1;
	c->epoch = p->prediction_epoch;
	c->expire = p->frame_sent + 1;
}

/* §3 init_cursor: make sure the current cursor is of the current epoch. */
static void
init_cursor(struct pred *p, const struct fb *fb)
{
	if (p->ncursors == 0) {
		cursor_push(p, fb->cy, fb->cx);
	} else if (cursor(p)->epoch != p->prediction_epoch) {
		cursor_push(p, cursor(p)->row, cursor(p)->col);
	}
}

/* §3 kill_epoch: withdraw everything of epoch e and later. */
static void
kill_epoch(struct pred *p, uint64_t e, const struct fb *fb)
{
	int i, j, n = 0;
	struct pred_cell *c;

	for (i = 0; i < p->ncursors; i++) {
		if (p->cursors[i].epoch < e) {
			p->cursors[n++] = p->cursors[i];
		}
	}
	p->ncursors = n;
	cursor_push(p, fb->cy, fb->cx);
	if (p->trust_epoch >= e) {
		p->trust_epoch = 0;
	}
	if (p->spec_epoch >= e) {
		p->spec_epoch = 0;
	}
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		if (p->rows[i].row < 0) {
			continue;
		}
		c = row_cells(p, i);
		for (j = 0; j < p->cw; j++) {
			if (c[j].epoch >= e) {
				pcell_reset(&c[j]);
			}
		}
	}
	become_tentative(p);
}

/* ---- prompts known to echo (ours) ---- */

/*
 * The text of row r left of column col, into t: the prompt typing began
 * at. 0 if it is one: at most PRED_PROMPT_BYTES bytes, not all blank, and
 * nothing but blanks from col to the end of the row; else -1.
 */
static int
prompt_at(const struct fb *fb, int r, int col, struct pred_prompt *t)
{
	const struct fb_cell *c;
	size_t n = 0;
	int x, seen = 0;

	if (r < 0 || r >= fb->h || col < 1 || col >= fb->w) {
		return -1;
	}
	for (x = col; x < fb->w; x++) {
		if (!cell_blank(fb_cell(fb, r, x))) {
			return -1;
		}
	}
	for (x = 0; x < col; x++) {
		c = fb_cell(fb, r, x);
		if (c->len == 0) {
			if (n + 1 > sizeof(t->text)) {
				return -1;
			}
			t->text[n++] = ' ';
			continue;
		}
		if (n + c->len > sizeof(t->text)) {
			return -1;
		}
		memcpy(t->text + n, c->c, c->len);
		n += c->len;
		seen |= !cell_blank(c);
	}
	t->len = (uint8_t)n;
	return seen ? 0 : -1;
}

static int
prompt_find(const struct pred *p, const struct pred_prompt *t)
{
	int i;

	for (i = 0; i < p->nprompts; i++) {
		if (p->prompts[i].len == t->len &&
		    memcmp(p->prompts[i].text, t->text, t->len) == 0) {
			return i;
		}
	}
	return -1;
}

/* Typing at t was confirmed: trust t (the least recently used goes). */
static void
trust(struct pred *p, const struct pred_prompt *t, uint64_t now)
{
	int i, old = 0;

	if (!p->cand_ok) {
		return;
	}
	if ((i = prompt_find(p, t)) < 0) {
		if (p->nprompts < PRED_MAX_PROMPTS) {
			i = p->nprompts++;
		} else {
			for (i = 1; i < PRED_MAX_PROMPTS; i++) {
				if (p->prompts[i].used < p->prompts[old].used) {
					old = i;
				}
			}
			i = old;
		}
		p->prompts[i] = *t;
	}
	p->prompts[i].used = now;
}

/*
 * A guess of epoch e was wrong: if nothing typed at the prompt of e was
 * confirmed, the prompt does not echo and is not trusted. (Once one was,
 * a later wrong guess says more about the keys, e.g. a command's output
 * scrolling the line away, than about the prompt.)
 */
static void
distrust(struct pred *p, uint64_t e)
{
	int i;

	if (e != p->cand_epoch || !p->cand_ok || e <= p->confirmed_epoch) {
		return;
	}
	p->cand_ok = 0;
	if ((i = prompt_find(p, &p->cand)) >= 0) {
		p->prompts[i] = p->prompts[--p->nprompts];
	}
	if (p->trust_epoch == e) {
		p->trust_epoch = 0;
	}
}

/*
 * The first character typed in an epoch: if the cursor is where the
 * server's is, at the end of a prompt, remember the prompt; if typing at
 * that prompt was confirmed before, this epoch is shown at once.
 */
static void
first_char(struct pred *p, const struct fb *fb, uint64_t now)
{
	const struct pred_cell *c;
	int r = cursor(p)->row, col = cursor(p)->col, j, i;

	p->cand_epoch = p->prediction_epoch;
	p->cand_ok = 0;
	if (r != fb->cy || col != fb->cx || fb->wrap_pending ||
	    prompt_at(fb, r, col, &p->cand) < 0) {
		return;
	}
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		if (p->rows[i].row != r) {
			continue;
		}
		c = row_cells(p, i);
		for (j = 0; j < p->cw; j++) {
			if (c[j].active) {
				return;		/* guesses pending here */
			}
		}
	}
	p->cand_ok = 1;
	if ((i = prompt_find(p, &p->cand)) >= 0 &&
	    p->prediction_epoch > p->confirmed_epoch) {
		p->trust_epoch = p->prediction_epoch;
		p->prompts[i].used = now;
	}
}

/* Whether predictions of epoch e are shown. */
static int
shown(const struct pred *p, uint64_t e)
{
	return e <= p->confirmed_epoch ||
	    (e == p->trust_epoch && ours(p));
}

/* ---- judging (§5) ---- */

/*
 * Whether a guess of repl at (row, col) that the frame confirms could be
 * a guess made a few keys off: the same text is in one of the next cells.
 */
static int
ambiguous(const struct fb *fb, int row, int col, const struct fb_cell *repl)
{
	int x;

	for (x = col + 1; x < fb->w && x <= col + PRED_SPEC_SPAN; x++) {
		if (cell_match(fb_cell(fb, row, x), repl)) {
			return 1;
		}
	}
	return 0;
}

static int
cell_validity(const struct pred *p, const struct pred_cell *pc, int row,
    int col, const struct fb *fb)
{
	const struct fb_cell *cur;
	int i;

	if (!pc->active) {
		return V_INACTIVE;
	}
	if (row >= fb->h || col >= fb->w) {
		return V_WRONG;
	}
	if (p->late_ack < pc->expire) {
		return V_PENDING;
	}
	if (pc->unknown || cell_blank(&pc->repl)) {
		return V_NOCREDIT;
	}
	cur = fb_cell(fb, row, col);
	if (!cell_match(cur, &pc->repl)) {
		return V_WRONG;
	}
	for (i = 0; i < pc->norig; i++) {
		if (text_match(pc->orig[i].c, pc->orig[i].len, pc->repl.c,
		    pc->repl.len)) {
			return V_NOCREDIT;
		}
	}
	return V_CORRECT;
}

static int
cursor_validity(const struct pred *p, const struct pred_cursor *c,
    const struct fb *fb)
{
	if (!c->active) {
		return V_INACTIVE;
	}
	if (c->row >= fb->h || c->col >= fb->w) {
		return V_WRONG;
	}
	if (p->late_ack < c->expire) {
		return V_PENDING;
	}
	return fb->cy == c->row && fb->cx == c->col ? V_CORRECT : V_WRONG;
}

static int
engine_active(const struct pred *p)
{
	const struct pred_cell *c;
	int i, j;

	if (p->ncursors > 0) {
		return 1;
	}
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		if (p->rows[i].row < 0) {
			continue;
		}
		c = p->cells + (size_t)i * (size_t)p->cw;
		for (j = 0; j < p->cw; j++) {
			if (c[j].active) {
				return 1;
			}
		}
	}
	return 0;
}

/* A new frame size: reset, and size the cells for the new width. */
static void
new_size(struct pred *p, const struct fb *fb)
{
	struct pred_cell *c;

	p->w = fb->w;
	p->h = fb->h;
	pred_reset(p);
	if (p->cw == fb->w && p->cells != NULL) {
		return;
	}
	free(p->cells);
	p->cells = NULL;
	p->cw = 0;
	if (fb->w < 1 || fb->w > FB_MAX_COLS) {
		return;
	}
	c = calloc((size_t)PRED_MAX_ROWS * (size_t)fb->w, sizeof(*c));
	if (c == NULL) {
		return;		/* no predictions until the next resize */
	}
	p->cells = c;
	p->cw = fb->w;
}

/* Keys of states the server has received are never replayed. */
static void
drop_acked_keys(struct pred *p)
{
	int i;

	for (i = 0; i < p->nkeys && p->keys[i].state <= p->frame_acked; i++) {
	}
	if (i > 0) {
		memmove(&p->keys[0], &p->keys[i],
		    (size_t)(p->nkeys - i) * sizeof(p->keys[0]));
		p->nkeys -= i;
	}
}

/*
 * A replay put off: the guesses made since, from a cursor the server had
 * left, are made again, unless they proved right.
 */
static void
replay_put_off(struct pred *p, const struct fb *frame, int server)
{
	if (p->replay_due == 0 || !server || p->late_ack != p->frame_acked) {
		return;
	}
	if (ours(p) && p->replay_due > p->confirmed_epoch &&
	    p->replay_due <= p->prediction_epoch) {
		kill_epoch(p, p->replay_due, frame);
		replay(p, frame, server);
	}
	p->replay_due = 0;
}

/* §6: the triggers, with hysteresis. */
static void
set_triggers(struct pred *p)
{
	if (p->send_interval > SRTT_TRIGGER_HIGH) {
		p->srtt_trigger = 1;
	} else if (p->srtt_trigger && p->send_interval <= SRTT_TRIGGER_LOW &&
	    !engine_active(p)) {
		p->srtt_trigger = 0;
	}
	if (p->send_interval > FLAG_TRIGGER_HIGH) {
		p->flagging = 1;
	} else if (p->send_interval <= FLAG_TRIGGER_LOW) {
		p->flagging = 0;
	}
	if (p->glitch_trigger > GLITCH_REPAIR_COUNT) {
		p->flagging = 1;
	}
}

/*
 * A wrong guess: its epoch loses trust and is dropped (experimental mode:
 * the cell alone). A wrong guess of a confirmed epoch leaves nothing to
 * build on: everything goes, and the keys are replayed at once. Returns 1
 * when the rest must be replayed once the rows are judged, -1 when
 * everything was replayed, else 0.
 */
static int
cell_wrong(struct pred *p, struct pred_cell *c, const struct fb *frame,
    int server)
{
	distrust(p, c->epoch);
	if (p->mode == PRED_EXPERIMENTAL) {
		pcell_reset(c);
		return 0;
	}
	if (c->epoch > p->confirmed_epoch) {
		kill_epoch(p, c->epoch, frame);
		return 1;
	}
	reset_all(p);
	replay(p, frame, server);
	return -1;
}

/*
 * A confirmed guess made while speculating proves nothing if the same text
 * is in one of the next cells: it may be a guess made a few keys off.
 */
static int
spec_unproved(const struct pred *p, const struct pred_cell *c, int row,
    int col, const struct fb *frame)
{
	return p->spec_epoch != 0 && c->epoch >= p->spec_epoch &&
	    c->epoch > p->confirmed_epoch &&
	    ambiguous(frame, row, col, &c->repl);
}

/* A confirmed guess confirms its epoch, and trusts the prompt it began. */
static void
confirm_epoch(struct pred *p, const struct pred_cell *c, uint64_t now)
{
	if (c->epoch >= p->spec_epoch) {
		p->spec_epoch = 0;
	}
	if (c->epoch > p->confirmed_epoch) {
		p->confirmed_epoch = c->epoch;
	}
	if (c->epoch == p->cand_epoch) {
		trust(p, &p->cand, now);
	}
}

/* Quick confirmations repair a glitch, at most one per interval. */
static void
repair_glitch(struct pred *p, const struct pred_cell *c, uint64_t now)
{
	if (since(now, c->made) < GLITCH_THRESHOLD && p->glitch_trigger > 0 &&
	    now >= p->last_quick_confirmation + GLITCH_REPAIR_MININTERVAL) {
		p->glitch_trigger--;
		p->last_quick_confirmation = now;
	}
}

/*
 * The rest of the row (cells, the guesses of row; col onwards) takes the
 * server's renditions of the confirmed cell at col.
 */
static void
take_renditions(struct pred *p, struct pred_cell *cells, int row, int col,
    const struct fb *frame)
{
	int k;

	if (col >= frame->w) {
		return;
	}
	for (k = col; k < p->cw; k++) {
		cells[k].repl.r = fb_cell(frame, row, col)->r;
	}
}

/* A right guess, cells[col] of row: what it proves, then it goes. */
static void
cell_correct(struct pred *p, struct pred_cell *cells, int row, int col,
    const struct fb *frame, uint64_t now)
{
	struct pred_cell *c = &cells[col];

	if (!spec_unproved(p, c, row, col, frame)) {
		confirm_epoch(p, c, now);
		repair_glitch(p, c, now);
		take_renditions(p, cells, row, col, frame);
	}
	pcell_reset(c);
}

/* A guess the server is late to judge is a glitch, a long one flagged. */
static void
cell_pending(struct pred *p, const struct pred_cell *c, uint64_t now)
{
	uint64_t age = since(now, c->made);

	if (age >= GLITCH_FLAG_THRESHOLD) {
		p->glitch_trigger = GLITCH_REPAIR_COUNT * 2;
	} else if (age >= GLITCH_THRESHOLD &&
	    p->glitch_trigger < GLITCH_REPAIR_COUNT) {
		p->glitch_trigger = GLITCH_REPAIR_COUNT;
	}
}

/*
 * Judge every guessed cell against the frame. Returns 1 when the guesses
 * left must be replayed, -1 when everything was replayed, else 0.
 */
static int
judge_cells(struct pred *p, const struct fb *frame, uint64_t now, int server)
{
	struct pred_cell *c;
	int i, j, row, r, redo = 0;

	for (i = 0; i < PRED_MAX_ROWS; i++) {
		row = p->rows[i].row;
		if (row < 0) {
			continue;
		}
		if (row >= frame->h) {
			p->rows[i].row = -1;
			continue;
		}
		c = row_cells(p, i);
		for (j = 0; j < p->cw; j++) {
			switch (cell_validity(p, &c[j], row, j, frame)) {
			case V_WRONG:
				if ((r = cell_wrong(p, &c[j], frame,
				    server)) == -1) {
					return -1;
				}
				redo |= r;
				break;
			case V_CORRECT:
				cell_correct(p, c, row, j, frame, now);
				break;
			case V_NOCREDIT:
				pcell_reset(&c[j]);
				break;
			case V_PENDING:
				cell_pending(p, &c[j], now);
				break;
			default:
				break;
			}
		}
	}
	return redo;
}

/*
 * Judge the cursor guesses: a wrong newest one is handled as a wrong cell
 * (in experimental mode, only the cursor guesses go); those still pending
 * stay. Returns -1 when everything was replayed, else 0.
 */
static int
judge_cursors(struct pred *p, const struct fb *frame, int server)
{
	int i, j;

	if (p->ncursors > 0 &&
	    cursor_validity(p, cursor(p), frame) == V_WRONG) {
		distrust(p, cursor(p)->epoch);
		if (p->mode == PRED_EXPERIMENTAL) {
			p->ncursors = 0;
		} else {
			reset_all(p);
			replay(p, frame, server);
			return -1;
		}
	}
	for (i = 0, j = 0; i < p->ncursors; i++) {
		if (cursor_validity(p, &p->cursors[i], frame) == V_PENDING) {
			p->cursors[j++] = p->cursors[i];
		}
	}
	p->ncursors = j;
	return 0;
}

/*
 * §5; server says frame is the server's own (our replay needs its cursor),
 * not a frame drawn with our guesses.
 */
static void
cull(struct pred *p, const struct fb *frame, uint64_t now, int server)
{
	int redo;

	if (p->mode == PRED_NEVER) {
		return;
	}
	if (frame->w != p->w || frame->h != p->h) {
		new_size(p, frame);
	}
	drop_acked_keys(p);
	replay_put_off(p, frame, server);
	set_triggers(p);
	if ((redo = judge_cells(p, frame, now, server)) == -1) {
		return;
	}
	if (judge_cursors(p, frame, server) == -1) {
		return;
	}
	if (redo) {
		replay(p, frame, server);
	}
}

void
pred_cull(struct pred *p, const struct fb *frame, uint64_t now)
{
	cull(p, frame, now, 1);
}

/* ---- making predictions (§4) ---- */

/* §4 newline(): the engine never predicts scrolling. */
static void
newline(struct pred *p, const struct fb *fb, uint64_t now)
{
	struct pred_cell *c;
	int j;

	init_cursor(p, fb);
	cursor(p)->col = 0;
	if (cursor(p)->row == fb->h - 1) {
		if ((c = get_row(p, cursor(p)->row)) == NULL) {
			return;
		}
		for (j = 0; j < p->cw; j++) {
			c[j].active = 1;
			c[j].epoch = p->prediction_epoch;
			c[j].expire = p->frame_sent + 1;
			c[j].made = now;
			c[j].repl.len = 0;
			memset(c[j].repl.c, 0, sizeof(c[j].repl.c));
		}
	} else {
		cursor(p)->row++;
	}
}

static void
expire_cursor(struct pred *p)
{
	cursor(p)->expire = p->frame_sent + 1;
}

static void
backspace(struct pred *p, const struct fb *fb, uint64_t now)
{
	struct pred_cell *c, *pc;
	const struct fb_cell *under;
	int r, col, i, w = fb->w;

	r = cursor(p)->row;
	if ((c = get_row(p, r)) == NULL || cursor(p)->col <= 0) {
		return;
	}
	col = --cursor(p)->col;
	expire_cursor(p);
	if (p->overwrite) {
		/* Upstream takes the cell under the real cursor; kept. */
		pc = &c[col];
		under = fb_cell(fb, fb->cy, fb->cx);
		pcell_make(p, pc, now);
		orig_push(pc, under);
		pc->repl = *under;
		cell_set_char(&pc->repl, ' ');
		pc->repl.flags = under->flags & ~(uint8_t)FB_WIDE;
		return;
	}
	for (i = col; i < w; i++) {
		pc = &c[i];
		pcell_make(p, pc, now);
		orig_push(pc, fb_cell(fb, r, i));
		if (i + 2 < w) {
			if (c[i + 1].active) {
				if (c[i + 1].unknown) {
					pc->unknown = 1;
				} else {
					pc->unknown = 0;
					pc->repl = c[i + 1].repl;
				}
			} else {
				pc->unknown = 0;
				pc->repl = *fb_cell(fb, r, i + 1);
			}
		} else {
			pc->unknown = 1;
		}
	}
}

static void
type_char(struct pred *p, uint32_t ch, const struct fb *fb, uint64_t now)
{
	struct pred_cell *c, *pc;
	struct fb_rend rend;
	int r, col, i, w = fb->w, stale;

	r = cursor(p)->row;
	col = cursor(p)->col;
	if ((c = get_row(p, r)) == NULL || col >= w) {
		become_tentative(p);
		return;
	}
	if (ours(p) && p->cand_epoch != p->prediction_epoch) {
		first_char(p, fb, now);
	}
	if (col + 1 >= w) {
		/* The last column is unreliable (wrap marks, editors...). */
		become_tentative(p);
	}
	/*
	 * Ours: on a row the server's cursor is not on yet (a newline was
	 * typed ahead of it), what is right of the cursor may be about to
	 * change (an editor's empty-line marks): do not guess it moves.
	 */
	stale = ours(p) && r != fb->cy;
	if (!p->overwrite) {
		for (i = w - 1; i > col; i--) {
			pc = &c[i];
			pcell_make(p, pc, now);
			orig_push(pc, fb_cell(fb, r, i));
			if (i == w - 1 || stale) {
				pc->unknown = 1;
				if (stale) {
					memset(&pc->repl, 0, sizeof(pc->repl));
				}
			} else if (c[i - 1].active) {
				if (c[i - 1].unknown) {
					pc->unknown = 1;
				} else {
					pc->unknown = 0;
					pc->repl = c[i - 1].repl;
				}
			} else {
				pc->unknown = 0;
				pc->repl = *fb_cell(fb, r, i - 1);
			}
		}
	}
	pc = &c[col];
	pcell_make(p, pc, now);
	/* Heuristic: the renditions of the character to the left. */
	rend = fb->rend;
	if (col > 0) {
		if (c[col - 1].active && !c[col - 1].unknown) {
			rend = c[col - 1].repl.r;
		} else {
			rend = fb_cell(fb, r, col - 1)->r;
		}
	}
	cell_set_char(&pc->repl, ch);
	pc->repl.r = rend;
	orig_push(pc, fb_cell(fb, r, col));
	expire_cursor(p);
	if (col < w - 1) {
		cursor(p)->col++;
	} else {
		become_tentative(p);
		newline(p, fb, now);
	}
}

/* One parsed key (§4). */
static void
do_act(struct pred *p, int type, uint32_t ch, const struct fb *screen,
    uint64_t now)
{
	switch (type) {
	case VT_ACT_PRINT:
		init_cursor(p, screen);
		if (ch == 0x7f) {
			/* Backspace key; Ctrl-H is not predicted. */
			backspace(p, screen, now);
		} else if (ch < 0x20 || vt_width(ch) != 1) {
			become_tentative(p);
		} else {
			type_char(p, ch, screen, now);
		}
		break;
	case VT_ACT_EXECUTE:
		become_tentative(p);
		if (ch == '\r') {
			newline(p, screen, now);
		}
		break;
	case VT_ACT_CSI:
		if (ch == 'C') {
			init_cursor(p, screen);
			if (cursor(p)->col < screen->w - 1) {
				cursor(p)->col++;
				expire_cursor(p);
			}
		} else if (ch == 'D') {
			init_cursor(p, screen);
			if (cursor(p)->col > 0) {
				cursor(p)->col--;
				expire_cursor(p);
			}
		} else {
			become_tentative(p);
		}
		break;
	default:	/* ESC dispatch and anything else */
		become_tentative(p);
		break;
	}
}

/*
 * Ours: remember a typed key until the server acknowledges its state. When
 * the log is full the oldest key is lost, and no replay is tried until
 * the server has acknowledged that key's state.
 */
static void
key_log(struct pred *p, int type, uint32_t ch, uint64_t now)
{
	struct pred_key *k;

	if (p->nkeys == PRED_MAX_KEYS) {
		p->keys_lost = MAX(p->keys_lost, p->keys[0].state);
		memmove(&p->keys[0], &p->keys[1],
		    (PRED_MAX_KEYS - 1) * sizeof(p->keys[0]));
		p->nkeys--;
	}
	k = &p->keys[p->nkeys++];
	k->type = type;
	k->ch = ch;
	k->state = p->frame_sent + 1;
	k->made = now;
}

/*
 * Ours: after a wrong guess, guess again from frame every key of a state
 * the server has not received. The frame holds the effect of every key
 * the server received once its echo ack is its newest ack; before that,
 * it likely does (applications echo at once), so the guess is made, but
 * as a speculation: it earns credit only where an offset by a key or two
 * would not look the same (ambiguous()), and it is made again from the
 * first frame that does hold every key (pred_cull) unless proved right.
 * From a drawn frame (with our guesses) the replay waits for the next
 * server frame.
 */
static void
replay(struct pred *p, const struct fb *frame, int server)
{
	uint64_t sent = p->frame_sent;
	int i;

	p->replay_due = 0;
	p->spec_epoch = 0;
	if (!ours(p) || p->replaying) {
		return;
	}
	if (!server) {
		p->replay_due = p->prediction_epoch;
		return;
	}
	if (p->keys_lost > p->frame_acked) {
		return;
	}
	if (p->late_ack != p->frame_acked) {
		p->replay_due = p->prediction_epoch;
		p->spec_epoch = p->prediction_epoch;
	}
	p->replaying = 1;
	for (i = 0; i < p->nkeys; i++) {
		if (p->keys[i].state <= p->frame_acked) {
			continue;
		}
		p->frame_sent = p->keys[i].state - 1;
		do_act(p, p->keys[i].type, p->keys[i].ch, frame,
		    p->keys[i].made);
	}
	p->frame_sent = sent;
	p->replaying = 0;
}

void
pred_user_byte(struct pred *p, uint8_t byte, const struct fb *screen,
    uint64_t now)
{
	struct vt_act act[VT_MAX_ACTS];
	int i, n;

	if (p->mode == PRED_NEVER) {
		return;
	}
	if (p->mode == PRED_EXPERIMENTAL) {
		p->prediction_epoch = p->confirmed_epoch;
	}
	cull(p, screen, now, 0);
	/* SS3 arrows (the local terminal is in DECCKM) are taken as CSI. */
	if (p->last_byte == 0x1b && byte == 'O') {
		byte = '[';
	}
	p->last_byte = byte;
	n = vt_parse(&p->parser, byte, act);
	for (i = 0; i < n && i < VT_MAX_ACTS; i++) {
		if (ours(p)) {
			key_log(p, act[i].type, act[i].ch, now);
		}
		do_act(p, act[i].type, act[i].ch, screen, now);
	}
}

/* ---- showing predictions (§7) ---- */

int
pred_apply(struct pred *p, struct fb *frame, uint64_t now)
{
	struct pred_cell *c;
	struct fb_cell *cells;
	const struct fb_cell *cur;
	int i, j, row, flag, r = 0;

	(void)now;
	if (p->mode == PRED_NEVER) {
		return 0;
	}
	if (p->mode == PRED_ADAPTIVE && !p->srtt_trigger &&
	    p->glitch_trigger == 0) {
		return 0;
	}
	for (i = 0; i < p->ncursors; i++) {
		if (p->cursors[i].active && shown(p, p->cursors[i].epoch) &&
		    p->cursors[i].row < frame->h &&
		    p->cursors[i].col < frame->w) {
			frame->cy = p->cursors[i].row;
			frame->cx = p->cursors[i].col;
			frame->wrap_pending = 0;
		}
	}
	for (i = 0; i < PRED_MAX_ROWS; i++) {
		row = p->rows[i].row;
		if (row < 0 || row >= frame->h) {
			continue;
		}
		c = row_cells(p, i);
		cells = NULL;
		for (j = 0; j < p->cw && j < frame->w; j++) {
			if (!c[j].active || !shown(p, c[j].epoch)) {
				continue;
			}
			cur = fb_cell(frame, row, j);
			flag = p->flagging;
			if (cell_blank(&c[j].repl) && cell_blank(cur)) {
				flag = 0;
			}
			if (c[j].unknown) {
				if (!flag || j == frame->w - 1) {
					continue;
				}
			} else if (memcmp(cur, &c[j].repl, sizeof(*cur)) == 0) {
				continue;
			}
			if (cells == NULL &&
			    (cells = fb_row_mut(frame, row)) == NULL) {
				r = -1;
				break;
			}
			if (!c[j].unknown) {
				cells[j] = c[j].repl;
			}
			if (flag) {
				cells[j].r.attr |= FB_UNDERLINE;
			}
		}
	}
	return r;
}

int
pred_wait_ms(const struct pred *p, uint64_t now)
{
	(void)now;
	if (p->mode == PRED_NEVER) {
		return INT_MAX;
	}
	/* Timing triggers can still fire unless both already did. */
	if (!(p->glitch_trigger > 0 && p->flagging) && engine_active(p)) {
		return PRED_WAKEUP_MS;
	}
	return INT_MAX;
}

/* ---- the notification bar (§9) ---- */

/* Copy at most cap-1 bytes of s, cut on a UTF-8 character boundary. */
static size_t
utf8_copy(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (cap == 0) {
		return 0;
	}
	if (n > cap - 1) {
		n = cap - 1;
		while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80) {
			n--;
		}
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return n;
}

void
pred_notify_init(struct pred_notify *n, const char *keyname, uint64_t now)
{
	char name[40];

	memset(n, 0, sizeof(*n));
	n->heard = now;
	n->acked = now;
	n->expire = 0;
	n->show_quit = 1;
	if (keyname != NULL) {
		utf8_copy(name, sizeof(name), keyname);
		snprintf(n->quit, sizeof(n->quit), " [To quit: %s .]", name);
	}
}

void
pred_notify_heard(struct pred_notify *n, uint64_t t)
{
	n->heard = t;
}

void
pred_notify_acked(struct pred_notify *n, uint64_t t)
{
	n->acked = t;
}

void
pred_notify_set(struct pred_notify *n, const char *msg, int permanent,
    int show_quit, uint64_t now)
{
	n->len = utf8_copy(n->msg, sizeof(n->msg), msg);
	n->expire = permanent ? PRED_NOTIFY_FOREVER : now + MESSAGE_MS;
	n->net_error = 0;
	n->show_quit = show_quit != 0;
}

void
pred_notify_net_error(struct pred_notify *n, const char *msg, uint64_t now)
{
	n->len = utf8_copy(n->msg, sizeof(n->msg), msg);
	n->net_error = 1;
	n->expire = now + NET_ERROR_MS;
	/* show_quit stays as the previous message left it, as upstream. */
}

void
pred_notify_net_ok(struct pred_notify *n, uint64_t now)
{
	if (n->net_error) {
		n->expire = MIN(n->expire, now + MESSAGE_MS);
	}
}

const char *
pred_notify_message(const struct pred_notify *n)
{
	return n->len ? n->msg : "";
}

void
pred_notify_expire(struct pred_notify *n, uint64_t now)
{
	if (now >= n->expire) {
		n->len = 0;
		n->msg[0] = '\0';
	}
}

static int
server_late(const struct pred_notify *n, uint64_t now)
{
	return since(now, n->heard) > SERVER_LATE_MS;
}

static int
reply_late(const struct pred_notify *n, uint64_t now)
{
	return since(now, n->acked) > REPLY_LATE_MS;
}

/* §9.3 durations: "N unit", "M:SS" or "H:MM:SS". */
static void
duration(char *out, size_t cap, uint64_t s, const char *unit)
{
	if (s < 60) {
		snprintf(out, cap, "%d %s", (int)s, unit);
	} else if (s < 3600) {
		snprintf(out, cap, "%d:%02d", (int)(s / 60), (int)(s % 60));
	} else {
		s = MIN(s, (uint64_t)INT_MAX);
		snprintf(out, cap, "%d:%02d:%02d", (int)(s / 3600),
		    (int)(s / 60 % 60), (int)(s % 60));
	}
}

int
pred_notify_text(const struct pred_notify *n, uint64_t now, char *out,
    size_t cap)
{
	char d[48];
	const char *what = "contact", *quit;
	uint64_t ago = since(now, n->heard);
	int late = server_late(n, now) || reply_late(n, now), len;

	if (cap == 0 || (n->len == 0 && !late)) {
		return -1;
	}
	if (reply_late(n, now) && !server_late(n, now)) {
		what = "reply";
		ago = since(now, n->acked);
	}
	quit = n->show_quit ? n->quit : "";
	if (n->len == 0) {
		duration(d, sizeof(d), ago / 1000, "seconds");
		len = snprintf(out, cap, "mosh: Last %s %s ago.%s", what, d,
		    quit);
	} else if (!late) {
		len = snprintf(out, cap, "mosh: %s%s", n->msg, quit);
	} else {
		duration(d, sizeof(d), ago / 1000, "s");
		len = snprintf(out, cap, "mosh: %s (%s without %s.)%s", n->msg,
		    d, what, quit);
	}
	if (len < 0) {
		out[0] = '\0';
		return 0;
	}
	if ((size_t)len >= cap) {
		/* Cut where snprintf did, then back to a character start. */
		len = (int)(cap - 1);
		while (len > 0 && ((uint8_t)out[len] & 0xc0) == 0x80) {
			len--;
		}
		out[len] = '\0';
	}
	return len;
}

/* Decode one UTF-8 sequence; invalid bytes yield U+FFFD and advance one. */
static size_t
utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t need, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		c = s[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (need > n) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return need;
}

int
pred_notify_apply(const struct pred_notify *n, struct fb *frame,
    uint64_t now)
{
	char text[1024];
	struct fb_cell *row, *comb = NULL, blank;
	struct fb_cell tmp;
	const uint8_t *s;
	size_t len, k, used;
	uint32_t cp;
	int tl, col = 0, chars = 0, wd, x;

	if ((tl = pred_notify_text(n, now, text, sizeof(text))) < 0) {
		return 0;
	}
	if (frame->w < 1 || frame->h < 1) {
		return 0;
	}
	if (frame->cy == 0) {
		frame->modes &= ~FB_M_CURSOR;
	}
	if ((row = fb_row_mut(frame, 0)) == NULL) {
		return -1;
	}
	memset(&blank, 0, sizeof(blank));
	blank.r.fg = 30 + 7;
	blank.r.bg = 40 + 4;
	blank.c[0] = ' ';
	blank.len = 1;
	for (x = 0; x < frame->w; x++) {
		row[x] = blank;
	}
	comb = &row[0];
	s = (const uint8_t *)text;
	len = (size_t)tl;
	for (k = 0; k < len && chars < PRED_NOTIFY_CHARS; chars++) {
		if (col >= frame->w) {
			break;
		}
		k += utf8_next(s + k, len - k, &cp);
		wd = cp == 0 ? -1 : vt_width(cp);
		if (wd == 1 || wd == 2) {
			if (wd == 2 && col == frame->w - 1) {
				break;	/* no half a character */
			}
			memset(&tmp, 0, sizeof(tmp));
			tmp.r.fg = 30 + 7;
			tmp.r.bg = 40 + 4;
			tmp.r.attr = FB_BOLD;
			cell_set_char(&tmp, cp);
			tmp.flags = wd == 2 ? FB_WIDE : 0;
			row[col] = tmp;
			comb = &row[col];
			if (wd == 2) {
				/* The cell under the right half is empty. */
				memset(row[col + 1].c, 0,
				    sizeof(row[col + 1].c));
				row[col + 1].len = 0;
			}
			col += wd;
		} else if (wd == 0 && comb != NULL) {
			if (comb->len == 0) {
				comb->flags |= FB_FALLBACK;
				col++;
			}
			memset(&tmp, 0, sizeof(tmp));
			cell_set_char(&tmp, cp);
			used = comb->len;
			if (used + tmp.len <= sizeof(comb->c)) {
				memcpy(comb->c + used, tmp.c, tmp.len);
				comb->len = (uint8_t)(used + tmp.len);
			}
		}
	}
	return 0;
}

int
pred_notify_wait_ms(const struct pred_notify *n, uint64_t now)
{
	uint64_t next = INT_MAX, iv;

	if (n->len != 0 && n->expire != PRED_NOTIFY_FOREVER) {
		next = n->expire > now ? MIN(next, n->expire - now) : 0;
	}
	if (server_late(n, now) || reply_late(n, now)) {
		iv = since(now, n->heard) > SILENT_LONG_MS ? COUNTUP_SLOW_MS :
		    COUNTUP_MS;
		next = MIN(next, iv);
	}
	return (int)next;
}

/* ---- the title prefix (terminal.md §11) ---- */

static void
prefix_str(char *s, size_t *len, const char *prefix, size_t plen)
{
	size_t n = *len;

	if (plen >= FB_TITLE_BYTES) {
		return;
	}
	if (n + plen > FB_TITLE_BYTES) {
		n = FB_TITLE_BYTES - plen;
		while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80) {
			n--;
		}
	}
	memmove(s + plen, s, n);
	memcpy(s, prefix, plen);
	*len = n + plen;
}

void
pred_title_apply(struct fb *frame, const char *prefix)
{
	size_t plen = strlen(prefix);
	int same;

	if (!frame->title_init || plen == 0) {
		return;
	}
	same = frame->icon_len == frame->title_len &&
	    memcmp(frame->icon, frame->title, frame->title_len) == 0;
	prefix_str(frame->title, &frame->title_len, prefix, plen);
	if (same) {
		memcpy(frame->icon, frame->title, frame->title_len);
		frame->icon_len = frame->title_len;
	}
}
