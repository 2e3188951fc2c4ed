#!/usr/bin/env bash
# bench/daemon.sh: many small torrents seeding in one daemon (issue 14's benchmark):
# transmission-daemon, rtorrent, qbittorrent-nox and `actorrent daemon`, in the same
# run, one after the other, each alone on the machine.
#
#   bench/daemon.sh [--n 1000,5000] [--clients transmission,rtorrent,qbittorrent,actorrent]
#                   [--limit SECONDS (900)] [--lists K (20)] [--rss-lists M (1000)]
#                   [--probes P (3)] [--big-mib MIB (1024)] [--settle S (60)] [--out FILE.md]
#
# First, the RSS floors: lib/stack_floor.cpp, compiled here, loads and starts what
# `actorrent daemon` starts before its first torrent (CAF with its middleman,
# libcurl, OpenSSL, cpp-httplib, yaml-cpp) and lib/stack_floor_c.c what a C daemon
# needs for trackers and hashes (libcurl, OpenSSL); each idles 5 s in the namespace
# and reports its RSS: what no daemon on that stack can go below.
# For each N and each client:
#  1. N torrents of 256 KiB each (one piece, v1; announce URL http://127.0.0.1:1/announce,
#     where nothing listens: rtorrent ignores a torrent without one) with their data, made
#     once by lib/daemon_bench.py in $BENCH_CACHE/daemon (default
#     /tmp/actorrent-bench-cache/daemon) and reused; every client seeds the same files.
#  2. The daemon starts with a fresh configuration and state directory, peer port
#     and RPC on 127.0.0.1 only, DHT, LSD, PEX, UPnP/NAT-PMP, uTP and queueing off.
#     As root, everything (daemons, RPC clients, the probe) runs in a network
#     namespace of its own that has only a loopback interface, so nothing can reach
#     outside the machine whatever a client's defaults; otherwise on the host's
#     loopback with the settings above.
#  3. lib/daemon_bench.py run: adds the N torrents over the client's own RPC
#     (transmission: torrent-add per torrent; rtorrent: load.start in
#     system.multicall batches of 200 over its SCGI socket; qbittorrent:
#     /api/v2/torrents/add, 100 files per request; actorrent: torrents.add {path}),
#     then lists them every 0.25 s until all seed (bounded by --limit). Reported:
#     RSS before adding, seconds from the first add to all seeding, RSS once seeding,
#     the median and p90 of K full list calls, each timed from sending the request to
#     the last byte of the answer, unparsed (transmission torrent-get with 15
#     fields; rtorrent d.multicall2 with 14; qbittorrent /api/v2/torrents/info;
#     actorrent torrents.list with the issue's 13 fields), RSS before and after M
#     more list calls, the peak RSS (VmHWM), and the RSS once the daemon has been
#     left alone with its seeds for S seconds after all seed (--settle; the same
#     wait for every client: a long-running daemon's steady state), when the K
#     full list calls are timed again, and where that RSS resides (its binary, CAF,
#     libstdc++, OpenSSL, libc, the other libraries, anonymous memory; from smaps).
#  4. lib/daemon_bench.py probe, P times, on different torrents: a python3-libtorrent
#     leecher dials the daemon's peer port; seconds from its dial (libtorrent's
#     peer_connect_alert: it dials a peer given by connect_peer on its next
#     one-second tick) to the first payload byte (issue: "a new peer served within
#     0.5 s"), and from connect_peer to the first byte and to completion.
#     Then (--big-mib, 0: skipped) a torrent of MIB MiB (1 MiB pieces, data in the
#     cache) is added, and once it seeds it is re-checked (the client's own verify
#     call) while full list calls are timed until it seeds again: p50/p99/max
#     (issue: "torrents.list p99 under 50 ms while another torrent re-checks 1 GiB").
#  5. SIGTERM, and the seconds until the daemon has exited (SIGKILL after 60 s).
#  6. Restart with the same state (resume data): seconds from starting the daemon
#     again until every torrent (the big one too) is listed and seeding
#     (lib/daemon_bench.py wait, bounded by --limit); SIGTERM again.
# Every daemon is stopped by PID, the namespace and the work directory removed on
# exit (BENCH_KEEP=1 keeps the work directory).
#
# actorrent: `actorrent daemon --config FILE.yaml` with the issue's keys (listen.port,
# api.bind, api.port, api.tokens, paths.downloads, paths.state, paths.watch,
# limits.active_seeds/active_downloads 0: no queue, as for the others) and JSON-RPC at
# POST /api/v1/rpc; skipped, saying so, when the binary has no daemon command.
# A client whose program is missing is skipped the same way.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_NAME=daemon.sh
BENCH_USAGE=6,8
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
DB="$HERE/lib/daemon_bench.py"

