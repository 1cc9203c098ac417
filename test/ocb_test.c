/*
 * ocb_test.c: AES-128-OCB3 and the printable key, checked against
 *   - the RFC 7253 Appendix A vectors and its iterative TAGLEN=128 check;
 *   - every datagram of the captured Mosh 1.4.0 sessions (decrypt, compare
 *     with the recorded plaintext, re-encrypt to the recorded bytes);
 *   - every single-bit flip of several datagrams (rejected, output wiped);
 *   - OpenSSL's EVP_aes_128_ocb on seeded random keys, nonces, lengths and
 *     associated data (10000 cases), long messages, every last nonce byte,
 *     in place, sliding down and on exact-size heap buffers;
 *   - test/vectors/keys.json, upstream's three error messages, and
 *     exhaustive last-character and alphabet cases.
 * Each AES implementation BearSSL has on this CPU (aes_x86ni, aes_ct64,
 * aes_ct) is run through all of it. python3 turns the JSON into lines of hex.
 */
#include "mosh.h"
#include "test/test.h"

#include <stdio.h>
#include <openssl/evp.h>

#define MAXHEX 70000	/* bytes of one decoded hex field */
#define LINE_MAX_LEN (4 * MAXHEX)

/*
 * One line per item, fields separated by spaces, "-" for an empty string:
 *   R key nonce ad plaintext ciphertext+tag     RFC 7253 case
 *   I key tag                                   iterative check
 *   D file index key raw plaintext|?            authentic datagram
 *   E file index key raw                        datagram with "error"
 *   K raw printable                             valid key
 *   X printable reason...                       invalid key
 */
static const char vectors_py[] =
    "import json\n"
    "h = lambda s: s if s else '-'\n"
    "d = json.load(open('test/vectors/ocb_rfc7253.json'))\n"
    "for c in d['cases']:\n"
    "    print('R', c['key'], c['nonce'], h(c['associated_data']),\n"
    "          h(c['plaintext']), c['ciphertext_and_tag'])\n"
    "it = d['iterative_taglen128']\n"
    "print('I', it['key'], it['expected_tag'])\n"
    "for f in ['session1.json', 'session2.json', 'session3.json',\n"
    "          'session4-roaming.json']:\n"
    "    s = json.load(open('test/vectors/' + f))\n"
    "    for g in s['datagrams']:\n"
    "        if 'error' in g:\n"
    "            print('E', f, g['index'], s['key_hex'], g['raw_hex'])\n"
    "        else:\n"
    "            print('D', f, g['index'], s['key_hex'], g['raw_hex'],\n"
    "                  h(g.get('plaintext_hex', '?')))\n"
    "for k in json.load(open('test/vectors/keys.json'))['keys']:\n"
    "    if k['valid']:\n"
    "        print('K', k['raw_hex'], k['printable'])\n"
    "    else:\n"
    "        print('X', k['printable'], k['reason'])\n";

static const int impls[] = { OCB_IMPL_X86NI, OCB_IMPL_CT64, OCB_IMPL_CT };

static int n_rfc, n_dgram, n_dgram_pt, n_forged, n_keys, n_badkeys;
static long n_flips;

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Decode hex ("-" = empty) into out (cap bytes); length or -1. */
static long
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi, lo;

	if (strcmp(s, "-") == 0) {
		return 0;
	}
	for (; s[0] != '\0'; s += 2) {
		if (s[1] == '\0' || n >= cap) {
			return -1;
		}
		hi = hexval(s[0]);
		lo = hexval(s[1]);
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15) {
			return -1;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (long)n;
}

/* A small seeded generator (splitmix64), so every run is the same. */
static uint64_t rng_state = 0x6d6f73682d6f6362ull;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
rng_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		p[i] = (uint8_t)rng();
	}
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t acc = 0;

	for (i = 0; i < n; i++) {
		acc |= p[i];
	}
	return acc == 0;
}

