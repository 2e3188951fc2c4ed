#!/usr/bin/env python3
"""Seeders and leechers for the integration tests and benchmarks.

  peers.py lt-seed    TORRENT DATADIR PORT [--listen ADDR] [--tracker] [--upload-limit B/S] [--lifetime S]
  peers.py bad-seed   TORRENT DATADIR PORT --corrupt 0,3,5|all|none [--listen ADDR] [--upload-limit B/S] [--lifetime S]
  peers.py lt-leech   TORRENT OUTDIR --peer HOST:PORT [--peer ...] [--tracker] [--port P] [--lifetime S]
  peers.py bad-leech  TORRENT HOST:PORT --mode garbage|flood|stall|invalid [--requests N] [--lifetime S]
  peers.py good-leech TORRENT HOST:PORT [--pipeline N] [--lifetime S]
  peers.py probe      HOST:PORT --send handshake|junk|nothing [--info-hash HEX] [--wait S]

Seeders. Both listen on 127.0.0.1:PORT only (on --listen ADDR:PORT only, ADDR a numeric IPv4 or IPv6 address, 127.0.0.1 by default: --listen ::1
makes it an IPv6-only seeder), print "ready" on stdout once a leecher can
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

Leechers (for testing a seeder). Each bounds every wait and exits by itself
after --lifetime seconds (default 120, bad-leech 30; SIGTERM/SIGINT end them
earlier), logs on stderr and prints its result on stdout.

lt-leech is python3-libtorrent as a leecher, with lt-seed's settings (listening
on 127.0.0.1:--port, default 0 = any free port) and no peer exchange. It dials every --peer (again
once its files are checked); with --tracker it also announces to the torrent's
trackers, without it it announces nowhere. Once it has every piece it prints
"done SECONDS BYTES" (seconds since it started, payload bytes downloaded),
reads the files under OUTDIR back and checks every piece against the torrent's
SHA-1 hashes itself, and exits 0; 1 on timeout or when a piece fails that
check ("verify: ..." on stdout).

bad-leech is a client of our own (standard library only) that dials HOST:PORT,
handshakes (the torrent's info-hash, the fast-extension bit set), sends
interested and then misbehaves, by --mode:
  garbage  sends random bytes (64 KiB, then 4 KiB a second) and reads whatever
           comes back;
  flood    waits (up to 5 s) for the remote's bitfield/have-all and unchoke,
           sends --requests (default 20000) valid requests for blocks of pieces
           the remote has, in batches, without reading, then reads only 16 KiB
           every 0.1 s;
  stall    same wait, sends --requests (default 2000) valid requests and never
           reads again, so its TCP receive window fills; it watches the socket
           for a reset (poll), and at the end of its lifetime reads for up to
           3 s to find out whether a close (FIN) was queued behind the unread
           data (a FIN cannot arrive through a full window);
  invalid  same wait, then one at a time, each answered (reject, piece, close)
           or not within 2 s: index = number of pieces, index = 2^32-1, offset
           at the end of piece 0, offset + length past the end of piece 0,
           length 16 KiB + 1, length 1 MiB, length 0; one line per request.
It prints what it did and, as its last line, "closed by remote after N s
(eof|reset)" (seconds since the misbehaviour began) as soon as the remote drops
it, or "still open after N s" at the end of its lifetime (or on a signal).
Exit 0 in both cases; 1 if it could not connect or the handshake failed.

good-leech is a minimal honest leecher of our own (standard library only): it
downloads every piece from HOST:PORT with --pipeline (default 64) 16 KiB
requests in flight, keeps the data in memory only, checks the SHA-1 of each
piece (a failed piece is requested again; a third failure ends the run), and
prints "done SECONDS BYTES" then "rate BYTES_PER_S" (verified bytes over the
seconds since it connected). Exit 0 when complete; on timeout it prints
"incomplete SECONDS BYTES" and the rate so far and exits 1.

probe (for testing a listener) dials HOST:PORT (IPv4, or IPv6 as [ADDR]:PORT)
and sends, by --send: a BitTorrent handshake for --info-hash (40 hex); 64
bytes of an HTTP request (not BitTorrent); or nothing. It then reads whatever
comes for up to --wait seconds (default 15). If the first 68 bytes it read
form a handshake it prints "handshake INFO_HASH_HEX". Its last line is
"closed by remote after N s (eof|reset), M bytes read" (seconds since it
connected) or "still open after N s, M bytes read". Exit 0 in both cases; 1 if
it could not connect.

Run with /usr/bin/python3 (the Debian python that has the libtorrent module);
bad-seed, bad-leech and good-leech need nothing but the standard library.
"""

