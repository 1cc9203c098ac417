/*
 * relay.c: a seeded UDP impairment relay for end-to-end tests. The kernels
 * the tests run on have no tc netem, so this stands between a client and a
 * server and loses, delays, reorders, duplicates, rate-limits and cuts
 * datagrams, and can make the client appear to roam.
 *
 * Usage:
 *   relay -l LISTEN_PORT -t TARGET_HOST:PORT [-6] [-b BIND_ADDR] [-s SEED]
 *         [impairments] [--outage S:E] [--hop-at MS] [--ctl PORT]
 *         [--max-time SEC] [--pidfile FILE] [-v]
 *   relay -C CTL_PORT COMMAND...        (send one control command)
 *
 * Clients send to LISTEN_PORT on BIND_ADDR (default 127.0.0.1, or ::1 with
 * -6; -l 0 picks a free port). For each client source address the relay
 * opens one upstream socket connected to the target, so the server sees the
 * relay's address, as behind a NAT, and replies go back to that client.
 * "up" is client to server, "down" is server to client. On start the relay
 * prints one line to stdout and flushes it:
 *   RELAY <listen_port> <control_port>
 *
 * Impairments: each takes a direction suffix, none meaning both directions
 * (--loss 0.1, --loss-up 0.1, --loss-down 0.1):
 *   --loss P       drop with probability P (0..1)
 *   --delay MS     fixed one-way delay
 *   --jitter MS    add a uniform random -MS..+MS to the delay (floored at
 *                  0); packets may overtake each other, so this reorders
 *   --reorder P    with probability P hold a packet back until the next one
 *                  in that direction has been scheduled, then send it just
 *                  after that one (at most 200 ms of extra hold)
 *   --dup P        send a second copy (own jitter) with probability P
 *   --rate BPS     serialise at BPS bytes/s; the backlog is capped by
 *                  --queue BYTES (default 65536) and overflow is dropped
 * Outages: --outage S:E, --outage-up S:E, --outage-down S:E drop everything
 * (in that direction) that arrives or is due to leave in [S, E) ms after
 * the relay started; repeatable (32 windows).
 * --hop-at MS (repeatable) and SIGUSR1: open a fresh upstream socket for
 * every client, so the server sees the client roam to a new source port.
 * SIGUSR2 toggles a total outage (both directions). SIGTERM, SIGINT and the
 * end of --max-time (default 3600 s) make it print statistics to stderr and
 * exit 0. At most 4096 packets / 8 MB are in flight, beyond which they are
 * dropped, and 64 clients are served, the least recently active one being
 * forgotten for a new one.
 *
 * Control port: UDP on 127.0.0.1 (--ctl PORT, default a free port, printed
 * in the RELAY line). One command per datagram, one reply per command
 * ("ok ..." or "error ..."); `relay -C PORT CMD...` sends one and prints
 * the reply, exiting 0 on "ok". Commands (DIR is up, down or both, and may
 * be left out for both):
 *   outage on|off [DIR]      loss [DIR] P     delay [DIR] MS
 *   jitter [DIR] MS          reorder [DIR] P  dup [DIR] P
 *   rate [DIR] BPS           hop              stats          quit
 * "stats" replies "ok up in=N out=N drop=N (loss=N outage=N queue=N
 * full=N stale=N err=N) dup=N reord=N down ... flows=N hops=N".
 *
 * Changes made on the control port apply to datagrams arriving afterwards.
 *
 * Determinism: each direction has its own PRNG seeded from -s SEED (default
 * 1), and every packet draws the same five values whatever the options, so
 * the same arrival order in a direction gives every packet the same fate
 * (loss, duplication, reordering, jitter). Only rate-limit drops depend on
 * timing. Give numeric addresses: a name may resolve to another family.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS 64
#define MAX_WINDOWS 32
#define MAX_QUEUE_PKTS 4096
#define MAX_QUEUE_BYTES (8u << 20)
#define MAX_DGRAM 65536
#define REORDER_HOLD_US 200000
#define RECV_BURST 64

enum { UP, DOWN };
static const char *dirname[2] = { "up", "down" };

struct window {
	uint64_t start, end;	/* ms after start */
};

