/*
 * mosh.c: main(), the three roles, the process plumbing around them, and
 * the two main loops.
 *
 * Roles (dispatched like Dropbear's multi-call binary, on the basename of
 * argv[0] first and then on argv[1]):
 *   mosh-server, mosh server   the server of protocol.md §9: prints
 *                              "MOSH CONNECT <port> <key>", forks once,
 *                              runs the shell on a pty, serves the session;
 *   mosh-client, mosh client   the client of protocol.md §10: MOSH_KEY in
 *                              the environment, "IP PORT" as arguments;
 *   mosh [options] host        the front end of protocol.md §11 (not built
 *                              yet: its command line is only checked).
 * Command lines, messages and exit codes follow upstream 1.4.0 wherever a
 * script or a user could notice; the differences are listed at the point
 * where they happen (locale: locale_*; terminfo: ti_*; key check order:
 * client_main; stricter client port: client_parse).
 *
 * The complete-terminal state type of protocol.md §8.2 (term_*) lives here:
 * it is where the emulator (vt.c), the frames and renderer (framebuf.c) and
 * the transport (ssp.c, which only knows states through a vtable) meet.
 *
 * Loops: server_loop() and client_loop() are the only places that wait.
 * Each pass reads the monotonic clock once (now_ms) and passes it down; every
 * module says when it next needs to run and the loop sleeps until the
 * earliest of those in ppoll(), with the signals it handles blocked outside
 * ppoll so that a handler (which only sets a flag) can never be missed. The
 * timing policy of each loop is in the comment above it.
 *
 * Nothing here parses wire bytes or escape sequences: ssp.c decodes, vt.c
 * interprets. Once a loop runs nothing calls exit(): a local failure ends
 * the loop and the one way out (client_finish) restores the terminal.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mosh.h"

extern char **environ;

#define TTY_READ_MAX 16384		/* one read of keyboard or pty bytes */
#define SERVER_NO_CLIENT_MS 60000	/* exit if no client ever came */
#define SERVER_IDLE_WAKE_MS 5000	/* wake-up while alone or closing */
#define CLIENT_NOTICE_MS 250		/* "Nothing received from server" */
#define CLIENT_GIVE_UP_MS 15000		/* "Timed out waiting for server" */
#define CLIENT_DIAG_MS 3000		/* "a firewall may be blocking UDP" */
#define TIMEOUT_MAX_S 1000000000L	/* clamp of the *_TMOUT variables */
#define SERVER_ECHO_MAX 64		/* input history entries kept (§8.3) */
#define SERVER_TOPTY_MAX (1u << 20)	/* past this, stop reading the net */
#define ECHO_TIMEOUT_MS 50		/* §8.3 */
#define SERVER_PTY_BUDGET (64u << 10)	/* pty bytes emulated per pass */
#define SERVER_ECHO_QUIET_MS SSP_MINDELAY_SERVER /* silence before an echo */
#define SERVER_ECHO_BYTES 4096		/* an echo (or a redraw) is shorter */

/* ==== small helpers ==== */

/*
 * Signal flags: the handlers do nothing else. The signals are blocked
 * except inside ppoll(), so a flag is always seen by the next pass.
 */
static volatile sig_atomic_t sig_winch, sig_cont, sig_quit, sig_usr1, sig_usr2;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGWINCH:
		sig_winch = 1;
		break;
	case SIGCONT:
		sig_cont = 1;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	case SIGUSR2:
		sig_usr2 = 1;
		break;
	default:
		sig_quit = 1;
		break;
	}
}

/* Catch the signals of list[] and block them; *old gets the mask to wait in. */
static void
signals_catch(const int *list, size_t n, sigset_t *old)
{
	struct sigaction sa;
	sigset_t set;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	sigemptyset(&set);
	for (i = 0; i < n; i++) {
		sigaction(list[i], &sa, NULL);
		sigaddset(&set, list[i]);
	}
	sigprocmask(SIG_BLOCK, &set, old);
}

static void
signal_set(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Milliseconds from CLOCK_MONOTONIC: the one clock of both loops. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for fds or wait_ms (-1: forever) with the handled signals open. */
static int
poll_wait(struct pollfd *fds, nfds_t n, int wait_ms, const sigset_t *mask)
{
	struct timespec ts;

	ts.tv_sec = wait_ms / 1000;
	ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
	if (ppoll(fds, n, wait_ms < 0 ? NULL : &ts, mask) == -1) {
		if (errno != EINTR) {
			return -1;
		}
		for (; n > 0; n--) {
			fds[n - 1].revents = 0;
		}
	}
	return 0;
}

static int
write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	struct pollfd pfd;
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (errno != EAGAIN || poll(&pfd, 1, 1000) != 1) {
				return -1;
			}
			continue;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_str(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Core dumps off (they could hold the session key); *saved to restore. */
static void
core_off(struct rlimit *saved)
{
	struct rlimit none;

	if (getrlimit(RLIMIT_CORE, saved) == -1) {
		saved->rlim_cur = saved->rlim_max = 0;
	}
	none.rlim_cur = 0;
	none.rlim_max = saved->rlim_max;
	setrlimit(RLIMIT_CORE, &none);
}

/*
 * One step of getopt(3) over argv[1..argc-1]. Like glibc's default mode,
 * which upstream's binaries use, it does not stop at the first operand:
 * operands come back in order as 1 with *arg set, and "--" makes the rest
 * operands. An unknown option or a missing argument prints glibc's message
 * (naming argv[0]) and gives '?'. -1 at the end.
 */
struct opt {
	int i, pos, dashdash;
	const char *arg;
};

static int
opt_next(struct opt *o, int argc, char **argv, const char *spec)
{
	const char *a, *s;
	int c;

	o->arg = NULL;
	if (o->i == 0) {
		o->i = 1;
	}
	if (o->pos == 0) {
		if (o->i >= argc) {
			return -1;
		}
		a = argv[o->i];
		if (!o->dashdash && strcmp(a, "--") == 0) {
			o->dashdash = 1;
			o->i++;
			return opt_next(o, argc, argv, spec);
		}
		if (o->dashdash || a[0] != '-' || a[1] == '\0') {
			o->arg = a;
			o->i++;
			return 1;
		}
		o->pos = 1;
	}
	a = argv[o->i];
	c = (unsigned char)a[o->pos++];
	s = c != ':' ? strchr(spec, c) : NULL;
	if (a[o->pos] == '\0') {
		o->pos = 0;
		o->i++;
	}
	if (s == NULL) {
		fprintf(stderr, "%s: invalid option -- '%c'\n", argv[0], c);
		return '?';
	}
	if (s[1] != ':') {
		return c;
	}
	if (o->pos != 0) {
		o->arg = a + o->pos;
		o->pos = 0;
		o->i++;
	} else if (o->i < argc) {
		o->arg = argv[o->i++];
	} else {
		fprintf(stderr, "%s: option requires an argument -- '%c'\n",
		    argv[0], c);
		return '?';
	}
	return c;
}

/* ==== version and usage texts ==== */

/*
 * Our banner names our release and the upstream release we are compatible
 * with; scripts only look for the "MOSH CONNECT" line, never at this.
 */
static void
print_version(FILE *f, const char *role)
{
	fprintf(f, "%s (mosh-c " MOSH_VERSION ", compatible with mosh "
	    MOSH_COMPAT_VERSION ")\n"
	    "Copyright 2026 the mosh-c authors.\n"
	    "License GPLv3+: GNU GPL version 3 or later "
	    "<https://gnu.org/licenses/gpl.html>.\n"
	    "This is free software: you are free to change and redistribute "
	    "it.\n"
	    "There is NO WARRANTY, to the extent permitted by law.\n", role);
}

static void
server_usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] "
	    "[-c COLORS] [-l NAME=VALUE] [-- COMMAND...]\n", prog);
}

static void
client_usage(FILE *f, const char *prog)
{
	print_version(f, "mosh-client");
	fprintf(f, "\nUsage: %s [-# 'ARGS'] IP PORT\n"
	    "       %s -c\n", prog, prog);
}

/* ==== locale: which environment the shell child gets ==== */

/*
 * Our terminal model is UTF-8 by construction and our own code never calls
 * setlocale(), so neither role needs a UTF-8 locale to exist on the host.
 * What matters is the shell child: a program that believes its charset is
 * a legacy one (ISO-8859-1, EUC-JP...) writes bytes our UTF-8 emulator shows
 * as U+FFFD. The rule (protocol.md §12 item 27, decided here):
 *   1. The effective LC_CTYPE is the first non-empty of LC_ALL, LC_CTYPE,
 *      LANG; its charset (between '.' and '@') names UTF-8 -> run as is.
 *   2. Otherwise, as upstream: remove every locale variable and put each
 *      -l NAME=VALUE. UTF-8 now -> run.
 *   3. Still unset, empty, "C" or "POSIX" (plain ASCII, which a UTF-8
 *      terminal shows correctly): run, with LC_CTYPE=C.UTF-8 added for the
 *      child (C.UTF-8 is in glibc >= 2.35, Debian and musl; where it is
 *      missing programs fall back to ASCII, which still works).
 *   4. Still a legacy charset, named or implied by a bare language name
 *      such as "en_US": the child would really write non-UTF-8 text, so
 *      print upstream's "needs a UTF-8 native locale" message and exit 1.
 * Upstream refuses in case 3 too (glibc's C locale is ASCII) and asks glibc
 * whether the locale is installed, which a static musl binary cannot do.
 */
enum { LOC_ASCII, LOC_UTF8, LOC_LEGACY };

static const char *const locale_vars[] = {
	"LANG", "LANGUAGE", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE",
	"LC_MONETARY", "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS",
	"LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION", "LC_ALL"
};

