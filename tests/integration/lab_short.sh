#!/usr/bin/env bash
# The swarm lab end to end (issue 12): `actorrent lab run` on short plans, as root,
# in network namespaces made for the run.
#
#   bash lab_short.sh ACTORRENT WORKDIR
#
# 1. A bad plan: `lab validate` and `lab run` exit 2 naming file:line:column and
#    the key, and no namespace is made; `lab run --dry-run` prints the commands
#    and makes nothing.
# 2. A short plan (one seeder, three leechers, 8 MiB, rate-limited links with
#    loss, a partition of the leechers from the seeder from 1 s to 4 s) exits 0:
#    report.json says every leecher completed with intact data, every oracle
#    holds, the partition was applied (and lifted); samples.jsonl has a line per
#    peer and second.
#    A mixed swarm (an actorrent seeder, an actorrent and a libtorrent leecher,
#    a rate fault on the libtorrent one) passes too. A swarm with a reset fault
#    (connections reset after 256 KiB) and a burst_loss fault (Gilbert-Elliott)
#    passes, and report.json counts the resets and the dropped packets.
# 3. The same swarm with the seeder partitioned away for good and an 8 s limit
#    exits 1, and the report names all_honest_complete as failed.
# 4. Ctrl-C (SIGINT to the runner) mid-run: it tears down and exits 1 with
#    "interrupted" in the report.
# 5. A runner killed with SIGKILL leaves its namespaces and peers behind;
#    `lab cleanup --run ID` removes them (only them).
# After each run: no lab namespace and no process of the run is left.
# Skips (77) unless run as root with `ip netns` working. Only this test's runs
# are cleaned up (tests/integration/lab_lib.sh), so it can run beside another lab run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
source "$(dirname "$0")/lab_lib.sh"
lab_setup
need_libtorrent

plan() { # plan FILE FAULTS ORACLES MAX: the short swarm with the given faults
  cat >"$1" <<YAML
name: lab-short
seed: 12
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: $4}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 40mbit}}
  - {name: leechers, kind: actorrent, count: 3, role: leech, link: {rate: 80mbit, loss: 0.5%}}
faults:
$2
oracles: $3
YAML
}

note "a bad plan exits 2 naming the key, line and column, and makes nothing"
plan "$WORKDIR/bad.yaml" "  - {at: 1s, for: 3s, kind: partition, between: [leechers, seeders]}" "[no_crash]" 30s
sed -i 's/count: 3/count: three/' "$WORKDIR/bad.yaml"
rc=0
out=$("$AR" lab validate "$WORKDIR/bad.yaml" 2>&1) || rc=$?
check_eq "lab validate exit status" 2 "$rc"
check_contains "lab validate message" "bad.yaml:7:46: groups[1].count: expected an integer from 1 to 1000, got 'three'" "$out"
rc=0
out=$("$AR" lab run "$WORKDIR/bad.yaml" --out "$WORKDIR/bad" 2>&1) || rc=$?
check_eq "lab run exit status (bad plan)" 2 "$rc"
[[ ! -e "$WORKDIR/bad" ]] || fail "lab run made $WORKDIR/bad for a bad plan"
nothing_left "$WORKDIR"

note "lab run --dry-run prints the resolved plan and the commands, makes nothing"
plan "$WORKDIR/short.yaml" "  - {at: 1s, for: 3s, kind: partition, between: [leechers, seeders]}" \
  "[all_honest_complete, data_intact, no_honest_banned, misbehaving_banned, no_crash, {max_rss: 512MiB}]" 50s
out=$(with_timeout 30 "$AR" lab run "$WORKDIR/short.yaml" --out "$WORKDIR/dry" --dry-run)
check_contains "dry run" "leechers-3  actorrent leech  10.77.0.5:6881  link: rate 80mbit, loss 0.5%" "$out"
check_contains "dry run" "[0] 1s to 4s partition: leechers-1,leechers-2,leechers-3 <-> seeders-1" "$out"
check_contains "dry run" "iptables -w -I OUTPUT -d 10.77.0.2 -j DROP" "$out"
check_contains "dry run" "opentracker -i 10.77.0.1" "$out"
[[ ! -e "$WORKDIR/dry" ]] || fail "a dry run made $WORKDIR/dry"
nothing_left "$WORKDIR"

