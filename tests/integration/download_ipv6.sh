#!/usr/bin/env bash
# A whole download over IPv6 loopback: actorrent is given only --peer [::1]:PORT.
#
#   bash download_ipv6.sh ACTORRENT WORKDIR
#
# Skipped (exit 77, "SKIP: ..."; ctest reports it as skipped) only when the
# machine has no usable ::1 (not on lo, or a socket cannot listen on [::1]).
#
# The torrent, made by `actorrent create` with 32 KiB pieces and no tracker, is
# make_tree's tree (4,277,312 bytes in ten files, four of them empty, nested
# directories, a name with spaces and UTF-8, a last piece shorter than the
# others). Two sources, one after another, each downloaded into its own
# directory by `actorrent download --peer [::1]:PORT --no-trackers`:
#   (a) `actorrent seed` (--port 0: one socket for IPv4 and IPv6), its upload
#       held to 1 MiB/s so that the transfer lasts a few seconds. While it
#       runs, `ss -6` must show the downloader's process (by PID) holding an
#       established TCP connection [::1]:N -> [::1]:PORT; afterwards the
#       seeder's log must name that same [::1]:N when the connection closes,
#       and no IPv4 (or IPv4-mapped) peer at all. An IPv4 fallback fails here.
#   (b) python3-libtorrent (peers.py lt-seed --listen ::1), listening on
#       [::1]:PORT only: ss must show that listening socket and no IPv4 one on
#       the port, a connect to 127.0.0.1:PORT must be refused, and its log must
#       name the incoming connection from [::1].
# Checks for each download: exit 0 with a final JSON event "complete",
# have_bytes == total_size, no hash failures, every file byte-identical to the
# source (cmp; the same files, none missing or extra), the empty files exist
# and are empty, and the downloader logged no failed connect. The actorrent
# seeder must exit 0 on SIGTERM.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool cmp find ss grep sed
need_libtorrent
if why=$(ipv6_loopback_missing); then
  skip "no IPv6 loopback on this machine: $why"
fi
it_setup

