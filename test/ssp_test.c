/*
 * ssp_test.c: fragments, zlib, protobuf and SSP (protocol.md §4-§8).
 *
 * 1. Every recorded datagram of test/vectors/session1..3.json is parsed,
 *    reassembled, inflated and decoded, and each field is compared with the
 *    recording; then re-encoded byte for byte (protobuf, zlib, fragment).
 *    session4-roaming.json stores only raw datagrams: they are opened with
 *    ocb.c first. All 1246 recorded instructions in all.
 * 2. The hand-built encodings of encoding_examples.json.
 * 3. A client and a server in one process over a simulated link with a fake
 *    clock: loss, reordering, duplication, delays, an outage. Keystrokes
 *    arrive exactly once and in order, states converge, histories stay
 *    bounded, and the timers do what §7.13 says.
 * 4. Hostile input: dropped, counted, no change of state.
 * JSON is turned into lines by python3 (the standard library only).
 *
 * Section numbers (§) refer to doc/protocol.md unless another doc is named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"
#include "test.h"

/* ==== helpers ==== */

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	if (strcmp(s, "-") == 0) {
		return 0;
	}
	while (s[0] && s[1] && n < max) {
		if (sscanf(s, "%2x", &v) != 1) {
			break;
		}
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
test_rand(void *arg, uint8_t *p, size_t n)
{
	(void)arg;
	while (n--) {
		*p++ = (uint8_t)rng();
	}
}

/*
 * A stand-in for the terminal (§8.2): echo ack, a size and a byte string.
 * Its diffs are HostMessages: echoack if it changed; resize (which clears)
 * then the whole content if the size changed or the old content is not a
 * prefix; else hostbytes with the new tail.
 */
struct tb {
	uint64_t echo;
	int32_t w, h;
	struct buf c;
	uint64_t gen;		/* the frame it would draw: see tb_bytes */
};
static uint64_t tb_gen;

static void *
tb_copy(const void *st)
{
	const struct tb *a = st;
	struct tb *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		return NULL;
	}
	b->echo = a->echo;
	b->w = a->w;
	b->h = a->h;
	b->gen = a->gen;
	if (buf_append(&b->c, a->c.p, a->c.len) == -1) {
		free(b);
		return NULL;
	}
	return b;
}

static void
tb_free(void *st)
{
	struct tb *a = st;

	buf_free(&a->c);
	free(a);
}

static int
tb_equal(const void *x, const void *y)
{
	const struct tb *a = x, *b = y;

	return a->echo == b->echo && a->w == b->w && a->h == b->h &&
	    a->c.len == b->c.len &&
	    (a->c.len == 0 || memcmp(a->c.p, b->c.p, a->c.len) == 0);
}

static int
tb_diff(const void *from, const void *to, struct buf *out)
{
	const struct tb *a = from, *b = to;
	int prefix = a->c.len <= b->c.len &&
	    (a->c.len == 0 || memcmp(a->c.p, b->c.p, a->c.len) == 0);

	if (a->echo != b->echo && ssp_hm_put_echoack(out, b->echo) == -1) {
		return -1;
	}
	if (a->w != b->w || a->h != b->h || !prefix) {
		if (ssp_hm_put_resize(out, b->w, b->h) == -1) {
			return -1;
		}
		if (b->c.len && ssp_hm_put_bytes(out, b->c.p, b->c.len)) {
			return -1;
		}
	} else if (b->c.len > a->c.len) {
		return ssp_hm_put_bytes(out, b->c.p + a->c.len,
		    b->c.len - a->c.len);
	}
	return 0;
}

static int
tb_apply(void *st, const uint8_t *d, size_t len)
{
	struct tb *a = st;
	struct ssp_iter it = { d, d + len };
	struct ssp_msg m;
	uint64_t e = a->echo;

	if (ssp_hm_check(d, len, &e) == -1) {
		return -1;
	}
	while (ssp_hm_next(&it, &m) == 1) {
		if (m.type == SSP_MSG_BYTES) {
			if (buf_append(&a->c, m.p, m.len) == -1) {
				return -1;
			}
			a->gen = ++tb_gen;
		} else if (m.type == SSP_MSG_RESIZE) {
			a->w = m.w;
			a->h = m.h;
			a->c.len = 0;
			a->gen = ++tb_gen;
		} else if (m.type == SSP_MSG_ECHOACK) {
			a->echo = m.echo_ack;
		}
	}
	return 0;
}

static const struct ssp_ops tb_ops = {
	tb_copy, tb_free, tb_equal, tb_diff, tb_apply, NULL
};

/*
 * The stand-in's measure, as if it held the frame a terminal would: w x h
 * cells that a copy shares and that any host bytes or resize write anew
 * (ESC # 8 rewrites every row of a real frame). Nothing is allocated for
 * them, so an attack on the budget costs the test no memory.
 */
static size_t
tb_screen(const struct tb *a)
{
	size_t w = (size_t)MAX(0, MIN(a->w, FB_MAX_COLS));
	size_t h = (size_t)MAX(0, MIN(a->h, FB_MAX_ROWS));

	return w * h * sizeof(struct fb_cell);
}

static void
tb_bytes(const void *st, const void *base, size_t part[SSP_PARTS])
{
	const struct tb *a = st, *b = base;

	part[SSP_PART_SCREEN] += sizeof(*a) + a->c.cap;
	if (b == NULL || b->gen != a->gen) {
		part[SSP_PART_SCREEN] += tb_screen(a);
	}
}

/* What the received states hold, measured afresh, for one part. */
static size_t
held_bytes(const struct ssp *s, int part)
{
	size_t i, p[SSP_PARTS], sum = 0;

	for (i = 0; i < s->nrecv; i++) {
		memset(p, 0, sizeof(p));
		s->cfg.remote_bytes(s->recv[i].st,
		    i > 0 ? s->recv[i - 1].st : NULL, p);
		sum += p[part];
	}
	return sum;
}

/* ==== 1 and 2: the recorded traffic ==== */

static const char vec_py[] =
    "python3 - <<'EOF'\n"
    "import json\n"
    "def n(x): return str((1<<64)-1) if x=='-1' else str(x)\n"
    "def h(x): return x if x else '-'\n"
    "for s in ['session1','session2','session3']:\n"
    "  d=json.load(open('test/vectors/%s.json'%s))\n"
    "  for g in d['datagrams']:\n"
    "    if 'plaintext_hex' not in g:\n"
    "      print('E',s,g['index']); continue\n"
    "    f=g['fragment']; up=g['direction']=='to_server'\n"
    "    print('P',s,g['index'],0 if up else 1,g['timestamp'],"
    "g['timestamp_reply'],g['plaintext_hex'],f['id'],f['num'],"
    "int(f['final']),h(f['contents_hex']))\n"
    "    if 'instruction_hex' not in g: continue\n"
    "    i=g['instruction']\n"
    "    print('I',h(g['compressed_instruction_hex']),"
    "h(g['instruction_hex']),i['protocol_version'],n(i['old_num']),"
    "n(i['new_num']),n(i['ack_num']),n(i['throwaway_num']),h(i['diff']),"
    "h(i['chaff']))\n"
    "    dd=g.get('diff_decoded') or {}\n"
    "    l=dd.get('UserMessage' if up else 'HostMessage',[])\n"
    "    t=[]\n"
    "    for it in l:\n"
    "      if 'keystroke' in it: t.append('k:'+h(it['keystroke']"
    ".get('keys_hex','')))\n"
    "      elif 'hostbytes' in it: t.append('b:'+h(it['hostbytes']"
    ".get('hoststring_hex','')))\n"
    "      elif 'resize' in it: t.append('r:%d,%d'%(it['resize']"
    ".get('width',0),it['resize'].get('height',0)))\n"
    "      elif 'echoack' in it: t.append('e:'+n(it['echoack']"
    ".get('echo_ack_num',0)))\n"
    "      else: t.append('x:')\n"
    "    print('M','U' if up else 'H',*t)\n"
    "d=json.load(open('test/vectors/session4-roaming.json'))\n"
    "print('K',d['key_printable'],d['key_hex'])\n"
    "for g in d['datagrams']:\n"
    "  f=g['fragment']; i=g['instruction']; up=g['direction']=='to_server'\n"
    "  print('Q',0 if up else 1,g['seq'],g['raw_hex'],g['timestamp'],"
    "g['timestamp_reply'],f['id'],f['num'],int(f['final']))\n"
    "  print('J',i['protocol_version'],n(i['old_num']),n(i['new_num']),"
    "n(i['ack_num']),n(i['throwaway_num']),h(i['diff']),h(i['chaff']))\n"
    "  dd=g.get('diff_decoded') or {}\n"
    "  l=dd.get('UserMessage' if up else 'HostMessage',[])\n"
    "  t=[]\n"
    "  for it in l:\n"
    "    if 'keystroke' in it: t.append('k:'+h(it['keystroke']"
    ".get('keys_hex','')))\n"
    "    elif 'hostbytes' in it: t.append('b:'+h(it['hostbytes']"
    ".get('hoststring_hex','')))\n"
    "    elif 'resize' in it: t.append('r:%d,%d'%(it['resize']"
    ".get('width',0),it['resize'].get('height',0)))\n"
    "    elif 'echoack' in it: t.append('e:'+n(it['echoack']"
    ".get('echo_ack_num',0)))\n"
    "    else: t.append('x:')\n"
    "  print('M','U' if up else 'H',*t)\n"
    "ex=json.load(open('test/vectors/encoding_examples.json'))['examples']\n"
    "for k,v in ex.items(): print('X',k,v['hex'])\n"
    "EOF\n";

#define BIG 70000

struct vec {
	uint8_t pt[BIG], want[BIG], z[BIG];
	struct ssp_asm as[2];
	struct buf got, inf, enc;
	struct ssp_inst in;	/* the last instruction decoded */
	int have_in, dir;
	int ndgram, ninst, nmsg, nfrag_ok;
	uint64_t ids[2];
	char session[32];
	struct ocb ocb;
	int have_key, nq, nq_ok;
};

static void
vec_fragment(struct vec *v, char **tok, int ntok)
{
	struct ssp_frag f;
	size_t n, cn;
	int r;
	uint8_t hdr[SSP_FRAG_HDR];

	v->have_in = 0;
	if (ntok < 11) {
		CHECK(!"short P line");
		return;
	}
	v->dir = atoi(tok[3]);
	if (strcmp(tok[1], v->session) != 0) {
		snprintf(v->session, sizeof(v->session), "%s", tok[1]);
		v->ids[0] = v->ids[1] = 0;	/* a new capture */
	}
	n = unhex(tok[6], v->pt, sizeof(v->pt));
	CHECK(n >= 4 + SSP_FRAG_HDR);
	CHECK(((unsigned)v->pt[0] << 8 | v->pt[1]) == (unsigned)atoi(tok[4]));
	CHECK(((unsigned)v->pt[2] << 8 | v->pt[3]) == (unsigned)atoi(tok[5]));
	CHECK(ssp_frag_parse(v->pt + 4, n - 4, &f) == 0);
	CHECK(f.id == strtoull(tok[7], NULL, 10));
	CHECK(f.num == (unsigned)atoi(tok[8]));
	CHECK(f.final == atoi(tok[9]));
	cn = unhex(tok[10], v->want, sizeof(v->want));
	if (CHECK_MEM(f.p, f.len, v->want, cn)) {
		v->nfrag_ok++;
	}
	/* our header for the same fields is the recorded one */
	ssp_frag_header(hdr, f.id, f.num, f.final);
	CHECK_MEM(hdr, sizeof(hdr), v->pt + 4, SSP_FRAG_HDR);
	/* ids go up by one per instruction sent, from 1 (§4.2) */
	CHECK(f.id >= 1);
	CHECK(f.id == v->ids[v->dir] || f.id == v->ids[v->dir] + 1);
	v->ids[v->dir] = f.id;
	r = ssp_asm_add(&v->as[v->dir], &f, &v->got);
	CHECK(r == 0 || r == 1);
	v->ndgram++;
	if (r == 1) {
		v->have_in = 1;	/* an I line must follow */
	}
}

static void
vec_instruction(struct vec *v, char **tok, int ntok)
{
	size_t n;
	struct ssp_inst in;

	if (ntok < 10 || !v->have_in) {
		CHECK(!"I line without a complete instruction");
		return;
	}
	v->have_in = 0;
	n = unhex(tok[1], v->z, sizeof(v->z));
	CHECK_MEM(v->got.p, v->got.len, v->z, n);
	/* zlib level 6 gives the recorded stream */
	n = unhex(tok[2], v->want, sizeof(v->want));
	CHECK(ssp_inflate(v->got.p, v->got.len, &v->inf) == 0);
	CHECK_MEM(v->inf.p, v->inf.len, v->want, n);
	v->enc.len = 0;
	CHECK(ssp_deflate(v->want, n, &v->enc) == 0);
	CHECK_MEM(v->enc.p, v->enc.len, v->got.p, v->got.len);
	/* the decoded fields */
	CHECK(ssp_inst_decode(v->inf.p, v->inf.len, &in) == 0);
	CHECK(in.version == (uint32_t)atoi(tok[3]));
	CHECK(in.old_num == strtoull(tok[4], NULL, 10));
	CHECK(in.new_num == strtoull(tok[5], NULL, 10));
	CHECK(in.ack_num == strtoull(tok[6], NULL, 10));
	CHECK(in.throwaway_num == strtoull(tok[7], NULL, 10));
	n = unhex(tok[8], v->want, sizeof(v->want));
	CHECK_MEM(in.diff, in.diff_len, v->want, n);
	n = unhex(tok[9], v->want, sizeof(v->want));
	CHECK_MEM(in.chaff, in.chaff_len, v->want, n);
	/* and back: all seven fields, in order, byte for byte */
	v->enc.len = 0;
	CHECK(ssp_inst_encode(&in, &v->enc) == 0);
	CHECK_MEM(v->enc.p, v->enc.len, v->inf.p, v->inf.len);
	v->in = in;
	v->have_in = 2;
	v->ninst++;
}

