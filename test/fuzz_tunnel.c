/*
 * fuzz_tunnel.c: arbitrary bytes -> the ssh path's frame decoder
 * (tun_dec_next), fed in pieces whose sizes come from the input itself.
 * Every frame handed out must lie within the decoder's own buffer and
 * have a length in range; after -1 the input is not read further; and
 * every frame that passes the direction check goes through the queue,
 * which never holds more than TUN_QUEUE frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tun_dec d;
	static struct tun_queue q;
	const uint8_t *p, *f;
	size_t off = 0, step, n, fl;
	int k = 0;

	memset(&d, 0, sizeof d);
	memset(&q, 0, sizeof q);
	while (off < size && k != -1) {
		step = 1 + data[off] % 97;
		n = MIN(step, size - off);
		p = data + off;
		while ((k = tun_dec_next(&d, &p, &n, &f, &fl)) == 1) {
			if (fl < TUN_FRAME_MIN || fl > TUN_FRAME_MAX ||
			    f < d.buf || f + fl > d.buf + sizeof d.buf) {
				abort();
			}
			if (tun_to_server_ok(f, fl)) {
				tun_queue_push(&q, f, fl);
			}
			if (q.count > TUN_QUEUE) {
				abort();
			}
		}
		if (k == 0 && n != 0) {
			abort();
		}
		off = (size_t)(p - data);
	}
	return 0;
}