import argparse
import asyncio
import hashlib
import os
import select
import signal
import socket
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


# ------------------------------------------- the wire (seeder, leechers, probe)

PSTR = b"BitTorrent protocol"
MAX_MESSAGE = 16 * 1024 + 13 + 1024 * 1024  # a bitfield for 8M pieces, or a block


def message(mid, payload=b""):
    return struct.pack(">IB", 1 + len(payload), mid) + payload


def handshake_bytes(info_hash, reserved=bytes(8), peer_id=None):
    """Our handshake for info_hash (peer_id None: "-ZZ0001-" and 12 random bytes)."""
    if peer_id is None:
        peer_id = b"-ZZ0001-" + os.urandom(12)
    return bytes([19]) + PSTR + reserved + info_hash + peer_id


def handshake_info_hash(hs):
    """The info-hash a received handshake (its first 68 bytes) names, None if
    they are not a BitTorrent handshake."""
    if len(hs) < 68 or hs[0] != 19 or hs[1:20] != PSTR:
        return None
    return bytes(hs[28:48])


# ---------------------------------------------------------------- bad-seed


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

    async def handle(self, reader, writer):
        self.connections += 1
        conn = self.connections
        peer = writer.get_extra_info("peername")
        blocks = bad = 0
        why = "closed by the peer"
        log("bad-seed", "connection %d from %s" % (conn, peer))
        try:
            remote = handshake_info_hash(await reader.readexactly(68))
            if remote is None:
                why = "bad handshake"
                return
            if remote != self.t.info_hash:
                why = "unknown info-hash %s" % remote.hex()
                return
            writer.write(handshake_bytes(self.t.info_hash, peer_id=self.peer_id))
            writer.write(message(5, self.bitfield))
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
                    writer.write(message(1))  # unchoke
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
                    writer.write(message(7, struct.pack(">II", index, begin) + data))
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
    server = await asyncio.start_server(seed.handle, args.listen, args.port)
    log("bad-seed", "listening on %s:%d, %d pieces, corrupting %d of them"
        % (args.listen, args.port, t.num_pieces, len(corrupt)))
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


def listen_interface(addr, port):
    """libtorrent's listen_interfaces entry for one address: "ADDR:PORT", an
    IPv6 address in brackets ("[::1]:PORT")."""
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr.strip("[]"), port)


def lt_session(listen, plugins=True, **settings):
    """The python3-libtorrent session of lt-seed and lt-leech, listening on
    listen ("HOST:PORT"): no DHT, LSD, UPnP, NAT-PMP or uTP, plaintext,
    several connections per IP, the alerts they log; settings adds to these.
    plugins=False: none of libtorrent's default plugins (so no peer exchange)."""
    import libtorrent as lt

    pack = {
        "listen_interfaces": listen,
        "enable_dht": False, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False,
        "enable_incoming_utp": False, "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "alert_mask": lt.alert.category_t.error_notification
                      | lt.alert.category_t.status_notification
                      | lt.alert.category_t.tracker_notification
                      | lt.alert.category_t.connect_notification
                      | lt.alert.category_t.peer_notification,
    }
    pack.update(settings)
    return lt.session(pack) if plugins else lt.session(pack, 0)


def run_lt_seed(args):
    import libtorrent as lt

    ses = lt_session(listen_interface(args.listen, args.port), upload_rate_limit=args.upload_limit,
                     ignore_limits_on_local_network=False)
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


