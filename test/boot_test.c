/*
 * boot_test.c: the pure parts of the front end (boot.c) (option matching,
 * --ssh word splitting, shell quoting checked by a real sh, the server's
 * output lines and how the remote's own lines are shown, the host name
 * check, the server's command line) and the self-install script of
 * the remote side, run here by sh with a private HOME: upload, reuse,
 * repair, a foreign file, a wrong architecture; and the list of hosts
 * that needed it.
 */
#include <sys/stat.h>

#include "mosh.h"

#include <sys/utsname.h>

#include "test.h"

static void
test_find(void)
{
	const struct boot_optdef *d;
	int neg;

	d = boot_find("predict", 7, &neg);
	CHECK(d != NULL && d->id == 'P' && !neg);
	d = boot_find("p", 1, &neg);
	CHECK(d != NULL && d->id == 'p');
	d = boot_find("no-init", 7, &neg);
	CHECK(d != NULL && d->id == 'i' && neg);
	d = boot_find("noinit", 6, &neg);
	CHECK(d != NULL && d->id == 'i' && neg);
	d = boot_find("no-ssh-pty", 10, &neg);
	CHECK(d != NULL && d->id == 't' && neg);
	d = boot_find("fam", 3, &neg);		/* a unique prefix */
	CHECK(d != NULL && d->id == 'f');
	CHECK(boot_find("ver", 3, &neg) == NULL);	/* version, verbose */
	CHECK(boot_find("no-local", 8, &neg) == NULL);	/* not negatable */
	CHECK(boot_find("la", 2, &neg) == NULL);
	CHECK(boot_find("x", 1, &neg) == NULL);
}

static void
test_split(void)
{
	char store[512], *w[16];
	int n;

	n = boot_split("ssh -p 2222  -o 'Proxy Command=x y' a\\ b \"q\\\"x\"",
	    store, sizeof store, w, 16);
	CHECK(n == 7);
	if (n == 7) {
		CHECK(strcmp(w[0], "ssh") == 0);
		CHECK(strcmp(w[2], "2222") == 0);
		CHECK(strcmp(w[4], "Proxy Command=x y") == 0);
		CHECK(strcmp(w[5], "a b") == 0);
		CHECK(strcmp(w[6], "q\"x") == 0);
	}
	n = boot_split("a\\ b \"q\\\"x\" ''", store, sizeof store, w, 16);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(strcmp(w[0], "a b") == 0);
		CHECK(strcmp(w[1], "q\"x") == 0);
		CHECK(strcmp(w[2], "") == 0);
	}
	CHECK(boot_split("ssh 'open", store, sizeof store, w, 16) == -1);
	CHECK(boot_split("a b c", store, sizeof store, w, 2) == -1);
	CHECK(boot_split("aaaaaaaa", store, 4, w, 16) == -1);
	CHECK(boot_split("   ", store, sizeof store, w, 16) == 0);
}

