#!/usr/bin/env bash
# Runs the compose swarm of docker-compose.yml, waits for its leechers, prints a
# summary and removes everything it made (also on Ctrl-C or failure).
#
#   scripts/swarm-up.sh [-n LEECHERS] [--size-mib M] [--no-badpeer] [--timeout S]
#                       [--project NAME] [--collect DIR] [--no-build]
#
#   -n N           leechers (default 6)
#   --size-mib M   size of the seeder's random content (default 16)
#   --no-badpeer   no corrupting peer
#   --timeout S    bound on the whole run after `up` (default 600)
#   --project NAME compose project name (default actorrent-swarm-PID)
#   --collect DIR  before tearing down, copy into DIR: the seeder's content
#                  (seeder.bin), each leecher's file (leecher-K.bin), every
#                  container's log (NAME.log), the summary (summary.txt), and
#                  at teardown the names of the project's volumes (volumes.txt)
#   --no-build     use the images as they are (default: make the base image if
#                  missing, then `build`, which is quick when cached)
#
# Summary: one line per leecher (exit status, data checked against the seeder's
# SHA-256 manifest, seconds from start of download to exit, bytes, bans, CPU
# seconds and peak memory of its container from its cgroup), the corrupting peer's
# own count of what it sent, and the tracker's view (scrape and opentracker's
# counters). Exit 0 when every leecher exited 0 with its data verified.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=6
SIZE=16
BAD=1
TIMEOUT=600
PROJECT=actorrent-swarm-$$
COLLECT=
BUILD=1
while (($# > 0)); do
  case "$1" in
    -n) N=$2; shift ;;
    --size-mib) SIZE=$2; shift ;;
    --no-badpeer) BAD=0 ;;
    --timeout) TIMEOUT=$2; shift ;;
    --project) PROJECT=$2; shift ;;
    --collect) COLLECT=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "swarm-up.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 ]] || { echo "swarm-up.sh: -n wants a number >= 1" >&2; exit 2; }

if command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  echo "swarm-up.sh: neither docker-compose nor 'docker compose' is installed" >&2
  exit 1
fi
COMPOSE+=(-p "$PROJECT" -f "$ROOT/docker-compose.yml")
export SWARM_SIZE_MIB=$SIZE
((BAD)) || export SWARM_BAD_PEERS=

