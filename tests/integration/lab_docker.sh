#!/usr/bin/env bash
# The swarm lab on Docker (issue 13): `actorrent lab run --backend docker`, the
# same plans and report as the namespace backend, each peer a container on a
# private Docker network made for the run.
#
#   bash lab_docker.sh ACTORRENT WORKDIR
#
# 0. The images: scripts/docker-base.sh where the base is missing, then
#    `docker build` of the runtime and lab targets (cached: seconds; first time
#    ~5-10 min on 2 cores; ACTORRENT_DOCKER_NO_BUILD=1: the images as they are, when
#    they exist).
# 1. --dry-run: an internal network on the plan's subnet, NET_ADMIN only in the
#    holders of peers whose plan shapes or cuts their link, nothing made.
# 2. lab_short's plan (one seeder, three leechers, 8 MiB, rate-limited links with
#    loss, the leechers partitioned from the seeder from 1 s to 4 s) exits 0: every
#    leecher completed with intact data, every oracle holds, the partition was
#    applied and lifted with packets dropped; samples.jsonl has a line per peer and
#    second; the report names the docker backend.
# 3. A pause fault (docker pause) on a leecher with no network fault: its container
#    has no added capability; the run passes.
# 4. Ctrl-C (SIGINT to the runner) mid-run: exit 1, report says interrupted, and
#    `docker ps -a`, `docker network ls`, `docker volume ls` filtered by the run's
#    label are empty, no docker client of the run is left.
# 5. A runner killed with SIGKILL leaves its containers; `lab cleanup` removes them.
# After each run: nothing labelled with its run id is left, and no new volume.
# Skips (77) without a Docker engine. Runs beside other lab runs only if none
# uses the Docker lab's subnet (10.77.0.0/16).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v docker >/dev/null 2>&1 || skip "no docker command: this test needs a Docker engine"
timeout 20 docker info >/dev/null 2>&1 || skip "no Docker engine answers 'docker info'"
it_setup

IMAGE=${ACTORRENT_IMAGE:-actorrent:latest}
LAB_IMAGE=${ACTORRENT_LAB_IMAGE:-actorrent-lab:latest}
LABEL=actorrent.lab.run
VOLUMES_BEFORE=$(docker volume ls -q | sort)

# Whatever happens, nothing of this test's runs stays.
RUN_IDS=()
cleanup() {
  local id ids
  for id in "${RUN_IDS[@]}"; do
    ids=$(docker ps -aq --filter "label=$LABEL=$id" 2>/dev/null || true)
    [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
    ids=$(docker network ls -q --filter "label=$LABEL=$id" 2>/dev/null || true)
    [[ -z "$ids" ]] || docker network rm $ids >/dev/null 2>&1 || true
  done
}
trap 'bg_stop_all; cleanup' EXIT

# run_id LOG: the run id the runner logged ("lab: network of N peers + tracker (docker, run ID)").
run_id() { sed -n 's/^lab: network of .* (docker, run \([a-z0-9]*\))$/\1/p' "$1" | head -n 1; }

# nothing_left ID: no container, network or volume labelled with the run, no
# new volume at all, no docker client naming the run's containers.
nothing_left() {
  local id=$1 left
  [[ -n "$id" ]] || fail "no run id in the runner's log"
  left=$(docker ps -aq --filter "label=$LABEL=$id")
  [[ -z "$left" ]] || fail "containers of run $id left: $left"
  left=$(docker network ls -q --filter "label=$LABEL=$id")
  [[ -z "$left" ]] || fail "networks of run $id left: $left"
  left=$(docker volume ls -q --filter "label=$LABEL=$id")
  [[ -z "$left" ]] || fail "volumes of run $id left: $left"
  left=$(comm -13 <(echo "$VOLUMES_BEFORE") <(docker volume ls -q | sort))
  [[ -z "$left" ]] || fail "new volumes left: $left"
  if left=$(pgrep -af -- "alab-$id-" 2>/dev/null); then
    fail "processes of run $id left: $left"
  fi
}

# report_check REPORT PYTHON-EXPR...: each expression must be true of the report `r`.
report_check() {
  local report=$1
  shift
  timeout 30 "$PY" - "$report" "$@" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr, {"r": r, "all": all, "any": any, "len": len}):
        sys.exit("report check failed: %s\n%s" % (expr, json.dumps({k: r[k] for k in ("oracles", "faults", "error", "peers")}, indent=1)))
PYEOF
}

plan() { # plan FILE FAULTS ORACLES MAX: lab_short's swarm with the given faults
  cat >"$1" <<YAML
name: lab-short
seed: 12
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: $4}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 40mbit}}
  - {name: leechers, kind: actorrent, count: 3, role: leech, link: {rate: 80mbit, loss: 0.5%}}
faults:
$2
oracles: $3
YAML
}

