/*
 * mosh_test.c: the pure parts of the roles (mosh.c, server.c, client.c:
 * escape key, locale rule, port and option parsing, terminfo reader,
 * command lines that do not exit, the echo ack and the terminal state).
 */
#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

#include "mosh.h"

#include "test.h"

static void
test_escape(void)
{
	struct escape e;

	escape_config(NULL, &e);
	CHECK(e.key == 0x1E && e.pass == '^' && e.pass2 == '^');
	CHECK(!e.requires_lf);
	CHECK(strcmp(e.name, "Ctrl-^") == 0);
	CHECK(strcmp(e.help, "Commands: Ctrl-Z suspends, \".\" quits, "
	    "\"^\" gives literal Ctrl-^") == 0);
	escape_config("", &e);
	CHECK(e.key == -1);
	escape_config("\002", &e);
	CHECK(e.key == 2 && e.pass == 'B' && e.pass2 == 'b');
	CHECK(strcmp(e.name, "Ctrl-B") == 0);
	CHECK(strcmp(e.help, "Commands: Ctrl-Z suspends, \".\" quits, "
	    "\"B\" gives literal Ctrl-B") == 0);
	escape_config("~", &e);
	CHECK(e.key == '~' && e.pass == '~' && e.pass2 == '~');
	CHECK(e.requires_lf);
	CHECK(strcmp(e.name, "\"~\"") == 0);
	CHECK(strcmp(e.help, "Commands: Ctrl-Z suspends, \".\" quits, "
	    "\"~\" gives literal \"~\"") == 0);
	escape_config("A", &e);
	CHECK(e.pass == 'A' && e.pass2 == 'a');
	escape_config("a", &e);
	CHECK(e.pass == 'a' && e.pass2 == 'a');
	escape_config("\033", &e);
	CHECK(e.key == 0x1B && e.pass == '[' && !e.requires_lf);
	/* Refused keys and bad values give the default. */
	escape_config("\003", &e);
	CHECK(e.key == 0x1E);
	escape_config("\004", &e);
	CHECK(e.key == 0x1E);
	escape_config("\n", &e);
	CHECK(e.key == 0x1E);
	escape_config("\f", &e);
	CHECK(e.key == 0x1E);
	escape_config("\r", &e);
	CHECK(e.key == 0x1E);
	escape_config("ab", &e);
	CHECK(e.key == 0x1E);
	escape_config("\x80", &e);
	CHECK(e.key == 0x1E);
	escape_config("\xc3\xa9", &e);
	CHECK(e.key == 0x1E);
}

/* The escape-key state machine, without suspending (no Ctrl-Z here). */
static void
test_client_key(void)
{
	struct client c;

	memset(&c, 0, sizeof c);
	escape_config("~", &c.esc);
	pred_notify_init(&c.note, c.esc.name, 0);
	client_key(&c, '~', 0);		/* not after CR/LF: plain input */
	CHECK(!c.quit_started);
	client_key(&c, '\r', 0);
	CHECK(c.lf_entered);
	client_key(&c, '~', 0);
	CHECK(c.quit_started && client_bar_shows(&c, c.esc.help));
	CHECK(c.note.expire == PRED_NOTIFY_FOREVER && !c.note.show_quit);
	client_key(&c, 'x', 0);		/* sends "~x", clears the help */
	CHECK(!c.quit_started && client_bar_shows(&c, "") && !c.shutdown);
	client_key(&c, '~', 0);		/* the flag was cleared by '~' */
	CHECK(!c.quit_started);
	client_key(&c, '\n', 0);
	client_key(&c, '~', 0);
	client_key(&c, '.', 5);
	CHECK(c.shutdown && c.shutdown_start == 5);
	CHECK(client_bar_shows(&c, "Exiting on user request..."));
	CHECK(c.note.show_quit);

	memset(&c, 0, sizeof c);
	escape_config(NULL, &c.esc);
	pred_notify_init(&c.note, c.esc.name, 0);
	client_key(&c, 0x1E, 0);	/* a control escape works anywhere */
	CHECK(c.quit_started);
	client_key(&c, '^', 0);
	CHECK(!c.quit_started && !c.shutdown);
	client_key(&c, 0x0C, 0);
	CHECK(c.repaint);

	memset(&c, 0, sizeof c);
	escape_config("", &c.esc);
	pred_notify_init(&c.note, NULL, 0);
	client_key(&c, 0x1E, 0);
	CHECK(!c.quit_started);
}

