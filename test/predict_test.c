/*
 * predict_test.c: the prediction scenarios of prediction.md §12, run from
 * the scripts in test/cases/prediction-scenarios/ by a small interpreter
 * with a fake clock, plus unit tests of the notification bar, the title
 * prefix and the never mode.
 *
 * The interpreter plays both ends: host bytes go into a server-side
 * emulator; each key line is the next client state (1, 2, ...) and is fed
 * to the engine against the frame last drawn; a draw is a copy of the
 * server frame, then cull, apply, the bar and the title prefix. "show N"
 * draws and prints the first N rows as text ('.' = empty cell, trailing
 * empties left out), the underlined columns in braces, and the cursor
 * ("@row,col", "h" when hidden); rows are joined by '|'.
 */
#include <limits.h>
#include <stdio.h>

#include "mosh.h"
#include "test/test.h"

#define SCRIPT_DIR "test/cases/prediction-scenarios/"
#define MAX_SHOWS 16
#define SHOW_BYTES 1024

struct sim {
	int w, h;
	struct fb srv, drawn;
	struct vt vt;
	int have_drawn;
	struct pred p;
	struct pred_notify n;
	uint64_t now, late_ack, recv, keys;
	unsigned si;
	int draw_errors;		/* failed draws, checked once per run */
	int nshow;
	char show[MAX_SHOWS][SHOW_BYTES];
};

static int
sim_init(struct sim *s, int w, int h)
{
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->h = h;
	if (fb_init(&s->srv, w, h) == -1) {
		return -1;
	}
	vt_init(&s->vt, &s->srv);
	pred_init(&s->p);
	pred_notify_init(&s->n, "Ctrl-^", 0);
	s->si = 250;
	return 0;
}

static void
sim_free(struct sim *s)
{
	CHECK(s->draw_errors == 0);
	if (s->have_drawn) {
		fb_free(&s->drawn);
	}
	vt_free(&s->vt);
	fb_free(&s->srv);
	pred_free(&s->p);
}

/* One pass of the client's draw (prediction.md §1 step 1). */
static void
sim_draw(struct sim *s)
{
	if (s->have_drawn) {
		fb_free(&s->drawn);
		s->have_drawn = 0;
	}
	if (fb_copy(&s->drawn, &s->srv) == -1) {
		s->draw_errors++;
		return;
	}
	s->have_drawn = 1;
	pred_cull(&s->p, &s->drawn, s->now);
	if (pred_apply(&s->p, &s->drawn, s->now) == -1) {
		s->draw_errors++;
	}
	pred_notify_expire(&s->n, s->now);
	if (pred_notify_apply(&s->n, &s->drawn, s->now) == -1) {
		s->draw_errors++;
	}
	pred_title_apply(&s->drawn, "[mosh] ");
}

/* The dump described at the top of this file. */
static void
dump(const struct fb *fb, int rows, char *out, size_t cap)
{
	char ul[256];
	size_t o = 0, ulen, keep;
	int y, x, n;
	const struct fb_cell *c;

	out[0] = '\0';
	for (y = 0; y < rows && y < fb->h; y++) {
		if (y > 0 && o + 1 < cap) {
			out[o++] = '|';
		}
		keep = o;
		ulen = 0;
		ul[0] = '\0';
		for (x = 0; x < fb->w; x++) {
			c = fb_cell(fb, y, x);
			if (c->len == 0) {
				if (o + 1 < cap) {
					out[o++] = '.';
				}
			} else {
				if (o + c->len < cap) {
					memcpy(out + o, c->c, c->len);
					o += c->len;
				}
				keep = o;
			}
			if (c->r.attr & FB_UNDERLINE) {
				keep = o;
				n = snprintf(ul + ulen, sizeof(ul) - ulen,
				    "%s%d", ulen ? "," : "", x);
				if (n > 0 && (size_t)n < sizeof(ul) - ulen) {
					ulen += (size_t)n;
				}
			}
		}
		o = keep;
		out[o] = '\0';
		if (ulen > 0) {
			n = snprintf(out + o, cap - o, "{%s}", ul);
			o += n > 0 && (size_t)n < cap - o ? (size_t)n : 0;
		}
	}
	snprintf(out + o, cap - o, "@%d,%d%s", fb->cy, fb->cx,
	    fb->modes & FB_M_CURSOR ? "" : "h");
}

/* Script escapes: \s space, \e ESC, \r, \n, \t, \\, \xHH. */
static size_t
unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0' && n < cap) {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = (uint8_t)*s++;
			continue;
		}
		s++;
		switch (*s) {
		case 's':
			out[n++] = ' ';
			break;
		case 'e':
			out[n++] = 0x1b;
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'x':
			if (sscanf(s + 1, "%2x", &v) == 1) {
				out[n++] = (uint8_t)v;
				s += 2;
			}
			break;
		default:
			out[n++] = (uint8_t)*s;
			break;
		}
		s++;
	}
	return n;
}

static void
sim_net(struct sim *s)
{
	pred_set_net(&s->p, MAX(s->recv, s->late_ack), s->late_ack, s->si);
}

static void
sim_key(struct sim *s, const uint8_t *b, size_t n)
{
	size_t i;

	sim_draw(s);
	pred_set_sent(&s->p, s->keys);
	if (n > PRED_PASTE_BYTES) {
		pred_paste(&s->p);
	} else {
		for (i = 0; i < n; i++) {
			pred_user_byte(&s->p, b[i], &s->drawn, s->now);
		}
	}
	s->keys++;
}

/* Run one command line; -1 on a line the interpreter does not know. */
static int
sim_line(struct sim *s, char *line)
{
	uint8_t b[512];
	char *arg;
	size_t n;
	enum pred_mode mode;
	int w, h;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0') {
		return 0;
	}
	arg = strchr(line, ' ');
	if (arg == NULL) {
		return -1;
	}
	*arg++ = '\0';
	if (strcmp(line, "time") == 0) {
		s->now = strtoull(arg, NULL, 10);
	} else if (strcmp(line, "si") == 0) {
		s->si = (unsigned)strtoul(arg, NULL, 10);
		sim_net(s);
	} else if (strcmp(line, "ack") == 0) {
		s->late_ack = strtoull(arg, NULL, 10);
		sim_net(s);
		pred_notify_acked(&s->n, s->now);
	} else if (strcmp(line, "recv") == 0) {
		/* The server received up to N, not all echoed yet. */
		s->recv = strtoull(arg, NULL, 10);
		sim_net(s);
	} else if (strcmp(line, "upstream") == 0) {
		pred_set_upstream(&s->p, atoi(arg));
	} else if (strcmp(line, "pref") == 0) {
		if (pred_parse_mode(arg, &mode) == -1) {
			return -1;
		}
		pred_set_mode(&s->p, mode, s->p.overwrite);
	} else if (strcmp(line, "overwrite") == 0) {
		pred_set_mode(&s->p, s->p.mode, atoi(arg));
	} else if (strcmp(line, "key") == 0) {
		n = unescape(arg, b, sizeof(b));
		sim_key(s, b, n);
	} else if (strcmp(line, "host") == 0) {
		n = unescape(arg, b, sizeof(b));
		vt_feed(&s->vt, b, n);
		pred_notify_heard(&s->n, s->now);
	} else if (strcmp(line, "resize") == 0) {
		if (sscanf(arg, "%d %d", &w, &h) != 2 ||
		    vt_resize(&s->vt, w, h) == -1) {
			return -1;
		}
		pred_reset(&s->p);
	} else if (strcmp(line, "heard") == 0) {
		pred_notify_heard(&s->n, s->now - strtoull(arg, NULL, 10));
	} else if (strcmp(line, "acked") == 0) {
		pred_notify_acked(&s->n, s->now - strtoull(arg, NULL, 10));
	} else if (strcmp(line, "notify") == 0) {
		pred_notify_set(&s->n, arg, 1, 1, s->now);
	} else if (strcmp(line, "show") == 0) {
		sim_draw(s);
		if (!s->have_drawn || s->nshow >= MAX_SHOWS) {
			return -1;
		}
		dump(&s->drawn, atoi(arg), s->show[s->nshow], SHOW_BYTES);
		s->nshow++;
	} else {
		return -1;
	}
	return 0;
}

