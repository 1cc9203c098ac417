/*
 * boot.c: the front end, `mosh [options] [user@]host [command]`
 * (doc/protocol.md §11). It replaces upstream's Perl wrapper: same options,
 * same ssh command line, same parsing of the server's output, then it
 * becomes the client in this process with the key handed over in memory
 * (never in argv or the environment). Upstream's messages and exit codes
 * are kept where users or scripts see them: the wrapper's own failures
 * exit 255 (Perl's die), the client's status is ours otherwise.
 *
 * Beyond upstream, a remote without mosh-server gets a binary of ours
 * (boot_install): one ssh run, no pty, whose remote command is a short
 * POSIX sh script (boot_script). It says on stdout, one line each,
 *   MOSH INSTALL UNAME <d> <uname -sm>  first; <d> is byte 5 (EI_DATA) of
 *                                the remote's /bin/sh, 0 if od is missing
 * and reads back "<sha256> <crc> <size> <name>" of the binary picked for
 * that machine (boot_pick_binary: this one, or mosh-linux-<arch> from
 * make dist; EOF if there is none), then tries the directories
 * ${XDG_CACHE_HOME:-~/.cache}/mosh, $XDG_RUNTIME_DIR/mosh,
 * /dev/shm/mosh-<uid>, ${TMPDIR:-/tmp}/mosh-<uid> in turn, saying
 *   MOSH INSTALL SKIP <dir>: <why>   this one is refused
 *   MOSH INSTALL HAVE <tool>     a cached copy verified: nothing is sent
 *   MOSH INSTALL SEND <tool> <dir>  send the binary: we write it to ssh's
 *                                stdin and close it; EOF ends the file
 *   MOSH INSTALL DIR <dir>       the copy there ran (--version): used
 *   MOSH INSTALL FAIL <why>      anything else that went wrong, or no
 *                                directory worked (each one named)
 * then execs the copy as `<file> server new ...`, whose MOSH CONNECT line
 * we read as usual. The cache name is mosh-<version>-<first 16 hex digits
 * of the binary's SHA-256>. <tool> is sha256sum, shasum, openssl, cksum,
 * or "none" when none of them exists (then no cached copy is ever reused,
 * and only the length of a fresh one is compared). A directory must
 * belong to the user, be writable by nobody else and not be a symbolic
 * link.
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
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
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mosh.h"

#define BOOT_DIE 255			/* upstream's wrapper dies (Perl) */
#define BOOT_SELF_MAX (64L << 20)	/* the binary we would upload */
#define BOOT_ARGS_MAX 256		/* words of the ssh command line */

#ifndef MOSH_LIBDIR
#define MOSH_LIBDIR "/usr/local/lib/mosh"	/* make install's PREFIX/lib/mosh */
#endif


/*
 * Getopt::Long's view of upstream's options: '!' ones also take no-. Ours
 * add BO_OPT, a flag that takes a value only as --name=VALUE (never the
 * next word, which would swallow the host).
 */
