/*
 * ocb.c: AES-128-OCB3 (RFC 7253) with a 128-bit tag and a 96-bit nonce, the
 * only mode Mosh speaks (protocol.md §2), and the 22-character printable
 * session key (protocol.md §1).
 *
 * AES is BearSSL's, constant-time only: aes_x86ni when the CPU has AES-NI,
 * else the bitsliced aes_ct64 on 64-bit hosts and aes_ct on 32-bit ones
 * (ct64 works on 64-bit words, two instructions each on a 32-bit CPU).
 * BearSSL offers modes, not ECB. With AES-NI, one block E(X) is a one-block
 * CBC encryption with a zero IV. The software AES instead calls BearSSL's
 * bitsliced core, which encrypts four (ct64) or two (ct) independent blocks
 * at the cost of one: seal first XORs every full block with its offset and
 * then encrypts them all together (encn). The full blocks of a message are
 * decrypted by one CBC decryption per 128 blocks, and CBC's chaining is then
 * undone with the saved ciphertext (the XOR of two neighbouring offsets is
 * an L value, so no offset needs to be stored).
 *
 * Invariants: L values, offsets, checksums and pads are secret. Doubling in
 * GF(2^128) uses a mask, never a branch; no table is indexed by a secret
 * (ntz of a block number and the nonce bits are public). The tag check ORs
 * XORs and tests once. ocb_open writes plaintext while it computes the
 * checksum, and zeroes all of it when the tag does not match. Secrets on
 * the stack are wiped before returning. No I/O, malloc, errno or logging.
 */
#include "mosh.h"

/*
 * Blocks per CBC decryption call in ocb_open and per encn call in ocb_seal
 * and hash_ad: 2 KB, so any Mosh datagram takes one call. ocb_open copies
 * the chunk's ciphertext to the stack (public); the others build their
 * blocks there (secret, wiped).
 */
#define OCB_CHUNK 128

/*
 * The software AES of a host without AES-NI: ct64 where registers hold 64
 * bits, else ct, as BearSSL itself chooses.
 */
#if UINTPTR_MAX > 0xffffffffu
#define OCB_IMPL_SOFT OCB_IMPL_CT64
#else
#define OCB_IMPL_SOFT OCB_IMPL_CT
#endif

#ifdef OCB_BEARSSL_CORE
/*
 * BearSSL's bitsliced AES cores. libbearssl exports them, but only its
 * internal header declares them, so these declarations follow the version
 * the Makefile found (0.6) and it defines OCB_BEARSSL_CORE for no other;
 * without it every block goes through the public CBC interface instead.
 * ct64: block j of four sits in q[j] and q[j + 4] after interleave_in of
 * its little-endian words, then ortho transposes all eight words to bit
 * planes and back. ct: block j of two sits in q[j], q[j + 2], q[j + 4] and
 * q[j + 6]. keysched gives the compressed schedule, skey_expand the one the
 * core reads (120 words either way, 10 rounds for a 128-bit key).
 */
unsigned br_aes_ct64_keysched(uint64_t *comp, const void *key, size_t len);
void br_aes_ct64_skey_expand(uint64_t *sk, unsigned rounds,
    const uint64_t *comp);
void br_aes_ct64_interleave_in(uint64_t *q0, uint64_t *q1, const uint32_t *w);
void br_aes_ct64_interleave_out(uint32_t *w, uint64_t q0, uint64_t q1);
void br_aes_ct64_ortho(uint64_t *q);
void br_aes_ct64_bitslice_encrypt(unsigned rounds, const uint64_t *sk,
    uint64_t *q);
unsigned br_aes_ct_keysched(uint32_t *comp, const void *key, size_t len);
void br_aes_ct_skey_expand(uint32_t *sk, unsigned rounds,
    const uint32_t *comp);
void br_aes_ct_ortho(uint32_t *q);
void br_aes_ct_bitslice_encrypt(unsigned rounds, const uint32_t *sk,
    uint32_t *q);
#endif

/*
 * d = a ^ b (and d = a ^ b ^ c) on 16-byte blocks; any of them may be the
 * same. With GCC or clang a block is one vector, so each is a single 16-byte
 * load or store even at -Os: BearSSL reads its IV and data that way, and a
 * 16-byte load from two 8-byte stores would wait for them to retire.
 */
