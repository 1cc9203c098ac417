/*
 * ptytime.c: runs a command (a mosh client, or a bare program) on a pty it
 * owns, acting as the terminal: it types keys into the pty and timestamps
 * the moment a key enters it and the moment the text it waits for comes
 * out, so the figures have no terminal emulator or screen poller in them.
 * Used by test/session_bench.sh; test/ptytime_e2e.sh tests it.
 *
 * Usage:
 *   ptytime [options] drain -- CMD [ARG...]
 *       read the pty in a tight loop until CMD closes it; print
 *       "ms=N bytes=N" (the time from the start of CMD)
 *   ptytime [options] wait READY MARK -- CMD [ARG...]
 *       wait until READY is visible, run the hook with "go", type Enter,
 *       wait until MARK is visible (the clock stops), run the hook with
 *       "end"; print "ms=N" and the process figures below
 *   ptytime [options] keys PROMPT N -- CMD [ARG...]
 *       wait until PROMPT is visible, then N times: type one letter, wait
 *       until it is visible, pause 60-180 ms (a fixed pseudo-random
 *       sequence); print "key MS" for each, then the process figures
 *   ptytime [options] idle PROMPT SEC -- CMD [ARG...]
 *       wait until PROMPT is visible, let 1 s pass, run the hook with
 *       "go", let at least SEC seconds pass and then wait for SIGUSR1
 *       (which may come earlier; without one, an hour), run the hook
 *       with "end"; print "ms=N" (the time between the hooks) and the
 *       process figures
 * Options:
 *   -c COLS, -r ROWS   the pty's size (default 80x24)
 *   -t SEC             give up after SEC seconds in any one wait (30)
 *   -p PID             the server's PID, for the process figures
 *   -x HOOK            a shell command, run as "HOOK go" and "HOOK end"
 * Process figures, one line of NAME=VALUE (a value is -1 when it could
 * not be read): srv_cpu_ms and cli_cpu_ms (user + system time between
 * "go" and "end"; for keys, over the keystrokes), srv_rss_kb,
 * srv_hwm_kb, cli_rss_kb, cli_hwm_kb (VmRSS and VmHWM at "end").
 *
 * "Visible" means that the text appears among the printable bytes the
 * command writes, escape sequences (CSI, OSC, DCS and the like) left out:
 * a client that redraws a row writes the new cells, and a marker whose
 * characters never occur in the input cannot have cells that a client
 * would skip as unchanged. A letter typed at an idle prompt is visible
 * when the client draws its echo. CMD gets TERM=xterm-256color unless TERM
 * is set. Exit status: 0 on success, 1 when a wait timed out or CMD ended
 * first (a line "ptytime: ..." on stderr says which), 2 on usage errors.
 * CMD is sent SIGTERM at the end, then SIGKILL after 3 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEXT 64
#define MAX_KEYS 10000
#define BUF_SIZE 65536
#define IDLE_MAX_MS 3600000.0

static volatile sig_atomic_t got_usr1;

/* Escape-sequence stripper: which bytes a terminal would print. */
enum { S_GROUND, S_ESC, S_ESC_INTER, S_CSI, S_STR, S_STR_ESC };

struct strip {
	int state;
};

/* Incremental search for one string in the printable stream (KMP). */
struct match {
	char text[MAX_TEXT];
	size_t len, fail[MAX_TEXT], got;
};

struct child {
	pid_t pid;
	int fd;			/* pty master */
	int closed;		/* read returned EOF or EIO */
	uint64_t bytes;
};

struct procfig {
	long srv_cpu, cli_cpu;
	long srv_rss, srv_hwm, cli_rss, cli_hwm;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(double ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1e3);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1e3) * 1e6);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
		continue;
	}
}