NS_LIST="1000,5000"
CLIENTS="transmission,rtorrent,qbittorrent,actorrent"
LIMIT=900
LISTS=20
RSS_LISTS=1000
PROBES=3
BIG_MIB=1024
SETTLE=60
bench_option() {
  case "$1" in
    --n) NS_LIST="${2:?}" ;;
    --clients) CLIENTS="${2:?}" ;;
    --lists) LISTS="${2:?}" ;;
    --rss-lists) RSS_LISTS="${2:?}" ;;
    --probes) PROBES="${2:?}" ;;
    --big-mib) BIG_MIB="${2:?}" ;;
    --settle) SETTLE="${2:?}" ;;
    *) return 1 ;;
  esac
}
# lib/common.sh's defaults for --limit are for downloads; ours is per client
for a in "$@"; do [ "$a" = --limit ] && LIMIT_GIVEN=1; done
bench_options "$@"
[ "${LIMIT_GIVEN:-0}" = 1 ] || LIMIT=900
IFS=',' read -r -a N_VALUES <<<"$NS_LIST"
for n in "${N_VALUES[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 20000 ] || die "--n takes counts 1..20000, comma-separated"
done
for v in "$LISTS" "$RSS_LISTS" "$PROBES" "$BIG_MIB"; do [[ "$v" =~ ^[0-9]+$ ]] || die "--lists, --rss-lists, --probes take counts"; done
[ "$LISTS" -ge 1 ] || die "--lists must be at least 1"
IFS=',' read -r -a CLIENT_LIST <<<"$CLIENTS"
for c in "${CLIENT_LIST[@]}"; do
  case "$c" in transmission|rtorrent|qbittorrent|actorrent) ;; *) die "unknown client: $c" ;; esac
done
"$PY" -c 'import libtorrent' 2>/dev/null || die "$PY cannot import libtorrent (python3-libtorrent)"
command -v ss >/dev/null || die "missing tool: ss"

bench_workdir
# ---- a network namespace with only loopback (as root) --------------------------------------
NS=""
NSX=()
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
  NS="actorrent-bench-$$"
  if ip netns add "$NS" 2>/dev/null && ip netns exec "$NS" ip link set lo up; then
    NSX=(ip netns exec "$NS")
    log "network namespace $NS (loopback only)"
  else
    ip netns del "$NS" 2>/dev/null || true
    NS=""
    log "no network namespace (ip netns failed): host loopback, clients configured for 127.0.0.1 only"
  fi
else
  log "not root: host loopback, clients configured for 127.0.0.1 only"