#if defined(__GNUC__) || defined(__clang__)
typedef uint64_t ocb_v128 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) void
xor16(uint8_t *d, const uint8_t *a, const uint8_t *b)
{
	ocb_v128 x, y;

	memcpy(&x, a, 16);
	memcpy(&y, b, 16);
	x ^= y;
	memcpy(d, &x, 16);
}

static inline __attribute__((always_inline)) void
xor16_3(uint8_t *d, const uint8_t *a, const uint8_t *b, const uint8_t *c)
{
	ocb_v128 x, y, z;

	memcpy(&x, a, 16);
	memcpy(&y, b, 16);
	memcpy(&z, c, 16);
	x ^= y ^ z;
	memcpy(d, &x, 16);
}
#else
static void
xor16(uint8_t *d, const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	a0 ^= b0;
	a1 ^= b1;
	memcpy(d, &a0, 8);
	memcpy(d + 8, &a1, 8);
}

static void
xor16_3(uint8_t *d, const uint8_t *a, const uint8_t *b, const uint8_t *c)
{
	uint8_t t[16];

	xor16(t, a, b);
	xor16(d, t, c);
}
#endif

/* Number of trailing zero bits of a block number (public, never 0). */
static inline unsigned
ntz(uint64_t i)
{
#if defined(__GNUC__) || defined(__clang__)
	return (unsigned)__builtin_ctzll(i);
#else
	unsigned n = 0;

	while ((i & 1) == 0) {
		i >>= 1;
		n++;
	}
	return n;
#endif
}

/* d = double(s) in GF(2^128), big-endian, without a secret branch. */
static void
gf_double(uint8_t d[16], const uint8_t s[16])
{
	unsigned carry = 0u - (unsigned)(s[0] >> 7);
	int i;

	for (i = 0; i < 15; i++) {
		d[i] = (uint8_t)((s[i] << 1) | (s[i + 1] >> 7));
	}
	d[15] = (uint8_t)((s[15] << 1) ^ (carry & 0x87));
}

/* blk = E(blk ^ iv); iv is scratch (BearSSL leaves the output there). */
static inline void
enc1(const struct ocb *o, uint8_t iv[16], uint8_t blk[16])
{
	o->enc.vtable->run(&o->enc.vtable, iv, blk, 16);
}

#ifdef OCB_BEARSSL_CORE
static inline uint32_t
ld32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline void
st32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* w = E(w) for the four blocks in w (little-endian words), with ct64. */
static void
core_ct64(const struct ocb *o, uint32_t w[16])
{
	uint64_t q[8];
	int j;

	for (j = 0; j < 4; j++) {
		br_aes_ct64_interleave_in(&q[j], &q[j + 4], w + j * 4);
	}
	br_aes_ct64_ortho(q);
	br_aes_ct64_bitslice_encrypt(o->rounds, o->bs.w64, q);
	br_aes_ct64_ortho(q);
	for (j = 0; j < 4; j++) {
		br_aes_ct64_interleave_out(w + j * 4, q[j], q[j + 4]);
	}
	explicit_bzero(q, sizeof(q));
}

/* The same for the two blocks in w, with ct (word k of block j: q[2k+j]). */
static void
core_ct(const struct ocb *o, uint32_t w[8])
{
	uint32_t q[8];
	int j;

	for (j = 0; j < 8; j++) {
		q[(j % 4) * 2 + j / 4] = w[j];
	}
	br_aes_ct_ortho(q);
	br_aes_ct_bitslice_encrypt(o->rounds, o->bs.w32, q);
	br_aes_ct_ortho(q);
	for (j = 0; j < 8; j++) {
		w[j] = q[(j % 4) * 2 + j / 4];
	}
	explicit_bzero(q, sizeof(q));
}

/*
 * b = E(b) for n blocks on the core, as many per call as it takes (four or
 * two); a short last group is padded with zero blocks.
 */