enum { BO_FLAG, BO_NEG, BO_VAL, BO_OPT };


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
	{ "install", BO_OPT, 'I' }, { "verbose", BO_FLAG, 'v' },
	{ "v", BO_FLAG, 'v' }, { "udp-only", BO_FLAG, 'U' },
	{ "ssh-transport", BO_FLAG, 'T' }
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
	    "        --install=FILE       ... and copy FILE, a mosh for the "
	    "server's machine\n"
	    "        --udp-only           never carry the session over ssh "
	    "(when UDP\n"
	    "                             is blocked the session gets no "
	    "reply)\n"
	    "        --ssh-transport      carry the session over ssh from the "
	    "start,\n"
	    "                             as well as UDP (for networks known "
	    "to block UDP)\n"
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
static void boot_chomp(char *);

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
const struct boot_optdef *
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
		b->install_file = v;
		break;
	case 'v':
		b->verbose++;
		break;
	case 'U':
		b->udp_only = 1;
		break;
	case 'T':
		b->ssh_transport = 1;
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
		} else if (d->kind == BO_OPT && eq != NULL) {
			v = eq + 1;
			if (*v == '\0') {
				fprintf(stderr, "Option %s needs a value after "
				    "=\n", d->name);
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
 * The host operand reaches ssh's command line and its ProxyCommand's %h,
 * which ssh hands to a shell: only what a host name, an IPv4 or IPv6
 * literal (with a %zone, in brackets or not) and a user@ part can hold is
 * let through, whatever the --ssh program would make of the rest. 0, or
 * -1 for a leading '-' (an option to ssh) or any other byte.
 */
int
boot_host_ok(const char *host)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789.-_:%[]@";

	if (host[0] == '\0' || host[0] == '-') {
		return -1;
	}
	return host[strspn(host, ok)] == '\0' ? 0 : -1;
}

/*
 * The len bytes of s with what a terminal would act on made visible, as
 * ssh shows a banner: C0 controls, DEL, the C1 controls U+0080-U+009F and
 * bytes that are not UTF-8 become \ooo (ESC is \033); tab and valid UTF-8
 * text stay as they are. out holds at most cap - 1 bytes and a NUL (4 *
 * len + 1 always suffice); what does not fit is cut at a whole sequence.
 * Returns the length written.
 */
size_t
boot_visible(char *out, size_t cap, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	size_t o = 0, n, i;
	uint32_t cp;

	if (cap == 0) {
		return 0;
	}
	while (p < end) {
		n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		if (n > (size_t)(end - p)) {
			n = 0;
		}
		cp = n == 1 ? *p : *p & (0x7f >> n);
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 1 && ((cp < 0x20 && cp != '\t') || cp == 0x7f)) ||
		    (n == 2 && cp < 0xa0) || (n == 3 && cp < 0x800) ||
		    (n == 3 && cp >= 0xd800 && cp < 0xe000) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
			n = 0;	/* control, C1, overlong or surrogate */
		}
		if (n == 0) {
			if (o + 4 >= cap) {
				break;
			}
			snprintf(out + o, cap - o, "\\%03o", *p++);
			o += 4;
			continue;
		}
		if (o + n >= cap) {
			break;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return o;
}

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
int
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

void
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
int
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
void
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

/* SHA-256 of p in lower-case hex, as sha256sum prints it. */
void
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

/* One byte into a POSIX cksum CRC (polynomial 0x04c11db7, MSB first). */
static uint32_t
boot_crc_byte(uint32_t crc, uint8_t b)
{
	int i;

	crc ^= (uint32_t)b << 24;
	for (i = 0; i < 8; i++) {
		crc = crc & 0x80000000u ? crc << 1 ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

/* What POSIX cksum prints first for p: the CRC of the bytes and length. */
uint32_t
boot_cksum(const uint8_t *p, size_t len)
{
	uint32_t crc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		crc = boot_crc_byte(crc, p[i]);
	}
	for (; len != 0; len >>= 8) {
		crc = boot_crc_byte(crc, (uint8_t)(len & 0xff));
	}
	return ~crc;
}

/*
 * What the remote's `uname -sm` machine runs, and the ELF header a binary
 * for it has: one row per name the kernel reports. The MIPS kernels say
 * "mips" in either byte order, so those rows also need the EI_DATA byte of
 * the remote's /bin/sh (1 little-endian, 2 big-endian; 0 matches any).
 */
struct boot_arch {
	const char *machine;		/* uname -m */
	int sh_data;			/* EI_DATA of /bin/sh, 0: any */
	const char *dist;		/* mosh-linux-<dist> (make dist) */
	int elf_class, elf_data, elf_machine;
};

static const struct boot_arch boot_arches[] = {
	{ "x86_64", 0, "x86_64", 2, 1, 62 },
	{ "aarch64", 0, "aarch64", 2, 1, 183 },
	{ "arm64", 0, "aarch64", 2, 1, 183 },
	{ "armv7l", 0, "armv7", 1, 1, 40 },
	{ "armv8l", 0, "armv7", 1, 1, 40 },
	{ "i386", 0, "i386", 1, 1, 3 },
	{ "i486", 0, "i386", 1, 1, 3 },
	{ "i586", 0, "i386", 1, 1, 3 },
	{ "i686", 0, "i386", 1, 1, 3 },
	{ "mips", 2, "mips", 1, 2, 8 },
	{ "mips", 1, "mipsel", 1, 1, 8 },
	{ "riscv64", 0, "riscv64", 2, 1, 243 }
};

/* The row for `uname -sm` (and /bin/sh's EI_DATA), or NULL: not ours. */
const char *
boot_arch_dist(const char *uname_sm, int sh_data)
{
	const char *m = str_after(uname_sm, "Linux ");
	size_t i;

	for (i = 0; m != NULL && i < LEN(boot_arches); i++) {
		if (strcmp(m, boot_arches[i].machine) == 0 &&
		    (boot_arches[i].sh_data == 0 ||
		    boot_arches[i].sh_data == sh_data)) {
			return boot_arches[i].dist;
		}
	}
	return NULL;
}

static const struct boot_arch *
boot_arch_row(const char *dist)
{
	size_t i;

	for (i = 0; i < LEN(boot_arches); i++) {
		if (strcmp(dist, boot_arches[i].dist) == 0) {
			return &boot_arches[i];
		}
	}
	return NULL;
}

/* An ELF field of n bytes at off, in the file's byte order (data). */
static uint64_t
boot_elf_get(const uint8_t *p, size_t off, int n, int data)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		v |= (uint64_t)p[off + (size_t)(data == 1 ? i : n - 1 - i)] <<
		    (8 * i);
	}
	return v;
}