T_ALL=$SECONDS
note "images: base (scripts/docker-base.sh) and actorrent, actorrent-lab (docker build, cached)"
t0=$SECONDS
if [[ -n ${ACTORRENT_DOCKER_NO_BUILD:-} ]] && docker image inspect "$IMAGE" "$LAB_IMAGE" >/dev/null 2>&1; then
  echo "   ACTORRENT_DOCKER_NO_BUILD: the images as they are"
else
  with_timeout 900 "$ROOT/scripts/docker-base.sh" >"$WORKDIR/base.log" 2>&1 || { cat "$WORKDIR/base.log"; fail "docker-base.sh failed"; }
  with_timeout 1200 docker build --force-rm -q -f "$ROOT/deploy/Dockerfile" --target runtime -t "$IMAGE" "$ROOT" >"$WORKDIR/build.log" 2>&1 ||
    { tail -n 30 "$WORKDIR/build.log"; fail "docker build (runtime) failed"; }
  with_timeout 600 docker build --force-rm -q -f "$ROOT/deploy/Dockerfile" --target lab -t "$LAB_IMAGE" "$ROOT" >>"$WORKDIR/build.log" 2>&1 ||
    { tail -n 30 "$WORKDIR/build.log"; fail "docker build (lab) failed"; }
fi
echo "   images ready in $((SECONDS - t0)) s"
LAB=(lab run --backend docker --docker-image "$IMAGE" --docker-lab-image "$LAB_IMAGE")

note "lab run --backend docker --dry-run: the network, the holders, the containers; makes nothing"
cat >"$WORKDIR/pause.yaml" <<YAML
name: lab-docker-pause
seed: 3
torrent: {size: 4MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 60s}
groups:
  # 8mbit: 4 MiB take the seeder >= 4 s, so leechers-1 is still there when it is paused and resumed
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 8mbit}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 2s, kind: pause, targets: leechers-1}
oracles: [all_honest_complete, data_intact, no_crash]
YAML
nets_before=$(docker network ls -q | wc -l)
out=$(with_timeout 30 "$AR" "${LAB[@]}" "$WORKDIR/pause.yaml" --out "$WORKDIR/dry" --dry-run)
check_contains "dry run" "docker network create --driver bridge --internal --subnet 10.77.0.0/16 --ip-range 10.77.254.0/24 --gateway 10.77.255.254" "$out"
check_contains "dry run" "NET_ADMIN holders for: seeders-1)" "$out"
check_contains "dry run" "--ip 10.77.0.2 --hostname seeders-1 --cap-add NET_ADMIN" "$out"
check_contains "dry run" "--network container:alab-RUNID-seeders-1-net" "$out"
check_contains "dry run" "--network alab-RUNID --ip 10.77.0.3 --hostname leechers-1 --user" "$out"
check_contains "dry run" "--entrypoint opentracker $IMAGE -i 10.77.0.1" "$out"
[[ $(grep -c -- '--cap-add NET_ADMIN' <<<"$out") -eq 1 ]] || fail "NET_ADMIN given to more than seeders-1's holder"
[[ ! -e "$WORKDIR/dry" ]] || fail "a dry run made $WORKDIR/dry"
check_eq "docker networks after a dry run" "$nets_before" "$(docker network ls -q | wc -l)"

note "lab_short's plan with --backend docker exits 0, the report as with namespaces"
plan "$WORKDIR/short.yaml" "  - {at: 1s, for: 3s, kind: partition, between: [leechers, seeders]}" \
  "[all_honest_complete, data_intact, no_honest_banned, misbehaving_banned, no_crash, {max_rss: 512MiB}]" 90s
t0=$SECONDS
rc=0
with_timeout 150 "$AR" "${LAB[@]}" "$WORKDIR/short.yaml" --out "$WORKDIR/run" 2>"$WORKDIR/run.log" || rc=$?
cat "$WORKDIR/run.log"
id=$(run_id "$WORKDIR/run.log"); RUN_IDS+=("$id")
check_eq "lab run exit status" 0 "$rc"
echo "   ran in $((SECONDS - t0)) s"
report_check "$WORKDIR/run/report.json" \
  'r["plan"]["name"] == "lab-short" and r["plan"]["seed"] == 12 and len(r["plan"]["sha256"]) == 64' \
  'r["backend"]["name"] == "docker" and len(r["backend"]["run_id"]) == 5' \
  'len(r["peers"]) == 4' \
  '[p["address"] for p in r["peers"]] == ["10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5"]' \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'all(p["completion_s"] > 0 for p in r["peers"] if p["role"] == "leech")' \
  'all(p["bytes_down"] >= 8 * 1024 * 1024 for p in r["peers"] if p["role"] == "leech")' \
  'all(p["peak_rss_bytes"] > 0 for p in r["peers"])' \
  'all(o["passed"] for o in r["oracles"]) and len(r["oracles"]) == 6' \
  'r["faults"][0]["kind"] == "partition" and r["faults"][0]["applied"]["count"] == 12' \
  'r["faults"][0]["applied"]["first_s"] >= 1 and r["faults"][0]["applied"]["last_s"] >= 4' \
  'r["faults"][0]["applied"]["dropped_packets"] > 0' \
  'r["interrupted"] is False and r["timed_out"] is False'
