#!/usr/bin/env bash
# actorrent daemon: a YAML file, the JSON-RPC API, the watch directory, a
# download from a libtorrent seeder, SIGTERM and a restart without re-hashing.
#
#   bash daemon.sh ACTORRENT WORKDIR
#
# Checks, in order:
#   - bad configurations exit 2 naming the key, the line and the column
#     (unknown key, wrong type, out of range, bad environment override);
#   - the daemon starts from a YAML file (one override from the environment);
#     /healthz and /readyz answer without a token;
#   - no token: 401; a read token calling a control method: 403; a foreign
#     Host header: 400; bad JSON, an unknown method, bad params, an unknown id:
#     JSON-RPC errors -32700, -32601, -32602, -32004 (and the daemon lives on);
#   - torrents.add (base64) returns the v1 info-hash as id, the same on re-add;
#     a .torrent dropped in the watch directory is added (renamed *.added), a
#     bad one is moved aside as *.bad with *.reason beside it;
#   - the torrent downloads from a libtorrent seeder found through opentracker,
#     byte-identical; list (fields, filter), get, files, peers, trackers,
#     session.stats; stop -> paused, start -> seeding;
#   - the quiet seed goes to sleep (seeding.sleep_after 1 s: no actor, still
#     listed as seeding) and a libtorrent leecher that dials the daemon wakes
#     it and downloads the whole torrent, verified;
#   - config.get shows value and source (file, env, api), config.set persists
#     in the state directory (the YAML file is unchanged), config.reload dry_run;
#   - the change feed (SSE) holds the download's added, downloading and completed
#     events and resumes after Last-Event-ID; /metrics passes promtool and a real
#     Prometheus scrapes it with a bearer token (each a SKIP line when missing);
#   - SIGTERM: exit 0 within the bound, the log reports the clean stop;
#   - restart: both torrents are back, the downloaded one seeding with 0 pieces
#     hashed (resume data trusted), and the API change is still in force.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker cmp curl base64
need_libtorrent
it_setup

read -r TPORT SPORT LPORT APORT <<<"$(free_ports 4)"
ANNOUNCE=http://127.0.0.1:$TPORT/announce
C=$WORKDIR/content
STATE=$WORKDIR/state
DL=$WORKDIR/downloads
WATCH=$WORKDIR/watch
mkdir -p "$C" "$DL" "$WATCH"
ADMIN=admin-token-0123456789
READER=read-token-0123456789

note "content, torrents, opentracker on $TPORT"
make_random "$C/big.bin" $((6 * 1024 * 1024 + 777))
make_random "$C/small.bin" $((300 * 1024))
tracked_torrents "$AR" "$TPORT" "$ANNOUNCE" "$WORKDIR/big.torrent|$C/big.bin|256K" \
  "$WORKDIR/small.torrent|$C/small.bin|64K"
H1=${TRACKED_HASHES[0]}
H2=${TRACKED_HASHES[1]}

write_config() {
  cat >"$1" <<EOF
listen:
  port: $LPORT
api:
  bind: 127.0.0.1
  port: $APORT
  tokens:
    - {token: "$ADMIN", scopes: [admin]}
    - {token: "$READER", scopes: [read]}
paths:
  downloads: $DL
  state: $STATE
  watch: $WATCH
limits:
  peers_global: 100
  active_downloads: 2
  unchoke_slots: 8
seeding:
  sleep_after: 1s
shutdown:
  timeout: 5s
watch:
  interval: 1s
EOF
}
CONF=$WORKDIR/daemon.yaml
write_config "$CONF"
cp "$CONF" "$WORKDIR/daemon.yaml.orig"

