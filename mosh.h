/*
 * mosh.h: the one header of mosh. Read top to bottom it is the architecture:
 * limits and small helpers first, then one section per translation unit,
 * lower layers first:
 *   ocb.c       AES-128-OCB3, the session key
 *   net.c       UDP datagrams: sealing, timestamps, RTT, roaming
 *   ssp.c       fragments, zlib, protobuf, the State Synchronization Protocol
 *   framebuf.c  the screen model and the renderer that diffs two frames
 *   vt.c        the terminal emulator: host bytes into a frame
 *   predict.c   local echo and the notification bar, drawn over a frame
 *   mosh.c      main() and the dispatch to a role; what the roles share
 *   server.c    the server role: a shell on a pty, served over SSP
 *   client.c    the client role: the local terminal, drawn from SSP
 *   boot.c      the front end: ssh, self-install, then the client
 *   tunnel.c    the ssh path when UDP is blocked: the remote tunnel role
 *               and the client's end of it
 * From main() (mosh.c) every role is one call away: server_main,
 * client_main, tunnel_main, boot_main. Everything not declared here is
 * static in its .c file; a role's section says what it exports to the
 * others, and what it exports only for the tests. doc/ holds the
 * protocol, terminal and prediction notes that the § citations refer to.
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */
#ifndef MOSH_H
#define MOSH_H

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include <bearssl.h>

#ifndef MOSH_VERSION
#define MOSH_VERSION "0.1.0"
#endif
/* The upstream release whose wire protocol and behaviour we follow. */
#define MOSH_COMPAT_VERSION "1.4.0"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* ==== buf: a growable byte buffer (render output, serialisation) ==== */

/*
 * Owned by whoever embeds it; buf_free releases it. On allocation failure
 * the append functions return -1 and leave the buffer as it was.
 */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static inline int
buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (more <= b->cap - b->len) {
		return 0;
	}
	if (more > SIZE_MAX / 2 - b->len) {
		return -1;
	}
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < more) {
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0) {
		return 0;
	}
	if (buf_reserve(b, n) == -1) {
		return -1;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int
buf_putc(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

static inline void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ==== ocb.c: AES-128-OCB3 (RFC 7253) on BearSSL's constant-time AES ==== */

#define OCB_KEY_LEN 16
#define OCB_NONCE_LEN 12
#define OCB_TAG_LEN 16
#define OCB_KEY_PRINTABLE_LEN 22

/*
 * struct ocb: one key's AES schedules (BearSSL aes_x86ni when the CPU has
 * AES-NI, else aes_ct64 on 64-bit hosts and aes_ct on 32-bit ones) and the
 * OCB L values. Owned by the caller, used by value, no heap; ocb_wipe clears
 * it. L_i for every i a 64-bit block number can need, so no doubling happens
 * per message. The software AES also keeps its round keys expanded for the
 * bitsliced core (bs), which encrypts four (ct64) or two (ct) blocks at once.
 */
#define OCB_L_COUNT 64

enum {
	OCB_IMPL_AUTO,		/* AES-NI if the CPU has it, else ct64 or ct */
	OCB_IMPL_X86NI,		/* BearSSL aes_x86ni */
	OCB_IMPL_CT64,		/* BearSSL aes_ct64 */
	OCB_IMPL_CT		/* BearSSL aes_ct */
};

struct ocb {
	union {
		const br_block_cbcenc_class *vtable;
		br_aes_x86ni_cbcenc_keys ni;
		br_aes_ct64_cbcenc_keys ct;
		br_aes_ct_cbcenc_keys ct32;
	} enc;
	union {
		const br_block_cbcdec_class *vtable;
		br_aes_x86ni_cbcdec_keys ni;
		br_aes_ct64_cbcdec_keys ct;
		br_aes_ct_cbcdec_keys ct32;
	} dec;
	union {
		uint64_t w64[120];
		uint32_t w32[120];
	} bs;				/* expanded round keys (ct64, ct) */
	unsigned rounds;		/* of bs; 0 if the core is not used */
	int impl;			/* OCB_IMPL_X86NI, _CT64 or _CT */
	uint8_t lstar[16];		/* L_* = E(0) */
	uint8_t ldollar[16];		/* L_$ = double(L_*) */
	uint8_t l[OCB_L_COUNT][16];	/* L_0 = double(L_$), then doubling */
};

/*
 * ocb_init: set up o for a 16-byte key with the fastest constant-time AES;
 * 0, or -1 with *o zeroed if BearSSL cannot give one (not seen in practice).
 * ocb_init_impl chooses the AES implementation (tests and the bench): -1 if
 * that one is not available on this CPU, with *o zeroed.
 * ocb_impl_name: "aes_x86ni", "aes_ct64" or "aes_ct". ocb_wipe: erase o.
 */
int ocb_init(struct ocb *o, const uint8_t key[OCB_KEY_LEN]);
int ocb_init_impl(struct ocb *o, const uint8_t key[OCB_KEY_LEN], int impl);
const char *ocb_impl_name(const struct ocb *o);
void ocb_wipe(struct ocb *o);

/*
 * ocb_seal: encrypt len bytes of in and authenticate them with ad (adlen
 * bytes; NULL if 0). Writes len + OCB_TAG_LEN bytes to out: ciphertext,
 * then the tag. Never reuse a nonce with one key.
 *
 * ocb_open: in is ciphertext + tag (len bytes). On success writes the
 * len - OCB_TAG_LEN bytes of plaintext to out and returns 0. On a short
 * input or a tag mismatch returns -1 and out holds zeros (nothing
 * unauthenticated leaves).
 *
 * Both work in place (out == in) and with out below in (out < in, sliding
 * down: e.g. a datagram opened over its own nonce); out above an
 * overlapping in is not allowed. ad may overlap anything.
 */
void ocb_seal(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
    uint8_t *out);
int ocb_open(const struct ocb *o, const uint8_t nonce[OCB_NONCE_LEN],
    const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
    uint8_t *out);

/*
 * The printable session key (protocol.md §1): 22 characters of standard
 * base64 without padding. ocb_key_parse: 0, or -1 with key zeroed and *err
 * (if err is not NULL) set to upstream's message: "Key must be 22 letters
 * long.", "Key must be well-formed base64." or "Base64 key was not encoded
 * 128-bit key.". ocb_key_format writes 22 characters and a NUL.
 */
int ocb_key_parse(const char *s, uint8_t key[OCB_KEY_LEN], const char **err);
void ocb_key_format(const uint8_t key[OCB_KEY_LEN],
    char out[OCB_KEY_PRINTABLE_LEN + 1]);

/* ==== net.c: UDP sockets, datagram crypto, timestamps, RTT, roaming ==== */

/*
 * Sizes (protocol.md §2.3, §2.5, §3.6). A datagram is nonce_tail(8) ||
 * OCB(timestamp(2) || timestamp_reply(2) || payload) || tag(16); the payload
 * is one SSP fragment, opaque here, and never shorter than its 10-byte
 * header. NET_MTU_* are the largest datagrams a Connection produces: SSP
 * slices its fragments to n->mtu - NET_OVERHEAD - 10 bytes.
 */
#define NET_NONCE_TAIL 8
#define NET_OVERHEAD 28			/* nonce tail, timestamps, tag */
#define NET_MAX_DGRAM 2048		/* receive buffer; longer is dropped */
#define NET_MAX_PAYLOAD (NET_MAX_DGRAM - NET_OVERHEAD)
#define NET_MIN_PAYLOAD 10		/* the fragment header */
#define NET_MTU_IPV4 1252		/* 1280 - 20 (IP) - 8 (UDP) */
#define NET_MTU_IPV6 1216		/* 1280 - 40 - 16 (ext. headers) - 8 */
#define NET_MTU_FALLBACK 500		/* before a socket, and after EMSGSIZE */
#define NET_TS_NONE 0xffff		/* "no timestamp" (§3.3) */
#define NET_MAX_SOCKS 10		/* client sockets kept (§3.9) */
#define NET_PORT_LOW 60001		/* default server port range (§3.8) */
#define NET_PORT_HIGH 60999
#define NET_ASSOC_TIMEOUT 40000		/* server detaches after (ms) */
#define NET_HOP_INTERVAL 10000		/* client port hop rule (ms) */
#define NET_OLD_SOCK_AGE 60000		/* old client sockets closed after */

/* Direction bit of the nonce (§2.2): who the datagram is for. */
#define NET_TO_SERVER 0
#define NET_TO_CLIENT 1

/* Why a datagram was dropped; also the index into net_stats.drop. */
enum {
	NET_DROP_SHORT,		/* < 24 bytes: no room for nonce and tag */
	NET_DROP_OVERSIZE,	/* > NET_MAX_DGRAM bytes (MSG_TRUNC) */
	NET_DROP_AUTH,		/* tag mismatch: wrong key or forged */
	NET_DROP_DIRECTION,	/* our own direction bit: reflected */
	NET_DROP_PLAINTEXT,	/* authentic, but payload < NET_MIN_PAYLOAD */
	NET_DROP_RECVERR,	/* recvmsg failed with other than EAGAIN */
	NET_NDROP
};

/* Counters, only ever incremented; the server prints them with -v. */
struct net_stats {
	uint64_t drop[NET_NDROP];
	uint64_t rx;		/* authentic datagrams passed up */
	uint64_t rx_old;	/* ... of which older than the newest seen */
	uint64_t rx_ce;		/* ... of which marked congestion experienced */
	uint64_t tx;		/* datagrams handed to sendto */
	uint64_t tx_err;	/* sendto failures */
	uint64_t rx_path;	/* authentic, from net_recv_from_buffer */
	uint64_t rx_echo;	/* newest ones carrying a timestamp reply */
};

/* A socket address with its length, as recvmsg fills it. */
struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* What net_open found in an authentic datagram. */
struct net_pkt {
	uint64_t seq;		/* 63 bits */
	int dir;		/* NET_TO_SERVER or NET_TO_CLIENT */
	uint16_t ts, ts_reply;
	size_t len;		/* payload bytes */
};

/*
 * The Connection (§3). Owned by the caller, by value; net_init fills it and
 * net_close releases its sockets and wipes it. Callers may read every field
 * (the sockets through net_fds) but write only log, log_arg,
 * last_roundtrip_success and send_error (to clear it once shown).
 */
struct net {
	struct ocb ocb;		/* the session key */
	int server;		/* 1: server (may roam), 0: client */
	int dir;		/* our sending direction */
	int family;		/* of our sockets; 0 before any */
	int fds[NET_MAX_SOCKS + 1];	/* oldest first; send on the newest */
	int nfds;
	int mtu;		/* largest datagram we produce */
	uint64_t next_seq;	/* next nonce sequence number */
	uint64_t blocks;	/* 16-byte blocks sealed, for §2.5's limit */
	uint64_t expected_seq;	/* one past the newest seq received */
	uint64_t seen;		/* bit i: seq expected_seq - 1 - i arrived */
	uint32_t loss16;	/* share of the peer's datagrams missing from
				 * the sequence, moving average, in 1/65536 */
	int has_peer;		/* we have an address to send to */
	struct net_addr peer;
	uint64_t last_heard;	/* newest in-order datagram (ms);
				 * UINT64_MAX before the first */
	int saved_ok;		/* saved_ts holds a timestamp to echo */
	uint16_t saved_ts;
	uint64_t saved_at;
	int rtt_hit;		/* SRTT holds a real sample */
	double srtt, rttvar;
	uint64_t last_port_choice;	/* client: when the newest socket opened */
	uint64_t last_roundtrip_success;	/* client, set by SSP (§3.9) */
	char send_error[256];	/* "sendto: <strerror>", "" when none */
	char error[256];	/* why net_bind/net_connect failed */
	struct net_stats stats;
	/* Log lines (attach, detach, bind errors), without newline; may be
	 * NULL. net.c never writes to stderr itself. */
	void (*log)(void *arg, const char *line);
	void *log_arg;
	/* Each sealed datagram net_send makes, before it goes to the socket
	 * (the client's ssh path, protocol.md §14); may be NULL. */
	void (*tap)(void *arg, const uint8_t *d, size_t len);
	void *tap_arg;
};

/*
 * net_seal: the pure framing of §2.2-§3.1. Writes len + NET_OVERHEAD bytes
 * to out (at least that big) and returns that length, or 0 if len passes
 * NET_MAX_PAYLOAD. dir is the sending direction, seq uses its low 63 bits.
 */
size_t net_seal(const struct ocb *ocb, int dir, uint64_t seq, uint16_t ts,
    uint16_t ts_reply, const uint8_t *payload, size_t len, uint8_t *out);

/*
 * net_open: check and open one datagram (§2.4, §3.1, §3.2). rx_dir is the
 * direction we accept (the peer's), or -1 for either. On success returns 0,
 * fills *pkt and copies pkt->len bytes to payload (NET_MAX_PAYLOAD bytes of
 * room). Otherwise returns -1 with *why (if why is not NULL) set to a
 * NET_DROP_* reason; payload is then unspecified but holds no plaintext.
 */
int net_open(const struct ocb *ocb, int rx_dir, const uint8_t *d, size_t n,
    struct net_pkt *pkt, uint8_t *payload, int *why);

/* The text upstream gives for a drop reason, for logs and notifications. */
const char *net_drop_text(int why);

/* strerror with glibc's wording (upstream's), also under musl. */
const char *net_strerror(int e);

/* now mod 65536, with 65535 (NET_TS_NONE) sent as 0 (§3.3). */
uint16_t net_ts16(uint64_t now);

/*
 * net_init: an unbound Connection for the given role with the session key:
 * MTU 500, SRTT 1000, RTTVAR 500, no sockets. 0, or -1 if the key schedule
 * failed. It must be followed by net_bind (server) or net_connect (client)
 * before it touches the network, and ended by net_close.
 */
int net_init(struct net *n, int server, const uint8_t key[16]);
void net_close(struct net *n);

/*
 * net_parse_ports: "PORT" or "LOW:HIGH" (§9.1 item 4). 0 with *low and
 * *high set (equal for a single port; 0 lets the kernel choose), or -1 with
 * upstream's message (no newline) in err, e.g. "Invalid high port number
 * (x)". The caller adds "<argv0>: Bad UDP port range (<s>)".
 */
int net_parse_ports(const char *s, int *low, int *high, char *err,
    size_t errlen);

/*
 * net_bind (server, §3.8): bind one UDP socket to ip (numeric; NULL for
 * none) on the first free port of low..high (-1, -1: the default range),
 * falling back to 0.0.0.0. Failures on the way are logged with upstream's
 * texts. 0, or -1 with n->error set (the server then prints
 * "Network exception: <error>" and exits 1).
 */
int net_bind(struct net *n, const char *ip, int low, int high);

/*
 * net_connect (client, §3.9): the peer is ip:port (both numeric); open the
 * first socket of its family. now starts the port hop clock. 0, or -1 with
 * n->error set.
 */
int net_connect(struct net *n, const char *ip, const char *port,
    uint64_t now);

/* The local port of the newest socket, or -1. */
int net_port(const struct net *n);

/* The sockets to poll for reading, oldest first: copies up to max, returns
 * how many there are. They stay owned by n. */
int net_fds(const struct net *n, int *fds, int max);

/*
 * net_send: seal payload (NET_MIN_PAYLOAD..NET_MAX_PAYLOAD bytes) and send
 * it to the peer, then apply the server's 40 s detach rule or the client's
 * port hop rule (§3.8, §3.9). Returns 0 when handed to the kernel; 1 when
 * nothing was sent because there is no peer (server not attached); -1 when
 * sendto failed (n->send_error says why; after EMSGSIZE n->mtu is 500 for
 * good); -2 when the datagram may not be sent at all: bad payload length,
 * or the sequence number or the 2^47-block volume would be exhausted. The
 * caller must end the session on -2 with a fatal error.
 */
int net_send(struct net *n, const uint8_t *payload, size_t len, uint64_t now);

/*
 * net_recv: read at most one datagram (client: the first socket, oldest
 * first, that has one) and process it as net_accept does. Returns 1 with
 * *len payload bytes in payload (NET_MAX_PAYLOAD bytes of room), 0 when no
 * socket had anything, -1 when a datagram was dropped or recvmsg failed
 * (counted; *why, if not NULL, gets the NET_DROP_* reason).
 */
int net_recv(struct net *n, uint64_t now, uint8_t *payload, size_t *len,
    int *why);

/*
 * net_accept: everything net_recv does after recvmsg, for one datagram d of
 * n bytes from address from (NULL: unknown, no roaming) with ce set if the
 * IP ECN field was CE (§3.5): open it, and if it is the newest so far save
 * its timestamp, take an RTT sample, mark the peer heard and (server) roam
 * to from. Old authentic datagrams are passed up with no other effect.
 * 0 with the payload, or -1 as net_recv.
 */
int net_accept(struct net *n, const uint8_t *d, size_t len,
    const struct net_addr *from, int ce, uint64_t now, uint8_t *payload,
    size_t *plen, int *why);

/*
 * net_recv_from_buffer: one datagram that came some other way than a
 * socket (the ssh path, protocol.md §14), through the same checks as
 * net_recv, with no address: it never moves the peer. Counted in
 * stats.rx_path as well. Returns as net_recv: 1 with the payload, -1 when
 * dropped.
 */
int net_recv_from_buffer(struct net *n, const uint8_t *d, size_t len,
    uint64_t now, uint8_t *payload, size_t *plen, int *why);

/*
 * net_build: the send side without the socket: take the next sequence
 * number and the timestamp reply, and seal payload into out (NET_MAX_DGRAM
 * bytes of room). Returns the datagram length, 0 for a bad payload length,
 * or -1 when the sequence number or volume limit is reached.
 */
long net_build(struct net *n, const uint8_t *payload, size_t len,
    uint64_t now, uint8_t *out);

/* The retransmission timeout ceil(SRTT + 4 RTTVAR) in [50, 1000] ms and
 * the frame interval ceil(SRTT / 2) in [20, 250] ms (§3.4). */
uint64_t net_rto(const struct net *n);
uint64_t net_send_interval(const struct net *n);

/*
 * net_loss: per mille of the peer's recent datagrams that never arrived,
 * judged from the gaps in their sequence numbers (a late one is taken
 * back; a duplicate counts once). A moving average over about the last 16
 * sequence numbers, so it follows the path's loss within a few round trips
 * and decays as datagrams arrive again. Not in upstream: SSP uses it to
 * send copies of small instructions when the path loses datagrams.
 */
unsigned net_loss(const struct net *n);

/* The client's hop, by hand (tests); net_send does it when due. 0, or -1
 * if no socket could be opened (n->send_error says why). */
int net_hop(struct net *n, uint64_t now);

/* Fill buf with len random bytes from getrandom(), else /dev/urandom.
 * 0, or -1 if neither works (the caller must fail loudly). */
int net_random(void *buf, size_t len);
int net_key_generate(uint8_t key[16]);

/* ==== ssp.c: fragments, zlib, protobuf, State Synchronization Protocol ==== */

/* Limits and timing (protocol.md §4-§7). Times are in ms. */
#define SSP_PROTOCOL_VERSION 2
#define SSP_ACK_DELAY 100		/* delayed ack; slack added to the RTO */
#define SSP_ACK_INTERVAL 3000		/* heartbeat */
#define SSP_ACTIVE_RETRY_TIMEOUT 10000	/* retry at frame rate; shutdown limit */
#define SSP_SHUTDOWN_RETRIES 16
#define SSP_MINDELAY_CLIENT 1		/* SEND_MINDELAY */
#define SSP_MINDELAY_SERVER 8
#define SSP_SENT_MAX 32			/* stored sent states (§7.8) */
#define SSP_RECV_MAX 1024		/* received states before the quench */
#define SSP_RECV_QUENCH 15000
#define SSP_RECV_CAP (SSP_RECV_MAX + 64) /* hard bound: past it, drop */
#define SSP_CHAFF_MAX 16
#define SSP_FRAG_HDR 10			/* id(8) final:1,num:15 (2) */
#define SSP_MAX_FRAGS 32768		/* 15-bit fragment numbers */
#define SSP_INFLATE_MAX 4194304		/* uncompress() buffer upstream */
#define SSP_ZMAX (SSP_INFLATE_MAX + SSP_INFLATE_MAX / 1024 + 4096)
#define SSP_OVERHEAD 38			/* nonce 8, timestamps 4, tag 16, hdr 10 */
#define SSP_NEVER UINT64_MAX		/* a time that never comes */
#define SSP_SHUTDOWN_NUM UINT64_MAX	/* state number -1 */
#define SSP_USER_PENDING_MAX (1u << 20)	/* unacked keystroke bytes kept */
#define SSP_USER_MAX (8u << 20)		/* events a received stream may hold */
/*
 * The memory of the received states (not in upstream, which bounds only
 * their number). The peer chooses throwaway_num, and so how long each of
 * its states stays; a hostile one could keep 1088 full screens alive. So
 * the bytes are bounded too, for each part of a state on its own: the
 * remote state type's measure (struct ssp_cfg) says what a state holds,
 * part by
 * part, that the state before it in the list does not share with it; the
 * sum over the received states may not pass SSP_BUDGET_STATES times the
 * largest whole part among the oldest state, the base of the arriving one,
 * the newest and the arriving one, or the part's floor if that is more:
 *   screen: the frame (rows, cells, strings, the state's own struct),
 *	that many full screens, at least SSP_BUDGET_SCREEN_FLOOR;
 *   keys: the user stream's events (each state holds at most
 *	SSP_USER_MAX of them), at least SSP_BUDGET_KEYS_FLOOR.
 * Parts still to come (scrollback rows, stream windows) get an SSP_PART_*
 * and a budget of their own here. To stay within it the receiver evicts
 * states between the oldest and the newest, the oldest first (as the
 * sender's throwaway will), never the oldest, the newest or the arriving
 * state's base; failing that, the arriving state is dropped. Either way
 * stats.over_budget counts it. The oldest, a base and the newest plus the
 * arriving state always fit, so an honest sender always gets through.
 * SSP_RECV_LATE_MAX bounds the states kept that arrived after a higher
 * numbered one (never acknowledged, held only as bases): past it a late
 * state is dropped and counted in stats.late.
 */
enum {
	SSP_PART_SCREEN,
	SSP_PART_KEYS,
	/* scrollback rows, stream windows: here, each with its budget */
	SSP_PARTS
};
#define SSP_BUDGET_STATES 4
#define SSP_BUDGET_SCREEN_FLOOR (8u << 20)
#define SSP_BUDGET_KEYS_FLOOR SSP_USER_MAX
#define SSP_RECV_LATE_MAX 8
/*
 * Redundancy and early retries (not in upstream; README, protocol notes).
 * A new state whose instruction carries data and fits one fragment goes
 * out again as a copy, SSP_COPY_GAP apart, while it is the newest and
 * unacknowledged (same state number, diff from the acknowledged state, its
 * own datagram): once when the link reports SSP_LOSS_SOME per mille of the
 * peer's datagrams lost, twice from SSP_LOSS_HEAVY; a resend too, but not
 * within an RTO of the last copies. With fast_start, for SSP_EARLY_WINDOW
 * after our first datagram and before anything of ours is acknowledged,
 * every send of data gets two copies, and a state of one fragment is
 * retried every SSP_EARLY_RETRY instead of RTO + 100.
 */
#define SSP_COPY_GAP 20
#define SSP_LOSS_SOME 20
#define SSP_LOSS_HEAVY 200
#define SSP_EARLY_WINDOW 2000
#define SSP_EARLY_RETRY 250

/* ssp_recv's result for an instruction of another protocol version. */
#define SSP_EVERSION (-2)

/*
 * A state type (§7.1, §8), as a vtable. copy: a new object, NULL on out of
 * memory. equal: 1 or 0. diff: append to out the serialized message that
 * turns from into to (nothing appended = equal; the peer refuses more than
 * SSP_INFLATE_MAX bytes of instruction); -1 on out of memory or when to
 * does not descend from from. apply: 0, or -1 on a malformed diff (ssp
 * applies to a fresh copy and discards it then, so st may be left half
 * changed; check the whole message first, e.g. with ssp_hm_check, if it
 * matters elsewhere). subtract (may be NULL): drop prefix's content from
 * st; st may be prefix itself, which empties it. How a state is measured
 * for the budget of received states is struct ssp_cfg's remote_bytes.
 *
 * The terminal state (§8.2) is meant to be such a type: its diff writes
 * ssp_hm_put_echoack, _resize, _bytes in that order; its apply runs
 * ssp_hm_check against its echo ack, then walks ssp_hm_next.
 */
struct ssp_ops {
	void *(*copy)(const void *st);
	void (*free)(void *st);
	int (*equal)(const void *a, const void *b);
	int (*diff)(const void *from, const void *to, struct buf *out);
	int (*apply)(void *st, const uint8_t *diff, size_t len);
	void (*subtract)(void *st, const void *prefix);
};

/*
 * Protobuf field numbers (§6). An Instruction has seven fields; a
 * UserMessage or HostMessage holds each event in an instruction, whose kind
 * is an extension number, and the kind's message has its own fields.
 */
#define SSP_F_VERSION 1		/* Instruction.protocol_version */
#define SSP_F_OLD_NUM 2		/* .old_num */
#define SSP_F_NEW_NUM 3		/* .new_num */
#define SSP_F_ACK_NUM 4		/* .ack_num */
#define SSP_F_THROWAWAY_NUM 5	/* .throwaway_num */
#define SSP_F_DIFF 6		/* .diff */
#define SSP_F_CHAFF 7		/* .chaff */
#define SSP_F_INSTRUCTION 1	/* UserMessage and HostMessage.instruction */
#define SSP_EXT_BYTES 2		/* keystroke (to the server), hostbytes */
#define SSP_EXT_RESIZE 3	/* resize */
#define SSP_EXT_ECHOACK 7	/* echoack (HostMessage only) */
#define SSP_F_BYTES 4		/* Keystroke.keys, HostBytes.hoststring */
#define SSP_F_WIDTH 5		/* ResizeMessage.width */
#define SSP_F_HEIGHT 6		/* ResizeMessage.height */
#define SSP_F_ECHO_ACK 8	/* EchoAck.echo_ack_num */

/* TransportBuffers.Instruction (§6.1); diff and chaff point into a buffer. */
struct ssp_inst {
	uint32_t version;
	uint64_t old_num, new_num, ack_num, throwaway_num;
	const uint8_t *diff, *chaff;
	size_t diff_len, chaff_len;
};

/* Append the protobuf (all seven fields, in order). 0 or -1 (memory). */
int ssp_inst_encode(const struct ssp_inst *in, struct buf *out);
/* Parse; pointers in *out point into p. 0, or -1 malformed (*out unset). */
int ssp_inst_decode(const uint8_t *p, size_t len, struct ssp_inst *out);

/* zlib format, level 6 (§5). Append to out. 0, or -1 (memory). */
int ssp_deflate(const uint8_t *p, size_t len, struct buf *out);
/* Inflate to out (reset first); -1 if malformed or past SSP_INFLATE_MAX. */
int ssp_inflate(const uint8_t *p, size_t len, struct buf *out);

/* One fragment (§4.1); p points into the payload. */
struct ssp_frag {
	uint64_t id;
	unsigned num;
	int final;
	const uint8_t *p;
	size_t len;
};
int ssp_frag_parse(const uint8_t *p, size_t len, struct ssp_frag *f);
void ssp_frag_header(uint8_t out[SSP_FRAG_HDR], uint64_t id, unsigned num,
    int final);

/* Reassembly of one instruction at a time (§4.3). */
struct ssp_fslot {
	uint32_t off, len;
};
struct ssp_asm {
	uint64_t id;
	int have_id;
	unsigned arrived, total, hi;	/* total 0: final not seen yet */
	struct ssp_fslot *slot;		/* SSP_MAX_FRAGS, heap, on demand */
	uint8_t have[SSP_MAX_FRAGS / 8];
	struct buf data;		/* contents in arrival order */
};
int ssp_asm_init(struct ssp_asm *a);	/* 0 or -1 (memory) */
void ssp_asm_free(struct ssp_asm *a);
/*
 * Add a fragment. 1: an instruction is complete and z holds its compressed
 * bytes (z is reset first); 0: more to come or an identical duplicate; -1:
 * the fragment is bad (absurd number, conflicts with what is stored, too
 * much data) and was dropped.
 */
int ssp_asm_add(struct ssp_asm *a, const struct ssp_frag *f, struct buf *z);

/* Picks instruction ids (§4.2): first id 1, a new id on any change. */
struct ssp_fragmenter {
	uint64_t next_id;
	uint64_t old_num, new_num, ack_num, throwaway_num;
	uint32_t version;
	size_t slice, chaff_len;
	uint8_t chaff[SSP_CHAFF_MAX];
};
void ssp_fragmenter_init(struct ssp_fragmenter *fr);
/* The id for in, sent in slices of slice bytes; remembers in. */
uint64_t ssp_fragmenter_id(struct ssp_fragmenter *fr,
    const struct ssp_inst *in, size_t slice);

/*
 * UserMessage (§6.2) and HostMessage (§6.3) codecs. The put functions
 * append one instruction (0 or -1 on memory). The next functions walk a
 * message: 1 with *out filled, 0 at its end, -1 malformed (the walk must
 * stop). Bytes point into the message. An instruction with none of the
 * known extensions comes back with type 0 and is to be ignored.
 */
struct ssp_iter {
	const uint8_t *p, *end;
};
enum {
	SSP_MSG_KEYS = 1,	/* user: keystroke bytes */
	SSP_MSG_BYTES,		/* host: hoststring */
	SSP_MSG_RESIZE,		/* both: width, height */
	SSP_MSG_ECHOACK		/* host: echo_ack */
};
struct ssp_msg {
	int type;
	int32_t w, h;
	uint64_t echo_ack;
	const uint8_t *p;
	size_t len;
};
int ssp_um_put_keys(struct buf *out, const uint8_t *p, size_t n);
int ssp_um_put_resize(struct buf *out, int32_t w, int32_t h);
int ssp_um_next(struct ssp_iter *it, struct ssp_msg *out);
int ssp_hm_put_bytes(struct buf *out, const uint8_t *p, size_t n);
int ssp_hm_put_resize(struct buf *out, int32_t w, int32_t h);
int ssp_hm_put_echoack(struct buf *out, uint64_t n);
int ssp_hm_next(struct ssp_iter *it, struct ssp_msg *out);
/*
 * Check a whole HostMessage before applying any of it: 0 if it parses and
 * its echo acks never go below *echo_ack (which is then set to the last
 * one), else -1 with *echo_ack unchanged. Upstream aborts on a decrease.
 */
int ssp_hm_check(const uint8_t *p, size_t len, uint64_t *echo_ack);

/*
 * The user-input stream (§8.1): an event list of keystroke bytes and
 * resizes, kept encoded (a byte is itself, 0xff is ff 00, a resize is
 * ff 01 w(4) h(4)) so that prefixes of the list are prefixes of the bytes.
 * Contract: every byte pushed on the client comes out of ssp_user_take on
 * the server exactly once and in order.
 */
struct ssp_user {
	struct buf b;
};
struct ssp_uev {
	int type;		/* SSP_MSG_KEYS (one byte c) or SSP_MSG_RESIZE */
	uint8_t c;
	int32_t w, h;
	int superseded;		/* a resize followed by another resize */
};
extern const struct ssp_ops ssp_user_ops;	/* objects: struct ssp_user * */
/* Its measure (struct ssp_cfg): the struct and the buffer, in keys. */
void ssp_user_bytes(const void *st, const void *base, size_t part[SSP_PARTS]);
struct ssp_user *ssp_user_new(void);	/* empty; NULL on out of memory */
/* Push events; -1 (nothing pushed) past SSP_USER_PENDING_MAX or memory. */
int ssp_user_push_bytes(struct ssp_user *u, const uint8_t *p, size_t n);
int ssp_user_push_resize(struct ssp_user *u, int32_t w, int32_t h);
/* Walk the events from *off (start at 0): 1 with *ev filled, 0 at the end. */
int ssp_user_next(const struct ssp_user *u, size_t *off, struct ssp_uev *ev);

/*
 * What SSP needs of the datagram layer, filled by the caller before each
 * ssp_wait/ssp_tick: whether a peer address is known, send_interval and
 * RTO (§3.4), the loss observed on the peer's datagrams (net_loss; 0: no
 * copies after the early window), the datagram MTU (§3.6: 1252, 1216 or
 * 500), and a function that seals and sends one payload (a fragment; the
 * caller adds nonce, timestamps and tag). send's result is counted, not
 * acted on.
 */
struct ssp_link {
	int has_peer;
	unsigned send_interval, rto;
	unsigned loss;		/* per mille */
	size_t mtu;
	int (*send)(void *arg, const uint8_t *payload, size_t len);
	void *arg;
};

/*
 * A state and when it was sent or received. Received ones only: its bytes
 * op's parts against the state before it and against none, and whether it
 * arrived after a higher numbered one.
 */
struct ssp_tstate {
	uint64_t ts, num;
	void *st;
	size_t part[SSP_PARTS], whole[SSP_PARTS];
	int late;
};

/* Dropped input and other events, counted (never fatal). */
struct ssp_stats {
	uint64_t bad_frag;	/* short, absurd or conflicting fragment */
	uint64_t bad_zlib;	/* does not inflate, or past the cap */
	uint64_t bad_pb;	/* Instruction does not parse */
	uint64_t bad_version;	/* protocol_version != 2 */
	uint64_t bad_nums;	/* throwaway_num > old_num */
	uint64_t bad_diff;	/* the state type refused the diff */
	uint64_t unknown_old;	/* old_num not among received states */
	uint64_t dup;		/* new_num already received */
	uint64_t quenched;	/* receiver queue full */
	uint64_t out_of_order;	/* stored, not acked */
	uint64_t late;		/* out of order, past SSP_RECV_LATE_MAX */
	uint64_t over_budget;	/* evicted or dropped for the byte budget */
	uint64_t send_fail;	/* link->send returned -1 */
	uint64_t copies;	/* redundant copies sent */
	uint64_t oom;		/* allocation failed; tried again later */
};

/*
 * remote_bytes measures a remote state for the budget (SSP_BUDGET_*): add
 * to part[] (SSP_PART_*, zeroed by the caller) the heap bytes st holds,
 * its own struct included, that base (NULL: none) does not share with it.
 * The value must hold while st is stored: count capacities, not lengths,
 * a shared pool at its bound, and let subtract leave it alone. NULL: no
 * byte budget, except that ssp_user_ops states get ssp_user_bytes.
 */
struct ssp_cfg {
	const struct ssp_ops *mine, *remote;
	const void *mine_init, *remote_init;	/* states 0, copied */
	void (*remote_bytes)(const void *st, const void *base,
	    size_t part[SSP_PARTS]);
	unsigned mindelay;		/* SSP_MINDELAY_CLIENT or _SERVER */
	int fast_start;			/* not upstream: the client retries each
					 * RTO+100 before the first reply; both
					 * sides copy and retry early (above) */
	void (*rand)(void *arg, uint8_t *p, size_t n);	/* chaff; NULL: none */
	void *rand_arg;
};

/*
 * One endpoint: the sender of our states and the receiver of the peer's
 * (§7). Owned by the caller; ssp_init allocates the bounded histories,
 * ssp_free releases them. Outside ssp.c only stats may be read; all else
 * goes through the functions below.
 */
struct ssp {
	struct ssp_cfg cfg;
	/* sender */
	void *cur;
	struct ssp_tstate sent[SSP_SENT_MAX + 1];
	size_t nsent, assumed;
	uint64_t next_ack_time, next_send_time, mindelay_clock;
	int hurry, hurried;		/* ssp_hurry; the newest send was one */
	uint64_t hurry_ts, pace_ts;	/* the newest hurried send; the one
					 * before it */
	uint64_t ack_num, last_heard;
	int heard, pending_data_ack;
	int shutdown;
	unsigned shutdown_tries;
	uint64_t shutdown_start, last_ack_sent;
	uint64_t first_send;		/* SSP_NEVER before the first datagram */
	uint64_t copy_time, copy_num;	/* next copy of state copy_num */
	uint64_t copies_at;		/* when copies were last planned */
	unsigned copies_left;
	size_t last_frags;		/* of the last data instruction */
	struct ssp_fragmenter fr;
	/* receiver */
	struct ssp_tstate *recv;	/* SSP_RECV_CAP, heap */
	size_t nrecv;
	uint64_t quench;
	void *last_seen;		/* ssp_remote_diff's last look */
	struct ssp_asm as;
	struct buf z, pb, d1, d2, pkt;	/* scratch */
	void *zdef;			/* zlib deflate stream, reused */
	struct ssp_stats stats;
};

int ssp_init(struct ssp *s, const struct ssp_cfg *cfg, uint64_t now);
void ssp_free(struct ssp *s);

/* ms until ssp_tick has work (0 = now), SSP_NEVER if none or no peer. */
uint64_t ssp_wait(struct ssp *s, const struct ssp_link *l, uint64_t now);
/* Send what the timers say is due (§7.5). */
void ssp_tick(struct ssp *s, const struct ssp_link *l, uint64_t now);
/*
 * One authentic datagram payload (the fragment). 1: an instruction was
 * complete and processed (the caller may now set its last_roundtrip_success
 * to ssp_acked_ts), 0: nothing complete yet, -1: bad input dropped and
 * counted, SSP_EVERSION: an instruction of another protocol version.
 */
int ssp_recv(struct ssp *s, const uint8_t *p, size_t len, uint64_t now);

/*
 * The unsent change of the live state is an interactive echo: send it
 * without the batching wait (mindelay), one send interval after the
 * previous echo at the earliest (other sends do not delay it); the change
 * after it is then paced as if the echo had not been sent. Nothing
 * unsent: no effect.
 */
void ssp_hurry(struct ssp *s);
/* 1 if the live state differs from the newest one sent, else 0. */
int ssp_unsent(const struct ssp *s);

/* The live local state, to change in place; not during shutdown. */
void *ssp_current(struct ssp *s);
/* Replace it by a copy of st. 0 or -1 (memory, old state kept). */
int ssp_set_current(struct ssp *s, const void *st);
/* The newest remote state, its number, and our newest acked one's. */
const void *ssp_remote(const struct ssp *s);
uint64_t ssp_remote_num(const struct ssp *s);
/* When the newest remote state arrived (ms); 0 before any arrived. */
uint64_t ssp_remote_ts(const struct ssp *s);
uint64_t ssp_acked_num(const struct ssp *s);
/* Send time of the newest state the peer acknowledged (§3.9). */
uint64_t ssp_acked_ts(const struct ssp *s);
uint64_t ssp_sent_num(const struct ssp *s);

/* Shutdown handshake (§7.10). */
void ssp_start_shutdown(struct ssp *s, uint64_t now);
int ssp_shutdown_in_progress(const struct ssp *s);
int ssp_shutdown_acked(const struct ssp *s);
int ssp_shutdown_timed_out(const struct ssp *s, uint64_t now);
int ssp_counterparty_shutdown_ack_sent(const struct ssp *s);

/*
 * §8.4 step 1: out (reset first) gets the diff from the state seen at the
 * last call to the newest remote state; the received states are then
 * rationalized. 0, or -1 (memory, or the newest state does not descend from
 * the last seen one: nothing is returned and the next look starts afresh).
 */
int ssp_remote_diff(struct ssp *s, struct buf *out);
/*
 * The same for a remote user stream, with the new events appended to out
 * (walk them with ssp_user_next; superseded resizes are marked).
 */
int ssp_user_take(struct ssp *s, struct ssp_user *out);

/* ==== framebuf.c: the screen model and the frame-diff renderer ==== */

/*
 * Section numbers (§) below refer to doc/terminal.md unless another doc
 * is named.
 */

#define FB_MAX_COLS 1000
#define FB_MAX_ROWS 1000

/* Rendition attribute bits (struct fb_rend.attr). */
#define FB_BOLD 0x01u
#define FB_ITALIC 0x02u
#define FB_UNDERLINE 0x04u
#define FB_BLINK 0x08u
#define FB_INVERSE 0x10u
#define FB_INVISIBLE 0x20u
#define FB_FAINT 0x40u		/* kept in the server's model only */
#define FB_STRIKE 0x80u		/* kept in the server's model only */

/*
 * Colours (fg and bg): 0 = default; 30..37 / 40..47 the 8 basic colours;
 * 30+n / 40+n for 256-colour index n; FB_RGB | r<<16 | g<<8 | b for 24-bit
 * (terminal.md §4.2). No padding, so renditions compare with memcmp.
 */
#define FB_RGB 0x1000000u
struct fb_rend {
	uint32_t fg, bg, attr;
};

/* Cell flags. */
#define FB_WIDE 0x01u		/* holds a width-2 character */
#define FB_FALLBACK 0x02u	/* starts with a combining mark without base */
#define FB_WRAP 0x04u		/* last cell of a row: the row soft-wrapped */

/*
 * One cell: UTF-8 of the base character and its combining marks (len 0 =
 * empty). Invariant: bytes of c[] past len are zero and the struct has no
 * padding, so two cells are equal iff memcmp says so.
 */
#define FB_CELL_BYTES 38
struct fb_cell {
	struct fb_rend r;
	uint8_t flags, len;
	char c[FB_CELL_BYTES];
};

/*
 * A row is shared between frames by reference count (copy-on-write): a
 * frame copy costs one pointer per row, and the renderer skips a row that is
 * the same object in both frames. Anyone who changes a row must first call
 * fb_row_mut, which unshares it.
 */
struct fb_row {
	unsigned refs;
	int w;			/* cells */
	uint64_t gen;		/* new id when created or wholly reset */
	struct fb_cell cells[];
};

/*
 * Rows whose last reference went, kept for reuse: scrolling output would
 * otherwise free and allocate a row per line (and malloc give pages back
 * to the kernel and fault them in again). Shared by a frame and its copies
 * (reference counted), so a row released by a copy serves the original.
 * At most FB_POOL_ROWS rows and FB_POOL_BYTES bytes, all of width w.
 */
#define FB_POOL_ROWS 64
#define FB_POOL_BYTES (256u << 10)
struct fb_pool {
	unsigned refs;
	int w, n;
	struct fb_row *row[FB_POOL_ROWS];
};

/* Mode bits (struct fb.modes). Defaults: FB_M_AUTOWRAP | FB_M_CURSOR. */
#define FB_M_ORIGIN 0x001u	/* DECOM */
#define FB_M_AUTOWRAP 0x002u	/* DECAWM */
#define FB_M_INSERT 0x004u	/* IRM */
#define FB_M_CURSOR 0x008u	/* DECTCEM: cursor visible */
#define FB_M_REVERSE 0x010u	/* DECSCNM */
#define FB_M_PASTE 0x020u	/* 2004 bracketed paste */
#define FB_M_FOCUS 0x040u	/* 1004 focus events */
#define FB_M_ALTSCROLL 0x080u	/* 1007, tracked, never rendered */
#define FB_M_APPCURSOR 0x100u	/* DECCKM */

#define FB_TITLE_BYTES 1024	/* 256 code points of UTF-8 */

/* A reference-counted string (the OSC 52 clipboard), shared like rows. */
struct fb_str {
	unsigned refs;
	size_t len;
	char s[];
};

/*
 * A frame: the screen and the draw state that terminal.md §4.2 lists. A
 * struct fb owns its row pointer array and one reference to each row.
 * Other modules use the functions of this section and these fields only:
 * w and h (read only); rows, to read cells (fb_cell), changing a row only
 * through fb_row_mut or fb_row_blank; cy, cx, wrap_pending, modes and rend;
 * title_init, title, title_len, icon and icon_len. The rest (combining
 * target, region, mouse modes, saved cursor, tab stops, bell, clipboard,
 * gen_next and pool) belongs to vt.c and framebuf.c.
 */
struct fb {
	int w, h;
	struct fb_row **rows;		/* h rows of w cells */
	int cy, cx;			/* cursor, absolute, always in range */
	int wrap_pending;		/* printed in the last column */
	int comb_y, comb_x;		/* combining target, comb_y -1: none */
	int top, bottom;		/* scrolling region, absolute rows */
	unsigned modes;			/* FB_M_* */
	int mouse_mode;			/* 0 or 9, 1000..1003 */
	int mouse_enc;			/* 0 or 1005, 1006, 1015 */
	struct fb_rend rend;		/* current rendition */
	struct {
		int y, x;
		struct fb_rend rend;
		unsigned modes;		/* only FB_M_AUTOWRAP, FB_M_ORIGIN */
	} saved;
	int default_tabs;
	uint8_t tabs[(FB_MAX_COLS + 7) / 8];	/* bitmap of stops */
	uint32_t bell;			/* bell count */
	int title_init;			/* an OSC 0/1/2 was seen */
	size_t title_len, icon_len;
	char title[FB_TITLE_BYTES], icon[FB_TITLE_BYTES];
	struct fb_str *clip;		/* NULL = empty */
	uint64_t gen_next;		/* last row gen given (framebuf.c) */
	struct fb_pool *pool;		/* spare rows, shared with copies */
};

/* What the receiving terminal can do (terminal.md §9, §11). */
struct fb_caps {
	int ech, bce, title;
};

/*
 * fb_init: a blank w x h frame in the default state. -1 on a bad size
 * (outside 1..FB_MAX_*) or out of memory, with *fb zeroed. fb_free releases
 * it. fb_copy makes dst (uninitialised) a copy of src sharing its rows; -1
 * on out of memory. fb_equal compares what upstream compares (terminal.md §1)
 * plus, harmlessly, more.
 */
int fb_init(struct fb *fb, int w, int h);
void fb_free(struct fb *fb);
int fb_copy(struct fb *dst, const struct fb *src);
int fb_equal(const struct fb *a, const struct fb *b);

/* Resize as terminal.md §8: top rows kept, region reset. -1 keeps it as is. */
int fb_resize(struct fb *fb, int w, int h);

/*
 * The heap bytes a frame holds that base (NULL: none) does not share with
 * it, for SSP's budget of received states: rows by identity (a scrolled
 * row is still shared), the pool at its bound, the clipboard.
 * fb_rows_bytes: the same for h rows against bh rows of base, with the
 * array of row pointers itself.
 */
size_t fb_bytes(const struct fb *fb, const struct fb *base);
size_t fb_rows_bytes(struct fb_row *const *rows, int h,
    struct fb_row *const *base, int bh);

/* Row y's cells, unshared and so safe to change; NULL on out of memory. */
struct fb_cell *fb_row_mut(struct fb *fb, int y);

/*
 * fb_row_blank: make row y wholly blank (background bg, BCE) with a new gen,
 * as ED/EL 2 and scrolling need; returns its cells, or NULL on out of memory
 * with the row unchanged. fb_cell_reset: one cell blank with background bg.
 */
struct fb_cell *fb_row_blank(struct fb *fb, int y, uint32_t bg);

static inline void
fb_cell_reset(struct fb_cell *c, uint32_t bg)
{
	memset(c, 0, sizeof(*c));
	c->r.bg = bg;
}

/*
 * A screen's rows held aside while other rows show (vt.c's alternate
 * screen). fb_rows_hold: a new array with a reference to each of fb's
 * fb->h rows; NULL on out of memory. fb_rows_release: drop the references
 * of such an array of h rows and free it (NULL is fine). fb_rows_restore:
 * make a held array of fb->h rows of fb->w cells fb's rows again, dropping
 * the ones it had; the array is consumed. fb_rows_resize: make a held
 * array of oh rows of ow cells fit fb's size as fb_resize would (the array
 * may be replaced); 0, or -1 on out of memory with it unchanged.
 */
struct fb_row **fb_rows_hold(const struct fb *fb);
void fb_rows_release(struct fb_row **rows, int h);
void fb_rows_restore(struct fb *fb, struct fb_row **rows);
int fb_rows_resize(struct fb *fb, struct fb_row ***rows, int ow, int oh);

/*
 * fb_clip_set: the clipboard := n bytes of s (n 0 = empty); -1 on out of
 * memory, or when s is not base64 (fb_clip_valid), with the old value
 * kept: a frame never holds a clipboard query or other text, so the
 * renderer never sends one (terminal.md §7.14). fb_clip_valid: 1 if the n
 * bytes of s are base64 (padded or not; n 0 too), else 0. fb_clip_put
 * drops one reference.
 */
int fb_clip_set(struct fb *fb, const char *s, size_t n);
int fb_clip_valid(const char *s, size_t n);
void fb_clip_put(struct fb_str *s);

static inline const struct fb_cell *
fb_cell(const struct fb *fb, int y, int x)
{
	return &fb->rows[y]->cells[x];
}

/*
 * fb_diff: append to out the bytes that turn a terminal showing old into one
 * showing new (terminal.md §9, without the bugs of §9.5), using only the
 * vocabulary of §9.6. initialized 0 means a full redraw. 0, or -1 on out of
 * memory (out may then hold a partial frame: discard it). Where upstream's
 * receiver would end up different, we draw more: the cell after a wide
 * character (D23), a CUP after the last column (§9.5), the last cell of a
 * soft-wrapped row that was at the bottom; a wide cell in the last column
 * goes out as a blank (any receiver would wrap it to the next row).
 */
int fb_diff(const struct fb *old, const struct fb *new, int initialized,
    const struct fb_caps *caps, struct buf *out);

/* ==== vt.c: the terminal emulator (host bytes in, struct fb changed) ==== */

/*
 * Character width from our own table (glibc 2.36, Unicode 14; terminal.md
 * §4.1): -1 unprintable, 0 combining, 1 or 2.
 */
int vt_width(uint32_t cp);

/*
 * The parser alone (terminal.md §2-§3), also used by predict.c on the user's
 * keystrokes: each byte yields up to VT_MAX_ACTS actions.
 */
enum {
	VT_ACT_PRINT = 1,	/* ch: the code point */
	VT_ACT_EXECUTE,		/* ch: the C0/C1 control */
	VT_ACT_ESC,		/* ch: the final character */
	VT_ACT_CSI		/* ch: the final character */
};
#define VT_MAX_ACTS 8
struct vt_act {
	int type;
	uint32_t ch;
};

/* vt_parse's other actions, which callers may ignore. */
enum {
	VT_ACT_OSC_START = 16,	/* an OSC string begins */
	VT_ACT_OSC_PUT,		/* ch: one more code point of it */
	VT_ACT_OSC_END		/* it ended (BEL, ST, CAN, SUB, ESC...) */
};

/* The controls the parser and the emulator act on by name (ECMA-48 8.3). */
enum {
	VT_BEL = 0x07,
	VT_CAN = 0x18,		/* cancel: a sequence ends unfinished */
	VT_SUB = 0x1a,		/* substitute: likewise */
	VT_ESC = 0x1b,
	VT_C1_IND = 0x84,	/* index: line feed */
	VT_C1_NEL = 0x85,	/* next line: CR LF */
	VT_C1_HTS = 0x88,	/* horizontal tab set */
	VT_C1_RI = 0x8d,	/* reverse index */
	VT_C1_DCS = 0x90,	/* device control string */
	VT_C1_SOS = 0x98,	/* start of string */
	VT_C1_CSI = 0x9b,	/* control sequence introducer */
	VT_C1_ST = 0x9c,	/* string terminator */
	VT_C1_OSC = 0x9d,	/* operating system command */
	VT_C1_PM = 0x9e,	/* privacy message */
	VT_C1_APC = 0x9f	/* application program command */
};

#define VT_MAX_PARAM_CHARS 100	/* digits and ';' kept per sequence */
#define VT_MAX_INTER 8		/* intermediate characters kept */
#define VT_OSC_MAX 16384	/* code points of an OSC string kept */
#define VT_TITLE_MAX 256	/* code points of an OSC string a title uses */

/*
 * The work host bytes may cost. Most of what the emulator does costs a
 * bounded amount per byte, but erasing, filling, scrolling, moving rows,
 * unsharing a row and looking for a tab stop cost up to a row or a screen
 * per byte: 1.4M x `ESC # 8` (4 KB compressed) on a 1000x1000 screen is
 * an hour of CPU. So vt.c counts in vt->work, as it applies, one unit for
 * each cell it writes, clears, moves or copies (a blank row: w + 1), each
 * row pointer it moves and each column a tab looks at, the fast paths
 * included; vt_feed stops once work passes work_max (0: no bound).
 *
 * vt_work_bound(w, h) is the bound for one diff on a screen at most w x h:
 * VT_WORK_SCREENS * (w*h + h*h) + VT_WORK_FLAT. Why an honest diff stays
 * far below it: a renderer's frame (fb_diff, terminal.md §9, upstream's
 * the same) costs at most a resize (the old and the new screen: 2 w*h),
 * a clear (w*h + h), a scroll of up to h - 1 lines (each a rotation of at
 * most h rows and a blank row: h*h + w*h + h) and every row drawn once
 * (unshared: w, each cell printed or erased at most about three times),
 * about 8 w*h + h*h in all: half the bound. VT_WORK_FLAT covers the tiny
 * screens. The attack above passes the bound after 16 of its 1.4M steps,
 * and the bound is at most 32M units, tens of milliseconds.
 */
#define VT_WORK_SCREENS 16
#define VT_WORK_FLAT 65536

/*
 * The UTF-8 decoder (terminal.md §2) and the state machine (§3). No heap:
 * zero it or call vt_parser_init. Parameters and intermediates of the
 * sequence being dispatched stay readable until the next code point.
 */
struct vt_parser {
	uint8_t pend[6];	/* UTF-8 bytes of an incomplete sequence */
	int npend;
	int state;
	int nparam, ninter;
	char param[VT_MAX_PARAM_CHARS];
	uint8_t inter[VT_MAX_INTER + 1];	/* intermediates, then NUL */
};

/*
 * The emulator: a parser and the state around the frame it changes. The
 * frame belongs to the caller and must outlive the vt. reply collects the
 * bytes the application gets back (DA, DSR); the caller empties it, or sets
 * no_reply where nobody reads them (the client). Other modules use these
 * fields only: fb (read only), reply, dropped (read only), work and
 * work_max (VT_WORK_SCREENS), slow, server_ext and no_reply (set after
 * vt_init); everything else is vt.c's, and vt_copy is the way to copy a
 * vt.
 */
struct vt {
	struct fb *fb;
	struct vt_parser p;
	struct buf reply;
	int no_reply;		/* 1: replies are not collected at all */
	uint64_t work;		/* units spent (VT_WORK_SCREENS) */
	uint64_t work_max;	/* vt_feed stops past it; 0: no bound */
	int user_state;		/* §10: 0 ground, 1 after ESC, 2 ESC O */
	uint32_t wlo[2], whi[2];	/* the width ranges last looked up */
	int ww[2];			/* and their widths */
	uint64_t dropped;	/* changes lost for want of memory */
	int slow;		/* 1: no fast paths, every byte through the
				 * state machine (what tests compare with) */
	/*
	 * server_ext (0 after vt_init = exactly upstream 1.4.0; only a
	 * server may set it, as the client must match upstream's): the
	 * alternate screen (modes 47, 1047, 1049) and DEC special graphics
	 * (ESC ( 0, ESC ) 0, SO, SI) drawn as Unicode.
	 */
	int server_ext;
	int g[2], gl;		/* G0/G1 are DEC graphics; GL is G1 */
	int saved_g[2], saved_gl;	/* and as DECSC saved them */
	struct fb_row **main_rows;	/* the main screen, while alternate */
	int main_w, main_h;		/* its size */
	struct {
		int y, x;
		struct fb_rend rend;
		unsigned modes;
	} alt_cursor;		/* saved by mode 1049 */
	size_t osc_len;		/* code points in osc */
	uint32_t *osc;		/* the OSC string being collected: NULL until
				 * the first OSC, then VT_OSC_MAX points */
};

/*
 * vt_parser_init resets a parser. vt_parse feeds it one byte and writes up
 * to VT_MAX_ACTS actions to out; returns their number. For VT_ACT_CSI and
 * VT_ACT_ESC, vt_param(p, i, def) reads parameter i (terminal.md §3.4: an
 * absent or zero parameter gives def) and p->inter the intermediates. (A
 * byte that breaks a UTF-8 sequence can yield two code points, and an ESC
 * among them clears the parameters; that only happens to sequences whose
 * final character is U+FFFD, which nothing uses.)
 */
void vt_parser_init(struct vt_parser *p);
int vt_parse(struct vt_parser *p, uint8_t byte, struct vt_act *out);
int vt_param(const struct vt_parser *p, int i, int def);

/*
 * vt_init attaches a fresh emulator to fb (already fb_init'ed); vt_free
 * releases what the vt holds (the reply buffer, a main screen hidden by the
 * alternate one), not the frame. vt_feed interprets host output
 * (never fails: rows that cannot be allocated are left as they were and
 * counted in vt->dropped). vt_resize is fb_resize plus what the emulator
 * keeps; 0 or -1. vt_user_byte translates one user keystroke byte (§10)
 * into 0..2 bytes for the application.
 */
void vt_init(struct vt *vt, struct fb *fb);
void vt_free(struct vt *vt);

/*
 * vt_copy: dst (uninitialised) := a copy of src attached to fb (a copy of
 * src's frame, say). The copy keeps the parser state, modes and counters;
 * the pending replies, a hidden main screen and a half-collected OSC string
 * stay with src, so dst starts without them. vt_free each one.
 */
void vt_copy(struct vt *dst, const struct vt *src, struct fb *fb);
void vt_feed(struct vt *vt, const uint8_t *p, size_t n);
int vt_resize(struct vt *vt, int w, int h);
size_t vt_user_byte(struct vt *vt, uint8_t b, uint8_t out[2]);
/* vt_bytes: the heap bytes vt holds beyond its frame that base (NULL:
 * none) does not share (fb_bytes counts the frame). */
size_t vt_bytes(const struct vt *vt, const struct vt *base);
uint64_t vt_work_bound(int w, int h);

/* ==== predict.c: local echo prediction and the notification bar ==== */

/*
 * Section numbers (§) below refer to doc/prediction.md unless another doc
 * is named.
 */

/*
 * Bounds (prediction.md §11). Predictions live on the cursor row and the
 * rows below it: at most PRED_MAX_ROWS row overlays at once (a row whose
 * predictions are all judged is reused; beyond that new cell predictions
 * are dropped, which only means they are not shown). Each overlay holds
 * one prediction per column; the cells are allocated when the engine first
 * sees a frame width, and again only when the width changes. Cursor
 * predictions beyond PRED_MAX_CURSORS drop the oldest. Each cell keeps at
 * most PRED_MAX_ORIG earlier contents for the no-credit rule (the oldest
 * are kept, the newest overwrites the last slot).
 */
#define PRED_MAX_ROWS 8
#define PRED_MAX_CURSORS 64
#define PRED_MAX_ORIG 8
#define PRED_PASTE_BYTES 100	/* a read longer than this is a paste */
#define PRED_MAX_KEYS 64	/* typed actions kept for a replay */
#define PRED_MAX_PROMPTS 8	/* prompts known to echo */
#define PRED_PROMPT_BYTES 64	/* text left of the cursor, at most */

/* Display preference (§7.1). */
enum pred_mode {
	PRED_ADAPTIVE,
	PRED_ALWAYS,
	PRED_NEVER,
	PRED_EXPERIMENTAL
};

/* A cursor prediction (§3). */
struct pred_cursor {
	int row, col, active;
	uint64_t epoch, expire;
};

/* Contents only (no rendition) of an earlier cell, for the no-credit rule. */
struct pred_text {
	uint8_t len;
	char c[FB_CELL_BYTES];
};

/* A cell prediction (§3). */
struct pred_cell {
	struct fb_cell repl;		/* what we expect the server to show */
	uint64_t epoch, expire, made;
	uint8_t active, unknown, norig;
	struct pred_text orig[PRED_MAX_ORIG];
};

/* A row overlay: its screen row, or -1 when the slot is free. */
struct pred_row {
	int row;
};

/*
 * One typed action (a parsed key: printable, control or cursor key) not
 * yet acknowledged by the server, kept so that the guesses can be made
 * again on a newer frame (our rule, not upstream's: see pred_set_upstream).
 */
struct pred_key {
	int type;			/* VT_ACT_PRINT, _EXECUTE, _CSI, _ESC */
	uint32_t ch;
	uint64_t state, made;		/* client state carrying it; time */
};

/* The text left of the cursor where typing began: a prompt. */
struct pred_prompt {
	uint8_t len;
	char text[PRED_PROMPT_BYTES];
	uint64_t used;			/* last confirmation or use, ms */
};

/*
 * The prediction engine. Owned by the caller; pred_init sets it up and
 * pred_free releases the cell arrays. All times are milliseconds of one
 * monotonic clock supplied by the caller.
 */
struct pred {
	enum pred_mode mode;
	int overwrite;			/* MOSH_PREDICTION_OVERWRITE=yes */
	struct vt_parser parser;	/* user bytes, private instance */
	uint8_t last_byte;
	struct pred_cursor cursors[PRED_MAX_CURSORS];
	int ncursors;			/* the last one is the current cursor */
	struct pred_row rows[PRED_MAX_ROWS];
	struct pred_cell *cells;	/* PRED_MAX_ROWS * cw, row slot major */
	int cw;				/* width the cells were allocated for */
	int w, h;			/* last frame size seen by pred_cull */
	uint64_t prediction_epoch, confirmed_epoch;
	int srtt_trigger, flagging;
	unsigned glitch_trigger;
	uint64_t last_quick_confirmation;
	unsigned send_interval;		/* ms */
	uint64_t frame_sent, frame_acked, late_ack;
	int upstream;			/* upstream's rules only */
	struct pred_key keys[PRED_MAX_KEYS];	/* oldest first */
	int nkeys;
	uint64_t keys_lost;		/* newest state whose keys are lost */
	int replaying;
	uint64_t replay_due;		/* epoch to guess again, 0: none */
	uint64_t spec_epoch;		/* replayed speculatively from it */
	struct pred_prompt prompts[PRED_MAX_PROMPTS];
	int nprompts;
	struct pred_prompt cand;	/* where cand_epoch's typing began */
	int cand_ok;
	uint64_t cand_epoch, trust_epoch;
};

/* pred_init: a fresh engine in adaptive mode without overwrite. */
void pred_init(struct pred *p);

/* pred_free: release the cell arrays; the engine may be pred_init'ed again. */
void pred_free(struct pred *p);

/* pred_set_mode: display preference and overwrite flag (§7.1). */
void pred_set_mode(struct pred *p, enum pred_mode mode, int overwrite);

/*
 * pred_set_upstream: 1 keeps exactly upstream's rules (prediction.md); 0,
 * the default, adds ours in the adaptive and always modes: a prompt where
 * typing was confirmed to echo is trusted, so the first keys typed at it
 * again show at once; and after a wrong guess, the keys the server has
 * not received yet are guessed again from its newest frame instead of
 * being dropped.
 */
void pred_set_upstream(struct pred *p, int upstream);

/*
 * pred_parse_mode: MOSH_PREDICTION_DISPLAY value (NULL = unset, adaptive)
 * to *mode. 0, or -1 for an unknown value (the client then prints
 * "Unknown prediction mode <value>." and exits 1).
 */
int pred_parse_mode(const char *s, enum pred_mode *mode);

/*
 * pred_set_net: what the network layer knows after receiving (§1 step 3):
 * frame_acked = newest client state the server acknowledged, late_ack =
 * the echo ack of the newest server state, send_interval in ms.
 */
void pred_set_net(struct pred *p, uint64_t frame_acked, uint64_t late_ack,
    unsigned send_interval);

/*
 * pred_set_sent: the number of the last client state already sent, set
 * before each keyboard read (§1 step 4) and only then, as upstream: new
 * predictions and epoch kills expire at frame_sent + 1.
 */
void pred_set_sent(struct pred *p, uint64_t frame_sent);

/*
 * pred_user_byte: one typed byte (§4), judged against screen, the frame
 * last drawn (with the overlays), which is not kept. Call it for each byte
 * of a read of at most PRED_PASTE_BYTES bytes, before the escape-key logic.
 */
void pred_user_byte(struct pred *p, uint8_t byte, const struct fb *screen,
    uint64_t now);

/*
 * pred_paste: a read longer than PRED_PASTE_BYTES; drops every
 * prediction and starts a new epoch. Its bytes are not given to
 * pred_user_byte. pred_reset does the same and is called on a resize.
 */
void pred_paste(struct pred *p);
void pred_reset(struct pred *p);

/*
 * pred_cull: judge outstanding predictions against frame, the newest
 * server frame (§5). Call it on the copy about to be drawn, then
 * pred_apply. frame is not changed.
 */
void pred_cull(struct pred *p, const struct fb *frame, uint64_t now);

/*
 * pred_apply: paint the shown predictions and the predicted cursor into
 * frame, which must be the caller's copy of the server frame (rows are
 * unshared with fb_row_mut). 0, or -1 on out of memory (frame then shows
 * part of the predictions, which is harmless).
 */
int pred_apply(struct pred *p, struct fb *frame, uint64_t now);

/*
 * pred_wait_ms: how long the client may sleep before the engine wants a
 * redraw (§6 wake-up): 50 while predictions are outstanding and a timing
 * trigger can still fire, else INT_MAX.
 */
int pred_wait_ms(const struct pred *p, uint64_t now);

/* The notification bar (§9). */
#define PRED_NOTIFY_BYTES 512	/* message bytes kept (UTF-8) */
#define PRED_NOTIFY_CHARS 127	/* code points drawn at most (§9.2) */
#define PRED_NOTIFY_FOREVER UINT64_MAX

struct pred_notify {
	uint64_t heard;			/* arrival of the newest server state */
	uint64_t acked;			/* send time of newest acked state */
	uint64_t expire;		/* PRED_NOTIFY_FOREVER: permanent */
	int net_error, show_quit;
	size_t len;			/* 0: no message */
	char msg[PRED_NOTIFY_BYTES];
	char quit[64];			/* " [To quit: KEY .]" or "" */
};

/*
 * pred_notify_init: no message; heard and acked set to now. keyname is
 * the escape key's name ("Ctrl-^", "\"~\""), or NULL when the escape key
 * is disabled (no quit hint). Longer names are cut.
 */
void pred_notify_init(struct pred_notify *n, const char *keyname,
    uint64_t now);

/* Times of §1 step 3: newest server state's arrival, newest ack's send. */
void pred_notify_heard(struct pred_notify *n, uint64_t t);
void pred_notify_acked(struct pred_notify *n, uint64_t t);

/*
 * pred_notify_set: show msg (copied, cut at PRED_NOTIFY_BYTES on a
 * character boundary; "" clears) for 1000 ms, or for ever if permanent;
 * show_quit 0 leaves out the quit hint (escape help text).
 */
void pred_notify_set(struct pred_notify *n, const char *msg, int permanent,
    int show_quit, uint64_t now);

/*
 * pred_notify_net_error: a network error text, kept 3100 ms;
 * pred_notify_net_ok shortens it to at most 1000 ms from now once sending
 * works again.
 */
void pred_notify_net_error(struct pred_notify *n, const char *msg,
    uint64_t now);
void pred_notify_net_ok(struct pred_notify *n, uint64_t now);

/* pred_notify_message: the current message (NUL-terminated, "" if none). */
const char *pred_notify_message(const struct pred_notify *n);

/* pred_notify_expire: drop the message once its time is up. */
void pred_notify_expire(struct pred_notify *n, uint64_t now);

/*
 * pred_notify_text: the bar's text (§9.3) into out (NUL-terminated, cut to
 * cap). Returns its length, or -1 when no bar is due at now.
 */
int pred_notify_text(const struct pred_notify *n, uint64_t now, char *out,
    size_t cap);

/*
 * pred_notify_apply: draw the bar on row 0 of frame (the caller's copy)
 * when one is due, hiding the cursor if it is on row 0 (§9.2). 0, or -1 on
 * out of memory.
 */
int pred_notify_apply(const struct pred_notify *n, struct fb *frame,
    uint64_t now);

/* pred_notify_wait_ms: ms until the bar needs a redraw (§9.4); INT_MAX. */
int pred_notify_wait_ms(const struct pred_notify *n, uint64_t now);

/*
 * pred_title_apply: prefix the window title of frame (the caller's copy)
 * with prefix ("[mosh] "), and the icon name too when it equals the title,
 * once the application has set a title (terminal.md §11). The result is cut
 * to FB_TITLE_BYTES on a character boundary.
 */
void pred_title_apply(struct fb *frame, const char *prefix);

/* ==== mosh.c: dispatch, and what the roles share ==== */

/*
 * Section numbers (§) below refer to doc/protocol.md unless another doc
 * is named.
 */

/*
 * mosh_main: the whole program. Dispatch on the basename of argv[0]
 * (mosh-server, mosh-client), then on argv[1] (server, client), else the
 * front end; returns the exit status. main() only calls it (tests build
 * mosh.c with -DMOSH_NO_MAIN and call it themselves).
 */
int mosh_main(int argc, char **argv);

#define TTY_READ_MAX 16384	/* one read of keyboard or pty bytes */

/*
 * Signals: the handlers only set flags, and the signals stay blocked except
 * inside poll_wait, so the next pass always sees a flag. signals_catch
 * catches and blocks those of list[]; *old gets the mask to wait in.
 * sig_take: 1 if sig came since the last call, clearing it; every signal
 * other than SIGWINCH, SIGCONT, SIGUSR1 and SIGUSR2 sets one "quit" flag,
 * read as sig_take(SIGTERM). signal_set: a plain handler (SIG_IGN ...).
 */
void signals_catch(const int *list, size_t n, sigset_t *old);
int sig_take(int sig);
void signal_set(int sig, void (*handler)(int));

/* now_ms: milliseconds of CLOCK_MONOTONIC, the one clock of both loops. */
uint64_t now_ms(void);
/* poll_wait: ppoll for wait_ms (-1: forever) with mask open; -1 on error,
 * EINTR included as 0 with every revents cleared. */
int poll_wait(struct pollfd *fds, nfds_t n, int wait_ms, const sigset_t *mask);
/* write_all: all n bytes, waiting out EAGAIN up to 1 s a time; 0 or -1. */
int write_all(int fd, const void *buf, size_t n);
int write_str(int fd, const char *s);
const char *base_name(const char *path);
/* str_after: s past prefix if s starts with it, else NULL. */
char *str_after(const char *s, const char *prefix);
/* core_off: core dumps off and not dumpable, so the key can neither be
 * dumped nor ptraced out; core_on(saved) in a child gives both back. */
void core_off(struct rlimit *saved);
void core_on(const struct rlimit *saved);

/*
 * One step of getopt(3) over argv[1..argc-1]. Like glibc's default mode,
 * which upstream's binaries use, it does not stop at the first operand:
 * operands come back in order as 1 with *arg set, and "--" makes the rest
 * operands. An unknown option or a missing argument prints glibc's message
 * (naming argv[0]) and gives '?'. -1 at the end.
 */
struct opt {
	int i, pos, dashdash;
	const char *arg;
};

int opt_next(struct opt *o, int argc, char **argv, const char *spec);

/* print_version: our banner, naming the role, our release and upstream's. */
void print_version(FILE *f, const char *role);

/*
 * The locale the shell child gets (the rule is in mosh.c above
 * locale_ctype). locale_kind: LOC_* of a locale name. locale_for_child
 * applies the rule to our environment with the -l NAME=VALUE settings;
 * it prints upstream's message and exits 1 when no UTF-8 locale results.
 * locale_for_client: 0 if the client may write UTF-8 here (the effective
 * LC_CTYPE names it), else -1 after upstream's client message.
 */
enum { LOC_ASCII, LOC_UTF8, LOC_LEGACY };
int locale_kind(const char *v);
void locale_for_child(char **lvars, size_t nl);
int locale_for_client(void);

/*
 * The few terminfo capabilities the client needs, read from the compiled
 * entry of a terminal (no ncurses in a static binary). ti_load never
 * fails: an unknown terminal gets ti_default (plain ANSI, colors -1).
 * ti_parse: one compiled entry of n bytes; 0, or -1 if malformed.
 */
#define TI_FILE_MAX 32768	/* ncurses' own limit for a compiled entry */
#define TI_STR_MAX 128
#define TI_BOOL_BCE 28		/* back_color_erase */
#define TI_NUM_COLORS 13	/* max_colors */
#define TI_STR_SMCUP 28		/* enter_ca_mode */
#define TI_STR_ECH 37		/* erase_chars */
#define TI_STR_RMCUP 40		/* exit_ca_mode */
struct tinfo {
	int found;			/* an entry was read */
	long colors;			/* -1: absent */
	int bce, ech;
	int has_smcup, has_rmcup;
	char smcup[TI_STR_MAX], rmcup[TI_STR_MAX];
};

void ti_default(struct tinfo *ti);
int ti_parse(const uint8_t *p, size_t n, struct tinfo *ti);
void ti_load(const char *term, struct tinfo *ti);

/*
 * The complete terminal, SSP's server-to-client state (protocol.md §8.2):
 * the frame, the emulator that interprets host bytes into it (the client
 * applies diffs with it), and the echo ack. The vt points at the fb of the
 * same object, so a copy re-points it. term_ops is its ssp_ops vtable:
 * term_copy, term_free, term_equal, term_diff (a HostMessage: echo ack,
 * resize, host bytes) and term_apply (checked whole first: bad input
 * changes nothing and returns -1), whose emulator keeps no replies
(no_reply) and may spend vt_work_bound of the largest screen the diff has
(VT_WORK_SCREENS): past it the rest is not applied and it returns -1, the
state half changed (SSP applies to a copy and drops it, counted in
bad_diff). term_init: 0, or -1 (memory).
 */
struct term_state {
	struct fb fb;
	struct vt vt;
	uint64_t echo_ack;
};

extern const struct ssp_ops term_ops;
/* What term_diff renders for: the server's Display assumes ECH, BCE and
 * titles on the client side. */
extern const struct fb_caps term_wire_caps;
int term_init(struct term_state *t, int w, int h);
void term_release(struct term_state *t);
void *term_copy(const void *st);
void term_free(void *st);
int term_equal(const void *a, const void *b);
int term_diff(const void *from, const void *to, struct buf *out);
int term_apply(void *st, const uint8_t *p, size_t len);
/* term_bytes: struct ssp_cfg's remote_bytes for the client's states: all
 * of a terminal state is SSP_PART_SCREEN. */
void term_bytes(const void *st, const void *base, size_t part[SSP_PARTS]);

/* mosh_link: what SSP needs of n (peer, timers, MTU) and how to send. */
struct ssp_link mosh_link(const struct net *n,
    int (*send)(void *, const uint8_t *, size_t), void *arg);
/* mosh_chaff: SSP's chaff callback (protocol.md §7.11), random bytes. */
void mosh_chaff(void *arg, uint8_t *p, size_t n);

/* ==== server.c: the server role (protocol.md §9) ==== */

/*
 * server_main: `mosh-server new ...` (prog names the role in messages).
 * Prints MOSH CONNECT, forks into the background and serves the session;
 * returns the exit status. The rest of this section is the server's parts,
 * exported for the tests.
 */
int server_main(const char *prog, int argc, char **argv);

#define SERVER_ECHO_MAX 64		/* input history entries kept (§8.3) */
#define SERVER_ECHO_QUIET_MS SSP_MINDELAY_SERVER /* silence before an echo */
#define SERVER_ECHO_BYTES 4096		/* an echo (or a redraw) is shorter */
#define SERVER_TMOUT_MAX 1000000000L	/* clamp of the *_TMOUT variables */

/* The command line (protocol.md §9.1). */
struct server_opts {
	const char *prog;		/* argv[0] for messages */
	const char *ip;			/* NULL: any interface */
	const char *port;		/* NULL: the default range */
	int port_lo, port_hi;
	long colors;
	unsigned verbose;
	char **lvars;			/* the -l values, nl of them */
	size_t nl;
	char **command;			/* after "--"; NULL: a login shell */
	char ssh_ip[256];		/* storage for -s */
};

/* What the pty child runs. */
struct server_cmd {
	const char *path;
	char **argv;
	int login;			/* a login shell: "-sh", motd */
	char *login_argv[2];
	char shell[PATH_MAX], login_name[PATH_MAX + 1];
};

struct server {
	struct server_opts o;
	struct server_cmd cmd;
	struct rlimit core;		/* restored for the shell */
	struct winsize ws;		/* initial size of the pty */
	long net_tmout, sig_tmout;	/* seconds, 0: off */
	uint64_t no_client_ms;		/* exit if no client came by then */
	const char *dump;		/* MOSH_SERVER_DUMP (test only) */
	int master;			/* pty master, -1 once closed */
	pid_t shell;
	struct net net;			/* the socket and the session key */
	struct term_state term;		/* the shell's screen, the emulator */
	struct ssp ssp;			/* sends term, receives user input */
	int ssp_ok;
	struct ssp_user *events;	/* scratch for ssp_user_take */
	struct buf topty;		/* translated keystrokes for the pty */
	uint64_t echo_num[SERVER_ECHO_MAX], echo_t[SERVER_ECHO_MAX];
	size_t necho;			/* input history (§8.3) */
	uint64_t remote_num;		/* newest client state applied */
	int dirty;			/* term changed since SSP's copy */
	uint64_t pty_last;		/* ms: the pty's latest output */
	uint64_t now;			/* for the send callback */
	char peer[64];			/* for syslog: the client's address */
	char user[64];			/* for syslog */
	uint64_t start, last_client;	/* ms: start, newest client state */
	int has_client;			/* a client state has arrived */
	int released;			/* the shell was sent its "\n" */
	int fatal;			/* net_send: the key is used up */
	int done;
	sigset_t waitmask;
};

/* server_parse: the command line into *o (protocol.md §9.1); prints and
 * exits on --help, --version and errors, as upstream does. */
void server_parse(int argc, char **argv, struct server_opts *o);
/* server_port_parse: "N" or "LOW:HIGH"; -1 with upstream's message. */
int server_port_parse(const char *s, int *lo, int *hi);
/* server_ssh_ip: -s, the local address of $SSH_CONNECTION, into out. */
const char *server_ssh_ip(char *out, size_t outlen);
/* server_env_seconds: a MOSH_SERVER_*_TMOUT variable in seconds, 0: off. */
long server_env_seconds(const char *name);
int server_ssp_init(struct server *s);
void server_stop(struct server *s, uint64_t now);
/* The echo ack (protocol.md §8.3): input states as they reach the pty,
 * and the newest one older than the echo timeout; 1 if it moved. */
void server_echo_register(struct server *s, uint64_t num, uint64_t now);
int server_echo_ack(struct server *s, uint64_t now);
/* The pty read, whether it was an interactive echo, and the copy SSP
 * sends (taken once per frame, at once for an echo). */
size_t server_read_pty(struct server *s, uint64_t now, int *empty);
int server_is_echo(size_t got, int empty, uint64_t last, uint64_t now);
void server_sync(struct server *s, uint64_t now, int echo);

/* ==== client.c: the client role (protocol.md §10) ==== */

struct tun_path;			/* tunnel.c */

/*
 * client_main: `mosh-client IP PORT` with MOSH_KEY in the environment.
 * client_run: the same with the printable key handed over in memory by the
 * front end (copied, then wiped), or NULL to take MOSH_KEY. Both return the
 * exit status. The rest of this section is exported for the tests.
 */
int client_main(const char *prog, int argc, char **argv);
int client_run(const char *prog, int argc, char **argv, char *key);
/*
 * client_run_path: client_run with an ssh path (tunnel.c, protocol.md §14)
 * for when UDP is unproven, owned by the caller; always: use it from the
 * first datagram on and keep it (--ssh-transport).
 */
int client_run_path(const char *prog, int argc, char **argv, char *key,
    struct tun_path *path, int always);

/* The escape key, from MOSH_ESCAPE_KEY (prediction.md §10). */
struct escape {
	int key;		/* the escape byte; -1: switched off */
	int pass, pass2;	/* after the escape, these send it literally */
	int requires_lf;	/* printable key: only at the start of a line */
	char name[16];		/* "Ctrl-^" or "\"~\"": for the quit hint */
	char help[96];		/* the help shown after the escape byte */
};

/* One client: the terminal, the session, what is drawn. */
struct client {
	const char *prog, *ip, *port;
	unsigned verbose;
	enum pred_mode predict;
	int overwrite;			/* MOSH_PREDICTION_OVERWRITE=yes */
	int title_prefix, term_init;
	struct fb_caps caps;		/* of the local terminal */
	struct escape esc;
	struct tinfo ti;
	uint8_t key[OCB_KEY_LEN];
	char *key_in;			/* from the front end, else NULL */
	char open_s[TI_STR_MAX + 8];	/* smcup, CSI ?1h */
	char close_s[TI_STR_MAX + 96];	/* terminal.md §11, then rmcup */
	struct termios saved, raw;
	int tty_ok;			/* saved is valid, raw is applied */
	struct winsize ws;
	int quit_started, lf_entered;	/* escape key state */
	int tty_eof;			/* stdin ended: stop polling it */
	int repaint;			/* the next frame is a full redraw */
	int heard, shutdown, clean, done;
	int net_ok;			/* net is set up (net_close needed) */
	uint64_t start, shutdown_start;
	char error[300];		/* printed after the terminal is back */
	sigset_t waitmask;
	struct net net;
	struct pred pred;
	struct pred_notify note;
	int fb_ok;			/* drawn, pred and note are set up */
	struct fb drawn;		/* what the terminal shows */
	struct buf out;			/* one frame of output */
	struct ssp ssp;			/* user stream out, terminal in */
	int ssp_ok;
	uint64_t now;			/* for the send callback */
	/* The ssh path (client_path); NULL: UDP only. */
	struct tun_path *path;
	int path_always;		/* --ssh-transport */
	uint64_t udp_heard;		/* newest authentic UDP datagram, 0 */
	uint64_t udp_quiet_from;	/* first send since then, 0: none */
	uint64_t udp_echo_at;		/* newest UDP one echoing our time */
	uint64_t unacked_since;		/* our newest state waits for an ack */
	int udp_ok;			/* UDP proven (client_udp_proven) */
	uint64_t path_retry_at, path_backoff, path_note_until;
	uint64_t path_frames;		/* frames_in when the path started */
	int path_shown;			/* "through ssh" said for this spell */
	char path_msg[400];		/* why the path failed, for the bar */
};

/* escape_config: from MOSH_ESCAPE_KEY's value (env may be NULL); pure. */
void escape_config(const char *env, struct escape *e);
void client_parse(int argc, char **argv, struct client *c);
/* client_check_ip: 0 if c->ip is a numeric address, else -1 with
 * upstream's message on stderr. */
int client_check_ip(const struct client *c);
/* client_term_strings: what opens and closes the terminal (smcup ...). */
void client_term_strings(struct client *c);
/* client_key: one typed byte through the escape-key state machine. */
void client_key(struct client *c, uint8_t b, uint64_t now);
/* client_bar_shows: 1 if the notification bar shows exactly text. */
int client_bar_shows(const struct client *c, const char *text);
/* client_draw: the next frame (server's, predictions, bar) to c->out. */
void client_draw(struct client *c, uint64_t now);

/* ==== boot.c: the front end, mosh [options] [user@]host (§11) ==== */

/*
 * boot_main: the front end; it ends by becoming the client (client_run),
 * or with upstream's wrapper's status (255 for its own failures). The rest
 * of this section is exported for the tests.
 */
int boot_main(int argc, char **argv);

#define BOOT_LINE_MAX 4096		/* one line of the ssh output */

struct boot {
	const char *prog;
	const char *client, *server, *predict, *family, *port, *bind;
	const char *remote_ip, *ssh;
	int ssh_pty, init, local, fake_proxy, overwrite, install, verbose;
	const char *install_file;	/* --install=FILE */
	int help, version, server_given, predict_env;
	int udp_only, ssh_transport;	/* protocol.md §14 */
	char **ops;			/* operands: [user@]host, command */
	int nops;
	char cmdline[1024];		/* "-# <our arguments> |" */
	char self[PATH_MAX];		/* this program, for ProxyCommand */
	long colors;
	char ip[256], udp[16], key[64];
	int have_ip, have_connect, bad_port_seen, fallback;
	struct rlimit core;		/* the limit our children get back */
};

struct boot_optdef {
	const char *name;
	int kind, id;
};

struct boot_run {
	pid_t pid;
	int out;			/* its stdout and stderr */
	int in;				/* its stdin (self-install), else -1 */
	char line[BOOT_LINE_MAX];
	size_t len;
	int eof;
};

/* boot_find: the option of a name as Getopt::Long finds it (exact, "no"
 * form, unique prefix); NULL if unknown or ambiguous. */
const struct boot_optdef *boot_find(const char *name, size_t n, int *neg);
/* boot_host_ok: 0 if the host operand holds only host name, address and
 * user@ characters, -1 otherwise (it would reach ssh's ProxyCommand). */
int boot_host_ok(const char *host);
/* boot_visible: len bytes of s into out (cap bytes with the NUL) with
 * controls, C1 and non-UTF-8 as \ooo, as ssh shows a banner; the length
 * written. */
size_t boot_visible(char *out, size_t cap, const char *s, size_t len);
/* Building the remote command line: sh quoting, and --server's words. */
int boot_quote(struct buf *out, const char *s);
void boot_add(const struct boot *b, struct buf *out, const char *s, int quote);
int boot_split(const char *s, char *store, size_t cap, char **words, int max);
void boot_server_args(const struct boot *b, struct buf *out, const char *ip);
/* boot_script: the remote half of the self-install (`sh -c boot_script
 * mosh server new ...`, answered with one line "HASH CRC SIZE NAME"; its
 * rules in boot.c). */
extern const char boot_script[];
/* A binary to send: its bytes, SHA-256, cache name and where it was read. */
struct boot_self {
	uint8_t *p;
	size_t len;
	char hex[65];
	char name[96];			/* mosh-<version>-<16 hex> */
	char path[PATH_MAX];
};
/* boot_arch_dist: the dist name (mosh-linux-<name>) for what `uname -sm`
 * printed and /bin/sh's EI_DATA byte (1 LE, 2 BE, 0 unknown); NULL if no
 * binary of ours runs there. */
const char *boot_arch_dist(const char *uname_sm, int sh_data);
/* boot_elf_check: 0 if p is a static ELF executable for that dist name,
 * else -1 and why. */
int boot_elf_check(const uint8_t *p, size_t len, const char *dist,
    char *why, size_t whylen);
/* boot_pick_binary: the binary for that remote (--install=FILE, this one,
 * or mosh-linux-<arch> from the places in boot.c) loaded into out; -1 and
 * a message naming every place looked. */
int boot_pick_binary(const struct boot *b, const char *uname_sm,
    int sh_data, struct boot_self *out, char *err, size_t errlen);
/* boot_hash: SHA-256 in lower-case hex, as sha256sum prints it. */
void boot_hash(const uint8_t *p, size_t len, char hex[65]);
/* boot_cksum: the CRC POSIX cksum prints for p (bytes, then the length). */
uint32_t boot_cksum(const uint8_t *p, size_t len);
/* Running ssh (or the local server) and reading its output a line a time. */
void boot_spawn(const struct boot *b, struct boot_run *r, char **argv,
    const char *shell_cmd, int want_in, int proxy);
const char *boot_getline(struct boot_run *r);
int boot_reap(struct boot_run *r);
/* boot_line: one line of the server's output (protocol.md §11.4); 1 once
 * the MOSH CONNECT line was read, 0 to read on. */
int boot_line(struct boot *b, char *line);
/* The hosts that needed a self-install, remembered per user. */
int boot_memo_has(const char *host);
void boot_memo_add(const struct boot *b, const char *host);

/* ==== tunnel.c: the ssh path when UDP is blocked (protocol.md §14) ==== */

/*
 * tunnel_main: `mosh tunnel ADDR PORT` on the remote, started over ssh:
 * frames between stdin/stdout and the server's UDP port. Returns the exit
 * status (0 at EOF or when the session ended, 2 for a broken stream).
 */
int tunnel_main(const char *prog, int argc, char **argv);

#define TUN_HELLO "MOSH TUNNEL 1"	/* the tunnel's first line */
#define TUN_FRAME_MIN SSP_OVERHEAD	/* smallest datagram a peer sends */
#define TUN_FRAME_MAX NET_MAX_DGRAM
#define TUN_QUEUE 32			/* frames waiting each way */
#define TUN_IDLE_MS 60000		/* the tunnel ends after this silence */

/*
 * The decoder of the stream, one frame at a time. tun_dec_next consumes
 * bytes of *p (advancing *p, *n) until a frame is complete: 1 with *frame
 * (valid until the next call) and *flen set; 0 when all input is used; -1
 * for a length outside TUN_FRAME_MIN..TUN_FRAME_MAX (the stream is broken
 * and must be closed). Start from a zeroed struct.
 */
struct tun_dec {
	size_t have, len;
	uint8_t buf[2 + TUN_FRAME_MAX];
};

int tun_dec_next(struct tun_dec *d, const uint8_t **p, size_t *n,
    const uint8_t **frame, size_t *flen);

/* 1 if d could be a datagram to the server (length, direction bit). */
int tun_to_server_ok(const uint8_t *d, size_t n);

/*
 * The frames waiting for a stream to take them, framed. tun_queue_push
 * drops the oldest one (not one being written) when TUN_QUEUE wait, and
 * ignores a length outside the frame range. tun_queue_flush writes what
 * the non-blocking fd takes: 0, or -1 on a write error.
 */
struct tun_queue {
	uint8_t slot[TUN_QUEUE][2 + TUN_FRAME_MAX];
	size_t len[TUN_QUEUE];
	size_t head, count, off;
	uint64_t dropped, frames;	/* dropped when full; written */
};

void tun_queue_push(struct tun_queue *q, const uint8_t *d, size_t n);
int tun_queue_flush(struct tun_queue *q, int fd);

/*
 * The client's path: argv (set up by the front end; NULL for none) runs
 * ssh to the tunnel role, through a remote script that says
 * "MOSH INSTALL HAVE|SEND|ARCH|FAIL ..." first; on SEND, blob (our binary,
 * blob_len bytes) is written before any frame. State: TUN_OFF, TUN_WAIT
 * (started, frames queue), TUN_SEND (the binary goes out), TUN_UP.
 */
enum { TUN_OFF, TUN_WAIT, TUN_SEND, TUN_UP };

struct tun_path {
	char **argv;
	const char *answer;		/* to the script's UNAME line */
	const uint8_t *blob;
	size_t blob_len, blob_off;
	pid_t pid;
	int in, out, err;		/* ssh's stdin, stdout, stderr */
	int state, framed, broken;
	struct tun_dec dec;
	struct tun_queue q;
	char line[256];			/* a line before the frames */
	size_t llen;
	char eline[256];		/* ssh's stderr, the current line */
	size_t elen;
	char error[256];		/* its last line, or why the path ended */
	uint64_t started;		/* ms */
	uint64_t starts, frames_in;
};

/* tun_path_init: off, no command. tun_path_start: run argv; 0 or -1. */
void tun_path_init(struct tun_path *p);
int tun_path_start(struct tun_path *p, uint64_t now);
/* tun_path_stop: close the pipes, end ssh and reap it; then TUN_OFF. */
void tun_path_stop(struct tun_path *p);
/* The fds to poll (at most 3, max >= 3); 0 while off. */
int tun_path_fds(const struct tun_path *p, struct pollfd *fds, int max);
/* tun_path_send: queue a copy of one sealed datagram (unless off). */
void tun_path_send(struct tun_path *p, const uint8_t *d, size_t n);
/*
 * tun_path_io: read and write what the pipes allow without blocking; each
 * received frame goes to deliver. Returns the number of frames, or -1
 * when the path broke (it is then stopped, p->error says why if known).
 */
int tun_path_io(struct tun_path *p, uint64_t now,
    void (*deliver)(void *, const uint8_t *, size_t), void *arg);

#endif
