#!/usr/bin/python3
"""libtorrent (python3-libtorrent 2.0) peer for the loopback benchmarks.

Two modes:

  lt_peer.py seed  --torrent T --dir D --port P --ready FILE [--resume FILE] [--control FILE]
      Seeds the data in D (the file named by the torrent) until SIGTERM/SIGINT.
      Writes FILE once it is listening, seeding and has had a reply from the
      torrent's tracker (if it has one), so leechers that learn peers from the
      tracker find it. With --resume: if the file exists it is loaded (no hash
      check; libtorrent still compares file sizes and times), otherwise the data
      is checked in full and the resume data is written there, so a later seeder
      (or a later benchmark) starts at once without re-hashing. With --control:
      every new line "connect HOST PORT" appended to that file makes the seeder
      dial that peer (used for leechers that only accept incoming peers).

  lt_peer.py leech --torrent T --dir D --port P --peer HOST:PORT [--peer ...]
                   [--done FILE] [--connected FILE] [--timeout S] [--use-trackers] [--no-pex]
      Downloads into D, connecting to the given peers, and exits 0 once the
      torrent is seeding (all pieces downloaded and hash-checked). Writes the
      completion time (seconds since the epoch) to --done, and to --connected
      the time it first saw a connected peer (polled every 50 ms at most;
      libtorrent dials peers on its once-a-second tick, so this comes ~1 s
      after the start). Trackers in the
      torrent are dropped unless --use-trackers is given. Exit 1 on timeout or
      error. --no-pex: the session has none of libtorrent's default plugins, so
      no peer exchange (nor ut_metadata, smart_ban): several leechers of one
      seeder then never learn of each other and all data comes from the seeder
      (a libtorrent seeder sends PEX otherwise, and they trade pieces).

Settings (both modes) for a loopback swarm: DHT, LSD, UPnP, NAT-PMP and uTP
off; plaintext outgoing connections; several connections per IP allowed;
upload and download unlimited; and the send/disk buffer settings of
libtorrent's own high_performance_seed preset (send_buffer_watermark 3 MiB,
send_buffer_low_watermark 1 MiB, send_buffer_watermark_factor 150 %,
send_not_sent_low_watermark 512 KiB, max_queued_disk_bytes 7 MiB,
max_out_request_queue 1500, max_peer_recv_buffer_size 5 MiB).
"""

import argparse
import os
import signal
import sys
import time

import libtorrent as lt

STOP = False


def on_signal(_signum, _frame):
    global STOP
    STOP = True


def make_settings(port):
    s = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "upload_rate_limit": 0,
        "download_rate_limit": 0,
        "send_buffer_watermark": 3 * 1024 * 1024,
        "send_buffer_low_watermark": 1024 * 1024,
        "send_buffer_watermark_factor": 150,
        "send_not_sent_low_watermark": 512 * 1024,
        "max_queued_disk_bytes": 7 * 1024 * 1024,
        "max_out_request_queue": 1500,
        "max_peer_recv_buffer_size": 5 * 1024 * 1024,
        "stop_tracker_timeout": 1,
        # The bench reuses leecher ports between runs: let a seeder dial the same
        # address again at once (for transmission, which the seeders dial).
        "min_reconnect_time": 1,
        "alert_mask": int(lt.alert_category.status | lt.alert_category.error
                          | lt.alert_category.tracker | lt.alert_category.storage),
    }
    return s


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_peer(text):
    host, _, port = text.rpartition(":")
    return (host.strip("[]"), int(port))