static void
encn_core(const struct ocb *o, uint8_t *b, size_t n)
{
	uint32_t w[16];
	size_t i, j, g, per = o->impl == OCB_IMPL_CT64 ? 4 : 2;

	for (i = 0; i < n; i += g, b += g * 16) {
		g = MIN(n - i, per);
		memset(w, 0, sizeof(w));
		for (j = 0; j < g * 4; j++) {
			w[j] = ld32le(b + j * 4);
		}
		if (per == 4) {
			core_ct64(o, w);
		} else {
			core_ct(o, w);
		}
		for (j = 0; j < g * 4; j++) {
			st32le(b + j * 4, w[j]);
		}
	}
	explicit_bzero(w, sizeof(w));
}
#endif

/* b = E(b) for n independent blocks (n is public). */
static void
encn(const struct ocb *o, uint8_t *b, size_t n)
{
	uint8_t iv[16];
	size_t i;

#ifdef OCB_BEARSSL_CORE
	if (o->rounds != 0) {
		encn_core(o, b, n);
		return;
	}
#endif
	for (i = 0; i < n; i++) {
		memset(iv, 0, sizeof(iv));
		enc1(o, iv, b + i * 16);
	}
	explicit_bzero(iv, sizeof(iv));
}

/*
 * The bitsliced core's round keys for the software AES, expanded once per
 * key. Nothing to do for AES-NI or without the core.
 */
static void
bs_init(struct ocb *o, const uint8_t key[OCB_KEY_LEN])
{
#ifdef OCB_BEARSSL_CORE
	union {
		uint64_t w64[30];
		uint32_t w32[60];
	} comp;

	if (o->impl == OCB_IMPL_CT64) {
		o->rounds = br_aes_ct64_keysched(comp.w64, key, OCB_KEY_LEN);
		br_aes_ct64_skey_expand(o->bs.w64, o->rounds, comp.w64);
	} else if (o->impl == OCB_IMPL_CT) {
		o->rounds = br_aes_ct_keysched(comp.w32, key, OCB_KEY_LEN);
		br_aes_ct_skey_expand(o->bs.w32, o->rounds, comp.w32);
	}
	explicit_bzero(&comp, sizeof(comp));
#else
	(void)o;
	(void)key;
#endif
}

int
ocb_init_impl(struct ocb *o, const uint8_t key[OCB_KEY_LEN], int impl)
{
	/*
	 * Through the vtables only: where BearSSL was built without AES-NI
	 * support the aes_x86ni functions do not exist, only the getters.
	 */
	const br_block_cbcenc_class *ev = br_aes_x86ni_cbcenc_get_vtable();
	const br_block_cbcdec_class *dv = br_aes_x86ni_cbcdec_get_vtable();
	int i;

	memset(o, 0, sizeof(*o));
	if (impl == OCB_IMPL_AUTO) {
		impl = ev != NULL && dv != NULL ? OCB_IMPL_X86NI :
		    OCB_IMPL_SOFT;
	}
	if (impl == OCB_IMPL_CT64) {
		ev = &br_aes_ct64_cbcenc_vtable;
		dv = &br_aes_ct64_cbcdec_vtable;
	} else if (impl == OCB_IMPL_CT) {
		ev = &br_aes_ct_cbcenc_vtable;
		dv = &br_aes_ct_cbcdec_vtable;
	} else if (impl != OCB_IMPL_X86NI) {
		return -1;
	}
	if (ev == NULL || dv == NULL || ev->context_size > sizeof(o->enc) ||
	    dv->context_size > sizeof(o->dec)) {
		return -1;
	}
	ev->init(&o->enc.vtable, key, OCB_KEY_LEN);
	dv->init(&o->dec.vtable, key, OCB_KEY_LEN);
	o->impl = impl;
	bs_init(o, key);

	encn(o, o->lstar, 1);	/* L_* = E(0^128) */
	gf_double(o->ldollar, o->lstar);
	gf_double(o->l[0], o->ldollar);
	for (i = 1; i < OCB_L_COUNT; i++) {
		gf_double(o->l[i], o->l[i - 1]);
	}
	return 0;
}

int
ocb_init(struct ocb *o, const uint8_t key[OCB_KEY_LEN])
{
	return ocb_init_impl(o, key, OCB_IMPL_AUTO);
}

const char *
ocb_impl_name(const struct ocb *o)
{
	if (o->impl == OCB_IMPL_X86NI) {
		return "aes_x86ni";
	}
	return o->impl == OCB_IMPL_CT ? "aes_ct" : "aes_ct64";
}

