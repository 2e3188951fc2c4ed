#!/usr/bin/env bash
# bench/download.sh: download throughput of actorrent against aria2c, a libtorrent
# leecher and transmission-cli, all fetching the same torrent from the same
# python3-libtorrent seeder(s) on loopback. See bench/README.md ("download.sh").
#
#   bench/download.sh [--size-mib N] [--runs N] [--seeders 1|4] [--piece-size 256K]
#                     [--clients actorrent,aria2,libtorrent,transmission]
#                     [--seeder-client libtorrent|actorrent]
#                     [--out FILE.md] [--limit SECONDS]
#
# --seeder-client actorrent: the seeders are `$ACTORRENT seed` processes (each
# from a private directory holding a hard link to the content, announcing to
# the tracker) instead of python3-libtorrent: the actorrent-to-actorrent case.
# transmission is not run then (it learns no 127.x peers from a tracker and
# actorrent's seeder cannot be told to dial it).
#
# Environment: ACTORRENT (binary, default build/app/actorrent next to this
# script's repository), ACTORRENT_BASELINE (an older binary, run side by side as
# the client "baseline"), BENCH_CACHE (content cache, default
# /tmp/actorrent-bench-cache), BENCH_KEEP=1 (keep the work directory).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_NAME=download.sh
BENCH_USAGE=4,12
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"

# Its own options and their defaults (lib/common.sh parses the shared ones:
# --size-mib, --runs, --out, --limit).
SEEDERS=1
PIECE_SIZE=256K
CLIENTS="actorrent,aria2,libtorrent,transmission"
SEEDER_CLIENT=libtorrent
bench_option() {
  case "$1" in
    --seeder-client) SEEDER_CLIENT="${2:?}" ;;
    --seeders) SEEDERS="${2:?}" ;;
    --piece-size) PIECE_SIZE="${2:?}" ;;
    --clients) CLIENTS="${2:?}" ;;
    *) return 1 ;;
  esac
}
bench_options "$@"
[ "$SEEDERS" = 1 ] || [ "$SEEDERS" = 4 ] || die "--seeders must be 1 or 4"
[[ "$PIECE_SIZE" =~ ^[1-9][0-9]*[KM]$ ]] || die "--piece-size must look like 256K or 4M"
[ "$SEEDER_CLIENT" = libtorrent ] || [ "$SEEDER_CLIENT" = actorrent ] || die "--seeder-client must be libtorrent or actorrent"
bench_clients CLIENT_LIST client "$CLIENTS"

[ -x "$ACTORRENT" ] || die "no actorrent binary at $ACTORRENT (build it: ninja -C build actorrent)"
bench_require "$CLIENTS" /usr/bin/time opentracker ss cmp timeout

# ---- content (cached between invocations) -------------------------------------------
bench_content "$SIZE_MIB"
bench_workdir

# ---- ports ---------------------------------------------------------------------------
# Ten consecutive free ports: tracker, 4 seeders, libtorrent/aria2/transmission
# leechers, actorrent's (only announced; it does not listen).
BASE="$(pick_ports 10)" || die "no free port range found"
TRACKER_PORT=$BASE
SEED_PORTS=()
for i in $(seq 1 "$SEEDERS"); do SEED_PORTS+=($((BASE + i))); done
LT_PORT=$((BASE + 5))
ARIA2_PORT=$((BASE + 6))
TR_PORT=$((BASE + 7))
AT_PORT=$((BASE + 8))

# ---- torrent ----------------------------------------------------------------------------
bench_torrent -t "http://127.0.0.1:$TRACKER_PORT/announce"

# ---- tracker ----------------------------------------------------------------------------
mkdir -p "$WORK/tracker"
echo "$INFO_HASH" >"$WORK/tracker/whitelist"
chmod -R a+rX "$WORK/tracker"
opentracker -i 127.0.0.1 -p "$TRACKER_PORT" -P "$TRACKER_PORT" -d "$WORK/tracker" -w whitelist \
  >"$WORK/tracker.log" 2>&1 &
PIDS+=($!)
TRACKER_PID=$!
wait_for 10 port_listening "$TRACKER_PORT" || die "opentracker did not start ($(tail -3 "$WORK/tracker.log"))"

