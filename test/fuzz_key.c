/*
 * fuzz_key.c: arbitrary bytes -> ocb_key_parse. The input (up to 64 bytes,
 * cut at its first NUL) is the printable key. Whatever it is, the parser
 * must not crash; when it accepts, formatting the key must give back the
 * very same 22 characters (base64 without padding has one spelling per
 * key, as the last character's low bits must be zero), and the key must
 * set up an OCB context that seals and opens. When it rejects, the key
 * buffer must be all zeros and the message one of upstream's three.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[OCB_KEY_LEN];
	static const uint8_t nonce[OCB_NONCE_LEN];
	char s[65], back[OCB_KEY_PRINTABLE_LEN + 1];
	uint8_t key[OCB_KEY_LEN], sealed[4 + OCB_TAG_LEN], opened[4];
	const char *err = NULL;
	struct ocb o;
	size_t n = size < 64 ? size : 64;

	memcpy(s, data, n);
	s[n] = '\0';
	memset(key, 0xa5, sizeof key);
	if (ocb_key_parse(s, key, &err) == -1) {
		if (memcmp(key, zero, sizeof key) != 0 || err == NULL ||
		    (strcmp(err, "Key must be 22 letters long.") != 0 &&
		    strcmp(err, "Key must be well-formed base64.") != 0 &&
		    strcmp(err, "Base64 key was not encoded 128-bit key.") !=
		    0)) {
			abort();
		}
		return 0;
	}
	ocb_key_format(key, back);
	if (strcmp(back, s) != 0) {
		abort();
	}
	if (ocb_init(&o, key) == -1) {
		abort();
	}
	ocb_seal(&o, nonce, NULL, 0, (const uint8_t *)"mosh", 4, sealed);
	if (ocb_open(&o, nonce, NULL, 0, sealed, sizeof sealed, opened) != 0 ||
	    memcmp(opened, "mosh", 4) != 0) {
		abort();
	}
	ocb_wipe(&o);
	explicit_bzero(key, sizeof key);
	return 0;
}
