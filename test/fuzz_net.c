/*
 * fuzz_net.c: raw datagram bytes -> net_open and net_accept with a fixed
 * key (session1's, so the corpus' real datagrams open and mutations of
 * them reach every check). Nothing may crash; anything that opens must be
 * exactly what net_seal makes of its fields, and a Connection fed the
 * input must stay consistent.
 *
 * Input: byte 0 picks the mode and the receiver's role, byte 1 the ECN
 * mark. Mode 0: the rest is one datagram. Mode 1: the rest is a script of
 * datagrams that the harness seals itself (so they authenticate) and
 * feeds, with source addresses and clock steps, to one Connection, which
 * then must follow only the newest: records of flags(1: direction, CE,
 * source 0..3, send), seq(1: step back or forward), ts(2), ts_reply(2),
 * clock step(1), payload length(1), payload.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[16] = {
	0x1f, 0xc5, 0x92, 0xdd, 0x26, 0x1f, 0xdb, 0xb3,
	0x90, 0x4c, 0x6f, 0xad, 0xfe, 0x2f, 0x7e, 0x54
};

static void
script(struct net *n, const uint8_t *data, size_t size)
{
	static uint8_t d[NET_MAX_DGRAM], pay[NET_MAX_PAYLOAD];
	struct net_addr from[4], before;
	struct sockaddr_in *sin;
	uint64_t now = 1000000, seq = 1000, s63, expected, heard;
	uint32_t loss16;
	size_t plen, len, dl;
	uint16_t ts, tsr;
	int i, flags, had_peer, r;

	for (i = 0; i < 4; i++) {
		memset(&from[i], 0, sizeof(from[i]));
		sin = (struct sockaddr_in *)&from[i].ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)(5000 + i));
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		from[i].len = sizeof(*sin);
	}
	while (size >= 8) {
		flags = data[0];
		seq = seq + data[1] - 128;
		ts = (uint16_t)(data[2] << 8 | data[3]);
		tsr = (uint16_t)(data[4] << 8 | data[5]);
		now += data[6];
		len = data[7];
		data += 8;
		size -= 8;
		if (len > size) {
			len = size;
		}
		dl = net_seal(&n->ocb, flags & 1, seq, ts, tsr, data, len, d);
		data += len;
		size -= len;
		before = n->peer;
		expected = n->expected_seq;
		heard = n->last_heard;
		had_peer = n->has_peer;
		loss16 = n->loss16;
		r = net_accept(n, d, dl, &from[(flags >> 2) & 3], flags & 2,
		    now, pay, &plen, NULL);
		s63 = seq & 0x7fffffffffffffffull;
		if (r == 0 && s63 >= expected) {
			/* the newest: heard, and the server follows it */
			if (n->last_heard != now || !n->has_peer ||
			    n->expected_seq != s63 + 1 || (n->server &&
			    memcmp(&n->peer, &from[(flags >> 2) & 3],
			    sizeof(n->peer)) != 0)) {
				abort();
			}
		} else if (n->last_heard != heard ||
		    n->expected_seq != expected || n->has_peer != had_peer ||
		    memcmp(&n->peer, &before, sizeof(before)) != 0) {
			/* dropped, or old: nothing moves */
			abort();
		}
		if (r == 0 &&
		    (plen != len || memcmp(pay, data - len, len) != 0)) {
			abort();
		}
		if (r != 0 && len >= NET_MIN_PAYLOAD &&
		    (flags & 1) == !n->dir) {
			abort();
		}
		if (n->loss16 > 65536 || net_loss(n) > 1000 ||
		    (r != 0 && n->loss16 != loss16)) {
			/* the estimate is a share, and only authentic
			 * datagrams move it */
			abort();
		}
		if (net_rto(n) < 50 || net_rto(n) > 1000 ||
		    net_send_interval(n) < 20 || net_send_interval(n) > 250 ||
		    !(n->srtt >= 0 && n->srtt < 5000) || !(n->rttvar >= 0)) {
			abort();
		}
		if (flags & 0x10) {
			/* our next datagram: the echo goes out at most once */
			if (net_build(n, pay, NET_MIN_PAYLOAD, now, d) <= 0 ||
			    (n->saved_ok && now - n->saved_at < 1000)) {
				abort();
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct net n;
	static uint8_t pay[NET_MAX_PAYLOAD], re[NET_MAX_DGRAM + 64];
	struct net_pkt pkt;
	struct net_addr from;
	struct sockaddr_in *sin = (struct sockaddr_in *)&from.ss;
	size_t plen;
	int why, server, ce, mode;
	uint64_t rx, drops;

	if (size < 2 || size > 4096) {
		return 0;
	}
	server = data[0] & 1;
	mode = (data[0] >> 1) & 1;
	ce = data[1] & 1;
	data += 2;
	size -= 2;

	if (net_init(&n, server, fuzz_key) != 0) {
		abort();
	}
	if (mode == 1) {
		script(&n, data, size);
		net_close(&n);
		return 0;
	}
	/* the pure framing, either direction */
	if (net_open(&n.ocb, -1, data, size, &pkt, pay, &why) == 0) {
		if (pkt.len + NET_OVERHEAD != size ||
		    pkt.len > NET_MAX_PAYLOAD ||
		    net_seal(&n.ocb, pkt.dir, pkt.seq, pkt.ts, pkt.ts_reply,
		    pay, pkt.len, re) != size || memcmp(re, data, size) != 0) {
			abort();
		}
	} else if (why < 0 || why >= NET_NDROP) {
		abort();
	}

	/* the receive path of a Connection */
	memset(&from, 0, sizeof(from));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(4242);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	from.len = sizeof(*sin);
	rx = n.stats.rx;
	if (net_accept(&n, data, size, &from, ce, 123456, pay, &plen,
	    &why) == 0) {
		if (plen < NET_MIN_PAYLOAD || plen > NET_MAX_PAYLOAD ||
		    n.stats.rx != rx + 1 || !n.has_peer ||
		    n.last_heard != 123456 ||
		    net_rto(&n) < 50 || net_rto(&n) > 1000) {
			abort();
		}
	} else {
		drops = 0;
		for (why = 0; why < NET_NDROP; why++) {
			drops += n.stats.drop[why];
		}
		if (drops != 1 || n.has_peer || n.last_heard != UINT64_MAX) {
			abort();
		}
	}
	net_close(&n);
	return 0;
}