/* The variable that decides LC_CTYPE: *name and its value, or NULL. */
static const char *
locale_ctype(const char **name)
{
	static const char *const order[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *v;
	size_t i;

	for (i = 0; i < LEN(order); i++) {
		v = getenv(order[i]);
		if (v != NULL && *v != '\0') {
			*name = order[i];
			return v;
		}
	}
	*name = NULL;
	return NULL;
}

/* LOC_* of a locale name; "utf8", "UTF-8", "Utf_8" all name UTF-8. */
static int
locale_kind(const char *v)
{
	const char *cs, *end;
	char norm[8];
	size_t n = 0;

	if (v == NULL || *v == '\0' || strcmp(v, "C") == 0 ||
	    strcmp(v, "POSIX") == 0) {
		return LOC_ASCII;
	}
	if ((cs = strchr(v, '.')) == NULL) {
		return LOC_LEGACY;
	}
	end = strchr(++cs, '@');
	if (end == NULL) {
		end = cs + strlen(cs);
	}
	for (; cs < end && n < sizeof norm - 1; cs++) {
		if (*cs != '-' && *cs != '_') {
			norm[n++] = (char)(*cs | 0x20);
		}
	}
	norm[n] = '\0';
	if (cs == end && strcmp(norm, "utf8") == 0) {
		return LOC_UTF8;
	}
	return strncmp(v, "C.", 2) == 0 && n == 0 ? LOC_ASCII : LOC_LEGACY;
}

/* "NAME=value" of the deciding variable, and a charset name, for messages. */
static void
locale_describe(char *var, size_t varlen, char *cs, size_t cslen)
{
	const char *name, *v = locale_ctype(&name), *dot;

	if (v == NULL) {
		snprintf(var, varlen, "[no charset variables]");
	} else {
		snprintf(var, varlen, "%s=%s", name, v);
	}
	dot = v ? strchr(v, '.') : NULL;
	if (locale_kind(v) == LOC_ASCII) {
		snprintf(cs, cslen, "US-ASCII");
	} else if (dot == NULL) {
		snprintf(cs, cslen, "unknown (no charset in the name)");
	} else {
		snprintf(cs, cslen, "%.*s", (int)strcspn(dot + 1, "@"),
		    dot + 1);
	}
}

/* Apply the rule above to our own environment, which the child inherits. */
static void
locale_for_child(char **lvars, size_t nl)
{
	char nvar[256], ncs[64], cvar[256], ccs[64];
	const char *name;
	size_t i;

	if (locale_kind(locale_ctype(&name)) == LOC_UTF8) {
		return;
	}
	locale_describe(nvar, sizeof nvar, ncs, sizeof ncs);
	for (i = 0; i < LEN(locale_vars); i++) {
		unsetenv(locale_vars[i]);
	}
	for (i = 0; i < nl; i++) {
		if (strchr(lvars[i], '=') != NULL && putenv(lvars[i]) != 0) {
			perror("putenv");
		}
	}
	switch (locale_kind(locale_ctype(&name))) {
	case LOC_UTF8:
		return;
	case LOC_ASCII:
		setenv("LC_CTYPE", "C.UTF-8", 1);
		return;
	}
	locale_describe(cvar, sizeof cvar, ccs, sizeof ccs);
	fprintf(stderr, "mosh-server needs a UTF-8 native locale to run.\n\n"
	    "Unfortunately, the local environment (%s) specifies\n"
	    "the character set \"%s\",\n\n"
	    "The client-supplied environment (%s) specifies\n"
	    "the character set \"%s\".\n\n", nvar, ncs, cvar, ccs);
	exit(1);
}

/* ==== terminfo: a minimal reader of compiled entries ==== */

/*
 * The binary is static, so there is no ncurses: this reads the compiled
 * entry of $TERM itself (term(5)): the legacy format (magic 0432, 16-bit
 * numbers) and the extended-number format (magic 01036, 32-bit numbers),
 * with every count and offset checked against the file size. Only the
 * standard section is read; the capabilities we need are all in it.
 * Search order as ncurses: $TERMINFO, ~/.terminfo, $TERMINFO_DIRS (an empty
 * element meaning the system list), then /etc/terminfo, /lib/terminfo,
 * /usr/share/terminfo, each in the "x/xterm" and the "78/xterm" layouts.
 * An unknown $TERM, which upstream refuses ("Unknown terminal type."), is
 * treated as a plain ANSI terminal: no bce, no ech, no smcup/rmcup, and
 * colors -1 (absent, as tigetnum reports it).
 */
#define TI_FILE_MAX 32768	/* ncurses' own limit for a compiled entry */
#define TI_STR_MAX 128
#define TI_BOOL_BCE 28		/* back_color_erase */
#define TI_NUM_COLORS 13	/* max_colors */
#define TI_STR_SMCUP 28		/* enter_ca_mode */
#define TI_STR_ECH 37		/* erase_chars */
#define TI_STR_RMCUP 40		/* exit_ca_mode */

struct tinfo {
	int found;			/* an entry was read */
	long colors;			/* -1: absent */
	int bce, ech;
	int has_smcup, has_rmcup;
	char smcup[TI_STR_MAX], rmcup[TI_STR_MAX];
};

static void
ti_default(struct tinfo *ti)
{
	memset(ti, 0, sizeof *ti);
	ti->colors = -1;
}

static long
ti_le(const uint8_t *p, size_t size)
{
	uint32_t v = p[0] | (uint32_t)p[1] << 8;

	if (size == 2) {
		return v >= 0x8000 ? (long)v - 0x10000 : (long)v;
	}
	v |= (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return v >= 0x80000000u ? -1 : (long)v;
}

/* String capability i into out[TI_STR_MAX]; 1 if present and it fits. */
static int
ti_str(const uint8_t *offs, size_t nstr, const uint8_t *tab, size_t tabsz,
    size_t i, char *out)
{
	const uint8_t *nul;
	long off;

	if (i >= nstr || (off = ti_le(offs + 2 * i, 2)) < 0 ||
	    (size_t)off >= tabsz) {
		return 0;
	}
	nul = memchr(tab + off, 0, tabsz - (size_t)off);
	if (nul == NULL || (size_t)(nul - (tab + off)) >= TI_STR_MAX) {
		return 0;
	}
	memcpy(out, tab + off, (size_t)(nul - (tab + off)) + 1);
	return 1;
}

/* Parse one compiled entry; 0, or -1 (and *ti the defaults) if malformed. */
static int
ti_parse(const uint8_t *p, size_t n, struct tinfo *ti)
{
	long hdr[6];
	size_t i, numsz, bools, nums, nstr, tabsz, off;
	char scratch[TI_STR_MAX];

	ti_default(ti);
	if (n < 12) {
		return -1;
	}
	for (i = 0; i < 6; i++) {
		hdr[i] = ti_le(p + 2 * i, 2);
		if (hdr[i] < 0) {
			return -1;
		}
	}
	if (hdr[0] != 0432 && hdr[0] != 01036) {
		return -1;
	}
	numsz = hdr[0] == 0432 ? 2 : 4;
	bools = (size_t)hdr[2];
	nums = (size_t)hdr[3];
	nstr = (size_t)hdr[4];
	tabsz = (size_t)hdr[5];
	off = 12 + (size_t)hdr[1] + bools;
	off += off & 1;
	/* Each term is below 2^17, so the sum cannot wrap. */
	if (off + nums * numsz + nstr * 2 + tabsz > n) {
		return -1;
	}
	ti->bce = bools > TI_BOOL_BCE &&
	    p[12 + (size_t)hdr[1] + TI_BOOL_BCE] == 1;
	if (nums > TI_NUM_COLORS) {
		ti->colors = ti_le(p + off + TI_NUM_COLORS * numsz, numsz);
		if (ti->colors < 0) {
			ti->colors = -1;
		}
	}
	off += nums * numsz;
	ti->ech = ti_str(p + off, nstr, p + off + nstr * 2, tabsz, TI_STR_ECH,
	    scratch);
	ti->has_smcup = ti_str(p + off, nstr, p + off + nstr * 2, tabsz,
	    TI_STR_SMCUP, ti->smcup);
	ti->has_rmcup = ti_str(p + off, nstr, p + off + nstr * 2, tabsz,
	    TI_STR_RMCUP, ti->rmcup);
	ti->found = 1;
	return 0;
}

/* Try dir/x/term and dir/78/term; 0 if one parsed. */
static int
ti_try_dir(const char *dir, const char *term, struct tinfo *ti)
{
	uint8_t buf[TI_FILE_MAX + 1];
	char path[PATH_MAX];
	size_t n;
	ssize_t r;
	int fd, layout;

	for (layout = 0; layout < 2; layout++) {
		if ((size_t)snprintf(path, sizeof path, layout ? "%s/%02x/%s" :
		    "%s/%c/%s", dir, layout ? (unsigned char)term[0] :
		    term[0], term) >= sizeof path) {
			return -1;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			continue;
		}
		n = 0;
		while (n < sizeof buf && (r = read(fd, buf + n,
		    sizeof buf - n)) > 0) {
			n += (size_t)r;
		}
		close(fd);
		if (n <= TI_FILE_MAX && ti_parse(buf, n, ti) == 0) {
			return 0;
		}
	}
	return -1;
}

static int
ti_try_system(const char *term, struct tinfo *ti)
{
	static const char *const sys[] = {
		"/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"
	};
	size_t i;

	for (i = 0; i < LEN(sys); i++) {
		if (ti_try_dir(sys[i], term, ti) == 0) {
			return 0;
		}
	}
	return -1;
}

/* The entry of term (may be NULL); ti->found says whether there was one. */
static void
ti_load(const char *term, struct tinfo *ti)
{
	char dir[PATH_MAX];
	const char *v, *e;
	size_t len;

	ti_default(ti);
	if (term == NULL || *term == '\0' || term[0] == '.' ||
	    strchr(term, '/') != NULL || strlen(term) > 255) {
		return;
	}
	if ((v = getenv("TERMINFO")) != NULL && *v != '\0' &&
	    ti_try_dir(v, term, ti) == 0) {
		return;
	}
	if ((v = getenv("HOME")) != NULL && *v != '\0' &&
	    (size_t)snprintf(dir, sizeof dir, "%s/.terminfo", v) < sizeof dir &&
	    ti_try_dir(dir, term, ti) == 0) {
		return;
	}
	for (v = getenv("TERMINFO_DIRS"); v != NULL; v = *e ? e + 1 : NULL) {
		e = v + strcspn(v, ":");
		len = (size_t)(e - v);
		if (len == 0 && ti_try_system(term, ti) == 0) {
			return;
		}
		if (len == 0 || len >= sizeof dir) {
			continue;
		}
		memcpy(dir, v, len);
		dir[len] = '\0';
		if (ti_try_dir(dir, term, ti) == 0) {
			return;
		}
	}
	if (ti_try_system(term, ti) == 0) {
		return;
	}
	ti_default(ti);
}

/* ==== escape key (prediction.md §10) ==== */

struct escape {
	int key;		/* the escape byte; -1: switched off */
	int pass, pass2;	/* after the escape, these send it literally */
	int requires_lf;	/* printable key: only at the start of a line */
	char name[16];		/* "Ctrl-^" or "\"~\"": for the quit hint */
	char help[96];		/* the help shown after the escape byte */
};

/* From MOSH_ESCAPE_KEY (env may be NULL). Pure: no I/O, no globals. */
static void
escape_config(const char *env, struct escape *e)
{
	int k = 0x1E;
	char pass[8];

	memset(e, 0, sizeof *e);
	if (env != NULL && env[0] == '\0') {
		e->key = -1;
		return;
	}
	if (env != NULL && env[1] == '\0' && (unsigned char)env[0] < 128) {
		k = (unsigned char)env[0];
	}
	if (k == 0x03 || k == 0x04 || k == 0x0A || k == 0x0C || k == 0x0D) {
		k = 0x1E;
	}
	e->key = k;
	e->pass = k < 32 ? k + '@' : k;
	e->pass2 = e->pass >= 'A' && e->pass <= 'Z' ? e->pass + 32 : e->pass;
	e->requires_lf = k >= 32;
	snprintf(pass, sizeof pass, "\"%c\"", e->pass);
	if (k < 32) {
		snprintf(e->name, sizeof e->name, "Ctrl-%c", e->pass);
	} else {
		snprintf(e->name, sizeof e->name, "\"%c\"", k);
	}
	snprintf(e->help, sizeof e->help, "Commands: Ctrl-Z suspends, "
	    "\".\" quits, %s gives literal %s", pass, e->name);
}

/* ==== the complete terminal: SSP's server-to-client state (§8.2) ==== */

/*
 * What SSP needs to know of the datagram layer (ssp.c knows nothing of
 * sockets): the peer, the timers from the RTT estimate, the datagram size,
 * and how to send one fragment.
 */
static struct ssp_link
link_of(const struct net *n, int (*send)(void *, const uint8_t *, size_t),
    void *arg)
{
	struct ssp_link l;

	l.has_peer = n->has_peer;
	l.send_interval = (unsigned)net_send_interval(n);
	l.rto = (unsigned)net_rto(n);
	l.loss = net_loss(n);
	l.mtu = (size_t)n->mtu;
	l.send = send;
	l.arg = arg;
	return l;
}

/*
 * A terminal state: the frame, the emulator that interprets host bytes into
 * it (the client applies diffs with it), and the echo ack. The vt points at
 * the fb of the same object, so a copy re-points it.
 */
struct term_state {
	struct fb fb;
	struct vt vt;
	uint64_t echo_ack;
};

/* The server's Display assumes ECH, BCE and titles (§8.2). */
static const struct fb_caps term_wire_caps = { 1, 1, 1 };

static int
term_init(struct term_state *t, int w, int h)
{
	memset(t, 0, sizeof *t);
	if (fb_init(&t->fb, w, h) == -1) {
		return -1;
	}
	vt_init(&t->vt, &t->fb);
	return 0;
}

static void
term_release(struct term_state *t)
{
	vt_free(&t->vt);
	fb_free(&t->fb);
}

static void *
term_copy(const void *st)
{
	const struct term_state *a = st;
	struct term_state *t = malloc(sizeof *t);

	if (t == NULL) {
		return NULL;
	}
	if (fb_copy(&t->fb, &a->fb) == -1) {
		free(t);
		return NULL;
	}
	/*
	 * A copy is only diffed (server) or fed with server_ext 0 (client),
	 * so it needs neither the replies, nor a main screen hidden behind
	 * the alternate one, nor an OSC string half collected: those stay
	 * with the original.
	 */
	t->vt = a->vt;
	t->vt.fb = &t->fb;
	memset(&t->vt.reply, 0, sizeof t->vt.reply);
	t->vt.main_rows = NULL;
	t->vt.osc = NULL;
	t->vt.osc_len = 0;
	t->echo_ack = a->echo_ack;
	return t;
}

static void
term_free(void *st)
{
	if (st != NULL) {
		term_release(st);
		free(st);
	}
}

static int
term_equal(const void *a, const void *b)
{
	const struct term_state *x = a, *y = b;

	return x->echo_ack == y->echo_ack && fb_equal(&x->fb, &y->fb);
}

/* HostMessage: echo ack, then resize and host bytes (§8.2). */
static int
term_diff(const void *from, const void *to, struct buf *out)
{
	const struct term_state *x = from, *y = to;
	struct buf b = { NULL, 0, 0 };
	int r = -1;

	if (x->echo_ack != y->echo_ack &&
	    ssp_hm_put_echoack(out, y->echo_ack) == -1) {
		return -1;
	}
	if (fb_equal(&x->fb, &y->fb)) {
		return 0;
	}
	if ((x->fb.w != y->fb.w || x->fb.h != y->fb.h) &&
	    ssp_hm_put_resize(out, y->fb.w, y->fb.h) == -1) {
		return -1;
	}
	if (fb_diff(&x->fb, &y->fb, 1, &term_wire_caps, &b) == 0 &&
	    (b.len == 0 || ssp_hm_put_bytes(out, b.p, b.len) == 0)) {
		r = 0;
	}
	buf_free(&b);
	return r;
}

/*
 * Apply a HostMessage, checked whole first (sizes in range, echo acks
 * never going down) so that bad input changes nothing. Replies the
 * emulator would send to the host are dropped: the client has no host.
 */
static int
term_apply(void *st, const uint8_t *p, size_t len)
{
	struct term_state *t = st;
	struct ssp_iter it = { p, p + len };
	struct ssp_msg m;
	uint64_t ea = t->echo_ack;
	int r;

	if (ssp_hm_check(p, len, &ea) == -1) {
		return -1;
	}
	while ((r = ssp_hm_next(&it, &m)) == 1) {
		if (m.type == SSP_MSG_RESIZE && (m.w < 1 || m.w > FB_MAX_COLS ||
		    m.h < 1 || m.h > FB_MAX_ROWS)) {
			return -1;
		}
	}
	if (r == -1) {
		return -1;
	}
	it.p = p;
	while (ssp_hm_next(&it, &m) == 1) {
		if (m.type == SSP_MSG_BYTES) {
			vt_feed(&t->vt, m.p, m.len);
			t->vt.reply.len = 0;
		} else if (m.type == SSP_MSG_RESIZE) {
			vt_resize(&t->vt, m.w, m.h);
		} else if (m.type == SSP_MSG_ECHOACK) {
			t->echo_ack = m.echo_ack;
		}
	}
	return 0;
}

static const struct ssp_ops term_ops = {
	term_copy, term_free, term_equal, term_diff, term_apply, NULL
};

/* Chaff for SSP (§7.11). */
static void
chaff_random(void *arg, uint8_t *p, size_t n)
{
	(void)arg;
	if (net_random(p, n) == -1) {
		memset(p, 0, n);
	}
}

/* ==== server: command line and environment (protocol.md §9.1, §9.2) ==== */

struct server_opts {
	const char *prog;		/* argv[0] for messages */
	const char *ip;			/* NULL: any interface */
	const char *port;		/* NULL: the default range */
	int port_lo, port_hi;
	long colors;
	unsigned verbose;
	char **lvars;			/* the -l values, nl of them */
	size_t nl;
	char **command;			/* after "--"; NULL: a login shell */
	char ssh_ip[256];		/* storage for -s */
};

/* "N" or "LOW:HIGH" (net.c parses it); upstream's message on stderr. */
static int
port_parse(const char *s, int *lo, int *hi)
{
	char err[160];

	if (net_parse_ports(s, lo, hi, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* -s: the third word of $SSH_CONNECTION without "::ffff:"; NULL: any. */
static const char *
server_ssh_ip(char *out, size_t outlen)
{
	static const char ws[] = " \t\n\v\f\r";
	const char *v = getenv("SSH_CONNECTION"), *w = NULL;
	size_t n;
	int i;

	if (v == NULL) {
		fputs("Warning: SSH_CONNECTION not found; binding to any "
		    "interface.\n", stderr);
		return NULL;
	}
	for (i = 0; i < 3; i++) {
		v += strspn(v, ws);
		w = v;
		v += strcspn(v, ws);
	}
	n = (size_t)(v - w);
	if (n == 0 || n >= outlen) {
		fputs("Warning: Could not parse SSH_CONNECTION; binding to any "
		    "interface.\n", stderr);
		return NULL;
	}
	if (n > 7 && strncasecmp(w, "::ffff:", 7) == 0) {
		w += 7;
		n -= 7;
	}
	memcpy(out, w, n);
	out[n] = '\0';
	return out;
}

static void
server_bad(const struct server_opts *o, const char *what, const char *arg)
{
	fprintf(stderr, "%s: Bad %s (%s)\n", o->prog, what, arg);
	server_usage(stderr, o->prog);
	exit(1);
}

/* getopt over argv[0..] = "new" ...: upstream keeps going on errors. */
static void
server_getopt(int argc, char **argv, struct server_opts *o)
{
	struct opt op;
	char *end;
	int c;

	memset(&op, 0, sizeof op);
	while ((c = opt_next(&op, argc, argv, "@:i:p:c:svl:")) != -1) {
		switch (c) {
		case 1:		/* an operand: ignored */
		case '@':	/* only eats its argument */
			break;
		case 'i':
			o->ip = op.arg;
			break;
		case 'p':
			o->port = op.arg;
			break;
		case 's':
			o->ip = server_ssh_ip(o->ssh_ip, sizeof o->ssh_ip);
			break;
		case 'c':
			errno = 0;
			o->colors = strtol(op.arg, &end, 10);
			if (errno == ERANGE || *end != '\0') {
				server_bad(o, "number of colors", op.arg);
			}
			break;
		case 'v':
			o->verbose++;
			break;
		case 'l':
			o->lvars[o->nl++] = (char *)op.arg;
			break;
		default:
			server_usage(stderr, o->prog);
			break;
		}
	}
}

/* protocol.md §9.1; exits on --help, --version and errors. */
static void
server_parse(int argc, char **argv, struct server_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			server_usage(stdout, o->prog);
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0) {
			print_version(stdout, "mosh-server");
			exit(0);
		}
		if (strcmp(argv[i], "--") == 0) {
			o->command = i + 1 < argc ? argv + i + 1 : NULL;
			argc = i;
			break;
		}
	}
	if (argc >= 2 && strcmp(argv[1], "new") == 0) {
		server_getopt(argc - 1, argv + 1, o);
	} else if (argc == 2 || argc == 3) {
		o->ip = argv[1];
		o->port = argc == 3 ? argv[2] : NULL;
	} else if (argc > 3) {
		server_usage(stderr, o->prog);
		exit(1);
	}
	if (o->port != NULL &&
	    port_parse(o->port, &o->port_lo, &o->port_hi) == -1) {
		server_bad(o, "UDP port range", o->port);
	}
}

/*
 * MOSH_SERVER_*_TMOUT in seconds, 0 = off. Upstream's quirk is kept: "10x"
 * is reported as not a valid integer and 10 is used all the same. A
 * negative leading number ("-5x") is ignored rather than wrapped.
 */
static long
server_env_seconds(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long t;

	if (v == NULL || *v == '\0') {
		return 0;
	}
	errno = 0;
	t = strtol(v, &end, 10);
	if (*end != '\0' || end == v) {
		fprintf(stderr, "%s not a valid integer, ignoring\n", name);
	} else if (t < 0) {
		fprintf(stderr, "%s is negative, ignoring\n", name);
	}
	return t < 0 ? 0 : MIN(t, TIMEOUT_MAX_S);
}

/* ==== server: the process (protocol.md §9.3, §9.4) ==== */

/* What the pty child runs. */
struct server_cmd {
	const char *path;
	char **argv;
	int login;			/* a login shell: "-sh", motd */
	char *login_argv[2];
	char shell[PATH_MAX], login_name[PATH_MAX + 1];
};

struct server {
	struct server_opts o;
	struct server_cmd cmd;
	struct rlimit core;		/* restored for the shell */
	struct winsize ws;		/* initial size of the pty */
	long net_tmout, sig_tmout;	/* seconds, 0: off */
	uint64_t no_client_ms;		/* exit if no client came by then */
	const char *dump;		/* MOSH_SERVER_DUMP (test only) */
	int master;			/* pty master, -1 once closed */
	pid_t shell;
	struct net net;			/* the socket and the session key */
	struct term_state term;		/* the shell's screen, the emulator */
	struct ssp ssp;			/* sends term, receives user input */
	int ssp_ok;
	struct ssp_user *events;	/* scratch for ssp_user_take */
	struct buf topty;		/* translated keystrokes for the pty */
	uint64_t echo_num[SERVER_ECHO_MAX], echo_t[SERVER_ECHO_MAX];
	size_t necho;			/* input history (§8.3) */
	uint64_t remote_num;		/* newest client state applied */
	int dirty;			/* term changed since SSP's copy */
	uint64_t pty_last;		/* ms: the pty's latest output */
	uint64_t now;			/* for the send callback */
	char peer[64];			/* for syslog: the client's address */
	char user[64];			/* for syslog */
	uint64_t start, last_client;	/* ms: start, newest client state */
	int has_client;			/* a client state has arrived */
	int released;			/* the shell was sent its "\n" */
	int fatal;			/* net_send: the key is used up */
	int done;
	sigset_t waitmask;
};

static void
server_command(const struct server_opts *o, struct server_cmd *cmd)
{
	const char *sh;
	struct passwd *pw;

	memset(cmd, 0, sizeof *cmd);
	if (o->command != NULL) {
		cmd->path = o->command[0];
		cmd->argv = o->command;
		return;
	}
	if ((sh = getenv("SHELL")) == NULL) {
		if ((pw = getpwuid(getuid())) == NULL) {
			perror("getpwuid");
			exit(1);
		}
		sh = pw->pw_shell ? pw->pw_shell : "";
	}
	snprintf(cmd->shell, sizeof cmd->shell, "%s", *sh ? sh : "/bin/sh");
	snprintf(cmd->login_name, sizeof cmd->login_name, "-%s",
	    base_name(cmd->shell));
	cmd->path = cmd->shell;
	cmd->login_argv[0] = cmd->login_name;
	cmd->argv = cmd->login_argv;
	cmd->login = 1;
}

static void
server_winsize(struct winsize *ws)
{
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, ws) == -1 || ws->ws_col == 0 ||
	    ws->ws_row == 0) {
		memset(ws, 0, sizeof *ws);
		ws->ws_col = 80;
		ws->ws_row = 24;
	}
}

/* net.c's log lines (attach, detach, bind fallbacks), with -v only. */
static void
server_log(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

/*
 * Make the session key and bind the socket on o->ip, o->port_lo..port_hi
 * (protocol.md §3.8); fill port[] and key[] for the MOSH CONNECT line. A
 * failure prints "Network exception: ..." and gives -1 (exit status 1).
 */
static int
server_net_open(struct server *s, char *port, size_t portlen, char *key)
{
	uint8_t k[OCB_KEY_LEN];
	int r = -1;

	if (net_key_generate(k) == -1 || net_init(&s->net, 1, k) == -1) {
		fputs("Crypto exception: cannot make a session key\n", stderr);
		goto out;
	}
	if (s->o.verbose) {
		s->net.log = server_log;
	}
	if (net_bind(&s->net, s->o.ip, s->o.port ? s->o.port_lo : -1,
	    s->o.port ? s->o.port_hi : -1) == -1) {
		fprintf(stderr, "Network exception: %s\n", s->net.error);
		goto out;
	}
	snprintf(port, portlen, "%d", net_port(&s->net));
	ocb_key_format(k, key);
	r = 0;
out:
	explicit_bzero(k, sizeof k);
	return r;
}

/* fork() once; the parent reports and exits 0, the child goes on. */
static void
server_detach(const struct server *s)
{
	pid_t pid;
	int fd;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("fork");
	} else if (pid > 0) {
		fputc('\n', stderr);
		print_version(stderr, "mosh-server");
		fprintf(stderr, "\n[mosh-server detached, pid = %d]\n",
		    (int)pid);
		fflush(NULL);
		if (isatty(STDOUT_FILENO)) {
			tcdrain(STDOUT_FILENO);
		}
		if (isatty(STDERR_FILENO)) {
			tcdrain(STDERR_FILENO);
		}
		exit(0);
	}
	if (s->o.verbose) {
		return;
	}
	if ((fd = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1) {
		perror("/dev/null");
		exit(1);
	}
	if (fd > STDERR_FILENO) {
		close(fd);
	}
}

/* Copy a file to stdout; 0 if it could be opened. */
static int
print_file(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		return -1;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0 &&
	    write_all(STDOUT_FILENO, buf, (size_t)n) == 0) {
		continue;
	}
	close(fd);
	return 0;
}

/* In the pty child: $HOME (else the passwd entry) and $PWD. */
static void
shell_chdir_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home == NULL) {
		if ((pw = getpwuid(getuid())) == NULL) {
			perror("getpwuid");
			return;
		}
		home = pw->pw_dir;
	}
	if (chdir(home) == -1) {
		perror("chdir");
	}
	if (setenv("PWD", home, 1) == -1) {
		perror("setenv");
	}
}