static void
test_locale(void)
{
	char *lv[2];

	CHECK(locale_kind(NULL) == LOC_ASCII);
	CHECK(locale_kind("") == LOC_ASCII);
	CHECK(locale_kind("C") == LOC_ASCII);
	CHECK(locale_kind("POSIX") == LOC_ASCII);
	CHECK(locale_kind("C.UTF-8") == LOC_UTF8);
	CHECK(locale_kind("C.utf8") == LOC_UTF8);
	CHECK(locale_kind("en_US.UTF-8") == LOC_UTF8);
	CHECK(locale_kind("en_US.utf8@euro") == LOC_UTF8);
	CHECK(locale_kind("de_DE.Utf_8") == LOC_UTF8);
	CHECK(locale_kind("en_US") == LOC_LEGACY);
	CHECK(locale_kind("en_US.ISO-8859-1") == LOC_LEGACY);
	CHECK(locale_kind("ja_JP.eucJP") == LOC_LEGACY);
	CHECK(locale_kind("en_US.UTF-8x") == LOC_LEGACY);
	CHECK(locale_kind("en_US.UTF-16") == LOC_LEGACY);
	CHECK(locale_kind("en_US.utf-8-extra-long-name") == LOC_LEGACY);

	/* UTF-8 already: nothing changes. */
	unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	setenv("LANG", "en_US.UTF-8", 1);
	setenv("LC_TIME", "de_DE", 1);
	locale_for_child(NULL, 0);
	CHECK(getenv("LC_TIME") != NULL && getenv("LC_CTYPE") == NULL);

	/* Not UTF-8: cleared, the -l values put, UTF-8 now. */
	setenv("LANG", "fr_FR.ISO-8859-1", 1);
	setenv("LC_ALL", "", 1);
	lv[0] = (char *)"LANG=en_US.UTF-8";
	lv[1] = (char *)"LC_TIME=en_GB.UTF-8";
	locale_for_child(lv, 2);
	CHECK(strcmp(getenv("LANG"), "en_US.UTF-8") == 0);
	CHECK(strcmp(getenv("LC_TIME"), "en_GB.UTF-8") == 0);
	CHECK(getenv("LC_ALL") == NULL && getenv("LC_CTYPE") == NULL);

	/* C, and no help from -l: run, with C.UTF-8 for the child. */
	setenv("LANG", "C", 1);
	lv[0] = (char *)"LC_ALL=POSIX";
	locale_for_child(lv, 1);
	CHECK(getenv("LANG") == NULL);
	CHECK(getenv("LC_CTYPE") && strcmp(getenv("LC_CTYPE"), "C.UTF-8") == 0);
	unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	setenv("LANG", "en_US.ISO-8859-1", 1);
	locale_for_child(NULL, 0);	/* legacy here, nothing asked */
	CHECK(getenv("LANG") == NULL);
	CHECK(getenv("LC_CTYPE") && strcmp(getenv("LC_CTYPE"), "C.UTF-8") == 0);
	unsetenv("LC_CTYPE");
}

/* The client writes UTF-8: it runs only where LC_CTYPE names UTF-8. */
static void
test_locale_client(void)
{
	static const struct {
		const char *all, *ctype, *lang;
		int r;
	} t[] = {
		{ NULL, NULL, "C.UTF-8", 0 },
		{ "", "en_US.utf8", "C", 0 },
		{ "de_DE.UTF-8@euro", "C", "POSIX", 0 },
		{ NULL, NULL, NULL, -1 },		/* unset: refused */
		{ "", "", "", -1 },
		{ "C", NULL, "en_US.UTF-8", -1 },	/* LC_ALL decides */
		{ NULL, "POSIX", "C.UTF-8", -1 },
		{ "en_US.ISO-8859-1", NULL, NULL, -1 },
		{ NULL, NULL, "en_US", -1 },
		{ NULL, NULL, "C.UTF-16", -1 },
	};
	const char *names[3] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *v[3];
	size_t i, j;

	for (i = 0; i < LEN(t); i++) {
		v[0] = t[i].all;
		v[1] = t[i].ctype;
		v[2] = t[i].lang;
		for (j = 0; j < 3; j++) {
			if (v[j] == NULL) {
				unsetenv(names[j]);
			} else {
				setenv(names[j], v[j], 1);
			}
		}
		CHECK(locale_for_client() == t[i].r);
	}
	unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	unsetenv("LANG");
}

