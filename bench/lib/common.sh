# shellcheck shell=bash
# bench/lib/common.sh: shell helpers shared by the benchmarks (download.sh,
# seed.sh). Source it after setting BENCH_NAME (the script's name, for
# messages) and BENCH_USAGE (the lines of the script's header comment that
# `usage` prints, a sed range):
#
#   BENCH_NAME=seed.sh
#   BENCH_USAGE=7,13
#   source "$HERE/lib/common.sh"
#
# It sets ROOT, ACTORRENT, PY and LT_PEER, and installs the EXIT trap: every
# PID appended to PIDS is stopped (SIGTERM, then SIGKILL after 5 s) and the
# work directory WORK is removed unless BENCH_KEEP=1. The script then parses
# its command line with bench_options (defining bench_option for its own
# options) and checks its programs with bench_clients and bench_require.

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The repository, the actorrent binary (ACTORRENT from the environment, else
# build/app/actorrent), the Debian python with the libtorrent module and the
# libtorrent peer script.
BENCH_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_LIB/../.." && pwd)"
ACTORRENT="${ACTORRENT:-$ROOT/build/app/actorrent}"
# An older actorrent binary to run side by side with ACTORRENT in the same run
# (client name "baseline"), e.g. the build of the commit before a change.
ACTORRENT_BASELINE="${ACTORRENT_BASELINE:-}"
PY=/usr/bin/python3
LT_PEER="$BENCH_LIB/lt_peer.py"

# ---- options --------------------------------------------------------------------------
# usage [STATUS]: prints the usage lines of the script's header comment and
# exits with STATUS (default 2).
usage() {
  sed -n "${BENCH_USAGE}p" "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

# The options every benchmark takes, with their defaults.
SIZE_MIB=1024
RUNS=3
OUT=""
LIMIT=240

# bench_options ARGS...: parses a benchmark's command line. The options every
# benchmark takes set SIZE_MIB, RUNS, OUT and LIMIT; -h/--help calls `usage 0`. Any other option
# goes to the script's bench_option "$@" (the remaining arguments), which sets
# it from its value "${2:?}" and returns 0, or returns 1 if it does not know it
# (then: "unknown argument", usage). Sets CMDLINE (for the report), then
# checks that SIZE_MIB, RUNS and LIMIT are positive integers.
bench_options() {
  CMDLINE="$0 $*"
  while [ $# -gt 0 ]; do
    case "$1" in
      --size-mib) SIZE_MIB="${2:?}"; shift 2 ;;
      --runs) RUNS="${2:?}"; shift 2 ;;
      --out) OUT="${2:?}"; shift 2 ;;
      --limit) LIMIT="${2:?}"; shift 2 ;;
      -h|--help) usage 0 ;;
      *)
        if bench_option "$@"; then
          shift 2
        else
          echo "$BENCH_NAME: unknown argument: $1" >&2
          usage
        fi ;;
    esac
  done
  [[ "$SIZE_MIB" =~ ^[1-9][0-9]*$ ]] || die "--size-mib must be a positive integer"
  [[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
  [[ "$LIMIT" =~ ^[1-9][0-9]*$ ]] || die "--limit must be a positive integer"
}

# bench_clients ARRAY KIND LIST: splits LIST (comma-separated names of the
# compared programs: actorrent, baseline (ACTORRENT_BASELINE), aria2, libtorrent,
# transmission) into the array named ARRAY; dies on another name ("unknown KIND: NAME").
bench_clients() {
  local c names
  IFS=',' read -r -a names <<<"$3"
  for c in "${names[@]}"; do
    case "$c" in
      actorrent|aria2|libtorrent|transmission) ;;
      baseline) [ -x "$ACTORRENT_BASELINE" ] || die "$2 baseline needs ACTORRENT_BASELINE=an actorrent binary" ;;
      *) die "unknown $2: $c" ;;
    esac
  done
  IFS=',' read -r -a "$1" <<<"$3"
}

# bench_require LIST TOOL...: dies unless every TOOL is on PATH, $PY imports
# libtorrent, and aria2c and transmission-cli are there if LIST (as for
# bench_clients) names aria2 and transmission.
bench_require() {
  local c t names
  IFS=',' read -r -a names <<<"$1"
  shift
  for t in "$@"; do
    command -v "$t" >/dev/null || die "missing tool: $t"
  done
  "$PY" -c 'import libtorrent' 2>/dev/null || die "$PY cannot import libtorrent (python3-libtorrent)"
  for c in "${names[@]}"; do
    case "$c" in
      aria2) command -v aria2c >/dev/null || die "missing aria2c" ;;
      transmission) command -v transmission-cli >/dev/null || die "missing transmission-cli" ;;
    esac
  done
}

# ---- cleanup: every process we start is recorded here and stopped by PID ----------
PIDS=()
WORK=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$WORK" ] && [ -d "$WORK" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (bounded) until COMMAND succeeds; returns 1 after SECONDS.
wait_for() {
  local seconds="$1"; shift
  local end=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}