# ------------------------------------------------ leechers: the wire side

BLOCK = 16 * 1024
FAST_RESERVED = bytes(7) + b"\x04"  # BEP 6 fast extension bit
CHOKE, UNCHOKE, INTERESTED, HAVE, BITFIELD, REQUEST, PIECE = 0, 1, 2, 4, 5, 6, 7
HAVE_ALL, HAVE_NONE, REJECT = 0x0E, 0x0F, 0x10


class RemoteClosed(Exception):
    pass


def request(index, begin, length):
    return message(REQUEST, struct.pack(">III", index, begin, length))


class Wire:
    """One outgoing connection on a non-blocking socket; every wait is bounded.

    closed is None while the connection is up, else "eof" (the remote closed)
    or "reset" (a reset, or an error on send) and closed_at its monotonic time."""

    def __init__(self, sock):
        self.loop = asyncio.get_running_loop()
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0
        self.closed = None
        self.closed_at = None
        self.bytes_in = 0

    @classmethod
    async def dial(cls, host, port, timeout=10.0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), timeout)
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    def mark_closed(self, how):
        if self.closed is None:
            self.closed = how
            self.closed_at = time.monotonic()

    async def send(self, data, timeout=10.0):
        """Sends data; False if the remote has closed, asyncio.TimeoutError if it
        would not take the data within timeout seconds."""
        if self.closed:
            return False
        try:
            await asyncio.wait_for(self.loop.sock_sendall(self.sock, data), timeout)
            return True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.mark_closed("reset")
            return False

    async def fill(self, timeout, size=1 << 20):
        """Reads what arrives within timeout seconds (up to size bytes) into the
        buffer; returns how many bytes (0 on timeout or close)."""
        if self.closed:
            return 0
        try:
            data = await asyncio.wait_for(self.loop.sock_recv(self.sock, size), max(timeout, 0))
        except asyncio.TimeoutError:
            return 0
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            self.mark_closed("reset")
            return 0
        if not data:
            self.mark_closed("eof")
            return 0
        self.bytes_in += len(data)
        if self.pos and self.pos * 2 > len(self.buf):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data
        return len(data)

    async def exactly(self, n, deadline):
        while len(self.buf) - self.pos < n:
            if self.closed:
                raise RemoteClosed(self.closed)
            if time.monotonic() >= deadline:
                raise asyncio.TimeoutError()
            await self.fill(deadline - time.monotonic())
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def parse(self):
        """The next whole message in the buffer as (id, payload bytes), None if
        there is none yet; keep-alives are skipped."""
        while True:
            if len(self.buf) - self.pos < 4:
                return None
            (n,) = struct.unpack_from(">I", self.buf, self.pos)
            if n > MAX_MESSAGE:
                raise ValueError("the remote sent a message of %d bytes" % n)
            if len(self.buf) - self.pos < 4 + n:
                return None
            start = self.pos + 4
            self.pos = start + n
            if n:
                return self.buf[start], bytes(self.buf[start + 1:start + n])

    async def next(self, deadline):
        """The next message, or None if none came before deadline or the remote
        closed (then self.closed says how)."""
        while True:
            m = self.parse()
            if m is not None:
                return m
            left = deadline - time.monotonic()
            if self.closed or left <= 0:
                return None
            await self.fill(left)

    def close(self):
        self.sock.close()