/* Feed one byte; returns 1 if it is printed text. */
static int
strip_byte(struct strip *s, uint8_t c)
{
	if (c == 0x18 || c == 0x1a) {	/* CAN, SUB abort a sequence */
		s->state = S_GROUND;
		return 0;
	}
	switch (s->state) {
	case S_GROUND:
		if (c == 0x1b) {
			s->state = S_ESC;
			return 0;
		}
		return c >= 0x20 && c != 0x7f;
	case S_ESC:
		if (c == '[') {
			s->state = S_CSI;
		} else if (c == ']' || c == 'P' || c == 'X' || c == '^' ||
		    c == '_') {
			s->state = S_STR;
		} else if (c >= 0x20 && c <= 0x2f) {
			s->state = S_ESC_INTER;
		} else if (c == 0x1b) {
			s->state = S_ESC;
		} else {
			s->state = S_GROUND;
		}
		return 0;
	case S_ESC_INTER:
		if (c < 0x20 || c > 0x2f) {
			s->state = c == 0x1b ? S_ESC : S_GROUND;
		}
		return 0;
	case S_CSI:
		if (c == 0x1b) {
			s->state = S_ESC;
		} else if (c >= 0x40 && c <= 0x7e) {
			s->state = S_GROUND;
		}
		return 0;
	case S_STR:
		if (c == 0x07) {
			s->state = S_GROUND;
		} else if (c == 0x1b) {
			s->state = S_STR_ESC;
		}
		return 0;
	case S_STR_ESC:
		s->state = c == '\\' ? S_GROUND : S_STR;
		return 0;
	}
	s->state = S_GROUND;
	return 0;
}

static int
match_init(struct match *m, const char *text)
{
	size_t i, k;

	memset(m, 0, sizeof(*m));
	m->len = strlen(text);
	if (m->len == 0 || m->len >= MAX_TEXT) {
		return -1;
	}
	memcpy(m->text, text, m->len);
	for (i = 1, k = 0; i < m->len; i++) {
		while (k > 0 && m->text[i] != m->text[k]) {
			k = m->fail[k - 1];
		}
		if (m->text[i] == m->text[k]) {
			k++;
		}
		m->fail[i] = k;
	}
	return 0;
}

/* Feed one printable byte; returns 1 when the whole text has been seen. */
static int
match_byte(struct match *m, uint8_t c)
{
	while (m->got > 0 && (uint8_t)m->text[m->got] != c) {
		m->got = m->fail[m->got - 1];
	}
	if ((uint8_t)m->text[m->got] == c) {
		m->got++;
	}
	if (m->got == m->len) {
		m->got = m->fail[m->len - 1];
		return 1;
	}
	return 0;
}

static int
child_start(struct child *ch, char **argv, unsigned short cols,
    unsigned short rows)
{
	struct winsize ws;
	char *name;
	int fd, slave;

	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
	fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (fd == -1 || grantpt(fd) == -1 || unlockpt(fd) == -1 ||
	    (name = ptsname(fd)) == NULL) {
		perror("ptytime: pty");
		return -1;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = cols;
	ws.ws_row = rows;
	if (ioctl(fd, TIOCSWINSZ, &ws) == -1) {
		perror("ptytime: TIOCSWINSZ");
		close(fd);
		return -1;
	}
	ch->pid = fork();
	if (ch->pid == -1) {
		perror("ptytime: fork");
		close(fd);
		return -1;
	}
	if (ch->pid == 0) {
		close(fd);
		if (setsid() == -1 || (slave = open(name, O_RDWR)) == -1) {
			_exit(127);
		}
		(void)ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2) {
			close(slave);
		}
		setenv("TERM", "xterm-256color", 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	ch->fd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		perror("ptytime: fcntl");
		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, NULL, 0);
		close(fd);
		return -1;
	}
	return 0;
}

/*
 * Read what is there, waiting up to wait_ms for the first byte. Each
 * printable byte goes to m (when not NULL) and to key (when not 0); stops
 * early and returns 1 as soon as either is found, 0 otherwise, -1 when the
 * pty closed.
 */
