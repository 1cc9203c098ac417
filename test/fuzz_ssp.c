/*
 * fuzz_ssp.c: plaintext payloads (what net.c hands up after opening a
 * datagram) into fragment assembly, zlib, the Instruction decoder, both
 * message decoders and the user stream's apply; and through two whole SSP
 * endpoints, a server (receives a user stream) and a client (receives a
 * HostMessage state), which also tick and send.
 *
 * Input: the whole input is first given to each decoder as is. Then it is
 * read as records [flags, len_hi, len_lo, payload...]: flags bit 0 picks
 * the endpoint, bit 1 ticks both endpoints afterwards, bit 2 means the
 * payload is a serialized Instruction that the harness compresses and wraps
 * in one fragment (so mutations reach SSP itself, past zlib), bits 3-7
 * advance the clock by that many times 32 ms.
 */
#include "mosh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 65536

/*
 * A screen stand-in: echo ack (never decreasing), size, bytes (capped),
 * and which frame it would draw, for the budget (measured as a frame of w x
 * h cells written anew by every change, none of it allocated).
 */
struct fz {
	uint64_t echo;
	int32_t w, h;
	size_t len;
	uint8_t c[256];
	uint64_t gen;
};
static uint64_t fz_gen;

static void *
fz_copy(const void *st)
{
	struct fz *b = malloc(sizeof(*b));

	if (b != NULL) {
		memcpy(b, st, sizeof(*b));
	}
	return b;
}

static void
fz_free(void *st)
{
	free(st);
}

static int
fz_equal(const void *x, const void *y)
{
	const struct fz *a = x, *b = y;

	return a->echo == b->echo && a->w == b->w && a->h == b->h &&
	    a->len == b->len && memcmp(a->c, b->c, a->len) == 0;
}

static int
fz_diff(const void *from, const void *to, struct buf *out)
{
	const struct fz *a = from, *b = to;

	if (a->echo != b->echo && ssp_hm_put_echoack(out, b->echo) == -1) {
		return -1;
	}
	if (!fz_equal(a, b) && (ssp_hm_put_resize(out, b->w, b->h) == -1 ||
	    ssp_hm_put_bytes(out, b->c, b->len) == -1)) {
		return -1;
	}
	return 0;
}

static int
fz_apply(void *st, const uint8_t *d, size_t len)
{
	struct fz *a = st;
	struct ssp_iter it = { d, d + len };
	struct ssp_msg m;
	uint64_t e = a->echo;
	size_t n;

	if (ssp_hm_check(d, len, &e) == -1) {
		return -1;
	}
	while (ssp_hm_next(&it, &m) == 1) {
		if (m.type == SSP_MSG_BYTES) {
			n = MIN(m.len, sizeof(a->c) - a->len);
			memcpy(a->c + a->len, m.p, n);
			a->len += n;
			a->gen = ++fz_gen;
		} else if (m.type == SSP_MSG_RESIZE) {
			a->w = m.w;
			a->h = m.h;
			a->len = 0;
			a->gen = ++fz_gen;
		} else if (m.type == SSP_MSG_ECHOACK) {
			a->echo = m.echo_ack;
		}
	}
	return 0;
}

static const struct ssp_ops fz_ops = {
	fz_copy, fz_free, fz_equal, fz_diff, fz_apply, NULL
};

static void
fz_bytes(const void *st, const void *base, size_t part[SSP_PARTS])
{
	const struct fz *a = st, *b = base;
	size_t w = (size_t)MAX(0, MIN(a->w, FB_MAX_COLS));
	size_t h = (size_t)MAX(0, MIN(a->h, FB_MAX_ROWS));

	part[SSP_PART_SCREEN] += sizeof(*a);
	if (b == NULL || b->gen != a->gen) {
		part[SSP_PART_SCREEN] += w * h * sizeof(struct fb_cell);
	}
}

/*
 * The receiver's books: each state's parts as its measure gives them now
 * (against the state before it, and whole), and no more late states than
 * SSP_RECV_LATE_MAX. 0 or -1.
 */
static int
books(const struct ssp *s)
{
	size_t i, p, part[SSP_PARTS], whole[SSP_PARTS], late = 0;

	for (i = 0; i < s->nrecv; i++) {
		memset(part, 0, sizeof(part));
		memset(whole, 0, sizeof(whole));
		s->cfg.remote_bytes(s->recv[i].st,
		    i > 0 ? s->recv[i - 1].st : NULL, part);
		s->cfg.remote_bytes(s->recv[i].st, NULL, whole);
		for (p = 0; p < SSP_PARTS; p++) {
			if (part[p] != s->recv[i].part[p] ||
			    whole[p] != s->recv[i].whole[p]) {
				return -1;
			}
		}
		late += s->recv[i].late != 0;
	}
	return late <= SSP_RECV_LATE_MAX ? 0 : -1;
}

static int
fz_send(void *arg, const uint8_t *p, size_t n)
{
	struct ssp_frag f;

	(void)arg;
	if (ssp_frag_parse(p, n, &f) == -1) {
		abort();	/* we must never produce a short payload */
	}
	return 0;
}