/*
 * session4 is stored compact: only the raw datagram. Open it with ocb.c
 * (nonce: 4 zero bytes and the first 8 of the datagram, §2.2), then go
 * through the same steps; the J line holds the decoded instruction.
 */
static void
vec_key(struct vec *v, char **tok, int ntok)
{
	uint8_t key[OCB_KEY_LEN], want[OCB_KEY_LEN];

	if (ntok < 3) {
		CHECK(!"short K line");
		return;
	}
	CHECK(ocb_key_parse(tok[1], key, NULL) == 0);
	CHECK(unhex(tok[2], want, sizeof(want)) == OCB_KEY_LEN);
	CHECK_MEM(key, sizeof(key), want, sizeof(want));
	CHECK(ocb_init(&v->ocb, key) == 0);
	v->have_key = 1;
	v->ids[0] = v->ids[1] = 0;
	snprintf(v->session, sizeof(v->session), "session4");
}

static void
vec_raw(struct vec *v, char **tok, int ntok)
{
	uint8_t nonce[OCB_NONCE_LEN] = { 0 };
	struct ssp_frag f;
	uint64_t seq = 0;
	size_t n;
	int r, i;

	v->have_in = 0;
	if (ntok < 9 || !v->have_key) {
		CHECK(!"Q line without a key");
		return;
	}
	v->dir = atoi(tok[1]);
	n = unhex(tok[3], v->z, sizeof(v->z));
	CHECK(n >= 8 + 4 + SSP_FRAG_HDR + OCB_TAG_LEN);
	memcpy(nonce + 4, v->z, 8);
	for (i = 0; i < 8; i++) {
		seq = seq << 8 | v->z[i];
	}
	CHECK((int)(seq >> 63) == v->dir);
	CHECK((seq & ~(1ull << 63)) == strtoull(tok[2], NULL, 10));
	r = ocb_open(&v->ocb, nonce, NULL, 0, v->z + 8, n - 8, v->pt);
	CHECK(r == 0);
	if (r != 0) {
		return;
	}
	n -= 8 + OCB_TAG_LEN;
	CHECK(((unsigned)v->pt[0] << 8 | v->pt[1]) == (unsigned)atoi(tok[4]));
	CHECK(((unsigned)v->pt[2] << 8 | v->pt[3]) == (unsigned)atoi(tok[5]));
	CHECK(ssp_frag_parse(v->pt + 4, n - 4, &f) == 0);
	CHECK(f.id == strtoull(tok[6], NULL, 10) && f.id >= 1);
	CHECK(f.num == (unsigned)atoi(tok[7]));
	CHECK(f.final == atoi(tok[8]));
	/* the relay's two legs repeat most datagrams: identical duplicates */
	r = ssp_asm_add(&v->as[v->dir], &f, &v->got);
	CHECK(r == 1);
	v->have_in = r == 1;
	v->nq++;
}

static void
vec_json_inst(struct vec *v, char **tok, int ntok)
{
	struct ssp_inst in;
	size_t n;

	if (ntok < 8 || !v->have_in) {
		CHECK(!"J line without a complete instruction");
		return;
	}
	v->have_in = 0;
	CHECK(ssp_inflate(v->got.p, v->got.len, &v->inf) == 0);
	CHECK(ssp_inst_decode(v->inf.p, v->inf.len, &in) == 0);
	CHECK(in.version == (uint32_t)atoi(tok[1]));
	CHECK(in.old_num == strtoull(tok[2], NULL, 10));
	CHECK(in.new_num == strtoull(tok[3], NULL, 10));
	CHECK(in.ack_num == strtoull(tok[4], NULL, 10));
	CHECK(in.throwaway_num == strtoull(tok[5], NULL, 10));
	n = unhex(tok[6], v->want, sizeof(v->want));
	CHECK_MEM(in.diff, in.diff_len, v->want, n);
	n = unhex(tok[7], v->want, sizeof(v->want));
	CHECK_MEM(in.chaff, in.chaff_len, v->want, n);
	/* re-encoding and level 6 give the bytes on the wire */
	v->enc.len = 0;
	CHECK(ssp_inst_encode(&in, &v->enc) == 0);
	CHECK_MEM(v->enc.p, v->enc.len, v->inf.p, v->inf.len);
	v->enc.len = 0;
	CHECK(ssp_deflate(v->inf.p, v->inf.len, &v->enc) == 0);
	if (CHECK_MEM(v->enc.p, v->enc.len, v->got.p, v->got.len)) {
		v->nq_ok++;
	}
	v->in = in;
	v->have_in = 2;
	v->ninst++;
}

/* The M line: the diff's instructions, decoded and re-encoded. */
static void
vec_message(struct vec *v, char **tok, int ntok)
{
	struct ssp_iter it;
	struct ssp_msg m;
	struct buf re = { NULL, 0, 0 }, ud = { NULL, 0, 0 };
	struct ssp_user *u, *empty;
	int host, i, r, w, h;
	size_t n;

	if (v->have_in != 2 || ntok < 2) {
		CHECK(!"M line without an instruction");
		return;
	}
	v->have_in = 0;
	host = tok[1][0] == 'H';
	CHECK(host == v->dir);
	it.p = v->in.diff;
	it.end = v->in.diff + v->in.diff_len;
	for (i = 2; i < ntok; i++) {
		r = host ? ssp_hm_next(&it, &m) : ssp_um_next(&it, &m);
		CHECK(r == 1);
		if (r != 1) {
			break;
		}
		switch (tok[i][0]) {
		case 'k':
		case 'b':
			CHECK(m.type == (host ? SSP_MSG_BYTES : SSP_MSG_KEYS));
			n = unhex(tok[i] + 2, v->want, sizeof(v->want));
			CHECK_MEM(m.p, m.len, v->want, n);
			CHECK((host ? ssp_hm_put_bytes : ssp_um_put_keys)(&re,
			    v->want, n) == 0);
			break;
		case 'r':
			CHECK(m.type == SSP_MSG_RESIZE);
			CHECK(sscanf(tok[i] + 2, "%d,%d", &w, &h) == 2);
			CHECK(m.w == w && m.h == h);
			CHECK((host ? ssp_hm_put_resize : ssp_um_put_resize)(&re,
			    w, h) == 0);
			break;
		case 'e':
			CHECK(host && m.type == SSP_MSG_ECHOACK);
			CHECK(m.echo_ack == strtoull(tok[i] + 2, NULL, 10));
			CHECK(ssp_hm_put_echoack(&re, m.echo_ack) == 0);
			break;
		default:
			CHECK(!"unknown item");
		}
	}
	r = host ? ssp_hm_next(&it, &m) : ssp_um_next(&it, &m);
	CHECK(r == 0);
	CHECK_MEM(re.p, re.len, v->in.diff, v->in.diff_len);
	if (!host) {
		/* a user stream applies it and diffs it back the same */
		u = ssp_user_new();
		empty = ssp_user_new();
		CHECK(ssp_user_ops.apply(u, v->in.diff, v->in.diff_len) == 0);
		CHECK(ssp_user_ops.diff(empty, u, &ud) == 0);
		CHECK_MEM(ud.p, ud.len, v->in.diff, v->in.diff_len);
		ssp_user_ops.free(u);
		ssp_user_ops.free(empty);
	}
	buf_free(&re);
	buf_free(&ud);
	v->nmsg++;
}

static void
vec_example(struct vec *v, const char *name, const char *hex)
{
	size_t n = unhex(hex, v->want, sizeof(v->want));
	struct buf b = { NULL, 0, 0 };
	struct ssp_inst in;
	uint8_t diff[64];
	size_t dn;
	static const uint8_t ls[] = "ls", up[] = "\033OA", dol[] = "$ ",
	    decstbm[] = "\033[r";

	memset(&in, 0, sizeof(in));
	in.version = 2;
	if (strcmp(name, "user_keystroke_a") == 0) {
		CHECK(ssp_um_put_keys(&b, (const uint8_t *)"a", 1) == 0);
	} else if (strcmp(name, "user_keystroke_multi") == 0) {
		CHECK(ssp_um_put_keys(&b, up, 3) == 0);
	} else if (strcmp(name, "user_resize_80x24") == 0) {
		CHECK(ssp_um_put_resize(&b, 80, 24) == 0);
	} else if (strcmp(name, "user_keys_then_resize") == 0) {
		CHECK(ssp_um_put_keys(&b, ls, 2) == 0);
		CHECK(ssp_um_put_resize(&b, 100, 30) == 0);
	} else if (strcmp(name, "host_echoack1_hostbytes") == 0) {
		CHECK(ssp_hm_put_echoack(&b, 1) == 0);
		CHECK(ssp_hm_put_bytes(&b, dol, 2) == 0);
	} else if (strcmp(name, "host_resize_then_bytes") == 0) {
		CHECK(ssp_hm_put_resize(&b, 100, 30) == 0);
		CHECK(ssp_hm_put_bytes(&b, decstbm, 3) == 0);
	} else if (strncmp(name, "transport_", 10) == 0) {
		dn = 0;
		if (strcmp(name, "transport_instruction_first_client") == 0) {
			in.new_num = 1;
			dn = unhex("0a061a0428503018", diff, sizeof(diff));
		} else if (strcmp(name, "transport_instruction_empty_ack")
		    == 0) {
			in.old_num = 4;
			in.new_num = 5;
			in.ack_num = 7;
			in.throwaway_num = 4;
		} else if (strcmp(name, "transport_instruction_shutdown")
		    == 0) {
			in.old_num = 20;
			in.new_num = SSP_SHUTDOWN_NUM;
			in.ack_num = 21;
			in.throwaway_num = 20;
		} else {
			in.old_num = 21;
			in.new_num = 22;
			in.ack_num = SSP_SHUTDOWN_NUM;
			in.throwaway_num = 21;
		}
		in.diff = diff;
		in.diff_len = dn;
		CHECK(ssp_inst_encode(&in, &b) == 0);
	} else if (strcmp(name, "compressed_instruction") == 0) {
		dn = unhex("0802100018012000280032080a061a04285030183a00", diff,
		    sizeof(diff));
		CHECK(ssp_deflate(diff, dn, &b) == 0);
	} else if (strcmp(name, "fragment") == 0) {
		uint8_t hdr[SSP_FRAG_HDR];

		ssp_frag_header(hdr, 1, 0, 1);
		CHECK(buf_append(&b, hdr, sizeof(hdr)) == 0);
		dn = unhex("0802100018012000280032080a061a04285030183a00", diff,
		    sizeof(diff));
		CHECK(ssp_deflate(diff, dn, &b) == 0);
	} else {
		buf_free(&b);
		return;	/* datagrams: net.c's business */
	}
	if (!CHECK_MEM(b.p, b.len, v->want, n)) {
		fprintf(stderr, "  example %s\n", name);
	}
	buf_free(&b);
}

static void
test_vectors(void)
{
	static struct vec v;
	static char line[300000];
	char *tok[64];
	int ntok, nex = 0;
	FILE *f;

	memset(&v, 0, sizeof(v));
	CHECK(ssp_asm_init(&v.as[0]) == 0 && ssp_asm_init(&v.as[1]) == 0);
	if ((f = popen(vec_py, "r")) == NULL) {
		CHECK(!"popen python3");
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		ntok = 0;
		tok[0] = strtok(line, " \n");
		while (tok[ntok] != NULL && ntok < 63) {
			tok[++ntok] = strtok(NULL, " \n");
		}
		if (ntok == 0) {
			continue;
		}
		switch (tok[0][0]) {
		case 'P':
			vec_fragment(&v, tok, ntok);
			break;
		case 'I':
			vec_instruction(&v, tok, ntok);
			break;
		case 'M':
			vec_message(&v, tok, ntok);
			break;
		case 'K':
			vec_key(&v, tok, ntok);
			break;
		case 'Q':
			vec_raw(&v, tok, ntok);
			break;
		case 'J':
			vec_json_inst(&v, tok, ntok);
			break;
		case 'X':
			if (ntok == 3) {
				vec_example(&v, tok[1], tok[2]);
				nex++;
			}
			break;
		default:
			break;
		}
	}
	CHECK(pclose(f) == 0);
	printf("vectors: %d datagrams with plaintext, %d opened with ocb.c, "
	    "%d instructions, %d messages, %d examples\n", v.ndgram, v.nq,
	    v.ninst, v.nmsg, nex);
	CHECK(v.ndgram == v.nfrag_ok);
	CHECK(v.ndgram == 91);
	CHECK(v.nq == 1157 && v.nq_ok == v.nq);
	CHECK(v.ninst == 89 + 1157 && v.nmsg == v.ninst);
	ocb_wipe(&v.ocb);
	CHECK(nex >= 12);
	ssp_asm_free(&v.as[0]);
	ssp_asm_free(&v.as[1]);
	buf_free(&v.got);
	buf_free(&v.inf);
	buf_free(&v.enc);
}

/* §4.2: first id 1; a new id when a number, the chaff or the slice changes. */
static void
test_fragmenter(void)
{
	struct ssp_fragmenter fr;
	struct ssp_inst in;
	uint8_t ch[2] = { 1, 2 };

	ssp_fragmenter_init(&fr);
	memset(&in, 0, sizeof(in));
	in.version = 2;
	in.new_num = 1;
	CHECK(ssp_fragmenter_id(&fr, &in, 1214) == 1);
	CHECK(ssp_fragmenter_id(&fr, &in, 1214) == 1);	/* all equal */
	in.diff = ch;
	in.diff_len = 2;
	CHECK(ssp_fragmenter_id(&fr, &in, 1214) == 1);	/* diff not compared */
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 2);	/* slice */
	in.old_num = 1;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 3);
	in.new_num = 2;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 4);
	in.ack_num = 2;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 5);
	in.throwaway_num = 1;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 6);
	in.chaff = ch;
	in.chaff_len = 1;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 7);
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 7);
	in.chaff = ch + 1;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 8);	/* same length */
	in.version = 3;
	CHECK(ssp_fragmenter_id(&fr, &in, 462) == 9);
}

