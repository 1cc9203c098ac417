/*
 * ocb_bench.c: AES-128-OCB3 speed on 1200-byte messages (the size of a
 * full Mosh datagram), ours next to OpenSSL's EVP_aes_128_ocb from the same
 * run. Each figure is the median of slices that alternate between the two,
 * about a second of CPU time per side; CPU time rather than wall time, so
 * other processes on a busy machine do not count. Both sides set the key
 * once and only the nonce per message, as a session does. Exits non-zero if
 * the two disagree on a message.
 */
#include "mosh.h"

#include <stdio.h>
#include <time.h>
#include <openssl/evp.h>

#define MSG 1200
#define SLICES 11
#define SLICE_NS 90000000ull	/* CPU ns; ~1 s per figure and side */

static uint8_t key[16] = { 0x10, 0x14, 0xe6, 0x44, 0xb2, 0x68, 0xe1, 0xf9,
    0x9c, 0xa8, 0xe5, 0xfa, 0x8c, 0x59, 0x35, 0xc1 };
static uint8_t pt[MSG], ct[MSG + 16], back[MSG];
static EVP_CIPHER_CTX *ectx, *dctx;
static struct ocb ours;
static volatile unsigned sink;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
set_nonce(uint8_t nonce[12], uint64_t seq)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++) {
		nonce[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
	}
}

static int
mosh_seal(uint64_t seq)
{
	uint8_t nonce[12];

	set_nonce(nonce, seq);
	ocb_seal(&ours, nonce, NULL, 0, pt, MSG, ct);
	return 0;
}

static int
mosh_open(uint64_t seq)
{
	uint8_t nonce[12];

	set_nonce(nonce, seq);
	return ocb_open(&ours, nonce, NULL, 0, ct, MSG + 16, back);
}

static int
ossl_seal(uint64_t seq)
{
	uint8_t nonce[12];
	int n, m;

	set_nonce(nonce, seq);
	if (!EVP_EncryptInit_ex(ectx, NULL, NULL, NULL, nonce) ||
	    !EVP_EncryptUpdate(ectx, ct, &n, pt, MSG) ||
	    !EVP_EncryptFinal_ex(ectx, ct + n, &m) || n + m != MSG ||
	    !EVP_CIPHER_CTX_ctrl(ectx, EVP_CTRL_AEAD_GET_TAG, 16, ct + MSG)) {
		return -1;
	}
	return 0;
}

static int
ossl_open(uint64_t seq)
{
	uint8_t nonce[12];
	int n, m;

	set_nonce(nonce, seq);
	if (!EVP_DecryptInit_ex(dctx, NULL, NULL, NULL, nonce) ||
	    !EVP_CIPHER_CTX_ctrl(dctx, EVP_CTRL_AEAD_SET_TAG, 16, ct + MSG) ||
	    !EVP_DecryptUpdate(dctx, back, &n, ct, MSG) ||
	    !EVP_DecryptFinal_ex(dctx, back + n, &m) || n + m != MSG) {
		return -1;
	}
	return 0;
}

/*
 * MB/s of plaintext through seal (if given) then open (if given), each
 * message under a new nonce, for about SLICE_NS. -1 if anything failed.
 */