static int
sim_run(struct sim *s, const char *name)
{
	char path[256], line[1024];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), SCRIPT_DIR "%s.txt", name);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sim_line(s, line) == -1) {
			fprintf(stderr, "%s: bad line: %s\n", path, line);
			r = -1;
		}
	}
	fclose(f);
	return r;
}

/* Expected shows, in order, from prediction.md §12. */
struct scenario {
	const char *name;
	const char *want[MAX_SHOWS];
};

static const struct scenario scenarios[] = {
	{ "s01", { "$ @0,2", "$ a@0,3" } },
	{ "s02", { "$ @0,2", "$ @0,2", "$ l@0,3", "$ ls{3}@0,4",
	    "$ ls {3}@0,5", "$ ls @0,5" } },
	{ "s03", { "$ a@0,3", "$ ab@0,4", "$ abc@0,5" } },
	{ "s04", { "$ @0,2", "$ xy@0,4" } },
	{ "s05", { "$ x@0,3", "$ xy@0,4" } },
	{ "s06", { "$ su{3}@0,4", "$ su|@0,4", "$ su|@0,4",
	    "$ su|Password: @1,10", "$ su|Password: @1,10",
	    "$ su|Password: @1,10" } },
	{ "s07", { "$ abc{3,4}@0,5", "$ aBC@0,5" } },
	{ "s08", { "$ abxcd@0,5", "$ abcd.{4,5,6}@0,4" } },
	{ "s09", { "$ abcz@0,6", "$ abcz@0,5", "$ abcz@0,4",
	    "$ abQcz{4,5,6}@0,5" } },
	{ "s10", { "$ qab@0,3", "$ qab@0,4", "$ qab@0,5" } },
	{ "s11", { "$ abcdefghi|@0,11", "$ abcdefghi|@0,11",
	    "$ abcdefghi|@0,11", "$ abcdefghij|k@1,1" } },
	{ "s12", { "$ e|@0,3", "$ e|@1,0", "$ e|@1,0" } },
	{ "s13", { "$ a@0,3", "$ a^C|$ @1,2" } },
	{ "s14", { "$ a@0,3", "$ abc@0,5", "$ abcd{3,4,5}@0,6" } },
	{ "s16", { "$ qbcd@0,3", "$ qrcd{3}@0,4" } },
	{ "s17", { "$ xyz@0,3", "$ xyz@0,3" } },
	{ "s18", { "$  @0,3", "$  ab{4}@0,5" } },
	{ "s19", { "$ ab{3}@0,4", "$ a@0,3", "$ a@0,3" } },
	{ "s20", { "$ a@0,3" } },
	{ "s21", { "$ good{5}@0,6" } },
};

static void
check_show(const char *name, int i, const char *got, const char *want)
{
	int same;

	same = strcmp(got, want) == 0;
	CHECK(same);
	if (same) {
		return;
	}
	fprintf(stderr, "%s show %d:\n  got  \"%s\"\n  want \"%s\"\n", name,
	    i + 1, got, want);
}

static void
test_scenarios(void)
{
	struct sim s;
	const struct scenario *sc;
	const struct fb_cell *c;
	size_t i;
	int k, nwant;

	for (i = 0; i < 2 * LEN(scenarios); i++) {
		/* Upstream's rules, then ours: neither changes these. */
		sc = &scenarios[i % LEN(scenarios)];
		if (sim_init(&s, 12, 3) == -1) {
			CHECK(0);
			continue;
		}
		pred_set_upstream(&s.p, i < LEN(scenarios));
		CHECK(sim_run(&s, sc->name) == 0);
		for (nwant = 0; nwant < MAX_SHOWS && sc->want[nwant]; nwant++) {
		}
		if (s.nshow != nwant) {
			fprintf(stderr, "%s: %d shows, want %d\n", sc->name,
			    s.nshow, nwant);
		}
		CHECK(s.nshow == nwant);
		for (k = 0; k < s.nshow && k < nwant; k++) {
			check_show(sc->name, k, s.show[k], sc->want[k]);
		}
		if (strcmp(sc->name, "s21") == 0 && s.have_drawn) {
			/* The predicted d is bold green like the o before. */
			c = fb_cell(&s.drawn, 0, 5);
			CHECK(c->r.attr == (FB_BOLD | FB_UNDERLINE));
			CHECK(c->r.fg == 32);
		}
		sim_free(&s);
	}
}

static void
pad60(char *out, const char *text)
{
	snprintf(out, 61, "%-60s", text);
}

static void
test_bar_scenarios(void)
{
	static const struct {
		const char *name, *bar, *rest;
	} bars[] = {
		{ "n1", "mosh: Last contact 7 seconds ago. [To quit: Ctrl-^ .]",
		    "|@0,4h" },
		{ "n2", "mosh: Last reply 12 seconds ago. [To quit: Ctrl-^ .]",
		    "|..$@1,3" },
		{ "n3", "mosh: Exiting... (1:35 without contact.) "
		    "[To quit: Ctrl-^ .]", "|@0,1h" },
		{ "n4", "mosh: Nothing received from server on UDP port "
		    "60001. [To quit: Ctrl-^ .]", "|@0,1h" },
	};
	struct sim s;
	char want[256], row[64];
	const struct fb_cell *c;
	size_t i;

	for (i = 0; i < LEN(bars); i++) {
		if (sim_init(&s, 60, 3) == -1) {
			CHECK(0);
			continue;
		}
		CHECK(sim_run(&s, bars[i].name) == 0);
		pad60(row, bars[i].bar);
		snprintf(want, sizeof(want), "%s%s", row, bars[i].rest);
		CHECK(s.nshow == 1);
		if (s.nshow == 1) {
			check_show(bars[i].name, 0, s.show[0], want);
		}
		if (s.have_drawn) {
			c = fb_cell(&s.drawn, 0, 0);
			CHECK(c->r.attr == FB_BOLD && c->r.fg == 37 &&
			    c->r.bg == 44);
			c = fb_cell(&s.drawn, 0, 59);
			if (strlen(bars[i].bar) < 60) {
				CHECK(c->r.attr == 0 && c->r.fg == 37 &&
				    c->r.bg == 44 && c->len == 1 &&
				    c->c[0] == ' ');
			} else {
				CHECK(c->r.attr == FB_BOLD);
			}
		}
		sim_free(&s);
	}
}

/*
 * Random sessions (keys, echoes with and without insertion, wrong echoes,
 * acks, send intervals, modes) as upstream's engine showed them, 12x3.
 * The first one caught an epoch kill expiring a state too late.
 */
struct session {
	const char *script;
	const char *want[MAX_SHOWS];
};

