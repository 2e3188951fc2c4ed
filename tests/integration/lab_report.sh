#!/usr/bin/env bash
# The swarm lab's report and baseline (issue 12): `lab run --baseline` on a tiny
# plan, the slowdown oracle, report.html, and refusals that start nothing.
#
#   bash lab_report.sh ACTORRENT WORKDIR
#
# 1. A plan with a slowdown oracle but no --baseline is refused (exit 2); a plan
#    whose peer kind's program is missing (PATH without aria2c) is refused
#    before anything starts (exit 1, no --out folder, no namespace).
# 2. A tiny plan (one seeder, two leechers, 4 MiB, 16 mbit links, a rate fault)
#    with `slowdown: 3x`, run with --baseline, exits 0: OUT/baseline holds the
#    fault-free run (no faults, every leecher complete), report.json has
#    `baseline` (completion figures, slowdown ratios), the slowdown oracle holds
#    with its ratio, `completion`, `runner {cpu_s, peak_rss_bytes}`, the commit;
#    samples.jsonl carries each actorrent peer's have-bitfield (as many bits set
#    as pieces_have); report.html is one self-contained file (no http(s)
#    src/href/url, every image a data: URI) with the five plots.
# 3. The same swarm with the seeder partitioned away for 6 s and `slowdown:
#    1.2x`: exit 1, the slowdown oracle fails naming both p90 times; with
#    matplotlib hidden from python (PYTHONPATH), the run still writes
#    report.json and says report.html was not made.
# After each run: no lab namespace and no process of the run is left.
# Skips (77) unless run as root with `ip netns` working.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
source "$(dirname "$0")/lab_lib.sh"
lab_setup
"$PY" -c "import matplotlib" 2>/dev/null || fail "python3-matplotlib is missing (the report needs it)"

plan() { # plan FILE FAULTS ORACLES
  cat >"$1" <<YAML
name: lab-report
seed: 31
torrent: {size: 4MiB, piece_length: 128KiB, files: 1}
limits: {max_duration: 40s}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: leechers, kind: actorrent, count: 2, role: leech, link: {rate: 40mbit}}
faults:
$2
oracles: $3
YAML
}

note "slowdown without --baseline is refused (exit 2), nothing made"
plan "$WORKDIR/slow.yaml" "  - {at: 500ms, for: 1500ms, kind: rate, targets: leechers, rate: 8mbit}" \
  "[all_honest_complete, data_intact, no_crash, {slowdown: 3x}]"
rc=0
out=$("$AR" lab run "$WORKDIR/slow.yaml" --out "$WORKDIR/nobase" 2>&1) || rc=$?
check_eq "lab run exit status (slowdown, no --baseline)" 2 "$rc"
check_contains "refusal" "oracle slowdown compares against a fault-free run: add --baseline" "$out"
[[ ! -e "$WORKDIR/nobase" ]] || fail "a refused run made $WORKDIR/nobase"

note "a peer kind whose program is missing is refused before anything starts"
cat >"$WORKDIR/aria.yaml" <<YAML
name: needs-aria2
seed: 1
torrent: {size: 1MiB}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed}
  - {name: aria, kind: aria2c, count: 1, role: leech}
YAML
mkdir -p "$WORKDIR/emptybin"
rc=0
out=$(PATH="$WORKDIR/emptybin" "$AR" lab run "$WORKDIR/aria.yaml" --out "$WORKDIR/noaria" 2>&1) || rc=$?
check_eq "lab run exit status (aria2c missing)" 1 "$rc"
check_contains "refusal" "group aria: kind aria2c needs aria2c, not found on PATH (Debian: apt-get install aria2)" "$out"
check_contains "refusal" "nothing was started" "$out"
[[ ! -e "$WORKDIR/noaria" ]] || fail "a refused run made $WORKDIR/noaria"
nothing_left "$WORKDIR"

note "--baseline: the fault-free run first, then the plan; slowdown holds; report.html"
t0=$SECONDS
rc=0
with_timeout 110 "$AR" lab run "$WORKDIR/slow.yaml" --out "$WORKDIR/run" --baseline 2>"$WORKDIR/run.log" || rc=$?
cat "$WORKDIR/run.log"
check_eq "lab run --baseline exit status" 0 "$rc"
echo "   baseline and run took $((SECONDS - t0)) s"
report_check "$WORKDIR/run/baseline/report.json" \
  'r["faults"] == [] and r["plan"]["name"] == "lab-report (baseline)"' \
  'all(p["completed"] for p in r["peers"])' \
  '[o["name"] for o in r["oracles"]] == ["all_honest_complete", "data_intact", "no_crash"]'