/* What sh makes of printf %s\n followed by the quoted string. */
static int
sh_echo(const char *s, char *out, size_t outlen)
{
	struct buf cmd;
	FILE *f;
	size_t n;

	memset(&cmd, 0, sizeof cmd);
	buf_append(&cmd, "printf %s ", 10);
	if (boot_quote(&cmd, s) != 0 || buf_putc(&cmd, '\0') != 0) {
		return -1;
	}
	f = popen((const char *)cmd.p, "r");
	buf_free(&cmd);
	if (f == NULL) {
		return -1;
	}
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

static void
test_quote(void)
{
	static const char *const cases[] = {
		"plain", "it's", "''", "a b\tc", "$HOME `id` $(id) \\ \" ;|&",
		"'; rm -rf /tmp/nothing-here; '", "*?[a]", "-n", "LANG=C.UTF-8"
	};
	char out[256];
	size_t i;

	for (i = 0; i < LEN(cases); i++) {
		CHECK(sh_echo(cases[i], out, sizeof out) == 0 &&
		    strcmp(out, cases[i]) == 0);
	}
}

static void
test_lines(void)
{
	struct boot b;
	char l1[] = "MOSH CONNECT 60001 H8WS3SYf27OQTG+t/i9+VA\r";
	char l2[] = "MOSH IP 10.0.0.1";
	char l3[] = "MOSH SSH_CONNECTION 10.0.0.9 5000 10.0.0.2 22";
	char l3b[] = "MOSH SSH_CONNECTION 10.0.0.9 5000 10.0.0.2 22";
	char l4[] = "Bad UDP port range";

	memset(&b, 0, sizeof b);
	b.prog = "mosh";
	b.ops = (char *[]){ (char *)"host", NULL };
	b.nops = 1;
	CHECK(boot_line(&b, l2) == 0 && b.have_ip);
	CHECK(strcmp(b.ip, "10.0.0.1") == 0);
	/* A later SSH_CONNECTION does not override MOSH IP. */
	CHECK(boot_line(&b, l3) == 0 && strcmp(b.ip, "10.0.0.1") == 0);
	b.have_ip = 0;
	CHECK(boot_line(&b, l3b) == 0 && strcmp(b.ip, "10.0.0.2") == 0);
	b.port = "60001:60010";
	CHECK(boot_line(&b, l4) == 0 && b.bad_port_seen);
	CHECK(boot_line(&b, l1) == 1 && b.have_connect);
	CHECK(strcmp(b.udp, "60001") == 0);
	CHECK_MEM(b.key, strlen(b.key), "H8WS3SYf27OQTG+t/i9+VA", 22);
	CHECK(l1[0] == '\0');		/* the key is wiped from the line */
}

/* What boot_line writes to stdout for one line of the remote's output. */
static void
line_shows(const char *line, char *out, size_t cap)
{
	struct boot b;
	char copy[BOOT_LINE_MAX + 1];
	FILE *f = tmpfile();
	int saved = dup(STDOUT_FILENO);
	size_t n = 0;

	out[0] = '\0';
	if (f == NULL || saved == -1) {
		CHECK(0);
		return;
	}
	memset(&b, 0, sizeof b);
	b.prog = "mosh";
	snprintf(copy, sizeof copy, "%s", line);
	fflush(stdout);
	dup2(fileno(f), STDOUT_FILENO);
	boot_line(&b, copy);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

/*
 * The remote's own lines (a banner, a motd, an error) reach our terminal
 * with what it would act on made visible; UTF-8 text stays as it is.
 */
static void
test_visible(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "plain text\r", "plain text\n" },
		{ "\033[2J\033]0;owned\007x", "\\033[2J\\033]0;owned\\007x\n" },
		{ "a\rb\bc\tz", "a\\015b\\010c\tz\n" },
		{ "caf\xc3\xa9 \xe2\x94\x80 \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x94\x80 \xf0\x9f\x98\x80\n" },
		/* C1 as UTF-8 (U+009B CSI), raw 8-bit CSI, DEL */
		{ "\xc2\x9b""6n \x9b""6n \x7f", "\\302\\233""6n \\233""6n \\177\n" },
		/* overlong ESC, a surrogate, a truncated sequence */
		{ "\xc0\x9b \xed\xa0\x80 \xe2\x94",
		    "\\300\\233 \\355\\240\\200 \\342\\224\n" },
	};
	char out[256];
	size_t i;

	for (i = 0; i < LEN(t); i++) {
		line_shows(t[i].in, out, sizeof out);
		CHECK(strcmp(out, t[i].out) == 0);
		if (strcmp(out, t[i].out) != 0) {
			fprintf(stderr, "case %zu: got \"%s\"\n", i, out);
		}
	}
	/* Cut at a whole sequence, never past the buffer. */
	CHECK(boot_visible(out, 6, "ab\033c", 4) == 2 &&
	    strcmp(out, "ab") == 0);
	CHECK(boot_visible(out, 7, "ab\033c", 4) == 6 &&
	    strcmp(out, "ab\\033") == 0);
	CHECK(boot_visible(out, 3, "a\xc3\xa9", 3) == 1);
}

/* The host operand reaches ssh's ProxyCommand: nothing a shell acts on. */
static void
test_host(void)
{
	static const char *const good[] = {
		"host", "user@host.example.org", "10.0.0.1", "::1",
		"[fe80::1%eth0]", "u_1@my-host", "fe80::1%25wlan0"
	};
	static const char *const bad[] = {
		"", "-oProxyCommand=x", "a;id", "a b", "$(id)", "`id`",
		"h'x", "h\"x", "a|b", "a&b", "h\nx", "h\033x", "a>b", "h\\x",
		"caf\xc3\xa9", "a*b", "~u", "h\tx", "a/b", "a,b", "{a,b}"
	};
	size_t i;

	for (i = 0; i < LEN(good); i++) {
		CHECK(boot_host_ok(good[i]) == 0);
	}
	for (i = 0; i < LEN(bad); i++) {
		CHECK(boot_host_ok(bad[i]) == -1);
	}
}