class RemoteView:
    """What the remote peer has told us: its pieces, whether it unchokes us."""

    def __init__(self, num_pieces):
        self.n = num_pieces
        self.has = [False] * num_pieces
        self.known = False  # a bitfield, have-all or have-none arrived
        self.unchoked = False
        self.fast = False

    def take(self, mid, payload):
        """Updates from one message; True if the remote's pieces changed."""
        if mid == CHOKE:
            self.unchoked = False
        elif mid == UNCHOKE:
            self.unchoked = True
        elif mid == HAVE and len(payload) == 4:
            (i,) = struct.unpack(">I", payload)
            if i < self.n:
                self.has[i] = True
                return True
        elif mid == BITFIELD:
            self.known = True
            self.has = [bool(payload[i // 8] & (0x80 >> (i % 8))) if i // 8 < len(payload) else False
                        for i in range(self.n)]
            return True
        elif mid == HAVE_ALL:
            self.known = True
            self.has = [True] * self.n
            return True
        elif mid == HAVE_NONE:
            self.known = True
            self.has = [False] * self.n
        return False


async def handshake(wire, torrent, deadline):
    """Sends our handshake and reads the remote's; returns its reserved bytes."""
    if not await wire.send(handshake_bytes(torrent.info_hash, FAST_RESERVED)):
        raise RemoteClosed(wire.closed)
    hs = await wire.exactly(68, deadline)
    remote = handshake_info_hash(hs)
    if remote is None:
        raise ValueError("not a BitTorrent handshake: %r" % hs[:20])
    if remote != torrent.info_hash:
        raise ValueError("the remote answered for info-hash %s" % remote.hex())
    return hs[20:28]


def parse_hostport(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


async def open_leech(prog, args, torrent):
    """Dials, handshakes, sends interested; returns (wire, view) or None (logged)."""
    host, port = parse_hostport(args.peer)
    try:
        wire = await Wire.dial(host, port)
    except (OSError, asyncio.TimeoutError) as e:
        log(prog, "cannot connect to %s:%d: %s" % (host, port, e or "timeout"))
        print("could not connect to %s:%d" % (host, port), flush=True)
        return None
    try:
        reserved = await handshake(wire, torrent, time.monotonic() + 10)
    except (RemoteClosed, asyncio.TimeoutError, ValueError) as e:
        why = "closed (%s)" % e if isinstance(e, RemoteClosed) else (str(e) or "timeout")
        log(prog, "handshake failed: %s" % why)
        print("handshake failed: %s" % why, flush=True)
        wire.close()
        return None
    view = RemoteView(torrent.num_pieces)
    view.fast = bool(reserved[7] & 0x04)
    log(prog, "connected to %s:%d, remote %s the fast extension"
        % (host, port, "has" if view.fast else "lacks"))
    await wire.send(message(INTERESTED))
    return wire, view


async def wait_unchoked(wire, view, seconds):
    """Reads until the remote has said what it has and unchoked us (bounded)."""
    deadline = time.monotonic() + seconds
    while not (view.known and view.unchoked) and not wire.closed:
        m = await wire.next(deadline)
        if m is None:
            break
        view.take(*m)


def block_list(torrent, pieces):
    out = []
    for i in pieces:
        size = torrent.piece_size(i)
        for begin in range(0, size, BLOCK):
            out.append((i, begin, min(BLOCK, size - begin)))
    return out


# ---------------------------------------------------------------- bad-leech


class Misbehaviour:
    """bad-leech's record of one connection."""

    def __init__(self, mode):
        self.mode = mode
        self.lines = []  # what it did, printed at the end
        self.began = time.monotonic()
        self.blocks = 0
        self.rejects = 0

    def count(self, mid):
        if mid == PIECE:
            self.blocks += 1
        elif mid == REJECT:
            self.rejects += 1


async def drain(wire, view, rec, seconds, step=1 << 20, pause=0.0):
    """Reads (step bytes, then pause seconds) for up to seconds or until the
    remote closes, counting what arrives."""
    deadline = time.monotonic() + seconds
    while not wire.closed and time.monotonic() < deadline:
        await wire.fill(deadline - time.monotonic(), step)
        try:
            while True:
                m = wire.parse()
                if m is None:
                    break
                view.take(*m)
                rec.count(m[0])
        except ValueError as e:
            rec.lines.append("%s; stopped reading" % e)
            return
        if pause:
            await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0)))


