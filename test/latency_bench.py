#!/usr/bin/env python3
"""latency_bench.py: keystroke-to-echo latency and traffic of whole sessions
over loopback, for any pairing of servers and clients. Nothing is asserted;
figures are printed. Run from the repository root after `make`.

  python3 test/latency_bench.py keys SERVER CLIENT [N [GAP_MS [CMD]]]
      The client runs in a pty (80x24, MOSH_PREDICTION_DISPLAY=never) and
      the session runs CMD (default "exec cat >/dev/null": the line
      discipline echoes, cooked mode; "exec bash --norc -i" has readline
      echo instead). N letters (default 100) are written to the client's pty one at
      a time, GAP_MS (default 150, plus up to 50 at random) apart; for each,
      the time from the write to the moment the letter shows in the
      client's output (escape sequences stripped). Prints
      "keys SERVER CLIENT n=N median=MS p90=MS min=MS max=MS".
  python3 test/latency_bench.py bulk SERVER CLIENT FILE
      The session cats FILE then prints a marker; a counting UDP relay
      stands between client and server. Prints the wall time from the cat's
      start to the marker on the client, the CPU time of the server daemon
      and of the client, and the datagrams and UDP payload bytes in each
      direction during that time.
  python3 test/latency_bench.py idle SERVER CLIENT [SECONDS]
      An idle session through the counting relay, SECONDS (default 30)
      after the first prompt: bytes per second in each direction (UDP
      payload; add 28 bytes per datagram for IPv4 and UDP headers).

SERVER and CLIENT are commands, split on blanks: "./mosh server",
"mosh-server", "./mosh client", "mosh-client". Every process started is
ended by its PID.
"""

import os
import pty
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import fcntl

ESC_RE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*"
                    rb"(?:\x07|\x1b\\)|\x1b[()*+][ -~]|\x1b[ -/]*[0-~]")
MARK = b"LATENCY-BENCH-MARK"


def now():
    return time.monotonic()


def start_server(server, cmd):
    """Start a server; return (pid, port, key)."""
    argv = server.split() + ["new", "-p", "0", "-i", "127.0.0.1",
                             "-l", "LANG=C.UTF-8", "--", "sh", "-c", cmd]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=20)
    m = re.search(rb"MOSH CONNECT (\d+) (\S+)", out)
    d = re.search(rb"pid = (\d+)", err)
    if m is None or d is None:
        sys.exit("latency_bench: server did not start: %r %r" % (out, err))
    return int(d.group(1)), int(m.group(1)), m.group(2).decode()


