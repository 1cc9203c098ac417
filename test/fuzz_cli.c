/*
 * fuzz_cli.c: the command-line parsers of the server and client roles on
 * arbitrary argument vectors, called as the roles call them.
 *
 * Input: byte 0 picks the role (bit 0: server_parse with argv[0]
 * "mosh-server", else client_parse with "mosh-client"; bit 1: the -s
 * environment, SSH_CONNECTION set or not); the rest is split at NUL bytes
 * into at most 32 arguments. The parsers report errors by printing and
 * calling exit(), which is what upstream does and what the roles need, so
 * the Makefile links this target with --wrap=exit: while a parser runs,
 * exit() is a longjmp back to the harness, and stdout and stderr go to
 * /dev/null. Whatever the vector, nothing may crash or read out of bounds
 * (ASan), and an accepted command line must make sense: a server port
 * range with low <= high within 0..65535, every -l value one of the
 * arguments, a client IP and a port of 1..65535.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mosh.h"

void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) __attribute__((noreturn));

static jmp_buf fuzz_jmp;
static int fuzz_parsing;		/* exit() returns to fuzz_jmp */
static int fuzz_saved[2] = { -1, -1 };	/* stdout, stderr while parsing */

void
__wrap_exit(int status)
{
	if (fuzz_parsing) {
		longjmp(fuzz_jmp, status + 1);
	}
	__real_exit(status);
}

/* Silence stdout and stderr around one parse (on = 1), or bring them back. */
static void
fuzz_quiet(int on)
{
	int fd, i;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		if (on) {
			fuzz_saved[i] = dup(i + 1);
			if ((fd = open("/dev/null", O_WRONLY)) == -1 ||
			    fuzz_saved[i] == -1) {
				abort();
			}
			dup2(fd, i + 1);
			close(fd);
		} else {
			dup2(fuzz_saved[i], i + 1);
			close(fuzz_saved[i]);
		}
	}
	fuzz_parsing = on;
}

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
	fuzz_quiet(1);
	if (setjmp(fuzz_jmp) == 0) {
		server_parse(argc, argv, &o);
		fuzz_quiet(0);
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
	} else {
		fuzz_quiet(0);
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
	fuzz_quiet(1);
	if (setjmp(fuzz_jmp) == 0) {
		client_parse(argc, argv, &c);
		fuzz_quiet(0);
		if (c.ip == NULL || c.port == NULL) {
			abort();
		}
		port = strtol(c.port, NULL, 10);
		if (port < 1 || port > 65535) {
			abort();
		}
	} else {
		fuzz_quiet(0);
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
	free(buf);
	return 0;
}
