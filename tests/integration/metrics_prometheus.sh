#!/usr/bin/env bash
# A real Prometheus (Debian package prometheus) scrapes the metrics writer: it starts
# metrics_demo on loopback (the daemon will take its place), starts prometheus with a
# scrape config pointing at it (1 s interval, its own TSDB in WORKDIR, listening on
# 127.0.0.1 only), waits (bounded) until the query API shows the target up with no
# scrape error, then queries some of the series (a gauge by label, a counter growing
# between scrapes through rate(), a histogram quantile) and stops both by PID.
#
# Usage: metrics_prometheus.sh ACTORRENT WORKDIR. metrics_demo is $METRICS_DEMO (set
# by tests/CMakeLists.txt), else next to the build's top directory.
# Skips (77) when prometheus is not installed. Takes about 10-20 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_args "$@"
it_setup
DEMO=${METRICS_DEMO:-$(cd "$(dirname "$AR")/.." && pwd)/metrics_demo}
[[ -x "$DEMO" ]] || fail "metrics_demo not found at $DEMO (ninja metrics_demo)"
command -v prometheus >/dev/null 2>&1 || skip "prometheus is not installed (Debian package prometheus)"
need_tool curl

# free_port: a TCP port nobody listens on now on 127.0.0.1.
free_port() {
  timeout 10 "$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

bg_start 120 "$WORKDIR/demo.log" "$DEMO" --port 0
DEMO_PID=$BG_LAST
PORT=
for ((i = 0; i < 100; i++)); do
  PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORKDIR/demo.log")
  [[ -n "$PORT" ]] && break
  sleep 0.1
done
[[ -n "$PORT" ]] || fail "metrics_demo did not say where it listens: $(cat "$WORKDIR/demo.log")"
note "metrics_demo on 127.0.0.1:$PORT"

PROM_PORT=$(free_port)
cat >"$WORKDIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: actorrent
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
with_timeout 30 promtool check config "$WORKDIR/prometheus.yml" >/dev/null ||
  fail "promtool rejects the scrape config"
mkdir -p "$WORKDIR/tsdb"
bg_start 120 "$WORKDIR/prometheus.log" prometheus \
  --config.file="$WORKDIR/prometheus.yml" \
  --storage.tsdb.path="$WORKDIR/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" \
  --log.level=warn
PROM_PID=$BG_LAST
note "prometheus (pid $PROM_PID) on 127.0.0.1:$PROM_PORT"

# query EXPR: the JSON answer of the instant query API ("" if it does not answer).
query() {
  timeout 10 curl -sS -G --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
    --data-urlencode "query=$1" 2>/dev/null || true
}
# value_of JSON: the value of the first sample of a vector answer ("" if none).
value_of() {
  timeout 10 "$PY" -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}

# Bounded wait until Prometheus has scraped the target successfully.
UP=
for ((i = 0; i < 120; i++)); do
  kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(tail -5 "$WORKDIR/prometheus.log")"
  UP=$(query 'up{job="actorrent"}' | value_of)
  [[ "$UP" == 1 ]] && break
  sleep 0.5
done
[[ "$UP" == 1 ]] || fail "the target is not up after 60 s (up=$UP): $(tail -5 "$WORKDIR/prometheus.log")"
note "up{job=\"actorrent\"} = 1 after about $((i / 2)) s"

# The target's last scrape has no error (a parse error would show here).
ERR=$(timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/targets" | timeout 10 "$PY" -c '
import json, sys
t = [t for t in json.load(sys.stdin)["data"]["activeTargets"] if t["labels"]["job"] == "actorrent"]
print(t[0]["health"] + "|" + t[0]["lastError"] if t else "missing|")')
check_eq "target health and last scrape error" "up|" "$ERR"

check_eq 'actorrent_torrents{state="seeding"}' 7 "$(query 'actorrent_torrents{state="seeding"}' | value_of)"
check_eq 'actorrent_peers{state="leecher"}' 9 "$(query 'actorrent_peers{state="leecher"}' | value_of)"
# The demo's counters grow at each scrape: after a few scrapes rate() is positive.
RATE=
for ((i = 0; i < 40; i++)); do
  RATE=$(query 'rate(actorrent_payload_bytes_total{direction="upload"}[10s])' | value_of)
  [[ -n "$RATE" ]] && awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' && break
  sleep 0.5
done
awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' || fail "rate of the upload counter is '$RATE', expected > 0"
note "rate(actorrent_payload_bytes_total{direction=\"upload\"}[10s]) = $RATE"
Q=$(query 'histogram_quantile(0.5, actorrent_hash_check_duration_seconds_bucket)' | value_of)
awk -v q="$Q" 'BEGIN { exit !(q > 0 && q < 1) }' || fail "histogram_quantile gave '$Q'"
note "histogram_quantile(0.5, hash check) = $Q"
check_eq 'escaped label value read back' 4 \
  "$(query 'actorrent_actor_mailbox_size{actor=~"disk .store.\n1"}' | value_of)"

bg_stop "$PROM_PID" "$DEMO_PID"
check_eq "metrics_demo exit status after SIGTERM" 0 "${BG_STATUS[$DEMO_PID]}"
echo "PASS"
