/*
 * fuzz_main.c: replay driver for the fuzz targets. Feeds every file named on
 * the command line (or every file in test/corpus/<target>/ when given a
 * directory) to LLVMFuzzerTestOneInput once. A crash or a sanitizer report
 * ends the process, which the test runner counts as a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int nrun;

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (buf = malloc(n ? (size_t)n : 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	nrun++;
	return 0;
}

static int
run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char sub[4096];
	int bad = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		return run_file(path) != 0;
	}
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		bad += run_path(sub);
	}
	closedir(d);
	return bad;
}

int
main(int argc, char **argv)
{
	char def[256];
	const char *name;
	int i, bad = 0;

	if (argc < 2) {
		/* obj-check/fuzz_vt -> test/corpus/fuzz_vt */
		name = strrchr(argv[0], '/');
		name = name ? name + 1 : argv[0];
		snprintf(def, sizeof(def), "test/corpus/%s", name);
		bad = run_path(def);
	}
	for (i = 1; i < argc; i++) {
		bad += run_path(argv[i]);
	}
	printf("%s: %d passed, %d failed\n", argv[0], nrun, bad);
	return bad != 0;
}
