#!/usr/bin/env python3
"""What idle torrents cost in `actorrent daemon`, and how fast it lists and restarts.

    bench/daemon_idle.py ACTORRENT [--torrents 1000] [--out DIR]

Makes N single-file torrents of 16 KiB (one piece each, no tracker, so no
announce traffic), writes their data into the downloads directory, starts the
daemon, and measures in one run:
  - RSS of the daemon with no torrent, then with N seeding torrents (no peers)
    and with N paused ones: (RSS_N - RSS_0) / N is the cost of one idle torrent;
  - the time until all N are added (torrents.add, one call each) and seeding;
  - torrents.list of all N with every field: p50 / p99 of 50 calls, and RSS
    before and after them;
  - SIGTERM (time to exit), then a restart from the state directory: the time
    until every torrent is seeding again and how many pieces were hashed.
Prints one JSON object. Every process it starts is stopped by PID; every wait
is bounded.
"""
import argparse, base64, hashlib, json, os, shutil, signal, subprocess, sys, time, http.client, random


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, str):
        return bencode(v.encode())
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Api:
    def __init__(self, port, token):
        self.port, self.token = port, token

    def call(self, method, params=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
        c.request("POST", "/api/v1/rpc", body, {"Authorization": "Bearer " + self.token,
                                                 "Content-Type": "application/json"})
        r = json.loads(c.getresponse().read())
        c.close()
        if "error" in r:
            raise RuntimeError("%s: %s" % (method, r["error"]))
        return r["result"]


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(cond, secs, what):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit("timed out after %d s: %s" % (secs, what))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("actorrent")
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--out", default="/tmp/actorrent-daemon-idle")
    a = ap.parse_args()
    n = a.torrents
    shutil.rmtree(a.out, ignore_errors=True)
    dl, state, tdir = (os.path.join(a.out, x) for x in ("downloads", "state", "torrents"))
    for d in (dl, state, tdir):
        os.makedirs(d)
    rnd = random.Random(14)
    metas = []
    for i in range(n):
        data = bytes(rnd.getrandbits(8) for _ in range(16 * 1024)) if i < 4 else hashlib.sha256(b"%d" % i).digest() * 512
        name = "t%05d.bin" % i
        with open(os.path.join(dl, name), "wb") as f:
            f.write(data)
        info = {"name": name, "length": len(data), "piece length": 16 * 1024, "pieces": hashlib.sha1(data).digest()}
        metas.append(bencode({"info": info}))
    token = "bench-token-0123456789"
    api_port, listen_port = free_port(), free_port()
    conf = os.path.join(a.out, "daemon.yaml")
    with open(conf, "w") as f:
        f.write("listen: {port: %d}\napi: {port: %d, tokens: [{token: %s, scopes: [admin]}]}\n"
                "paths: {downloads: %s, state: %s}\nlimits: {active_seeds: 0, active_checks: 8}\n"
                % (listen_port, api_port, token, dl, state))
    api = Api(api_port, token)
    out = {"torrents": n, "torrent_size": 16 * 1024}
    log = open(os.path.join(a.out, "daemon.log"), "w")

    def start():
        p = subprocess.Popen([a.actorrent, "daemon", "--config", conf], stdout=log, stderr=log)
        def up():
            try:
                c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=2)
                c.request("GET", "/readyz")
                ok = c.getresponse().status == 200
                c.close()
                return ok
            except OSError:
                return False
        wait(up, 60, "daemon ready")
        return p

    def all_seeding():
        r = api.call("torrents.list", {"filter": {"state": "seeding"}, "fields": ["id"], "limit": 1})
        return r["total"] == n

    proc = start()
    try:
        time.sleep(1)
        out["rss_kib_empty"] = rss_kib(proc.pid)
        t0 = time.time()
        ids = [api.call("torrents.add", {"metainfo": base64.b64encode(m).decode()})["id"] for m in metas]
        out["add_seconds"] = round(time.time() - t0, 3)
        wait(all_seeding, 300, "all torrents seeding")
        out["until_all_seed_seconds"] = round(time.time() - t0, 3)
        time.sleep(3)
        out["rss_kib_seeding"] = rss_kib(proc.pid)
        out["idle_seeding_torrent_bytes"] = round((out["rss_kib_seeding"] - out["rss_kib_empty"]) * 1024 / n)
        lat = []
        rss_before = rss_kib(proc.pid)
        for _ in range(50):
            t = time.time()
            r = api.call("torrents.list", {"limit": 10000})
            lat.append((time.time() - t) * 1000)
            assert len(r["torrents"]) == n
        lat.sort()
        out["list_all_ms_p50"] = round(lat[len(lat) // 2], 2)
        out["list_all_ms_p99"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2)
        out["rss_kib_before_after_50_lists"] = [rss_before, rss_kib(proc.pid)]
        api.call("torrents.stop", {"ids": ids})
        time.sleep(3)
        out["rss_kib_paused"] = rss_kib(proc.pid)
        api.call("torrents.start", {"ids": ids})
        wait(all_seeding, 120, "all seeding again")
        t = time.time()
        proc.send_signal(signal.SIGTERM)
        out["sigterm_exit_code"] = proc.wait(timeout=30)
        out["sigterm_seconds"] = round(time.time() - t, 3)
        t = time.time()
        proc = start()
        wait(all_seeding, 120, "all seeding after the restart")
        out["restart_until_all_seed_seconds"] = round(time.time() - t, 3)
        hashed = 0
        for tid in ids[:50]:
            hashed += api.call("torrents.get", {"id": tid})["check"]["pieces_hashed"]
        out["pieces_hashed_at_restart_first_50"] = hashed
        out["rss_kib_after_restart"] = rss_kib(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
