/*
 * tunnel.c: the ssh path for networks that drop UDP (doc/protocol.md §14).
 * Two halves share the framing, a 2-byte big-endian length and that many
 * bytes of one sealed datagram:
 *
 *   the tunnel role, `mosh tunnel ADDR PORT`, runs on the remote over ssh
 *   and moves frames between its stdin/stdout and the server's UDP port
 *   at ADDR ("ssh": the local address of $SSH_CONNECTION, the one the
 *   server's -s bound). It never listens: its one socket is connected to
 *   the server, so nothing else can reach it. It cannot open or forge a
 *   datagram (it has no key), so it only checks the framing and the
 *   direction bit; anything else wrong in the stream ends it.
 *
 *   the client's path (tun_path_*) runs that command through ssh and
 *   carries copies of the client's datagrams over it; client.c decides
 *   when (client_path).
 *
 * This is a fourth role, and also the client's end of it, so it has its
 * own file rather than a corner of boot.c or client.c: both ends must
 * agree on the framing, and the tests and the fuzzer take the decoder
 * without either role.
 *
 * Memory is fixed: one frame being decoded and TUN_QUEUE frames waiting to
 * be written on each side; when a queue is full its oldest frame is
 * dropped (SSP resends what matters), so a backed-up TCP stream costs
 * datagrams, never seconds of lag.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "mosh.h"

/* ---- framing ---- */

int
tun_dec_next(struct tun_dec *d, const uint8_t **p, size_t *n,
    const uint8_t **frame, size_t *flen)
{
	size_t need, take;

	if (d->have >= 2 && d->have == 2 + d->len) {
		d->have = 0;		/* the frame handed out last time */
	}
	while (*n > 0) {
		need = d->have < 2 ? 2 : 2 + d->len;
		take = MIN(need - d->have, *n);
		memcpy(d->buf + d->have, *p, take);
		d->have += take;
		*p += take;
		*n -= take;
		if (d->have == 2) {
			d->len = (size_t)d->buf[0] << 8 | d->buf[1];
			if (d->len < TUN_FRAME_MIN || d->len > TUN_FRAME_MAX) {
				d->have = 0;
				return -1;
			}
		}
		if (d->have >= 2 && d->have == 2 + d->len) {
			*frame = d->buf + 2;
			*flen = d->len;
			return 1;
		}
	}
	return 0;
}

int
tun_to_server_ok(const uint8_t *d, size_t n)
{
	return n >= TUN_FRAME_MIN && n <= TUN_FRAME_MAX &&
	    (d[0] & 0x80) == NET_TO_SERVER << 7;
}

void
tun_queue_push(struct tun_queue *q, const uint8_t *d, size_t n)
{
	size_t i, victim;

	if (n < TUN_FRAME_MIN || n > TUN_FRAME_MAX) {
		return;
	}
	if (q->count == TUN_QUEUE) {
		/* drop the oldest frame not being written */
		victim = q->off > 0 ? 1 : 0;
		for (i = victim; i + 1 < q->count; i++) {
			memcpy(q->slot[(q->head + i) % TUN_QUEUE],
			    q->slot[(q->head + i + 1) % TUN_QUEUE],
			    q->len[(q->head + i + 1) % TUN_QUEUE]);
			q->len[(q->head + i) % TUN_QUEUE] =
			    q->len[(q->head + i + 1) % TUN_QUEUE];
		}
		q->count--;
		q->dropped++;
	}
	i = (q->head + q->count) % TUN_QUEUE;
	q->slot[i][0] = (uint8_t)(n >> 8);
	q->slot[i][1] = (uint8_t)n;
	memcpy(q->slot[i] + 2, d, n);
	q->len[i] = n + 2;
	q->count++;
}

/* A write that raises no SIGPIPE where fd is a socket (the client's). */
static ssize_t
tun_write(int fd, const void *p, size_t n)
{
	ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w == -1 && errno == ENOTSOCK) {
		w = write(fd, p, n);
	}
	return w;
}

int
tun_queue_flush(struct tun_queue *q, int fd)
{
	ssize_t w;

	while (q->count > 0) {
		w = tun_write(fd, q->slot[q->head] + q->off,
		    q->len[q->head] - q->off);
		if (w == -1 && errno == EINTR) {
			continue;
		}
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		}
		if (w <= 0) {
			return -1;
		}
		q->off += (size_t)w;
		if (q->off == q->len[q->head]) {
			q->off = 0;
			q->head = (q->head + 1) % TUN_QUEUE;
			q->count--;
			q->frames++;
		}
	}
	return 0;
}

