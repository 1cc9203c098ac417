/*
 * net_test.c: the Connection (protocol.md §2-§3).
 *  (a) every datagram of the captured sessions opens to the recorded seq,
 *      direction, timestamps and fragment, and seals back byte for byte;
 *  (b) hostile input: truncation, bit flips, oversize, reflection, wrong
 *      key, replays from new addresses: dropped or passed up, counted,
 *      and never moving the timestamps, RTT, last_heard or the peer;
 *  (c) timestamps and RTT/RTO arithmetic on a fake clock;
 *  (d) real sockets on loopback, IPv4 and IPv6: exchange, roaming after a
 *      port hop, the 40 s detach, EMSGSIZE, port parsing and binding.
 * Every time is a fake clock value; real time only bounds the waits for a
 * loopback datagram to arrive.
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mosh.h"
#include "test/test.h"

#define T0 1000000ull		/* fake clock start: well past 0 */

/* ---- small helpers ---- */

static char *
slurp(const char *path)
{
	FILE *f;
	char *s;
	long n;

	if ((f = fopen(path, "rb")) == NULL) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(s, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(s);
		return NULL;
	}
	fclose(f);
	s[n] = '\0';
	return s;
}

static int
unhex(const char *s, size_t slen, uint8_t *out, size_t max, size_t *len)
{
	static const char digits[] = "0123456789abcdef";
	const char *hi, *lo;
	size_t i;

	if (slen % 2 != 0 || slen / 2 > max) {
		return -1;
	}
	for (i = 0; i < slen / 2; i++) {
		hi = s[2 * i] ? strchr(digits, s[2 * i]) : NULL;
		lo = s[2 * i + 1] ? strchr(digits, s[2 * i + 1]) : NULL;
		if (hi == NULL || lo == NULL) {
			return -1;
		}
		out[i] = (uint8_t)((hi - digits) << 4 | (lo - digits));
	}
	*len = slen / 2;
	return 0;
}

/* Find "key": in [p, end) and return what follows the colon and blanks. */
static const char *
jfind(const char *p, const char *end, const char *key)
{
	char pat[64];
	size_t pl;
	const char *q;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	pl = strlen(pat);
	for (q = p; q + pl <= end; q++) {
		if (memcmp(q, pat, pl) == 0) {
			q += pl;
			while (q < end && *q == ' ') {
				q++;
			}
			return q;
		}
	}
	return NULL;
}

/* A string value as hex bytes; -1 when missing or bad. */
static int
jhex(const char *p, const char *end, const char *key, uint8_t *out,
    size_t max, size_t *len)
{
	const char *v = jfind(p, end, key), *e;

	if (v == NULL || *v != '"') {
		return -1;
	}
	v++;
	if ((e = memchr(v, '"', (size_t)(end - v))) == NULL) {
		return -1;
	}
	return unhex(v, (size_t)(e - v), out, max, len);
}

static int
jnum(const char *p, const char *end, const char *key, uint64_t *out)
{
	const char *v = jfind(p, end, key);

	if (v == NULL) {
		return -1;
	}
	*out = strtoull(v, NULL, 10);
	return 0;
}

static void
mkaddr(struct net_addr *a, int fam, const char *ip, int port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (fam == AF_INET) {
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		a->len = sizeof(*s);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		a->len = sizeof(*s6);
	}
}

static void
addr4(struct net_addr *a, const char *ip, int port)
{
	mkaddr(a, AF_INET, ip, port);
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
addr_port(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET) {
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	}
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

/* The log callback: keep the last line and count them. */
struct logbuf {
	char last[512];
	char all[4096];
	int n;
};

static void
logcb(void *arg, const char *line)
{
	struct logbuf *l = arg;
	size_t used = strlen(l->all);

	snprintf(l->last, sizeof(l->last), "%s", line);
	snprintf(l->all + used, sizeof(l->all) - used, "%s\n", line);
	l->n++;
}

static void
setlog(struct net *n, struct logbuf *l)
{
	memset(l, 0, sizeof(*l));
	n->log = logcb;
	n->log_arg = l;
}

static uint64_t
total_drops(const struct net *n)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < NET_NDROP; i++) {
		t += n->stats.drop[i];
	}
	return t;
}

/* The part of a Connection that received input may change. */
struct snap {
	uint64_t expected_seq, last_heard, saved_at;
	int has_peer, saved_ok, rtt_hit;
	uint16_t saved_ts;
	double srtt, rttvar;
	struct net_addr peer;
};

static void
snap_take(const struct net *n, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->expected_seq = n->expected_seq;
	s->last_heard = n->last_heard;
	s->saved_at = n->saved_at;
	s->has_peer = n->has_peer;
	s->saved_ok = n->saved_ok;
	s->rtt_hit = n->rtt_hit;
	s->saved_ts = n->saved_ts;
	s->srtt = n->srtt;
	s->rttvar = n->rttvar;
	s->peer = n->peer;
}

static int
snap_same(const struct net *n, const struct snap *s)
{
	struct snap t;

	snap_take(n, &t);
	return memcmp(&t, s, sizeof(t)) == 0;
}

/* ---- (a) vectors ---- */

static const uint8_t key1[16] = {
	0x1f, 0xc5, 0x92, 0xdd, 0x26, 0x1f, 0xdb, 0xb3,
	0x90, 0x4c, 0x6f, 0xad, 0xfe, 0x2f, 0x7e, 0x54
};

/* A real to_server datagram of session1 (index 0), and a to_client one. */
static uint8_t v_cs[NET_MAX_DGRAM], v_sc[NET_MAX_DGRAM];
static size_t v_cs_len, v_sc_len;

static void
test_vectors_file(const char *path, int *count)
{
	static uint8_t raw[NET_MAX_DGRAM], pt[NET_MAX_DGRAM],
	    frag[NET_MAX_DGRAM], out[NET_MAX_DGRAM], pay[NET_MAX_PAYLOAD];
	struct ocb ocb;
	struct net_pkt pkt;
	uint8_t key[16];
	size_t rawlen, ptlen, fraglen = 0, klen = 0;
	uint64_t seq = 0, ts = 0, tsr = 0;
	const char *s, *p, *next, *end, *dir;
	char *text;
	int why, todir, bad = 0;

	if ((text = slurp(path)) == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		CHECK(0);
		return;
	}
	end = text + strlen(text);
	CHECK(jhex(text, end, "key_hex", key, sizeof(key), &klen) == 0);
	CHECK(klen == 16);
	CHECK(ocb_init(&ocb, key) == 0);
	s = jfind(text, end, "datagrams");
	CHECK(s != NULL);
	p = s ? jfind(s, end, "index") : NULL;
	for (; p != NULL; p = next) {
		next = jfind(p, end, "index");
		s = p;
		p = next ? next : end;
		if (jhex(s, p, "raw_hex", raw, sizeof(raw), &rawlen) != 0) {
			CHECK(0);
			continue;
		}
		if (jfind(s, p, "error") != NULL) {
			/* the forged datagram of session2 */
			CHECK(net_open(&ocb, -1, raw, rawlen, &pkt, pay,
			    &why) == -1);
			CHECK(why == NET_DROP_AUTH);
			(*count)++;
			continue;
		}
		dir = jfind(s, p, "direction");
		CHECK(dir != NULL);
		if (dir == NULL) {
			continue;
		}
		todir = strncmp(dir, "\"to_client\"", 11) == 0 ?
		    NET_TO_CLIENT : NET_TO_SERVER;
		CHECK(jnum(s, p, "seq", &seq) == 0);
		CHECK(jnum(s, p, "timestamp", &ts) == 0);
		CHECK(jnum(s, p, "timestamp_reply", &tsr) == 0);
		memset(&pkt, 0, sizeof(pkt));
		if (net_open(&ocb, -1, raw, rawlen, &pkt, pay, &why) != 0) {
			fprintf(stderr, "%s: datagram at offset %ld: drop %d\n",
			    path, (long)(s - text), why);
			bad++;
			continue;
		}
		if (pkt.seq != seq || pkt.dir != todir || pkt.ts != ts ||
		    pkt.ts_reply != tsr || pkt.len != rawlen - NET_OVERHEAD) {
			bad++;
		}
		/* the fragment: all of the plaintext after the timestamps */
		if (jhex(s, p, "plaintext_hex", pt, sizeof(pt), &ptlen) == 0) {
			if (ptlen != pkt.len + 4 ||
			    memcmp(pt + 4, pay, pkt.len) != 0) {
				bad++;
			}
			CHECK(jhex(s, p, "contents_hex", frag, sizeof(frag),
			    &fraglen) == 0);
			if (fraglen + NET_MIN_PAYLOAD != pkt.len ||
			    memcmp(frag, pay + NET_MIN_PAYLOAD, fraglen) != 0) {
				bad++;
			}
		}
		/* with the direction we expect from that peer, and the other */
		if (net_open(&ocb, todir, raw, rawlen, &pkt, pay, NULL) != 0 ||
		    net_open(&ocb, !todir, raw, rawlen, &pkt, pay,
		    &why) != -1 || why != NET_DROP_DIRECTION) {
			bad++;
		}
		if (net_seal(&ocb, todir, seq, (uint16_t)ts, (uint16_t)tsr, pay,
		    pkt.len, out) != rawlen || memcmp(out, raw, rawlen) != 0) {
			fprintf(stderr, "%s: seq %llu does not reseal\n", path,
			    (unsigned long long)seq);
			bad++;
		}
		if (todir == NET_TO_SERVER && v_cs_len == 0) {
			memcpy(v_cs, raw, rawlen);
			v_cs_len = rawlen;
		}
		if (todir == NET_TO_CLIENT && v_sc_len == 0) {
			memcpy(v_sc, raw, rawlen);
			v_sc_len = rawlen;
		}
		(*count)++;
	}
	CHECK(bad == 0);
	ocb_wipe(&ocb);
	free(text);
}

