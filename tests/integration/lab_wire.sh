#!/usr/bin/env bash
# The swarm lab with a wire fault (issue 12): a group with `behavior` runs as
# actorrent with --wire-fault, and the report says who banned whom.
#
#   bash lab_wire.sh ACTORRENT WORKDIR
#
# 1. lab run --dry-run shows the liar's command with --wire-fault, its seed
#    and name.
# 2. One honest seeder on a slow link, one liar seed (corrupt_blocks: 30%) on a
#    fast one, two honest leechers, and a network fault (the leechers' links
#    lose 1% for 3 s): exits 0; misbehaving_banned and no_honest_banned hold;
#    each leecher's banned_peers is ["liars-1"]; bans precision and recall are
#    1; the liar's report counts the blocks it corrupted.
# 3. A liar corrupting every block and an honest seeder at 8mbit, with
#    completion wanted within 2 s (4 MiB at 8mbit take over 4 s): the
#    leechers complete late, all_honest_complete fails and the run exits 1,
#    while every other oracle holds (the liar banned by both).
# After each run: no lab namespace and no process of the run is left.
# Skips (77) unless run as root with `ip netns` working.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
source "$(dirname "$0")/lab_lib.sh"
lab_setup

cat >"$WORKDIR/liar.yaml" <<YAML
name: lab-wire
seed: 21
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 120s}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: liars, kind: actorrent, count: 1, role: seed, link: {rate: 80mbit}, behavior: {corrupt_blocks: 30%}}
  - {name: leechers, kind: actorrent, count: 2, role: leech, link: {rate: 80mbit}}
faults:
  - {at: 1s, for: 3s, kind: loss, targets: leechers, loss: 1%}
oracles: [all_honest_complete, data_intact, no_honest_banned, misbehaving_banned, no_crash]
YAML

note "dry run: the liar runs with --wire-fault (plan seed, its own name)"
out=$(with_timeout 30 "$AR" lab run "$WORKDIR/liar.yaml" --out "$WORKDIR/dry" --dry-run)
check_contains "dry run" "liars-1  actorrent seed" "$out"
check_contains "dry run" "misbehaving: corrupt_blocks=30%" "$out"
check_contains "dry run" "--wire-fault corrupt_blocks=30%,seed=21,peer=liars-1" "$out"
if grep -q -- "--wire-fault" <<<"$(grep -E 'leechers-|seeders-1' <<<"$out")"; then
  fail "an honest peer's command has --wire-fault"
fi
[[ ! -e "$WORKDIR/dry" ]] || fail "a dry run made $WORKDIR/dry"
nothing_left "$WORKDIR"

note "a corrupting liar beside an honest seeder: banned by both leechers, exit 0"
t0=$SECONDS
rc=0
with_timeout 150 "$AR" lab run "$WORKDIR/liar.yaml" --out "$WORKDIR/run" 2>"$WORKDIR/run.log" || rc=$?
cat "$WORKDIR/run.log"
check_eq "lab run exit status" 0 "$rc"
echo "   ran in $((SECONDS - t0)) s"
nothing_left "$WORKDIR" "$WORKDIR/run.log"
report_check "$WORKDIR/run/report.json" \
  'all(o["passed"] for o in r["oracles"]) and len(r["oracles"]) == 5' \
  '[p["honest"] for p in r["peers"]] == [True, False, True, True]' \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'all(p["banned_peers"] == ["liars-1"] for p in r["peers"] if p["group"] == "leechers")' \
  'r["peers"][0]["banned_peers"] == []' \
  'r["peers"][1]["wire_faults"]["corrupt_blocks"] > 0' \
  'all(p["hash_failures"] >= 1 for p in r["peers"] if p["group"] == "leechers")' \
  'r["bans"]["precision"] == 1 and r["bans"]["recall"] == 1' \
  '"pairs banned" in [o for o in r["oracles"] if o["name"] == "misbehaving_banned"][0]["detail"]' \
  'r["faults"][0]["kind"] == "loss" and r["faults"][0]["applied"]["count"] == 4'

note "a liar corrupting every block, an honest seeder at 8mbit, completion wanted within 2 s: exit 1"
cat >"$WORKDIR/cut.yaml" <<YAML
name: lab-wire-late
seed: 22
torrent: {size: 4MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 60s}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 8mbit}}
  - {name: liars, kind: actorrent, count: 1, role: seed, behavior: {corrupt_blocks: 100%}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 2s, kind: loss, targets: leechers, loss: 1%}
oracles: [{all_honest_complete: {within: 2s}}, data_intact, no_honest_banned, misbehaving_banned, no_crash]
YAML
rc=0
with_timeout 100 "$AR" lab run "$WORKDIR/cut.yaml" --out "$WORKDIR/cut" 2>"$WORKDIR/cut.log" || rc=$?
cat "$WORKDIR/cut.log"
check_eq "lab run exit status (failing oracle)" 1 "$rc"
nothing_left "$WORKDIR" "$WORKDIR/cut.log"
report_check "$WORKDIR/cut/report.json" \
  '[o["name"] for o in r["oracles"] if not o["passed"]] == ["all_honest_complete"]' \
  '"completed after" in r["oracles"][0]["detail"]' \
  'all(p["completed"] and p["data_ok"] for p in r["peers"] if p["role"] == "leech")' \
  'all(p["banned_peers"] == ["liars-1"] for p in r["peers"] if p["group"] == "leechers")'
echo "PASS: lab_wire (a corrupting liar banned by every honest leecher, precision and recall 1; a failing oracle exits 1)"