/* OpenSSL's AES-128-OCB, 12-byte nonce, 16-byte tag: out gets len + 16. */
static int
ossl_seal(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *ad,
    size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok, n = 0, total = 0;

	ok = ctx != NULL &&
	    EVP_EncryptInit_ex(ctx, EVP_aes_128_ocb(), NULL, NULL, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, NULL) &&
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce);
	if (ok && adlen > 0) {
		ok = EVP_EncryptUpdate(ctx, NULL, &n, ad, (int)adlen);
	}
	if (ok && len > 0) {
		ok = EVP_EncryptUpdate(ctx, out, &n, in, (int)len);
		total = n;
	}
	ok = ok && EVP_EncryptFinal_ex(ctx, out + total, &n);
	total += n;
	ok = ok && (size_t)total == len &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void
test_rfc_case(char **f)
{
	static uint8_t key[16], nonce[12], ad[MAXHEX], pt[MAXHEX], ct[MAXHEX];
	static uint8_t got[MAXHEX + 16], buf[MAXHEX + 16];
	long kl, nl, al, pl, cl;
	struct ocb o;
	size_t i;

	kl = unhex(f[1], key, sizeof(key));
	nl = unhex(f[2], nonce, sizeof(nonce));
	al = unhex(f[3], ad, sizeof(ad));
	pl = unhex(f[4], pt, sizeof(pt));
	cl = unhex(f[5], ct, sizeof(ct));
	CHECK(kl == 16 && nl == 12 && al >= 0 && pl >= 0 && cl == pl + 16);
	if (kl != 16 || nl != 12 || al < 0 || pl < 0 || cl != pl + 16) {
		return;
	}
	for (i = 0; i < LEN(impls); i++) {
		if (ocb_init_impl(&o, key, impls[i]) != 0) {
			continue;
		}
		ocb_seal(&o, nonce, ad, (size_t)al, pt, (size_t)pl, got);
		CHECK_MEM(got, (size_t)cl, ct, (size_t)cl);
		memset(buf, 0xa5, sizeof(buf));
		CHECK(ocb_open(&o, nonce, ad, (size_t)al, ct, (size_t)cl,
		    buf) == 0);
		CHECK_MEM(buf, (size_t)pl, pt, (size_t)pl);
		/* other associated data must not authenticate */
		if (al > 0) {
			ad[0] ^= 1;
			CHECK(ocb_open(&o, nonce, ad, (size_t)al, ct,
			    (size_t)cl, buf) == -1);
			CHECK(all_zero(buf, (size_t)pl));
			ad[0] ^= 1;
			CHECK(ocb_open(&o, nonce, NULL, 0, ct, (size_t)cl,
			    buf) == -1);
		} else {
			CHECK(ocb_open(&o, nonce, ct, 1, ct, (size_t)cl,
			    buf) == -1);
		}
		CHECK(all_zero(buf, (size_t)pl));
		ocb_wipe(&o);
	}
	n_rfc++;
}

/* RFC 7253 Appendix A, the iterative test for one TAGLEN (128). */
static void
test_iterative(char **f)
{
	static uint8_t c[30000];
	uint8_t key[16], want[16], s[128], nonce[12], tag[16];
	struct ocb o;
	size_t clen, i, k;
	long kl, wl;

	kl = unhex(f[1], key, sizeof(key));
	wl = unhex(f[2], want, sizeof(want));
	CHECK(kl == 16 && wl == 16);
	memset(s, 0, sizeof(s));
	for (k = 0; k < LEN(impls); k++) {
		if (ocb_init_impl(&o, key, impls[k]) != 0) {
			continue;
		}
		clen = 0;
		for (i = 0; i < 128; i++) {
			memset(nonce, 0, sizeof(nonce));
			nonce[10] = (uint8_t)((3 * i + 1) >> 8);
			nonce[11] = (uint8_t)(3 * i + 1);
			ocb_seal(&o, nonce, s, i, s, i, c + clen);
			clen += i + 16;
			nonce[10] = (uint8_t)((3 * i + 2) >> 8);
			nonce[11] = (uint8_t)(3 * i + 2);
			ocb_seal(&o, nonce, NULL, 0, s, i, c + clen);
			clen += i + 16;
			nonce[10] = (uint8_t)((3 * i + 3) >> 8);
			nonce[11] = (uint8_t)(3 * i + 3);
			ocb_seal(&o, nonce, s, i, NULL, 0, c + clen);
			clen += 16;
		}
		memset(nonce, 0, sizeof(nonce));
		nonce[10] = 385 >> 8;
		nonce[11] = 385 & 0xff;
		ocb_seal(&o, nonce, c, clen, NULL, 0, tag);
		CHECK(clen == 22400);
		CHECK_MEM(tag, sizeof(tag), want, sizeof(want));
		ocb_wipe(&o);
	}
}