static void
tun_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1) {
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
}

/* ---- the tunnel role, on the remote ---- */

static int
tun_usage(const char *prog)
{
	fprintf(stderr, "Usage: %s ADDR PORT\n"
	    "  moves length-framed datagrams between stdin/stdout and the "
	    "mosh server\n  at ADDR (numeric, or \"ssh\": the local address "
	    "of $SSH_CONNECTION) port PORT\n", prog);
	return 1;
}

/* The socket connected to the server; -1 after a message. */
static int
tun_connect(const char *prog, const char *addr, const char *port)
{
	struct addrinfo hints, *res = NULL;
	char ip[256];
	int fd, r;

	if (strcmp(addr, "ssh") == 0) {
		addr = server_ssh_ip(ip, sizeof ip);
		if (addr == NULL) {
			addr = "127.0.0.1";
		}
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(addr, port, &hints, &res)) != 0) {
		fprintf(stderr, "%s: %s port %s: %s\n", prog, addr, port,
		    gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		fprintf(stderr, "%s: %s port %s: %s\n", prog, addr, port,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
		}
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * One tunnel: from stdin to the socket frames are sent as they decode;
 * from the socket to stdout they wait in a queue. Ends (status 0) on EOF
 * of stdin, after TUN_IDLE_MS with nothing either way, or when the server
 * is gone (the kernel refuses the port); status 2 for a broken stream.
 */
struct tun_role {
	int sock;
	struct tun_dec dec;
	struct tun_queue out;
	uint64_t last;
	uint64_t to_server, to_client, dropped;
};

static int
tun_role_stdin(struct tun_role *t, const char *prog)
{
	uint8_t buf[16384];
	const uint8_t *p = buf, *f;
	size_t n, fl;
	ssize_t r;
	int k;

	r = read(STDIN_FILENO, buf, sizeof buf);
	if (r == -1 && (errno == EINTR || errno == EAGAIN)) {
		return 0;
	}
	if (r <= 0) {
		return 1;
	}
	n = (size_t)r;
	while ((k = tun_dec_next(&t->dec, &p, &n, &f, &fl)) == 1) {
		if (!tun_to_server_ok(f, fl)) {
			fprintf(stderr, "%s: a frame that is no datagram for "
			    "the server: ending\n", prog);
			return 2;
		}
		if (send(t->sock, f, fl, MSG_DONTWAIT) == (ssize_t)fl) {
			t->to_server++;
		} else if (errno == ECONNREFUSED) {
			return 1;
		} else {
			t->dropped++;
		}
	}
	if (k == -1) {
		fprintf(stderr, "%s: a frame length out of range: ending\n",
		    prog);
		return 2;
	}
	return 0;
}

static int
tun_role_sock(struct tun_role *t)
{
	uint8_t d[NET_MAX_DGRAM + 1];
	ssize_t r;
	int i;

	for (i = 0; i < TUN_QUEUE; i++) {
		r = recv(t->sock, d, sizeof d, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			return 0;
		}
		if (r == -1 && errno == ECONNREFUSED) {
			return 1;	/* the server has gone */
		}
		if (r < TUN_FRAME_MIN || r > TUN_FRAME_MAX) {
			t->dropped++;
			continue;
		}
		tun_queue_push(&t->out, d, (size_t)r);
		t->to_client++;
	}
	return 0;
}

int
tunnel_main(const char *prog, int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };
	static struct tun_role t;
	static const char hello[] = TUN_HELLO "\n";
	struct pollfd fds[3];
	sigset_t mask;
	uint64_t now;
	int st = 0, r;

	if (argc != 3) {
		return tun_usage(prog);
	}
	memset(&t, 0, sizeof t);
	if ((t.sock = tun_connect(prog, argv[1], argv[2])) == -1) {
		return 1;
	}
	signals_catch(sigs, LEN(sigs), &mask);
	if (write_all(STDOUT_FILENO, hello, sizeof hello - 1) == -1) {
		return 1;
	}
	tun_nonblock(STDOUT_FILENO);
	t.last = now_ms();
	while (!sig_take(SIGTERM)) {
		fds[0].fd = STDIN_FILENO;
		fds[0].events = POLLIN;
		fds[1].fd = t.sock;
		fds[1].events = POLLIN;
		fds[2].fd = t.out.count > 0 ? STDOUT_FILENO : -1;
		fds[2].events = POLLOUT;
		if (poll_wait(fds, 3, 1000, &mask) == -1) {
			st = 1;
			break;
		}
		now = now_ms();
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			t.last = now;
			if ((r = tun_role_stdin(&t, prog)) != 0) {
				st = r == 2 ? 2 : 0;
				break;
			}
		}
		if (fds[1].revents & (POLLIN | POLLERR)) {
			t.last = now;
			if (tun_role_sock(&t) != 0) {
				break;
			}
		}
		if (tun_queue_flush(&t.out, STDOUT_FILENO) == -1) {
			break;
		}
		if (now - t.last > TUN_IDLE_MS) {
			break;
		}
	}
	close(t.sock);
	return st;
}

