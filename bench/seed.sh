#!/usr/bin/env bash
# bench/seed.sh: upload throughput of actorrent as a seeder against libtorrent,
# aria2c and transmission-cli, each seeding the same torrent on loopback to the
# same python3-libtorrent leecher(s). Documented in this header (not yet in
# bench/README.md).
#
#   bench/seed.sh [--size-mib N] [--runs N] [--leechers N]
#                 [--seeders actorrent,libtorrent,aria2,transmission]
#                 [--out FILE.md] [--limit SECONDS]
#
# Environment: ACTORRENT (binary, default build/app/actorrent next to this
# script's repository), ACTORRENT_BASELINE (an older binary, run side by side as
# the client "baseline"), BENCH_CACHE (content cache, default
# /tmp/actorrent-bench-cache), BENCH_KEEP=1 (keep the work directory).
#
# Scenario A is --leechers 1 (the default): one libtorrent leecher downloads the
# whole file from one seeder. Scenario B is --leechers N (e.g. 8): N libtorrent
# leechers, started together, each download it from the same seeder. Each run of
# each seeder starts a fresh seeder process (no tracker: the leechers dial it),
# waits until it is ready, starts the leecher(s) (`lib/lt_peer.py leech --peer
# --no-pex`: they never learn of each other, so every byte comes from the seeder),
# waits (bounded by --limit) until they have all exited, reads the seeder's
# CPU time (utime+stime of /proc/PID/stat, all threads) and peak RSS (VmHWM of
# /proc/PID/status) and stops it by PID. Reported per seeder (medians of --runs):
# seconds from the leechers' launch to the last one's completion, and from the
# first leecher connection to it (the transfer: libtorrent dials on its
# once-a-second tick, ~1 s after its start), the aggregate rate (N x size /
# transfer seconds), the seeder's CPU seconds during the transfer
# (read just before the leechers start and just after they exit) and in total
# (start-up and data check included), its peak RSS, and time and CPU ratios
# to actorrent (>1: actorrent is better). A run counts only if every leecher's
# file is byte-identical to the source (cmp).
#
# Seeders:
#   actorrent     `actorrent seed T DIR --port P --no-trackers --quiet`; measured
#                 only if `actorrent seed --help` shows the seed command's usage. Ready once it prints
#                 "listening on port" or its port accepts connections.
#   libtorrent    lib/lt_peer.py seed (python3-libtorrent 2.0, the settings of
#                 download.sh's seeders), resume data cached next to the content
#                 so it does not re-hash; ready once it writes its ready file. Its
#                 RSS counts the pages of the file it maps ("(mmap)").
#   aria2         aria2c --seed-ratio=0.0 --bt-seed-unverified=true (no check),
#                 DHT/LPD/PEX/IPv6 off; ready once its port listens.
#   transmission  transmission-cli with a fresh config dir (DHT, LPD, PEX, uTP,
#                 port forwarding off; it checks the data at start); ready once
#                 it says "Seeding". Stopped with SIGINT (the others: SIGTERM).
#                 It unchokes a new peer only at its next rechoke (~10 s), then
#                 climbs to ~17 MB/s here. Not run with --leechers > 1: it keeps
#                 one connection per IP address (seen: 8 leechers from 127.0.0.1,
#                 it served one and dropped the others), and everything here
#                 runs on 127.0.0.1.
# aria2, transmission and actorrent seed from a private directory holding a
# hard link to the cached content (libtorrent from the cache directory itself).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_NAME=seed.sh
BENCH_USAGE=7,13
# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"

# Its own options and their defaults (lib/common.sh parses the shared ones:
# --size-mib, --runs, --out, --limit).
LEECHERS=1
SEEDERS="actorrent,libtorrent,aria2,transmission"
bench_option() {
  case "$1" in
    --leechers) LEECHERS="${2:?}" ;;
    --seeders) SEEDERS="${2:?}" ;;
    *) return 1 ;;
  esac
}
bench_options "$@"
if ! [[ "$LEECHERS" =~ ^[1-9][0-9]*$ ]] || [ "$LEECHERS" -gt 32 ]; then die "--leechers must be 1..32"; fi
bench_clients SEEDER_LIST seeder "$SEEDERS"