static const struct session sessions[] = {
	{
	    "si 250\n"
	    "host $\\sxyz\\r\\e[2C\n"
	    "time 1\n"
	    "key \\eOC\n"
	    "show 6\n"
	    "time 101\n"
	    "key \\x7f\n"
	    "show 6\n"
	    "time 1101\n"
	    "si 20\n"
	    "show 6\n"
	    "time 2101\n"
	    "host \\e[C\n"
	    "show 6\n"
	    "time 2102\n"
	    "key \\e[A\n"
	    "show 6\n"
	    "time 2202\n"
	    "key \\e[C\n"
	    "show 6\n"
	    "time 2502\n"
	    "si 60\n"
	    "show 6\n"
	    "time 2802\n"
	    "host \\b\\e[P\n"
	    "ack 3\n"
	    "show 6\n"
	    "time 2803\n"
	    "host \\e[C\n"
	    "show 6\n"
	    "time 2813\n"
	    "ack 4\n"
	    "show 6\n"
	    "time 2863\n"
	    "key x\n"
	    "show 6\n"
	    "time 2873\n"
	    "host \\e[@x\n"
	    "ack 5\n"
	    "show 6\n"
	    "time 3073\n"
	    "ack 5\n"
	    "show 6\n"
	    "time 3173\n"
	    "ack 5\n"
	    "show 6\n"
	    "time 4173\n"
	    "ack 5\n"
	    "show 6\n"
	    "time 4183\n"
	    "key \\s\n"
	    "show 6\n",
	    {
		"$ xyz||@0,2",
		"$ xyz||@0,2",
		"$ xyz||@0,2",
		"$ xyz||@0,3",
		"$ xyz||@0,3",
		"$ xyz||@0,3",
		"$ xyz||@0,3",
		"$ xb||@0,4",
		"$ xb||@0,5",
		"$ xb||@0,5",
		"$ xb||@0,5",
		"$ xb.x||@0,6",
		"$ xb.x||@0,6",
		"$ xb.x||@0,6",
		"$ xb.x||@0,6",
		"$ xb.x ||@0,7",
	    } },
	{
	    "si 100\n"
	    "pref experimental\n"
	    "overwrite 1\n"
	    "host $\\sabc\\e[D\\e[D\n"
	    "time 1\n"
	    "ack 0\n"
	    "show 4\n"
	    "time 301\n"
	    "key a\n"
	    "show 4\n"
	    "time 351\n"
	    "host a\n"
	    "ack 1\n"
	    "show 4\n"
	    "time 401\n"
	    "key a\n"
	    "show 4\n"
	    "time 6401\n"
	    "si 100\n"
	    "show 4\n"
	    "time 6701\n"
	    "key a\n"
	    "show 4\n"
	    "time 6706\n"
	    "host a\n"
	    "ack 2\n"
	    "show 4\n"
	    "time 6726\n"
	    "host a\n"
	    "ack 3\n"
	    "show 4\n"
	    "time 6731\n"
	    "key \\r\n"
	    "show 4\n"
	    "time 7731\n"
	    "key \\eOD\n"
	    "show 4\n"
	    "time 7736\n"
	    "host \\r\\n$\\s\n"
	    "ack 4\n"
	    "show 4\n"
	    "time 7756\n"
	    "host \\b\n"
	    "ack 5\n"
	    "show 4\n"
	    "time 8056\n"
	    "show 4\n"
	    "time 14056\n"
	    "key \\r\n"
	    "show 4\n"
	    "time 14076\n"
	    "host \\r\\n$\\s\n"
	    "show 4\n"
	    "time 14126\n"
	    "key \\s\n"
	    "show 4\n",
	    {
		"$ abc||@0,3",
		"$ aac{3}||@0,4",
		"$ aac||@0,4",
		"$ aaa{4}||@0,5",
		"$ aaa{4}||@0,5",
		"$ aaaa{4,5}||@0,6",
		"$ aaaa{5}||@0,6",
		"$ aaaa||@0,6",
		"$ aaaa||@1,0",
		"$ aaaa||@1,0",
		"$ aaaa|$ |@1,2",
		"$ aaaa|$ b|@1,3",
		"$ aaaa|$ b|@1,3",
		"$ aaaa|$ b|@2,0",
		"$ aaaa|$ b|$ @2,0",
		"$ aaaa|$ b|  {0}@2,1",
	    } },
	{
	    "si 20\n"
	    "pref experimental\n"
	    "overwrite 1\n"
	    "host $\\sabc\\e[D\\e[D\n"
	    "time 1000\n"
	    "key \\r\n"
	    "show 4\n"
	    "time 1001\n"
	    "key q\n"
	    "show 4\n"
	    "time 1021\n"
	    "host \\r\\n$\\s\n"
	    "ack 1\n"
	    "show 4\n"
	    "time 2021\n"
	    "key \\x03\n"
	    "show 4\n"
	    "time 8021\n"
	    "key \\xe6\\xbc\\xa2\n"
	    "show 4\n"
	    "time 8022\n"
	    "host q\n"
	    "ack 2\n"
	    "show 4\n"
	    "time 8122\n"
	    "key \\r\n"
	    "show 4\n"
	    "time 8127\n"
	    "key \\x7f\n"
	    "show 4\n"
	    "time 14127\n"
	    "key a\n"
	    "show 4\n"
	    "time 14427\n"
	    "host ^C\\r\\n$\\sZ\\r\\n$\\s\\b\\e[P\n"
	    "ack 6\n"
	    "show 4\n"
	    "time 20427\n"
	    "si 60\n"
	    "show 4\n"
	    "time 26427\n"
	    "key b\n"
	    "show 4\n"
	    "time 26428\n"
	    "host ab\n"
	    "ack 8\n"
	    "show 4\n"
	    "time 26528\n"
	    "key \\x7f\n"
	    "show 4\n"
	    "time 26548\n"
	    "host \\b\\e[P\n"
	    "ack 9\n"
	    "show 4\n"
	    "time 26558\n"
	    "ack 9\n"
	    "show 4\n",
	    {
		"$ abc||@1,0",
		"$ abc|q|@1,1",
		"$ abc|q |@1,1",
		"$ abc|q |@1,1",
		"mosh: Last c|q {0}|@1,1",
		"$ abc|$ q|@1,3",
		"$ abc|$ q|@2,0",
		"$ abc|$ q|@2,0",
		"$ abc|$ q|a{0}@2,1",
		"$ q^C|$ Z|a b{0}@2,1",
		"$ q^C|$ Z|a b{0}@2,1",
		"mosh: Last c|$ Z|abb{0,1}@2,2",
		"$ q^C|$ Z|$ bab@2,5",
		"$ q^C|$ Z|$ ba {4}@2,4",
		"$ q^C|$ Z|$ babb@2,6",
		"$ q^C|$ Z|$ babb@2,6",
	    } },
	{
	    "si 250\n"
	    "overwrite 1\n"
	    "host $\\s\\e[1;32mgo\n"
	    "time 6000\n"
	    "key \\e[A\n"
	    "show 4\n"
	    "time 12000\n"
	    "ack 1\n"
	    "show 4\n"
	    "time 12200\n"
	    "ack 1\n"
	    "show 4\n"
	    "time 18200\n"
	    "ack 1\n"
	    "show 4\n"
	    "time 18210\n"
	    "key \\e[1;5C\n"
	    "show 4\n"
	    "time 19210\n"
	    "host \\e[C\n"
	    "ack 2\n"
	    "show 4\n"
	    "time 19510\n"
	    "key q\n"
	    "show 4\n"
	    "time 19520\n"
	    "host q\n"
	    "ack 3\n"
	    "show 4\n"
	    "time 19720\n"
	    "key b\n"
	    "show 4\n"
	    "time 19770\n"
	    "key a\n"
	    "show 4\n"
	    "time 19820\n"
	    "host ba\n"
	    "ack 5\n"
	    "show 4\n"
	    "time 19821\n"
	    "key \\eOD\n"
	    "show 4\n"
	    "time 20021\n"
	    "key q\n"
	    "show 4\n"
	    "time 20071\n"
	    "key \\x7f\n"
	    "show 4\n"
	    "time 20371\n"
	    "key \\e[C\n"
	    "show 4\n"
	    "time 26371\n"
	    "key q\n"
	    "show 4\n",
	    {
		"$ go||@0,4",
		"mosh: Last c||@0,4h",
		"mosh: Last c||@0,4h",
		"mosh: Last c||@0,4h",
		"mosh: Last c||@0,4h",
		"$ go||@0,5",
		"$ go||@0,5",
		"$ go.q||@0,6",
		"$ go.qb{6}||@0,7",
		"$ go.qba{6,7}||@0,8",
		"$ go.qba||@0,8",
		"$ go.qba||@0,7",
		"$ go.qbq{7}||@0,8",
		"$ go.qb {7}||@0,7",
		"$ go.qb {7}||@0,8",
		"mosh: Last c||@0,9h",
	    } },
};