say() { printf '[swarm-up %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

TMPDIR_DOWN=$(mktemp /tmp/swarm-up-down.XXXXXX)
VOLUMES=() # anonymous volumes of the project's containers (no project label on them)
remember_volumes() {
  local ids v
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
  [[ -n "$ids" ]] || return 0
  for v in $(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}' $ids); do
    [[ " ${VOLUMES[*]} " == *" $v "* ]] || VOLUMES+=("$v")
  done
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  remember_volumes || true
  [[ -z "$COLLECT" ]] || printf '%s\n' "${VOLUMES[@]}" >"$COLLECT/volumes.txt"
  say "tearing down project $PROJECT"
  if ! timeout 120 "${COMPOSE[@]}" down -v --remove-orphans -t 5 >"$TMPDIR_DOWN" 2>&1; then
    # (seen once with 50 leechers on a loaded machine: the network was left) remove
    # what is left by the project's label
    say "compose down failed ($(tail -n 1 "$TMPDIR_DOWN")); removing the project's objects by label"
    local ids label=label=com.docker.compose.project=$PROJECT
    ids=$(docker ps -aq --filter "$label"); [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
    ids=$(docker network ls -q --filter "$label"); [[ -z "$ids" ]] || docker network rm $ids >/dev/null 2>&1 || true
    ids=$(docker volume ls -q --filter "$label"); [[ -z "$ids" ]] || docker volume rm -f $ids >/dev/null 2>&1 || true
    [[ -z "$(docker network ls -q --filter "$label")$(docker ps -aq --filter "$label")" ]] || say "objects of $PROJECT left"
  fi
  rm -f -- "$TMPDIR_DOWN"
  local v left=()
  for v in "${VOLUMES[@]}"; do
    if docker volume inspect "$v" >/dev/null 2>&1; then
      docker volume rm -f "$v" >/dev/null 2>&1 || left+=("$v")
    fi
  done
  ((${#left[@]} == 0)) || say "volumes left behind: ${left[*]}"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

if ((BUILD)); then
  "$ROOT/scripts/docker-base.sh"
  t=$SECONDS
  services=(tracker)
  ((BAD == 0)) || services+=(badpeer)
  "${COMPOSE[@]}" build --force-rm -q "${services[@]}" >/dev/null
  say "images built in $((SECONDS - t)) s"
fi

scale=(--scale "leecher=$N" --scale "badpeer=$BAD")
t0=$SECONDS
say "up: tracker, seeder, $N leechers, $BAD corrupting peer(s), ${SIZE} MiB content"
"${COMPOSE[@]}" up -d --no-build "${scale[@]}" >/dev/null 2>&1 || {
  "${COMPOSE[@]}" up -d --no-build "${scale[@]}" || true
  echo "swarm-up.sh: compose up failed" >&2
  exit 1
}
remember_volumes

ids() { "${COMPOSE[@]}" ps -q "$1" 2>/dev/null; }
LEECHERS=$(ids leecher)
[[ $(wc -w <<<"$LEECHERS") -eq $N ]] || { echo "swarm-up.sh: expected $N leecher containers, found: $LEECHERS" >&2; exit 1; }
say "waiting (at most ${TIMEOUT}s) for the leechers"
while :; do
  running=0
  for id in $LEECHERS; do
    [[ "$(docker inspect -f '{{.State.Status}}' "$id")" == exited ]] || running=$((running + 1))
  done
  ((running == 0)) && break
  if ((SECONDS - t0 > TIMEOUT)); then
    say "timed out with $running leechers still running"
    break
  fi
  for s in seeder tracker; do
    [[ "$(docker inspect -f '{{.State.Status}}' "$(ids $s)")" == running ]] || {
      say "the $s exited early:"; docker logs --tail 20 "$(ids $s)" 2>&1; exit 1; }
  done
  sleep 1
done
say "all leechers done $((SECONDS - t0)) s after up"

[[ -z "$COLLECT" ]] || mkdir -p "$COLLECT"
SUMMARY=$(mktemp)
{
  echo "== leechers (seconds: from the start of its download to its exit; CPU and memory: its container's cgroup)"
  ok=0 k=0
  for id in $LEECHERS; do
    name=$(docker inspect -f '{{.Name}}' "$id")
    name=${name#/}
    code=$(docker inspect -f '{{if .State.Running}}running{{else}}{{.State.ExitCode}}{{end}}' "$id")
    line=$(docker logs "$id" 2>&1 | grep '^swarm-result ' | tail -n 1 || true)
    printf '%-28s exit %s  %s\n' "$name" "$code" "${line#swarm-result }"
    if [[ "$code" == 0 && "$line" == *"verified=yes"* ]]; then
      ok=$((ok + 1))
    else # where it stands: its last progress line
      echo "    last progress: $(docker cp "$id:/tmp/progress.json" - 2>/dev/null | tar -xO 2>/dev/null | tail -n 1)"
    fi
    if [[ -n "$COLLECT" ]]; then
      docker cp "$id:/downloads/swarm.bin" "$COLLECT/leecher-$k.bin" 2>/dev/null || true
      docker logs "$id" >"$COLLECT/$name.log" 2>&1 || true
    fi
    k=$((k + 1))
  done
  echo "leechers complete and verified: $ok of $N"
  if ((BAD)); then
    bid=$(ids badpeer)
    timeout 30 docker stop -t 10 "$bid" >/dev/null || true
    echo "== corrupting peer: $(docker logs "$bid" 2>&1 | grep '^bad-seed: served' | tail -n 1 || echo 'no summary')"
    [[ -z "$COLLECT" ]] || docker logs "$bid" >"$COLLECT/badpeer.log" 2>&1 || true
  fi
  echo "== seeder: $(timeout 30 docker exec "$(ids seeder)" actorrent-swarm usage 2>&1)"
  echo "== the tracker's view"
  timeout 30 docker exec "$(ids tracker)" actorrent-swarm view 2>&1 || echo "(no answer from the tracker)"
  if [[ -n "$COLLECT" ]]; then
    docker cp "$(ids seeder):/config/content/swarm.bin" "$COLLECT/seeder.bin" 2>/dev/null || true
    docker logs "$(ids seeder)" >"$COLLECT/seeder.log" 2>&1 || true
    docker logs "$(ids tracker)" >"$COLLECT/tracker.log" 2>&1 || true
  fi
  echo "RESULT: $ok of $N leechers complete and verified in $((SECONDS - t0)) s"
} | tee "$SUMMARY"
[[ -z "$COLLECT" ]] || cp "$SUMMARY" "$COLLECT/summary.txt"
grep -q "^RESULT: $N of $N " "$SUMMARY"
rc=$?
rm -f "$SUMMARY"
exit $rc
