"""predict_rec.py: the recording side of test/predict_bench.sh.

  predict_rec.py gen SEED
      print the typing workload: one "OFFSET_MS HEX_BYTE" line a keystroke
      (shell commands, then an editing session in vi), with human-like gaps
      of 80-250 ms drawn from a generator seeded with SEED, and longer
      pauses after Enter for the command's output.

  predict_rec.py server LOG -- CMD...
      run CMD on a pty of its own, between the terminal it is given (a
      mosh server's pty) and CMD: log "I <usec> <hex>" for each input byte
      handed to CMD and "O <usec> <hex>" for what CMD writes. Input bytes
      are handed over one at a time, each once CMD has been quiet for
      SETTLE_MS, so that the log says what each keystroke alone did.

  predict_rec.py client LOG SCHEDULE -- CMD...
      run CMD (a mosh client) on an 80x24 pty, type the SCHEDULE into it
      (the gen output, offsets counted from START_MS after the start),
      and log "K <usec> <index> <hex>" for each keystroke and "O <usec>
      <hex>" for everything CMD writes to its terminal, and "S <usec>"
      when it tells CMD to stop (3 s after the last keystroke).

  predict_rec.py analyze REPLAY SERVERLOG CLIENTLOG
      replay both logs through REPLAY (test/predict_replay.c) into screens
      and print one line "keys N effect N instant N wrong N cells N":
      keystrokes; those that changed the server's screen; those whose
      change was on the client's screen within INSTANT_US of typing them
      (at least one changed cell, as a status line may lag, and the
      cursor where the program put it); those after which the client showed, at
      any moment, a character that the server's screen did not have in
      that cell within WINDOW_US either way (a wrong guess); and the number
      of such wrong cells.

Times are CLOCK_MONOTONIC microseconds, the same clock for both logs.
"""
import fcntl
import os
import random
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import tty

SETTLE_MS = 15
START_MS = 4000
INSTANT_US = 5000
WINDOW_US = 3000000
W, H = 80, 24


def now_us():
    return time.monotonic_ns() // 1000


# ---- workload ----

# (text typed, pause in ms after it). \r is Enter, \x7f Backspace, \x1b Esc.
SHELL = [
    ("echo hello world\r", 1200),
    ("ls /usr\r", 1200),
    ("cd $HOME\r", 1000),
    ("pwd\r", 1000),
    ("ecjo\x7f\x7fho typo fixed\r", 1200),
    ("for i in 1 2 3; do echo line $i; done\r", 1200),
    ("printf '%s\\n' alpha beta gamma\r", 1200),
    ("grep -c root /etc/passwd\r", 1200),
    ("vi notes.txt\r", 2500),
]
VI = [
    ("iThe quick brown fox\rjumps over the lazy dog.\x1b", 800),
    ("0ww", 600),
    ("dw", 600),
    ("x", 600),
    ("A again\x1b", 800),
    ("oa third line of text\x1b", 800),
    ("k", 500),
    ("dd", 600),
    ("u", 600),
    ("ggAnd more\x1b", 800),
    (":wq\r", 1500),
]
AFTER = [
    ("cat notes.txt\r", 1200),
    ("wc -l notes.txt\r", 1200),
    ("echo done\r", 1200),
]


def gen(seed):
    rng = random.Random(seed)
    t = 0
    for text, pause in SHELL + VI + AFTER:
        for ch in text:
            t += rng.randint(80, 250)
            print("%d %02x" % (t, ord(ch)))
        t += pause


# ---- recording ----

class Log:
    def __init__(self, path):
        self.f = open(path, "w")

    def put(self, kind, data, extra=""):
        self.f.write("%s %d %s%s\n" % (kind, now_us(), extra, data.hex()))
        self.f.flush()


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def read_some(fd):
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def server(log_path, cmd):
    log = Log(log_path)
    pid, master = os.forkpty()
    if pid == 0:
        os.execvp(cmd[0], cmd)

    def copy_size(*_):
        try:
            ws = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(master, termios.TIOCSWINSZ, ws)
        except OSError:
            pass
    copy_size()
    signal.signal(signal.SIGWINCH, copy_size)
    tty.setraw(0)
    queue = b""
    quiet_since = 0.0
    stdin_open = True
    while True:
        timeout = None
        if queue:
            timeout = max(0.0, quiet_since + SETTLE_MS / 1000.0 -
                          time.monotonic())
        fds = [master] + ([0] if stdin_open else [])
        try:
            r = select.select(fds, [], [], timeout)[0]
        except InterruptedError:
            continue
        if master in r:
            data = read_some(master)
            if not data:
                break
            log.put("O", data)
            os.write(1, data)
            quiet_since = time.monotonic()
        if 0 in r:
            data = read_some(0)
            if not data:
                stdin_open = False
            queue += data
        if queue and time.monotonic() >= quiet_since + SETTLE_MS / 1000.0:
            log.put("I", queue[:1])
            os.write(master, queue[:1])
            queue = queue[1:]
            quiet_since = time.monotonic()
    os.waitpid(pid, 0)