/*
 * The release handshake: block until the server writes "\n" to the pty,
 * which it does when the first client state arrives. One line, at most 80
 * bytes, read a byte at a time so nothing typed after it is swallowed.
 */
static void
shell_wait_release(void)
{
	ssize_t r;
	char c = 0;
	int n;

	for (n = 0; n < 80 && c != '\n'; n++) {
		do {
			r = read(STDIN_FILENO, &c, 1);
		} while (r == -1 && errno == EINTR);
		if (r != 1) {
			fprintf(stderr, "mosh-server: parent signal: %s\n",
			    r == 0 ? "end of file" : strerror(errno));
			_exit(1);
		}
	}
}

/* The pty child (protocol.md §9.4). Never returns. */
static void
server_shell(struct server *s)
{
	struct termios t;
	struct stat st;

	signal_set(SIGHUP, SIG_DFL);
	signal_set(SIGPIPE, SIG_DFL);
	closelog();
	net_close(&s->net);	/* this process's copy: the sockets */
	if (tcgetattr(STDIN_FILENO, &t) == -1) {
		perror("tcgetattr");
		_exit(1);
	}
	t.c_iflag |= IUTF8;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == -1) {
		perror("tcsetattr");
		_exit(1);
	}
	if (setenv("TERM", s->o.colors == 256 ? "xterm-256color" : "xterm",
	    1) == -1 || setenv("NCURSES_NO_UTF8_ACS", "1", 1) == -1 ||
	    unsetenv("STY") == -1) {
		perror("setenv");
		_exit(1);
	}
	shell_chdir_home();
	if (s->cmd.login && lstat(".hushlogin", &st) == -1) {
		if (print_file("/run/motd.dynamic") == -1) {
			print_file("/var/run/motd.dynamic");
		}
		print_file("/etc/motd");
	}
	shell_wait_release();
	setrlimit(RLIMIT_CORE, &s->core);
	execvp(s->cmd.path, s->cmd.argv);
	fprintf(stderr, "mosh-server: execvp: %s: %s\n", s->cmd.path,
	    strerror(errno));
	sleep(3);
	_exit(1);
}

/*
 * forkpty() with the initial size; the shell becomes the session leader of
 * the new pty. utmp: musl's utmpx functions do nothing and a static binary
 * has no libutempter, so no utmp entry is written (upstream: "mosh [pid]").
 */
static int
server_spawn(struct server *s)
{
	pid_t pid;

	if ((pid = forkpty(&s->master, NULL, NULL, &s->ws)) == -1) {
		perror("forkpty");
		return -1;
	}
	if (pid == 0) {
		server_shell(s);
	}
	s->shell = pid;
	fcntl(s->master, F_SETFD, FD_CLOEXEC);
	fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* ==== server: the main loop (protocol.md §9.5) ==== */

/*
 * Start the shutdown handshake, or leave at once if there is no client.
 * The last screen goes with it, so SSP's copy is brought up to date.
 */
static void
server_stop(struct server *s, uint64_t now)
{
	if (!s->net.has_peer) {
		s->done = 1;
	} else if (!ssp_shutdown_in_progress(&s->ssp)) {
		if (s->dirty && ssp_set_current(&s->ssp, &s->term) == 0) {
			s->dirty = 0;
		}
		ssp_start_shutdown(&s->ssp, now);
	}
}

/* The first client state releases the shell (protocol.md §9.4). */
static void
server_release(struct server *s)
{
	if (!s->released && write_all(s->master, "\n", 1) == 0) {
		s->released = 1;
	}
}

/* The send side SSP calls; the key running out ends the session. */
static int
server_send(void *arg, const uint8_t *p, size_t len)
{
	struct server *s = arg;
	int r = net_send(&s->net, p, len, s->now);

	if (r == -2) {
		s->fatal = 1;
	}
	return r < 0 ? -1 : 0;
}

static struct ssp_link
server_link(struct server *s, uint64_t now)
{
	s->now = now;
	return link_of(&s->net, server_send, s);
}

/* syslog the client's address when it first comes or roams. */
static void
server_log_peer(struct server *s)
{
	char host[64];

	if (getnameinfo((const struct sockaddr *)&s->net.peer.ss,
	    s->net.peer.len, host, sizeof host, NULL, 0, NI_NUMERICHOST) ||
	    strcmp(host, s->peer) == 0) {
		return;
	}
	snprintf(s->peer, sizeof s->peer, "%s", host);
	syslog(LOG_INFO, "user %s connected from host: %s", s->user, host);
}

/* One resize from the client (§8.4 step 2): the pty, then the emulator. */
static void
server_resize(struct server *s, int32_t w, int32_t h, uint64_t now)
{
	struct winsize ws;

	if (w < 1 || w > FB_MAX_COLS || h < 1 || h > FB_MAX_ROWS) {
		return;
	}
	memset(&ws, 0, sizeof ws);
	ws.ws_col = (unsigned short)w;
	ws.ws_row = (unsigned short)h;
	if (ioctl(s->master, TIOCSWINSZ, &ws) == -1) {
		server_stop(s, now);
		return;
	}
	vt_resize(&s->term.vt, w, h);
}

/* §8.3: remember that input of state num was written at now. */
static void
server_echo_register(struct server *s, uint64_t num, uint64_t now)
{
	if (s->necho == SERVER_ECHO_MAX) {
		memmove(s->echo_num, s->echo_num + 1,
		    (SERVER_ECHO_MAX - 1) * sizeof s->echo_num[0]);
		memmove(s->echo_t, s->echo_t + 1,
		    (SERVER_ECHO_MAX - 1) * sizeof s->echo_t[0]);
		s->necho--;
	}
	s->echo_num[s->necho] = num;
	s->echo_t[s->necho++] = now;
}

/* §8.3 set_echo_ack: 1 if the echo ack changed. */
static int
server_echo_ack(struct server *s, uint64_t now)
{
	uint64_t newest = 0;
	size_t i, j;

	for (i = 0; i < s->necho; i++) {
		if (s->echo_t[i] + ECHO_TIMEOUT_MS <= now) {
			newest = s->echo_num[i];
		}
	}
	for (i = j = 0; i < s->necho; i++) {
		if (s->echo_num[i] >= newest) {
			s->echo_num[j] = s->echo_num[i];
			s->echo_t[j++] = s->echo_t[i];
		}
	}
	s->necho = j;
	if (s->term.echo_ack == newest) {
		return 0;
	}
	s->term.echo_ack = newest;
	return 1;
}

/* The new user events of the newest client state (§8.4). */
static void
server_apply_input(struct server *s, uint64_t now)
{
	struct ssp_uev ev;
	size_t off = 0;
	uint8_t out[2];
	int any = 0;

	s->events->b.len = 0;
	if (ssp_user_take(&s->ssp, s->events) == -1) {
		return;
	}
	while (ssp_user_next(s->events, &off, &ev) == 1) {
		any = 1;
		if (ev.type == SSP_MSG_RESIZE && !ev.superseded) {
			server_resize(s, ev.w, ev.h, now);
		} else if (ev.type == SSP_MSG_KEYS) {
			buf_append(&s->topty, out,
			    vt_user_byte(&s->term.vt, ev.c, out));
		}
	}
	if (any) {
		server_echo_register(s, s->remote_num, now);
	}
	s->dirty = 1;
	s->has_client = 1;
	s->last_client = now;
	server_release(s);
	server_log_peer(s);
}

/*
 * -v: the drop counters of net.c, when their total reaches a power of two
 * (so a flood costs a few lines, not one per datagram on top of the
 * per-drop message) and once more at exit.
 */
static void
server_log_drops(const struct server *s, int always)
{
	const struct net_stats *st = &s->net.stats;
	uint64_t total = 0;
	int i;

	for (i = 0; i < NET_NDROP; i++) {
		total += st->drop[i];
	}
	if (!s->o.verbose || total == 0 ||
	    (!always && (total & (total - 1)) != 0)) {
		return;
	}
	fprintf(stderr, "Dropped datagrams: %llu (short %llu, oversize %llu, "
	    "auth %llu, direction %llu, plaintext %llu, recverr %llu); "
	    "old authentic: %llu\n", (unsigned long long)total,
	    (unsigned long long)st->drop[NET_DROP_SHORT],
	    (unsigned long long)st->drop[NET_DROP_OVERSIZE],
	    (unsigned long long)st->drop[NET_DROP_AUTH],
	    (unsigned long long)st->drop[NET_DROP_DIRECTION],
	    (unsigned long long)st->drop[NET_DROP_PLAINTEXT],
	    (unsigned long long)st->drop[NET_DROP_RECVERR],
	    (unsigned long long)st->rx_old);
}

/* One datagram from the socket. */
static void
server_read_net(struct server *s, uint64_t now)
{
	uint8_t payload[NET_MAX_PAYLOAD];
	size_t len;
	int r, why = -1;

	if ((r = net_recv(&s->net, now, payload, &len, &why)) != 1) {
		if (r == -1 && s->o.verbose && why >= 0) {
			fprintf(stderr, "%s%s\n", why == NET_DROP_RECVERR ||
			    why == NET_DROP_OVERSIZE ? "Network exception: " :
			    "Crypto exception: ", net_drop_text(why));
			server_log_drops(s, 0);
		}
		return;		/* counted by net.c */
	}
	if ((r = ssp_recv(&s->ssp, payload, len, now)) == SSP_EVERSION &&
	    s->o.verbose) {
		fputs("mosh protocol version mismatch\n", stderr);
	} else if (r == 1 && ssp_remote_num(&s->ssp) != s->remote_num) {
		s->remote_num = ssp_remote_num(&s->ssp);
		server_apply_input(s, now);
	}
	explicit_bzero(payload, len);
}

/*
 * Shell output into the emulator, read until the pty is empty or
 * SERVER_PTY_BUDGET bytes went through in this pass (then the socket and
 * the timers have their turn); EOF or error: shut down. Returns the bytes
 * read; *empty: whether the pty was found empty at the end.
 */
static size_t
server_read_pty(struct server *s, uint64_t now, int *empty)
{
	uint8_t buf[TTY_READ_MAX];
	size_t total = 0;
	ssize_t n;

	*empty = 0;
	while (total < SERVER_PTY_BUDGET) {
		n = read(s->master, buf, sizeof buf);
		if (n == -1 && errno == EAGAIN) {
			*empty = 1;
			break;
		}
		if (n == -1 && errno == EINTR) {
			break;
		}
		if (n <= 0) {
			server_stop(s, now);
			break;
		}
		vt_feed(&s->term.vt, buf, (size_t)n);
		s->dirty = 1;
		total += (size_t)n;
	}
	return total;
}

/*
 * Whether output just read is an interactive echo, to be sent without the
 * 8 ms batching wait: it came after the pty had been silent for
 * SERVER_ECHO_QUIET_MS, it is short, and nothing followed it (the pty was
 * empty after it). Bulk output fails the first test on every read but its
 * first, and is batched as upstream does.
 */
static int
server_is_echo(size_t got, int empty, uint64_t last, uint64_t now)
{
	return got > 0 && got <= SERVER_ECHO_BYTES && empty &&
	    now - last >= SERVER_ECHO_QUIET_MS;
}

/*
 * SSP's copy of the screen follows the emulator lazily, so that a burst
 * of output costs a copy per frame and not one per read: it is refreshed
 * when SSP does not know of a change yet (its batching clock starts at the
 * first one), when a send is due, and for an echo, which goes at once.
 */
static void
server_sync(struct server *s, uint64_t now, int echo)
{
	struct ssp_link l;

	if (!s->dirty || ssp_shutdown_in_progress(&s->ssp)) {
		return;
	}
	if (!echo && ssp_unsent(&s->ssp)) {
		l = server_link(s, now);
		if (ssp_wait(&s->ssp, &l, now) > 0) {
			return;
		}
	}
	if (ssp_set_current(&s->ssp, &s->term) == 0) {
		s->dirty = 0;
	}
	if (echo) {
		ssp_hurry(&s->ssp);
	}
}

/*
 * Emulator replies and translated keystrokes to the shell, as much as the
 * pty takes now; the rest waits for POLLOUT (upstream blocks instead).
 */
static void
server_write_pty(struct server *s, uint64_t now)
{
	struct buf *r = &s->term.vt.reply, *t = &s->topty;
	ssize_t n;

	/* Replies past the cap are dropped: the shell is not reading. */
	if (r->len > 0 && (t->len + r->len > SERVER_TOPTY_MAX ||
	    buf_append(t, r->p, r->len) == 0)) {
		r->len = 0;
	}
	if (t->len == 0) {
		return;
	}
	n = write(s->master, t->p, t->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;		/* the shell is not reading: keep it */
	}
	if (n == -1) {
		server_stop(s, now);
		t->len = 0;
		return;
	}
	memmove(t->p, t->p + n, t->len - (size_t)n);
	t->len -= (size_t)n;
}

/*
 * Test-only (MOSH_SERVER_DUMP=FILE, on SIGUSR2): the current frame as text,
 * written to FILE.tmp and renamed over FILE. Lines: "size W H", "cursor Y
 * X", then for each row "row Y |TEXT|" (an empty cell is a space, a wide
 * character stands for its two cells), "hidden Y X |TEXT|" for a cell
 * that a wide character covers but that is not a blank in its background
 * (terminal.md D23; TEXT is a space for a blank),
 * and, for each run of cells with a
 * rendition other than the default, "rend Y X0 X1 FG BG ATTR" (columns
 * X0..X1-1; colours and attributes as in struct fb_rend).
 */
static void
server_dump(const struct server *s)
{
	const struct fb *fb = &s->term.fb;
	static const struct fb_rend none;
	char tmp[PATH_MAX];
	const struct fb_cell *c;
	FILE *f;
	int y, x, x0;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", s->dump) >= (int)sizeof tmp ||
	    (f = fopen(tmp, "w")) == NULL) {
		return;
	}
	fprintf(f, "size %d %d\ncursor %d %d\n", fb->w, fb->h, fb->cy, fb->cx);
	for (y = 0; y < fb->h; y++) {
		fprintf(f, "row %d |", y);
		for (x = 0; x < fb->w; x++) {
			c = &fb->rows[y]->cells[x];
			if (c->len == 0) {
				fputc(' ', f);
				continue;
			}
			fwrite(c->c, 1, c->len, f);
			if (c->flags & FB_WIDE) {
				x++;
			}
		}
		fputs("|\n", f);
		for (x = 1; x < fb->w; x++) {
			c = &fb->rows[y]->cells[x];
			if ((c[-1].flags & FB_WIDE) && c[-1].len > 0 &&
			    (c->len > 0 || c->r.fg != 0 || c->r.attr != 0 ||
			    c->r.bg != c[-1].r.bg)) {
				fprintf(f, "hidden %d %d |", y, x);
				fwrite(c->len > 0 ? c->c : " ", 1,
				    c->len > 0 ? c->len : 1, f);
				fputs("|\n", f);
			}
		}
		for (x = 0; x < fb->w; x = x0) {
			c = &fb->rows[y]->cells[x];
			for (x0 = x + 1; x0 < fb->w && !memcmp(&c->r,
			    &fb->rows[y]->cells[x0].r, sizeof c->r); x0++) {
			}
			if (memcmp(&c->r, &none, sizeof none)) {
				fprintf(f, "rend %d %d %d %lu %lu %lu\n", y, x,
				    x0, (unsigned long)c->r.fg,
				    (unsigned long)c->r.bg,
				    (unsigned long)c->r.attr);
			}
		}
	}
	if (fclose(f) == 0) {
		rename(tmp, s->dump);
	}
}