static double
slice(int (*seal)(uint64_t), int (*open)(uint64_t))
{
	static uint64_t seq;
	uint64_t t0, t, n = 0;
	int i, bad = 0;

	if (seal == NULL) {
		/* open the same message over and over */
		bad |= open == mosh_open ? mosh_seal(0) : ossl_seal(0);
	}
	t0 = now_ns();
	do {
		for (i = 0; i < 64; i++, n++) {
			if (seal != NULL) {
				seq++;
				bad |= seal(seq);
			}
			if (open != NULL) {
				bad |= open(seal != NULL ? seq : 0);
			}
		}
		t = now_ns();
	} while (t - t0 < SLICE_NS);
	sink += back[0] + ct[0];
	if (bad) {
		return -1;
	}
	return (double)n * MSG / ((double)(t - t0) / 1e9) / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Ours and OpenSSL's in alternating slices, so both see the same machine
 * (other load, frequency changes); each gets the median of its slices.
 */
static int
measure(int (*ms)(uint64_t), int (*mo)(uint64_t), int (*os)(uint64_t),
    int (*oo)(uint64_t), double *mine, double *theirs)
{
	double a[SLICES], b[SLICES];
	int i;

	for (i = 0; i < SLICES; i++) {
		a[i] = slice(ms, mo);
		b[i] = slice(os, oo);
		if (a[i] < 0 || b[i] < 0) {
			return -1;
		}
	}
	qsort(a, SLICES, sizeof(a[0]), cmp_double);
	qsort(b, SLICES, sizeof(b[0]), cmp_double);
	*mine = a[SLICES / 2];
	*theirs = b[SLICES / 2];
	return 0;
}

static int
setup_openssl(void)
{
	ectx = EVP_CIPHER_CTX_new();
	dctx = EVP_CIPHER_CTX_new();
	return ectx != NULL && dctx != NULL &&
	    EVP_EncryptInit_ex(ectx, EVP_aes_128_ocb(), NULL, NULL, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ectx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ectx, EVP_CTRL_AEAD_SET_TAG, 16, NULL) &&
	    EVP_EncryptInit_ex(ectx, NULL, NULL, key, NULL) &&
	    EVP_DecryptInit_ex(dctx, EVP_aes_128_ocb(), NULL, NULL, NULL) &&
	    EVP_CIPHER_CTX_ctrl(dctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	    EVP_CIPHER_CTX_ctrl(dctx, EVP_CTRL_AEAD_SET_TAG, 16, NULL) &&
	    EVP_DecryptInit_ex(dctx, NULL, NULL, key, NULL) ? 0 : -1;
}

/* Both sides must produce the same bytes, and open each other's. */
static int
agree(void)
{
	uint8_t a[MSG + 16];

	mosh_seal(7);
	memcpy(a, ct, sizeof(a));
	if (ossl_seal(7) != 0 || memcmp(a, ct, sizeof(a)) != 0) {
		return -1;
	}
	return mosh_open(7) == 0 && memcmp(back, pt, MSG) == 0 &&
	    ossl_open(7) == 0 && memcmp(back, pt, MSG) == 0 ? 0 : -1;
}

int
main(void)
{
	static const int impls[] = { OCB_IMPL_AUTO, OCB_IMPL_CT64,
	    OCB_IMPL_CT };
	double m, o, ms, os, mo, oo;
	const char *chosen;
	size_t i;

	for (i = 0; i < MSG; i++) {
		pt[i] = (uint8_t)(i * 7 + 1);
	}
	if (setup_openssl() != 0) {
		fprintf(stderr, "ocb_bench: OpenSSL OCB unavailable\n");
		return 1;
	}
	ocb_init(&ours, key);
	chosen = ocb_impl_name(&ours);
	for (i = 0; i < LEN(impls); i++) {
		/* a forced one only if it is not the one ocb_init chose */
		ocb_init_impl(&ours, key, impls[i]);
		if (i > 0 && strcmp(ocb_impl_name(&ours), chosen) == 0) {
			continue;
		}
		if (agree() != 0) {
			fprintf(stderr, "ocb_bench: %s disagrees with "
			    "OpenSSL\n", ocb_impl_name(&ours));
			return 1;
		}
		if (measure(mosh_seal, mosh_open, ossl_seal, ossl_open, &m,
		    &o) != 0 ||
		    measure(mosh_seal, NULL, ossl_seal, NULL, &ms, &os) != 0 ||
		    measure(NULL, mosh_open, NULL, ossl_open, &mo, &oo) != 0) {
			fprintf(stderr, "ocb_bench: a message failed\n");
			return 1;
		}
		printf("ocb AES implementation: %s%s\n", ocb_impl_name(&ours),
		    i == 0 ? " (chosen by ocb_init)" : " (forced)");
		printf("ocb seal+open %d B: mosh %.1f MB/s, openssl %.1f MB/s, "
		    "ratio %.2f\n", MSG, m, o, m / o);
		printf("ocb seal      %d B: mosh %.1f MB/s, openssl %.1f MB/s, "
		    "ratio %.2f\n", MSG, ms, os, ms / os);
		printf("ocb open      %d B: mosh %.1f MB/s, openssl %.1f MB/s, "
		    "ratio %.2f\n", MSG, mo, oo, mo / oo);
		ocb_wipe(&ours);
	}
	EVP_CIPHER_CTX_free(ectx);
	EVP_CIPHER_CTX_free(dctx);
	return 0;
}
