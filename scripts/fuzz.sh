#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of fuzz/ (see fuzz/README.md).
#
#   scripts/fuzz.sh build                          configure + build with clang into build-fuzz/
#   scripts/fuzz.sh run SECONDS [-j N] [-k] [TARGET...]
#                                                  fuzz each target (all by default) for SECONDS
#   scripts/fuzz.sh replay [TARGET...]             run each target over fuzz/regressions/<target>/
#   scripts/fuzz.sh list                           print the target names
#
# A TARGET is the file name without "_fuzzer.cpp" (bencode, metainfo, wire, ...);
# "bencode_fuzzer" is accepted too. Options of `run`:
#   -j N   run N targets at once (default 1; the machine has 2 cores)
#   -k     keep going after a crash (libFuzzer -fork=1 -ignore_crashes=1 ...), to
#          collect several distinct crashes in one run; still non-zero at the end
#
# Environment: ACTORRENT_FUZZ_BUILD_DIR (default <repo>/build-fuzz),
# ACTORRENT_SHARED_DIR (default <repo>/../shared; conformance torrents seed the
# bencode and metainfo corpora from its conformance/ folder when it exists).
#
# Exit status: 0 when every target ran and nothing crashed, 1 otherwise, 2 on usage errors.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${ACTORRENT_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SHARED=${ACTORRENT_SHARED_DIR:-$ROOT/../shared}
RSS_LIMIT_MB=2048
UNIT_TIMEOUT_S=10 # one input running longer than this counts as a hang (a crash)

# UBSan findings must end the run like ASan's do: the library is compiled with
# recoverable UBSan checks, so make the runtime stop at the first report.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "fuzz.sh: $*" >&2
  exit 2
}

all_targets() {
  local f
  for f in "$ROOT"/fuzz/*_fuzzer.cpp; do
    [[ -e $f ]] || continue
    f=${f##*/}
    echo "${f%_fuzzer.cpp}"
  done
}

# Normalises the TARGET arguments (or all targets) into the array TARGETS.
resolve_targets() {
  TARGETS=()
  local known t
  known=$(all_targets)
  if (($# == 0)); then
    mapfile -t TARGETS <<<"$known"
    [[ -n ${TARGETS[0]:-} ]] || die "no fuzz/*_fuzzer.cpp found"
    return
  fi
  for t in "$@"; do
    t=${t%_fuzzer}
    grep -qx -- "$t" <<<"$known" || die "unknown target '$t' (known: ${known//$'\n'/ })"
    TARGETS+=("$t")
  done
}

max_len_for() {
  case $1 in
    metainfo) echo $((1024 * 1024)) ;;  # real torrents run to hundreds of KiB
    bencode) echo $((256 * 1024)) ;;    # room for the conformance torrents as seeds
    resume) echo 4096 ;;                # the fuzzer's torrents refuse files over ~1 KiB
    *) echo $((64 * 1024)) ;;           # messages, tracker responses, URIs
  esac
}

uses_conformance_torrents() {
  [[ $1 == bencode || $1 == metainfo ]]
}

exe_for() {
  echo "$BUILD/fuzz/$1_fuzzer"
}

cmd_build() {
  (($# == 0)) || usage
  command -v clang++ >/dev/null || die "clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)"
  command -v ninja >/dev/null || die "ninja not found (Debian: apt-get install ninja-build)"
  CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DACTORRENT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo || exit 1
  # -k 0: one target that does not compile must not hide the others
  ninja -C "$BUILD" -j "${ACTORRENT_FUZZ_BUILD_JOBS:-2}" -k 0 || exit 1
}

# Copies the conformance torrents (small ones) into a seed folder of the build tree,
# so nothing large is committed and the shared folder is never written to.
stage_conformance_seeds() {
  local t=$1 dest=$BUILD/seeds-shared/$1 max_len
  max_len=$(max_len_for "$t")
  [[ -d $SHARED/conformance ]] || return 1
  rm -rf "$dest"
  mkdir -p "$dest"
  local f n=0
  while IFS= read -r -d '' f; do
    (($(stat -c %s "$f") <= max_len)) || continue
    # name by path so equal base names from different folders do not collide
    local name=${f#"$SHARED"/conformance/}
    cp "$f" "$dest/${name//\//__}"
    n=$((n + 1))
  done < <(find "$SHARED/conformance" -type f -name '*.torrent' -print0)
  ((n > 0))
}

count_findings() {
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) 2>/dev/null | wc -l
}

# Fuzzes one target; writes its summary line to $BUILD/logs/<t>.summary and
# returns non-zero when it crashed or could not run.
run_one() {
  local t=$1 secs=$2 keep_going=$3
  local exe corpus art log summary max_len
  exe=$(exe_for "$t")
  corpus=$BUILD/corpus/$t
  art=$BUILD/artifacts/$t
  log=$BUILD/logs/$t.log
  summary=$BUILD/logs/$t.summary
  max_len=$(max_len_for "$t")
  mkdir -p "$corpus" "$art" "$BUILD/logs"
  if [[ ! -x $exe ]]; then
    echo "$t: not built ($exe missing; run scripts/fuzz.sh build) FAILED" >"$summary"
    return 1
  fi
  # the work corpus comes first: libFuzzer writes new inputs only there
  local dirs=("$corpus")
  [[ -d $ROOT/fuzz/seeds/$t ]] && dirs+=("$ROOT/fuzz/seeds/$t")
  [[ -d $ROOT/fuzz/regressions/$t ]] && dirs+=("$ROOT/fuzz/regressions/$t")
  if uses_conformance_torrents "$t" && stage_conformance_seeds "$t"; then
    dirs+=("$BUILD/seeds-shared/$t")
  fi
  local flags=(-max_total_time="$secs" -rss_limit_mb="$RSS_LIMIT_MB" -max_len="$max_len"
    -timeout="$UNIT_TIMEOUT_S" -artifact_prefix="$art/" -print_final_stats=1)
  if ((keep_going)); then
    flags+=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  fi
  local before after rc started elapsed
  before=$(count_findings "$art")
  started=$(date +%s)
  {
    echo "# $(date -u +%FT%TZ) $exe ${flags[*]} ${dirs[*]}"
    # hard bound on top of -max_total_time (corpus loading, a stuck process)
    timeout -k 30 $((secs + 300)) "$exe" "${flags[@]}" "${dirs[@]}"
  } >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - started))
  after=$(count_findings "$art")
  # new artifact files, or (when an input crashes again with the same name, as a
  # regression does) the distinct artifacts the log says it wrote
  local crashes=$((after - before)) written
  written=$(grep -o 'Test unit written to .*' "$log" | sort -u | wc -l)
  ((written > crashes)) && crashes=$written

  # libFuzzer's closing statistics; fork mode prints only its status lines
  local runs execs cov ft corp status_line
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  status_line=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status_line")
  if [[ -z $runs ]]; then
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$status_line")
  fi
  if [[ -z $execs ]]; then
    execs=$(sed -n 's/.*exec\/s:\{0,1\} \([0-9]*\).*/\1/p' <<<"$status_line")
  fi
  local result=ok
  if ((crashes > 0)); then
    result="CRASHED (see $log, artifacts in $art/)"
  elif ((rc != 0)); then
    result="FAILED exit $rc (see $log)"
  fi
  printf '%s: ran %ss of %ss runs=%s exec/s=%s cov=%s ft=%s corpus=%s crashes=%s %s\n' \
    "$t" "$elapsed" "$secs" "${runs:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" \
    "$result" >"$summary"
  [[ $result == ok ]]
}

