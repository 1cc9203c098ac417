/*
 * ssp.c: every byte layout after decryption, and the State Synchronization
 * Protocol that decides what to send and when (protocol.md §4-§8).
 *
 * Owns: fragments and their reassembly (§4), zlib (§5), the hand-written
 * protobuf codecs of TransportBuffers.Instruction, ClientBuffers.UserMessage
 * and HostBuffers.HostMessage (§6), the sender and receiver of SSP with their
 * timers, acks, state histories and shutdown handshake (§7), and the
 * user-input stream state type (§8.1, §8.4 steps 1-2). Knows nothing of
 * sockets: the datagram layer is a struct ssp_link filled by the caller, and
 * payloads arrive through ssp_recv after net.c has opened them.
 *
 * Invariants: the clock is always a parameter; sent_states holds 1 to
 * SSP_SENT_MAX states and received states 1 to SSP_RECV_CAP; remote bytes are
 * read only through struct rd, whose getters check lengths before use; a
 * message is decoded whole into a temporary before anything changes; bad
 * input is dropped and counted in struct ssp_stats, never asserted on.
 * Deliberate differences from upstream (hostile input only, except
 * fast_start and the copies sent under loss) are listed in the README's
 * protocol notes. A copy only ever repeats an instruction upstream could
 * have sent itself: the newest state again, from the acknowledged one, and
 * a fragment id is reused only for the same bytes (upstream asserts so).
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */
#include <zlib.h>

#include "mosh.h"

/* ==== bounds-checked reader and protobuf primitives (§6) ==== */

struct rd {
	const uint8_t *p, *end;
};

#define PB_VARINT 0
#define PB_I64 1
#define PB_LEN 2
#define PB_SGROUP 3
#define PB_EGROUP 4
#define PB_I32 5
#define PB_MAX_DEPTH 64		/* nested unknown groups we skip */

static size_t
rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static int
rd_skip(struct rd *r, size_t n)
{
	if (n > rd_left(r)) {
		return -1;
	}
	r->p += n;
	return 0;
}

/* A varint of at most 10 bytes; bits past 64 are dropped, as protobuf does. */
static int
pb_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	unsigned i;
	uint8_t b;

	for (i = 0; i < 10; i++) {
		if (r->p == r->end) {
			return -1;
		}
		b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int
pb_key(struct rd *r, uint32_t *field, unsigned *wt)
{
	uint64_t k;

	if (pb_varint(r, &k) == -1 || k > 0xffffffffu || (k >> 3) == 0) {
		return -1;
	}
	*field = (uint32_t)(k >> 3);
	*wt = (unsigned)(k & 7);
	return 0;
}

static int
pb_bytes(struct rd *r, const uint8_t **p, size_t *n)
{
	uint64_t len;

	if (pb_varint(r, &len) == -1 || len > rd_left(r)) {
		return -1;
	}
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return 0;
}

/* Skip one value that is not a group. */
static int
pb_skip_scalar(struct rd *r, unsigned wt)
{
	uint64_t v;
	const uint8_t *p;
	size_t n;

	switch (wt) {
	case PB_VARINT:
		return pb_varint(r, &v);
	case PB_I64:
		return rd_skip(r, 8);
	case PB_LEN:
		return pb_bytes(r, &p, &n);
	case PB_I32:
		return rd_skip(r, 4);
	default:
		return -1;
	}
}

/* Skip an unknown field of any wire type; groups without recursion. */
static int
pb_skip(struct rd *r, uint32_t field, unsigned wt)
{
	uint32_t stack[PB_MAX_DEPTH];
	int depth = 0;

	if (wt == PB_EGROUP) {
		return -1;
	}
	if (wt != PB_SGROUP) {
		return pb_skip_scalar(r, wt);
	}
	stack[depth++] = field;
	while (depth > 0) {
		if (pb_key(r, &field, &wt) == -1) {
			return -1;
		}
		if (wt == PB_SGROUP) {
			if (depth == PB_MAX_DEPTH) {
				return -1;
			}
			stack[depth++] = field;
		} else if (wt == PB_EGROUP) {
			if (stack[depth - 1] != field) {
				return -1;
			}
			depth--;
		} else if (pb_skip_scalar(r, wt) == -1) {
			return -1;
		}
	}
	return 0;
}

static size_t
pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static int
pb_put_varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	return buf_append(b, t, n);
}

static int
pb_put_uint(struct buf *b, uint32_t field, uint64_t v)
{
	if (pb_put_varint(b, (uint64_t)field << 3 | PB_VARINT) == -1) {
		return -1;
	}
	return pb_put_varint(b, v);
}

static int
pb_put_bytes(struct buf *b, uint32_t field, const uint8_t *p, size_t n)
{
	if (pb_put_varint(b, (uint64_t)field << 3 | PB_LEN) == -1 ||
	    pb_put_varint(b, n) == -1) {
		return -1;
	}
	return buf_append(b, p, n);
}

/* ==== TransportBuffers.Instruction (§6.1) ==== */

int
ssp_inst_encode(const struct ssp_inst *in, struct buf *out)
{
	size_t len0 = out->len;

	if (pb_put_uint(out, SSP_F_VERSION, in->version) == -1 ||
	    pb_put_uint(out, SSP_F_OLD_NUM, in->old_num) == -1 ||
	    pb_put_uint(out, SSP_F_NEW_NUM, in->new_num) == -1 ||
	    pb_put_uint(out, SSP_F_ACK_NUM, in->ack_num) == -1 ||
	    pb_put_uint(out, SSP_F_THROWAWAY_NUM, in->throwaway_num) == -1 ||
	    pb_put_bytes(out, SSP_F_DIFF, in->diff, in->diff_len) == -1 ||
	    pb_put_bytes(out, SSP_F_CHAFF, in->chaff, in->chaff_len) == -1) {
		out->len = len0;
		return -1;
	}
	return 0;
}

/*
 * proto2 rules: the last occurrence of a field wins, absent fields are 0 or
 * empty, unknown fields are skipped. A known field with the wrong wire type
 * is refused (protobuf would keep it as unknown; no encoder produces it).
 */
int
ssp_inst_decode(const uint8_t *p, size_t len, struct ssp_inst *out)
{
	struct rd r = { p, p + len };
	struct ssp_inst t;
	uint32_t field;
	unsigned wt;
	uint64_t v;

	memset(&t, 0, sizeof(t));
	t.diff = t.chaff = p;
	while (r.p != r.end) {
		if (pb_key(&r, &field, &wt) == -1) {
			return -1;
		}
		if (field >= SSP_F_VERSION && field <= SSP_F_THROWAWAY_NUM) {
			if (wt != PB_VARINT || pb_varint(&r, &v) == -1) {
				return -1;
			}
			switch (field) {
			case SSP_F_VERSION:
				t.version = (uint32_t)v;
				break;
			case SSP_F_OLD_NUM:
				t.old_num = v;
				break;
			case SSP_F_NEW_NUM:
				t.new_num = v;
				break;
			case SSP_F_ACK_NUM:
				t.ack_num = v;
				break;
			default:
				t.throwaway_num = v;
				break;
			}
		} else if (field == SSP_F_DIFF || field == SSP_F_CHAFF) {
			if (wt != PB_LEN) {
				return -1;
			}
			if (field == SSP_F_DIFF &&
			    pb_bytes(&r, &t.diff, &t.diff_len)) {
				return -1;
			}
			if (field == SSP_F_CHAFF &&
			    pb_bytes(&r, &t.chaff, &t.chaff_len)) {
				return -1;
			}
		} else if (pb_skip(&r, field, wt) == -1) {
			return -1;
		}
	}
	*out = t;
	return 0;
}