static void
test_ports(void)
{
	static const struct {
		const char *s;
		int ok, lo, hi;
	} t[] = {
		{ "60001", 1, 60001, 60001 }, { "0", 1, 0, 0 },
		{ "", 1, 0, 0 }, { " 7", 1, 7, 7 }, { "+7", 1, 7, 7 },
		{ "65535", 1, 65535, 65535 },
		{ "60000:61000", 1, 60000, 61000 },
		{ "5:5", 1, 5, 5 }, { "65536", 0, 0, 0 }, { "-1", 0, 0, 0 },
		{ "1:65536", 0, 0, 0 }, { "5:4", 0, 0, 0 }, { "0:5", 0, 0, 0 },
		{ "x", 0, 0, 0 }, { "1:x", 0, 0, 0 }, { "1:2:3", 0, 0, 0 },
		{ "1x", 0, 0, 0 }, { "2:", 0, 0, 0 }, { ":5", 0, 0, 0 },
		{ "99999999999999999999999", 0, 0, 0 },
		{ "1:99999999999999999999999", 0, 0, 0 },
	};
	size_t i;
	int lo, hi, r;

	for (i = 0; i < LEN(t); i++) {
		lo = hi = -5;
		r = server_port_parse(t[i].s, &lo, &hi);
		CHECK((r == 0) == t[i].ok);
		if (r == 0) {
			CHECK(lo == t[i].lo && hi == t[i].hi);
		}
	}
}

static void
test_opt(void)
{
	char *v[] = { "prog", "a", "-vv", "-p5", "b", "-p", "6", "-x", "--",
	    "-v", "-#", NULL };
	char *w[] = { "prog", "-vp", NULL };
	struct opt o;
	int c;

	memset(&o, 0, sizeof o);
	CHECK(opt_next(&o, 11, v, "p:v#:") == 1 && strcmp(o.arg, "a") == 0);
	CHECK(opt_next(&o, 11, v, "p:v#:") == 'v');
	CHECK(opt_next(&o, 11, v, "p:v#:") == 'v');
	CHECK(opt_next(&o, 11, v, "p:v#:") == 'p' && strcmp(o.arg, "5") == 0);
	CHECK(opt_next(&o, 11, v, "p:v#:") == 1 && strcmp(o.arg, "b") == 0);
	CHECK(opt_next(&o, 11, v, "p:v#:") == 'p' && strcmp(o.arg, "6") == 0);
	CHECK(opt_next(&o, 11, v, "p:v#:") == '?');
	CHECK(opt_next(&o, 11, v, "p:v#:") == 1 && strcmp(o.arg, "-v") == 0);
	CHECK(opt_next(&o, 11, v, "p:v#:") == 1 && strcmp(o.arg, "-#") == 0);
	CHECK(opt_next(&o, 11, v, "p:v#:") == -1);
	memset(&o, 0, sizeof o);
	CHECK(opt_next(&o, 2, w, "p:v") == 'v');
	c = opt_next(&o, 2, w, "p:v");
	CHECK(c == '?' && o.arg == NULL);	/* -p without argument */
	CHECK(opt_next(&o, 2, w, "p:v") == -1);
	memset(&o, 0, sizeof o);
	CHECK(opt_next(&o, 2, w, ":") == '?');	/* ':' is never an option */
}

static void
test_env_seconds(void)
{
	setenv("MOSH_TEST_TMOUT", "10x", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 10);
	setenv("MOSH_TEST_TMOUT", "15", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 15);
	setenv("MOSH_TEST_TMOUT", "-5", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 0);
	setenv("MOSH_TEST_TMOUT", "-5x", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 0);
	setenv("MOSH_TEST_TMOUT", "abc", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 0);
	setenv("MOSH_TEST_TMOUT", "", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 0);
	setenv("MOSH_TEST_TMOUT", "99999999999999999999999", 1);
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == SERVER_TMOUT_MAX);
	unsetenv("MOSH_TEST_TMOUT");
	CHECK(server_env_seconds("MOSH_TEST_TMOUT") == 0);
}