/* Run the lines of script; -1 if one is not understood. */
static int
sim_script(struct sim *s, const char *script)
{
	char *copy, *line, *next;
	int r = 0;

	if ((copy = strdup(script)) == NULL) {
		return -1;
	}
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		if (sim_line(s, line) == -1) {
			fprintf(stderr, "bad line: %s\n", line);
			r = -1;
		}
	}
	free(copy);
	return r;
}

static void
test_sessions(void)
{
	struct sim s;
	size_t i;
	int k;

	for (i = 0; i < LEN(sessions); i++) {
		if (sim_init(&s, 12, 3) == -1) {
			CHECK(0);
			return;
		}
		/* Compared with upstream's engine: upstream's rules. */
		pred_set_upstream(&s.p, 1);
		CHECK(sim_script(&s, sessions[i].script) == 0);
		CHECK(s.nshow == MAX_SHOWS);
		for (k = 0; k < s.nshow; k++) {
			check_show("session", (int)i * 100 + k, s.show[k],
			    sessions[i].want[k]);
		}
		sim_free(&s);
	}
}

/*
 * Our rules (pred_set_upstream 0) against upstream's (1) on the same
 * scripts. T: a prompt where typing was confirmed to echo is trusted, so
 * the first key typed at it again shows at once. R: after a wrong guess,
 * keys the server has not received are guessed again from its frame.
 */
#define TRUSTED_PROMPT \
	"si 250\n" \
	"host $\\s\n" \
	"time 10\n" \
	"key l\n" \
	"show 3\n" \
	"time 600\n" \
	"host l\n" \
	"ack 1\n" \
	"show 3\n" \
	"time 700\n" \
	"key \\r\n" \
	"time 1300\n" \
	"host \\r\\nout\\r\\n$\\s\n" \
	"ack 2\n" \
	"show 3\n"

#define VI_INSERT \
	"si 250\n" \
	"host \\e[2;1H~\\e[3;1H~\\e[H\n" \
	"time 10\n" \
	"key i\n" \
	"time 175\n" \
	"key T\n" \
	"time 340\n" \
	"key h\n" \
	"show 1\n" \
	"time 560\n"

struct ours_case {
	const char *name;
	int upstream;
	const char *script;
	const char *want[MAX_SHOWS];
};

static const struct ours_case ours_cases[] = {
	/* T: the second command's first key shows at once, underlined. */
	{ "trusted", 0, TRUSTED_PROMPT
	    "time 1400\n"
	    "key p\n"
	    "show 4\n"
	    "time 2000\n"
	    "host p\n"
	    "ack 3\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2",
	    "$ l|out|$ p{2}|@2,3", "$ l|out|$ p|@2,3" } },
	{ "trusted/upstream", 1, TRUSTED_PROMPT
	    "time 1400\n"
	    "key p\n"
	    "show 4\n"
	    "time 2000\n"
	    "host p\n"
	    "ack 3\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2", "$ l|out|$ |@2,2",
	    "$ l|out|$ p|@2,3" } },
	/* never shows nothing, trusted prompt or not. */
	{ "trusted/never", 0, "pref never\n" TRUSTED_PROMPT
	    "time 1400\n"
	    "key p\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2", "$ l|out|$ |@2,2" } },
	/* always: the same rule. */
	{ "trusted/always", 0, "pref always\n" TRUSTED_PROMPT
	    "time 1400\n"
	    "key p\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2",
	    "$ l|out|$ p{2}|@2,3" } },
	/* T: a password prompt is another prompt: nothing shown, ever. */
	{ "password", 0, TRUSTED_PROMPT
	    "time 1400\n"
	    "key s\n"
	    "key u\n"
	    "key \\r\n"
	    "show 4\n"
	    "time 2000\n"
	    "host su\\r\\nPassword:\\s\n"
	    "ack 4\n"
	    "show 4\n"
	    "time 2100\n"
	    "key x\n"
	    "show 4\n"
	    "time 2250\n"
	    "key y\n"
	    "show 4\n"
	    "time 2700\n"
	    "ack 6\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2",
	    "$ l|out|$ su{2,3}|@2,4", "$ l|out|$ su|Password: @3,10",
	    "$ l|out|$ su|Password: @3,10", "$ l|out|$ su|Password: @3,10",
	    "$ l|out|$ su|Password: @3,10" } },
	/* T: no prompt at all (read -s on a fresh line): nothing shown. */
	{ "silent", 0, TRUSTED_PROMPT
	    "time 1400\n"
	    "key r\n"
	    "key \\r\n"
	    "time 2000\n"
	    "host r\\r\\n\n"
	    "ack 5\n"
	    "time 2100\n"
	    "key x\n"
	    "show 4\n"
	    "time 2700\n"
	    "ack 6\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2", "$ l|out|$ r|@3,0",
	    "$ l|out|$ r|@3,0" } },
	/*
	 * T: a program that prints the same prompt and does not echo: the
	 * guess is shown for one round trip, then the prompt is no longer
	 * trusted and the next key waits for an echo.
	 */
	{ "distrust", 0, TRUSTED_PROMPT
	    "time 1400\n"
	    "key x\n"
	    "show 4\n"
	    "time 2000\n"
	    "ack 3\n"
	    "show 4\n"
	    "time 2100\n"
	    "key y\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2",
	    "$ l|out|$ x{2}|@2,3", "$ l|out|$ |@2,2", "$ l|out|$ |@2,2" } },
	/*
	 * R: vi's i enters insert mode and echoes nothing. Once the server
	 * has answered it, T and h are guessed again from its cursor (not
	 * shown: a new epoch); T's echo confirms them, and e shows at once.
	 */
	{ "vi", 0, VI_INSERT
	    "ack 1\n"
	    "show 1\n"
	    "time 725\n"
	    "host T\n"
	    "ack 2\n"
	    "show 1\n"
	    "time 730\n"
	    "key e\n"
	    "show 1\n"
	    "time 900\n"
	    "host h\n"
	    "ack 3\n"
	    "show 1\n",
	    { "@0,0", "@0,0", "Th{1}@0,2", "The{1,2}@0,3", "The{2}@0,3" } },
	/* Upstream drops T and h and guesses e where the server was. */
	{ "vi/upstream", 1, VI_INSERT
	    "ack 1\n"
	    "show 1\n"
	    "time 725\n"
	    "host T\n"
	    "ack 2\n"
	    "show 1\n"
	    "time 730\n"
	    "key e\n"
	    "show 1\n"
	    "time 900\n"
	    "host h\n"
	    "ack 3\n"
	    "show 1\n",
	    { "@0,0", "@0,0", "T@0,1", "T@0,1", "Th@0,2" } },
	/*
	 * R from a frame that may not hold every key the server received
	 * (it has received T, not echoed it yet): h is guessed from the
	 * server's cursor as a speculation, here a wrong one, and made again
	 * from the next frame that holds T; e follows it, shown once h is
	 * confirmed.
	 */
	{ "vi/unsettled", 0, VI_INSERT
	    "recv 2\n"
	    "ack 1\n"
	    "show 1\n"
	    "time 725\n"
	    "host T\n"
	    "ack 2\n"
	    "show 1\n"
	    "time 730\n"
	    "key e\n"
	    "show 1\n"
	    "time 900\n"
	    "host h\n"
	    "ack 3\n"
	    "show 1\n",
	    { "@0,0", "@0,0", "T@0,1", "T@0,1", "The{2}@0,3" } },
	/*
	 * A speculation off by one key where the key repeats: l (3) guessed
	 * where the server shows the first l (2) must not confirm the epoch,
	 * or o would be shown over the second l.
	 */
	{ "speculation", 0, "si 250\n"
	    "time 10\n"
	    "key i\n"
	    "time 175\n"
	    "key l\n"
	    "time 340\n"
	    "key l\n"
	    "time 505\n"
	    "key o\n"
	    "time 560\n"
	    "recv 2\n"
	    "ack 1\n"
	    "show 1\n"
	    "time 800\n"
	    "host ll\n"
	    "recv 4\n"
	    "ack 3\n"
	    "show 1\n"
	    "time 1000\n"
	    "host o\n"
	    "ack 4\n"
	    "show 1\n",
	    { "@0,0", "ll@0,2", "llo@0,3" } },
	/*
	 * On a row the server's cursor has not reached, the text right of
	 * the cursor is not guessed to move: an editor's "~" is not pushed
	 * along by the typing (upstream shows it moving right).
	 */
	{ "stale row", 0, "si 250\n"
	    "host ab\\r\\n~\\e[1;3H\n"
	    "time 10\n"
	    "key c\n"
	    "time 600\n"
	    "host c\n"
	    "ack 1\n"
	    "time 700\n"
	    "key \\r\n"
	    "time 800\n"
	    "key j\n"
	    "time 900\n"
	    "key u\n"
	    "time 1300\n"
	    "host \\r\\n\\e[Kj\n"
	    "ack 3\n"
	    "show 2\n",
	    { "abc|ju{1}@1,2" } },
	{ "stale row/upstream", 1, "si 250\n"
	    "host ab\\r\\n~\\e[1;3H\n"
	    "time 10\n"
	    "key c\n"
	    "time 600\n"
	    "host c\n"
	    "ack 1\n"
	    "time 700\n"
	    "key \\r\n"
	    "time 800\n"
	    "key j\n"
	    "time 900\n"
	    "key u\n"
	    "time 1300\n"
	    "host \\r\\n\\e[Kj\n"
	    "ack 3\n"
	    "show 2\n",
	    { "abc|ju~{1,2}@1,2" } },
	/*
	 * T: a wrong guess in an epoch that did not begin at a prompt (typed
	 * ahead of Enter's output) leaves the trusted prompt trusted.
	 */
	{ "trust kept", 0, TRUSTED_PROMPT
	    "time 1400\n"
	    "key \\r\n"
	    "time 1500\n"
	    "key q\n"
	    "time 2000\n"
	    "host \\r\\n\n"
	    "ack 4\n"
	    "show 4\n"
	    "time 2100\n"
	    "host $\\s\n"
	    "time 2200\n"
	    "key p\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2",
	    "$ l|out|$ |@3,0", "$ l|out|$ |$ p{2}@3,3" } },
	/*
	 * T: a wrong guess after typing at the prompt was confirmed (here an
	 * application that upper-cases later letters) leaves it trusted.
	 */
	{ "trust after echo", 0, TRUSTED_PROMPT
	    "time 1400\n"
	    "key a\n"
	    "time 2000\n"
	    "host a\n"
	    "ack 3\n"
	    "time 2100\n"
	    "key b\n"
	    "time 2700\n"
	    "host B\\r\\n$\\s\n"
	    "ack 4\n"
	    "show 4\n"
	    "time 2800\n"
	    "key p\n"
	    "show 4\n",
	    { "$ ||@0,2", "$ l||@0,3", "$ l|out|$ @2,2",
	    "$ l|out|$ aB|$ @3,2", "$ l|out|$ aB|$ p{2}@3,3" } },
};

