# shellcheck shell=bash
# bench/lib/common.sh: shell helpers shared by the benchmarks (download.sh,
# seed.sh). Source it after setting BENCH_NAME (the script's name, for
# messages):
#
#   BENCH_NAME=seed.sh
#   source "$HERE/lib/common.sh"
#
# It installs the EXIT trap: every PID appended to PIDS is stopped (SIGTERM,
# then SIGKILL after 5 s) and the work directory WORK is removed unless
# BENCH_KEEP=1.

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

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
