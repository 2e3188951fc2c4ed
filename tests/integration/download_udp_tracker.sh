#!/usr/bin/env bash
# actorrent finds libtorrent seeders through opentracker's UDP port (BEP 15):
# the torrents carry only a udp:// announce URL, the seeders announce over UDP
# too, and actorrent is given no --peer. The cases and checks are those of
# download_libtorrent.sh (single file and a tree with empty files, byte-identical),
# which this runs with TRACKER_SCHEME=udp.
#
#   bash download_udp_tracker.sh ACTORRENT WORKDIR
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 ACTORRENT WORKDIR" >&2; exit 2; }
TRACKER_SCHEME=udp exec bash "$(dirname "$0")/download_libtorrent.sh" "$@"
