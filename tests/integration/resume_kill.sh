#!/usr/bin/env bash
# actorrent is killed (SIGKILL) several times during a download and restarted
# on the same directory; with its resume data it must lose nothing that was
# valid on disk, and a restart after completion must hash nothing.
#
#   bash resume_kill.sh ACTORRENT WORKDIR
#   RESUME_KILL_SEED=12345 bash resume_kill.sh ACTORRENT WORKDIR   # replay
#
# A python3-libtorrent seeder capped at 4 MB/s serves a two-file torrent (about
# 48 MiB, 256 KiB pieces, a piece spanning the file boundary) so that one
# download takes about 12 s. The actorrent leecher (--json-progress, the seeder
# given with --peer, no trackers) is killed with SIGKILL 3 or 4 times, each
# time at a random point: once its JSON progress shows a random fraction of the
# data (drawn in one of 3-4 equal slices of 5 %-85 %), plus a random 0-0.9 s.
# The draws come from a seed that is printed (RESUME_KILL_SEED replays the
# same kill points; the network timing still varies).
#
# Checks:
#  - after each kill, before restarting, the pieces that are complete and valid
#    on disk are computed here (hashlib against the .torrent's hashes); they
#    include every piece valid after the previous kill (nothing valid is lost),
#    and the restarted run's "checked" JSON event reports resumed_pieces equal
#    to their count: a valid piece the restart did not find would be
#    downloaded a second time;
#  - the last run completes (event "complete", no hash failures) and the files
#    are byte-identical to the originals;
#  - payload the seeder sent in all (its own count, libtorrent's
#    total_payload_upload, which is exact, unlike the leecher's last JSON line
#    before a kill, up to 1 s old) <= total_size + kills x 6.75 MiB. The bound
#    per kill is what a kill can throw away: blocks requested and not yet part
#    of a verified piece on disk. actorrent keeps at most 400 requests of
#    16 KiB (6.25 MiB, peer_connection's max_queue_depth) outstanding at one
#    peer, and the blocks already received that are not yet verified belong to
#    the pieces those requests span, at most 2 pieces (0.5 MiB) beyond them,
#    given that one peer's requests go through pieces in order. The
#    measured waste is printed (typically well below the bound);
#  - a clean restart of the complete download with `actorrent seed` (no peers,
#    no trackers) reports resumed_pieces == pieces_total and reads almost
#    nothing: its read bytes (rchar in /proc/PID/io, which counts every read
#    and pread, the start-up check's included) stay below 1 % of the data,
#    while the same command with the resume data moved away must read all of
#    it (the first, full check). The times until "checked" are printed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool cmp head
need_libtorrent
it_setup

SEED=${RESUME_KILL_SEED:-$(( $(date +%s%N) % 1000000 ))}
RANDOM=$SEED
KILLS=$((3 + RANDOM % 2))
echo "   kill seed $SEED (replay: RESUME_KILL_SEED=$SEED), $KILLS kills"
RATE=4000000
PER_KILL=$((400 * 16384 + 2 * 262144))

read -r LPORT MYPORT <<<"$(free_ports 2)"
C=$WORKDIR/content
DL=$WORKDIR/dl
note "content and torrent"
make_random "$C/data/first.bin" $((30 * 1024 * 1024 + 100003))
make_random "$C/data/second.bin" $((18 * 1024 * 1024 + 777))
with_timeout 60 "$AR" create "$C/data" -t http://127.0.0.1:1/announce -l 256K -o "$WORKDIR/r.torrent" -q ||
  fail "actorrent create exited $?"
H=$(ar_info_hash "$AR" "$WORKDIR/r.torrent")
RESUME=$DL/.actorrent/$H.resume

note "libtorrent seeder on :$LPORT, capped at $RATE B/s"
lt_seed_start "$WORKDIR/lt.log" "$WORKDIR/r.torrent" "$C" "$LPORT" --upload-limit "$RATE"
LTPID=$BG_LAST

# kill points: one random fraction (in 1/1000) in each of KILLS equal slices of 50-850
TARGETS=()
for ((k = 0; k < KILLS; k++)); do
  lo=$((50 + 800 * k / KILLS))
  hi=$((50 + 800 * (k + 1) / KILLS))
  TARGETS+=($((lo + RANDOM % (hi - lo))))
done
echo "   kill points (per mille of the data): ${TARGETS[*]}"

