#!/usr/bin/env bash
# The swarm as a Docker swarm-mode stack on one node: deploy/stack.yml, the
# leechers (deploy.replicas: 6) on an overlay network.
#
#   bash docker_stack.sh ACTORRENT WORKDIR
#
# Makes the images when they are missing (scripts/docker-base.sh, then
# docker-compose build: cached after the first time), runs `docker swarm init`
# if this engine is in no swarm (and leaves it again at the end, removing the
# docker_gwbridge network the init made), `docker stack deploy`, and waits for
# the six leecher tasks. Checks: all six tasks end Complete (exit 0), each
# leecher's swarm-result line says verified=yes; each leecher's file, copied
# out of its stopped container, is byte-identical (cmp) to the seeder's; the
# corrupting peer sent corrupt blocks, some leecher banned it and none banned
# more than one peer; the tracker's scrape counts the seeder. Then `docker stack
# rm`, the stack's volumes removed, and nothing of it (containers, networks,
# volumes, services) is left. Skips (77) when no Docker engine answers, or when
# the engine is in a swarm this node does not manage.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v docker >/dev/null 2>&1 || skip "no docker command: this test needs a Docker engine"
timeout 20 docker info >/dev/null 2>&1 || skip "no Docker engine answers 'docker info'"
if command -v docker-compose >/dev/null 2>&1; then COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
else fail "neither docker-compose nor 'docker compose' is installed (scripts/dev.sh deps)"; fi
need_tool cmp
it_setup

STACK=arit$$
LEECHERS=6
ns=label=com.docker.stack.namespace=$STACK
MADE_SWARM=0
HAD_GWBRIDGE=0
VOLUMES=()

remember_volumes() {
  local ids v
  ids=$(docker ps -aq --filter "$ns")
  [[ -n "$ids" ]] || return 0
  for v in $(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' $ids); do
    [[ " ${VOLUMES[*]} " == *" $v "* ]] || VOLUMES+=("$v")
  done
}

# stack_down: remove the stack, wait (bounded) for its containers and network
# to go, remove its volumes; leave the swarm if this test made it.
stack_down() {
  local t v
  remember_volumes || true
  docker stack rm "$STACK" >/dev/null 2>&1 || true
  for ((t = 0; t < 60; t++)); do
    [[ -z "$(docker ps -aq --filter "$ns")$(docker network ls -q --filter "$ns")" ]] && break
    sleep 1
  done
  for v in "${VOLUMES[@]}" $(docker volume ls -q --filter "$ns"); do
    docker volume rm -f "$v" >/dev/null 2>&1 || true
  done
  if ((MADE_SWARM)); then
    docker swarm leave --force >/dev/null 2>&1 || true
    MADE_SWARM=0
    if ((HAD_GWBRIDGE == 0)); then
      for ((t = 0; t < 20; t++)); do
        docker network rm docker_gwbridge >/dev/null 2>&1 && break
        docker network inspect docker_gwbridge >/dev/null 2>&1 || break
        sleep 1
      done
    fi
  fi
}
trap 'stack_down; bg_stop_all' EXIT

note "images (made when missing, cached otherwise)"
"$ROOT/scripts/docker-base.sh"
t=$SECONDS
with_timeout 1200 "${COMPOSE[@]}" -p "arit$$" -f "$ROOT/docker-compose.yml" build --force-rm -q tracker badpeer >/dev/null
echo "   images ready in $((SECONDS - t)) s"

state=$(docker info -f '{{.Swarm.LocalNodeState}}')
case "$state" in
  inactive)
    docker network inspect docker_gwbridge >/dev/null 2>&1 && HAD_GWBRIDGE=1
    note "docker swarm init (a one-node swarm, left again at the end)"
    MADE_SWARM=1
    with_timeout 60 docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    ;;
  active)
    [[ "$(docker info -f '{{.Swarm.ControlAvailable}}')" == true ]] ||
      skip "this engine is a worker of a swarm: a stack can only be deployed from a manager"
    note "using the engine's existing swarm (left as it is)"
    ;;
  *) fail "the engine's swarm state is '$state'" ;;
esac

note "docker stack deploy -c deploy/stack.yml $STACK"
t0=$SECONDS
with_timeout 120 docker stack deploy -c "$ROOT/deploy/stack.yml" "$STACK" >"$WORKDIR/deploy.log" 2>&1 ||
  fail "stack deploy failed: $(cat "$WORKDIR/deploy.log")"
