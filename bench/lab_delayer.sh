#!/usr/bin/env bash
# The cost of the swarm lab's userspace delayer (`actorrent lab delayer`, used for
# delay/jitter on kernels without netem): one bulk TCP stream for SECS seconds
# between two network namespaces joined by a veth, with no delayer, then through
# a delayer of each given delay, held on the receiver's incoming packets as the
# lab does (mangle PREROUTING -i eth0 NFQUEUE), and once on the sender's outgoing
# packets (POSTROUTING) to show why the lab does not do that. Root.
#
#   bash bench/lab_delayer.sh build/app/actorrent [SECS] [DELAY...]   (default 3 s; 0ms 1ms 40ms)
#
# Prints one line per case: MB/s received, packets the delayer held, mean hold.
set -euo pipefail
AR=$(realpath "$1")
SECS=${2:-3}
shift $(($# >= 2 ? 2 : 1))
DELAYS=("$@")
((${#DELAYS[@]})) || DELAYS=(0ms 1ms 40ms)
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 77; }
A=abench-delayer-$$-a B=abench-delayer-$$-b
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# one_case DELAY|none in|out
one_case() {
  local delay=$1 side=$2 ns chain dev dp=
  ip netns add "$A"
  ip netns add "$B"
  ip -n "$A" link add eth0 type veth peer name eth0 netns "$B"
  ip -n "$A" addr add 10.213.0.1/24 dev eth0
  ip -n "$B" addr add 10.213.0.2/24 dev eth0
  ip -n "$A" link set eth0 up
  ip -n "$B" link set eth0 up
  timeout $((SECS + 20)) ip netns exec "$B" python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.213.0.2", 20003)); s.listen(1); s.settimeout(15)
c, _ = s.accept(); n = 0; t = time.monotonic()
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
open(sys.argv[1], "w").write("%.1f" % (n / (time.monotonic() - t) / 1e6))' "$TMP/rate" &
  PIDS+=($!)
  if [[ $delay != none ]]; then
    if [[ $side == in ]]; then ns=$B chain="PREROUTING -i eth0"; else ns=$A chain="POSTROUTING ! -o lo"; fi
    ip netns exec "$ns" "$AR" lab delayer --queue 0 --delay "$delay" --seed 1 --name bench --stats "$TMP/stats.json" \
      2>"$TMP/delayer.log" &
    dp=$!
    PIDS+=("$dp")
    for ((i = 0; i < 100; i++)); do [[ -e $TMP/stats.json ]] && break; sleep 0.05; done
    [[ -e $TMP/stats.json ]] || { cat "$TMP/delayer.log" >&2; exit 1; }
    # shellcheck disable=SC2086
    ip netns exec "$ns" iptables -w -t mangle -I $chain -j NFQUEUE --queue-num 0 --queue-bypass
  fi
  sleep 0.3
  timeout $((SECS + 20)) ip netns exec "$A" python3 -c '
import socket, sys, time
c = socket.create_connection(("10.213.0.2", 20003), timeout=5); b = b"x" * (1 << 16); t = time.monotonic()
while time.monotonic() - t < float(sys.argv[1]):
    c.sendall(b)
c.close()' "$SECS"
  wait "${PIDS[0]}"
  local held="-" mean="-"
  if [[ -n $dp ]]; then
    kill -TERM "$dp"
    wait "$dp"
    read -r held mean < <(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["delayed"], "%.2f" % j["mean_hold_ms"])' "$TMP/stats.json")
  fi
  printf '%-6s %-8s %10s MB/s  %8s packets held, mean hold %s ms\n' "$delay" "$side" "$(cat "$TMP/rate")" "$held" "$mean"
  PIDS=()
  rm -f "$TMP/stats.json" "$TMP/rate"
  ip netns del "$A"
  ip netns del "$B"
}

echo "bulk TCP for ${SECS}s between two namespaces (load: $(cut -d' ' -f1-3 /proc/loadavg))"
one_case none in
for d in "${DELAYS[@]}"; do one_case "$d" in; done
one_case "${DELAYS[-1]}" out