static void
test_ssh_ip(void)
{
	char b[64];
	const char *r;

	setenv("SSH_CONNECTION", "10.0.0.2 5555 10.0.0.1 22", 1);
	r = server_ssh_ip(b, sizeof b);
	CHECK(r != NULL && strcmp(r, "10.0.0.1") == 0);
	setenv("SSH_CONNECTION", " ::1  5555\t::FFFF:192.0.2.7 22", 1);
	r = server_ssh_ip(b, sizeof b);
	CHECK(r != NULL && strcmp(r, "192.0.2.7") == 0);
	setenv("SSH_CONNECTION", "a b ::ffff:", 1);
	r = server_ssh_ip(b, sizeof b);
	CHECK(r != NULL && strcmp(r, "::ffff:") == 0);
	setenv("SSH_CONNECTION", "2001:db8::2 5555 2001:db8::1 22", 1);
	r = server_ssh_ip(b, sizeof b);
	CHECK(r != NULL && strcmp(r, "2001:db8::1") == 0);
	setenv("SSH_CONNECTION", "a b", 1);
	CHECK(server_ssh_ip(b, sizeof b) == NULL);
	setenv("SSH_CONNECTION", "", 1);
	CHECK(server_ssh_ip(b, sizeof b) == NULL);
	unsetenv("SSH_CONNECTION");
	CHECK(server_ssh_ip(b, sizeof b) == NULL);
}

static void
test_server_parse(void)
{
	char *a1[] = { "mosh-server", "new", "-s", "-i", "1.2.3.4", "-c",
	    "256", "-v", "-v", "-l", "A=B", "-lC=D", "--", "ls", "-l", NULL };
	char *a2[] = { "mosh-server", "new", "-i", "9.9.9.9", "-s", NULL };
	char *a3[] = { "mosh-server", "1.2.3.4", "5000", NULL };
	char *a4[] = { "mosh-server", "new", "x", "-p", "6000:6010", "-@",
	    "new", "--", NULL };
	char *a5[] = { "mosh-server", "--", "sh", NULL };
	char *lv[8];
	struct server_opts o;

	setenv("SSH_CONNECTION", "10.0.0.2 5555 10.0.0.1 22", 1);
	memset(&o, 0, sizeof o);
	o.prog = "mosh-server";
	o.lvars = lv;
	server_parse(15, a1, &o);
	CHECK(o.ip && strcmp(o.ip, "1.2.3.4") == 0);
	CHECK(o.colors == 256 && o.verbose == 2 && o.nl == 2);
	CHECK(strcmp(lv[0], "A=B") == 0 && strcmp(lv[1], "C=D") == 0);
	CHECK(o.command && strcmp(o.command[0], "ls") == 0 &&
	    strcmp(o.command[1], "-l") == 0 && o.command[2] == NULL);
	CHECK(o.port == NULL);

	memset(&o, 0, sizeof o);
	o.prog = "mosh-server";
	o.lvars = lv;
	server_parse(5, a2, &o);
	CHECK(o.ip && strcmp(o.ip, "10.0.0.1") == 0);	/* -s came last */

	memset(&o, 0, sizeof o);
	o.prog = "mosh-server";
	o.lvars = lv;
	server_parse(3, a3, &o);
	CHECK(o.ip && strcmp(o.ip, "1.2.3.4") == 0);
	CHECK(o.port_lo == 5000 && o.port_hi == 5000);

	memset(&o, 0, sizeof o);
	o.prog = "mosh-server";
	o.lvars = lv;
	server_parse(8, a4, &o);	/* operands are skipped, as glibc */
	CHECK(o.port_lo == 6000 && o.port_hi == 6010);
	CHECK(o.command == NULL && o.ip == NULL);

	memset(&o, 0, sizeof o);
	o.prog = "mosh-server";
	o.lvars = lv;
	server_parse(3, a5, &o);
	CHECK(o.command && strcmp(o.command[0], "sh") == 0 && o.ip == NULL);
	unsetenv("SSH_CONNECTION");
}

static void
test_client_parse(void)
{
	char *a1[] = { "mosh-client", "-#", "host ls |", "127.0.0.1", "-v",
	    "60001", NULL };
	char *a2[] = { "mosh-client", "-v", "-v", "--", "::1", "1", NULL };
	struct client c;

	memset(&c, 0, sizeof c);
	c.prog = "mosh-client";
	client_parse(6, a1, &c);
	CHECK(strcmp(c.ip, "127.0.0.1") == 0 && strcmp(c.port, "60001") == 0);
	CHECK(c.verbose == 1);
	CHECK(client_check_ip(&c) == 0);
	memset(&c, 0, sizeof c);
	c.prog = "mosh-client";
	client_parse(6, a2, &c);
	CHECK(strcmp(c.ip, "::1") == 0 && c.verbose == 2);
	CHECK(client_check_ip(&c) == 0);
}

