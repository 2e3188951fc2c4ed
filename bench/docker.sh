#!/usr/bin/env bash
# Docker figures: image build time (cold and cached), container start time, and
# a compose swarm of actorrent leechers (completion time, CPU, memory).
#
#   bench/docker.sh [--leechers N (20)] [--size-mib M (64)] [--cold] [--out FILE.md]
#                   [--actorrent BIN (build/app/actorrent)] [--no-netns] [--swarm-only]
#
# 1. Base image: scripts/docker-base.sh (from the cached tarball when there is
#    one; --cold: rebuilt with debootstrap, --force).
# 2. Image build, cached: `docker build --target runtime` again with nothing
#    changed. Cold (--cold only: ~10 min on 2 cores): the same with --no-cache
#    (Debian packages fetched again, the whole Release build).
# 3. Container start: `docker start -a` of a created container running
#    `actorrent --version` (create to exit, median of 10), and `docker run --rm`
#    of the same (median of 10).
# 4. Swarm: scripts/swarm-up.sh -n N --size-mib M --no-badpeer: per leecher
#    the seconds from the start of its download to its exit (median and max),
#    CPU seconds and peak memory of its container's cgroup (summed and max; on
#    cgroup v1 peak memory includes page cache, so writing M MiB counts M MiB),
#    the seeder's, and the wall time from `compose up` to the last leecher's exit
#    (includes the seeder making its content and torrent).
# 5. The same swarm in network namespaces (as root; --no-netns: not run): the
#    lab's namespace backend with a plan of 1 seed + N leechers, M MiB, no link
#    shaping (`actorrent lab run`, BIN): per leecher the completion time from the
#    peers' start (median and max, from report.json), the peers' peak memory
#    (VmHWM: the process's own resident memory, no page cache, unlike the
#    containers' cgroup figure), and the CPU of the whole run (user + system of
#    `lab run` and everything it started: the runner making the content and
#    torrent, opentracker, the seeder and the leechers; leechers keep seeding
#    until the last one completes, as lab peers do).
# --swarm-only: skip steps 1-3 (images as they are).
# Prints a Markdown section (and appends it to FILE.md with --out).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=20
SIZE=64
COLD=0
OUT=
AR="$ROOT/build/app/actorrent"
NETNS=1
SWARM_ONLY=0
while (($# > 0)); do
  case "$1" in
    --leechers) N=$2; shift ;;
    --size-mib) SIZE=$2; shift ;;
    --cold) COLD=1 ;;
    --out) OUT=$2; shift ;;
    --actorrent) AR=$2; shift ;;
    --no-netns) NETNS=0 ;;
    --swarm-only) SWARM_ONLY=1 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "docker.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
timeout 20 docker info >/dev/null 2>&1 || { echo "docker.sh: no Docker engine answers" >&2; exit 1; }

TMP=$(mktemp -d /tmp/actorrent-bench-docker.XXXXXX)
CID=
cleanup() {
  [[ -z "$CID" ]] || docker rm -f -v "$CID" >/dev/null 2>&1 || true
  rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

base_s=skipped base_note="--swarm-only" cold_s=skipped cached_s=skipped img=0 base=0
echo skipped >"$TMP/start"; echo skipped >"$TMP/run"
if ((SWARM_ONLY == 0)); then
echo "== base image"
t=$(now)
if ((COLD)); then "$ROOT/scripts/docker-base.sh" --force | tee "$TMP/base.log"; else "$ROOT/scripts/docker-base.sh" | tee "$TMP/base.log"; fi
base_s=$(since "$t")
base_note=$(grep -o 'debootstrap took [0-9.]* s' "$TMP/base.log" || echo "from the cached tarball or existing image")

build() { docker build --force-rm -q -f "$ROOT/deploy/Dockerfile" --target runtime -t actorrent:latest "$@" "$ROOT" >/dev/null; }
cold_s="not measured (run with --cold)"
if ((COLD)); then
  echo "== image build, cold (--no-cache)"
  t=$(now); build --no-cache; cold_s="$(since "$t") s"
fi
echo "== image build, cached"
build # whatever changed since the last build
t=$(now); build; cached_s=$(since "$t")
img=$(docker image inspect -f '{{.Size}}' actorrent:latest)
base=$(docker image inspect -f '{{.Size}}' "$(sed -n 's/^ARG DEBIAN_IMAGE=//p' "$ROOT/deploy/Dockerfile" | head -n 1)")

echo "== container start"
for i in $(seq 10); do
  CID=$(docker create actorrent:latest --version)
  t=$(now); docker start -a "$CID" >/dev/null; since "$t"; echo
  docker rm -v "$CID" >/dev/null; CID=
done | median >"$TMP/start"
for i in $(seq 10); do
  t=$(now); docker run --rm actorrent:latest --version >/dev/null; since "$t"; echo
done | median >"$TMP/run"
fi

echo "== swarm: $N leechers, $SIZE MiB"
"$ROOT/scripts/swarm-up.sh" -n "$N" --size-mib "$SIZE" --no-badpeer --no-build --timeout 900 \
  --collect "$TMP/swarm" | tee "$TMP/swarm.log"
lines=$(grep 'exit 0 .*verified=yes' "$TMP/swarm/summary.txt" || true)
field() { grep -o " $1=[0-9.]*" <<<"$lines" | cut -d= -f2; }
ok=$(grep -c . <<<"$lines" || true)
smed=$(field secs | median)
smax=$(field secs | sort -n | tail -n 1)
cpu=$(field cpu_s | awk '{ s += $1 } END { printf "%.1f", s }')
mem=$(field mem_peak_mib | awk '{ s += $1 } END { printf "%.1f", s }')
mmax=$(field mem_peak_mib | sort -n | tail -n 1)
seeder=$(sed -n 's/^== seeder: //p' "$TMP/swarm/summary.txt")
wall=$(sed -n 's/^RESULT: .* in \([0-9]*\) s$/\1/p' "$TMP/swarm/summary.txt")

ns_rows="| namespaces | not run (--no-netns, or not root) |"
if ((NETNS)) && [[ $(id -u) -eq 0 && -x "$AR" ]]; then
  echo "== the same swarm in network namespaces: lab run, 1 seed + $N leechers, $SIZE MiB"
  cat >"$TMP/ns.yaml" <<YAML
name: bench-netns-$N
seed: 1
torrent: {size: ${SIZE}MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 900s}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed}
  - {name: leechers, kind: actorrent, count: $N, role: leech}