# ---- seeders ----------------------------------------------------------------------------
# The first seeder checks the data in full (or loads cached resume data); the others
# load the resume data it wrote, so every run finds fully verified seeders.
RESUME="$DATA_DIR/$INFO_HASH.resume"
SEED_PIDS=()
start_seeder() {
  local i="$1" port="${SEED_PORTS[$1]}"
  if [ "$SEEDER_CLIENT" = actorrent ]; then
    local sdir="$WORK/seeddata$i"
    mkdir -p "$sdir"
    ln "$CONTENT" "$sdir/$NAME" 2>/dev/null || cp "$CONTENT" "$sdir/$NAME"
    "$ACTORRENT" seed "$TORRENT" "$sdir" --port "$port" --quiet >"$WORK/seed$i.log" 2>&1 </dev/null &
    PIDS+=($!)
    SEED_PIDS+=($!)
    return
  fi
  "$PY" "$LT_PEER" seed --torrent "$TORRENT" --dir "$DATA_DIR" --port "$port" \
    --ready "$WORK/seed$i.ready" --resume "$RESUME" --control "$WORK/seed$i.control" \
    >"$WORK/seed$i.log" 2>&1 &
  PIDS+=($!)
  SEED_PIDS+=($!)
}
seeder_ready() { # I: the seeder's ready file (libtorrent) or its listening port (actorrent)
  if [ "$SEEDER_CLIENT" = actorrent ]; then
    port_listening "${SEED_PORTS[$1]}"
  else
    test -f "$WORK/seed$1.ready"
  fi
}
seeder_up() { seeder_ready "$1" || ! alive "${SEED_PIDS[$1]}"; }
wait_seeder() {
  local i="$1"
  wait_for 300 seeder_up "$i" \
    || die "seeder $i not ready after 300 s: $(tail -3 "$WORK/seed$i.log")"
  alive "${SEED_PIDS[$i]}" || die "seeder $i exited: $(tail -3 "$WORK/seed$i.log")"
}
log "starting $SEEDERS $SEEDER_CLIENT seeder(s) on ports ${SEED_PORTS[*]}, tracker on $TRACKER_PORT"
start_seeder 0
wait_seeder 0
for i in $(seq 1 $((SEEDERS - 1))); do start_seeder "$i"; done
for i in $(seq 1 $((SEEDERS - 1))); do wait_seeder "$i"; done
PEER_ARGS=()
LT_PEER_ARGS=()
for p in "${SEED_PORTS[@]}"; do
  PEER_ARGS+=(--peer "127.0.0.1:$p")
  LT_PEER_ARGS+=(--peer "127.0.0.1:$p")
done

# ---- one run of one client ---------------------------------------------------------------
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

make_hook() { # FILE DONEFILE: a script that records the completion time
  printf '#!/bin/sh\ndate +%%s.%%N > %q\n' "$2" >"$1"
  chmod +x "$1"
}