def client(log_path, sched_path, cmd):
    log = Log(log_path)
    keys = []
    with open(sched_path) as f:
        for line in f:
            off, hx = line.split()
            keys.append((int(off), bytes.fromhex(hx)))
    master, slave = os.openpty()
    set_size(slave, H, W)

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    env = dict(os.environ, TERM="xterm-256color")
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                         preexec_fn=child_setup, env=env, close_fds=True)
    os.close(slave)
    t0 = time.monotonic() + START_MS / 1000.0
    end = t0 + (keys[-1][0] if keys else 0) / 1000.0 + 3.0
    i = 0
    stopped = None
    while True:
        now = time.monotonic()
        if i < len(keys) and now >= t0 + keys[i][0] / 1000.0:
            log.put("K", keys[i][1], "%d " % i)
            os.write(master, keys[i][1])
            i += 1
            continue
        if stopped is None and now >= end:
            log.put("S", b"")
            p.terminate()
            stopped = now
        if stopped is not None and now >= stopped + 2.0:
            p.kill()
            break
        wake = end if i >= len(keys) else t0 + keys[i][0] / 1000.0
        if stopped is not None:
            wake = stopped + 2.0
        r = select.select([master], [], [], max(0.0, min(wake - now, 1.0)))[0]
        if r:
            data = read_some(master)
            if not data:
                break
            log.put("O", data)
    p.wait()
    sys.exit(0 if i == len(keys) else 1)


# ---- analysis ----

def frames(replay, log_path, ext):
    """[(usec, cy, cx, [row text...])], one entry per replayed frame. For
    the server side (ext), the screen starts with one line feed, as a mosh
    server's does, and every read of the program's output is a frame of its
    own: a server may send its screen between any two reads (vi shows a
    command key at the bottom and clears it in the next write), so a client
    that draws such a passing screen draws nothing wrong."""
    args = [replay] + (["-x", "-g", "0"] if ext else [])
    with open(log_path) as f:
        data = ("O 0 0d0a\n" if ext else "") + f.read()
    out = subprocess.run(args, input=data.encode(), stdout=subprocess.PIPE,
                         check=True).stdout.decode("utf-8", "replace")
    res = []
    rows = [" " * W] * H
    for line in out.split("\n"):
        if line.startswith("F "):
            _, t, cy, cx = line.split()
            rows = list(rows)
            res.append((int(t), int(cy), int(cx), rows))
        elif line.startswith("R "):
            _, y, text = line.split(" ", 2)
            rows[int(y)] = text
    return res


def records(log_path, kind):
    res = []
    with open(log_path) as f:
        for line in f:
            if line.startswith(kind + " "):
                w = line.split()
                res.append((int(w[1]),
                            bytes.fromhex(w[-1]) if len(w) > 2 else b""))
    return res


