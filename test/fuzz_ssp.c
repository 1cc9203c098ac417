/*
 * fuzz_ssp.c: plaintext payloads (what net.c hands up after opening a
 * datagram) into fragment assembly, zlib, the Instruction decoder, both
 * message decoders and the user stream's apply; and through two whole SSP
 * endpoints, a server (receives a user stream) and a client (receives the
 * complete-terminal state of mosh.c, term_ops: the real emulator applies
 * every HostMessage), which also tick and send.
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
	struct term_state *t0;
	uint32_t seed = 1;
	uint64_t now = 1000, id = 1u << 20;
	size_t pos = 0, n;
	int who, i;
	uint8_t fl;

	if (size > FUZZ_MAX) {
		return 0;
	}
	decoders(data, size);

	if ((t0 = malloc(sizeof(*t0))) == NULL) {
		return 0;
	}
	if (term_init(t0, 80, 24) == -1) {
		free(t0);
		return 0;
	}
	if ((u0 = ssp_user_new()) == NULL) {
		term_free(t0);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.rand = fz_rand;
	c.rand_arg = &seed;
	c.mine = &term_ops;
	c.remote = &ssp_user_ops;
	c.mine_init = t0;
	c.remote_init = u0;
	c.mindelay = SSP_MINDELAY_SERVER;
	if (ssp_init(&ep[0], &c, now) == -1) {
		ssp_user_ops.free(u0);
		term_free(t0);
		return 0;
	}
	c.mine = &ssp_user_ops;
	c.remote = &term_ops;
	c.remote_bytes = term_bytes;
	c.mine_init = u0;
	c.remote_init = t0;
	c.mindelay = SSP_MINDELAY_CLIENT;
	c.fast_start = 1;
	i = ssp_init(&ep[1], &c, now);
	ssp_user_ops.free(u0);
	term_free(t0);
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