/*
 * Datagram: nonce = 00000000 || raw[0..8), ciphertext + tag = raw[8..).
 * Returns 0 if it authenticates (pt gets len - 24 bytes), else -1.
 */
static int
open_dgram(const struct ocb *o, const uint8_t *raw, size_t len, uint8_t *pt)
{
	uint8_t nonce[12];

	if (len < 24) {
		return -1;
	}
	memset(nonce, 0, 4);
	memcpy(nonce + 4, raw, 8);
	return ocb_open(o, nonce, NULL, 0, raw + 8, len - 8, pt);
}

/* Every single-bit flip of raw must fail and leave pt all zeros. */
static void
test_flips(const struct ocb *o, const uint8_t *raw, size_t len,
    const char *name)
{
	static uint8_t copy[4096], pt[4096];
	size_t bit, bad = 0;

	if (len > sizeof(copy) || len < 24) {
		CHECK(!"datagram size");
		return;
	}
	memcpy(copy, raw, len);
	for (bit = 0; bit < len * 8; bit++) {
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(pt, 0xa5, sizeof(pt));
		if (open_dgram(o, copy, len, pt) != -1 ||
		    !all_zero(pt, len - 24)) {
			if (bad++ == 0) {
				fprintf(stderr, "%s: flip of bit %zu accepted "
				    "or not wiped\n", name, bit);
			}
		}
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		n_flips++;
	}
	CHECK(bad == 0);
	/* and the untouched copy still opens */
	CHECK(open_dgram(o, copy, len, pt) == 0);
}

static void
test_dgram(char **f, int forged)
{
	static uint8_t key[16], raw[4096], want[4096], pt[4096], re[4096];
	static uint8_t flipped_sizes[8];
	uint8_t nonce[12];
	struct ocb o;
	long kl, rl, wl = -1;
	size_t k, plen;
	char name[64];
	int opened;

	snprintf(name, sizeof(name), "%s #%s", f[1], f[2]);
	kl = unhex(f[3], key, sizeof(key));
	rl = unhex(f[4], raw, sizeof(raw));
	if (!forged && strcmp(f[5], "?") != 0) {
		wl = unhex(f[5], want, sizeof(want));
		CHECK(wl >= 0);
	}
	CHECK(kl == 16 && rl >= 0);
	if (kl != 16 || rl < 0) {
		return;
	}
	for (k = 0; k < LEN(impls); k++) {
		if (ocb_init_impl(&o, key, impls[k]) != 0) {
			continue;
		}
		memset(pt, 0xa5, sizeof(pt));
		if (forged) {
			CHECK(open_dgram(&o, raw, (size_t)rl, pt) == -1);
			CHECK(rl < 24 || all_zero(pt, (size_t)rl - 24));
			ocb_wipe(&o);
			continue;
		}
		/* An authentic datagram opens. */
		opened = open_dgram(&o, raw, (size_t)rl, pt) == 0;
		CHECK(opened);
		if (!opened) {
			fprintf(stderr, "  %s (%s)\n", name, ocb_impl_name(&o));
			ocb_wipe(&o);
			continue;
		}
		plen = (size_t)rl - 24;
		if (wl >= 0) {
			CHECK_MEM(pt, plen, want, (size_t)wl);
		}
		/* re-encrypt in place over a copy of the nonce tail */
		memcpy(re, raw, 8);
		memcpy(re + 8, pt, plen);
		memset(nonce, 0, 4);
		memcpy(nonce + 4, raw, 8);
		ocb_seal(&o, nonce, NULL, 0, re + 8, plen, re + 8);
		CHECK_MEM(re, (size_t)rl, raw, (size_t)rl);
		/* and open in place */
		CHECK(open_dgram(&o, re, (size_t)rl, re + 8) == 0);
		CHECK_MEM(re + 8, plen, pt, plen);
		/*
		 * Bit flips on a few datagrams of different sizes: the first
		 * one of each size class per implementation.
		 */
		{
			int cls = rl < 64 ? 0 : rl < 128 ? 1 : rl < 512 ? 2 :
			    rl < 1240 ? 3 : 4;
			uint8_t b = (uint8_t)(1u << k);

			if (!(flipped_sizes[cls] & b)) {
				flipped_sizes[cls] |= b;
				test_flips(&o, raw, (size_t)rl, name);
			}
		}
		ocb_wipe(&o);
	}
	if (forged) {
		n_forged++;
	} else {
		n_dgram++;
		n_dgram_pt += wl >= 0;
	}
}

