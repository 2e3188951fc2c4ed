#!/usr/bin/env bash
# A swarm of actorrents only: one seeder and six leechers, all on loopback,
# all learning about each other from opentracker.
#
#   bash swarm_actorrent.sh ACTORRENT WORKDIR
#
# The seeder (`actorrent seed`) starts first; once the tracker counts it as a
# seed, the six leechers (`actorrent download --seed`, so that each keeps
# serving the others after it completes) are started together, each with its
# own port and directory. None is given --peer: every address comes from the
# tracker (a leecher that announces early learns the later ones when they
# dial it).
# Content: one 64 MiB + 12,345 byte file, 256 KiB pieces (257 pieces).
#
# Checks: each leecher reports "complete" within the time bound, with no hash
# failure and nobody banned, and its file is byte-identical to the original
# (cmp). Then every actorrent is stopped with SIGINT, and from its last JSON
# line (event "stopped") the test computes how much of the leechers' payload
# came from each other rather than from the seeder:
#     share = 1 - seeder.uploaded / sum(leecher.downloaded)
# and fails if it is below SWARM_MIN_SHARE (default 0.50). It also checks that
# the counters add up: every leecher downloaded at least total_size, and
# sum(leecher.downloaded) <= seeder.uploaded + sum(leecher.uploaded) (every
# byte received was sent; the excess, printed, is what was sent but dropped by
# its receiver: blocks it had cancelled, or in flight when a link closed). As
# the seeder's count includes such bytes, the share is if anything low.
# A shutdown that needs actorrent's 5 s watchdog (actors still up 5 s after
# SIGINT) is a failure.
#
# The seeder is the scarce resource, as in a real swarm: it keeps its default
# upload slots (4 + 1 optimistic) and is capped at SWARM_SEED_RATE (default
# 16M, bytes/s), so it alone would need ~25 s to give six leechers 64 MiB
# each, while one copy leaves it in ~4 s. Leechers that trade finish long
# before that, and most of the payload flows between them (ideal share 5/6).
# Without the cap the seeder fed all six from memory in about a second, before
# they had found each other, and the share was timing noise (0.28-0.73).
# The floor of 0.50 fails a swarm where leechers only take from the seeder
# (share 0) or barely trade.
# SWARM_SEED_SLOTS=N passes --upload-slots N to the seeder.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker cmp head
need_libtorrent
it_setup

LEECHERS=6
MIN_SHARE=${SWARM_MIN_SHARE:-0.50}
SEED_ARGS=(--max-upload-rate "${SWARM_SEED_RATE:-16M}")
[[ -z "${SWARM_SEED_SLOTS:-}" ]] || SEED_ARGS+=(--upload-slots "$SWARM_SEED_SLOTS")
read -r TPORT SPORT LPORTS <<<"$(free_ports $((LEECHERS + 2)))"
read -r -a LPORTS <<<"$LPORTS"
ANNOUNCE=http://127.0.0.1:$TPORT/announce
C=$WORKDIR/content

note "content and torrent (announce $ANNOUNCE)"
make_random "$C/swarm.bin" $((64 * 1024 * 1024 + 12345))
tracked_torrents "$AR" "$TPORT" "$ANNOUNCE" "$WORKDIR/swarm.torrent|$C/swarm.bin|256K"
H=${TRACKED_HASHES[0]}

note "actorrent seeder on :$SPORT ${SEED_ARGS[*]}"
ar_seed_start "$AR" "$WORKDIR/seeder" 150 "$WORKDIR/swarm.torrent" "$C" --port "$SPORT" "${SEED_ARGS[@]}"
SPID=$BG_LAST
wait_for_tracker_seeds "$TPORT" "$H" 1 30

note "six actorrent leechers (download --seed) on ports ${LPORTS[*]}"
t0=$SECONDS
LPIDS=()
for ((i = 0; i < LEECHERS; i++)); do
  ar_download_start "$AR" "$WORKDIR/leecher$i" 90 "$WORKDIR/swarm.torrent" "$WORKDIR/dl$i" \
    --port "${LPORTS[i]}" --seed
  LPIDS+=("$BG_LAST")
