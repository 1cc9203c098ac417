/*
 * client.c: the client role, `mosh-client` / `mosh client`
 * (doc/protocol.md §10): MOSH_KEY in the environment (or the key handed
 * over in memory by the front end, client_run), "IP PORT" as arguments.
 * It puts the local terminal in raw mode, sends keystrokes and resizes to
 * the server as SSP's user stream, and draws the server's screen, with the
 * local echo of predict.c and the notification bar on top, by diffing it
 * against what the terminal shows (framebuf.c's renderer).
 *
 * client_loop() is the only place that waits. However the session ends,
 * client_finish is the one way out: it restores the terminal first, then
 * prints what went wrong.
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "mosh.h"

extern char **environ;

#define CLIENT_NOTICE_MS 250		/* "Nothing received from server" */
#define CLIENT_GIVE_UP_MS 15000		/* "Timed out waiting for server" */
#define CLIENT_DIAG_MS 3000		/* "a firewall may be blocking UDP" */
/* The ssh path (protocol.md §14). */
#define CLIENT_PATH_START_MS 500	/* UDP's chance before the path opens */
#define CLIENT_UDP_QUIET_MS 3000	/* then unproven again (plus an RTO) */
#define CLIENT_PATH_RETRY_MS 1000	/* first wait to rebuild; doubles */
#define CLIENT_PATH_RETRY_MAX 16000
#define CLIENT_PATH_NOTE_MS 5000	/* "UDP blocked: through ssh" shown */

static void
client_usage(FILE *f, const char *prog)
{
	print_version(f, "mosh-client");
	fprintf(f, "\nUsage: %s [-# 'ARGS'] IP PORT\n"
	    "       %s -c\n", prog, prog);
}

/* ==== escape key (prediction.md §10) ==== */

/* From MOSH_ESCAPE_KEY (env may be NULL). Pure: no I/O, no globals. */
void
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

/* ==== client: command line and environment (protocol.md §10.1) ==== */

#define CLIENT_MAX_FDS 14		/* stdin, the sockets, the ssh path */

static void
client_print_colors(void)
{
	struct tinfo ti;

	ti_load(getenv("TERM"), &ti);
	printf("%ld\n", ti.colors);
	exit(0);
}

/* protocol.md §10.1; exits on --help, --version, -c and errors. */
void
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
int
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

void
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
	(void)sig_take(SIGCONT);
	client_resume(c);
}

/*
 * The newest server frame with the overlays (prediction.md §1 step 1), as
 * one write. Out of memory: this frame is skipped, the next one repaints.
 */
void
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
	if (c->path != NULL) {
		tun_path_stop(c->path);
	}
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
client_bar_set(struct client *c, const char *text, int permanent, uint64_t now)
{
	pred_notify_set(&c->note, text, permanent,
	    strcmp(text, c->esc.help) != 0, now);
}