def at(fr, t):
    """Index of the last frame at or before t, -1 if none."""
    lo, hi = 0, len(fr)
    while lo < hi:
        mid = (lo + hi) // 2
        if fr[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def cell(rows, y, x):
    r = rows[y]
    return r[x] if x < len(r) else " "


def analyze(replay, srv_log, cli_log):
    sf = frames(replay, srv_log, True)
    cf = frames(replay, cli_log, False)
    sin = records(srv_log, "I")
    ckeys = records(cli_log, "K")
    # Match each keystroke to the first later byte like it that reached
    # the program (the server's emulator also answers queries, such as
    # vi's, on the same pty). skeys[k]: (arrival, arrival of the next
    # input byte of any kind).
    skeys = []
    j = 0
    for ct, b in ckeys:
        while j < len(sin) and (sin[j][1] != b or sin[j][0] < ct):
            j += 1
        if j == len(sin):
            break
        nxt = sin[j + 1][0] if j + 1 < len(sin) else sin[j][0] + 1000000
        skeys.append((sin[j][0], nxt))
        j += 1
    n = len(skeys)
    if n != len(ckeys):
        print("analyze: %d keystrokes typed, %d reached the program" %
              (len(ckeys), n), file=sys.stderr)
    blank = (0, 0, 0, [" " * W] * H)

    def truth(t):
        i = at(sf, t)
        return sf[i] if i >= 0 else blank

    def shown(t):
        i = at(cf, t)
        return cf[i] if i >= 0 else blank

    effect = instant = 0
    for k in range(n):
        before = truth(skeys[k][0] - 1)
        after = truth(skeys[k][1] - 1)
        cells = [(y, x) for y in range(H) for x in range(W)
                 if cell(before[3], y, x) != cell(after[3], y, x)]
        moved = before[1:3] != after[1:3]
        if not cells and not moved:
            continue
        effect += 1

        def shows(fr, y, x):
            return cell(fr[3], y, x) == cell(after[3], y, x)
        ck = ckeys[k][0]
        early, ahead = shown(ck + INSTANT_US), shown(ck - 1)
        # Instant: some changed cell took its new text within INSTANT_US
        # (a status line such as vi's ruler may lag), and the cursor, if
        # the keystroke moved it, is where the program put it.
        fast = (not moved or early[1:3] == after[1:3])
        if cells:
            fast = fast and any(shows(early, y, x) and not shows(ahead, y, x)
                                for y, x in cells)
        else:
            fast = fast and ahead[1:3] != after[1:3]
        if fast:
            instant += 1
        if os.environ.get("PREDICT_BENCH_DEBUG"):
            print("key %d %r %s" % (k, ckeys[k][1].decode("latin-1"),
                                    "instant" if fast else "late"),
                  file=sys.stderr)

    # Each cell's history on the server: [(since, char)].
    hist = {}
    prev = blank[3]
    for t, _, _, rows in sf:
        for y in range(H):
            if rows[y] == prev[y]:
                continue
            for x in range(W):
                c = cell(rows, y, x)
                h = hist.setdefault((y, x), [(0, " ")])
                if h[-1][1] != c:
                    h.append((t, c))
        prev = rows

    def ever(y, x, c, t):
        h = hist.get((y, x), [(0, " ")])
        for j, (since, ch) in enumerate(h):
            until = h[j + 1][0] if j + 1 < len(h) else 1 << 62
            if ch == c and since <= t + WINDOW_US and until >= t - WINDOW_US:
                return True
        return False

    first = ckeys[0][0] if ckeys else 0
    # Up to when the client was told to stop (its farewell is no guess).
    stop = [t for t, _ in records(cli_log, "S")]
    stop = stop[0] if stop else (ckeys[n - 1][0] if n else 0) + 2000000
    wrong_keys = set()
    wrong_cells = 0
    prev = None
    for t, _, _, rows in cf:
        if t < first:
            prev = rows
            continue
        if t >= stop:
            break
        for y in range(H):
            if prev is not None and rows[y] == prev[y]:
                continue
            for x in range(W):
                c = cell(rows, y, x)
                if prev is not None and cell(prev, y, x) == c:
                    continue
                if not ever(y, x, c, t):
                    wrong_cells += 1
                    k = at([(kt,) for kt, _ in ckeys[:n]], t)
                    wrong_keys.add(max(k, 0))
                    if os.environ.get("PREDICT_BENCH_DEBUG"):
                        print("wrong %r at %d,%d t=%d after key %d" %
                              (c, y, x, t, k), file=sys.stderr)
        prev = rows
    print("keys %d effect %d instant %d wrong %d cells %d" %
          (n, effect, instant, len(wrong_keys), wrong_cells))


def main():
    a = sys.argv[1:]
    if a[:1] == ["gen"] and len(a) == 2:
        gen(int(a[1]))
    elif a[:1] == ["server"] and len(a) >= 4 and a[2] == "--":
        server(a[1], a[3:])
    elif a[:1] == ["client"] and len(a) >= 5 and a[3] == "--":
        client(a[1], a[2], a[4:])
    elif a[:1] == ["analyze"] and len(a) == 4:
        analyze(a[1], a[2], a[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
