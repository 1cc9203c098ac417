/*
 * security_test.c: the terminal side of security. What an application
 * prints on the server must not make the client write anything to the
 * user's terminal beyond the wire vocabulary (terminal.md §9.6): titles and
 * the OSC 52 clipboard reach it as printable text only, no query (DA, DSR)
 * ever goes out, the client's emulator answers nothing, and huge repeat
 * counts and parameters cannot hang either side (CVE-2012-2385 was that).
 *
 * The path is the real one: mosh.c's terminal state (term_init, term_diff,
 * term_apply) and client.c's client_draw, so host bytes go
 * server emulator -> frame -> HostMessage -> client emulator -> frame ->
 * the client's renderer with the title prefix, as client_draw does.
 * alarm() is only a safety net against a hang, never a timing assertion.
 */
#include "mosh.h"

#include "test.h"

/*
 * One UTF-8 character at p (n bytes left): its length, with *cp set, or 0
 * if it is not well-formed.
 */
static size_t
utf8_one(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1fu;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0fu;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n) {
		return 0;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
		c = c << 6 | (p[i] & 0x3fu);
	}
	*cp = c;
	return len;
}

/* Printable: not C0, DEL or C1. */
static int
printable(uint32_t cp)
{
	return cp >= 0x20 && cp != 0x7f && (cp < 0x80 || cp > 0x9f);
}

/*
 * In an OSC string DEL is kept, as upstream keeps it (its parser collects
 * 0x20..0x7f there): a terminal ignores it inside the string, and it can
 * neither end the string nor start a sequence. C0, C1 and ESC may not.
 */
static int
osc_char(uint32_t cp)
{
	return cp == 0x7f || printable(cp);
}

/*
 * An OSC 52 payload the user's terminal may see (terminal.md §7.14):
 * base64 or nothing, never a query ('?') a terminal would answer with the
 * user's clipboard.
 */
static int
base64_ok(const uint8_t *p, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, data = n;

	if (data > 0 && p[data - 1] == '=') {
		data--;
	}
	if (data > 0 && p[data - 1] == '=') {
		data--;
	}
	for (i = 0; i < data; i++) {
		if (p[i] == 0 || strchr(abc, p[i]) == NULL) {
			return 0;
		}
	}
	return data < n ? n % 4 == 0 : n % 4 != 1;
}

static int
private_mode_ok(long v)
{
	static const long ok[] = {
		5, 25, 2004, 1000, 1001, 1002, 1003, 9, 1004, 1005, 1006, 1015
	};
	size_t i;

	for (i = 0; i < LEN(ok); i++) {
		if (ok[i] == v) {
			return 1;
		}
	}
	return 0;
}

static int voc_quiet;	/* the checker's own test: no messages */

/*
 * The wire vocabulary of terminal.md §9.6: 0 if every byte of p belongs
 * to it, else -1 with the offending offset printed.
 */
static int
vocabulary(const uint8_t *p, size_t n)
{
	size_t i = 0, j, len, start, from;
	uint32_t cp;
	char params[64];
	int priv, clip;

	while (i < n) {
		start = i;
		if (p[i] == 7 || p[i] == 8 || p[i] == 10 || p[i] == 13) {
			i++;
			continue;
		}
		if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '[') {
			i += 2;
			priv = i < n && p[i] == '?';
			i += (size_t)priv;
			for (j = 0; i < n && ((p[i] >= '0' && p[i] <= '9') ||
			    p[i] == ';'); i++) {
				if (j + 1 < sizeof params) {
					params[j++] = (char)p[i];
				}
			}
			params[j] = '\0';
			if (i >= n) {
				goto bad;
			}
			if (priv) {
				if ((p[i] != 'h' && p[i] != 'l') ||
				    !private_mode_ok(strtol(params, NULL,
				    10))) {
					goto bad;
				}
			} else if (strchr("HXKrm", p[i]) == NULL &&
			    !(p[i] == 'J' && strcmp(params, "2") == 0)) {
				goto bad;
			}
			i++;
			continue;
		}
		if (p[i] == 0x1b && i + 1 < n && p[i + 1] == ']') {
			i += 2;
			clip = 0;
			if (i + 2 < n && (p[i] == '0' || p[i] == '1' ||
			    p[i] == '2') && p[i + 1] == ';') {
				i += 2;
			} else if (i + 5 < n && memcmp(p + i, "52;c;", 5) == 0) {
				i += 5;
				clip = 1;
			} else {
				goto bad;
			}
			from = i;
			while (i < n && p[i] != 7) {
				if ((len = utf8_one(p + i, n - i, &cp)) == 0 ||
				    !osc_char(cp)) {
					goto bad;
				}
				i += len;
			}
			if (i >= n || (clip && !base64_ok(p + from, i - from))) {
				goto bad;
			}
			i++;
			continue;
		}
		if ((len = utf8_one(p + i, n - i, &cp)) == 0 ||
		    !printable(cp)) {
			goto bad;
		}
		i += len;
	}
	return 0;
