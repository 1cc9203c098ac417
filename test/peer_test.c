/*
 * peer_test.c: our transport (net.c + ssp.c) against the real peer, with no
 * terminal emulator: Debian's mosh-server 1.4.0 runs /bin/sh, a client built
 * from net and ssp alone connects with the printed key, types a command as
 * keystrokes, finds its output in the host bytes of the states it receives,
 * then ends the session with the shutdown handshake, after which the server
 * must exit. The clock is the real one here; every loop has a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "mosh.h"
#include "test.h"

#define SERVER "/usr/bin/mosh-server"

/* The remote state: every host byte received so far, and the echo ack. */
struct hb {
	struct buf b;
	uint64_t echo_ack;
};

static void *
hb_copy(const void *st)
{
	const struct hb *a = st;
	struct hb *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		return NULL;
	}
	h->echo_ack = a->echo_ack;
	if (buf_append(&h->b, a->b.p, a->b.len) == -1) {
		free(h);
		h = NULL;
	}
	return h;
}

static void
hb_free(void *st)
{
	struct hb *h = st;

	if (h != NULL) {
		buf_free(&h->b);
		free(h);
	}
}

static int
hb_equal(const void *a, const void *b)
{
	const struct hb *x = a, *y = b;

	return x->echo_ack == y->echo_ack && x->b.len == y->b.len &&
	    (x->b.len == 0 || memcmp(x->b.p, y->b.p, x->b.len) == 0);
}

static int
hb_diff(const void *from, const void *to, struct buf *out)
{
	(void)from;
	(void)to;
	(void)out;
	return -1;	/* a client never sends the host's state */
}

static int
hb_apply(void *st, const uint8_t *p, size_t len)
{
	struct hb *h = st;
	struct ssp_iter it;
	struct ssp_msg m;
	int r;

	if (ssp_hm_check(p, len, &h->echo_ack) == -1) {
		return -1;
	}
	it.p = p;
	it.end = p + len;
	while ((r = ssp_hm_next(&it, &m)) == 1) {
		if (m.type == SSP_MSG_BYTES &&
		    buf_append(&h->b, m.p, m.len) == -1) {
			return -1;
		}
	}
	return r == 0 ? 0 : -1;
}

static const struct ssp_ops hb_ops = {
	hb_copy, hb_free, hb_equal, hb_diff, hb_apply, NULL
};

struct peer {
	struct net n;
	struct ssp s;
};

static int
peer_send(void *arg, const uint8_t *p, size_t len)
{
	struct peer *c = arg;

	return net_send(&c->n, p, len, now_ms()) < 0 ? -1 : 0;
}

static void
rand_bytes(void *arg, uint8_t *p, size_t n)
{
	(void)arg;
	if (net_random(p, n) == -1) {
		memset(p, 0, n);
	}
}

