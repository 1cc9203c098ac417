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

/*
 * struct ocb: one key's AES schedules (BearSSL aes_x86ni when the CPU has
 * AES-NI, else aes_ct64) and the OCB L values. Owned by the caller, used by
 * value, no heap; ocb_wipe clears it. L_i for every i a 64-bit block number
 * can need, so no doubling happens per message.
 */
#define OCB_L_COUNT 64

enum {
	OCB_IMPL_AUTO,		/* AES-NI if the CPU has it, else ct64 */
	OCB_IMPL_X86NI,		/* BearSSL aes_x86ni */
	OCB_IMPL_CT64		/* BearSSL aes_ct64 */
};

struct ocb {
	union {
		const br_block_cbcenc_class *vtable;
		br_aes_x86ni_cbcenc_keys ni;
		br_aes_ct64_cbcenc_keys ct;
	} enc;
	union {
		const br_block_cbcdec_class *vtable;
		br_aes_x86ni_cbcdec_keys ni;
		br_aes_ct64_cbcdec_keys ct;
	} dec;
	int impl;			/* OCB_IMPL_X86NI or OCB_IMPL_CT64 */
	uint8_t lstar[16];		/* L_* = E(0) */
	uint8_t ldollar[16];		/* L_$ = double(L_*) */
	uint8_t l[OCB_L_COUNT][16];	/* L_0 = double(L_$), then doubling */
};

/*
 * ocb_init: set up o for a 16-byte key with the fastest constant-time AES;
 * 0, or -1 with *o zeroed if BearSSL cannot give one (not seen in practice).
 * ocb_init_impl chooses the AES implementation (tests and the bench): -1 if
 * that one is not available on this CPU, with *o zeroed.
 * ocb_impl_name: "aes_x86ni" or "aes_ct64". ocb_wipe: erase o.
 */
int ocb_init(struct ocb *o, const uint8_t key[OCB_KEY_LEN]);
int ocb_init_impl(struct ocb *o, const uint8_t key[OCB_KEY_LEN], int impl);
const char *ocb_impl_name(const struct ocb *o);
void ocb_wipe(struct ocb *o);

/*
 * ocb_seal: encrypt len bytes of in and authenticate them with ad (adlen
 * bytes; NULL if 0). Writes len + OCB_TAG_LEN bytes to out: ciphertext,
 * then the tag. Never reuse a nonce with one key.
 *
 * ocb_open: in is ciphertext + tag (len bytes). On success writes the
 * len - OCB_TAG_LEN bytes of plaintext to out and returns 0. On a short
 * input or a tag mismatch returns -1 and out holds zeros (nothing
 * unauthenticated leaves).
 *
 * Both work in place (out == in) and with out below in (out < in, sliding
 * down: e.g. a datagram opened over its own nonce); out above an
 * overlapping in is not allowed. ad may overlap anything.
 */
void ocb_seal(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
    uint8_t *out);
int ocb_open(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
    uint8_t *out);

/*
 * The printable session key (protocol.md §1): 22 characters of standard
 * base64 without padding. ocb_key_parse: 0, or -1 with key zeroed and *err
 * (if err is not NULL) set to upstream's message: "Key must be 22 letters
 * long.", "Key must be well-formed base64." or "Base64 key was not encoded
 * 128-bit key.". ocb_key_format writes 22 characters and a NUL.
 */
int ocb_key_parse(const char *s, uint8_t key[OCB_KEY_LEN], const char **err);
void ocb_key_format(const uint8_t key[OCB_KEY_LEN],
    char out[OCB_KEY_PRINTABLE_LEN + 1]);

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

static inline const struct fb_cell *
fb_cell(const struct fb *fb, int y, int x)
{
	return &fb->rows[y]->cells[x];
}

/*
 * fb_diff: append to out the bytes that turn a terminal showing old into one
 * showing new (terminal.md §9, without the bugs of §9.5), using only the
 * vocabulary of §9.6. initialized 0 means a full redraw. 0, or -1 on out of
 * memory (out may then hold a partial frame: discard it).
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

/*
 * struct vt_parser and struct vt are defined here by vt.c's owner. A vt
 * interprets host output into the frame it points to; replies for the
 * application (DA, DSR) collect in vt->reply.
 *   void   vt_parser_init(struct vt_parser *);
 *   int    vt_parse(struct vt_parser *, uint8_t byte, struct vt_act *out);
 *   void   vt_init(struct vt *, struct fb *);
 *   void   vt_free(struct vt *);
 *   void   vt_feed(struct vt *, const uint8_t *p, size_t n);
 *   size_t vt_user_byte(struct vt *, uint8_t b, uint8_t out[2]);  §10
 */

/* ==== predict.c: local echo prediction and the notification bar ==== */

/* ==== mosh.c: roles, main loops, pty ==== */

#endif