report_check "$WORKDIR/run/report.json" \
  'r["baseline"]["completion"]["completed"] == 2 and r["baseline"]["completion"]["p90_s"] > 0' \
  'r["baseline"]["slowdown"]["p90"] > 0' \
  'r["completion"]["completed"] == 2 and r["completion"]["p50_s"] <= r["completion"]["p90_s"] <= r["completion"]["max_s"]' \
  '[o["name"] for o in r["oracles"]][-1] == "slowdown" and all(o["passed"] for o in r["oracles"])' \
  'r["oracles"][-1]["ratio"] <= 3 and "against" in r["oracles"][-1]["detail"]' \
  'r["runner"]["cpu_s"] > 0 and r["runner"]["peak_rss_bytes"] > 1000000' \
  'r["runner"]["children_cpu_s"] > r["runner"]["cpu_s"]' \
  'r["faults"][0]["applied"]["count"] == 4' \
  'len(r["commit"]) >= 7'
"$PY" - "$WORKDIR/run/samples.jsonl" <<'PYEOF' || fail "samples.jsonl: have-bitfields"
import json, sys
seen = 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s.get("have") is None:
        continue
    bits = bin(int(s["have"], 16)).count("1")
    assert bits == s["pieces_have"], (s["peer"], s["t"], bits, s["pieces_have"])
    assert len(s["have"]) == 2 * ((s["pieces_total"] + 7) // 8), s
    seen += 1
assert seen >= 3, "only %d samples with a bitfield" % seen
print("   %d samples carry a have-bitfield that agrees with pieces_have" % seen)
PYEOF
html="$WORKDIR/run/report.html"
[[ -s "$html" ]] || fail "no report.html"
check_contains "lab log" "lab: HTML report in $WORKDIR/run/report.html" "$(cat "$WORKDIR/run.log")"
"$PY" - "$html" <<'PYEOF' || fail "report.html is not self-contained or lacks a plot"
import re, sys
h = open(sys.argv[1], encoding="utf-8").read()
# nothing to load: no src/href/url() pointing anywhere but a data: URI or a fragment
refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^)"']*)""", h, re.I)
bad = [a or b for a, b in refs if not (a or b).startswith(("data:", "#"))]
assert not bad, "external references: %s" % bad[:5]
assert not re.search(r"<(script|link|iframe|object|embed)\b", h, re.I), "a script/link/iframe element"
for plot in ("cdf", "fraction", "rates", "copies", "bans"):
    assert re.search(r"<img id='plot-%s' [^>]*src='data:image/png;base64,[A-Za-z0-9+/=]{1000,}'" % plot, h), plot
for text in ("lab-report", "seed", "commit", "Faults: planned and applied", "slowdown", "Oracles", "p90",
             "disconnects by reason", "Ban precision and recall", "baseline"):
    assert text in h, text
print("   report.html: %d bytes, 5 embedded plots, no external reference" % len(h))
PYEOF
nothing_left "$WORKDIR"

note "a slowdown beyond the factor fails (exit 1); without matplotlib the run still reports"
plan "$WORKDIR/cut.yaml" "  - {at: 0s, for: 6s, kind: partition, between: [leechers, seeders]}" \
  "[all_honest_complete, {slowdown: 1.2x}]"
mkdir -p "$WORKDIR/nompl/matplotlib"
echo 'raise ImportError("hidden by the test")' >"$WORKDIR/nompl/matplotlib/__init__.py"
rc=0
with_timeout 110 env PYTHONPATH="$WORKDIR/nompl" "$AR" lab run "$WORKDIR/cut.yaml" --out "$WORKDIR/cut" --baseline \
  2>"$WORKDIR/cut.log" || rc=$?
cat "$WORKDIR/cut.log"
check_eq "lab run exit status (slowdown fails)" 1 "$rc"
report_check "$WORKDIR/cut/report.json" \
  '[o["name"] for o in r["oracles"] if not o["passed"]] == ["slowdown"]' \
  'r["oracles"][1]["ratio"] > 1.2 and "limit 1.2x" in r["oracles"][1]["detail"]' \
  'r["baseline"]["slowdown"]["p90"] > 1.2'
check_contains "lab log" "report.html not made: python3-matplotlib is missing" "$(cat "$WORKDIR/cut.log")"
[[ ! -e "$WORKDIR/cut/report.html" ]] || fail "report.html made without matplotlib"
nothing_left "$WORKDIR"
echo "PASS"
