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

prom_start "127.0.0.1:$PORT"
note "prometheus (pid $PROM_PID) on 127.0.0.1:$PROM_PORT scrapes it"
check_eq 'actorrent_torrents{state="seeding"}' 7 "$(prom_query 'actorrent_torrents{state="seeding"}' | prom_value)"
check_eq 'actorrent_peers{state="leecher"}' 9 "$(prom_query 'actorrent_peers{state="leecher"}' | prom_value)"
# The demo's counters grow at each scrape: after a few scrapes rate() is positive.
RATE=
for ((i = 0; i < 40; i++)); do
  RATE=$(prom_query 'rate(actorrent_payload_bytes_total{direction="upload"}[10s])' | prom_value)
  [[ -n "$RATE" ]] && awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' && break
  sleep 0.5
done
awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' || fail "rate of the upload counter is '$RATE', expected > 0"
note "rate(actorrent_payload_bytes_total{direction=\"upload\"}[10s]) = $RATE"
# the per-reason disconnect counter grows too (the daemon's reasons: logic/engine_metrics.hpp)
RATE=$(prom_query 'rate(actorrent_peer_disconnects_total{reason="peer_closed"}[10s])' | prom_value)
awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' || fail "rate of the peer_closed disconnects is '$RATE', expected > 0"
check_eq 'actorrent_peer_disconnects_total{reason="banned"}' 1 \
  "$(prom_query 'actorrent_peer_disconnects_total{reason="banned"}' | prom_value)"
Q=$(prom_query 'histogram_quantile(0.5, actorrent_hash_check_duration_seconds_bucket)' | prom_value)
awk -v q="$Q" 'BEGIN { exit !(q > 0 && q < 1) }' || fail "histogram_quantile gave '$Q'"
note "histogram_quantile(0.5, hash check) = $Q"
check_eq 'escaped label value read back' 4 \
  "$(prom_query 'actorrent_actor_mailbox_size{actor=~"disk .store.\n1"}' | prom_value)"

bg_stop "$PROM_PID" "$DEMO_PID"
check_eq "metrics_demo exit status after SIGTERM" 0 "${BG_STATUS[$DEMO_PID]}"
echo "PASS"