/* §8.1 on its own: push, diff, apply, subtract, equality, iteration. */
static void
test_user_stream(void)
{
	struct ssp_user *a = ssp_user_new(), *b, *c = ssp_user_new();
	struct buf d = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	static const uint8_t ks[] = { 'l', 0xff, 0 }, bad[] = { 0x0a, 0x05,
	    0x12, 0x03, 0x22, 0x01 };
	struct ssp_uev e;
	size_t off = 0;
	int n = 0;

	CHECK(ssp_user_push_bytes(a, ks, 2) == 0);
	b = ssp_user_ops.copy(a);
	CHECK(ssp_user_ops.equal(a, b));
	CHECK(ssp_user_push_resize(a, 100, 30) == 0);
	CHECK(ssp_user_push_resize(a, 101, 31) == 0);
	CHECK(ssp_user_push_bytes(a, ks + 2, 1) == 0);
	CHECK(!ssp_user_ops.equal(a, b));
	/* from b (a prefix): two resizes, then a keystroke of its own */
	CHECK(ssp_user_ops.diff(b, a, &d) == 0);
	CHECK(ssp_um_put_resize(&want, 100, 30) == 0);
	CHECK(ssp_um_put_resize(&want, 101, 31) == 0);
	CHECK(ssp_um_put_keys(&want, ks + 2, 1) == 0);
	CHECK_MEM(d.p, d.len, want.p, want.len);
	/* not a prefix: refused */
	d.len = 0;
	CHECK(ssp_user_ops.diff(a, b, &d) == -1 && d.len == 0);
	/* b + diff = a */
	d.len = 0;
	CHECK(ssp_user_ops.diff(b, a, &d) == 0);
	CHECK(ssp_user_ops.apply(b, d.p, d.len) == 0);
	CHECK(ssp_user_ops.equal(a, b));
	/* a malformed diff changes nothing */
	CHECK(ssp_user_ops.apply(b, bad, sizeof(bad)) == -1);
	CHECK(ssp_user_ops.equal(a, b));
	/* the events, with the first resize superseded */
	while (ssp_user_next(a, &off, &e) == 1) {
		switch (n++) {
		case 0:
			CHECK(e.type == SSP_MSG_KEYS && e.c == 'l');
			break;
		case 1:
			CHECK(e.type == SSP_MSG_KEYS && e.c == 0xff);
			break;
		case 2:
			CHECK(e.type == SSP_MSG_RESIZE && e.w == 100 &&
			    e.h == 30 && e.superseded);
			break;
		case 3:
			CHECK(e.type == SSP_MSG_RESIZE && e.w == 101 &&
			    e.h == 31 && !e.superseded);
			break;
		default:
			CHECK(e.type == SSP_MSG_KEYS && e.c == 0);
		}
	}
	CHECK(n == 5);
	/* subtract a prefix, a non-prefix (ignored), itself */
	CHECK(ssp_user_push_bytes(c, ks, 2) == 0);
	ssp_user_ops.subtract(b, c);
	off = 0;
	CHECK(ssp_user_next(b, &off, &e) == 1 && e.type == SSP_MSG_RESIZE);
	ssp_user_ops.subtract(b, a);
	CHECK(b->b.len == 21);
	ssp_user_ops.subtract(b, b);
	CHECK(b->b.len == 0);
	d.len = 0;
	CHECK(ssp_user_ops.diff(b, b, &d) == 0 && d.len == 0);
	buf_free(&d);
	buf_free(&want);
	ssp_user_ops.free(a);
	ssp_user_ops.free(b);
	ssp_user_ops.free(c);
}

/* ==== 3: a client and a server over a simulated link ==== */

#define SIM_QMAX 20000
#define SIM_LOGMAX 200000

struct pkt {
	uint64_t at, sent, seq, tsr;
	int to;
	size_t len;
	uint8_t *d;
};

/* One instruction seen leaving an endpoint. */
struct rec {
	uint64_t t, old_num, new_num, ack_num, thr;
	size_t diff_len;
	int from, lost;
};

struct sim;
struct side {
	struct sim *m;
	int id;
};

struct sim {
	uint64_t now, seq;
	struct ssp ep[2];		/* 0 client, 1 server */
	struct ssp_link link[2];
	struct side side[2];
	double srtt[2], rttvar[2];
	int hit[2];
	uint64_t saved_ts[2], saved_at[2];	/* §3.3 timestamp echo */
	struct pkt *q;
	size_t nq;
	/* conditions */
	unsigned loss[2];		/* per mille, by sender */
	unsigned dup;			/* per mille */
	uint64_t delay, jitter;		/* ms */
	uint64_t out_from, out_to;	/* outage, both ways */
	double est[2];			/* the loss side i would observe */
	int force;			/* links report loss lossv, not est */
	unsigned lossv;
	/* what happened */
	struct rec *log;
	size_t nlog;
	/* the applications */
	void (*app)(struct sim *);
	uint64_t app_next;
	int echo_now;			/* server echo acks at once */
	uint64_t type_until, next_type;
	struct buf typed, got;
	int32_t want_w, want_h, got_w, got_h;
	struct tb term;			/* the server's screen */
	uint64_t last_remote;
	size_t max_sent, max_recv;
	unsigned events_bad, oversize, multi, zsame, zdiffer;
	unsigned id_conflict;		/* same fragment id, other bytes */
	uint64_t last_id[2];
	unsigned last_fnum[2];
	struct buf last_frag[2];
	size_t bulk;			/* server output per keystroke */
};

static int
sim_send(void *arg, const uint8_t *p, size_t n)
{
	struct side *sd = arg;
	struct sim *m = sd->m;
	struct ssp_frag f;
	struct buf inf = { NULL, 0, 0 };
	struct ssp_inst in;
	struct rec *r = NULL;
	int copies, lost;
	uint64_t tsr = SSP_NEVER;

	/* a datagram of nonce, timestamps, payload and tag fits the MTU */
	if (n + 28 > m->link[sd->id].mtu || n <= SSP_FRAG_HDR) {
		m->oversize++;
	}
	if (ssp_frag_parse(p, n, &f) == 0 && f.num > 0) {
		m->multi++;
	}
	/* upstream asserts that a fragment resent under its id is the same */
	if (ssp_frag_parse(p, n, &f) == 0) {
		if (m->last_frag[sd->id].len > 0 &&
		    f.id == m->last_id[sd->id] &&
		    f.num == m->last_fnum[sd->id] &&
		    (m->last_frag[sd->id].len != n ||
		    memcmp(m->last_frag[sd->id].p, p, n) != 0)) {
			m->id_conflict++;
		}
		m->last_id[sd->id] = f.id;
		m->last_fnum[sd->id] = f.num;
		m->last_frag[sd->id].len = 0;
		buf_append(&m->last_frag[sd->id], p, n);
	}
	/* the endpoint's reused deflate stream gives compress()'s bytes */
	if (ssp_frag_parse(p, n, &f) == 0 && f.num == 0 && f.final &&
	    ssp_inflate(f.p, f.len, &inf) == 0) {
		struct buf z = { NULL, 0, 0 };

		if (ssp_deflate(inf.p, inf.len, &z) == -1 || z.len != f.len ||
		    memcmp(z.p, f.p, f.len) != 0) {
			m->zdiffer++;
		}
		m->zsame++;
		buf_free(&z);
	}

	/* log the instruction (tests send single-fragment ones) */
	if (ssp_frag_parse(p, n, &f) == 0 && f.num == 0 && f.final &&
	    ssp_inflate(f.p, f.len, &inf) == 0 &&
	    ssp_inst_decode(inf.p, inf.len, &in) == 0 &&
	    m->nlog < SIM_LOGMAX) {
		r = &m->log[m->nlog++];
		r->t = m->now;
		r->from = sd->id;
		r->old_num = in.old_num;
		r->new_num = in.new_num;
		r->ack_num = in.ack_num;
		r->thr = in.throwaway_num;
		r->diff_len = in.diff_len;
	}
	buf_free(&inf);
	/* each received timestamp is echoed once, within 1 s (§3.3) */
	if (m->saved_ts[sd->id] != SSP_NEVER &&
	    m->now - m->saved_at[sd->id] < 1000) {
		tsr = m->saved_ts[sd->id] + (m->now - m->saved_at[sd->id]);
		m->saved_ts[sd->id] = SSP_NEVER;
	}
	lost = (m->now >= m->out_from && m->now < m->out_to) ||
	    rng() % 1000 < m->loss[sd->id];
	if (r != NULL) {
		r->lost = lost;
	}
	/* what the receiver's net_loss would see, roughly */
	m->est[!sd->id] = m->est[!sd->id] * 15 / 16 + (lost ? 1000.0 / 16 : 0);
	if (lost) {
		return 0;
	}
	copies = rng() % 1000 < m->dup ? 2 : 1;
	while (copies-- > 0 && m->nq < SIM_QMAX) {
		struct pkt *k = &m->q[m->nq++];

		k->d = malloc(n);
		memcpy(k->d, p, n);
		k->len = n;
		k->to = !sd->id;
		k->sent = m->now;
		k->tsr = tsr;
		k->at = m->now + m->delay +
		    (m->jitter ? rng() % (m->jitter + 1) : 0);
		k->seq = m->seq++;
	}
	return 0;
}

/* The datagram layer's part (§3.4), from the simulated delays. */
static void
sim_rtt(struct sim *m, int id, double r)
{
	if (r >= 5000) {
		return;
	}
	if (!m->hit[id]) {
		m->srtt[id] = r;
		m->rttvar[id] = r / 2;
		m->hit[id] = 1;
	} else {
		m->rttvar[id] = 0.75 * m->rttvar[id] +
		    0.25 * (m->srtt[id] > r ? m->srtt[id] - r : r - m->srtt[id]);
		m->srtt[id] = 0.875 * m->srtt[id] + 0.125 * r;
	}
}

static void
sim_link(struct sim *m, int id)
{
	double rto = m->srtt[id] + 4 * m->rttvar[id], si = m->srtt[id] / 2;
	unsigned r = (unsigned)rto + (rto > (unsigned)rto);
	unsigned s = (unsigned)si + (si > (unsigned)si);

	m->link[id].rto = MAX(50u, MIN(1000u, r));
	m->link[id].send_interval = MAX(20u, MIN(250u, s));
	m->link[id].loss = m->force ? m->lossv : (unsigned)m->est[id];
}

/* §8.4 steps 1-2 on the server, then the terminal stand-in. */
static void
server_look(struct sim *m)
{
	struct ssp *s = &m->ep[1];
	struct ssp_user *ev;
	struct ssp_uev e;
	size_t off = 0;
	int any = 0;

	if (ssp_remote_num(s) == m->last_remote) {
		return;
	}
	m->last_remote = ssp_remote_num(s);
	ev = ssp_user_new();
	CHECK(ssp_user_take(s, ev) == 0);
	while (ssp_user_next(ev, &off, &e) == 1) {
		any = 1;
		if (e.type == SSP_MSG_KEYS) {
			size_t k;

			buf_putc(&m->got, e.c);
			buf_putc(&m->term.c, e.c);
			for (k = 0; k < m->bulk; k++) {
				buf_putc(&m->term.c, (uint8_t)rng());
			}
			/* a screen holds so much: then a full repaint */
			if (m->bulk && m->term.c.len > 3000) {
				memmove(m->term.c.p, m->term.c.p +
				    m->term.c.len - 1500, 1500);
				m->term.c.len = 1500;
			}
		} else if (e.type == SSP_MSG_RESIZE && !e.superseded) {
			m->got_w = e.w;
			m->got_h = e.h;
		} else if (e.type != SSP_MSG_RESIZE) {
			m->events_bad++;
		}
	}
	ssp_user_ops.free(ev);
	if (any && m->echo_now) {
		m->term.echo = m->last_remote;
	}
	if (!ssp_shutdown_in_progress(s)) {
		CHECK(ssp_set_current(s, &m->term) == 0);
	}
}

static void
sim_deliver(struct sim *m)
{
	size_t i, best;
	struct pkt k;
	int to;

	for (;;) {
		best = SIZE_MAX;
		for (i = 0; i < m->nq; i++) {
			if (m->q[i].at <= m->now && (best == SIZE_MAX ||
			    m->q[i].at < m->q[best].at ||
			    (m->q[i].at == m->q[best].at &&
			    m->q[i].seq < m->q[best].seq))) {
				best = i;
			}
		}
		if (best == SIZE_MAX) {
			return;
		}
		k = m->q[best];
		m->q[best] = m->q[--m->nq];
		to = k.to;
		m->saved_ts[to] = k.sent;
		m->saved_at[to] = m->now;
		if (k.tsr != SSP_NEVER) {
			sim_rtt(m, to, (double)(m->now - k.tsr));
		}
		ssp_recv(&m->ep[to], k.d, k.len, m->now);
		free(k.d);
		if (to == 1) {
			m->link[1].has_peer = 1;
			server_look(m);
		}
	}
}

static void
sim_init(struct sim *m, int fast_start)
{
	struct ssp_user *u = ssp_user_new();
	struct tb t0;
	struct ssp_cfg c;
	int i;

	memset(m, 0, sizeof(*m));
	m->q = calloc(SIM_QMAX, sizeof(*m->q));
	m->log = calloc(SIM_LOGMAX, sizeof(*m->log));
	m->out_from = m->out_to = SSP_NEVER;
	m->term.w = 80;
	m->term.h = 24;
	memset(&t0, 0, sizeof(t0));
	t0.w = 80;
	t0.h = 24;
	memset(&c, 0, sizeof(c));
	c.mine = &ssp_user_ops;
	c.remote = &tb_ops;
	c.remote_bytes = tb_bytes;
	c.mine_init = u;
	c.remote_init = &t0;
	c.mindelay = SSP_MINDELAY_CLIENT;
	c.fast_start = fast_start;
	c.rand = test_rand;
	CHECK(ssp_init(&m->ep[0], &c, 0) == 0);
	c.mine = &tb_ops;
	c.remote = &ssp_user_ops;
	c.remote_bytes = NULL;		/* the stream's own */
	c.mine_init = &t0;
	c.remote_init = u;
	c.mindelay = SSP_MINDELAY_SERVER;
	CHECK(ssp_init(&m->ep[1], &c, 0) == 0);
	ssp_user_ops.free(u);
	for (i = 0; i < 2; i++) {
		m->side[i].m = m;
		m->side[i].id = i;
		m->link[i].send = sim_send;
		m->link[i].arg = &m->side[i];
		m->link[i].mtu = 1252;
		m->srtt[i] = 1000;
		m->rttvar[i] = 500;
		m->saved_ts[i] = SSP_NEVER;
	}
	m->link[0].has_peer = 1;
	m->last_remote = 0;
}

