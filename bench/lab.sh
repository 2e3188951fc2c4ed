#!/usr/bin/env bash
# bench/lab.sh: the swarm lab's overhead. The same small actorrent swarm (one
# seeder, N leechers) three ways, in the same run, alternating:
#   loopback  the peers started by this script on 127.0.0.1 (no namespace, no
#             lab runner), opentracker on loopback
#   lab       `actorrent lab run` of the swarm: a namespace per peer, veths to a
#             bridge namespace, no shaping, no fault
#   lab-tc    the same with a shaped link on every peer (rate 1gbit, and
#             delay 1ms when the kernel has netem)
# Root (lab run makes namespaces).
#
#   bench/lab.sh [--size-mib N (32)] [--leechers N (4)] [--runs N (3)] [--out FILE.md] [--limit SECONDS (120)]
#
# Reports, per way, medians over the runs: leecher completion p50 and max (s,
# from the start of the peers), wall time of the whole command (s; the lab's
# includes content, namespaces and teardown) and the CPU time of the command
# and its children (s, GNU time: the peers' CPU included), and for the lab ways
# the runner's own CPU and peak RSS (report.json "runner").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_NAME=lab.sh
BENCH_USAGE=12,12
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"

SIZE_MIB=32
RUNS=3
LIMIT=120
LEECHERS=4
bench_option() {
  case "$1" in
    --leechers) LEECHERS="${2:?}" ;;
    *) return 1 ;;
  esac
}
bench_options "$@"
[[ "$LEECHERS" =~ ^[1-9][0-9]?$ ]] || die "--leechers must be 1 to 99"
[ "$(id -u)" = 0 ] || die "needs root (lab run makes network namespaces)"
[ -x "$ACTORRENT" ] || die "no actorrent binary at $ACTORRENT (build it: ninja -C build actorrent)"
for t in /usr/bin/time opentracker ip tc iptables ss; do command -v "$t" >/dev/null || die "missing $t"; done

bench_workdir
bench_content "$SIZE_MIB"

# netem present? (the lab refuses delay without it)
NETEM=0
probe="alab-benchprobe-$$"
if ip netns add "$probe" 2>/dev/null; then
  ip -n "$probe" link set lo up
  tc -n "$probe" qdisc replace dev lo root netem delay 1ms 2>/dev/null && NETEM=1
  ip netns del "$probe"
fi
LINK="{rate: 1gbit}"
[ "$NETEM" = 1 ] && LINK="{rate: 1gbit, delay: 1ms}"

plan() { # plan FILE LINK
  cat >"$1" <<YAML
name: bench-lab
seed: 9
torrent: {size: ${SIZE_MIB}MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: ${LIMIT}s}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed$2}
  - {name: leechers, kind: actorrent, count: $LEECHERS, role: leech$2}
oracles: [all_honest_complete, data_intact, no_crash]
YAML
}
plan "$WORK/plain.yaml" ""
plan "$WORK/tc.yaml" ", link: $LINK"

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# run_lab WAY PLAN RUN
run_lab() {
  local out="$WORK/$1-$3"
  local rc=0
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" timeout --kill-after=10 $((LIMIT + 120)) \
    "$ACTORRENT" lab run "$2" --out "$out" 2>"$out.log" || rc=$?
  [ "$rc" = 0 ] || { tail -20 "$out.log" >&2; die "$1 run $3: lab run exited $rc"; }
  "$PY" - "$out/report.json" "$WORK/time" "$1" >>"$RESULTS" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
wall, user, sys_ = (float(x) for x in open(sys.argv[2]).read().split()[-3:])
c = r["completion"]
print("\t".join(str(x) for x in (sys.argv[3], c["p50_s"], c["max_s"], wall, round(user + sys_, 2),
                                  r["runner"]["cpu_s"], r["runner"]["peak_rss_bytes"])))
PYEOF
}