bad:
	if (voc_quiet) {
		return -1;
	}
	fprintf(stderr, "outside the vocabulary at byte %zu:", start);
	for (j = start; j < n && j < start + 24; j++) {
		fprintf(stderr, " %02x", p[j]);
	}
	fputc('\n', stderr);
	return -1;
}

/* One session's terminal path, both ends. */
struct path {
	struct term_state srv, cli;
	struct fb drawn;		/* what the user's terminal shows */
	struct buf hm;			/* HostMessage: server to client */
	struct buf wire;		/* the host bytes within it */
	struct buf out;			/* the client's bytes to the terminal */
};

static void
path_init(struct path *t, int w, int h)
{
	memset(t, 0, sizeof *t);
	if (term_init(&t->srv, w, h) == -1 || term_init(&t->cli, w, h) == -1 ||
	    fb_init(&t->drawn, w, h) == -1) {
		fputs("out of memory\n", stderr);
		exit(1);
	}
	t->srv.vt.server_ext = 1;
}

static void
path_free(struct path *t)
{
	term_release(&t->srv);
	term_release(&t->cli);
	fb_free(&t->drawn);
	buf_free(&t->hm);
	buf_free(&t->wire);
	buf_free(&t->out);
}

/*
 * The client applies host bytes p (as one HostMessage) and draws as
 * client_draw does; the drawing must be within the vocabulary and the
 * client's emulator must have nothing to reply.
 */
static void
client_take(struct path *t, const uint8_t *p, size_t n, const char *what)
{
	struct fb frame;
	static const struct fb_caps local = { 1, 1, 1 };
	int within;

	t->hm.len = 0;
	CHECK(ssp_hm_put_bytes(&t->hm, p, n) == 0);
	CHECK(term_apply(&t->cli, t->hm.p, t->hm.len) == 0);
	CHECK_MEM(t->cli.vt.reply.p, t->cli.vt.reply.len, "", 0);
	CHECK(fb_copy(&frame, &t->cli.fb) == 0);
	pred_title_apply(&frame, "[mosh] ");
	t->out.len = 0;
	CHECK(fb_diff(&t->drawn, &frame, 1, &local, &t->out) == 0);
	within = vocabulary(t->out.p, t->out.len) == 0;
	CHECK(within);
	if (!within) {
		fprintf(stderr, "  (client drawing, %s)\n", what);
	}
	fb_free(&t->drawn);
	t->drawn = frame;
}

/*
 * The client shows what the server has: fb_equal but for the bell count
 * (one BEL goes out per frame in which it changed, however many rang) and
 * with an empty cell and a space of the same rendition counted as equal
 * (the renderer may draw a blank either way).
 */
static int
same_cell(const struct fb_cell *a, const struct fb_cell *b)
{
	struct fb_cell x = *a, y = *b;

	if (x.len == 1 && x.c[0] == ' ') {
		x.len = 0;
		x.c[0] = 0;
	}
	if (y.len == 1 && y.c[0] == ' ') {
		y.len = 0;
		y.c[0] = 0;
	}
	return memcmp(&x, &y, sizeof x) == 0;
}

static int
same_screen(const struct fb *a, const struct fb *b)
{
	struct fb c = *b;
	int y, x;

	c.bell = a->bell;
	c.rows = a->rows;
	if (!fb_equal(a, &c)) {
		return 0;
	}
	for (y = 0; y < a->h; y++) {
		for (x = 0; x < a->w; x++) {
			if (!same_cell(fb_cell(a, y, x), fb_cell(b, y, x))) {
				return 0;
			}
		}
	}
	return 1;
}

