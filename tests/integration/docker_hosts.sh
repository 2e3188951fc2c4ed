#!/usr/bin/env bash
# Several machines, played by three containers on one internal Docker network
# (issue 13): a coordinator (this script, as it would over ssh, plus a fourth
# container speaking BASP) spreads a swarm over them and reaches each "machine"
# at its own address.
#
#   bash docker_hosts.sh ACTORRENT WORKDIR
#
# host-a runs the tracker (opentracker) and the seeder; host-b and host-c each run
# TWO actorrent leechers (ports 6881 and 6882) of 16 MiB made on host-a (the
# ACTORRENT under test, mounted into the image, which has its libraries), the
# torrent handed out by the coordinator (docker cp, its scp). Checks: every
# leecher exits 0 with data identical to the seeder's (sha256), and the tracker
# saw 4 completed downloads.
# CAF node IDs (CAF 0.17: a hash of the MAC addresses and the root file system's
# UUID, then '#' and the PID): two processes in one container differ (their PIDs
# differ); processes in different containers differ (their MACs differ); and the
# case that does collide: two containers sharing one network namespace
# (--network container:X), each process PID 1 of its own PID namespace, get the
# SAME node ID, as do two containers one after the other at one address (Docker
# derives the MAC from the address), and a BASP coordinator that reaches the first
# twin gets the first twin again when it asks the second. Then a coordinator container
# connects over BASP to an actor on each of host-a, host-b and host-c and gets
# three distinct node IDs and host names.
# Needs g++ and libcaf-dev (the test builds its small CAF program,
# caf_node_id.cpp, and runs it in the containers). Skips (77) without a Docker
# engine; nothing is left (containers, network, volumes by the test's label).
# ACTORRENT_DOCKER_NO_BUILD=1: use the image as it is when it exists.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v docker >/dev/null 2>&1 || skip "no docker command: this test needs a Docker engine"
timeout 20 docker info >/dev/null 2>&1 || skip "no Docker engine answers 'docker info'"
need_tool g++ sha256sum
it_setup

IMAGE=${ACTORRENT_IMAGE:-actorrent:latest}
T_ALL=$SECONDS
NET=alab-hosts-$$
VOLUMES_BEFORE=$(docker volume ls -q | sort)
LABEL=actorrent.test=docker_hosts-$$
cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=$LABEL" 2>/dev/null || true)
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap 'bg_stop_all; cleanup' EXIT