static void
test_key_valid(char **f)
{
	uint8_t raw[16], got[16];
	char s[OCB_KEY_PRINTABLE_LEN + 1];
	const char *err = NULL;

	CHECK(unhex(f[1], raw, sizeof(raw)) == 16);
	ocb_key_format(raw, s);
	CHECK(strcmp(s, f[2]) == 0);
	CHECK(ocb_key_parse(f[2], got, &err) == 0);
	CHECK_MEM(got, sizeof(got), raw, sizeof(raw));
	n_keys++;
}

static const char *const err_len = "Key must be 22 letters long.";
static const char *const err_b64 = "Key must be well-formed base64.";
static const char *const err_bits = "Base64 key was not encoded 128-bit key.";

static void
test_key_invalid(const char *s, const char *reason)
{
	const char *want, *err = NULL;
	uint8_t key[16];

	if (strstr(reason, "alphabet") != NULL) {
		want = err_b64;
	} else if (strstr(reason, "bits") != NULL) {
		want = err_bits;
	} else {
		want = err_len;
	}
	memset(key, 0xa5, sizeof(key));
	CHECK(ocb_key_parse(s, key, &err) == -1);
	CHECK(err != NULL && strcmp(err, want) == 0);
	CHECK(all_zero(key, sizeof(key)));
	if (err == NULL || strcmp(err, want) != 0) {
		fprintf(stderr, "  key \"%s\": got \"%s\", want \"%s\"\n", s,
		    err ? err : "(null)", want);
	}
	n_badkeys++;
}

/* Keys beyond the JSON: every last character, every byte in the middle. */
static void
test_keys_more(void)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char s[32], f[OCB_KEY_PRINTABLE_LEN + 1];
	const char *err;
	uint8_t key[16], back[16];
	int c, i, r, bad;

	bad = 0;
	for (i = 0; i < 64; i++) {
		memcpy(s, "AAAAAAAAAAAAAAAAAAAAA", 21);
		s[21] = alpha[i];
		s[22] = '\0';
		err = NULL;
		r = ocb_key_parse(s, key, &err);
		if ((i & 15) == 0) {
			bad += r != 0 || key[15] != (uint8_t)(i >> 4);
		} else {
			bad += r != -1 || err == NULL || strcmp(err, err_bits);
		}
	}
	CHECK(bad == 0);
	bad = 0;
	for (c = 1; c < 256; c++) {
		memcpy(s, "AAAAAAAAAAAAAAAAAAAAAA", 23);
		s[7] = (char)c;
		err = NULL;
		r = ocb_key_parse(s, key, &err);
		if (strchr(alpha, c) != NULL) {
			bad += r != 0;
		} else {
			bad += r != -1 || err == NULL || strcmp(err, err_b64);
		}
	}
	CHECK(bad == 0);
	/* a bad character wins over non-zero padding bits */
	err = NULL;
	CHECK(ocb_key_parse("AAAAAAAAAAAAAAAAAAAA=B", key, &err) == -1 &&
	    err != NULL && strcmp(err, err_b64) == 0);
	err = NULL;
	CHECK(ocb_key_parse("AAAAAAAAAAAAAAAAAAAAAA==", key, &err) == -1 &&
	    err != NULL && strcmp(err, err_len) == 0);
	err = NULL;
	CHECK(ocb_key_parse("", key, &err) == -1 && err != NULL &&
	    strcmp(err, err_len) == 0);
	CHECK(ocb_key_parse(NULL, key, NULL) == -1);
	CHECK(ocb_key_parse(" AAAAAAAAAAAAAAAAAAAAA", key, NULL) == -1);
	/* random keys round-trip */
	bad = 0;
	for (i = 0; i < 2000; i++) {
		rng_fill(key, sizeof(key));
		ocb_key_format(key, f);
		bad += strlen(f) != 22 || strspn(f, alpha) != 22 ||
		    ocb_key_parse(f, back, NULL) != 0 ||
		    memcmp(key, back, 16) != 0;
	}
	CHECK(bad == 0);
}