static void
test_term_strings(void)
{
	struct client c;

	memset(&c, 0, sizeof c);
	ti_default(&c.ti);
	c.ti.has_smcup = c.ti.has_rmcup = 1;
	strcpy(c.ti.smcup, "\033[?1049h");
	strcpy(c.ti.rmcup, "\033[?1049l");
	c.term_init = 1;
	client_term_strings(&c);
	CHECK(strcmp(c.open_s, "\033[?1049h\033[?1h") == 0);
	CHECK(strcmp(c.close_s, "\033[?1l\033[0m\033[?25h\033[?1003l"
	    "\033[?1002l\033[?1001l\033[?1000l\033[?1015l\033[?1006l"
	    "\033[?1005l\033[?2004l\033[?1004l\033[?1049l") == 0);
	c.term_init = 0;
	client_term_strings(&c);
	CHECK(strcmp(c.open_s, "\033[?1h") == 0);
	CHECK(strstr(c.close_s, "1049") == NULL);
}

static void
put16(uint8_t *p, long v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
}

/* A compiled entry: 48 booleans, 16 numbers, 48 strings, colors and bce. */
static size_t
ti_build(uint8_t *out, int ext, long colors, int bce, const char *smcup,
    int with_ech)
{
	static const char names[] = "test|a test";
	size_t numsz = ext ? 4 : 2, off, i, tab, tlen = 0;
	long nums[16];
	long soff[48];

	for (i = 0; i < 16; i++) {
		nums[i] = -1;
	}
	nums[TI_NUM_COLORS] = colors;
	for (i = 0; i < 48; i++) {
		soff[i] = -1;
	}
	put16(out, ext ? 01036 : 0432);
	put16(out + 2, sizeof names);
	put16(out + 4, 48);
	put16(out + 6, 16);
	put16(out + 8, 48);
	memcpy(out + 12, names, sizeof names);
	off = 12 + sizeof names;
	memset(out + off, 0, 48);
	out[off + TI_BOOL_BCE] = (uint8_t)bce;
	off += 48;
	off += off & 1;
	for (i = 0; i < 16; i++) {
		put16(out + off + i * numsz, nums[i]);
		if (ext) {
			put16(out + off + i * numsz + 2, nums[i] < 0 ? -1 :
			    nums[i] >> 16);
		}
	}
	off += 16 * numsz;
	tab = off + 48 * 2;
	if (smcup != NULL) {
		soff[TI_STR_SMCUP] = (long)tlen;
		memcpy(out + tab + tlen, smcup, strlen(smcup) + 1);
		tlen += strlen(smcup) + 1;
		soff[TI_STR_RMCUP] = (long)tlen;
		memcpy(out + tab + tlen, "\033[?1049l", 9);
		tlen += 9;
	}
	if (with_ech) {
		soff[TI_STR_ECH] = (long)tlen;
		memcpy(out + tab + tlen, "\033[%p1%dX", 9);
		tlen += 9;
	}
	for (i = 0; i < 48; i++) {
		put16(out + off + i * 2, soff[i]);
	}
	put16(out + 10, (long)tlen);
	return tab + tlen;
}

