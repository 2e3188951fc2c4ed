#!/usr/bin/env bash
# limits.announces: a tracker that accepts connections and never answers cannot
# make the daemon hold a worker thread per torrent.
#
#   bash daemon_announces.sh ACTORRENT WORKDIR
#
# 40 seeding torrents announce to such a tracker (a Python listener on loopback)
# with limits.announces 4 and the default 10 s request timeout:
#   - in the first 8 s (before any request can time out) the tracker is dialled
#     exactly 4 times, session.stats shows 4 announces in flight and 36 waiting,
#     and the daemon has at most 4 threads more than before the torrents came
#     (without the bound: 40 connections and 40 more threads);
#   - config.set raises the bound to 64 at run time: the waiting announces go out
#     at once (40 connections within 5 s, none waiting);
#   - SIGTERM: the daemon exits 0 (the `stopped` announces do not wait for a turn).
# About 25 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool curl
it_setup

read -r TPORT LPORT APORT <<<"$(free_ports 3)"
ANNOUNCE=http://127.0.0.1:$TPORT/announce
C=$WORKDIR/content
mkdir -p "$C" "$WORKDIR/torrents"
TOKEN=admin-token-0123456789
N=40

note "a silent tracker on $TPORT"
cat >"$WORKDIR/silent_tracker.py" <<'EOF'
# Accepts connections and never answers; writes how many it accepted to a file.
import os, socket, sys, time
port, out, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1024)
s.settimeout(0.05)
held, accepted, end = [], 0, time.time() + secs
def save(n):
    with open(out + ".tmp", "w") as f:
        f.write("%d\n" % n)
    os.replace(out + ".tmp", out)
save(0)
while time.time() < end:
    try:
        c, _ = s.accept()
        held.append(c)
        accepted += 1
        save(accepted)
    except socket.timeout:
        pass
EOF
bg_start 120 "$WORKDIR/tracker.log" "$PY" "$WORKDIR/silent_tracker.py" "$TPORT" "$WORKDIR/accepted" 110
TRACKER_PID=$BG_LAST
wait_until 10 "$TRACKER_PID" "silent tracker" "$WORKDIR/tracker.log" "no count file" test -s "$WORKDIR/accepted"
accepted() { cat "$WORKDIR/accepted"; }

note "$N torrents whose only tracker is the silent one"
for ((i = 0; i < N; i++)); do
  make_random "$C/f$i.bin" $((16 * 1024 + i))
  with_timeout 60 "$AR" create "$C/f$i.bin" -t "$ANNOUNCE" -l 16K -o "$WORKDIR/torrents/t$i.torrent" -q
done

cat >"$WORKDIR/daemon.yaml" <<EOF
listen:
  port: $LPORT
api:
  bind: 127.0.0.1
  port: $APORT
  tokens:
    - {token: "$TOKEN", scopes: [admin]}
paths:
  downloads: $C
  state: $WORKDIR/state
limits:
  active_downloads: 0
  announces: 4
shutdown:
  timeout: 5s
EOF
bg_start 120 "$WORKDIR/daemon.log" "$AR" daemon --config "$WORKDIR/daemon.yaml"
DAEMON_PID=$BG_LAST
wait_for_log "$WORKDIR/daemon.log" '^api_port=' 30 "$DAEMON_PID" "actorrent daemon"
AR_PID=$(pgrep -P "$DAEMON_PID" | head -n1) # bg_start runs it under timeout(1)
[[ -n "$AR_PID" ]] || fail "no daemon process under $DAEMON_PID"
threads() { awk '/^Threads:/ { print $2 }' "/proc/$AR_PID/status"; }
URL=http://127.0.0.1:$APORT
rpc() { # METHOD PARAMS-JSON: the response body
  curl -s -m 20 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$URL/api/v1/rpc"
}
stat_of() { rpc session.stats '{}' | json_get "result.announces.$1"; }
# conditions for wait_until (which runs its command again each time)
waiting_is() { [[ "$(stat_of waiting)" == "$1" ]]; }
accepted_at_least() { (($(accepted) >= $1)); }
BASE_THREADS=$(threads)

T0=$SECONDS
for ((i = 0; i < N; i++)); do
  out=$(rpc torrents.add "{\"path\":\"$WORKDIR/torrents/t$i.torrent\"}")
  [[ "$out" == *'"result"'* ]] || fail "torrents.add t$i: $out"
done
note "all added in $((SECONDS - T0)) s; waiting until every announcer has asked for its turn"
wait_until 15 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon.log" "36 announces waiting" \
  waiting_is $((N - 4))
# sample for a few seconds, still before the first request can time out (10 s)
MAX_THREADS=0
while ((SECONDS - T0 < 7)); do
  t=$(threads)
  ((t > MAX_THREADS)) && MAX_THREADS=$t
  check_eq "announces in flight" 4 "$(stat_of in_flight)"
  sleep 0.3
done
check_eq "connections the tracker accepted in the first 7 s" 4 "$(accepted)"
((MAX_THREADS <= BASE_THREADS + 4)) ||
  fail "the daemon had $MAX_THREADS threads with $N torrents announcing, $BASE_THREADS before (bound 4)"
echo "   ok: 4 in flight, $((N - 4)) waiting, the tracker dialled 4 times; threads $BASE_THREADS -> at most $MAX_THREADS"

note "config.set limits.announces 64: the waiting announces go out at once"
out=$(rpc config.set '{"key":"limits.announces","value":64}')
[[ "$out" == *'"applied"'* ]] || fail "config.set: $out"
wait_until 5 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon.log" "$N connections at the tracker" \
  accepted_at_least "$N"
check_eq "announces waiting" 0 "$(stat_of waiting)"
echo "   ok: $(accepted) connections, none waiting, $(stat_of in_flight) in flight"

note "SIGTERM"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
bg_forget "$DAEMON_PID"
check_eq "daemon exit status" 0 "$rc"
bg_stop "$TRACKER_PID"
note "PASS"