static void
fz_rand(void *arg, uint8_t *p, size_t n)
{
	uint32_t *x = arg;

	while (n--) {
		*x = *x * 1103515245u + 12345u;
		*p++ = (uint8_t)(*x >> 16);
	}
}

/* A serialized Instruction as one fragment of a new id. */
static void
wrapped(struct ssp *s, const uint8_t *p, size_t n, uint64_t id, uint64_t now)
{
	struct buf b = { NULL, 0, 0 };
	uint8_t hdr[SSP_FRAG_HDR];

	ssp_frag_header(hdr, id, 0, 1);
	if (buf_append(&b, hdr, sizeof(hdr)) == 0 &&
	    ssp_deflate(p, n, &b) == 0) {
		ssp_recv(s, b.p, b.len, now);
	}
	buf_free(&b);
}

static void
decoders(const uint8_t *data, size_t size)
{
	struct buf out = { NULL, 0, 0 };
	struct ssp_inst in;
	struct ssp_iter it;
	struct ssp_msg m;
	struct ssp_user *u;
	uint64_t e = 0;

	if (ssp_inflate(data, size, &out) == 0 && out.len > SSP_INFLATE_MAX) {
		abort();
	}
	if (ssp_inst_decode(data, size, &in) == 0) {
		if (in.diff_len > size || in.chaff_len > size) {
			abort();
		}
	}
	it.p = data;
	it.end = data + size;
	while (ssp_um_next(&it, &m) == 1) {
		if (m.type == SSP_MSG_KEYS && m.p + m.len > data + size) {
			abort();
		}
	}
	it.p = data;
	while (ssp_hm_next(&it, &m) == 1) {
		continue;
	}
	(void)ssp_hm_check(data, size, &e);
	if ((u = ssp_user_new()) != NULL) {
		size_t off = 0;
		struct ssp_uev ev;

		if (ssp_user_ops.apply(u, data, size) == -1 && u->b.len != 0) {
			abort();	/* a refused diff changes nothing */
		}
		out.len = 0;
		while (ssp_user_next(u, &off, &ev) == 1) {
			continue;
		}
		if (off != u->b.len) {
			abort();
		}
		ssp_user_ops.free(u);
	}
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssp ep[2];
	struct ssp_link l;
	struct ssp_cfg c;
	struct ssp_user *u0, *ev;
	struct fz f0;
	uint32_t seed = 1;
	uint64_t now = 1000, id = 1u << 20;
	size_t pos = 0, n;
	int who, i;
	uint8_t fl;

	if (size > FUZZ_MAX) {
		return 0;
	}
	decoders(data, size);

	memset(&f0, 0, sizeof(f0));
	f0.w = 80;
	f0.h = 24;
	if ((u0 = ssp_user_new()) == NULL) {
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.rand = fz_rand;
	c.rand_arg = &seed;
	c.mine = &fz_ops;
	c.remote = &ssp_user_ops;
	c.mine_init = &f0;
	c.remote_init = u0;
	c.mindelay = SSP_MINDELAY_SERVER;
	if (ssp_init(&ep[0], &c, now) == -1) {
		ssp_user_ops.free(u0);
		return 0;
	}
	c.mine = &ssp_user_ops;
	c.remote = &fz_ops;
	c.remote_bytes = fz_bytes;
	c.mine_init = u0;
	c.remote_init = &f0;
	c.mindelay = SSP_MINDELAY_CLIENT;
	c.fast_start = 1;
	i = ssp_init(&ep[1], &c, now);
	ssp_user_ops.free(u0);
	if (i == -1) {
		ssp_free(&ep[0]);
		return 0;
	}
	memset(&l, 0, sizeof(l));
	l.has_peer = 1;
	l.send_interval = 20;
	l.rto = 50;
	l.loss = 0;
	l.mtu = 500;
	l.send = fz_send;
	while (size - pos >= 3) {
		fl = data[pos];
		n = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		n = MIN(n, size - pos);
		who = fl & 1;
		now += (uint64_t)(fl >> 3) * 32;
		if (fl & 4) {
			wrapped(&ep[who], data + pos, n, ++id, now);
		} else {
			ssp_recv(&ep[who], data + pos, n, now);
		}
		pos += n;
		if (who == 0 && (ev = ssp_user_new()) != NULL) {
			ssp_user_take(&ep[0], ev);
			ssp_user_ops.free(ev);
		}
		if (fl & 2) {
			l.loss = fl & 8 ? 1000 : 0;	/* copies, too */
			for (i = 0; i < 2; i++) {
				(void)ssp_wait(&ep[i], &l, now);
				ssp_tick(&ep[i], &l, now);
			}
			ssp_user_push_bytes(ssp_current(&ep[1]), data, MIN(n,
			    (size_t)4));
		}
		for (i = 0; i < 2; i++) {
			if (ep[i].nsent > SSP_SENT_MAX ||
			    ep[i].nrecv > SSP_RECV_CAP ||
			    ep[i].assumed >= ep[i].nsent ||
			    books(&ep[i]) == -1) {
				abort();
			}
		}
	}
	ssp_free(&ep[0]);
	ssp_free(&ep[1]);
	return 0;
}