static void
test_ours(void)
{
	struct sim s;
	const struct ours_case *oc;
	char name[64];
	size_t i;
	int k, nwant;

	for (i = 0; i < LEN(ours_cases); i++) {
		oc = &ours_cases[i];
		if (sim_init(&s, 12, 5) == -1) {
			CHECK(0);
			return;
		}
		pred_set_upstream(&s.p, oc->upstream);
		CHECK(sim_script(&s, oc->script) == 0);
		for (nwant = 0; nwant < MAX_SHOWS && oc->want[nwant]; nwant++) {
		}
		if (s.nshow != nwant) {
			fprintf(stderr, "%s: %d shows, want %d\n", oc->name,
			    s.nshow, nwant);
		}
		CHECK(s.nshow == nwant);
		for (k = 0; k < s.nshow && k < nwant; k++) {
			snprintf(name, sizeof(name), "%s", oc->name);
			check_show(name, k, s.show[k], oc->want[k]);
		}
		sim_free(&s);
	}
}

/* Cell predictions not yet judged. */
static int
active_cells(const struct pred *p)
{
	int i, j, n = 0;

	for (i = 0; i < PRED_MAX_ROWS; i++) {
		if (p->rows[i].row < 0) {
			continue;
		}
		for (j = 0; j < p->cw; j++) {
			n += p->cells[(size_t)i * (size_t)p->cw + (size_t)j].active;
		}
	}
	return n;
}

/*
 * The replay log is bounded: with more unacknowledged keys than it holds,
 * a wrong guess guesses nothing again (the oldest keys are lost); with
 * fewer, the keys after the wrong one are guessed again.
 */
static void
test_replay_bounds(void)
{
	struct sim s;
	char line[64];
	int keys, i, k;

	for (k = 0; k < 2; k++) {
		keys = k == 0 ? PRED_MAX_KEYS + 6 : 20;
		if (sim_init(&s, 80, 5) == -1) {
			CHECK(0);
			return;
		}
		CHECK(sim_line(&s, strcpy(line, "si 250")) == 0);
		CHECK(sim_line(&s, strcpy(line, "host $\\s")) == 0);
		for (i = 0; i < keys; i++) {
			s.now += 100;
			CHECK(sim_line(&s, strcpy(line, "key a")) == 0);
		}
		CHECK(s.p.nkeys <= PRED_MAX_KEYS);
		s.now += 100;
		/* The server shows something else for the first five keys. */
		CHECK(sim_line(&s, strcpy(line, "host ZZZZZ")) == 0);
		CHECK(sim_line(&s, strcpy(line, "ack 5")) == 0);
		CHECK(sim_line(&s, strcpy(line, "show 1")) == 0);
		if (k == 1) {
			CHECK(active_cells(&s.p) > 0);
			check_show("replay bounds", k, s.show[0],
			    "$ ZZZZZ@0,7");
		} else {
			CHECK(active_cells(&s.p) == 0);
		}
		sim_free(&s);
	}
}

