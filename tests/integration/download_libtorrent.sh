#!/usr/bin/env bash
# actorrent downloads from python3-libtorrent seeders that it finds through a
# real tracker (opentracker on loopback), never told about them with --peer.
#
#   bash download_libtorrent.sh ACTORRENT WORKDIR
#
# With TRACKER_SCHEME=udp (what download_udp_tracker.sh sets) every announce,
# the seeders' and actorrent's, goes to opentracker's UDP port through a
# udp:// URL; by default to its HTTP /announce.
#
# Cases, each torrent made by `actorrent create` and seeded by its own
# libtorrent session (peers.py lt-seed --tracker, ready once announced):
#   (a) a single 20 MiB + 12,345 byte file, 256 KiB pieces (last piece shorter)
#   (b) a tree: nested directories, four empty files (the first and the last
#       file among them), 1- and 17-byte files, a name with spaces and UTF-8,
#       32 KiB pieces, last piece shorter
# Checks: actorrent exits 0 with a final JSON event "complete", have_bytes ==
# total_size, no hash failures, every file byte-identical to the source (cmp),
# the empty files exist and are empty, no file more or less, and actorrent
# reported the tracker answering with at least one peer.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 ACTORRENT WORKDIR" >&2; exit 2; }
AR=$1
WORKDIR=$2
SCHEME=${TRACKER_SCHEME:-http}
[[ "$SCHEME" == http || "$SCHEME" == udp ]] || fail "TRACKER_SCHEME must be http or udp, not '$SCHEME'"
[[ -x "$AR" ]] || fail "actorrent binary '$AR' is not executable"
need_tool opentracker cmp find head
need_libtorrent
it_setup

read -r TPORT SPORT1 SPORT2 MYPORT <<<"$(free_ports 4)"
if [[ "$SCHEME" == udp ]]; then
  ANNOUNCE=udp://127.0.0.1:$TPORT/announce
else
  ANNOUNCE=http://127.0.0.1:$TPORT/announce
fi
C=$WORKDIR/content
mkdir -p "$C" "$WORKDIR/dl"

note "content and torrents (announce $ANNOUNCE)"
make_random "$C/single.bin" $((20 * 1024 * 1024 + 12345))
make_tree "$C/tree"
# opentracker serves HTTP and UDP on the one port.
tracked_torrents "$AR" "$TPORT" "$ANNOUNCE" \
  "$WORKDIR/single.torrent|$C/single.bin|256K" "$WORKDIR/tree.torrent|$C/tree|32K"
H1=${TRACKED_HASHES[0]}
H2=${TRACKED_HASHES[1]}

note "libtorrent seeders on ports $SPORT1 and $SPORT2, announcing to the tracker"
lt_seed_start "$WORKDIR/seed1.log" "$WORKDIR/single.torrent" "$C" "$SPORT1" --tracker
SEED1=$BG_LAST
lt_seed_start "$WORKDIR/seed2.log" "$WORKDIR/tree.torrent" "$C" "$SPORT2" --tracker
SEED2=$BG_LAST
grep -q "$ANNOUNCE" "$WORKDIR/seed1.log" || fail "seeder 1 did not announce to $ANNOUNCE (see seed1.log)"
wait_for_tracker_seeds "$TPORT" "$H1" 1 10
wait_for_tracker_seeds "$TPORT" "$H2" 1 10

# run_case NAME TORRENT SOURCE: download through the tracker and check.
run_case() {
  local name=$1 torrent=$2 src=$3 t0=$SECONDS n total
  note "$name: actorrent download via the tracker only (no --peer)"
  ar_download "$AR" "$WORKDIR/$name" 40 "$torrent" "$WORKDIR/dl" --port "$MYPORT"
  total=$(json_last "$WORKDIR/$name.json" total_size)
  check_eq "$name: have_bytes at the end" "$total" "$(json_last "$WORKDIR/$name.json" have_bytes)"
  check_eq "$name: hash_failures" 0 "$(json_last "$WORKDIR/$name.json" hash_failures)"
  grep -qE "tracker: $ANNOUNCE: [1-9][0-9]* peers" "$WORKDIR/$name.err" ||
    fail "$name: actorrent never reported '$ANNOUNCE: N peers' with N >= 1 (see $WORKDIR/$name.err)"
  n=$(check_same_content "$src" "$WORKDIR/dl/$(basename -- "$src")")
  echo "   ok: $name: $n file(s), $total bytes byte-identical in $((SECONDS - t0))s;" \
    "$(grep -E -m1 "tracker: $ANNOUNCE: " "$WORKDIR/$name.err" | sed 's/^actorrent: //')"
}

run_case single "$WORKDIR/single.torrent" "$C/single.bin"
run_case tree "$WORKDIR/tree.torrent" "$C/tree"
n=$(check_empty_files "$C/tree" "$WORKDIR/dl/tree")
echo "   ok: tree: all $n empty files exist and are empty"
bg_alive "$SEED1" "seeder 1" "$WORKDIR/seed1.log"
bg_alive "$SEED2" "seeder 2" "$WORKDIR/seed2.log"
bg_alive "$TRACKER_PID" opentracker "$WORKDIR/tracker.log"
[[ "$SCHEME" == udp ]] && TEST=download_udp_tracker || TEST=download_libtorrent
echo "PASS: $TEST (libtorrent seeders found through the $SCHEME tracker: single file + tree with empty files, ${SECONDS}s)"