async def bad_garbage(wire, view, rec, end):
    sent = 0
    chunk = os.urandom(64 * 1024)
    while not wire.closed and time.monotonic() < end:
        try:
            if await wire.send(chunk, timeout=max(min(5.0, end - time.monotonic()), 0.1)):
                sent += len(chunk)
        except asyncio.TimeoutError:
            rec.lines.append("the remote stopped taking our bytes")
            break
        chunk = os.urandom(4096)
        await drain(wire, view, rec, min(1.0, max(end - time.monotonic(), 0)))
    rec.lines.insert(0, "garbage: sent %d random bytes; got %d bytes back" % (sent, wire.bytes_in))


async def send_requests(wire, torrent, view, rec, count, end):
    """Sends count requests for blocks of pieces the remote has (cycling)."""
    pieces = [i for i in range(torrent.num_pieces) if view.has[i]] if view.known else []
    if not pieces:
        rec.lines.append("the remote named no pieces (bitfield/have-all): asking for all of them")
        pieces = list(range(torrent.num_pieces))
    blocks = block_list(torrent, pieces)
    sent = 0
    t0 = time.monotonic()
    while sent < count and not wire.closed and time.monotonic() < end:
        batch = b"".join(request(*blocks[(sent + k) % len(blocks)]) for k in range(min(1000, count - sent)))
        try:
            if not await wire.send(batch, timeout=max(min(5.0, end - time.monotonic()), 0.1)):
                break
        except asyncio.TimeoutError:
            rec.lines.append("the remote stopped reading our requests after %d" % sent)
            break
        sent += len(batch) // 17
    rec.lines.append("%s: sent %d requests (%d distinct blocks) in %.2f s, unchoked %s"
                     % (rec.mode, sent, min(sent, len(blocks)), time.monotonic() - t0, view.unchoked))
    return sent


async def bad_flood(wire, view, rec, torrent, args, end):
    await wait_unchoked(wire, view, 5)
    rec.began = time.monotonic()
    await send_requests(wire, torrent, view, rec, args.requests or 20000, end)
    await drain(wire, view, rec, end - time.monotonic(), step=16 * 1024, pause=0.1)
    rec.lines.append("read %d bytes: %d blocks, %d rejects" % (wire.bytes_in, rec.blocks, rec.rejects))