/* ==== UserMessage and HostMessage (§6.2, §6.3) ==== */

/* Append instruction { ext { inner } } where inner is already encoded. */
static int
msg_put(struct buf *out, uint32_t ext, const uint8_t *inner, size_t n)
{
	size_t len0 = out->len;
	size_t l2 = 1 + pb_varint_len(n) + n;

	if (pb_put_varint(out, SSP_F_INSTRUCTION << 3 | PB_LEN) == -1 ||
	    pb_put_varint(out, l2) == -1 ||
	    pb_put_bytes(out, ext, inner, n) == -1) {
		out->len = len0;
		return -1;
	}
	return 0;
}

static int
msg_put_bytes(struct buf *out, uint32_t ext, const uint8_t *p, size_t n)
{
	size_t len0 = out->len;
	size_t l3 = 1 + pb_varint_len(n) + n;
	size_t l2 = 1 + pb_varint_len(l3) + l3;

	/* instruction { ext { bytes } } */
	if (pb_put_varint(out, SSP_F_INSTRUCTION << 3 | PB_LEN) == -1 ||
	    pb_put_varint(out, l2) == -1 ||
	    pb_put_varint(out, (uint64_t)ext << 3 | PB_LEN) == -1 ||
	    pb_put_varint(out, l3) == -1 ||
	    pb_put_bytes(out, SSP_F_BYTES, p, n) == -1) {
		out->len = len0;
		return -1;
	}
	return 0;
}

static int
msg_put_resize(struct buf *out, int32_t w, int32_t h)
{
	struct buf in = { NULL, 0, 0 };
	int r = -1;

	/* int32: a negative value is sign-extended to 10 bytes */
	if (pb_put_uint(&in, SSP_F_WIDTH, (uint64_t)(int64_t)w) == 0 &&
	    pb_put_uint(&in, SSP_F_HEIGHT, (uint64_t)(int64_t)h) == 0) {
		r = msg_put(out, SSP_EXT_RESIZE, in.p, in.len);
	}
	buf_free(&in);
	return r;
}

int
ssp_um_put_keys(struct buf *out, const uint8_t *p, size_t n)
{
	return msg_put_bytes(out, SSP_EXT_BYTES, p, n);
}

int
ssp_um_put_resize(struct buf *out, int32_t w, int32_t h)
{
	return msg_put_resize(out, w, h);
}

int
ssp_hm_put_bytes(struct buf *out, const uint8_t *p, size_t n)
{
	return msg_put_bytes(out, SSP_EXT_BYTES, p, n);
}

int
ssp_hm_put_resize(struct buf *out, int32_t w, int32_t h)
{
	return msg_put_resize(out, w, h);
}

int
ssp_hm_put_echoack(struct buf *out, uint64_t n)
{
	struct buf in = { NULL, 0, 0 };
	int r = -1;

	if (pb_put_uint(&in, SSP_F_ECHO_ACK, n) == 0) {
		r = msg_put(out, SSP_EXT_ECHOACK, in.p, in.len);
	}
	buf_free(&in);
	return r;
}

/*
 * One nested message with only the fields of ext: bytes (4), width (5),
 * height (6), echo_ack_num (8). Repeated occurrences merge field by field,
 * as proto2 merges a singular message.
 */
static int
msg_inner(const uint8_t *p, size_t n, struct ssp_msg *m)
{
	struct rd r = { p, p + n };
	uint32_t field;
	unsigned wt;
	uint64_t v;

	while (r.p != r.end) {
		if (pb_key(&r, &field, &wt) == -1) {
			return -1;
		}
		if (field == SSP_F_BYTES) {
			if (wt != PB_LEN || pb_bytes(&r, &m->p, &m->len)) {
				return -1;
			}
		} else if (field == SSP_F_WIDTH || field == SSP_F_HEIGHT ||
		    field == SSP_F_ECHO_ACK) {
			if (wt != PB_VARINT || pb_varint(&r, &v) == -1) {
				return -1;
			}
			if (field == SSP_F_WIDTH) {
				m->w = (int32_t)(uint32_t)v;
			} else if (field == SSP_F_HEIGHT) {
				m->h = (int32_t)(uint32_t)v;
			} else {
				m->echo_ack = v;
			}
		} else if (pb_skip(&r, field, wt) == -1) {
			return -1;
		}
	}
	return 0;
}

/*
 * The next Instruction of a UserMessage (host 0) or HostMessage (host 1).
 * Precedence as upstream: keystroke/hostbytes, else resize, else echoack.
 */
static int
msg_next(struct ssp_iter *it, struct ssp_msg *out, int host)
{
	struct rd r = { it->p, it->end }, in;
	struct ssp_msg kb, rs, ea;
	int has_kb = 0, has_rs = 0, has_ea = 0;
	const uint8_t *p;
	size_t n;
	uint32_t field;
	unsigned wt;

	for (;;) {
		if (r.p == r.end) {
			it->p = r.p;
			return 0;
		}
		if (pb_key(&r, &field, &wt) == -1) {
			return -1;
		}
		if (field == SSP_F_INSTRUCTION) {
			if (wt != PB_LEN || pb_bytes(&r, &p, &n) == -1) {
				return -1;
			}
			break;
		}
		if (pb_skip(&r, field, wt) == -1) {
			return -1;
		}
	}
	memset(&kb, 0, sizeof(kb));
	memset(&rs, 0, sizeof(rs));
	memset(&ea, 0, sizeof(ea));
	kb.p = p;
	in.p = p;
	in.end = p + n;
	while (in.p != in.end) {
		const uint8_t *q;
		size_t m;

		if (pb_key(&in, &field, &wt) == -1) {
			return -1;
		}
		if (field == SSP_EXT_BYTES || field == SSP_EXT_RESIZE ||
		    (host && field == SSP_EXT_ECHOACK)) {
			if (wt != PB_LEN || pb_bytes(&in, &q, &m) == -1) {
				return -1;
			}
			if (field == SSP_EXT_BYTES) {
				has_kb = 1;
				if (msg_inner(q, m, &kb) == -1) {
					return -1;
				}
			} else if (field == SSP_EXT_RESIZE) {
				has_rs = 1;
				if (msg_inner(q, m, &rs) == -1) {
					return -1;
				}
			} else {
				has_ea = 1;
				if (msg_inner(q, m, &ea) == -1) {
					return -1;
				}
			}
		} else if (pb_skip(&in, field, wt) == -1) {
			return -1;
		}
	}
	it->p = r.p;
	memset(out, 0, sizeof(*out));
	if (has_kb) {
		out->type = host ? SSP_MSG_BYTES : SSP_MSG_KEYS;
		out->p = kb.p;
		out->len = kb.len;
	} else if (has_rs) {
		out->type = SSP_MSG_RESIZE;
		out->w = rs.w;
		out->h = rs.h;
	} else if (has_ea) {
		out->type = SSP_MSG_ECHOACK;
		out->echo_ack = ea.echo_ack;
	}
	return 1;
}

int
ssp_um_next(struct ssp_iter *it, struct ssp_msg *out)
{
	return msg_next(it, out, 0);
}

int
ssp_hm_next(struct ssp_iter *it, struct ssp_msg *out)
{
	return msg_next(it, out, 1);
}

int
ssp_hm_check(const uint8_t *p, size_t len, uint64_t *echo_ack)
{
	struct ssp_iter it = { p, p + len };
	struct ssp_msg m;
	uint64_t e = *echo_ack;
	int r;

	while ((r = ssp_hm_next(&it, &m)) == 1) {
		if (m.type == SSP_MSG_ECHOACK) {
			if (m.echo_ack < e) {
				return -1;
			}
			e = m.echo_ack;
		}
	}
	if (r == -1) {
		return -1;
	}
	*echo_ack = e;
	return 0;
}

