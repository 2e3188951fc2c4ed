#!/usr/bin/env bash
# Real clients download from `actorrent seed`, which they find through a real
# tracker (opentracker on loopback, HTTP).
#
#   bash seed_clients.sh ACTORRENT WORKDIR
#
# The torrent, made by `actorrent create` with 32 KiB pieces, is make_tree's
# tree: nested directories, empty files, 1- and 17-byte files, a name with
# spaces and UTF-8, and a last piece shorter than the others. One actorrent
# seeder (--port 0, trackers on) serves three leechers, one after another:
#   transmission-cli 3.00: started first. It drops 127.x peers that a tracker
#       hands it, so actorrent must dial it: the seeder, started once the
#       tracker lists transmission as a leecher, gets its address in its first
#       announce and connects to it. Done when its completion hook (-f) runs.
#   python3-libtorrent (peers.py lt-leech --tracker): done when it has every
#       piece (it then checks every piece against the torrent's hashes itself).
#   aria2c 1.36 (--seed-time=0): done when its --on-bt-download-complete hook
#       runs; it exits by itself a few seconds later.
# None is told the seeder's address. Checks: the tracker lists the seeder as a
# seed; each leecher completes within 60 s and its files are byte-identical to
# the source (cmp, the same files, none missing or extra; for transmission,
# which does not create empty files, the non-empty ones); the seeder still
# runs, has uploaded at least three times the content, and exits 0 on
# SIGTERM. Each leecher's time (from its start to its completion) is printed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker aria2c transmission-cli awk cmp find
need_libtorrent
it_setup

read -r TPORT TRPORT APORT <<<"$(free_ports 3)"
ANNOUNCE=http://127.0.0.1:$TPORT/announce
C=$WORKDIR/content
T=$WORKDIR/tree.torrent

note "content and torrent (announce $ANNOUNCE)"
make_tree "$C/tree"
SIZE=$(du -sb --apparent-size "$C/tree" | awk '{ print $1 }')
tracked_torrents "$AR" "$TPORT" "$ANNOUNCE" "$T|$C/tree|32K"
HASH=${TRACKED_HASHES[0]}

# leecher_done NAME T0 HOOK_FILE DIR [nonempty]: print NAME's time (T0 to the
# time its completion hook recorded) and check its files.
leecher_done() {
  local name=$1 t0=$2 t1 n
  t1=$(<"$3")
  n=$(check_same_content "$C/tree" "$4/tree" "${5:-}")
  echo "   ok: $name: done after $(seconds_between "$t0" "$t1")s; $n files byte-identical"
}

note "transmission-cli leeching on 127.0.0.1:$TRPORT (it announces; actorrent must dial it)"
mkdir -p "$WORKDIR/tr"
t0=$EPOCHREALTIME
tr_start tr "$T" "$WORKDIR/tr" "$TRPORT" -f "$(completion_hook "$WORKDIR/tr.done")"
TR=$TR_PID
wait_for_tracker_count "$TPORT" "$HASH" incomplete 1 20

note "actorrent seed --port 0, announcing to the tracker"
ar_seeder_start "$AR" "$WORKDIR/seed" "$T" "$C"
SEED=$BG_LAST
echo "   seeder listens on port $SEED_PORT"
wait_for_tracker_seeds "$TPORT" "$HASH" 1 20
grep -qE "tracker: $ANNOUNCE: [1-9][0-9]* peers" "$WORKDIR/seed.err" ||
  fail "the seeder did not report the tracker's peers (see $WORKDIR/seed.err)"

wait_for_file "$WORKDIR/tr.done" 60 "$TR" transmission-cli "$WORKDIR/tr.log"
# transmission 3.00 does not create empty files: the others are compared.
leecher_done transmission-cli "$t0" "$WORKDIR/tr.done" "$WORKDIR/tr" nonempty
bg_stop "$TR"

note "python3-libtorrent leeching (peers.py lt-leech --tracker)"
rc=0
t0=$EPOCHREALTIME
with_timeout 75 "$PY" "$PEERS_PY" lt-leech "$T" "$WORKDIR/lt" --tracker --lifetime 60 \
  >"$WORKDIR/lt.out" 2>"$WORKDIR/lt.err" || rc=$?
((rc == 0)) || { tail -n 15 "$WORKDIR/lt.err" >&2; fail "lt-leech exited $rc: $(tail -n 1 "$WORKDIR/lt.out")"; }
line=$(grep -m1 '^done ' "$WORKDIR/lt.out") || fail "lt-leech printed no 'done' line"
read -r _ secs _ <<<"$line"
n=$(check_same_content "$C/tree" "$WORKDIR/lt/tree")
echo "   ok: libtorrent: done ${secs}s after its session started (process: $(seconds_between "$t0" "$EPOCHREALTIME")s" \
  "with start-up and its own check); $n files byte-identical"

note "aria2c leeching on 127.0.0.1:$APORT (--seed-time=0)"
mkdir -p "$WORKDIR/aria2"
t0=$EPOCHREALTIME
aria2_start "$WORKDIR/aria2.log" "$WORKDIR/aria2" "$APORT" --seed-time=0 \
  --on-bt-download-complete="$(completion_hook "$WORKDIR/aria2.done")" "$T"
ARIA=$BG_LAST
wait_for_file "$WORKDIR/aria2.done" 60 "$ARIA" aria2c "$WORKDIR/aria2.log"
rc=0
wait "$ARIA" || rc=$?
bg_forget "$ARIA"
((rc == 0)) || { tail -n 20 "$WORKDIR/aria2.log" >&2; fail "aria2c exited $rc"; }
leecher_done aria2c "$t0" "$WORKDIR/aria2.done" "$WORKDIR/aria2"

bg_alive "$SEED" "actorrent seed" "$WORKDIR/seed.err"
ar_seeder_stop "$SEED" "$WORKDIR/seed"
read -r ratio < <(sed -n 's/.*ratio \([0-9.]*\).*/\1/p' "$WORKDIR/seed.out" | tail -n 1)
awk -v r="$ratio" 'BEGIN { exit !(r >= 3) }' ||
  fail "the seeder's final ratio is $ratio, below 3 for three complete downloads of $SIZE bytes"
echo "   ok: the seeder's final ratio is $ratio (three leechers)"
echo "PASS: seed_clients (transmission-cli, libtorrent, aria2c from actorrent via the tracker, ${SECONDS}s)"