class Relay:
    """A counting UDP relay in front of 127.0.0.1:port (one client)."""

    def __init__(self, port):
        self.target = ("127.0.0.1", port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.client = None
        self.up = [0, 0]	# datagrams, bytes
        self.down = [0, 0]

    def fds(self):
        return [self.front, self.back]

    def handle(self, s):
        if s is self.front:
            d, a = self.front.recvfrom(65536)
            self.client = a
            self.up[0] += 1
            self.up[1] += len(d)
            self.back.sendto(d, self.target)
        else:
            d, _ = self.back.recvfrom(65536)
            self.down[0] += 1
            self.down[1] += len(d)
            if self.client is not None:
                self.front.sendto(d, self.client)

    def snapshot(self):
        return list(self.up), list(self.down)


class Client:
    """A client in a pty of 80x24."""

    def __init__(self, client, port, key):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = dict(os.environ, MOSH_KEY=key, LANG="C.UTF-8",
                       LC_ALL="C.UTF-8", TERM="xterm-256color",
                       MOSH_PREDICTION_DISPLAY="never")
            argv = client.split() + ["127.0.0.1", str(port)]
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 24, 80, 0, 0))
        os.kill(self.pid, signal.SIGWINCH)

    def read(self):
        try:
            return os.read(self.fd, 65536)
        except OSError:
            return b""

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = now() + 3
        while now() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0] != 0:
                break
            time.sleep(0.02)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def cpu_s(pid):
    """utime + stime of pid in seconds (0 if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def stop_pid(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def pump(cl, relay, until, want=None, seen=b""):
    """Read the client's output (and run the relay) until `until` or until
    `want` shows in the text seen since the call; returns (time, text)."""
    fds = [cl.fd] + (relay.fds() if relay else [])
    text = seen
    while True:
        left = until - now()
        if left <= 0:
            return None, text
        r, _, _ = select.select(fds, [], [], left)
        t = now()
        for f in r:
            if f is cl.fd:
                d = cl.read()
                if not d:
                    return None, text
                text = text[-4096:] + d	# the echo or marker is recent
                if want is not None and want in ESC_RE.sub(b"", text):
                    return t, text
            else:
                relay.handle(f)


def session(server, client, cmd, ready, use_relay):
    pid, port, key = start_server(server, cmd)
    relay = Relay(port) if use_relay else None
    cl = Client(client, relay.port if relay else port, key)
    t, _ = pump(cl, relay, now() + 10, ready)
    if t is None:
        cl.stop()
        stop_pid(pid)
        sys.exit("latency_bench: no %r from the session" % ready)
    return pid, relay, cl


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def keys(server, client, n=100, gap=150, cmd="exec cat >/dev/null"):
    pid, relay, cl = session(server, client,
                             "printf 'READY\\r\\n'; " + cmd,
                             b"READY", False)
    lat = []
    rng = random.Random(1)
    pump(cl, None, now() + 0.3)
    for i in range(n):
        c = b"abcdefgijknopqstuvwxyz"[i % 22:i % 22 + 1]
        if i % 60 == 59:
            os.write(cl.fd, b"\r")	# a fresh line now and then
            pump(cl, None, now() + 0.3)
        t0 = now()
        os.write(cl.fd, c)
        t1, _ = pump(cl, None, t0 + 2, c)
        if t1 is not None:
            lat.append((t1 - t0) * 1000)
        pump(cl, None, now() + (gap + rng.uniform(0, 50)) / 1000)
    cl.stop()
    stop_pid(pid)
    if not lat:
        print("keys %s | %s: no echo seen" % (server, client))
        return
    print("keys %-14s | %-14s n=%d median=%.2f p90=%.2f min=%.2f max=%.2f"
          % (server, client, len(lat), pct(lat, 0.5), pct(lat, 0.9),
             min(lat), max(lat)))


def bulk(server, client, path):
    go = "/tmp/latency_bench.%d.go" % os.getpid()
    cmd = ("printf 'READY\\r\\n'; while [ ! -e %s ]; do sleep 0.01; done; "
           "cat '%s'; printf '\\033[0m\\r\\n%s\\r\\n'; exec sleep 300"
           % (go, path, MARK.decode()))
    pid, relay, cl = session(server, client, cmd, b"READY", True)
    pump(cl, relay, now() + 0.5)
    up0, down0 = relay.snapshot()
    c0, k0 = cpu_s(pid), cpu_s(cl.pid)
    t0 = now()
    open(go, "w").close()
    t1, _ = pump(cl, relay, t0 + 120, MARK)
    up1, down1 = relay.snapshot()
    c1, k1 = cpu_s(pid), cpu_s(cl.pid)
    os.unlink(go)
    cl.stop()
    stop_pid(pid)
    wall = "%.3f s" % (t1 - t0) if t1 is not None else "timeout"
    print("bulk %-14s | %-14s wall=%s server-cpu=%.2f s client-cpu=%.2f s "
          "down=%d dgrams %d bytes up=%d dgrams %d bytes"
          % (server, client, wall, c1 - c0, k1 - k0, down1[0] - down0[0],
             down1[1] - down0[1], up1[0] - up0[0], up1[1] - up0[1]))


def idle(server, client, secs=30):
    pid, relay, cl = session(server, client,
                             "printf 'READY\\r\\n'; exec sleep 3600",
                             b"READY", True)
    pump(cl, relay, now() + 3)
    up0, down0 = relay.snapshot()
    pump(cl, relay, now() + secs)
    up1, down1 = relay.snapshot()
    cl.stop()
    stop_pid(pid)
    u = [a - b for a, b in zip(up1, up0)]
    d = [a - b for a, b in zip(down1, down0)]
    print("idle %-14s | %-14s %ds: up %d dgrams %.1f B/s, down %d dgrams "
          "%.1f B/s, total %.1f B/s (payload; +28 B/dgram on the wire: "
          "%.1f B/s)" % (server, client, secs, u[0], u[1] / secs, d[0],
                         d[1] / secs, (u[1] + d[1]) / secs,
                         (u[1] + d[1] + 28 * (u[0] + d[0])) / secs))


def main():
    a = sys.argv[1:]
    if len(a) < 3 or a[0] not in ("keys", "bulk", "idle"):
        sys.exit(__doc__)
    if a[0] == "keys":
        keys(a[1], a[2], *([int(x) for x in a[3:5]] + a[5:6]))
    elif a[0] == "bulk" and len(a) == 4:
        bulk(a[1], a[2], a[3])
    elif a[0] == "idle":
        idle(a[1], a[2], *[int(x) for x in a[3:4]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