static void
test_vectors(void)
{
	int n1 = 0, n2 = 0, n3 = 0, n4 = 0;

	test_vectors_file("test/vectors/session1.json", &n1);
	test_vectors_file("test/vectors/session2.json", &n2);
	test_vectors_file("test/vectors/session3.json", &n3);
	test_vectors_file("test/vectors/session4-roaming.json", &n4);
	/* every datagram was looked at */
	CHECK(n1 == 44);
	CHECK(n2 == 34);
	CHECK(n3 == 14);
	CHECK(n4 == 1157);
	CHECK(v_cs_len == 76);
	CHECK(v_sc_len > 0);
}

/* "127.0.0.1:44468" -> address */
static int
jaddr(const char *p, const char *end, const char *key, struct net_addr *a)
{
	const char *v = jfind(p, end, key);
	char ip[64];
	int port;

	if (v == NULL || sscanf(v, "\"%63[0-9.]:%d\"", ip, &port) != 2) {
		return -1;
	}
	addr4(a, ip, port);
	return 0;
}

/*
 * session4 as the server saw it (the relay's leg, port 60130): the client
 * roams once, then goes silent for 48 s. Fed to a server Connection in
 * capture order, with every captured server datagram sent at its capture
 * time, it must attach and detach exactly where upstream's log says, and
 * never be asked to send while detached.
 */
static void
test_session4(void)
{
	static uint8_t raw[NET_MAX_DGRAM], pay[NET_MAX_PAYLOAD];
	uint8_t msg[10] = { 0 }, key[16];
	struct net s;
	struct net_addr src, dst, sink, keep;
	struct logbuf lg;
	socklen_t alen = sizeof(sink.ss);
	const char *p, *q, *end;
	char *text;
	size_t rawlen, plen, klen;
	uint64_t t, base = 0, ts, heard = 0, sent = 0, unattached = 0;
	double tms;
	uint16_t d16;
	int fd, why, bad = 0;

	if ((text = slurp("test/vectors/session4-roaming.json")) == NULL) {
		CHECK(0);
		return;
	}
	end = text + strlen(text);
	/* the datagrams the server "sends" go to a socket of ours */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	mkaddr(&sink, AF_INET, "127.0.0.1", 0);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sink.ss,
	    sink.len) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sink.ss, &alen) == 0);
	CHECK(jhex(text, end, "key_hex", key, sizeof(key), &klen) == 0 &&
	    klen == 16);
	CHECK(net_init(&s, 1, key) == 0);
	CHECK(net_bind(&s, "127.0.0.1", 0, 0) == 0);
	setlog(&s, &lg);
	for (p = jfind(jfind(text, end, "datagrams"), end, "index"); p != NULL;
	    p = q) {
		q = jfind(p, end, "index");
		if (q == NULL) {
			q = end;
		}
		if (jaddr(p, q, "src", &src) != 0 ||
		    jaddr(p, q, "dst", &dst) != 0 ||
		    jhex(p, q, "raw_hex", raw, sizeof(raw), &rawlen) != 0 ||
		    jnum(p, q, "timestamp", &ts) != 0 ||
		    jfind(p, q, "t_ms") == NULL) {
			bad++;
			break;
		}
		tms = strtod(jfind(p, q, "t_ms"), NULL);
		if (base == 0 && (addr_port(&dst) == 60130 ||
		    addr_port(&src) == 60130)) {
			/* our clock in step with theirs: both ends ran on
			 * one machine, so their timestamps share a clock */
			base = 65536 * 64 + (uint16_t)(ts - (uint64_t)tms);
		}
		/* the sender's frozen clock: the capture time, moved by
		 * less than 32 s to agree with the datagram's timestamp */
		t = base + (uint64_t)tms;
		d16 = (uint16_t)(ts - t);
		t = d16 < 32768 ? t + d16 : t - (65536 - d16);
		if (addr_port(&dst) == 60130) {
			if (net_accept(&s, raw, rawlen, &src, 0, t, pay,
			    &plen, &why) != 0) {
				bad++;
			}
			heard++;
		} else if (addr_port(&src) == 60130) {
			if (!s.has_peer) {
				unattached++;
			}
			keep = s.peer;
			s.peer = sink;
			CHECK(net_send(&s, msg, 10, t) != -2);
			s.peer = keep;
			sent++;
		}
		if (q == end) {
			break;
		}
	}
	CHECK(bad == 0);
	CHECK(heard == 4 + 261 && sent == 5 + 515);
	CHECK(unattached == 0);
	CHECK(strcmp(lg.all,
	    "Server now attached to client at 127.0.0.1:44468\n"
	    "Server now attached to client at 127.0.0.1:50731\n"
	    "Server now detached from client.\n") == 0);
	if (strcmp(lg.all, "") != 0 && lg.n != 3) {
		fprintf(stderr, "log:\n%s", lg.all);
	}
	CHECK(s.has_peer && addr_port(&s.peer) == 50731);
	CHECK(total_drops(&s) == 0);
	/* upstream logs srtt=1.6 at the end; our receive times are the
	 * send times, a little early */
	CHECK(s.rtt_hit && s.srtt > 0.5 && s.srtt < 3);
	fprintf(stderr, "session4: srtt %.2f rttvar %.2f, %llu old\n", s.srtt,
	    s.rttvar, (unsigned long long)s.stats.rx_old);
	net_close(&s);
	close(fd);
	free(text);
}

/* ---- (b) hostile input ---- */

