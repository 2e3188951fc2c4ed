#!/usr/bin/python3
"""An aria2c peer for the swarm lab (actorrent lab run, kind: aria2c).

  aria2_peer.py seed|leech TORRENT DIR PORT

Runs aria2c inside the peer's network namespace with the torrent's own tracker
(the lab's opentracker), DHT, LPD and PEX off, and asks it once a second over
its own JSON-RPC interface (aria2.tellStatus on 127.0.0.1 of the namespace,
port 6800, never reachable from outside it) how it is doing. Prints one JSON
object a second on stdout with the fields of actorrent's --json-progress that
aria2 can tell: event, name, info_hash, percent, have_bytes, total_size,
downloaded (completedLength less what it had at its first sample: aria2
does not count payload received, so bytes of failed pieces are not in it), uploaded, down_rate, up_rate, peers
(connections), seeds (numSeeders), pieces_have and have (from its bitfield),
pieces_total, complete. Not told by aria2 (null): wasted, hash_failures,
banned.

Both roles keep seeding (--seed-ratio=0.0) until SIGINT/SIGTERM; then aria2c
gets SIGINT (it announces "stopped"), a last object with event "stopped", exit 0.
aria2c's own console output goes to stderr.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

RPC_PORT = 6800
SECRET = os.urandom(12).hex()  # only this driver may ask (or stop) its aria2c
stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def die_with_parent():
    """aria2c gets SIGKILL when this driver dies (churn kills it, a crash must not leave aria2c)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def rpc(method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": "lab", "method": method, "params": ["token:" + SECRET] + list(params)}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/jsonrpc" % RPC_PORT, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=2) as r:
        return json.loads(r.read().decode())["result"]


KEYS = ["gid", "status", "totalLength", "completedLength", "uploadLength", "downloadSpeed", "uploadSpeed",
        "connections", "numSeeders", "seeder", "bitfield", "numPieces", "infoHash", "bittorrent"]


def find_status():
    for call in (lambda: rpc("aria2.tellActive", KEYS), lambda: rpc("aria2.tellStopped", 0, 10, KEYS),
                 lambda: rpc("aria2.tellWaiting", 0, 10, KEYS)):
        found = call()
        if found:
            return found[0]
    return None


def progress(st, event, name, start_have):
    total = int(st.get("totalLength", 0))
    have = int(st.get("completedLength", 0))
    bitfield = st.get("bitfield") or ""
    npieces = int(st.get("numPieces", 0))
    return {
        "event": event,
        "name": name,
        "info_hash": st.get("infoHash"),
        "percent": int(have * 1000 // total) / 10 if total else 0.0,
        "have_bytes": have,
        "total_size": total,
        "downloaded": max(0, have - start_have),
        "uploaded": int(st.get("uploadLength", 0)),
        "wasted": None,
        "down_rate": int(st.get("downloadSpeed", 0)),
        "up_rate": int(st.get("uploadSpeed", 0)),
        "peers": int(st.get("connections", 0)),
        "seeds": int(st.get("numSeeders", 0)),
        "pieces_have": bin(int(bitfield, 16)).count("1") if bitfield else 0,
        "pieces_total": npieces,
        "hash_failures": None,
        "banned": None,
        "complete": total > 0 and have == total,
        "have": bitfield or None,
    }


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("seed", "leech"):
        sys.exit("usage: aria2_peer.py seed|leech TORRENT DIR PORT")
    role, torrent, folder, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    cmd = ["aria2c", "--enable-rpc=true", "--rpc-listen-port=%d" % RPC_PORT, "--rpc-listen-all=false",
           "--rpc-secret=%s" % SECRET,
           "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
           "--disable-ipv6=true", "--file-allocation=none", "--listen-port=%d" % port, "--dir=%s" % folder,
           "--seed-ratio=0.0", "--bt-save-metadata=false", "--auto-save-interval=0", "--summary-interval=0",
           "--console-log-level=warn", "--follow-torrent=false",
           "--bt-max-peers=0", "--max-overall-upload-limit=0", "--allow-overwrite=false"]
    if role == "seed":
        cmd.append("--bt-seed-unverified=true")
    cmd.append(torrent)
    child = subprocess.Popen(cmd, stdout=sys.stderr, stderr=sys.stderr, stdin=subprocess.DEVNULL,
                             preexec_fn=die_with_parent)
    name = os.path.basename(torrent)
    done = False
    last = None
    start_have = None
    while not stop:
        if child.poll() is not None:
            print("aria2_peer.py: aria2c ended with status %d" % child.returncode, file=sys.stderr, flush=True)
            return 1
        try:
            st = find_status()
        except (OSError, ValueError, KeyError):
            st = None  # its RPC is not up yet
        if st is not None:
            info = (st.get("bittorrent") or {}).get("info") or {}
            name = info.get("name", name)
            if start_have is None:
                start_have = int(st.get("completedLength", 0))
            p = progress(st, "progress", name, start_have)
            if p["complete"] and not done:
                done = True
                p["event"] = "complete" if role == "leech" else "checked"
            last = st
            print(json.dumps(p), flush=True)
        for _ in range(10):
            if stop:
                break
            time.sleep(0.1)
    try:
        st = find_status() or last
    except (OSError, ValueError, KeyError):
        st = last
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    if st is not None:
        print(json.dumps(progress(st, "stopped", name, start_have or 0)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
