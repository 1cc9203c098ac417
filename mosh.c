/*
 * mosh.c: main(), the dispatch to the four roles, and what the roles
 * share: signals, the clock and the wait, writes, the getopt of the
 * server and client command lines, version texts, the locale rule, a
 * terminfo reader, and the complete-terminal state type that SSP carries
 * from server to client.
 *
 * Roles (dispatched like Dropbear's multi-call binary, on the basename of
 * argv[0] first and then on argv[1]; mosh.h's role sections follow them):
 *   mosh-server, mosh server   server.c (doc/protocol.md §9)
 *   mosh-client, mosh client   client.c (doc/protocol.md §10)
 *   mosh [options] host        boot.c, the front end (doc/protocol.md §11)
 *   mosh tunnel ADDR PORT      tunnel.c, the ssh path's remote end (§14)
 * Command lines, messages and exit codes follow upstream 1.4.0 wherever a
 * script or a user could notice; the differences are listed at the point
 * where they happen (locale: locale_*; terminfo: ti_*; key check order:
 * client_main; stricter client port: client_parse).
 *
 * The complete-terminal state (term_*, doc/protocol.md §8.2) is where the
 * emulator (vt.c), the frames and renderer (framebuf.c) and the transport
 * (ssp.c, which only knows states through a vtable) meet.
 *
 * Loops: server_loop() and client_loop() are the only places that wait.
 * Each pass reads the monotonic clock once (now_ms) and passes it down; every
 * module says when it next needs to run and the loop sleeps until the
 * earliest of those in ppoll(), with the signals it handles blocked outside
 * ppoll so that a handler (which only sets a flag) can never be missed.
 *
 * Nothing here parses wire bytes or escape sequences: ssp.c decodes, vt.c
 * interprets.
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "mosh.h"


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

/* 1 if sig arrived since the last call (the flag is cleared), else 0. */
int
sig_take(int sig)
{
	volatile sig_atomic_t *f;
	int v;

	switch (sig) {
	case SIGWINCH:
		f = &sig_winch;
		break;
	case SIGCONT:
		f = &sig_cont;
		break;
	case SIGUSR1:
		f = &sig_usr1;
		break;
	case SIGUSR2:
		f = &sig_usr2;
		break;
	default:
		f = &sig_quit;
		break;
	}
	v = *f;
	*f = 0;
	return v != 0;
}

/* Catch the signals of list[] and block them; *old gets the mask to wait in. */
void
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