static void
test_hostile(void)
{
	static uint8_t d[NET_MAX_DGRAM + 64], pay[NET_MAX_PAYLOAD];
	uint8_t big[NET_MAX_DGRAM + 1], zero16[16] = { 0 }, p10[16];
	struct net n, c;
	struct net_addr a, b;
	struct net_pkt pkt;
	struct snap s0;
	struct logbuf lg;
	struct ocb other;
	size_t len, i, plen, dl;
	uint64_t drops, flips = 0, caught = 0;
	int why, r;

	CHECK(net_init(&n, 1, key1) == 0);
	setlog(&n, &lg);
	addr4(&a, "127.0.0.1", 1111);
	addr4(&b, "127.0.0.1", 2222);
	snap_take(&n, &s0);

	/* every truncation of a real datagram, and the empty one */
	for (len = 0; len < v_cs_len; len++) {
		memcpy(d, v_cs, len);
		r = net_accept(&n, d, len, &a, 0, T0, pay, &plen, &why);
		CHECK(r == -1);
		CHECK(why == (len < 24 ? NET_DROP_SHORT : NET_DROP_AUTH));
	}
	CHECK(n.stats.drop[NET_DROP_SHORT] == 24);
	CHECK(n.stats.drop[NET_DROP_AUTH] == v_cs_len - 24);
	CHECK(snap_same(&n, &s0));

	/* too long for the receive buffer */
	memset(big, 0xab, sizeof(big));
	memcpy(big, v_cs, v_cs_len);
	CHECK(net_accept(&n, big, sizeof(big), &a, 0, T0, pay, &plen,
	    &why) == -1 && why == NET_DROP_OVERSIZE);
	CHECK(n.stats.drop[NET_DROP_OVERSIZE] == 1);

	/* every single-bit flip, nonce tail and tag included */
	for (i = 0; i < v_cs_len * 8; i++) {
		memcpy(d, v_cs, v_cs_len);
		d[i / 8] ^= (uint8_t)(1u << (i % 8));
		flips++;
		if (net_accept(&n, d, v_cs_len, &b, 0, T0, pay, &plen,
		    &why) == -1 && why == NET_DROP_AUTH) {
			caught++;
		}
	}
	CHECK(caught == flips);
	CHECK(snap_same(&n, &s0));
	CHECK(n.stats.rx == 0);

	/* the wrong key */
	memset(&other, 0, sizeof(other));
	CHECK(ocb_init(&other, zero16) == 0);
	memset(p10, 7, sizeof(p10));
	dl = net_seal(&other, NET_TO_SERVER, 0, 1, 2, p10, 10, d);
	CHECK(dl == 38);
	CHECK(net_accept(&n, d, dl, &b, 0, T0, pay, &plen, &why) == -1 &&
	    why == NET_DROP_AUTH);
	ocb_wipe(&other);

	/* reflected: our own direction, e.g. the server's datagrams sent back
	 * to it, and a real server datagram of session1 */
	dl = net_seal(&n.ocb, NET_TO_CLIENT, 0, 1, 2, p10, 10, d);
	CHECK(net_accept(&n, d, dl, &b, 0, T0, pay, &plen, &why) == -1 &&
	    why == NET_DROP_DIRECTION);
	CHECK(net_accept(&n, v_sc, v_sc_len, &b, 0, T0, pay, &plen,
	    &why) == -1 && why == NET_DROP_DIRECTION);
	CHECK(n.stats.drop[NET_DROP_DIRECTION] == 2);

	/* authentic but shorter than a fragment header */
	for (len = 0; len < NET_MIN_PAYLOAD; len++) {
		dl = net_seal(&n.ocb, NET_TO_SERVER, 0, 1, 2, p10, len, d);
		CHECK(net_accept(&n, d, dl, &b, 0, T0, pay, &plen,
		    &why) == -1 && why == NET_DROP_PLAINTEXT);
	}
	CHECK(n.stats.drop[NET_DROP_PLAINTEXT] == NET_MIN_PAYLOAD);
	CHECK(snap_same(&n, &s0));
	CHECK(lg.n == 0);
	drops = total_drops(&n);
	CHECK(drops == 24 + (v_cs_len - 24) + 1 + flips + 1 + 2 +
	    NET_MIN_PAYLOAD);

	/* in order: seq 5 from a attaches the server there */
	dl = net_seal(&n.ocb, NET_TO_SERVER, 5, 100, NET_TS_NONE, p10, 10, d);
	CHECK(net_accept(&n, d, dl, &a, 0, T0, pay, &plen, &why) == 0);
	CHECK(plen == 10 && memcmp(pay, p10, 10) == 0);
	CHECK(n.has_peer && addr_port(&n.peer) == 1111);
	CHECK(n.last_heard == T0 && n.expected_seq == 6);
	CHECK(strcmp(lg.last, "Server now attached to client at "
	    "127.0.0.1:1111") == 0);
	CHECK(n.saved_ok && n.saved_ts == 100 && n.saved_at == T0);
	snap_take(&n, &s0);

	/* an older one from b (seq 3), and the same one replayed (seq 5):
	 * passed up, but nothing moves */
	dl = net_seal(&n.ocb, NET_TO_SERVER, 3, 200, 300, p10, 10, d);
	CHECK(net_accept(&n, d, dl, &b, 0, T0 + 50, pay, &plen, &why) == 0);
	CHECK(plen == 10);
	dl = net_seal(&n.ocb, NET_TO_SERVER, 5, 200, 300, p10, 10, d);
	CHECK(net_accept(&n, d, dl, &b, 1, T0 + 60, pay, &plen, &why) == 0);
	CHECK(snap_same(&n, &s0));
	CHECK(addr_port(&n.peer) == 1111);
	CHECK(n.stats.rx_old == 2 && n.stats.rx == 3 && n.stats.rx_ce == 0);
	CHECK(lg.n == 1);

	/* a newer one from b moves the peer */
	dl = net_seal(&n.ocb, NET_TO_SERVER, 6, 200, NET_TS_NONE, p10, 10, d);
	CHECK(net_accept(&n, d, dl, &b, 0, T0 + 70, pay, &plen, &why) == 0);
	CHECK(addr_port(&n.peer) == 2222 && n.last_heard == T0 + 70);
	CHECK(strcmp(lg.last, "Server now attached to client at "
	    "127.0.0.1:2222") == 0);
	/* a gap in sequence numbers is fine (loss), seq jumps ahead */
	dl = net_seal(&n.ocb, NET_TO_SERVER, 1000, 201, NET_TS_NONE, p10, 10,
	    d);
	CHECK(net_accept(&n, d, dl, &b, 0, T0 + 80, pay, &plen, &why) == 0);
	CHECK(n.expected_seq == 1001 && lg.n == 2);
	/* nothing from a forged source address without the key */
	memcpy(d, v_cs, v_cs_len);
	d[v_cs_len - 1] ^= 1;
	CHECK(net_accept(&n, d, v_cs_len, &a, 0, T0 + 90, pay, &plen,
	    &why) == -1);
	CHECK(addr_port(&n.peer) == 2222 && n.last_heard == T0 + 80);
	/* net_open on its own: bounds */
	CHECK(net_open(&n.ocb, -1, d, 0, &pkt, pay, &why) == -1 &&
	    why == NET_DROP_SHORT);
	CHECK(net_seal(&n.ocb, 0, 0, 0, 0, pay, NET_MAX_PAYLOAD + 1, d) == 0);
	CHECK(net_seal(&n.ocb, 0, 0, 0, 0, pay, NET_MAX_PAYLOAD, d) ==
	    NET_MAX_DGRAM);
	net_close(&n);

	/* the client never changes its peer */
	CHECK(net_init(&c, 0, key1) == 0);
	c.peer = a;
	c.has_peer = 1;
	dl = net_seal(&c.ocb, NET_TO_CLIENT, 0, 5, NET_TS_NONE, p10, 10, d);
	CHECK(net_accept(&c, d, dl, &b, 0, T0, pay, &plen, &why) == 0);
	CHECK(addr_port(&c.peer) == 1111 && c.last_heard == T0);
	/* a client drops datagrams with the client's direction */
	CHECK(net_accept(&c, v_cs, v_cs_len, &b, 0, T0, pay, &plen,
	    &why) == -1 && why == NET_DROP_DIRECTION);
	net_close(&c);

	CHECK(strcmp(net_drop_text(NET_DROP_AUTH),
	    "Packet failed integrity check.") == 0);
}

/* ---- (c) timestamps and RTT ---- */

/* The server accepts a datagram from the client with these timestamps. */
static int
feed(struct net *srv, uint64_t seq, uint16_t ts, uint16_t tsr, int ce,
    uint64_t now)
{
	uint8_t d[64], pay[NET_MAX_PAYLOAD], p10[10] = { 0 };
	struct net_addr a;
	size_t dl, plen;

	addr4(&a, "127.0.0.1", 1111);
	dl = net_seal(&srv->ocb, NET_TO_SERVER, seq, ts, tsr, p10, 10, d);
	return net_accept(srv, d, dl, &a, ce, now, pay, &plen, NULL);
}

/* What the server's next datagram would carry, built at now. */
static int
peek(struct net *srv, uint64_t now, struct net_pkt *pkt)
{
	uint8_t d[64], pay[NET_MAX_PAYLOAD], p10[10] = { 0 };
	long dl;

	memset(pkt, 0, sizeof(*pkt));
	dl = net_build(srv, p10, 10, now, d);
	if (dl <= 0) {
		return -1;
	}
	return net_open(&srv->ocb, NET_TO_CLIENT, d, (size_t)dl, pkt, pay,
	    NULL);
}

static int
near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

/* ---- (c2) the loss estimate (not upstream) ---- */

