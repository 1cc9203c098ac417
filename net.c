/*
 * net.c: the Connection, the datagram layer under SSP (protocol.md §2-§3,
 * constants of §7.13, pitfalls of §12).
 *
 * It owns the UDP sockets (one for the server; a list for the client, which
 * hops ports), the framing of a datagram (nonce tail with direction bit and
 * sequence number, two timestamps, an OCB3-sealed payload), the timestamp
 * echo and the RTT/RTO estimate, and the choice of peer address (the server
 * follows the newest authentic datagram; the client never changes peer).
 * The payload is an SSP fragment, opaque here.
 *
 * Invariants: a (direction, seq) pair is never sealed twice under one key,
 * so sending stops for good before the 63-bit counter or the 2^47-block
 * volume would run out. Nothing received changes any state unless it
 * authenticates, has the peer's direction and a payload at least as long
 * as a fragment header; of those, only the newest so far (by seq) may move
 * the timestamps, the RTT, last_heard or the peer address. Bad input is
 * dropped and counted, never fatal. The clock is always a parameter (ms);
 * log lines go to a callback, never to stderr. The pure framing
 * (net_seal, net_open) needs no sockets, for tests and fuzzing.
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mosh.h"

#define SEQ_MASK 0x7fffffffffffffffull
#define BLOCK_LIMIT (1ull << 47)	/* §2.5: OCB blocks per key and side */
#define RTT_CUTOFF 5000.0		/* §3.4: larger samples are ignored */
#define ECHO_FRESH 1000			/* §3.3: echo window (ms) */
#define CE_PENALTY 500			/* §3.3 */
#define RTO_MIN 50
#define RTO_MAX 1000
#define INTERVAL_MIN 20
#define INTERVAL_MAX 250
#define LOSS_ONE 65536u			/* loss16 of a path that loses all */
#define LOSS_SHIFT 4			/* moving average weight 1/16 */
#define LOSS_GAP_MAX 32			/* missing datagrams counted at once */

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

/* Hand a log line to the caller's callback, if any. */
static void
note(struct net *n, const char *line)
{
	if (n->log != NULL) {
		n->log(n->log_arg, line);
	}
}

/*
 * glibc's wording for the errors a user may see from here, so that the
 * static musl binary prints what upstream (built on glibc) prints: musl
 * says "Address in use", "Message too large" and so on.
 */
const char *
net_strerror(int e)
{
	switch (e) {
	case EADDRINUSE:
		return "Address already in use";
	case EADDRNOTAVAIL:
		return "Cannot assign requested address";
	case EMSGSIZE:
		return "Message too long";
	case ENETUNREACH:
		return "Network is unreachable";
	case EHOSTUNREACH:
		return "No route to host";
	case EMFILE:
		return "Too many open files";
	case ENOMEM:
		return "Cannot allocate memory";
	case EAFNOSUPPORT:
		return "Address family not supported by protocol";
	case EPERM:
		return "Operation not permitted";
	case EACCES:
		return "Permission denied";
	case ENOBUFS:
		return "No buffer space available";
	case ECONNREFUSED:
		return "Connection refused";
	case EINVAL:
		return "Invalid argument";
	}
	return strerror(e);
}

/* The same for the resolver; upstream's text then ends in strerror(0). */
static void
bad_ip(struct net *n, const char *ip, int e)
{
	const char *t;

	switch (e) {
	case EAI_NONAME:
		t = "Name or service not known";
		break;
	case EAI_SERVICE:
		t = "Servname not supported for ai_socktype";
		break;
	case EAI_FAMILY:
		t = "ai_family not supported";
		break;
	default:
		t = gai_strerror(e);
		break;
	}
	snprintf(n->error, sizeof(n->error), "Bad IP address (%s): %s: Success",
	    ip, t);
}

/* ---- framing (§2.2, §2.3, §3.1) ---- */

