/*
 * test.h: a tiny test harness. A test keeps going after a failure, so one
 * run reports everything, and ends with the line "N passed, N failed".
 */
#ifndef TEST_H
#define TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(c) do { \
	if (c) { \
		t_pass++; \
	} else { \
		t_fail++; \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
		    __LINE__, #c); \
	} \
} while (0)

/* Compare two byte strings; on a mismatch print both in hex. */
#define CHECK_MEM(a, alen, b, blen) \
	t_check_mem(__FILE__, __LINE__, #a, (const void *)(a), (alen), \
	    (const void *)(b), (blen))

static inline void
t_hexdump(const char *name, const unsigned char *p, size_t n)
{
	size_t i;

	fprintf(stderr, "  %s (%zu bytes):", name, n);
	for (i = 0; i < n; i++) {
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", p[i]);
	}
	fprintf(stderr, "\n");
}

static inline int
t_check_mem(const char *file, int line, const char *what, const void *a,
    size_t alen, const void *b, size_t blen)
{
	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) {
		t_pass++;
		return 1;
	}
	t_fail++;
	fprintf(stderr, "%s:%d: CHECK_MEM(%s) failed\n", file, line, what);
	t_hexdump("got", a, alen);
	t_hexdump("want", b, blen);
	return 0;
}

/*
 * Print the total and give main's exit status: non-zero on a failure, or
 * when no check ran at all (a test that checked nothing proved nothing).
 */
#define TEST_DONE() (printf("%s: %d passed, %d failed\n", __FILE__, \
	t_pass, t_fail), t_fail != 0 || t_pass == 0)

/*
 * The cases in test/cases (cases.py, rcases.py) are read as text: one
 * Python tuple per line, its strings r"..." (no quote inside) in C-escape
 * notation.
 */

/* Decode the C-escape notation (\xHH \b \r \n \t \e \\) of a case's bytes. */
static inline size_t
t_unescape(const char *s, size_t n, uint8_t *out)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			out[o++] = (uint8_t)s[i];
			continue;
		}
		i++;
		switch (s[i]) {
		case 'x':
			if (i + 2 < n && sscanf(s + i + 1, "%2x", &v) == 1) {
				out[o++] = (uint8_t)v;
				i += 2;
			}
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'e':
			out[o++] = 0x1b;
			break;
		default:
			out[o++] = (uint8_t)s[i];
			break;
		}
	}
	return o;
}

/* Next r"..." or "..." field of a tuple line; NULL at the end. */
static inline const char *
t_next_str(const char *p, const char **s, size_t *n)
{
	const char *q;

	if ((p = strchr(p, '"')) == NULL) {
		return NULL;
	}
	p++;
	if ((q = strchr(p, '"')) == NULL) {
		return NULL;
	}
	*s = p;
	*n = (size_t)(q - p);
	return q + 1;
}

#endif