static void
test_loss(void)
{
	struct net s, u;
	uint8_t d[64], pay[NET_MAX_PAYLOAD], p10[10] = { 0 };
	struct net_addr a;
	size_t dl, plen;
	uint64_t q, t = T0;
	unsigned l, prev;
	uint32_t l16;
	int i, mono = 1, dupsame = 1, why;

	CHECK(net_init(&s, 1, key1) == 0);
	CHECK(net_init(&u, 1, key1) == 0);
	CHECK(net_loss(&s) == 0);
	/* in order, nothing missing: none */
	for (q = 0; q < 200; q++) {
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t++) == 0);
	}
	CHECK(net_loss(&s) == 0);
	/* every other one lost: about half */
	for (; q < 600; q += 2) {
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t++) == 0);
	}
	l = net_loss(&s);
	CHECK(l >= 450 && l <= 550);
	/* one in ten lost: about a tenth */
	for (; q < 2000; q++) {
		if (q % 10 != 3) {
			CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t++) == 0);
		}
	}
	l = net_loss(&s);
	CHECK(l >= 50 && l <= 160);
	/* then none lost: it decays with every datagram, soon under 2% */
	prev = l;
	l16 = s.loss16;
	for (i = 0; i < 64; i++, q++) {
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t++) == 0);
		mono &= net_loss(&s) <= prev && (s.loss16 < l16 || l16 < 16);
		prev = net_loss(&s);
		l16 = s.loss16;
	}
	CHECK(mono);
	CHECK(prev < SSP_LOSS_SOME);
	/* duplicates count once: the same as without them */
	s.loss16 = u.loss16 = 30000;
	s.expected_seq = u.expected_seq = q;
	s.seen = u.seen = ~(uint64_t)0;
	for (i = 0; i < 300; i++, q++) {
		if (i % 3 == 1) {
			continue;
		}
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t) == 0);
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t) == 0);
		CHECK(feed(&u, q, 1, NET_TS_NONE, 0, t++) == 0);
		dupsame &= s.loss16 == u.loss16;
		if (i % 5 == 0 && i > 9) {
			/* and an old one, arrived long ago, again */
			CHECK(feed(&s, q - 9, 1, NET_TS_NONE, 0, t) == 0);
			dupsame &= s.loss16 == u.loss16;
		}
	}
	CHECK(dupsame);
	CHECK(net_loss(&s) >= 250 && net_loss(&s) <= 420);
	/* reordered, nothing lost: the late one takes its loss back */
	for (i = 0; i < 200; i++, q += 2) {
		CHECK(feed(&s, q + 1, 1, NET_TS_NONE, 0, t++) == 0);
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t++) == 0);
	}
	CHECK(net_loss(&s) < SSP_LOSS_SOME);
	/* an outage of a million datagrams: counted as LOSS_GAP_MAX, and
	 * then it decays as any loss does */
	q += 1000000;
	CHECK(feed(&s, q++, 1, NET_TS_NONE, 0, t++) == 0);
	l = net_loss(&s);
	CHECK(l >= 800 && l <= 1000);
	for (i = 0; i < 100; i++, q++) {
		CHECK(feed(&s, q, 1, NET_TS_NONE, 0, t++) == 0);
	}
	CHECK(net_loss(&s) < SSP_LOSS_SOME);
	/* forged or reflected datagrams move nothing */
	l = s.loss16;
	addr4(&a, "127.0.0.1", 1111);
	dl = net_seal(&s.ocb, NET_TO_SERVER, q + 50, 1, NET_TS_NONE, p10, 10, d);
	d[dl - 1] ^= 1;
	CHECK(net_accept(&s, d, dl, &a, 0, t, pay, &plen, &why) == -1);
	dl = net_seal(&s.ocb, NET_TO_CLIENT, q + 50, 1, NET_TS_NONE, p10, 10, d);
	CHECK(net_accept(&s, d, dl, &a, 0, t, pay, &plen, &why) == -1);
	CHECK(s.loss16 == l && s.expected_seq == q);
	/* the first datagram of a session may skip numbers: not judged */
	net_close(&u);
	CHECK(net_init(&u, 1, key1) == 0);
	CHECK(feed(&u, 7, 1, NET_TS_NONE, 0, t) == 0);
	CHECK(net_loss(&u) == 0);
	CHECK(feed(&u, 9, 1, NET_TS_NONE, 0, t) == 0);
	CHECK(net_loss(&u) > 0);
	net_close(&u);
	net_close(&s);
}

static void
test_timing(void)
{
	uint8_t d[NET_MAX_DGRAM], p10[10] = { 0 };
	struct net s;
	struct net_pkt pkt;
	uint64_t t, seq = 0;
	int i;

	CHECK(net_ts16(0) == 0);
	CHECK(net_ts16(65534) == 65534);
	CHECK(net_ts16(65535) == 0);
	CHECK(net_ts16(65536) == 0);
	CHECK(net_ts16(65537) == 1);
	CHECK(net_ts16(131071) == 0);
	CHECK(net_ts16(T0) == (uint16_t)T0);

	CHECK(net_init(&s, 1, key1) == 0);
	CHECK(s.mtu == NET_MTU_FALLBACK);
	CHECK(net_rto(&s) == 1000);
	CHECK(net_send_interval(&s) == 250);

	/* nothing received: no reply; our timestamp is the clock's */
	CHECK(peek(&s, T0, &pkt) == 0);
	CHECK(pkt.ts_reply == NET_TS_NONE && pkt.ts == net_ts16(T0));
	CHECK(pkt.seq == 0 && pkt.dir == NET_TO_CLIENT);
	/* a 65535 clock goes out as 0 */
	CHECK(peek(&s, 65535 * 16 + 15, &pkt) == 0 && pkt.ts == 0);

	/* echoed once, advanced by the time held */
	t = T0 + 1000;
	CHECK(feed(&s, seq++, 40000, NET_TS_NONE, 0, t) == 0);
	CHECK(peek(&s, t + 7, &pkt) == 0 && pkt.ts_reply == 40007);
	CHECK(peek(&s, t + 8, &pkt) == 0 && pkt.ts_reply == NET_TS_NONE);
	/* only within 1 s: 999 ms yes, 1000 ms no */
	CHECK(feed(&s, seq++, 65530, NET_TS_NONE, 0, t) == 0);
	CHECK(peek(&s, t + 999, &pkt) == 0 && pkt.ts_reply == 993);
	CHECK(feed(&s, seq++, 40000, NET_TS_NONE, 0, t) == 0);
	CHECK(peek(&s, t + 1000, &pkt) == 0 && pkt.ts_reply == NET_TS_NONE);
	/* a timestamp of 65535 ("none") is not saved */
	t += 5000;
	CHECK(feed(&s, seq++, NET_TS_NONE, NET_TS_NONE, 0, t) == 0);
	CHECK(peek(&s, t + 1, &pkt) == 0 && pkt.ts_reply == NET_TS_NONE);
	/* congestion experienced: 500 ms penalty, mod 65536 */
	CHECK(feed(&s, seq++, 40000, NET_TS_NONE, 1, t) == 0);
	CHECK(peek(&s, t + 10, &pkt) == 0 && pkt.ts_reply == 39510);
	CHECK(feed(&s, seq++, 100, NET_TS_NONE, 1, t) == 0);
	CHECK(peek(&s, t, &pkt) == 0 && pkt.ts_reply == 65136);
	CHECK(s.stats.rx_ce == 2);
	/* an old datagram's timestamp is not saved */
	CHECK(feed(&s, 0, 1234, NET_TS_NONE, 0, t) == 0);
	CHECK(peek(&s, t + 1, &pkt) == 0 && pkt.ts_reply == NET_TS_NONE);
	CHECK(!s.rtt_hit);

	/* RTT: first sample R = 100 */
	t = T0 + 5000;
	CHECK(feed(&s, seq++, NET_TS_NONE, net_ts16(t - 100), 0, t) == 0);
	CHECK(s.rtt_hit && near(s.srtt, 100) && near(s.rttvar, 50));
	CHECK(net_rto(&s) == 300 && net_send_interval(&s) == 50);
	/* R = 200: RTTVAR from the old SRTT, then SRTT */
	CHECK(feed(&s, seq++, NET_TS_NONE, net_ts16(t - 200), 0, t) == 0);
	CHECK(near(s.rttvar, 62.5) && near(s.srtt, 112.5));
	CHECK(net_rto(&s) == 363 && net_send_interval(&s) == 57);
	/* samples of 5000 and more are ignored, 4999 is not */
	CHECK(feed(&s, seq++, NET_TS_NONE, net_ts16(t - 5000), 0, t) == 0);
	CHECK(near(s.srtt, 112.5));
	CHECK(feed(&s, seq++, NET_TS_NONE, net_ts16(t - 60000), 0, t) == 0);
	CHECK(near(s.srtt, 112.5));
	/* an old datagram takes no sample */
	CHECK(feed(&s, 1, NET_TS_NONE, net_ts16(t - 10), 0, t) == 0);
	CHECK(near(s.srtt, 112.5) && near(s.rttvar, 62.5));
	/* the 16-bit difference wraps: our clock 10, reply 65530 -> 16 */
	t = 65536 * 100 + 10;
	CHECK(feed(&s, seq++, NET_TS_NONE, 65530, 0, t) == 0);
	CHECK(near(s.rttvar, 0.75 * 62.5 + 0.25 * (112.5 - 16)));
	CHECK(near(s.srtt, 0.875 * 112.5 + 0.125 * 16));
	/* fast link: clamps at 50 and 20 */
	for (i = 0; i < 200; i++) {
		CHECK(feed(&s, seq++, NET_TS_NONE, net_ts16(t - 1), 0,
		    t) == 0);
	}
	CHECK(s.srtt < 1.01 && net_rto(&s) == 50);
	CHECK(net_send_interval(&s) == 20);
	/* slow link: clamps at 1000 and 250 */
	for (i = 0; i < 200; i++) {
		CHECK(feed(&s, seq++, NET_TS_NONE, net_ts16(t - 4999), 0,
		    t) == 0);
	}
	CHECK(s.srtt > 4990 && net_rto(&s) == 1000);
	CHECK(net_send_interval(&s) == 250);
	/* exact ceilings: SRTT 41 -> 21, 40 -> 20, RTO of 100 + 4*0 = 100 */
	s.srtt = 41;
	s.rttvar = 0;
	CHECK(net_send_interval(&s) == 21 && net_rto(&s) == 50);
	s.srtt = 100;
	s.rttvar = 0.25;
	CHECK(net_rto(&s) == 101);
	s.rttvar = 0;
	CHECK(net_rto(&s) == 100);
	s.srtt = 499.5;
	CHECK(net_send_interval(&s) == 250);
	s.srtt = 498.5;
	CHECK(net_send_interval(&s) == 250);
	s.srtt = 497;
	CHECK(net_send_interval(&s) == 249);

	/* sequence numbers: consecutive, never past 2^63 - 1 */
	s.next_seq = 0x7ffffffffffffffeull;
	CHECK(peek(&s, t, &pkt) == 0 && pkt.seq == 0x7ffffffffffffffeull);
	CHECK(peek(&s, t, &pkt) == 0 && pkt.seq == 0x7fffffffffffffffull);
	CHECK(net_build(&s, p10, 10, t, d) == -1);
	CHECK(net_build(&s, p10, 10, t, d) == -1);
	/* volume: 2^47 blocks; 10 + 4 bytes is one block, 13 + 4 two */
	s.next_seq = 5;
	s.blocks = (1ull << 47) - 2;
	CHECK(net_build(&s, p10, 10, t, d) == 38);
	CHECK(s.blocks == (1ull << 47) - 1);
	CHECK(net_build(&s, p10, 10, t, d) == -1);
	s.blocks = (1ull << 47) - 2;
	CHECK(net_build(&s, d, 13, t, d + 100) == -1);
	CHECK(net_build(&s, d, 12, t, d + 100) == 40);
	/* payload bounds */
	s.blocks = 0;
	CHECK(net_build(&s, p10, 9, t, d) == 0);
	CHECK(net_build(&s, d, NET_MAX_PAYLOAD + 1, t, d) == 0);
	net_close(&s);
}