static void
sim_free(struct sim *m)
{
	size_t i;

	for (i = 0; i < m->nq; i++) {
		free(m->q[i].d);
	}
	free(m->q);
	free(m->log);
	ssp_free(&m->ep[0]);
	ssp_free(&m->ep[1]);
	buf_free(&m->typed);
	buf_free(&m->got);
	buf_free(&m->term.c);
	buf_free(&m->last_frag[0]);
	buf_free(&m->last_frag[1]);
}

static void
sim_run(struct sim *m, uint64_t until)
{
	uint64_t next, w;
	size_t i;
	int e;

	while (m->now <= until) {
		sim_deliver(m);
		if (m->app != NULL) {
			m->app(m);
		}
		for (e = 0; e < 2; e++) {
			sim_link(m, e);
			ssp_tick(&m->ep[e], &m->link[e], m->now);
			m->max_sent = MAX(m->max_sent, m->ep[e].nsent);
			m->max_recv = MAX(m->max_recv, m->ep[e].nrecv);
		}
		next = until + 1;
		for (e = 0; e < 2; e++) {
			w = ssp_wait(&m->ep[e], &m->link[e], m->now);
			if (w != SSP_NEVER) {
				next = MIN(next, m->now + w);
			}
		}
		for (i = 0; i < m->nq; i++) {
			next = MIN(next, m->q[i].at);
		}
		if (m->app != NULL) {
			next = MIN(next, m->app_next);
		}
		m->now = MAX(next, m->now + 1);
	}
}

/* The client types 1-3 random bytes (0xff and 0 included) at random. */
static void
app_typist(struct sim *m)
{
	struct ssp_user *u;
	uint8_t k[3];
	size_t n, i;

	if (m->now < m->next_type || m->now >= m->type_until) {
		m->app_next = m->now < m->type_until ? m->next_type :
		    SSP_NEVER;
		return;
	}
	u = ssp_current(&m->ep[0]);
	if (rng() % 20 == 0) {
		m->want_w = (int32_t)(rng() % 300) + 1;
		m->want_h = (int32_t)(rng() % 100) + 1;
		CHECK(ssp_user_push_resize(u, m->want_w, m->want_h) == 0);
		if (rng() % 2) {
			/* a second one at once: the first is superseded */
			m->want_w++;
			CHECK(ssp_user_push_resize(u, m->want_w,
			    m->want_h) == 0);
		}
	}
	n = 1 + rng() % 3;
	for (i = 0; i < n; i++) {
		k[i] = (uint8_t)rng();
	}
	CHECK(ssp_user_push_bytes(u, k, n) == 0);
	buf_append(&m->typed, k, n);
	m->next_type = m->now + 1 + rng() % 300;
	m->app_next = m->next_type;
}

/*
 * Copies are bounded: at most two per data instruction sent otherwise,
 * none without loss (after the first exchange).
 */
static void
sim_copies_bounded(const struct sim *m, unsigned loss)
{
	size_t i, data[2] = { 0, 0 };
	int e;

	for (i = 0; i < m->nlog; i++) {
		if (m->log[i].diff_len > 0) {
			data[m->log[i].from]++;
		}
	}
	for (e = 0; e < 2; e++) {
		CHECK(m->ep[e].stats.copies * 3 <= data[e] * 2);
		CHECK(loss > 0 || m->ep[e].stats.copies <= 2);
	}
	CHECK(loss < 300 || m->ep[0].stats.copies > 50);
}

static void
sim_scenario(const char *name, unsigned loss, unsigned dup,
    uint64_t delay, uint64_t jitter, int outage, size_t bulk)
{
	static struct sim m;
	int ok;

	sim_init(&m, 0);
	if (bulk) {
		m.bulk = bulk;
		m.link[0].mtu = m.link[1].mtu = 500;
		m.type_until = 20000;
	}
	m.loss[0] = m.loss[1] = loss;
	m.dup = dup;
	m.delay = delay;
	m.jitter = jitter;
	m.echo_now = 1;
	m.app = app_typist;
	if (!bulk) {
		m.type_until = 60000;
	}
	if (outage) {
		m.out_from = 20000;
		m.out_to = 80000;
		m.type_until = 100000;
	}
	ssp_current(&m.ep[0]);
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	m.want_w = 80;
	m.want_h = 24;
	/* typing, then a quiet minute to converge */
	sim_run(&m, m.type_until + 60000);
	ok = m.typed.len == m.got.len && memcmp(m.typed.p, m.got.p,
	    m.typed.len) == 0;
	CHECK(ok);
	CHECK(m.typed.len > 100);
	CHECK(bulk == 0 || m.multi > 100);	/* many-fragment instructions */
	CHECK(m.got_w == m.want_w && m.got_h == m.want_h);
	CHECK(m.events_bad == 0);
	CHECK(m.oversize == 0);
	CHECK(m.zdiffer == 0 && m.zsame > 200);
	CHECK(m.id_conflict == 0);
	sim_copies_bounded(&m, loss);
	/* both ends hold the newest state of the other */
	CHECK(tb_equal(ssp_remote(&m.ep[0]), &m.term));
	if (getenv("SSP_DUMP") && strcmp(getenv("SSP_DUMP"), name) == 0) {
		const struct tb *rt = ssp_remote(&m.ep[0]);

		fprintf(stderr, "remote %llu len %zu echo %llu; term len %zu "
		    "echo %llu; srv sent %llu acked %llu assumed %zu nsent %zu "
		    "heard %llu now %llu bad_frag %llu\n",
		    (unsigned long long)ssp_remote_num(&m.ep[0]), rt->c.len,
		    (unsigned long long)rt->echo, m.term.c.len,
		    (unsigned long long)m.term.echo,
		    (unsigned long long)ssp_sent_num(&m.ep[1]),
		    (unsigned long long)ssp_acked_num(&m.ep[1]),
		    m.ep[1].assumed, m.ep[1].nsent,
		    (unsigned long long)m.ep[1].last_heard,
		    (unsigned long long)m.now,
		    (unsigned long long)m.ep[0].stats.bad_frag);
	}
	CHECK(ssp_user_ops.equal(ssp_remote(&m.ep[1]),
	    ssp_current(&m.ep[0])) || ssp_remote_num(&m.ep[1]) ==
	    ssp_sent_num(&m.ep[0]));
	CHECK(m.max_sent <= SSP_SENT_MAX);
	CHECK(m.max_recv <= SSP_RECV_CAP);
	CHECK(m.ep[0].stats.bad_frag + m.ep[0].stats.bad_zlib +
	    m.ep[0].stats.bad_pb + m.ep[0].stats.bad_diff == 0);
	CHECK(m.ep[1].stats.bad_frag + m.ep[1].stats.bad_zlib +
	    m.ep[1].stats.bad_pb + m.ep[1].stats.bad_diff == 0);
	/* an honest peer never meets the budget of its states */
	CHECK(m.ep[0].stats.over_budget + m.ep[0].stats.late +
	    m.ep[1].stats.over_budget + m.ep[1].stats.late == 0);
	printf("sim %-12s typed %zu got %zu, %zu instructions, max sent "
	    "%zu recv %zu, dup %llu unknown_old %llu ooo %llu\n", name,
	    m.typed.len, m.got.len, m.nlog, m.max_sent, m.max_recv,
	    (unsigned long long)(m.ep[0].stats.dup + m.ep[1].stats.dup),
	    (unsigned long long)(m.ep[0].stats.unknown_old +
	    m.ep[1].stats.unknown_old),
	    (unsigned long long)(m.ep[0].stats.out_of_order +
	    m.ep[1].stats.out_of_order));
	sim_free(&m);
}

/* SSP_DUMP=<test> prints what was sent, when a timing check fails. */
static void
dump_log(const struct sim *m, size_t max)
{
	size_t j;

	for (j = 0; j < m->nlog && j < max; j++) {
		fprintf(stderr, "%llu %s old %llu new %llu ack %llu thr %llu "
		    "diff %zu%s\n", (unsigned long long)m->log[j].t,
		    m->log[j].from ? "S->C" : "C->S",
		    (unsigned long long)m->log[j].old_num,
		    (unsigned long long)m->log[j].new_num,
		    (unsigned long long)m->log[j].ack_num,
		    (unsigned long long)m->log[j].thr, m->log[j].diff_len,
		    m->log[j].lost ? " lost" : "");
	}
}

/* The n-th instruction from side `from` at or after log index *i. */
static const struct rec *
next_from(const struct sim *m, size_t *i, int from)
{
	while (*i < m->nlog) {
		if (m->log[(*i)++].from == from) {
			return &m->log[*i - 1];
		}
	}
	return NULL;
}

/*
 * §7.14: the shape of session1. A 3 ms link, no loss. The server's shell
 * prints "$ " 20 ms after the first datagram; "e" is typed at 2500; the
 * server echoes it and acks the echo 50 ms later; the client quits at 12000.
 */
static uint64_t shape_first, shape_e;

static void
app_shape(struct sim *m)
{
	struct ssp *srv = &m->ep[1];
	uint8_t e = 'e';

	m->app_next = SSP_NEVER;
	if (m->link[1].has_peer && shape_first == 0) {
		shape_first = m->now;
	}
	if (shape_first && m->now >= shape_first + 20 && m->term.c.len == 0) {
		buf_append(&m->term.c, "$ ", 2);
		m->term.echo = 1;
		ssp_set_current(srv, &m->term);
	} else if (shape_first && m->term.c.len == 0) {
		m->app_next = shape_first + 20;
	}
	if (m->now >= 2500 && m->typed.len == 0) {
		ssp_user_push_bytes(ssp_current(&m->ep[0]), &e, 1);
		buf_putc(&m->typed, e);
	} else if (m->typed.len == 0) {
		m->app_next = MIN(m->app_next, 2500);
	}
	if (m->got.len == 1 && shape_e == 0) {
		shape_e = m->now;
	}
	if (shape_e && m->term.echo < 3) {
		if (m->now >= shape_e + 50) {
			m->term.echo = m->last_remote;
			ssp_set_current(srv, &m->term);
		} else {
			m->app_next = MIN(m->app_next, shape_e + 50);
		}
	}
	if (m->now >= 12000) {
		ssp_start_shutdown(&m->ep[0], m->now);
	} else {
		m->app_next = MIN(m->app_next, 12000);
	}
}

static void
test_shape(void)
{
	static struct sim m;
	const struct rec *r;
	size_t i = 0, j;
	uint64_t t, tsd;

	sim_init(&m, 0);
	m.delay = 3;
	m.app = app_shape;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 11999);
	if (getenv("SSP_DUMP") && strcmp(getenv("SSP_DUMP"), "shape") == 0) {
		dump_log(&m, 20);
	}
	/* client start: old0 new1 ack0 thr0, the resize, at once */
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == 0 && r->old_num == 0 && r->new_num == 1 &&
	    r->ack_num == 0 && r->thr == 0 && r->diff_len == 8);
	/* the server's immediate empty ack */
	j = 0;
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == 3 && r->old_num == 0 && r->new_num == 1 &&
	    r->ack_num == 1 && r->thr == 0 && r->diff_len == 0);
	/* its first frame one send interval (250) later, from state 0 */
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == 253 && r->old_num == 0 && r->new_num == 2 &&
	    r->ack_num == 1 && r->thr == 0 && r->diff_len > 0);
	/* the client's delayed ack, 100 ms after the data arrived */
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == 356 && r->old_num == 1 && r->new_num == 2 &&
	    r->ack_num == 2 && r->thr == 1 && r->diff_len == 0);
	/* "e": old1, since state 2 is too old to assume */
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == 2501 && r->old_num == 1 && r->new_num == 3 &&
	    r->ack_num == 2 && r->thr == 1 && r->diff_len > 0);
	/* the echo, SEND_MINDELAY 8 after it arrived */
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == 2512 && r->old_num == 2 && r->new_num == 3 &&
	    r->ack_num == 3 && r->thr == 2 && r->diff_len > 0);
	/* the echo ack 50 ms later, resent from the acked state 2 */
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == 2562 && r->old_num == 2 && r->new_num == 4 &&
	    r->ack_num == 3 && r->thr == 2 && r->diff_len > 0);
	t = r ? r->t : 0;
	/* the client's ack: 100 ms after the first of the two frames */
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == 2615 && r->old_num == 3 && r->new_num == 4 &&
	    r->ack_num == 4 && r->thr == 3 && r->diff_len == 0);
	/* heartbeats: 3000 ms after each side's last send */
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == t + 3000 && r->diff_len == 0);
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == 2615 + 3000 && r->diff_len == 0);
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == t + 6000 && r->diff_len == 0);
	/* shutdown: one datagram each way, then both are done */
	i = j = m.nlog;
	sim_run(&m, 12010);
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == 12000 && r->new_num == SSP_SHUTDOWN_NUM);
	tsd = r ? r->t : 0;
	r = next_from(&m, &j, 1);
	CHECK(r && r->t == tsd + 3 && r->ack_num == SSP_SHUTDOWN_NUM &&
	    r->new_num != SSP_SHUTDOWN_NUM);
	CHECK(ssp_counterparty_shutdown_ack_sent(&m.ep[1]));
	CHECK(!ssp_counterparty_shutdown_ack_sent(&m.ep[0]));
	CHECK(ssp_shutdown_acked(&m.ep[0]));
	CHECK(!ssp_shutdown_timed_out(&m.ep[0], 12010));
	CHECK(m.got.len == 1 && m.got.p[0] == 'e');
	sim_free(&m);
}

