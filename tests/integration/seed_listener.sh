#!/usr/bin/env bash
# The listening socket of `actorrent seed` (no tracker; --port 0).
#
#   bash seed_listener.sh ACTORRENT WORKDIR
#
# A 1 MiB + 1 byte torrent made by `actorrent create` is seeded by actorrent;
# `peers.py probe` dials it, one connection after another:
#   (a) a handshake for an unknown info-hash: closed at once, nothing sent back;
#   (b) 64 bytes of HTTP (not BitTorrent): closed at once, nothing sent back;
#   (c) nothing at all: still open after 8 s, closed before 14 s (the handshake
#       timeout is 10 s, checked on a 1 s tick);
#   (d) over IPv6 to [::1]:PORT, a handshake for the torrent: answered with a
#       handshake carrying the torrent's info-hash, and kept open (on a machine
#       without a usable ::1, every other check still runs, then the test exits
#       77, "SKIP: ...", so that ctest shows it as skipped, not passed);
#   (e) the same over IPv4, so (a) and (b) cannot pass because nothing works.
# The seeder must still run after all this and exit 143 on SIGTERM. Then a second
# `actorrent seed` on the port the first one holds must exit 1 within 10 s,
# naming the port in a "port N is in use" message on stderr.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool awk
it_setup

C=$WORKDIR/content
note "content and torrent"
make_random "$C/one.bin" $((1024 * 1024 + 1))
with_timeout 60 "$AR" create "$C/one.bin" -t http://127.0.0.1:1/announce -l 32K -o "$WORKDIR/one.torrent" -q ||
  fail "actorrent create exited $?"
HASH=$(ar_info_hash "$AR" "$WORKDIR/one.torrent")

note "actorrent seed --port 0 --no-trackers"
ar_seeder_start "$AR" "$WORKDIR/seed" "$WORKDIR/one.torrent" "$C" --no-trackers
SEED=$BG_LAST
echo "   seeder listens on port $SEED_PORT"

# probe NAME HOST:PORT PROBE_ARGS...: run peers.py probe, output in NAME.out;
# prints its last line.
probe() {
  local name=$1
  shift
  with_timeout 40 "$PY" "$PEERS_PY" probe "$@" >"$WORKDIR/$name.out" 2>&1 ||
    fail "$name: peers.py probe $* exited $? ($(tail -n 1 "$WORKDIR/$name.out"))"
  tail -n 1 "$WORKDIR/$name.out"
}

# check_closed_at_once NAME LINE: LINE says the remote closed within 2 s
# having sent nothing.
check_closed_at_once() {
  [[ "$2" =~ ^closed\ by\ remote\ after\ ([0-9.]+)\ s\ \((eof|reset)\),\ 0\ bytes\ read$ ]] ||
    fail "$1: expected a close with nothing read, got '$2'"
  awk -v t="${BASH_REMATCH[1]}" 'BEGIN { exit !(t < 2) }' || fail "$1: closed only after ${BASH_REMATCH[1]} s"
  echo "   ok: $1: $2"
}

note "(a) a handshake for an unknown info-hash"
other=$(printf '%040d' 7)
[[ "$other" != "$HASH" ]] || fail "the unknown info-hash is the torrent's"
check_closed_at_once unknown-hash "$(probe unknown-hash "127.0.0.1:$SEED_PORT" --send handshake \
  --info-hash "$other" --wait 10)"

note "(b) non-BitTorrent bytes"
check_closed_at_once junk "$(probe junk "127.0.0.1:$SEED_PORT" --send junk --wait 10)"

note "(c) a connection that sends nothing (handshake timeout 10 s)"
line=$(probe silent "127.0.0.1:$SEED_PORT" --send nothing --wait 20)
[[ "$line" =~ ^closed\ by\ remote\ after\ ([0-9.]+)\ s\ \((eof|reset)\),\ 0\ bytes\ read$ ]] ||
  fail "silent: expected a close after the handshake timeout, got '$line'"
awk -v t="${BASH_REMATCH[1]}" 'BEGIN { exit !(t >= 8 && t < 14) }' ||
  fail "silent: closed after ${BASH_REMATCH[1]} s, expected 10 s (8 to 14)"
echo "   ok: silent: $line"

# check_answered NAME HOST:PORT: a handshake for the torrent over HOST:PORT is
# answered with one for the same info-hash and the connection stays open.
check_answered() {
  local line
  line=$(probe "$1" "$2" --send handshake --info-hash "$HASH" --wait 2)
  check_eq "$1: the handshake that came back" "handshake $HASH" "$(head -n 1 "$WORKDIR/$1.out")"
  check_contains "$1: the connection after the handshake" "still open after" "$line"
  echo "   ok: $1: handshake $HASH back, $line"
}

no_ipv6=$(ipv6_loopback_missing) || true
if [[ -z "$no_ipv6" ]]; then
  note "(d) IPv6: a handshake to [::1]:$SEED_PORT"
  check_answered ipv6 "[::1]:$SEED_PORT"
else
  note "(d) IPv6: not checked: $no_ipv6"
fi
note "(e) IPv4: a handshake to 127.0.0.1:$SEED_PORT"
check_answered ipv4 "127.0.0.1:$SEED_PORT"
if [[ -z "$no_ipv6" ]]; then
  grep -qE "^actorrent: one\.bin: closed \[::1\]:[0-9]+: " "$WORKDIR/seed.err" ||
    fail "the seeder's log names no closed [::1] connection (see $WORKDIR/seed.err)"
fi
bg_alive "$SEED" "actorrent seed" "$WORKDIR/seed.err"

note "a second actorrent seed on port $SEED_PORT, which the first one holds"
rc=0
t0=$EPOCHREALTIME
with_timeout 10 "$AR" seed "$WORKDIR/one.torrent" "$C" --port "$SEED_PORT" --no-trackers \
  >"$WORKDIR/busy.out" 2>"$WORKDIR/busy.err" || rc=$?
took=$(seconds_between "$t0" "$EPOCHREALTIME")
check_eq "actorrent seed on a port in use: exit status" 1 "$rc"
msg=$(grep -m1 'error' "$WORKDIR/busy.err" || true)
check_contains "actorrent seed on a port in use: message" "port $SEED_PORT is in use" "$msg"
echo "   ok: exit 1 after ${took}s: $msg"
bg_alive "$SEED" "actorrent seed (the first one)" "$WORKDIR/seed.err"

note "the seeder exits 0 on SIGTERM"
ar_seeder_stop "$SEED" "$WORKDIR/seed"
[[ -z "$no_ipv6" ]] || skip "seed_listener: every check passed but (d), IPv6: $no_ipv6"
echo "PASS: seed_listener (unknown info-hash, junk, silent, IPv6, port in use; ${SECONDS}s)"