# ---- bad configurations -------------------------------------------------------------
bad_config() { # NAME EXPECTED-TEXT [ENV=VALUE...]: the daemon refuses to start with exit 2
  local name=$1 expected=$2 rc=0
  shift 2
  env "$@" timeout 20 "$AR" daemon --config "$WORKDIR/$name.yaml" >"$WORKDIR/$name.out" 2>&1 || rc=$?
  check_eq "bad config $name: exit status" 2 "$rc"
  check_contains "bad config $name: message" "$expected" "$(cat "$WORKDIR/$name.out")"
  echo "   ok: $name: $(head -n1 "$WORKDIR/$name.out")"
}
note "bad configurations exit 2 with key, line and column"
sed 's/  peers_global: 100/  peers_globl: 100/' "$CONF" >"$WORKDIR/unknown.yaml"
bad_config unknown "line 14, column 3: key 'limits.peers_globl': unknown key (did you mean 'limits.peers_global'?)"
sed 's/  active_downloads: 2/  active_downloads: two/' "$CONF" >"$WORKDIR/type.yaml"
bad_config type "line 15, column 21: key 'limits.active_downloads': expected an integer"
sed "s/  port: $LPORT/  port: 70000/" "$CONF" >"$WORKDIR/range.yaml"
bad_config range "line 2, column 9: key 'listen.port': expected a port from 0 to 65535, got '70000'"
cp "$CONF" "$WORKDIR/envbad.yaml"
bad_config envbad "environment ACTORRENT_LIMITS__PEERS_GLOBAL: key 'limits.peers_global'" \
  ACTORRENT_LIMITS__PEERS_GLOBAL=lots
[[ ! -e "$STATE" ]] || fail "a refused configuration created the state directory"

# ---- the daemon --------------------------------------------------------------------------
DAEMON_PID=
start_daemon() { # LOG
  bg_start 240 "$1" env ACTORRENT_LIMITS__PEERS_GLOBAL=123 "$AR" daemon --config "$CONF"
  DAEMON_PID=$BG_LAST
  wait_for_log "$1" '^api_port=' 30 "$DAEMON_PID" "actorrent daemon"
}

URL=http://127.0.0.1:$APORT
# rpc TOKEN METHOD PARAMS-JSON: the response body (HTTP errors included)
rpc() {
  curl -s -m 20 -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$URL/api/v1/rpc"
}
# http_code ARGS...: only the HTTP status of a curl call
http_code() { curl -s -m 20 -o /dev/null -w '%{http_code}' "$@"; }
result() { # TOKEN METHOD PARAMS KEY: one value of the result (fails on a JSON-RPC error)
  local out
  out=$(rpc "$1" "$2" "$3")
  [[ "$out" == *'"result"'* ]] || fail "$2 $3: $out"
  json_get "result${4:+.$4}" <<<"$out"
}
state_of() { result "$READER" torrents.get "{\"id\":\"$1\",\"fields\":[\"state\"]}" state; }
progress_of() { result "$READER" torrents.get "{\"id\":\"$1\",\"fields\":[\"progress\"]}" progress; }
wait_state() { # ID STATE SECONDS
  local end=$((SECONDS + $3)) s=
  while ((SECONDS < end)); do
    s=$(state_of "$1")
    [[ "$s" == "$2" ]] && return 0
    bg_alive "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon1.log"
    sleep 0.2
  done
  fail "torrent $1: state '$s', expected '$2' within $3 s"
}

note "the daemon starts from $CONF (peers $LPORT, API $APORT)"
start_daemon "$WORKDIR/daemon1.log"
check_eq "GET /healthz" 200 "$(http_code "$URL/healthz")"
wait_until 20 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon1.log" "no /readyz 200" \
  test "$(http_code "$URL/readyz")" = 200

note "authentication, Host header and bad requests"
check_eq "no token" 401 "$(http_code -X POST --data '{}' "$URL/api/v1/rpc")"
check_eq "unknown token" 401 "$(http_code -H 'Authorization: Bearer nope-nope-nope-nope' -X POST --data '{}' \
  "$URL/api/v1/rpc")"
check_eq "read token, control method" 403 "$(http_code -H "Authorization: Bearer $READER" \
  --data '{"jsonrpc":"2.0","id":1,"method":"torrents.stop","params":{"ids":["'"$H1"'"]}}' "$URL/api/v1/rpc")"
check_eq "foreign Host header" 400 "$(http_code -H 'Host: evil.example' -H "Authorization: Bearer $ADMIN" \
  --data '{"jsonrpc":"2.0","id":1,"method":"session.stats"}' "$URL/api/v1/rpc")"