struct dirstate {
	double loss, reorder, dup;
	uint64_t delay_us, jitter_us, rate;
	uint64_t queue_bytes;
	int forced_out;
	struct window win[MAX_WINDOWS];
	int nwin;
	uint64_t rng;
	uint64_t busy_until;	/* rate limiter: link free at (us) */
	struct pkt *held;	/* explicit reorder slot */
	uint64_t held_deadline;
	/* statistics */
	uint64_t in, out, drop_loss, drop_outage, drop_queue, drop_full,
	    drop_stale, drop_err, dup_n, reord_n;
};

struct flow {
	int used;
	unsigned gen;
	int fd;			/* upstream socket, connected to the target */
	struct sockaddr_storage client;
	socklen_t clen;
	uint64_t last;		/* last activity (us), for eviction */
	int pollix;
};

struct pkt {
	uint64_t when, seq;
	int dir;
	int flow;
	unsigned gen;
	size_t len;
	uint8_t data[];
};

struct relay {
	int lfd, cfd;
	int fam_up;
	struct sockaddr_storage target;
	socklen_t tlen;
	struct flow flows[MAX_FLOWS];
	unsigned gen;
	struct dirstate d[2];
	struct pkt **heap;
	size_t nheap, capheap, heapbytes;
	uint64_t seq;
	uint64_t t0;
	uint64_t hops[MAX_WINDOWS];
	int nhops, nexthop;
	uint64_t nhopped, nflows;
	int verbose;
};

static volatile sig_atomic_t sig_term, sig_hop, sig_outage;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1) {
		sig_hop = 1;
	} else if (sig == SIGUSR2) {
		sig_outage = 1;
	} else {
		sig_term = 1;
	}
}

static void
die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "relay: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* splitmix64: small, fast, and good enough to decide a packet's fate. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z;

	z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static void
vlog(struct relay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
vlog(struct relay *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->verbose) {
		return;
	}
	va_start(ap, fmt);
	fprintf(stderr, "relay: %llu ms: ",
	    (unsigned long long)((now_us() - r->t0) / 1000));
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- timer heap of packets, ordered by (when, seq) ---- */

static int
pkt_before(const struct pkt *a, const struct pkt *b)
{
	if (a->when != b->when) {
		return a->when < b->when;
	}
	return a->seq < b->seq;
}

static void
heap_push(struct relay *r, struct pkt *p)
{
	size_t i, parent;
	struct pkt *t;

	if (r->nheap >= r->capheap) {
		r->d[p->dir].drop_full++;
		free(p);
		return;
	}
	i = r->nheap++;
	r->heap[i] = p;
	r->heapbytes += p->len;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!pkt_before(r->heap[i], r->heap[parent])) {
			break;
		}
		t = r->heap[i];
		r->heap[i] = r->heap[parent];
		r->heap[parent] = t;
		i = parent;
	}
}

static struct pkt *
heap_pop(struct relay *r)
{
	struct pkt *top, *t;
	size_t i, c;

	top = r->heap[0];
	r->heap[0] = r->heap[--r->nheap];
	r->heapbytes -= top->len;
	i = 0;
	for (;;) {
		c = 2 * i + 1;
		if (c >= r->nheap) {
			break;
		}
		if (c + 1 < r->nheap && pkt_before(r->heap[c + 1], r->heap[c])) {
			c++;
		}
		if (!pkt_before(r->heap[c], r->heap[i])) {
			break;
		}
		t = r->heap[i];
		r->heap[i] = r->heap[c];
		r->heap[c] = t;
		i = c;
	}
	return top;
}

/* ---- addresses ---- */

static void
parse_hostport(const char *s, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL) {
			die("bad address %s (want [v6addr]:port)", s);
		}
		hl = (size_t)(colon - s - 1);
		s++;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			die("bad address %s (want host:port)", s);
		}
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz || strlen(colon + 1) >= portsz) {
		die("bad address %s", s);
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
}