void
ocb_wipe(struct ocb *o)
{
	explicit_bzero(o, sizeof(*o));
}

/*
 * Offset_0 from the nonce (RFC 7253 §4.2 with TAGLEN 128 and a 96-bit N):
 * Nonce = 0^31 || 1 || N, Ktop = E(Nonce with its low 6 bits cleared),
 * Stretch = Ktop || (Ktop[0..7] ^ Ktop[1..8]), Offset_0 = Stretch bits
 * [bottom, bottom + 128). The shift depends on the nonce only.
 */
static void
nonce_offset(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    uint8_t off[16])
{
	uint8_t st[24];
	unsigned bottom, bs, bb;
	int i;

	st[0] = st[1] = st[2] = 0;
	st[3] = 1;
	memcpy(st + 4, nonce, OCB_NONCE_LEN);
	bottom = st[15] & 0x3fu;
	st[15] &= 0xc0u;
	encn(o, st, 1);
	for (i = 0; i < 8; i++) {
		st[16 + i] = st[i] ^ st[i + 1];
	}
	bs = bottom / 8;
	bb = bottom % 8;
	for (i = 0; i < 16; i++) {
		off[i] = (uint8_t)((st[i + bs] << bb) |
		    (st[i + bs + 1] >> (8 - bb)));
	}
	explicit_bzero(st, sizeof(st));
}

/*
 * b_k = in_k ^ Offset_i+k+1 for the n full blocks of a chunk that starts
 * after block i, off going from Offset_i to Offset_i+n; sum (if not NULL)
 * gets the XOR of the in_k.
 */
static void
mask_chunk(const struct ocb *o, uint64_t i, size_t n, const uint8_t *in,
    uint8_t *b, uint8_t off[16], uint8_t *sum)
{
	size_t k;

	for (k = 0; k < n; k++) {
		xor16(off, off, o->l[ntz(i + k + 1)]);
		if (sum != NULL) {
			xor16(sum, sum, in + k * 16);
		}
		xor16(b + k * 16, in + k * 16, off);
	}
}

/* sum = HASH(K, A) (RFC 7253 §4.1); zero for empty A. */
static void
hash_ad(const struct ocb *o, const uint8_t *ad, size_t adlen, uint8_t sum[16])
{
	uint8_t b[OCB_CHUNK * 16], off[16];
	uint64_t i, m = adlen / 16;
	size_t k, n, rem = adlen % 16;

	memset(sum, 0, 16);
	if (adlen == 0) {
		return;
	}
	memset(off, 0, sizeof(off));
	for (i = 0; i < m; i += n, ad += n * 16) {
		n = (size_t)MIN(m - i, OCB_CHUNK);
		mask_chunk(o, i, n, ad, b, off, NULL);
		encn(o, b, n);
		for (k = 0; k < n; k++) {
			xor16(sum, sum, b + k * 16);
		}
	}
	if (rem != 0) {
		xor16(off, off, o->lstar);
		memset(b, 0, 16);
		memcpy(b, ad, rem);
		b[rem] = 0x80;
		xor16(b, b, off);
		encn(o, b, 1);
		xor16(sum, sum, b);
	}
	explicit_bzero(off, sizeof(off));
	explicit_bzero(b, sizeof(b));
}