size_t
net_seal(const struct ocb *ocb, int dir, uint64_t seq, uint16_t ts,
    uint16_t ts_reply, const uint8_t *payload, size_t len, uint8_t *out)
{
	uint8_t pt[4 + NET_MAX_PAYLOAD];
	uint8_t nonce[OCB_NONCE_LEN];

	if (len > NET_MAX_PAYLOAD) {
		return 0;
	}
	memset(nonce, 0, 4);
	put_be64(nonce + 4, (uint64_t)(dir != 0) << 63 | (seq & SEQ_MASK));
	pt[0] = (uint8_t)(ts >> 8);
	pt[1] = (uint8_t)ts;
	pt[2] = (uint8_t)(ts_reply >> 8);
	pt[3] = (uint8_t)ts_reply;
	if (len > 0) {
		memcpy(pt + 4, payload, len);
	}
	memcpy(out, nonce + 4, NET_NONCE_TAIL);
	ocb_seal(ocb, nonce, NULL, 0, pt, len + 4, out + NET_NONCE_TAIL);
	explicit_bzero(pt, len + 4);
	return len + NET_OVERHEAD;
}

int
net_open(const struct ocb *ocb, int rx_dir, const uint8_t *d, size_t n,
    struct net_pkt *pkt, uint8_t *payload, int *why)
{
	uint8_t pt[NET_MAX_DGRAM - NET_NONCE_TAIL - OCB_TAG_LEN];
	uint8_t nonce[OCB_NONCE_LEN];
	uint64_t tail;
	size_t ptlen = 0;
	int r = -1, reason = NET_DROP_AUTH, dir;

	if (n < NET_NONCE_TAIL + OCB_TAG_LEN) {
		reason = NET_DROP_SHORT;
		goto out;
	}
	if (n > NET_MAX_DGRAM) {
		reason = NET_DROP_OVERSIZE;
		goto out;
	}
	ptlen = n - NET_NONCE_TAIL - OCB_TAG_LEN;
	memset(nonce, 0, 4);
	memcpy(nonce + 4, d, NET_NONCE_TAIL);
	if (ocb_open(ocb, nonce, NULL, 0, d + NET_NONCE_TAIL,
	    n - NET_NONCE_TAIL, pt) != 0) {
		reason = NET_DROP_AUTH;
		goto out;
	}
	/* Upstream drops a plaintext under 4 bytes and aborts on a payload
	 * shorter than a fragment header; we drop both. */
	if (ptlen < 4 + NET_MIN_PAYLOAD) {
		reason = NET_DROP_PLAINTEXT;
		goto out;
	}
	tail = get_be64(d);
	dir = (int)(tail >> 63);
	if (rx_dir != -1 && dir != rx_dir) {
		reason = NET_DROP_DIRECTION;
		goto out;
	}
	pkt->seq = tail & SEQ_MASK;
	pkt->dir = dir;
	pkt->ts = (uint16_t)(pt[0] << 8 | pt[1]);
	pkt->ts_reply = (uint16_t)(pt[2] << 8 | pt[3]);
	pkt->len = ptlen - 4;
	memcpy(payload, pt + 4, pkt->len);
	r = 0;
out:
	explicit_bzero(pt, ptlen);
	if (r == -1 && why != NULL) {
		*why = reason;
	}
	return r;
}

const char *
net_drop_text(int why)
{
	switch (why) {
	case NET_DROP_SHORT:
		return "Ciphertext must contain nonce and tag.";
	case NET_DROP_OVERSIZE:
		return "Received oversize datagram";
	case NET_DROP_AUTH:
		return "Packet failed integrity check.";
	case NET_DROP_DIRECTION:
	case NET_DROP_PLAINTEXT:
		return "Illegal counterparty input "
		    "(possible denial of service)";
	case NET_DROP_RECVERR:
		return "recvmsg failed";
	}
	return "unknown";
}

/* ---- timestamps and RTT (§3.3, §3.4) ---- */

uint16_t
net_ts16(uint64_t now)
{
	uint16_t ts = (uint16_t)now;

	return ts == NET_TS_NONE ? 0 : ts;
}

/* ceil() for the non-negative, bounded values of §3.4, without libm. */
static uint64_t
ceil_pos(double x)
{
	uint64_t i;

	if (!(x > 0)) {
		return 0;
	}
	if (x >= 1e15) {
		return (uint64_t)1e15;
	}
	i = (uint64_t)x;
	return (double)i < x ? i + 1 : i;
}

uint64_t
net_rto(const struct net *n)
{
	uint64_t rto = ceil_pos(n->srtt + 4 * n->rttvar);

	return rto < RTO_MIN ? RTO_MIN : rto > RTO_MAX ? RTO_MAX : rto;
}

