#!/usr/bin/env bash
# actorrent downloads from aria2c 1.36 as the seeder.
#
#   bash download_aria2.sh ACTORRENT WORKDIR
#
# One aria2c process seeds two torrents made by `actorrent create` from data it
# is told is complete (--bt-seed-unverified, --seed-ratio=0.0: seed forever;
# DHT, LPD, PEX and IPv6 off; listening on 127.0.0.1 only) and announces them
# to opentracker over HTTP (aria2 speaks UDP trackers only with DHT on).
#   (a) a single 16 MiB + 777 byte file, 64 KiB pieces: actorrent finds aria2
#       through the tracker only (no --peer)
#   (b) a tree with nested directories, empty and tiny files, 16 KiB pieces:
#       actorrent dials aria2 with --peer and --no-trackers
# Checks: exit 0 with a final JSON event "complete", have_bytes == total_size,
# no hash failures, every file byte-identical (cmp), the empty files exist.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker aria2c cmp find head
it_setup

read -r TPORT APORT MYPORT <<<"$(free_ports 3)"
ANNOUNCE=http://127.0.0.1:$TPORT/announce
C=$WORKDIR/content
mkdir -p "$C" "$WORKDIR/dl"

note "content and torrents (announce $ANNOUNCE)"
make_random "$C/single.bin" $((16 * 1024 * 1024 + 777))
make_tree "$C/tree"
tracked_torrents "$AR" "$TPORT" "$ANNOUNCE" \
  "$WORKDIR/single.torrent|$C/single.bin|64K" "$WORKDIR/tree.torrent|$C/tree|16K"
H1=${TRACKED_HASHES[0]}
H2=${TRACKED_HASHES[1]}

note "aria2c seeding both torrents on 127.0.0.1:$APORT"
aria2_seed_start "$WORKDIR/aria2.log" "$C" "$APORT" "$WORKDIR/single.torrent" "$WORKDIR/tree.torrent"
ARIA=$BG_LAST
wait_for_tracker_seeds "$TPORT" "$H1" 1 20
wait_for_tracker_seeds "$TPORT" "$H2" 1 20

t0=$SECONDS
note "single: actorrent download via the tracker only (no --peer)"
ar_download "$AR" "$WORKDIR/single" 40 "$WORKDIR/single.torrent" "$WORKDIR/dl" --port "$MYPORT"
check_eq "single: have_bytes at the end" "$(json_last "$WORKDIR/single.json" total_size)" \
  "$(json_last "$WORKDIR/single.json" have_bytes)"
check_eq "single: hash_failures" 0 "$(json_last "$WORKDIR/single.json" hash_failures)"
grep -qE "tracker: $ANNOUNCE: [1-9][0-9]* peers" "$WORKDIR/single.err" ||
  fail "single: actorrent never reported the tracker's peers (see $WORKDIR/single.err)"
n=$(check_same_content "$C/single.bin" "$WORKDIR/dl/single.bin")
echo "   ok: single: $n file byte-identical in $((SECONDS - t0))s"

t0=$SECONDS
note "tree: actorrent download with --peer 127.0.0.1:$APORT --no-trackers"
ar_download "$AR" "$WORKDIR/tree" 40 "$WORKDIR/tree.torrent" "$WORKDIR/dl" --port "$MYPORT" \
  --no-trackers --peer "127.0.0.1:$APORT"
check_eq "tree: have_bytes at the end" "$(json_last "$WORKDIR/tree.json" total_size)" \
  "$(json_last "$WORKDIR/tree.json" have_bytes)"
check_eq "tree: hash_failures" 0 "$(json_last "$WORKDIR/tree.json" hash_failures)"
n=$(check_same_content "$C/tree" "$WORKDIR/dl/tree")
n=$(check_empty_files "$C/tree" "$WORKDIR/dl/tree")
echo "   ok: tree: all $n empty files exist and are empty"
echo "   ok: tree: $n files byte-identical in $((SECONDS - t0))s"
bg_alive "$ARIA" aria2c "$WORKDIR/aria2.log"
echo "PASS: download_aria2 (single file via tracker, tree via --peer, ${SECONDS}s)"
