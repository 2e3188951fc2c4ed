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
#   (c) three leechers, seeder with --upload-slots 1: the rate as above, and
#       at most two connections served at once (see below).
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

# measure NAME LEECHERS [SEED_ARGS...]: a fresh seeder limited to 2M,
# LEECHERS libtorrent leechers dialling it, the seeder's send rate over the
# window; leaves "RATE SECONDS PER_CONNECTION..." in MEASURED and how many
# connections were sent data at once (sock_active) in ACTIVE.
measure() {
  local name=$1 n=$2 i seeder pids=()
  shift 2
  note "$name: actorrent seed --max-upload-rate 2M $*, $n libtorrent leecher(s)"
  ar_seeder_start "$AR" "$WORKDIR/$name.seed" "$WORKDIR/big.torrent" "$C" --no-trackers --max-upload-rate 2M "$@"
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
  ACTIVE=$(sock_active "$WORKDIR/$name.sockets" "$SEED_PID" 3 10)
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
echo "   default upload slots (4 + 1 optimistic): intervals by connections sent data at once: $ACTIVE"
three_at_once=$(tr ' ' '\n' <<<"$ACTIVE" | awk -F: '$1 >= 3 { n += $2 } END { print n + 0 }')
all=$(tr ' ' '\n' <<<"$ACTIVE" | awk -F: '{ n += $2 } END { print n + 0 }')

# (c) --upload-slots 1: one regular slot and the optimistic one, so at most two
# of the three leechers are served at any time (a third only where the round
# robin hands a slot over). Measured as in (b): in at most a tenth of the
# 0.25 s intervals may three connections have been sent data, where in (b)
# (slots to spare) it was most of them.
measure slots1 3 --upload-slots 1
read -r rate secs per <<<"$MEASURED"
echo "   --upload-slots 1: $rate B/s over ${secs}s (bytes per connection in the window: $per)"
echo "   --upload-slots 1: intervals by connections sent data at once: $ACTIVE"
check_rate "--upload-slots 1, three leechers" "$rate"
three1=$(tr ' ' '\n' <<<"$ACTIVE" | awk -F: '$1 >= 3 { n += $2 } END { print n + 0 }')
all1=$(tr ' ' '\n' <<<"$ACTIVE" | awk -F: '{ n += $2 } END { print n + 0 }')
((three_at_once * 2 > all)) ||
  fail "(b) with slots to spare, three connections were served at once in only $three_at_once of $all intervals"
((three1 * 10 <= all1)) ||
  fail "--upload-slots 1: three connections were served at once in $three1 of $all1 intervals (at most 2 expected)"
echo "   ok: --upload-slots 1: three served at once in $three1 of $all1 intervals (default slots: $three_at_once of $all)"
echo "PASS: upload_rate (--max-upload-rate 2M held within 15% for one and for three leechers; --upload-slots 1 serves two at a time; ${SECONDS}s)"