static void
resolve(const char *host, const char *port, int family, int passive,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res;
	int e;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	e = getaddrinfo(host, port, &hints, &res);
	if (e != 0) {
		die("cannot resolve %s port %s: %s", host, port,
		    gai_strerror(e));
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static unsigned
sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	char h[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
		snprintf(out, outsz, "[%s]:%u", h, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
		snprintf(out, outsz, "%s:%u", h, ntohs(a->sin_port));
	}
}

static int
addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return 0;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	{
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;
		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
}

static int
udp_socket(int family)
{
	int fd;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -1;
	}
	return fd;
}

/* ---- flows ---- */

static int
upstream_open(struct relay *r)
{
	int fd;

	if ((fd = udp_socket(r->fam_up)) == -1) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&r->target, r->tlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
flow_find(struct relay *r, const struct sockaddr_storage *ss, uint64_t now)
{
	int i, victim = -1, fd;
	char a[80];

	for (i = 0; i < MAX_FLOWS; i++) {
		if (r->flows[i].used && addr_eq(&r->flows[i].client, ss)) {
			return i;
		}
	}
	for (i = 0; i < MAX_FLOWS; i++) {
		if (!r->flows[i].used) {
			victim = i;
			break;
		}
		if (victim == -1 || r->flows[i].last < r->flows[victim].last) {
			victim = i;
		}
	}
	if ((fd = upstream_open(r)) == -1) {
		return -1;
	}
	if (r->flows[victim].used) {
		close(r->flows[victim].fd);
	}
	r->flows[victim].used = 1;
	r->flows[victim].gen = ++r->gen;
	r->flows[victim].fd = fd;
	memcpy(&r->flows[victim].client, ss, sizeof *ss);
	r->flows[victim].last = now;
	r->nflows++;
	addr_str(ss, a, sizeof a);
	vlog(r, "new flow %d from %s, upstream port %u", victim, a,
	    sock_port(fd));
	return victim;
}

/* Give every client a fresh upstream socket (a new source port). */
static void
hop(struct relay *r)
{
	int i, fd;

	for (i = 0; i < MAX_FLOWS; i++) {
		if (!r->flows[i].used) {
			continue;
		}
		if ((fd = upstream_open(r)) == -1) {
			vlog(r, "hop: cannot open a socket: %s",
			    strerror(errno));
			continue;
		}
		vlog(r, "hop: flow %d upstream port %u -> %u", i,
		    sock_port(r->flows[i].fd), sock_port(fd));
		close(r->flows[i].fd);
		r->flows[i].fd = fd;
	}
	r->nhopped++;
}

/* ---- impairment ---- */

static int
in_outage(struct relay *r, int dir, uint64_t t)
{
	struct dirstate *d = &r->d[dir];
	uint64_t ms = (t - r->t0) / 1000;
	int i;

	if (d->forced_out) {
		return 1;
	}
	for (i = 0; i < d->nwin; i++) {
		if (ms >= d->win[i].start && ms < d->win[i].end) {
			return 1;
		}
	}
	return 0;
}

static uint64_t
jittered(struct dirstate *d, double u)
{
	int64_t v;

	v = (int64_t)d->delay_us +
	    (int64_t)((2.0 * u - 1.0) * (double)d->jitter_us);
	return v < 0 ? 0 : (uint64_t)v;
}

static struct pkt *
pkt_new(struct relay *r, int dir, int flow, const uint8_t *data, size_t len)
{
	struct pkt *p;

	if (r->nheap + 2 >= r->capheap ||
	    r->heapbytes + len > MAX_QUEUE_BYTES) {
		r->d[dir].drop_full++;
		return NULL;
	}
	if ((p = malloc(sizeof *p + len)) == NULL) {
		r->d[dir].drop_full++;
		return NULL;
	}
	p->dir = dir;
	p->flow = flow;
	p->gen = r->flows[flow].gen;
	p->len = len;
	p->seq = r->seq++;
	memcpy(p->data, data, len);
	return p;
}

/* Schedule p at time when, releasing a held packet just after it. */
static void
schedule(struct relay *r, struct pkt *p, uint64_t when)
{
	struct dirstate *d = &r->d[p->dir];

	p->when = when;
	heap_push(r, p);
	if (d->held != NULL) {
		d->held->when = when;
		d->held->seq = r->seq++;
		heap_push(r, d->held);
		d->held = NULL;
	}
}

/* A datagram arrived for direction dir of flow; decide its fate. */
static void
impair(struct relay *r, int dir, int flow, const uint8_t *data, size_t len,
    uint64_t now)
{
	struct dirstate *d = &r->d[dir];
	struct pkt *p, *q;
	double u_loss, u_dup, u_reord, u_j1, u_j2;
	uint64_t start, backlog, base;

	/* Always the same five draws, so fates do not shift with options. */
	u_loss = rng_unit(&d->rng);
	u_dup = rng_unit(&d->rng);
	u_reord = rng_unit(&d->rng);
	u_j1 = rng_unit(&d->rng);
	u_j2 = rng_unit(&d->rng);

	d->in++;
	if (in_outage(r, dir, now)) {
		d->drop_outage++;
		return;
	}
	if (u_loss < d->loss) {
		d->drop_loss++;
		return;
	}
	base = now;
	if (d->rate > 0) {
		start = d->busy_until > now ? d->busy_until : now;
		backlog = (start - now) * d->rate / 1000000u;
		if (backlog + len > d->queue_bytes) {
			d->drop_queue++;
			return;
		}
		d->busy_until = start + (uint64_t)len * 1000000u / d->rate;
		base = d->busy_until;
	}
	if ((p = pkt_new(r, dir, flow, data, len)) == NULL) {
		return;
	}
	if (u_reord < d->reorder && d->held == NULL) {
		d->held = p;
		d->held_deadline = base + jittered(d, u_j1) + REORDER_HOLD_US;
		d->reord_n++;
	} else {
		schedule(r, p, base + jittered(d, u_j1));
	}
	if (u_dup < d->dup) {
		if ((q = pkt_new(r, dir, flow, data, len)) != NULL) {
			q->when = base + jittered(d, u_j2);
			heap_push(r, q);
			d->dup_n++;
		}
	}
}

static void
deliver(struct relay *r, struct pkt *p, uint64_t now)
{
	struct dirstate *d = &r->d[p->dir];
	struct flow *f = &r->flows[p->flow];
	ssize_t n;

	if (in_outage(r, p->dir, now)) {
		d->drop_outage++;
		return;
	}
	if (!f->used || f->gen != p->gen) {
		d->drop_stale++;
		return;
	}
	if (p->dir == UP) {
		n = send(f->fd, p->data, p->len, 0);
	} else {
		n = sendto(r->lfd, p->data, p->len, 0,
		    (struct sockaddr *)&f->client, f->clen);
	}
	if (n < 0) {
		d->drop_err++;
	} else {
		d->out++;
	}
}

/* ---- control ---- */

static void
stats_str(struct relay *r, char *out, size_t outsz)
{
	int i;
	size_t used = 0;
	struct dirstate *d;

	for (i = 0; i < 2 && used < outsz; i++) {
		d = &r->d[i];
		used += (size_t)snprintf(out + used, outsz - used,
		    "%s%s in=%llu out=%llu drop=%llu (loss=%llu outage=%llu "
		    "queue=%llu full=%llu stale=%llu err=%llu) dup=%llu "
		    "reord=%llu", i ? " " : "", dirname[i],
		    (unsigned long long)d->in, (unsigned long long)d->out,
		    (unsigned long long)(d->drop_loss + d->drop_outage +
		    d->drop_queue + d->drop_full + d->drop_stale + d->drop_err),
		    (unsigned long long)d->drop_loss,
		    (unsigned long long)d->drop_outage,
		    (unsigned long long)d->drop_queue,
		    (unsigned long long)d->drop_full,
		    (unsigned long long)d->drop_stale,
		    (unsigned long long)d->drop_err,
		    (unsigned long long)d->dup_n,
		    (unsigned long long)d->reord_n);
	}
	if (used < outsz) {
		snprintf(out + used, outsz - used, " flows=%llu hops=%llu",
		    (unsigned long long)r->nflows,
		    (unsigned long long)r->nhopped);
	}
}

static int
parse_prob(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '-' || *s == '\0') {
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > (1ull << 40)) {
		return -1;
	}
	*out = v;
	return 0;
}

/* Impairment parameters, shared by the command line and the control port. */
enum { P_LOSS, P_DELAY, P_JITTER, P_REORDER, P_DUP, P_RATE, P_NPARAM };
static const char *pname[P_NPARAM] = {
	"loss", "delay", "jitter", "reorder", "dup", "rate"
};

static int
set_param(struct relay *r, int param, int dir, const char *val)
{
	double p = 0;
	uint64_t v = 0;
	int i, lo = dir < 0 ? 0 : dir, hi = dir < 0 ? 1 : dir;

	if (param == P_LOSS || param == P_REORDER || param == P_DUP) {
		if (parse_prob(val, &p) == -1) {
			return -1;
		}
	} else if (parse_u64(val, &v) == -1) {
		return -1;
	}
	for (i = lo; i <= hi; i++) {
		switch (param) {
		case P_LOSS:
			r->d[i].loss = p;
			break;
		case P_REORDER:
			r->d[i].reorder = p;
			break;
		case P_DUP:
			r->d[i].dup = p;
			break;
		case P_DELAY:
			r->d[i].delay_us = v * 1000;
			break;
		case P_JITTER:
			r->d[i].jitter_us = v * 1000;
			break;
		case P_RATE:
			r->d[i].rate = v;
			break;
		}
	}
	return 0;
}

static int
parse_dir(const char *s)
{
	if (strcmp(s, "up") == 0) {
		return UP;
	}
	if (strcmp(s, "down") == 0) {
		return DOWN;
	}
	if (strcmp(s, "both") == 0) {
		return -1;
	}
	return -2;
}

/* Run one control command; write the reply to out. */
static void
control(struct relay *r, char *cmd, char *out, size_t outsz)
{
	char *w[4];
	int n = 0, i, dir, param;
	char *save = NULL, *tok;

	for (tok = strtok_r(cmd, " \t\r\n", &save); tok != NULL && n < 4;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		w[n++] = tok;
	}
	if (n == 0) {
		snprintf(out, outsz, "error empty command");
		return;
	}
	vlog(r, "control: %s%s%s", w[0], n > 1 ? " " : "", n > 1 ? w[1] : "");
	if (strcmp(w[0], "stats") == 0) {
		memcpy(out, "ok ", 3);
		stats_str(r, out + 3, outsz - 3);
		return;
	}
	if (strcmp(w[0], "hop") == 0) {
		hop(r);
		snprintf(out, outsz, "ok hop");
		return;
	}
	if (strcmp(w[0], "quit") == 0) {
		sig_term = 1;
		snprintf(out, outsz, "ok quit");
		return;
	}
	if (strcmp(w[0], "outage") == 0 && n >= 2 &&
	    (strcmp(w[1], "on") == 0 || strcmp(w[1], "off") == 0)) {
		dir = n >= 3 ? parse_dir(w[2]) : -1;
		if (dir == -2) {
			snprintf(out, outsz, "error bad direction %s", w[2]);
			return;
		}
		for (i = 0; i < 2; i++) {
			if (dir < 0 || dir == i) {
				r->d[i].forced_out = w[1][1] == 'n';
			}
		}
		snprintf(out, outsz, "ok outage %s", w[1]);
		return;
	}
	for (param = 0; param < P_NPARAM; param++) {
		if (strcmp(w[0], pname[param]) == 0) {
			break;
		}
	}
	if (param == P_NPARAM || n < 2) {
		snprintf(out, outsz, "error unknown command %s", w[0]);
		return;
	}
	dir = -1;
	if (n >= 3) {
		if ((dir = parse_dir(w[1])) == -2) {
			snprintf(out, outsz, "error bad direction %s", w[1]);
			return;
		}
	}
	if (set_param(r, param, dir, w[n >= 3 ? 2 : 1]) == -1) {
		snprintf(out, outsz, "error bad value for %s", w[0]);
		return;
	}
	snprintf(out, outsz, "ok %s", w[0]);
}

static void
read_control(struct relay *r)
{
	char buf[512], reply[1024];
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;
	int i;

	for (i = 0; i < RECV_BURST; i++) {
		flen = sizeof from;
		n = recvfrom(r->cfd, buf, sizeof buf - 1, 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0) {
			return;
		}
		buf[n] = '\0';
		control(r, buf, reply, sizeof reply);
		sendto(r->cfd, reply, strlen(reply), 0,
		    (struct sockaddr *)&from, flen);
	}
}

/* relay -C PORT CMD...: send one command, print the reply. */
static int
ctl_client(const char *port, int argc, char **argv)
{
	char cmd[512], reply[1024];
	struct sockaddr_in a;
	struct pollfd pfd;
	size_t used = 0;
	uint64_t p;
	ssize_t n;
	int fd, i;

	if (parse_u64(port, &p) == -1 || p == 0 || p > 65535 || argc < 1) {
		die("usage: relay -C CTL_PORT COMMAND...");
	}
	for (i = 0; i < argc; i++) {
		if (strlen(argv[i]) + 2 > sizeof cmd - used) {
			die("command too long");
		}
		used += (size_t)snprintf(cmd + used, sizeof cmd - used, "%s%s",
		    i ? " " : "", argv[i]);
	}
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)p);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    send(fd, cmd, used, 0) < 0) {
		die("control: %s", strerror(errno));
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 3000) != 1 ||
	    (n = recv(fd, reply, sizeof reply - 1, 0)) < 0) {
		fprintf(stderr, "relay: no reply on control port %s\n", port);
		return 1;
	}
	reply[n] = '\0';
	printf("%s\n", reply);
	return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}