fi
bench_exit() {
  cleanup
  if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap bench_exit EXIT

# in_ns CMD...: CMD in the namespace (or here). A daemon is started with
# "${NSX[@]}" CMD & instead, so that $! is its own PID (ip netns exec execs it).
in_ns() { "${NSX[@]}" "$@"; }
ns_listening() { in_ns ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
# ports: fixed inside a private namespace, free ones on the host
if [ -n "$NS" ]; then
  PEER_PORT=51413
  RPC_PORT=9091
else
  base="$(pick_ports 2)" || die "no free ports"
  PEER_PORT=$base
  RPC_PORT=$((base + 1))
fi
# next_rpc_port: every start gets an RPC port of its own: the list calls leave the
# last one's connections in TIME_WAIT, and a daemon that binds without
# SO_REUSEADDR (qbittorrent-nox) would find it "already in use"
next_rpc_port() {
  if [ -n "$NS" ]; then
    RPC_PORT=$((RPC_PORT + 1))
  else
    RPC_PORT="$(pick_ports 1)" || die "no free ports"
  fi
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
pkg_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }

# ---- the daemons ------------------------------------------------------------------------
# start_CLIENT DIR N: starts the daemon with its state in DIR; sets DPID (its PID),
# ENDPOINT (for daemon_bench.py), TOKEN, STOP_SIG. Returns 1 if it did not come up.

start_transmission() {
  local dir="$1"
  mkdir -p "$dir/cfg"
  cat >"$dir/cfg/settings.json" <<EOF
{
  "bind-address-ipv4": "127.0.0.1",
  "bind-address-ipv6": "::1",
  "dht-enabled": false,
  "lpd-enabled": false,
  "pex-enabled": false,
  "utp-enabled": false,
  "port-forwarding-enabled": false,
  "peer-port": $PEER_PORT,
  "peer-port-random-on-start": false,
  "peer-limit-global": 2000,
  "rpc-enabled": true,
  "rpc-bind-address": "127.0.0.1",
  "rpc-port": $RPC_PORT,
  "rpc-authentication-required": false,
  "rpc-whitelist-enabled": false,
  "rpc-host-whitelist-enabled": false,
  "download-dir": "$CACHE/data",
  "incomplete-dir-enabled": false,
  "watch-dir-enabled": false,
  "download-queue-enabled": false,
  "seed-queue-enabled": false,
  "queue-stalled-enabled": false,
  "ratio-limit-enabled": false,
  "idle-seeding-limit-enabled": false,
  "speed-limit-up-enabled": false,
  "speed-limit-down-enabled": false,
  "start-added-torrents": true,
  "rename-partial-files": false,
  "blocklist-enabled": false,
  "message-level": 1
}
EOF
  "${NSX[@]}" transmission-daemon -f -g "$dir/cfg" -e "$dir/transmission.log" </dev/null >"$dir/stdout.log" 2>&1 &
  DPID=$!
  PIDS+=("$DPID")
  ENDPOINT="http://127.0.0.1:$RPC_PORT/transmission/rpc"
  STOP_SIG=TERM
  wait_for 60 ns_listening "$RPC_PORT"
}

start_rtorrent() {
  local dir="$1"
  mkdir -p "$dir/session"
  cat >"$dir/rtorrent.rc" <<EOF
directory.default.set = $CACHE/data
session.path.set = $dir/session
network.port_range.set = $PEER_PORT-$PEER_PORT
network.port_random.set = no
network.bind_address.set = 127.0.0.1
network.local_address.set = 127.0.0.1
network.scgi.open_local = $dir/rpc.sock
dht.mode.set = disable
protocol.pex.set = no
trackers.use_udp.set = no
throttle.max_peers.seed.set = 50
network.max_open_files.set = 8192
system.daemon.set = true
EOF
  "${NSX[@]}" rtorrent -n -o "import=$dir/rtorrent.rc" </dev/null >"$dir/stdout.log" 2>&1 &
  DPID=$!
  PIDS+=("$DPID")
  ENDPOINT="$dir/rpc.sock"
  STOP_SIG=TERM
  wait_for 60 test -S "$dir/rpc.sock"
}

start_qbittorrent() {
  local dir="$1"
  mkdir -p "$dir/qBittorrent/config"
  cat >"$dir/qBittorrent/config/qBittorrent.conf" <<EOF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\Port=$PEER_PORT
Session\Interface=lo
Session\InterfaceName=lo
Session\InterfaceAddress=127.0.0.1
Session\QueueingSystemEnabled=false
Session\DefaultSavePath=$CACHE/data
Session\TempPathEnabled=false
Session\AddTorrentPaused=false
Session\MaxConnections=2000
Session\GlobalMaxRatio=-1

[Preferences]
Connection\UPnP=false
Connection\ResolvePeerCountries=false
General\Locale=en
WebUI\Address=127.0.0.1
WebUI\Port=$RPC_PORT
WebUI\LocalHostAuth=false
WebUI\HostHeaderValidation=false
WebUI\CSRFProtection=false
EOF
  "${NSX[@]}" qbittorrent-nox --profile="$dir" --webui-port="$RPC_PORT" </dev/null >"$dir/stdout.log" 2>&1 &
  DPID=$!
  PIDS+=("$DPID")
  ENDPOINT="http://127.0.0.1:$RPC_PORT"
  STOP_SIG=TERM
  wait_for 60 ns_listening "$RPC_PORT"
}

start_actorrent() {
  local dir="$1" n="$2"
  mkdir -p "$dir/state" "$dir/watch"
  TOKEN="bench-token-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")"
  cat >"$dir/actorrent.yaml" <<EOF
listen:
  port: $PEER_PORT
api:
  bind: 127.0.0.1
  port: $RPC_PORT
  tokens:
    - {token: $TOKEN, scopes: [read, control, admin]}
paths:
  downloads: $CACHE/data
  state: $dir/state
  watch: $dir/watch
limits:
  active_downloads: 0
  active_seeds: 0
EOF
  "${NSX[@]}" "$ACTORRENT" daemon --config "$dir/actorrent.yaml" </dev/null >"$dir/stdout.log" 2>&1 &
  DPID=$!
  PIDS+=("$DPID")
  ENDPOINT="http://127.0.0.1:$RPC_PORT"
  STOP_SIG=TERM
  wait_for 60 ns_listening "$RPC_PORT"
}

# available CLIENT: prints why CLIENT cannot run here, or nothing.
available() {
  case "$1" in
    transmission) command -v transmission-daemon >/dev/null || echo "transmission-daemon is not installed (Debian transmission-daemon)" ;;
    rtorrent) command -v rtorrent >/dev/null || echo "rtorrent is not installed (Debian rtorrent)" ;;
    qbittorrent) command -v qbittorrent-nox >/dev/null || echo "qbittorrent-nox is not installed (Debian qbittorrent-nox)" ;;
    actorrent)
      if [ ! -x "$ACTORRENT" ]; then
        echo "no actorrent binary at $ACTORRENT"
      elif ! timeout 10 "$ACTORRENT" daemon --help 2>&1 | grep -q '^Usage: [^ ]* daemon'; then
        echo "this actorrent binary has no daemon command yet ($ACTORRENT daemon --help)"
      fi ;;
  esac
}