run_one() {
  local client="$1" run="$2"
  local tag="$client-$run"
  local dir="$WORK/dl/$tag"
  local done_file="$WORK/$tag.done"
  local time_file="$WORK/$tag.time"
  local pid_file="$WORK/$tag.pid"
  local log_file="$WORK/$tag.log"
  local hook="$WORK/$tag.hook.sh"
  local cmd=()
  if [ "$client" = transmission ] && [ "$SEEDER_CLIENT" = actorrent ]; then
    printf '%s\t%s\t0\t\t\t\t\t\t%s\n' "$client" "$run" \
      "not run with actorrent seeders: it ignores 127.x peers from the tracker and they cannot be told to dial it" >>"$RESULTS"
    return
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  rm -f "$done_file" "$time_file" "$pid_file"
  make_hook "$hook" "$done_file"
  case "$client" in
    actorrent|baseline)
      cmd=("$(at_binary "$client")" download "$TORRENT" -o "$dir" "${PEER_ARGS[@]}" --no-trackers --quiet
           --port "$AT_PORT" --timeout "$LIMIT") ;;
    aria2)
      cmd=(aria2c --seed-time=0 --enable-dht=false --enable-dht6=false --bt-enable-lpd=false
           --enable-peer-exchange=false --disable-ipv6=true --file-allocation=none
           --listen-port="$ARIA2_PORT" --dir="$dir" --on-bt-download-complete="$hook"
           --summary-interval=0 --console-log-level=warn --download-result=hide
           --show-console-readout=false
           "$TORRENT") ;;
    libtorrent)
      cmd=("$PY" "$LT_PEER" leech --torrent "$TORRENT" --dir "$dir" --port "$LT_PORT"
           "${LT_PEER_ARGS[@]}" --done "$done_file" --timeout "$LIMIT") ;;
    transmission)
      local cfg="$WORK/$tag.cfg"
      mkdir -p "$cfg"
      cat >"$cfg/settings.json" <<EOF
{
  "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
  "port-forwarding-enabled": false, "rename-partial-files": false,
  "incomplete-dir-enabled": false, "blocklist-enabled": false,
  "speed-limit-down-enabled": false, "speed-limit-up-enabled": false,
  "peer-port": $TR_PORT, "peer-port-random-on-start": false, "encryption": 0,
  "message-level": 1
}
EOF
      cmd=(transmission-cli -g "$cfg" -w "$dir" -p "$TR_PORT" -D -U -M -B -et -f "$hook" "$TORRENT") ;;
  esac

  local start rc=0 stopped_by_us=0 reason=""
  start="$(date +%s.%N)"
  # time -> sh (writes its PID, then becomes `timeout`) -> the client. `timeout`
  # forwards SIGINT/SIGTERM to the client; GNU time ignores SIGINT itself.
  /usr/bin/time -f '%e %U %S %M' -o "$time_file" \
    sh -c 'echo $$ > "$1"; shift; exec timeout -k 10 "$@"' sh "$pid_file" "$LIMIT" "${cmd[@]}" \
    >"$log_file" 2>&1 </dev/null &
  local tpid=$!
  PIDS+=("$tpid")
  wait_for 5 test -s "$pid_file" || true
  local inner
  inner="$(cat "$pid_file" 2>/dev/null || true)"
  [ -n "$inner" ] && PIDS+=("$inner")

  if [ "$client" = transmission ]; then
    # transmission-cli drops 127.x peers learnt from the tracker ("martians"), so
    # the seeders dial it; it never exits by itself: stop it (SIGINT) once its
    # completion script has run.
    if wait_for 20 port_listening "$TR_PORT"; then
      for i in $(seq 0 $((SEEDERS - 1))); do
        echo "connect 127.0.0.1 $TR_PORT" >>"$WORK/seed$i.control"
      done
    fi
    wait_for $((LIMIT + 15)) sh -c 'test -f "$0" || ! kill -0 "$1" 2>/dev/null' "$done_file" "$tpid" || true
    if [ -f "$done_file" ] && [ -n "$inner" ] && alive "$inner"; then
      kill -INT "$inner" 2>/dev/null || true
      stopped_by_us=1
    fi
  fi
  # Bounded: `timeout` ends the client after LIMIT s (KILL 10 s later).
  wait "$tpid" || rc=$?
  forget_pids "$tpid" "$inner"

  local wall user sys rss
  read -r wall user sys rss < <(tail -n 1 "$time_file" 2>/dev/null || echo "")
  [[ "${wall:-}" =~ ^[0-9.]+$ ]] || { wall=""; user=""; sys=""; rss=""; }

  local got="$dir/$NAME" have=0 ok=0
  [ -f "$got" ] && have="$(du -B1 "$got" | cut -f1)"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    reason="no completion within $LIMIT s ($have of $SIZE_BYTES bytes on disk)"
  elif [ "$rc" != 0 ] && [ "$stopped_by_us" = 0 ]; then
    reason="exit status $rc ($(tail -n 2 "$log_file" | tr '\n' ' ' | cut -c1-160))"
  elif [ ! -f "$got" ]; then
    reason="no file $NAME in the download directory"
  elif ! cmp -s "$CONTENT" "$got"; then
    reason="downloaded file differs from the source"
  elif [ -z "$wall" ]; then
    reason="no /usr/bin/time figures"
  else
    ok=1
  fi

  local complete=""
  if [ "$ok" = 1 ]; then
    if [ "$client" = actorrent ] || [ "$client" = baseline ]; then
      complete="$wall"
    elif [ -f "$done_file" ]; then
      complete="$(awk -v s="$start" -v d="$(cat "$done_file")" 'BEGIN { printf "%.2f", d - s }')"
    fi
    log "$tag: ok, wall ${wall}s, to-complete ${complete:-?}s, cpu $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')s, rss $((rss / 1024)) MiB"
  else
    log "$tag: FAILED: $reason"
    [ -n "$reason" ] || reason="failed"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$run" "$ok" "${wall:-}" "${user:-}" \
    "${sys:-}" "${rss:-}" "$complete" "$reason" >>"$RESULTS"
  rm -rf "$dir"
  # Start the next run without the last one's dirty pages still being written back.
  timeout 60 sync || true
}

log "$SIZE_MIB MiB, $RUNS run(s), $SEEDERS seeder(s), clients: ${CLIENT_LIST[*]}; time limit $LIMIT s a run"
for run in $(seq 1 "$RUNS"); do
  for c in "${CLIENT_LIST[@]}"; do
    run_one "$c" "$run"
    for i in "${!SEED_PIDS[@]}"; do
      alive "${SEED_PIDS[$i]}" || die "seeder $i died: $(tail -3 "$WORK/seed$i.log")"
    done
  done
done

# ---- report -------------------------------------------------------------------------------
REPORT="$WORK/report.md"
AT_VERSION="$(at_version)"
BASE_VERSION=""
[ -n "$ACTORRENT_BASELINE" ] && BASE_VERSION="baseline: $(at_version "$ACTORRENT_BASELINE")"
"$PY" - "$RESULTS" "$SIZE_BYTES" "$SEEDERS" "$RUNS" "$LIMIT" "$CMDLINE" "$CLIENTS" "$AT_VERSION" "$PIECE_SIZE" "$BASE_VERSION" "$SEEDER_CLIENT" >"$REPORT" <<'PYEOF'
import statistics, subprocess, sys, datetime, platform, os

