#!/usr/bin/python3
"""A transmission peer for the swarm lab (actorrent lab run, kind: transmission).

  tr_peer.py seed|leech TORRENT DIR PORT

Runs transmission-cli inside the peer's network namespace with a config folder
of its own (DIR/.transmission: DHT, LPD, PEX, uTP, port forwarding and the
blocklist off) and reads its console status line, which it redraws about once a
second:

  Progress: 41.3%, dl from 1 of 2 peers (2.1 MB/s), ul to 1 (310 kB/s) [0.12]
  Seeding, uploading to 1 of 2 peer(s), 1.4 MB/s [0.57]

Prints one JSON object a second on stdout with the fields of actorrent's
--json-progress that this line tells: event, name, info_hash, percent,
have_bytes (percent of the size, so rounded to 0.1%), total_size, down_rate,
up_rate (rounded as printed), peers, complete; uploaded is estimated from the
printed ratio (rounded to 0.01). Not told by transmission-cli (null): downloaded,
wasted, seeds, pieces_have, have, hash_failures, banned.

Both roles keep seeding until SIGINT/SIGTERM; then transmission-cli gets SIGINT
(it announces "stopped"), a last object with event "stopped", exit 0.
Known quirk: transmission drops peers in 10.0.0.0/8 learnt from a tracker as
"martian" addresses, so as a leecher it gets data only from peers that dial it.
"""

import ctypes
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def bdecode(data, i=0):
    """(value, next index) of the bencoded value at data[i]; dict values are kept raw too."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            start = i
            v, i = bdecode(data, i)
            out[k] = v
            out[b"raw:" + k] = data[start:i]
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


def torrent_facts(path):
    with open(path, "rb") as f:
        meta, _ = bdecode(f.read())
    info = meta[b"info"]
    total = info[b"length"] if b"length" in info else sum(f[b"length"] for f in info[b"files"])
    return info[b"name"].decode("utf-8", "replace"), hashlib.sha1(meta[b"raw:info"]).hexdigest(), total


SPEED = r"([\d.]+) (B|kB|MB|GB)/s"
PROGRESS = re.compile(r"Progress: ([\d.]+)%, dl from (\d+) of (\d+) peers \(" + SPEED + r"\), ul to (\d+) \("
                      + SPEED + r"\) \[([^\]]*)\]")
SEEDING = re.compile(r"Seeding, uploading to (\d+) of (\d+) peer\(s\), " + SPEED + r" \[([^\]]*)\]")
UNIT = {"B": 1, "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}


def rate(value, unit):
    return int(float(value) * UNIT.get(unit, 1))


def ratio(text):
    try:
        return float(text)
    except ValueError:
        return None  # "None", "Inf"


class StatusReader(threading.Thread):
    """Keeps the last status line transmission-cli drew (lines end in \\r or \\n)."""

    def __init__(self, stream, log):
        super().__init__(daemon=True)
        self.stream, self.log, self.last = stream, log, None

    def run(self):
        buf = b""
        while True:
            chunk = os.read(self.stream.fileno(), 4096)
            if not chunk:
                return
            buf += chunk
            parts = re.split(rb"[\r\n]", buf)
            buf = parts.pop()
            for p in parts:
                line = p.decode("utf-8", "replace").strip()
                if not line:
                    continue
                if line.startswith("Progress:") or line.startswith("Seeding"):
                    self.last = line
                else:
                    print(line, file=self.log, flush=True)


def progress(line, event, name, info_hash, total, role):
    p = {"event": event, "name": name, "info_hash": info_hash, "percent": 0.0, "have_bytes": 0,
         "total_size": total, "downloaded": None, "uploaded": None, "wasted": None, "down_rate": 0, "up_rate": 0,
         "peers": 0, "seeds": None, "pieces_have": None, "pieces_total": None, "hash_failures": None,
         "banned": None, "complete": False}
    m = PROGRESS.search(line or "")
    if m:
        pct = float(m.group(1))
        p.update(percent=pct, have_bytes=int(total * pct / 100), peers=int(m.group(3)),
                 down_rate=rate(m.group(4), m.group(5)), up_rate=rate(m.group(7), m.group(8)))
        r = ratio(m.group(9))
        if r is not None:  # transmission's ratio: uploaded over downloaded
            p["uploaded"] = int(r * p["have_bytes"])
        return p
    m = SEEDING.search(line or "")
    if m:
        p.update(percent=100.0, have_bytes=total, peers=int(m.group(2)), up_rate=rate(m.group(3), m.group(4)),
                 complete=True)
        r = ratio(m.group(5))
        if r is not None:  # a seed from the start: uploaded over the size
            p["uploaded"] = int(r * total)
    return p


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("seed", "leech"):
        sys.exit("usage: tr_peer.py seed|leech TORRENT DIR PORT")
    role, torrent, folder, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    name, info_hash, total = torrent_facts(torrent)
    conf = os.path.join(folder, ".transmission")
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "settings.json"), "w") as f:
        json.dump({"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
                   "port-forwarding-enabled": False, "blocklist-enabled": False, "peer-port": port,
                   "encryption": 0, "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
                   "ratio-limit-enabled": False, "idle-seeding-limit-enabled": False,
                   "peer-limit-global": 200, "peer-limit-per-torrent": 100, "download-dir": folder,
                   "incomplete-dir-enabled": False, "rename-partial-files": False}, f)
    cmd = ["stdbuf", "-o0", "transmission-cli", "-g", conf, "-w", folder, "-p", str(port), "-D", "-U", "-M", "-B",
           "-et", torrent]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, stdin=subprocess.DEVNULL,
                             preexec_fn=die_with_parent)
    reader = StatusReader(child.stdout, sys.stderr)
    reader.start()
    done = False
    while not stop:
        if child.poll() is not None:
            print("tr_peer.py: transmission-cli ended with status %d" % child.returncode, file=sys.stderr, flush=True)
            return 1
        if reader.last is not None:
            p = progress(reader.last, "progress", name, info_hash, total, role)
            if p["complete"] and not done:
                done = True
                p["event"] = "complete" if role == "leech" else "checked"
            print(json.dumps(p), flush=True)
        for _ in range(10):
            if stop:
                break
            time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    print(json.dumps(progress(reader.last, "stopped", name, info_hash, total, role)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
