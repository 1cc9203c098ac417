/*
 * hostile.c: a hostile sender for end-to-end tests. Given the session key,
 * it forges datagrams against a running server or client and sends them
 * from fresh UDP sockets (new source addresses), then listens on those
 * sockets for a while and counts what comes back: a peer that adopted one
 * of them as its new address would start sending there.
 *
 * Usage:
 *   MOSH_KEY=KEY hostile [-d server|client] [-n N] [-s SEED] [-r RATE]
 *                        [-w MS] MODE IP PORT
 *
 * The key comes from the environment (as the client's does), so it never
 * shows in a command line. -d names the role of the target (default
 * server): authentic datagrams are sealed in the direction it accepts,
 * reflected ones in the direction it sends. -n is the count (default 100),
 * -s the PRNG seed (default 1), -r a pace in datagrams per second (default
 * as fast as sendto goes), -w how long to listen for replies afterwards
 * (default 500 ms).
 *
 * Modes (the "base" datagram is authentic, in the target's direction, with
 * a sequence number of 2^62 + a random offset, newer than anything a real
 * session reaches; it is never sent as it is, so if any of its mangled
 * forms were accepted the target would roam to us and we would hear it):
 *   garbage   N random datagrams, 0..1500 bytes, some over 2048
 *   trunc     the base cut to every length 0..len-1 (N ignored)
 *   flip      the base with one bit flipped, for each of its bits
 *   reflect   N authentic datagrams with new sequence numbers but the
 *             target's own sending direction
 *   old       N authentic datagrams in the right direction with sequence
 *             numbers 0 and 1 (older than the newest a running session
 *             has seen), each from a new socket: the payload goes up to
 *             SSP (a fragment header and random bytes) but the target
 *             must not move to the new address
 *   replay    one authentic old datagram (seq 1) sent N times
 *   flood     N invalid datagrams: garbage, truncations, bit flips and
 *             reflections in turn, from 4 sockets
 *
 * Output, one line on stdout: "hostile MODE: sent N replies M". Exit 0,
 * or 2 on a usage or setup error (message on stderr).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mosh.h"

#define H_MAX_SOCKS 256
#define H_BASE_SEQ ((uint64_t)1 << 62)

struct hostile {
	struct ocb ocb;
	int rx_dir;			/* the direction the target accepts */
	struct sockaddr_storage to;
	socklen_t tolen;
	int fds[H_MAX_SOCKS];
	int nfds;
	uint64_t rng;
	long rate;
	uint64_t sent;
	uint64_t t0;
	uint8_t base[NET_MAX_DGRAM];
	size_t baselen;
};

static uint64_t
h_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: the same seed, the same datagrams. */
static uint64_t
h_rand(struct hostile *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545F4914F6CDD1DULL;
}

static void
h_fill(struct hostile *h, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		p[i] = (uint8_t)(h_rand(h) >> 32);
	}
}

/* A new socket of the target's family, kept for listening; -1 if none. */
static int
h_sock(struct hostile *h)
{
	int fd;

	if (h->nfds == H_MAX_SOCKS) {
		/* reuse round robin: still a source the target never saw
		 * authentic datagrams from in the right order */
		return h->fds[h_rand(h) % H_MAX_SOCKS];
	}
	fd = socket(h->to.ss_family, SOCK_DGRAM, 0);
	if (fd == -1) {
		perror("hostile: socket");
		return -1;
	}
	h->fds[h->nfds++] = fd;
	return fd;
}

static void
h_pace(struct hostile *h)
{
	uint64_t due;
	struct timespec ts;

	if (h->rate <= 0 || h->sent % 32 != 0) {
		return;
	}
	due = h->t0 + h->sent * 1000 / (uint64_t)h->rate;
	while (h_ms() < due) {
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000;
		nanosleep(&ts, NULL);
	}
}

static void
h_send(struct hostile *h, int fd, const uint8_t *d, size_t n)
{
	if (fd == -1) {
		return;
	}
	h_pace(h);
	/* A full socket buffer loses the datagram, as the network may. */
	(void)sendto(fd, d, n, 0, (const struct sockaddr *)&h->to, h->tolen);
	h->sent++;
}

/* An authentic datagram: a fragment header and random bytes. */
static size_t
h_seal(struct hostile *h, int dir, uint64_t seq, uint8_t *out)
{
	uint8_t payload[200];
	size_t n = NET_MIN_PAYLOAD + (size_t)(h_rand(h) % 150);

	h_fill(h, payload, n);
	payload[8] = 0x80;	/* final fragment, number 0 */
	payload[9] = 0;
	return net_seal(&h->ocb, dir, seq, (uint16_t)(h_rand(h) % 65535),
	    NET_TS_NONE, payload, n, out);
}

static void
h_garbage(struct hostile *h, int fd, uint8_t *d)
{
	size_t n = (size_t)(h_rand(h) % 1501);

	if (h_rand(h) % 8 == 0) {
		n = NET_MAX_DGRAM + 1 + (size_t)(h_rand(h) % 1000);
	}
	h_fill(h, d, n);
	h_send(h, fd, d, n);
}

static void
h_trunc(struct hostile *h, int fd, size_t n)
{
	h_send(h, fd, h->base, n);
}

static void
h_flip(struct hostile *h, int fd, size_t bit, uint8_t *d)
{
	memcpy(d, h->base, h->baselen);
	d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	h_send(h, fd, d, h->baselen);
}

