#!/usr/bin/env bash
# Link delay and jitter in the swarm lab (issue 12), also on a kernel without
# netem, where a userspace delayer (`actorrent lab delayer`, lab/delayer.*) holds
# the peer's packets on an NFQUEUE.
#
#   bash lab_delay.sh ACTORRENT WORKDIR
#
# 1. --dry-run names the delayer and its NFQUEUE rule (no netem) or the netem
#    qdisc (netem), and makes nothing.
# 2. A swarm whose seeder has `delay: 40ms` and whose second leecher gets a
#    delay window (30ms, jitter 5ms, 1 s to 4 s): while it runs, a TCP connect
#    from a leecher's namespace to the seeder takes at least 40 ms (and under
#    1 s), one to the tracker (no delay) less than 40 ms; the run exits 0 with
#    every oracle holding; without netem report.json counts what the delayers
#    held (mean hold within the configured delay +- jitter + 25 ms).
# 3. Ctrl-C mid-run: exit 1, and no namespace and no process (delayers included)
#    of any run is left.
# Skips (77) unless run as root with `ip netns` working.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
source "$(dirname "$0")/lab_lib.sh"
lab_setup python3

netem=0
if timeout 10 unshare --net tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then netem=1; fi
echo "   this kernel has netem: $netem"

cat >"$WORKDIR/delay.yaml" <<YAML
name: lab-delay
seed: 7
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 60s}
groups:
  # 8mbit: 8 MiB take >= 8 s, time to measure connects while the swarm runs
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 8mbit, delay: 40ms}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 3s, kind: delay, targets: leechers-2, delay: 30ms, jitter: 5ms}
oracles: [all_honest_complete, data_intact, no_crash]
YAML

note "--dry-run shows how the delay is made"
out=$(with_timeout 30 "$AR" lab run "$WORKDIR/delay.yaml" --out "$WORKDIR/dry" --dry-run)
check_contains "dry run" "seeders-1  actorrent seed  10.77.0.2:6881  link: rate 8mbit, delay 40ms" "$out"
check_contains "dry run" "[0] 1s to 4s delay: leechers-2 (delay 30ms, jitter 5ms)" "$out"
if ((netem)); then
  check_contains "dry run" "root netem delay 40ms" "$out"
else
  check_contains "dry run" "this kernel has no netem" "$out"
  check_contains "dry run" "ip netns exec alab-RUNID-seeders-1 $AR lab delayer --queue 0 --delay 40ms --jitter 0ms --seed 7 --name seeders-1" "$out"
  check_contains "dry run" "ip netns exec alab-RUNID-leechers-2 $AR lab delayer --queue 0 --delay 30ms --jitter 5ms --seed 7 --name leechers-2" "$out"
  check_contains "dry run" "iptables -w -t mangle -I PREROUTING -i eth0 -m comment --comment alab-delay -j NFQUEUE --queue-num 0 --queue-bypass" "$out"
fi
[[ ! -e "$WORKDIR/dry" ]] || fail "a dry run made $WORKDIR/dry"
nothing_left "$WORKDIR"

# connect_ms NS ADDR PORT: the median of 5 TCP connect times (ms) from namespace NS
connect_ms() {
  timeout 20 ip netns exec "$1" "$PY" - "$2" "$3" <<'PYEOF'
import socket, sys, time
times = []
for _ in range(5):
    t = time.monotonic()
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    times.append((time.monotonic() - t) * 1000)
    c.close()
print("%.1f" % sorted(times)[2])
PYEOF
}

note "the delayed swarm runs; connects to the delayed seeder take >= 40 ms"
bg_start 90 "$WORKDIR/run.log" "$AR" lab run "$WORKDIR/delay.yaml" --out "$WORKDIR/run"
RUNNER=$BG_LAST
wait_for_log "$WORKDIR/run.log" "tracker and 3 peers started" 60 "$RUNNER" "lab run"
id=$(lab_run_ids "$WORKDIR/run.log")
[[ -n "$id" ]] || fail "no run id in the runner's output"
wait_until 30 "$RUNNER" "lab run" "$WORKDIR/run.log" "seeder not listening" \
  timeout 2 ip netns exec "alab-$id-leechers-1" bash -c '>/dev/tcp/10.77.0.2/6881' 2>/dev/null