static void
test_terminfo(void)
{
	static uint8_t b[2048], m[TI_FILE_MAX];
	struct tinfo ti;
	size_t n, cut, i;
	uint32_t x = 12345;
	int fd;
	ssize_t r;

	n = ti_build(b, 0, 8, 1, "\033[?1049h", 1);
	CHECK(ti_parse(b, n, &ti) == 0);
	CHECK(ti.found && ti.colors == 8 && ti.bce && ti.ech);
	CHECK(ti.has_smcup && strcmp(ti.smcup, "\033[?1049h") == 0);
	CHECK(ti.has_rmcup && strcmp(ti.rmcup, "\033[?1049l") == 0);
	n = ti_build(b, 1, 0x1000000, 0, NULL, 0);
	CHECK(ti_parse(b, n, &ti) == 0);
	CHECK(ti.colors == 0x1000000 && !ti.bce && !ti.ech);
	CHECK(!ti.has_smcup && !ti.has_rmcup);
	n = ti_build(b, 0, -1, 0, "", 0);
	CHECK(ti_parse(b, n, &ti) == 0 && ti.colors == -1 && ti.has_smcup);
	/* Every truncation is refused, and never read past. */
	n = ti_build(b, 1, 256, 1, "\033[?1049h", 1);
	for (cut = 0; cut < n; cut++) {
		memcpy(m, b, cut);
		CHECK(ti_parse(m, cut, &ti) == -1 && !ti.found);
	}
	b[0] = 0x1b;
	CHECK(ti_parse(b, n, &ti) == -1);
	n = ti_build(b, 0, 8, 1, NULL, 0);
	put16(b + 4, -3);
	CHECK(ti_parse(b, n, &ti) == -1);
	/* A string offset past the table, and a string without its NUL. */
	n = ti_build(b, 0, 8, 1, "\033[?1049h", 0);
	put16(b + 10, 3);
	CHECK(ti_parse(b, n, &ti) == 0 && !ti.has_smcup && !ti.has_rmcup);
	/* Random damage: parse or refuse, under ASan never read past. */
	n = ti_build(b, 1, 256, 1, "\033[?1049h", 1);
	for (i = 0; i < 20000; i++) {
		memcpy(m, b, n);
		x = x * 1103515245u + 12345u;
		m[(x >> 8) % n] = (uint8_t)(x >> 20);
		x = x * 1103515245u + 12345u;
		m[(x >> 8) % 12] = (uint8_t)(x >> 20);
		ti_parse(m, n - (x >> 28) % 4, &ti);
	}
	/* The real entry, when this machine has it. */
	if ((fd = open("/lib/terminfo/x/xterm-256color", O_RDONLY)) == -1 &&
	    (fd = open("/usr/share/terminfo/x/xterm-256color", O_RDONLY)) ==
	    -1) {
		return;
	}
	r = read(fd, m, sizeof m);
	close(fd);
	CHECK(r > 0 && ti_parse(m, (size_t)r, &ti) == 0);
	CHECK(ti.colors == 256 && ti.bce && ti.ech);
	CHECK_MEM(ti.smcup, strlen(ti.smcup), "\033[?1049h\033[22;0;0t", 17);
	CHECK(strcmp(ti.rmcup, "\033[?1049l\033[23;0;0t") == 0);
	ti_load("../x", &ti);
	CHECK(!ti.found);
	ti_load("", &ti);
	CHECK(!ti.found);
}

static void
feed(struct term_state *t, const char *s)
{
	vt_feed(&t->vt, (const uint8_t *)s, strlen(s));
}

