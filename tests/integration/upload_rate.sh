#!/usr/bin/env bash
# `actorrent seed --max-upload-rate 2M` holds its limit, for one leecher and
# for several sharing it.
#
#   bash upload_rate.sh ACTORRENT WORKDIR
#
# Content: one 64 MiB file, 256 KiB pieces: at 2 MiB/s no leecher can finish
# within the measurement. Leechers are python3-libtorrent (peers.py lt-leech,
# no limit of their own) given the seeder with --peer; no tracker.
#   (a) one leecher;
#   (b) three leechers at once (a fresh seeder).
# The rate is what the kernel counts as sent and acknowledged on the seeder's
# TCP connections (ss, sampled every 0.25 s: payload plus a little protocol
# overhead), over 10 s starting 3 s after the seeder has sent its first
# 256 KiB. Checks: that rate is within +-15% of 2 MiB/s (2,097,152 B/s) in
# both cases, and in (b) every leecher got at least a sixth of it (the limit is
# shared, not taken by one).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool ss awk
need_libtorrent
it_setup

LIMIT=$((2 * 1024 * 1024))
C=$WORKDIR/content
note "content and torrent"
make_random "$C/big.bin" $((64 * 1024 * 1024))
with_timeout 60 "$AR" create "$C/big.bin" -t http://127.0.0.1:1/announce -l 256K -o "$WORKDIR/big.torrent" -q ||
  fail "actorrent create exited $?"

# measure NAME LEECHERS: a fresh seeder limited to 2M, LEECHERS libtorrent
# leechers dialling it, the seeder's send rate over the window; leaves
# "RATE SECONDS PER_CONNECTION..." in MEASURED.
measure() {
  local name=$1 n=$2 i seeder pids=()
  note "$name: actorrent seed --max-upload-rate 2M, $n libtorrent leecher(s)"
  ar_seeder_start "$AR" "$WORKDIR/$name.seed" "$WORKDIR/big.torrent" "$C" --no-trackers --max-upload-rate 2M
  seeder=$BG_LAST
  sock_watch_start "$WORKDIR/$name.sockets" 60
  local watch=$SOCK_WATCH
  for ((i = 0; i < n; i++)); do
    bg_start 60 "$WORKDIR/$name.leech$i.log" "$PY" "$PEERS_PY" lt-leech "$WORKDIR/big.torrent" \
      "$WORKDIR/$name.dl$i" --peer "127.0.0.1:$SEED_PORT" --lifetime 50
    pids+=("$BG_LAST")
  done
  # 256 KiB to start, 3 s skipped, 10 s measured, and a margin
  sleep 16
  for i in "${pids[@]}"; do bg_alive "$i" "lt-leech" "$WORKDIR/$name.leech0.log"; done
  bg_stop "$watch"
  MEASURED=$(sock_send_rate "$WORKDIR/$name.sockets" "$SEED_PID" 3 10)
  bg_stop "${pids[@]}"
  ar_seeder_stop "$seeder" "$WORKDIR/$name.seed"
}

# check_rate NAME RATE: RATE within +-15% of LIMIT.
check_rate() {
  awk -v r="$2" -v l="$LIMIT" 'BEGIN { exit !(r >= 0.85 * l && r <= 1.15 * l) }' ||
    fail "$1: the seeder sent $2 B/s, not within 15% of the limit $LIMIT B/s"
  echo "   ok: $1: $2 B/s = $(awk -v r="$2" -v l="$LIMIT" 'BEGIN { printf "%.3f", r / l }') x the limit"
}

measure one 1
read -r rate secs per <<<"$MEASURED"
echo "   one leecher: $rate B/s over ${secs}s (per connection: $per)"
check_rate "one leecher" "$rate"

measure three 3
read -r rate secs per <<<"$MEASURED"
echo "   three leechers: $rate B/s over ${secs}s (bytes per connection in the window: $per)"
check_rate "three leechers together" "$rate"
read -r -a shares <<<"$per"
check_eq "connections that received data in the window" 3 "${#shares[@]}"
total=0
for s in "${shares[@]}"; do total=$((total + s)); done
for s in "${shares[@]}"; do
  ((s * 6 >= total)) || fail "three leechers: one got $s of $total bytes in the window, less than a sixth"
done
echo "   ok: each of the three got at least a sixth of the rate"
echo "PASS: upload_rate (--max-upload-rate 2M held within 15% for one and for three leechers; ${SECONDS}s)"