/* Which part of the two frames differs (for a failure's message). */
static void
path_explain(const struct path *t)
{
	const struct fb *a = &t->srv.fb, *b = &t->cli.fb;
	int y, x;

	fprintf(stderr, "  server: cursor %d,%d modes %x title %zu icon %zu "
	    "bell %u clip %zu rend %x/%x/%x\n", a->cy, a->cx, a->modes,
	    a->title_len, a->icon_len, (unsigned)a->bell,
	    a->clip ? a->clip->len : 0, (unsigned)a->rend.fg,
	    (unsigned)a->rend.bg, (unsigned)a->rend.attr);
	fprintf(stderr, "  client: cursor %d,%d modes %x title %zu icon %zu "
	    "bell %u clip %zu rend %x/%x/%x\n", b->cy, b->cx, b->modes,
	    b->title_len, b->icon_len, (unsigned)b->bell,
	    b->clip ? b->clip->len : 0, (unsigned)b->rend.fg,
	    (unsigned)b->rend.bg, (unsigned)b->rend.attr);
	for (y = 0; y < a->h && y < b->h; y++) {
		for (x = 0; x < a->w && x < b->w; x++) {
			if (!same_cell(fb_cell(a, y, x), fb_cell(b, y, x))) {
				fprintf(stderr, "  first cell that differs: "
				    "%d,%d '%.*s'/'%.*s' flags %x/%x bg "
				    "%x/%x\n", y, x,
				    fb_cell(a, y, x)->len, fb_cell(a, y, x)->c,
				    fb_cell(b, y, x)->len, fb_cell(b, y, x)->c,
				    fb_cell(a, y, x)->flags,
				    fb_cell(b, y, x)->flags,
				    (unsigned)fb_cell(a, y, x)->r.bg,
				    (unsigned)fb_cell(b, y, x)->r.bg);
				return;
			}
		}
	}
}

/*
 * The application prints p on the server: the server's renderer must stay
 * within the vocabulary, and the client must too after applying it.
 */
static void
app_prints(struct path *t, const char *p, size_t n, const char *what)
{
	struct fb before;
	int within;

	CHECK(fb_copy(&before, &t->cli.fb) == 0);
	vt_feed(&t->srv.vt, (const uint8_t *)p, n);
	t->srv.vt.reply.len = 0;	/* to the application: not ours */
	t->wire.len = 0;
	CHECK(fb_diff(&before, &t->srv.fb, 1, &term_wire_caps, &t->wire) ==
	    0);
	fb_free(&before);
	within = vocabulary(t->wire.p, t->wire.len) == 0;
	CHECK(within);
	if (!within) {
		fprintf(stderr, "  (server renderer, %s)\n", what);
	}
	client_take(t, t->wire.p, t->wire.len, what);
	if (!same_screen(&t->srv.fb, &t->cli.fb)) {
		fprintf(stderr, "frames differ after %s\n", what);
		path_explain(t);
		CHECK(0);
	}
}

#define APP(t, s) app_prints((t), (s), sizeof(s) - 1, #s)
#define HOST(t, s) client_take((t), (const uint8_t *)(s), sizeof(s) - 1, #s)

/* No control character and no ESC in a title or the clipboard. */
static int
clean_text(const char *s, size_t n)
{
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		if ((len = utf8_one((const uint8_t *)s + i, n - i, &cp)) == 0 ||
		    !osc_char(cp)) {
			return 0;
		}
		i += len;
	}
	return 1;
}

/* The checker itself: it must reject what it is there to catch. */
static void
test_vocabulary(void)
{
	static const char *const bad[] = {
		"\033[c", "\033[6n", "\033[5n", "\033[>c", "\033[21t",
		"\033]2;a\033b\a", "\033]2;a\001\a", "\033]2;\302\233\a",
		"\302\233" "6n", "\233" "6n", "\033P+q\033\\", "\033Z",
		"\033]10;?\a", "\033]52;c;a", "\033[?1049h", "\033[3J", "\t",
		"\033[", "\033]2;open", "\x7f", "\033c", "\033]8;;x\033\\",
		"\033]52;c;?\a", "\033]52;c;a\a", "\033]52;c;QU=J\a",
		"\033]52;c;QUJD?\a", "\033]52;c;QUJ==\a", "\033]52;c;a b\a"
	};
	static const char good[] = "a\342\224\200\344\270\255e\314\201"
	    "\a\b\r\n\033[1;2H\033[H\033[2J\033[5X\033[K\033[r"
	    "\033[1;5r\033[0;1;4;38;5;100m\033[?25l\033[?2004h\033[?1006l"
	    "\033]0;t\x7f\a\033]2;\344\270\255\a\033]52;c;QUJD\a"
	    "\033]52;c;\a\033]52;c;QUI=\a\033]52;c;QQ==\a\033]52;c;QUI\a";
	size_t i;

	voc_quiet = 1;
	for (i = 0; i < LEN(bad); i++) {
		CHECK(vocabulary((const uint8_t *)bad[i], strlen(bad[i])) ==
		    -1);
	}
	CHECK(vocabulary((const uint8_t *)good, sizeof good - 1) == 0);
	voc_quiet = 0;
}