/* A shutdown nobody answers: at most 16 tries, at most 10 s. */
static void
test_shutdown_timeout(void)
{
	static struct sim m;
	size_t i, n = 0;
	uint64_t t;

	sim_init(&m, 0);
	m.delay = 3;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 1000);
	m.out_from = 1000;
	ssp_start_shutdown(&m.ep[0], 1000);
	for (t = 1000; t < 20000 && !ssp_shutdown_timed_out(&m.ep[0], t);) {
		sim_run(&m, t);
		t = m.now;
	}
	for (i = 0; i < m.nlog; i++) {
		if (m.log[i].from == 0 &&
		    m.log[i].new_num == SSP_SHUTDOWN_NUM) {
			n++;
		}
	}
	CHECK(ssp_shutdown_timed_out(&m.ep[0], t));
	CHECK(!ssp_shutdown_acked(&m.ep[0]));
	CHECK(n == SSP_SHUTDOWN_RETRIES);
	CHECK(t - 1000 <= SSP_ACTIVE_RETRY_TIMEOUT);
	/* one send interval apart (20 ms on this link) */
	CHECK(m.ep[0].shutdown_tries == SSP_SHUTDOWN_RETRIES);
	sim_free(&m);
}

/*
 * Before the first reply upstream resends only with the 3 s heartbeat;
 * fast_start resends every RTO + 100 (1100 ms before any RTT sample), and
 * in the first SSP_EARLY_WINDOW (2 s) after the first send, while nothing
 * is acknowledged, every 250 ms with two copies 20 ms apart.
 */
static void
test_first_retry(void)
{
	static struct sim m;
	uint64_t want[64], t;
	size_t i, nw;
	int fast;

	for (fast = 0; fast < 2; fast++) {
		nw = 0;
		t = 0;
		if (fast) {
			for (; t < SSP_EARLY_WINDOW; t += 250) {
				want[nw++] = t;
				want[nw++] = t + 20;
				want[nw++] = t + 40;
			}
			t += 1100 - 250;	/* from the last early retry */
		} else {
			want[nw++] = 0;
			t = 3000;
		}
		for (; t <= 9999 && nw < LEN(want); t += fast ? 1100 : 3000) {
			want[nw++] = t;
		}
		sim_init(&m, fast);
		m.out_from = 0;
		m.out_to = SSP_NEVER;
		CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80,
		    24) == 0);
		sim_run(&m, 9999);
		CHECK(m.nlog == nw);
		for (i = 0; i < m.nlog && i < nw; i++) {
			CHECK(m.log[i].from == 0 && m.log[i].t == want[i]);
			CHECK(m.log[i].old_num == 0 && m.log[i].new_num == 1);
			CHECK(m.log[i].diff_len == 8);
		}
		CHECK(m.ep[0].stats.copies == (fast ? 16u : 0u));
		sim_free(&m);
	}
}

/*
 * §12.7 (session4, phase C): replies blocked, the client resends at frame
 * rate (from the acked state, old_num fixed) while it heard the server
 * within 10 s, then only every 3 s.
 */
static void
test_retry_phases(void)
{
	static struct sim m;
	uint8_t k = 'x';
	size_t i, fast = 0, slow = 0, bad = 0;
	uint64_t heard, last = 0, d;

	sim_init(&m, 0);
	m.delay = 3;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 2000);
	m.loss[1] = 1000;		/* the server's datagrams are lost */
	m.force = 1;			/* but unseen: upstream's timing, */
	m.lossv = 0;			/* no copies (test_copies has them) */
	heard = m.ep[0].last_heard;
	CHECK(heard > 0 && heard < 2000);
	/*
	 * As in the capture: a heartbeat goes unacked first, so the walk of
	 * §7.4 stops at it and the acked state stays the assumed one.
	 */
	sim_run(&m, 4000);
	CHECK(m.ep[0].nsent == 2);
	CHECK(ssp_user_push_bytes(ssp_current(&m.ep[0]), &k, 1) == 0);
	sim_run(&m, 30000);
	for (i = 0; i < m.nlog; i++) {
		if (m.log[i].from != 0 || m.log[i].t < 4000) {
			continue;
		}
		if (last != 0) {
			d = m.log[i].t - last;
			if (m.log[i].t < heard + SSP_ACTIVE_RETRY_TIMEOUT) {
				fast++;
				bad += d != m.link[0].send_interval;
			} else if (last >= heard + SSP_ACTIVE_RETRY_TIMEOUT) {
				slow++;
				bad += d != SSP_ACK_INTERVAL;
			}
		}
		CHECK(m.log[i].old_num == ssp_acked_num(&m.ep[0]));
		last = m.log[i].t;
	}
	CHECK(m.ep[0].last_heard == heard);
	if (getenv("SSP_DUMP") && strcmp(getenv("SSP_DUMP"), "retry") == 0) {
		fprintf(stderr, "fast %zu slow %zu heard %llu\n", fast, slow, (unsigned long long)heard);
		dump_log(&m, 60);
	}
	CHECK(fast > 250);		/* every 20 ms for about 6 s */
	CHECK(slow >= 5 && slow <= 7);	/* then every 3 s */
	CHECK(bad == 0);
	CHECK(m.got.len == 1);		/* the byte arrived once */
	sim_free(&m);
}

/*
 * Redundancy (not upstream). A 100 ms link, nothing actually lost, past
 * the early window: with the links reporting no loss a keystroke and its
 * echo go out once each; with SSP_LOSS_SOME once more, 20 ms later; with
 * SSP_LOSS_HEAVY twice more. A copy has the state's number, starts from
 * the acknowledged state, and none is sent once the state is acknowledged.
 */
static void
test_copies(void)
{
	static struct sim m;
	static const unsigned lv[3] = { 0, SSP_LOSS_SOME, SSP_LOSS_HEAVY };
	const struct rec *r;
	uint8_t key = 'a';
	uint64_t acked, t0, num;
	size_t i, n, i0;
	int k, e;

	for (k = 0; k < 3; k++) {
		sim_init(&m, 1);
		m.delay = 100;
		m.echo_now = 1;
		m.force = 1;
		m.lossv = lv[k];
		CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80,
		    24) == 0);
		sim_run(&m, 3000);
		/* the early window: two copies of each side's first state,
		 * and of the server's early retry */
		CHECK(m.ep[0].stats.copies == 2);
		CHECK(m.ep[1].stats.copies == 4);
		acked = ssp_acked_num(&m.ep[0]);
		CHECK(acked > 0);
		i0 = m.nlog;
		CHECK(ssp_user_push_bytes(ssp_current(&m.ep[0]), &key,
		    1) == 0);
		sim_run(&m, 8000);
		for (e = 0; e < 2; e++) {
			i = i0;
			r = next_from(&m, &i, e);
			while (r != NULL && r->diff_len == 0) {
				r = next_from(&m, &i, e);
			}
			CHECK(r != NULL);
			if (r == NULL) {
				continue;
			}
			t0 = r->t;
			num = r->new_num;
			n = 1;
			/* (the client's later resends at frame rate are
			 * upstream's: an unacked heartbeat is too old) */
			while ((r = next_from(&m, &i, e)) != NULL &&
			    r->t < t0 + 60) {
				CHECK(r->t == t0 + 20 * n);
				CHECK(r->new_num == num && r->diff_len > 0);
				CHECK(r->old_num == r->thr);
				CHECK(e == 1 || r->old_num == acked);
				n++;
			}
			CHECK(n == 1 + (size_t)k);
		}
		CHECK(m.ep[0].stats.copies == 2 + (unsigned)k);

		CHECK(m.ep[1].stats.copies == 4 + (unsigned)k);
		CHECK(m.got.len == 1 && m.got.p[0] == 'a');
		CHECK(m.id_conflict == 0);
		if (getenv("SSP_DUMP") && strcmp(getenv("SSP_DUMP"),
		    "copies") == 0) {
			dump_log(&m, 60);
		}
		sim_free(&m);
	}

	/* acknowledged before the copy is due: no copy */
	sim_init(&m, 1);
	m.delay = 3;
	m.echo_now = 1;
	m.force = 1;
	m.lossv = 1000;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 3500);
	n = m.ep[0].stats.copies;
	CHECK(ssp_user_push_bytes(ssp_current(&m.ep[0]), &key, 1) == 0);
	sim_run(&m, 6000);
	if (getenv("SSP_DUMP") && strcmp(getenv("SSP_DUMP"), "copies2") == 0) {
		dump_log(&m, 60);
	}
	CHECK(m.ep[0].stats.copies == n);	/* the echo acked it at +14 */
	CHECK(m.got.len == 1);
	sim_free(&m);
}

/*
 * Idle traffic does not grow: after the start, one heartbeat per side
 * every 3 s, with or without loss (a heartbeat carries no data, so it is
 * never copied).
 */
static void
test_idle_traffic(void)
{
	static struct sim m;
	size_t i, n[2];
	int k, e;

	for (k = 0; k < 2; k++) {
		sim_init(&m, 1);
		m.delay = 30;
		m.force = 1;
		m.lossv = k ? 1000 : 0;
		CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80,
		    24) == 0);
		sim_run(&m, 60000);
		n[0] = n[1] = 0;
		for (i = 0; i < m.nlog; i++) {
			if (m.log[i].t >= 3000) {
				n[m.log[i].from]++;
				CHECK(m.log[i].diff_len == 0);
			}
		}
		for (e = 0; e < 2; e++) {
			CHECK(n[e] >= 19 && n[e] <= 20);
			CHECK(m.ep[e].stats.copies <= 2);
		}
		sim_free(&m);
	}
}

/* An instruction of several fragments is never copied. */
static void
test_copy_multifrag(void)
{
	static struct sim m;
	size_t i, base;

	sim_init(&m, 1);
	m.delay = 100;
	m.force = 1;
	m.lossv = 1000;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 3000);
	base = m.ep[1].stats.copies;
	m.multi = 0;
	for (i = 0; i < 5000; i++) {
		buf_putc(&m.term.c, (uint8_t)rng());	/* incompressible */
	}
	CHECK(ssp_set_current(&m.ep[1], &m.term) == 0);
	sim_run(&m, 6000);
	CHECK(m.multi >= 4);
	CHECK(m.ep[1].stats.copies == base);
	CHECK(tb_equal(ssp_remote(&m.ep[0]), &m.term));
	sim_free(&m);

	/* nor retried early: a first screen of 5 fragments on a 400 ms
	 * path goes out once before the client's ack (RTO + 100 = 1100) */
	sim_init(&m, 1);
	m.delay = 200;
	for (i = 0; i < 5000; i++) {
		buf_putc(&m.term.c, (uint8_t)rng());
	}
	CHECK(ssp_set_current(&m.ep[1], &m.term) == 0);
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 1500);
	CHECK(tb_equal(ssp_remote(&m.ep[0]), &m.term));
	CHECK(ssp_acked_num(&m.ep[1]) == ssp_sent_num(&m.ep[1]));
	CHECK(m.multi == 4);
	CHECK(m.ep[1].stats.copies == 0);
	sim_free(&m);
}

/*
 * Early in the session the server resends its first screen every 250 ms,
 * with two copies each time, even when its diff is too long for the
 * cheap resend of §7.6 (not upstream: RTO + 100, 1100 ms then).
 */
static void
test_early_server(void)
{
	static struct sim m;
	uint64_t want[] = { 100, 120, 140, 350, 370, 390, 600, 620, 640, 850,
	    870, 890 };
	size_t i, n = 0;

	sim_init(&m, 1);
	m.delay = 100;
	for (i = 0; i < 40; i++) {
		buf_append(&m.term.c, "hello, world ", 13);
	}
	CHECK(ssp_set_current(&m.ep[1], &m.term) == 0);
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	m.loss[1] = 1000;
	sim_run(&m, 999);
	for (i = 0; i < m.nlog; i++) {
		if (m.log[i].from != 1 || m.log[i].diff_len == 0) {
			continue;
		}
		CHECK(n < LEN(want) && m.log[i].t == want[n]);
		CHECK(m.log[i].old_num == 0 && m.log[i].diff_len > 500);
		n++;
	}
	CHECK(n == LEN(want));
	m.loss[1] = 0;
	sim_run(&m, 1300);
	CHECK(tb_equal(ssp_remote(&m.ep[0]), &m.term));
	sim_free(&m);
}

/*
 * A resend gets copies too when they are called for, but at most one
 * batch per RTO: here every datagram of the client is lost for 3 s.
 */
static void
test_resend_copies(void)
{
	static struct sim m;
	uint8_t key = 'r';
	uint64_t c0, dc;
	size_t i, n = 0;

	sim_init(&m, 1);
	m.delay = 100;
	m.echo_now = 1;
	m.force = 1;
	m.lossv = SSP_LOSS_HEAVY;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 3000);
	c0 = m.ep[0].stats.copies;
	m.loss[0] = 1000;
	CHECK(ssp_user_push_bytes(ssp_current(&m.ep[0]), &key, 1) == 0);
	sim_run(&m, 6000);
	dc = m.ep[0].stats.copies - c0;
	for (i = 0; i < m.nlog; i++) {
		n += m.log[i].from == 0 && m.log[i].t >= 3000 &&
		    m.log[i].diff_len > 0;
	}
	/* the first send and its two copies, then resends with copies */
	CHECK(dc >= 4);
	CHECK(dc * 3 <= n * 2);
	CHECK(dc <= 2 * (1 + 3000 / m.link[0].rto));
	m.loss[0] = 0;
	sim_run(&m, 8000);
	CHECK(m.got.len == 1 && m.got.p[0] == 'r');
	sim_free(&m);
}

/* Changes every ms: frames go out one send interval apart. */
static uint64_t busy_until;