/* Signals, idle limits and the ends of the loop. */
static void
server_events(struct server *s, uint64_t now)
{
	uint64_t idle = now - s->last_client;

	if (sig_usr1) {
		sig_usr1 = 0;
		if (s->sig_tmout == 0 ||
		    idle >= (uint64_t)s->sig_tmout * 1000) {
			fprintf(stderr, "Network idle for %llu seconds when "
			    "SIGUSR1 received\n",
			    (unsigned long long)idle / 1000);
			server_stop(s, now);
		}
	}
	if (sig_quit) {
		sig_quit = 0;
		server_stop(s, now);
	}
	if (sig_usr2) {
		sig_usr2 = 0;
		server_dump(s);
	}
	if (s->net_tmout && !ssp_shutdown_in_progress(&s->ssp) &&
	    idle >= (uint64_t)s->net_tmout * 1000) {
		fprintf(stderr, "Network idle for %llu seconds.\n",
		    (unsigned long long)idle / 1000);
		server_stop(s, now);
	}
	if (!s->has_client && now - s->start >= s->no_client_ms) {
		fprintf(stderr, "No connection within %llu seconds.\n",
		    (unsigned long long)s->no_client_ms / 1000);
		s->done = 1;
	}
	if ((ssp_shutdown_in_progress(&s->ssp) &&
	    (ssp_shutdown_acked(&s->ssp) ||
	    ssp_shutdown_timed_out(&s->ssp, now))) ||
	    ssp_counterparty_shutdown_ack_sent(&s->ssp) || s->fatal) {
		s->done = 1;
	}
}

/* Milliseconds until something is due; -1: nothing is. */
static int
server_wait_ms(struct server *s, uint64_t now)
{
	struct ssp_link l = server_link(s, now);
	uint64_t w = ssp_wait(&s->ssp, &l, now), due;

	if (s->necho >= 2) {
		due = s->echo_t[1] + ECHO_TIMEOUT_MS;
		w = MIN(w, due > now ? due - now : 0);
	}
	if (!s->has_client || ssp_shutdown_in_progress(&s->ssp)) {
		w = MIN(w, SERVER_IDLE_WAKE_MS);
	}
	if (s->net_tmout) {
		due = s->last_client + (uint64_t)s->net_tmout * 1000;
		w = MIN(w, due > now ? due - now : 0);
	}
	if (!s->has_client) {
		due = s->start + s->no_client_ms;
		w = MIN(w, due > now ? due - now : 0);
	}
	return w > INT_MAX ? -1 : (int)w;
}

/*
 * server_loop: one pass per event. Timing: the pass sleeps until the
 * earliest of the transport's next send (frame interval, delayed ack,
 * 3 s heartbeat), the echo-ack wake-up, the idle timeout, and a 5 s tick
 * while no client has come or a shutdown runs; it wakes at once for a
 * datagram, shell output, or SIGTERM/SIGINT/SIGUSR1. Only one datagram is
 * read per pass (as upstream), so timers run between datagrams; the pty is
 * read until it is empty or SERVER_PTY_BUDGET bytes went by. Changes wait
 * 8 ms for more (SSP's mindelay) and the frame interval, except an echo
 * after silence (server_is_echo), which goes within the pass. The pty is
 * not read during the shutdown. While more than SERVER_TOPTY_MAX bytes of
 * input wait for a shell that does not read, the socket is not read either
 * (upstream blocks in write() instead), so memory stays bounded.
 */
static int
server_loop(struct server *s)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGUSR2 };
	struct pollfd fds[2];
	struct ssp_link l;
	uint64_t now;
	size_t got;
	int empty, echo;

	/* SIGUSR2 keeps its default (fatal) action unless a dump is asked. */
	signals_catch(sigs, LEN(sigs) - (s->dump == NULL), &s->waitmask);
	s->start = s->last_client = now_ms();
	syslog(LOG_INFO, "user %s session begin", s->user);
	while (!s->done) {
		now = now_ms();
		fds[0].fd = s->net.nfds > 0 && s->topty.len < SERVER_TOPTY_MAX ?
		    s->net.fds[s->net.nfds - 1] : -1;
		fds[0].events = POLLIN;
		fds[1].fd = ssp_shutdown_in_progress(&s->ssp) ? -1 : s->master;
		fds[1].events = POLLIN | (s->topty.len > 0 ? POLLOUT : 0);
		if (poll_wait(fds, 2, server_wait_ms(s, now), &s->waitmask)) {
			perror("ppoll");
			break;
		}
		now = now_ms();
		if (fds[0].revents & POLLIN) {
			server_read_net(s, now);
		}
		echo = 0;
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			got = server_read_pty(s, now, &empty);
			echo = server_is_echo(got, empty, s->pty_last, now);
			if (got > 0) {
				s->pty_last = now;
			}
		}
		server_write_pty(s, now);
		server_events(s, now);
		if (server_echo_ack(s, now)) {
			s->dirty = 1;
		}
		server_sync(s, now, echo);
		l = server_link(s, now);
		ssp_tick(&s->ssp, &l, now);
	}
	syslog(LOG_INFO, "user %s session end", s->user);
	return 0;
}

/* The transport: our terminal states out, the client's user stream in. */
static int
server_ssp_init(struct server *s)
{
	struct ssp_cfg cfg;
	struct ssp_user *empty = ssp_user_new();
	int r;

	memset(&cfg, 0, sizeof cfg);
	cfg.mine = &term_ops;
	cfg.remote = &ssp_user_ops;
	cfg.mine_init = &s->term;
	cfg.remote_init = empty;
	cfg.mindelay = SSP_MINDELAY_SERVER;
	cfg.rand = chaff_random;
	cfg.fast_start = 1;	/* README: protocol notes */
	r = empty ? ssp_init(&s->ssp, &cfg, now_ms()) : -1;
	ssp_user_ops.free(empty);
	if (r == -1) {
		fputs("mosh-server: out of memory\n", stderr);
	}
	return r;
}

static void
server_user(char *out, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL) {
		snprintf(out, len, "%s", pw->pw_name);
	} else {
		snprintf(out, len, "%ld", (long)getuid());
	}
}

static int
server_main(const char *prog, int argc, char **argv)
{
	struct server s;
	char port[16], key[OCB_KEY_PRINTABLE_LEN + 1], line[64];
	int n;

	memset(&s, 0, sizeof s);
	s.master = -1;
	core_off(&s.core);
	s.o.prog = prog;
	if ((s.o.lvars = calloc((size_t)argc + 1, sizeof *s.o.lvars)) == NULL) {
		perror("calloc");
		return 1;
	}
	server_parse(argc, argv, &s.o);
	/* Tagged with argv[0] as upstream; "mosh server" has no such name. */
	openlog(strchr(prog, ' ') ? "mosh-server" : prog,
	    LOG_PID | LOG_NDELAY, LOG_AUTH);
	server_user(s.user, sizeof s.user);
	server_command(&s.o, &s.cmd);
	locale_for_child(s.o.lvars, s.o.nl);
	s.net_tmout = server_env_seconds("MOSH_SERVER_NETWORK_TMOUT");
	s.sig_tmout = server_env_seconds("MOSH_SERVER_SIGNAL_TMOUT");
	/*
	 * Test-only, not in upstream: MOSH_SERVER_NO_CLIENT_TMOUT=N shortens
	 * the wait for a first client (default 60 s); 0 or unset: default.
	 */
	s.no_client_ms = (uint64_t)server_env_seconds(
	    "MOSH_SERVER_NO_CLIENT_TMOUT") * 1000;
	if (s.no_client_ms == 0) {
		s.no_client_ms = SERVER_NO_CLIENT_MS;
	}
	if ((s.dump = getenv("MOSH_SERVER_DUMP")) != NULL && *s.dump == '\0') {
		s.dump = NULL;
	}
	server_winsize(&s.ws);
	if (term_init(&s.term, MIN(s.ws.ws_col, FB_MAX_COLS),
	    MIN(s.ws.ws_row, FB_MAX_ROWS)) == -1 ||
	    (s.events = ssp_user_new()) == NULL) {
		fputs("mosh-server: out of memory\n", stderr);
		return 1;
	}
	/* Alternate screen and DEC graphics: frames only, any client. */
	s.term.vt.server_ext = 1;
	if (server_net_open(&s, port, sizeof port, key) == -1 ||
	    server_ssp_init(&s) == -1) {
		return 1;
	}
	if (isatty(STDIN_FILENO)) {
		fputs("\r\n\n", stdout);	/* typed-ahead echo guard */
	}
	/* Past stdio: its buffer would keep the key for the whole session. */
	n = snprintf(line, sizeof line, "MOSH CONNECT %s %s\n", port, key);
	fflush(stdout);
	if (n > 0 && (size_t)n < sizeof line) {
		write_all(STDOUT_FILENO, line, (size_t)n);
	}
	explicit_bzero(line, sizeof line);
	explicit_bzero(key, sizeof key);
	signal_set(SIGHUP, SIG_IGN);
	signal_set(SIGPIPE, SIG_IGN);
	server_detach(&s);
	if (server_spawn(&s) == -1) {
		return 1;
	}
	server_loop(&s);
	server_log_drops(&s, 1);
	close(s.master);
	net_close(&s.net);
	ssp_free(&s.ssp);
	term_release(&s.term);
	ssp_user_ops.free(s.events);
	buf_free(&s.topty);
	fputs("\n[mosh-server is exiting.]\n", stdout);
	return 0;
}

/* ==== client: command line and environment (protocol.md §10.1) ==== */

#define CLIENT_MAX_FDS 11		/* stdin and the net module's sockets */

struct client {
	const char *prog, *ip, *port;
	unsigned verbose;
	enum pred_mode predict;
	int overwrite;			/* MOSH_PREDICTION_OVERWRITE=yes */
	int title_prefix, term_init;
	struct fb_caps caps;		/* of the local terminal */
	struct escape esc;
	struct tinfo ti;
	uint8_t key[OCB_KEY_LEN];
	char *key_in;			/* from the front end, else NULL */
	char open_s[TI_STR_MAX + 8];	/* smcup, CSI ?1h */
	char close_s[TI_STR_MAX + 96];	/* terminal.md §11, then rmcup */
	struct termios saved, raw;
	int tty_ok;			/* saved is valid, raw is applied */
	struct winsize ws;
	int quit_started, lf_entered;	/* escape key state */
	int tty_eof;			/* stdin ended: stop polling it */
	int repaint;			/* the next frame is a full redraw */
	int heard, shutdown, clean, done;
	int net_ok;			/* net is set up (net_close needed) */
	uint64_t start, shutdown_start;
	char error[300];		/* printed after the terminal is back */
	sigset_t waitmask;
	struct net net;
	struct pred pred;
	struct pred_notify note;
	int fb_ok;			/* drawn, pred and note are set up */
	struct fb drawn;		/* what the terminal shows */
	struct buf out;			/* one frame of output */
	struct ssp ssp;			/* user stream out, terminal in */
	int ssp_ok;
	uint64_t now;			/* for the send callback */
};

static void
client_print_colors(void)
{
	struct tinfo ti;

	ti_load(getenv("TERM"), &ti);
	printf("%ld\n", ti.colors);
	exit(0);
}

/* protocol.md §10.1; exits on --help, --version, -c and errors. */
static void
client_parse(int argc, char **argv, struct client *c)
{
	const char *ops[3];
	struct opt op;
	int i, n = 0, ch;
	long port;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			client_usage(stdout, c->prog);
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0) {
			print_version(stdout, "mosh-client");
			exit(0);
		}
	}
	memset(&op, 0, sizeof op);
	while ((ch = opt_next(&op, argc, argv, "#:cv")) != -1) {
		if (ch == 1 && n < 3) {
			ops[n++] = op.arg;
		} else if (ch == 'c') {
			client_print_colors();
		} else if (ch == 'v') {
			c->verbose++;
		} else if (ch != '#' && ch != 1) {
			client_usage(stderr, c->prog);
			exit(1);
		}
	}
	if (n != 2) {
		client_usage(stderr, c->prog);
		exit(1);
	}
	c->ip = ops[0];
	c->port = ops[1];
	/* Upstream checks the digits only; 0, "" and > 65535 fail later. */
	port = strtol(c->port, NULL, 10);
	if (strspn(c->port, "0123456789") != strlen(c->port) ||
	    strlen(c->port) > 5 || port < 1 || port > 65535) {
		fprintf(stderr, "%s: Bad UDP port (%s)\n\n", c->prog, c->port);
		client_usage(stderr, c->prog);
		exit(1);
	}
}

/*
 * MOSH_KEY is copied, its bytes in the environment block are wiped (so
 * /proc/PID/environ no longer shows it) and it is unset, right after the
 * prediction variables were read, as upstream.
 */
static void
client_env(struct client *c, char *keytext, size_t keylen)
{
	static const char *const titled[] = {
		"xterm", "rxvt", "kterm", "Eterm", "alacritty", "screen", "tmux"
	};
	char *k = c->key_in != NULL ? c->key_in : getenv("MOSH_KEY");
	const char *pm, *po, *term = getenv("TERM");
	size_t i;

	if (k == NULL) {
		fputs("MOSH_KEY environment variable not found.\n", stderr);
		exit(1);
	}
	pm = getenv("MOSH_PREDICTION_DISPLAY");
	po = getenv("MOSH_PREDICTION_OVERWRITE");
	snprintf(keytext, keylen, "%s", k);
	explicit_bzero(k, strlen(k));
	if (unsetenv("MOSH_KEY") == -1) {
		perror("unsetenv");
		exit(1);
	}
	if (pred_parse_mode(pm, &c->predict) == -1) {
		fprintf(stderr, "Unknown prediction mode %s.\n", pm);
		exit(1);
	}
	c->overwrite = po != NULL && strcmp(po, "yes") == 0;
	c->title_prefix = getenv("MOSH_TITLE_NOPREFIX") == NULL;
	c->term_init = getenv("MOSH_NO_TERM_INIT") == NULL;
	escape_config(getenv("MOSH_ESCAPE_KEY"), &c->esc);
	ti_load(term, &c->ti);
	c->caps.ech = c->ti.ech;
	c->caps.bce = c->ti.bce;
	for (i = 0; term != NULL && i < LEN(titled); i++) {
		if (strncmp(term, titled[i], strlen(titled[i])) == 0) {
			c->caps.title = 1;
		}
	}
}

/* The IP must be numeric (the front end or the user resolved it). */
static int
client_check_ip(const struct client *c)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, c->ip, a) == 1 ||
	    inet_pton(AF_INET6, c->ip, a) == 1) {
		return 0;
	}
	fprintf(stderr, "Network exception: Bad IP address (%s): Name or "
	    "service not known\r\n", c->ip);
	return -1;
}

/* The printable key; upstream's "Crypto exception: ..." if it is bad. */
static int
client_parse_key(struct client *c, const char *text)
{
	const char *err = "bad key";

	if (ocb_key_parse(text, c->key, &err) == -1) {
		fprintf(stderr, "Crypto exception: %s\r\n", err);
		return -1;
	}
	return 0;
}

/* The socket to ip:port; the key moves into net (and is wiped here). */
static int
client_net_open(struct client *c, uint64_t now)
{
	int r = net_init(&c->net, 0, c->key);

	explicit_bzero(c->key, sizeof c->key);
	if (r == -1) {
		snprintf(c->error, sizeof c->error, "Crypto exception: "
		    "cannot set up the key");
		return -1;
	}
	c->net_ok = 1;
	if (net_connect(&c->net, c->ip, c->port, now) == -1) {
		snprintf(c->error, sizeof c->error, "Network exception: %s",
		    c->net.error);
		return -1;
	}
	return 0;
}

/* ==== client: the local terminal (terminal.md §11) ==== */

static void
client_term_strings(struct client *c)
{
	int init = c->term_init;

	snprintf(c->open_s, sizeof c->open_s, "%s\033[?1h",
	    init && c->ti.has_smcup ? c->ti.smcup : "");
	snprintf(c->close_s, sizeof c->close_s, "\033[?1l\033[0m\033[?25h"
	    "\033[?1003l\033[?1002l\033[?1001l\033[?1000l"
	    "\033[?1015l\033[?1006l\033[?1005l\033[?2004l\033[?1004l%s",
	    init && c->ti.has_rmcup ? c->ti.rmcup : "");
}