static void
test_server_args(void)
{
	struct boot b;
	struct buf out;
	char *cmd[] = { (char *)"u@h", (char *)"ls", (char *)"-l a'b" };

	memset(&b, 0, sizeof b);
	memset(&out, 0, sizeof out);
	b.prog = "mosh";
	b.colors = 256;
	b.port = "60001:60010";
	b.ops = cmd;
	b.nops = 3;
	unsetenv("LC_ALL");
	setenv("LANG", "C.UTF-8", 1);
	boot_add(&b, &out, "mosh-server", 0);
	boot_server_args(&b, &out, NULL);
	buf_putc(&out, '\0');
	CHECK(strcmp((const char *)out.p, "mosh-server 'new' '-c' '256' '-s' "
	    "'-p' '60001:60010' '-l' 'LANG=C.UTF-8' '--' 'ls' "
	    "'-l a'\\''b'") == 0);
	buf_free(&out);
	b.bind = "any";
	b.port = NULL;
	b.nops = 1;
	boot_server_args(&b, &out, NULL);
	buf_putc(&out, '\0');
	CHECK(strcmp((const char *)out.p, "'new' '-c' '256' '-l' "
	    "'LANG=C.UTF-8'") == 0);
	buf_free(&out);
	b.bind = NULL;
	b.local = 1;
	boot_server_args(&b, &out, "127.0.0.1");
	buf_putc(&out, '\0');
	CHECK(strstr((const char *)out.p, "'-i' '127.0.0.1'") != NULL);
	buf_free(&out);
}

/* ---- the remote install script, run by the local sh ---- */

static char home[256];

/*
 * One run of boot_script with payload as "this binary"; answers the UNAME
 * line with payload's hash (or closes its stdin if payload is NULL), and
 * SEND with send (which may differ, to fake a transfer gone wrong). Fills
 * first with the first MOSH INSTALL line after UNAME that is not SKIP or
 * DIR, skips with the SKIP lines and rest with the other lines.
 */
static char skips[1024], uname_line[256];

static int
run_script(const char *payload, const char *send, char *first, size_t flen,
    char *rest, size_t rlen)
{
	struct boot b;
	struct boot_run r;
	char hex[65], reply[256];
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)boot_script,
		(char *)"mosh", (char *)"server", (char *)"new", NULL };
	const char *line;
	size_t used = 0, sused = 0;

	memset(&b, 0, sizeof b);
	b.prog = "boot_test";
	first[0] = rest[0] = skips[0] = uname_line[0] = '\0';
	boot_spawn(&b, &r, argv, NULL, 1, 0);
	while ((line = boot_getline(&r)) != NULL) {
		if (strncmp(line, "MOSH INSTALL UNAME ", 19) == 0) {
			snprintf(uname_line, sizeof uname_line, "%s", line);
			if (payload == NULL) {
				close(r.in);
				r.in = -1;
				continue;
			}
			boot_hash((const uint8_t *)payload, strlen(payload),
			    hex);
			snprintf(reply, sizeof reply, "%s %lu %zu "
			    "mosh-test-%.16s\n", hex, (unsigned long)
			    boot_cksum((const uint8_t *)payload,
			    strlen(payload)), strlen(payload), hex);
			write_all(r.in, reply, strlen(reply));
		} else if (strncmp(line, "MOSH INSTALL SKIP ", 18) == 0) {
			if (sused + strlen(line) + 2 < sizeof skips) {
				sused += (size_t)snprintf(skips + sused,
				    sizeof skips - sused, "%s\n", line + 18);
			}
		} else if (strncmp(line, "MOSH INSTALL DIR ", 17) == 0) {
			continue;
		} else if (first[0] == '\0' &&
		    strncmp(line, "MOSH INSTALL ", 13) == 0) {
			snprintf(first, flen, "%s", line);
			if (strncmp(line, "MOSH INSTALL SEND", 17) == 0) {
				write_all(r.in, send, strlen(send));
			}
			close(r.in);
			r.in = -1;
		} else if (used + strlen(line) + 2 < rlen) {
			used += (size_t)snprintf(rest + used, rlen - used,
			    "%s\n", line);
		}
	}
	return boot_reap(&r);
}