static int
child_read(struct child *ch, struct strip *s, struct match *m, int key,
    double wait_ms)
{
	static uint8_t buf[BUF_SIZE];
	struct pollfd pfd;
	ssize_t n, i;
	int found = 0;

	if (ch->closed) {
		return -1;
	}
	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, wait_ms < 0 ? 0 : (int)(wait_ms + 0.999)) <= 0) {
		return 0;
	}
	for (;;) {
		n = read(ch->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && errno == EAGAIN) {
			return found;
		}
		if (n <= 0) {
			ch->closed = 1;
			return found ? 1 : -1;
		}
		ch->bytes += (uint64_t)n;
		if (s == NULL) {
			continue;
		}
		for (i = 0; i < n; i++) {
			if (!strip_byte(s, buf[i])) {
				continue;
			}
			if (m != NULL && match_byte(m, buf[i])) {
				found = 1;
			}
			if (key != 0 && buf[i] == key) {
				found = 1;
			}
		}
		if (found) {
			return 1;
		}
	}
}

/* Wait until m is seen; 0 when it is, -1 after sec or when CMD ended. */
static int
wait_text(struct child *ch, struct strip *s, struct match *m, double sec,
    const char *what)
{
	double end = now_ms() + sec * 1e3;
	int r;

	while ((r = child_read(ch, s, m, 0, end - now_ms())) == 0) {
		if (now_ms() >= end) {
			fprintf(stderr, "ptytime: %s not visible within %g s\n",
			    what, sec);
			return -1;
		}
	}
	if (r == -1) {
		fprintf(stderr, "ptytime: the command ended before %s showed\n",
		    what);
		return -1;
	}
	return 0;
}

/*
 * Read and drop output for ms milliseconds; with usr1 set, only until
 * SIGUSR1 has come as well.
 */
static void
drain_for(struct child *ch, struct strip *s, double ms, int usr1)
{
	double t0 = now_ms(), end = t0 + ms;

	while ((now_ms() < end || (usr1 && !got_usr1 &&
	    now_ms() < t0 + IDLE_MAX_MS)) &&
	    child_read(ch, s, NULL, 0, now_ms() < end ? end - now_ms() :
	    100) != -1) {
		continue;
	}
}

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int
put(struct child *ch, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(ch->fd, p, n);
		if (w == -1 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		if (w <= 0) {
			perror("ptytime: write");
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
child_stop(struct child *ch, struct strip *s)
{
	double end;
	int st;

	if (ch->pid <= 0) {
		return;
	}
	kill(ch->pid, SIGTERM);
	end = now_ms() + 3000;
	while (waitpid(ch->pid, &st, WNOHANG) == 0) {
		if (now_ms() >= end) {
			kill(ch->pid, SIGKILL);
			waitpid(ch->pid, &st, 0);
			break;
		}
		/* Keep reading so that a client restoring the tty is not
		 * blocked on a full pty. */
		if (child_read(ch, s, NULL, 0, 20) == -1) {
			sleep_ms(5);
		}
	}
	ch->pid = 0;
	close(ch->fd);
	ch->fd = -1;
}

/* utime + stime of pid in milliseconds, -1 if unreadable. */
static long
proc_cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	if (pid <= 0 || hz <= 0) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL) {
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields 14 and 15, counted after the parenthesised name. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) != 2) {
		return -1;
	}
	return (long)((ut + st) * 1000 / (unsigned long)hz);
}

/* VmRSS or VmHWM of pid in kB, -1 if unreadable. */
static long
proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long v = -1;
	FILE *f;

	if (pid <= 0) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			v = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static long
diff_or_fail(long a, long b)
{
	return a < 0 || b < 0 ? -1 : b - a;
}

static void
run_hook(const char *hook, const char *tag)
{
	char cmd[4096];
	int r;

	if (hook == NULL) {
		return;
	}
	if ((size_t)snprintf(cmd, sizeof(cmd), "%s %s", hook, tag) >=
	    sizeof(cmd)) {
		fprintf(stderr, "ptytime: hook too long\n");
		return;
	}
	r = system(cmd);
	if (r != 0) {
		fprintf(stderr, "ptytime: hook %s: status %d\n", tag, r);
	}
}