/* The complete-terminal state type: diff then apply reproduces the frame. */
static void
test_term_ops(void)
{
	struct term_state a, *b, *c, *snap;
	struct buf d = { NULL, 0, 0 };
	uint8_t junk[256];
	uint32_t x = 99;
	size_t i, j;

	CHECK(term_init(&a, 20, 5) == 0);
	b = term_copy(&a);
	c = term_copy(&a);
	CHECK(b != NULL && c != NULL && term_equal(b, c));
	feed(b, "hello\r\n\033[1;31mworld\033[m \033]0;t\007");
	CHECK(!term_equal(&a, b));
	CHECK(term_diff(&a, b, &d) == 0 && d.len > 0);
	CHECK(term_apply(c, d.p, d.len) == 0);
	CHECK(fb_equal(&c->fb, &b->fb) && term_equal(c, b));

	/* The echo ack travels and never goes down. */
	b->echo_ack = 5;
	d.len = 0;
	CHECK(term_diff(c, b, &d) == 0 && d.len > 0);
	CHECK(term_apply(c, d.p, d.len) == 0 && c->echo_ack == 5);
	d.len = 0;
	CHECK(ssp_hm_put_echoack(&d, 3) == 0);
	CHECK(term_apply(c, d.p, d.len) == -1 && c->echo_ack == 5);

	/* A resize with new content; an absurd size is refused whole. */
	CHECK(vt_resize(&b->vt, 30, 7) == 0);
	feed(b, "\033[7;30Hz");
	d.len = 0;
	CHECK(term_diff(c, b, &d) == 0);
	CHECK(term_apply(c, d.p, d.len) == 0);
	CHECK(c->fb.w == 30 && c->fb.h == 7 && fb_equal(&c->fb, &b->fb));
	d.len = 0;
	CHECK(ssp_hm_put_bytes(&d, (const uint8_t *)"X", 1) == 0);
	CHECK(ssp_hm_put_resize(&d, 0, 5) == 0);
	snap = term_copy(c);
	CHECK(term_apply(c, d.p, d.len) == -1 && term_equal(c, snap));
	d.len = 0;
	CHECK(ssp_hm_put_resize(&d, FB_MAX_COLS + 1, 5) == 0);
	CHECK(term_apply(c, d.p, d.len) == -1 && term_equal(c, snap));

	/* Queries in host bytes get no reply on the client. */
	d.len = 0;
	CHECK(ssp_hm_put_bytes(&d, (const uint8_t *)"\033[c\033[6n", 7) == 0);
	CHECK(term_apply(c, d.p, d.len) == 0 && c->vt.reply.len == 0);

	/* A copy of a server terminal showing the alternate screen. */
	term_free(snap);
	snap = term_copy(&a);
	snap->vt.server_ext = 1;
	feed(snap, "main\033[?1049h\033[2J\033[Halt");
	term_free(b);
	b = term_copy(snap);
	CHECK(b != NULL && b->vt.main_rows == NULL && term_equal(b, snap));
	term_free(b);
	b = term_copy(snap);
	feed(snap, "\033[?1049l");
	CHECK(fb_cell(&snap->fb, 0, 0)->c[0] == 'm');
	CHECK(fb_cell(&b->fb, 0, 0)->c[0] == 'a');
	term_free(snap);
	snap = NULL;

	/* Random bytes: applied or refused whole, never read past. */
	for (i = 0; i < 3000; i++) {
		for (j = 0; j < sizeof junk; j++) {
			x = x * 1103515245u + 12345u;
			junk[j] = (uint8_t)(x >> 16);
		}
		term_free(snap);
		snap = term_copy(c);
		if (term_apply(c, junk, (x >> 8) % sizeof junk) == -1) {
			CHECK(term_equal(c, snap));
		}
	}
	term_free(snap);
	term_free(b);
	term_free(c);
	term_release(&a);
	buf_free(&d);
}

/* The echo-ack history of protocol.md §8.3. */
static void
test_echo_ack(void)
{
	static struct server s;
	int i;

	memset(&s, 0, sizeof s);
	CHECK(server_echo_ack(&s, 10) == 0 && s.term.echo_ack == 0);
	server_echo_register(&s, 3, 100);
	CHECK(server_echo_ack(&s, 149) == 0 && s.term.echo_ack == 0);
	CHECK(server_echo_ack(&s, 150) == 1 && s.term.echo_ack == 3);
	CHECK(server_echo_ack(&s, 151) == 0 && s.term.echo_ack == 3);
	server_echo_register(&s, 4, 160);
	server_echo_register(&s, 5, 170);
	CHECK(server_echo_ack(&s, 215) == 1 && s.term.echo_ack == 4);
	CHECK(s.necho == 2 && s.echo_num[0] == 4);
	CHECK(server_echo_ack(&s, 219) == 0);
	CHECK(server_echo_ack(&s, 220) == 1 && s.term.echo_ack == 5);
	CHECK(server_echo_ack(&s, 10000) == 0 && s.term.echo_ack == 5);
	for (i = 0; i < 3 * SERVER_ECHO_MAX; i++) {
		server_echo_register(&s, 100 + (uint64_t)i, 20000);
	}
	CHECK(s.necho == SERVER_ECHO_MAX);
	CHECK(server_echo_ack(&s, 20050) == 1 &&
	    s.term.echo_ack == 100 + 3 * SERVER_ECHO_MAX - 1);
}

/* Which shell output counts as an echo to send at once. */
static void
test_is_echo(void)
{
	uint64_t q = SERVER_ECHO_QUIET_MS;

	CHECK(server_is_echo(1, 1, 1000, 1000 + q));
	CHECK(server_is_echo(SERVER_ECHO_BYTES, 1, 0, 5000));
	CHECK(!server_is_echo(SERVER_ECHO_BYTES + 1, 1, 0, 5000));
	CHECK(!server_is_echo(1, 1, 1000, 1000 + q - 1));	/* not quiet */
	CHECK(!server_is_echo(1, 0, 1000, 2000));	/* more is coming */
	CHECK(!server_is_echo(0, 1, 1000, 2000));	/* nothing read */
}

/*
 * The pty is read until it is empty within one pass, into the emulator;
 * EOF stops the server. The slave is raw so that bytes count one for one.
 */
