/*
 * compat.c: the glibc fortify helpers that Debian's libbearssl.a and libz.a
 * call and musl does not have. Each keeps its meaning: abort when the length
 * passes the size of the destination that the compiler knew. Linked only into
 * the release binary; on a musl system these archives are musl builds and
 * nothing here is used.
 */
#include <stdlib.h>
#include <string.h>

void *__memcpy_chk(void *, const void *, size_t, size_t);
void *__memmove_chk(void *, const void *, size_t, size_t);
void *__memset_chk(void *, int, size_t, size_t);

void *
__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
	if (len > dstlen) {
		abort();
	}
	return memcpy(dst, src, len);
}

void *
__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen)
{
	if (len > dstlen) {
		abort();
	}
	return memmove(dst, src, len);
}

void *
__memset_chk(void *dst, int c, size_t len, size_t dstlen)
{
	if (len > dstlen) {
		abort();
	}
	return memset(dst, c, len);
}