/* ---- (d) real sockets ---- */

/* Wait (at most tries * 10 ms of real time) for net_recv to give
 * something. */
static int
wait_some(struct net *n, uint64_t now, uint8_t *pay, size_t *len, int *why,
    int tries)
{
	struct pollfd pfd[NET_MAX_SOCKS + 1];
	int fds[NET_MAX_SOCKS + 1];
	int i, k, r;

	for (i = 0; i < tries; i++) {
		k = net_fds(n, fds, (int)LEN(fds));
		for (r = 0; r < k; r++) {
			pfd[r].fd = fds[r];
			pfd[r].events = POLLIN;
		}
		poll(pfd, (nfds_t)k, 10);
		if ((r = net_recv(n, now, pay, len, why)) != 0) {
			return r;
		}
	}
	return 0;
}

static int
wait_recv(struct net *n, uint64_t now, uint8_t *pay, size_t *len, int *why)
{
	return wait_some(n, now, pay, len, why, 200);
}

/* Read whatever is queued, waiting at most 200 ms for the first. */
static void
drain(struct net *n, uint64_t now)
{
	uint8_t pay[NET_MAX_PAYLOAD];
	size_t len;
	int i, why;

	for (i = 0; i < 1000; i++) {
		if (wait_some(n, now, pay, &len, &why, 20) == 0) {
			break;
		}
	}
}

/* A plain UDP socket for sending raw bytes to a Connection. */
static int
raw_send(int fam, const void *buf, size_t len, const struct net_addr *to,
    int *fdp)
{
	int fd = *fdp;

	if (fd == -1 && (fd = socket(fam, SOCK_DGRAM, 0)) == -1) {
		return -1;
	}
	*fdp = fd;
	return sendto(fd, buf, len, 0, (const struct sockaddr *)&to->ss,
	    to->len) == (ssize_t)len ? 0 : -1;
}