int
client_bar_shows(const struct client *c, const char *text)
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
		client_bar_set(c, why, 1, now);
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
void
client_key(struct client *c, uint8_t b, uint64_t now)
{
	const struct escape *e = &c->esc;

	if (c->quit_started) {
		c->quit_started = 0;
		if (client_bar_shows(c, e->help)) {
			client_bar_set(c, "", 0, now);
		}
		if (b == '.') {
			client_bar_set(c, "Exiting on user request...", 1, now);
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
		client_bar_set(c, e->help, 1, now);
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
		client_bar_set(c, msg, 0, now);
	}
}

/* One authentic payload, from a socket or the ssh path, into SSP. */
static void
client_take(struct client *c, uint8_t *payload, size_t len, uint64_t now)
{
	const struct ssp *p = &c->ssp;
	int r;

	if ((r = ssp_recv(&c->ssp, payload, len, now)) == SSP_EVERSION &&
	    !c->shutdown) {
		pred_notify_net_error(&c->note, "mosh protocol version "
		    "mismatch", now);
	} else if (r == 1) {
		c->net.last_roundtrip_success = ssp_acked_ts(p);
		c->heard |= ssp_remote_num(p) != 0;
		if (ssp_remote_ts(p) != 0) {
			pred_notify_heard(&c->note, ssp_remote_ts(p));
		}
		pred_notify_acked(&c->note, ssp_acked_ts(p));
		pred_set_net(&c->pred, ssp_acked_num(p),
		    ((const struct term_state *)ssp_remote(p))->echo_ack,
		    (unsigned)net_send_interval(&c->net));
	}
	explicit_bzero(payload, len);
}

/* One datagram from whichever socket was readable. */
static void
client_read_net(struct client *c, uint64_t now)
{
	uint8_t payload[NET_MAX_PAYLOAD];
	uint64_t echoes = c->net.stats.rx_echo;
	size_t len;
	int r, why = -1;

	if ((r = net_recv(&c->net, now, payload, &len, &why)) != 1) {
		if (r == -1) {
			client_dropped(c, why, now);
		}
		return;
	}
	/* The first one proves UDP; later, one that echoes our time. */
	if (c->udp_heard == 0 || c->net.stats.rx_echo != echoes) {
		c->udp_ok = 1;
	}
	if (c->net.stats.rx_echo != echoes) {
		c->udp_echo_at = now;
	}
	c->udp_heard = now;
	c->udp_quiet_from = 0;
	client_take(c, payload, len, now);
}

/* ==== client: the ssh path when UDP is blocked (protocol.md §14) ==== */

/*
 * UDP is proven by the first authentic datagram on it, and again later by
 * one that echoes our timestamp (the server heard our newest datagram on
 * UDP: had it come through ssh the server would answer there). It is
 * unproven again after CLIENT_UDP_QUIET_MS and an RTO without a reply:
 * nothing on UDP since our first datagram after the newest one heard, or
 * our newest state unacknowledged with no echo on UDP all that time (the
 * server's datagrams still come, but ours do not reach it). The server
 * acknowledges a state within that, and its heartbeat comes every 3 s.
 */
static void
client_udp_judge(struct client *c, uint64_t now)
{
	uint64_t quiet = CLIENT_UDP_QUIET_MS + net_rto(&c->net);

	if (!c->ssp_ok) {
		return;
	}
	if (ssp_sent_num(&c->ssp) <= ssp_acked_num(&c->ssp)) {
		c->unacked_since = 0;
	} else if (c->unacked_since == 0) {
		c->unacked_since = now;
	}
	if (c->udp_quiet_from != 0 && now - c->udp_quiet_from > quiet) {
		c->udp_ok = 0;
	}
	if (c->unacked_since != 0 && now - c->unacked_since > quiet &&
	    c->udp_echo_at < c->unacked_since) {
		c->udp_ok = 0;
	}
}

/* net_send's tap: a copy of each sealed datagram for the path. */
static void
client_path_tap(void *arg, const uint8_t *d, size_t len)
{
	struct client *c = arg;

	if (c->udp_quiet_from == 0) {
		c->udp_quiet_from = c->now;
	}
	if (c->path_always || !c->udp_ok) {
		tun_path_send(c->path, d, len);
	}
}

/* A frame from the path: a datagram like any, but it moves no peer. */
static void
client_path_frame(void *arg, const uint8_t *d, size_t len)
{
	struct client *c = arg;
	uint8_t payload[NET_MAX_PAYLOAD];
	size_t plen;
	int why = -1;

	if (net_recv_from_buffer(&c->net, d, len, c->now, payload, &plen,
	    &why) != 1) {
		client_dropped(c, why, c->now);
		return;
	}
	if (!c->path_shown && !c->udp_ok) {
		c->path_shown = 1;
		c->path_note_until = c->now + CLIENT_PATH_NOTE_MS;
	}
	c->path_backoff = 0;
	c->path_msg[0] = '\0';
	client_take(c, payload, plen, c->now);
}

/*
 * Open the path while UDP is unproven (after CLIENT_PATH_START_MS at the
 * start, at once later), close it once UDP has proven itself; rebuild it
 * when it breaks, waiting 1, 2, 4 ... 16 s between tries. What the bar
 * says: "UDP blocked: through ssh" for a while when the path takes over,
 * and why the path cannot be opened when it cannot.
 */
static void
client_path(struct client *c, uint64_t now)
{
	struct tun_path *p = c->path;
	int proven, want;

	if (p == NULL) {
		return;
	}
	client_udp_judge(c, now);
	proven = c->udp_ok;
	if (proven) {
		c->path_shown = 0;
	}
	want = !c->done && (c->path_always || (!proven &&
	    (c->udp_heard != 0 || now - c->start >= CLIENT_PATH_START_MS)));
	if (!want && p->state != TUN_OFF) {
		tun_path_stop(p);
	}
	if (want && p->state == TUN_OFF && now >= c->path_retry_at) {
		c->path_frames = p->frames_in;
		if (tun_path_start(p, now) == -1) {
			snprintf(p->error, sizeof p->error, "cannot run ssh: %s",
			    strerror(errno));
			c->path_retry_at = now + CLIENT_PATH_RETRY_MAX;
		}
	}
	if (c->shutdown) {
		return;
	}
	if (want && p->state == TUN_OFF && c->path_msg[0] != '\0') {
		pred_notify_net_error(&c->note, c->path_msg, now);
	} else if (!proven && now < c->path_note_until) {
		client_bar_set(c, "UDP blocked: through ssh", 0, now);
	} else if (client_bar_shows(c, "UDP blocked: through ssh")) {
		client_bar_set(c, "", 0, now);
	}
}

/* The path's pipes; when it broke, when to try again and what to say. */
static void
client_path_io(struct client *c, uint64_t now)
{
	struct tun_path *p = c->path;

	c->now = now;
	if (p == NULL || p->state == TUN_OFF ||
	    tun_path_io(p, now, client_path_frame, c) != -1) {
		return;
	}
	c->path_backoff = c->path_backoff == 0 ? CLIENT_PATH_RETRY_MS :
	    MIN(c->path_backoff * 2, CLIENT_PATH_RETRY_MAX);
	c->path_retry_at = now + c->path_backoff;
	if (p->frames_in == c->path_frames) {
		/* It never carried anything: say why, and what to do. */
		snprintf(c->path_msg, sizeof c->path_msg, "UDP blocked, and "
		    "ssh failed%s%.200s (it needs a login without a password: "
		    "a key or ssh-agent)", p->error[0] != '\0' ? ": " : "",
		    p->error);
	}
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
	if (sig_take(SIGWINCH)) {
		client_resize(c);
	}
	if (sig_take(SIGCONT)) {
		client_resume(c);
	}
	if (sig_take(SIGTERM)) {
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
			client_bar_set(c, "Timed out waiting for server...", 1,
			    now);
			client_start_shutdown(c, now);
		} else {
			client_bar_set(c, now - c->start > CLIENT_DIAG_MS ?
			    diag : msg, 0, now);
		}
	} else if (c->heard && (client_bar_shows(c, msg) ||
	    client_bar_shows(c, diag))) {
		client_bar_set(c, "", 0, now);
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
	return mosh_link(&c->net, client_send_dgram, c);
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
	if (c->path != NULL) {
		w = MIN(w, CLIENT_PATH_START_MS);	/* client_path's clock */
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
	nfds_t n, np, i;
	uint64_t now;
	int socks[NET_MAX_SOCKS + 1], k;

	c->start = now_ms();
	while (!c->done) {
		now = now_ms();
		client_draw(c, now);
		fds[0].fd = c->tty_eof ? -1 : STDIN_FILENO;
		fds[0].events = POLLIN;
		n = 1;
		k = MIN(net_fds(&c->net, socks, NET_MAX_SOCKS + 1),
		    NET_MAX_SOCKS + 1);
		for (i = 0; (int)i < k && n < CLIENT_MAX_FDS; i++) {
			fds[n].fd = socks[i];
			fds[n++].events = POLLIN;
		}
		np = n;
		if (c->path != NULL) {
			n += (nfds_t)tun_path_fds(c->path, fds + n,
			    (int)(CLIENT_MAX_FDS - n));
		}
		if (poll_wait(fds, n, client_wait_ms(c, now), &c->waitmask)) {
			return -1;
		}
		now = now_ms();
		client_path_io(c, now);
		for (i = 1; i < np; i++) {
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
		client_path(c, now);
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
	cfg.remote_bytes = term_bytes;
	cfg.mine_init = empty;
	cfg.remote_init = &blank;
	cfg.mindelay = SSP_MINDELAY_CLIENT;
	cfg.rand = mosh_chaff;
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
int
client_run(const char *prog, int argc, char **argv, char *key)
{
	return client_run_path(prog, argc, argv, key, NULL, 0);
}

int
client_run_path(const char *prog, int argc, char **argv, char *key,
    struct tun_path *path, int always)
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
	c.path = path;
	c.path_always = always;
	client_parse(argc, argv, &c);
	client_env(&c, keytext, sizeof keytext);
	if (locale_for_client() == -1) {
		explicit_bzero(keytext, sizeof keytext);
		exit(1);
	}
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
	if (c.path != NULL) {
		c.net.tap = client_path_tap;
		c.net.tap_arg = &c;
	}
	c.repaint = 1;
	if (client_loop(&c) == -1) {
		perror("ppoll");
	}
	return client_finish(&c);
}

int
client_main(const char *prog, int argc, char **argv)
{
	return client_run(prog, argc, argv, NULL);
}