out=$(curl -s -m 20 -H "Authorization: Bearer $ADMIN" --data '{"jsonrpc": "2.0", "id": 1, "method"' "$URL/api/v1/rpc")
check_eq "bad JSON" -32700 "$(json_get error.code <<<"$out")"
check_eq "unknown method" -32601 "$(rpc "$ADMIN" torrents.explode '{}' | json_get error.code)"
check_eq "bad params" -32602 "$(rpc "$ADMIN" torrents.list '{"limit":"ten"}' | json_get error.code)"
check_eq "bad id" -32602 "$(rpc "$ADMIN" torrents.get '{"id":"xyz"}' | json_get error.code)"
check_eq "unknown id" -32004 "$(rpc "$ADMIN" torrents.get "{\"id\":\"$(printf '%040d' 0)\"}" | json_get error.code)"
check_eq "not a torrent" -32010 "$(rpc "$ADMIN" torrents.add "{\"metainfo\":\"$(printf 'hello' | base64 -w0)\"}" |
  json_get error.code)"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$WORKDIR/big.body"
check_eq "body over api.max_body" 413 "$(http_code -H "Authorization: Bearer $ADMIN" --data-binary "@$WORKDIR/big.body" \
  "$URL/api/v1/rpc")"
bg_alive "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon1.log"
echo "   ok: 401, 403, 400 (Host), -32700, -32601, -32602, -32004, -32010, 413; the daemon lives on"

note "libtorrent seeder on $SPORT (through the tracker)"
lt_seed_start "$WORKDIR/seed.log" "$WORKDIR/big.torrent" "$C" "$SPORT" --tracker
SEED=$BG_LAST
wait_for_tracker_seeds "$TPORT" "$H1" 1 10

note "torrents.add through the API, twice"
B64=$(base64 -w0 "$WORKDIR/big.torrent")
ID=$(result "$ADMIN" torrents.add "{\"metainfo\":\"$B64\",\"labels\":[\"linux\"]}" id)
check_eq "torrents.add id" "$H1" "$ID"
check_eq "torrents.add again: same id" "$H1" "$(result "$ADMIN" torrents.add "{\"metainfo\":\"$B64\"}" id)"
check_eq "torrents.add again: not added" false "$(result "$ADMIN" torrents.add "{\"metainfo\":\"$B64\"}" added)"

note "the watch directory: one good .torrent, one bad"
cp "$WORKDIR/small.torrent" "$WATCH/small.torrent"
printf 'd4:infoi3ee' >"$WATCH/broken.torrent"
wait_until 20 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon1.log" "the watched torrent was not added" \
  test -e "$WATCH/small.torrent.added"
wait_until 20 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon1.log" "broken.torrent was not moved aside" \
  test -e "$WATCH/broken.torrent.reason"
[[ -e "$WATCH/broken.torrent.bad" ]] || fail "broken.torrent.bad missing"
echo "   ok: broken.torrent.reason: $(cat "$WATCH/broken.torrent.reason")"
check_eq "the watched torrent is listed" "$H2" "$(result "$READER" torrents.get "{\"id\":\"$H2\",\"fields\":[\"id\"]}" id)"

note "the download from the libtorrent seeder"
wait_state "$H1" seeding 90
check_eq "progress" 1 "$(progress_of "$H1" | sed 's/\.0$//')"
cmp "$C/big.bin" "$DL/big.bin" || fail "downloaded data differs from the source"
echo "   ok: $(stat -c %s "$DL/big.bin") bytes byte-identical"

note "list, get, files, peers, trackers, stats"
out=$(rpc "$READER" torrents.list '{"fields":["id","name","state","progress"],"sort":"name","limit":1}')
check_eq "list page size" 1 "$(json_get result.torrents <<<"$out" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check_eq "list next_cursor" 1 "$(json_get result.next_cursor <<<"$out")"
check_eq "list total" 2 "$(json_get result.total <<<"$out")"
check_eq "list filter label" "$H1" "$(result "$READER" torrents.list '{"filter":{"label":"linux"}}' torrents.0.id)"
for f in id name state progress size down_rate up_rate peers ratio eta labels save_path error; do
  result "$READER" torrents.get "{\"id\":\"$H1\"}" "$f" >/dev/null
done
check_eq "files" big.bin "$(result "$READER" torrents.files "{\"id\":\"$H1\"}" files.0.path)"
result "$READER" torrents.peers "{\"id\":\"$H1\"}" peers >/dev/null
check_eq "trackers" "$ANNOUNCE" "$(result "$READER" torrents.trackers "{\"id\":\"$H1\"}" tiers.0.0)"
check_eq "stats: torrents" 2 "$(result "$READER" session.stats '{}' torrents.total)"
echo "   ok: list (fields, sort, limit, cursor, label filter), get, files, peers, trackers, session.stats"

