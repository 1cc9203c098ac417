/*
 * fuzz_cli.c: the command-line parsers of the server and client roles on
 * arbitrary argument vectors. mosh.c is included with MOSH_NO_MAIN (as in
 * mosh_test.c) so its static parsers can be called directly.
 *
 * Input: byte 0 picks the role (bit 0: server_parse with argv[0]
 * "mosh-server", else client_parse with "mosh-client"; bit 1: the -s
 * environment, SSH_CONNECTION set or not); the rest is split at NUL bytes
 * into at most 32 arguments. The parsers report errors by printing and
 * calling exit(), which is what upstream does and what the roles need, so
 * here exit() is a longjmp back to the harness, and their output goes to
 * /dev/null. Whatever the vector, nothing may crash or read out of bounds
 * (ASan), and an accepted command line must make sense: a server port
 * range with low <= high within 0..65535, every -l value one of the
 * arguments, a client IP and a port of 1..65535.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf fuzz_jmp;
static FILE *fuzz_null_file;

static void fuzz_exit(int status) __attribute__((noreturn));
static FILE *fuzz_null(void);

static void
fuzz_exit(int status)
{
	longjmp(fuzz_jmp, status + 1);
}

static FILE *
fuzz_null(void)
{
	if (fuzz_null_file == NULL &&
	    (fuzz_null_file = fopen("/dev/null", "w")) == NULL) {
		abort();
	}
	return fuzz_null_file;
}

#undef stdout
#undef stderr
#define stdout fuzz_null()
#define stderr fuzz_null()
#define exit(s) fuzz_exit(s)

#define MOSH_NO_MAIN
#include "../mosh.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ARGS 32

static int
is_arg(char **argv, int argc, const char *p)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i])) {
			return 1;
		}
	}
	return 0;
}

static void
fuzz_server(int argc, char **argv)
{
	struct server_opts o;
	char **lvars;
	size_t i;

	memset(&o, 0, sizeof o);
	o.prog = argv[0];
	if ((lvars = calloc((size_t)argc + 1, sizeof *lvars)) == NULL) {
		return;
	}
	o.lvars = lvars;
	if (setjmp(fuzz_jmp) == 0) {
		server_parse(argc, argv, &o);
		if (o.port != NULL && (o.port_lo < 0 || o.port_lo > o.port_hi ||
		    o.port_hi > 65535)) {
			abort();
		}
		if (o.nl > (size_t)argc) {
			abort();
		}
		for (i = 0; i < o.nl; i++) {
			if (!is_arg(argv, argc, o.lvars[i])) {
				abort();
			}
		}
	}
	free(lvars);
}

static void
fuzz_client(int argc, char **argv)
{
	struct client c;
	long port;

	memset(&c, 0, sizeof c);
	c.prog = argv[0];
	if (setjmp(fuzz_jmp) == 0) {
		client_parse(argc, argv, &c);
		if (c.ip == NULL || c.port == NULL) {
			abort();
		}
		port = strtol(c.port, NULL, 10);
		if (port < 1 || port > 65535) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[FUZZ_MAX_ARGS + 2];
	int argc = 1;
	size_t i, start;

	if (size < 1) {
		return 0;
	}
	if (data[0] & 2) {
		setenv("SSH_CONNECTION", "192.0.2.1 50000 ::ffff:192.0.2.2 22",
		    1);
	} else {
		unsetenv("SSH_CONNECTION");
	}
	unsetenv("TERM");	/* -c: the built-in terminfo, no file I/O */
	if ((buf = malloc(size)) == NULL) {
		return 0;
	}
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[0] = (char *)(data[0] & 1 ? "mosh-server" : "mosh-client");
	for (i = start = 0; i < size && argc <= FUZZ_MAX_ARGS; i++) {
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	if (data[0] & 1) {
		fuzz_server(argc, argv);
	} else {
		fuzz_client(argc, argv);
	}
	fflush(fuzz_null());
	free(buf);
	return 0;
}