def seed(args):
    ses = lt.session(make_settings(args.port))
    ti = lt.torrent_info(args.torrent)
    has_tracker = len(list(ti.trackers())) > 0
    atp = None
    resumed = False
    if args.resume and os.path.exists(args.resume):
        with open(args.resume, "rb") as f:
            try:
                atp = lt.read_resume_data(f.read())
                resumed = True
            except Exception as e:  # a damaged resume file: check in full
                print("lt_peer: ignoring resume data: %s" % e, file=sys.stderr)
                atp = None
    if atp is None:
        atp = lt.add_torrent_params()
    # Trackers come from the torrent only (resume data remembers the announce URL
    # of an earlier run, whose tracker port is gone).
    atp.trackers = [t.url for t in ti.trackers()]
    atp.tracker_tiers = [t.tier for t in ti.trackers()]
    atp.flags |= lt.torrent_flags.override_trackers
    atp.ti = ti
    atp.save_path = args.dir
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)

    listening = False
    announced = not has_tracker
    resume_written = resumed or not args.resume
    resume_asked = False
    ready = False
    control_done = 0
    seeding_since = None
    while not STOP:
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                listening = True
            elif isinstance(a, lt.listen_failed_alert):
                print("lt_peer: listen failed: %s" % a.message(), file=sys.stderr)
                return 1
            elif isinstance(a, lt.tracker_reply_alert):
                announced = True
            elif isinstance(a, lt.save_resume_data_alert):
                with open(args.resume + ".tmp", "wb") as f:
                    f.write(lt.write_resume_data_buf(a.params))
                os.replace(args.resume + ".tmp", args.resume)
                resume_written = True
            elif isinstance(a, lt.save_resume_data_failed_alert):
                print("lt_peer: save resume data failed: %s" % a.message(), file=sys.stderr)
                resume_written = True
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                print("lt_peer: %s" % a.message(), file=sys.stderr)
                return 1
        st = h.status()
        if st.is_seeding and seeding_since is None:
            seeding_since = time.time()
        if not ready and st.is_seeding and not resume_written and not resume_asked:
            h.save_resume_data(lt.torrent_handle.flush_disk_cache)
            resume_asked = True
        if not ready and st.is_seeding and listening and resume_written and announced:
            write_file(args.ready, "%d\n" % os.getpid())
            ready = True
        if not ready and seeding_since is not None and time.time() - seeding_since > 60:
            print("lt_peer: seeding but no tracker reply after 60 s", file=sys.stderr)
            return 1
        if ready and args.control and os.path.exists(args.control):
            with open(args.control) as f:
                lines = f.read().splitlines()
            for line in lines[control_done:]:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "connect":
                    h.connect_peer((parts[1], int(parts[2])))
            control_done = len(lines)
        ses.wait_for_alert(100 if ready else 20)
    ses.pause()
    return 0


def leech(args):
    ses = lt.session(make_settings(args.port), 0 if args.no_pex else lt.session_flags_t.add_default_plugins)
    ti = lt.torrent_info(args.torrent)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = args.dir
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    if not args.use_trackers:
        atp.trackers = []
        atp.flags |= lt.torrent_flags.override_trackers
    h = ses.add_torrent(atp)
    peers = [parse_peer(p) for p in args.peer]
    for p in peers:
        h.connect_peer(p)
    deadline = time.time() + args.timeout
    connected_again = False
    connected_seen = False
    code = 1
    while not STOP and time.time() < deadline:
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert) and not connected_again:
                for p in peers:
                    h.connect_peer(p)
                connected_again = True
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                print("lt_peer: %s" % a.message(), file=sys.stderr)
        st = h.status()
        if args.connected and not connected_seen and st.num_peers > 0:
            write_file(args.connected, "%.6f\n" % time.time())
            connected_seen = True
        if st.is_seeding:
            if args.done:
                write_file(args.done, "%.6f\n" % time.time())
            code = 0
            break
        ses.wait_for_alert(50)
    if code != 0:
        print("lt_peer: leech did not finish (%s)" % ("stopped" if STOP else "timeout"),
              file=sys.stderr)
    # Flush the mmapped file and stop the session (bounded by stop_tracker_timeout).
    ses.pause()
    del h
    del ses
    return code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "leech"])
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready")
    ap.add_argument("--resume")
    ap.add_argument("--control")
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--done")
    ap.add_argument("--connected")
    ap.add_argument("--timeout", type=float, default=240)
    ap.add_argument("--use-trackers", action="store_true")
    ap.add_argument("--no-pex", action="store_true")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.mode == "seed":
        if not args.ready:
            ap.error("seed needs --ready")
        return seed(args)
    if not args.peer:
        ap.error("leech needs --peer")
    return leech(args)


if __name__ == "__main__":
    sys.exit(main())