void
signal_set(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Milliseconds from CLOCK_MONOTONIC: the one clock of both loops. */
uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for fds or wait_ms (-1: forever) with the handled signals open. */
int
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

int
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

int
write_str(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* s past prefix if s starts with it, else NULL. */
char *
str_after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? (char *)s + n : NULL;
}

/*
 * Core dumps off, and the process not dumpable: then no other process of
 * the same user may ptrace it or read its /proc/PID/mem and environ (the
 * kernel hands those files to root), as ssh-agent does, since its memory
 * holds the session key. *saved to restore the limit; core_on gives both
 * back to a child before it execs.
 */
void
core_off(struct rlimit *saved)
{
	struct rlimit none;

	if (getrlimit(RLIMIT_CORE, saved) == -1) {
		saved->rlim_cur = saved->rlim_max = 0;
	}
	none.rlim_cur = 0;
	none.rlim_max = saved->rlim_max;
	setrlimit(RLIMIT_CORE, &none);
#if defined(__linux__)
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/*
 * In a child about to exec: the limit core_off saved, and dumpable again
 * (exec of a plain binary sets it anyway; this covers the time before).
 */
void
core_on(const struct rlimit *saved)
{
	setrlimit(RLIMIT_CORE, saved);
#if defined(__linux__)
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
}


int
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
void
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

/* ==== locale: which environment the shell child gets ==== */

/*
 * Our terminal model is UTF-8 by construction and our own code never calls
 * setlocale(), so neither role needs a UTF-8 locale to exist on the host.
 * What matters is the shell child: a program that believes its charset is
 * a legacy one (ISO-8859-1, EUC-JP...) writes bytes our UTF-8 emulator shows
 * as U+FFFD. The rule (protocol.md §12.27, decided here):
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
int
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
void
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

/*
 * The client's side of the rule: it writes UTF-8 to its terminal, and a
 * terminal that speaks an 8-bit charset reads the continuation bytes
 * 0x80-0x9f as C1 controls (0xc3 0x9b is CSI there). The locale is the
 * only word we have on what the terminal speaks, so the client runs only
 * when the effective LC_CTYPE names UTF-8. Unset, "C" and "POSIX" are
 * refused too, as upstream does: nothing says such a terminal would show
 * UTF-8, and plain ASCII output cannot be promised. 0, or -1 after
 * upstream's message.
 */
int
locale_for_client(void)
{
	char var[256], cs[64];
	const char *name;

	if (locale_kind(locale_ctype(&name)) == LOC_UTF8) {
		return 0;
	}
	locale_describe(var, sizeof var, cs, sizeof cs);
	fprintf(stderr, "mosh-client needs a UTF-8 native locale to run.\n\n"
	    "Unfortunately, the client's environment (%s) specifies\n"
	    "the character set \"%s\".\n\n", var, cs);
	return -1;
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


void
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
int
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
void
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

/* ==== the complete terminal: SSP's server-to-client state (§8.2) ==== */

/*
 * What SSP needs to know of the datagram layer (ssp.c knows nothing of
 * sockets): the peer, the timers from the RTT estimate, the datagram size,
 * and how to send one fragment.
 */
struct ssp_link
mosh_link(const struct net *n, int (*send)(void *, const uint8_t *, size_t),
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


/* The server's Display assumes ECH, BCE and titles (§8.2). */
const struct fb_caps term_wire_caps = { 1, 1, 1 };

int
term_init(struct term_state *t, int w, int h)
{
	memset(t, 0, sizeof *t);
	if (fb_init(&t->fb, w, h) == -1) {
		return -1;
	}
	vt_init(&t->vt, &t->fb);
	return 0;
}

void
term_release(struct term_state *t)
{
	vt_free(&t->vt);
	fb_free(&t->fb);
}

void *
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
	/* A copy is only diffed (server) or fed with server_ext 0 (client). */
	vt_copy(&t->vt, &a->vt, &t->fb);
	t->echo_ack = a->echo_ack;
	return t;
}

void
term_free(void *st)
{
	if (st != NULL) {
		term_release(st);
		free(st);
	}
}

int
term_equal(const void *a, const void *b)
{
	const struct term_state *x = a, *y = b;

	return x->echo_ack == y->echo_ack && fb_equal(&x->fb, &y->fb);
}

/* HostMessage: echo ack, then resize and host bytes (§8.2). */
int
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
 * never going down) so that bad input changes nothing. The emulator keeps
 * no replies: the client has no host to send them to. Its work is bounded
 * by the largest screen the message has (mosh.h, VT_WORK_SCREENS); past the
 * bound the rest is not applied and the state is left half changed, for
 * the caller (SSP, on a copy) to drop.
 */
int
term_apply(void *st, const uint8_t *p, size_t len)
{
	struct term_state *t = st;
	struct ssp_iter it = { p, p + len };
	struct ssp_msg m;
	uint64_t ea = t->echo_ack;
	int r, w = t->fb.w, h = t->fb.h;

	if (ssp_hm_check(p, len, &ea) == -1) {
		return -1;
	}
	while ((r = ssp_hm_next(&it, &m)) == 1) {
		if (m.type == SSP_MSG_RESIZE && (m.w < 1 || m.w > FB_MAX_COLS ||
		    m.h < 1 || m.h > FB_MAX_ROWS)) {
			return -1;
		}
		if (m.type == SSP_MSG_RESIZE) {
			w = MAX(w, m.w);
			h = MAX(h, m.h);
		}
	}
	if (r == -1) {
		return -1;
	}
	t->vt.no_reply = 1;
	t->vt.work = 0;
	t->vt.work_max = vt_work_bound(w, h);
	it.p = p;
	while (t->vt.work <= t->vt.work_max && ssp_hm_next(&it, &m) == 1) {
		if (m.type == SSP_MSG_BYTES) {
			vt_feed(&t->vt, m.p, m.len);
		} else if (m.type == SSP_MSG_RESIZE) {
			vt_resize(&t->vt, m.w, m.h);
		} else if (m.type == SSP_MSG_ECHOACK) {
			t->echo_ack = m.echo_ack;
		}
	}
	r = t->vt.work > t->vt.work_max ? -1 : 0;
	t->vt.work_max = 0;
	return r;
}

void
term_bytes(const void *st, const void *base, size_t part[SSP_PARTS])
{
	const struct term_state *t = st, *b = base;

	part[SSP_PART_SCREEN] += sizeof(*t) +
	    fb_bytes(&t->fb, b != NULL ? &b->fb : NULL) +
	    vt_bytes(&t->vt, b != NULL ? &b->vt : NULL);
}

const struct ssp_ops term_ops = {
	term_copy, term_free, term_equal, term_diff, term_apply, NULL
};

/* Chaff for SSP (§7.11). */
void
mosh_chaff(void *arg, uint8_t *p, size_t n)
{
	(void)arg;
	if (net_random(p, n) == -1) {
		memset(p, 0, n);
	}
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
	if (argc >= 2 && strcmp(argv[1], "tunnel") == 0) {
		return tunnel_main("mosh tunnel", argc - 1, argv + 1);
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