note "images (scripts/docker-base.sh, docker build: cached)"
if [[ -n ${ACTORRENT_DOCKER_NO_BUILD:-} ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "   ACTORRENT_DOCKER_NO_BUILD: the image as it is"
else
  with_timeout 900 "$ROOT/scripts/docker-base.sh" >"$WORKDIR/base.log" 2>&1 || { cat "$WORKDIR/base.log"; fail "docker-base.sh failed"; }
  with_timeout 1200 docker build --force-rm -q -f "$ROOT/deploy/Dockerfile" --target runtime -t "$IMAGE" "$ROOT" >"$WORKDIR/build.log" 2>&1 ||
    { tail -n 30 "$WORKDIR/build.log"; fail "docker build failed"; }
fi

note "the CAF test program (caf_node_id.cpp)"
mkdir -p "$WORKDIR/bin"
with_timeout 300 g++ -std=c++17 -O1 "$(dirname "$0")/caf_node_id.cpp" -o "$WORKDIR/bin/caf_node_id" -lcaf_io -lcaf_core ||
  fail "cannot build caf_node_id.cpp (libcaf-dev)"
# the actorrent under test (ACTORRENT, built on this Debian 12 machine) runs in the
# image, which has its libraries: the test checks this tree, not the image's build
cp -- "$AR" "$WORKDIR/bin/actorrent"
chmod 755 "$WORKDIR" "$WORKDIR/bin" "$WORKDIR/bin/actorrent"

# A "machine": a container on the network with its own address; the test's
# program mounted read-only.
machine() { # machine NAME [docker run options...]
  local name=$1
  shift
  docker run -d --name "$NET-$name" --label "$LABEL" --hostname "$name" -v "$WORKDIR/bin:/opt/t:ro" "$@" \
    --entrypoint sleep "$IMAGE" 600 >/dev/null
}
ip_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NET-$1"; }
on() { local m=$1; shift; timeout 60 docker exec "$NET-$m" "$@"; }

docker network create --internal --label "$LABEL" "$NET" >/dev/null
for m in host-a host-b host-c; do machine "$m" --network "$NET"; done
A=$(ip_of host-a) B=$(ip_of host-b) C=$(ip_of host-c)
echo "   host-a $A, host-b $B, host-c $C"
[[ -n "$A" && -n "$B" && -n "$C" && "$A" != "$B" && "$B" != "$C" && "$A" != "$C" ]] || fail "the machines have no distinct addresses"

note "host-a: content, torrent, tracker, seeder"
on host-a bash -c 'mkdir -p /tmp/lab/seed && head -c 16777216 /dev/urandom >/tmp/lab/seed/payload'
on host-a /opt/t/actorrent create /tmp/lab/seed/payload -t "http://$A:6969/announce" -l 256K -o /tmp/lab/swarm.torrent -q
hash=$(on host-a /opt/t/actorrent info /tmp/lab/swarm.torrent | sed -n 's/^info-hash:[[:space:]]*\([0-9a-f]\{40\}\).*/\1/p')
[[ ${#hash} -eq 40 ]] || fail "no info-hash"
on host-a bash -c "echo $hash >/tmp/lab/whitelist && chmod 755 /tmp/lab && chmod 644 /tmp/lab/whitelist"
docker exec -d -u 0 "$NET-host-a" opentracker -p 6969 -P 6969 -d /tmp/lab -w whitelist
docker exec -d "$NET-host-a" bash -c '/opt/t/actorrent seed /tmp/lab/swarm.torrent /tmp/lab/seed --port 6881 --json-progress >/tmp/lab/seed.jsonl 2>/tmp/lab/seed.err'
want=$(on host-a sha256sum /tmp/lab/seed/payload | cut -d' ' -f1)

note "the coordinator hands the torrent to host-b and host-c (docker cp, as scp would)"
docker cp "$NET-host-a:/tmp/lab/swarm.torrent" "$WORKDIR/swarm.torrent"
for m in host-b host-c; do
  on "$m" mkdir -p /tmp/lab
  docker cp "$WORKDIR/swarm.torrent" "$NET-$m:/tmp/lab/swarm.torrent"
  on "$m" bash -c 'test -s /tmp/lab/swarm.torrent' || fail "no torrent on $m"
done

note "two leechers on each of host-b and host-c"
t0=$SECONDS
for m in host-b host-c; do
  for k in 1 2; do
    docker exec -d "$NET-$m" bash -c "/opt/t/actorrent download /tmp/lab/swarm.torrent -o /tmp/lab/d$k --port 688$k \
      --json-progress --timeout 150 >/tmp/lab/l$k.jsonl 2>/tmp/lab/l$k.err; echo \$? >/tmp/lab/l$k.rc"
  done
done
for ((i = 0; i < 360; i++)); do
  done_n=0
  for m in host-b host-c; do
    for k in 1 2; do on "$m" test -s "/tmp/lab/l$k.rc" && done_n=$((done_n + 1)); done
  done
  ((done_n == 4)) && break
  sleep 0.5
done
((done_n == 4)) || fail "only $done_n of 4 leechers ended within 180 s"
echo "   4 leechers ended in $((SECONDS - t0)) s"
for m in host-b host-c; do
  for k in 1 2; do
    rc=$(on "$m" cat "/tmp/lab/l$k.rc")
    [[ "$rc" == 0 ]] || { on "$m" tail -n 5 "/tmp/lab/l$k.err" || true; fail "$m leecher $k exited $rc"; }
    got=$(on "$m" sha256sum "/tmp/lab/d$k/payload" | cut -d' ' -f1)
    check_eq "$m leecher $k's data" "$want" "$got"
  done
done
scrape=$(docker run --rm --label "$LABEL" --network "$NET" --entrypoint bash "$IMAGE" -c \
  'exec 3<>"/dev/tcp/$1/6969" && printf "GET %s HTTP/1.0\r\n\r\n" "$2" >&3 && timeout 5 cat <&3' \
  _ "$A" "/scrape?info_hash=$(sed 's/../%&/g' <<<"$hash")" | tr -d '\r' | tail -n 1)
downloaded=$(grep -ao 'downloadedi[0-9]*e' <<<"$scrape" | tr -dc 0-9)
echo "   tracker scrape: $scrape"
check_eq "downloads the tracker counted" 4 "$downloaded"

note "CAF node IDs: two processes in one container"
on host-b bash -c '/opt/t/caf_node_id print 3 >/tmp/n1 & /opt/t/caf_node_id print 3 >/tmp/n2; wait; cat /tmp/n1 /tmp/n2' >"$WORKDIR/same-container"
cat "$WORKDIR/same-container"
[[ $(sort -u "$WORKDIR/same-container" | wc -l) -eq 2 ]] || fail "two processes in one container share a node ID"
[[ $(cut -d'#' -f1 "$WORKDIR/same-container" | sort -u | wc -l) -eq 1 ]] || fail "one container, two host hashes"

note "CAF node IDs: PID 1 in containers of their own, and in two containers sharing one network namespace"
# run_print OPTIONS...: "ADDRESS NODE-ID" of a PID-1 process in a new container
run_print() {
  docker run --rm --label "$LABEL" "$@" -v "$WORKDIR/bin:/opt/t:ro" --entrypoint bash "$IMAGE" \
    -c 'printf "%s " "$(hostname -I | cut -d" " -f1)"; exec /opt/t/caf_node_id print'
}
# two at once (each its own address) ...
for k in 1 2; do
  docker run -d --name "$NET-own-$k" --label "$LABEL" --network "$NET" -v "$WORKDIR/bin:/opt/t:ro" --entrypoint bash \
    "$IMAGE" -c 'printf "%s " "$(hostname -I | cut -d" " -f1)"; exec /opt/t/caf_node_id print 3' >/dev/null
done
sleep 2
own1=$(docker logs "$NET-own-1") own2=$(docker logs "$NET-own-2")
docker rm -f -v "$NET-own-1" "$NET-own-2" >/dev/null
# ... and one after the other (each gets the lowest free address: the same one)
seq1=$(run_print --network "$NET") seq2=$(run_print --network "$NET")
shared1=$(run_print --network "container:$NET-host-b") shared2=$(run_print --network "container:$NET-host-b")
none1=$(run_print --network none) none2=$(run_print --network none)
printf '   at once, own addresses: %s | %s\n   one after the other:    %s | %s\n   sharing host-b'"'"'s:      %s | %s\n   --network none:         %s | %s\n' \
  "$own1" "$own2" "$seq1" "$seq2" "$shared1" "$shared2" "$none1" "$none2"
for x in "$own1" "$own2" "$seq1" "$seq2" "$shared1" "$shared2"; do
  [[ "$x" =~ ^[0-9.]+\ [0-9A-F]{40}#1$ ]] || fail "expected 'ADDRESS HASH#1', got '$x'"
done
[[ "${own1% *}" != "${own2% *}" && "${own1#* }" != "${own2#* }" ]] || fail "two containers at once: $own1 | $own2"
check_eq "address of two containers one after the other" "${seq1% *}" "${seq2% *}"
check_eq "node ID of two PID-1 processes in containers one after the other at one address (the collision)" "${seq1#* }" "${seq2#* }"
check_eq "node ID of two PID-1 processes sharing a network namespace (the collision)" "$shared1" "$shared2"
check_eq "node ID of two PID-1 processes with no network (the collision)" "${none1#* }" "${none2#* }"

note "what BASP makes of the collision: a coordinator reaches two peers with one node ID"
for t in 1 2; do
  docker run -d --name "$NET-twin-$t" --label "$LABEL" --network "container:$NET-host-c" -v "$WORKDIR/bin:/opt/t:ro" \
    --entrypoint /opt/t/caf_node_id "$IMAGE" serve 475$t 60 >/dev/null
done
sleep 2
twins=$(docker run --rm --label "$LABEL" --network "$NET" -v "$WORKDIR/bin:/opt/t:ro" --entrypoint timeout "$IMAGE" \
  40 /opt/t/caf_node_id ask "$C:4751" "$C:4752" 2>&1 || true)
echo "$twins" | sed 's/^/   /'
grep -q "^$C:4751 host-c .* served-by-port 4751$" <<<"$twins" || fail "the coordinator did not reach the first twin: $twins"
# CAF 0.17 takes the second connection for one more route to the node it knows:
# the "second" actor is the first one's proxy (same node, same actor ID), so the
# request meant for port 4752 is answered by the twin on 4751
grep -q "^$C:4752 host-c .* served-by-port 4751$" <<<"$twins" ||
  fail "expected the second twin's request to reach the first (one node ID, one node for CAF): $twins"
echo "   the request to the second twin was served by the first: the clash makes the two peers one node for CAF"

note "a BASP coordinator on the lab network reaches one actor on each machine"
for m in host-a host-b host-c; do docker exec -d "$NET-$m" /opt/t/caf_node_id serve 4242 60; done
sleep 2
out=$(docker run --rm --label "$LABEL" --network "$NET" -v "$WORKDIR/bin:/opt/t:ro" --entrypoint timeout "$IMAGE" \
  40 /opt/t/caf_node_id ask "$A:4242" "$B:4242" "$C:4242") || fail "the coordinator could not reach every machine: $out"
echo "$out" | sed 's/^/   /'
for pair in "$A host-a" "$B host-b" "$C host-c"; do
  grep -q "^${pair% *}:4242 ${pair#* } .* served-by-port 4242$" <<<"$out" || fail "no answer from ${pair#* } at ${pair% *}: $out"
done
[[ $(awk '{print $3}' <<<"$out" | sort -u | wc -l) -eq 3 ]] || fail "the three machines' node IDs are not distinct: $out"

cleanup
left=$(docker ps -aq --filter "label=$LABEL")
[[ -z "$left" ]] || fail "containers left: $left"
docker network inspect "$NET" >/dev/null 2>&1 && fail "network $NET left"
left=$(comm -13 <(echo "$VOLUMES_BEFORE") <(docker volume ls -q | sort))
[[ -z "$left" ]] || fail "new volumes left: $left"
echo "   docker_hosts took $((SECONDS - T_ALL)) s"
echo "PASS"
