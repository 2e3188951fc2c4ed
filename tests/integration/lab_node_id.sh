#!/usr/bin/env bash
# CAF node IDs and the lab's coordinator (lab/coordinator.hpp):
#
#   bash lab_node_id.sh ACTORRENT WORKDIR
#
# CAF 0.17.6 derives a node ID from the MAC addresses, the root disk's UUID
# and the PID, with no random part. Two actorrent seeders, each PID 1 of its
# own PID namespace (unshare --pid) but in one network namespace, get the
# same node ID: `actorrent lab control` connecting to both must stop with an
# error naming both (exit 1). Two seeders started normally (distinct PIDs)
# have distinct IDs and are both driven (exit 0).
# Skips (77) unless run as root with unshare.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
[[ $(id -u) -eq 0 ]] || skip "PID namespaces need root"
command -v unshare >/dev/null || skip "no unshare"
unshare --pid --fork true 2>/dev/null || skip "unshare --pid does not work here"
it_setup

make_random "$WORKDIR/seed/payload" $((1024 * 1024))
with_timeout 60 "$AR" create "$WORKDIR/seed/payload" -o "$WORKDIR/t.torrent" -l 262144 >/dev/null

# start_seed NAME [WRAPPER...]: a seeder with its control actor on a free port
# (run in this shell, not a subshell, so that its PID is stopped on exit); the
# port in CPORT, the PID (of `timeout`) in BG_LAST.
start_seed() {
  local name=$1
  shift
  ar_json_start "$WORKDIR/$name" 60 "$@" "$AR" seed "$WORKDIR/t.torrent" "$WORKDIR/seed" --json-progress --port 0 \
    --no-trackers --control 127.0.0.1:0
  wait_for_log "$WORKDIR/$name.err" "control actor on" 20 "$BG_LAST" "$name"
  CPORT=$(json_event "$WORKDIR/$name.json" control control_port)
}

note "two seeders, each PID 1 of its own PID namespace, in one network namespace"
start_seed twin1 unshare --pid --fork --kill-child
p1=$CPORT
start_seed twin2 unshare --pid --fork --kill-child
p2=$CPORT
rc=0
out=$(with_timeout 60 "$AR" lab control "127.0.0.1:$p1" "127.0.0.1:$p2" 2>&1) || rc=$?
echo "$out"
check_eq "lab control exit status (same node ID)" 1 "$rc"
check_contains "message" "have the same CAF node ID" "$out"
check_contains "message" "127.0.0.1:$p1" "$out"
check_contains "message" "127.0.0.1:$p2" "$out"
check_contains "node ID of PID 1" "#1" "$out"
bg_stop_all

note "two seeders with distinct PIDs: distinct node IDs, both driven"
start_seed one
p1=$CPORT
pid=$BG_LAST
start_seed two
p2=$CPORT
out=$(with_timeout 60 "$AR" lab control "127.0.0.1:$p1" "127.0.0.1:$p2")
echo "$out"
n1=$(head -1 <<<"$out" | json_get node)
n2=$(tail -1 <<<"$out" | json_get node)
[[ -n "$n1" && "$n1" != "$n2" ]] || fail "expected two distinct node IDs, got '$n1' and '$n2'"
check_eq "seeder state over BASP" seeding "$(head -1 <<<"$out" | json_get sample.state)"
out=$(with_timeout 60 "$AR" lab control "127.0.0.1:$p1" --stop)
check_eq "stop accepted" true "$(json_get stop <<<"$out")"
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rc=0
wait "$pid" || rc=$?
bg_forget "$pid"
check_eq "exit status after a stop over BASP" 0 "$rc"
check_eq "final JSON event" stopped "$(json_last "$WORKDIR/one.json" event)"
echo "PASS"