# run_loopback RUN: the same swarm on 127.0.0.1, started and stopped by this script.
run_loopback() {
  local dir="$WORK/loopback-$1" base tracker i pid
  mkdir -p "$dir/tracker" "$dir/seed"
  chmod 755 "$dir" "$dir/tracker"
  base="$(pick_ports $((LEECHERS + 2)))" || die "no free ports"
  cp "$CONTENT" "$dir/seed/"
  "$ACTORRENT" create "$CONTENT" -l 256K -t "http://127.0.0.1:$base/announce" -o "$dir/t.torrent" -q -f \
    || die "actorrent create failed"
  "$ACTORRENT" info "$dir/t.torrent" --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])' \
    >"$dir/tracker/whitelist" || die "cannot read the info-hash"
  chmod 644 "$dir/tracker/whitelist"
  local t0 start_ns
  start_ns=$(date +%s%N)
  /usr/bin/time -f "%e %U %S" -o "$dir/time" bash -c '
    dir=$1 base=$2 n=$3 ar=$4 limit=$5
    pids=()
    opentracker -i 127.0.0.1 -p "$base" -P "$base" -d "$dir/tracker" -w whitelist >"$dir/tracker.log" 2>&1 &
    pids+=($!)
    sleep 0.3
    date +%s%N >"$dir/t0"
    "$ar" seed "$dir/t.torrent" "$dir/seed" --json-progress --port $((base + 1)) >"$dir/seed.jsonl" 2>"$dir/seed.err" &
    pids+=($!)
    for i in $(seq 1 "$n"); do
      "$ar" download "$dir/t.torrent" -o "$dir/l$i" --json-progress --seed --port $((base + 1 + i)) \
        >"$dir/l$i.jsonl" 2>"$dir/l$i.err" &
      pids+=($!)
    done
    end=$((SECONDS + limit))
    while [ "$SECONDS" -lt "$end" ]; do
      done_n=0
      for i in $(seq 1 "$n"); do
        if [ ! -e "$dir/l$i.done" ] && grep -q "\"complete\":true" "$dir/l$i.jsonl" 2>/dev/null; then
          date +%s%N >"$dir/l$i.done"
        fi
        [ -e "$dir/l$i.done" ] && done_n=$((done_n + 1))
      done
      [ "$done_n" = "$n" ] && break
      sleep 0.1
    done
    for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
      for _ in $(seq 80); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    done
  ' _ "$dir" "$base" "$LEECHERS" "$ACTORRENT" "$LIMIT"
  for i in $(seq 1 "$LEECHERS"); do
    [ -e "$dir/l$i.done" ] || die "loopback run $1: leecher $i did not complete in ${LIMIT}s"
    cmp -s "$CONTENT" "$dir/l$i/$NAME" || die "loopback run $1: leecher $i's data differs"
  done
  "$PY" - "$dir" "$LEECHERS" >>"$RESULTS" <<'PYEOF'
import math, sys
d, n = sys.argv[1], int(sys.argv[2])
t0 = int(open(d + "/t0").read())
t = sorted((int(open("%s/l%d.done" % (d, i)).read()) - t0) / 1e9 for i in range(1, n + 1))
wall, user, sys_ = (float(x) for x in open(d + "/time").read().split()[-3:])
p50 = t[max(1, math.ceil(0.5 * len(t))) - 1]
print("\t".join(str(x) for x in ("loopback", round(p50, 1), round(t[-1], 1), wall, round(user + sys_, 2), "", "")))
PYEOF
  rm -rf "$dir/seed" "$dir"/l*/
}

log "swarm: 1 seeder + $LEECHERS leechers, $SIZE_MIB MiB; $RUNS runs of each way; netem: $NETEM; lab-tc link: $LINK"
for r in $(seq 1 "$RUNS"); do
  log "run $r: loopback"
  run_loopback "$r"
  log "run $r: lab"
  run_lab lab "$WORK/plain.yaml" "$r"
  rm -rf "$WORK/lab-$r/peers" "$WORK/lab-$r/content"
  log "run $r: lab-tc"
  run_lab lab-tc "$WORK/tc.yaml" "$r"
  rm -rf "$WORK/lab-tc-$r/peers" "$WORK/lab-tc-$r/content"
done

REPORT="$("$PY" - "$RESULTS" "$CMDLINE" "$SIZE_MIB" "$LEECHERS" "$RUNS" "$LINK" <<'PYEOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print("## bench/lab.sh: the lab's overhead (%s)\n" % sys.argv[2])
print("1 seeder + %s actorrent leechers, %s MiB, 256 KiB pieces; medians of %s runs, the three ways alternating in "
      "one invocation. lab-tc link: %s.\n" % (sys.argv[4], sys.argv[3], sys.argv[5], sys.argv[6]))
print("| way | completion p50 s | completion max s | wall s (whole command) | CPU s (command + children) "
      "| runner CPU s | runner peak RSS MiB |")
print("|---|---|---|---|---|---|---|")
for way in ("loopback", "lab", "lab-tc"):
    sel = [r for r in rows if r[0] == way]
    if not sel:
        continue
    med = lambda k: statistics.median(float(r[k]) for r in sel)
    rss = [float(r[6]) for r in sel if r[6]]
    cpu = [float(r[5]) for r in sel if r[5]]
    print("| %s | %.1f | %.1f | %.1f | %.1f | %s | %s |" % (
        way, med(1), med(2), med(3), med(4), "%.2f" % statistics.median(cpu) if cpu else "–",
        "%.1f" % (statistics.median(rss) / 1048576) if rss else "–"))
PYEOF
)"
echo "$REPORT"
if [ -n "$OUT" ]; then echo "$REPORT" >>"$OUT"; fi
