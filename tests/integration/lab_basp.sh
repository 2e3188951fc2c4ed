#!/usr/bin/env bash
# The swarm lab's coordinator over BASP (issue 12, "Running"): `actorrent lab
# run` on a short plan of four actorrent peers and the tracker, as root, in
# network namespaces made for the run.
#
#   bash lab_basp.sh ACTORRENT WORKDIR
#
# The plan turns a disk fault (disk full after 1 MiB) on for one leecher from
# 2 s to 6 s, a wire fault (corrupt_blocks) on for a second seeder (liars-1)
# from 1 s to 3 s,
# and pauses (SIGSTOP) the other leecher from 3 s to 5 s. Checked:
# - the run exits 0, every leecher completes with intact data;
# - report.json's faults[].applied says what the peers answered over BASP:
#   the disk fault accepted on and off, the leecher's disk.injected_full
#   counter above 0 at the end of the window; the wire fault either accepted
#   (a build with the wire-fault layer: counters reported) or refused with
#   "wire faults are not in this build" (then that part prints SKIP);
# - samples.jsonl has one line per peer per second, from BASP (source basp),
#   with progress in every one after the peer's first (but the SIGSTOP window); the disk-faulted leecher's samples
#   show it paused with the disk error during the window; the SIGSTOPped one's
#   show sample errors, not a crash; the peers have four distinct node IDs;
# - the coordinator's connections come from the bridge's address (10.77.0.1),
#   seen in a peer's namespace during the run;
# - nothing is left behind (namespaces, processes).
# Skips (77) unless run as root with `ip netns` working.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
source "$(dirname "$0")/lab_lib.sh"
lab_setup ss