static void
test_titles(void)
{
	struct path t;
	char big[70000];
	size_t i;

	path_init(&t, 80, 24);
	APP(&t, "\033]0;a\001b\033c\aafter");
	APP(&t, "\033]2;x\302\233" "31mred\302\235y\a");
	APP(&t, "\033]2;tab\there\033\\");
	APP(&t, "\033]1;\x7f" "del\r\nnl\a");
	APP(&t, "\033]2;\x9b" "2J\x9c\a");
	APP(&t, "\033]2;\302\220dcs\302\237\a");
	APP(&t, "\033]2;\033]2;nested\a\a");
	APP(&t, "\033]52;c;AAAA\033[31m\a");
	APP(&t, "\033]52;c;ZWNobyBoaQ==\x18\x1a\a");
	APP(&t, "\033]52;c;\001\002\003\a");
	APP(&t, "\033]52;c;\302\233" "0c\a");
	APP(&t, "\033]52;p;x\a\033]52;;y\a\033]52;c;?\a");
	APP(&t, "\033P1$r0m\033\\\033_apc\033\\\033^pm\033\\\033X sos\033\\");
	APP(&t, "\033]8;;http://x\033\\link\033]8;;\033\\");
	APP(&t, "\033]4;1;rgb:00/00/00\a\033]10;?\a\033]11;?\a");
	/* the same straight into the client (a server that is not ours) */
	HOST(&t, "\033]0;a\001b\033c\a");
	HOST(&t, "\033]2;x\302\233" "31m\302\235y\a");
	HOST(&t, "\033]52;c;A\x05\x1b[2J\a");
	/* a clipboard query: never carried, whoever sends it */
	APP(&t, "\033]52;c;?\a");
	HOST(&t, "\033]52;c;?\a");
	HOST(&t, "\033]2;\x9b" "6n\a");
	CHECK(clean_text(t.srv.fb.title, t.srv.fb.title_len));
	CHECK(clean_text(t.cli.fb.title, t.cli.fb.title_len));
	CHECK(clean_text(t.cli.fb.icon, t.cli.fb.icon_len));
	if (t.cli.fb.clip != NULL) {
		CHECK(clean_text(t.cli.fb.clip->s, t.cli.fb.clip->len));
	}
	/* a huge OSC: cut, not grown, and nothing leaks out of it */
	memcpy(big, "\033]2;", 4);
	for (i = 4; i < sizeof big - 1; i++) {
		big[i] = (char)(i % 7 == 0 ? 0x1b : i % 5 == 0 ? 0x07 + 1 :
		    'a' + (int)(i % 26));
	}
	big[sizeof big - 1] = '\a';
	app_prints(&t, big, sizeof big, "huge OSC 2 with ESC and BS");
	memcpy(big, "\033]52;c;", 7);
	for (i = 7; i < sizeof big - 1; i++) {
		big[i] = (char)('A' + (int)(i % 26));
	}
	app_prints(&t, big, sizeof big, "huge OSC 52");
	CHECK(t.srv.fb.title_len <= FB_TITLE_BYTES);
	path_free(&t);
}

/* Queries: replies go to the application only, never over the wire. */
static void
test_queries(void)
{
	struct path t;

	path_init(&t, 80, 24);
	vt_feed(&t.srv.vt, (const uint8_t *)"\033[c\033[>c\033[5n\033[6n", 14);
	CHECK(t.srv.vt.reply.len > 0);	/* the application gets them */
	APP(&t, "\033[c\033[>0c\033[5n\033[6n\033[?6n\033[x\033[?1$p"
	    "\033Z\033[18t\033[21t\033]10;?\a\033P+q544e\033\\");
	/* a server that is not ours sends the queries themselves */
	HOST(&t, "\033[c\033[>c\033[5n\033[6n\033Z\033[?6n\033[21t");
	HOST(&t, "\033[0c\033[1;1R\033[?1;2c");
	CHECK(t.cli.vt.reply.len == 0);
	path_free(&t);
}