/* ---- the client's path ---- */

void
tun_path_init(struct tun_path *p)
{
	memset(p, 0, sizeof *p);
	p->pid = -1;
	p->in = p->out = p->err = -1;
}

int
tun_path_start(struct tun_path *p, uint64_t now)
{
	int pi[2], po[2], pe[2];

	if (p->argv == NULL || p->state != TUN_OFF) {
		return -1;
	}
	/* a socket, so that writing to a dead ssh raises no SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pi) == -1) {
		return -1;
	}
	if (pipe2(po, O_CLOEXEC) == -1) {
		close(pi[0]);
		close(pi[1]);
		return -1;
	}
	if (pipe2(pe, O_CLOEXEC) == -1) {
		close(pi[0]);
		close(pi[1]);
		close(po[0]);
		close(po[1]);
		return -1;
	}
	if ((p->pid = fork()) == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* no controlling terminal: ssh cannot prompt on ours */
		setsid();
		dup2(pi[0], STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execvp(p->argv[0], p->argv);
		fprintf(stderr, "Cannot exec %s: %s\n", p->argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	if (p->pid == -1) {
		close(pi[1]);
		close(po[0]);
		close(pe[0]);
		return -1;
	}
	p->in = pi[1];
	p->out = po[0];
	p->err = pe[0];
	tun_nonblock(p->in);
	tun_nonblock(p->out);
	tun_nonblock(p->err);
	p->state = TUN_WAIT;
	p->started = now;
	p->blob_off = 0;
	p->framed = 0;
	p->broken = 0;
	p->llen = 0;
	p->elen = 0;
	p->error[0] = '\0';
	memset(&p->dec, 0, sizeof p->dec);
	p->q.count = p->q.head = p->q.off = 0;
	p->starts++;
	return 0;
}

void
tun_path_stop(struct tun_path *p)
{
	int st;

	if (p->state == TUN_OFF) {
		return;
	}
	close(p->in);
	close(p->out);
	close(p->err);
	p->in = p->out = p->err = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		while (waitpid(p->pid, &st, 0) == -1 && errno == EINTR) {
		}
	}
	p->pid = -1;
	p->state = TUN_OFF;
}

int
tun_path_fds(const struct tun_path *p, struct pollfd *fds, int max)
{
	int n = 0;

	if (p->state == TUN_OFF || max < 3) {
		return 0;
	}
	fds[n].fd = p->out;
	fds[n++].events = POLLIN;
	fds[n].fd = p->err;
	fds[n++].events = POLLIN;
	if ((p->state == TUN_SEND && p->blob_off < p->blob_len) ||
	    (p->state == TUN_UP && p->q.count > 0)) {
		fds[n].fd = p->in;
		fds[n++].events = POLLOUT;
	}
	return n;
}

void
tun_path_send(struct tun_path *p, const uint8_t *d, size_t n)
{
	if (p->state == TUN_OFF) {
		return;
	}
	tun_queue_push(&p->q, d, n);
	if (p->state == TUN_UP && tun_queue_flush(&p->q, p->in) == -1) {
		p->broken = 1;
	}
}

/* ssh's stderr: keep the last line (the bar shows it if the path fails). */
static void
tun_path_err(struct tun_path *p)
{
	char buf[512];
	ssize_t r;
	size_t i;

	while ((r = read(p->err, buf, sizeof buf)) > 0) {
		for (i = 0; i < (size_t)r; i++) {
			if (buf[i] == '\n' || buf[i] == '\r') {
				if (p->elen > 0 && strncmp(p->eline,
				    "MOSH IP ", 8) != 0) {
					p->eline[p->elen] = '\0';
					snprintf(p->error, sizeof p->error,
					    "%s", p->eline);
				}
				p->elen = 0;
			} else if (p->elen + 1 < sizeof p->eline &&
			    (unsigned char)buf[i] >= ' ') {
				p->eline[p->elen++] = buf[i];
			}
		}
	}
}

/*
 * The remote script's first line, "<EI_DATA> <uname -sm>": the path sends
 * this binary (the one the front end loaded), so it answers only when the
 * remote is the same kind of machine; else the path cannot start.
 */
static void
tun_path_uname(struct tun_path *p, const char *arg)
{
	const char *dist;
	char why[128];
	long data;
	char *end;

	data = strtol(arg, &end, 10);
	if (end != arg && *end == ' ') {
		arg = end + 1;
	}
	dist = boot_arch_dist(arg, (int)data);
	if (dist == NULL || p->answer == NULL ||
	    boot_elf_check(p->blob, p->blob_len, dist, why, sizeof why) ==
	    -1) {
		snprintf(p->error, sizeof p->error, "the ssh path needs a "
		    "mosh for %.64s on the server", arg);
		p->broken = 1;
		return;
	}
	if (tun_write(p->in, p->answer, strlen(p->answer)) !=
	    (ssize_t)strlen(p->answer)) {
		p->broken = 1;
	}
}

/* One line before the frames: the remote script's word, or the hello. */
static void
tun_path_line(struct tun_path *p, const char *line)
{
	const char *arg;

	if ((arg = str_after(line, "MOSH INSTALL UNAME ")) != NULL) {
		tun_path_uname(p, arg);
	} else if (str_after(line, "MOSH INSTALL HAVE") != NULL) {
		p->state = TUN_UP;
	} else if (str_after(line, "MOSH INSTALL SEND") != NULL) {
		p->state = p->blob != NULL ? TUN_SEND : TUN_UP;
	} else if (str_after(line, "MOSH INSTALL DIR ") != NULL ||
	    str_after(line, "MOSH INSTALL SKIP ") != NULL) {
		return;
	} else if ((arg = str_after(line, "MOSH INSTALL ")) != NULL) {
		snprintf(p->error, sizeof p->error, "%s", arg);
		p->broken = 1;
	} else if (strcmp(line, TUN_HELLO) == 0) {
		p->framed = 1;
		p->state = TUN_UP;
	}
}

int
tun_path_io(struct tun_path *p, uint64_t now,
    void (*deliver)(void *, const uint8_t *, size_t), void *arg)
{
	uint8_t buf[16384];
	const uint8_t *q, *f;
	size_t n, fl;
	ssize_t r, w;
	int k, got = 0;

	(void)now;
	if (p->state == TUN_OFF) {
		return 0;
	}
	tun_path_err(p);
	if (p->state == TUN_SEND) {
		while (p->blob_off < p->blob_len) {
			w = tun_write(p->in, p->blob + p->blob_off,
			    p->blob_len - p->blob_off);
			if (w <= 0) {
				if (w == -1 && (errno == EAGAIN ||
				    errno == EINTR)) {
					break;
				}
				p->broken = 1;
				break;
			}
			p->blob_off += (size_t)w;
		}
		if (p->blob_off == p->blob_len) {
			p->state = TUN_UP;
		}
	}
	for (;;) {
		r = read(p->out, buf, sizeof buf);
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			break;
		}
		if (r <= 0) {
			p->broken = 1;
			break;
		}
		q = buf;
		n = (size_t)r;
		while (n > 0 && !p->framed) {
			if (*q == '\n') {
				p->line[p->llen] = '\0';
				if (p->llen > 0 && p->line[p->llen - 1] ==
				    '\r') {
					p->line[p->llen - 1] = '\0';
				}
				tun_path_line(p, p->line);
				p->llen = 0;
			} else if (p->llen + 1 < sizeof p->line) {
				p->line[p->llen++] = (char)*q;
			}
			q++;
			n--;
		}
		while ((k = tun_dec_next(&p->dec, &q, &n, &f, &fl)) == 1) {
			p->frames_in++;
			got++;
			deliver(arg, f, fl);
		}
		if (k == -1) {
			snprintf(p->error, sizeof p->error, "bad frame from "
			    "the tunnel");
			p->broken = 1;
			break;
		}
	}
	/* Frames wait for the tunnel's hello: nothing the script reads. */
	if (p->state == TUN_UP && p->framed && !p->broken &&
	    tun_queue_flush(&p->q, p->in) == -1) {
		p->broken = 1;
	}
	if (p->broken) {
		tun_path_err(p);
		p->broken = 0;
		tun_path_stop(p);
		return -1;
	}
	return got;
}
