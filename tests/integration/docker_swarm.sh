#!/usr/bin/env bash
# The compose swarm in real containers: opentracker, an actorrent seeder, six
# actorrent leechers and a peer that corrupts every block it sends.
#
#   bash docker_swarm.sh ACTORRENT WORKDIR
#
# Runs scripts/swarm-up.sh -n 6 (base image and images built first when they
# are missing: ~2 min for debootstrap, ~8 min for the image on 2 cores; cached
# afterwards), 8 MiB of random content made by the seeder in its container.
# Checks: every leecher exited 0 and says its data matches the seeder's SHA-256
# manifest; each leecher's file, copied out of its container, is byte-identical
# (cmp) to the seeder's content copied out of the seeder's; the corrupting peer
# really sent corrupt blocks, at least one leecher banned it and none banned
# more than one peer (the honest ones are never banned); afterwards no
# container, network or volume of the compose project is left (docker ps -a,
# network ls, volume ls by the project's label, and each volume the containers
# had, anonymous ones included). Skips (77) when no Docker engine answers; the
# ACTORRENT argument is not used (the image builds its own binary).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v docker >/dev/null 2>&1 || skip "no docker command: this test needs a Docker engine"
timeout 20 docker info >/dev/null 2>&1 || skip "no Docker engine answers 'docker info'"
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 ||
  fail "neither docker-compose nor 'docker compose' is installed (scripts/dev.sh deps)"
need_tool cmp
it_setup

LEECHERS=6
PROJECT=actorrent-it-swarm-$$
COLLECT=$WORKDIR/collect
label=label=com.docker.compose.project=$PROJECT

# Whatever happens, nothing of the project stays (swarm-up.sh tears down by
# itself; this is for a swarm-up.sh that was killed).
cleanup() {
  local ids
  ids=$(docker ps -aq --filter "$label" 2>/dev/null || true)
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
  ids=$(docker network ls -q --filter "$label" 2>/dev/null || true)
  [[ -z "$ids" ]] || docker network rm $ids >/dev/null 2>&1 || true
  ids=$(docker volume ls -q --filter "$label" 2>/dev/null || true)
  [[ -z "$ids" ]] || docker volume rm -f $ids >/dev/null 2>&1 || true
}
trap 'cleanup; bg_stop_all' EXIT

note "swarm-up.sh: 1 seeder, $LEECHERS leechers, 1 corrupting peer (project $PROJECT)"
rc=0
timeout --kill-after=60 1400 "$ROOT/scripts/swarm-up.sh" -n "$LEECHERS" --size-mib 8 --timeout 300 \
  --project "$PROJECT" --collect "$COLLECT" 2>&1 | tee "$WORKDIR/swarm-up.log" || rc=$?
((rc == 0)) || fail "swarm-up.sh exited $rc (log: $WORKDIR/swarm-up.log)"
grep -q "^RESULT: $LEECHERS of $LEECHERS leechers complete and verified" "$COLLECT/summary.txt" ||
  fail "not every leecher completed and verified its data: $(grep '^RESULT' "$COLLECT/summary.txt")"

note "each leecher's file against the seeder's content (copied out of the containers)"
check_eq "seeder's content size" $((8 * 1024 * 1024)) "$(stat -c %s "$COLLECT/seeder.bin")"
for ((k = 0; k < LEECHERS; k++)); do
  cmp -- "$COLLECT/seeder.bin" "$COLLECT/leecher-$k.bin" || fail "leecher $k's file differs from the seeder's"
done
echo "   ok: $LEECHERS files byte-identical to the seeder's"

note "the corrupting peer and the bans"
served=$(grep -h '^bad-seed: served' "$COLLECT/badpeer.log" | tail -n 1) || fail "no summary from the corrupting peer"
echo "   $served"
[[ "$served" =~ served\ [0-9]+\ blocks,\ ([0-9]+)\ corrupt ]] || fail "cannot read '$served'"
((BASH_REMATCH[1] > 0)) || fail "the corrupting peer sent no corrupt block: the case tests nothing"
bans=0 banners=0
while read -r b; do
  ((b <= 1)) || fail "a leecher banned $b peers: only one peer lies"
  bans=$((bans + b))
  ((b == 0)) || banners=$((banners + 1))
done < <(grep -h '^swarm-result ' "$COLLECT"/*leecher*.log | sed -n 's/.* banned=\([0-9]*\).*/\1/p')
((banners >= 1)) || fail "no leecher banned the corrupting peer"
echo "   ok: $banners of $LEECHERS leechers banned the liar, none banned anyone else"

note "nothing of the project is left"
check_eq "containers of $PROJECT" "" "$(docker ps -aq --filter "$label")"
check_eq "networks of $PROJECT" "" "$(docker network ls -q --filter "$label")"
check_eq "volumes of $PROJECT" "" "$(docker volume ls -q --filter "$label")"
n=0
while read -r v; do
  [[ -n "$v" ]] || continue
  docker volume inspect "$v" >/dev/null 2>&1 && fail "volume $v is left behind"
  n=$((n + 1))
done <"$COLLECT/volumes.txt"
((n >= LEECHERS + 1)) || fail "only $n volumes were recorded (expected one per leecher and the shared one)"
echo "   ok: no container, network or volume left ($n volumes checked by name)"
echo "PASS: docker_swarm ($LEECHERS leechers byte-identical, liar banned, ${SECONDS}s)"
