/*
 * mosh.c: role dispatch, the server and client main loops, the pty.
 */
#include <stdio.h>

#include "mosh.h"

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mosh: not built yet\n");
	return 2;
}