note "stop and start"
result "$ADMIN" torrents.stop "{\"ids\":[\"$H1\"]}" >/dev/null
wait_state "$H1" paused 10
result "$ADMIN" torrents.start "{\"ids\":[\"$H1\"]}" >/dev/null
wait_state "$H1" seeding 10
result "$ADMIN" torrents.reannounce "{\"ids\":[\"$H1\"]}" >/dev/null
echo "   ok: paused, seeding again"

note "a sleeping torrent wakes for a peer"
asleep_of() { result "$READER" torrents.get "{\"id\":\"$1\",\"fields\":[\"asleep\"]}" asleep; }
end=$((SECONDS + 30))
while [[ "$(asleep_of "$H1")" != true ]]; do
  ((SECONDS < end)) || fail "torrent $H1 did not go to sleep within 30 s (sleep_after 1 s)"
  bg_alive "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon1.log"
  sleep 0.2
done
check_eq "a sleeping seed is listed as seeding" seeding "$(state_of "$H1")"
wakes=$(result "$READER" session.stats '{}' torrents.wakes)
mkdir -p "$WORKDIR/leech"
bg_start 90 "$WORKDIR/leech.log" "$PY" "$PEERS_PY" lt-leech "$WORKDIR/big.torrent" "$WORKDIR/leech" \
  --peer "127.0.0.1:$LPORT" --lifetime 80
leech=$BG_LAST
rc=0
wait "$leech" || rc=$?
bg_forget "$leech"
[[ $rc == 0 ]] || fail "the libtorrent leecher did not get the torrent from the sleeping seed: $(tail -5 "$WORKDIR/leech.log")"
cmp "$C/big.bin" "$WORKDIR/leech/big.bin" || fail "the leecher's copy differs from the source"
woke=$(result "$READER" session.stats '{}' torrents.wakes)
((woke > wakes)) || fail "session.stats torrents.wakes did not grow ($wakes -> $woke)"
echo "   ok: asleep while quiet, woken by a dialling libtorrent leecher, which got all $(stat -c %s "$WORKDIR/leech/big.bin") bytes"

note "change feed (SSE) and metrics"
[[ "$(http_code "$URL/api/v1/events")" == 401 ]] || fail "/api/v1/events without a token is not 401"
[[ "$(http_code "$URL/metrics")" == 401 ]] || fail "/metrics without a token is not 401"
# everything the feed still holds: the adds and the state changes of this run
feed=$(curl -s -N -m 4 -H "Authorization: Bearer $READER" "$URL/api/v1/events?cursor=0" || true)
grep -q '^event: added' <<<"$feed" || fail "the change feed has no 'added' event: ${feed:0:400}"
grep -q "\"id\":\"$H1\"" <<<"$feed" || fail "the change feed does not name $H1"
grep -q '"state":"paused"' <<<"$feed" || fail "the change feed has no change to paused"
last=$(grep '^id: ' <<<"$feed" | tail -1 | cut -d' ' -f2)
[[ -n "$last" ]] || fail "the change feed's events have no ids"
# resumed after the last id: nothing old comes again
again=$(curl -s -N -m 3 -H "Authorization: Bearer $READER" -H "Last-Event-ID: $last" "$URL/api/v1/events" || true)
! grep -q '^event: added' <<<"$again" || fail "resuming after id $last sent the old events again"
metrics=$(curl -s -m 20 -H "Authorization: Bearer $READER" "$URL/metrics")
grep -q '^actorrent_torrents{state="seeding"} [1-9]' <<<"$metrics" \
  || fail "/metrics has no seeding torrent: $(grep -m3 actorrent_torrents <<<"$metrics")"