/* Scenario 15: a paste withdraws the predictions and predicts nothing. */
static void
test_paste(void)
{
	struct sim s;
	char line[512], big[160];

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(sim_line(&s, strcpy(line, "si 100")) == 0);
	CHECK(sim_line(&s, strcpy(line, "host $\\s")) == 0);
	CHECK(sim_line(&s, strcpy(line, "time 10")) == 0);
	CHECK(sim_line(&s, strcpy(line, "key a")) == 0);
	CHECK(sim_line(&s, strcpy(line, "time 200")) == 0);
	CHECK(sim_line(&s, strcpy(line, "host a")) == 0);
	CHECK(sim_line(&s, strcpy(line, "ack 1")) == 0);
	CHECK(sim_line(&s, strcpy(line, "time 210")) == 0);
	CHECK(sim_line(&s, strcpy(line, "key b")) == 0);
	CHECK(sim_line(&s, strcpy(line, "show 1")) == 0);
	CHECK(sim_line(&s, strcpy(line, "time 220")) == 0);
	snprintf(line, sizeof(line), "key %s", big);
	CHECK(sim_line(&s, line) == 0);
	CHECK(sim_line(&s, strcpy(line, "show 1")) == 0);
	CHECK(sim_line(&s, strcpy(line, "time 230")) == 0);
	CHECK(sim_line(&s, strcpy(line, "key c")) == 0);
	CHECK(sim_line(&s, strcpy(line, "show 1")) == 0);
	CHECK(s.nshow == 3);
	check_show("paste", 0, s.show[0], "$ ab{3}@0,4");
	check_show("paste", 1, s.show[1], "$ a@0,3");
	check_show("paste", 2, s.show[2], "$ a@0,3");
	sim_free(&s);
}

/* never: nothing is culled, drawn or waited for. */
static void
test_never(void)
{
	struct sim s;
	char line[64];
	int i;

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	CHECK(sim_line(&s, strcpy(line, "pref never")) == 0);
	CHECK(sim_line(&s, strcpy(line, "si 250")) == 0);
	CHECK(sim_line(&s, strcpy(line, "host $\\s")) == 0);
	for (i = 0; i < 20; i++) {
		s.now += 300;
		CHECK(sim_line(&s, strcpy(line, "key x")) == 0);
	}
	CHECK(sim_line(&s, strcpy(line, "show 3")) == 0);
	CHECK(s.nshow == 1);
	check_show("never", 0, s.show[0], "$ ||@0,2");
	CHECK(s.have_drawn && fb_equal(&s.drawn, &s.srv));
	CHECK(pred_wait_ms(&s.p, s.now) == INT_MAX);
	sim_free(&s);
}

static void
test_modes_and_wait(void)
{
	struct sim s;
	char line[64];
	enum pred_mode m = PRED_NEVER;

	CHECK(pred_parse_mode(NULL, &m) == 0 && m == PRED_ADAPTIVE);
	CHECK(pred_parse_mode("always", &m) == 0 && m == PRED_ALWAYS);
	CHECK(pred_parse_mode("never", &m) == 0 && m == PRED_NEVER);
	CHECK(pred_parse_mode("experimental", &m) == 0 &&
	    m == PRED_EXPERIMENTAL);
	CHECK(pred_parse_mode("adaptive", &m) == 0 && m == PRED_ADAPTIVE);
	CHECK(pred_parse_mode("sometimes", &m) == -1);

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	CHECK(sim_line(&s, strcpy(line, "si 20")) == 0);
	CHECK(sim_line(&s, strcpy(line, "host $\\s")) == 0);
	sim_draw(&s);
	CHECK(pred_wait_ms(&s.p, s.now) == INT_MAX);
	CHECK(sim_line(&s, strcpy(line, "key a")) == 0);
	CHECK(pred_wait_ms(&s.p, s.now) == 50);
	CHECK(sim_line(&s, strcpy(line, "host a")) == 0);
	CHECK(sim_line(&s, strcpy(line, "ack 1")) == 0);
	s.now = 30;
	sim_draw(&s);
	CHECK(pred_wait_ms(&s.p, s.now) == INT_MAX);
	sim_free(&s);
}

static void
check_text(const struct pred_notify *n, uint64_t now, const char *want)
{
	char out[512];
	int len, same;

	len = pred_notify_text(n, now, out, sizeof(out));
	if (want == NULL) {
		CHECK(len == -1);
		return;
	}
	CHECK(len == (int)strlen(want));
	same = len >= 0 && strcmp(out, want) == 0;
	CHECK(same);
	if (!same) {
		fprintf(stderr, "bar text at %llu:\n  got  \"%s\"\n"
		    "  want \"%s\"\n", (unsigned long long)now,
		    len < 0 ? "(none)" : out, want);
	}
}

static void
test_bar_texts(void)
{
	struct pred_notify n;
	char small[16];

	pred_notify_init(&n, "Ctrl-^", 1000);
	check_text(&n, 1000, NULL);
	check_text(&n, 7500, NULL);	/* 6500 exactly is not late */
	check_text(&n, 7501, "mosh: Last contact 6 seconds ago. "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 60999, "mosh: Last contact 59 seconds ago. "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 61000, "mosh: Last contact 1:00 ago. "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 3600999, "mosh: Last contact 59:59 ago. "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 3601000, "mosh: Last contact 1:00:00 ago. "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 1000 + 3725000, "mosh: Last contact 1:02:05 ago. "
	    "[To quit: Ctrl-^ .]");

	/* Uplink-only trouble says "reply" and counts from the ack. */
	pred_notify_heard(&n, 20000);
	pred_notify_acked(&n, 15000);
	check_text(&n, 25000, NULL);
	check_text(&n, 25001, "mosh: Last reply 10 seconds ago. "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 26501, "mosh: Last contact 6 seconds ago. "
	    "[To quit: Ctrl-^ .]");

	/* Messages: plain, late, expiry, permanence. */
	pred_notify_heard(&n, 100000);
	pred_notify_acked(&n, 100000);
	pred_notify_set(&n, "Exiting...", 0, 1, 100000);
	check_text(&n, 100000, "mosh: Exiting... [To quit: Ctrl-^ .]");
	CHECK(pred_notify_wait_ms(&n, 100400) == 600);
	pred_notify_expire(&n, 100999);
	CHECK(strcmp(pred_notify_message(&n), "Exiting...") == 0);
	pred_notify_expire(&n, 101000);
	CHECK(strcmp(pred_notify_message(&n), "") == 0);
	check_text(&n, 101000, NULL);
	CHECK(pred_notify_wait_ms(&n, 101000) == INT_MAX);

	pred_notify_set(&n, "Exiting...", 1, 1, 100000);
	pred_notify_expire(&n, 10000000);
	check_text(&n, 145000, "mosh: Exiting... (45 s without contact.) "
	    "[To quit: Ctrl-^ .]");
	check_text(&n, 195000, "mosh: Exiting... (1:35 without contact.) "
	    "[To quit: Ctrl-^ .]");
	pred_notify_heard(&n, 190000);
	check_text(&n, 195000, "mosh: Exiting... (1:35 without reply.) "
	    "[To quit: Ctrl-^ .]");
	/* Count-up every second, every 3 s after a minute of silence. */
	CHECK(pred_notify_wait_ms(&n, 195000) == 1000);
	CHECK(pred_notify_wait_ms(&n, 250001) == 3000);

	/* The escape help has no quit hint. */
	pred_notify_heard(&n, 300000);
	pred_notify_acked(&n, 300000);
	pred_notify_set(&n, "Commands: Ctrl-Z suspends, \".\" quits, "
	    "\"^\" gives literal Ctrl-^", 1, 0, 300000);
	check_text(&n, 300000, "mosh: Commands: Ctrl-Z suspends, \".\" quits, "
	    "\"^\" gives literal Ctrl-^");

	/* Network errors live 3100 ms, then 1 s once sending works. */
	pred_notify_set(&n, "", 0, 1, 300000);
	pred_notify_net_error(&n, "sendto: Network is unreachable", 300000);
	CHECK(pred_notify_wait_ms(&n, 300000) == 3100);
	pred_notify_net_ok(&n, 300500);
	CHECK(pred_notify_wait_ms(&n, 300500) == 1000);
	pred_notify_net_ok(&n, 300900);	/* never lengthens it */
	CHECK(pred_notify_wait_ms(&n, 300900) == 600);
	pred_notify_expire(&n, 301500);
	check_text(&n, 301500, NULL);

	/* Escape key disabled: no quit hint anywhere. */
	pred_notify_init(&n, NULL, 0);
	check_text(&n, 7000, "mosh: Last contact 7 seconds ago.");
	pred_notify_set(&n, "Exiting...", 1, 1, 0);
	check_text(&n, 0, "mosh: Exiting...");

	/* A printable escape key and a short output buffer. */
	pred_notify_init(&n, "\"~\"", 0);
	check_text(&n, 7000, "mosh: Last contact 7 seconds ago. "
	    "[To quit: \"~\" .]");
	CHECK(pred_notify_text(&n, 7000, small, sizeof(small)) == 15);
	CHECK(strcmp(small, "mosh: Last cont") == 0);
}