/* Save the termios, enter raw mode, send the open string. */
static void
client_term_init(struct client *c)
{
	if (tcgetattr(STDIN_FILENO, &c->saved) == -1) {
		perror("tcgetattr");
		exit(1);
	}
	c->raw = c->saved;
	c->raw.c_iflag |= IUTF8;
	cfmakeraw(&c->raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &c->raw) == -1) {
		perror("tcsetattr");
		exit(1);
	}
	c->tty_ok = 1;
	client_term_strings(c);
	write_str(STDOUT_FILENO, c->open_s);
}

static void
client_winsize(struct client *c)
{
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &c->ws) == -1 ||
	    c->ws.ws_col == 0 || c->ws.ws_row == 0) {
		c->ws.ws_col = 80;
		c->ws.ws_row = 24;
	}
	c->ws.ws_col = MIN(c->ws.ws_col, FB_MAX_COLS);
	c->ws.ws_row = MIN(c->ws.ws_row, FB_MAX_ROWS);
}

/* After SIGCONT or a suspend: raw mode, open string, full repaint. */
static void
client_resume(struct client *c)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &c->raw);
	write_str(STDOUT_FILENO, c->open_s);
	c->repaint = 1;
}

/* Escape key, then Ctrl-Z. */
static void
client_suspend(struct client *c)
{
	write_str(STDOUT_FILENO, c->close_s);
	tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	write_str(STDOUT_FILENO, "\n\033[37;44m[mosh is suspended.]\033[m\n");
	kill(0, SIGSTOP);
	sig_cont = 0;
	client_resume(c);
}

/*
 * The newest server frame with the overlays (prediction.md §1 step 1), as
 * one write. Out of memory: this frame is skipped, the next one repaints.
 */
static void
client_draw(struct client *c, uint64_t now)
{
	struct fb new;

	if (!c->ssp_ok) {
		return;
	}
	if (fb_copy(&new, &((const struct term_state *)
	    ssp_remote(&c->ssp))->fb) == -1) {
		c->repaint = 1;
		return;
	}
	pred_cull(&c->pred, &new, now);
	pred_apply(&c->pred, &new, now);
	pred_notify_expire(&c->note, now);
	pred_notify_apply(&c->note, &new, now);
	if (c->title_prefix) {
		pred_title_apply(&new, "[mosh] ");
	}
	c->out.len = 0;
	if (fb_diff(&c->drawn, &new, !c->repaint, &c->caps, &c->out) == -1) {
		fb_free(&new);
		c->repaint = 1;
		return;
	}
	write_all(STDOUT_FILENO, c->out.p, c->out.len);
	fb_free(&c->drawn);
	c->drawn = new;
	c->repaint = 0;
}

/* The frames, the engine and the bar, for a w x h window. */
static int
client_screen_init(struct client *c, uint64_t now)
{
	if (fb_init(&c->drawn, c->ws.ws_col, c->ws.ws_row) == -1) {
		return -1;
	}
	c->fb_ok = 1;
	pred_init(&c->pred);
	pred_set_mode(&c->pred, c->predict, c->overwrite);
	pred_notify_init(&c->note, c->esc.key >= 0 ? c->esc.name : NULL, now);
	return 0;
}

/*
 * The one way out once the terminal is raw: the last frame, the close
 * string, the saved termios, then the messages of protocol.md §10.3 item 4.
 * Returns the exit status.
 */
static int
client_finish(struct client *c)
{
	if (c->tty_ok) {
		if (c->fb_ok) {
			uint64_t now = now_ms();

			pred_notify_set(&c->note, "", 0, 1, now);
			pred_notify_heard(&c->note, now);
			c->title_prefix = 0;
			client_draw(c, now);
		}
		write_str(STDOUT_FILENO, c->close_s);
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
		c->tty_ok = 0;
		if (c->error[0] != '\0') {
			fprintf(stderr, "%s\r\n", c->error);
		} else if (!c->heard) {
			fprintf(stderr, "\nmosh did not make a successful "
			    "connection to %s:%s.\n"
			    "Please verify that UDP port %s is not firewalled "
			    "and can reach the server.\n\n"
			    "(By default, mosh uses a UDP port between 60000 "
			    "and 61000. The -p option\n"
			    "selects a specific UDP port number.)\n",
			    c->ip, c->port, c->port);
		} else if (!c->clean) {
			fputs("\n\nmosh did not shut down cleanly. Please note "
			    "that the\nmosh-server process may still be "
			    "running on the server.\n", stderr);
		}
	}
	explicit_bzero(c->key, sizeof c->key);
	if (c->net_ok) {
		net_close(&c->net);
	}
	if (c->ssp_ok) {
		ssp_free(&c->ssp);
	}
	if (c->fb_ok) {
		pred_free(&c->pred);
		fb_free(&c->drawn);
		buf_free(&c->out);
	}
	printf("[mosh is exiting.]\n");
	return c->clean ? 0 : 1;
}

/* ==== client: the main loop (protocol.md §10.3, prediction.md §1) ==== */

/* A message in the bar, with the quit hint unless it is the help text. */
static void
client_note(struct client *c, const char *text, int permanent, uint64_t now)
{
	pred_notify_set(&c->note, text, permanent,
	    strcmp(text, c->esc.help) != 0, now);
}

static int
client_noting(const struct client *c, const char *text)
{
	return strcmp(pred_notify_message(&c->note), text) == 0;
}

static void
client_start_shutdown(struct client *c, uint64_t now)
{
	if (!c->shutdown) {
		c->shutdown = 1;
		c->shutdown_start = now;
		if (c->ssp_ok) {
			ssp_start_shutdown(&c->ssp, now);
		}
	}
}

/* EOF on the terminal or a signal: the client always has a peer. */
static void
client_stop(struct client *c, const char *why, uint64_t now)
{
	if (!c->shutdown) {
		client_note(c, why, 1, now);
		client_start_shutdown(c, now);
	}
}

/* One byte for the server. */
static void
client_send(struct client *c, uint8_t b)
{
	if (c->ssp_ok && !c->shutdown) {
		ssp_user_push_bytes(ssp_current(&c->ssp), &b, 1);
	}
}

/* The escape-key logic of prediction.md §10 for one typed byte. */
static void
client_key(struct client *c, uint8_t b, uint64_t now)
{
	const struct escape *e = &c->esc;

	if (c->quit_started) {
		c->quit_started = 0;
		if (client_noting(c, e->help)) {
			client_note(c, "", 0, now);
		}
		if (b == '.') {
			client_note(c, "Exiting on user request...", 1, now);
			client_start_shutdown(c, now);
		} else if (b == 0x1A) {
			client_suspend(c);
		} else if (b == e->pass || b == e->pass2) {
			client_send(c, (uint8_t)e->key);
		} else {
			client_send(c, (uint8_t)e->key);
			client_send(c, b);
		}
		return;
	}
	if (e->key >= 0 && b == e->key && (c->lf_entered || !e->requires_lf)) {
		c->quit_started = 1;
		c->lf_entered = 0;
		client_note(c, e->help, 1, now);
		return;
	}
	c->lf_entered = b == '\n' || b == '\r';
	if (b == 0x0C) {
		c->repaint = 1;
	}
	client_send(c, b);
}

/* One read of the keyboard (at most TTY_READ_MAX bytes). */
static void
client_read_tty(struct client *c, uint64_t now)
{
	uint8_t buf[TTY_READ_MAX];
	ssize_t n, i;

	n = read(STDIN_FILENO, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN)) {
		return;
	}
	if (n <= 0) {
		c->tty_eof = 1;
		client_stop(c, "Exiting...", now);
		return;
	}
	if (c->ssp_ok) {
		pred_set_sent(&c->pred, ssp_sent_num(&c->ssp));
	}
	if (n > PRED_PASTE_BYTES) {
		pred_paste(&c->pred);
	}
	for (i = 0; i < n && !c->shutdown; i++) {
		if (n <= PRED_PASTE_BYTES) {
			pred_user_byte(&c->pred, buf[i], &c->drawn, now);
		}
		client_key(c, buf[i], now);
	}
	/* Typing goes out without the 1 ms wait; a paste is batched. */
	if (c->ssp_ok && !c->shutdown && n <= PRED_PASTE_BYTES) {
		ssp_hurry(&c->ssp);
	}
}

/*
 * A datagram the network layer dropped (counted there): shown in the bar
 * as upstream does, as a network error or a "Crypto exception".
 */
static void
client_dropped(struct client *c, int why, uint64_t now)
{
	char msg[128];

	if (c->shutdown) {
		return;
	}
	if (why == NET_DROP_RECVERR || why == NET_DROP_OVERSIZE) {
		pred_notify_net_error(&c->note, net_drop_text(why), now);
	} else if (why >= 0) {
		snprintf(msg, sizeof msg, "Crypto exception: %s",
		    net_drop_text(why));
		client_note(c, msg, 0, now);
	}
}

/* One datagram from whichever socket was readable. */
static void
client_read_net(struct client *c, uint64_t now)
{
	const struct ssp *p = &c->ssp;
	uint8_t payload[NET_MAX_PAYLOAD];
	size_t len;
	int r, why = -1;

	if ((r = net_recv(&c->net, now, payload, &len, &why)) != 1) {
		if (r == -1) {
			client_dropped(c, why, now);
		}
		return;
	}
	if ((r = ssp_recv(&c->ssp, payload, len, now)) == SSP_EVERSION &&
	    !c->shutdown) {
		pred_notify_net_error(&c->note, "mosh protocol version "
		    "mismatch", now);
	} else if (r == 1) {
		c->net.last_roundtrip_success = ssp_acked_ts(p);
		c->heard |= ssp_remote_num(p) != 0;
		if (p->nrecv > 0) {
			pred_notify_heard(&c->note, p->recv[p->nrecv - 1].ts);
		}
		pred_notify_acked(&c->note, ssp_acked_ts(p));
		pred_set_net(&c->pred, ssp_acked_num(p),
		    ((const struct term_state *)ssp_remote(p))->echo_ack,
		    (unsigned)net_send_interval(&c->net));
	}
	explicit_bzero(payload, len);
}

static void
client_resize(struct client *c)
{
	client_winsize(c);
	if (c->ssp_ok && !c->shutdown) {
		ssp_user_push_resize(ssp_current(&c->ssp), c->ws.ws_col,
		    c->ws.ws_row);
	}
	pred_reset(&c->pred);
}

static void
client_signals(struct client *c, uint64_t now)
{
	if (sig_winch) {
		sig_winch = 0;
		client_resize(c);
	}
	if (sig_cont) {
		sig_cont = 0;
		client_resume(c);
	}
	if (sig_quit) {
		sig_quit = 0;
		client_stop(c, "Signal received, shutting down...", now);
	}
}

/* Connection notices and the ends of the loop. */
static void
client_timers(struct client *c, uint64_t now)
{
	char msg[96], diag[128];

	if ((c->shutdown && ssp_shutdown_acked(&c->ssp)) ||
	    ssp_counterparty_shutdown_ack_sent(&c->ssp)) {
		c->clean = c->done = 1;
	} else if (c->shutdown && ssp_shutdown_timed_out(&c->ssp, now)) {
		c->done = 1;
	}
	snprintf(msg, sizeof msg, "Nothing received from server on UDP port "
	    "%s.", c->port);
	/* Past CLIENT_DIAG_MS, say what is most likely wrong (not upstream). */
	snprintf(diag, sizeof diag, "No reply on UDP port %s: a firewall may "
	    "be blocking UDP 60001-60999", c->port);
	if (!c->heard && !c->shutdown && now - c->start > CLIENT_NOTICE_MS) {
		if (now - c->start > CLIENT_GIVE_UP_MS) {
			client_note(c, "Timed out waiting for server...", 1,
			    now);
			client_start_shutdown(c, now);
		} else {
			client_note(c, now - c->start > CLIENT_DIAG_MS ?
			    diag : msg, 0, now);
		}
	} else if (c->heard && (client_noting(c, msg) ||
	    client_noting(c, diag))) {
		client_note(c, "", 0, now);
	}
}

/* The send side SSP calls. */
static int
client_send_dgram(void *arg, const uint8_t *p, size_t len)
{
	struct client *c = arg;
	int r = net_send(&c->net, p, len, c->now);

	if (r == -2) {
		snprintf(c->error, sizeof c->error, "Crypto exception: the "
		    "session key is used up");
		c->done = 1;
	}
	return r < 0 ? -1 : 0;
}

static struct ssp_link
client_link(struct client *c, uint64_t now)
{
	c->now = now;
	return link_of(&c->net, client_send_dgram, c);
}

/* The timers of SSP; a send error shows in the bar (§10.3 item 3). */
static void
client_tick(struct client *c, uint64_t now)
{
	struct ssp_link l = client_link(c, now);

	ssp_tick(&c->ssp, &l, now);
	if (c->net.send_error[0] != '\0') {
		if (!c->shutdown) {
			pred_notify_net_error(&c->note, c->net.send_error, now);
		}
		c->net.send_error[0] = '\0';
	} else {
		pred_notify_net_ok(&c->note, now);
	}
}

static int
client_wait_ms(struct client *c, uint64_t now)
{
	struct ssp_link l = client_link(c, now);
	uint64_t w = ssp_wait(&c->ssp, &l, now);

	w = MIN(w, (uint64_t)pred_wait_ms(&c->pred, now));
	w = MIN(w, (uint64_t)pred_notify_wait_ms(&c->note, now));
	if (!c->heard) {
		w = MIN(w, CLIENT_NOTICE_MS);
	}
	return w > INT_MAX ? -1 : (int)w;
}

/*
 * client_loop: one pass per event. Timing: draw first, then sleep until the
 * earliest of the transport's next send (typing at once, 1 ms after a
 * pasted chunk or a resize, both within the frame interval; the 3 s
 * heartbeat), the overlays' next change (50 ms while a
 * prediction can still be judged late, 1 s while the "Last contact" count
 * runs), and 250 ms while no server state has arrived; wake at once for a
 * keystroke, a datagram or a signal. One datagram per pass, as upstream.
 */
static int
client_loop(struct client *c)
{
	struct pollfd fds[CLIENT_MAX_FDS];
	nfds_t n, i;
	uint64_t now;

	c->start = now_ms();
	while (!c->done) {
		now = now_ms();
		client_draw(c, now);
		fds[0].fd = c->tty_eof ? -1 : STDIN_FILENO;
		fds[0].events = POLLIN;
		n = 1;
		for (i = 0; (int)i < c->net.nfds && n < CLIENT_MAX_FDS; i++) {
			fds[n].fd = c->net.fds[i];
			fds[n++].events = POLLIN;
		}
		if (poll_wait(fds, n, client_wait_ms(c, now), &c->waitmask)) {
			return -1;
		}
		now = now_ms();
		for (i = 1; i < n; i++) {
			if (fds[i].revents & POLLIN) {
				client_read_net(c, now);
				break;
			}
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			client_read_tty(c, now);
		}
		client_signals(c, now);
		client_timers(c, now);
		client_tick(c, now);
	}
	return 0;
}

/*
 * The transport: our user stream out (its first event the window size),
 * the server's terminal in, starting from a blank one of our size.
 */