async def bad_stall(wire, view, rec, torrent, args, end):
    await wait_unchoked(wire, view, 5)
    rec.began = time.monotonic()
    before = wire.bytes_in
    await send_requests(wire, torrent, view, rec, args.requests or 2000, end)
    poller = select.poll()
    poller.register(wire.sock.fileno(), select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    while not wire.closed and time.monotonic() < end - 3:
        for _, ev in poller.poll(0):
            if ev & (select.POLLERR | select.POLLHUP):
                wire.mark_closed("reset")
            elif ev & select.POLLRDHUP:
                wire.mark_closed("eof")
        await asyncio.sleep(0.2)
    import fcntl
    import termios
    unread = struct.unpack("i", fcntl.ioctl(wire.sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    rec.lines.append("stalled for %.1f s with %d bytes unread in our socket (%d read before)"
                     % (time.monotonic() - rec.began, unread, before))
    if not wire.closed:
        stalled_until = time.monotonic()
        await drain(wire, view, rec, max(min(3.0, end - time.monotonic()), 0.5))
        if wire.closed:
            rec.lines.append("reading again: %d bytes, then the close (%s): it came at some point "
                             "before %.1f s" % (wire.bytes_in - before, wire.closed,
                                               stalled_until - rec.began))
            wire.closed_at = stalled_until
        else:
            rec.lines.append("reading again: %d bytes in up to 3 s, no close" % (wire.bytes_in - before))


async def bad_invalid(wire, view, rec, torrent, end):
    await wait_unchoked(wire, view, 5)
    rec.began = time.monotonic()
    size0 = torrent.piece_size(0)
    cases = [("index = number of pieces", (torrent.num_pieces, 0, BLOCK)),
             ("index = 2^32-1", (0xFFFFFFFF, 0, BLOCK)),
             ("offset at the end of piece 0", (0, size0, min(BLOCK, size0))),
             ("offset + length past the end of piece 0", (0, max(size0 - BLOCK // 2, 0), BLOCK)),
             ("length 16 KiB + 1", (0, 0, BLOCK + 1)),
             ("length 1 MiB", (0, 0, 1 << 20)),
             ("length 0", (0, 0, 0))]
    rec.lines.append("invalid: unchoked %s before the requests" % view.unchoked)
    for what, (index, begin, length) in cases:
        if wire.closed or time.monotonic() >= end:
            break
        await wire.send(request(index, begin, length))
        deadline = min(time.monotonic() + 2, end)
        answer = "no answer in 2 s"
        while True:
            m = await wire.next(deadline)
            if m is None:
                if wire.closed:
                    answer = "connection closed (%s)" % wire.closed
                break
            mid, payload = m
            view.take(mid, payload)
            rec.count(mid)
            if mid == REJECT and payload[:12] == struct.pack(">III", index, begin, length):
                answer = "rejected"
                break
            if mid == PIECE and payload[:8] == struct.pack(">II", index, begin):
                answer = "served %d bytes" % (len(payload) - 8)
                break
            if mid == CHOKE:
                answer = "choked"
                break
        rec.lines.append("  request %d/%d/%d (%s): %s" % (index, begin, length, what, answer))
    await drain(wire, view, rec, end - time.monotonic())


async def run_bad_leech(args):
    t = Torrent(args.torrent)
    opened = await open_leech("bad-leech", args, t)
    if opened is None:
        return 1
    wire, view = opened
    rec = Misbehaviour(args.mode)
    end = rec.began + args.lifetime
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: stop.done() or stop.set_result(signal.Signals(s).name))
    if args.mode == "garbage":
        work = bad_garbage(wire, view, rec, end)
    elif args.mode == "flood":
        work = bad_flood(wire, view, rec, t, args, end)
    elif args.mode == "stall":
        work = bad_stall(wire, view, rec, t, args, end)
    else:
        work = bad_invalid(wire, view, rec, t, end)
    task = asyncio.ensure_future(work)
    # The work bounds itself by `end`; this bounds it once more, and a signal ends it.
    await asyncio.wait([task, stop], timeout=args.lifetime + 10, return_when=asyncio.FIRST_COMPLETED)
    why = stop.result() if stop.done() else None
    if not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=5)
    elif task.exception():
        rec.lines.append("error: %r" % task.exception())
    for line in rec.lines:
        print(line)
    if wire.closed:
        print("closed by remote after %.1f s (%s)" % (wire.closed_at - rec.began, wire.closed))
    else:
        print("still open after %.1f s%s" % (time.monotonic() - rec.began, " (%s)" % why if why else ""))
    sys.stdout.flush()
    wire.close()
    return 0


# --------------------------------------------------------------- good-leech


async def run_good_leech(args):
    t = Torrent(args.torrent)
    start = time.monotonic()
    opened = await open_leech("good-leech", args, t)
    if opened is None:
        return 1
    wire, view = opened
    loop = asyncio.get_running_loop()
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda s=sig: stop.append(signal.Signals(s).name))
    end = start + args.lifetime
    todo = __import__("collections").deque(block_list(t, range(t.num_pieces)))
    later = []  # blocks of pieces the remote does not have (yet)
    inflight = {}  # (index, begin) -> length
    parts = {}  # index -> [bytearray, bytes still missing]
    failures = {}
    verified = 0
    done_pieces = 0
    why = None
    while done_pieces < t.num_pieces:
        if stop:
            why = stop[0]
            break
        if wire.closed:
            why = "closed by remote (%s)" % wire.closed
            break
        if time.monotonic() >= end:
            why = "timeout"
            break
        if view.unchoked and todo and len(inflight) < args.pipeline:
            out = []
            while todo and len(inflight) < args.pipeline:
                b = todo.popleft()
                if not view.has[b[0]]:
                    later.append(b)
                    continue
                inflight[(b[0], b[1])] = b[2]
                out.append(request(*b))
            if out:
                try:
                    await wire.send(b"".join(out), timeout=max(min(10.0, end - time.monotonic()), 0.1))
                except asyncio.TimeoutError:
                    why = "the remote stopped reading"
                    break
        m = await wire.next(min(end, time.monotonic() + 1))
        if m is None:
            continue
        mid, payload = m
        if view.take(mid, payload) and later:
            todo.extend(later)
            later = []
        if mid == CHOKE:
            todo.extendleft((i, b, n) for (i, b), n in inflight.items())
            inflight.clear()
        elif mid == REJECT and len(payload) == 12:
            index, begin, length = struct.unpack(">III", payload)
            if inflight.pop((index, begin), None) is not None:
                todo.appendleft((index, begin, length))
        elif mid == PIECE and len(payload) >= 8:
            index, begin = struct.unpack(">II", payload[:8])
            length = inflight.pop((index, begin), None)
            if length is None or length != len(payload) - 8:
                continue  # not asked for (any more), or the wrong size
            size = t.piece_size(index)
            part = parts.setdefault(index, [bytearray(size), size])
            part[0][begin:begin + length] = payload[8:]
            part[1] -= length
            if part[1] == 0:
                del parts[index]
                if hashlib.sha1(part[0]).digest() == t.hashes[index]:
                    verified += size
                    done_pieces += 1
                else:
                    failures[index] = failures.get(index, 0) + 1
                    log("good-leech", "piece %d fails its hash (%d time(s))" % (index, failures[index]))
                    if failures[index] >= 3:
                        why = "piece %d failed its hash 3 times" % index
                        break
                    todo.extendleft(block_list(t, [index]))
    elapsed = time.monotonic() - start
    wire.close()
    complete = done_pieces == t.num_pieces
    print("%s %.3f %d" % ("done" if complete else "incomplete", elapsed, verified))
    print("rate %d" % (verified / elapsed if elapsed > 0 else 0))
    sys.stdout.flush()
    log("good-leech", "%s: %d of %d pieces, %d hash failures%s"
        % ("complete" if complete else "incomplete", done_pieces, t.num_pieces,
           sum(failures.values()), "; " + why if why else ""))
    return 0 if complete else 1


# -------------------------------------------------------------------- probe


def run_probe(args):
    host, port = parse_hostport(args.peer)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect((host, port))
    except OSError as e:
        print("could not connect to %s: %s" % (args.peer, e), flush=True)
        return 1
    start = time.monotonic()
    if args.send == "handshake":
        sock.sendall(handshake_bytes(bytes.fromhex(args.info_hash)))
    elif args.send == "junk":
        sock.sendall(b"GET /announce HTTP/1.1\r\nHost: 127.0.0.1\r\n".ljust(64, b"x"))
    got = bytearray()
    closed = None
    deadline = start + args.wait
    while closed is None and time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ConnectionAbortedError):
            closed = "reset"
            break
        if not data:
            closed = "eof"
            break
        got += data
    took = time.monotonic() - start
    remote = handshake_info_hash(got)
    if remote is not None:
        print("handshake %s" % remote.hex())
    if closed:
        print("closed by remote after %.1f s (%s), %d bytes read" % (took, closed, len(got)))
    else:
        print("still open after %.1f s, %d bytes read" % (took, len(got)))
    sys.stdout.flush()
    sock.close()
    return 0


# ----------------------------------------------------------------- lt-leech


def run_lt_leech(args):
    import libtorrent as lt

    t = Torrent(args.torrent)
    # None of the default plugins, so no peer exchange: it talks to the peers
    # it is given (and those of the trackers) only.
    ses = lt_session("127.0.0.1:%d" % args.port, plugins=False)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.outdir
    atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    if not args.tracker:
        atp.trackers = []
        atp.flags |= lt.torrent_flags.override_trackers
    h = ses.add_torrent(atp)
    peers = [parse_hostport(p) for p in args.peer]
    for p in peers:
        h.connect_peer(p)

    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: stop.append(signal.Signals(s).name))
    start = time.monotonic()
    deadline = start + args.lifetime
    why = "lifetime of %gs over" % args.lifetime
    complete = False
    while time.monotonic() < deadline:
        if stop:
            why = stop[0]
            break
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                for p in peers:
                    h.connect_peer(p)
            if isinstance(a, (lt.tracker_reply_alert, lt.tracker_error_alert, lt.torrent_error_alert,
                              lt.file_error_alert, lt.peer_connect_alert, lt.peer_disconnected_alert,
                              lt.peer_error_alert, lt.peer_ban_alert, lt.hash_failed_alert,
                              lt.torrent_finished_alert, lt.listen_failed_alert)):
                log("lt-leech", a.message())
        st = h.status()
        if st.is_seeding:
            complete = True
            print("done %.3f %d" % (time.monotonic() - start, st.total_payload_download), flush=True)
            break
    st = h.status()
    log("lt-leech", "%s: %d of %d bytes, payload downloaded %d%s"
        % ("complete" if complete else "incomplete", st.total_wanted_done, st.total_wanted,
           st.total_payload_download, "" if complete else "; " + why))
    ses.pause()
    del h
    del ses  # flushes the (mmapped) files
    if not complete:
        return 1
    wrong = Storage(t, args.outdir).verify()
    if wrong:
        print("verify: %d pieces fail their hash: %s" % (len(wrong), wrong[:20]), flush=True)
        return 1
    log("lt-leech", "verified %d pieces under %s" % (t.num_pieces, args.outdir))
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
        p.add_argument("--listen", default="127.0.0.1",
                       help="numeric address to listen on, IPv4 or IPv6 (::1; bad-seed: 0.0.0.0 in a container)")
        if name == "lt-seed":
            p.add_argument("--tracker", action="store_true",
                           help="announce to the torrent's trackers; ready once one replied")
            p.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = none")
            p.add_argument("--ready-timeout", type=float, default=30.0)
        else:
            p.add_argument("--corrupt", required=True, help="0,3,5 | all | none")
            p.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = none")
    p = sub.add_parser("lt-leech")
    p.add_argument("torrent")
    p.add_argument("outdir")
    p.add_argument("--peer", action="append", default=[], help="HOST:PORT to dial (repeatable)")
    p.add_argument("--tracker", action="store_true", help="also announce to the torrent's trackers")
    p.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (0: any)")
    p.add_argument("--lifetime", type=float, default=120.0)
    p = sub.add_parser("bad-leech")
    p.add_argument("torrent")
    p.add_argument("peer", metavar="HOST:PORT")
    p.add_argument("--mode", required=True, choices=["garbage", "flood", "stall", "invalid"])
    p.add_argument("--requests", type=int, default=0,
                   help="requests to send (flood: 20000, stall: 2000)")
    p.add_argument("--lifetime", type=float, default=30.0)
    p = sub.add_parser("good-leech")
    p.add_argument("torrent")
    p.add_argument("peer", metavar="HOST:PORT")
    p.add_argument("--pipeline", type=int, default=64, help="16 KiB requests in flight")
    p.add_argument("--lifetime", type=float, default=120.0)
    p = sub.add_parser("probe")
    p.add_argument("peer", metavar="HOST:PORT")
    p.add_argument("--send", required=True, choices=["handshake", "junk", "nothing"])
    p.add_argument("--info-hash", default="00" * 20, help="40 hex (--send handshake)")
    p.add_argument("--wait", type=float, default=15.0)
    args = ap.parse_args()
    if args.cmd == "probe":
        return run_probe(args)
    if args.cmd == "lt-seed":
        return run_lt_seed(args)
    if args.cmd == "lt-leech":
        if not args.peer and not args.tracker:
            ap.error("lt-leech needs --peer or --tracker")
        return run_lt_leech(args)
    if args.cmd == "bad-leech":
        return asyncio.run(run_bad_leech(args))
    if args.cmd == "good-leech":
        return asyncio.run(run_good_leech(args))
    return asyncio.run(run_bad_seed(args))


if __name__ == "__main__":
    sys.exit(main())