uint64_t
net_send_interval(const struct net *n)
{
	uint64_t iv = ceil_pos(n->srtt / 2);

	return iv < INTERVAL_MIN ? INTERVAL_MIN :
	    iv > INTERVAL_MAX ? INTERVAL_MAX : iv;
}

unsigned
net_loss(const struct net *n)
{
	return (unsigned)(((uint64_t)n->loss16 * 1000 + LOSS_ONE / 2) /
	    LOSS_ONE);
}

/*
 * The loss estimate: each sequence number skipped by an authentic datagram
 * is a datagram lost on the way to us, each one that arrives a datagram
 * kept; a late one (reordered) takes back the loss it was counted as. The
 * window `seen` remembers the last 64 numbers, so a duplicate counts once.
 * A gap longer than LOSS_GAP_MAX (an outage) counts as that many.
 */
static void
loss_note(struct net *n, uint64_t seq)
{
	uint64_t gap, d, i;

	if (seq >= n->expected_seq) {
		gap = seq - n->expected_seq;
		if (n->expected_seq == 0 && n->seen == 0) {
			gap = 0;	/* the first: nothing to compare */
		}
		for (i = 0; i < gap && i < LOSS_GAP_MAX; i++) {
			n->loss16 += (LOSS_ONE - n->loss16) >> LOSS_SHIFT;
		}
		n->loss16 -= n->loss16 >> LOSS_SHIFT;
		d = seq - n->expected_seq + 1;	/* the shift of the window */
		n->seen = d >= 64 ? 0 : n->seen << d;
		n->seen |= 1;
		return;
	}
	d = n->expected_seq - 1 - seq;
	if (d >= 64 || (n->seen >> d & 1)) {
		return;		/* too old to judge, or a duplicate */
	}
	n->seen |= (uint64_t)1 << d;
	n->loss16 -= MIN(n->loss16, LOSS_ONE >> LOSS_SHIFT);
}

static void
rtt_sample(struct net *n, uint16_t ts_reply, uint64_t now)
{
	double r, dev;

	/* uint16 wrap-around difference of two of our own clock readings */
	r = (uint16_t)(net_ts16(now) - ts_reply);
	if (r >= RTT_CUTOFF) {
		return;
	}
	if (!n->rtt_hit) {
		n->srtt = r;
		n->rttvar = r / 2;
		n->rtt_hit = 1;
		return;
	}
	dev = n->srtt > r ? n->srtt - r : r - n->srtt;
	n->rttvar = 0.75 * n->rttvar + 0.25 * dev;
	n->srtt = 0.875 * n->srtt + 0.125 * r;
}

/* ---- the Connection ---- */

int
net_init(struct net *n, int server, const uint8_t key[16])
{
	int i;

	memset(n, 0, sizeof(*n));
	if (ocb_init(&n->ocb, key) != 0) {
		return -1;
	}
	n->server = server != 0;
	n->dir = server ? NET_TO_CLIENT : NET_TO_SERVER;
	for (i = 0; i < (int)LEN(n->fds); i++) {
		n->fds[i] = -1;
	}
	n->mtu = NET_MTU_FALLBACK;
	n->srtt = 1000;
	n->rttvar = 500;
	n->saved_ts = NET_TS_NONE;
	n->last_heard = UINT64_MAX;
	n->last_roundtrip_success = UINT64_MAX;
	return 0;
}

void
net_close(struct net *n)
{
	int i;

	for (i = 0; i < n->nfds; i++) {
		close(n->fds[i]);
	}
	ocb_wipe(&n->ocb);
	explicit_bzero(n, sizeof(*n));
	n->nfds = 0;
}

static int
mtu_of(int family)
{
	return family == AF_INET6 ? NET_MTU_IPV6 : NET_MTU_IPV4;
}

/* A UDP socket with the options of §3.7, or -1 with n->error set. */
static int
sock_open(struct net *n, int family)
{
	int fd, v;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(n->error, sizeof(n->error), "socket: %s",
		    net_strerror(errno));
		return -1;
	}
	v = IP_PMTUDISC_DONT;
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)) == -1) {
		snprintf(n->error, sizeof(n->error), "setsockopt: %s",
		    net_strerror(errno));
		close(fd);
		return -1;
	}
	v = 0x02;	/* ECN field ECT(0), DSCP 0; IPv4 only in effect */
	(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof(v));
	v = 1;
	(void)setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &v, sizeof(v));
	return fd;
}