static int
client_ssp_init(struct client *c, uint64_t now)
{
	struct ssp_cfg cfg;
	struct ssp_user *empty = ssp_user_new();
	struct term_state blank;
	int r = -1;

	if (empty == NULL) {
		goto out;
	}
	if (term_init(&blank, c->ws.ws_col, c->ws.ws_row) == -1) {
		goto out;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.mine = &ssp_user_ops;
	cfg.remote = &term_ops;
	cfg.mine_init = empty;
	cfg.remote_init = &blank;
	cfg.mindelay = SSP_MINDELAY_CLIENT;
	cfg.rand = chaff_random;
	cfg.fast_start = 1;	/* README: protocol notes */
	r = ssp_init(&c->ssp, &cfg, now);
	term_release(&blank);
	if (r == 0) {
		c->ssp_ok = 1;
		ssp_user_push_resize(ssp_current(&c->ssp), c->ws.ws_col,
		    c->ws.ws_row);
	}
out:
	ssp_user_ops.free(empty);
	if (r == -1) {
		snprintf(c->error, sizeof c->error, "Error: out of memory");
	}
	return r;
}

/*
 * key: the printable key when the front end started us in this process
 * (copied, then wiped), or NULL to take MOSH_KEY from the environment.
 */
static int
client_run(const char *prog, int argc, char **argv, char *key)
{
	static const int sigs[] = {
		SIGWINCH, SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCONT
	};
	struct client c;
	struct rlimit core;
	char keytext[256];
	int r;

	memset(&c, 0, sizeof c);
	core_off(&core);
	c.prog = prog;
	c.key_in = key;
	client_parse(argc, argv, &c);
	client_env(&c, keytext, sizeof keytext);
	/* Upstream checks the address and the key after entering raw mode. */
	r = client_check_ip(&c) == -1 ? -1 : client_parse_key(&c, keytext);
	explicit_bzero(keytext, sizeof keytext);
	if (r == -1) {
		return client_finish(&c);
	}
	signals_catch(sigs, LEN(sigs), &c.waitmask);
	client_term_init(&c);
	client_winsize(&c);
	if (client_screen_init(&c, now_ms()) == -1) {
		snprintf(c.error, sizeof c.error, "Error: out of memory");
		return client_finish(&c);
	}
	if (client_net_open(&c, now_ms()) == -1 ||
	    client_ssp_init(&c, now_ms()) == -1) {
		return client_finish(&c);
	}
	c.repaint = 1;
	if (client_loop(&c) == -1) {
		perror("ppoll");
	}
	return client_finish(&c);
}

static int
client_main(const char *prog, int argc, char **argv)
{
	return client_run(prog, argc, argv, NULL);
}

/* ==== bootstrap: mosh [options] [user@]host [command] (§11) ==== */

/*
 * The front end replaces upstream's Perl wrapper: same options, same ssh
 * command line, same parsing of the server's output, then it becomes the
 * client in this process with the key handed over in memory (never in argv
 * or the environment). Upstream's messages and exit codes are kept where
 * users or scripts see them: the wrapper's own failures exit 255 (Perl's
 * die), the client's status is ours otherwise.
 *
 * Beyond upstream, a remote without mosh-server gets this very binary
 * (boot_install): one ssh run, no pty, whose remote command is a short
 * POSIX sh script that checks `uname -sm`, looks for a cached copy in
 * ~/.cache/mosh (or $XDG_CACHE_HOME/mosh) under a name made of our version
 * and the first 16 hex digits of our SHA-256, and says on stdout either
 *   MOSH INSTALL HAVE <tool>     the cached copy verified: nothing is sent
 *   MOSH INSTALL SEND <tool>     send the binary: we write it to ssh's
 *                                stdin and close it; EOF ends the file
 *   MOSH INSTALL ARCH <uname>    this binary cannot run there
 *   MOSH INSTALL FAIL <why>      anything else that went wrong
 * then (HAVE, or SEND once the copy verified and was renamed into place)
 * execs the cached copy as `<file> server new ...`, whose MOSH CONNECT line
 * we read as usual. <tool> is sha256sum, shasum, openssl, or "size" when
 * none of them exists (then only the length is compared).
 */

#define BOOT_DIE 255			/* upstream's wrapper dies (Perl) */
#define BOOT_LINE_MAX 4096		/* one line of the ssh output */
#define BOOT_SELF_MAX (64L << 20)	/* the binary we would upload */
#define BOOT_ARGS_MAX 256		/* words of the ssh command line */

#if defined(__linux__)
#define BOOT_OS "Linux"
#else
#define BOOT_OS ""
#endif
#if defined(__x86_64__)
#define BOOT_ARCH "x86_64"
#elif defined(__aarch64__)
#define BOOT_ARCH "aarch64"
#elif defined(__i386__)
#define BOOT_ARCH "i[3-6]86"
#elif defined(__arm__)
#define BOOT_ARCH "arm*"
#elif defined(__riscv) && __riscv_xlen == 64
#define BOOT_ARCH "riscv64"
#else
#define BOOT_ARCH ""
#endif

struct boot {
	const char *prog;
	const char *client, *server, *predict, *family, *port, *bind;
	const char *remote_ip, *ssh;
	int ssh_pty, init, local, fake_proxy, overwrite, install, verbose;
	int help, version, server_given, predict_env;
	char **ops;			/* operands: [user@]host, command */
	int nops;
	char cmdline[1024];		/* "-# <our arguments> |" */
	char self[PATH_MAX];		/* this program, for ProxyCommand */
	long colors;
	char ip[256], udp[16], key[64];
	int have_ip, have_connect, bad_port_seen, fallback;
};

/* Getopt::Long's view of upstream's options: '!' ones also take no-. */
enum { BO_FLAG, BO_NEG, BO_VAL };

struct boot_optdef {
	const char *name;
	int kind, id;
};

static const struct boot_optdef boot_opts[] = {
	{ "client", BO_VAL, 'C' }, { "server", BO_VAL, 'S' },
	{ "predict", BO_VAL, 'P' }, { "predict-overwrite", BO_NEG, 'o' },
	{ "o", BO_NEG, 'o' }, { "port", BO_VAL, 'p' }, { "p", BO_VAL, 'p' },
	{ "a", BO_FLAG, 'a' }, { "n", BO_FLAG, 'n' },
	{ "family", BO_VAL, 'f' }, { "4", BO_FLAG, '4' },
	{ "6", BO_FLAG, '6' }, { "ssh", BO_VAL, 's' },
	{ "ssh-pty", BO_NEG, 't' }, { "init", BO_NEG, 'i' },
	{ "local", BO_FLAG, 'l' }, { "help", BO_FLAG, 'h' },
	{ "version", BO_FLAG, 'V' }, { "fake-proxy", BO_NEG, 'F' },
	{ "bind-server", BO_VAL, 'b' },
	{ "experimental-remote-ip", BO_VAL, 'r' },
	{ "install", BO_FLAG, 'I' }, { "verbose", BO_FLAG, 'v' },
	{ "v", BO_FLAG, 'v' }
};

static void
boot_usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [options] [--] [user@]host [command...]\n"
	    "        --client=PATH        mosh client on local machine\n"
	    "                                (default: this program)\n"
	    "        --server=COMMAND     mosh server on remote machine\n"
	    "                                (default: \"mosh-server\", "
	    "else this program,\n"
	    "                                 copied over ssh)\n"
	    "\n"
	    "        --predict=adaptive      local echo for slower links "
	    "[default]\n"
	    "-a      --predict=always        use local echo even on fast "
	    "links\n"
	    "-n      --predict=never         never use local echo\n"
	    "        --predict=experimental  aggressively echo even when "
	    "incorrect\n"
	    "\n"
	    "-o      --predict-overwrite     prediction overwrites instead "
	    "of inserting\n"
	    "\n"
	    "-4      --family=inet        use IPv4 only\n"
	    "-6      --family=inet6       use IPv6 only\n"
	    "        --family=auto        autodetect network type for "
	    "single-family hosts only\n"
	    "        --family=all         try all network types\n"
	    "        --family=prefer-inet use all network types, but try "
	    "IPv4 first [default]\n"
	    "        --family=prefer-inet6 use all network types, but try "
	    "IPv6 first\n"
	    "-p PORT[:PORT2]\n"
	    "        --port=PORT[:PORT2]  server-side UDP port or range\n"
	    "                                (No effect on server-side SSH "
	    "port)\n"
	    "        --bind-server={ssh|any|IP}  ask the server to reply "
	    "from an IP address\n"
	    "                                       (default: \"ssh\")\n"
	    "\n"
	    "        --ssh=COMMAND        ssh command to run when setting up "
	    "session\n"
	    "                                (example: \"ssh -p 2222\")\n"
	    "                                (default: \"ssh\")\n"
	    "\n"
	    "        --no-ssh-pty         do not allocate a pseudo tty on ssh "
	    "connection\n"
	    "\n"
	    "        --no-init            do not send terminal initialization "
	    "string\n"
	    "\n"
	    "        --local              run mosh-server locally without "
	    "using ssh\n"
	    "\n"
	    "        --experimental-remote-ip=(local|remote|proxy)  select "
	    "the method for\n"
	    "                             discovering the remote IP address "
	    "to use for mosh\n"
	    "                             (default: \"proxy\")\n"
	    "\n"
	    "        --install            copy this program to the server "
	    "and run it there\n"
	    "                             (done by itself when the server "
	    "has no mosh-server)\n"
	    "-v      --verbose            say what the bootstrap does\n"
	    "\n"
	    "        --help               this message\n"
	    "        --version            version and copyright "
	    "information\n"
	    "\n"
	    "Also: %s server new [ARGS] is mosh-server, %s client [ARGS] is "
	    "mosh-client\n"
	    "(`%s -- server' reaches a host named server).\n",
	    prog, prog, prog, prog);
}

static void
boot_die_usage(const struct boot *b)
{
	boot_usage(stderr, b->prog);
	exit(BOOT_DIE);
}

#if defined(__GNUC__) || defined(__clang__)
#define MOSH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MOSH_PRINTF(f, a)
#endif
static void boot_die(const struct boot *, const char *, ...) MOSH_PRINTF(2, 3);
static void boot_log(const struct boot *, const char *, ...) MOSH_PRINTF(2, 3);

static void
boot_die(const struct boot *b, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", b->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(BOOT_DIE);
}

static void
boot_log(const struct boot *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->verbose) {
		return;
	}
	fprintf(stderr, "%s: ", b->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Getopt::Long's matching: an exact name, "no"/"no-" before a negatable
 * one, else a unique prefix of one option. NULL if unknown or ambiguous.
 */
static const struct boot_optdef *
boot_find(const char *name, size_t n, int *neg)
{
	const struct boot_optdef *hit = NULL;
	size_t i, skip;

	*neg = 0;
	for (i = 0; i < LEN(boot_opts); i++) {
		if (strlen(boot_opts[i].name) == n &&
		    strncmp(boot_opts[i].name, name, n) == 0) {
			return &boot_opts[i];
		}
	}
	skip = strncmp(name, "no-", 3) == 0 ? 3 :
	    strncmp(name, "no", 2) == 0 ? 2 : 0;
	for (i = 0; skip != 0 && i < LEN(boot_opts); i++) {
		if (boot_opts[i].kind == BO_NEG &&
		    strlen(boot_opts[i].name) == n - skip &&
		    strncmp(boot_opts[i].name, name + skip, n - skip) == 0) {
			*neg = 1;
			return &boot_opts[i];
		}
	}
	for (i = 0; n > 1 && i < LEN(boot_opts); i++) {
		if (strncmp(boot_opts[i].name, name, n) == 0) {
			if (hit != NULL && hit->id != boot_opts[i].id) {
				return NULL;
			}
			hit = &boot_opts[i];
		}
	}
	return hit;
}

/* Getopt::Long's complaint: ambiguous (with the candidates) or unknown. */
static void
boot_unknown(const char *name, size_t n)
{
	size_t i, hits = 0;

	for (i = 0; n > 1 && i < LEN(boot_opts); i++) {
		hits += strncmp(boot_opts[i].name, name, n) == 0;
	}
	if (hits < 2) {
		fprintf(stderr, "Unknown option: %.*s\n", (int)n, name);
		return;
	}
	fprintf(stderr, "Option %.*s is ambiguous (", (int)n, name);
	for (i = 0; i < LEN(boot_opts); i++) {
		if (strncmp(boot_opts[i].name, name, n) == 0) {
			fprintf(stderr, "%s%s", boot_opts[i].name,
			    --hits > 0 ? ", " : ")\n");
		}
	}
}

static void
boot_apply(struct boot *b, int id, int neg, const char *v)
{
	switch (id) {
	case 'C':
		b->client = v;
		break;
	case 'S':
		b->server = v;
		b->server_given = 1;
		break;
	case 'P':
		b->predict = v;
		break;
	case 'o':
		b->overwrite = !neg;
		break;
	case 'p':
		b->port = v;
		break;
	case 'a':
		b->predict = "always";
		break;
	case 'n':
		b->predict = "never";
		break;
	case 'f':
		b->family = v;
		break;
	case '4':
		b->family = "inet";
		break;
	case '6':
		b->family = "inet6";
		break;
	case 's':
		b->ssh = v;
		break;
	case 't':
		b->ssh_pty = !neg;
		break;
	case 'i':
		b->init = !neg;
		break;
	case 'l':
		b->local = 1;
		break;
	case 'h':
		b->help = 1;
		break;
	case 'V':
		b->version = 1;
		break;
	case 'F':
		b->fake_proxy = !neg;
		break;
	case 'b':
		b->bind = v;
		break;
	case 'r':
		b->remote_ip = v;
		break;
	case 'I':
		b->install = 1;
		break;
	case 'v':
		b->verbose++;
		break;
	}
}

/* Upstream's command-line pass (Getopt::Long, "permute"), then -#. */
static void
boot_parse(struct boot *b, int argc, char **argv)
{
	const struct boot_optdef *d;
	const char *a, *name, *eq, *v;
	int i, neg, dashdash = 0;
	size_t n, len = 0;

	b->ops = calloc((size_t)argc + 1, sizeof *b->ops);
	if (b->ops == NULL) {
		boot_die(b, "out of memory");
	}
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			b->ops[b->nops++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		name = a + 1 + (a[1] == '-');
		eq = strchr(name, '=');
		n = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((d = boot_find(name, n, &neg)) == NULL) {
			boot_unknown(name, n);
			boot_die_usage(b);
		}
		v = NULL;
		if (d->kind == BO_VAL) {
			if (eq != NULL) {
				v = eq + 1;
			} else if (i + 1 < argc) {
				v = argv[++i];
			} else {
				fprintf(stderr, "Option %s requires an "
				    "argument\n", d->name);
				boot_die_usage(b);
			}
		} else if (eq != NULL) {
			fprintf(stderr, "Option %s does not take an argument\n",
			    d->name);
			boot_die_usage(b);
		}
		boot_apply(b, d->id, neg, v);
	}
	len = (size_t)snprintf(b->cmdline, sizeof b->cmdline, "-# ");
	for (i = 1; i < argc && len + 2 < sizeof b->cmdline; i++) {
		len += (size_t)snprintf(b->cmdline + len,
		    sizeof b->cmdline - len, "%s ", argv[i]);
	}
	len = MIN(len, sizeof b->cmdline - 2);
	snprintf(b->cmdline + len, sizeof b->cmdline - len, "|");
}

/* Upstream's checks, in its order (protocol.md §11.1). */
static void
boot_check(struct boot *b)
{
	static const char *const modes[] = {
		"adaptive", "always", "never", "experimental"
	};
	static const char *const fams[] = {
		"inet", "inet6", "auto", "all", "prefer-inet", "prefer-inet6"
	};
	const char *p = b->port;
	unsigned long lo, hi;
	char *end;
	size_t i;
	int ok;

	if (b->help) {
		boot_usage(stdout, b->prog);
		exit(0);
	}
	if (b->version) {
		print_version(stdout, "mosh");
		exit(0);
	}
	if (b->predict == NULL && getenv("MOSH_PREDICTION_DISPLAY") != NULL) {
		b->predict = getenv("MOSH_PREDICTION_DISPLAY");
		b->predict_env = 1;
	}
	if (b->predict == NULL) {
		b->predict = "adaptive";
	}
	for (i = 0, ok = 0; i < LEN(modes); i++) {
		ok |= strcmp(b->predict, modes[i]) == 0;
	}
	if (!ok) {
		fprintf(stderr, "%s: Unknown mode \"%s\"%s.\n\n", b->prog,
		    b->predict, b->predict_env ? " (MOSH_PREDICTION_DISPLAY "
		    "in environment)" : "");
		boot_die_usage(b);
	}
	if (strcmp(b->remote_ip, "proxy") != 0 &&
	    strcmp(b->remote_ip, "local") != 0 &&
	    strcmp(b->remote_ip, "remote") != 0) {
		fprintf(stderr, "Unknown parameter %s\n", b->remote_ip);
		exit(BOOT_DIE);
	}
	for (i = 0, ok = 0; i < LEN(fams); i++) {
		ok |= strcasecmp(b->family, fams[i]) == 0;
	}
	if (!ok) {
		boot_die(b, "Invalid family %s", b->family);
	}
	if (p == NULL) {
		return;
	}
	if (p[0] < '0' || p[0] > '9') {
		goto bad;
	}
	lo = strtoul(p, &end, 10);
	if (*end != '\0' && (*end != ':' || end[1] < '0' || end[1] > '9')) {
		goto bad;
	}
	if (strspn(p, "0123456789") > 9 || lo > 65535) {
		boot_die(b, "Server-side (low) port (%s) must be within valid "
		    "range [0..65535].", p);
	}
	if (*end == ':') {
		if (strspn(end + 1, "0123456789") != strlen(end + 1)) {
			goto bad;
		}
		hi = strtoul(end + 1, NULL, 10);
		if (strlen(end + 1) > 9 || hi == 0 || hi > 65535) {
			boot_die(b, "Server-side high port (%s) must be within "
			    "valid range [1..65535].", end + 1);
		}
		if (lo == 0) {
			boot_die(b, "Server-side port ranges may not be used "
			    "with starting port 0 (%s).", p);
		}
		if (lo > hi) {
			boot_die(b, "Server-side port range (%s): low port "
			    "greater than high port.", p);
		}
	}
	return;
bad:
	boot_die(b, "Server-side port or range (%s) is not valid.", p);
}

/* ---- names and addresses ---- */

/*
 * Addresses of host:port ordered by --family (protocol.md §11.3): inet and
 * inet6 filter, prefer-* put that family first, auto refuses a host with
 * both, all keeps the resolver's order. Returns the list or NULL after a
 * message in err.
 */
static struct addrinfo *
boot_resolve(const char *host, const char *port, const char *family,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai, *first = NULL, *second = NULL;
	struct addrinfo **t1 = &first, **t2 = &second, *next;
	int r, want = AF_UNSPEC, n4 = 0, n6 = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (strcasecmp(family, "inet") == 0) {
		hints.ai_family = AF_INET;
	} else if (strcasecmp(family, "inet6") == 0) {
		hints.ai_family = AF_INET6;
	}
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "Could not resolve hostname %s: %s",
		    host, gai_strerror(r));
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		n4 += ai->ai_family == AF_INET;
		n6 += ai->ai_family == AF_INET6;
	}
	if (strcasecmp(family, "auto") == 0 && n4 > 0 && n6 > 0) {
		freeaddrinfo(res);
		snprintf(err, errlen, "host has both IPv4 and IPv6 addresses, "
		    "use --family to specify behavior");
		return NULL;
	}
	if (strcasecmp(family, "prefer-inet") == 0) {
		want = AF_INET;
	} else if (strcasecmp(family, "prefer-inet6") == 0) {
		want = AF_INET6;
	}
	if (want == AF_UNSPEC) {
		return res;
	}
	/* A stable partition; the list is ours, so relink it. */
	for (ai = res; ai != NULL; ai = next) {
		next = ai->ai_next;
		ai->ai_next = NULL;
		if (ai->ai_family == want) {
			*t1 = ai;
			t1 = &ai->ai_next;
		} else {
			*t2 = ai;
			t2 = &ai->ai_next;
		}
	}
	/* The same nodes in a new order: freeaddrinfo of the head frees all. */
	*t1 = second;
	return first;
}

