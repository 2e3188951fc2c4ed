#!/usr/bin/env bash
# The metrics writer (api/metrics.*) against promtool: the exposition of a sample
# snapshot (per-torrent series on and off) and the one served over HTTP by
# metrics_demo pass `promtool check metrics` (format and lint) without a remark, and
# promtool does reject a broken exposition (so the check can fail).
#
# Usage: metrics_promtool.sh ACTORRENT WORKDIR. metrics_demo is $METRICS_DEMO (set
# by tests/CMakeLists.txt), else next to the build's top directory.
# Skips (77) when promtool (Debian package prometheus) is not installed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
it_args "$@"
it_setup
DEMO=${METRICS_DEMO:-$(cd "$(dirname "$AR")/.." && pwd)/metrics_demo}
[[ -x "$DEMO" ]] || fail "metrics_demo not found at $DEMO (ninja metrics_demo)"
command -v promtool >/dev/null 2>&1 || skip "promtool is not installed (Debian package prometheus)"
need_tool curl

# check_file WHAT FILE: promtool accepts FILE and has nothing to say.
check_file() {
  local what=$1 file=$2 out rc=0
  out=$(with_timeout 30 promtool check metrics <"$file" 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || fail "promtool check metrics rejects $what (exit $rc): $out"
  [[ -z "$out" ]] || fail "promtool check metrics has remarks on $what: $out"
  note "promtool accepts $what ($(grep -vc '^#' "$file") samples)"
}

with_timeout 30 "$DEMO" --print >"$WORKDIR/sample.prom" || fail "metrics_demo --print failed"
grep -q '^actorrent_hash_check_duration_seconds_bucket{le="+Inf"} ' "$WORKDIR/sample.prom" ||
  fail "no +Inf bucket in the sample"
grep -q 'actor="disk \\"store\\"\\n1"' "$WORKDIR/sample.prom" || fail "label value not escaped"
check_file "the sample snapshot" "$WORKDIR/sample.prom"

with_timeout 30 "$DEMO" --print --per-torrent 1 >"$WORKDIR/per_torrent.prom" ||
  fail "metrics_demo --print --per-torrent 1 failed"
grep -q '^actorrent_torrent_peers{torrent="a\{40\}"} 3$' "$WORKDIR/per_torrent.prom" ||
  fail "no per-torrent series"
grep -q '^actorrent_metrics_series_refused_total{family="actorrent_torrent_peers"} 1$' \
  "$WORKDIR/per_torrent.prom" || fail "the refused per-torrent series is not counted"
check_file "the sample with per-torrent series" "$WORKDIR/per_torrent.prom"

# Over HTTP, as Prometheus would fetch it.
bg_start 60 "$WORKDIR/demo.log" "$DEMO" --port 0
DEMO_PID=$BG_LAST
PORT=
for ((i = 0; i < 100; i++)); do
  PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORKDIR/demo.log")
  [[ -n "$PORT" ]] && break
  sleep 0.1
done
[[ -n "$PORT" ]] || fail "metrics_demo did not say where it listens: $(cat "$WORKDIR/demo.log")"
with_timeout 10 curl -sS -D "$WORKDIR/headers" -o "$WORKDIR/served.prom" \
  "http://127.0.0.1:$PORT/metrics" || fail "GET /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORKDIR/headers" ||
  fail "wrong Content-Type: $(cat "$WORKDIR/headers")"
check_file "GET /metrics" "$WORKDIR/served.prom"
bg_stop "$DEMO_PID"
check_eq "metrics_demo exit status after SIGTERM" 0 "${BG_STATUS[$DEMO_PID]}"

# The check can fail: a counter without _total, a sample before its TYPE, a bad escape.
printf '# HELP x_bytes A counter.\n# TYPE x_bytes counter\nx_bytes 1\n' >"$WORKDIR/lint.prom"
if with_timeout 30 promtool check metrics <"$WORKDIR/lint.prom" >/dev/null 2>&1; then
  fail "promtool accepted a counter named without _total"
fi
printf '# TYPE y gauge\ny{a="b\\q"} 1\n' >"$WORKDIR/bad.prom"
if with_timeout 30 promtool check metrics <"$WORKDIR/bad.prom" >/dev/null 2>&1; then
  fail "promtool accepted an invalid escape in a label value"
fi
note "promtool rejects broken expositions"
echo "PASS"
