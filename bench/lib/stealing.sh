#!/bin/sh
# bench/lib/stealing.sh: runs actorrent with CAF's work-stealing scheduler
# (ACTORRENT_SCHED=stealing) instead of its default `sharing` one, so both can
# be measured side by side in one run as the client "baseline":
#
#   ACTORRENT_BASELINE=bench/lib/stealing.sh bench/seed.sh --leechers 8 --seeders actorrent,baseline
#   ACTORRENT_BASELINE=bench/lib/stealing.sh bench/download.sh --clients actorrent,baseline
#
# or on both sides of the actorrent-to-actorrent case:
#
#   ACTORRENT_STEALING_BIN=build/app/actorrent ACTORRENT=bench/lib/stealing.sh \
#     bench/download.sh --clients actorrent --seeder-client actorrent
#
# The binary: $ACTORRENT_STEALING_BIN, else $ACTORRENT if exported, else
# build/app/actorrent of this repository. exec keeps the PID, so the scripts'
# /proc readings see actorrent itself.
bin="${ACTORRENT_STEALING_BIN:-${ACTORRENT:-$(cd "$(dirname "$0")/../.." && pwd)/build/app/actorrent}}"
if [ "$(readlink -f "$bin")" = "$(readlink -f "$0")" ]; then
  echo "stealing.sh: the binary to run is this script; set ACTORRENT_STEALING_BIN to actorrent" >&2
  exit 2
fi
ACTORRENT_SCHED=stealing exec "$bin" "$@"