done
for ((i = 0; i < LEECHERS; i++)); do
  wait_for_log "$WORKDIR/leecher$i.json" '"event":"complete"' 90 "${LPIDS[i]}" "leecher $i"
done
secs=$((SECONDS - t0))
echo "   all $LEECHERS leechers complete ${secs}s after they started"
bg_alive "$SPID" "the seeder" "$WORKDIR/seeder.err"

note "stopping every actorrent with SIGINT"
stop_t0=$(date +%s%N)
bg_signal_stop INT "${LPIDS[@]}" "$SPID"
echo "   all stopped in $((($(date +%s%N) - stop_t0) / 1000000)) ms"
# actorrent's watchdog exits (with the right status) when its actors are not
# down 5 s after the stop: that is a shutdown hang, and a failure.
hung=$(grep -l 'did not shut down within' "$WORKDIR"/*.err || true)
if [[ -n "$hung" ]]; then
  fail "shutdown watchdog fired (actors still up 5 s after SIGINT) in:" \
    "$(echo $hung | xargs -n1 basename | tr '\n' ' ')"
fi
echo "   ok: no shutdown watchdog fired"
names=(leecher{0..5} seeder)
pids=("${LPIDS[@]}" "$SPID")
for ((i = 0; i <= LEECHERS; i++)); do
  check_eq "${names[i]}: exit status after SIGINT" 130 "${BG_STATUS[${pids[i]}]}"
  check_eq "${names[i]}: event of the last JSON line" stopped "$(json_last "$WORKDIR/${names[i]}.json" event)"
done

note "each leecher's data"
for ((i = 0; i < LEECHERS; i++)); do
  J=$WORKDIR/leecher$i.json
  check_eq "leecher $i: complete" true "$(json_last "$J" complete)"
  check_eq "leecher $i: hash_failures" 0 "$(json_last "$J" hash_failures)"
  check_eq "leecher $i: banned" 0 "$(json_last "$J" banned)"
  check_same_content "$C/swarm.bin" "$WORKDIR/dl$i/swarm.bin" >/dev/null
done

note "where the leechers' data came from"
timeout 30 "$PY" - "$WORKDIR" "$LEECHERS" "$MIN_SHARE" <<'PYEOF' || fail "swarm share check failed (see above)"
import json, sys
work, n, floor = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def last(name):
    lines = [l for l in open("%s/%s.json" % (work, name)) if l.strip()]
    return json.loads(lines[-1])
seeder = last("seeder")
down = up = 0
for i in range(n):
    j = last("leecher%d" % i)
    print("   leecher %d: downloaded %10d  uploaded %10d  peers at the end %d"
          % (i, j["downloaded"], j["uploaded"], j["peers"]))
    down += j["downloaded"]
    up += j["uploaded"]
total = seeder["total_size"]
print("   seeder:    uploaded %10d (%.2f copies of %d bytes)"
      % (seeder["uploaded"], seeder["uploaded"] / total, total))
print("   leechers:  downloaded %d in all (%.2f copies), uploaded %d to each other"
      % (down, down / total, up))
ok = True
if down < n * total:
    print("FAIL: the leechers downloaded %d bytes, less than %d x %d" % (down, n, total))
    ok = False
sent = seeder["uploaded"] + up
print("   sent but not counted by a receiver (cancelled, or in flight at a close): %d (%.1f %%)"
      % (sent - down, 100.0 * (sent - down) / down))
if down > sent:
    print("FAIL: the leechers received %d bytes, more than the %d that all sent" % (down, sent))
    ok = False
share = 1 - seeder["uploaded"] / down
print("   share of the leechers' payload from other leechers: %.3f (floor %.2f)" % (share, floor))
if share < floor:
    print("FAIL: share %.3f below %.2f" % (share, floor))
    ok = False
sys.exit(0 if ok else 1)
PYEOF
echo "PASS: swarm_actorrent ($LEECHERS leechers byte-identical in ${secs}s; ${SECONDS}s in all)"
