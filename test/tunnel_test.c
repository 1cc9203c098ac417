/*
 * tunnel_test.c: the framing of the ssh path (protocol.md §14): the
 * decoder across every split of its input, its refusal of lengths out of
 * range, the queue's bound and its dropping of the oldest frame, a
 * partially written frame kept whole, the direction check, and
 * net_recv_from_buffer taking a datagram without moving the peer.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include "mosh.h"
#include "test/test.h"

static struct tun_dec dec;
static struct tun_queue q;

/* Feed s (n bytes) to a fresh decoder in pieces of step; count frames. */
static int
feed(const uint8_t *s, size_t n, size_t step, size_t *total, int *bad)
{
	const uint8_t *p, *f;
	size_t i, left, fl;
	int k, frames = 0;

	memset(&dec, 0, sizeof dec);
	*total = 0;
	*bad = 0;
	for (i = 0; i < n; i += step) {
		p = s + i;
		left = MIN(step, n - i);
		while ((k = tun_dec_next(&dec, &p, &left, &f, &fl)) == 1) {
			frames++;
			*total += fl;
			if (f[0] != (uint8_t)frames) {
				*bad = 1;
			}
		}
		if (k == -1) {
			*bad = 2;
			return frames;
		}
	}
	return frames;
}

static size_t
put_frame(uint8_t *out, size_t len, uint8_t tag)
{
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memset(out + 2, tag, len);
	return len + 2;
}

static void
test_decoder(void)
{
	static uint8_t s[3 * (2 + TUN_FRAME_MAX)];
	size_t n = 0, total, step;
	int bad, ok = 1;

	n += put_frame(s + n, TUN_FRAME_MIN, 1);
	n += put_frame(s + n, TUN_FRAME_MAX, 2);
	n += put_frame(s + n, 100, 3);
	for (step = 1; step <= n; step += step < 40 ? 1 : 97) {
		if (feed(s, n, step, &total, &bad) != 3 || bad ||
		    total != TUN_FRAME_MIN + TUN_FRAME_MAX + 100) {
			ok = 0;
		}
	}
	CHECK(ok);
	/* lengths out of range break the stream, whatever follows */
	put_frame(s, TUN_FRAME_MIN - 1, 1);
	CHECK(feed(s, 2, 1, &total, &bad) == 0 && bad == 2);
	s[0] = (uint8_t)((TUN_FRAME_MAX + 1) >> 8);
	s[1] = (uint8_t)(TUN_FRAME_MAX + 1);
	CHECK(feed(s, 2, 2, &total, &bad) == 0 && bad == 2);
	s[0] = s[1] = 0xff;
	CHECK(feed(s, 2, 2, &total, &bad) == 0 && bad == 2);
	s[0] = s[1] = 0;
	CHECK(feed(s, 2, 2, &total, &bad) == 0 && bad == 2);
	/* an incomplete frame is held, not handed out */
	put_frame(s, 200, 1);
	CHECK(feed(s, 150, 7, &total, &bad) == 0 && bad == 0);
	/* the decoder's memory is its struct: one frame */
	CHECK(sizeof dec < 2 * TUN_FRAME_MAX);
}

static void
test_random(void)
{
	uint8_t buf[4096];
	const uint8_t *p, *f;
	size_t left, fl;
	uint32_t x = 12345;
	int i, j, k, ok = 1;

	for (i = 0; i < 2000; i++) {
		for (j = 0; j < (int)sizeof buf; j++) {
			x = x * 1103515245 + 12345;
			buf[j] = (uint8_t)(x >> 16);
		}
		memset(&dec, 0, sizeof dec);
		p = buf;
		left = (size_t)(x % sizeof buf);
		while ((k = tun_dec_next(&dec, &p, &left, &f, &fl)) == 1) {
			ok &= fl >= TUN_FRAME_MIN && fl <= TUN_FRAME_MAX &&
			    f >= dec.buf && f + fl <= dec.buf + sizeof dec.buf;
		}
		ok &= k == -1 || left == 0;
		ok &= (size_t)(p - buf) <= sizeof buf;
	}
	CHECK(ok);
}