cmd_run() {
  local secs=${1:-}
  [[ $secs =~ ^[1-9][0-9]*$ ]] || usage
  shift
  local jobs=1 keep_going=0 args=()
  while (($#)); do
    case $1 in
      -j) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; jobs=$2; shift 2 ;;
      -j*) jobs=${1#-j}; [[ $jobs =~ ^[1-9][0-9]*$ ]] || usage; shift ;;
      -k | --keep-going) keep_going=1; shift ;;
      -*) usage ;;
      *) args+=("$1"); shift ;;
    esac
  done
  resolve_targets "${args[@]}"
  local t running=0 failed=0
  for t in "${TARGETS[@]}"; do
    rm -f "$BUILD/logs/$t.summary"
    if ((jobs == 1)); then
      run_one "$t" "$secs" "$keep_going"
      cat "$BUILD/logs/$t.summary"
    else
      if ((running >= jobs)); then
        wait -n
        running=$((running - 1))
      fi
      run_one "$t" "$secs" "$keep_going" &
      running=$((running + 1))
    fi
  done
  wait
  echo "== fuzz summary ($secs s per target)"
  for t in "${TARGETS[@]}"; do
    if [[ -f $BUILD/logs/$t.summary ]]; then
      cat "$BUILD/logs/$t.summary"
      grep -q ' ok$' "$BUILD/logs/$t.summary" || failed=1
    else
      echo "$t: no result FAILED"
      failed=1
    fi
  done
  return $failed
}

cmd_replay() {
  resolve_targets "$@"
  local t failed=0
  mkdir -p "$BUILD/logs"
  for t in "${TARGETS[@]}"; do
    local exe dir log files=()
    exe=$(exe_for "$t")
    dir=$ROOT/fuzz/regressions/$t
    log=$BUILD/logs/replay-$t.log
    [[ -d $dir ]] && mapfile -t files < <(find "$dir" -maxdepth 1 -type f ! -name '*.md' | sort)
    if ((${#files[@]} == 0)); then
      echo "$t: 0 reproducers ok"
      continue
    fi
    if [[ ! -x $exe ]]; then
      echo "$t: not built ($exe missing; run scripts/fuzz.sh build) FAILED"
      failed=1
      continue
    fi
    # one process per file, so every failing reproducer is named, not just the first
    local f bad=() rc
    : >"$log"
    for f in "${files[@]}"; do
      echo "# $exe $f" >>"$log"
      timeout -k 30 300 "$exe" -rss_limit_mb="$RSS_LIMIT_MB" -timeout="$UNIT_TIMEOUT_S" "$f" >>"$log" 2>&1
      rc=$?
      ((rc == 0)) || bad+=("${f##*/}")
    done
    if ((${#bad[@]} == 0)); then
      echo "$t: ${#files[@]} reproducers ok"
    else
      echo "$t: ${#files[@]} reproducers, ${#bad[@]} FAILED: ${bad[*]} (see $log)"
      failed=1
    fi
  done
  return $failed
}

cmd=${1:-}
(($#)) && shift
case $cmd in
  build) cmd_build "$@" ;;
  run) cmd_run "$@" ;;
  replay) cmd_replay "$@" ;;
  list) all_targets ;;
  *) usage ;;
esac
