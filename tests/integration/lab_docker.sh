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
#    As root the coordinator runs inside the lab network (setns into the holder
#    container of the bridge address, 10.77.0.1, which the tracker shares): every
#    sample comes over BASP and the four peers have four distinct CAF node IDs.
# 3. BASP (as root; otherwise SKIP): a wire fault window (corrupt_blocks) on a second
#    seeder and a disk fault window (full_after) on a leecher, set over BASP in the
#    containers: both accepted on and off with counters, the oracles pass, the
#    coordinator's connection from 10.77.0.1 to a peer's control port is seen in
#    that peer's /proc/net/tcp during the run.
# 4. CAF node IDs in containers: two actorrent seeders in one container have
#    distinct node IDs (`lab control` drives both); two seeders each PID 1 of its
#    own container, sharing one network namespace, have the same one, and `lab
#    control` stops with the error naming both (what the lab's coordinator does
#    on a clash).
# 5. A pause fault (docker pause) on a leecher and a churn (docker kill, then docker
#    start) of the other, both with no network fault: the paused one's container has
#    no added capability; the churned one is sampled again (over BASP) after its
#    restart; the run passes.
# 6. Ctrl-C (SIGINT to the runner) mid-run with a wire fault window open: exit 1,
#    report says interrupted, and `docker ps -a`, `docker network ls`, `docker
#    volume ls` filtered by the run's label are empty, no docker client of the run
#    is left.
# 7. A runner killed with SIGKILL leaves its containers; `lab cleanup` removes them.
# After each run: nothing labelled with its run id is left, and no new volume.
# Skips (77) without a Docker engine. Runs beside other lab runs only if none
# uses the Docker lab's subnet (10.77.0.0/16).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# report_check (the lab tests' report checks) from lab_lib.sh, which only defines functions;
# its nothing_left (namespaces) is replaced below by this test's (containers, networks, volumes)
source "$(dirname "$0")/lab_lib.sh"

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
  - {at: 1s, kind: churn, targets: leechers-2, down_for: 2s}
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
check_contains "dry run" "--network container:alab-RUNID-coord --user 0" "$out"
check_contains "dry run" "--name alab-RUNID-coord --label actorrent.lab=1 --label actorrent.lab.run=RUNID --network alab-RUNID --ip 10.77.0.1" "$out"
if [[ $(id -u) -eq 0 ]]; then
  check_contains "dry run" "coordinator: a CAF actor system started inside /proc/<PID of alab-RUNID-coord>/ns/net" "$out"
  check_contains "dry run" "--control 10.77.0.4:7070" "$out"
fi
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
if [[ $(id -u) -eq 0 ]]; then
  grep -q "^lab: coordinator (CAF, BASP) in namespace /proc/[0-9]*/ns/net$" "$WORKDIR/run.log" ||
    fail "the runner did not start the coordinator in the lab network"
  timeout 30 "$PY" - "$WORKDIR/run/samples.jsonl" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(l["source"] == "basp" for l in lines), "samples not from BASP"
assert sum(1 for l in lines if l.get("percent") is not None) >= 8, "too few BASP samples with progress"
nodes = {l["node"] for l in lines if l.get("node")}
assert len(nodes) == 4, ("expected 4 distinct node IDs", nodes)
print("   every sample over BASP; node IDs %s" % sorted(nodes))
PYEOF
fi
nothing_left "$id"

# basp_plan FILE FAULTS MAX: four actorrent peers, the last a second seeder (liars-1)
basp_plan() {
  cat >"$1" <<YAML
name: lab-docker-basp
seed: 7
torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: $3}
groups:
  # 16mbit: 8 MiB take >= 4 s, so the fault windows fall inside the download
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
  - {name: liars, kind: actorrent, count: 1, role: seed, link: {rate: 16mbit}}
faults:
$2
oracles: [all_honest_complete, data_intact, no_crash]
YAML
}