static void
addr_text(const struct net_addr *a, char *host, size_t hl, char *serv,
    size_t sl)
{
	if (getnameinfo((const struct sockaddr *)&a->ss, a->len, host,
	    (socklen_t)hl, serv, (socklen_t)sl,
	    NI_DGRAM | NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, hl, "?");
		snprintf(serv, sl, "?");
	}
}

/*
 * One port of a -p value: s up to the end or to a stop character (':' for
 * the low port). strtol as upstream uses it on glibc: blanks and a sign
 * are accepted, an empty string is port 0. Only ERANGE counts: musl also
 * sets EINVAL when there are no digits, glibc does not. 0 with *v, or -1
 * with upstream's message naming the port as invalid and ranged do.
 */
static int
port_word(const char *s, char stop, const char *invalid, const char *ranged,
    long *v, char **end, char *err, size_t errlen)
{
	errno = 0;
	*v = strtol(s, end, 10);
	if (errno == ERANGE || (**end != '\0' && **end != stop)) {
		snprintf(err, errlen, "Invalid %s port number (%s)", invalid, s);
		return -1;
	}
	if (*v < 0 || *v > 65535) {
		snprintf(err, errlen,
		    "%s port number %ld outside valid range [0..65535]",
		    ranged, *v);
		return -1;
	}
	return 0;
}

int
net_parse_ports(const char *s, int *low, int *high, char *err,
    size_t errlen)
{
	char *end;
	long v;

	if (port_word(s, ':', "(low)", "(Low)", &v, &end, err, errlen)) {
		return -1;
	}
	*low = (int)v;
	if (*end == '\0') {
		*high = *low;
		return 0;
	}
	if (port_word(end + 1, '\0', "high", "High", &v, &end, err,
	    errlen)) {
		return -1;
	}
	*high = (int)v;
	if (*low > *high) {
		snprintf(err, errlen, "Low port %d greater than high port %d",
		    *low, *high);
		return -1;
	}
	if (*low == 0) {
		snprintf(err, errlen,
		    "Low port 0 incompatible with port ranges");
		return -1;
	}
	return 0;
}

/*
 * One attempt of §3.8: ip NULL means 0.0.0.0. 0 with the socket in
 * n->fds[0], or -1 with n->error set.
 */
static int
try_bind(struct net *n, const char *ip, int low, int high)
{
	struct addrinfo hints, *res;
	struct net_addr a;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char host[NI_MAXHOST], serv[NI_MAXSERV], line[1200];
	int fd, port, e, off = 0;

	memset(&a, 0, sizeof(a));
	if (ip == NULL) {
		/* Upstream asks the resolver for a passive address, which
		 * gives 0.0.0.0 first on glibc and musl: say so directly. */
		sin = (struct sockaddr_in *)&a.ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		a.len = sizeof(*sin);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_DGRAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
		if ((e = getaddrinfo(ip, "0", &hints, &res)) != 0) {
			bad_ip(n, ip, e);
			return -1;
		}
		if (res->ai_addrlen > sizeof(a.ss) ||
		    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
			freeaddrinfo(res);
			snprintf(n->error, sizeof(n->error),
			    "Unknown address family");
			return -1;
		}
		memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
		a.len = res->ai_addrlen;
		freeaddrinfo(res);
	}
	if (low == -1) {
		low = NET_PORT_LOW;
		high = NET_PORT_HIGH;
	}
	if ((fd = sock_open(n, a.ss.ss_family)) == -1) {
		return -1;
	}
	sin = (struct sockaddr_in *)&a.ss;
	sin6 = (struct sockaddr_in6 *)&a.ss;
	if (a.ss.ss_family == AF_INET6 &&
	    memcmp(&sin6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0) {
		/* the wildcard :: also takes IPv4 clients */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off));
	}
	e = 0;
	for (port = low; port <= high; port++) {
		if (a.ss.ss_family == AF_INET) {
			sin->sin_port = htons((uint16_t)port);
		} else {
			sin6->sin6_port = htons((uint16_t)port);
		}
		if (bind(fd, (struct sockaddr *)&a.ss, a.len) == 0) {
			n->fds[0] = fd;
			n->nfds = 1;
			n->family = a.ss.ss_family;
			n->mtu = mtu_of(n->family);
			return 0;
		}
		e = errno;
	}
	close(fd);
	addr_text(&a, host, sizeof(host), serv, sizeof(serv));
	snprintf(line, sizeof(line), "Failed binding to %s:%s", host, serv);
	note(n, line);
	snprintf(n->error, sizeof(n->error), "bind: %s", net_strerror(e));
	return -1;
}