note "the short plan runs end to end and exits 0"
t0=$SECONDS
rc=0
with_timeout 90 "$AR" lab run "$WORKDIR/short.yaml" --out "$WORKDIR/run" 2>"$WORKDIR/run.log" || rc=$?
cat "$WORKDIR/run.log"
check_eq "lab run exit status" 0 "$rc"
echo "   ran in $((SECONDS - t0)) s"
report_check "$WORKDIR/run/report.json" \
  'r["plan"]["name"] == "lab-short" and r["plan"]["seed"] == 12 and len(r["plan"]["sha256"]) == 64' \
  'len(r["peers"]) == 4' \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'all(p["completion_s"] > 0 for p in r["peers"] if p["role"] == "leech")' \
  'all(p["bytes_down"] >= 8 * 1024 * 1024 for p in r["peers"] if p["role"] == "leech")' \
  'all(p["peak_rss_bytes"] > 0 for p in r["peers"])' \
  'all(o["passed"] for o in r["oracles"]) and len(r["oracles"]) == 6' \
  'r["faults"][0]["kind"] == "partition" and r["faults"][0]["applied"]["count"] == 12' \
  'r["faults"][0]["applied"]["first_s"] >= 1 and r["faults"][0]["applied"]["last_s"] >= 4' \
  'r["faults"][0]["applied"]["dropped_packets"] > 0' \
  'r["interrupted"] is False and r["timed_out"] is False'
lines=$(wc -l <"$WORKDIR/run/samples.jsonl")
((lines >= 4 * 3)) || fail "samples.jsonl has $lines lines, expected at least 12"
nothing_left "$WORKDIR"

note "a mixed swarm: a libtorrent leecher (lab/lt_peer.py) beside actorrent peers"
cat >"$WORKDIR/mixed.yaml" <<YAML
name: lab-mixed
seed: 4
torrent: {size: 8MiB, piece_length: 256KiB, files: 2}
limits: {max_duration: 45s}
groups:
  # 16mbit: the seeder must send 8 MiB, so the swarm takes >= 4 s and the rate
  # fault's window (1-3 s) closes before it completes (both actions applied)
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: ar, kind: actorrent, count: 1, role: leech}
  - {name: lt, kind: libtorrent, count: 1, role: leech}
faults:
  - {at: 1s, for: 2s, kind: rate, targets: lt, rate: 8mbit}
oracles: [all_honest_complete, data_intact, no_crash]
YAML
lab_run_expect 0 75 mixed
report_check "$WORKDIR/mixed/report.json" \
  '[p["kind"] for p in r["peers"]] == ["actorrent", "actorrent", "libtorrent"]' \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'r["faults"][0]["applied"]["count"] == 2'
nothing_left "$WORKDIR"

note "network faults without netem: connection resets after N bytes, Gilbert-Elliott bursty loss"
cat >"$WORKDIR/resets.yaml" <<YAML
name: lab-resets
seed: 5
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 60s}
groups:
  # 16mbit: 8 MiB take >= 4 s, so both windows fall inside the download
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 3s, kind: reset, targets: leechers-1, after: 256KiB}
  - {at: 1s, for: 4s, kind: burst_loss, targets: leechers-2, to_bad: 20%, to_good: 50%, step: 100ms}
oracles: [all_honest_complete, data_intact, no_crash]
YAML
out=$(with_timeout 30 "$AR" lab run "$WORKDIR/resets.yaml" --out "$WORKDIR/resets-dry" --dry-run)
check_contains "dry run" "[0] 1s to 4s reset: leechers-1 (each TCP connection reset after 256KiB)" "$out"
check_contains "dry run" "[1] 1s to 5s burst_loss: leechers-2 (Gilbert-Elliott every 100ms: to_bad 20%, to_good 50%, loss_bad 100%, loss_good 0%)" "$out"
check_contains "dry run" "--connbytes 262144: --connbytes-dir both --connbytes-mode bytes -m comment --comment alab-reset -j REJECT --reject-with tcp-reset" "$out"
check_contains "dry run" "Gilbert-Elliott chain stepped every 100ms by the runner" "$out"
lab_run_expect 0 90 resets
report_check "$WORKDIR/resets/report.json" \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'r["faults"][0]["kind"] == "reset" and r["faults"][0]["after_bytes"] == 262144' \
  'r["faults"][0]["applied"]["count"] == 2 and r["faults"][0]["applied"]["resets"] > 0' \
  'r["faults"][1]["kind"] == "burst_loss" and r["faults"][1]["applied"]["steps"] >= 30' \
  'r["faults"][1]["applied"]["bursts"] > 0 and r["faults"][1]["applied"]["dropped_packets"] > 0' \
  'r["faults"][1]["applied"]["bad_steps"] < r["faults"][1]["applied"]["steps"]'