check_eq "leecher replicas in the stack" "$LEECHERS" \
  "$(docker service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "${STACK}_leecher")"

note "waiting (at most 300 s) for the $LEECHERS leecher tasks"
while :; do
  states=$(docker service ps "${STACK}_leecher" --format '{{.DesiredState}} {{.CurrentState}}')
  done_n=$(grep -c '^Shutdown Complete' <<<"$states" || true)
  if grep -q 'Failed\|Rejected' <<<"$states"; then
    docker service logs --raw "${STACK}_leecher" 2>&1 | tail -n 30 >&2
    fail "a leecher task failed: $(tr '\n' ';' <<<"$states")"
  fi
  ((done_n == LEECHERS)) && break
  ((SECONDS - t0 < 300)) || fail "after 300 s: $(tr '\n' ';' <<<"$states")"
  sleep 2
done
echo "   all $LEECHERS leecher tasks Complete $((SECONDS - t0)) s after the deploy"
remember_volumes

note "results"
cid() { docker ps -aq --filter "$ns" --filter "label=com.docker.swarm.service.name=${STACK}_$1"; }
seeder=$(cid seeder)
docker cp "$seeder:/config/content/swarm.bin" "$WORKDIR/seeder.bin"
check_eq "seeder's content size" $((16 * 1024 * 1024)) "$(stat -c %s "$WORKDIR/seeder.bin")"
timeout 30 docker exec "$(cid tracker)" actorrent-swarm view | tee "$WORKDIR/tracker.txt"
grep -q '^tracker: torrent [0-9a-f]\{40\}: seeds [1-9]' "$WORKDIR/tracker.txt" || fail "the tracker does not count the seeder"
k=0 banners=0
for id in $(cid leecher); do
  check_eq "exit status of leecher container $id" 0 "$(docker inspect -f '{{.State.ExitCode}}' "$id")"
  line=$(docker logs "$id" 2>&1 | grep '^swarm-result ' | tail -n 1)
  echo "   ${line#swarm-result }"
  check_contains "leecher $id's result" "verified=yes" "$line"
  b=$(sed -n 's/.* banned=\([0-9]*\).*/\1/p' <<<"$line")
  ((b <= 1)) || fail "leecher $id banned $b peers: only one peer lies"
  ((b == 0)) || banners=$((banners + 1))
  docker cp "$id:/downloads/swarm.bin" "$WORKDIR/leecher-$k.bin"
  cmp -- "$WORKDIR/seeder.bin" "$WORKDIR/leecher-$k.bin" || fail "leecher $id's file differs from the seeder's"
  k=$((k + 1))
done
check_eq "leecher containers" "$LEECHERS" "$k"
echo "   ok: $k files byte-identical to the seeder's"
with_timeout 60 docker service scale "${STACK}_badpeer=0" >/dev/null 2>&1
for ((t = 0; t < 30; t++)); do
  served=$(docker logs "$(cid badpeer | head -n 1)" 2>&1 | grep '^bad-seed: served' || true)
  [[ -n "$served" ]] && break
  sleep 1
done
echo "   $served"
[[ "$served" =~ served\ [0-9]+\ blocks,\ ([0-9]+)\ corrupt ]] || fail "no summary from the corrupting peer"
((BASH_REMATCH[1] > 0)) || fail "the corrupting peer sent no corrupt block: the case tests nothing"
((banners >= 1)) || fail "no leecher banned the corrupting peer"
echo "   ok: $banners of $LEECHERS leechers banned the liar"

note "docker stack rm, and nothing left"
stack_down
check_eq "services of $STACK" "" "$(docker service ls -q --filter "$ns" 2>/dev/null || true)"
check_eq "containers of $STACK" "" "$(docker ps -aq --filter "$ns")"
check_eq "networks of $STACK" "" "$(docker network ls -q --filter "$ns")"
for v in "${VOLUMES[@]}"; do
  docker volume inspect "$v" >/dev/null 2>&1 && fail "volume $v is left behind"
done
((${#VOLUMES[@]} >= LEECHERS + 1)) || fail "only ${#VOLUMES[@]} volumes recorded"
echo "   ok: nothing left (${#VOLUMES[@]} volumes checked by name); swarm state now $(docker info -f '{{.Swarm.LocalNodeState}}')"
echo "PASS: docker_stack ($LEECHERS leechers on an overlay network byte-identical, liar banned, ${SECONDS}s)"