static void
app_busy(struct sim *m)
{
	if (m->now < busy_until && m->link[1].has_peer) {
		buf_putc(&m->term.c, (uint8_t)m->now);
		ssp_set_current(&m->ep[1], &m->term);
		m->app_next = m->now + 1;
	} else {
		m->app_next = SSP_NEVER;
	}
}

static void
test_send_interval(void)
{
	static struct sim m;
	size_t i, n;
	uint64_t last, d, gmin, gmax;
	unsigned want;
	int k;

	for (k = 0; k < 2; k++) {
		sim_init(&m, 0);
		m.delay = k ? 400 : 3;	/* SRTT 800: interval 250 (clamp) */
		m.app = app_busy;
		busy_until = 20000;
		CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80,
		    24) == 0);
		sim_run(&m, 10000);
		want = m.link[1].send_interval;
		CHECK(want == (k ? 250u : 20u));
		gmin = SSP_NEVER;
		gmax = 0;
		last = 0;
		n = 0;
		for (i = 0; i < m.nlog; i++) {
			if (m.log[i].from != 1 || m.log[i].t < 5000 ||
			    m.log[i].diff_len == 0) {
				continue;
			}
			if (last) {
				d = m.log[i].t - last;
				gmin = MIN(gmin, d);
				gmax = MAX(gmax, d);
			}
			last = m.log[i].t;
			n++;
		}
		CHECK(n > 10);
		CHECK(gmin == want && gmax == want);
		sim_free(&m);
	}
}

/*
 * The send rule of ssp_hurry on one endpoint and a fake clock: each new
 * state sent (diff length, chaff length) and when. Datagrams that carry a
 * state already sent again (a retry, a copy) are only counted; the chaff
 * of every datagram is tallied.
 */
struct hurry_log {
	size_t n, again;
	uint64_t now, last_num;
	uint64_t t[64];
	size_t diff[64], chaff[64];
	size_t bare_chaff, data_chaff;
};

static int
hurry_send(void *arg, const uint8_t *p, size_t len)
{
	struct hurry_log *h = arg;
	struct ssp_frag f;
	struct ssp_inst in;
	struct buf z = { NULL, 0, 0 };

	CHECK(ssp_frag_parse(p, len, &f) == 0 && f.final);
	CHECK(ssp_inflate(f.p, f.len, &z) == 0);
	CHECK(ssp_inst_decode(z.p, z.len, &in) == 0);
	if (in.diff_len == 0) {
		h->bare_chaff += in.chaff_len;
	} else {
		h->data_chaff += in.chaff_len > 0;
	}
	if (in.new_num <= h->last_num) {
		h->again++;
	} else if (h->n < LEN(h->t)) {
		h->last_num = in.new_num;
		h->t[h->n] = h->now;
		h->diff[h->n] = in.diff_len;
		h->chaff[h->n++] = in.chaff_len;
	}
	buf_free(&z);
	return 0;
}

/* Tick at every ms of [from, to); the new states sent in that time. */
static size_t
hurry_run(struct ssp *s, const struct ssp_link *l, struct hurry_log *h,
    uint64_t from, uint64_t to)
{
	size_t n0 = h->n;

	for (h->now = from; h->now < to; h->now++) {
		ssp_tick(s, l, h->now);
	}
	return h->n - n0;
}

static void
hurry_change(struct ssp *s, const char *text)
{
	struct tb *t = ssp_current(s);

	CHECK(buf_append(&t->c, text, strlen(text)) == 0);
}

static void
test_hurry(void)
{
	static struct hurry_log h;
	struct ssp s;
	struct ssp_cfg cfg;
	struct ssp_link l;
	struct tb init;
	size_t i, k;
	uint64_t t;

	memset(&init, 0, sizeof(init));
	init.w = 80;
	init.h = 24;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mine = cfg.remote = &tb_ops;
	cfg.mine_init = cfg.remote_init = &init;
	cfg.mindelay = SSP_MINDELAY_SERVER;
	cfg.rand = test_rand;
	CHECK(ssp_init(&s, &cfg, 0) == 0);
	memset(&l, 0, sizeof(l));
	l.has_peer = 1;
	l.send_interval = 20;
	l.rto = 1000;
	l.mtu = 1252;
	l.send = hurry_send;
	l.arg = &h;
	CHECK(hurry_run(&s, &l, &h, 0, 100) == 1);	/* the first ack */
	CHECK(h.diff[0] == 0 && h.chaff[0] == 0);

	/* Nothing unsent: ssp_hurry changes nothing. */
	ssp_hurry(&s);
	CHECK(!ssp_unsent(&s) && ssp_wait(&s, &l, 100) > 20);

	/* A plain change waits for mindelay (8 ms), then goes. */
	hurry_change(&s, "a");
	CHECK(ssp_unsent(&s));
	CHECK(ssp_wait(&s, &l, 100) == SSP_MINDELAY_SERVER);
	CHECK(hurry_run(&s, &l, &h, 100, 108) == 0);
	CHECK(hurry_run(&s, &l, &h, 108, 109) == 1 && h.diff[1] > 0);
	CHECK(!ssp_unsent(&s));

	/* An echo goes in the same tick... */
	hurry_change(&s, "b");
	ssp_hurry(&s);
	CHECK(ssp_wait(&s, &l, 300) == 0);
	CHECK(hurry_run(&s, &l, &h, 300, 301) == 1 && h.t[2] == 300);
	/* ...the output after it waits for mindelay alone (not 320)... */
	hurry_change(&s, "c");
	CHECK(ssp_wait(&s, &l, 302) == SSP_MINDELAY_SERVER);
	CHECK(hurry_run(&s, &l, &h, 302, 311) == 1 && h.t[3] == 310);
	/* ...and the next change is paced again: 310 + 20. */
	hurry_change(&s, "d");
	CHECK(ssp_wait(&s, &l, 312) == 18);
	CHECK(hurry_run(&s, &l, &h, 312, 331) == 1 && h.t[4] == 330);

	/*
	 * An echo is paced by the previous echo (300 + 20) alone: it goes
	 * at once though a send went 5 ms before; the next echo waits for
	 * 335 + 20.
	 */
	hurry_change(&s, "e");
	ssp_hurry(&s);
	CHECK(ssp_wait(&s, &l, 335) == 0);
	CHECK(hurry_run(&s, &l, &h, 335, 336) == 1 && h.t[5] == 335);
	hurry_change(&s, "E");
	ssp_hurry(&s);
	CHECK(ssp_wait(&s, &l, 340) == 15);
	CHECK(hurry_run(&s, &l, &h, 340, 356) == 1 && h.t[6] == 355);

	/* A change undone before its send: the hurry does not linger. */
	hurry_change(&s, "f");
	ssp_hurry(&s);
	((struct tb *)ssp_current(&s))->c.len--;
	CHECK(!ssp_unsent(&s));
	CHECK(hurry_run(&s, &l, &h, 356, 500) == 0);
	hurry_change(&s, "g");
	CHECK(ssp_wait(&s, &l, 500) == SSP_MINDELAY_SERVER);
	CHECK(hurry_run(&s, &l, &h, 500, 509) == 1 && h.t[7] == 508);

	/* Bulk: a change every ms and no hurry: one send per interval. */
	for (t = 1000; t < 1400; t++) {
		hurry_change(&s, "x");
		h.now = t;
		ssp_tick(&s, &l, t);
	}
	for (i = 8; i < h.n; i++) {
		CHECK(h.t[i] - h.t[i - 1] >= 20);
	}
	CHECK(h.n - 8 == 20);

	/*
	 * The last change, then the heartbeat: the same state again, as
	 * nothing was acked. Bare acks carry no chaff; datagrams with a
	 * diff do, at random.
	 */
	k = h.again;
	CHECK(hurry_run(&s, &l, &h, 1400, 5000) == 1 && h.again > k);
	CHECK(h.bare_chaff == 0 && h.data_chaff > 0);
	ssp_free(&s);
}

/*
 * Random changes, half of them hurried, on a fake clock: no three sends
 * fall within one send interval, and every change goes out.
 */
static void
test_hurry_random(void)
{
	static struct hurry_log h;
	static uint64_t ts[4096];
	struct ssp s;
	struct ssp_cfg cfg;
	struct ssp_link l;
	struct tb init;
	size_t n = 0, i, k, bad = 0;
	uint64_t r;

	memset(&init, 0, sizeof(init));
	memset(&cfg, 0, sizeof(cfg));
	cfg.mine = cfg.remote = &tb_ops;
	cfg.mine_init = cfg.remote_init = &init;
	cfg.mindelay = SSP_MINDELAY_SERVER;
	CHECK(ssp_init(&s, &cfg, 0) == 0);
	memset(&l, 0, sizeof(l));
	l.has_peer = 1;
	l.send_interval = 20;
	l.rto = 1000;
	l.mtu = 1252;
	l.send = hurry_send;
	l.arg = &h;
	for (h.now = 0; h.now < 30000; h.now++) {
		r = rng() % 1000;
		if (r < 60) {
			hurry_change(&s, "y");
			if (r < 30) {
				ssp_hurry(&s);
			}
		}
		k = h.n;
		ssp_tick(&s, &l, h.now);
		if (h.n > k && n < LEN(ts)) {
			ts[n++] = h.now;
		}
		h.n = 0;	/* only the times are kept here */
	}
	for (; h.now < 30100; h.now++) {
		ssp_tick(&s, &l, h.now);
	}
	CHECK(!ssp_unsent(&s));
	CHECK(n > 1000 && n < LEN(ts));
	for (i = 2; i < n; i++) {
		bad += ts[i] - ts[i - 2] < l.send_interval;
	}
	CHECK(bad == 0);
	ssp_free(&s);
}

/* session2's ending: the shell exits, the server sends its last screen as
 * state -1, the client acks it once and is done. */
static void
test_server_shutdown(void)
{
	static struct sim m;
	const struct rec *r;
	size_t i, j;
	uint64_t t;

	sim_init(&m, 0);
	m.delay = 3;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	/* no peer yet: the server has nothing to do, whatever its timers */
	CHECK(ssp_wait(&m.ep[1], &m.link[1], 0) == SSP_NEVER);
	sim_run(&m, 5000);
	buf_append(&m.term.c, "bye", 3);
	CHECK(ssp_set_current(&m.ep[1], &m.term) == 0);
	ssp_start_shutdown(&m.ep[1], 5001);
	CHECK(ssp_shutdown_in_progress(&m.ep[1]));
	i = j = m.nlog;
	m.now = 5001;
	sim_run(&m, 5100);
	r = next_from(&m, &j, 1);
	CHECK(r && r->new_num == SSP_SHUTDOWN_NUM && r->diff_len > 0);
	t = r ? r->t : 0;
	CHECK(t >= 5001 && t <= 5001 + 20);
	r = next_from(&m, &i, 0);
	CHECK(r && r->t == t + 3 && r->ack_num == SSP_SHUTDOWN_NUM);
	CHECK(ssp_counterparty_shutdown_ack_sent(&m.ep[0]));
	CHECK(ssp_shutdown_acked(&m.ep[1]));
	CHECK(ssp_remote_num(&m.ep[0]) == SSP_SHUTDOWN_NUM);
	CHECK(tb_equal(ssp_remote(&m.ep[0]), &m.term));
	if (getenv("SSP_DUMP") && strcmp(getenv("SSP_DUMP"), "shape") == 0) {
		const struct tb *rt = ssp_remote(&m.ep[0]);

		fprintf(stderr, "remote %llu len %zu echo %llu; term len %zu "
		    "echo %llu; srv sent %llu acked %llu assumed %zu nsent %zu "
		    "heard %llu now %llu bad_frag %llu\n",
		    (unsigned long long)ssp_remote_num(&m.ep[0]), rt->c.len,
		    (unsigned long long)rt->echo, m.term.c.len,
		    (unsigned long long)m.term.echo,
		    (unsigned long long)ssp_sent_num(&m.ep[1]),
		    (unsigned long long)ssp_acked_num(&m.ep[1]),
		    m.ep[1].assumed, m.ep[1].nsent,
		    (unsigned long long)m.ep[1].last_heard,
		    (unsigned long long)m.now,
		    (unsigned long long)m.ep[0].stats.bad_frag);
	}
	/* the time limit alone also ends it */
	CHECK(!ssp_shutdown_timed_out(&m.ep[0], 1000000));
	ssp_start_shutdown(&m.ep[0], 7000);
	ssp_start_shutdown(&m.ep[0], 8000);	/* the first call counts */
	CHECK(!ssp_shutdown_timed_out(&m.ep[0], 7000 + 9999));
	CHECK(ssp_shutdown_timed_out(&m.ep[0], 7000 + 10000));
	sim_free(&m);
}

/* ==== 4: hostile input ==== */

/* A server endpoint (sends tb, receives a user stream). */
static void
srv_init(struct ssp *s, uint64_t now)
{
	struct ssp_user *u = ssp_user_new();
	struct tb t0;
	struct ssp_cfg c;

	memset(&t0, 0, sizeof(t0));
	memset(&c, 0, sizeof(c));
	c.mine = &tb_ops;
	c.remote = &ssp_user_ops;
	c.mine_init = &t0;
	c.remote_init = u;
	c.mindelay = SSP_MINDELAY_SERVER;
	CHECK(ssp_init(s, &c, now) == 0);
	ssp_user_ops.free(u);
}

/* Encode, compress and deliver in one fragment of the given id. */
static int
feed_raw(struct ssp *s, const uint8_t *pb, size_t n, uint64_t id, uint64_t now)
{
	struct buf b = { NULL, 0, 0 };
	uint8_t hdr[SSP_FRAG_HDR];
	int r;

	ssp_frag_header(hdr, id, 0, 1);
	buf_append(&b, hdr, sizeof(hdr));
	CHECK(ssp_deflate(pb, n, &b) == 0);
	r = ssp_recv(s, b.p, b.len, now);
	buf_free(&b);
	return r;
}

static uint64_t feed_id = 100;