note "wire and disk fault windows over BASP, in containers"
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: wire/disk fault windows on docker: the coordinator enters the lab network only as root"
else
  basp_plan "$WORKDIR/basp.yaml" "  - {at: 1s, for: 2s, kind: wire, targets: liars, behavior: {corrupt_blocks: 10%}}
  - {at: 2s, for: 4s, kind: disk, targets: leechers-1, disk: {full_after: 1MiB}}" 90s
  out=$(with_timeout 30 "$AR" "${LAB[@]}" "$WORKDIR/basp.yaml" --out "$WORKDIR/dry-basp" --dry-run)
  [[ "$out" != *"NOT RUNNABLE"* ]] || fail "the docker backend refuses wire/disk faults as root: $out"
  check_contains "dry run" "wire fault on liars-1 over BASP (its control actor at 10.77.0.5:7070)" "$out"
  rc=0
  "$AR" "${LAB[@]}" "$WORKDIR/basp.yaml" --out "$WORKDIR/basp" 2>"$WORKDIR/basp.log" &
  RUNNER=$!
  BG_PIDS+=("$RUNNER")
  # while it runs: the coordinator's connection (from 10.77.0.1 = 01004D0A) to
  # seeders-1's control port (7070 = 1B9E) in that container's /proc/net/tcp
  seen=
  for ((i = 0; i < 300; i++)); do
    id=$(run_id "$WORKDIR/basp.log")
    if [[ -n "$id" ]]; then
      tcp=$(timeout 10 docker exec "alab-$id-seeders-1" cat /proc/net/tcp 2>/dev/null || true)
      if grep -Eq '^ *[0-9]+: [0-9A-F]{8}:1B9E 01004D0A:[0-9A-F]{4} 01 ' <<<"$tcp"; then seen=1; break; fi
    fi
    kill -0 "$RUNNER" 2>/dev/null || break
    sleep 0.2
  done
  lab_wait "$RUNNER" 160 # the plan's max_duration (90 s) plus the teardown of the containers, on a loaded machine
  rc=$LAB_RC
  cat "$WORKDIR/basp.log"
  id=$(run_id "$WORKDIR/basp.log"); RUN_IDS+=("$id")
  check_eq "lab run exit status (wire and disk over BASP)" 0 "$rc"
  [[ -n "$seen" ]] || fail "no established connection from 10.77.0.1 to seeders-1's control port 7070 was seen"
  echo "   seeders-1's /proc/net/tcp: an established connection from 10.77.0.1 to :7070"
  report_check "$WORKDIR/basp/report.json" \
    'r["backend"]["name"] == "docker"' \
    'all(p["completed"] and p["data_ok"] and not p["crashed"] for p in r["peers"])' \
    'all(o["passed"] for o in r["oracles"]) and len(r["oracles"]) == 3' \
    'r["faults"][0]["kind"] == "wire" and r["faults"][0]["applied"]["count"] == 2' \
    'r["faults"][0]["applied"]["peers"]["liars-1"]["on"]["accepted"] is True' \
    'any(k.startswith("wire.") for k in r["faults"][0]["applied"]["peers"]["liars-1"]["off"]["counters"])' \
    'r["faults"][1]["kind"] == "disk" and r["faults"][1]["applied"]["count"] == 2' \
    'int(r["faults"][1]["applied"]["peers"]["leechers-1"]["off"]["counters"]["disk.injected_full"]) > 0'
  timeout 30 "$PY" - "$WORKDIR/basp/samples.jsonl" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(l["source"] == "basp" for l in lines), "samples not from BASP"
nodes = {l["node"] for l in lines if l.get("node")}
assert len(nodes) == 4, ("expected 4 distinct node IDs", nodes)
paused = [l["t"] for l in lines if l["peer"] == "leechers-1" and l.get("state") == "paused"
          and any("disk:" in e for e in l.get("errors", []))]
assert paused, "leechers-1 never sampled as paused with a disk error"
print("   leechers-1 paused by the disk fault at t=%s; node IDs %s" % (paused, sorted(nodes)))
PYEOF
  nothing_left "$id"
fi

note "CAF node IDs of actorrent peers in containers"
NID=alab-nodeid-$$
NID_LABEL=actorrent.test=lab_docker-$$
mkdir -p "$WORKDIR/nid/seed"
make_random "$WORKDIR/nid/seed/payload" $((256 * 1024))
with_timeout 60 "$AR" create "$WORKDIR/nid/seed/payload" -o "$WORKDIR/nid/t.torrent" -l 65536 >/dev/null
chmod -R a+rX "$WORKDIR/nid"
nid_cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=$NID_LABEL" 2>/dev/null || true)
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
}
trap 'bg_stop_all; cleanup; nid_cleanup' EXIT
# a seeder writes its content's folder: each copies it into its own /tmp
SEED=(seed /t/t.torrent /tmp/seed --no-trackers --json-progress)
NIDRUN=(docker run -d --label "$NID_LABEL" --tmpfs /config --tmpfs /downloads -v "$WORKDIR/nid:/t:ro")
# lab_control CONTAINER PORT...: `actorrent lab control` inside CONTAINER, retried
# (bounded) while the seeders are still publishing; its output in $out, status in $rc
lab_control() {
  local c=$1 args=() p k
  shift
  for p in "$@"; do args+=("127.0.0.1:$p"); done
  for ((k = 0; k < 20; k++)); do
    rc=0
    out=$(timeout 60 docker exec "$c" actorrent lab control "${args[@]}" --wait 5 2>&1) || rc=$?
    [[ "$out" == *"same CAF node ID"* || $rc -eq 0 ]] && return 0
    sleep 0.5
  done
}
"${NIDRUN[@]}" --name "$NID-one" --network none --entrypoint bash "$IMAGE" -c \
  "cp -r /t/seed /tmp/seed &&
   { actorrent ${SEED[*]} --port 6881 --control 127.0.0.1:7071 >/tmp/a.jsonl 2>/tmp/a.err &
     actorrent ${SEED[*]} --port 6882 --control 127.0.0.1:7072 >/tmp/b.jsonl 2>/tmp/b.err &
     sleep 120; }" >/dev/null