cat >"$WORKDIR/basp.yaml" <<YAML
name: lab-basp
seed: 7
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 60s}
groups:
  # 16mbit: 8 MiB take >= 4 s, so the fault windows fall inside the download
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
  # a second seeder that corrupts blocks for a window: the leechers ban it and
  # finish from the honest one (last, so the others keep their addresses)
  - {name: liars, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
faults:
  - {at: 1s, for: 2s, kind: wire, targets: liars, behavior: {corrupt_blocks: 10%}}
  - {at: 2s, for: 4s, kind: disk, targets: leechers-1, disk: {full_after: 1MiB}}
  - {at: 3s, for: 2s, kind: pause, targets: leechers-2}
oracles: [all_honest_complete, data_intact, no_crash]
YAML

note "validate and dry run show the BASP faults and the control actors"
out=$(with_timeout 30 "$AR" lab validate "$WORKDIR/basp.yaml")
check_contains "validate" "[1] 2s to 6s disk: leechers-1 (full_after=1MiB)" "$out"
check_contains "validate" "[0] 1s to 3s wire: liars-1 (corrupt_blocks=10%)" "$out"
out=$(with_timeout 30 "$AR" lab run "$WORKDIR/basp.yaml" --out "$WORKDIR/dry" --dry-run)
check_contains "dry run" "--control 10.77.0.3:7070" "$out"
check_contains "dry run" "disk fault on leechers-1 over BASP (its control actor at 10.77.0.3:7070): full_after=1MiB,seed=7" "$out"
check_contains "dry run" "wire fault off liars-1 over BASP" "$out"

note "the run: exit 0, faults applied over BASP"
rc=0
"$AR" lab run "$WORKDIR/basp.yaml" --out "$WORKDIR/run" 2>"$WORKDIR/run.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
# while it runs: the coordinator's BASP connection, seen from the seeder's namespace
seen=
for ((i = 0; i < 200; i++)); do
  ns=$(lab_namespaces | grep -- '-seeders-1$' || true)
  if [[ -n "$ns" ]]; then
    conns=$(ip netns exec "$ns" ss -Htn state established '( sport = :7070 )' 2>/dev/null || true)
    if [[ "$conns" == *"10.77.0.1:"* ]]; then seen=$conns; break; fi
  fi
  kill -0 "$RUNNER" 2>/dev/null || break
  sleep 0.1
done
lab_wait "$RUNNER" 90
rc=$LAB_RC
cat "$WORKDIR/run.log"
check_eq "lab run exit status" 0 "$rc"
[[ -n "$seen" ]] || fail "no established connection from 10.77.0.1 to the seeder's control port 7070 was seen"
note "control connection in seeders-1's namespace: $(tr -s ' ' <<<"$seen" | head -1)"

R=$WORKDIR/run/report.json
report() { timeout 30 "$PY" -c "import json,sys; r=json.load(open('$R')); print($1)"; }
check_eq "every leecher complete, data intact" True \
  "$(report 'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])')"
check_eq "oracles hold" True "$(report 'all(o["passed"] for o in r["oracles"])')"
check_eq "disk fault: on and off accepted" 2 "$(report 'r["faults"][1]["applied"]["count"]')"
check_eq "disk fault: leechers-1 accepted" True \
  "$(report 'r["faults"][1]["applied"]["peers"]["leechers-1"]["on"]["accepted"]')"
full=$(report 'r["faults"][1]["applied"]["peers"]["leechers-1"]["off"]["counters"]["disk.injected_full"]')
((full > 0)) || fail "leechers-1 reports no injected disk-full error at the end of the window"
note "leechers-1 refused $full writes as disk full during the window"
wire_err=$(report 'r["faults"][0]["applied"]["peers"]["liars-1"]["on"].get("error", "")')
if [[ "$wire_err" == *"wire faults are not in this build"* ]]; then
  echo "SKIP: wire part: this build has no wire-fault layer (the seeder refused: $wire_err)"
  check_eq "wire fault: nothing applied" 0 "$(report 'r["faults"][0]["applied"]["count"]')"
else
  check_eq "wire fault: on and off accepted" 2 "$(report 'r["faults"][0]["applied"]["count"]')"
  check_eq "wire fault: counters reported" True \
    "$(report 'any(k.startswith("wire.") for k in r["faults"][0]["applied"]["peers"]["liars-1"]["off"]["counters"])')"
fi

note "samples.jsonl: a line per peer per second, from BASP"
timeout 30 "$PY" - "$WORKDIR/run/samples.jsonl" <<'PYEOF'
import json, sys, collections
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(list)
for l in lines:
    by[l["peer"]].append(l)
peers = sorted(by)
assert peers == ["leechers-1", "leechers-2", "liars-1", "seeders-1"], peers
ticks = sorted({l["t"] for l in lines})
for p in peers:
    assert len(by[p]) == len(ticks), (p, len(by[p]), len(ticks))
    assert all(l["source"] == "basp" for l in by[p]), p
    # before its first sample the peer is starting (not published yet: a few
    # seconds on a loaded machine); from then on every tick has progress but
    # for leechers-2's SIGSTOP window (2 s, and a sample in flight)
    first = next(i for i, l in enumerate(by[p]) if l.get("percent") is not None)
    missing = [l["t"] for l in by[p][first:] if l.get("percent") is None]
    assert len(missing) <= (3 if p == "leechers-2" else 0), (p, missing)
    assert first <= 5, (p, "first BASP sample only at tick", first)
paused = [l for l in by["leechers-1"] if l.get("state") == "paused" and any("disk:" in e for e in l.get("errors", []))]
assert paused, "leechers-1 never sampled as paused with a disk error"
assert all(2 <= l["t"] <= 8 for l in paused), [l["t"] for l in paused]
stopped = [l for l in by["leechers-2"] if l.get("sample_error")]
assert stopped, "leechers-2 (SIGSTOPped) shows no sample error"
nodes = {l["node"] for l in lines if l.get("node")}
assert len(nodes) == 4, nodes
print("   %d ticks; leechers-1 paused at t=%s; node IDs %s" % (len(ticks), [l["t"] for l in paused], sorted(nodes)))
PYEOF

note "nothing left behind"
nothing_left "$WORKDIR/run"
echo "PASS"