static void
test_queue(void)
{
	uint8_t d[TUN_FRAME_MAX], got[4 * (2 + TUN_FRAME_MAX)];
	int fds[2], i;
	ssize_t r;

	memset(&q, 0, sizeof q);
	for (i = 0; i < TUN_QUEUE + 5; i++) {
		memset(d, i, sizeof d);
		tun_queue_push(&q, d, 50);
	}
	CHECK(q.count == TUN_QUEUE);
	CHECK(q.dropped == 5);
	CHECK(q.slot[q.head][2] == 5);	/* the oldest went first */
	tun_queue_push(&q, d, TUN_FRAME_MIN - 1);
	tun_queue_push(&q, d, TUN_FRAME_MAX + 1);
	CHECK(q.count == TUN_QUEUE && q.dropped == 5);
	/* a frame half written stays: the next oldest is dropped instead */
	q.off = 10;
	memset(d, 0xee, sizeof d);
	tun_queue_push(&q, d, 50);
	CHECK(q.slot[q.head][2] == 5 && q.off == 10);
	CHECK(q.slot[(q.head + 1) % TUN_QUEUE][2] == 7);
	q.off = 0;
	/* flushed into a pipe: framed, in order */
	memset(&q, 0, sizeof q);
	CHECK(pipe(fds) == 0);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	for (i = 1; i <= 3; i++) {
		memset(d, i, sizeof d);
		tun_queue_push(&q, d, 40);
	}
	CHECK(tun_queue_flush(&q, fds[1]) == 0 && q.count == 0 &&
	    q.frames == 3);
	r = read(fds[0], got, sizeof got);
	CHECK(r == 3 * 42 && got[0] == 0 && got[1] == 40 && got[2] == 1 &&
	    got[42 + 2] == 2 && got[84 + 2] == 3);
	close(fds[0]);
	/* a closed reader is an error, not a hang */
	tun_queue_push(&q, d, 40);
	signal_set(SIGPIPE, SIG_IGN);
	CHECK(tun_queue_flush(&q, fds[1]) == -1);
	close(fds[1]);
}

static void
test_direction(void)
{
	static const uint8_t key[16] = { 1, 2, 3 };
	struct ocb o;
	uint8_t pl[20], d[NET_MAX_DGRAM];
	size_t n;

	memset(pl, 'x', sizeof pl);
	CHECK(ocb_init(&o, key) == 0);
	n = net_seal(&o, NET_TO_SERVER, 7, 1, 2, pl, sizeof pl, d);
	CHECK(tun_to_server_ok(d, n));
	n = net_seal(&o, NET_TO_CLIENT, 7, 1, 2, pl, sizeof pl, d);
	CHECK(!tun_to_server_ok(d, n));
	CHECK(!tun_to_server_ok(d, TUN_FRAME_MIN - 1));
	ocb_wipe(&o);
}

static void
test_from_buffer(void)
{
	static const uint8_t key[16] = { 9, 8, 7 };
	struct net c, s;
	uint8_t pl[NET_MAX_PAYLOAD], d[NET_MAX_DGRAM];
	struct net_addr before;
	size_t n, plen;
	int why;

	CHECK(net_init(&s, 1, key) == 0 && net_init(&c, 0, key) == 0);
	CHECK(net_bind(&s, "127.0.0.1", 0, 0) == 0);
	memset(pl, 'k', 30);
	n = (size_t)net_build(&c, pl, 30, 1000, d);
	CHECK(n == 30 + NET_OVERHEAD);
	before = s.peer;
	CHECK(net_recv_from_buffer(&s, d, n, 1000, pl, &plen, &why) == 1);
	CHECK(plen == 30 && pl[0] == 'k' && s.stats.rx_path == 1);
	CHECK(memcmp(&before, &s.peer, sizeof before) == 0);
	d[n - 1] ^= 1;
	why = -1;
	CHECK(net_recv_from_buffer(&s, d, n, 1000, pl, &plen, &why) == -1 &&
	    why == NET_DROP_AUTH && s.stats.rx_path == 1);
	CHECK(net_recv_from_buffer(&s, d, NET_MAX_DGRAM + 1, 1000, pl, &plen,
	    &why) == -1 && why == NET_DROP_OVERSIZE);
	net_close(&s);
	net_close(&c);
}

int
main(void)
{
	test_decoder();
	test_random();
	test_queue();
	test_direction();
	test_from_buffer();
	return TEST_DONE();
}