static void
print_fig(const struct procfig *f)
{
	printf("srv_cpu_ms=%ld cli_cpu_ms=%ld srv_rss_kb=%ld srv_hwm_kb=%ld "
	    "cli_rss_kb=%ld cli_hwm_kb=%ld\n", f->srv_cpu, f->cli_cpu,
	    f->srv_rss, f->srv_hwm, f->cli_rss, f->cli_hwm);
}

static void
fig_end(struct procfig *f, pid_t srv, pid_t cli, long s0, long c0)
{
	f->srv_cpu = diff_or_fail(s0, proc_cpu_ms(srv));
	f->cli_cpu = diff_or_fail(c0, proc_cpu_ms(cli));
	f->srv_rss = proc_kb(srv, "VmRSS");
	f->srv_hwm = proc_kb(srv, "VmHWM");
	f->cli_rss = proc_kb(cli, "VmRSS");
	f->cli_hwm = proc_kb(cli, "VmHWM");
}

static int
do_drain(struct child *ch, double t0, double sec)
{
	double end = t0 + sec * 1e3;

	while (child_read(ch, NULL, NULL, 0, 100) != -1) {
		if (now_ms() >= end) {
			fprintf(stderr, "ptytime: still open after %g s\n",
			    sec);
			return -1;
		}
	}
	printf("ms=%.1f bytes=%llu\n", now_ms() - t0,
	    (unsigned long long)ch->bytes);
	return 0;
}

static int
do_wait(struct child *ch, struct strip *s, char **arg, double sec,
    const char *hook, pid_t srv)
{
	struct match ready, mark;
	struct procfig f;
	double t0, t1;
	long s0, c0;

	if (match_init(&ready, arg[0]) == -1 ||
	    match_init(&mark, arg[1]) == -1) {
		fprintf(stderr, "ptytime: bad READY or MARK\n");
		return -1;
	}
	if (wait_text(ch, s, &ready, sec, arg[0]) == -1) {
		return -1;
	}
	/* Let the first frames settle, so the clock measures the output. */
	drain_for(ch, s, 300, 0);
	run_hook(hook, "go");
	s0 = proc_cpu_ms(srv);
	c0 = proc_cpu_ms(ch->pid);
	t0 = now_ms();
	if (put(ch, "\r", 1) == -1 || wait_text(ch, s, &mark, sec,
	    arg[1]) == -1) {
		return -1;
	}
	t1 = now_ms();
	fig_end(&f, srv, ch->pid, s0, c0);
	run_hook(hook, "end");
	printf("ms=%.1f\n", t1 - t0);
	print_fig(&f);
	return 0;
}

static int
do_keys(struct child *ch, struct strip *s, char **arg, double sec,
    pid_t srv)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
	struct match prompt;
	struct procfig f;
	double t0, t1, end;
	uint32_t seed = 12345;
	long s0, c0, n, i;
	char c;
	int r;

	n = strtol(arg[1], NULL, 10);
	if (match_init(&prompt, arg[0]) == -1 || n < 1 || n > MAX_KEYS) {
		fprintf(stderr, "ptytime: bad PROMPT or N\n");
		return -1;
	}
	if (wait_text(ch, s, &prompt, sec, arg[0]) == -1) {
		return -1;
	}
	drain_for(ch, s, 500, 0);
	s0 = proc_cpu_ms(srv);
	c0 = proc_cpu_ms(ch->pid);
	for (i = 0; i < n; i++) {
		/* Start a fresh line now and then (^U kills the line). */
		if (i > 0 && i % 50 == 0) {
			if (put(ch, "\025", 1) == -1) {
				return -1;
			}
			drain_for(ch, s, 300, 0);
		}
		c = letters[i % 26];
		t0 = now_ms();
		if (put(ch, &c, 1) == -1) {
			return -1;
		}
		end = t0 + sec * 1e3;
		while ((r = child_read(ch, s, NULL, c, end - now_ms())) == 0) {
			if (now_ms() >= end) {
				break;
			}
		}
		t1 = now_ms();
		if (r != 1) {
			fprintf(stderr, "ptytime: key %ld ('%c') not echoed "
			    "within %g s\n", i + 1, c, sec);
			return -1;
		}
		printf("key %.3f\n", t1 - t0);
		seed = seed * 1103515245u + 12345u;
		drain_for(ch, s, 60 + (double)((seed >> 8) % 121), 0);
	}
	fig_end(&f, srv, ch->pid, s0, c0);
	print_fig(&f);
	return 0;
}