grep -q '^actorrent_api_requests_total{.*method="torrents.list"' <<<"$metrics" || fail "/metrics counts no torrents.list call"
# the engine's own counters moved with the download, the stop and the start
metric() { awk -v k="$1" '$1 == k { print $2 }' <<<"$metrics"; }
positive() {
  local v
  v=$(metric "$1")
  awk -v v="$v" 'BEGIN { exit !(v != "" && v + 0 > 0) }' || fail "/metrics: $1 is '$v', expected > 0"
}
for series in 'actorrent_protocol_bytes_total{direction="download"}' 'actorrent_protocol_bytes_total{direction="upload"}' \
  'actorrent_peer_connection_attempts_total{result="connected"}' 'actorrent_tracker_announces_total{result="ok"}' \
  'actorrent_pieces_verified_total{result="pass"}' 'actorrent_disk_bytes_total{direction="write"}' \
  'actorrent_hash_check_duration_seconds_count' 'actorrent_disk_operation_duration_seconds_count{op="write"}'; do
  positive "$series"
done
# torrents.stop closed the connection to the seeder: a disconnect with its reason
disconnects=$(awk '/^actorrent_peer_disconnects_total\{/ { n += $2 } END { print n + 0 }' <<<"$metrics")
[[ "$disconnects" -ge 1 ]] || fail "/metrics counts no peer disconnect: $(grep '^actorrent_peer_disconnects_total' <<<"$metrics")"
payload=$(metric 'actorrent_payload_bytes_total{direction="download"}')
proto=$(metric 'actorrent_protocol_bytes_total{direction="download"}')
awk -v p="$payload" -v q="$proto" 'BEGIN { exit !(q < p) }' || fail "protocol bytes ($proto) not below payload ($payload)"
echo "   ok: engine counters: protocol bytes $proto down / $(metric 'actorrent_protocol_bytes_total{direction="upload"}') up" \
  "beside $payload payload, $disconnects disconnects ($(grep '^actorrent_peer_disconnects_total' <<<"$metrics" |
  awk '$2 > 0 { sub(/.*reason="/, "", $1); sub(/".*/, "", $1); printf "%s%s=%s", s, $1, $2; s = "," }')), " \
  "$(metric 'actorrent_hash_check_duration_seconds_count') hash batches"
grep -q '^event: completed' <<<"$feed" || fail "the change feed has no 'completed' event for the download"
grep '^data: ' <<<"$feed" | grep '"type":"completed"' | grep -q "\"id\":\"$H1\"" \
  || fail "the change feed's 'completed' event does not name $H1"
grep -q '"state":"downloading"' <<<"$feed" || fail "the change feed has no change to downloading"
if command -v promtool >/dev/null; then
  promtool check metrics <<<"$metrics" || fail "promtool check metrics refused the daemon's /metrics"
  echo "   ok: feed (added, downloading, completed, paused, resumed by Last-Event-ID), metrics (seeding torrents, API calls; promtool)"
else
  echo "   SKIP: promtool is not installed (Debian prometheus); the feed and the metrics' content were checked"
fi
if command -v prometheus >/dev/null; then
  prom_start "127.0.0.1:$APORT" "$READER"
  seeding=$(prom_query 'actorrent_torrents{state="seeding"}' | prom_value)
  [[ -n "$seeding" && "$seeding" -ge 1 ]] || fail "Prometheus read actorrent_torrents{state=\"seeding\"} = '$seeding'"
  hashed=$(prom_query 'actorrent_hash_check_duration_seconds_count' | prom_value)
  [[ -n "$hashed" && "$hashed" -ge 1 ]] || fail "Prometheus read actorrent_hash_check_duration_seconds_count = '$hashed'"
  closes=$(prom_query 'sum(actorrent_peer_disconnects_total)' | prom_value)
  [[ -n "$closes" && "$closes" -ge 1 ]] || fail "Prometheus read sum(actorrent_peer_disconnects_total) = '$closes'"
  bg_stop "$PROM_PID"
  echo "   ok: a real Prometheus scraped the daemon with a bearer token (up = 1, $seeding seeding, $hashed hash batches, $closes disconnects)"
else
  echo "   SKIP: prometheus is not installed (Debian prometheus): no real scrape"
fi

note "config.get / config.set / config.reload"
check_eq "source of a file key" file "$(result "$READER" config.get '{"key":"limits.active_downloads"}' source)"
check_eq "source of an env key" env "$(result "$READER" config.get '{"key":"limits.peers_global"}' source)"
check_eq "value of an env key" 123 "$(result "$READER" config.get '{"key":"limits.peers_global"}' value)"
check_eq "the global unchoke cap" 8 "$(result "$READER" config.get '{"key":"limits.unchoke_slots"}' value)"
check_eq "config.set needs admin" -32002 "$(rpc "$READER" config.set '{"key":"limits.active_seeds","value":7}' |
  json_get error.code)"