[ -x "$ACTORRENT" ] || die "no actorrent binary at $ACTORRENT (it makes the torrent; build it: ninja -C build actorrent)"
bench_require "$SEEDERS" ss cmp timeout stdbuf getconf
# The seed command is new: without it actorrent's row says so and is skipped.
# (An unknown subcommand's --help prints the top-level help and exits 0, hence
# the look at its usage line.)
AT_SEED=0
AT_HELP="$(timeout 10 "$ACTORRENT" seed --help 2>&1 || true)"
if grep -q '^Usage: [^ ]* seed ' <<<"$AT_HELP"; then AT_SEED=1; fi
CLK_TCK="$(getconf CLK_TCK)"

bench_content "$SIZE_MIB"
bench_workdir

# ---- ports: the seeder's, then one per leecher ------------------------------------------
BASE="$(pick_ports $((LEECHERS + 1)))" || die "no free port range found"
SEED_PORT=$BASE

# ---- torrent (no tracker: the leechers dial the seeder) ---------------------------------
# shellcheck disable=SC2119 # no create options
bench_torrent
RESUME="$DATA_DIR/$INFO_HASH.resume"

# Seeders other than libtorrent get a directory of their own with a hard link
# to the content (a symbolic link if /tmp and the cache are different file systems).
SEED_DIR="$WORK/seeddata"
mkdir -p "$SEED_DIR"
ln "$CONTENT" "$SEED_DIR/$NAME" 2>/dev/null || ln -s "$CONTENT" "$SEED_DIR/$NAME"

# ---- the seeder's figures from /proc -------------------------------------------------------
# cpu_seconds PID: user+system CPU seconds of PID (all its threads) so far.
cpu_seconds() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo ""; return; }
  # Fields after "(comm)": state is the 1st, utime the 12th, stime the 13th.
  awk -v tck="$CLK_TCK" '{ printf "%.2f", ($12 + $13) / tck }' <<<"${stat##*) }"
}
# peak_rss_kb PID: VmHWM of PID in kB.
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# ---- one run of one seeder ---------------------------------------------------------------
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# start_seeder SEEDER TAG: starts it in the background; sets SPID, SREADY (a
# command that succeeds once it is ready) and SSIG (the signal that stops it).
start_seeder() {
  local seeder="$1" tag="$2" slog="$WORK/$2.seeder.log"
  SSIG=TERM
  case "$seeder" in
    actorrent|baseline)
      "$(at_binary "$seeder")" seed "$TORRENT" "$SEED_DIR" --port "$SEED_PORT" --no-trackers --quiet \
        >"$slog" 2>&1 </dev/null &
      SPID=$!
      SREADY=(sh -c 'grep -q "listening on port" "$1" || ss -ltnH "sport = :$2" | grep -q .' sh "$slog" "$SEED_PORT") ;;
    libtorrent)
      rm -f "$WORK/$tag.ready"
      "$PY" "$LT_PEER" seed --torrent "$TORRENT" --dir "$DATA_DIR" --port "$SEED_PORT" \
        --ready "$WORK/$tag.ready" --resume "$RESUME" >"$slog" 2>&1 </dev/null &
      SPID=$!
      SREADY=(test -f "$WORK/$tag.ready") ;;
    aria2)
      aria2c --no-conf --seed-ratio=0.0 --bt-seed-unverified=true --enable-dht=false \
        --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false --disable-ipv6=true \
        --file-allocation=none --interface=127.0.0.1 --listen-port="$SEED_PORT" --dir="$SEED_DIR" \
        --summary-interval=0 --console-log-level=warn --show-console-readout=false "$TORRENT" \
        >"$slog" 2>&1 </dev/null &
      SPID=$!
      SREADY=(sh -c 'ss -ltnH "sport = :$1" | grep -q .' sh "$SEED_PORT") ;;
    transmission)
      local cfg="$WORK/$tag.cfg"
      mkdir -p "$cfg"
      cat >"$cfg/settings.json" <<EOF
{
  "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
  "port-forwarding-enabled": false, "blocklist-enabled": false, "encryption": 0,
  "bind-address-ipv4": "127.0.0.1", "peer-port": $SEED_PORT, "peer-port-random-on-start": false,
  "speed-limit-up-enabled": false, "speed-limit-down-enabled": false,
  "ratio-limit-enabled": false, "idle-seeding-limit-enabled": false, "rpc-enabled": false,
  "message-level": 1
}
EOF
      # stdbuf (which execs it, same PID): unbuffered, or "Seeding" shows late.
      stdbuf -o0 transmission-cli -g "$cfg" -w "$SEED_DIR" -p "$SEED_PORT" -D -U -M -B -et "$TORRENT" \
        >"$slog" 2>&1 </dev/null &
      SPID=$!
      SSIG=INT
      SREADY=(grep -q Seeding "$slog") ;;
  esac
  PIDS+=("$SPID")
}

