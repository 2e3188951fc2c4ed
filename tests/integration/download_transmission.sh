#!/usr/bin/env bash
# actorrent downloads from transmission-cli 3.00 as the seeder.
#
#   bash download_transmission.sh ACTORRENT WORKDIR
#
# transmission-cli seeds one torrent per process, from the data in its download
# directory (-w), which it verifies at start; its config dir (-g) has DHT, LPD,
# PEX, uTP and port forwarding off and binds to 127.0.0.1 / ::1. It drops
# loopback peers that a tracker hands it ("martians"), so actorrent dials it
# with --peer 127.0.0.1:PORT (its -p port) and --no-trackers; the torrents'
# tracker URL points at a closed port. Two transmission processes:
#   (a) a single 12 MiB + 4,321 byte file, 64 KiB pieces (last piece shorter)
#   (b) a tree with nested directories, empty and tiny files, 32 KiB pieces
# Checks: exit 0 with a final JSON event "complete", have_bytes == total_size,
# no hash failures, every file byte-identical (cmp), the empty files exist.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool transmission-cli stdbuf cmp find head
it_setup

read -r PORT1 PORT2 <<<"$(free_ports 2)"
C=$WORKDIR/content
mkdir -p "$C" "$WORKDIR/dl"

note "content and torrents"
make_random "$C/single.bin" $((12 * 1024 * 1024 + 4321))
make_tree "$C/tree"
with_timeout 60 "$AR" create "$C/single.bin" -t http://127.0.0.1:1/announce -l 64K \
  -o "$WORKDIR/single.torrent" -q || fail "actorrent create single.bin exited $?"
with_timeout 60 "$AR" create "$C/tree" -t http://127.0.0.1:1/announce -l 32K \
  -o "$WORKDIR/tree.torrent" -q || fail "actorrent create tree exited $?"

note "transmission-cli seeders on 127.0.0.1:$PORT1 (single) and 127.0.0.1:$PORT2 (tree)"
tr_seed_start tr-single "$WORKDIR/single.torrent" "$C" "$PORT1" -U
TR1=$TR_PID
tr_seed_start tr-tree "$WORKDIR/tree.torrent" "$C" "$PORT2" -U
TR2=$TR_PID
# Measured here: transmission closes an incoming connection, before any byte,
# when it comes within about a second of "Seeding". No pause for it: actorrent
# redials a peer that closed early after 1 s (doubling on each repeat), not
# after its 10 s failure back-off.

# Transmission unchokes a new peer at its next rechoke (every 10 s) and then
# ramps up slowly, so both downloads run at the same time.
note "actorrent downloads both at once: --peer 127.0.0.1:$PORT1 / 127.0.0.1:$PORT2, --no-trackers"
t0=$SECONDS
ar_download_start "$AR" "$WORKDIR/single" 45 "$WORKDIR/single.torrent" "$WORKDIR/dl" --no-trackers \
  --peer "127.0.0.1:$PORT1"
D1=$BG_LAST
ar_download_start "$AR" "$WORKDIR/tree" 45 "$WORKDIR/tree.torrent" "$WORKDIR/dl" --no-trackers \
  --peer "127.0.0.1:$PORT2"
D2=$BG_LAST
ar_download_finish "$D1" "$WORKDIR/single"
t1=$SECONDS
ar_download_finish "$D2" "$WORKDIR/tree"
t2=$SECONDS
for name in single tree; do
  check_eq "$name: have_bytes at the end" "$(json_last "$WORKDIR/$name.json" total_size)" \
    "$(json_last "$WORKDIR/$name.json" have_bytes)"
  check_eq "$name: hash_failures" 0 "$(json_last "$WORKDIR/$name.json" hash_failures)"
done
n=$(check_same_content "$C/single.bin" "$WORKDIR/dl/single.bin")
echo "   ok: single: $n file byte-identical (done after $((t1 - t0))s)"
n=$(check_same_content "$C/tree" "$WORKDIR/dl/tree")
echo "   ok: tree: $n files byte-identical (done after $((t2 - t0))s)"
n=$(check_empty_files "$C/tree" "$WORKDIR/dl/tree")
echo "   ok: tree: all $n empty files exist and are empty"
bg_alive "$TR1" "transmission-cli (single)" "$WORKDIR/tr-single.log"
bg_alive "$TR2" "transmission-cli (tree)" "$WORKDIR/tr-tree.log"
echo "PASS: download_transmission (single file and tree via --peer, ${SECONDS}s)"
