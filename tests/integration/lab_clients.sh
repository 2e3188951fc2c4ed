#!/usr/bin/env bash
# Real clients as swarm-lab peers (issue 12): `kind: aria2c` (lab/aria2_peer.py,
# aria2's JSON-RPC) and `kind: transmission` (lab/tr_peer.py, transmission-cli's
# status line) beside actorrent peers, in network namespaces.
#
#   bash lab_clients.sh ACTORRENT WORKDIR
#
# An aria2c seeder and an actorrent seeder; an aria2c, a transmission and an
# actorrent leecher; the aria2c leecher is paused (SIGSTOP) from 1 s to 5 s.
# The run exits 0; every leecher completes with intact data; the aria2c seeder
# uploaded; the aria2c peers report their have-bitfield in samples.jsonl, the
# transmission peer its percent and no bitfield; while the pause is on, the
# aria2c process itself (not only its driver) is stopped. Nothing is left.
# Skips (77) unless run as root with `ip netns` working; fails if aria2c or
# transmission-cli is missing (the test drives them).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
source "$(dirname "$0")/lab_lib.sh"
lab_setup aria2c transmission-cli

cat >"$WORKDIR/clients.yaml" <<YAML
name: lab-clients
seed: 8
torrent: {size: 8MiB, piece_length: 256KiB, files: 2}
limits: {max_duration: 70s}
groups:
  - {name: aseed, kind: aria2c, count: 1, role: seed, link: {rate: 40mbit}}
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: aria, kind: aria2c, count: 1, role: leech}
  - {name: tr, kind: transmission, count: 1, role: leech}
  - {name: ar, kind: actorrent, count: 1, role: leech}
faults:
  - {at: 1s, for: 4s, kind: pause, targets: aria}
oracles: [all_honest_complete, data_intact, no_crash]
YAML

note "aria2c and transmission peers beside actorrent peers"
"$AR" lab run "$WORKDIR/clients.yaml" --out "$WORKDIR/run" 2>"$WORKDIR/run.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
# while the pause is on, the aria2c process of aria-1 is stopped too (state T)
stopped=0
for ((i = 0; i < 300; i++)); do
  for pid in $(pgrep -f -- "aria2c .*--dir=$WORKDIR/run/peers/aria-1" 2>/dev/null || true); do
    [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == T* ]] && stopped=1
  done
  ((stopped)) && break
  kill -0 "$RUNNER" 2>/dev/null || break
  sleep 0.1
done
rc=0
for ((i = 0; i < 1200; i++)); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUNNER" 2>/dev/null && fail "lab run still running after 120 s"
wait "$RUNNER" || rc=$?
bg_forget "$RUNNER"
cat "$WORKDIR/run.log"
check_eq "lab run exit status" 0 "$rc"
check_eq "aria2c itself stopped during the pause" 1 "$stopped"
timeout 30 "$PY" - "$WORKDIR/run" <<'PYEOF' || fail "report or samples"
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/report.json"))
peers = {p["name"]: p for p in r["peers"]}
assert [p["kind"] for p in r["peers"]] == ["aria2c", "actorrent", "aria2c", "transmission", "actorrent"], r["peers"]
for name in ("aria-1", "tr-1", "ar-1"):
    p = peers[name]
    assert p["completed"] and p["data_ok"] and p["completion_s"] > 0 and not p["crashed"], p
assert peers["aseed-1"]["bytes_up"] > 0, peers["aseed-1"]
assert all(o["passed"] for o in r["oracles"]), r["oracles"]
assert r["faults"][0]["applied"]["count"] == 2, r["faults"]
bits = {}
for line in open(d + "/samples.jsonl"):
    s = json.loads(line)
    if s["peer"] in ("aria-1", "aseed-1", "tr-1"):
        bits.setdefault(s["peer"], []).append(s)
aria = [s for s in bits["aria-1"] if s.get("have")]
assert aria and all(bin(int(s["have"], 16)).count("1") == s["pieces_have"] for s in aria), aria[-1:]
assert all(s.get("have") is None for s in bits["tr-1"]), "transmission reported a bitfield?"
assert any(s.get("percent") == 100.0 for s in bits["tr-1"]), bits["tr-1"][-1]
seeded = [s for s in bits["aseed-1"] if s.get("have")]
assert seeded and int(seeded[0]["have"], 16) == (1 << 4 * len(seeded[0]["have"])) - 1, seeded[:1]
print("   aria2c, transmission and actorrent leechers complete in %s s" %
      [peers[n]["completion_s"] for n in ("aria-1", "tr-1", "ar-1")])
PYEOF
[[ -s "$WORKDIR/run/report.html" ]] || fail "no report.html"
nothing_left "$WORKDIR/run"
echo "PASS"