/*
 * Random cases against OpenSSL: lengths 0..2048, associated data on half
 * of them, every fourth one in place; our output must equal OpenSSL's,
 * open back, and fail with one bit flipped.
 */
static void
test_random(int impl, int cases)
{
	static uint8_t pt[2048], ad[256], ours[2048 + 16], theirs[2048 + 16];
	static uint8_t buf[2048 + 16], back[2048];
	uint8_t key[16], nonce[12];
	struct ocb o;
	size_t len, adlen, bit;
	int i, bad_seal = 0, bad_open = 0, bad_flip = 0, bad_ossl = 0;

	for (i = 0; i < cases; i++) {
		rng_fill(key, sizeof(key));
		rng_fill(nonce, sizeof(nonce));
		len = (size_t)(rng() % 2049);
		if (i < 64) {
			len = (size_t)i;	/* every short length */
		}
		adlen = i % 2 ? (size_t)(rng() % 257) : 0;
		if (adlen > sizeof(ad)) {
			adlen = sizeof(ad);
		}
		rng_fill(pt, len);
		rng_fill(ad, adlen);
		if (ocb_init_impl(&o, key, impl) != 0) {
			CHECK(!"ocb_init_impl");
			return;
		}
		if (ossl_seal(key, nonce, ad, adlen, pt, len, theirs) != 0) {
			bad_ossl++;
			continue;
		}
		if (i % 4 == 3) {
			memcpy(ours, pt, len);
			ocb_seal(&o, nonce, ad, adlen, ours, len, ours);
		} else {
			ocb_seal(&o, nonce, ad, adlen, pt, len, ours);
		}
		if (memcmp(ours, theirs, len + 16) != 0) {
			if (bad_seal++ == 0) {
				fprintf(stderr, "%s: case %d len %zu ad %zu "
				    "differs from OpenSSL\n", ocb_impl_name(&o),
				    i, len, adlen);
			}
		}
		if (i % 4 == 1) {
			memcpy(buf, theirs, len + 16);
			bad_open += ocb_open(&o, nonce, ad, adlen, buf,
			    len + 16, buf) != 0 || memcmp(buf, pt, len) != 0;
		} else {
			bad_open += ocb_open(&o, nonce, ad, adlen, theirs,
			    len + 16, back) != 0 || memcmp(back, pt, len) != 0;
		}
		bit = (size_t)(rng() % ((len + 16) * 8));
		theirs[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(back, 0xa5, sizeof(back));
		bad_flip += ocb_open(&o, nonce, ad, adlen, theirs, len + 16,
		    back) != -1 || !all_zero(back, len);
		ocb_wipe(&o);
	}
	CHECK(bad_ossl == 0);
	CHECK(bad_seal == 0);
	CHECK(bad_open == 0);
	CHECK(bad_flip == 0);
}

/*
 * Long messages (several decryption chunks, block numbers with ntz up to
 * 11) against OpenSSL, in and out of place.
 */
static void
test_long(int impl)
{
	static const size_t lens[] = { 2047, 2048, 2049, 2064, 4095, 4096,
	    4097, 6144, 8192 + 15, 16384, 32768 + 1, 65536 - 16, 65536 };
	static uint8_t pt[65536], ad[100], ours[65536 + 16], theirs[65536 + 16];
	static uint8_t back[65536];
	uint8_t key[16], nonce[12];
	struct ocb o;
	size_t i, len, adlen;
	int bad = 0;

	for (i = 0; i < LEN(lens) + 20; i++) {
		len = i < LEN(lens) ? lens[i] : (size_t)(rng() % 65537);
		adlen = i % 3 == 0 ? 0 : (size_t)(rng() % sizeof(ad));
		rng_fill(key, sizeof(key));
		rng_fill(nonce, sizeof(nonce));
		rng_fill(pt, len);
		rng_fill(ad, adlen);
		if (ocb_init_impl(&o, key, impl) != 0 ||
		    ossl_seal(key, nonce, ad, adlen, pt, len, theirs) != 0) {
			bad++;
			continue;
		}
		memcpy(ours, pt, len);
		ocb_seal(&o, nonce, ad, adlen, ours, len, ours);
		bad += memcmp(ours, theirs, len + 16) != 0;
		bad += ocb_open(&o, nonce, ad, adlen, theirs, len + 16,
		    back) != 0 || memcmp(back, pt, len) != 0;
		bad += ocb_open(&o, nonce, ad, adlen, ours, len + 16,
		    ours) != 0 || memcmp(ours, pt, len) != 0;
		theirs[len / 2] ^= 0x10;
		bad += ocb_open(&o, nonce, ad, adlen, theirs, len + 16,
		    back) != -1 || !all_zero(back, len);
		ocb_wipe(&o);
	}
	CHECK(bad == 0);
}

/*
 * out below in (sliding down, as when a datagram is opened over its own
 * nonce header): every shift 1..40 bytes, lengths around block edges. And
 * associated data that out overwrites.
 */
static void
test_slide(int impl)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 31, 32, 33, 1200,
	    1228, 2047, 2048, 2049, 4100 };
	static uint8_t pt[4200], ref[4200 + 16], buf[8500];
	static uint8_t ref2[4200], ref3[4200 + 16];
	uint8_t key[16], nonce[12];
	struct ocb o;
	size_t i, d, len;
	int bad = 0;

	rng_fill(key, sizeof(key));
	rng_fill(nonce, sizeof(nonce));
	if (ocb_init_impl(&o, key, impl) != 0) {
		CHECK(!"ocb_init_impl");
		return;
	}
	for (i = 0; i < LEN(lens); i++) {
		len = lens[i];
		rng_fill(pt, len);
		ocb_seal(&o, nonce, NULL, 0, pt, len, ref);
		for (d = 1; d <= 40; d++) {
			memcpy(buf + d, pt, len);
			ocb_seal(&o, nonce, NULL, 0, buf + d, len, buf);
			bad += memcmp(buf, ref, len + 16) != 0;
			memcpy(buf + d, ref, len + 16);
			bad += ocb_open(&o, nonce, NULL, 0, buf + d, len + 16,
			    buf) != 0 || memcmp(buf, pt, len) != 0;
			/* associated data that the output overwrites */
			memcpy(ref2, pt, len);
			memcpy(buf, pt, len);
			ocb_seal(&o, nonce, buf, len, buf, len, buf);
			ocb_seal(&o, nonce, ref2, len, ref2, len, ref3);
			bad += memcmp(buf, ref3, len + 16) != 0;
			memcpy(buf, ref3, len + 16);
			memcpy(buf + len + 16, pt, len);
			bad += ocb_open(&o, nonce, buf + len + 16, len, buf,
			    len + 16, buf + len + 16) != 0 ||
			    memcmp(buf + len + 16, pt, len) != 0;
			memcpy(buf + d, ref, len + 16);
			buf[d + len] ^= 1;	/* the tag's first byte */
			bad += ocb_open(&o, nonce, NULL, 0, buf + d, len + 16,
			    buf) != -1 || !all_zero(buf, len);
		}
	}
	ocb_wipe(&o);
	CHECK(bad == 0);
}