lines=$(wc -l <"$WORKDIR/run/samples.jsonl")
((lines >= 4 * 3)) || fail "samples.jsonl has $lines lines, expected at least 12"
nothing_left "$id"

note "a pause fault (docker pause) on a peer with no network fault: no capability added, passes"
"$AR" "${LAB[@]}" "$WORKDIR/pause.yaml" --out "$WORKDIR/pause" 2>"$WORKDIR/pause.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 60 "$RUNNER" "lab run" "$WORKDIR/pause.log" "no samples" test -s "$WORKDIR/pause/samples.jsonl"
id=$(run_id "$WORKDIR/pause.log"); RUN_IDS+=("$id")
for ((i = 0; i < 100; i++)); do # the peers' containers are made in the background
  docker inspect "alab-$id-leechers-1" "alab-$id-seeders-1-net" >/dev/null 2>&1 && break
  sleep 0.3
done
caps=$(docker inspect -f '{{.Name}} {{.HostConfig.CapAdd}}' "alab-$id-leechers-1" "alab-$id-seeders-1-net" 2>&1 || true)
echo "$caps"
grep -q "alab-$id-leechers-1 \[\]" <<<"$caps" || fail "leechers-1 runs with added capabilities: $caps"
grep -Eq "alab-$id-seeders-1-net \[(CAP_)?NET_ADMIN\]" <<<"$caps" || fail "the seeder's holder lacks NET_ADMIN: $caps"
rc=0
for ((i = 0; i < 900; i++)); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
wait "$RUNNER" || rc=$?
bg_forget "$RUNNER"
cat "$WORKDIR/pause.log"
check_eq "lab run exit status (pause)" 0 "$rc"
report_check "$WORKDIR/pause/report.json" \
  'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
  'r["faults"][0]["applied"]["count"] == 2'
grep -q '"peer":"leechers-1","running":true,"paused":true' "$WORKDIR/pause/samples.jsonl" ||
  fail "no sample shows leechers-1 paused"
nothing_left "$id"

note "Ctrl-C mid-run: containers, network and volumes of the run are removed, exit 1"
plan "$WORKDIR/long.yaml" "  - {at: 0s, kind: partition, between: [leechers, seeders]}" "[no_crash]" 60s
"$AR" "${LAB[@]}" "$WORKDIR/long.yaml" --out "$WORKDIR/int" 2>"$WORKDIR/int.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 60 "$RUNNER" "lab run" "$WORKDIR/int.log" "no samples" test -s "$WORKDIR/int/samples.jsonl"
sleep 2
id=$(run_id "$WORKDIR/int.log"); RUN_IDS+=("$id")
n=$(docker ps -q --filter "label=$LABEL=$id" | wc -l)
((n == 9)) || fail "expected 9 running containers of run $id (tracker, 4 peers, 4 holders), found $n"
kill -INT "$RUNNER"
rc=0
for ((i = 0; i < 600; i++)); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
wait "$RUNNER" || rc=$?
bg_forget "$RUNNER"
cat "$WORKDIR/int.log"
check_eq "lab run exit status (interrupted)" 1 "$rc"
report_check "$WORKDIR/int/report.json" 'r["interrupted"] is True' 'not any(p["crashed"] for p in r["peers"])'
nothing_left "$id"
echo "   docker ps -a / network ls / volume ls --filter label=$LABEL=$id: empty"

note "a runner killed with SIGKILL leaves its containers; lab cleanup removes them"
"$AR" "${LAB[@]}" "$WORKDIR/long.yaml" --out "$WORKDIR/crash" 2>"$WORKDIR/crash.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 60 "$RUNNER" "lab run" "$WORKDIR/crash.log" "no samples" test -s "$WORKDIR/crash/samples.jsonl"
id=$(run_id "$WORKDIR/crash.log"); RUN_IDS+=("$id")
kill -KILL "$RUNNER"
wait "$RUNNER" 2>/dev/null || true
bg_forget "$RUNNER"
n=$(docker ps -aq --filter "label=$LABEL=$id" | wc -l)
((n > 0)) || fail "expected the killed run's containers to be left"
out=$(with_timeout 120 "$AR" lab cleanup --backend docker)
echo "$out"
check_contains "lab cleanup" "removed container" "$out"
check_contains "lab cleanup" "removed network" "$out"
sleep 1 # the killed runner's docker clients end once their containers are gone
nothing_left "$id"
echo "   lab_docker took $((SECONDS - T_ALL)) s"
echo "PASS"
