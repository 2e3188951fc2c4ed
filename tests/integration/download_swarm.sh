#!/usr/bin/env bash
# actorrent downloads one torrent from three different seeders at once:
# python3-libtorrent, aria2c and transmission-cli, all on loopback.
#
#   bash download_swarm.sh ACTORRENT WORKDIR
#
# opentracker (HTTP) knows libtorrent and aria2, which announce to it
# (transmission announces too); actorrent announces to it and is also given all
# three addresses with --peer, so it learns each seeder twice and must not
# connect to any twice. Each seeder's upload is capped at about 2 MB/s so that
# the download lasts long enough for all three to be connected together (and
# transmission, which unchokes only every 10 s, to take part).
# Content: one 40 MiB + 6,789 byte file, 256 KiB pieces (last one shorter).
# Checks: exit 0 with a final JSON event "complete", have_bytes == total_size,
# no hash failures, nobody banned, the file byte-identical (cmp), and the
# largest 'peers' count in the JSON progress is exactly 3 (all three seeders
# connected at the same time, none twice), and each of the three sent
# actorrent at least 1 MiB (the kernel's per-socket counters, sampled with ss
# while the download runs). Prints those counts and what libtorrent says it
# uploaded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker aria2c transmission-cli stdbuf cmp head
need_libtorrent
it_setup

read -r TPORT LPORT APORT XPORT MYPORT <<<"$(free_ports 5)"
ANNOUNCE=http://127.0.0.1:$TPORT/announce
C=$WORKDIR/content
mkdir -p "$C"

note "content and torrent (announce $ANNOUNCE)"
make_random "$C/big.bin" $((40 * 1024 * 1024 + 6789))
tracked_torrents "$AR" "$TPORT" "$ANNOUNCE" "$WORKDIR/big.torrent|$C/big.bin|256K"
H=${TRACKED_HASHES[0]}

note "seeders: transmission-cli :$XPORT, libtorrent :$LPORT, aria2c :$APORT (each capped near 2 MB/s)"
tr_seed_start transmission "$WORKDIR/big.torrent" "$C" "$XPORT" -u 2000
XPID=$TR_PID
lt_seed_start "$WORKDIR/libtorrent.log" "$WORKDIR/big.torrent" "$C" "$LPORT" --tracker --upload-limit 2000000
LPID=$BG_LAST
aria2_seed_start "$WORKDIR/aria2.log" "$C" "$APORT" "$WORKDIR/big.torrent" -- --max-overall-upload-limit=2M
APID=$BG_LAST
wait_for_tracker_seeds "$TPORT" "$H" 2 20
# the seeders' own process ids (under `timeout`), for their socket counters
SEEDERS=("libtorrent:$(child_pid "$LPID")" "aria2c:$(child_pid "$APID")" "transmission-cli:$(child_pid "$XPID")")

note "actorrent download via the tracker and --peer for all three"
t0=$SECONDS
sock_watch_start "$WORKDIR/sockets" 70
WATCH=$SOCK_WATCH
ar_download_start "$AR" "$WORKDIR/swarm" 50 "$WORKDIR/big.torrent" "$WORKDIR/dl" --port "$MYPORT" \
  --peer "127.0.0.1:$LPORT" --peer "127.0.0.1:$APORT" --peer "127.0.0.1:$XPORT"
DL=$BG_LAST
ARPID=
for ((i = 0; i < 50; i++)); do
  ARPID=$(child_pid "$DL")
  [[ -z "$ARPID" ]] || break
  sleep 0.1
done
[[ -n "$ARPID" ]] || fail "no actorrent process under timeout (pid $DL)"
ar_download_finish "$DL" "$WORKDIR/swarm"
secs=$((SECONDS - t0))
bg_stop "$WATCH"
J=$WORKDIR/swarm.json
peers_max=$(json_max "$J" peers)
echo "   actorrent was connected to at most $peers_max peers at once (JSON 'peers'; samples:" \
  "$(timeout 30 "$PY" -c 'import json,sys; print(" ".join(str(json.loads(l)["peers"]) for l in open(sys.argv[1])))' "$J"))"
bg_alive "$XPID" transmission-cli "$WORKDIR/transmission.log"
bg_alive "$APID" aria2c "$WORKDIR/aria2.log"
bg_stop "$LPID"
echo "   $(grep '^lt-seed: uploaded' "$WORKDIR/libtorrent.log" || echo 'no summary from the libtorrent seeder')"
check_eq "have_bytes at the end" "$(json_last "$J" total_size)" "$(json_last "$J" have_bytes)"
check_eq "hash_failures" 0 "$(json_last "$J" hash_failures)"
check_eq "banned" 0 "$(json_last "$J" banned)"
n=$(check_same_content "$C/big.bin" "$WORKDIR/dl/big.bin")
check_eq "most peers connected at once (3 seeders, each once)" 3 "$peers_max"
# Bytes each seeder sent to actorrent: the kernel's bytes_acked of each seeder's
# sockets connected to actorrent's (ss, sampled every 0.25 s while it ran).
# Each must have sent at least 1 MiB (4 pieces) of the 40 MiB.
total_sent=0
for who in "${SEEDERS[@]}"; do
  name=${who%%:*}
  pid=${who#*:}
  [[ -n "$pid" ]] || fail "$name: no process id"
  read -r sent recvd conns <<<"$(sock_bytes "$WORKDIR/sockets" "$pid" "$ARPID")"
  echo "   $name (pid $pid) sent $sent bytes to actorrent over $conns connection(s)"
  ((sent >= 1024 * 1024)) || fail "$name sent only $sent bytes to actorrent (at least 1 MiB expected)"
  total_sent=$((total_sent + sent))
done
read -r _ ar_recvd ar_conns <<<"$(sock_bytes "$WORKDIR/sockets" "$ARPID")"
echo "   the three together: $total_sent bytes; actorrent received $ar_recvd over $ar_conns connection(s)" \
  "(of $(json_last "$J" total_size) bytes of data)"
echo "PASS: download_swarm ($n file of $(json_last "$J" total_size) bytes byte-identical from" \
  "libtorrent + aria2 + transmission in ${secs}s, $peers_max peers; ${SECONDS}s in all)"