static void
test_sockets(int fam, const char *ip)
{
	static uint8_t pay[NET_MAX_PAYLOAD], msg[NET_MAX_PAYLOAD],
	    d[NET_MAX_DGRAM + 1000];
	struct net srv, cli;
	struct logbuf slog, clog;
	struct net_addr sa, old_peer;
	char port[16];
	size_t len, i;
	uint64_t t = T0;
	long dl1, dl2, dl3;
	uint8_t d1[64], d2[64], d3[64];
	int why, r, x = -1, y = -1, p1, p2, hops;

	fprintf(stderr, "sockets over %s\n", ip);
	CHECK(net_init(&srv, 1, key1) == 0);
	setlog(&srv, &slog);
	if (net_bind(&srv, ip, 0, 0) != 0 || srv.family != fam) {
		/* e.g. no IPv6 on this machine */
		fprintf(stderr, "cannot bind %s (%s): skipped\n", ip,
		    srv.error);
		CHECK(fam == AF_INET6);
		net_close(&srv);
		return;
	}
	CHECK(slog.n == 0);
	CHECK(srv.mtu == (fam == AF_INET ? NET_MTU_IPV4 : NET_MTU_IPV6));
	CHECK(srv.nfds == 1 && !srv.has_peer);
	CHECK(net_port(&srv) > 0);
	mkaddr(&sa, fam, ip, net_port(&srv));

	/* the server has no one to send to yet */
	memset(msg, 'm', sizeof(msg));
	CHECK(net_send(&srv, msg, 10, t) == 1);
	CHECK(srv.next_seq == 0);

	CHECK(net_init(&cli, 0, key1) == 0);
	setlog(&cli, &clog);
	snprintf(port, sizeof(port), "%d", net_port(&srv));
	CHECK(net_connect(&cli, ip, port, t) == 0);
	CHECK(cli.mtu == srv.mtu && cli.has_peer && cli.nfds == 1);

	/* client -> server; the server attaches */
	for (i = 0; i < 20; i++) {
		msg[i] = (uint8_t)i;
	}
	CHECK(net_send(&cli, msg, 20, t) == 0);
	r = wait_recv(&srv, t + 3, pay, &len, &why);
	CHECK(r == 1);
	CHECK_MEM(pay, r == 1 ? len : 0, msg, 20);
	CHECK(srv.has_peer && srv.last_heard == t + 3);
	CHECK(starts(slog.last, "Server now attached to client at "));
	p1 = addr_port(&srv.peer);
	CHECK(p1 > 0);
	/* server -> client, with the echoed timestamp; a big one too */
	CHECK(net_send(&srv, msg, 1000, t + 5) == 0);
	r = wait_recv(&cli, t + 9, pay, &len, &why);
	CHECK(r == 1 && len == 1000 && memcmp(pay, msg, 1000) == 0);
	/* RTT sample: client sent at t, server echoed at t + 5 a timestamp
	 * advanced by 2, client received at t + 9: R = 9 - 2 = 7 */
	CHECK(cli.rtt_hit && near(cli.srtt, 7));
	len = (size_t)srv.mtu - NET_OVERHEAD;
	CHECK(net_send(&srv, msg, len, t + 10) == 0);
	r = wait_recv(&cli, t + 10, pay, &len, &why);
	CHECK(r == 1 && len == (size_t)srv.mtu - NET_OVERHEAD);
	CHECK(net_send(&cli, msg, NET_MAX_PAYLOAD, t + 11) == 0);
	r = wait_recv(&srv, t + 11, pay, &len, &why);
	CHECK(r == 1 && len == NET_MAX_PAYLOAD);
	CHECK(net_recv(&srv, t + 11, pay, &len, &why) == 0);
	CHECK(net_send(&cli, msg, NET_MAX_PAYLOAD + 1, t + 11) == -2);
	CHECK(net_send(&cli, msg, 9, t + 11) == -2);

	/* hostile datagrams over the socket: oversize, garbage, wrong key */
	memset(d, 0x55, sizeof(d));
	CHECK(raw_send(fam, d, NET_MAX_DGRAM + 1, &sa, &x) == 0);
	r = wait_recv(&srv, t + 12, pay, &len, &why);
	CHECK(r == -1 && why == NET_DROP_OVERSIZE);
	CHECK(srv.stats.drop[NET_DROP_OVERSIZE] == 1);
	CHECK(raw_send(fam, d, 100, &sa, &x) == 0);
	r = wait_recv(&srv, t + 12, pay, &len, &why);
	CHECK(r == -1 && why == NET_DROP_AUTH);
	CHECK(raw_send(fam, d, 3, &sa, &x) == 0);
	r = wait_recv(&srv, t + 12, pay, &len, &why);
	CHECK(r == -1 && why == NET_DROP_SHORT);
	CHECK(raw_send(fam, d, 0, &sa, &x) == 0);
	r = wait_recv(&srv, t + 12, pay, &len, &why);
	CHECK(r == -1 && why == NET_DROP_SHORT);
	CHECK(addr_port(&srv.peer) == p1 && srv.last_heard == t + 11);

	/* roaming over real sockets: d2 (newer) from x, then d1 (older)
	 * from y: the peer stays at x; then d3 from y moves it */
	dl1 = net_build(&cli, msg, 10, t + 20, d1);
	dl2 = net_build(&cli, msg + 1, 10, t + 20, d2);
	dl3 = net_build(&cli, msg + 2, 10, t + 20, d3);
	CHECK(dl1 == 38 && dl2 == 38 && dl3 == 38);
	CHECK(raw_send(fam, d2, (size_t)dl2, &sa, &x) == 0);
	r = wait_recv(&srv, t + 21, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[1]);
	p2 = addr_port(&srv.peer);
	CHECK(p2 != p1);
	CHECK(raw_send(fam, d1, (size_t)dl1, &sa, &y) == 0);
	r = wait_recv(&srv, t + 22, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[0]);
	CHECK(addr_port(&srv.peer) == p2 && srv.last_heard == t + 21);
	CHECK(raw_send(fam, d3, (size_t)dl3, &sa, &y) == 0);
	r = wait_recv(&srv, t + 23, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[2]);
	CHECK(addr_port(&srv.peer) != p2 && srv.last_heard == t + 23);
	/* back to the real client */
	CHECK(net_send(&cli, msg, 10, t + 24) == 0);
	r = wait_recv(&srv, t + 24, pay, &len, &why);
	CHECK(r == 1 && addr_port(&srv.peer) == p1);

	/* port hop: no hop while round trips succeed or within 10 s */
	t += 10001;
	cli.last_roundtrip_success = t - 5000;
	CHECK(net_send(&cli, msg, 10, t) == 0);
	CHECK(cli.nfds == 1);
	cli.last_roundtrip_success = t - 10001;
	cli.last_port_choice = t - 10000;
	CHECK(net_send(&cli, msg, 10, t) == 0);
	CHECK(cli.nfds == 1);
	/* due: the datagram goes out on the old socket, then a new one */
	cli.last_port_choice = t - 10001;
	CHECK(net_send(&cli, msg, 10, t) == 0);
	CHECK(cli.nfds == 2 && cli.last_port_choice == t);
	for (i = 0; i < 3; i++) {
		r = wait_recv(&srv, t, pay, &len, &why);
		CHECK(r == 1);
	}
	CHECK(addr_port(&srv.peer) == p1);
	/* the next one leaves from the new port and the server follows */
	CHECK(net_send(&cli, msg + 3, 10, t + 1) == 0);
	r = wait_recv(&srv, t + 1, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[3]);
	p2 = addr_port(&srv.peer);
	CHECK(p2 != p1 && p2 == net_port(&cli));
	CHECK(starts(slog.last, "Server now attached to client at "));
	/* the reply reaches the client on its new socket */
	CHECK(net_send(&srv, msg + 4, 10, t + 2) == 0);
	r = wait_recv(&cli, t + 2, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[4]);
	/* a datagram still in flight to the old socket is read too */
	old_peer = srv.peer;
	mkaddr(&srv.peer, fam, ip, p1);
	CHECK(net_send(&srv, msg + 5, 10, t + 3) == 0);
	r = wait_recv(&cli, t + 3, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[5]);
	srv.peer = old_peer;

	/* at most 10 sockets: hop 12 more times */
	for (hops = 0; hops < 12; hops++) {
		t += 10001;
		CHECK(net_send(&cli, msg, 10, t) == 0);
	}
	CHECK(cli.nfds == NET_MAX_SOCKS);
	drain(&srv, t);
	CHECK(net_send(&cli, msg + 6, 10, t) == 0);
	r = wait_recv(&srv, t, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[6]);
	CHECK(addr_port(&srv.peer) == net_port(&cli));
	/* no pruning of old sockets before 60 s after the last hop */
	CHECK(net_send(&srv, msg + 7, 10, t) == 0);
	r = wait_recv(&cli, t + 60000, pay, &len, &why);
	CHECK(r == 1 && cli.nfds == NET_MAX_SOCKS);
	/* then, after a datagram is received, only the newest is kept */
	CHECK(net_send(&srv, msg + 8, 10, t) == 0);
	r = wait_recv(&cli, t + 60001, pay, &len, &why);
	CHECK(r == 1 && pay[0] == msg[8] && cli.nfds == 1);
	t += 60001;

	/* the 40 s association timeout */
	cli.last_roundtrip_success = t;
	cli.last_port_choice = t;
	CHECK(net_send(&cli, msg, 10, t) == 0);
	r = wait_recv(&srv, t, pay, &len, &why);
	CHECK(r == 1 && srv.last_heard == t);
	slog.n = 0;
	CHECK(net_send(&srv, msg, 10, t + 40000) == 0);
	CHECK(srv.has_peer && slog.n == 0);
	CHECK(net_send(&srv, msg, 10, t + 40001) == 0);
	CHECK(!srv.has_peer && slog.n == 1);
	CHECK(strcmp(slog.last, "Server now detached from client.") == 0);
	CHECK(net_send(&srv, msg, 10, t + 40002) == 1);
	drain(&cli, t + 40002);
	/* heard again from the same address: attached, no log line */
	CHECK(net_send(&cli, msg, 10, t + 40010) == 0);
	r = wait_recv(&srv, t + 40011, pay, &len, &why);
	CHECK(r == 1 && srv.has_peer && slog.n == 1);
	CHECK(net_send(&srv, msg, 10, t + 40012) == 0);
	r = wait_recv(&cli, t + 40012, pay, &len, &why);
	CHECK(r == 1);
	CHECK(total_drops(&cli) == 0);
	CHECK(clog.n == 0);

	if (x != -1) {
		close(x);
	}
	if (y != -1) {
		close(y);
	}
	net_close(&cli);
	net_close(&srv);
}

/* EMSGSIZE: an IPv6 socket told not to fragment over a 1280-byte MTU. */
static void
test_emsgsize(void)
{
	static uint8_t msg[NET_MAX_PAYLOAD];
	struct net srv, cli;
	int fd, on = 1, mtu = 1280;

	CHECK(net_init(&srv, 1, key1) == 0);
	if (net_bind(&srv, "::1", 0, 0) != 0) {
		fprintf(stderr, "no IPv6: EMSGSIZE test skipped\n");
		net_close(&srv);
		return;
	}
	CHECK(net_init(&cli, 0, key1) == 0);
	snprintf((char *)msg, 16, "%d", net_port(&srv));
	CHECK(net_connect(&cli, "::1", (char *)msg, T0) == 0);
	CHECK(net_fds(&cli, &fd, 1) == 1);
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on,
	    sizeof(on)) != 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu,
	    sizeof(mtu)) != 0) {
		fprintf(stderr, "cannot limit the MTU: EMSGSIZE skipped\n");
	} else {
		memset(msg, 1, sizeof(msg));
		CHECK(cli.mtu == NET_MTU_IPV6);
		CHECK(net_send(&cli, msg, 1188, T0) == 0);
		CHECK(cli.mtu == NET_MTU_IPV6);
		CHECK(net_send(&cli, msg, 2000, T0) == -1);
		CHECK(cli.mtu == NET_MTU_FALLBACK);
		CHECK(strcmp(cli.send_error, "sendto: Message too long") == 0);
		CHECK(cli.stats.tx_err == 1);
		/* for good: a small datagram goes out, the MTU stays 500 */
		CHECK(net_send(&cli, msg, 10, T0) == 0);
		CHECK(cli.mtu == NET_MTU_FALLBACK);
	}
	net_close(&cli);
	net_close(&srv);
}