/*
 * Exact-size heap buffers for every length 0..300 and associated data
 * 0..40 bytes, so ASan sees any read or write past an end.
 */
static void
test_bounds(int impl)
{
	uint8_t key[16], nonce[12], ref[300 + 16], save[300];
	uint8_t *pt, *ad, *ct, *back;
	struct ocb o;
	size_t len, adlen;
	int bad = 0;

	rng_fill(key, sizeof(key));
	rng_fill(nonce, sizeof(nonce));
	if (ocb_init_impl(&o, key, impl) != 0) {
		CHECK(!"ocb_init_impl");
		return;
	}
	for (len = 0; len <= 300; len++) {
		adlen = len % 41;
		pt = malloc(len ? len : 1);
		ad = malloc(adlen ? adlen : 1);
		ct = malloc(len + 16);
		back = malloc(len ? len : 1);
		if (pt == NULL || ad == NULL || ct == NULL || back == NULL) {
			bad++;
		} else {
			rng_fill(pt, len);
			rng_fill(ad, adlen);
			memcpy(save, pt, len);
			ocb_seal(&o, nonce, ad, adlen, pt, len, ct);
			bad += memcmp(save, pt, len) != 0;	/* in kept */
			bad += ossl_seal(key, nonce, ad, adlen, pt, len,
			    ref) != 0 || memcmp(ct, ref, len + 16) != 0;
			bad += ocb_open(&o, nonce, ad, adlen, ct, len + 16,
			    back) != 0 || memcmp(back, pt, len) != 0;
			ct[len + 15] ^= 0x40;
			bad += ocb_open(&o, nonce, ad, adlen, ct, len + 16,
			    back) != -1 || !all_zero(back, len);
		}
		free(pt);
		free(ad);
		free(ct);
		free(back);
	}
	ocb_wipe(&o);
	CHECK(bad == 0);
}