/* 1 if a run said "MOSH INSTALL <said>" and then ran the copy. */
static int
script_runs(const char *payload, const char *send, const char *said)
{
	char first[256], rest[1024], want[64];
	int st;

	st = run_script(payload, send, first, sizeof first, rest,
	    sizeof rest);
	snprintf(want, sizeof want, "MOSH INSTALL %s", said);
	return st == 0 && strncmp(first, want, strlen(want)) == 0 &&
	    strcmp(rest, "RAN server new\n") == 0;
}

static int
file_is(const char *path, const char *want)
{
	char got[512];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		return 0;
	}
	n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	return strcmp(got, want) == 0;
}

static int
count_files(const char *dir)
{
	char cmd[400], out[32];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	if ((f = popen(cmd, "r")) != NULL) {
		if (fgets(out, sizeof out, f) != NULL) {
			n = atoi(out);
		}
		pclose(f);
	}
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, 0700);
}

/*
 * PATH with only the tools the script needs (cksum too if with_cksum):
 * a server without sha256sum, shasum and openssl.
 */
static char saved_path[4096], tools[300];

static void
without_sha(int with_cksum)
{
	static const char *const need[] = {
		"sh", "uname", "mkdir", "ls", "id", "cat", "chmod", "mv", "rm",
		"wc", "cksum"
	};
	char cmd[800];
	size_t i;

	setenv("PATH", saved_path, 1);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'; mkdir '%s'", tools, tools);
	CHECK(system(cmd) == 0);
	for (i = 0; i < LEN(need) - (with_cksum ? 0 : 1); i++) {
		snprintf(cmd, sizeof cmd, "ln -s \"$(command -v %s)\" '%s/%s'",
		    need[i], tools, need[i]);
		CHECK(system(cmd) == 0);
	}
	setenv("PATH", tools, 1);
}

/* boot_cksum is what POSIX cksum prints. */
static void
test_cksum(void)
{
	static const char *const texts[] = {
		"", "a", "123456789", "#!/bin/sh\necho hi\n"
	};
	char cmd[128], out[64], want[64];
	FILE *f;
	size_t i;

	for (i = 0; i < LEN(texts); i++) {
		snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | cksum",
		    texts[i]);
		out[0] = '\0';
		if ((f = popen(cmd, "r")) != NULL) {
			if (fgets(out, sizeof out, f) == NULL) {
				out[0] = '\0';
			}
			pclose(f);
		}
		snprintf(want, sizeof want, "%lu %zu\n", (unsigned long)
		    boot_cksum((const uint8_t *)texts[i], strlen(texts[i])),
		    strlen(texts[i]));
		CHECK(strcmp(out, want) == 0);
	}
	CHECK(boot_cksum((const uint8_t *)"123456789", 9) == 930766865u);
}

/* A 64-byte ELF header (class, data, e_machine) with one program header. */
static void
elf_make(uint8_t *p, size_t len, int cls, int data, int mach, int ptype)
{
	size_t ph = cls == 2 ? 64 : 52, ent = cls == 2 ? 56 : 32;
	int le = data == 1;

	memset(p, 0, len);
	memcpy(p, "\177ELF", 4);
	p[4] = (uint8_t)cls;
	p[5] = (uint8_t)data;
	p[le ? 18 : 19] = (uint8_t)mach;
	p[cls == 2 ? (le ? 32 : 39) : (le ? 28 : 31)] = (uint8_t)ph;
	p[le ? ph - 10 : ph - 9] = (uint8_t)ent;
	p[le ? ph - 8 : ph - 7] = 1;
	p[le ? ph : ph + 3] = (uint8_t)ptype;
}