static void
test_ports(void)
{
	static const struct {
		const char *in;
		int ok, low, high;
		const char *err;
	} cases[] = {
		{ "60001", 1, 60001, 60001, NULL },
		{ "0", 1, 0, 0, NULL },
		{ "65535", 1, 65535, 65535, NULL },
		{ "1000:2000", 1, 1000, 2000, NULL },
		{ "7:7", 1, 7, 7, NULL },
		{ "", 1, 0, 0, NULL },		/* strtol: empty is 0 */
		{ " 12", 1, 12, 12, NULL },
		{ "+12", 1, 12, 12, NULL },
		{ "abc", 0, 0, 0, "Invalid (low) port number (abc)" },
		{ "12x", 0, 0, 0, "Invalid (low) port number (12x)" },
		{ "99999999999999999999", 0, 0, 0,
		    "Invalid (low) port number (99999999999999999999)" },
		{ "65536", 0, 0, 0,
		    "(Low) port number 65536 outside valid range [0..65535]" },
		{ "-1", 0, 0, 0,
		    "(Low) port number -1 outside valid range [0..65535]" },
		{ "1:x", 0, 0, 0, "Invalid high port number (x)" },
		{ "1:2:3", 0, 0, 0, "Invalid high port number (2:3)" },
		{ "1:70000", 0, 0, 0,
		    "High port number 70000 outside valid range [0..65535]" },
		{ "1:-5", 0, 0, 0,
		    "High port number -5 outside valid range [0..65535]" },
		{ "5:3", 0, 0, 0, "Low port 5 greater than high port 3" },
		{ "5:", 0, 0, 0, "Low port 5 greater than high port 0" },
		{ "0:5", 0, 0, 0, "Low port 0 incompatible with port ranges" },
		{ "0:0", 0, 0, 0, "Low port 0 incompatible with port ranges" },
	};
	char err[256];
	size_t i;
	int low, high, r;

	for (i = 0; i < LEN(cases); i++) {
		low = high = -7;
		err[0] = '\0';
		r = net_parse_ports(cases[i].in, &low, &high, err, sizeof(err));
		if (cases[i].ok) {
			CHECK(r == 0 && low == cases[i].low &&
			    high == cases[i].high);
		} else {
			CHECK(r == -1 && strcmp(err, cases[i].err) == 0);
			if (r != -1 || strcmp(err, cases[i].err) != 0) {
				fprintf(stderr, "  %s: got \"%s\"\n",
				    cases[i].in, err);
			}
		}
	}
}

/* Find a port P on 127.0.0.1 with P + 1 free too; bind P in *busy. */
static int
busy_pair(struct net *busy)
{
	struct net probe;
	int i, p;

	for (i = 0; i < 50; i++) {
		CHECK(net_init(busy, 1, key1) == 0);
		if (net_bind(busy, "127.0.0.1", 0, 0) != 0) {
			net_close(busy);
			return -1;
		}
		p = net_port(busy);
		if (p > 0 && p < 65535) {
			net_init(&probe, 1, key1);
			if (net_bind(&probe, "127.0.0.1", p + 1, p + 1) == 0 &&
			    net_port(&probe) == p + 1) {
				net_close(&probe);
				return p;
			}
			net_close(&probe);
		}
		net_close(busy);
	}
	return -1;
}

static void
test_bind(void)
{
	struct net busy, n;
	struct logbuf lg;
	char want[512];
	int p, port;

	/* the default range, on loopback */
	CHECK(net_init(&n, 1, key1) == 0);
	setlog(&n, &lg);
	CHECK(net_bind(&n, "127.0.0.1", -1, -1) == 0);
	port = net_port(&n);
	CHECK(port >= NET_PORT_LOW && port <= NET_PORT_HIGH);
	CHECK(lg.n == 0 && n.family == AF_INET && n.mtu == NET_MTU_IPV4);
	net_close(&n);

	p = busy_pair(&busy);
	CHECK(p > 0);
	if (p <= 0) {
		return;
	}
	/* a busy port moves to the next in the range */
	CHECK(net_init(&n, 1, key1) == 0);
	setlog(&n, &lg);
	CHECK(net_bind(&n, "127.0.0.1", p, p + 1) == 0);
	CHECK(net_port(&n) == p + 1 && lg.n == 0);
	net_close(&n);

	/* a single busy port: the IP fails, then the wildcard */
	CHECK(net_init(&n, 1, key1) == 0);
	setlog(&n, &lg);
	CHECK(net_bind(&n, "127.0.0.1", p, p) == -1);
	snprintf(want, sizeof(want), "Failed binding to 127.0.0.1:%d\n"
	    "Error binding to IP 127.0.0.1: bind: Address already in use\n"
	    "Failed binding to 0.0.0.0:%d\n"
	    "Error binding to any interface: bind: Address already in use\n",
	    p, p);
	CHECK(strcmp(lg.all, want) == 0);
	if (strcmp(lg.all, want) != 0) {
		fprintf(stderr, "got:\n%s", lg.all);
	}
	CHECK(strcmp(n.error, "bind: Address already in use") == 0);
	CHECK(n.nfds == 0);
	net_close(&n);

	/* an address that is not ours: fall back to 0.0.0.0 (kernel port) */
	CHECK(net_init(&n, 1, key1) == 0);
	setlog(&n, &lg);
	CHECK(net_bind(&n, "192.0.2.1", 0, 0) == 0);
	CHECK(strcmp(lg.all, "Failed binding to 192.0.2.1:0\n"
	    "Error binding to IP 192.0.2.1: bind: Cannot assign requested "
	    "address\n") == 0);
	CHECK(n.family == AF_INET && n.mtu == NET_MTU_IPV4);
	net_close(&n);

	/* not numeric */
	CHECK(net_init(&n, 1, key1) == 0);
	setlog(&n, &lg);
	CHECK(net_bind(&n, "localhost", 0, 0) == 0);
	CHECK(strcmp(lg.all, "Error binding to IP localhost: Bad IP address "
	    "(localhost): Name or service not known: Success\n") == 0);
	net_close(&n);
	CHECK(net_init(&n, 0, key1) == 0);
	CHECK(net_connect(&n, "localhost", "22", T0) == -1);
	CHECK(strcmp(n.error, "Bad IP address (localhost): Name or service "
	    "not known: Success") == 0);
	CHECK(net_connect(&n, "127.0.0.1", "ssh", T0) == -1);
	CHECK(n.nfds == 0 && !n.has_peer);
	/* roles are checked */
	CHECK(net_bind(&n, NULL, 0, 0) == -1);
	net_close(&n);
	net_close(&busy);

	/* IPv6: the wildcard takes IPv4 clients too */
	CHECK(net_init(&n, 1, key1) == 0);
	if (net_bind(&n, "::", 0, 0) == 0) {
		struct net c;
		uint8_t pay[NET_MAX_PAYLOAD], msg[10] = { 1 };
		size_t len;
		char ps[16];
		int why;

		CHECK(n.family == AF_INET6 && n.mtu == NET_MTU_IPV6);
		CHECK(net_init(&c, 0, key1) == 0);
		snprintf(ps, sizeof(ps), "%d", net_port(&n));
		CHECK(net_connect(&c, "127.0.0.1", ps, T0) == 0);
		CHECK(net_send(&c, msg, 10, T0) == 0);
		CHECK(wait_recv(&n, T0, pay, &len, &why) == 1);
		CHECK(n.peer.ss.ss_family == AF_INET6);
		CHECK(net_send(&n, msg, 10, T0) == 0);
		CHECK(wait_recv(&c, T0, pay, &len, &why) == 1);
		net_close(&c);
	}
	net_close(&n);
}

/* Receive one datagram on a plain socket and return its IPv4 TOS byte. */
static int
recv_tos(int fd)
{
	uint8_t buf[NET_MAX_DGRAM];
	union {
		struct cmsghdr align;
		uint8_t b[256];
	} ctl;
	struct msghdr h;
	struct iovec iov;
	struct cmsghdr *c;
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) != 1) {
		return -1;
	}
	memset(&h, 0, sizeof(h));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = ctl.b;
	h.msg_controllen = sizeof(ctl.b);
	if (recvmsg(fd, &h, 0) < 0) {
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&h); c != NULL; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			return CMSG_DATA(c)[0];
		}
	}
	return -1;
}