/* One pass of the event loop: wait, read one datagram, send what is due. */
static void
peer_pass(struct peer *c)
{
	static uint8_t pay[NET_MAX_PAYLOAD];
	struct ssp_link l;
	struct pollfd pfd[NET_MAX_SOCKS + 1];
	int fds[NET_MAX_SOCKS + 1], nfd, i;
	uint64_t now = now_ms(), w;
	size_t len;

	l.has_peer = 1;
	l.send_interval = (unsigned)net_send_interval(&c->n);
	l.rto = (unsigned)net_rto(&c->n);
	l.loss = net_loss(&c->n);
	l.mtu = (size_t)c->n.mtu;
	l.send = peer_send;
	l.arg = c;
	w = MIN(ssp_wait(&c->s, &l, now), 50);
	nfd = net_fds(&c->n, fds, (int)LEN(fds));
	for (i = 0; i < nfd; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	poll(pfd, (nfds_t)nfd, (int)w);
	now = now_ms();
	if (net_recv(&c->n, now, pay, &len, NULL) == 1 &&
	    ssp_recv(&c->s, pay, len, now) == 1) {
		c->n.last_roundtrip_success = ssp_acked_ts(&c->s);
	}
	ssp_tick(&c->s, &l, now);
}

static int
has(const struct hb *h, const char *text)
{
	size_t n = strlen(text), i;

	for (i = 0; h != NULL && i + n <= h->b.len; i++) {
		if (memcmp(h->b.p + i, text, n) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Is the mosh-server we started still there (and not a zombie)? */
static int
alive(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL) {
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' &&
	    strstr(buf, "mosh-server") != NULL;
}

int
main(void)
{
	static const char keys[] =
	    "echo transport-ok; echo sum-$((40 + 2))\r";
	struct peer c;
	struct ssp_cfg cfg;
	struct ssp_user *empty;
	struct hb blank;
	char line[512], port[16] = "", keytext[64] = "";
	const char *err = NULL;
	uint8_t key[16];
	uint64_t t0;
	long pid = -1;
	FILE *f;

	if (access(SERVER, X_OK) != 0) {
		fprintf(stderr, "%s is missing (Debian's mosh package)\n",
		    SERVER);
		CHECK(0);
		return TEST_DONE();
	}
	f = popen("LANG=C.UTF-8 LC_ALL=C.UTF-8 " SERVER
	    " new -i 127.0.0.1 -p 0 -- /bin/sh 2>&1", "r");
	CHECK(f != NULL);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "MOSH CONNECT %15s %63s", port, keytext);
		sscanf(line, "[mosh-server detached, pid = %ld]", &pid);
	}
	if (f != NULL) {
		pclose(f);
	}
	CHECK(port[0] != 0 && pid > 0);
	CHECK(ocb_key_parse(keytext, key, &err) == 0);
	if (port[0] == 0 || pid <= 0 || err != NULL) {
		return TEST_DONE();
	}

	t0 = now_ms();
	memset(&c, 0, sizeof(c));
	CHECK(net_init(&c.n, 0, key) == 0);
	CHECK(net_connect(&c.n, "127.0.0.1", port, t0) == 0);
	explicit_bzero(key, sizeof(key));
	memset(&blank, 0, sizeof(blank));
	empty = ssp_user_new();
	memset(&cfg, 0, sizeof(cfg));
	cfg.mine = &ssp_user_ops;
	cfg.remote = &hb_ops;
	cfg.mine_init = empty;
	cfg.remote_init = &blank;
	cfg.mindelay = SSP_MINDELAY_CLIENT;
	cfg.fast_start = 1;
	cfg.rand = rand_bytes;
	CHECK(empty != NULL && ssp_init(&c.s, &cfg, t0) == 0);
	ssp_user_ops.free(empty);

	/* As a client does: the window size first, then the keystrokes. */
	CHECK(ssp_user_push_resize(ssp_current(&c.s), 80, 24) == 0);
	CHECK(ssp_user_push_bytes(ssp_current(&c.s), (const uint8_t *)keys,
	    sizeof(keys) - 1) == 0);
	while (!has(ssp_remote(&c.s), "sum-42") && now_ms() - t0 < 15000) {
		peer_pass(&c);
	}
	CHECK(has(ssp_remote(&c.s), "transport-ok"));
	CHECK(has(ssp_remote(&c.s), "sum-42"));
	CHECK(c.n.stats.rx > 0);
	CHECK(c.s.stats.bad_diff == 0 && c.s.stats.bad_pb == 0);

	/* The shutdown handshake: our -1 state, its ack, and it exits. */
	t0 = now_ms();
	ssp_start_shutdown(&c.s, t0);
	while (!ssp_shutdown_acked(&c.s) &&
	    !ssp_shutdown_timed_out(&c.s, now_ms()) &&
	    now_ms() - t0 < 12000) {
		peer_pass(&c);
	}
	CHECK(ssp_shutdown_acked(&c.s));
	t0 = now_ms();
	while (alive((pid_t)pid) && now_ms() - t0 < 5000) {
		usleep(20000);
	}
	CHECK(!alive((pid_t)pid));
	if (alive((pid_t)pid)) {
		kill((pid_t)pid, SIGKILL);
	}
	ssp_free(&c.s);
	net_close(&c.n);
	return TEST_DONE();
}