/* The uname table and the ELF check behind the binary picked. */
static void
test_arch(void)
{
	static const struct {
		const char *uname;
		int data;
		const char *dist;
	} cases[] = {
		{ "Linux x86_64", 0, "x86_64" }, { "Linux aarch64", 1, "aarch64" },
		{ "Linux arm64", 0, "aarch64" }, { "Linux armv7l", 1, "armv7" },
		{ "Linux armv8l", 0, "armv7" }, { "Linux i386", 0, "i386" },
		{ "Linux i686", 1, "i386" }, { "Linux mips", 2, "mips" },
		{ "Linux mips", 1, "mipsel" }, { "Linux mips", 0, NULL },
		{ "Linux riscv64", 0, "riscv64" }, { "Linux armv6l", 1, NULL },
		{ "Darwin x86_64", 0, NULL }, { "Linux", 0, NULL },
		{ "Linux x86_64 ", 0, NULL }
	};
	uint8_t elf[200];
	char why[256];
	const char *d;
	size_t i;
	int neg;

	for (i = 0; i < LEN(cases); i++) {
		d = boot_arch_dist(cases[i].uname, cases[i].data);
		CHECK(cases[i].dist == NULL ? d == NULL :
		    d != NULL && strcmp(d, cases[i].dist) == 0);
	}
	elf_make(elf, sizeof elf, 2, 1, 183, 1);
	CHECK(boot_elf_check(elf, sizeof elf, "aarch64", why, sizeof why) == 0);
	CHECK(boot_elf_check(elf, sizeof elf, "x86_64", why, sizeof why) == -1);
	CHECK(strstr(why, "another machine") != NULL);
	elf_make(elf, sizeof elf, 2, 1, 183, 3);
	CHECK(boot_elf_check(elf, sizeof elf, "aarch64", why, sizeof why) == -1);
	CHECK(strstr(why, "dynamically linked") != NULL);
	elf_make(elf, sizeof elf, 1, 2, 8, 1);
	CHECK(boot_elf_check(elf, sizeof elf, "mips", why, sizeof why) == 0);
	CHECK(boot_elf_check(elf, sizeof elf, "mipsel", why, sizeof why) == -1);
	elf_make(elf, sizeof elf, 1, 1, 40, 1);
	CHECK(boot_elf_check(elf, sizeof elf, "armv7", why, sizeof why) == 0);
	CHECK(boot_elf_check(elf, sizeof elf, "i386", why, sizeof why) == -1);
	CHECK(boot_elf_check(elf, 40, "armv7", why, sizeof why) == -1);
	elf[44] = 200;			/* more program headers than bytes */
	CHECK(boot_elf_check(elf, sizeof elf, "armv7", why, sizeof why) == -1);
	memcpy(elf, "#!/bin/sh\n", 10);
	CHECK(boot_elf_check(elf, sizeof elf, "armv7", why, sizeof why) == -1);
	/* --install takes a file only after '=' (it never eats the host). */
	CHECK(boot_find("install", 7, &neg) != NULL &&
	    boot_find("install", 7, &neg)->kind == 3);
}

/* EI_DATA of /bin/sh, as the script reads it with od. */
static int
shdata_of_sh(void)
{
	unsigned char h[6];
	FILE *f = fopen("/bin/sh", "rb");
	int d = 0;

	if (f != NULL) {
		if (fread(h, 1, sizeof h, f) == sizeof h) {
			d = h[5];
		}
		fclose(f);
	}
	return d;
}

