#!/usr/bin/python3
"""Reads the samples lib.sh's sock_watch_start writes (ss -tinp of every
established TCP socket every 0.25 s, each sample after a line "@ TIME") and
prints what one process sent or received.

  sockstat.py bytes  FILE PID [PEER_PID]   "SENT RECEIVED CONNECTIONS": each
      connection's largest counters, summed (only those to PEER_PID's sockets
      when given)
  sockstat.py rate   FILE PID SKIP WINDOW  "RATE SECONDS PER_CONNECTION...": bytes/s
      sent over WINDOW s starting SKIP s after PID first had sent 256 KiB, and
      what each connection sent in that window (largest first)
  sockstat.py recvrate FILE PID SKIP WINDOW  the same for what PID received
      (the window starts once it had received 256 KiB)
  sockstat.py active FILE PID SKIP WINDOW  "N:COUNT ...": over the same window, for
      each interval between two samples, how many connections sent data in it
      (N), and in how many intervals (COUNT)
"""
import re
import sys


def read(path):
    """[(time, {(local, peer): (pid, bytes_acked, bytes_received)})], cumulative."""
    series, last, key, t = [], {}, None, None
    for line in open(path, errors="replace"):
        # "127.0.0.1%lo:PORT" (a socket bound to a device) is 127.0.0.1:PORT
        line = re.sub(r"%[^:\]\s]+", "", line.rstrip("\n"))
        if line.startswith("@ "):
            if t is not None:
                series.append((t, dict(last)))
            t = float(line.split()[1])
            continue
        if not line.startswith(("\t", " ")):
            f = line.split()
            m = re.search(r"pid=(\d+),", line)
            key = ((f[2], f[3]), m.group(1)) if len(f) >= 4 and m else None
            continue
        if key is None:
            continue
        acked = re.search(r"bytes_acked:(\d+)", line)
        recv = re.search(r"bytes_received:(\d+)", line)
        conn, pid = key
        _, a0, r0 = last.get(conn, (pid, 0, 0))
        last[conn] = (pid, max(a0, int(acked.group(1)) if acked else 0),
                      max(r0, int(recv.group(1)) if recv else 0))
        key = None
    if t is not None:
        series.append((t, dict(last)))
    return series


def of_pid(state, pid):
    return {c: v for c, v in state.items() if v[0] == pid}


def window(series, pid, skip, length, field=1):
    own = [(t, of_pid(s, pid)) for t, s in series]
    start = next((t for t, s in own if sum(v[field] for v in s.values()) >= 256 * 1024), None)
    if start is None:
        sys.exit("process %s never %s 256 KiB" % (pid, "sent" if field == 1 else "received"))
    inside = [x for x in own if start + skip <= x[0] <= start + skip + length + 0.3]
    if not inside or inside[-1][0] < start + skip + length - 0.3:
        sys.exit("the samples end %.1f s after the start, before the window [%g, %g] s"
                 % (own[-1][0] - start, skip, skip + length))
    return inside


def main():
    cmd, path, pid = sys.argv[1], sys.argv[2], sys.argv[3]
    series = read(path)
    if cmd == "bytes":
        final = of_pid(series[-1][1], pid) if series else {}
        if len(sys.argv) > 4:
            peer = sys.argv[4]
            theirs = {c for c, v in series[-1][1].items() if v[0] == peer} if series else set()
            final = {c: v for c, v in final.items() if (c[1], c[0]) in theirs}
        print(sum(v[1] for v in final.values()), sum(v[2] for v in final.values()), len(final))
    elif cmd in ("rate", "recvrate", "active"):
        field = 2 if cmd == "recvrate" else 1
        inside = window(series, pid, float(sys.argv[4]), float(sys.argv[5]), field)
        (ta, a), (tb, b) = inside[0], inside[-1]
        if cmd in ("rate", "recvrate"):
            per = sorted((b[c][field] - a.get(c, (0, 0, 0))[field] for c in b), reverse=True)
            print("%.0f %.2f %s" % (sum(per) / (tb - ta), tb - ta, " ".join(str(x) for x in per if x > 0)))
        else:
            hist = {}
            for (_, s0), (_, s1) in zip(inside, inside[1:]):
                n = sum(1 for c in s1 if s1[c][1] > s0.get(c, (0, 0, 0))[1])
                hist[n] = hist.get(n, 0) + 1
            print(" ".join("%d:%d" % kv for kv in sorted(hist.items())))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
