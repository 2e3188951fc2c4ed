#!/usr/bin/env bash
# The change feed over HTTP (api/event_feed.*, GET /api/v1/events as Server-Sent
# Events) with curl against metrics_demo (the daemon will take its place): bearer
# token required; a malformed cursor is a 400; a live stream receives published
# events as id/event/data lines and heartbeat comments; a new connection resumes after
# an id (Last-Event-ID header and ?cursor=); a cursor older than the ring gets an
# explicit reset event; a stream past the limit is a 503; SIGTERM with streams open
# stops the server within a few seconds, ending the streams.
#
# Usage: events_sse.sh ACTORRENT WORKDIR. metrics_demo is $METRICS_DEMO (set by
# tests/CMakeLists.txt), else next to the build's top directory. About 10 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_args "$@"
it_setup
DEMO=${METRICS_DEMO:-$(cd "$(dirname "$AR")/.." && pwd)/metrics_demo}
[[ -x "$DEMO" ]] || fail "metrics_demo not found at $DEMO (ninja metrics_demo)"
need_tool curl

TOKEN=s3cret-token
bg_start 120 "$WORKDIR/demo.log" "$DEMO" --port 0 --token "$TOKEN" --heartbeat-ms 300 \
  --ring 5 --max-streams 2 --first-seq 1000
DEMO_PID=$BG_LAST
PORT=
for ((i = 0; i < 100; i++)); do
  PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORKDIR/demo.log")
  [[ -n "$PORT" ]] && break
  sleep 0.1
done
[[ -n "$PORT" ]] || fail "metrics_demo did not say where it listens: $(cat "$WORKDIR/demo.log")"
URL="http://127.0.0.1:$PORT/api/v1/events"
AUTH="Authorization: Bearer $TOKEN"

# status URL CURL_ARGS...: the HTTP status of a short request.
status() {
  local url=$1
  shift
  timeout 10 curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true
}
# publish JSON: publish one event; prints its seq.
publish() {
  timeout 10 curl -sS --max-time 5 -H "$AUTH" -H 'Content-Type: application/json' \
    --data-binary "$1" "http://127.0.0.1:$PORT/demo/publish" | json_get seq
}
# open_streams: how many event streams the server holds open now.
open_streams() {
  timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$PORT/demo/streams" | json_get open
}
# wait_streams N: wait (bounded, 5 s) until the server holds N streams open. A stream
# whose client went away is noticed at the server's next write (a heartbeat or two).
wait_streams() {
  local k
  for ((k = 0; k < 50; k++)); do
    [[ "$(open_streams)" == "$1" ]] && return 0
    sleep 0.1
  done
  fail "the server still holds $(open_streams) stream(s) open, expected $1"
}
# read_for SECONDS CURL_ARGS...: what the stream sends in SECONDS (curl's --max-time
# ends it: exit 28 is expected).
read_for() {
  local secs=$1
  shift
  wait_streams 1 # the live stream only, so this one is not refused
  timeout $((secs + 5)) curl -sS -N --max-time "$secs" -H "$AUTH" "$@" 2>/dev/null || true
}
# ids TEXT: the id: values of the events in TEXT, space-separated.
ids() { sed -n 's/^id: //p' <<<"$1" | tr '\n' ' ' | sed 's/ $//'; }

check_eq "no token" 401 "$(status "$URL")"
check_eq "wrong token" 401 "$(status "$URL" -H 'Authorization: Bearer nope')"
check_eq "malformed Last-Event-ID" 400 "$(status "$URL" -H "$AUTH" -H 'Last-Event-ID: 12abc')"
check_eq "malformed cursor" 400 "$(status "$URL?cursor=-1" -H "$AUTH")"
note "401 without the token, 400 on a malformed cursor"

# A live stream, open while events are published.
timeout 120 curl -sS -N --max-time 90 -H "$AUTH" -D "$WORKDIR/live.headers" "$URL" \
  >"$WORKDIR/live.txt" 2>"$WORKDIR/live.err" &
LIVE_PID=$!
BG_PIDS+=("$LIVE_PID")
for ((i = 0; i < 50; i++)); do
  grep -q '^retry: ' "$WORKDIR/live.txt" 2>/dev/null && break
  sleep 0.1
done
grep -q '^retry: 3000$' "$WORKDIR/live.txt" || fail "the stream did not start with retry: $(cat "$WORKDIR/live.txt")"
grep -qi '^content-type: text/event-stream' "$WORKDIR/live.headers" ||
  fail "wrong Content-Type: $(cat "$WORKDIR/live.headers")"