/* ==== zlib (§5) ==== */

int
ssp_deflate(const uint8_t *p, size_t len, struct buf *out)
{
	uLongf n;

	if (len > 0x7fffffff) {
		return -1;
	}
	n = compressBound((uLong)len);
	if (buf_reserve(out, n) == -1) {
		return -1;
	}
	/* compress() is level 6, window 15, memLevel 8: upstream's bytes */
	if (compress(out->p + out->len, &n, p, (uLong)len) != Z_OK) {
		return -1;
	}
	out->len += n;
	return 0;
}

/*
 * The same bytes as ssp_deflate (compress() is deflateInit with level 6 and
 * one deflate(Z_FINISH) for inputs this size), from a stream kept in the
 * endpoint and reset per use: no 268 KiB allocated and freed per datagram.
 */
static int
ssp_compress(struct ssp *s, const uint8_t *p, size_t len, struct buf *out)
{
	z_stream *zs = s->zdef;
	uLong bound;

	if (len > 0x7fffffff) {
		return -1;
	}
	if (zs == NULL) {
		if ((zs = calloc(1, sizeof(*zs))) == NULL) {
			return -1;
		}
		if (deflateInit(zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
			free(zs);
			return -1;
		}
		s->zdef = zs;
	} else if (deflateReset(zs) != Z_OK) {
		return -1;
	}
	bound = deflateBound(zs, (uLong)len);
	if (bound > 0x7fffffff || buf_reserve(out, bound) == -1) {
		return -1;
	}
	zs->next_in = (Bytef *)(uintptr_t)p;
	zs->avail_in = (uInt)len;
	zs->next_out = out->p + out->len;
	zs->avail_out = (uInt)bound;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
		return -1;
	}
	out->len += bound - zs->avail_out;
	return 0;
}

int
ssp_inflate(const uint8_t *p, size_t len, struct buf *out)
{
	z_stream zs;
	int zr, r = -1;
	size_t room;

	out->len = 0;
	if (len > SSP_ZMAX) {
		return -1;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)len;
	for (;;) {
		/* one byte past the cap tells "too big" from "exactly full" */
		if (out->len > SSP_INFLATE_MAX) {
			goto out;
		}
		room = MIN((size_t)65536, SSP_INFLATE_MAX + 1 - out->len);
		if (buf_reserve(out, room) == -1) {
			goto out;
		}
		zs.next_out = out->p + out->len;
		zs.avail_out = (uInt)room;
		zr = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		if (zr == Z_STREAM_END) {
			break;
		}
		if (zr != Z_OK) {
			goto out;	/* also Z_BUF_ERROR: input ended early */
		}
	}
	/* bytes after the stream are ignored, as uncompress() does */
	if (out->len <= SSP_INFLATE_MAX) {
		r = 0;
	}
out:
	inflateEnd(&zs);
	if (r == -1) {
		out->len = 0;
	}
	return r;
}

/* ==== fragments (§4) ==== */

int
ssp_frag_parse(const uint8_t *p, size_t len, struct ssp_frag *f)
{
	uint64_t id = 0;
	unsigned i, w;

	if (len < SSP_FRAG_HDR) {
		return -1;
	}
	for (i = 0; i < 8; i++) {
		id = id << 8 | p[i];
	}
	w = (unsigned)p[8] << 8 | p[9];
	f->id = id;
	f->final = (w >> 15) & 1;
	f->num = w & 0x7fff;
	f->p = p + SSP_FRAG_HDR;
	f->len = len - SSP_FRAG_HDR;
	return 0;
}

void
ssp_frag_header(uint8_t out[SSP_FRAG_HDR], uint64_t id, unsigned num,
    int final)
{
	unsigned i, w = (final ? 0x8000u : 0) | (num & 0x7fff);

	for (i = 0; i < 8; i++) {
		out[i] = (uint8_t)(id >> (56 - 8 * i));
	}
	out[8] = (uint8_t)(w >> 8);
	out[9] = (uint8_t)w;
}

int
ssp_asm_init(struct ssp_asm *a)
{
	memset(a, 0, sizeof(*a));
	return 0;	/* slots come with the first many-fragment one */
}

void
ssp_asm_free(struct ssp_asm *a)
{
	free(a->slot);
	buf_free(&a->data);
	memset(a, 0, sizeof(*a));
}

static int
asm_has(const struct ssp_asm *a, unsigned n)
{
	return (a->have[n >> 3] >> (n & 7)) & 1;
}

/* Forget the fragments, keep the id. */
static void
asm_clear(struct ssp_asm *a)
{
	memset(a->have, 0, (a->hi + 7) / 8);
	a->arrived = a->total = a->hi = 0;
	a->data.len = 0;
	if (a->data.cap > 65536) {
		buf_free(&a->data);	/* do not keep a huge one around */
	}
}

int
ssp_asm_add(struct ssp_asm *a, const struct ssp_frag *f, struct buf *z)
{
	struct ssp_fslot *s;
	unsigned i;

	if (f->num >= SSP_MAX_FRAGS || f->len > 0xffff) {
		return -1;
	}
	if (!a->have_id || f->id != a->id) {
		/* any other id, older or newer, starts over (§4.3) */
		asm_clear(a);
		a->id = f->id;
		a->have_id = 1;
	}
	if (a->arrived == 0 && f->num == 0 && f->final) {
		/* the usual case, one fragment: no slots needed */
		z->len = 0;
		return buf_append(z, f->p, f->len) == 0 ? 1 : -1;
	}
	if (a->total && f->num >= a->total) {
		return -1;	/* beyond the final fragment */
	}
	if (a->slot == NULL &&
	    (a->slot = calloc(SSP_MAX_FRAGS, sizeof(*a->slot))) == NULL) {
		return -1;
	}
	if (asm_has(a, f->num)) {
		s = &a->slot[f->num];
		if (s->len != f->len || (f->len &&
		    memcmp(a->data.p + s->off, f->p, f->len) != 0) ||
		    (f->final && a->total != f->num + 1) ||
		    (!f->final && a->total == f->num + 1)) {
			return -1;	/* upstream asserts here */
		}
		return 0;
	}
	if (f->final && f->num + 1 < a->hi) {
		return -1;	/* fragments stored past this final one */
	}
	if (f->len > SSP_ZMAX - a->data.len) {
		asm_clear(a);
		return -1;
	}
	s = &a->slot[f->num];
	s->off = (uint32_t)a->data.len;
	s->len = (uint32_t)f->len;
	if (buf_append(&a->data, f->p, f->len) == -1) {
		return -1;
	}
	a->have[f->num >> 3] |= (uint8_t)(1u << (f->num & 7));
	a->arrived++;
	a->hi = MAX(a->hi, f->num + 1);
	if (f->final) {
		a->total = f->num + 1;
	}
	if (a->total == 0 || a->arrived != a->total) {
		return 0;
	}
	z->len = 0;
	if (buf_reserve(z, a->data.len) == -1) {
		asm_clear(a);
		return -1;
	}
	for (i = 0; i < a->total; i++) {
		s = &a->slot[i];
		if (s->len > 0) {	/* empty fragments: data.p may be NULL */
			memcpy(z->p + z->len, a->data.p + s->off, s->len);
			z->len += s->len;
		}
	}
	asm_clear(a);
	return 1;
}

void
ssp_fragmenter_init(struct ssp_fragmenter *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->old_num = fr->new_num = UINT64_MAX;
}