/* ECN (§3.3, §3.7): we send ECT(0); a CE mark costs the echo 500 ms. */
static void
test_ecn(void)
{
	uint8_t pay[NET_MAX_PAYLOAD], msg[10] = { 9 }, d[64];
	struct net srv, cli;
	struct net_addr a;
	struct logbuf lg;
	struct net_pkt pkt;
	socklen_t alen = sizeof(a.ss);
	size_t len;
	char ps[16];
	long dl;
	int fd, x = -1, on = 1, tos = 3, why;

	/* what our datagrams carry: TOS 0x02 */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd != -1);
	mkaddr(&a, AF_INET, "127.0.0.1", 0);
	CHECK(bind(fd, (struct sockaddr *)&a.ss, a.len) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a.ss, &alen) == 0);
	CHECK(setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)) == 0);
	CHECK(net_init(&cli, 0, key1) == 0);
	snprintf(ps, sizeof(ps), "%d", addr_port(&a));
	CHECK(net_connect(&cli, "127.0.0.1", ps, T0) == 0);
	CHECK(net_send(&cli, msg, 10, T0) == 0);
	CHECK(recv_tos(fd) == 0x02);
	close(fd);
	net_close(&cli);

	/* a CE-marked datagram from the client */
	CHECK(net_init(&srv, 1, key1) == 0);
	setlog(&srv, &lg);
	CHECK(net_bind(&srv, "127.0.0.1", 0, 0) == 0);
	CHECK(net_init(&cli, 0, key1) == 0);
	snprintf(ps, sizeof(ps), "%d", net_port(&srv));
	CHECK(net_connect(&cli, "127.0.0.1", ps, T0) == 0);
	CHECK(net_send(&cli, msg, 10, T0) == 0);
	CHECK(wait_recv(&srv, T0, pay, &len, &why) == 1);
	CHECK(srv.stats.rx_ce == 0 && srv.saved_ts == net_ts16(T0));
	dl = net_build(&cli, msg, 10, T0 + 1000, d);
	CHECK(dl == 38);
	x = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(x != -1);
	CHECK(setsockopt(x, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) == 0);
	mkaddr(&a, AF_INET, "127.0.0.1", net_port(&srv));
	CHECK(raw_send(AF_INET, d, (size_t)dl, &a, &x) == 0);
	CHECK(wait_recv(&srv, T0 + 1001, pay, &len, &why) == 1);
	CHECK(srv.stats.rx_ce == 1);
	CHECK(srv.saved_ts == (uint16_t)(net_ts16(T0 + 1000) - 500));
	/* CE is noted before the server follows the new source port */
	CHECK(strstr(lg.all, "Received explicit congestion notification.\n"
	    "Server now attached to client at 127.0.0.1:") != NULL);
	CHECK(peek(&srv, T0 + 1003, &pkt) == 0);
	CHECK(pkt.ts_reply == (uint16_t)(net_ts16(T0 + 1000) - 500 + 2));
	close(x);
	net_close(&cli);
	net_close(&srv);
}

/* A clock under 1 s (a fresh boot, a test) echoes nothing unasked. */
static void
test_early_clock(void)
{
	struct net s;
	struct net_pkt pkt;
	uint64_t t;

	CHECK(net_init(&s, 1, key1) == 0);
	for (t = 0; t < 1000; t += 111) {
		CHECK(peek(&s, t, &pkt) == 0 && pkt.ts_reply == NET_TS_NONE);
	}
	CHECK(feed(&s, 0, 7, NET_TS_NONE, 0, 5) == 0);
	CHECK(peek(&s, 6, &pkt) == 0 && pkt.ts_reply == 8);
	CHECK(peek(&s, 7, &pkt) == 0 && pkt.ts_reply == NET_TS_NONE);
	net_close(&s);
}

/* Is pid still the mosh-server we started (not a reused pid)? */
static int
is_mosh_server(pid_t pid)
{
	char path[64], cmd[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((f = fopen(path, "r")) == NULL) {
		return 0;
	}
	n = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	cmd[n] = '\0';
	return strstr(cmd, "mosh-server") != NULL;
}

/* It would linger in its shutdown handshake after SIGTERM: SIGKILL it;
 * its pty closes and the sleep under it gets SIGHUP. */
static void
stop_server(pid_t pid)
{
	int i;

	if (!is_mosh_server(pid)) {
		return;
	}
	kill(pid, SIGKILL);
	for (i = 0; i < 50 && is_mosh_server(pid); i++) {
		poll(NULL, 0, 100);
	}
	CHECK(!is_mosh_server(pid));
}

/*
 * Against upstream: start Debian's mosh-server (if installed), send it
 * session1's first client fragment (a resize) sealed with its fresh key,
 * and read its immediate acknowledgement, which must echo our timestamp.
 */
static void
test_upstream(int fam, const char *ip)
{
	static uint8_t raw[NET_MAX_DGRAM], pay[NET_MAX_PAYLOAD];
	struct net cli;
	struct net_pkt pkt;
	uint8_t key[16];
	char cmd[256], line[512], port[16], keytext[64];
	const char *err = NULL;
	FILE *f;
	size_t len;
	long pid = -1;
	int why, r, got = 0;

	if (access("/usr/bin/mosh-server", X_OK) != 0) {
		fprintf(stderr, "no mosh-server: upstream test skipped\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "LANG=C.UTF-8 LC_ALL=C.UTF-8 "
	    "/usr/bin/mosh-server new -i %s -p 0 -- /bin/sleep 20 2>&1", ip);
	if ((f = popen(cmd, "r")) == NULL) {
		CHECK(0);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "MOSH CONNECT %15s %63s", port,
		    keytext) == 2) {
			got = 1;
		}
		sscanf(line, "[mosh-server detached, pid = %ld]", &pid);
	}
	pclose(f);
	CHECK(got && pid > 0);
	if (!got || pid <= 0) {
		return;
	}
	CHECK(ocb_key_parse(keytext, key, &err) == 0);
	CHECK(net_init(&cli, 0, key) == 0);
	CHECK(net_connect(&cli, ip, port, T0) == 0 && cli.family == fam);
	/* session1, datagram 0: the payload after the timestamps */
	CHECK(v_cs_len == 76);
	{
		struct ocb o1;

		CHECK(ocb_init(&o1, key1) == 0);
		CHECK(net_open(&o1, NET_TO_SERVER, v_cs, v_cs_len, &pkt, pay,
		    NULL) == 0);
		ocb_wipe(&o1);
	}
	memcpy(raw, pay, pkt.len);
	CHECK(net_send(&cli, raw, pkt.len, T0) == 0);
	r = wait_recv(&cli, T0 + 1000, pay, &len, &why);
	CHECK(r == 1);
	CHECK(cli.stats.rx == 1 && total_drops(&cli) == 0);
	/* the server echoed our timestamp, advanced by the (real) time it
	 * held it: one RTT sample of 1000 ms on our fake clock, less that */
	CHECK(cli.rtt_hit && cli.srtt > 900 && cli.srtt <= 1000);
	/* its fragment: instruction 1, fragment 0, final */
	CHECK(r == 1 && len >= NET_MIN_PAYLOAD && pay[7] == 1 &&
	    pay[8] == 0x80 && pay[9] == 0);
	net_close(&cli);
	stop_server((pid_t)pid);
}

/* upstream's (glibc's) wording, whatever the libc */
static void
test_strerror(void)
{
	CHECK(strcmp(net_strerror(EADDRINUSE), "Address already in use") == 0);
	CHECK(strcmp(net_strerror(EADDRNOTAVAIL),
	    "Cannot assign requested address") == 0);
	CHECK(strcmp(net_strerror(EMSGSIZE), "Message too long") == 0);
	CHECK(strcmp(net_strerror(ENETUNREACH), "Network is unreachable") ==
	    0);
	CHECK(strcmp(net_strerror(EHOSTUNREACH), "No route to host") == 0);
	CHECK(strcmp(net_strerror(EMFILE), "Too many open files") == 0);
	CHECK(strcmp(net_strerror(ENOENT), strerror(ENOENT)) == 0);
}

/* net_close closes the sockets and leaves no key behind. */
static void
test_close(void)
{
	static const uint8_t zero[sizeof(struct net)];
	struct net n;
	int fd;

	CHECK(net_init(&n, 1, key1) == 0);
	CHECK(net_bind(&n, "127.0.0.1", 0, 0) == 0);
	CHECK(net_fds(&n, &fd, 1) == 1 && fcntl(fd, F_GETFD) != -1);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	net_close(&n);
	CHECK(fcntl(fd, F_GETFD) == -1);
	CHECK(memcmp(&n, zero, sizeof(n)) == 0);
	net_close(&n);
}

static void
test_random(void)
{
	uint8_t a[16], b[16], z[16] = { 0 }, big[1000];

	CHECK(net_key_generate(a) == 0);
	CHECK(net_key_generate(b) == 0);
	CHECK(memcmp(a, b, 16) != 0);
	CHECK(memcmp(a, z, 16) != 0);
	CHECK(net_random(big, sizeof(big)) == 0);
	CHECK(net_random(big, 0) == 0);
}

int
main(void)
{
	test_vectors();
	test_session4();
	test_hostile();
	test_timing();
	test_loss();
	test_ports();
	test_bind();
	test_sockets(AF_INET, "127.0.0.1");
	test_sockets(AF_INET6, "::1");
	test_emsgsize();
	test_ecn();
	test_early_clock();
	test_upstream(AF_INET, "127.0.0.1");
	test_upstream(AF_INET6, "::1");
	test_strerror();
	test_close();
	test_random();
	return TEST_DONE();
}