static void
test_script(void)
{
	static const char bin[] = "#!/bin/sh\necho \"RAN $*\"\n";
	char first[256], rest[1024], hex[65], path[512], dir[300];
	char run[300], alt[400], emu[320], cmd[1400], want_uname[300];
	struct utsname u;
	int st;

	if (uname(&u) == -1) {
		CHECK(0);
		return;
	}
	snprintf(home, sizeof home, "/tmp/boot_test.XXXXXX");
	if (mkdtemp(home) == NULL) {
		CHECK(0);
		return;
	}
	setenv("HOME", home, 1);
	unsetenv("XDG_CACHE_HOME");
	/* The next directory tried, so that no test reaches /dev/shm. */
	snprintf(run, sizeof run, "%s/run", home);
	mkdir(run, 0700);
	setenv("XDG_RUNTIME_DIR", run, 1);
	snprintf(saved_path, sizeof saved_path, "%s", getenv("PATH"));
	snprintf(tools, sizeof tools, "%s/bin", home);
	boot_hash((const uint8_t *)bin, strlen(bin), hex);
	snprintf(dir, sizeof dir, "%s/.cache/mosh", home);
	snprintf(path, sizeof path, "%s/mosh-test-%.16s", dir, hex);

	/* First run: asks for the binary, keeps it, runs it as the server. */
	st = run_script(bin, bin, first, sizeof first, rest,
	    sizeof rest);
	CHECK(strncmp(first, "MOSH INSTALL SEND ", 18) == 0);
	CHECK(strcmp(rest, "RAN server new\n") == 0);
	CHECK(st == 0);
	CHECK(file_is(path, bin));
	CHECK(count_files(dir) == 1);

	/* Second run: the copy verifies; nothing is sent. */
	st = run_script(bin, "", first, sizeof first, rest,
	    sizeof rest);
	CHECK(strncmp(first, "MOSH INSTALL HAVE ", 18) == 0);
	CHECK(strcmp(rest, "RAN server new\n") == 0 && st == 0);

	/* A copy gone bad at our name is replaced. */
	chmod(path, 0700);
	{
		FILE *f = fopen(path, "w");

		if (f != NULL) {
			fputs("#!/bin/sh\necho EVIL\n", f);
			fclose(f);
		}
	}
	st = run_script(bin, bin, first, sizeof first, rest,
	    sizeof rest);
	CHECK(strncmp(first, "MOSH INSTALL SEND ", 18) == 0);
	CHECK(strcmp(rest, "RAN server new\n") == 0 && st == 0);
	CHECK(file_is(path, bin));

	/* A transfer that does not verify leaves the good copy alone. */
	unlink(path);
	st = run_script(bin, "#!/bin/sh\necho TRUNCATED\n", first,
	    sizeof first, rest, sizeof rest);
	CHECK(strncmp(first, "MOSH INSTALL SEND ", 18) == 0);
	CHECK(strstr(rest, "MOSH INSTALL FAIL the copy in") != NULL);
	CHECK(st != 0);
	CHECK(access(path, F_OK) == -1);
	CHECK(count_files(dir) == 0);	/* no temporary left behind */

	/* The machine is said first: uname -sm and /bin/sh's byte order. */
	snprintf(want_uname, sizeof want_uname, "MOSH INSTALL UNAME %d %s %s",
	    shdata_of_sh(), u.sysname, u.machine);
	CHECK(strcmp(uname_line, want_uname) == 0);

	/* Something that is not a file at our name: the next directory. */
	mkdir(path, 0700);
	st = run_script(bin, bin, first, sizeof first, rest,
	    sizeof rest);
	CHECK(strstr(skips, "is not a regular file") != NULL && st == 0);
	CHECK(strncmp(first, "MOSH INSTALL SEND ", 18) == 0);
	CHECK(strstr(first, run) != NULL);
	snprintf(alt, sizeof alt, "%s/mosh/mosh-test-%.16s", run, hex);
	CHECK(file_is(alt, bin));
	rmdir(path);
	unlink(alt);

	/* A cache directory others may write, or not the user's: refused. */
	chmod(dir, 0770);
	st = run_script(bin, bin, first, sizeof first, rest,
	    sizeof rest);
	CHECK(strstr(skips, "only it can write") != NULL && st == 0);
	CHECK(strstr(first, run) != NULL);
	CHECK(strcmp(rest, "RAN server new\n") == 0);
	CHECK(count_files(dir) == 0);
	chmod(dir, 0702);
	/* ... the copy in the next directory is reused. */
	st = run_script(bin, "", first, sizeof first, rest,
	    sizeof rest);
	CHECK(strstr(skips, "only it can write") != NULL && st == 0);
	CHECK(strncmp(first, "MOSH INSTALL HAVE ", 18) == 0);
	chmod(dir, 0700);
	if (getuid() == 0 && chown(dir, 65534, 65534) == 0) {
		st = run_script(bin, bin, first, sizeof first, rest,
		    sizeof rest);
		CHECK(strstr(skips, "only it can write") != NULL && st == 0);
		CHECK(chown(dir, 0, 0) == 0);
	}
	CHECK(count_files(dir) == 0);
	unlink(alt);

	/* A symbolic link is refused even to a good directory. */
	snprintf(cmd, sizeof cmd, "mv '%s' '%s.real' && ln -s '%s.real' '%s'",
	    dir, dir, dir, dir);
	CHECK(system(cmd) == 0);
	st = run_script(bin, bin, first, sizeof first, rest,
	    sizeof rest);
	CHECK(strstr(skips, "a symbolic link") != NULL && st == 0);
	snprintf(cmd, sizeof cmd, "rm -f '%s' && mv '%s.real' '%s'", dir, dir,
	    dir);
	CHECK(system(cmd) == 0);
	unlink(alt);

	/*
	 * A directory where the copy cannot run (as on a noexec mount: the
	 * emulator hook refuses files there): the next directory gets it
	 * from the first, and the binary crosses once.
	 */
	snprintf(emu, sizeof emu, "%s/emu", home);
	snprintf(cmd, sizeof cmd, "case $1 in %s/*) exit 126;; esac; "
	    "exec \"$@\"\n", dir);
	write_file(emu, cmd);
	setenv("MOSH_INSTALL_EMULATOR", emu, 1);
	st = run_script(bin, bin, first, sizeof first, rest, sizeof rest);
	CHECK(strncmp(first, "MOSH INSTALL SEND ", 18) == 0);
	CHECK(strstr(first, dir) != NULL);
	CHECK(strstr(skips, "cannot run") != NULL && st == 0);
	CHECK(strcmp(rest, "RAN server new\n") == 0);
	CHECK(file_is(path, bin) && file_is(alt, bin));
	st = run_script(bin, "", first, sizeof first, rest, sizeof rest);
	CHECK(strncmp(first, "MOSH INSTALL HAVE ", 18) == 0 && st == 0);
	CHECK(strcmp(rest, "RAN server new\n") == 0);
	unsetenv("MOSH_INSTALL_EMULATOR");
	unlink(alt);
	unlink(emu);
	unlink(path);

	/* Without a SHA-256 tool: POSIX cksum decides, never the size. */
	without_sha(1);
	CHECK(script_runs(bin, bin, "SEND cksum"));
	CHECK(file_is(path, bin));
	CHECK(script_runs(bin, "", "HAVE cksum"));
	/* Same size, other bytes: not reused. */
	write_file(path, "#!/bin/sh\necho \"EVL $*\"\n");
	CHECK(script_runs(bin, bin, "SEND cksum"));
	/* No checksum tool at all: sent again every time. */
	without_sha(0);
	CHECK(script_runs(bin, bin, "SEND none"));
	write_file(path, "#!/bin/sh\necho \"EVL $*\"\n");
	CHECK(script_runs(bin, bin, "SEND none"));
	/* ... and a short transfer still fails on its length. */
	st = run_script(bin, "#!/bin/sh\n", first, sizeof first, rest,
	    sizeof rest);
	CHECK(strstr(rest, "did not verify (none)") != NULL && st != 0);
	setenv("PATH", saved_path, 1);
	unlink(path);

	/* No binary for this machine: stdin closed, nothing written. */
	st = run_script(NULL, bin, first, sizeof first, rest, sizeof rest);
	CHECK(st != 0 && first[0] == '\0' && rest[0] == '\0');
	CHECK(count_files(dir) == 0);

	snprintf(path, sizeof path, "rm -rf '%s'", home);
	CHECK(system(path) == 0);
}

static void
test_memo(void)
{
	struct boot b;
	char dir[] = "/tmp/boot_memo.XXXXXX", cmd[64];

	memset(&b, 0, sizeof b);
	b.prog = "boot_test";
	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	setenv("XDG_CACHE_HOME", dir, 1);
	CHECK(!boot_memo_has("u@h"));
	boot_memo_add(&b, "u@h");
	boot_memo_add(&b, "u@h");		/* kept once */
	boot_memo_add(&b, "other");
	boot_memo_add(&b, "bad\nname");	/* never a line of its own */
	CHECK(boot_memo_has("u@h"));
	CHECK(boot_memo_has("other"));
	CHECK(!boot_memo_has("u@"));
	CHECK(!boot_memo_has("bad"));
	snprintf(cmd, sizeof cmd, "%s/mosh/install-hosts", dir);
	CHECK(file_is(cmd, "u@h\nother\n"));
	unsetenv("XDG_CACHE_HOME");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int
main(void)
{
	test_find();
	test_split();
	test_quote();
	test_lines();
	test_visible();
	test_host();
	test_server_args();
	test_cksum();
	test_arch();
	test_script();
	test_memo();
	return TEST_DONE();
}
