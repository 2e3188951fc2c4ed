#!/usr/bin/env bash
# `actorrent download --max-download-rate 2M` holds its limit, shared across
# the peers it downloads from.
#
#   bash download_rate.sh ACTORRENT WORKDIR
#
# Content: one 48 MiB file, 256 KiB pieces: at 2 MiB/s the download takes
# ~24 s, longer than the measurement. Seeders are python3-libtorrent
# (peers.py lt-seed), given to actorrent with --peer; no tracker.
#   (a) two unlimited seeders;
#   (b) two seeders, one of them capped at 256 KiB/s by its own upload limit:
#       the share it cannot use goes to the other one (max-min fair split).
# The rate is what the kernel counts as received on actorrent's TCP
# connections (ss, sampled every 0.25 s), over 10 s starting 3 s after it had
# received its first 256 KiB. Checks: within +-15% of 2 MiB/s (2,097,152 B/s)
# in both cases; in (a) each seeder delivered at least a quarter of it; in (b)
# the capped seeder no more than its cap (+15%) and the rate still held.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool ss awk
need_libtorrent
it_setup

LIMIT=$((2 * 1024 * 1024))
C=$WORKDIR/content
note "content and torrent"
make_random "$C/big.bin" $((48 * 1024 * 1024))
with_timeout 60 "$AR" create "$C/big.bin" -t http://127.0.0.1:1/announce -l 256K -o "$WORKDIR/big.torrent" -q ||
  fail "actorrent create exited $?"

# measure NAME [SEEDER2 OPTIONS...]: two libtorrent seeders (the second with
# the options), an actorrent download limited to 2M from both; leaves "RATE
# SECONDS PER_CONNECTION..." in MEASURED.
measure() {
  local name=$1 s1 s2 dl pid i
  shift
  read -r P1 P2 <<<"$(free_ports 2)"
  note "$name: actorrent download --max-download-rate 2M from two libtorrent seeders${*:+ (second: $*)}"
  lt_seed_start "$WORKDIR/$name.seed1.log" "$WORKDIR/big.torrent" "$C" "$P1"
  s1=$BG_LAST
  lt_seed_start "$WORKDIR/$name.seed2.log" "$WORKDIR/big.torrent" "$C" "$P2" "$@"
  s2=$BG_LAST
  sock_watch_start "$WORKDIR/$name.sockets" 60
  local watch=$SOCK_WATCH
  ar_download_start "$AR" "$WORKDIR/$name" 50 "$WORKDIR/big.torrent" "$WORKDIR/$name.dl" --no-trackers \
    --max-download-rate 2M --peer "127.0.0.1:$P1" --peer "127.0.0.1:$P2"
  dl=$BG_LAST
  pid=
  for ((i = 0; i < 50; i++)); do
    pid=$(child_pid "$dl")
    [[ -z "$pid" ]] || break
    sleep 0.1
  done
  [[ -n "$pid" ]] || fail "no actorrent process under timeout (pid $dl)"
  # 256 KiB to start, 3 s skipped, 10 s measured, and a margin
  sleep 16
  bg_alive "$dl" "actorrent download" "$WORKDIR/$name.err"
  bg_stop "$watch"
  MEASURED=$(sock_recv_rate "$WORKDIR/$name.sockets" "$pid" 3 10)
  bg_stop "$dl" "$s1" "$s2"
}

# check_rate NAME RATE: RATE within +-15% of LIMIT.
check_rate() {
  awk -v r="$2" -v l="$LIMIT" 'BEGIN { exit !(r >= 0.85 * l && r <= 1.15 * l) }' ||
    fail "$1: actorrent received $2 B/s, not within 15% of the limit $LIMIT B/s"
  echo "   ok: $1: $2 B/s = $(awk -v r="$2" -v l="$LIMIT" 'BEGIN { printf "%.3f", r / l }') x the limit"
}

measure equal
read -r rate secs a b rest <<<"$MEASURED"
echo "   two seeders: $rate B/s over ${secs}s (bytes per connection in the window: $a ${b:-})"
check_rate "two unlimited seeders" "$rate"
[[ -n "${b:-}" && -z "${rest:-}" ]] || fail "two seeders: expected two connections with data in the window, got: $a ${b:-} ${rest:-}"
total=$((a + b))
((b * 4 >= total)) || fail "two seeders: one delivered $b of $total bytes, less than a quarter (the limit is not shared)"
echo "   ok: both seeders delivered at least a quarter ($a and $b bytes)"

CAP=$((256 * 1024))
measure capped --upload-limit "$CAP"
read -r rate secs a b rest <<<"$MEASURED"
echo "   one seeder capped at $CAP B/s: $rate B/s over ${secs}s (bytes per connection: $a ${b:-})"
check_rate "one seeder capped, the other takes its share" "$rate"
[[ -n "${b:-}" ]] || fail "capped: the capped seeder delivered nothing in the window"
awk -v x="$b" -v s="$secs" -v c="$CAP" 'BEGIN { exit !(x / s <= 1.15 * c) }' ||
  fail "capped: the smaller connection delivered $b bytes in ${secs}s, more than the cap $CAP B/s (+15%)"
echo "   ok: the capped seeder delivered $(awk -v x="$b" -v s="$secs" 'BEGIN { printf "%.0f", x / s }') B/s, the other the rest"
echo "PASS: download_rate (--max-download-rate 2M held within 15% from two seeders, shared, and with one slow seeder; ${SECONDS}s)"
