#!/usr/bin/env bash
# actorrent's one entry point for set-up, build, tests and the demo.
#
#   scripts/dev.sh demo    install what is missing, build, run the main job (a local swarm)
#   scripts/dev.sh test    install what is missing, build, run every test
#   scripts/dev.sh deps    only install the Debian packages
#   scripts/dev.sh build   only build (Release, into build/)
#
# Works on a fresh Debian 12 machine as root; uses sudo when not root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-$(nproc)}"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"

# Build tools and libraries, then the real BitTorrent peers the tests run against.
BUILD_PACKAGES=(cmake ninja-build g++ pkg-config libcaf-dev libssl-dev libcurl4-openssl-dev libyaml-cpp-dev libcli11-dev
                nlohmann-json3-dev clang libclang-rt-14-dev
                libcpp-httplib-dev)  # the daemon's HTTP server (JSON-RPC API, health, readiness)
# The swarm lab's userspace delayer (`actorrent lab delayer`, lab/delayer.*): link delay and
# jitter on kernels without netem, holding packets on an iptables NFQUEUE. Without it the
# build still works and such plans are refused.
BUILD_PACKAGES+=(libnetfilter-queue-dev)
PEER_PACKAGES=(python3 python3-libtorrent transmission-cli mktorrent aria2 opentracker ctorrent)
# Tools the test and benchmark scripts call: ss and ip (iproute2),
# /usr/bin/time (time: CPU and peak RSS of each benchmark run), tmux (a real terminal for the progress-bar
# test). Usually present, not on a minimal image.
# The swarm lab (actorrent lab run) calls ip and tc (iproute2) and iptables inside its namespaces.
# python3-matplotlib draws the plots of the lab's report.html (lab/report.py); without it a run
# still writes report.json and says the HTML was not made.
# curl: integration.daemon calls the daemon's JSON-RPC API with it.
TOOL_PACKAGES=(iproute2 time tmux iptables python3-matplotlib curl)
# The Docker tests and scripts (deploy/, scripts/docker-*.sh): debootstrap makes the
# base image where no registry can be reached; docker-compose runs the swarm. The
# engine itself (docker.io) is the machine's: the Docker tests skip without one.
DOCKER_PACKAGES=(debootstrap docker-compose)
# The daemon's metrics (api/): promtool and a real Prometheus check them
# (integration.metrics_promtool, integration.metrics_prometheus, integration.daemon).
TOOL_PACKAGES+=(prometheus)
# bench/daemon.sh: the daemons the actorrent daemon is measured beside.
PEER_PACKAGES+=(transmission-daemon rtorrent qbittorrent-nox)

log() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
  local missing=()
  for p in "${BUILD_PACKAGES[@]}" "${PEER_PACKAGES[@]}" "${TOOL_PACKAGES[@]}" "${DOCKER_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "all Debian packages present"
    return
  fi
  log "installing: ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# build DIR [cmake args...]
build_in() {
  local dir="$1"; shift
  cmake -S "$ROOT" -B "$ROOT/$dir" -G Ninja "$@" >/dev/null
  ninja -C "$ROOT/$dir" -j "$JOBS"
}

build() {
  log "building Release into build/"
  build_in build -DCMAKE_BUILD_TYPE=Release
}

run_tests() {
  local start=$SECONDS status=0
  build
  log "building the unit tests with AddressSanitizer + UBSan into build-asan/"
  build_in build-asan -DCMAKE_BUILD_TYPE=Debug -DASAN=ON
  log "unit tests (ASan + UBSan)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest -L unit --output-on-failure -j "$JOBS") || status=1
  log "integration tests (Release binary, real clients on loopback)"
  (cd build && ctest -L integration --output-on-failure) || status=1
  log "fuzz targets, ${FUZZ_SECONDS} s each"
  if [ -x "$ROOT/scripts/fuzz.sh" ]; then
    "$ROOT/scripts/fuzz.sh" build && "$ROOT/scripts/fuzz.sh" run "$FUZZ_SECONDS" || status=1
  else
    echo "FAIL: scripts/fuzz.sh is missing or not executable: the fuzz targets were not run" >&2
    status=1
  fi
  log "all tests took $((SECONDS - start)) s; status $status"
  return $status
}

demo() {
  build
  "$ROOT/scripts/demo.sh" "$ROOT/build"
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  test) deps; run_tests ;;
  demo) deps; demo ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