result "$ADMIN" config.set '{"key":"limits.active_seeds","value":7}' applied >/dev/null
check_eq "source after config.set" api "$(result "$READER" config.get '{"key":"limits.active_seeds"}' source)"
cmp "$CONF" "$WORKDIR/daemon.yaml.orig" || fail "the daemon rewrote its YAML file"
sed -i 's/  active_downloads: 2/  active_downloads: 3/; s/  port: '"$LPORT"'/  port: 0/' "$CONF"
out=$(result "$ADMIN" config.reload '{"dry_run":true}' "")
check_contains "reload dry run: runtime" '"would_apply":["limits.active_downloads"]' "$out"
check_contains "reload dry run: restart" '"needs_restart":["listen.port"]' "$out"
check_eq "dry run changed nothing" 2 "$(result "$READER" config.get '{"key":"limits.active_downloads"}' value)"
kill -HUP "$DAEMON_PID"
wait_for_log "$WORKDIR/daemon1.log" 'SIGHUP: reloaded' 10 "$DAEMON_PID" "actorrent daemon"
check_eq "SIGHUP applied" 3 "$(result "$READER" config.get '{"key":"limits.active_downloads"}' value)"
write_config "$CONF"
echo "   ok: sources file/env/api, config.set persisted, file untouched, dry run, SIGHUP"

note "SIGTERM"
t0=$SECONDS
bg_stop "$DAEMON_PID"
rc=${BG_STATUS[$DAEMON_PID]}
check_eq "daemon exit status after SIGTERM" 0 "$rc"
grep -q 'shutdown: 2 torrent(s) stopped cleanly' "$WORKDIR/daemon1.log" ||
  fail "no clean-shutdown line in daemon1.log"
[[ -s "$STATE/resume/$H1.resume" ]] || fail "no resume data for $H1"
[[ -s "$STATE/config-api.json" ]] || fail "config.set was not persisted"
echo "   ok: exit 0 in $((SECONDS - t0)) s; $(grep -m1 'shutdown: ' "$WORKDIR/daemon1.log" | sed 's/^actorrent daemon: //')"

note "restart: restored from resume data, no re-hash"
start_daemon "$WORKDIR/daemon2.log"
wait_until 30 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon2.log" "no /readyz 200" \
  test "$(http_code "$URL/readyz")" = 200
wait_state "$H1" seeding 30
check_eq "pieces hashed at restart" 0 "$(result "$READER" torrents.get "{\"id\":\"$H1\"}" check.pieces_hashed)"
check_eq "pieces verified at restart" 25 "$(result "$READER" torrents.get "{\"id\":\"$H1\"}" check.pieces_verified)"
check_eq "restored flag" true "$(result "$READER" torrents.get "{\"id\":\"$H1\"}" restored)"
check_eq "labels kept" '["linux"]' "$(result "$READER" torrents.get "{\"id\":\"$H1\"}" labels)"
check_eq "the API change survives" api "$(result "$READER" config.get '{"key":"limits.active_seeds"}' source)"
line=$(grep -m1 "restored big.bin ($H1)" "$WORKDIR/daemon2.log" || true)
check_contains "restore log line" "0 hashed (resume data trusted, no re-hash)" "$line"
echo "   ok: ${line#actorrent daemon: }"

note "torrents.remove with delete_data"
result "$ADMIN" torrents.remove "{\"ids\":[\"$H2\"],\"delete_data\":true}" >/dev/null
wait_until 15 "$DAEMON_PID" "actorrent daemon" "$WORKDIR/daemon2.log" "small.bin was not deleted" \
  test ! -e "$DL/small.bin"
check_eq "removed torrent" -32004 "$(rpc "$READER" torrents.get "{\"id\":\"$H2\"}" | json_get error.code)"
bg_stop "$DAEMON_PID"
check_eq "second daemon exit status" 0 "${BG_STATUS[$DAEMON_PID]}"
bg_alive "$SEED" "libtorrent seeder" "$WORKDIR/seed.log"
echo "PASS: daemon (YAML config, API, watch directory, libtorrent download, SIGTERM, restart without re-hash, ${SECONDS}s)"
