#!/usr/bin/env bash
# actorrent downloads correct data although one of its two peers lies: it
# detects the corrupt pieces by their hashes, bans the liar, and gets those
# pieces again from the honest seeder.
#
#   bash download_corrupt.sh ACTORRENT WORKDIR
#
# The liar is peers.py bad-seed, a minimal BitTorrent seeder that flips bytes
# in every block of the pieces it is told to corrupt; the honest one is a
# libtorrent seeder (peers.py lt-seed) whose upload is capped at 3 MB/s so that
# the liar (uncapped) serves much of the torrent, corrupt pieces included.
# actorrent dials both with --peer (the liar first) and --no-trackers.
#   (a) the liar corrupts 8 pieces spread over the file (first and last too)
#   (b) the liar corrupts every piece
# Torrent: one 8 MiB + 1,000 byte file, 64 KiB pieces (129 pieces, the last
# one 1,000 bytes). Checks per case: exit 0 with a final JSON event
# "complete", have_bytes == total_size, the file byte-identical to the source
# (cmp), hash_failures >= 1, banned == 1, and the one address actorrent -v
# reports as banned is the liar's (the honest seeder's never appears),
# and the liar's own log shows that it really sent corrupt blocks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool cmp head
need_libtorrent
it_setup

C=$WORKDIR/content
mkdir -p "$C"
note "content and torrent"
make_random "$C/file.bin" $((8 * 1024 * 1024 + 1000))
with_timeout 60 "$AR" create "$C/file.bin" -t http://127.0.0.1:1/announce -l 64K -o "$WORKDIR/file.torrent" -q ||
  fail "actorrent create exited $?"
check_eq "piece count" 129 "$(with_timeout 30 "$AR" info "$WORKDIR/file.torrent" --json | json_get piece_count)"

# run_case NAME CORRUPT: one liar corrupting CORRUPT (peers.py --corrupt), one
# honest capped libtorrent seeder, both fresh; download and check.
run_case() {
  local name=$1 corrupt=$2 t0=$SECONDS bad_port good_port bad good j hf banned wasted summary
  read -r bad_port good_port <<<"$(free_ports 2)"
  note "$name: liar on 127.0.0.1:$bad_port (--corrupt $corrupt), honest libtorrent on 127.0.0.1:$good_port"
  bg_start 120 "$WORKDIR/$name.bad.log" "$PY" "$PEERS_PY" bad-seed "$WORKDIR/file.torrent" "$C" "$bad_port" \
    --corrupt "$corrupt" --lifetime 110
  bad=$BG_LAST
  lt_seed_start "$WORKDIR/$name.good.log" "$WORKDIR/file.torrent" "$C" "$good_port" --upload-limit 3000000
  good=$BG_LAST
  wait_for_log "$WORKDIR/$name.bad.log" '^ready$' 30 "$bad" "bad-seed ($name)"

  ar_download "$AR" "$WORKDIR/$name" 50 "$WORKDIR/file.torrent" "$WORKDIR/$name.dl" --no-trackers \
    --peer "127.0.0.1:$bad_port" --peer "127.0.0.1:$good_port"
  j=$WORKDIR/$name.json
  bg_stop "$bad" "$good" # they print their summaries on the way out
  summary=$(grep '^bad-seed: served' "$WORKDIR/$name.bad.log") || fail "$name: no summary from bad-seed"
  hf=$(json_last "$j" hash_failures)
  banned=$(json_last "$j" banned)
  wasted=$(json_last "$j" wasted)
  echo "   $name: hash_failures $hf, banned $banned, wasted $wasted bytes, $((SECONDS - t0))s"
  echo "   $name: ${summary#bad-seed: }"
  echo "   $name: $(grep '^lt-seed: uploaded' "$WORKDIR/$name.good.log" || echo 'no lt-seed summary')"
  [[ "$summary" =~ served\ [0-9]+\ blocks,\ ([0-9]+)\ corrupt ]] || fail "$name: cannot read '$summary'"
  ((BASH_REMATCH[1] > 0)) || fail "$name: the liar sent no corrupt block, so the case tests nothing"
  check_eq "$name: have_bytes at the end" "$(json_last "$j" total_size)" "$(json_last "$j" have_bytes)"
  n=$(check_same_content "$C/file.bin" "$WORKDIR/$name.dl/file.bin")
  ((hf >= 1)) || fail "$name: hash_failures is $hf although the liar sent corrupt blocks"
  check_eq "$name: banned peers (the liar only, never the honest seeder)" 1 "$banned"
  # Which peer: actorrent -v reports each ban on stderr as
  # "actorrent: NAME: banned HOST:PORT: why"; the one address must be the liar's.
  # (the same address may be reported again for pieces still in flight from it)
  bans=$(sed -n 's/^actorrent: [^:]*: banned \([^ ]*\): .*$/\1/p' "$WORKDIR/$name.err" | LC_ALL=C sort -u |
    paste -sd ' ')
  check_eq "$name: the addresses banned (actorrent -v stderr)" "127.0.0.1:$bad_port" "$bans"
  if grep -q "banned 127\.0\.0\.1:$good_port:" "$WORKDIR/$name.err"; then
    fail "$name: the honest seeder 127.0.0.1:$good_port was banned"
  fi
  echo "   ok: $name: banned $bans, the honest seeder 127.0.0.1:$good_port never"
  echo "   ok: $name: $n file byte-identical, liar banned"
}

run_case some 0,3,5,40,64,100,127,128
run_case all all
echo "PASS: download_corrupt (a liar corrupting some or all pieces is banned; data byte-identical, ${SECONDS}s)"