/* Huge counts and parameters end, on both sides. */
static void
test_huge(void)
{
	static const char *const seqs[] = {
		"\033[999999999@", "\033[999999999L", "\033[999999999M",
		"\033[999999999P", "\033[999999999X", "\033[999999999b",
		"\033[999999999S", "\033[999999999T", "\033[999999999I",
		"\033[999999999Z", "\033[999999999E", "\033[999999999F",
		"\033[999999999;999999999H", "\033[999999999;999999999r",
		"\033[99999999999999999999999999999999999999999999999X",
		"\033[4294967297b", "\033[-1b", "\033[0;0;0;0;0;0;0;0;0;0;0;0;"
		"0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;999999999X",
		"\033[38;2;999999999;999999999;999999999m",
		"\033[38;5;999999999m", "\033[999999999;1H\033[999999999K",
		"\033[?999999999h", "\033[999999999g", "\033[999999999J"
	};
	struct path t;
	char line[64];
	size_t i;
	int k;

	path_init(&t, 300, 100);
	APP(&t, "x\342\224\200\344\270\255e\314\201");
	for (i = 0; i < LEN(seqs); i++) {
		for (k = 0; k < 20; k++) {
			/* something to repeat, in several renditions */
			snprintf(line, sizeof line, "\033[%d;%dH\033[%dm%c%s",
			    k + 1, k * 7 + 1, 31 + k % 7, 'a' + k, seqs[i]);
			vt_feed(&t.srv.vt, (const uint8_t *)line,
			    strlen(line));
		}
		app_prints(&t, seqs[i], strlen(seqs[i]), seqs[i]);
		HOST(&t, "\033[999999999b\033[999999999@\033[999999999X");
		client_take(&t, (const uint8_t *)seqs[i], strlen(seqs[i]),
		    seqs[i]);
	}
	/* REP of a wide character and of a combining sequence */
	APP(&t, "\344\270\255\033[999999999b");
	APP(&t, "e\314\201\033[999999999b");
	/* a HostMessage resize beyond the bounds changes nothing */
	t.hm.len = 0;
	CHECK(ssp_hm_put_resize(&t.hm, 100000, 100000) == 0);
	CHECK(term_apply(&t.cli, t.hm.p, t.hm.len) == -1);
	CHECK(t.cli.fb.w == 300 && t.cli.fb.h == 100);
	path_free(&t);
}

/* A HostMessage: a resize to w x h, then seq repeated to about 4 MB. */
static void
attack(struct buf *hm, int w, int h, const char *pre, const char *seq)
{
	struct buf b = { NULL, 0, 0 };
	size_t n = strlen(seq);

	int ok = buf_append(&b, pre, strlen(pre)) == 0;

	while (ok && b.len + n <= SSP_INFLATE_MAX - 64) {
		ok = buf_append(&b, seq, n) == 0;
	}
	CHECK(ok);
	hm->len = 0;
	CHECK(ssp_hm_put_resize(hm, w, h) == 0);
	CHECK(ssp_hm_put_bytes(hm, b.p, b.len) == 0);
	buf_free(&b);
}

/*
 * The work one diff may cost (mosh.h, VT_WORK_SCREENS): each of these
 * costs a screen or a row per few bytes; 4 MB of them at 1000 x 1000 was
 * an hour of CPU. Refused well within the alarm; an honest full redraw
 * of such a screen, and a scroll of all of it, go through.
 */