C=$WORKDIR/content
T=$WORKDIR/tree.torrent
note "content and torrent (no tracker)"
make_tree "$C/tree"
with_timeout 60 "$AR" create "$C/tree" -l 32K -o "$T" -q || fail "actorrent create exited $?"
with_timeout 30 "$AR" info --json "$T" >"$WORKDIR/info.json" || fail "actorrent info --json exited $?"
TOTAL=$(json_get total_size <"$WORKDIR/info.json")
PLEN=$(json_get piece_length <"$WORKDIR/info.json")
NFILES=$(json_get files <"$WORKDIR/info.json" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
((NFILES > 1)) || fail "the torrent has $NFILES file(s), expected several"
((TOTAL % PLEN != 0)) || fail "$TOTAL bytes in pieces of $PLEN: the last piece is not shorter"
echo "   $NFILES files, $TOTAL bytes, pieces of $PLEN bytes, the last one $((TOTAL % PLEN)) bytes"

# check_download NAME DIR: the checks of every download (see the top).
check_download() {
  local name=$1 dir=$2 n e
  check_eq "$name: hash_failures" 0 "$(json_last "$WORKDIR/$name.json" hash_failures)"
  if grep -E 'connect to .* failed' "$WORKDIR/$name.err" >&2; then
    fail "$name: the downloader logged a failed connect (above)"
  fi
  n=$(check_same_content "$C/tree" "$dir/tree")
  e=$(check_empty_files "$C/tree" "$dir/tree")
  echo "   ok: $name: $n files ($e of them empty) byte-identical to the source"
}

# ss_conns PID PORT: the established TCP connections of process PID to PORT,
# one "LOCAL PEER" a line (both families).
ss_conns() {
  timeout 10 ss -tnpH state established "( dport = :$2 )" |
    awk -v p="pid=$1," 'index($0, p) { print $3, $4 }'
}

note "(a) actorrent seed --port 0 --no-trackers --max-upload-rate 1M"
ar_seeder_start "$AR" "$WORKDIR/seed" "$T" "$C" --no-trackers --max-upload-rate 1M
SEED=$BG_LAST
timeout 10 ss -6 -tlnH "( sport = :$SEED_PORT )" | grep -q . ||
  fail "ss -6 shows no IPv6 socket listening on port $SEED_PORT"
echo "   seeder listens on port $SEED_PORT (IPv6 socket: $(timeout 10 ss -6 -tlnH "( sport = :$SEED_PORT )" | awk '{ print $4 }'))"

note "(a) actorrent download --peer [::1]:$SEED_PORT"
t0=$EPOCHREALTIME
ar_download_start "$AR" "$WORKDIR/dl-ar" 60 "$T" "$WORKDIR/dl-ar" --peer "[::1]:$SEED_PORT" --no-trackers
DL=$BG_LAST
DL_PID=$(bg_child "$DL")
# Watch the downloader's sockets until it has one to the seeder (bounded by
# 30 s, and by the downloader's exit: then the connection was never seen).
conns=
end=$((SECONDS + 30))
while [[ -z "$conns" ]]; do
  conns=$(ss_conns "$DL_PID" "$SEED_PORT") || fail "ss failed"
  [[ -n "$conns" ]] && break
  kill -0 "$DL_PID" 2>/dev/null || fail "the downloader exited before ss saw its connection to port $SEED_PORT"
  ((SECONDS < end)) || fail "ss saw no connection of the downloader (pid $DL_PID) to port $SEED_PORT within 30s"
  sleep 0.1
done
[[ $(wc -l <<<"$conns") -eq 1 ]] || fail "the downloader holds several connections to port $SEED_PORT: $conns"
read -r local_ep peer_ep <<<"$conns"
check_eq "(a) the downloader's connection: remote end" "[::1]:$SEED_PORT" "$peer_ep"
[[ "$local_ep" =~ ^\[::1\]:([0-9]+)$ ]] || fail "(a) the downloader's connection: local end '$local_ep' is not [::1]:N"
DL_LPORT=${BASH_REMATCH[1]}
echo "   ok: ss: the downloader (pid $DL_PID) holds $local_ep -> $peer_ep"
ar_download_finish "$DL" "$WORKDIR/dl-ar"
echo "   downloaded in $(seconds_between "$t0" "$EPOCHREALTIME")s"
check_download dl-ar "$WORKDIR/dl-ar"
grep -qE "^actorrent: tree: closed \[::1\]:$SEED_PORT: " "$WORKDIR/dl-ar.err" ||
  fail "(a) the downloader's log names no closed connection to [::1]:$SEED_PORT (see $WORKDIR/dl-ar.err)"
# The seeder notes the close once it reads the downloader's EOF.
wait_for_log "$WORKDIR/seed.err" "^actorrent: tree: closed \[::1\]:$DL_LPORT: " 10 "$SEED" "actorrent seed"
if grep -E 'closed ([0-9]+\.|\[::ffff:)' "$WORKDIR/seed.err" >&2; then
  fail "(a) the seeder had an IPv4 peer (above)"
fi
echo "   ok: the seeder's log: $(grep -m1 -E "closed \[::1\]:$DL_LPORT: " "$WORKDIR/seed.err" | sed 's/^actorrent: //')"
bg_alive "$SEED" "actorrent seed" "$WORKDIR/seed.err"
ar_seeder_stop "$SEED" "$WORKDIR/seed"

read -r LT_PORT <<<"$(free_ports 1 ::1 127.0.0.1)"
note "(b) libtorrent seeding on [::1]:$LT_PORT only (peers.py lt-seed --listen ::1)"
lt_seed_start "$WORKDIR/lt.log" "$T" "$C" "$LT_PORT" --listen ::1
LT=$BG_LAST
grep -qF "successfully listening on [TCP] [::1]:$LT_PORT" "$WORKDIR/lt.log" ||
  fail "(b) lt-seed did not report listening on [::1]:$LT_PORT (see $WORKDIR/lt.log)"
listen6=$(timeout 10 ss -6 -tlnH "( sport = :$LT_PORT )" | awk '{ print $4 }')
[[ "$listen6" =~ ^\[::1\](%lo)?:$LT_PORT$ ]] ||
  fail "(b) ss -6: expected one socket listening on [::1]:$LT_PORT, got '$listen6'"
listen4=$(timeout 10 ss -4 -tlnH "( sport = :$LT_PORT )")
[[ -z "$listen4" ]] || fail "(b) ss -4: something listens on IPv4 port $LT_PORT: $listen4"
if timeout 5 bash -c ">/dev/tcp/127.0.0.1/$LT_PORT" 2>/dev/null; then
  fail "(b) 127.0.0.1:$LT_PORT accepts a connection: the libtorrent seeder is not IPv6-only"
fi
echo "   ok: it listens on $listen6 only (127.0.0.1:$LT_PORT refuses)"

note "(b) actorrent download --peer [::1]:$LT_PORT"
t0=$EPOCHREALTIME
ar_download "$AR" "$WORKDIR/dl-lt" 60 "$T" "$WORKDIR/dl-lt" --peer "[::1]:$LT_PORT" --no-trackers
echo "   downloaded in $(seconds_between "$t0" "$EPOCHREALTIME")s"
check_download dl-lt "$WORKDIR/dl-lt"
grep -qE "incoming connection from \[::1\]:[0-9]+ \(TCP\)" "$WORKDIR/lt.log" ||
  fail "(b) lt-seed logged no incoming connection from [::1] (see $WORKDIR/lt.log)"
echo "   ok: lt-seed: $(grep -m1 -E "incoming connection from \[::1\]" "$WORKDIR/lt.log" | cut -d' ' -f3-)"
bg_alive "$LT" "libtorrent seeder" "$WORKDIR/lt.log"
bg_stop "$LT"
up=$(sed -n 's/^lt-seed: uploaded [0-9]* bytes (payload \([0-9]*\)).*/\1/p' "$WORKDIR/lt.log")
if [[ -z "$up" ]] || ((up < TOTAL)); then
  fail "(b) lt-seed uploaded a payload of '$up' bytes, expected at least $TOTAL"
fi
echo "   ok: lt-seed uploaded $up payload bytes"
echo "PASS: download_ipv6 (from actorrent and from libtorrent over [::1], ${SECONDS}s)"