int
net_bind(struct net *n, const char *ip, int low, int high)
{
	char line[1200];

	if (!n->server || n->nfds != 0) {
		snprintf(n->error, sizeof(n->error), "net_bind: not a fresh "
		    "server connection");
		return -1;
	}
	if (ip != NULL) {
		if (try_bind(n, ip, low, high) == 0) {
			return 0;
		}
		snprintf(line, sizeof(line), "Error binding to IP %s: %s", ip,
		    n->error);
		note(n, line);
	}
	if (try_bind(n, NULL, low, high) == 0) {
		return 0;
	}
	snprintf(line, sizeof(line), "Error binding to any interface: %s",
	    n->error);
	note(n, line);
	return -1;
}

int
net_connect(struct net *n, const char *ip, const char *port, uint64_t now)
{
	struct addrinfo hints, *res;
	int e, fd;

	if (n->server || n->nfds != 0) {
		snprintf(n->error, sizeof(n->error), "net_connect: not a "
		    "fresh client connection");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(ip, port, &hints, &res)) != 0) {
		bad_ip(n, ip, e);
		return -1;
	}
	if (res->ai_addrlen > sizeof(n->peer.ss) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		snprintf(n->error, sizeof(n->error), "Unknown address family");
		return -1;
	}
	memset(&n->peer, 0, sizeof(n->peer));
	memcpy(&n->peer.ss, res->ai_addr, res->ai_addrlen);
	n->peer.len = res->ai_addrlen;
	freeaddrinfo(res);
	if ((fd = sock_open(n, n->peer.ss.ss_family)) == -1) {
		return -1;
	}
	n->fds[0] = fd;
	n->nfds = 1;
	n->family = n->peer.ss.ss_family;
	n->mtu = mtu_of(n->family);
	n->has_peer = 1;
	n->last_port_choice = now;
	return 0;
}