lab_control "$NID-one" 7071 7072
echo "$out" | sed 's/^/   /'
check_eq "lab control, two seeders in one container: exit status" 0 "$rc"
n1=$(grep '^{' <<<"$out" | head -1 | json_get node)
n2=$(grep '^{' <<<"$out" | tail -1 | json_get node)
[[ -n "$n1" && -n "$n2" && "$n1" != "$n2" ]] || fail "two peers in one container: node IDs '$n1' and '$n2'"
check_eq "host part of both node IDs (one container)" "${n1%%#*}" "${n2%%#*}"
echo "   one container, two peers: $n1 and $n2 (same host hash, distinct PIDs)"
# each seeder PID 1 of its container (exec), the second in the first one's network namespace
"${NIDRUN[@]}" --name "$NID-twin1" --network none --entrypoint bash "$IMAGE" -c \
  "cp -r /t/seed /tmp/seed && exec actorrent ${SEED[*]} --port 6881 --control 127.0.0.1:7071" >/dev/null
"${NIDRUN[@]}" --name "$NID-twin2" --network "container:$NID-twin1" --entrypoint bash "$IMAGE" -c \
  "cp -r /t/seed /tmp/seed && exec actorrent ${SEED[*]} --port 6882 --control 127.0.0.1:7072" >/dev/null
lab_control "$NID-twin1" 7071 7072
echo "$out" | sed 's/^/   /'
check_eq "lab control, two PID-1 seeders sharing a network namespace: exit status" 1 "$rc"
check_contains "clash message" "have the same CAF node ID" "$out"
check_contains "clash message" "127.0.0.1:7071" "$out"
check_contains "clash message" "127.0.0.1:7072" "$out"
check_contains "node ID of PID 1" "#1" "$out"
nid_cleanup
left=$(docker ps -aq --filter "label=$NID_LABEL")
[[ -z "$left" ]] || fail "node-ID containers left: $left"

note "pause (docker pause) and churn (docker kill, docker start) of peers with no network fault: no capability added, passes"
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
  'r["faults"][0]["applied"]["count"] == 2' \
  'r["faults"][1]["kind"] == "churn" and r["faults"][1]["applied"]["count"] == 2'
grep -q '"peer":"leechers-1","running":true,"paused":true' "$WORKDIR/pause/samples.jsonl" ||
  fail "no sample shows leechers-1 paused"
# the churned leecher: down for a while, then sampled again (over BASP when the
# coordinator runs: the restarted container is a new connection)
src=json; [[ $(id -u) -eq 0 ]] && src=basp
timeout 30 "$PY" - "$WORKDIR/pause/samples.jsonl" "$src" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip() and '"leechers-2"' in l]
down = [l["t"] for l in lines if not l["running"]]
assert down, "leechers-2 was never sampled down"
back = [l["t"] for l in lines if l["running"] and l["t"] > max(down) and l.get("percent") is not None
        and (sys.argv[2] != "basp" or l["source"] == "basp")]
assert back, ("leechers-2 not sampled again after its restart", lines)
print("   leechers-2 down at t=%s, sampled (%s) again from t=%s" % (down, sys.argv[2], back[0]))
PYEOF
nothing_left "$id"

note "Ctrl-C mid-run, a wire fault window open: containers, network and volumes of the run are removed, exit 1"
basp_plan "$WORKDIR/long.yaml" "  - {at: 0s, kind: partition, between: [leechers, [seeders, liars]]}
  - {at: 0s, kind: wire, targets: liars, behavior: {corrupt_blocks: 10%}}" 60s
"$AR" "${LAB[@]}" "$WORKDIR/long.yaml" --out "$WORKDIR/int" 2>"$WORKDIR/int.log" &
RUNNER=$!
BG_PIDS+=("$RUNNER")
wait_until 60 "$RUNNER" "lab run" "$WORKDIR/int.log" "no samples" test -s "$WORKDIR/int/samples.jsonl"
sleep 2
id=$(run_id "$WORKDIR/int.log"); RUN_IDS+=("$id")
n=$(docker ps -q --filter "label=$LABEL=$id" | wc -l)
((n == 10)) || fail "expected 10 running containers of run $id (tracker, coordinator holder, 4 peers, 4 holders), found $n"
kill -INT "$RUNNER"
rc=0
for ((i = 0; i < 600; i++)); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
wait "$RUNNER" || rc=$?
bg_forget "$RUNNER"
cat "$WORKDIR/int.log"
check_eq "lab run exit status (interrupted)" 1 "$rc"
report_check "$WORKDIR/int/report.json" 'r["interrupted"] is True' 'not any(p["crashed"] for p in r["peers"])' \
  'r["faults"][1]["kind"] == "wire" and r["faults"][1]["applied"]["peers"]["liars-1"]["on"]["accepted"] is True'
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