version_of() {
  case "$1" in
    transmission) echo "transmission-daemon $(pkg_version transmission-daemon)" ;;
    rtorrent) echo "rtorrent $(pkg_version rtorrent)" ;;
    qbittorrent) echo "qbittorrent-nox $(pkg_version qbittorrent-nox)" ;;
    actorrent) at_version ;;
  esac
}

# ---- the runs ---------------------------------------------------------------------------
CACHE="${BENCH_CACHE:-/tmp/actorrent-bench-cache}/daemon"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
MAX_N=0
for n in "${N_VALUES[@]}"; do [ "$n" -gt "$MAX_N" ] && MAX_N=$n; done
log "making (or reusing) $MAX_N torrents of 256 KiB in $CACHE"
"$PY" "$DB" make "$CACHE" "$MAX_N"
chmod -R a+rX "$CACHE"
cat "$CACHE"/data/* >/dev/null # into the page cache, as the seeders will read it
BIG_ARGS=()
if [ "$BIG_MIB" -gt 0 ]; then
  log "making (or reusing) a torrent of $BIG_MIB MiB to re-check in $CACHE/big"
  BIG_HASH="$("$PY" "$DB" make-big "$CACHE" "$BIG_MIB")"
  chmod -R a+rX "$CACHE"
  BIG_ARGS=(--big "$CACHE/big.torrent" --big-hash "$BIG_HASH")
fi

# ---- the floors: what the libraries alone keep resident (see the top) -------------------
FLOOR_S=5
floor_row() { # floor_row NAME LIBS CMD...: one results line
  local name="$1" libs="$2" out
  shift 2
  if out="$(in_ns timeout 30 "$@" 2>>"$WORK/floor.err")" && [ -n "$out" ]; then
    "$PY" -c 'import json, sys; r = json.loads(sys.argv[1]); r.update(client="floor", name=sys.argv[2], libs=sys.argv[3]); print(json.dumps(r))' \
      "$out" "$name" "$libs" >>"$RESULTS"
  else
    log "SKIP floor $name: it did not run: $(tail -1 "$WORK/floor.err" 2>/dev/null)"
    echo "{\"client\": \"floor\", \"name\": \"$name\", \"skipped\": \"did not run\"}" >>"$RESULTS"
  fi
}
if command -v c++ >/dev/null && command -v cc >/dev/null; then
  log "the RSS floors: compiling lib/stack_floor.cpp and lib/stack_floor_c.c"
  # shellcheck disable=SC2046 # pkg-config's words are separate flags
  if c++ -std=c++20 -O2 $(pkg-config --cflags cpp-httplib 2>/dev/null) "$HERE/lib/stack_floor.cpp" \
      -o "$WORK/stack_floor" -lcaf_io -lcaf_core -lcurl -lcrypto -lcpp-httplib -lyaml-cpp -pthread 2>"$WORK/floor.err"; then
    next_rpc_port
    floor_row "C++ daemon stack" "CAF (core, io), libstdc++, libcurl, OpenSSL, cpp-httplib, yaml-cpp" \
      "$WORK/stack_floor" "$RPC_PORT" "$FLOOR_S"
  else
    log "SKIP floor C++: does not compile: $(tail -1 "$WORK/floor.err")"
    echo '{"client": "floor", "name": "C++ daemon stack", "skipped": "did not compile"}' >>"$RESULTS"
  fi
  if cc -O2 "$HERE/lib/stack_floor_c.c" -o "$WORK/stack_floor_c" -lcurl -lcrypto 2>>"$WORK/floor.err"; then
    floor_row "C daemon stack" "libc, libcurl, OpenSSL" "$WORK/stack_floor_c" "$FLOOR_S"
  else
    log "SKIP floor C: does not compile: $(tail -1 "$WORK/floor.err")"
    echo '{"client": "floor", "name": "C daemon stack", "skipped": "did not compile"}' >>"$RESULTS"
  fi
else
  log "SKIP the RSS floors: no c++ or cc"
  echo '{"client": "floor", "name": "both", "skipped": "no compiler"}' >>"$RESULTS"
fi

# stop_daemon: SIGTERM to DPID, SIGKILL after 60 s; sets STOP_MS.
stop_daemon() {
  local t0 t1
  t0=$(date +%s%N)
  kill -"$STOP_SIG" "$DPID" 2>/dev/null || true
  wait_for 60 gone "$DPID" || kill -KILL "$DPID" 2>/dev/null || true
  t1=$(date +%s%N)
  wait "$DPID" 2>/dev/null || true
  forget_pids "$DPID"
  STOP_MS=$(((t1 - t0) / 1000000))
}

for n in "${N_VALUES[@]}"; do
  for c in "${CLIENT_LIST[@]}"; do
    why="$(available "$c")"
    if [ -n "$why" ]; then
      log "SKIP $c: $why"
      echo "{\"client\": \"$c\", \"n\": $n, \"skipped\": \"$why\"}" >>"$RESULTS"
      continue
    fi
    dir="$WORK/$c-$n"
    mkdir -p "$dir"
    TOKEN=""
    log "$c, $n torrents: starting"
    next_rpc_port
    if ! "start_$c" "$dir" "$n" || ! alive "$DPID"; then
      log "$c did not come up within 60 s: $(tail -3 "$dir/stdout.log" 2>/dev/null)"
      echo "{\"client\": \"$c\", \"n\": $n, \"skipped\": \"did not start (see its log)\"}" >>"$RESULTS"
      stop_pid "$DPID" KILL
      continue
    fi
    sleep 1
    line="$(in_ns timeout $((LIMIT + 600)) "$PY" "$DB" run "$c" --torrents "$CACHE" --n "$n" \
      --pid "$DPID" --endpoint "$ENDPOINT" --token "$TOKEN" --limit "$LIMIT" --lists "$LISTS" \
      --rss-lists "$RSS_LISTS" --settle "$SETTLE" "${BIG_ARGS[@]}" 2>"$dir/run.err")" || {
      log "$c: the run failed or did not finish in time: $(grep -v '^PARTIAL ' "$dir/run.err" | tail -3)"
      line="$(sed -n 's/^PARTIAL //p' "$dir/run.err" | tail -1)"
      why="run failed or did not finish within $((LIMIT + 600)) s: $(grep -v '^PARTIAL ' "$dir/run.err" | tail -1 | tr -d '"\\')"
      if [ -n "$line" ]; then
        line="$("$PY" -c 'import json, sys; r = json.loads(sys.argv[1]); r["note"] = sys.argv[2]; print(json.dumps(r))' "$line" "$why")"
      else
        line="{\"client\": \"$c\", \"n\": $n, \"skipped\": \"$why\"}"
      fi
    }
    probes=""
    for ((i = 1; i <= PROBES; i++)); do
      t="$(printf '%s/torrents/t%05d.torrent' "$CACHE" $(((i * 7919) % n)))"
      p="$(in_ns timeout 60 "$PY" "$DB" probe "$t" "$CACHE/data" "$PEER_PORT" --limit 30 2>>"$dir/probe.err" || echo '{}')"
      probes="$probes${probes:+,}$p"
    done
    stop_daemon
    stop_ms=$STOP_MS
    # the restart, from the same state directory
    expect=$n
    grep -q '"recheck_lists"' <<<"$line" && expect=$((n + 1))
    log "$c, $n torrents: restarting with its resume data (expecting $expect seeding)"
    t0=$(date +%s.%N)
    restart='{}'
    next_rpc_port
    if "start_$c" "$dir" "$n" && alive "$DPID"; then
      restart="$(in_ns timeout $((LIMIT + 60)) "$PY" "$DB" wait "$c" --n "$expect" --endpoint "$ENDPOINT" \
        --token "$TOKEN" --t0 "$t0" --limit "$LIMIT" 2>>"$dir/run.err" || echo '{}')"
      restart="$("$PY" -c 'import json, sys; r = json.loads(sys.argv[1]); r["rss_kb"] = int(sys.argv[2]); print(json.dumps(r))' "$restart" "$(rss_kb "$DPID")")"
    else
      log "$c did not come up again: $(tail -3 "$dir/stdout.log" 2>/dev/null)"
    fi
    stop_daemon
    "$PY" - "$line" "[$probes]" "$(version_of "$c")" "$stop_ms" "$restart" >>"$RESULTS" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
r["probes"] = json.loads(sys.argv[2])
r["version"] = sys.argv[3]
r["stop_ms"] = int(sys.argv[4])
r["restart"] = json.loads(sys.argv[5])
print(json.dumps(r))
EOF
    log "$c, $n torrents: $(tail -1 "$RESULTS")"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir"
  done
done

# ---- report -----------------------------------------------------------------------------
REPORT="$WORK/report.md"
"$PY" - "$RESULTS" "$CMDLINE" "${NS:-host loopback}" "$RSS_LISTS" >"$REPORT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
floors = [r for r in rows if r["client"] == "floor"]
rows = [r for r in rows if r["client"] != "floor"]
print("Command: `%s` (%s; every client alone, one after the other, same data)" % (sys.argv[2], "network namespace " + sys.argv[3] if sys.argv[3] != "host loopback" else "host loopback"))
print()
print("| daemon | torrents | RSS idle | RSS seeding | RSS settled | until all seed | list all (median / p90) | list all, settled | RSS before → after %s lists | peak RSS | new peer: first byte after the dial (median, all) | list p50 / p99 / max during a re-check (re-check time) | stop | restart to all seeding |" % sys.argv[4])
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
mb = lambda kb: "%.1f MB" % (kb * 1024 / 1e6)
for r in rows:
    if "skipped" in r:
        print("| %s | %d | skipped: %s |||||||||||" % (r["client"], r["n"], r["skipped"]))
        continue
    firsts = [p.get("first_byte_after_dial_s", p.get("first_byte_s")) for p in r.get("probes", [])]
    got = [f for f in firsts if f is not None]
    probe = ("%.2f s (%s)" % (statistics.median(got), ", ".join("%.2f" % f if f is not None else "none" for f in firsts))) if got else "none within 30 s"
    seed = "%.1f s" % r["all_seed_s"] if r.get("all_seed_s") is not None else r.get("note", "not all")
    lst = "%.1f / %.1f ms" % (r["list_median_ms"], r["list_p90_ms"]) if "list_median_ms" in r else "-"
    if "rss_after_lists_kb" in r:
        grow = (r["rss_after_lists_kb"] - r["rss_before_lists_kb"]) / max(1, r["rss_lists"])
        rss = "%s → %s (%+.1f KB/call)" % (mb(r["rss_before_lists_kb"]), mb(r["rss_after_lists_kb"]), grow * 1024 / 1000)
    else:
        rss = r.get("note", "-")
    if "recheck_list_p99_ms" in r:
        rc = "%.1f / %.1f / %.1f ms (%s, %d lists)" % (r["recheck_list_p50_ms"], r["recheck_list_p99_ms"], r["recheck_list_max_ms"],
                                                     "%.1f s" % r["recheck_s"] if r.get("recheck_s") is not None else "did not end", r["recheck_lists"])
    else:
        rc = r.get("recheck_note", "-")
    rs = r.get("restart", {})
    rst = "%.2f s" % rs["restart_all_seed_s"] if rs.get("restart_all_seed_s") is not None else "not all: %s of %s seeding" % (rs.get("seeding", "?"), rs.get("listed", "?"))
    settled = "%s (%g s after all seed)" % (mb(r["rss_settled_kb"]), r["settle_s"]) if "rss_settled_kb" in r else "-"
    lst_settled = "%.1f / %.1f ms" % (r["list_settled_median_ms"], r["list_settled_p90_ms"]) if "list_settled_median_ms" in r else "-"
    print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f s | %s |" % (
        r["version"], r["n"], mb(r["rss_idle_kb"]), mb(r.get("rss_seeding_kb", 0)), settled, seed, lst, lst_settled, rss,
        mb(r["rss_peak_kb"]) if "rss_peak_kb" in r else "-", probe, rc, r["stop_ms"] / 1000, rst))
ours = {r["n"]: r for r in rows if r["client"] == "actorrent" and "skipped" not in r}
print()
if floors:
    print("RSS floors: a process that only loads and starts the libraries of a daemon, then idles (bench/lib/stack_floor*.c*):")
    print()
    print("| floor | libraries | RSS | anonymous | file-backed |")
    print("|---|---|---|---|---|")
    for f in floors:
        if "skipped" in f:
            print("| %s | skipped: %s | | | |" % (f["name"], f["skipped"]))
        else:
            print("| %s | %s | %s | %s | %s |" % (f["name"], f["libs"], mb(f["rss_kb"]), mb(f["anon_kb"]), mb(f["file_kb"])))
    print()
maps = [r for r in rows if r.get("rss_settled_map_kb")]
if maps:
    groups = list(maps[0]["rss_settled_map_kb"])
    print("Where the settled RSS resides (/proc/PID/smaps; file-backed pages by file, every anonymous page in the last column):")
    print()
    print("| daemon | torrents | " + " | ".join(groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    for r in maps:
        print("| %s | %d | %s |" % (r["version"], r["n"], " | ".join(mb(r["rss_settled_map_kb"].get(g, 0)) for g in groups)))
    print()
if not ours:
    print("No ratios: the actorrent daemon did not run in this run (see the skipped row).")
else:
    print("Ratios to actorrent (>1: actorrent is better): RSS seeding, RSS settled, until all seed, list all (median), list all settled (median), list p99 during the re-check, restart to all seeding.")
    print()
    for r in rows:
        o = ours.get(r["n"])
        if o is None or "skipped" in r or r is o or "list_median_ms" not in r or "list_median_ms" not in o:
            continue
        ratio = lambda a, b: "%.2f" % (a / b) if a and b else "-"
        print("- %s, %d torrents: RSS %s, RSS settled %s, all seeding %s, list %s, list settled %s, list p99 in re-check %s, restart %s" % (
            r["client"], r["n"], ratio(r["rss_seeding_kb"], o["rss_seeding_kb"]),
            ratio(r.get("rss_settled_kb"), o.get("rss_settled_kb")),
            ratio(r.get("all_seed_s"), o.get("all_seed_s")), ratio(r["list_median_ms"], o["list_median_ms"]),
            ratio(r.get("list_settled_median_ms"), o.get("list_settled_median_ms")),
            ratio(r.get("recheck_list_p99_ms"), o.get("recheck_list_p99_ms")),
            ratio(r.get("restart", {}).get("restart_all_seed_s"), o.get("restart", {}).get("restart_all_seed_s"))))
EOF
bench_report "$REPORT"
if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK (results.jsonl)"; fi