oracles: [all_honest_complete, data_intact, no_crash]
YAML
  t=$(now)
  ns_rc=0
  /usr/bin/time -f '%U %S %e' -o "$TMP/ns.time" "$AR" lab run "$TMP/ns.yaml" --out "$TMP/ns" 2>"$TMP/ns.log" || ns_rc=$?
  tail -n 5 "$TMP/ns.log"
  read -r ns_user ns_sys ns_wall < <(tail -n 1 "$TMP/ns.time") # after "Command exited with non-zero status N"
  ns_stats=$(python3 - "$TMP/ns/report.json" <<'PYEOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
le = [p for p in r["peers"] if p["role"] == "leech"]
done = [p["completion_s"] for p in le if p["completed"] and p["data_ok"]]
rss = [p["peak_rss_bytes"] or 0 for p in le]
seed = [p["peak_rss_bytes"] or 0 for p in r["peers"] if p["role"] == "seed"]
print("%d %.1f %.1f %.1f %.1f %.1f %s" % (len(done), statistics.median(done) if done else -1, max(done) if done else -1,
      sum(rss) / 1048576, max(rss) / 1048576, seed[0] / 1048576 if seed else -1, r["duration_s"]))
PYEOF
  ) || ns_stats="0 - - - - - -"
  read -r ns_ok ns_med ns_max ns_mem ns_mmax ns_seed ns_dur <<<"$ns_stats"
  ns_rows="| namespaces (lab run, exit $ns_rc): leechers complete and intact | $ns_ok of $N |
| namespaces: leecher completion from the peers' start, median / max | $ns_med s / $ns_max s |
| namespaces: lab run's duration (peers' start to the last completion + stop) / whole command wall time | $ns_dur s / $ns_wall s |
| namespaces: CPU of the whole run (runner, content and torrent, tracker, seeder, leechers), user + system | $(awk -v u="$ns_user" -v s="$ns_sys" 'BEGIN { printf "%.1f", u + s }') s |
| namespaces: leechers' peak memory (VmHWM, no page cache), sum / max; seeder | $ns_mem MiB / $ns_mmax MiB; $ns_seed MiB |"
fi

section=$(cat <<EOF

## Docker: images, container start, a compose swarm of $N leechers

- Command: \`bench/docker.sh --leechers $N --size-mib $SIZE$( ((COLD)) && echo ' --cold')\`
- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); git $(git -C "$ROOT" rev-parse --short HEAD); machine: $(nproc) cores, Linux $(uname -r), Docker engine $(docker version -f '{{.Server.Version}}'), storage driver $(docker info -f '{{.Driver}}')

| what | figure |
|---|---|
| base image (scripts/docker-base.sh) | $base_s s ($base_note); $((base / 1000000)) MB |
| image build, cold (--no-cache) | $cold_s |
| image build, cached (nothing changed) | $cached_s s |
| image size (runtime) | $((img / 1000000)) MB, base + $(((img - base) / 1000000)) MB |
| container start: \`docker start -a\` of a created container, \`actorrent --version\` (median of 10) | $(cat "$TMP/start") s |
| \`docker run --rm actorrent --version\` (create, start, exit, remove; median of 10) | $(cat "$TMP/run") s |
| leechers complete and verified | $ok of $N |
| leecher: download start to exit, median / max | $smed s / $smax s |
| compose up to the last leecher's exit (content and torrent made in the seeder included) | $wall s |
| leechers' CPU, all containers | $cpu s |
| leechers' peak memory (cgroup, page cache included), sum / max | $mem MiB / $mmax MiB |
| seeder container | $seeder |
$ns_rows
EOF
)
echo "$section"
[[ -z "$OUT" ]] || echo "$section" >>"$OUT"
