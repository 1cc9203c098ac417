#!/usr/bin/python3
"""session_bench.py: helpers for test/session_bench.sh.

  gen KIND FILE [MB]   write a deterministic input of at least MB (default
                       21) megabytes: KIND is ascii (plain lines of words),
                       colour (ls --color, compiler diagnostics and top-like
                       screens: SGR, cursor addressing, erases) or cjk
                       (UTF-8 CJK lines). The shapes are those of
                       test/vt_bench.c; the bytes are not (another RNG).
  wait SOCK PANE GO TEXT SEC
                       create the file GO (the session's command waits
                       for it), then poll the tmux pane every BENCH_POLL
                       seconds (default 0.005) until a line holds TEXT;
                       print the milliseconds since GO was created, or
                       exit 1 after SEC seconds
  keys SOCK PANE N SEC
                       N keystroke round trips: type one character, poll
                       the pane until it shows, note the time; wait SEC
                       at most for each. Print the times in milliseconds,
                       one per line. The pane must show a prompt line
                       ending in "> " with the cursor after it.

SOCK is the tmux -L socket name. Nothing here is timed against a limit:
the figures are printed for the caller to compare.
"""
import os
import random
import subprocess
import sys
import time

WORDS = None
POLL = float(os.environ.get("BENCH_POLL", "0.005"))


def words(rnd):
    global WORDS
    if WORDS is None:
        letters = "abcdefghijklmnopqrstuvwxyz"
        WORDS = ["".join(rnd.choice(letters)
                         for _ in range(1 + rnd.randrange(10))) + " "
                 for _ in range(4096)]
    return WORDS


def gen_ascii(rnd, out, size):
    w = words(rnd)
    n = 0
    while n < size:
        lines = []
        for _ in range(512):
            lines.append("".join(rnd.choices(w, k=rnd.randrange(14))))
        s = "\r\n".join(lines) + "\r\n"
        out.write(s.encode())
        n += len(s)


def gen_colour(rnd, out, size):
    w = words(rnd)
    n = 0
    while n < size:
        parts = []
        for _ in range(256):
            k = rnd.randrange(4)
            if k == 0:  # ls --color
                for _ in range(6):
                    parts.append("\033[0%s;3%dm%s\033[0m  " % (
                        ";1" if rnd.randrange(2) else "",
                        1 + rnd.randrange(7), rnd.choice(w)))
                parts.append("\r\n")
            elif k == 1:  # compiler diagnostics
                parts.append("\033[1mfile.c:12:5: \033[1;31merror: "
                             "\033[0m\033[1m")
                parts.append("".join(rnd.choices(w, k=3 + rnd.randrange(8))))
                parts.append("\033[0m\r\n")
            else:  # top: home, rows rewritten, erases
                parts.append("\033[H\033[7m  PID USER  PR  NI  VIRT  RES "
                             "\033[K\033[0m")
                for y in range(2, 24):
                    parts.append("\033[%d;1H%5d " % (y, rnd.randrange(99999)))
                    parts.append("".join(rnd.choices(w,
                                                     k=2 + rnd.randrange(6))))
                    parts.append("\033[38;5;%dm%d.%d\033[m\033[K" % (
                        rnd.randrange(256), rnd.randrange(100),
                        rnd.randrange(10)))
                parts.append("\033[J")
        s = "".join(parts)
        out.write(s.encode())
        n += len(s)


def gen_cjk(rnd, out, size):
    # One character in eight is followed by an ideographic full stop.
    han = [chr(0x4e00 + i) for i in range(0x5000)]
    han = han * 7 + [c + "\u3002" for c in han]
    n = 0
    while n < size:
        lines = []
        for _ in range(512):
            lines.append("".join(rnd.choices(han, k=5 + rnd.randrange(30))))
        b = ("\r\n".join(lines) + "\r\n").encode()
        out.write(b)
        n += len(b)


def gen(kind, path, mb):
    rnd = random.Random(20250101)
    fn = {"ascii": gen_ascii, "colour": gen_colour, "cjk": gen_cjk}[kind]
    with open(path, "wb") as out:
        fn(rnd, out, int(mb * 1000000))


def capture(sock, pane):
    try:
        r = subprocess.run(["tmux", "-L", sock, "-f", "/dev/null",
                            "capture-pane", "-p", "-t", pane],
                           stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=5)
    except subprocess.TimeoutExpired:
        return ""
    return r.stdout.decode("utf-8", "replace")


def send(sock, pane, text):
    subprocess.run(["tmux", "-L", sock, "-f", "/dev/null",
                    "send-keys", "-t", pane, "-l", text],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=5)


def wait(sock, pane, go, text, sec):
    t0 = time.monotonic()
    open(go, "w").close()
    while time.monotonic() - t0 < sec:
        if any(text in line for line in capture(sock, pane).split("\n")):
            print("%.0f" % ((time.monotonic() - t0) * 1000))
            return 0
        time.sleep(POLL)
    return 1


def prompt_line(screen):
    """The last line holding the prompt, without trailing blanks."""
    lines = [ln for ln in screen.split("\n") if "> " in ln]
    return lines[-1].rstrip() if lines else ""


def keys(sock, pane, n, sec):
    # Distinct letters, so each echo is a new line content.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    typed = prompt_line(capture(sock, pane))
    for i in range(n):
        c = alphabet[i % len(alphabet)]
        want = typed + c
        t0 = time.monotonic()
        send(sock, pane, c)
        while True:
            if prompt_line(capture(sock, pane)).endswith(want):
                print("%.2f" % ((time.monotonic() - t0) * 1000))
                break
            if time.monotonic() - t0 > sec:
                print("timeout", file=sys.stderr)
                return 1
            time.sleep(0.0005)
        typed = want
        time.sleep(0.05)  # let the session go idle between keys
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "gen":
        gen(argv[1], argv[2], float(argv[3]) if len(argv) > 3 else 21)
        return 0
    if len(argv) == 6 and argv[0] == "wait":
        return wait(argv[1], argv[2], argv[3], argv[4], float(argv[5]))
    if len(argv) == 5 and argv[0] == "keys":
        return keys(argv[1], argv[2], int(argv[3]), float(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