uint64_t
ssp_fragmenter_id(struct ssp_fragmenter *fr, const struct ssp_inst *in,
    size_t slice)
{
	size_t cl = MIN(in->chaff_len, (size_t)SSP_CHAFF_MAX);

	if (in->old_num != fr->old_num || in->new_num != fr->new_num ||
	    in->ack_num != fr->ack_num ||
	    in->throwaway_num != fr->throwaway_num ||
	    in->version != fr->version || slice != fr->slice ||
	    in->chaff_len != fr->chaff_len ||
	    (cl && memcmp(in->chaff, fr->chaff, cl) != 0)) {
		fr->next_id++;
	}
	fr->old_num = in->old_num;
	fr->new_num = in->new_num;
	fr->ack_num = in->ack_num;
	fr->throwaway_num = in->throwaway_num;
	fr->version = in->version;
	fr->slice = slice;
	fr->chaff_len = in->chaff_len;
	if (cl) {
		memcpy(fr->chaff, in->chaff, cl);
	}
	return fr->next_id;
}

/* ==== the user-input stream (§8.1) ==== */

#define UEV_ESC 0xff
#define UEV_RESIZE_LEN 10	/* ff 01 w(4) h(4) */

struct ssp_user *
ssp_user_new(void)
{
	return calloc(1, sizeof(struct ssp_user));
}

/* Length of the encoded event at off, 0 if truncated or unknown. */
static size_t
uev_len(const uint8_t *p, size_t len, size_t off)
{
	if (off >= len) {
		return 0;
	}
	if (p[off] != UEV_ESC) {
		return 1;
	}
	if (len - off < 2) {
		return 0;
	}
	if (p[off + 1] == 0) {
		return 2;
	}
	if (p[off + 1] == 1 && len - off >= UEV_RESIZE_LEN) {
		return UEV_RESIZE_LEN;
	}
	return 0;
}

static void
put32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (uint8_t)(u >> 24);
	p[1] = (uint8_t)(u >> 16);
	p[2] = (uint8_t)(u >> 8);
	p[3] = (uint8_t)u;
}

static int32_t
get32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static int
user_append_bytes(struct buf *b, const uint8_t *p, size_t n, size_t max)
{
	size_t i, need = n;

	for (i = 0; i < n; i++) {
		need += p[i] == UEV_ESC;
	}
	if (need > max || b->len > max - need ||
	    buf_reserve(b, need) == -1) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		b->p[b->len++] = p[i];
		if (p[i] == UEV_ESC) {
			b->p[b->len++] = 0;
		}
	}
	return 0;
}

static int
user_append_resize(struct buf *b, int32_t w, int32_t h, size_t max)
{
	uint8_t t[UEV_RESIZE_LEN] = { UEV_ESC, 1 };

	if (b->len > max - UEV_RESIZE_LEN) {
		return -1;
	}
	put32(t + 2, w);
	put32(t + 6, h);
	return buf_append(b, t, sizeof(t));
}

int
ssp_user_push_bytes(struct ssp_user *u, const uint8_t *p, size_t n)
{
	return user_append_bytes(&u->b, p, n, SSP_USER_PENDING_MAX);
}

int
ssp_user_push_resize(struct ssp_user *u, int32_t w, int32_t h)
{
	return user_append_resize(&u->b, w, h, SSP_USER_PENDING_MAX);
}

int
ssp_user_next(const struct ssp_user *u, size_t *off, struct ssp_uev *ev)
{
	const uint8_t *p = u->b.p;
	size_t n, len = u->b.len;

	if ((n = uev_len(p, len, *off)) == 0) {
		return 0;
	}
	memset(ev, 0, sizeof(*ev));
	if (n == UEV_RESIZE_LEN) {
		ev->type = SSP_MSG_RESIZE;
		ev->w = get32(p + *off + 2);
		ev->h = get32(p + *off + 6);
		ev->superseded = uev_len(p, len, *off + n) == UEV_RESIZE_LEN;
	} else {
		ev->type = SSP_MSG_KEYS;
		ev->c = p[*off];
	}
	*off += n;
	return 1;
}