/*
 * 0 if p is a static ELF executable for the machine of dist (class, byte
 * order, e_machine, and no PT_INTERP), else -1 with why set.
 */
int
boot_elf_check(const uint8_t *p, size_t len, const char *dist, char *why,
    size_t whylen)
{
	const struct boot_arch *a = boot_arch_row(dist);
	uint64_t phoff, i;
	size_t hdr, ent, num, w;
	int data;

	if (a == NULL || len < 64 || memcmp(p, "\177ELF", 4) != 0) {
		snprintf(why, whylen, "not an ELF file");
		return -1;
	}
	data = p[5];
	if (p[4] != a->elf_class || data != a->elf_data ||
	    boot_elf_get(p, 18, 2, data) != (uint64_t)a->elf_machine) {
		snprintf(why, whylen, "an ELF file for another machine "
		    "(class %d, byte order %d, e_machine %u; %s needs %d, %d, "
		    "%d)", p[4], p[5], (unsigned)boot_elf_get(p, 18, 2,
		    data == 2 ? 2 : 1), a->dist, a->elf_class, a->elf_data,
		    a->elf_machine);
		return -1;
	}
	w = a->elf_class == 2 ? 8 : 4;
	hdr = a->elf_class == 2 ? 64 : 52;
	phoff = boot_elf_get(p, a->elf_class == 2 ? 32 : 28, (int)w, data);
	ent = (size_t)boot_elf_get(p, hdr - 10, 2, data);
	num = (size_t)boot_elf_get(p, hdr - 8, 2, data);
	if (ent < 4 || phoff > len || num > (len - phoff) / ent) {
		snprintf(why, whylen, "an ELF file with bad program headers");
		return -1;
	}
	for (i = 0; i < num; i++) {
		if (boot_elf_get(p, (size_t)phoff + i * ent, 4, data) == 3) {
			snprintf(why, whylen, "dynamically linked (it names "
			    "an interpreter)");
			return -1;
		}
	}
	return 0;
}

/* Reads path whole into s, with its hash and cache name. */
static int
boot_self_load(struct boot_self *s, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	memset(s, 0, sizeof *s);
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > BOOT_SELF_MAX ||
	    (s->p = malloc((size_t)st.st_size)) == NULL) {
		snprintf(err, errlen, "not a file of a possible size");
		close(fd);
		return -1;
	}
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
		snprintf(err, errlen, "short read");
		free(s->p);
		s->p = NULL;
		return -1;
	}
	boot_hash(s->p, s->len, s->hex);
	snprintf(s->name, sizeof s->name, "mosh-%s-%.16s", MOSH_VERSION,
	    s->hex);
	snprintf(s->path, sizeof s->path, "%s", path);
	return 0;
}

/*
 * The hash SHA256SUMS beside path lists for path's name into hex; 1 if
 * listed, 0 if not (or no such file). "ours" (if not NULL) is set when it
 * also lists this program's hash: the same build.
 */