static void
test_read_pty(void)
{
	static struct server s;
	static uint8_t chunk[1024];
	struct termios tio;
	struct pollfd pfd;
	size_t w = 0, got;
	ssize_t n;
	int slave, empty = 0, i;

	memset(&s, 0, sizeof s);
	memset(chunk, 'x', sizeof chunk);
	CHECK(term_init(&s.term, 80, 24) == 0);
	CHECK(server_ssp_init(&s) == 0);
	if (openpty(&s.master, &slave, NULL, NULL, NULL) == -1) {
		CHECK(!"openpty");
		return;
	}
	CHECK(tcgetattr(slave, &tio) == 0);
	cfmakeraw(&tio);
	CHECK(tcsetattr(slave, TCSANOW, &tio) == 0);
	fcntl(s.master, F_SETFL, fcntl(s.master, F_GETFL) | O_NONBLOCK);
	fcntl(slave, F_SETFL, fcntl(slave, F_GETFL) | O_NONBLOCK);
	got = server_read_pty(&s, 10, &empty);
	CHECK(got == 0 && empty && !s.dirty);
	/* More than one read's worth, less than the budget. */
	while (w < 3 * 4096 && (n = write(slave, chunk, sizeof chunk)) > 0) {
		w += (size_t)n;
	}
	/* The kernel moves it to the master side; one call drains it. */
	pfd.fd = s.master;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 2000) == 1);
	usleep(50000);
	got = server_read_pty(&s, 10, &empty);
	CHECK(got > 4096 && empty && s.dirty);
	for (i = 0; i < 100 && got < w; i++) {	/* a slow kernel */
		usleep(10000);
		got += server_read_pty(&s, 10, &empty);
	}
	CHECK(w == 3 * 4096 && got == w);
	CHECK(fb_cell(&s.term.fb, 0, 0)->c[0] == 'x' && s.term.fb.cy == 23);
	got = server_read_pty(&s, 11, &empty);
	CHECK(got == 0 && empty);
	close(slave);
	got = server_read_pty(&s, 12, &empty);
	CHECK(got == 0 && !empty && s.done);
	close(s.master);
	ssp_free(&s.ssp);
	term_release(&s.term);
}

/*
 * SSP's copy of the screen is taken when SSP must learn of a first change,
 * not on every read after it; an echo is copied at once and hurried. (No
 * peer here, so no send is ever due.)
 */
static void
test_server_sync(void)
{
	static struct server s;

	memset(&s, 0, sizeof s);
	CHECK(term_init(&s.term, 80, 24) == 0);
	CHECK(server_ssp_init(&s) == 0);
	server_sync(&s, 10, 0);
	CHECK(!ssp_unsent(&s.ssp));
	feed(&s.term, "a");
	s.dirty = 1;
	server_sync(&s, 10, 0);
	CHECK(!s.dirty && ssp_unsent(&s.ssp));
	CHECK(term_equal(ssp_current(&s.ssp), &s.term));
	feed(&s.term, "b");
	s.dirty = 1;
	server_sync(&s, 11, 0);
	CHECK(s.dirty && !term_equal(ssp_current(&s.ssp), &s.term));
	CHECK(!s.ssp.hurry);
	server_sync(&s, 12, 1);
	CHECK(!s.dirty && term_equal(ssp_current(&s.ssp), &s.term));
	CHECK(s.ssp.hurry);
	/* The shutdown takes the last screen along, then nothing more. */
	feed(&s.term, "c");
	s.dirty = 1;
	s.net.has_peer = 1;
	server_stop(&s, 13);
	CHECK(ssp_shutdown_in_progress(&s.ssp) && !s.done);
	CHECK(!s.dirty && term_equal(ssp_current(&s.ssp), &s.term));
	feed(&s.term, "d");
	s.dirty = 1;
	server_sync(&s, 14, 1);
	CHECK(s.dirty && !term_equal(ssp_current(&s.ssp), &s.term));
	ssp_free(&s.ssp);
	term_release(&s.term);
}

int
main(void)
{
	test_escape();
	test_client_key();
	test_locale();
	test_locale_client();
	test_ports();
	test_opt();
	test_env_seconds();
	test_ssh_ip();
	test_server_parse();
	test_client_parse();
	test_term_strings();
	test_terminfo();
	test_term_ops();
	test_echo_ack();
	test_is_echo();
	test_read_pty();
	test_server_sync();
	return TEST_DONE();
}