run_one() {
  local seeder="$1" run="$2"
  local tag="$seeder-$run"
  local reason="" ok=0 i
  if [ "$seeder" = actorrent ] && [ "$AT_SEED" = 0 ]; then
    printf '%s\t%s\t0\t\t\t\t\t\t%s\t\n' "$seeder" "$run" "no 'actorrent seed' in this binary" >>"$RESULTS"
    return
  fi
  if [ "$seeder" = transmission ] && [ "$LEECHERS" -gt 1 ]; then
    printf '%s\t%s\t0\t\t\t\t\t\t%s\t\n' "$seeder" "$run" \
      "not run: it keeps one connection per IP address, so it serves 1 of $LEECHERS leechers on 127.0.0.1" >>"$RESULTS"
    return
  fi
  start_seeder "$seeder" "$tag"
  if ! wait_for 300 sh -c '"$@" || ! kill -0 "$0" 2>/dev/null' "$SPID" "${SREADY[@]}"; then
    reason="not ready after 300 s"
  elif ! alive "$SPID"; then
    reason="seeder exited at start: $(tail -n 2 "$WORK/$tag.seeder.log" | tr '\n\r' '  ' | cut -c1-160)"
  fi

  local start="" cpu0="" cpu1="" cpu_total="" hwm="" last="" times="" first_conn="" transfer=""
  local lpids=() ldirs=() conns=""
  if [ -z "$reason" ]; then
    cpu0="$(cpu_seconds "$SPID")"
    start="$(date +%s.%N)"
    for i in $(seq 1 "$LEECHERS"); do
      local ldir="$WORK/dl/$tag-$i"
      rm -rf "$ldir"; mkdir -p "$ldir"
      rm -f "$WORK/$tag-$i.done" "$WORK/$tag-$i.connected"
      ldirs+=("$ldir")
      timeout -k 10 $((LIMIT + 30)) "$PY" "$LT_PEER" leech --torrent "$TORRENT" --dir "$ldir" \
        --port $((BASE + i)) --peer "127.0.0.1:$SEED_PORT" --done "$WORK/$tag-$i.done" \
        --connected "$WORK/$tag-$i.connected" \
        --timeout "$LIMIT" --no-pex >"$WORK/$tag-$i.leech.log" 2>&1 </dev/null &
      lpids+=($!)
      PIDS+=($!)
    done
    # Bounded: each leecher gives up after LIMIT s, `timeout` kills it 30 s later.
    for i in "${!lpids[@]}"; do
      wait "${lpids[$i]}" || true
    done
    forget_pids "${lpids[@]}"
    cpu1="$(cpu_seconds "$SPID")"
  fi
  if alive "$SPID"; then
    cpu_total="$(cpu_seconds "$SPID")"
    hwm="$(peak_rss_kb "$SPID")"
  elif [ -z "$reason" ]; then
    reason="seeder died: $(tail -n 2 "$WORK/$tag.seeder.log" | tr '\n\r' '  ' | cut -c1-160)"
  fi
  stop_pid "$SPID" "$SSIG"

  if [ -z "$reason" ]; then
    local missing=0
    for i in $(seq 1 "$LEECHERS"); do
      [ -f "$WORK/$tag-$i.done" ] || missing=$((missing + 1))
    done
    [ "$missing" = 0 ] || reason="$missing of $LEECHERS leecher(s) did not complete within $LIMIT s"
  fi
  if [ -z "$reason" ]; then
    for i in $(seq 1 "$LEECHERS"); do
      local done_file="$WORK/$tag-$i.done" got="${ldirs[$((i - 1))]}/$NAME"
      if ! cmp -s "$CONTENT" "$got"; then
        reason="leecher $i: file differs from the source"
        break
      fi
      times+="$(awk -v s="$start" -v d="$(cat "$done_file")" 'BEGIN { printf "%.2f", d - s }'),"
      # Seconds from the start to the leecher's first connection (its start if it never saw one).
      conns+="$(awk -v s="$start" -v d="$(cat "$WORK/$tag-$i.connected" 2>/dev/null || echo "$start")" \
        'BEGIN { printf "%.3f", d - s }'),"
    done
  fi
  if [ -z "$reason" ] && [ -n "$cpu0" ] && [ -n "$cpu1" ] && [ -n "$hwm" ]; then
    ok=1
    last="$(tr ',' '\n' <<<"${times%,}" | sort -g | tail -n 1)"
    first_conn="$(tr ',' '\n' <<<"${conns%,}" | sort -g | head -n 1)"
    transfer="$(awk -v l="$last" -v c="$first_conn" 'BEGIN { printf "%.2f", l - c }')"
    log "$tag: ok, last leecher complete after ${last}s (each: ${times%,}), ${transfer}s after the first connection, seeder cpu $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.2f", b-a}')s during the transfer, ${cpu_total}s in all, peak rss $((hwm / 1024)) MiB"
  else
    [ -n "$reason" ] || reason="no figures from /proc"
    log "$tag: FAILED: $reason"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seeder" "$run" "$ok" "$last" "${times%,}" \
    "$(awk -v a="${cpu0:-0}" -v b="${cpu1:-0}" 'BEGIN{printf "%.2f", b-a}')" "$cpu_total" "$hwm" "$reason" \
    "$transfer" >>"$RESULTS"
  rm -rf "$WORK/dl"
  # Start the next run without the last one's dirty pages still being written back.
  timeout 60 sync || true
}