static void
boot_numeric(const struct addrinfo *ai, char *out, size_t len)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)len,
	    NULL, 0, NI_NUMERICHOST) != 0) {
		snprintf(out, len, "?");
	}
}

/*
 * --fake-proxy HOST PORT: the ssh ProxyCommand (protocol.md §11.3). The
 * first address that accepts a TCP connection is announced on stderr as
 * "MOSH IP <addr>" (ssh passes it through to us), then bytes are copied
 * both ways until each side has ended.
 */
static int
boot_fake_proxy(struct boot *b)
{
	struct addrinfo *res, *ai;
	struct pollfd fds[2];
	char err[512], addr[NI_MAXHOST] = "";
	uint8_t buf[16384];
	int s = -1, e = 0, in_open = 1, out_open = 1;
	ssize_t n;

	if (b->nops != 2) {
		boot_die_usage(b);
	}
	if ((res = boot_resolve(b->ops[0], b->ops[1], b->family, err,
	    sizeof err)) == NULL) {
		boot_die(b, "%s", err);
	}
	for (ai = res; ai != NULL && s == -1; ai = ai->ai_next) {
		boot_numeric(ai, addr, sizeof addr);
		s = socket(ai->ai_family, SOCK_STREAM, 0);
		if (s != -1 && connect(s, ai->ai_addr, ai->ai_addrlen) == -1) {
			e = errno;
			close(s);
			s = -1;
		}
	}
	freeaddrinfo(res);
	if (s == -1) {
		boot_die(b, "Could not connect to %s, last tried %s: %s",
		    b->ops[0], addr, strerror(e));
	}
	fprintf(stderr, "MOSH IP %s\n", addr);
	fflush(stderr);
	signal_set(SIGPIPE, SIG_IGN);
	while (out_open) {
		fds[0].fd = in_open ? STDIN_FILENO : -1;
		fds[0].events = POLLIN;
		fds[1].fd = s;
		fds[1].events = POLLIN;
		if (poll(fds, 2, -1) == -1) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof buf);
			if (n <= 0 || write_all(s, buf, (size_t)n) == -1) {
				in_open = 0;
				shutdown(s, SHUT_WR);
			}
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(s, buf, sizeof buf);
			if (n <= 0 || write_all(STDOUT_FILENO, buf,
			    (size_t)n) == -1) {
				out_open = 0;
			}
		}
	}
	close(s);
	return 0;
}

/* ---- command lines ---- */

/* s in single quotes for a POSIX shell, appended to out. */
static int
boot_quote(struct buf *out, const char *s)
{
	int r = buf_putc(out, '\'');

	for (; *s != '\0' && r == 0; s++) {
		if (*s == '\'') {
			r = buf_append(out, "'\\''", 4);
		} else {
			r |= buf_putc(out, (uint8_t)*s);
		}
	}
	return r | buf_putc(out, '\'');
}

static void
boot_add(const struct boot *b, struct buf *out, const char *s, int quote)
{
	int r = out->len > 0 ? buf_putc(out, ' ') : 0;

	r |= quote ? boot_quote(out, s) : buf_append(out, s, strlen(s));
	if (r != 0) {
		boot_die(b, "out of memory");
	}
}

/*
 * --ssh=COMMAND split into words like Perl's shellwords: blanks separate,
 * '...' is literal, "..." allows \" \\ \$ \`, a backslash outside quotes
 * takes the next character. The words are written into store.
 */
static int
boot_split(const char *s, char *store, size_t cap, char **words, int max)
{
	size_t o = 0;
	int n = 0, in = 0;
	char q = 0;

	for (;; s++) {
		if (o + 2 > cap) {
			return -1;
		}
		if (q == 0 && (*s == '\0' || *s == ' ' || *s == '\t' ||
		    *s == '\n')) {
			if (in) {
				store[o++] = '\0';
				in = 0;
			}
			if (*s == '\0') {
				return n;
			}
			continue;
		}
		if (*s == '\0') {
			return -1;	/* an unterminated quote */
		}
		if (!in) {
			if (n == max) {
				return -1;
			}
			words[n++] = store + o;
			in = 1;
		}
		if (q == 0 && (*s == '\'' || *s == '"')) {
			q = *s;
		} else if (q != 0 && *s == q) {
			q = 0;
		} else if (*s == '\\' && q != '\'' && s[1] != '\0' &&
		    (q == 0 || strchr("\"\\$`", s[1]) != NULL)) {
			store[o++] = *++s;
		} else {
			store[o++] = *s;
		}
	}
}

/* The server's arguments after the program (protocol.md §11.2). */
static void
boot_server_args(const struct boot *b, struct buf *out, const char *ip)
{
	static const char *const lvars[] = {
		"LANG", "LANGUAGE", "LC_CTYPE", "LC_NUMERIC", "LC_TIME",
		"LC_COLLATE", "LC_MONETARY", "LC_MESSAGES", "LC_PAPER",
		"LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT",
		"LC_IDENTIFICATION", "LC_ALL"
	};
	char num[32], lv[1024];
	const char *v;
	size_t i;
	int j;

	snprintf(num, sizeof num, "%ld", b->colors);
	boot_add(b, out, "new", 1);
	boot_add(b, out, "-c", 1);
	boot_add(b, out, num, 1);
	if (b->bind == NULL || strcasecmp(b->bind, "ssh") == 0) {
		boot_add(b, out, b->local ? "-i" : "-s", 1);
		if (b->local) {
			boot_add(b, out, ip, 1);
		}
	} else if (strcasecmp(b->bind, "any") != 0) {
		boot_add(b, out, "-i", 1);
		boot_add(b, out, b->bind, 1);
	}
	if (b->port != NULL) {
		boot_add(b, out, "-p", 1);
		boot_add(b, out, b->port, 1);
	}
	for (i = 0; i < LEN(lvars); i++) {
		if ((v = getenv(lvars[i])) != NULL) {
			snprintf(lv, sizeof lv, "%s=%s", lvars[i], v);
			boot_add(b, out, "-l", 1);
			boot_add(b, out, lv, 1);
		}
	}
	if (b->nops > 1) {
		boot_add(b, out, "--", 1);
		for (j = 1; j < b->nops; j++) {
			boot_add(b, out, b->ops[j], 1);
		}
	}
}

/* ---- this binary, for the self-install ---- */

struct boot_self {
	uint8_t *p;
	size_t len;
	char hex[65];
	char name[96];			/* mosh-<version>-<16 hex> */
};

/* SHA-256 of p in lower-case hex, as sha256sum prints it. */
static void
boot_hash(const uint8_t *p, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	br_sha256_context h;
	uint8_t sum[32];
	size_t i;

	br_sha256_init(&h);
	br_sha256_update(&h, p, len);
	br_sha256_out(&h, sum);
	for (i = 0; i < sizeof sum; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[64] = '\0';
}

static int
boot_self_load(struct boot_self *s, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/exe", O_RDONLY)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot read this program: %s",
		    strerror(errno));
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	if (st.st_size <= 0 || st.st_size > BOOT_SELF_MAX ||
	    (s->p = malloc((size_t)st.st_size)) == NULL) {
		snprintf(err, errlen, "cannot read this program: bad size");
		close(fd);
		return -1;
	}
	s->len = 0;
	while (s->len < (size_t)st.st_size) {
		n = read(fd, s->p + s->len, (size_t)st.st_size - s->len);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		s->len += (size_t)n;
	}
	close(fd);
	if (s->len != (size_t)st.st_size) {
		snprintf(err, errlen, "cannot read this program: short read");
		free(s->p);
		s->p = NULL;
		return -1;
	}
	boot_hash(s->p, s->len, s->hex);
	snprintf(s->name, sizeof s->name, "mosh-%s-%.16s", MOSH_VERSION,
	    s->hex);
	return 0;
}

/*
 * The remote half of the self-install, run by `sh -c SCRIPT mosh HASH SIZE
 * NAME PATTERN server new ...`. One line (login shells such as csh dislike
 * newlines inside quotes), no single quotes (it is quoted whole) and no
 * backslashes (fish keeps them). It never writes over a file it did not
 * create: the temporary name is created with noclobber, and the final name
 * carries our hash, so whatever sits there and does not verify is a copy
 * of ours that went bad. Needs sh, uname, mkdir, cat, chmod, mv, rm, and
 * one of sha256sum, shasum, openssl (else wc, for the size).
 */
static const char boot_script[] =
	"umask 077; h=$1; z=$2; n=$3; p=$4; shift 4; u=$(uname -sm); "
	"case $u in $p) ;; *) echo \"MOSH INSTALL ARCH $u\"; exit 1;; esac; "
	"d=${XDG_CACHE_HOME:-$HOME/.cache}/mosh; f=$d/$n; t=$d/.$n.$$; "
	"ck() { m=size; "
	"if command -v sha256sum >/dev/null 2>&1; then m=sha256sum; "
	"o=$(sha256sum <\"$1\"); "
	"elif command -v shasum >/dev/null 2>&1; then m=shasum; "
	"o=$(shasum -a 256 <\"$1\"); "
	"elif command -v openssl >/dev/null 2>&1; then m=openssl; "
	"o=$(openssl dgst -sha256 <\"$1\"); "
	"else o=$(wc -c <\"$1\"); fi; "
	"for w in $o; do if [ \"$w\" = \"$h\" ] || "
	"{ [ $m = size ] && [ \"$w\" = \"$z\" ]; }; then return 0; fi; "
	"done; return 1; }; "
	"mkdir -p \"$d\" || { echo \"MOSH INSTALL FAIL cannot create $d\"; "
	"exit 1; }; "
	"if [ -f \"$f\" ] && [ -x \"$f\" ] && ck \"$f\"; then "
	"echo \"MOSH INSTALL HAVE $m\"; else "
	"if [ -e \"$f\" ] && [ ! -f \"$f\" ]; then "
	"echo \"MOSH INSTALL FAIL $f is not a regular file\"; exit 1; fi; "
	"if ! (set -C; : >\"$t\") 2>/dev/null; then "
	"echo \"MOSH INSTALL FAIL cannot create $t\"; exit 1; fi; "
	"ck /dev/null; echo \"MOSH INSTALL SEND $m\"; "
	"if ! cat >>\"$t\"; then rm -f \"$t\"; "
	"echo \"MOSH INSTALL FAIL cannot write $t\"; exit 1; fi; "
	"if ! ck \"$t\"; then rm -f \"$t\"; "
	"echo \"MOSH INSTALL FAIL the copy in $t did not verify ($m)\"; "
	"exit 1; fi; "
	"if ! { chmod 700 \"$t\" && mv -f \"$t\" \"$f\"; }; then rm -f \"$t\"; "
	"echo \"MOSH INSTALL FAIL cannot move $t to $f\"; exit 1; fi; fi; "
	"exec \"$f\" \"$@\" </dev/null";

/* ---- running ssh (or the local server) and reading its output ---- */

struct boot_run {
	pid_t pid;
	int out;			/* its stdout and stderr */
	int in;				/* its stdin (self-install), else -1 */
	char line[BOOT_LINE_MAX];
	size_t len;
	int eof;
};

static void
boot_spawn(const struct boot *b, struct boot_run *r, char **argv,
    const char *shell_cmd, int want_in, int proxy)
{
	int po[2], pi[2] = { -1, -1 };

	if (pipe(po) == -1 || (want_in && pipe(pi) == -1)) {
		boot_die(b, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	if ((r->pid = fork()) == -1) {
		boot_die(b, "fork: %s", strerror(errno));
	}
	if (r->pid == 0) {
		close(po[0]);
		dup2(po[1], STDOUT_FILENO);
		dup2(po[1], STDERR_FILENO);
		close(po[1]);
		if (want_in) {
			close(pi[1]);
			dup2(pi[0], STDIN_FILENO);
			close(pi[0]);
		}
		unsetenv("MOSH_PREDICTION_DISPLAY");
		if (proxy) {
			setenv("SHELL", "/bin/sh", 1);
		}
		if (shell_cmd != NULL) {
			execl("/bin/sh", "sh", "-c", shell_cmd, (char *)NULL);
			fprintf(stderr, "Cannot exec %s: %s\n", shell_cmd,
			    strerror(errno));
		} else {
			execvp(argv[0], argv);
			fprintf(stderr, "Cannot exec %s: %s\n", argv[0],
			    strerror(errno));
		}
		_exit(BOOT_DIE);
	}
	close(po[1]);
	r->out = po[0];
	r->in = -1;
	if (want_in) {
		close(pi[0]);
		r->in = pi[1];
	}
	r->len = 0;
	r->eof = 0;
}

/* The next line without its end, NULL at EOF; over-long lines are cut. */
static const char *
boot_getline(struct boot_run *r)
{
	static char out[BOOT_LINE_MAX + 1];
	char *nl;
	ssize_t n;
	size_t k;

	for (;;) {
		nl = memchr(r->line, '\n', r->len);
		if (nl != NULL || r->len == sizeof r->line ||
		    (r->eof && r->len > 0)) {
			k = nl != NULL ? (size_t)(nl - r->line) : r->len;
			memcpy(out, r->line, k);
			out[k] = '\0';
			k += nl != NULL;
			memmove(r->line, r->line + k, r->len - k);
			r->len -= k;
			return out;
		}
		if (r->eof) {
			return NULL;
		}
		n = read(r->out, r->line + r->len, sizeof r->line - r->len);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			r->eof = 1;
		} else {
			r->len += (size_t)n;
		}
	}
}

static int
boot_reap(struct boot_run *r)
{
	int st;

	if (r->in != -1) {
		close(r->in);
		r->in = -1;
	}
	close(r->out);
	explicit_bzero(r->line, sizeof r->line);	/* the key was here */
	while (waitpid(r->pid, &st, 0) == -1) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* "word" in s with trailing blanks (the remote tty adds \r) removed. */
static void
boot_chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t')) {
		s[--n] = '\0';
	}
}

/*
 * One line of the server's output (protocol.md §11.4). Returns 1 when the
 * MOSH CONNECT line was read (stop reading), 0 to go on.
 */
