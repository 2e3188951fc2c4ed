#!/usr/bin/python3
"""A libtorrent peer for the swarm lab (actorrent lab run, kind: libtorrent).

  lt_peer.py seed|leech TORRENT DIR PORT

Runs one python3-libtorrent session inside the peer's network namespace, with
the torrent's own tracker (the lab's opentracker), and prints one JSON object a
second on stdout with the fields of actorrent's --json-progress that
libtorrent can tell (event, name, info_hash, percent, have_bytes, total_size,
downloaded, uploaded, wasted, down_rate, up_rate, peers, seeds, pieces_have,
pieces_total, hash_failures, banned, complete, have); "banned" is null (libtorrent
does not count bans). A seed starts in seed_mode (no check). It keeps seeding
after completing, like `actorrent download --seed`, until SIGINT/SIGTERM; then
a last object with event "stopped" and exit 0.
"""

import json
import signal
import sys
import time

import libtorrent as lt

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def progress(h, st, event, info):
    total = info.total_size()
    have = st.total_wanted_done
    return {
        "event": event,
        "name": info.name(),
        "info_hash": str(info.info_hash()),
        "percent": int(have * 1000 // total) / 10 if total else 100.0,
        "have_bytes": have,
        "total_size": total,
        "downloaded": st.total_payload_download,
        "uploaded": st.total_payload_upload,
        "wasted": st.total_failed_bytes + st.total_redundant_bytes,
        "down_rate": st.download_payload_rate,
        "up_rate": st.upload_payload_rate,
        "peers": st.num_peers,
        "seeds": st.num_seeds,
        "pieces_have": st.num_pieces,
        "pieces_total": info.num_pieces(),
        "hash_failures": None,
        "banned": None,
        "complete": bool(st.is_seeding),
        "have": have_hex(st.pieces),
    }


def have_hex(pieces):
    """The verified pieces as a hex bitfield (piece 0 in the high bit of the first byte), or None."""
    if not pieces:
        return None
    out = bytearray((len(pieces) + 7) // 8)
    for i, on in enumerate(pieces):
        if on:
            out[i // 8] |= 0x80 >> (i % 8)
    return out.hex()


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("seed", "leech"):
        sys.exit("usage: lt_peer.py seed|leech TORRENT DIR PORT")
    role, torrent, folder, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    ses = lt.session({
        "listen_interfaces": "0.0.0.0:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "out_enc_policy": 2,  # plaintext (pe_disabled)
        "alert_mask": 0,
    })
    info = lt.torrent_info(torrent)
    params = {"ti": info, "save_path": folder}
    if role == "seed":
        params["flags"] = lt.torrent_flags.seed_mode
    h = ses.add_torrent(params)
    done = False
    while not stop:
        st = h.status(lt.status_flags_t.query_pieces)
        event = "progress"
        if st.is_seeding and not done:
            done = True
            event = "complete" if role == "leech" else "checked"
        print(json.dumps(progress(h, st, event, info)), flush=True)
        for _ in range(10):
            if stop:
                break
            time.sleep(0.1)
    print(json.dumps(progress(h, h.status(lt.status_flags_t.query_pieces), "stopped", info)), flush=True)
    ses.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