static int
do_idle(struct child *ch, struct strip *s, char **arg, double sec,
    const char *hook, pid_t srv)
{
	struct match prompt;
	struct procfig f;
	double idle = strtod(arg[1], NULL), t0, t1;
	long s0, c0;

	if (match_init(&prompt, arg[0]) == -1 || !(idle > 0 && idle < 3600)) {
		fprintf(stderr, "ptytime: bad PROMPT or SEC\n");
		return -1;
	}
	if (wait_text(ch, s, &prompt, sec, arg[0]) == -1) {
		return -1;
	}
	drain_for(ch, s, 1000, 0);
	run_hook(hook, "go");
	s0 = proc_cpu_ms(srv);
	c0 = proc_cpu_ms(ch->pid);
	t0 = now_ms();
	drain_for(ch, s, idle * 1e3, 1);
	t1 = now_ms();
	if (ch->closed) {
		fprintf(stderr, "ptytime: the command ended while idle\n");
		return -1;
	}
	fig_end(&f, srv, ch->pid, s0, c0);
	run_hook(hook, "end");
	printf("ms=%.1f\n", t1 - t0);
	print_fig(&f);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: ptytime [-c COLS] [-r ROWS] [-t SEC] "
	    "[-p PID] [-x HOOK]\n"
	    "    drain | wait READY MARK | keys PROMPT N | idle PROMPT SEC"
	    "  -- CMD [ARG...]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct child ch;
	struct strip s;
	const char *hook = NULL, *mode;
	char **cmd;
	double sec = 30, t0;
	long cols = 80, rows = 24;
	pid_t srv = 0;
	int o, i, nargs, r;

	while ((o = getopt(argc, argv, "+c:r:t:p:x:")) != -1) {
		switch (o) {
		case 'c':
			cols = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rows = strtol(optarg, NULL, 10);
			break;
		case 't':
			sec = strtod(optarg, NULL);
			break;
		case 'p':
			srv = (pid_t)strtol(optarg, NULL, 10);
			break;
		case 'x':
			hook = optarg;
			break;
		default:
			return usage();
		}
	}
	if (cols < 1 || cols > 1000 || rows < 1 || rows > 1000 ||
	    !(sec > 0 && sec < 3600) || optind >= argc) {
		return usage();
	}
	mode = argv[optind];
	for (i = optind + 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		continue;
	}
	if (i + 1 >= argc) {
		return usage();
	}
	nargs = i - optind - 1;
	cmd = argv + i + 1;
	if ((strcmp(mode, "drain") == 0 && nargs != 0) ||
	    (strcmp(mode, "drain") != 0 && nargs != 2)) {
		return usage();
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	memset(&s, 0, sizeof(s));
	t0 = now_ms();
	if (child_start(&ch, cmd, (unsigned short)cols,
	    (unsigned short)rows) == -1) {
		return 1;
	}
	if (strcmp(mode, "drain") == 0) {
		r = do_drain(&ch, t0, sec);
	} else if (strcmp(mode, "wait") == 0) {
		r = do_wait(&ch, &s, argv + optind + 1, sec, hook, srv);
	} else if (strcmp(mode, "keys") == 0) {
		r = do_keys(&ch, &s, argv + optind + 1, sec, srv);
	} else if (strcmp(mode, "idle") == 0) {
		r = do_idle(&ch, &s, argv + optind + 1, sec, hook, srv);
	} else {
		child_stop(&ch, &s);
		return usage();
	}
	fflush(stdout);
	child_stop(&ch, &s);
	return r == 0 ? 0 : 1;
}