static int
feed(struct ssp *s, uint64_t old_num, uint64_t new_num, uint64_t thr,
    const uint8_t *diff, size_t dn, uint64_t now)
{
	struct ssp_inst in;
	struct buf b = { NULL, 0, 0 };
	int r;

	memset(&in, 0, sizeof(in));
	in.version = 2;
	in.old_num = old_num;
	in.new_num = new_num;
	in.throwaway_num = thr;
	in.diff = diff;
	in.diff_len = dn;
	CHECK(ssp_inst_encode(&in, &b) == 0);
	r = feed_raw(s, b.p, b.len, feed_id++, now);
	buf_free(&b);
	return r;
}

struct snap {
	uint64_t rnum, ack, acked, last_heard;
	size_t nrecv, nsent;
	void *remote;
};

static void
snap_take(struct ssp *s, struct snap *p)
{
	p->rnum = ssp_remote_num(s);
	p->ack = s->ack_num;
	p->acked = ssp_acked_num(s);
	p->last_heard = s->last_heard;
	p->nrecv = s->nrecv;
	p->nsent = s->nsent;
	p->remote = s->cfg.remote->copy(ssp_remote(s));
}

/* Nothing changed since snap_take. */
static int
snap_same(struct ssp *s, struct snap *p)
{
	int same = p->rnum == ssp_remote_num(s) && p->ack == s->ack_num &&
	    p->acked == ssp_acked_num(s) && p->nrecv == s->nrecv &&
	    p->nsent == s->nsent && p->last_heard == s->last_heard &&
	    s->cfg.remote->equal(p->remote, ssp_remote(s));

	s->cfg.remote->free(p->remote);
	return same;
}

static void
test_fragments_hostile(void)
{
	struct ssp s;
	struct snap sn;
	struct ssp_inst in;
	struct buf pb = { NULL, 0, 0 }, z = { NULL, 0, 0 };
	uint8_t pkt[2000], keys[1000];
	struct ssp_frag f;
	size_t i, sl;
	unsigned k, order[3] = { 2, 0, 1 };

	srv_init(&s, 0);
	snap_take(&s, &sn);
	/* shorter than the header */
	CHECK(ssp_recv(&s, pkt, 9, 1) == -1);
	CHECK(s.stats.bad_frag == 1);
	/* mismatched ids: the partial assembly is thrown away */
	memset(pkt + SSP_FRAG_HDR, 'x', 20);
	ssp_frag_header(pkt, 50, 0, 0);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == 0);
	ssp_frag_header(pkt, 51, 1, 1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == 0);
	ssp_frag_header(pkt, 50, 1, 1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == 0);
	CHECK(s.as.arrived == 1 && s.as.id == 50);
	/* beyond the final fragment */
	ssp_frag_header(pkt, 50, 5, 0);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == -1);
	/* a final fragment below ones already stored */
	ssp_frag_header(pkt, 52, 7, 0);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == 0);
	ssp_frag_header(pkt, 52, 3, 1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == -1);
	/* a duplicate that differs, in content or in the final flag */
	ssp_frag_header(pkt, 52, 7, 0);
	pkt[SSP_FRAG_HDR] = 'y';
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == -1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 19, 1) == -1);
	pkt[SSP_FRAG_HDR] = 'x';
	ssp_frag_header(pkt, 52, 7, 1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == -1);
	/* an identical duplicate is fine */
	ssp_frag_header(pkt, 52, 7, 0);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == 0);
	/* the highest fragment number; then one whose final is number 0 */
	ssp_frag_header(pkt, 53, 0x7fff, 1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + 20, 1) == 0);
	CHECK(s.as.total == 0x8000 && s.as.arrived == 1);
	CHECK(s.stats.bad_frag == 6);
	/* an instruction made only of empty fragments: nothing to inflate */
	ssp_frag_header(pkt, 54, 0, 0);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR, 1) == 0);
	ssp_frag_header(pkt, 54, 1, 1);
	CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR, 1) == -1);
	CHECK(s.stats.bad_zlib == 1 && s.stats.bad_frag == 6);
	CHECK(snap_same(&s, &sn));

	/* a real three-fragment instruction, out of order, duplicated */
	for (i = 0; i < sizeof(keys); i++) {
		keys[i] = (uint8_t)rng();
	}
	CHECK(ssp_um_put_keys(&z, keys, sizeof(keys)) == 0);
	memset(&in, 0, sizeof(in));
	in.version = 2;
	in.new_num = 1;
	in.diff = z.p;
	in.diff_len = z.len;
	CHECK(ssp_inst_encode(&in, &pb) == 0);
	z.len = 0;
	CHECK(ssp_deflate(pb.p, pb.len, &z) == 0);
	sl = z.len / 3 + 1;
	for (k = 0; k < 4; k++) {
		unsigned n = order[k % 3];
		size_t off = n * sl, len = MIN(sl, z.len - off);

		ssp_frag_header(pkt, 60, n, n == 2);
		memcpy(pkt + SSP_FRAG_HDR, z.p + off, len);
		CHECK(ssp_frag_parse(pkt, SSP_FRAG_HDR + len, &f) == 0);
		CHECK(ssp_recv(&s, pkt, SSP_FRAG_HDR + len, 2) ==
		    (k == 2 ? 1 : 0));
	}
	CHECK(ssp_remote_num(&s) == 1);
	{
		struct ssp_user *ev = ssp_user_new();
		struct ssp_uev e;
		size_t off = 0, n = 0;

		CHECK(ssp_user_take(&s, ev) == 0);
		while (ssp_user_next(ev, &off, &e) == 1) {
			CHECK(e.type == SSP_MSG_KEYS && e.c == keys[n]);
			n++;
		}
		CHECK(n == sizeof(keys));
		ssp_user_ops.free(ev);
	}
	buf_free(&pb);
	buf_free(&z);
	ssp_free(&s);
}

static void
test_zlib_hostile(void)
{
	struct ssp s;
	struct snap sn;
	struct buf big = { NULL, 0, 0 }, z = { NULL, 0, 0 }, out = { NULL, 0,
	    0 };
	uint8_t hdr[SSP_FRAG_HDR];
	static const uint8_t junk[] = { 0x78, 0x9c, 0xff, 0xff, 0x00 };

	CHECK(buf_reserve(&big, SSP_INFLATE_MAX + 1) == 0);
	memset(big.p, 0, SSP_INFLATE_MAX + 1);
	/* exactly at the cap is fine, one past it is not */
	CHECK(ssp_deflate(big.p, SSP_INFLATE_MAX, &z) == 0);
	CHECK(ssp_inflate(z.p, z.len, &out) == 0 &&
	    out.len == SSP_INFLATE_MAX);
	z.len = 0;
	CHECK(ssp_deflate(big.p, SSP_INFLATE_MAX + 1, &z) == 0);
	CHECK(ssp_inflate(z.p, z.len, &out) == -1 && out.len == 0);
	/* truncated, corrupt */
	CHECK(ssp_inflate(z.p, z.len - 5, &out) == -1);
	CHECK(ssp_inflate(junk, sizeof(junk), &out) == -1);
	CHECK(ssp_inflate(junk, 0, &out) == -1);

	srv_init(&s, 0);
	snap_take(&s, &sn);
	ssp_frag_header(hdr, 7, 0, 1);
	big.len = 0;
	buf_append(&big, hdr, sizeof(hdr));
	buf_append(&big, z.p, z.len);
	CHECK(ssp_recv(&s, big.p, big.len, 1) == -1);
	big.len = 0;
	buf_append(&big, hdr, sizeof(hdr));
	buf_append(&big, junk, sizeof(junk));
	CHECK(ssp_recv(&s, big.p, big.len, 1) == -1);
	CHECK(s.stats.bad_zlib == 2);
	CHECK(snap_same(&s, &sn));
	ssp_free(&s);
	buf_free(&big);
	buf_free(&z);
	buf_free(&out);
}

struct pbcase {
	const char *hex;
	int ok;
};

static void
test_protobuf_hostile(void)
{
	static const struct pbcase inst[] = {
		/* fine: all seven fields; -1 in 10 bytes */
		{ "0802100018ffffffffffffffffff01200028003200" "3a00", 1 },
		{ "", 1 },		/* all absent: version 0 */
		/* unknown fields of every wire type, a nested group */
		{ "08027801810100000000000000008d01000000008a0102aabb"
		  "930178017b7c9401", 1 },
		{ "0802" "10ffffffffffffffffffff01", 0 },	/* 11 bytes */
		{ "0802" "10ff", 0 },			/* varint cut */
		{ "0802" "3205aabb", 0 },		/* length past end */
		{ "0802" "32ffffffffffffffff7f", 0 },	/* huge length */
		{ "0a0102", 0 },			/* field 1 as bytes */
		{ "1201aa", 0 },			/* field 2 as bytes */
		{ "3001", 0 },				/* diff as varint */
		{ "0001", 0 },				/* field number 0 */
		{ "0e01", 0 },				/* wire type 6 */
		{ "0f01", 0 },				/* wire type 7 */
		{ "7c", 0 },				/* end group alone */
		{ "7b", 0 },				/* group never ends */
		{ "7b0084", 0 },			/* cut in the group */
		{ "7b8401", 0 },			/* wrong end group */
		{ "8d0100", 0 },			/* fixed32 cut */
		{ "790000", 0 },			/* fixed64 cut */
	};
	static const struct pbcase user[] = {
		{ "0a051203220161", 1 },
		{ "0a0212000a00", 1 },		/* empty keystroke, empty */
		{ "0a051203220261", 0 },	/* keys past the end */
		{ "0a0512032a0161", 0 },	/* width as bytes */
		{ "0a0412022001", 0 },		/* keys as varint */
		{ "0a03120161", 0 },		/* inner length wrong */
		{ "1001", 1 },			/* unknown top field */
		{ "0801", 0 },			/* field 1 as varint */
		{ "0a021201", 0 },		/* nested cut */
		{ "0a0b1a092880808080808080808001", 0 },	/* 11 */
	};
	struct ssp s;
	struct snap sn;
	struct ssp_inst in;
	struct ssp_iter it;
	struct ssp_msg m;
	uint8_t b[200];
	size_t i, n;
	int r, deep;
	struct buf g = { NULL, 0, 0 };

	for (i = 0; i < LEN(inst); i++) {
		n = unhex(inst[i].hex[0] ? inst[i].hex : "-", b, sizeof(b));
		r = ssp_inst_decode(b, n, &in);
		CHECK((r == 0) == inst[i].ok);
		if ((r == 0) != inst[i].ok) {
			fprintf(stderr, "  instruction case %zu\n", i);
		}
	}
	n = unhex(inst[0].hex, b, sizeof(b));
	CHECK(ssp_inst_decode(b, n, &in) == 0 && in.version == 2 &&
	    in.new_num == SSP_SHUTDOWN_NUM && in.diff_len == 0);
	n = unhex(inst[2].hex, b, sizeof(b));
	CHECK(ssp_inst_decode(b, n, &in) == 0 && in.version == 2 &&
	    in.diff_len == 0 && in.old_num == 0);
	/* groups nested deeper than we skip */
	for (deep = 60; deep <= 70; deep += 10) {
		g.len = 0;
		for (i = 0; i < (size_t)deep; i++) {
			buf_putc(&g, 0x7b);
		}
		for (i = 0; i < (size_t)deep; i++) {
			buf_putc(&g, 0x7c);
		}
		CHECK((ssp_inst_decode(g.p, g.len, &in) == 0) == (deep <= 64));
	}
	buf_free(&g);
	for (i = 0; i < LEN(user); i++) {
		n = unhex(user[i].hex, b, sizeof(b));
		it.p = b;
		it.end = b + n;
		while ((r = ssp_um_next(&it, &m)) == 1) {
			continue;
		}
		CHECK((r == 0) == user[i].ok);
		if ((r == 0) != user[i].ok) {
			fprintf(stderr, "  user message case %zu\n", i);
		}
	}

	/* through the receiver: dropped, counted, nothing changes */
	srv_init(&s, 0);
	snap_take(&s, &sn);
	for (i = 3; i < LEN(inst); i++) {
		n = unhex(inst[i].hex, b, sizeof(b));
		CHECK(feed_raw(&s, b, n, 200 + i, 1) == -1);
	}
	CHECK(s.stats.bad_pb == LEN(inst) - 3);
	for (i = 0; i < LEN(user); i++) {
		if (user[i].ok) {
			continue;
		}
		n = unhex(user[i].hex, b, sizeof(b));
		CHECK(feed(&s, 0, 1, 0, b, n, 1) == 1);
	}
	CHECK(s.stats.bad_diff == 7);
	/* another version, or none */
	n = unhex("0801100018012000280032003a00", b, sizeof(b));
	CHECK(feed_raw(&s, b, n, 300, 1) == SSP_EVERSION);
	CHECK(feed_raw(&s, b + 2, n - 2, 301, 1) == SSP_EVERSION);
	CHECK(s.stats.bad_version == 2);
	/* a base we never had, and a throwaway past the base */
	CHECK(feed(&s, 5, 6, 0, NULL, 0, 1) == 1);
	CHECK(s.stats.unknown_old == 1);
	CHECK(feed(&s, 0, 6, 3, NULL, 0, 1) == 1);
	CHECK(s.stats.bad_nums == 1);
	CHECK(snap_same(&s, &sn));
	/* a good one still goes through, and its duplicate is ignored */
	n = unhex("0a051203220161", b, sizeof(b));
	CHECK(feed(&s, 0, 1, 0, b, n, 2) == 1);
	CHECK(ssp_remote_num(&s) == 1 && s.ack_num == 1 && s.heard);
	snap_take(&s, &sn);
	CHECK(feed(&s, 0, 1, 0, b, n, 3) == 1);
	CHECK(s.stats.dup == 1);
	CHECK(snap_same(&s, &sn));
	ssp_free(&s);
}

/* A client endpoint (sends a user stream, receives tb, measured). */
static void
cli_init(struct ssp *s, uint64_t now)
{
	struct ssp_user *u = ssp_user_new();
	struct tb t0;
	struct ssp_cfg c;

	memset(&t0, 0, sizeof(t0));
	t0.w = 80;
	t0.h = 24;
	memset(&c, 0, sizeof(c));
	c.mine = &ssp_user_ops;
	c.remote = &tb_ops;
	c.remote_bytes = tb_bytes;
	c.mine_init = u;
	c.remote_init = &t0;
	c.mindelay = SSP_MINDELAY_CLIENT;
	CHECK(ssp_init(s, &c, now) == 0);
	ssp_user_ops.free(u);
}