/* ---- main loop ---- */

static void
read_clients(struct relay *r, uint8_t *buf, uint64_t now)
{
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;
	int i, f;

	for (i = 0; i < RECV_BURST; i++) {
		flen = sizeof from;
		memset(&from, 0, sizeof from);
		n = recvfrom(r->lfd, buf, MAX_DGRAM, 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0) {
			return;
		}
		if ((f = flow_find(r, &from, now)) == -1) {
			r->d[UP].in++;
			r->d[UP].drop_err++;
			continue;
		}
		r->flows[f].clen = flen;
		r->flows[f].last = now;
		impair(r, UP, f, buf, (size_t)n, now);
	}
}

static void
read_upstream(struct relay *r, int f, uint8_t *buf, uint64_t now)
{
	ssize_t n;
	int i;

	for (i = 0; i < RECV_BURST; i++) {
		n = recv(r->flows[f].fd, buf, MAX_DGRAM, 0);
		if (n < 0) {
			return;
		}
		r->flows[f].last = now;
		impair(r, DOWN, f, buf, (size_t)n, now);
	}
}

static void
add_window(struct relay *r, int dir, const char *s)
{
	uint64_t a, b;
	char tmp[64], *colon;
	int i;

	if (strlen(s) >= sizeof tmp) {
		die("bad outage %s", s);
	}
	strcpy(tmp, s);
	if ((colon = strchr(tmp, ':')) == NULL) {
		die("bad outage %s (want START_MS:END_MS)", s);
	}
	*colon = '\0';
	if (parse_u64(tmp, &a) == -1 || parse_u64(colon + 1, &b) == -1 ||
	    b <= a) {
		die("bad outage %s (want START_MS:END_MS)", s);
	}
	for (i = 0; i < 2; i++) {
		if (dir >= 0 && dir != i) {
			continue;
		}
		if (r->d[i].nwin >= MAX_WINDOWS) {
			die("too many outage windows");
		}
		r->d[i].win[r->d[i].nwin].start = a;
		r->d[i].win[r->d[i].nwin].end = b;
		r->d[i].nwin++;
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: relay -l PORT -t HOST:PORT [-6] [-b ADDR] [-s SEED] [-v]\n"
	    "  [--loss|--delay|--jitter|--reorder|--dup|--rate[-up|-down] V]\n"
	    "  [--queue BYTES] [--outage[-up|-down] S_MS:E_MS] [--hop-at MS]\n"
	    "  [--ctl PORT] [--max-time SEC] [--pidfile FILE]\n"
	    "       relay -C CTL_PORT COMMAND...\n");
	exit(2);
}