void
ocb_seal(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
    uint8_t *out)
{
	uint8_t b[(OCB_CHUNK + 1) * 16];
	uint8_t off[16], off0[16], sum[16], blk[16], hash[16];
	uint8_t *pad;
	uint64_t i = 0, m = len / 16;
	size_t j, k, n, rem = len % 16;

	hash_ad(o, ad, adlen, hash);	/* first: ad may overlap out */
	nonce_offset(o, nonce, off);
	memset(sum, 0, sizeof(sum));
	do {
		/*
		 * C_k = Offset_k ^ E(P_k ^ Offset_k), all blocks of the chunk
		 * encrypted together; after the last full block comes
		 * Offset_* for the pad of a partial one. out_k is written
		 * only after in_k is read, so out may be in or below it.
		 */
		n = (size_t)MIN(m - i, OCB_CHUNK);
		memcpy(off0, off, 16);
		mask_chunk(o, i, n, in, b, off, sum);
		pad = b + n * 16;
		k = n;
		if (i + n == m && rem != 0) {
			xor16(off, off, o->lstar);
			memcpy(pad, off, 16);
			k++;
		}
		encn(o, b, k);
		for (k = 0; k < n; k++) {
			xor16(off0, off0, o->l[ntz(i + k + 1)]);
			xor16(out + k * 16, b + k * 16, off0);
		}
		i += n;
		in += n * 16;
		out += n * 16;
	} while (i < m);
	if (rem != 0) {
		/* C_* = P_* ^ E(Offset_*), checksum gets P_* || 10* */
		memset(blk, 0, sizeof(blk));
		for (j = 0; j < rem; j++) {
			blk[j] = in[j];
			out[j] = in[j] ^ pad[j];
		}
		blk[rem] = 0x80;
		xor16(sum, sum, blk);
		out += rem;
	}
	/* Tag = E(Checksum ^ Offset ^ L_$) ^ HASH(K, A) */
	xor16_3(blk, sum, off, o->ldollar);
	encn(o, blk, 1);
	xor16(out, blk, hash);

	explicit_bzero(b, sizeof(b));
	explicit_bzero(off, sizeof(off));
	explicit_bzero(off0, sizeof(off0));
	explicit_bzero(sum, sizeof(sum));
	explicit_bzero(blk, sizeof(blk));
	explicit_bzero(hash, sizeof(hash));
}

int
ocb_open(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
    uint8_t *out)
{
	void (*drun)(const br_block_cbcdec_class *const *, void *, void *,
	    size_t) = o->dec.vtable->run;
	uint8_t c[OCB_CHUNK * 16];
	uint8_t off[16], sum[16], blk[16], iv[16], hash[16];
	uint8_t *out0 = out;
	const uint8_t *tag;
	uint64_t i, m, n, k;
	size_t j, rem, plen;
	unsigned diff;
	int r = -1;

	if (len < OCB_TAG_LEN) {
		return -1;
	}
	plen = len - OCB_TAG_LEN;
	tag = in + plen;
	m = plen / 16;
	rem = plen % 16;

	hash_ad(o, ad, adlen, hash);	/* first: ad may overlap out */
	nonce_offset(o, nonce, off);
	memset(sum, 0, sizeof(sum));
	for (i = 0; i < m; i += n) {
		/*
		 * Y_k = C_k ^ Offset_k into out, then CBC-decrypt with
		 * Offset of the first block as the IV: out_0 = P_0 and
		 * out_k = D(Y_k) ^ Y_k-1 = P_k ^ C_k-1 ^ L_ntz(k) for k > 0.
		 * c keeps the ciphertext, which out == in overwrites.
		 */
		n = MIN(m - i, OCB_CHUNK);
		memcpy(c, in, (size_t)n * 16);
		for (k = 0; k < n; k++) {
			xor16(off, off, o->l[ntz(i + k + 1)]);
			if (k == 0) {
				memcpy(iv, off, 16);
			}
			xor16(out + k * 16, c + k * 16, off);
		}
		drun(&o->dec.vtable, iv, out, (size_t)n * 16);
		xor16(sum, sum, out);
		for (k = 1; k < n; k++) {
			xor16_3(out + k * 16, out + k * 16, c + (k - 1) * 16,
			    o->l[ntz(i + k + 1)]);
			xor16(sum, sum, out + k * 16);
		}
		in += n * 16;
		out += n * 16;
	}
	if (rem != 0) {
		xor16(off, off, o->lstar);
		memcpy(blk, off, 16);
		encn(o, blk, 1);
		memset(iv, 0, sizeof(iv));
		for (j = 0; j < rem; j++) {
			out[j] = in[j] ^ blk[j];
			iv[j] = out[j];
		}
		iv[rem] = 0x80;
		xor16(sum, sum, iv);
	}
	xor16_3(blk, sum, off, o->ldollar);
	encn(o, blk, 1);
	xor16(blk, blk, hash);

	/* Constant-time tag check: OR of the XORs, one test. */
	diff = 0;
	for (j = 0; j < 16; j++) {
		diff |= (unsigned)(blk[j] ^ tag[j]);
	}
	if (diff == 0) {
		r = 0;
	} else if (plen != 0) {
		explicit_bzero(out0, plen);
	}

	explicit_bzero(off, sizeof(off));
	explicit_bzero(sum, sizeof(sum));
	explicit_bzero(blk, sizeof(blk));
	explicit_bzero(iv, sizeof(iv));
	explicit_bzero(hash, sizeof(hash));
	return r;
}

