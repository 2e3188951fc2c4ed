#!/usr/bin/env python3
"""Seeders for the download integration tests (download_*.sh).

  peers.py lt-seed  TORRENT DATADIR PORT [--tracker] [--upload-limit B/S] [--lifetime S]
  peers.py bad-seed TORRENT DATADIR PORT --corrupt 0,3,5|all|none [--upload-limit B/S] [--lifetime S]

Both listen on 127.0.0.1:PORT only, print "ready" on stdout once a leecher can
connect (lt-seed --tracker: once the tracker has also accepted its announce),
log what happens on stderr, and exit by themselves after --lifetime seconds
(default 120) or on SIGTERM/SIGINT, printing a one-line summary on stderr
("lt-seed: uploaded N bytes ..." / "bad-seed: served N blocks, M corrupt ...").

lt-seed is python3-libtorrent in seed mode (plain v1, no DHT/LSD/UPnP/NAT-PMP/
uTP, plaintext, several connections per IP allowed). Without --tracker it
announces nowhere; with it, it announces to the torrent's trackers (HTTP or
UDP). --upload-limit caps its upload rate, loopback included.

bad-seed is a minimal BitTorrent seeder of our own (BEP 3 only: handshake,
bitfield, unchoke on interested, piece for request) serving the content under
DATADIR, except that for the pieces given to --corrupt it flips bytes in every
block it sends, every time. It checks the content against the piece hashes at
start, so a test cannot pass because the data was wrong to begin with. With
--corrupt none it is an honest seeder that counts the blocks it sends more
than once (a leecher's duplicate requests); --upload-limit caps its rate.

Run with /usr/bin/python3 (the Debian python that has the libtorrent module);
bad-seed needs nothing but the standard library.
"""

import argparse
import asyncio
import hashlib
import os
import signal
import struct
import sys
import time

# --------------------------------------------------------------- torrents


def bdecode(data, i=0):
    """Decodes one bencoded value at data[i:]; returns (value, end offset)."""
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    if c.isdigit():
        j = data.index(b":", i)
        n = int(data[i:j])
        if j + 1 + n > len(data):
            raise ValueError("string runs past the end at %d" % i)
        return data[j + 1:j + 1 + n], j + 1 + n
    raise ValueError("bad bencoding at offset %d" % i)


class Torrent:
    """The parts of a v1 .torrent a seeder needs."""

    def __init__(self, path):
        raw = open(path, "rb").read()
        if raw[:1] != b"d":
            raise ValueError("%s: not a dictionary" % path)
        # Walk the top-level dictionary to find the exact bytes of 'info'.
        i, info_span = 1, None
        while raw[i:i + 1] != b"e":
            k, i = bdecode(raw, i)
            start = i
            _, i = bdecode(raw, i)
            if k == b"info":
                info_span = (start, i)
        if info_span is None:
            raise ValueError("%s: no info dictionary" % path)
        info_bytes = raw[info_span[0]:info_span[1]]
        info, _ = bdecode(info_bytes)
        self.info_hash = hashlib.sha1(info_bytes).digest()
        self.name = info[b"name"].decode("utf-8")
        self.piece_length = info[b"piece length"]
        pieces = info[b"pieces"]
        self.hashes = [pieces[k:k + 20] for k in range(0, len(pieces), 20)]
        self.files = []  # (relative path parts, length, offset)
        offset = 0
        if b"files" in info:
            for f in info[b"files"]:
                parts = [self.name] + [p.decode("utf-8") for p in f[b"path"]]
                self.files.append((parts, f[b"length"], offset))
                offset += f[b"length"]
        else:
            self.files.append(([self.name], info[b"length"], 0))
            offset = info[b"length"]
        self.total = offset
        self.num_pieces = len(self.hashes)
        if self.num_pieces != (self.total + self.piece_length - 1) // self.piece_length:
            raise ValueError("%s: %d piece hashes for %d bytes" % (path, self.num_pieces, self.total))

    def piece_size(self, index):
        return min(self.piece_length, self.total - index * self.piece_length)


class Storage:
    """Reads byte ranges of the torrent's content from files under a directory."""

    def __init__(self, torrent, datadir):
        self.t = torrent
        self.handles = []
        for parts, length, offset in torrent.files:
            path = os.path.join(datadir, *parts)
            size = os.path.getsize(path)
            if size != length:
                raise ValueError("%s: %d bytes, the torrent says %d" % (path, size, length))
            self.handles.append((open(path, "rb") if length else None, length, offset))

    def read(self, offset, length):
        out = bytearray()
        for fh, flen, foff in self.handles:
            if length == 0:
                break
            if flen == 0 or offset >= foff + flen or offset + length <= foff:
                continue
            start = offset - foff
            n = min(length, flen - start)
            fh.seek(start)
            chunk = fh.read(n)
            if len(chunk) != n:
                raise IOError("short read")
            out += chunk
            offset += n
            length -= n
        if length:
            raise IOError("read past the end of the content")
        return bytes(out)

    def verify(self):
        bad = []
        for i in range(self.t.num_pieces):
            data = self.read(i * self.t.piece_length, self.t.piece_size(i))
            if hashlib.sha1(data).digest() != self.t.hashes[i]:
                bad.append(i)
        return bad