enum {
	O_PARAM = 1000,	/* O_PARAM + param * 3 + (0 both, 1 up, 2 down) */
	O_OUTAGE = 2000, O_OUTAGE_UP, O_OUTAGE_DOWN, O_HOP, O_CTL,
	O_MAXTIME, O_PIDFILE, O_QUEUE
};

int
main(int argc, char **argv)
{
	static struct relay rel;
	struct relay *r = &rel;
	struct option lopts[P_NPARAM * 3 + 10];
	char names[P_NPARAM * 3][16];
	char host[256], port[32], st[1024];
	const char *lport = NULL, *target = NULL, *bind_addr = NULL;
	const char *pidfile = NULL;
	uint64_t seed = 1, maxtime = 3600, ctlport = 0, v, now, deadline;
	uint64_t queue = 65536;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct pollfd pfd[2 + MAX_FLOWS];
	struct sigaction sa;
	sigset_t block, empty;
	struct timespec ts, *tsp;
	uint8_t *buf;
	int six = 0, c, i, k, nfd, one = 1;
	struct pkt *p;
	FILE *pf;

	if (argc >= 2 && strcmp(argv[1], "-C") == 0) {
		if (argc < 4) {
			usage();
		}
		return ctl_client(argv[2], argc - 3, argv + 3);
	}
	k = 0;
	for (i = 0; i < P_NPARAM * 3; i++) {
		snprintf(names[i], sizeof names[i], "%s%s", pname[i / 3],
		    i % 3 == 0 ? "" : i % 3 == 1 ? "-up" : "-down");
		lopts[k].name = names[i];
		lopts[k].has_arg = required_argument;
		lopts[k].flag = NULL;
		lopts[k].val = O_PARAM + i;
		k++;
	}
	{
		static const struct option more[] = {
			{ "outage", required_argument, NULL, O_OUTAGE },
			{ "outage-up", required_argument, NULL, O_OUTAGE_UP },
			{ "outage-down", required_argument, NULL,
			    O_OUTAGE_DOWN },
			{ "hop-at", required_argument, NULL, O_HOP },
			{ "ctl", required_argument, NULL, O_CTL },
			{ "max-time", required_argument, NULL, O_MAXTIME },
			{ "pidfile", required_argument, NULL, O_PIDFILE },
			{ "queue", required_argument, NULL, O_QUEUE },
			{ NULL, 0, NULL, 0 },
		};
		memcpy(&lopts[k], more, sizeof more);
	}
	r->d[UP].queue_bytes = r->d[DOWN].queue_bytes = queue;
	while ((c = getopt_long(argc, argv, "l:t:6b:s:v", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lport = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case '6':
			six = 1;
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &seed) == -1) {
				die("bad seed %s", optarg);
			}
			break;
		case 'v':
			r->verbose = 1;
			break;
		case O_OUTAGE:
		case O_OUTAGE_UP:
		case O_OUTAGE_DOWN:
			add_window(r, c == O_OUTAGE ? -1 :
			    c == O_OUTAGE_UP ? UP : DOWN, optarg);
			break;
		case O_HOP:
			if (r->nhops >= MAX_WINDOWS ||
			    parse_u64(optarg, &v) == -1) {
				die("bad or too many --hop-at %s", optarg);
			}
			r->hops[r->nhops++] = v;
			break;
		case O_CTL:
			if (parse_u64(optarg, &ctlport) == -1 ||
			    ctlport > 65535) {
				die("bad control port %s", optarg);
			}
			break;
		case O_MAXTIME:
			if (parse_u64(optarg, &maxtime) == -1 || maxtime == 0) {
				die("bad --max-time %s", optarg);
			}
			break;
		case O_PIDFILE:
			pidfile = optarg;
			break;
		case O_QUEUE:
			if (parse_u64(optarg, &queue) == -1) {
				die("bad --queue %s", optarg);
			}
			r->d[UP].queue_bytes = r->d[DOWN].queue_bytes = queue;
			break;
		default:
			if (c >= O_PARAM && c < O_PARAM + P_NPARAM * 3) {
				i = c - O_PARAM;
				if (set_param(r, i / 3, i % 3 - 1,
				    optarg) == -1) {
					die("bad value for --%s: %s",
					    names[i], optarg);
				}
				break;
			}
			usage();
		}
	}
	if (lport == NULL || target == NULL || optind != argc) {
		usage();
	}
	/* Hop times in ascending order, for the single cursor in the loop. */
	for (i = 1; i < r->nhops; i++) {
		for (k = i; k > 0 && r->hops[k - 1] > r->hops[k]; k--) {
			v = r->hops[k];
			r->hops[k] = r->hops[k - 1];
			r->hops[k - 1] = v;
		}
	}
	r->d[UP].rng = seed * 2 + 1;
	r->d[DOWN].rng = seed * 2 + 2;

	/* Sockets. */
	parse_hostport(target, host, sizeof host, port, sizeof port);
	resolve(host, port, six ? AF_INET6 : AF_UNSPEC, 0, &r->target,
	    &r->tlen);
	r->fam_up = r->target.ss_family;
	if (bind_addr == NULL) {
		bind_addr = six ? "::1" : "127.0.0.1";
	}
	resolve(bind_addr, lport, six ? AF_INET6 : AF_UNSPEC, 1, &ss, &sslen);
	if ((r->lfd = udp_socket(ss.ss_family)) == -1) {
		die("socket: %s", strerror(errno));
	}
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(r->lfd, (struct sockaddr *)&ss, sslen) == -1) {
		die("bind %s port %s: %s", bind_addr, lport, strerror(errno));
	}
	{
		struct sockaddr_in ca;

		memset(&ca, 0, sizeof ca);
		ca.sin_family = AF_INET;
		ca.sin_port = htons((uint16_t)ctlport);
		ca.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((r->cfd = udp_socket(AF_INET)) == -1 ||
		    bind(r->cfd, (struct sockaddr *)&ca, sizeof ca) == -1) {
			die("control port %llu: %s",
			    (unsigned long long)ctlport, strerror(errno));
		}
	}
	r->capheap = MAX_QUEUE_PKTS;
	r->heap = calloc(r->capheap, sizeof *r->heap);
	buf = malloc(MAX_DGRAM);
	if (r->heap == NULL || buf == NULL) {
		die("out of memory");
	}

	/* Signals are blocked except inside ppoll, so none is missed. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&empty);

	if (pidfile != NULL) {
		if ((pf = fopen(pidfile, "w")) == NULL) {
			die("%s: %s", pidfile, strerror(errno));
		}
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	r->t0 = now_us();
	deadline = r->t0 + maxtime * 1000000u;
	printf("RELAY %u %u\n", sock_port(r->lfd), sock_port(r->cfd));
	fflush(stdout);
	vlog(r, "listening on port %u, target %s, control port %u",
	    sock_port(r->lfd), target, sock_port(r->cfd));

	/*
	 * The loop: wait for a datagram, a signal, or the earliest of the
	 * next packet due, the reorder hold deadlines, the next scheduled
	 * hop and the end of life; then read everything readable, and send
	 * everything due.
	 */
	while (!sig_term) {
		now = now_us();
		if (now >= deadline) {
			vlog(r, "max time reached");
			break;
		}
		if (sig_hop) {
			sig_hop = 0;
			hop(r);
		}
		if (sig_outage) {
			sig_outage = 0;
			k = !(r->d[UP].forced_out && r->d[DOWN].forced_out);
			r->d[UP].forced_out = r->d[DOWN].forced_out = k;
			vlog(r, "outage %s (SIGUSR2)", k ? "on" : "off");
		}
		while (r->nexthop < r->nhops &&
		    r->t0 + r->hops[r->nexthop] * 1000 <= now) {
			r->nexthop++;
			hop(r);
		}
		for (i = 0; i < 2; i++) {
			if (r->d[i].held != NULL &&
			    r->d[i].held_deadline <= now) {
				p = r->d[i].held;
				r->d[i].held = NULL;
				p->when = now;
				heap_push(r, p);
			}
		}
		while (r->nheap > 0 && r->heap[0]->when <= now) {
			p = heap_pop(r);
			deliver(r, p, now);
			free(p);
		}

		/* When must we wake up? */
		v = deadline;
		if (r->nheap > 0 && r->heap[0]->when < v) {
			v = r->heap[0]->when;
		}
		for (i = 0; i < 2; i++) {
			if (r->d[i].held != NULL && r->d[i].held_deadline < v) {
				v = r->d[i].held_deadline;
			}
		}
		if (r->nexthop < r->nhops &&
		    r->t0 + r->hops[r->nexthop] * 1000 < v) {
			v = r->t0 + r->hops[r->nexthop] * 1000;
		}
		v = v > now ? v - now : 0;
		ts.tv_sec = (time_t)(v / 1000000u);
		ts.tv_nsec = (long)(v % 1000000u) * 1000;
		tsp = &ts;

		pfd[0].fd = r->lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = r->cfd;
		pfd[1].events = POLLIN;
		nfd = 2;
		for (i = 0; i < MAX_FLOWS; i++) {
			r->flows[i].pollix = -1;
			if (r->flows[i].used) {
				r->flows[i].pollix = nfd;
				pfd[nfd].fd = r->flows[i].fd;
				pfd[nfd].events = POLLIN;
				nfd++;
			}
		}
		if (ppoll(pfd, (nfds_t)nfd, tsp, &empty) == -1) {
			if (errno == EINTR) {
				continue;
			}
			die("ppoll: %s", strerror(errno));
		}
		now = now_us();
		if (pfd[1].revents & POLLIN) {
			read_control(r);
		}
		/* Replies first: a hop from the control port may have closed
		 * a socket, whose pollix then names a stale slot. */
		for (i = 0; i < MAX_FLOWS; i++) {
			k = r->flows[i].pollix;
			if (k >= 0 && r->flows[i].used &&
			    pfd[k].fd == r->flows[i].fd &&
			    (pfd[k].revents & (POLLIN | POLLERR))) {
				read_upstream(r, i, buf, now);
			}
		}
		if (pfd[0].revents & POLLIN) {
			read_clients(r, buf, now);
		}
	}

	stats_str(r, st, sizeof st);
	fprintf(stderr, "relay: %s\n", st);
	while (r->nheap > 0) {
		free(heap_pop(r));
	}
	for (i = 0; i < 2; i++) {
		free(r->d[i].held);
	}
	for (i = 0; i < MAX_FLOWS; i++) {
		if (r->flows[i].used) {
			close(r->flows[i].fd);
		}
	}
	free(r->heap);
	free(buf);
	if (pidfile != NULL) {
		unlink(pidfile);
	}
	return 0;
}
