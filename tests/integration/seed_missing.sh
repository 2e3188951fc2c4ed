#!/usr/bin/env bash
# `actorrent seed` with data missing fails after its check, before it announces
# or dials, even with a tracker and a reachable seeder of the torrent.
#
#   bash seed_missing.sh ACTORRENT WORKDIR
#
# opentracker on loopback and an actorrent seeder of a 2 MiB + 7 byte torrent
# (64 KiB pieces: 33 of them), known to the tracker. Then `actorrent seed` of
# the same torrent, with the tracker on and --peer pointing at the seeder:
#   (a) into a directory that does not exist (a typo): exit 1 within 10 s,
#       "all 33 pieces missing" on stderr, and the directory is not created;
#   (b) into an empty directory: exit 1 within 10 s, "(33 missing)" on stderr,
#       the directory still empty (no data file, no resume data);
#   (c) with one piece of the data corrupted: exit 1 within 10 s, "(1 missing)",
#       the file byte-identical to what it was (the piece not fetched again).
# The tracker must never have seen a leecher (none of them announced), and the
# seeder must have uploaded nothing ("0 B uploaded" when it stops).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker cmp find
it_setup

read -r TPORT <<<"$(free_ports 1)"
C=$WORKDIR/content
SIZE=$((2 * 1024 * 1024 + 7))
make_random "$C/data.bin" "$SIZE"
tracked_torrents "$AR" "$TPORT" "http://127.0.0.1:$TPORT/announce" "$WORKDIR/data.torrent|$C/data.bin|64K"
HASH=${TRACKED_HASHES[0]}

note "actorrent seeder of the complete data (tracker on)"
ar_seeder_start "$AR" "$WORKDIR/seeder" "$WORKDIR/data.torrent" "$C"
SEEDER=$BG_LAST
wait_for_tracker_seeds "$TPORT" "$HASH" 1 20
echo "   seeder on port $SEED_PORT, known to the tracker"

# seed_fails NAME DIR NEEDLE: `actorrent seed` into DIR must exit 1 within 10 s
# with NEEDLE on stderr.
seed_fails() {
  local name=$1 dir=$2 needle=$3 rc=0 t0=$SECONDS
  timeout --kill-after=5 30 "$AR" seed "$WORKDIR/data.torrent" "$dir" --port 0 --verbose \
    --peer "127.0.0.1:$SEED_PORT" </dev/null >"$WORKDIR/$name.out" 2>"$WORKDIR/$name.err" || rc=$?
  local took=$((SECONDS - t0))
  if ((rc != 1)); then
    tail -n 20 "$WORKDIR/$name.err" >&2
    fail "$name: actorrent seed exited $rc, not 1"
  fi
  ((took <= 10)) || fail "$name: actorrent seed took ${took}s to fail"
  check_contains "$name: stderr" "$needle" "$(cat "$WORKDIR/$name.err")"
  echo "   ok: $name: exit 1 after ${took}s: $(grep -m1 'cannot seed' "$WORKDIR/$name.err")"
}

note "(a) seed into a directory that does not exist"
seed_fails typo "$WORKDIR/no-such-dir" "all 33 pieces missing"
[[ ! -e "$WORKDIR/no-such-dir" ]] || fail "(a): actorrent seed created $WORKDIR/no-such-dir"
echo "   ok: the directory was not created"

note "(b) seed from an empty directory"
mkdir "$WORKDIR/empty"
seed_fails empty "$WORKDIR/empty" "(33 missing)"
left=$(find "$WORKDIR/empty" -mindepth 1 | head -n 5)
[[ -z "$left" ]] || fail "(b): the empty directory now holds: $left"
echo "   ok: the directory is still empty"

note "(c) seed with one piece corrupted"
mkdir "$WORKDIR/part"
cp "$C/data.bin" "$WORKDIR/part/data.bin"
# one byte of piece 5 flipped
printf '\xff' | dd of="$WORKDIR/part/data.bin" bs=1 seek=$((5 * 65536 + 100)) conv=notrunc status=none
cmp -s "$C/data.bin" "$WORKDIR/part/data.bin" && fail "(c): the corruption did not change the file"
cp "$WORKDIR/part/data.bin" "$WORKDIR/corrupt.bin"
seed_fails part "$WORKDIR/part" "(1 missing)"
cmp "$WORKDIR/corrupt.bin" "$WORKDIR/part/data.bin" || fail "(c): the data file changed"
echo "   ok: the data file is unchanged"

check_eq "leechers the tracker has seen" 0 "$(tracker_count "$TPORT" "$HASH" incomplete)"
check_eq "seeds the tracker knows" 1 "$(tracker_seeds "$TPORT" "$HASH")"
ar_seeder_stop "$SEEDER" "$WORKDIR/seeder"
check_contains "seeder: uploaded" "seeding stopped: 0 B uploaded" "$(tail -n 1 "$WORKDIR/seeder.out")"
echo "PASS: seed_missing (typo, empty and corrupt data: no announce, no download, ${SECONDS}s)"