int
net_port(const struct net *n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (n->nfds == 0 || getsockname(n->fds[n->nfds - 1],
	    (struct sockaddr *)&ss, &len) == -1) {
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	if (ss.ss_family == AF_INET6) {
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return -1;
}

int
net_fds(const struct net *n, int *fds, int max)
{
	int i;

	for (i = 0; i < n->nfds && i < max; i++) {
		fds[i] = n->fds[i];
	}
	return n->nfds;
}

/* Close the oldest k sockets. */
static void
drop_oldest(struct net *n, int k)
{
	int i;

	for (i = 0; i < k; i++) {
		close(n->fds[i]);
	}
	memmove(n->fds, n->fds + k, (size_t)(n->nfds - k) * sizeof(n->fds[0]));
	n->nfds -= k;
	for (i = n->nfds; i < (int)LEN(n->fds); i++) {
		n->fds[i] = -1;
	}
}

/* §3.9 pruning, after a hop and after every datagram passed up. */
static void
prune(struct net *n, uint64_t now)
{
	if (n->server || n->nfds <= 1) {
		return;
	}
	if (now - n->last_port_choice > NET_OLD_SOCK_AGE) {
		drop_oldest(n, n->nfds - 1);
	}
	if (n->nfds > NET_MAX_SOCKS) {
		drop_oldest(n, n->nfds - NET_MAX_SOCKS);
	}
}

int
net_hop(struct net *n, uint64_t now)
{
	int fd;

	if (n->server || n->nfds == 0) {
		return -1;
	}
	n->last_port_choice = now;
	if ((fd = sock_open(n, n->family)) == -1) {
		snprintf(n->send_error, sizeof(n->send_error), "%s", n->error);
		return -1;
	}
	if (n->nfds == (int)LEN(n->fds)) {
		drop_oldest(n, 1);
	}
	n->fds[n->nfds++] = fd;
	prune(n, now);
	return 0;
}

long
net_build(struct net *n, const uint8_t *payload, size_t len, uint64_t now,
    uint8_t *out)
{
	uint16_t reply = NET_TS_NONE;
	uint64_t nblocks;

	if (len < NET_MIN_PAYLOAD || len > NET_MAX_PAYLOAD) {
		return 0;
	}
	nblocks = (len + 4 + 15) / 16;
	if (n->next_seq > SEQ_MASK || n->blocks + nblocks >= BLOCK_LIMIT) {
		return -1;
	}
	if (n->saved_ok && now - n->saved_at < ECHO_FRESH) {
		/* echo once, advanced by how long we held it */
		reply = (uint16_t)(n->saved_ts + (now - n->saved_at));
		n->saved_ok = 0;
		n->saved_ts = NET_TS_NONE;
		n->saved_at = 0;
	}
	n->blocks += nblocks;
	return (long)net_seal(&n->ocb, n->dir, n->next_seq++, net_ts16(now),
	    reply, payload, len, out);
}

int
net_send(struct net *n, const uint8_t *payload, size_t len, uint64_t now)
{
	uint8_t d[NET_MAX_DGRAM];
	long dl;
	ssize_t sent;
	int r = 0, e;

	if (!n->has_peer || n->nfds == 0) {
		return 1;
	}
	if ((dl = net_build(n, payload, len, now, d)) <= 0) {
		return -2;
	}
	n->stats.tx++;
	if (n->tap != NULL) {
		n->tap(n->tap_arg, d, (size_t)dl);
	}
	sent = sendto(n->fds[n->nfds - 1], d, (size_t)dl, MSG_DONTWAIT,
	    (const struct sockaddr *)&n->peer.ss, n->peer.len);
	e = sent == -1 ? errno : 0;
	if (sent != dl) {
		n->stats.tx_err++;
		snprintf(n->send_error, sizeof(n->send_error), "sendto: %s",
		    e != 0 ? net_strerror(e) : "short write");
		if (e == EMSGSIZE) {
			/* the payload MTU of last resort, for good (§3.6) */
			n->mtu = NET_MTU_FALLBACK;
		}
		r = -1;
	}
	if (n->server) {
		if (now - n->last_heard > NET_ASSOC_TIMEOUT) {
			n->has_peer = 0;
			note(n, "Server now detached from client.");
		}
	} else if (now - n->last_port_choice > NET_HOP_INTERVAL &&
	    now - n->last_roundtrip_success > NET_HOP_INTERVAL) {
		(void)net_hop(n, now);
	}
	return r;
}

static int
addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->len != b->len || a->ss.ss_family != b->ss.ss_family) {
		return 0;
	}
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	}
	return memcmp(&a->ss, &b->ss, a->len) == 0;
}

int
net_accept(struct net *n, const uint8_t *d, size_t len,
    const struct net_addr *from, int ce, uint64_t now, uint8_t *payload,
    size_t *plen, int *why)
{
	struct net_pkt p;
	char host[NI_MAXHOST], serv[NI_MAXSERV], line[1200];
	int reason;

	if (net_open(&n->ocb, !n->dir, d, len, &p, payload, &reason) != 0) {
		n->stats.drop[reason]++;
		if (why != NULL) {
			*why = reason;
		}
		return -1;
	}
	*plen = p.len;
	n->stats.rx++;
	loss_note(n, p.seq);
	if (p.seq < n->expected_seq) {
		/* §3.5: old or replayed; SSP may use it, nothing else may */
		n->stats.rx_old++;
		return 0;
	}
	n->expected_seq = p.seq + 1;
	if (p.ts != NET_TS_NONE) {
		n->saved_ok = 1;
		n->saved_ts = p.ts;
		n->saved_at = now;
		if (ce) {
			n->stats.rx_ce++;
			n->saved_ts = (uint16_t)(n->saved_ts - CE_PENALTY);
			if (n->server) {
				note(n, "Received explicit congestion "
				    "notification.");
			}
		}
	}
	if (p.ts_reply != NET_TS_NONE) {
		n->stats.rx_echo++;
		rtt_sample(n, p.ts_reply, now);
	}
	n->has_peer = 1;
	n->last_heard = now;
	if (n->server && from != NULL && from->len <= sizeof(from->ss) &&
	    !addr_equal(&n->peer, from)) {
		n->peer = *from;
		if (n->log != NULL) {
			addr_text(&n->peer, host, sizeof(host), serv,
			    sizeof(serv));
			snprintf(line, sizeof(line),
			    "Server now attached to client at %s:%s", host,
			    serv);
			note(n, line);
		}
	}
	return 0;
}