port_listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
port_in_use() { ss -tanH "( sport = :$1 or dport = :$1 )" 2>/dev/null | grep -q .; }
alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# Drops finished PIDs from the cleanup list (so a reused PID is never signalled).
forget_pids() {
  local keep=() p q drop
  for p in "${PIDS[@]}"; do
    drop=0
    for q in "$@"; do [ "$p" = "$q" ] && drop=1; done
    [ "$drop" = 1 ] || keep+=("$p")
  done
  PIDS=("${keep[@]}")
}
# stop_pid PID SIGNAL: sends SIGNAL to PID (a child of this shell), waits up to
# 10 s for it to exit, then SIGKILLs it; reaps it and drops it from PIDS.
stop_pid() {
  local pid="$1" sig="$2"
  kill -"$sig" "$pid" 2>/dev/null || true
  wait_for 10 gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pids "$pid"
}

# ---- content (cached between invocations) -------------------------------------------
# bench_content SIZE_MIB: N MiB of random data in $BENCH_CACHE (default
# /tmp/actorrent-bench-cache), made once and reused, read so that it sits in the
# page cache. Sets SIZE_BYTES, DATA_DIR, NAME and CONTENT.
bench_content() {
  local cache="${BENCH_CACHE:-/tmp/actorrent-bench-cache}"
  SIZE_BYTES=$(($1 * 1024 * 1024))
  DATA_DIR="$cache/${1}MiB"
  NAME="bench-${1}MiB.bin"
  CONTENT="$DATA_DIR/$NAME"
  mkdir -p "$DATA_DIR"
  if [ ! -f "$CONTENT" ] || [ "$(stat -c %s "$CONTENT")" != "$SIZE_BYTES" ]; then
    log "making $1 MiB of random data in $CONTENT"
    rm -f "$DATA_DIR"/*.resume
    head -c "$SIZE_BYTES" /dev/urandom >"$CONTENT.tmp"
    mv "$CONTENT.tmp" "$CONTENT"
  fi
  # The source stays in the page cache for the whole bench (nothing is dropped);
  # read it once so the first run does not pay for reading it from disk.
  cat "$CONTENT" >/dev/null
}

# bench_torrent [CREATE OPTIONS...]: TORRENT ($WORK/bench.torrent), made by
# `actorrent create` from CONTENT with PIECE_SIZE pieces (default 256K) and the options, and
# INFO_HASH, its info-hash as libtorrent reads it.
bench_torrent() {
  TORRENT="$WORK/bench.torrent"
  "$ACTORRENT" create "$CONTENT" -l "${PIECE_SIZE:-256K}" "$@" -o "$TORRENT" -q || die "actorrent create failed"
  INFO_HASH="$("$PY" -c 'import sys, libtorrent as lt; print(lt.torrent_info(sys.argv[1]).info_hash())' "$TORRENT")"
  [[ "$INFO_HASH" =~ ^[0-9a-f]{40}$ ]] || die "could not read the info-hash ($INFO_HASH)"
}

# bench_workdir: a fresh work directory in WORK (removed on exit).
bench_workdir() {
  WORK="$(mktemp -d /tmp/actorrent-bench.XXXXXX)"
  chmod 755 "$WORK"
}

# pick_ports COUNT: prints the first of COUNT consecutive ports that nothing
# uses now (a random base in 20000-59999; 50 tries).
pick_ports() {
  local count="$1" base i ok
  for _ in $(seq 50); do
    base=$((20000 + RANDOM % 40000))
    ok=1
    for i in $(seq 0 $((count - 1))); do
      if port_in_use $((base + i)); then ok=0; break; fi
    done
    if [ "$ok" = 1 ]; then echo "$base"; return 0; fi
  done
  return 1
}

# ---- report ---------------------------------------------------------------------------
# at_binary CLIENT: the actorrent binary a client name runs (actorrent or baseline).
at_binary() { if [ "$1" = baseline ]; then echo "$ACTORRENT_BASELINE"; else echo "$ACTORRENT"; fi; }

# at_version [BINARY]: an actorrent binary's name in a report: the commit it was
# built from, as `BINARY --version` prints it (the build records it), and the
# binary's date. A binary too old to say names no commit rather than the checkout's.
at_version() {
  local bin="${1:-$ACTORRENT}" v
  v="$("$bin" --version 2>/dev/null | head -n 1)" || v=""
  [[ "$v" == *commit* ]] || v="actorrent (commit not recorded in this binary)"
  echo "$v; binary of $(date -r "$bin" '+%Y-%m-%d %H:%M')"
}

# bench_report REPORT: prints the report, and copies it to OUT if --out was given.
bench_report() {
  cat "$1"
  if [ -n "$OUT" ]; then
    cp "$1" "$OUT"
    log "wrote $OUT"
  fi
}
