#!/usr/bin/env bash
# Docker figures: image build time (cold and cached), container start time, and
# a compose swarm of actorrent leechers (completion time, CPU, memory).
#
#   bench/docker.sh [--leechers N (20)] [--size-mib M (64)] [--cold] [--out FILE.md]
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
# Prints a Markdown section (and appends it to FILE.md with --out).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=20
SIZE=64
COLD=0
OUT=
while (($# > 0)); do
  case "$1" in
    --leechers) N=$2; shift ;;
    --size-mib) SIZE=$2; shift ;;
    --cold) COLD=1 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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

echo "== base image"
t=$(now)
if ((COLD)); then "$ROOT/scripts/docker-base.sh" --force | tee "$TMP/base.log"; else "$ROOT/scripts/docker-base.sh" | tee "$TMP/base.log"; fi
base_s=$(since "$t")
base_note=$(grep -o 'debootstrap took [0-9.]* s' "$TMP/base.log" || echo "from the cached tarball or existing image")

build() { docker build -q -f "$ROOT/deploy/Dockerfile" --target runtime -t actorrent:latest "$@" "$ROOT" >/dev/null; }
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
EOF
)
echo "$section"
[[ -z "$OUT" ]] || echo "$section" >>"$OUT"