S1=$(publish '{"type":"added","id":"aa11","name":"first"}')
S2=$(publish '{"type":"state","id":"aa11","state":"seeding"}')
S3=$(publish '{"type":"completed","id":"aa11"}')
check_eq "sequence numbers" "1000 1001 1002" "$S1 $S2 $S3"
for ((i = 0; i < 50; i++)); do
  grep -q '^id: 1002$' "$WORKDIR/live.txt" && break
  sleep 0.1
done
LIVE=$(cat "$WORKDIR/live.txt")
check_eq "ids on the live stream" "1000 1001 1002" "$(ids "$LIVE")"
check_contains "first event" $'id: 1000\nevent: added\ndata: {"id":"aa11","name":"first","type":"added"}\n' "$LIVE"
check_contains "second event" $'event: state\ndata: {"id":"aa11","state":"seeding","type":"state"}' "$LIVE"
sleep 0.8
check_contains "heartbeat comment" $'\n: heartbeat\n' "$(cat "$WORKDIR/live.txt")"
note "live stream: 3 events in order, then heartbeats"

# Two streams are the limit: the live one and one more; a third is refused.
timeout 120 curl -sS -N --max-time 90 -H "$AUTH" "$URL" >"$WORKDIR/second.txt" 2>&1 &
SECOND_PID=$!
BG_PIDS+=("$SECOND_PID")
for ((i = 0; i < 50; i++)); do
  grep -q '^retry: ' "$WORKDIR/second.txt" 2>/dev/null && break
  sleep 0.1
done
check_eq "third stream" 503 "$(status "$URL" -H "$AUTH")"
kill "$SECOND_PID" 2>/dev/null || true
wait "$SECOND_PID" 2>/dev/null || true
bg_forget "$SECOND_PID"
# the server notices the closed stream at its next heartbeat write
wait_streams 1
check_eq "a stream in the slot given back" 200 "$(status "$URL?cursor=1002" -H "$AUTH" --max-time 1)"
note "503 past 2 streams; a closed stream's slot comes back"

# Resume after an id: with Last-Event-ID, and with ?cursor=.
R=$(read_for 1 -H "Last-Event-ID: 1000" "$URL")
check_eq "resume with Last-Event-ID: 1000" "1001 1002" "$(ids "$R")"
R=$(read_for 1 "$URL?cursor=1001")
check_eq "resume with ?cursor=1001" "1002" "$(ids "$R")"
R=$(read_for 1 "$URL?cursor=0")
check_eq "cursor=0: everything held" "1000 1001 1002" "$(ids "$R")"
note "resumed after 1000 and 1001; cursor=0 replays the ring"

# The ring holds 5: after 5 more events, 1000..1002 are gone.
for n in 1 2 3 4 5; do publish "{\"type\":\"stats\",\"n\":$n}" >/dev/null; done
R=$(read_for 1 -H "Last-Event-ID: 1000" "$URL")
check_contains "reset for a cursor older than the ring" \
  $'id: 1007\nevent: reset\ndata: {"latest":1007,"oldest":1003,"reason":"cursor_too_old","type":"reset"}' "$R"
R=$(read_for 1 "$URL?cursor=1002") # exactly the newest dropped: still complete
check_eq "resume at the ring's edge" "1003 1004 1005 1006 1007" "$(ids "$R")"
R=$(read_for 1 "$URL?cursor=99999")
check_contains "reset for a cursor from elsewhere" '"reason":"unknown_cursor"' "$R"
note "reset events for old and unknown cursors"

# The live stream got everything too, in order.
for ((i = 0; i < 50; i++)); do
  grep -q '^id: 1007$' "$WORKDIR/live.txt" && break
  sleep 0.1
done
check_eq "ids on the live stream" "1000 1001 1002 1003 1004 1005 1006 1007" "$(ids "$(cat "$WORKDIR/live.txt")")"

# SIGTERM with the live stream open: the server stops and the stream ends.
T0=$(date +%s%N)
bg_stop "$DEMO_PID"
T1=$(date +%s%N)
check_eq "metrics_demo exit status after SIGTERM" 0 "${BG_STATUS[$DEMO_PID]}"
MS=$(((T1 - T0) / 1000000))
((MS < 5000)) || fail "stopping took ${MS} ms with a stream open"
for ((i = 0; i < 50; i++)); do
  kill -0 "$LIVE_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$LIVE_PID" 2>/dev/null && fail "the live stream did not end when the server stopped"
wait "$LIVE_PID" 2>/dev/null || true
bg_forget "$LIVE_PID"
grep -q 'stream(s) served' "$WORKDIR/demo.log" || fail "metrics_demo did not finish: $(cat "$WORKDIR/demo.log")"
note "SIGTERM with a stream open: stopped in ${MS} ms; $(grep 'stream(s) served' "$WORKDIR/demo.log")"
echo "PASS"