static int
boot_sums(const char *path, const char *self_hex, char hex[65], int *ours)
{
	char sums[PATH_MAX], line[PATH_MAX + 80];
	const char *base = strrchr(path, '/');
	size_t dir = base != NULL ? (size_t)(base - path) + 1 : 0;
	int found = 0;
	FILE *f;

	base = path + dir;
	*ours = 0;
	if (snprintf(sums, sizeof sums, "%.*sSHA256SUMS", (int)dir, path) >=
	    (int)sizeof sums || (f = fopen(sums, "r")) == NULL) {
		return 0;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		boot_chomp(line);
		if (strlen(line) < 66 || line[64] != ' ') {
			continue;
		}
		if (self_hex != NULL && strncmp(line, self_hex, 64) == 0) {
			*ours = 1;
		}
		if (strcmp(line + 66, base) == 0) {
			memcpy(hex, line, 64);
			hex[64] = '\0';
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/*
 * 0 if the file in s is a binary of ours for dist, of this version: a
 * static ELF for that machine whose SHA256SUMS entry beside it (if any)
 * matches, and either that SHA256SUMS lists this program too (one build)
 * or the file holds our version string. -1 with why set otherwise.
 */
static int
boot_binary_ok(const struct boot_self *s, const char *dist,
    const char *self_hex, char *why, size_t whylen)
{
	static const char ver[] = "(mosh-c " MOSH_VERSION ", ";
	char listed[65];
	int ours = 0;

	if (boot_elf_check(s->p, s->len, dist, why, whylen) == -1) {
		return -1;
	}
	if (boot_sums(s->path, self_hex, listed, &ours)) {
		if (strcmp(listed, s->hex) != 0) {
			snprintf(why, whylen, "its SHA-256 is not the one "
			    "SHA256SUMS beside it lists");
			return -1;
		}
		if (ours) {
			return 0;
		}
	}
	if (memmem(s->p, s->len, ver, sizeof ver - 1) == NULL) {
		snprintf(why, whylen, "not mosh-c " MOSH_VERSION);
		return -1;
	}
	return 0;
}

/* Appends "path (why)" to the list of places looked. */
static void
boot_looked(char *list, size_t cap, const char *path, const char *why)
{
	size_t n = strlen(list);

	/* A list too long for cap is cut short. */
	if (snprintf(list + n, cap - n, "%s%s (%s)", n > 0 ? ", " : "", path,
	    why) < 0) {
		list[n] = '\0';
	}
}

/*
 * The binary to run on a remote whose `uname -sm` is uname_sm and whose
 * /bin/sh has the EI_DATA byte sh_data: --install=FILE if given, else this
 * program if it fits, else mosh-linux-<arch> beside this program, in
 * ${XDG_DATA_HOME:-~/.local/share}/mosh or in PREFIX/lib/mosh, the first
 * that is a static ELF for that machine and of this version. Loads it into
 * out (free out->p); -1 with a message naming the remote's system and
 * every place looked in err.
 */
int
boot_pick_binary(const struct boot *b, const char *uname_sm, int sh_data,
    struct boot_self *out, char *err, size_t errlen)
{
	char dirs[3][PATH_MAX], path[PATH_MAX + 32], why[256], looked[2048];
	char self_hex[65], vis[4 * 256 + 1];
	const char *dist, *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
	size_t i, nd = 0;
	char *slash;

	boot_visible(vis, sizeof vis, uname_sm, strnlen(uname_sm, 256));
	if ((dist = boot_arch_dist(uname_sm, sh_data)) == NULL) {
		snprintf(err, errlen, "the server runs %s, for which there is "
		    "no mosh binary (there are x86_64, aarch64, armv7, i386, "
		    "mips, mipsel and riscv64 ones): install mosh-server on "
		    "it", vis);
		return -1;
	}
	if (b->install_file != NULL) {
		if (boot_self_load(out, b->install_file, why,
		    sizeof why) == -1 ||
		    boot_binary_ok(out, dist, NULL, why, sizeof why) == -1) {
			snprintf(err, errlen, "--install=%s: %s, not a mosh "
			    "for the server (%s, mosh-linux-%s)",
			    b->install_file, why, vis, dist);
			free(out->p);
			out->p = NULL;
			return -1;
		}
		return 0;
	}
	if (boot_self_load(out, "/proc/self/exe", why, sizeof why) == -1) {
		snprintf(err, errlen, "cannot read this program: %s", why);
		return -1;
	}
	snprintf(out->path, sizeof out->path, "%s", b->self);
	if (boot_elf_check(out->p, out->len, dist, why, sizeof why) == 0) {
		return 0;
	}
	memcpy(self_hex, out->hex, sizeof self_hex);
	free(out->p);
	out->p = NULL;
	snprintf(dirs[nd], sizeof dirs[nd], "%s", b->self);
	if ((slash = strrchr(dirs[nd], '/')) != NULL) {
		slash[1] = '\0';
		nd++;
	}
	if (x != NULL && x[0] == '/') {
		snprintf(dirs[nd++], sizeof dirs[0], "%s/mosh/", x);
	} else if (h != NULL && h[0] == '/') {
		snprintf(dirs[nd++], sizeof dirs[0], "%s/.local/share/mosh/",
		    h);
	}
	snprintf(dirs[nd++], sizeof dirs[0], "%s/", MOSH_LIBDIR);
	looked[0] = '\0';
	for (i = 0; i < nd; i++) {
		if ((size_t)snprintf(path, sizeof path, "%smosh-linux-%s",
		    dirs[i], dist) >= sizeof path) {
			continue;	/* a directory name too long to use */
		}
		if (boot_self_load(out, path, why, sizeof why) == 0 &&
		    boot_binary_ok(out, dist, self_hex, why, sizeof why) == 0) {
			boot_log(b, "the server runs %s: sending %s", vis,
			    path);
			return 0;
		}
		free(out->p);
		out->p = NULL;
		boot_log(b, "not %s: %s", path, why);
		boot_looked(looked, sizeof looked, path, why);
	}
	snprintf(err, errlen, "the server runs %s, and no mosh-linux-%s of "
	    "version " MOSH_VERSION " was found: looked for %s; make dist "
	    "builds it, --install=FILE names one", vis, dist, looked);
	return -1;
}

/*
 * The remote half of the self-install, run by `sh -c SCRIPT mosh server
 * new ...`. One line (login shells such as csh dislike newlines inside
 * quotes), no single quotes (it is quoted whole) and no backslashes (fish
 * keeps them). It first says what the machine is (`MOSH INSTALL UNAME
 * <EI_DATA of /bin/sh> <uname -sm>`, the byte 0 when od is missing) and
 * reads one line back, `<sha256> <crc> <size> <name>` of the binary we
 * picked (boot_pick_binary); EOF instead means there is none, and it ends.
 * Then it tries the directories in turn (boot.c's opening comment): each
 * must be a directory of the user's that nobody else may write and not a
 * symbolic link, so that between the check and the exec nobody else can
 * replace the file; a refused one is said as `MOSH INSTALL SKIP <dir>:
 * <why>`. It never writes over a file it did not create: the temporary
 * name is created with noclobber, and the final name carries the hash, so
 * whatever sits there and does not verify is a copy of ours that went
 * bad. A cached copy is reused only when its SHA-256 (sha256sum, shasum,
 * openssl) or its POSIX cksum (CRC and length, boot_cksum) is the one we
 * sent; with none of those tools ("none") it is sent again every time and
 * only its length is checked. The binary crosses the link once: a
 * directory after the first that verified a copy gets it from there. A
 * copy is used only once `<copy> --version` ran (a noexec mount fails
 * there), through $MOSH_INSTALL_EMULATOR if set (for the tests only).
 * Needs sh, uname, mkdir, ls, id, cat, chmod, mv, rm, wc; od if there.
 */
const char boot_script[] =
	"umask 077; e=0; if command -v od >/dev/null 2>&1; then "
	"for w in $(od -An -tu1 -j5 -N1 /bin/sh 2>/dev/null); do e=$w; "
	"done; fi; "
	"echo \"MOSH INSTALL UNAME ${e:-0} $(uname -sm)\"; "
	"read -r h c z n k || exit 1; "
	"ck() { m=none; o=; "
	"if command -v sha256sum >/dev/null 2>&1; then m=sha256sum; "
	"o=$(sha256sum <\"$1\"); "
	"elif command -v shasum >/dev/null 2>&1; then m=shasum; "
	"o=$(shasum -a 256 <\"$1\"); "
	"elif command -v openssl >/dev/null 2>&1; then m=openssl; "
	"o=$(openssl dgst -sha256 <\"$1\"); "
	"elif command -v cksum >/dev/null 2>&1; then m=cksum; "
	"[ \"$(cksum <\"$1\")\" = \"$c $z\" ]; return; "
	"else [ \"$2\" = new ] && [ $(wc -c <\"$1\") = \"$z\" ]; return; fi; "
	"for w in $o; do if [ \"$w\" = \"$h\" ]; then return 0; fi; "
	"done; return 1; }; "
	"own() { set -- $(ls -ldn \"$1\" 2>/dev/null); case $1 in "
	"d????w*|d???????w*) return 1;; d*) ;; *) return 1;; esac; "
	"[ \"$3\" = \"$(id -u)\" ]; }; "
	"use() { d=$1; f=$d/$n; t=$d/.$n.$$; "
	"if [ -L \"$d\" ]; then y=\"a symbolic link\"; return 1; fi; "
	"mkdir -p \"$d\" 2>/dev/null; "
	"if [ ! -d \"$d\" ]; then y=\"cannot be created\"; return 1; fi; "
	"if ! own \"$d\"; then y=\"not a directory of this user that only "
	"it can write\"; return 1; fi; "
	"if [ -e \"$f\" ] && [ ! -f \"$f\" ]; then "
	"y=\"$f is not a regular file\"; return 1; fi; "
	"if [ -f \"$f\" ] && ck \"$f\"; then "
	"if [ -z \"$s\" ]; then s=$f; echo \"MOSH INSTALL HAVE $m\"; fi; "
	"else "
	"if ! (set -C; : >\"$t\") 2>/dev/null; then "
	"y=\"read-only (cannot create $t)\"; return 1; fi; "
	"if [ -n \"$s\" ]; then cat \"$s\" >>\"$t\"; else "
	"ck /dev/null; echo \"MOSH INSTALL SEND $m $d\"; "
	"if ! { if [ \"$k\" = stream ]; then head -c \"$z\"; else cat; fi; "
	"} >>\"$t\"; then rm -f \"$t\"; "
	"echo \"MOSH INSTALL FAIL cannot write $t\"; exit 1; fi; fi; "
	"if ! ck \"$t\" new; then rm -f \"$t\"; if [ -z \"$s\" ]; then "
	"echo \"MOSH INSTALL FAIL the copy in $t did not verify ($m)\"; "
	"exit 1; fi; y=\"the copy in $t did not verify\"; return 1; fi; "
	"if ! { chmod 700 \"$t\" && mv -f \"$t\" \"$f\"; }; then rm -f \"$t\"; "
	"y=\"cannot move $t to $f\"; return 1; fi; "
	"if [ -z \"$s\" ]; then s=$f; fi; fi; "
	"if ! $MOSH_INSTALL_EMULATOR \"$f\" --version </dev/null >/dev/null "
	"2>&1; then "
	"y=\"cannot run $f (noexec?)\"; return 1; fi; }; "
	"s=; l=; i=$(id -u); "
	"for g in \"${XDG_CACHE_HOME:-$HOME/.cache}/mosh\" "
	"${XDG_RUNTIME_DIR:+\"$XDG_RUNTIME_DIR/mosh\"} \"/dev/shm/mosh-$i\" "
	"\"${TMPDIR:-/tmp}/mosh-$i\"; do "
	"if use \"$g\"; then echo \"MOSH INSTALL DIR $g\"; "
	"if [ \"$k\" = stream ]; then exec $MOSH_INSTALL_EMULATOR \"$f\" \"$@\"; "
	"fi; exec $MOSH_INSTALL_EMULATOR \"$f\" \"$@\" </dev/null; fi; "
	"echo \"MOSH INSTALL SKIP $g: $y\"; l=\"$l $g ($y)\"; done; "
	"echo \"MOSH INSTALL FAIL no usable directory:$l\"; exit 1";

/* ---- running ssh (or the local server) and reading its output ---- */


void
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
		core_on(&b->core);
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
const char *
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

int
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
 * Text the remote sent, made visible for our terminal (boot_visible) in a
 * buffer of its own that the next call reuses; the \r a remote pty puts
 * before the newline is dropped first.
 */
static const char *
boot_vis(const char *s)
{
	static char vis[4 * BOOT_LINE_MAX + 1];
	size_t n = strnlen(s, BOOT_LINE_MAX);

	while (n > 0 && s[n - 1] == '\r') {
		n--;
	}
	boot_visible(vis, sizeof vis, s, n);
	return vis;
}

/*
 * One line of the server's output (protocol.md §11.4). Returns 1 when the
 * MOSH CONNECT line was read (stop reading), 0 to go on.
 */
int
boot_line(struct boot *b, char *line)
{
	char *p, *w[8];
	size_t n;
	int nw = 0;

	if ((p = str_after(line, "MOSH IP ")) != NULL) {
		if (b->have_ip) {
			boot_die(b, "error: detected attempt to redefine "
			    "MOSH IP.");
		}
		boot_chomp(line);
		if (*p == '\0' || strpbrk(p, " \t") != NULL ||
		    strlen(p) >= sizeof b->ip) {
			fprintf(stderr, "Bad MOSH IP string: %s\n",
			    boot_vis(line));
			exit(BOOT_DIE);
		}
		snprintf(b->ip, sizeof b->ip, "%s", p);
		b->have_ip = 1;
		return 0;
	}
	if ((p = str_after(line, "MOSH SSH_CONNECTION ")) != NULL) {
		boot_chomp(line);
		for (p = strtok(p, " \t"); p != NULL && nw < 8;
		    p = strtok(NULL, " \t")) {
			w[nw++] = p;
		}
		if (nw != 4 || strlen(w[2]) >= sizeof b->ip) {
			fprintf(stderr, "Bad MOSH SSH_CONNECTION string\n");
			exit(BOOT_DIE);
		}
		if (!b->have_ip) {
			fprintf(stderr, "%s: Using remote IP address %s from "
			    "$SSH_CONNECTION for hostname %s\n", b->prog,
			    boot_vis(w[2]), b->ops[0]);
			snprintf(b->ip, sizeof b->ip, "%s", w[2]);
			b->have_ip = 1;
		}
		return 0;
	}
	if ((p = str_after(line, "MOSH CONNECT ")) != NULL) {
		boot_chomp(line);
		n = strspn(p, "0123456789");
		if (n == 0 || n > 5 || p[n] != ' ' ||
		    strspn(p + n + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789/+") != 22 ||
		    p[n + 23] != '\0') {
			fprintf(stderr, "Bad MOSH CONNECT string: %s\n",
			    boot_vis(line));
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
	printf("%s\n", boot_vis(line));
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
			boot_log(b, "the server says: %s", boot_vis(line));
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
 * The remote's first line, "<EI_DATA> <uname -sm>": the binary for it is
 * picked and its hash, CRC, size and name go back on one line. Dies (after
 * ssh ends) when there is none.
 */
static void
boot_answer(struct boot *b, struct boot_run *r, const char *arg,
    struct boot_self *self)
{
	char err[4096], reply[256];
	long data;
	char *end;

	data = strtol(arg, &end, 10);
	if (end == arg || *end != ' ') {
		data = 0;
	} else {
		arg = end + 1;
	}
	if (boot_pick_binary(b, arg, (int)data, self, err, sizeof err) ==
	    -1) {
		close(r->in);
		r->in = -1;
		boot_reap(r);
		boot_die(b, "%s", err);
	}
	snprintf(reply, sizeof reply, "%s %lu %zu %s\n", self->hex,
	    (unsigned long)boot_cksum(self->p, self->len), self->len,
	    self->name);
	if (write_all(r->in, reply, strlen(reply)) == -1) {
		boot_log(b, "ssh: %s", strerror(errno));
	}
}

/*
 * The self-install (see the top of this section): one ssh run without a
 * pty, the binary picked for the remote on its stdin if it asks for it.
 */
static int
boot_install(struct boot *b)
{
	static char store[8192], proxy[PATH_MAX + 128], target[512];
	char *argv[BOOT_ARGS_MAX], *line, *arg, *sp;
	struct boot_self self;
	struct buf cmd;
	struct boot_run r;
	int n, st;

	memset(&self, 0, sizeof self);
	n = boot_ssh_argv(b, argv, store, sizeof store, proxy, sizeof proxy,
	    target, sizeof target, 1);
	memset(&cmd, 0, sizeof cmd);
	boot_remote_prefix(b, &cmd);
	boot_add(b, &cmd, "sh", 0);
	boot_add(b, &cmd, "-c", 0);
	boot_add(b, &cmd, boot_script, 1);
	boot_add(b, &cmd, "mosh", 1);
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
	boot_log(b, "installing mosh on the server if it has no copy");
	boot_spawn(b, &r, argv, NULL, 1, strcmp(b->remote_ip, "proxy") == 0);
	signal_set(SIGPIPE, SIG_IGN);
	while ((line = (char *)boot_getline(&r)) != NULL) {
		boot_chomp(line);
		if ((arg = str_after(line, "MOSH INSTALL UNAME ")) != NULL &&
		    self.p == NULL) {
			boot_answer(b, &r, arg, &self);
		} else if ((arg = str_after(line, "MOSH INSTALL HAVE ")) !=
		    NULL) {
			boot_log(b, "the server has a copy (checked with %s)",
			    boot_vis(arg));
			close(r.in);
			r.in = -1;
		} else if ((arg = str_after(line, "MOSH INSTALL SEND ")) !=
		    NULL && self.p != NULL) {
			sp = strchr(arg, ' ');
			if (sp != NULL) {
				*sp++ = '\0';
			}
			fprintf(stderr, "%s: copying %s to the server's %s\n",
			    b->prog, self.name, boot_vis(sp != NULL ? sp :
			    "cache"));
			boot_log(b, "uploading %s, %zu bytes (%s will check "
			    "them)", self.path, self.len, boot_vis(arg));
			if (strcmp(arg, "none") == 0) {
				boot_log(b, "the server has no sha256sum, "
				    "shasum, openssl or cksum: the copy is "
				    "sent every time, and only its size is "
				    "checked");
			}
			if (r.in == -1 ||
			    write_all(r.in, self.p, self.len) == -1) {
				boot_log(b, "upload: %s", strerror(errno));
			}
			if (r.in != -1) {
				close(r.in);
				r.in = -1;
			}
		} else if ((arg = str_after(line, "MOSH INSTALL SKIP ")) !=
		    NULL) {
			boot_log(b, "refused on the server: %s", boot_vis(arg));
		} else if ((arg = str_after(line, "MOSH INSTALL DIR ")) !=
		    NULL) {
			boot_log(b, "running the copy in %s on the server",
			    boot_vis(arg));
		} else if ((arg = str_after(line, "MOSH INSTALL FAIL ")) !=
		    NULL) {
			boot_reap(&r);
			boot_die(b, "could not install mosh on the server: %s",
			    boot_vis(arg));
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

int
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

void
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

/*
 * The ssh path of protocol.md §14 for our client: the ssh command line of
 * the self-install (no pty, stdin ours) with BatchMode, since the user's
 * terminal belongs to the session by then, running boot_script in its
 * stream mode: the answer to its UNAME line (this binary; tun_path_uname
 * checks that it fits the server) ends in "stream", so the script reads
 * the binary with head -c and execs the tunnel on the same stdin. -1 (and
 * no path) when this program cannot read itself.
 */
static int
boot_path(struct boot *b, struct tun_path *p)
{
	static char store[8192], proxy[PATH_MAX + 128], target[512];
	static char *argv[BOOT_ARGS_MAX];
	static struct boot_self self;
	static struct buf cmd;
	static char answer[256];
	const char *addr = "ssh";
	char err[256];
	int n;

	tun_path_init(p);
	if (boot_self_load(&self, "/proc/self/exe", err, sizeof err) == -1) {
		boot_log(b, "no ssh path: %s", err);
		return -1;
	}
	snprintf(answer, sizeof answer, "%s %lu %zu %s stream\n", self.hex,
	    (unsigned long)boot_cksum(self.p, self.len), self.len, self.name);
	n = boot_ssh_argv(b, argv, store, sizeof store, proxy, sizeof proxy,
	    target, sizeof target, 1);
	/* BatchMode goes before the host and "--". */
	argv[n + 1] = argv[n - 1];
	argv[n] = argv[n - 2];
	argv[n - 2] = (char *)"-o";
	argv[n - 1] = (char *)"BatchMode=yes";
	n += 2;
	if (b->bind != NULL && strcasecmp(b->bind, "ssh") != 0 &&
	    strcasecmp(b->bind, "any") != 0) {
		addr = b->bind;
	}
	boot_add(b, &cmd, "sh", 0);
	boot_add(b, &cmd, "-c", 0);
	boot_add(b, &cmd, boot_script, 1);
	boot_add(b, &cmd, "mosh", 1);
	boot_add(b, &cmd, "tunnel", 1);
	boot_add(b, &cmd, addr, 1);
	boot_add(b, &cmd, b->udp, 1);
	if (buf_putc(&cmd, '\0') == -1) {
		boot_die(b, "out of memory");
	}
	argv[n++] = (char *)cmd.p;
	argv[n] = NULL;
	if (b->verbose > 1) {
		boot_show_argv(b, argv);
	}
	p->argv = argv;
	p->answer = answer;
	p->blob = self.p;
	p->blob_len = self.len;
	return 0;
}

/* The client: ours in this process, or --client=PATH as upstream does. */
static int
boot_client(struct boot *b)
{
	static struct tun_path path;
	int have_path = 0;

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
		core_on(&b->core);
		execvp(b->client, argv);
		boot_die(b, "Cannot exec %s: %s", b->client, strerror(errno));
	}
	argv[0] = (char *)b->prog;
	argv[1] = b->cmdline;
	argv[2] = b->ip;
	argv[3] = b->udp;
	argv[4] = NULL;
	if (!b->udp_only && !b->local) {
		have_path = boot_path(b, &path) == 0;
	}
	free(b->ops);
	b->ops = NULL;
	/* client_run copies the key and wipes b->key. */
	return client_run_path(b->prog, 4, argv, b->key,
	    have_path ? &path : NULL, b->ssh_transport);
}

int
boot_main(int argc, char **argv)
{
	struct boot b;
	char line[4 * 256];
	ssize_t n;
	int st = 0;

	memset(&b, 0, sizeof b);
	/* The key arrives here before client_run: keep it from ptrace. */
	core_off(&b.core);
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
	if (boot_host_ok(b.ops[0]) == -1) {
		boot_visible(line, sizeof line, b.ops[0],
		    strnlen(b.ops[0], sizeof line / 4 - 1));
		boot_die(&b, "not a host name: %s (letters, digits and "
		    ".-_:%%[]@ only)", line);
	}
	n = readlink("/proc/self/exe", b.self, sizeof b.self - 1);
	if (n <= 0) {
		snprintf(b.self, sizeof b.self, "%s", argv[0]);
	} else {
		b.self[n] = '\0';
	}
	/* Our client would refuse this locale: say so before ssh runs. */
	if (b.client == NULL && locale_for_client() == -1) {
		exit(1);
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
	return boot_client(&b);
}