/*
 * Read one datagram from fd. 1: read into d, *dl, *from, *ce; 0: nothing
 * there; -1: dropped (oversize or error), with *why.
 */
static int
recv_one(int fd, uint8_t *d, size_t *dl,
    struct net_addr *from, int *ce, int *why)
{
	struct msghdr h;
	struct iovec iov;
	struct cmsghdr *c;
	union {
		struct cmsghdr align;
		uint8_t b[256];
	} ctl;
	ssize_t r;

	memset(&h, 0, sizeof(h));
	memset(from, 0, sizeof(*from));
	iov.iov_base = d;
	iov.iov_len = NET_MAX_DGRAM;
	h.msg_name = &from->ss;
	h.msg_namelen = sizeof(from->ss);
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = ctl.b;
	h.msg_controllen = sizeof(ctl.b);
	r = recvmsg(fd, &h, MSG_DONTWAIT);
	if (r == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			return 0;
		}
		*why = NET_DROP_RECVERR;
		return -1;
	}
	if (h.msg_flags & MSG_TRUNC) {
		*why = NET_DROP_OVERSIZE;
		return -1;
	}
	from->len = h.msg_namelen;
	*dl = (size_t)r;
	*ce = 0;
	/* §3.7: only the first control message is looked at */
	c = CMSG_FIRSTHDR(&h);
	if (c != NULL && c->cmsg_level == IPPROTO_IP &&
	    (c->cmsg_type == IP_TOS || c->cmsg_type == IP_RECVTOS) &&
	    c->cmsg_len >= CMSG_LEN(1)) {
		*ce = (CMSG_DATA(c)[0] & 0x03) == 0x03;
	}
	return 1;
}

int
net_recv(struct net *n, uint64_t now, uint8_t *payload, size_t *len,
    int *why)
{
	uint8_t d[NET_MAX_DGRAM];
	struct net_addr from;
	size_t dl = 0;
	int i, r, ce = 0, reason = NET_DROP_RECVERR;

	for (i = 0; i < n->nfds; i++) {
		r = recv_one(n->fds[i], d, &dl, &from, &ce, &reason);
		if (r == 0) {
			continue;
		}
		if (r == -1) {
			n->stats.drop[reason]++;
			if (why != NULL) {
				*why = reason;
			}
			return -1;
		}
		if (net_accept(n, d, dl, &from, ce, now, payload, len,
		    why) != 0) {
			return -1;
		}
		prune(n, now);
		return 1;
	}
	return 0;
}

int
net_recv_from_buffer(struct net *n, const uint8_t *d, size_t len,
    uint64_t now, uint8_t *payload, size_t *plen, int *why)
{
	if (len > NET_MAX_DGRAM) {
		n->stats.drop[NET_DROP_OVERSIZE]++;
		if (why != NULL) {
			*why = NET_DROP_OVERSIZE;
		}
		return -1;
	}
	if (net_accept(n, d, len, NULL, 0, now, payload, plen, why) != 0) {
		return -1;
	}
	n->stats.rx_path++;
	return 1;
}

/* ---- randomness ---- */

/* getrandom(2) in read(2)'s shape, for fill(); fd is unused. */
static ssize_t
getrandom_fd(int fd, void *p, size_t n)
{
	(void)fd;
	return getrandom(p, n, 0);
}

/* Fill p[*got..len) from rd, past EINTR, until it ends or fails. */
static void
fill(ssize_t (*rd)(int, void *, size_t), int fd, uint8_t *p, size_t len,
    size_t *got)
{
	ssize_t r;

	while (*got < len) {
		r = rd(fd, p + *got, len - *got);
		if (r > 0) {
			*got += (size_t)r;
		} else if (r != -1 || errno != EINTR) {
			break;
		}
	}
}

int
net_random(void *buf, size_t len)
{
	size_t got = 0;
	int fd;

	fill(getrandom_fd, -1, buf, len, &got);
	if (got == len) {
		return 0;
	}
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1) {
		return -1;
	}
	fill(read, fd, buf, len, &got);
	close(fd);
	return got == len ? 0 : -1;
}

int
net_key_generate(uint8_t key[16])
{
	if (net_random(key, 16) != 0) {
		explicit_bzero(key, 16);
		return -1;
	}
	return 0;
}