static void
test_bar_drawing(void)
{
	struct pred_notify n;
	struct fb fb, copy;
	const struct fb_cell *c;
	char msg[512];
	int x;

	if (fb_init(&fb, 10, 2) == -1) {
		CHECK(0);
		return;
	}
	pred_notify_init(&n, NULL, 0);
	/* No bar: the frame is left alone. */
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	CHECK(fb_equal(&copy, &fb));
	CHECK(copy.rows[0] == fb.rows[0]);
	fb_free(&copy);

	/* Wide characters take two columns and never half of one. */
	pred_notify_set(&n, "\xe6\xbc\xa2\xe5\xad\x97" "e\xcc\x81x", 1, 1, 0);
	fb.cy = 1;
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	CHECK(copy.modes & FB_M_CURSOR);	/* cursor not on row 0 */
	c = fb_cell(&copy, 0, 6);
	CHECK(c->len == 3 && memcmp(c->c, "\xe6\xbc\xa2", 3) == 0 &&
	    (c->flags & FB_WIDE));
	c = fb_cell(&copy, 0, 8);
	CHECK(c->len == 3 && memcmp(c->c, "\xe5\xad\x97", 3) == 0);
	/* The server's frame is untouched. */
	c = fb_cell(&fb, 0, 0);
	CHECK(c->len == 0);
	fb_free(&copy);

	pred_notify_set(&n, "1234\xe6\xbc\xa2", 1, 1, 0);
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	/* "mosh: 1234" fills the row; the wide character is left out. */
	c = fb_cell(&copy, 0, 9);
	CHECK(c->len == 1 && c->c[0] == '4');
	fb_free(&copy);

	pred_notify_set(&n, "ab\xe6\xbc\xa2", 1, 1, 0);
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	/* "mosh: ab" is 8 columns; the wide one fits in the last two. */
	c = fb_cell(&copy, 0, 8);
	CHECK(c->len == 3 && (c->flags & FB_WIDE));
	fb_free(&copy);

	pred_notify_set(&n, "abc\xe6\xbc\xa2", 1, 1, 0);
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	/* One column left: the wide character is not drawn at all. */
	c = fb_cell(&copy, 0, 9);
	CHECK(c->len == 1 && c->c[0] == ' ' && c->r.attr == 0);
	fb_free(&copy);

	pred_notify_set(&n, "a\xcc\x81", 1, 1, 0);
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	c = fb_cell(&copy, 0, 6);
	CHECK(c->len == 3 && memcmp(c->c, "a\xcc\x81", 3) == 0);
	for (x = 7; x < 10; x++) {
		c = fb_cell(&copy, 0, x);
		CHECK(c->len == 1 && c->c[0] == ' ' && c->r.attr == 0);
	}
	fb_free(&copy);

	/* A long message is cut at 127 characters (then by the width). */
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	pred_notify_set(&n, msg, 1, 1, 0);
	CHECK(strlen(pred_notify_message(&n)) == PRED_NOTIFY_BYTES - 1);
	fb_free(&fb);
	if (fb_init(&fb, 200, 2) == -1) {
		CHECK(0);
		return;
	}
	CHECK(fb_copy(&copy, &fb) == 0);
	CHECK(pred_notify_apply(&n, &copy, 0) == 0);
	CHECK(fb_cell(&copy, 0, 126)->c[0] == 'm');
	CHECK(fb_cell(&copy, 0, 126)->r.attr == FB_BOLD);
	CHECK(fb_cell(&copy, 0, 127)->c[0] == ' ');
	CHECK(fb_cell(&copy, 0, 127)->r.attr == 0);
	fb_free(&copy);
	fb_free(&fb);
}

static void
test_title(void)
{
	struct fb fb;
	size_t i;

	if (fb_init(&fb, 10, 2) == -1) {
		CHECK(0);
		return;
	}
	/* Before the application sets a title, nothing. */
	pred_title_apply(&fb, "[mosh] ");
	CHECK(fb.title_len == 0 && fb.icon_len == 0);

	fb.title_init = 1;
	memcpy(fb.title, "vim", 3);
	memcpy(fb.icon, "vim", 3);
	fb.title_len = fb.icon_len = 3;
	pred_title_apply(&fb, "[mosh] ");
	CHECK_MEM(fb.title, fb.title_len, "[mosh] vim", 10);
	CHECK_MEM(fb.icon, fb.icon_len, "[mosh] vim", 10);

	memcpy(fb.title, "top", 3);
	memcpy(fb.icon, "icon", 4);
	fb.title_len = 3;
	fb.icon_len = 4;
	pred_title_apply(&fb, "[mosh] ");
	CHECK_MEM(fb.title, fb.title_len, "[mosh] top", 10);
	CHECK_MEM(fb.icon, fb.icon_len, "icon", 4);

	/* Empty title set by the application: prefix only. */
	fb.title_len = fb.icon_len = 0;
	pred_title_apply(&fb, "[mosh] ");
	CHECK_MEM(fb.title, fb.title_len, "[mosh] ", 7);
	CHECK_MEM(fb.icon, fb.icon_len, "[mosh] ", 7);

	/* A full title of 3-byte characters is cut on a boundary. */
	for (i = 0; i + 3 <= FB_TITLE_BYTES; i += 3) {
		memcpy(fb.title + i, "\xe6\xbc\xa2", 3);
	}
	fb.title_len = i;
	fb.icon_len = 0;
	pred_title_apply(&fb, "[mosh] ");
	CHECK(fb.title_len <= FB_TITLE_BYTES);
	CHECK((fb.title_len - 7) % 3 == 0);
	CHECK(memcmp(fb.title, "[mosh] \xe6\xbc\xa2", 10) == 0);
	CHECK(fb.icon_len == 0);
	fb_free(&fb);
}

/* xorshift, so the stress test is the same on every run. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random keys, host output, acks, sizes and modes, under upstream's rules
 * and ours: the engine must stay within its bounds (ASan) and keep the
 * cursor of a drawn frame in range.
 */