static void
test_work(void)
{
	static const struct {
		const char *pre, *seq;
	} atk[] = {
		{ "", "\033#8" },			/* DECALN */
		{ "", "\033[2J" },			/* ED */
		{ "\033[H", "\033[1000L" },		/* IL */
		{ "\033[H", "\033[1000M" },		/* DL */
		{ "", "\033[999S" },			/* SU */
		{ "", "\033[T" },			/* SD */
		{ "\033[3g", "\r\t" },			/* HT */
		{ "\033[H\033[44m", "\033[K\033[1000@" },	/* EL, ICH */
		{ "\033[H", "\033M" },			/* RI */
	};
	struct term_state *srv, *cli, *next, *blank;
	struct buf hm = { NULL, 0, 0 };
	char line[64];
	size_t i;
	int y, k;

	alarm(60);	/* today's code: an hour (safety net, not timing) */
	blank = malloc(sizeof *blank);
	CHECK(blank != NULL && term_init(blank, 80, 24) == 0);
	for (i = 0; i < LEN(atk); i++) {
		cli = term_copy(blank);
		CHECK(cli != NULL);
		attack(&hm, 1000, 1000, atk[i].pre, atk[i].seq);
		CHECK(term_apply(cli, hm.p, hm.len) == -1);
		CHECK(cli->vt.work <= vt_work_bound(1000, 1000) +
		    2 * 1000 * 1001);
		term_free(cli);
	}
	/* Many resizes in one diff cost their screens too. */
	hm.len = 0;
	for (k = 0; k < 200; k++) {
		CHECK(ssp_hm_put_resize(&hm, k % 2 ? 1000 : 1, 1000) == 0);
	}
	cli = term_copy(blank);
	CHECK(term_apply(cli, hm.p, hm.len) == -1);
	term_free(cli);

	/* Honest: a 1000 x 1000 screen full of text in many renditions,
	 * drawn from the first state, then scrolled by 999 rows. */
	srv = term_copy(blank);
	CHECK(vt_resize(&srv->vt, 1000, 1000) == 0);
	for (y = 0; y < 1000; y++) {
		snprintf(line, sizeof line, "\033[%d;1H", y + 1);
		vt_feed(&srv->vt, (const uint8_t *)line, strlen(line));
		for (k = 0; k < 100; k++) {
			snprintf(line, sizeof line, "\033[%d;%dm%c\344\270\255"
			    "e\314\201 \033[7mx\033[0m\033[4%dm  ",
			    31 + (y + k) % 7, 41 + k % 7, 'a' + k % 26,
			    k % 8);
			vt_feed(&srv->vt, (const uint8_t *)line, strlen(line));
		}
	}
	hm.len = 0;
	CHECK(term_diff(blank, srv, &hm) == 0 && hm.len < SSP_INFLATE_MAX);
	cli = term_copy(blank);
	CHECK(term_apply(cli, hm.p, hm.len) == 0);
	CHECK(same_screen(&cli->fb, &srv->fb));
	CHECK(cli->vt.work < vt_work_bound(1000, 1000) / 2);
	next = term_copy(srv);
	vt_feed(&next->vt, (const uint8_t *)"\033[1000;1H", 10);
	for (y = 0; y < 999; y++) {
		snprintf(line, sizeof line, "\n\033[3%dmline %d", y % 8, y);
		vt_feed(&next->vt, (const uint8_t *)line, strlen(line));
	}
	hm.len = 0;
	CHECK(term_diff(srv, next, &hm) == 0);
	CHECK(term_apply(cli, hm.p, hm.len) == 0);
	CHECK(same_screen(&cli->fb, &next->fb));
	CHECK(cli->vt.work < vt_work_bound(1000, 1000) / 2);
	term_free(cli);
	term_free(next);
	term_free(srv);

	/* Honest on a narrow screen: the scroll costs rows, not cells. */
	srv = term_copy(blank);
	CHECK(vt_resize(&srv->vt, 2, 1000) == 0);
	hm.len = 0;
	CHECK(term_diff(blank, srv, &hm) == 0);
	cli = term_copy(blank);
	CHECK(term_apply(cli, hm.p, hm.len) == 0);
	next = term_copy(srv);
	vt_feed(&next->vt, (const uint8_t *)"\033[1000;1Hz", 10);
	for (y = 0; y < 998; y++) {
		vt_feed(&next->vt, (const uint8_t *)"\ny", 2);
	}
	hm.len = 0;
	CHECK(term_diff(srv, next, &hm) == 0);
	CHECK(term_apply(cli, hm.p, hm.len) == 0);
	CHECK(same_screen(&cli->fb, &next->fb));
	term_free(cli);
	term_free(next);
	term_free(srv);

	/* The client keeps no replies at all: not even their buffer. */
	cli = term_copy(blank);
	hm.len = 0;
	attack(&hm, 80, 24, "", "\033[c");
	CHECK(term_apply(cli, hm.p, hm.len) == 0);
	CHECK(cli->vt.reply.cap == 0 && vt_bytes(&cli->vt, NULL) == 0);
	term_free(cli);
	term_free(blank);
	buf_free(&hm);
	alarm(300);
}

int
main(void)
{
	alarm(300);	/* a hang ends the test as a failure */
	test_work();
	test_vocabulary();
	test_titles();
	test_queries();
	test_huge();
	return TEST_DONE();
}