prev_valid=""
expect=0
t0=$SECONDS
for ((run = 0; run <= KILLS; run++)); do
  name=$WORKDIR/run$run
  ar_download_start "$AR" "$name" 60 "$WORKDIR/r.torrent" "$DL" --port "$MYPORT" --no-trackers \
    --peer "127.0.0.1:$LPORT"
  pid=$BG_LAST
  child=$(bg_child "$pid")
  wait_for_log "$name.json" '"event":"checked"' 30 "$pid" "run $run"
  resumed=$(json_event "$name.json" checked resumed_pieces)
  total=$(json_event "$name.json" checked total_size)
  check_eq "run $run: resumed_pieces in the 'checked' event (valid pieces on disk)" "$expect" "$resumed"
  if ((run == KILLS)); then
    ar_download_finish "$pid" "$name"
    echo "   run $run: resumed $resumed pieces, completed; downloaded $(json_last "$name.json" downloaded) bytes"
    break
  fi
  target=$((total / 1000 * TARGETS[run]))
  while :; do
    line=$(tail -n 1 "$name.json")
    [[ "$line" != *'"event":"complete"'* ]] || fail "run $run completed before its kill point"
    hb=$(json_get have_bytes <<<"$line" 2>/dev/null) || hb=0 # a line still being written
    ((hb < target)) || break
    bg_alive "$pid" "run $run" "$name.err"
    sleep 0.1
  done
  jitter=$((RANDOM % 10))
  sleep "0.$jitter"
  kill -KILL "$child"
  rc=0
  wait "$pid" || rc=$?
  bg_forget "$pid"
  check_eq "run $run: exit status of timeout after SIGKILL of actorrent" 137 "$rc"
  valid=$(valid_pieces "$WORKDIR/r.torrent" "$DL")
  expect=$(awk -F, '{print NF}' <<<"$valid")
  timeout 30 "$PY" -c '
import sys
prev = set(filter(None, sys.argv[1].split(","))); now = set(filter(None, sys.argv[2].split(",")))
sys.exit("pieces valid before run %s but not after its kill: %s" % (sys.argv[3], sorted(prev - now)[:20]) if prev - now else 0)
' "$prev_valid" "$valid" "$run" || fail "a kill lost valid pieces"
  prev_valid=$valid
  echo "   run $run: resumed $resumed, killed at >= ${TARGETS[run]}/1000 + 0.${jitter}s; $expect pieces valid on disk;" \
    "last JSON line: downloaded $(json_last "$name.json" downloaded), have_bytes $(json_last "$name.json" have_bytes);" \
    "resume data $([[ -f "$RESUME" ]] && echo present || echo absent)"
done
secs=$((SECONDS - t0))
check_eq "hash_failures of the last run" 0 "$(json_last "$WORKDIR/run$KILLS.json" hash_failures)"
n=$(check_same_content "$C/data" "$DL/data")
echo "   $n files byte-identical after $KILLS kills (${secs}s)"

note "payload the seeder sent over all runs"
bg_stop "$LTPID"
sent=$(sed -n 's/^lt-seed: uploaded [0-9]* bytes (payload \([0-9]*\)).*/\1/p' "$WORKDIR/lt.log")
[[ -n "$sent" ]] || fail "no summary line from the libtorrent seeder in $WORKDIR/lt.log"
bound=$((total + KILLS * PER_KILL))
echo "   seeder sent $sent payload bytes for $total: $((sent - total)) wasted by $KILLS kills" \
  "($(((sent - total) / KILLS)) per kill; bound $PER_KILL per kill)"
((sent >= total)) || fail "the seeder sent $sent bytes, less than the $total bytes of the torrent"
((sent <= bound)) || fail "the seeder sent $sent bytes, more than $total + $KILLS x $PER_KILL = $bound"

# seed_check NAME: `actorrent seed` of the complete download (no peers, no
# trackers); at its "checked" event sets SC_PIECES (resumed_pieces), SC_READ
# (rchar: bytes it has read) and SC_MS (milliseconds since the start); then
# stops it with SIGINT.
seed_check() {
  local name=$WORKDIR/$1 start pid child
  start=$(date +%s%N)
  ar_seed_start "$AR" "$name" 60 "$WORKDIR/r.torrent" "$DL" --port "$MYPORT" --no-trackers
  pid=$BG_LAST
  child=$(bg_child "$pid")
  wait_for_log "$name.json" '"event":"checked"' 30 "$pid" "seed ($1)"
  SC_READ=$(sed -n 's/^rchar: //p' "/proc/$child/io")
  SC_MS=$((($(date +%s%N) - start) / 1000000))
  SC_PIECES=$(json_event "$name.json" checked resumed_pieces)
  bg_signal_stop INT "$pid"
  check_eq "seed ($1): event of the last JSON line" stopped "$(json_last "$name.json" event)"
}

note "clean restart of the complete download with resume data"
pieces=$(json_last "$WORKDIR/run$KILLS.json" pieces_total)
seed_check seed_resumed
read -r res_pieces res_read res_ms <<<"$SC_PIECES $SC_READ $SC_MS"
echo "   resumed $res_pieces of $pieces pieces, read $res_read bytes, 'checked' after ${res_ms} ms"
note "the same with the resume data moved away (a full check)"
mv "$DL/.actorrent" "$WORKDIR/resume-aside"
seed_check seed_full
read -r full_pieces full_read full_ms <<<"$SC_PIECES $SC_READ $SC_MS"
echo "   found $full_pieces of $pieces pieces, read $full_read bytes, 'checked' after ${full_ms} ms"
check_eq "resumed_pieces of the clean restart" "$pieces" "$res_pieces"
check_eq "pieces found by the full check" "$pieces" "$full_pieces"
((full_read >= total)) || fail "the full check read $full_read bytes, less than the $total bytes of data"
((res_read * 100 < total)) || fail "the restart with resume data read $res_read bytes (>= 1 % of $total): it hashed"
echo "PASS: resume_kill ($KILLS kills, seed $SEED, $n files byte-identical, $((sent - total)) bytes wasted;" \
  "restart read $res_read bytes in ${res_ms} ms vs $full_read in ${full_ms} ms; ${SECONDS}s in all)"