log "$SIZE_MIB MiB, $RUNS run(s), $LEECHERS leecher(s), seeders: ${SEEDER_LIST[*]}; time limit $LIMIT s a run"
[ "$AT_SEED" = 1 ] || log "'$ACTORRENT seed --help' shows no seed command: actorrent is not measured"
for run in $(seq 1 "$RUNS"); do
  for s in "${SEEDER_LIST[@]}"; do
    run_one "$s" "$run"
  done
done

# ---- report -------------------------------------------------------------------------------
REPORT="$WORK/report.md"
AT_VERSION="$(at_version)"
BASE_VERSION=""
[ -n "$ACTORRENT_BASELINE" ] && BASE_VERSION="baseline: $(at_version "$ACTORRENT_BASELINE")"
"$PY" - "$RESULTS" "$SIZE_BYTES" "$LEECHERS" "$RUNS" "$LIMIT" "$CMDLINE" "$SEEDERS" "$AT_VERSION" "$BASE_VERSION" >"$REPORT" <<'PYEOF'
import datetime, os, platform, statistics, subprocess, sys

results, size, leechers, runs, limit, cmdline, seeders, at_version, base_version = sys.argv[1:10]
size, leechers = int(size), int(leechers)
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
order = seeders.split(",")

def ver(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except Exception:
        return "?"
names = {
    "actorrent": at_version,
    "baseline": base_version,
    "aria2": ver(["aria2c", "--version"]).replace("aria2 version", "aria2c"),
    "transmission": ver(["transmission-cli", "--version"]),
    "libtorrent": "libtorrent " + ver(["/usr/bin/python3", "-c", "import libtorrent; print(libtorrent.__version__)"]),
}

def med(xs):
    return statistics.median(xs)
def span(xs, fmt):
    if len(xs) == 1:
        return fmt % xs[0]
    return (fmt + " (" + fmt + "–" + fmt + ")") % (med(xs), min(xs), max(xs))

stats = {}
for s in order:
    ok = [r for r in rows if r[0] == s and r[2] == "1"]
    bad = [r for r in rows if r[0] == s and r[2] != "1"]
    stats[s] = (ok, bad)
at = None
if stats.get("actorrent") and stats["actorrent"][0]:
    ok = stats["actorrent"][0]
    at = (med([float(r[9]) for r in ok]), med([float(r[5]) for r in ok]))

now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
nproc = os.cpu_count()
if leechers == 1:
    print("### Seeding (scenario A): %d MiB, 256 KiB pieces, one seeder, one libtorrent leecher on loopback"
          % (size // 1048576))
else:
    print("### Seeding (scenario B): %d MiB, 256 KiB pieces, one seeder, %d libtorrent leechers at once on loopback"
          % (size // 1048576, leechers))
print()
print("- Command: `%s`" % cmdline)
print("- Date: %s; machine: %s cores, Linux %s" % (now, nproc, platform.release()))
print("- Runs per seeder: %s (median, with min–max when more than one run); time limit %s s a run" % (runs, limit))
print()
what = "completion" if leechers == 1 else "the last completion"
rate = "MB/s" if leechers == 1 else "aggregate MB/s (%d x size / transfer s)" % leechers
print("| seeder | ok runs | s from launch to %s | transfer s: first connection to %s | %s | seeder CPU s during transfer | seeder CPU s total | seeder peak RSS MiB | transfer time ratio seeder/actorrent | transfer CPU ratio seeder/actorrent |" % (what, what, rate))
print("|---|---|---|---|---|---|---|---|---|---|")
for s in order:
    ok, bad = stats[s]
    n = len(ok) + len(bad)
    if not ok:
        reasons = sorted(set(r[8] for r in bad)) or ["not run"]
        print("| %s | 0/%d | n/a: %s | | | | | | | |" % (names[s], n, "; ".join(reasons).replace("|", "/")))
        continue
    last = [float(r[3]) for r in ok]
    transfer = [float(r[9]) for r in ok]
    mbs = [leechers * size / 1e6 / t for t in transfer]
    cpu = [float(r[5]) for r in ok]
    cpu_total = [float(r[6]) for r in ok]
    rss = [int(r[7]) / 1024.0 for r in ok]
    rss_s = span(rss, "%.0f") + (" (mmap)" if s == "libtorrent" else "")
    if s == "actorrent":
        tr, cr = "1.00", "1.00"
    elif at:
        tr = "%.2f" % (med(transfer) / at[0])
        cr = "%.2f" % (med(cpu) / at[1]) if at[1] > 0 else "n/a"
    else:
        tr = cr = "n/a"
    print("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        names[s], len(ok), n, span(last, "%.2f"), span(transfer, "%.2f"), span(mbs, "%.0f"), span(cpu, "%.2f"),
        span(cpu_total, "%.2f"), rss_s, tr, cr))
    if bad:
        print("|  ↳ failed runs | %d | %s | | | | | | | |" % (len(bad), "; ".join(sorted(set(r[8] for r in bad))).replace("|", "/")))
print()
print("Launch = the leechers' start (`lib/lt_peer.py leech --no-pex`, python3-libtorrent, dialing the seeder;"
      " Python start-up included; libtorrent dials on its once-a-second tick, so it connects ~1 s later);"
      " completion = `is_seeding`; transfer s = from the first leecher's first connection (polled, 50 ms)"
      " to the last completion; MB/s = leechers x 10^6 bytes / transfer s."
      " Seeder CPU = utime+stime of the seeder process from /proc/PID/stat, read just before the leechers"
      " start and just after they exit (\"during transfer\") and just before it is stopped (\"total\","
      " start-up and any data check included); peak RSS = VmHWM from /proc/PID/status then. Ratios > 1:"
      " actorrent is faster / uses less CPU. Every counted run left files byte-identical to the source"
      " (cmp). Seeder and leecher(s) share the machine's cores. (mmap): libtorrent 2.0 maps the file it"
      " seeds, so its RSS counts those file pages.")
PYEOF
bench_report "$REPORT"