python3 - "$WORKDIR/resets/report.json" <<'PYEOF'
import json, sys
f = json.load(open(sys.argv[1]))["faults"]
print("   resets answered: %s; burst steps %s, bad %s, bursts %s, dropped %s" % (
    f[0]["applied"]["resets"], f[1]["applied"]["steps"], f[1]["applied"]["bad_steps"],
    f[1]["applied"]["bursts"], f[1]["applied"]["dropped_packets"]))
PYEOF
nothing_left "$WORKDIR"

note "an --out directory that is not empty is refused (exit 2)"
rc=0
"$AR" lab run "$WORKDIR/short.yaml" --out "$WORKDIR/run" 2>/dev/null || rc=$?
check_eq "lab run exit status (used --out)" 2 "$rc"
nothing_left "$WORKDIR"

note "the seeder partitioned away for good: all_honest_complete fails, exit 1"
plan "$WORKDIR/cut.yaml" "  - {at: 0s, kind: partition, between: [leechers, seeders]}" \
  "[all_honest_complete, data_intact, no_crash]" 8s
lab_run_expect 1 60 cut # a failing oracle: exit 1
report_check "$WORKDIR/cut/report.json" \
  'r["timed_out"] is True' \
  '[o["name"] for o in r["oracles"] if not o["passed"]] == ["all_honest_complete"]' \
  '"leechers-1 did not complete" in r["oracles"][0]["detail"]' \
  'not any(p["completed"] for p in r["peers"] if p["role"] == "leech")' \
  'r["faults"][0]["applied"]["dropped_packets"] > 0'
nothing_left "$WORKDIR"

note "Ctrl-C mid-run tears everything down, exit 1, report says interrupted"
plan "$WORKDIR/long.yaml" "  - {at: 0s, kind: partition, between: [leechers, seeders]}" "[no_crash]" 60s
"$AR" lab run "$WORKDIR/long.yaml" --out "$WORKDIR/int" 2>"$WORKDIR/int.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 30 "$RUNNER" "lab run" "$WORKDIR/int.log" "no samples" test -s "$WORKDIR/int/samples.jsonl"
kill -INT "$RUNNER"
rc=0
for ((i = 0; i < 300; i++)); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
wait "$RUNNER" || rc=$?
bg_forget "$RUNNER"
cat "$WORKDIR/int.log"
check_eq "lab run exit status (interrupted)" 1 "$rc"
report_check "$WORKDIR/int/report.json" 'r["interrupted"] is True'
nothing_left "$WORKDIR"

note "a runner killed with SIGKILL leaves things behind; lab cleanup removes them"
"$AR" lab run "$WORKDIR/long.yaml" --out "$WORKDIR/crash" 2>"$WORKDIR/crash.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 30 "$RUNNER" "lab run" "$WORKDIR/crash.log" "no samples" test -s "$WORKDIR/crash/samples.jsonl"
kill -KILL "$RUNNER"
wait "$RUNNER" 2>/dev/null || true
bg_forget "$RUNNER"
left=$(lab_namespaces "$WORKDIR/crash.log" | wc -l)
((left == 5)) || fail "expected the crashed run's 5 namespaces, found $left"
pgrep -f -- "$WORKDIR/crash/" >/dev/null || fail "expected the crashed run's peers to be running"
# only this run's namespaces: another lab run on the machine is left alone
id=$(lab_run_ids "$WORKDIR/crash.log")
[[ -n "$id" ]] || fail "no run id in $WORKDIR/crash.log"
rc=0
"$AR" lab cleanup --run "bad id" >/dev/null 2>&1 || rc=$?
check_eq "lab cleanup --run with a bad id" 2 "$rc"
out=$(with_timeout 60 "$AR" lab cleanup --run "$id")
echo "$out"
check_contains "lab cleanup" "removed namespace alab-$id-br" "$out"
check_eq "namespaces removed" 5 "$(grep -c "^removed namespace alab-$id-" <<<"$out")"
sleep 0.5 # SIGKILLed peers are reaped by init
nothing_left "$WORKDIR"
echo "PASS"
