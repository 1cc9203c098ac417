/*
 * fuzz_net.c: raw datagram bytes -> net_open and net_accept with a fixed
 * key (session1's, so the corpus' real datagrams open and mutations of
 * them reach every check). Nothing may crash; anything that opens must be
 * exactly what net_seal makes of its fields, and a server Connection fed
 * the input must stay consistent. The first two input bytes choose the
 * receiver's role and whether the datagram came with ECN CE, the rest is
 * the datagram.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct net n;
	static uint8_t pay[NET_MAX_PAYLOAD], re[NET_MAX_DGRAM + 64];
	struct net_pkt pkt;
	struct net_addr from;
	struct sockaddr_in *sin = (struct sockaddr_in *)&from.ss;
	size_t plen;
	int why, server, ce;
	uint64_t rx, drops;

	if (size < 2 || size > 4096) {
		return 0;
	}
	server = data[0] & 1;
	ce = data[1] & 1;
	data += 2;
	size -= 2;

	if (net_init(&n, server, fuzz_key) != 0) {
		abort();
	}
	/* the pure framing, either direction */
	if (net_open(&n.ocb, -1, data, size, &pkt, pay, &why) == 0) {
		if (pkt.len + NET_OVERHEAD != size || pkt.len > NET_MAX_PAYLOAD ||
		    net_seal(&n.ocb, pkt.dir, pkt.seq, pkt.ts, pkt.ts_reply, pay,
		    pkt.len, re) != size || memcmp(re, data, size) != 0) {
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