static int
boot_line(struct boot *b, char *line)
{
	char *p, *w[8];
	size_t n;
	int nw = 0;

	if (strncmp(line, "MOSH IP ", 8) == 0) {
		if (b->have_ip) {
			boot_die(b, "error: detected attempt to redefine "
			    "MOSH IP.");
		}
		boot_chomp(line);
		p = line + 8;
		if (*p == '\0' || strpbrk(p, " \t") != NULL ||
		    strlen(p) >= sizeof b->ip) {
			fprintf(stderr, "Bad MOSH IP string: %s\n", line);
			exit(BOOT_DIE);
		}
		snprintf(b->ip, sizeof b->ip, "%s", p);
		b->have_ip = 1;
		return 0;
	}
	if (strncmp(line, "MOSH SSH_CONNECTION ", 20) == 0) {
		boot_chomp(line);
		for (p = strtok(line + 20, " \t"); p != NULL && nw < 8;
		    p = strtok(NULL, " \t")) {
			w[nw++] = p;
		}
		if (nw != 4 || strlen(w[2]) >= sizeof b->ip) {
			fprintf(stderr, "Bad MOSH SSH_CONNECTION string\n");
			exit(BOOT_DIE);
		}
		if (!b->have_ip) {
			fprintf(stderr, "%s: Using remote IP address %s from "
			    "$SSH_CONNECTION for hostname %s\n", b->prog, w[2],
			    b->ops[0]);
			snprintf(b->ip, sizeof b->ip, "%s", w[2]);
			b->have_ip = 1;
		}
		return 0;
	}
	if (strncmp(line, "MOSH CONNECT ", 13) == 0) {
		boot_chomp(line);
		p = line + 13;
		n = strspn(p, "0123456789");
		if (n == 0 || n > 5 || p[n] != ' ' ||
		    strspn(p + n + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789/+") != 22 ||
		    p[n + 23] != '\0') {
			fprintf(stderr, "Bad MOSH CONNECT string: %s\n", line);
			exit(BOOT_DIE);
		}
		memcpy(b->udp, p, n);
		b->udp[n] = '\0';
		memcpy(b->key, p + n + 1, 22);
		b->key[22] = '\0';
		explicit_bzero(line, strlen(line));
		b->have_connect = 1;
		return 1;
	}
	if (b->port != NULL && strstr(line, "Bad UDP port") != NULL) {
		b->bad_port_seen = 1;
	}
	printf("%s\n", line);
	fflush(stdout);
	return 0;
}

/* Reads the server's output up to MOSH CONNECT; returns ssh's status. */
static int
boot_read(struct boot *b, struct boot_run *r, int hide_not_found)
{
	char *line;
	int st;

	while ((line = (char *)boot_getline(r)) != NULL) {
		if (hide_not_found && strstr(line, "mosh-server") != NULL &&
		    strstr(line, "not found") != NULL) {
			boot_log(b, "the server says: %s", line);
			b->fallback = 1;
			continue;
		}
		if (boot_line(b, line)) {
			break;
		}
	}
	st = boot_reap(r);
	boot_log(b, "ssh ended with status %d", st);
	return st;
}

/* The ssh command line of protocol.md §11.2 up to the host. */
static int
boot_ssh_argv(struct boot *b, char **argv, char *store, size_t cap,
    char *proxy, size_t proxylen, char *target, size_t targetlen,
    int install)
{
	struct addrinfo *res;
	const char *at, *host;
	char err[512], addr[NI_MAXHOST];
	int n = boot_split(b->ssh, store, cap, argv, BOOT_ARGS_MAX - 16);
	struct buf q;

	if (n <= 0) {
		boot_die(b, "--ssh: cannot split \"%s\" into words", b->ssh);
	}
	argv[n++] = install ? (char *)"-T" : (char *)"-n";
	if (!install && b->ssh_pty) {
		argv[n++] = (char *)"-tt";
	}
	argv[n++] = (char *)"-S";
	argv[n++] = (char *)"none";
	snprintf(target, targetlen, "%s", b->ops[0]);
	if (strcmp(b->remote_ip, "proxy") == 0) {
		memset(&q, 0, sizeof q);
		boot_quote(&q, b->self);
		snprintf(proxy, proxylen, "ProxyCommand=%.*s '--family=%s' "
		    "--fake-proxy -- %%h %%p", (int)q.len, (const char *)q.p,
		    b->family);
		buf_free(&q);
		argv[n++] = (char *)"-o";
		argv[n++] = proxy;
	} else if (strcmp(b->remote_ip, "remote") == 0) {
		if (strcasecmp(b->family, "inet") == 0) {
			argv[n++] = (char *)"-4";
		} else if (strcasecmp(b->family, "inet6") == 0) {
			argv[n++] = (char *)"-6";
		}
	} else {
		at = strrchr(b->ops[0], '@');
		host = at != NULL ? at + 1 : b->ops[0];
		if ((res = boot_resolve(host, "22", b->family, err,
		    sizeof err)) == NULL) {
			boot_die(b, "%s", err);
		}
		boot_numeric(res, addr, sizeof addr);
		freeaddrinfo(res);
		snprintf(b->ip, sizeof b->ip, "%.*s", (int)sizeof b->ip - 1,
		    addr);
		b->have_ip = 1;
		snprintf(target, targetlen, "%.*s%s", at != NULL ?
		    (int)(at - b->ops[0] + 1) : 0, b->ops[0], addr);
	}
	argv[n++] = target;
	argv[n++] = (char *)"--";
	return n;
}

static void
boot_show_argv(const struct boot *b, char **argv)
{
	int i;

	if (!b->verbose) {
		return;
	}
	fprintf(stderr, "%s: running", b->prog);
	for (i = 0; argv[i] != NULL; i++) {
		fprintf(stderr, " [%s]", argv[i]);
	}
	fputc('\n', stderr);
}

/* remote mode: the server tells us its address first (§11.2). */
static void
boot_remote_prefix(const struct boot *b, struct buf *cmd)
{
	if (strcmp(b->remote_ip, "remote") == 0) {
		boot_add(b, cmd, "sh -c '[ -n \"$SSH_CONNECTION\" ] && printf "
		    "\"\\nMOSH SSH_CONNECTION %s\\n\" \"$SSH_CONNECTION\"' ;",
		    0);
	}
}

/* The usual start: upstream's exact command line. Returns ssh's status. */
static int
boot_ssh(struct boot *b)
{
	static char store[8192], proxy[PATH_MAX + 128], target[512];
	char *argv[BOOT_ARGS_MAX];
	struct buf cmd;
	struct boot_run r;
	int n, st;

	n = boot_ssh_argv(b, argv, store, sizeof store, proxy, sizeof proxy,
	    target, sizeof target, 0);
	memset(&cmd, 0, sizeof cmd);
	boot_remote_prefix(b, &cmd);
	boot_add(b, &cmd, b->server, 0);
	boot_server_args(b, &cmd, NULL);
	if (buf_putc(&cmd, '\0') == -1) {
		boot_die(b, "out of memory");
	}
	argv[n++] = (char *)cmd.p;
	argv[n] = NULL;
	boot_show_argv(b, argv);
	boot_spawn(b, &r, argv, NULL, 0, strcmp(b->remote_ip, "proxy") == 0);
	st = boot_read(b, &r, !b->server_given);
	buf_free(&cmd);
	return st;
}

/*
 * The self-install (see the top of this section): one ssh run without a
 * pty, our binary on its stdin if the remote asks for it.
 */
static int
boot_install(struct boot *b)
{
	static char store[8192], proxy[PATH_MAX + 128], target[512];
	char *argv[BOOT_ARGS_MAX], err[256], size[32], *line;
	struct boot_self self;
	struct buf cmd;
	struct boot_run r;
	int n, st;

	if (BOOT_OS[0] == '\0' || BOOT_ARCH[0] == '\0') {
		boot_die(b, "this build cannot install itself on a server "
		    "(unknown system); install mosh-server there");
	}
	memset(&self, 0, sizeof self);
	if (boot_self_load(&self, err, sizeof err) == -1) {
		boot_die(b, "%s", err);
	}
	snprintf(size, sizeof size, "%zu", self.len);
	n = boot_ssh_argv(b, argv, store, sizeof store, proxy, sizeof proxy,
	    target, sizeof target, 1);
	memset(&cmd, 0, sizeof cmd);
	boot_remote_prefix(b, &cmd);
	boot_add(b, &cmd, "sh", 0);
	boot_add(b, &cmd, "-c", 0);
	boot_add(b, &cmd, boot_script, 1);
	boot_add(b, &cmd, "mosh", 1);
	boot_add(b, &cmd, self.hex, 1);
	boot_add(b, &cmd, size, 1);
	boot_add(b, &cmd, self.name, 1);
	boot_add(b, &cmd, BOOT_OS " " BOOT_ARCH, 1);
	boot_add(b, &cmd, "server", 1);
	boot_server_args(b, &cmd, NULL);
	if (buf_putc(&cmd, '\0') == -1) {
		boot_die(b, "out of memory");
	}
	argv[n++] = (char *)cmd.p;
	argv[n] = NULL;
	if (b->verbose > 1) {
		boot_show_argv(b, argv);
	}
	boot_log(b, "installing %s on the server if it has no copy", self.name);
	boot_spawn(b, &r, argv, NULL, 1, strcmp(b->remote_ip, "proxy") == 0);
	signal_set(SIGPIPE, SIG_IGN);
	while ((line = (char *)boot_getline(&r)) != NULL) {
		boot_chomp(line);
		if (strncmp(line, "MOSH INSTALL HAVE ", 18) == 0) {
			boot_log(b, "the server has a copy (checked with %s)",
			    line + 18);
			close(r.in);
			r.in = -1;
		} else if (strncmp(line, "MOSH INSTALL SEND ", 18) == 0) {
			fprintf(stderr, "%s: copying %s to the server's "
			    "~/.cache/mosh\n", b->prog, self.name);
			boot_log(b, "uploading %zu bytes (%s will check them)",
			    self.len, line + 18);
			if (strcmp(line + 18, "size") == 0) {
				boot_log(b, "the server has no sha256sum, "
				    "shasum or openssl: only the size is "
				    "compared");
			}
			if (r.in == -1 ||
			    write_all(r.in, self.p, self.len) == -1) {
				boot_log(b, "upload: %s", strerror(errno));
			}
			if (r.in != -1) {
				close(r.in);
				r.in = -1;
			}
		} else if (strncmp(line, "MOSH INSTALL ARCH ", 18) == 0) {
			boot_reap(&r);
			boot_die(b, "the server runs %s, but this mosh is "
			    "built for %s %s: install mosh-server on it, or "
			    "run a mosh built for it", line + 18, BOOT_OS,
			    BOOT_ARCH);
		} else if (strncmp(line, "MOSH INSTALL FAIL ", 18) == 0) {
			boot_reap(&r);
			boot_die(b, "could not install mosh on the server: %s",
			    line + 18);
		} else if (boot_line(b, line)) {
			break;
		}
	}
	st = boot_reap(&r);
	signal_set(SIGPIPE, SIG_DFL);
	boot_log(b, "ssh ended with status %d", st);
	free(self.p);
	buf_free(&cmd);
	return st;
}

/*
 * Hosts where the self-install was needed are remembered, one
 * "[user@]host" a line, in ~/.cache/mosh/install-hosts (or under
 * $XDG_CACHE_HOME), so that later connections skip the ssh run that would
 * only find no mosh-server. The file is a hint: a lost or stale entry only
 * costs that extra run, or runs our copy where a mosh-server exists.
 */
#define BOOT_MEMO_MAX 65536		/* bytes of install-hosts read */

static int
boot_memo_path(char *out, size_t len, int make)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/') {
		n = snprintf(out, len, "%s", x);
	} else if (h != NULL && h[0] == '/') {
		n = snprintf(out, len, "%s/.cache", h);
	} else {
		return -1;
	}
	if (n < 0 || (size_t)n + 32 >= len) {
		return -1;
	}
	if (make) {
		mkdir(out, 0700);
	}
	strcat(out, "/mosh");
	if (make) {
		mkdir(out, 0700);
	}
	strcat(out, "/install-hosts");
	return 0;
}

static int
boot_memo_has(const char *host)
{
	char path[PATH_MAX], buf[BOOT_MEMO_MAX + 1], *p, *nl;
	ssize_t n;
	size_t len = 0;
	int fd;

	if (boot_memo_path(path, sizeof path, 0) == -1 ||
	    (fd = open(path, O_RDONLY)) == -1) {
		return 0;
	}
	while (len < BOOT_MEMO_MAX &&
	    (n = read(fd, buf + len, BOOT_MEMO_MAX - len)) > 0) {
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (strcmp(p, host) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
boot_memo_add(const struct boot *b, const char *host)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(host, '\n') != NULL || boot_memo_has(host) ||
	    boot_memo_path(path, sizeof path, 1) == -1) {
		return;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
	if (fd == -1 || write_all(fd, host, strlen(host)) == -1 ||
	    write_all(fd, "\n", 1) == -1) {
		boot_log(b, "cannot remember %s in %s", host, path);
	} else {
		boot_log(b, "remembered in %s that %s needs this program",
		    path, host);
	}
	if (fd != -1) {
		close(fd);
	}
}

/* --local: the server on this machine through sh, no ssh (§11.2). */
static int
boot_local(struct boot *b)
{
	struct buf cmd;
	struct boot_run r;
	uint8_t a[16];
	const char *home = getenv("HOME");
	int st;

	if (inet_pton(AF_INET, b->ops[0], a) != 1 &&
	    inet_pton(AF_INET6, b->ops[0], a) != 1) {
		boot_die(b, "--local needs a numeric local address, not %s",
		    b->ops[0]);
	}
	snprintf(b->ip, sizeof b->ip, "%s", b->ops[0]);
	b->have_ip = 1;
	memset(&cmd, 0, sizeof cmd);
	if (b->server_given) {
		boot_add(b, &cmd, b->server, 0);
	} else {
		boot_add(b, &cmd, b->self, 1);
		boot_add(b, &cmd, "server", 1);
	}
	boot_server_args(b, &cmd, b->ops[0]);
	if (buf_putc(&cmd, '\0') == -1) {
		boot_die(b, "out of memory");
	}
	unsetenv("SSH_CONNECTION");
	if (home != NULL && chdir(home) == -1) {
		boot_log(b, "chdir %s: %s", home, strerror(errno));
	}
	boot_log(b, "running %s", (const char *)cmd.p);
	boot_spawn(b, &r, NULL, (const char *)cmd.p, 0, 0);
	st = boot_read(b, &r, 0);
	buf_free(&cmd);
	return st;
}

/* The colour count the server is told: the client's `-c` (§11.1). */
static void
boot_colors(struct boot *b)
{
	struct tinfo ti;
	struct boot_run r;
	char *argv[3], *end;
	const char *line;

	if (b->client == NULL) {
		ti_load(getenv("TERM"), &ti);
		b->colors = ti.colors < 0 ? 0 : ti.colors;
		return;
	}
	argv[0] = (char *)b->client;
	argv[1] = (char *)"-c";
	argv[2] = NULL;
	boot_spawn(b, &r, argv, NULL, 0, 0);
	line = boot_getline(&r);
	/* Upstream's wrapper: 0 unless the answer is digits only. */
	b->colors = line != NULL ? strtol(line, &end, 10) : 0;
	if (line == NULL || end == line || *end != '\0' || b->colors < 0 ||
	    line[0] < '0' || line[0] > '9') {
		b->colors = 0;
	}
	boot_reap(&r);
}

/* The client: ours in this process, or --client=PATH as upstream does. */
static int
boot_client(struct boot *b)
{
	char pid[32], *argv[5];

	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("MOSH_PREDICTION_DISPLAY", b->predict, 1);
	if (b->overwrite) {
		setenv("MOSH_PREDICTION_OVERWRITE", "yes", 1);
	}
	if (!b->init) {
		setenv("MOSH_NO_TERM_INIT", "1", 1);
	}
	setenv("MOSH_CLIENT_PID", pid, 1);
	if (b->client != NULL) {
		setenv("MOSH_KEY", b->key, 1);
		explicit_bzero(b->key, sizeof b->key);
		argv[0] = (char *)b->client;
		argv[1] = b->cmdline;
		argv[2] = b->ip;
		argv[3] = b->udp;
		argv[4] = NULL;
		execvp(b->client, argv);
		boot_die(b, "Cannot exec %s: %s", b->client, strerror(errno));
	}
	argv[0] = (char *)b->prog;
	argv[1] = b->cmdline;
	argv[2] = b->ip;
	argv[3] = b->udp;
	argv[4] = NULL;
	/* client_run copies the key and wipes b->key. */
	return client_run(b->prog, 4, argv, b->key);
}

static int
boot_main(int argc, char **argv)
{
	struct boot b;
	ssize_t n;
	int st = 0;

	memset(&b, 0, sizeof b);
	b.prog = argv[0];
	b.family = "prefer-inet";
	b.remote_ip = "proxy";
	b.ssh = "ssh";
	b.server = "mosh-server";
	b.ssh_pty = 1;
	b.init = 1;
	boot_parse(&b, argc, argv);
	boot_check(&b);
	if (b.fake_proxy) {
		return boot_fake_proxy(&b);
	}
	if (b.nops < 1) {
		boot_die_usage(&b);
	}
	if (b.ops[0][0] == '-') {
		/* ssh would take it for an option. */
		boot_die(&b, "a host name cannot start with '-' (%s)",
		    b.ops[0]);
	}
	n = readlink("/proc/self/exe", b.self, sizeof b.self - 1);
	if (n <= 0) {
		snprintf(b.self, sizeof b.self, "%s", argv[0]);
	} else {
		b.self[n] = '\0';
	}
	boot_colors(&b);
	if (b.local) {
		st = boot_local(&b);
	} else if (b.install) {
		st = boot_install(&b);
	} else if (!b.server_given && boot_memo_has(b.ops[0])) {
		boot_log(&b, "%s had no mosh-server before: running this "
		    "program there", b.ops[0]);
		st = boot_install(&b);
	} else {
		st = boot_ssh(&b);
		if (!b.have_connect && !b.server_given &&
		    (st == 127 || b.fallback)) {
			boot_log(&b, "no mosh-server on the server: "
			    "installing this program there");
			b.have_ip = 0;
			st = boot_install(&b);
			if (b.have_connect) {
				boot_memo_add(&b, b.ops[0]);
			}
		}
	}
	if (!b.have_connect && st == 255 && !b.local) {
		/* ssh's own failure; its message is the line above. */
		boot_die(&b, "ssh could not connect to %s or log in (exit "
		    "status 255).", b.ops[0]);
	}
	if (!b.have_ip) {
		boot_die(&b, "Did not find remote IP address (is SSH "
		    "ProxyCommand disabled?).");
	}
	if (!b.have_connect) {
		if (b.bad_port_seen) {
			boot_die(&b, "Server does not support UDP port range "
			    "option.");
		}
		boot_die(&b, "Did not find mosh server startup message. "
		    "(Have you installed mosh on your server?)");
	}
	free(b.ops);
	return boot_client(&b);
}

/* ==== dispatch ==== */

int
mosh_main(int argc, char **argv)
{
	const char *name;

	if (argc < 1 || argv[0] == NULL) {
		fputs("mosh: no program name\n", stderr);
		return 1;
	}
	name = base_name(argv[0]);
	if (strcmp(name, "mosh-server") == 0) {
		return server_main(argv[0], argc, argv);
	}
	if (strcmp(name, "mosh-client") == 0) {
		return client_main(argv[0], argc, argv);
	}
	if (argc >= 2 && strcmp(argv[1], "server") == 0) {
		return server_main("mosh server", argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "client") == 0) {
		argv[1] = (char *)"mosh client";
		return client_main(argv[1], argc - 1, argv + 1);
	}
	return boot_main(argc, argv);
}

#ifndef MOSH_NO_MAIN
int
main(int argc, char **argv)
{
	return mosh_main(argc, argv);
}
#endif
