/*
 * server.c: the server role, `mosh-server new` / `mosh server new`
 * (doc/protocol.md §9). It prints "MOSH CONNECT <port> <key>", forks once
 * into the background, runs the shell on a pty and serves one session:
 * the pty's output goes through the emulator into the screen state that SSP
 * sends, and the client's keystrokes come back from SSP into the pty.
 *
 * server_loop() is the only place that waits; the timing rules (when the
 * pty is read, when an echo goes out at once) are in the comments above
 * server_sync and server_wait_ms. Once the loop runs nothing calls exit():
 * a local failure ends the loop, and remote input is dropped and counted.
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
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include "mosh.h"

extern char **environ;

#define SERVER_NO_CLIENT_MS 60000	/* exit if no client ever came */
#define SERVER_IDLE_WAKE_MS 5000	/* wake-up while alone or closing */
#define SERVER_TOPTY_MAX (1u << 20)	/* past this, stop reading the net */
#define SERVER_ECHO_TIMEOUT_MS 50	/* protocol.md §8.3 */
#define SERVER_PTY_BUDGET (64u << 10)	/* pty bytes emulated per pass */

static void
server_usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] "
	    "[-c COLORS] [-l NAME=VALUE] [-- COMMAND...]\n", prog);
}

/* ==== server: command line and environment (protocol.md §9.1, §9.2) ==== */

/* "N" or "LOW:HIGH" (net.c parses it); upstream's message on stderr. */
int
server_port_parse(const char *s, int *lo, int *hi)
{
	char err[160];

	if (net_parse_ports(s, lo, hi, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* -s: the third word of $SSH_CONNECTION without "::ffff:"; NULL: any. */
const char *
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
server_usage_die(const struct server_opts *o, const char *what, const char *arg)
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
				server_usage_die(o, "number of colors", op.arg);
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
void
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
	    server_port_parse(o->port, &o->port_lo, &o->port_hi) == -1) {
		server_usage_die(o, "UDP port range", o->port);
	}
}

/*
 * MOSH_SERVER_*_TMOUT in seconds, 0 = off. Upstream's quirk is kept: "10x"
 * is reported as not a valid integer and 10 is used all the same. A
 * negative leading number ("-5x") is ignored rather than wrapped.
 */
long
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
	return t < 0 ? 0 : MIN(t, SERVER_TMOUT_MAX);
}

/* ==== server: the process (protocol.md §9.3, §9.4) ==== */


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
	core_on(&s->core);
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
void
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
	return mosh_link(&s->net, server_send, s);
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
void
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
int
server_echo_ack(struct server *s, uint64_t now)
{
	uint64_t newest = 0;
	size_t i, j;

	for (i = 0; i < s->necho; i++) {
		if (s->echo_t[i] + SERVER_ECHO_TIMEOUT_MS <= now) {
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
size_t
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
int
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
void
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
 * written to FILE.tmp (created afresh, mode 600, never through a symlink)
 * and renamed over FILE. Lines: "size W H", "cursor Y
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
	int y, x, x0, fd;

	if (snprintf(tmp, sizeof tmp, "%s.tmp", s->dump) >= (int)sizeof tmp) {
		return;
	}
	/* A fresh file of ours only: never through a link planted there. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	}
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1) {
			close(fd);
		}
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

	if (sig_take(SIGUSR1)) {
		if (s->sig_tmout == 0 ||
		    idle >= (uint64_t)s->sig_tmout * 1000) {
			fprintf(stderr, "Network idle for %llu seconds when "
			    "SIGUSR1 received\n",
			    (unsigned long long)idle / 1000);
			server_stop(s, now);
		}
	}
	if (sig_take(SIGTERM)) {
		server_stop(s, now);
	}
	if (sig_take(SIGUSR2)) {
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
		due = s->echo_t[1] + SERVER_ECHO_TIMEOUT_MS;
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
	int socks[NET_MAX_SOCKS + 1], k, empty, echo;

	/* SIGUSR2 keeps its default (fatal) action unless a dump is asked. */
	signals_catch(sigs, LEN(sigs) - (s->dump == NULL), &s->waitmask);
	s->start = s->last_client = now_ms();
	syslog(LOG_INFO, "user %s session begin", s->user);
	while (!s->done) {
		now = now_ms();
		k = MIN(net_fds(&s->net, socks, NET_MAX_SOCKS + 1),
		    NET_MAX_SOCKS + 1);
		fds[0].fd = k > 0 && s->topty.len < SERVER_TOPTY_MAX ?
		    socks[k - 1] : -1;
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
int
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
	cfg.rand = mosh_chaff;
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

int
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
