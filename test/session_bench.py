#!/usr/bin/python3
"""session_bench.py: the input generator for test/session_bench.sh.

  gen KIND FILE [MB]   write a deterministic input of at least MB (default
                       50) megabytes to FILE. KIND is:
                       mix     what a terminal shows in a day's work, lines
                               ending in a bare newline (the pty adds the
                               carriage return, as for any program): plain
                               text lines of words, ls --color listings,
                               compiler diagnostics (bold, red), and
                               top-like screens (cursor addressing, reverse
                               video, 256 colours, erase to end of line and
                               of screen)
                       ascii   plain lines of words only
                       cjk     UTF-8 CJK lines (double width)

Nothing in the inputs uses the characters of session_bench.sh's end marker
(it checks that), so a client cannot skip a marker cell as unchanged.
"""
import random
import sys

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def make_words(rnd):
    return ["".join(rnd.choice(LETTERS)
                    for _ in range(1 + rnd.randrange(10))) + " "
            for _ in range(4096)]


def block_text(rnd, w, parts):
    for _ in range(64):
        parts.append("".join(rnd.choices(w, k=rnd.randrange(14))))
        parts.append("\n")


def block_ls(rnd, w, parts):
    for _ in range(8):
        for _ in range(6):
            parts.append("\033[0%s;3%dm%s\033[0m  " % (
                ";1" if rnd.randrange(2) else "",
                1 + rnd.randrange(7), rnd.choice(w)))
        parts.append("\n")


def block_diag(rnd, w, parts):
    for _ in range(8):
        parts.append("\033[1mfile.c:%d:%d: \033[1;31merror: \033[0m\033[1m"
                     % (1 + rnd.randrange(999), 1 + rnd.randrange(80)))
        parts.append("".join(rnd.choices(w, k=3 + rnd.randrange(8))))
        parts.append("\033[0m\n")


def block_top(rnd, w, parts):
    parts.append("\033[H\033[7m  PID USER  PR  NI  VIRT  RES \033[K\033[0m")
    for y in range(2, 24):
        parts.append("\033[%d;1H%5d " % (y, rnd.randrange(99999)))
        parts.append("".join(rnd.choices(w, k=2 + rnd.randrange(6))))
        parts.append("\033[38;5;%dm%d.%d\033[m\033[K" % (
            rnd.randrange(256), rnd.randrange(100), rnd.randrange(10)))
    parts.append("\033[J\033[24;1H")


def gen_mix(rnd, out, size):
    w = make_words(rnd)
    blocks = [block_text, block_text, block_ls, block_diag, block_top]
    n = 0
    while n < size:
        parts = []
        for _ in range(64):
            rnd.choice(blocks)(rnd, w, parts)
        b = "".join(parts).encode()
        out.write(b)
        n += len(b)


def gen_ascii(rnd, out, size):
    w = make_words(rnd)
    n = 0
    while n < size:
        parts = []
        for _ in range(64):
            block_text(rnd, w, parts)
        b = "".join(parts).encode()
        out.write(b)
        n += len(b)


def gen_cjk(rnd, out, size):
    # One character in eight is followed by an ideographic full stop.
    han = [chr(0x4e00 + i) for i in range(0x5000)]
    han = han * 7 + [c + "\u3002" for c in han]
    n = 0
    while n < size:
        lines = []
        for _ in range(512):
            lines.append("".join(rnd.choices(han, k=5 + rnd.randrange(30))))
        b = ("\n".join(lines) + "\n").encode()
        out.write(b)
        n += len(b)


def main(argv):
    if len(argv) not in (3, 4) or argv[0] != "gen":
        print(__doc__, file=sys.stderr)
        return 2
    fn = {"mix": gen_mix, "ascii": gen_ascii, "cjk": gen_cjk}.get(argv[1])
    if fn is None:
        print(__doc__, file=sys.stderr)
        return 2
    mb = float(argv[3]) if len(argv) == 4 else 50
    with open(argv[2], "wb") as out:
        fn(random.Random(20250101), out, int(mb * 1000000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
