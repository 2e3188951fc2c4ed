#!/usr/bin/python3
"""bench/daemon_silent_tracker.py: `actorrent daemon` with N seeding torrents whose
only tracker accepts connections and never answers (a listener of this script on
loopback), once per value of limits.announces: the peak thread count and RSS while
their announces hang, and what session.stats says of them.

  ACTORRENT=build/app/actorrent bench/daemon_silent_tracker.py [--n 2000]
      [--announces 10000,50] [--watch 20]

The torrents are the daemon benchmark's (lib/daemon_bench.py make, in
$BENCH_CACHE/daemon, default /tmp/actorrent-bench-cache/daemon), copied with their
announce URL pointed at the silent tracker (the info-hash does not change). Each run:
a fresh state directory, the N torrents added over the API (torrents.add {path}), then
/proc/PID/status sampled every 0.25 s for --watch seconds. limits.announces 10000 is
no bound at all for N up to 10,000: each announce then has its worker thread, as
before the bound existed. The daemon and the tracker are stopped by PID and the work
directory removed on exit. Prints a Markdown table.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import daemon_bench  # noqa: E402  (the benchmark's torrents)

TOKEN = "silent-bench-token-0123456789"


class SilentTracker:
    """Accepts connections on 127.0.0.1 and never answers; holds them until closed."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
                self.held.append(c)
            except socket.timeout:
                pass
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for c in self.held:
            c.close()
        self.sock.close()


def status(pid):
    """Threads and VmRSS (KB) of PID."""
    return {k: daemon_bench.rss_kb(pid, k) for k in ("Threads", "VmRSS")}


def rpc(port, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/rpc" % port, data=body,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def one_run(binary, work, torrents, data, n, announces, watch):
    state = os.path.join(work, "state-%d" % announces)
    os.makedirs(state)
    api, peers = daemon_bench.free_port(), daemon_bench.free_port()
    conf = os.path.join(work, "daemon-%d.yaml" % announces)
    with open(conf, "w") as f:
        f.write("listen: {port: %d}\napi:\n  bind: 127.0.0.1\n  port: %d\n  tokens: [{token: %s, scopes: [admin]}]\n"
                "paths: {downloads: %s, state: %s}\nlimits: {active_downloads: 0, announces: %d}\n"
                % (peers, api, TOKEN, data, state, announces))
    log = open(os.path.join(work, "daemon-%d.log" % announces), "w")
    p = subprocess.Popen([binary, "daemon", "--config", conf], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % api, timeout=1)
                break
            except OSError:
                if p.poll() is not None:
                    raise RuntimeError("the daemon exited (%s)" % log.name)
                time.sleep(0.1)
        base = status(p.pid)
        peak = dict(base)
        t0 = time.monotonic()
        for i in range(n):
            rpc(api, "torrents.add", {"path": os.path.join(torrents, "t%05d.torrent" % i)})
            if i % 50 == 0:
                s = status(p.pid)
                peak = {k: max(peak[k], s[k]) for k in peak}
        added = time.monotonic() - t0
        end = time.monotonic() + watch
        while time.monotonic() < end:
            s = status(p.pid)
            peak = {k: max(peak[k], s[k]) for k in peak}
            time.sleep(0.25)
        stats = rpc(api, "session.stats", {})["result"]
        return {"announces": announces, "base": base, "peak": peak, "add_s": round(added, 1),
                "stats": stats.get("announces", {}), "seeding": stats["torrents"]["by_state"].get("seeding")}
    finally:
        p.terminate()
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--announces", default="10000,50")
    ap.add_argument("--watch", type=float, default=20)
    args = ap.parse_args()
    binary = os.environ.get("ACTORRENT", "build/app/actorrent")
    if not os.access(binary, os.X_OK):
        sys.exit("no actorrent binary at %s (set ACTORRENT)" % binary)
    cache = os.path.join(os.environ.get("BENCH_CACHE", "/tmp/actorrent-bench-cache"), "daemon")
    daemon_bench.make(argparse.Namespace(dir=cache, n=args.n))
    tracker = SilentTracker()
    work = tempfile.mkdtemp(prefix="actorrent-silent.")
    try:
        url = ("http://127.0.0.1:%d/announce" % tracker.port).encode()
        old = daemon_bench.bencode(daemon_bench.ANNOUNCE)
        tdir = os.path.join(work, "torrents")
        os.makedirs(tdir)
        for i in range(args.n):
            name = "t%05d.torrent" % i
            with open(os.path.join(cache, "torrents", name), "rb") as f:
                b = f.read()
            if old not in b:
                sys.exit("%s does not announce to %s" % (name, daemon_bench.ANNOUNCE))
            with open(os.path.join(tdir, name), "wb") as f:
                f.write(b.replace(old, daemon_bench.bencode(url), 1))
        rows = [one_run(binary, work, tdir, os.path.join(cache, "data"), args.n, int(a), args.watch)
                for a in args.announces.split(",")]
    finally:
        tracker.close()
        shutil.rmtree(work, ignore_errors=True)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    print("%s, %d torrents whose tracker never answers (10 s request timeout); %g s watched after the adds"
          % (version, args.n, args.watch))
    print()
    print("| limits.announces | threads before / peak | RSS before / peak | in flight / waiting at the end | failed announces | seeding |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %d / %d | %.1f / %.1f MB | %s / %s | %s | %s |" % (
            r["announces"], r["base"]["Threads"], r["peak"]["Threads"], r["base"]["VmRSS"] * 1024 / 1e6,
            r["peak"]["VmRSS"] * 1024 / 1e6, r["stats"].get("in_flight"), r["stats"].get("waiting"),
            r["stats"].get("failed"), r["seeding"]))


if __name__ == "__main__":
    main()