static void *
user_copy(const void *st)
{
	const struct ssp_user *u = st;
	struct ssp_user *c;

	if ((c = ssp_user_new()) == NULL) {
		return NULL;
	}
	if (buf_append(&c->b, u->b.p, u->b.len) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

static void
user_free(void *st)
{
	struct ssp_user *u = st;

	if (u != NULL) {
		buf_free(&u->b);
		free(u);
	}
}

static int
user_equal(const void *a, const void *b)
{
	const struct ssp_user *x = a, *y = b;

	return x->b.len == y->b.len &&
	    (x->b.len == 0 || memcmp(x->b.p, y->b.p, x->b.len) == 0);
}

static int
user_is_prefix(const struct ssp_user *pre, const struct ssp_user *u)
{
	return pre->b.len <= u->b.len &&
	    (pre->b.len == 0 || memcmp(pre->b.p, u->b.p, pre->b.len) == 0);
}

/*
 * The events of to after from, as a UserMessage: adjacent bytes share one
 * keystroke instruction, each resize is an instruction of its own.
 */
static int
user_diff(const void *from, const void *to, struct buf *out)
{
	const struct ssp_user *f = from, *t = to;
	struct ssp_user tail;
	struct ssp_uev ev;
	struct buf run = { NULL, 0, 0 };
	size_t off = 0, len0 = out->len;
	int r = -1;

	if (!user_is_prefix(f, t)) {
		return -1;
	}
	tail.b.p = t->b.p != NULL ? t->b.p + f->b.len : NULL;
	tail.b.len = tail.b.cap = t->b.len - f->b.len;
	while (ssp_user_next(&tail, &off, &ev) == 1) {
		if (ev.type == SSP_MSG_KEYS) {
			if (buf_putc(&run, ev.c) == -1) {
				goto out;
			}
			continue;
		}
		if (run.len > 0 && ssp_um_put_keys(out, run.p, run.len) == -1) {
			goto out;
		}
		run.len = 0;
		if (ssp_um_put_resize(out, ev.w, ev.h) == -1) {
			goto out;
		}
	}
	if (run.len > 0 && ssp_um_put_keys(out, run.p, run.len) == -1) {
		goto out;
	}
	r = 0;
out:
	buf_free(&run);
	if (r == -1) {
		out->len = len0;
	}
	return r;
}

/* Append a UserMessage's events to b, all or nothing. */
static int
user_apply_msg(struct buf *b, const uint8_t *diff, size_t len, size_t max)
{
	struct ssp_iter it = { diff, diff != NULL ? diff + len : NULL };
	struct ssp_msg m;
	size_t len0 = b->len;
	int r;

	/* parse it all first: a half-applied diff must not happen */
	while ((r = ssp_um_next(&it, &m)) == 1) {
		continue;
	}
	if (r == -1) {
		return -1;
	}
	it.p = diff;
	while (ssp_um_next(&it, &m) == 1) {
		if (m.type == SSP_MSG_KEYS) {
			r = user_append_bytes(b, m.p, m.len, max);
		} else if (m.type == SSP_MSG_RESIZE) {
			r = user_append_resize(b, m.w, m.h, max);
		} else {
			r = 0;
		}
		if (r == -1) {
			b->len = len0;
			return -1;
		}
	}
	return 0;
}

static int
user_apply(void *st, const uint8_t *diff, size_t len)
{
	struct ssp_user *u = st;

	return user_apply_msg(&u->b, diff, len, SSP_USER_MAX);
}

static void
user_subtract(void *st, const void *prefix)
{
	struct ssp_user *u = st;
	const struct ssp_user *pre = prefix;

	if (u == pre) {
		u->b.len = 0;
		return;
	}
	/* states only grow, so pre is a prefix; if not, leave u alone */
	if (pre->b.len == 0 || !user_is_prefix(pre, u)) {
		return;
	}
	memmove(u->b.p, u->b.p + pre->b.len, u->b.len - pre->b.len);
	u->b.len -= pre->b.len;
}

/* A stream shares nothing with another. */
void
ssp_user_bytes(const void *st, const void *base, size_t part[SSP_PARTS])
{
	const struct ssp_user *u = st;

	(void)base;
	part[SSP_PART_KEYS] += sizeof(*u) + u->b.cap;
}

const struct ssp_ops ssp_user_ops = {
	user_copy, user_free, user_equal, user_diff, user_apply,
	user_subtract
};

/* ==== SSP: sender and receiver (§7) ==== */

static void
tstate_free(const struct ssp_ops *ops, struct ssp_tstate *t)
{
	if (t->st != NULL) {
		ops->free(t->st);
		t->st = NULL;
	}
}

/*
 * The byte budget of the received states (mosh.h). recv_measure: the
 * parts of recv[i] against the state before it, and (whole 1) against none.
 */
static void
recv_measure(struct ssp *s, size_t i, int whole)
{
	struct ssp_tstate *t = &s->recv[i];

	memset(t->part, 0, sizeof(t->part));
	if (whole) {
		memset(t->whole, 0, sizeof(t->whole));
	}
	if (s->cfg.remote_bytes == NULL) {
		return;
	}
	s->cfg.remote_bytes(t->st, i > 0 ? s->recv[i - 1].st : NULL, t->part);
	if (whole) {
		s->cfg.remote_bytes(t->st, NULL, t->whole);
	}
}

/* Forget recv[i]; the state after it is measured against its new one. */
static void
recv_remove(struct ssp *s, size_t i)
{
	tstate_free(s->cfg.remote, &s->recv[i]);
	memmove(&s->recv[i], &s->recv[i + 1],
	    (s->nrecv - i - 1) * sizeof(s->recv[0]));
	s->nrecv--;
	s->recv[s->nrecv].st = NULL;
	if (i < s->nrecv) {
		recv_measure(s, i, 0);
	}
}

static int
over_budget(const size_t *sum, const size_t *lim)
{
	size_t p;

	for (p = 0; p < SSP_PARTS; p++) {
		if (sum[p] > lim[p]) {
			return 1;
		}
	}
	return 0;
}

/*
 * recv[*at] arrived from base recv[ref]: evict the oldest states between
 * the first and the newest that are neither of these two until every part
 * is within its budget, else drop recv[in] itself. 0 with *at its index
 * now, or -1 if dropped.
 */
static int
recv_budget(struct ssp *s, size_t *at, size_t ref)
{
	static const size_t floors[SSP_PARTS] = {
		SSP_BUDGET_SCREEN_FLOOR, SSP_BUDGET_KEYS_FLOOR
	};
	size_t keep[4], lim[SSP_PARTS], sum[SSP_PARTS], i, j, p, w, in = *at;

	if (s->cfg.remote_bytes == NULL) {
		return 0;
	}
	keep[0] = 0;
	keep[1] = ref;
	keep[2] = in;
	keep[3] = s->nrecv - 1;
	for (p = 0; p < SSP_PARTS; p++) {
		for (i = 0, w = 0; i < LEN(keep); i++) {
			w = MAX(w, s->recv[keep[i]].whole[p]);
		}
		lim[p] = w > SIZE_MAX / SSP_BUDGET_STATES ? SIZE_MAX :
		    MAX(w * SSP_BUDGET_STATES, floors[p]);
		for (i = 0, sum[p] = 0; i < s->nrecv; i++) {
			sum[p] += s->recv[i].part[p];
		}
	}
	j = 1;
	while (over_budget(sum, lim)) {
		while (j + 1 < s->nrecv && (j == ref || j == in)) {
			j++;
		}
		s->stats.over_budget++;
		if (j + 1 >= s->nrecv) {
			recv_remove(s, in);
			return -1;
		}
		for (p = 0; p < SSP_PARTS; p++) {
			sum[p] -= s->recv[j].part[p] + s->recv[j + 1].part[p];
		}
		recv_remove(s, j);
		for (p = 0; p < SSP_PARTS; p++) {
			sum[p] += s->recv[j].part[p];
		}
		ref -= ref > j;
		in -= in > j;
	}
	*at = in;
	return 0;
}

static size_t
recv_late(const struct ssp *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nrecv; i++) {
		n += s->recv[i].late != 0;
	}
	return n;
}

int
ssp_init(struct ssp *s, const struct ssp_cfg *cfg, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (cfg->remote_bytes == NULL && cfg->remote == &ssp_user_ops) {
		s->cfg.remote_bytes = ssp_user_bytes;
	}
	ssp_fragmenter_init(&s->fr);
	s->next_ack_time = now;		/* the first ack is due at once */
	s->next_send_time = now;
	s->mindelay_clock = SSP_NEVER;
	s->last_ack_sent = 0;
	s->first_send = SSP_NEVER;
	s->copy_time = SSP_NEVER;
	s->copies_at = SSP_NEVER;
	s->recv = calloc(SSP_RECV_CAP, sizeof(*s->recv));
	s->cur = cfg->mine->copy(cfg->mine_init);
	s->sent[0].st = cfg->mine->copy(cfg->mine_init);
	s->sent[0].ts = now;
	s->nsent = 1;
	if (s->recv != NULL) {
		s->recv[0].st = cfg->remote->copy(cfg->remote_init);
		s->recv[0].ts = now;
		s->nrecv = 1;
		if (s->recv[0].st != NULL) {
			recv_measure(s, 0, 1);
		}
	}
	s->last_seen = cfg->remote->copy(cfg->remote_init);
	if (s->recv == NULL || s->cur == NULL || s->sent[0].st == NULL ||
	    s->recv[0].st == NULL || s->last_seen == NULL ||
	    ssp_asm_init(&s->as) == -1) {
		ssp_free(s);
		return -1;
	}
	return 0;
}

void
ssp_free(struct ssp *s)
{
	size_t i;

	if (s->cfg.mine == NULL) {
		return;
	}
	for (i = 0; i < s->nsent; i++) {
		tstate_free(s->cfg.mine, &s->sent[i]);
	}
	if (s->cur != NULL) {
		s->cfg.mine->free(s->cur);
	}
	if (s->recv != NULL) {
		for (i = 0; i < s->nrecv; i++) {
			tstate_free(s->cfg.remote, &s->recv[i]);
		}
		free(s->recv);
	}
	if (s->last_seen != NULL) {
		s->cfg.remote->free(s->last_seen);
	}
	ssp_asm_free(&s->as);
	if (s->zdef != NULL) {
		deflateEnd(s->zdef);
		free(s->zdef);
	}
	buf_free(&s->z);
	buf_free(&s->pb);
	buf_free(&s->d1);
	buf_free(&s->d2);
	buf_free(&s->pkt);
	memset(s, 0, sizeof(*s));
}

/*
 * The first moments of a session (with fast_start): nothing of ours
 * acknowledged yet, and less than SSP_EARLY_WINDOW since our first
 * datagram. The RTO is still the 1 s guess of §3.4 then, so loss would
 * cost seconds.
 */
static int
early(const struct ssp *s, uint64_t now)
{
	return s->cfg.fast_start && s->sent[0].num == 0 &&
	    s->first_send != SSP_NEVER &&
	    now - s->first_send < SSP_EARLY_WINDOW;
}

/*
 * How long an unacknowledged state waits before it is sent again. Early
 * retries are for small states: a large one would cost more than it saves
 * on a long path.
 */
static uint64_t
retry_after(const struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	uint64_t t = (uint64_t)l->rto + SSP_ACK_DELAY;

	return early(s, now) && s->last_frags <= 1 ?
	    MIN(t, SSP_EARLY_RETRY) : t;
}

/*
 * §7.4: trust recently sent states, up to the first one that is too old
 * (RTO + 100, shorter early in the session: then the state after the
 * acknowledged one is resent).
 */
static void
update_assumed(struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	size_t i;
	uint64_t lim = retry_after(s, l, now);

	s->assumed = 0;
	for (i = 1; i < s->nsent; i++) {
		if (now >= s->sent[i].ts && now - s->sent[i].ts >= lim) {
			return;
		}
		s->assumed = i;
	}
}

/* §7.4: remove what the receiver is known to have from every state. */
static void
rationalize(struct ssp *s)
{
	const struct ssp_ops *o = s->cfg.mine;
	const void *k = s->sent[0].st;
	size_t i;

	if (o->subtract == NULL) {
		return;
	}
	o->subtract(s->cur, k);
	for (i = s->nsent; i-- > 0;) {
		o->subtract(s->sent[i].st, k);	/* the front last */
	}
}

/*
 * When to send unsent changes: after the batching wait (mindelay) from the
 * first of them and the send interval from the previous send. An echo
 * (ssp_hurry) skips the batching wait and is paced by the interval from
 * the previous echo only, so that an echo ack or a heartbeat sent just
 * before it does not hold it back. The output that follows an echo is
 * paced as if the echo had not been sent, so that the echo does not hold
 * it back either. No more than two sends fall in one interval.
 */
static uint64_t
send_time(const struct ssp *s, const struct ssp_link *l)
{
	uint64_t batch = s->mindelay_clock + s->cfg.mindelay;

	if (s->hurry) {
		return MAX(s->mindelay_clock, s->hurry_ts + l->send_interval);
	}
	if (s->hurried) {
		return MAX(batch, s->pace_ts + l->send_interval);
	}
	return MAX(batch, s->sent[s->nsent - 1].ts + l->send_interval);
}

static int
active(const struct ssp *s, uint64_t now)
{
	return s->heard && s->last_heard + SSP_ACTIVE_RETRY_TIMEOUT > now;
}

static void
calculate_timers(struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	const struct ssp_ops *o = s->cfg.mine;
	const struct ssp_tstate *back = &s->sent[s->nsent - 1];
	uint64_t t;
	int unsent;

	update_assumed(s, l, now);
	rationalize(s);
	if (s->pending_data_ack && s->next_ack_time > now + SSP_ACK_DELAY) {
		s->next_ack_time = now + SSP_ACK_DELAY;
	}
	unsent = ssp_unsent(s);
	s->hurry &= unsent;		/* an echo undone is no echo */
	if (unsent) {
		/* unsent changes: wait a little for more, then the interval */
		if (s->mindelay_clock == SSP_NEVER) {
			s->mindelay_clock = now;
		}
		s->next_send_time = send_time(s, l);
	} else if (!o->equal(s->cur, s->sent[s->assumed].st) &&
	    active(s, now)) {
		/* the assumed state went stale: retry at frame rate */
		t = back->ts + l->send_interval;
		if (s->mindelay_clock != SSP_NEVER) {
			t = MAX(t, s->mindelay_clock + s->cfg.mindelay);
		}
		s->next_send_time = t;
	} else if (!o->equal(s->cur, s->sent[0].st) && (active(s, now) ||
	    (s->cfg.fast_start && !s->heard))) {
		s->next_send_time = back->ts + retry_after(s, l, now);
	} else {
		s->next_send_time = SSP_NEVER;
	}
	/* speed up the shutdown handshake (§7.10) */
	if (s->shutdown || s->ack_num == SSP_SHUTDOWN_NUM) {
		s->next_ack_time = back->ts + l->send_interval;
	}
}

uint64_t
ssp_wait(struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	uint64_t next;

	calculate_timers(s, l, now);
	if (!l->has_peer) {
		return SSP_NEVER;
	}
	next = MIN(s->next_ack_time, s->next_send_time);
	next = MIN(next, s->copy_time);
	if (next == SSP_NEVER) {
		return SSP_NEVER;
	}
	return next > now ? next - now : 0;
}

/* §7.8: past SSP_SENT_MAX, drop the 16th newest; keep assumed valid. */
static int
add_sent(struct ssp *s, uint64_t now, uint64_t num)
{
	struct ssp_tstate *t;
	size_t k;
	void *st;

	if ((st = s->cfg.mine->copy(s->cur)) == NULL) {
		s->stats.oom++;
		return -1;
	}
	t = &s->sent[s->nsent++];
	t->ts = now;
	t->num = num;
	t->st = st;
	if (s->nsent > SSP_SENT_MAX) {
		k = s->nsent - 16;
		tstate_free(s->cfg.mine, &s->sent[k]);
		memmove(&s->sent[k], &s->sent[k + 1],
		    (s->nsent - k - 1) * sizeof(s->sent[0]));
		s->nsent--;
		s->sent[s->nsent].st = NULL;
		if (s->assumed >= k && s->assumed > 0) {
			s->assumed--;
		}
	}
	return 0;
}

/*
 * Chaff hides the length of what a datagram carries. A bare ack (dlen 0)
 * carries nothing but public numbers and shows what it is by its timing,
 * so it goes without (the field is optional): idle heartbeats are ~8 bytes
 * smaller than upstream's.
 */
static void
make_chaff(struct ssp *s, uint8_t *chaff, size_t *n, size_t dlen)
{
	uint8_t b = 0;

	*n = 0;
	if (s->cfg.rand == NULL || dlen == 0) {
		return;
	}
	s->cfg.rand(s->cfg.rand_arg, &b, 1);
	*n = b % (SSP_CHAFF_MAX + 1);
	if (*n > 0) {
		s->cfg.rand(s->cfg.rand_arg, chaff, *n);
	}
}

/*
 * Serialize, compress, fragment and send one instruction (§4.2, §7.5),
 * from the sent state at index base. With one_only, send nothing unless it
 * fits one fragment. Returns the number of fragments sent (0: none).
 */
static size_t
send_instruction(struct ssp *s, const struct ssp_link *l,
    const uint8_t *diff, size_t dlen, uint64_t new_num, size_t base,
    int one_only, uint64_t now)
{
	struct ssp_inst in;
	uint8_t chaff[SSP_CHAFF_MAX];
	size_t slice, off, n, nfrag;
	uint64_t id;
	unsigned k;

	memset(&in, 0, sizeof(in));
	in.version = SSP_PROTOCOL_VERSION;
	in.old_num = s->sent[base].num;
	in.new_num = new_num;
	in.ack_num = s->ack_num;
	in.throwaway_num = s->sent[0].num;
	in.diff = diff;
	in.diff_len = dlen;
	make_chaff(s, chaff, &in.chaff_len, dlen);
	in.chaff = chaff;
	s->pb.len = 0;
	s->z.len = 0;
	if (ssp_inst_encode(&in, &s->pb) == -1 ||
	    ssp_compress(s, s->pb.p, s->pb.len, &s->z) == -1) {
		s->stats.oom++;
		return 0;
	}
	slice = l->mtu > SSP_OVERHEAD + 64 ? l->mtu - SSP_OVERHEAD : 64;
	nfrag = (s->z.len + slice - 1) / slice;
	if (nfrag > SSP_MAX_FRAGS) {
		s->stats.oom++;	/* our own state types never get here */
		return 0;
	}
	if (one_only && nfrag > 1) {
		return 0;
	}
	if (new_num == SSP_SHUTDOWN_NUM) {
		s->shutdown_tries++;
	}
	s->pending_data_ack = 0;
	s->last_ack_sent = s->ack_num;
	if (s->first_send == SSP_NEVER) {
		s->first_send = now;
	}
	id = ssp_fragmenter_id(&s->fr, &in, slice);
	for (k = 0, off = 0; off < s->z.len; k++, off += n) {
		n = MIN(slice, s->z.len - off);
		s->pkt.len = 0;
		if (buf_reserve(&s->pkt, SSP_FRAG_HDR + n) == -1) {
			s->stats.oom++;
			return k;
		}
		ssp_frag_header(s->pkt.p, id, k, off + n == s->z.len);
		memcpy(s->pkt.p + SSP_FRAG_HDR, s->z.p + off, n);
		s->pkt.len = SSP_FRAG_HDR + n;
		if (l->send(l->arg, s->pkt.p, s->pkt.len) == -1) {
			s->stats.send_fail++;
		}
	}
	return nfrag;
}

static void
send_empty_ack(struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	uint64_t num = s->sent[s->nsent - 1].num + 1;

	if (s->shutdown) {
		num = SSP_SHUTDOWN_NUM;
	}
	if (add_sent(s, now, num) == -1) {
		return;
	}
	send_instruction(s, l, NULL, 0, num, s->assumed, 0, now);
	s->next_ack_time = now + SSP_ACK_INTERVAL;
	s->next_send_time = SSP_NEVER;
}

/*
 * How many copies a send of data gets (0, 1 or 2): a new state as many as
 * the loss calls for, and so does a resend, but at most once per RTO
 * (upstream resends at frame rate while an old state is unacknowledged);
 * in the early window, where the RTO is only a guess, always two.
 */
static unsigned
copies_wanted(const struct ssp *s, const struct ssp_link *l, uint64_t now,
    int fresh)
{
	if (early(s, now)) {
		return 2;
	}
	if (!fresh && s->copies_at != SSP_NEVER &&
	    now - s->copies_at < l->rto) {
		return 0;
	}
	if (l->loss >= SSP_LOSS_HEAVY) {
		return 2;
	}
	return l->loss >= SSP_LOSS_SOME ? 1 : 0;
}

static void
send_to_receiver(struct ssp *s, const struct ssp_link *l, const uint8_t *diff,
    size_t dlen, uint64_t now)
{
	struct ssp_tstate *back = &s->sent[s->nsent - 1];
	uint64_t num = back->num, old = back->num;
	size_t nfrag;

	if (!s->cfg.mine->equal(s->cur, back->st)) {
		num = back->num + 1;
	}
	if (s->shutdown) {
		num = SSP_SHUTDOWN_NUM;
	}
	if (num == back->num) {
		back->ts = now;		/* a re-send of the same state */
	} else if (add_sent(s, now, num) == -1) {
		return;
	}
	nfrag = send_instruction(s, l, diff, dlen, num, s->assumed, 0, now);
	s->last_frags = nfrag;
	s->assumed = s->nsent - 1;
	s->next_ack_time = now + SSP_ACK_INTERVAL;
	s->next_send_time = SSP_NEVER;
	/* a small instruction with data: copies, if the path calls for them */
	s->copies_left = 0;
	s->copy_time = SSP_NEVER;
	if (nfrag == 1 && dlen > 0 && !s->shutdown) {
		s->copies_left = copies_wanted(s, l, now, num != old);
		s->copy_num = num;
		if (s->copies_left > 0) {
			s->copy_time = now + SSP_COPY_GAP;
			s->copies_at = now;
		}
	}
}

/*
 * A copy of the newest sent state, from the acknowledged one, while it is
 * still newest and unacknowledged; the same state number, so a receiver
 * that has it already drops the copy as a duplicate (§7.9). A diff that
 * no longer fits one fragment (the acknowledged state is far behind) is
 * not copied.
 */
static void
send_copy(struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	const struct ssp_tstate *back = &s->sent[s->nsent - 1];

	if (s->copies_left == 0) {
		s->copy_time = SSP_NEVER;
		return;
	}
	s->copies_left--;
	s->copy_time = s->copies_left > 0 ? now + SSP_COPY_GAP : SSP_NEVER;
	if (back->num != s->copy_num || s->sent[0].num >= s->copy_num ||
	    s->shutdown) {
		s->copies_left = 0;
		s->copy_time = SSP_NEVER;
		return;
	}
	s->d2.len = 0;
	if (s->cfg.mine->diff(s->sent[0].st, back->st, &s->d2) == -1) {
		s->stats.oom++;
		return;
	}
	if (s->d2.len > 0 && send_instruction(s, l, s->d2.p, s->d2.len,
	    back->num, 0, 1, now) == 1) {
		s->stats.copies++;
	}
}

void
ssp_tick(struct ssp *s, const struct ssp_link *l, uint64_t now)
{
	const struct ssp_ops *o = s->cfg.mine;
	struct buf t;

	calculate_timers(s, l, now);
	if (!l->has_peer) {
		return;
	}
	if (now >= s->copy_time) {
		send_copy(s, l, now);
	}
	if (now < s->next_ack_time && now < s->next_send_time) {
		return;
	}
	s->d1.len = 0;
	if (o->diff(s->sent[s->assumed].st, s->cur, &s->d1) == -1) {
		s->stats.oom++;
		return;
	}
	/* §7.6: prefer the acknowledged state as base when it is cheap */
	if (s->assumed != 0) {
		s->d2.len = 0;
		if (o->diff(s->sent[0].st, s->cur, &s->d2) == 0 &&
		    (s->d2.len <= s->d1.len || (s->d2.len < 1000 &&
		    s->d2.len - s->d1.len < 100))) {
			s->assumed = 0;
			t = s->d1;
			s->d1 = s->d2;
			s->d2 = t;
		}
	}
	if (s->d1.len == 0) {
		if (now >= s->next_ack_time) {
			send_empty_ack(s, l, now);
			s->mindelay_clock = SSP_NEVER;
			s->hurry = s->hurried = 0;
		}
		if (now >= s->next_send_time) {
			s->next_send_time = SSP_NEVER;
			s->mindelay_clock = SSP_NEVER;
			s->hurry = 0;
		}
	} else {
		if (s->hurry) {
			s->hurry_ts = now;
			s->pace_ts = s->sent[s->nsent - 1].ts;
		}
		send_to_receiver(s, l, s->d1.p, s->d1.len, now);
		s->mindelay_clock = SSP_NEVER;
		s->hurried = s->hurry;	/* the next change waits less */
		s->hurry = 0;
	}
}

/* §7.7 */
static void
process_ack(struct ssp *s, uint64_t a)
{
	size_t i, j;

	for (i = 0; i < s->nsent; i++) {
		if (s->sent[i].num == a) {
			break;
		}
	}
	if (i == s->nsent) {
		return;		/* pruned or never sent: ignore */
	}
	for (i = 0, j = 0; i < s->nsent; i++) {
		if (s->sent[i].num < a) {
			tstate_free(s->cfg.mine, &s->sent[i]);
		} else {
			s->sent[j++] = s->sent[i];
		}
	}
	for (i = j; i < s->nsent; i++) {
		s->sent[i].st = NULL;
	}
	s->nsent = j;
	s->assumed = 0;		/* recomputed before any use */
}

static size_t
recv_find(const struct ssp *s, uint64_t num)
{
	size_t i;

	for (i = 0; i < s->nrecv; i++) {
		if (s->recv[i].num == num) {
			return i;
		}
	}
	return SIZE_MAX;
}

/* §7.9 steps 1-12 for one complete instruction. */
static int
receive(struct ssp *s, const struct ssp_inst *in, uint64_t now)
{
	const struct ssp_ops *o = s->cfg.remote;
	size_t i, j, ref, n0;
	void *st;

	if (in->version != SSP_PROTOCOL_VERSION) {
		s->stats.bad_version++;
		return SSP_EVERSION;
	}
	process_ack(s, in->ack_num);
	if (recv_find(s, in->new_num) != SIZE_MAX) {
		s->stats.dup++;
		return 1;
	}
	if ((ref = recv_find(s, in->old_num)) == SIZE_MAX) {
		s->stats.unknown_old++;
		return 1;	/* the sender retries from an older base */
	}
	if (in->throwaway_num > in->old_num) {
		s->stats.bad_nums++;	/* would throw the base away */
		return 1;
	}
	/* build the new state first, so a bad diff changes nothing */
	if ((st = o->copy(s->recv[ref].st)) == NULL) {
		s->stats.oom++;
		return 1;
	}
	if (in->diff_len > 0 && o->apply(st, in->diff, in->diff_len) == -1) {
		o->free(st);
		s->stats.bad_diff++;
		return 1;
	}
	/* throwaway: forget states the sender will never use again */
	n0 = s->nrecv;
	for (i = 0, j = 0; i < s->nrecv; i++) {
		if (s->recv[i].num < in->throwaway_num) {
			tstate_free(o, &s->recv[i]);
		} else {
			s->recv[j++] = s->recv[i];
		}
	}
	for (i = j; i < s->nrecv; i++) {
		s->recv[i].st = NULL;
	}
	s->nrecv = j;
	if (j != n0) {
		recv_measure(s, 0, 0);	/* the new first stands alone */
	}
	if (s->nrecv > SSP_RECV_MAX) {
		if (now < s->quench || s->nrecv >= SSP_RECV_CAP) {
			o->free(st);
			s->stats.quenched++;
			return 1;
		}
		s->quench = now + SSP_RECV_QUENCH;
	}
	for (i = 0; i < s->nrecv; i++) {
		if (s->recv[i].num > in->new_num) {
			break;
		}
	}
	if (i != s->nrecv && recv_late(s) >= SSP_RECV_LATE_MAX) {
		o->free(st);
		s->stats.late++;
		return 1;
	}
	memmove(&s->recv[i + 1], &s->recv[i],
	    (s->nrecv - i) * sizeof(s->recv[0]));
	s->recv[i].ts = now;
	s->recv[i].num = in->new_num;
	s->recv[i].st = st;
	s->recv[i].late = i != s->nrecv;
	s->nrecv++;
	recv_measure(s, i, 1);
	if (i + 1 != s->nrecv) {
		recv_measure(s, i + 1, 0);
	}
	/* where the base is now (it was found before the throwaway) */
	if ((ref = recv_find(s, in->old_num)) == SIZE_MAX) {
		ref = i;	/* cannot be: throwaway_num <= old_num */
	}
	if (recv_budget(s, &i, ref) == -1) {
		return 1;
	}
	if (i + 1 != s->nrecv) {
		s->stats.out_of_order++;	/* stored, neither acked nor heard */
		return 1;
	}
	s->ack_num = in->new_num;
	s->last_heard = now;
	s->heard = 1;
	if (in->diff_len > 0) {
		s->pending_data_ack = 1;
	}
	return 1;
}

int
ssp_recv(struct ssp *s, const uint8_t *p, size_t len, uint64_t now)
{
	struct ssp_frag f;
	struct ssp_inst in;
	int r;

	if (ssp_frag_parse(p, len, &f) == -1) {
		s->stats.bad_frag++;
		return -1;
	}
	r = ssp_asm_add(&s->as, &f, &s->z);
	if (r == -1) {
		s->stats.bad_frag++;
		return -1;
	}
	if (r == 0) {
		return 0;
	}
	if (ssp_inflate(s->z.p, s->z.len, &s->pb) == -1) {
		s->stats.bad_zlib++;
		return -1;
	}
	if (ssp_inst_decode(s->pb.p, s->pb.len, &in) == -1) {
		s->stats.bad_pb++;
		return -1;
	}
	r = receive(s, &in, now);
	if (s->pb.cap > 65536) {
		buf_free(&s->pb);	/* in and its diff are done with */
	}
	if (s->z.cap > 65536) {
		buf_free(&s->z);
	}
	return r;
}

int
ssp_unsent(const struct ssp *s)
{
	const struct ssp_ops *o = s->cfg.mine;

	return !o->equal(s->cur, s->sent[s->nsent - 1].st);
}

void
ssp_hurry(struct ssp *s)
{
	s->hurry = ssp_unsent(s);
}

void *
ssp_current(struct ssp *s)
{
	return s->cur;
}

int
ssp_set_current(struct ssp *s, const void *st)
{
	void *c;

	if ((c = s->cfg.mine->copy(st)) == NULL) {
		return -1;
	}
	s->cfg.mine->free(s->cur);
	s->cur = c;
	return 0;
}

const void *
ssp_remote(const struct ssp *s)
{
	return s->recv[s->nrecv - 1].st;
}

uint64_t
ssp_remote_num(const struct ssp *s)
{
	return s->recv[s->nrecv - 1].num;
}

uint64_t
ssp_acked_num(const struct ssp *s)
{
	return s->sent[0].num;
}

uint64_t
ssp_remote_ts(const struct ssp *s)
{
	return s->nrecv > 0 ? s->recv[s->nrecv - 1].ts : 0;
}

uint64_t
ssp_acked_ts(const struct ssp *s)
{
	return s->sent[0].ts;
}

uint64_t
ssp_sent_num(const struct ssp *s)
{
	return s->sent[s->nsent - 1].num;
}

void
ssp_start_shutdown(struct ssp *s, uint64_t now)
{
	if (!s->shutdown) {
		s->shutdown = 1;
		s->shutdown_start = now;
	}
}

int
ssp_shutdown_in_progress(const struct ssp *s)
{
	return s->shutdown;
}

int
ssp_shutdown_acked(const struct ssp *s)
{
	return s->sent[0].num == SSP_SHUTDOWN_NUM;
}

int
ssp_shutdown_timed_out(const struct ssp *s, uint64_t now)
{
	return s->shutdown && (s->shutdown_tries >= SSP_SHUTDOWN_RETRIES ||
	    now - s->shutdown_start >= SSP_ACTIVE_RETRY_TIMEOUT);
}

int
ssp_counterparty_shutdown_ack_sent(const struct ssp *s)
{
	return s->last_ack_sent == SSP_SHUTDOWN_NUM;
}

int
ssp_remote_diff(struct ssp *s, struct buf *out)
{
	const struct ssp_ops *o = s->cfg.remote;
	void *back = s->recv[s->nrecv - 1].st, *c;
	size_t i;
	int r;

	out->len = 0;
	r = o->diff(s->last_seen, back, out);
	if (r == -1) {
		out->len = 0;
		s->stats.bad_diff++;
	}
	if (o->subtract != NULL) {
		for (i = s->nrecv; i-- > 0;) {
			o->subtract(s->recv[i].st, s->recv[0].st);
		}
	}
	if ((c = o->copy(back)) == NULL) {
		s->stats.oom++;
		return -1;
	}
	o->free(s->last_seen);
	s->last_seen = c;
	return r;
}

int
ssp_user_take(struct ssp *s, struct ssp_user *out)
{
	if (s->cfg.remote != &ssp_user_ops) {
		return -1;
	}
	if (ssp_remote_diff(s, &s->d2) == -1) {
		return -1;
	}
	return user_apply_msg(&out->b, s->d2.p, s->d2.len, SIZE_MAX);
}