static void
stress(int upstream)
{
	static const char keys[] = "ab \x7f\r\x03\x1b[OCD1;5"
	    "\xe6\xbc\xa2\xcc\x81";
	struct sim s;
	uint32_t seed = 12345;
	uint8_t b[8];
	int i, j, n, bad = 0;

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	s.si = 100;
	pred_set_upstream(&s.p, upstream);
	for (i = 0; i < 20000; i++) {
		s.now += rnd(&seed) % 300;
		switch (rnd(&seed) % 10) {
		case 0:
			for (j = 0; j < 4; j++) {
				b[j] = (uint8_t)keys[rnd(&seed) %
				    (sizeof(keys) - 1)];
			}
			vt_feed(&s.vt, b, 4);
			break;
		case 1:
			s.late_ack = s.keys > 2 ? s.keys - rnd(&seed) % 3 :
			    s.keys;
			/* Sometimes received, not yet echoed. */
			s.recv = MIN(s.late_ack + rnd(&seed) % 2, s.keys);
			s.si = rnd(&seed) % 2 ? 20 : 120;
			sim_net(&s);
			break;
		case 2:
			if (rnd(&seed) % 50 == 0) {
				if (vt_resize(&s.vt, 1 + (int)(rnd(&seed) % 20),
				    1 + (int)(rnd(&seed) % 12)) == 0) {
					pred_reset(&s.p);
				}
			}
			break;
		case 3:
			if (rnd(&seed) % 100 == 0) {
				pred_set_mode(&s.p,
				    (enum pred_mode)(rnd(&seed) % 4),
				    (int)(rnd(&seed) % 2));
			}
			break;
		default:
			n = 1 + (int)(rnd(&seed) % 3);
			for (j = 0; j < n; j++) {
				b[j] = (uint8_t)keys[rnd(&seed) %
				    (sizeof(keys) - 1)];
			}
			sim_key(&s, b, (size_t)n);
			break;
		}
		sim_draw(&s);
		if (s.have_drawn && (s.drawn.cy < 0 ||
		    s.drawn.cy >= s.drawn.h || s.drawn.cx < 0 ||
		    s.drawn.cx >= s.drawn.w)) {
			bad++;
		}
		if (s.p.ncursors > PRED_MAX_CURSORS ||
		    s.p.nkeys > PRED_MAX_KEYS ||
		    s.p.nprompts > PRED_MAX_PROMPTS) {
			bad++;
		}
	}
	CHECK(bad == 0);
	sim_free(&s);
}

/*
 * A confirmed guess hands the server's renditions on to the rest of the row
 * (prediction.md §5): the host echoes a in red, so the guessed b after it
 * turns red too, although it was guessed in the default rendition of the
 * cell before.
 */
static void
test_rest_takes_renditions(void)
{
	struct sim s;
	const struct fb_cell *c;

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	CHECK(sim_script(&s, "si 40\nhost $\\s\ntime 10\nkey a\n"
	    "time 20\nkey b\ntime 100\nhost \\e[31ma\nack 1\n"
	    "show 1") == 0);
	CHECK(s.nshow == 1);
	check_show("renditions", 0, s.show[0], "$ ab@0,4");
	c = fb_cell(&s.drawn, 0, 3);
	CHECK(c->len == 1 && c->c[0] == 'b');
	CHECK(c->r.fg == 31);
	sim_free(&s);
}

/* One script on a fresh 12x3 engine; the shows are compared with want. */
static void
judged(const char *name, const char *script, const char *want, struct sim *s)
{
	if (sim_init(s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	CHECK(sim_script(s, script) == 0);
	CHECK(s->nshow >= 1);
	if (s->nshow >= 1) {
		check_show(name, s->nshow - 1, s->show[s->nshow - 1], want);
	}
}

/*
 * Judging (prediction.md §5), a rule a case: keys the server has are not
 * kept for a replay; in experimental mode a wrong guess goes alone; a wrong
 * cursor guess resets everything, so the next key is tentative again; a
 * guess of the text already there earns no credit.
 */
static void
test_judging(void)
{
	struct sim s;

	judged("acked keys", "si 250\nhost $\\s\ntime 10\nkey a\ntime 20\n"
	    "key b\ntime 30\nkey c\ntime 300\nhost ab\nack 2\nshow 1",
	    "$ abc{4}@0,5", &s);
	CHECK(s.p.nkeys == 1);
	sim_free(&s);
	judged("experimental wrong", "pref experimental\nsi 20\nhost $\\s\n"
	    "time 10\nkey a\ntime 20\nkey b\ntime 30\nkey c\ntime 100\n"
	    "host aX\nack 2\nshow 1", "$ aXc@0,5", &s);
	sim_free(&s);
	judged("wrong cursor", "si 100\nhost $\\s\ntime 10\nkey a\ntime 200\n"
	    "host a\nack 1\ntime 210\nkey b\ntime 400\nhost b\\e[1;10H\n"
	    "ack 2\ntime 410\nkey c\nshow 1", "$ ab@0,9", &s);
	sim_free(&s);
	judged("no credit", "si 100\nhost $\\sabc\\e[1;3H\ntime 10\nkey a\n"
	    "time 200\nhost a\nack 1\nshow 1", "$ abc@0,3", &s);
	CHECK(s.p.confirmed_epoch == 0);
	sim_free(&s);
}

/*
 * prediction.md §6: both triggers have hysteresis. Flagging goes on above 80
 * ms and off only at 50 ms or less; the SRTT trigger goes on above 30 ms and
 * off at 20 ms or less, and not while a guess is still being judged.
 */
static void
test_triggers(void)
{
	struct sim s;
	static const struct {
		const char *line;
		int flagging, srtt;
	} steps[] = {
		{ "si 100", 1, 1 }, { "si 60", 1, 1 }, { "si 50", 0, 1 },
		{ "si 25", 0, 1 }, { "key a", 0, 1 }, { "si 20", 0, 1 },
		{ "ack 1", 0, 1 }, { "si 20", 0, 0 },
	};
	char line[32];
	size_t i;

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	CHECK(sim_line(&s, strcpy(line, "host $\\s")) == 0);
	for (i = 0; i < LEN(steps); i++) {
		s.now += 10;
		CHECK(sim_line(&s, strcpy(line, steps[i].line)) == 0);
		sim_draw(&s);
		if (s.p.flagging != steps[i].flagging ||
		    s.p.srtt_trigger != steps[i].srtt) {
			fprintf(stderr, "triggers after \"%s\": flagging %d "
			    "srtt %d\n", steps[i].line, s.p.flagging,
			    s.p.srtt_trigger);
		}
		CHECK(s.p.flagging == steps[i].flagging);
		CHECK(s.p.srtt_trigger == steps[i].srtt);
	}
	sim_free(&s);
}

/*
 * prediction.md §5: a confirmation within 250 ms of its key repairs a
 * glitch, at most one per 150 ms; a slower one repairs nothing.
 */
static void
test_glitch_repair(void)
{
	struct sim s;
	static const struct {
		const char *script;
		unsigned glitch;
	} steps[] = {
		{ "time 0\nkey a\ntime 300\nshow 1", 10 },
		{ "host a\nack 1\nshow 1", 10 },
		{ "time 400\nkey b\ntime 450\nhost b\nack 2\nshow 1", 9 },
		{ "time 460\nkey c\ntime 500\nhost c\nack 3\nshow 1", 9 },
		{ "time 610\nkey d\ntime 650\nhost d\nack 4\nshow 1", 8 },
	};
	size_t i;

	if (sim_init(&s, 12, 3) == -1) {
		CHECK(0);
		return;
	}
	CHECK(sim_script(&s, "si 100\nhost $\\s") == 0);
	for (i = 0; i < LEN(steps); i++) {
		CHECK(sim_script(&s, steps[i].script) == 0);
		if (s.p.glitch_trigger != steps[i].glitch) {
			fprintf(stderr, "glitch step %zu: %u, want %u\n", i,
			    s.p.glitch_trigger, steps[i].glitch);
		}
		CHECK(s.p.glitch_trigger == steps[i].glitch);
	}
	sim_free(&s);
}

static void
test_stress(void)
{
	stress(1);
	stress(0);
}

int
main(void)
{
	test_scenarios();
	test_bar_scenarios();
	test_sessions();
	test_ours();
	test_replay_bounds();
	test_paste();
	test_never();
	test_modes_and_wait();
	test_bar_texts();
	test_bar_drawing();
	test_title();
	test_rest_takes_renditions();
	test_judging();
	test_triggers();
	test_glitch_repair();
	test_stress();
	return TEST_DONE();
}