/*
 * Every value of the nonce's last byte (so every Stretch shift, bottom
 * 0..63, and both values of the two bits next to it) on a few lengths,
 * against OpenSSL.
 */
static void
test_nonces(int impl)
{
	static const size_t lens[] = { 0, 15, 16, 33, 1200 };
	static uint8_t pt[1200], ours[1200 + 16], theirs[1200 + 16];
	uint8_t key[16], nonce[12];
	struct ocb o;
	size_t i;
	int b, bad = 0;

	rng_fill(key, sizeof(key));
	rng_fill(nonce, sizeof(nonce));
	rng_fill(pt, sizeof(pt));
	if (ocb_init_impl(&o, key, impl) != 0) {
		CHECK(!"ocb_init_impl");
		return;
	}
	for (b = 0; b < 256; b++) {
		nonce[11] = (uint8_t)b;
		for (i = 0; i < LEN(lens); i++) {
			ocb_seal(&o, nonce, NULL, 0, pt, lens[i], ours);
			bad += ossl_seal(key, nonce, NULL, 0, pt, lens[i],
			    theirs) != 0 ||
			    memcmp(ours, theirs, lens[i] + 16) != 0;
		}
	}
	ocb_wipe(&o);
	CHECK(bad == 0);
}

/* Edge cases of the API itself. */
static void
test_api(void)
{
	uint8_t key[16], nonce[12], buf[64], out[64];
	struct ocb o, z;
	size_t i;

	memset(key, 7, sizeof(key));
	memset(nonce, 9, sizeof(nonce));
	CHECK(ocb_init(&o, key) == 0);
	CHECK(strcmp(ocb_impl_name(&o), "aes_x86ni") == 0 ||
	    strcmp(ocb_impl_name(&o), UINTPTR_MAX > 0xffffffffu ?
	    "aes_ct64" : "aes_ct") == 0);
	/* the software AES runs on the bitsliced core when it is built */
	CHECK(ocb_init_impl(&z, key, OCB_IMPL_CT) == 0);
	CHECK(strcmp(ocb_impl_name(&z), "aes_ct") == 0);
#ifdef OCB_BEARSSL_CORE
	CHECK(z.rounds == 10);
	CHECK(ocb_init_impl(&z, key, OCB_IMPL_CT64) == 0);
	CHECK(z.rounds == 10);
#endif
	ocb_wipe(&z);
	CHECK(ocb_init_impl(&z, key, 99) == -1);
	/* too short to hold a tag */
	for (i = 0; i < 16; i++) {
		CHECK(ocb_open(&o, nonce, NULL, 0, buf, i, out) == -1);
	}
	/* empty message: the tag alone, out untouched and may be NULL */
	ocb_seal(&o, nonce, NULL, 0, NULL, 0, buf);
	CHECK(ocb_open(&o, nonce, NULL, 0, buf, 16, NULL) == 0);
	buf[15] ^= 0x80;
	CHECK(ocb_open(&o, nonce, NULL, 0, buf, 16, NULL) == -1);
	/* a different nonce does not authenticate */
	ocb_seal(&o, nonce, NULL, 0, key, 16, buf);
	nonce[11] ^= 1;
	CHECK(ocb_open(&o, nonce, NULL, 0, buf, 32, out) == -1);
	CHECK(all_zero(out, 16));
	nonce[11] ^= 1;
	CHECK(ocb_open(&o, nonce, NULL, 0, buf, 32, out) == 0);
	CHECK_MEM(out, 16, key, 16);
	ocb_wipe(&o);
	CHECK(all_zero((const uint8_t *)&o, sizeof(o)));
}