results, size, seeders, runs, limit, cmdline, clients, at_version, piece_size, base_version, seeder_client = sys.argv[1:12]
size = int(size)
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
order = clients.split(",")
versions = {}
def ver(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except Exception:
        return "?"
versions["aria2"] = ver(["aria2c", "--version"]).replace("aria2 version", "aria2c")
versions["transmission"] = ver(["transmission-cli", "--version"])
versions["libtorrent"] = "libtorrent " + ver(["/usr/bin/python3", "-c", "import libtorrent; print(libtorrent.__version__)"])

def med(xs):
    return statistics.median(xs)
def span(xs, fmt):
    m = med(xs)
    if len(xs) == 1:
        return fmt % m
    return (fmt + " (" + fmt + "–" + fmt + ")") % (m, min(xs), max(xs))

stats = {}
for c in order:
    ok = [r for r in rows if r[0] == c and r[2] == "1"]
    bad = [r for r in rows if r[0] == c and r[2] != "1"]
    stats[c] = (ok, bad)

at_wall = None
if stats.get("actorrent") and stats["actorrent"][0]:
    at_wall = med([float(r[3]) for r in stats["actorrent"][0]])

now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
nproc = os.cpu_count()
try:
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
except Exception:
    pass
print("### Download: %d MiB, %s pieces, %s %s seeder%s on loopback"
      % (size // 1048576, piece_size[:-1] + " " + piece_size[-1] + "iB", seeders, seeder_client,
         "" if seeders == "1" else "s"))
print()
print("- Command: `%s`" % cmdline)
print("- Date: %s; machine: %s cores, Linux %s" % (now, nproc, platform.release()))
print("- Runs per client: %s (median, with min–max when more than one run); time limit %s s a run" % (runs, limit))
print()
print("| leecher | ok runs | wall s | MB/s (size/wall) | to-complete s | MB/s (size/to-complete) | CPU s (user+sys) | peak RSS MiB | wall ratio client/actorrent |")
print("|---|---|---|---|---|---|---|---|---|")
names = {"actorrent": at_version, "baseline": base_version, "aria2": versions["aria2"], "libtorrent": versions["libtorrent"],
         "transmission": versions["transmission"]}
for c in order:
    ok, bad = stats[c]
    n = len(ok) + len(bad)
    if not ok:
        reasons = sorted(set(r[8] for r in bad)) or ["not run"]
        print("| %s | 0/%d | n/a: %s | | | | | | |" % (names[c], n, "; ".join(reasons).replace("|", "/")))
        continue
    walls = [float(r[3]) for r in ok]
    cpus = [float(r[4]) + float(r[5]) for r in ok]
    rss = [int(r[6]) / 1024.0 for r in ok]
    comps = [float(r[7]) for r in ok if r[7]]
    mbs = [size / 1e6 / w for w in walls]
    rss_s = span(rss, "%.0f") + (" (mmap)" if c == "libtorrent" else "")
    comp_s = span(comps, "%.2f") if comps else "?"
    comp_mbs = span([size / 1e6 / t for t in comps], "%.0f") if comps else "?"
    ratio = "%.2f" % (med(walls) / at_wall) if at_wall else "n/a"
    if c == "actorrent":
        ratio = "1.00"
    print("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s |" % (
        names[c], len(ok), n, span(walls, "%.2f"), span(mbs, "%.0f"), comp_s, comp_mbs,
        span(cpus, "%.2f"), rss_s, ratio))
    if bad:
        print("|  ↳ failed runs | %d | %s | | | | | | |" % (len(bad), "; ".join(sorted(set(r[8] for r in bad))).replace("|", "/")))
print()
print("wall s, CPU s and peak RSS come from `/usr/bin/time -f '%e %U %S %M'` around the leecher"
      " (process start to exit, so a client's shutdown is included); MB/s = 10^6 bytes / s of"
      " wall time; to-complete s = from launch to the client's completion signal (aria2"
      " --on-bt-download-complete, transmission -f script, the libtorrent script's is_seeding"
      " moment; actorrent has no completion hook and exits once complete, so it is its wall time). Every counted run left a"
      " file byte-identical to the source (cmp); the source stays in the page cache (nothing is"
      " dropped) and downloads are written to a fresh directory on the same disk. (mmap): libtorrent"
      " 2.0 maps the file it writes, so its RSS counts those file pages.")
PYEOF
bench_report "$REPORT"
