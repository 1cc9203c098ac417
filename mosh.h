/*
 * mosh.h: the one header of mosh. Read top to bottom it is the architecture:
 * limits and small helpers first, then one section per translation unit,
 * lower layers first (ocb, net, ssp, framebuf, vt, predict, mosh).
 * Everything not declared here is static in its .c file.
 */
#ifndef MOSH_H
#define MOSH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bearssl.h>

#ifndef MOSH_VERSION
#define MOSH_VERSION "0.1.0"
#endif
/* The upstream release whose wire protocol and behaviour we follow. */
#define MOSH_COMPAT_VERSION "1.4.0"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* ==== buf: a growable byte buffer (render output, serialisation) ==== */

/*
 * Owned by whoever embeds it; buf_free releases it. On allocation failure
 * the append functions return -1 and leave the buffer as it was.
 */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static inline int
buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (more <= b->cap - b->len) {
		return 0;
	}
	if (more > SIZE_MAX / 2 - b->len) {
		return -1;
	}
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < more) {
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0) {
		return 0;
	}
	if (buf_reserve(b, n) == -1) {
		return -1;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int
buf_putc(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

static inline void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ==== ocb.c: AES-128-OCB3 (RFC 7253) on BearSSL's constant-time AES ==== */

#define OCB_KEY_LEN 16
#define OCB_NONCE_LEN 12
#define OCB_TAG_LEN 16
#define OCB_KEY_PRINTABLE_LEN 22

/* Defined in ocb.c's section below by its owner: key schedules and L values. */
struct ocb;

/*
 * Contract (ocb.c owns the details):
 *   int  ocb_init(struct ocb *, const uint8_t key[16]);       0 or -1
 *   void ocb_wipe(struct ocb *);
 *   void ocb_seal(const struct ocb *, const uint8_t nonce[12],
 *            const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
 *            uint8_t *out);                      out: len + 16 bytes
 *   int  ocb_open(const struct ocb *, const uint8_t nonce[12],
 *            const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
 *            uint8_t *out);      in: ciphertext + tag; 0, or -1 with out wiped
 *   int  ocb_key_parse(const char *s, uint8_t key[16], const char **err);
 *   void ocb_key_format(const uint8_t key[16], char out[23]);
 */

/* ==== net.c: UDP sockets, datagram crypto, timestamps, RTT, roaming ==== */

/* ==== ssp.c: fragments, zlib, protobuf, State Synchronization Protocol ==== */

/* ==== framebuf.c: the screen model and the frame-diff renderer ==== */

#define FB_MAX_COLS 1000
#define FB_MAX_ROWS 1000

/* Rendition attribute bits (struct fb_rend.attr). */
#define FB_BOLD 0x01u
#define FB_ITALIC 0x02u
#define FB_UNDERLINE 0x04u
#define FB_BLINK 0x08u
#define FB_INVERSE 0x10u
#define FB_INVISIBLE 0x20u
#define FB_FAINT 0x40u		/* kept in the server's model only */
#define FB_STRIKE 0x80u		/* kept in the server's model only */

/*
 * Colours (fg and bg): 0 = default; 30..37 / 40..47 the 8 basic colours;
 * 30+n / 40+n for 256-colour index n; FB_RGB | r<<16 | g<<8 | b for 24-bit
 * (terminal.md §4.2). No padding, so renditions compare with memcmp.
 */
#define FB_RGB 0x1000000u
struct fb_rend {
	uint32_t fg, bg, attr;
};

/* Cell flags. */
#define FB_WIDE 0x01u		/* holds a width-2 character */
#define FB_FALLBACK 0x02u	/* starts with a combining mark without base */
#define FB_WRAP 0x04u		/* last cell of a row: the row soft-wrapped */

/*
 * One cell: UTF-8 of the base character and its combining marks (len 0 =
 * empty). Invariant: bytes of c[] past len are zero and the struct has no
 * padding, so two cells are equal iff memcmp says so.
 */
#define FB_CELL_BYTES 38
struct fb_cell {
	struct fb_rend r;
	uint8_t flags, len;
	char c[FB_CELL_BYTES];
};

/*
 * A row is shared between frames by reference count (copy-on-write): a
 * frame copy costs one pointer per row, and the renderer skips a row that is
 * the same object in both frames. Anyone who changes a row must first call
 * fb_row_mut, which unshares it.
 */
struct fb_row {
	unsigned refs;
	uint64_t gen;		/* new id when created or wholly reset */
	struct fb_cell cells[];
};

/* Mode bits (struct fb.modes). Defaults: FB_M_AUTOWRAP | FB_M_CURSOR. */
#define FB_M_ORIGIN 0x001u	/* DECOM */
#define FB_M_AUTOWRAP 0x002u	/* DECAWM */
#define FB_M_INSERT 0x004u	/* IRM */
#define FB_M_CURSOR 0x008u	/* DECTCEM: cursor visible */
#define FB_M_REVERSE 0x010u	/* DECSCNM */
#define FB_M_PASTE 0x020u	/* 2004 bracketed paste */
#define FB_M_FOCUS 0x040u	/* 1004 focus events */
#define FB_M_ALTSCROLL 0x080u	/* 1007, tracked, never rendered */
#define FB_M_APPCURSOR 0x100u	/* DECCKM */

#define FB_TITLE_BYTES 1024	/* 256 code points of UTF-8 */

/* A reference-counted string (the OSC 52 clipboard), shared like rows. */
struct fb_str {
	unsigned refs;
	size_t len;
	char s[];
};

/*
 * A frame: the screen and the draw state that terminal.md §4.2 lists. A
 * struct fb owns its row pointer array and one reference to each row.
 * vt.c and framebuf.c may add fields; other modules use only those below
 * and the functions of this section.
 */
struct fb {
	int w, h;
	struct fb_row **rows;		/* h rows of w cells */
	int cy, cx;			/* cursor, absolute, always in range */
	int wrap_pending;		/* printed in the last column */
	int comb_y, comb_x;		/* combining target, comb_y -1: none */
	int top, bottom;		/* scrolling region, absolute rows */
	unsigned modes;			/* FB_M_* */
	int mouse_mode;			/* 0 or 9, 1000..1003 */
	int mouse_enc;			/* 0 or 1005, 1006, 1015 */
	struct fb_rend rend;		/* current rendition */
	struct {
		int y, x;
		struct fb_rend rend;
		unsigned modes;		/* only FB_M_AUTOWRAP, FB_M_ORIGIN */
	} saved;
	int default_tabs;
	uint8_t tabs[(FB_MAX_COLS + 7) / 8];	/* bitmap of stops */
	uint32_t bell;			/* bell count */
	int title_init;			/* an OSC 0/1/2 was seen */
	size_t title_len, icon_len;
	char title[FB_TITLE_BYTES], icon[FB_TITLE_BYTES];
	struct fb_str *clip;		/* NULL = empty */
	uint64_t gen_next;		/* last row gen given (framebuf.c) */
};

/* What the receiving terminal can do (terminal.md §9, §11). */
struct fb_caps {
	int ech, bce, title;
};

/*
 * fb_init: a blank w x h frame in the default state. -1 on a bad size
 * (outside 1..FB_MAX_*) or out of memory, with *fb zeroed. fb_free releases
 * it. fb_copy makes dst (uninitialised) a copy of src sharing its rows; -1
 * on out of memory. fb_equal compares what upstream compares (terminal.md §1)
 * plus, harmlessly, more.
 */
int fb_init(struct fb *fb, int w, int h);
void fb_free(struct fb *fb);
int fb_copy(struct fb *dst, const struct fb *src);
int fb_equal(const struct fb *a, const struct fb *b);

/* Resize as terminal.md §8: top rows kept, region reset. -1 keeps it as is. */
int fb_resize(struct fb *fb, int w, int h);

/* Row y's cells, unshared and so safe to change; NULL on out of memory. */
struct fb_cell *fb_row_mut(struct fb *fb, int y);

/*
 * fb_row_blank: make row y wholly blank (background bg, BCE) with a new gen,
 * as ED/EL 2 and scrolling need; returns its cells, or NULL on out of memory
 * with the row unchanged. fb_cell_reset: one cell blank with background bg.
 */
struct fb_cell *fb_row_blank(struct fb *fb, int y, uint32_t bg);

static inline void
fb_cell_reset(struct fb_cell *c, uint32_t bg)
{
	memset(c, 0, sizeof(*c));
	c->r.bg = bg;
}

/*
 * fb_clip_set: the clipboard := n bytes of s (n 0 = empty); -1 on out of
 * memory with the old value kept. fb_clip_put drops one reference.
 */
int fb_clip_set(struct fb *fb, const char *s, size_t n);
void fb_clip_put(struct fb_str *s);

static inline const struct fb_cell *
fb_cell(const struct fb *fb, int y, int x)
{
	return &fb->rows[y]->cells[x];
}

/*
 * fb_diff: append to out the bytes that turn a terminal showing old into one
 * showing new (terminal.md §9, without the bugs of §9.5), using only the
 * vocabulary of §9.6. initialized 0 means a full redraw. 0, or -1 on out of
 * memory (out may then hold a partial frame: discard it). Where upstream's
 * receiver would end up different, we draw more: the cell after a wide
 * character (D23), a CUP after the last column (§9.5), the last cell of a
 * soft-wrapped row that was at the bottom; a wide cell in the last column
 * goes out as a blank (any receiver would wrap it to the next row).
 */
int fb_diff(const struct fb *old, const struct fb *new, int initialized,
    const struct fb_caps *caps, struct buf *out);

/* ==== vt.c: the terminal emulator (host bytes in, struct fb changed) ==== */

/*
 * Character width from our own table (glibc 2.36, Unicode 14; terminal.md
 * §4.1): -1 unprintable, 0 combining, 1 or 2.
 */
int vt_width(uint32_t cp);

/*
 * The parser alone (terminal.md §2-§3), also used by predict.c on the user's
 * keystrokes: each byte yields up to VT_MAX_ACTS actions.
 */
enum {
	VT_ACT_PRINT = 1,	/* ch: the code point */
	VT_ACT_EXECUTE,		/* ch: the C0/C1 control */
	VT_ACT_ESC,		/* ch: the final character */
	VT_ACT_CSI		/* ch: the final character */
};
#define VT_MAX_ACTS 8
struct vt_act {
	int type;
	uint32_t ch;
};

/* vt_parse's other actions, which callers may ignore. */
enum {
	VT_ACT_OSC_START = 16,	/* an OSC string begins */
	VT_ACT_OSC_PUT,		/* ch: one more code point of it */
	VT_ACT_OSC_END		/* it ended (BEL, ST, CAN, SUB, ESC...) */
};

#define VT_MAX_PARAM_CHARS 100	/* digits and ';' kept per sequence */
#define VT_MAX_INTER 8		/* intermediate characters kept */
#define VT_OSC_MAX 16384	/* code points of an OSC string kept */
#define VT_TITLE_MAX 256	/* code points of an OSC string a title uses */

/*
 * The UTF-8 decoder (terminal.md §2) and the state machine (§3). No heap:
 * zero it or call vt_parser_init. Parameters and intermediates of the
 * sequence being dispatched stay readable until the next code point.
 */
struct vt_parser {
	uint8_t pend[6];	/* UTF-8 bytes of an incomplete sequence */
	int npend;
	int state;
	int nparam, ninter;
	char param[VT_MAX_PARAM_CHARS];
	uint8_t inter[VT_MAX_INTER + 1];	/* intermediates, then NUL */
};

/*
 * The emulator: a parser and the state around the frame it changes. The
 * frame belongs to the caller and must outlive the vt. reply collects the
 * bytes the application gets back (DA, DSR); the caller empties it.
 */
struct vt {
	struct fb *fb;
	struct vt_parser p;
	struct buf reply;
	int user_state;		/* §10: 0 ground, 1 after ESC, 2 ESC O */
	uint32_t wlo[2], whi[2];	/* the width ranges last looked up */
	int ww[2];			/* and their widths */
	uint64_t dropped;	/* changes lost for want of memory */
	/*
	 * server_ext (0 after vt_init = exactly upstream 1.4.0; only a
	 * server may set it, as the client must match upstream's): the
	 * alternate screen (modes 47, 1047, 1049) and DEC special graphics
	 * (ESC ( 0, ESC ) 0, SO, SI) drawn as Unicode.
	 */
	int server_ext;
	int g[2], gl;		/* G0/G1 are DEC graphics; GL is G1 */
	struct fb_row **main_rows;	/* the main screen, while alternate */
	int main_w, main_h;		/* its size */
	struct {
		int y, x;
		struct fb_rend rend;
		unsigned modes;
	} alt_cursor;		/* saved by mode 1049 */
	size_t osc_len;		/* code points in osc */
	uint32_t osc[VT_OSC_MAX];	/* the OSC string being collected */
};

/*
 * vt_parser_init resets a parser. vt_parse feeds it one byte and writes up
 * to VT_MAX_ACTS actions to out; returns their number. For VT_ACT_CSI and
 * VT_ACT_ESC, vt_param(p, i, def) reads parameter i (terminal.md §3.4: an
 * absent or zero parameter gives def) and p->inter the intermediates. (A
 * byte that breaks a UTF-8 sequence can yield two code points, and an ESC
 * among them clears the parameters; that only happens to sequences whose
 * final character is U+FFFD, which nothing uses.)
 */
void vt_parser_init(struct vt_parser *p);
int vt_parse(struct vt_parser *p, uint8_t byte, struct vt_act *out);
int vt_param(const struct vt_parser *p, int i, int def);

/*
 * vt_init attaches a fresh emulator to fb (already fb_init'ed); vt_free
 * releases what the vt holds (the reply buffer, a main screen hidden by the
 * alternate one), not the frame. vt_feed interprets host output
 * (never fails: rows that cannot be allocated are left as they were and
 * counted in vt->dropped). vt_resize is fb_resize plus what the emulator
 * keeps; 0 or -1. vt_user_byte translates one user keystroke byte (§10)
 * into 0..2 bytes for the application.
 */
void vt_init(struct vt *vt, struct fb *fb);
void vt_free(struct vt *vt);
void vt_feed(struct vt *vt, const uint8_t *p, size_t n);
int vt_resize(struct vt *vt, int w, int h);
size_t vt_user_byte(struct vt *vt, uint8_t b, uint8_t out[2]);

/* ==== predict.c: local echo prediction and the notification bar ==== */

/*
 * Bounds (prediction.md §11). Predictions live on the cursor row and the
 * rows below it: at most PRED_MAX_ROWS row overlays at once (a row whose
 * predictions are all judged is reused; beyond that new cell predictions
 * are dropped, which only means they are not shown). Each overlay holds
 * one prediction per column; the cells are allocated when the engine first
 * sees a frame width, and again only when the width changes. Cursor
 * predictions beyond PRED_MAX_CURSORS drop the oldest. Each cell keeps at
 * most PRED_MAX_ORIG earlier contents for the no-credit rule (the oldest
 * are kept, the newest overwrites the last slot).
 */
#define PRED_MAX_ROWS 8
#define PRED_MAX_CURSORS 64
#define PRED_MAX_ORIG 8
#define PRED_PASTE_BYTES 100	/* a read longer than this is a paste */

/* Display preference (§7.1). */
enum pred_mode {
	PRED_ADAPTIVE,
	PRED_ALWAYS,
	PRED_NEVER,
	PRED_EXPERIMENTAL
};

/* A cursor prediction (§3). */
struct pred_cursor {
	int row, col, active;
	uint64_t epoch, expire;
};

/* Contents only (no rendition) of an earlier cell, for the no-credit rule. */
struct pred_text {
	uint8_t len;
	char c[FB_CELL_BYTES];
};

/* A cell prediction (§3). */
struct pred_cell {
	struct fb_cell repl;		/* what we expect the server to show */
	uint64_t epoch, expire, made;
	uint8_t active, unknown, norig;
	struct pred_text orig[PRED_MAX_ORIG];
};

/* A row overlay: its screen row, or -1 when the slot is free. */
struct pred_row {
	int row;
};

/*
 * The prediction engine. Owned by the caller; pred_init sets it up and
 * pred_free releases the cell arrays. All times are milliseconds of one
 * monotonic clock supplied by the caller.
 */
struct pred {
	enum pred_mode mode;
	int overwrite;			/* MOSH_PREDICTION_OVERWRITE=yes */
	struct vt_parser parser;	/* user bytes, private instance */
	uint8_t last_byte;
	struct pred_cursor cursors[PRED_MAX_CURSORS];
	int ncursors;			/* the last one is the current cursor */
	struct pred_row rows[PRED_MAX_ROWS];
	struct pred_cell *cells;	/* PRED_MAX_ROWS * cw, row slot major */
	int cw;				/* width the cells were allocated for */
	int w, h;			/* last frame size seen by pred_cull */
	uint64_t prediction_epoch, confirmed_epoch;
	int srtt_trigger, flagging;
	unsigned glitch_trigger;
	uint64_t last_quick_confirmation;
	unsigned send_interval;		/* ms */
	uint64_t frame_sent, frame_acked, late_ack;
};

/* pred_init: a fresh engine in adaptive mode without overwrite. */
void pred_init(struct pred *p);

/* pred_free: release the cell arrays; the engine may be pred_init'ed again. */
void pred_free(struct pred *p);

/* pred_set_mode: display preference and overwrite flag (§7.1). */
void pred_set_mode(struct pred *p, enum pred_mode mode, int overwrite);

/*
 * pred_parse_mode: MOSH_PREDICTION_DISPLAY value (NULL = unset, adaptive)
 * to *mode. 0, or -1 for an unknown value (the client then prints
 * "Unknown prediction mode <value>." and exits 1).
 */
int pred_parse_mode(const char *s, enum pred_mode *mode);

/*
 * pred_set_net: what the network layer knows after receiving (§1 step 3):
 * frame_acked = newest client state the server acknowledged, late_ack =
 * the echo ack of the newest server state, send_interval in ms.
 */
void pred_set_net(struct pred *p, uint64_t frame_acked, uint64_t late_ack,
    unsigned send_interval);

/*
 * pred_set_sent: the number of the last client state already sent, set
 * before each keyboard read (§1 step 4) and only then, as upstream: new
 * predictions and epoch kills expire at frame_sent + 1.
 */
void pred_set_sent(struct pred *p, uint64_t frame_sent);

/*
 * pred_user_byte: one typed byte (§4), judged against screen, the frame
 * last drawn (with the overlays), which is not kept. Call it for each byte
 * of a read of at most PRED_PASTE_BYTES bytes, before the escape-key logic.
 */
void pred_user_byte(struct pred *p, uint8_t byte, const struct fb *screen,
    uint64_t now);

/*
 * pred_paste: a read longer than PRED_PASTE_BYTES; drops every
 * prediction and starts a new epoch. Its bytes are not given to
 * pred_user_byte. pred_reset does the same and is called on a resize.
 */
void pred_paste(struct pred *p);
void pred_reset(struct pred *p);

/*
 * pred_cull: judge outstanding predictions against frame, the newest
 * server frame (§5). Call it on the copy about to be drawn, then
 * pred_apply. frame is not changed.
 */
void pred_cull(struct pred *p, const struct fb *frame, uint64_t now);

/*
 * pred_apply: paint the shown predictions and the predicted cursor into
 * frame, which must be the caller's copy of the server frame (rows are
 * unshared with fb_row_mut). 0, or -1 on out of memory (frame then shows
 * part of the predictions, which is harmless).
 */
int pred_apply(struct pred *p, struct fb *frame, uint64_t now);

/*
 * pred_wait_ms: how long the client may sleep before the engine wants a
 * redraw (§6 wake-up): 50 while predictions are outstanding and a timing
 * trigger can still fire, else INT_MAX.
 */
int pred_wait_ms(const struct pred *p, uint64_t now);

/* The notification bar (§9). */
#define PRED_NOTIFY_BYTES 512	/* message bytes kept (UTF-8) */
#define PRED_NOTIFY_CHARS 127	/* code points drawn at most (§9.2) */
#define PRED_NOTIFY_FOREVER UINT64_MAX

struct pred_notify {
	uint64_t heard;			/* arrival of the newest server state */
	uint64_t acked;			/* send time of newest acked state */
	uint64_t expire;		/* PRED_NOTIFY_FOREVER: permanent */
	int net_error, show_quit;
	size_t len;			/* 0: no message */
	char msg[PRED_NOTIFY_BYTES];
	char quit[64];			/* " [To quit: KEY .]" or "" */
};

/*
 * pred_notify_init: no message; heard and acked set to now. keyname is
 * the escape key's name ("Ctrl-^", "\"~\""), or NULL when the escape key
 * is disabled (no quit hint). Longer names are cut.
 */
void pred_notify_init(struct pred_notify *n, const char *keyname,
    uint64_t now);

/* Times of §1 step 3: newest server state's arrival, newest ack's send. */
void pred_notify_heard(struct pred_notify *n, uint64_t t);
void pred_notify_acked(struct pred_notify *n, uint64_t t);

/*
 * pred_notify_set: show msg (copied, cut at PRED_NOTIFY_BYTES on a
 * character boundary; "" clears) for 1000 ms, or for ever if permanent;
 * show_quit 0 leaves out the quit hint (escape help text).
 */
void pred_notify_set(struct pred_notify *n, const char *msg, int permanent,
    int show_quit, uint64_t now);

/*
 * pred_notify_net_error: a network error text, kept 3100 ms;
 * pred_notify_net_ok shortens it to at most 1000 ms from now once sending
 * works again.
 */
void pred_notify_net_error(struct pred_notify *n, const char *msg,
    uint64_t now);
void pred_notify_net_ok(struct pred_notify *n, uint64_t now);

/* pred_notify_message: the current message (NUL-terminated, "" if none). */
const char *pred_notify_message(const struct pred_notify *n);

/* pred_notify_expire: drop the message once its time is up. */
void pred_notify_expire(struct pred_notify *n, uint64_t now);

/*
 * pred_notify_text: the bar's text (§9.3) into out (NUL-terminated, cut to
 * cap). Returns its length, or -1 when no bar is due at now.
 */
int pred_notify_text(const struct pred_notify *n, uint64_t now, char *out,
    size_t cap);

/*
 * pred_notify_apply: draw the bar on row 0 of frame (the caller's copy)
 * when one is due, hiding the cursor if it is on row 0 (§9.2). 0, or -1 on
 * out of memory.
 */
int pred_notify_apply(const struct pred_notify *n, struct fb *frame,
    uint64_t now);

/* pred_notify_wait_ms: ms until the bar needs a redraw (§9.4); INT_MAX. */
int pred_notify_wait_ms(const struct pred_notify *n, uint64_t now);

/*
 * pred_title_apply: prefix the window title of frame (the caller's copy)
 * with prefix ("[mosh] "), and the icon name too when it equals the title,
 * once the application has set a title (terminal.md §11). The result is cut
 * to FB_TITLE_BYTES on a character boundary.
 */
void pred_title_apply(struct fb *frame, const char *prefix);

/* ==== mosh.c: roles, main loops, pty ==== */

#endif