static void
h_reflect(struct hostile *h, int fd, uint64_t i, uint8_t *d)
{
	size_t n = h_seal(h, !h->rx_dir, H_BASE_SEQ + 4096 + i, d);

	h_send(h, fd, d, n);
}

/* Listen on every socket for ms milliseconds; count datagrams. */
static long
h_listen(struct hostile *h, int ms)
{
	struct pollfd p[H_MAX_SOCKS];
	uint8_t d[NET_MAX_DGRAM];
	uint64_t end = h_ms() + (uint64_t)ms;
	long got = 0;
	int i, left;

	for (i = 0; i < h->nfds; i++) {
		p[i].fd = h->fds[i];
		p[i].events = POLLIN;
	}
	while ((left = (int)(end - h_ms())) > 0 && end > h_ms()) {
		if (poll(p, (nfds_t)h->nfds, left) <= 0) {
			continue;
		}
		for (i = 0; i < h->nfds; i++) {
			if ((p[i].revents & POLLIN) &&
			    recv(p[i].fd, d, sizeof d, MSG_DONTWAIT) >= 0) {
				got++;
			}
		}
	}
	return got;
}

static int
usage(void)
{
	fputs("usage: MOSH_KEY=KEY hostile [-d server|client] [-n N] "
	    "[-s SEED] [-r RATE] [-w MS]\n"
	    "       garbage|trunc|flip|reflect|old|replay|flood IP PORT\n",
	    stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static struct hostile h;
	struct addrinfo hints, *res;
	uint8_t key[OCB_KEY_LEN], d[NET_MAX_DGRAM + 1024];
	const char *k, *err = NULL, *mode;
	long n = 100, wait = 500, replies;
	uint64_t i;
	size_t len;
	int c, fd, e;

	h.rx_dir = NET_TO_SERVER;
	h.rng = 1;
	while ((c = getopt(argc, argv, "d:n:s:r:w:")) != -1) {
		switch (c) {
		case 'd':
			if (strcmp(optarg, "client") == 0) {
				h.rx_dir = NET_TO_CLIENT;
			} else if (strcmp(optarg, "server") != 0) {
				return usage();
			}
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 's':
			h.rng = strtoull(optarg, NULL, 10) | 1;
			break;
		case 'r':
			h.rate = strtol(optarg, NULL, 10);
			break;
		case 'w':
			wait = strtol(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 3 || n < 0) {
		return usage();
	}
	mode = argv[optind];
	if ((k = getenv("MOSH_KEY")) == NULL ||
	    ocb_key_parse(k, key, &err) == -1 || ocb_init(&h.ocb, key) == -1) {
		fprintf(stderr, "hostile: MOSH_KEY: %s\n",
		    err ? err : "missing");
		return 2;
	}
	explicit_bzero(key, sizeof key);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(argv[optind + 1], argv[optind + 2], &hints,
	    &res)) != 0 || res->ai_addrlen > sizeof h.to) {
		fprintf(stderr, "hostile: %s\n", e ? gai_strerror(e) : "addr");
		return 2;
	}
	memcpy(&h.to, res->ai_addr, res->ai_addrlen);
	h.tolen = res->ai_addrlen;
	freeaddrinfo(res);
	h.baselen = h_seal(&h, h.rx_dir, H_BASE_SEQ + h_rand(&h) % 4096,
	    h.base);
	h.t0 = h_ms();
	if (strcmp(mode, "garbage") == 0) {
		for (i = 0; i < (uint64_t)n; i++) {
			h_garbage(&h, h_sock(&h), d);
		}
	} else if (strcmp(mode, "trunc") == 0) {
		for (len = 0; len < h.baselen; len++) {
			h_trunc(&h, h_sock(&h), len);
		}
	} else if (strcmp(mode, "flip") == 0) {
		for (len = 0; len < h.baselen * 8; len++) {
			h_flip(&h, h_sock(&h), len, d);
		}
	} else if (strcmp(mode, "reflect") == 0) {
		for (i = 0; i < (uint64_t)n; i++) {
			h_reflect(&h, h_sock(&h), i, d);
		}
	} else if (strcmp(mode, "old") == 0) {
		for (i = 0; i < (uint64_t)n; i++) {
			len = h_seal(&h, h.rx_dir, i % 2, d);
			h_send(&h, h_sock(&h), d, len);
		}
	} else if (strcmp(mode, "replay") == 0) {
		len = h_seal(&h, h.rx_dir, 1, d);
		fd = h_sock(&h);
		for (i = 0; i < (uint64_t)n; i++) {
			h_send(&h, fd, d, len);
		}
	} else if (strcmp(mode, "flood") == 0) {
		for (i = 0; i < 4; i++) {
			h_sock(&h);
		}
		for (i = 0; i < (uint64_t)n; i++) {
			fd = h.fds[i % 4];
			switch (i % 4) {
			case 0:
				h_garbage(&h, fd, d);
				break;
			case 1:
				h_trunc(&h, fd, (size_t)(h_rand(&h) %
				    h.baselen));
				break;
			case 2:
				h_flip(&h, fd, (size_t)(h_rand(&h) %
				    (h.baselen * 8)), d);
				break;
			default:
				h_reflect(&h, fd, i, d);
				break;
			}
		}
	} else {
		return usage();
	}
	replies = h_listen(&h, (int)wait);
	printf("hostile %s: sent %llu replies %ld\n", mode,
	    (unsigned long long)h.sent, replies);
	ocb_wipe(&h.ocb);
	return 0;
}