def log(prog, msg):
    sys.stderr.write("%s %.3f %s\n" % (prog, time.monotonic(), msg))
    sys.stderr.flush()


def ready():
    sys.stdout.write("ready\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- bad-seed

PSTR = b"BitTorrent protocol"
MAX_MESSAGE = 16 * 1024 + 13 + 1024 * 1024  # a bitfield for 8M pieces, or a block


class BadSeed:
    def __init__(self, torrent, storage, corrupt, upload_limit=0):
        self.t = torrent
        self.storage = storage
        self.corrupt = corrupt  # set of piece indices
        self.peer_id = b"-XX0001-" + os.urandom(12)
        self.connections = 0
        self.blocks = 0
        self.bad_blocks = 0
        self.bad_pieces = set()
        self.good_pieces = set()
        self.served = set()  # (index, begin) of every block sent
        self.repeats = 0  # blocks sent again (over any connection)
        self.rate = upload_limit  # bytes/s, 0 = none
        self.budget_start = None
        self.budget_bytes = 0
        bits = bytearray((torrent.num_pieces + 7) // 8)
        for i in range(torrent.num_pieces):
            bits[i // 8] |= 0x80 >> (i % 8)
        self.bitfield = bytes(bits)

    @staticmethod
    def message(mid, payload=b""):
        return struct.pack(">IB", 1 + len(payload), mid) + payload

    async def handle(self, reader, writer):
        self.connections += 1
        conn = self.connections
        peer = writer.get_extra_info("peername")
        blocks = bad = 0
        why = "closed by the peer"
        log("bad-seed", "connection %d from %s" % (conn, peer))
        try:
            hs = await reader.readexactly(68)
            if hs[0] != 19 or hs[1:20] != PSTR:
                why = "bad handshake"
                return
            if hs[28:48] != self.t.info_hash:
                why = "unknown info-hash %s" % hs[28:48].hex()
                return
            writer.write(bytes([19]) + PSTR + bytes(8) + self.t.info_hash + self.peer_id)
            writer.write(self.message(5, self.bitfield))
            await writer.drain()
            while True:
                (n,) = struct.unpack(">I", await reader.readexactly(4))
                if n == 0:
                    continue  # keep-alive
                if n > MAX_MESSAGE:
                    why = "message of %d bytes" % n
                    return
                body = await reader.readexactly(n)
                mid = body[0]
                if mid == 2:  # interested
                    writer.write(self.message(1))  # unchoke
                elif mid == 6 and n == 13:  # request
                    index, begin, length = struct.unpack(">III", body[1:13])
                    if (index >= self.t.num_pieces or length == 0 or length > 128 * 1024
                            or begin + length > self.t.piece_size(index)):
                        why = "bad request %d/%d/%d" % (index, begin, length)
                        return
                    data = self.storage.read(index * self.t.piece_length + begin, length)
                    if index in self.corrupt:
                        flipped = bytearray(data)
                        for k in (0, length // 2, length - 1):
                            flipped[k] ^= 0xFF
                        data = bytes(flipped)
                        bad += 1
                        self.bad_blocks += 1
                        self.bad_pieces.add(index)
                    else:
                        self.good_pieces.add(index)
                    blocks += 1
                    self.blocks += 1
                    if (index, begin) in self.served:
                        self.repeats += 1
                    self.served.add((index, begin))
                    await self.throttle(length)
                    writer.write(self.message(7, struct.pack(">II", index, begin) + data))
                    await writer.drain()
                # choke, unchoke, not interested, have, bitfield, cancel, port,
                # extensions: nothing to do for a seeder that always unchokes.
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            log("bad-seed", "connection %d %s after %d blocks (%d corrupt)" % (conn, why, blocks, bad))
            writer.close()

    async def throttle(self, length):
        """Sleeps so that what was sent stays within self.rate bytes/s."""
        if not self.rate:
            return
        now = time.monotonic()
        if self.budget_start is None:
            self.budget_start = now
        self.budget_bytes += length
        ahead = self.budget_bytes / self.rate - (now - self.budget_start)
        if ahead > 0:
            await asyncio.sleep(ahead)

    def summary(self):
        return ("bad-seed: served %d blocks, %d corrupt, %d sent more than once, over %d connections; "
                "corrupt pieces sent %s; good pieces sent %d"
                % (self.blocks, self.bad_blocks, self.repeats, self.connections,
                   sorted(self.bad_pieces), len(self.good_pieces)))


async def run_bad_seed(args):
    t = Torrent(args.torrent)
    storage = Storage(t, args.datadir)
    wrong = storage.verify()
    if wrong:
        log("bad-seed", "content under %s fails pieces %s" % (args.datadir, wrong[:20]))
        return 1
    if args.corrupt == "all":
        corrupt = set(range(t.num_pieces))
    elif args.corrupt in ("", "none"):
        corrupt = set()
    else:
        corrupt = {int(x) for x in args.corrupt.split(",")}
        if any(i < 0 or i >= t.num_pieces for i in corrupt):
            log("bad-seed", "--corrupt %s: pieces are 0..%d" % (args.corrupt, t.num_pieces - 1))
            return 2
    seed = BadSeed(t, storage, corrupt, args.upload_limit)
    server = await asyncio.start_server(seed.handle, "127.0.0.1", args.port)
    log("bad-seed", "listening on 127.0.0.1:%d, %d pieces, corrupting %d of them"
        % (args.port, t.num_pieces, len(corrupt)))
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda s=sig: stop.done() or stop.set_result(signal.Signals(s).name))
    ready()
    try:
        why = await asyncio.wait_for(stop, args.lifetime)
    except asyncio.TimeoutError:
        why = "lifetime of %gs over" % args.lifetime
    server.close()
    log("bad-seed", "stopping: %s" % why)
    sys.stderr.write(seed.summary() + "\n")
    return 0


# ----------------------------------------------------------------- lt-seed


def run_lt_seed(args):
    import libtorrent as lt

    ses = lt.session({
        "listen_interfaces": "127.0.0.1:%d" % args.port,
        "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False,
        "enable_incoming_utp": False, "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "upload_rate_limit": args.upload_limit,
        "ignore_limits_on_local_network": False,
        "alert_mask": lt.alert.category_t.error_notification
                      | lt.alert.category_t.status_notification
                      | lt.alert.category_t.tracker_notification
                      | lt.alert.category_t.connect_notification
                      | lt.alert.category_t.peer_notification,
    })
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.datadir
    atp.flags |= lt.torrent_flags.seed_mode | lt.torrent_flags.paused
    atp.flags &= ~lt.torrent_flags.auto_managed
    h = ses.add_torrent(atp)
    if not args.tracker:
        h.replace_trackers([])
    h.resume()

    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: stop.append(signal.Signals(s).name))

    listening = announced = False
    is_ready = False
    start = time.monotonic()
    deadline = start + args.lifetime
    why = "lifetime of %gs over" % args.lifetime
    while time.monotonic() < deadline:
        if stop:
            why = stop[0]
            break
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                if a.socket_type == lt.socket_type_t.tcp:
                    listening = True
                log("lt-seed", a.message())
            elif isinstance(a, lt.listen_failed_alert):
                log("lt-seed", "FAILED: " + a.message())
                return 1
            elif isinstance(a, lt.tracker_reply_alert):
                announced = True
                log("lt-seed", a.message())
            elif isinstance(a, (lt.tracker_error_alert, lt.tracker_warning_alert,
                                lt.torrent_error_alert, lt.file_error_alert,
                                lt.peer_connect_alert, lt.peer_disconnected_alert,
                                lt.incoming_connection_alert, lt.peer_error_alert,
                                lt.peer_ban_alert, lt.hash_failed_alert)):
                log("lt-seed", a.message())
        if not is_ready and listening and (announced or not args.tracker):
            is_ready = True
            log("lt-seed", "ready after %.1fs" % (time.monotonic() - start))
            ready()
        if not is_ready and time.monotonic() - start > args.ready_timeout:
            log("lt-seed", "FAILED: not ready within %gs (listening %s, announced %s)"
                % (args.ready_timeout, listening, announced))
            return 1
    st = h.status()
    sys.stderr.write("lt-seed: uploaded %d bytes (payload %d) to %d peers now connected; %s\n"
                     % (st.total_upload, st.total_payload_upload, st.num_peers, why))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("lt-seed", "bad-seed"):
        p = sub.add_parser(name)
        p.add_argument("torrent")
        p.add_argument("datadir")
        p.add_argument("port", type=int)
        p.add_argument("--lifetime", type=float, default=120.0)
        if name == "lt-seed":
            p.add_argument("--tracker", action="store_true",
                           help="announce to the torrent's trackers; ready once one replied")
            p.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = none")
            p.add_argument("--ready-timeout", type=float, default=30.0)
        else:
            p.add_argument("--corrupt", required=True, help="0,3,5 | all | none")
            p.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = none")
    args = ap.parse_args()
    if args.cmd == "lt-seed":
        return run_lt_seed(args)
    return asyncio.run(run_bad_seed(args))


if __name__ == "__main__":
    sys.exit(main())