int
main(void)
{
	static char line[LINE_MAX_LEN];
	char *f[8], *p, *save;
	FILE *fp;
	struct ocb probe;
	uint8_t k0[16] = { 0 };
	int nf, have_ni, lines = 0;

	have_ni = ocb_init_impl(&probe, k0, OCB_IMPL_X86NI) == 0;
	printf("AES implementations: %s\n",
	    have_ni ? "aes_x86ni, aes_ct64, aes_ct" :
	    "aes_ct64, aes_ct (no AES-NI here)");
	ocb_wipe(&probe);

	test_api();
	test_keys_more();

	if (setenv("OCB_TEST_PY", vectors_py, 1) != 0 ||
	    (fp = popen("python3 -c \"$OCB_TEST_PY\"", "r")) == NULL) {
		CHECK(!"cannot run python3");
		return TEST_DONE();
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((p = strchr(line, '\n')) != NULL) {
			*p = '\0';
		}
		lines++;
		if (strncmp(line, "X ", 2) == 0) {
			/* X printable reason: the reason is the rest */
			p = strchr(line + 2, ' ');
			if (p != NULL) {
				*p++ = '\0';
			}
			test_key_invalid(line + 2, p != NULL ? p : "");
			continue;
		}
		nf = 0;
		for (p = strtok_r(line, " ", &save); p != NULL && nf < 7;
		    p = strtok_r(NULL, " ", &save)) {
			f[nf++] = p;
		}
		if (nf == 6 && strcmp(f[0], "R") == 0) {
			test_rfc_case(f);
		} else if (nf == 3 && strcmp(f[0], "I") == 0) {
			test_iterative(f);
		} else if (nf == 6 && strcmp(f[0], "D") == 0) {
			test_dgram(f, 0);
		} else if (nf == 5 && strcmp(f[0], "E") == 0) {
			test_dgram(f, 1);
		} else if (nf == 3 && strcmp(f[0], "K") == 0) {
			test_key_valid(f);
		} else {
			CHECK(!"unexpected line from the JSON reader");
		}
	}
	CHECK(pclose(fp) == 0);
	/* the whole set was read */
	CHECK(n_rfc == 16);
	CHECK(n_dgram + n_forged == 44 + 34 + 14 + 1157);
	CHECK(n_forged == 1);
	CHECK(n_keys == 4 && n_badkeys == 6);
	printf("read %d lines: %d RFC cases, %d datagrams (%d with "
	    "plaintext), %d forged, %d keys, %d invalid keys\n", lines, n_rfc,
	    n_dgram, n_dgram_pt, n_forged, n_keys, n_badkeys);
	printf("%ld single-bit flips of captured datagrams rejected\n",
	    n_flips);
	CHECK(n_flips > 10000);

	if (have_ni) {
		test_random(OCB_IMPL_X86NI, 10000);
		test_long(OCB_IMPL_X86NI);
		test_slide(OCB_IMPL_X86NI);
		test_bounds(OCB_IMPL_X86NI);
		test_nonces(OCB_IMPL_X86NI);
	}
	test_random(OCB_IMPL_CT64, 10000);
	test_long(OCB_IMPL_CT64);
	test_slide(OCB_IMPL_CT64);
	test_bounds(OCB_IMPL_CT64);
	test_nonces(OCB_IMPL_CT64);
	test_random(OCB_IMPL_CT, 10000);
	test_long(OCB_IMPL_CT);
	test_slide(OCB_IMPL_CT);
	test_bounds(OCB_IMPL_CT);
	test_nonces(OCB_IMPL_CT);
	return TEST_DONE();
}