/* ---- printable key: base64 without a table, so without secret indices */

/* All ones if lo <= c <= hi, else 0 (c, lo, hi < 256). */
static unsigned
in_range(unsigned c, unsigned lo, unsigned hi)
{
	unsigned ge = 1u ^ ((c - lo) >> 31);
	unsigned le = 1u ^ ((hi - c) >> 31);

	return 0u - (ge & le);
}

/* The 6-bit value of a base64 character; *bad gets 1 if c is not one. */
static unsigned
b64_val(unsigned c, unsigned *bad)
{
	unsigned v = 0, ok = 0, mk;

	mk = in_range(c, 'A', 'Z');
	v |= mk & (c - 'A');
	ok |= mk;
	mk = in_range(c, 'a', 'z');
	v |= mk & (c - 'a' + 26);
	ok |= mk;
	mk = in_range(c, '0', '9');
	v |= mk & (c - '0' + 52);
	ok |= mk;
	mk = in_range(c, '+', '+');
	v |= mk & 62u;
	ok |= mk;
	mk = in_range(c, '/', '/');
	v |= mk & 63u;
	ok |= mk;
	*bad |= ~ok & 1u;
	return v & 63u;
}

/* The base64 character of a 6-bit value. */
static char
b64_char(unsigned v)
{
	unsigned c = v + 'A';

	c += ((25u - v) >> 8) & 6u;	/* 26..: 'a' */
	c -= ((51u - v) >> 8) & 75u;	/* 52..: '0' */
	c -= ((61u - v) >> 8) & 15u;	/* 62: '+' */
	c += ((62u - v) >> 8) & 3u;	/* 63: '/' */
	return (char)c;
}

int
ocb_key_parse(const char *s, uint8_t key[OCB_KEY_LEN], const char **err)
{
	uint32_t acc = 0;
	unsigned bad = 0, v = 0;
	const char *e = NULL;
	int i, n = 0;

	memset(key, 0, OCB_KEY_LEN);
	if (s == NULL || strlen(s) != OCB_KEY_PRINTABLE_LEN) {
		e = "Key must be 22 letters long.";
		goto out;
	}
	for (i = 0; i < OCB_KEY_PRINTABLE_LEN; i++) {
		v = b64_val((unsigned char)s[i], &bad);
		acc = (acc << 6) | v;
		if (i % 4 == 3) {
			key[n++] = (uint8_t)(acc >> 16);
			key[n++] = (uint8_t)(acc >> 8);
			key[n++] = (uint8_t)acc;
			acc = 0;
		}
	}
	/* 2 characters left: 8 key bits and 4 bits that must be zero. */
	key[n] = (uint8_t)(acc >> 4);
	if (bad != 0) {
		e = "Key must be well-formed base64.";
	} else if ((acc & 0xfu) != 0) {
		e = "Base64 key was not encoded 128-bit key.";
	}
out:
	explicit_bzero(&acc, sizeof(acc));
	explicit_bzero(&v, sizeof(v));
	if (e != NULL) {
		explicit_bzero(key, OCB_KEY_LEN);
		if (err != NULL) {
			*err = e;
		}
		return -1;
	}
	return 0;
}

void
ocb_key_format(const uint8_t key[OCB_KEY_LEN],
    char out[OCB_KEY_PRINTABLE_LEN + 1])
{
	uint32_t acc;
	int i;

	for (i = 0; i < 5; i++) {
		acc = (uint32_t)key[3 * i] << 16 |
		    (uint32_t)key[3 * i + 1] << 8 | key[3 * i + 2];
		out[4 * i] = b64_char(acc >> 18 & 63u);
		out[4 * i + 1] = b64_char(acc >> 12 & 63u);
		out[4 * i + 2] = b64_char(acc >> 6 & 63u);
		out[4 * i + 3] = b64_char(acc & 63u);
	}
	out[20] = b64_char((unsigned)key[15] >> 2);
	out[21] = b64_char(((unsigned)key[15] << 4) & 63u);
	out[22] = '\0';
	explicit_bzero(&acc, sizeof(acc));
}