/* The HostMessage side: a decreasing echo ack is refused whole. */
static void
test_echoack_hostile(void)
{
	struct ssp c;
	struct snap sn;
	struct buf d = { NULL, 0, 0 };
	uint64_t e;
	const struct tb *r;

	cli_init(&c, 0);
	CHECK(ssp_hm_put_echoack(&d, 5) == 0);
	CHECK(ssp_hm_put_bytes(&d, (const uint8_t *)"ok", 2) == 0);
	CHECK(feed(&c, 0, 1, 0, d.p, d.len, 1) == 1);
	r = ssp_remote(&c);
	CHECK(r->echo == 5 && r->c.len == 2);
	snap_take(&c, &sn);
	/* from state 1: bytes, then an echo ack that goes down */
	d.len = 0;
	CHECK(ssp_hm_put_bytes(&d, (const uint8_t *)"no", 2) == 0);
	CHECK(ssp_hm_put_echoack(&d, 4) == 0);
	CHECK(feed(&c, 1, 2, 1, d.p, d.len, 2) == 1);
	CHECK(c.stats.bad_diff == 1);
	CHECK(snap_same(&c, &sn));
	e = 5;
	CHECK(ssp_hm_check(d.p, d.len, &e) == -1 && e == 5);
	d.len = 0;
	CHECK(ssp_hm_put_echoack(&d, 5) == 0);
	CHECK(ssp_hm_put_echoack(&d, 9) == 0);
	CHECK(ssp_hm_check(d.p, d.len, &e) == 0 && e == 9);
	buf_free(&d);
	ssp_free(&c);
}

/* §7.9 step 7: past 1024 states, one more per 15 s; never past the cap. */
static void
test_quench(void)
{
	struct ssp s;
	uint8_t b[16];
	size_t n = unhex("0a051203220161", b, sizeof(b));
	uint64_t i, q;

	srv_init(&s, 0);
	for (i = 1; i <= 1100; i++) {
		CHECK(feed(&s, 0, i, 0, b, n, 1000) == 1);
	}
	CHECK(s.nrecv == SSP_RECV_MAX + 2);	/* 1025, then one more */
	CHECK(s.stats.quenched == 1100 - (SSP_RECV_MAX + 1));
	q = s.stats.quenched;
	CHECK(feed(&s, 0, 2000, 0, b, n, 1000 + 14999) == 1);
	CHECK(s.stats.quenched == q + 1);
	CHECK(feed(&s, 0, 2001, 0, b, n, 1000 + 15000) == 1);
	CHECK(s.nrecv == SSP_RECV_MAX + 3);
	for (i = 0; i < 200; i++) {
		feed(&s, 0, 3000 + i, 0, b, n, 20000 + i * 15000);
		CHECK(s.nrecv <= SSP_RECV_CAP);
	}
	CHECK(s.nrecv == SSP_RECV_CAP);
	/* a throwaway frees them all at once */
	i = ssp_remote_num(&s);
	CHECK(feed(&s, i, 5000, i, b, n, 4000000) == 1);
	CHECK(s.nrecv == 2);
	ssp_free(&s);
}

/*
 * A server that resizes to 1000x1000, then sends states 2, 3, ... from base
 * 1 with throwaway 0, each ESC # 8 (every row of the frame written anew):
 * the client keeps a few frames, not one per state.
 */
static void
test_budget_screens(void)
{
	struct ssp c;
	struct buf d = { NULL, 0, 0 };
	size_t frame = 1000 * 1000 * sizeof(struct fb_cell), held = 0;
	size_t held50 = 0, i;
	uint64_t n;

	cli_init(&c, 0);
	CHECK(ssp_hm_put_resize(&d, 1000, 1000) == 0);
	CHECK(feed(&c, 0, 1, 0, d.p, d.len, 1) == 1);
	d.len = 0;
	CHECK(ssp_hm_put_bytes(&d, (const uint8_t *)"\033#8", 3) == 0);
	for (n = 2; n <= 300; n++) {
		CHECK(feed(&c, 1, n, 0, d.p, d.len, n) == 1);
		held = held_bytes(&c, SSP_PART_SCREEN);
		CHECK(held <= SSP_BUDGET_STATES * (frame + 4096));
		if (n == 50) {
			held50 = held;
		}
	}
	CHECK(held == held50 && held > 2 * frame);
	CHECK(c.nrecv < 2 + SSP_BUDGET_STATES);
	CHECK(c.stats.over_budget == 301 - c.nrecv);
	/* kept: the first, the base and the newest; the oldest went first */
	CHECK(ssp_remote_num(&c) == 300 && c.ack_num == 300);
	CHECK(c.recv[0].num == 0 && c.recv[1].num == 1);
	for (i = 2; i < c.nrecv; i++) {
		CHECK(c.recv[i].num == 300 - (c.nrecv - 1 - i));
	}
	/* the sender still gets through, from that base or the newest */
	CHECK(feed(&c, 1, 301, 0, d.p, d.len, 400) == 1);
	CHECK(ssp_remote_num(&c) == 301 && c.ack_num == 301);
	CHECK(feed(&c, 301, 302, 301, d.p, d.len, 401) == 1);
	CHECK(ssp_remote_num(&c) == 302 && c.ack_num == 302 && c.nrecv == 2);
	CHECK(held_bytes(&c, SSP_PART_SCREEN) <= 2 * (frame + 4096));
	buf_free(&d);
	ssp_free(&c);
}

/*
 * The same attack on the client's real state type (mosh.c's term_ops with
 * term_bytes): at 1000x1000 each DECALN state is a whole new screen, and
 * the client keeps a few of them, not one per state.
 */
static void
test_budget_term(void)
{
	struct ssp c;
	struct ssp_user *u = ssp_user_new();
	struct term_state t0;
	struct ssp_cfg cfg;
	struct buf d = { NULL, 0, 0 };
	size_t frame = 1000 * 1000 * sizeof(struct fb_cell), held, held10 = 0;
	uint64_t n;

	CHECK(term_init(&t0, 80, 24) == 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.mine = &ssp_user_ops;
	cfg.remote = &term_ops;
	cfg.remote_bytes = term_bytes;
	cfg.mine_init = u;
	cfg.remote_init = &t0;
	cfg.mindelay = SSP_MINDELAY_CLIENT;
	CHECK(ssp_init(&c, &cfg, 0) == 0);
	ssp_user_ops.free(u);
	term_release(&t0);
	CHECK(ssp_hm_put_resize(&d, 1000, 1000) == 0);
	CHECK(feed(&c, 0, 1, 0, d.p, d.len, 1) == 1);
	d.len = 0;
	CHECK(ssp_hm_put_bytes(&d, (const uint8_t *)"\033#8", 3) == 0);
	for (n = 2; n <= 30; n++) {
		CHECK(feed(&c, 1, n, 0, d.p, d.len, n) == 1);
		held = held_bytes(&c, SSP_PART_SCREEN);
		CHECK(held <= (SSP_BUDGET_STATES + 1) * (frame + (1u << 20)));
		if (n == 10) {
			held10 = held;
		}
	}
	CHECK(held == held10 && c.nrecv < 2 + SSP_BUDGET_STATES);
	CHECK(c.stats.over_budget > 0);
	CHECK(ssp_remote_num(&c) == 30);
	CHECK(fb_cell(&((const struct term_state *)ssp_remote(&c))->fb, 999,
	    999)->c[0] == 'E');
	buf_free(&d);
	ssp_free(&c);
}

/*
 * Client to server: a state numbered 2^40 with an empty diff, then lower
 * numbered ones of 4 MB of keystrokes each, stored out of order and never
 * taken: the server keeps a few of them, not one per state.
 */
static void
test_budget_keys(void)
{
	static uint8_t k[4000000];
	struct ssp s;
	struct buf d = { NULL, 0, 0 };
	struct ssp_user *ev;
	struct ssp_uev e;
	size_t held = 0, max = 0, off = 0;
	uint64_t n, top = 1ull << 40;

	srv_init(&s, 0);
	CHECK(feed(&s, 0, top, 0, NULL, 0, 1) == 1);
	memset(k, 'k', sizeof(k));
	CHECK(ssp_um_put_keys(&d, k, sizeof(k)) == 0);
	for (n = 1; n <= 20; n++) {
		CHECK(feed(&s, 0, n, 0, d.p, d.len, 1 + n) == 1);
		held = held_bytes(&s, SSP_PART_KEYS);
		CHECK(held <= SSP_BUDGET_STATES * (SSP_INFLATE_MAX + 64));
		max = MAX(max, held);
	}
	CHECK(held == max && held > 2 * sizeof(k));
	CHECK(s.stats.over_budget > 0);
	CHECK(ssp_remote_num(&s) == top && s.ack_num == top);
	/* the newest is empty, so nothing is taken */
	ev = ssp_user_new();
	CHECK(ssp_user_take(&s, ev) == 0 && ev->b.len == 0);
	/* the sender's next state from the newest arrives whole */
	d.len = 0;
	CHECK(ssp_um_put_keys(&d, (const uint8_t *)"ok", 2) == 0);
	CHECK(feed(&s, top, top + 1, top, d.p, d.len, 100) == 1);
	CHECK(s.nrecv == 2 && s.ack_num == top + 1);
	CHECK(ssp_user_take(&s, ev) == 0);
	CHECK(ssp_user_next(ev, &off, &e) == 1 && e.c == 'o');
	CHECK(ssp_user_next(ev, &off, &e) == 1 && e.c == 'k');
	CHECK(ssp_user_next(ev, &off, &e) == 0);
	ssp_user_ops.free(ev);
	buf_free(&d);
	ssp_free(&s);
}

/* Small states below the newest: a few kept, the rest dropped, counted. */
static void
test_budget_late(void)
{
	struct ssp s;
	uint8_t b[16];
	size_t n = unhex("0a051203220161", b, sizeof(b));
	uint64_t i, top = 1ull << 40;

	srv_init(&s, 0);
	CHECK(feed(&s, 0, top, 0, NULL, 0, 1) == 1);
	for (i = 1; i <= 100; i++) {
		CHECK(feed(&s, 0, i, 0, b, n, 1 + i) == 1);
		CHECK(s.nrecv <= 2 + SSP_RECV_LATE_MAX);
	}
	CHECK(s.nrecv == 2 + SSP_RECV_LATE_MAX);
	CHECK(s.stats.late == 100 - SSP_RECV_LATE_MAX);
	CHECK(s.stats.out_of_order == SSP_RECV_LATE_MAX);
	CHECK(s.stats.over_budget == 0);
	CHECK(ssp_remote_num(&s) == top && s.ack_num == top);
	/* a throwaway frees them, and a late state is kept again */
	CHECK(feed(&s, top, top + 2, top, b, n, 200) == 1);
	CHECK(s.nrecv == 2 && s.ack_num == top + 2);
	CHECK(feed(&s, top, top + 1, top, b, n, 201) == 1);
	CHECK(s.nrecv == 3 && s.stats.late == 100 - SSP_RECV_LATE_MAX);
	ssp_free(&s);
}

/* §7.8: the sender keeps the front and the 15 newest past 32. */
static void
test_sent_limit(void)
{
	static struct sim m;
	uint8_t k = 'k';
	uint64_t t;

	sim_init(&m, 0);
	m.delay = 3;
	CHECK(ssp_user_push_resize(ssp_current(&m.ep[0]), 80, 24) == 0);
	sim_run(&m, 100);
	m.out_from = 100;	/* nothing gets through any more */
	for (t = 100; t < 20000; t += 50) {
		ssp_user_push_bytes(ssp_current(&m.ep[0]), &k, 1);
		sim_run(&m, t);
		CHECK(m.ep[0].nsent <= SSP_SENT_MAX);
		CHECK(m.ep[0].assumed < m.ep[0].nsent);
	}
	CHECK(m.ep[0].nsent == SSP_SENT_MAX);
	CHECK(ssp_acked_num(&m.ep[0]) == 1);
	/* the pending input is bounded for the client too */
	{
		static uint8_t big[SSP_USER_PENDING_MAX];
		struct ssp_user *u = ssp_current(&m.ep[0]);
		size_t len0 = u->b.len;

		CHECK(ssp_user_push_bytes(u, big, sizeof(big)) == -1);
		CHECK(u->b.len == len0);
		memset(big, 0xff, 10);
		CHECK(ssp_user_push_bytes(u, big, 10) == 0);
		CHECK(u->b.len == len0 + 20);
	}
	sim_free(&m);
}

int
main(void)
{
	test_vectors();
	test_fragmenter();
	test_user_stream();
	test_shape();
	test_shutdown_timeout();
	test_first_retry();
	test_send_interval();
	test_hurry();
	test_hurry_random();
	test_retry_phases();
	test_copies();
	test_idle_traffic();
	test_copy_multifrag();
	test_early_server();
	test_resend_copies();
	test_server_shutdown();
	test_fragments_hostile();
	test_zlib_hostile();
	test_protobuf_hostile();
	test_echoack_hostile();
	test_quench();
	test_budget_screens();
	test_budget_term();
	test_budget_keys();
	test_budget_late();
	test_sent_limit();
	sim_scenario("clean", 0, 0, 5, 0, 0, 0);
	sim_scenario("loss10", 100, 0, 20, 50, 0, 0);
	sim_scenario("loss30", 300, 50, 20, 200, 0, 0);
	sim_scenario("loss50", 500, 100, 20, 2000, 0, 0);
	sim_scenario("outage60s", 100, 20, 30, 100, 1, 0);
	sim_scenario("bulk-mtu500", 0, 0, 10, 0, 0, 700);
	sim_scenario("bulk-loss10", 100, 20, 10, 30, 0, 700);
	return TEST_DONE();
}