to_seeder=$(connect_ms "alab-$id-leechers-1" 10.77.0.2 6881)
to_tracker=$(connect_ms "alab-$id-leechers-1" 10.77.0.1 6969)
echo "   median TCP connect from leechers-1: to the seeder (delay 40ms) $to_seeder ms, to the tracker $to_tracker ms"
"$PY" -c "import sys; s, t = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 40 <= s < 1000 and t < 40 else 1)" \
  "$to_seeder" "$to_tracker" || fail "connect times: seeder $to_seeder ms (want 40 to 1000), tracker $to_tracker ms (want < 40)"
lab_wait "$RUNNER" 90
cat "$WORKDIR/run.log"
check_eq "lab run exit status" 0 "$LAB_RC"
report_check "$WORKDIR/run/report.json" \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'all(o["passed"] for o in r["oracles"]) and len(r["oracles"]) == 3' \
  'r["faults"][0]["kind"] == "delay" and r["faults"][0]["applied"]["count"] == 2'
if ((!netem)); then
  report_check "$WORKDIR/run/report.json" \
    'r["peers"][0]["delayer"]["delayed_packets"] > 100 and r["peers"][0]["delayer"]["died_early"] == 0' \
    '40 <= r["peers"][0]["delayer"]["mean_hold_ms"] <= 65 and r["peers"][0]["delayer"]["dropped_queue_full"] == 0' \
    'r["peers"][1]["delayer"] is None and r["peers"][2]["delayer"] is None' \
    'r["faults"][0]["applied"]["delayer"]["delayed_packets"] > 0' \
    '25 <= r["faults"][0]["applied"]["delayer"]["mean_hold_ms"] <= 60' \
    'r["faults"][0]["applied"]["delayer"]["max_hold_ms"] >= 30'
  "$PY" - "$WORKDIR/run/report.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
s, w = r["peers"][0]["delayer"], r["faults"][0]["applied"]["delayer"]
print("   seeder's delayer: %d packets, mean hold %.1f ms, max %.1f ms; window's: %d packets, mean %.1f ms, max %.1f ms, %d order waits"
      % (s["delayed_packets"], s["mean_hold_ms"], s["max_hold_ms"], w["delayed_packets"], w["mean_hold_ms"], w["max_hold_ms"], w["order_waits"]))
PYEOF
fi
nothing_left "$WORKDIR"

note "Ctrl-C mid-run stops the delayers and tears everything down (exit 1)"
sed -e 's/max_duration: 60s/max_duration: 120s/' -e 's/rate: 8mbit, delay/rate: 1mbit, delay/' \
  "$WORKDIR/delay.yaml" >"$WORKDIR/long.yaml"
"$AR" lab run "$WORKDIR/long.yaml" --out "$WORKDIR/int" 2>"$WORKDIR/int.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 30 "$RUNNER" "lab run" "$WORKDIR/int.log" "no samples" test -s "$WORKDIR/int/samples.jsonl"
((netem)) || pgrep -f -- "$WORKDIR/int/delayers/" >/dev/null || fail "no delayer of the run is running"
kill -INT "$RUNNER"
lab_wait "$RUNNER" 30
cat "$WORKDIR/int.log"
check_eq "lab run exit status (interrupted)" 1 "$LAB_RC"
report_check "$WORKDIR/int/report.json" 'r["interrupted"] is True'
((netem)) || report_check "$WORKDIR/int/report.json" 'r["peers"][0]["delayer"]["delayed_packets"] > 0'
nothing_left "$WORKDIR"
echo "PASS"
