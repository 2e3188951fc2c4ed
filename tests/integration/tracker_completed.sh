#!/usr/bin/env bash
# Leechers that exit as soon as they complete still tell the tracker they
# completed (issue 13's open finding: opentracker counted few `completed` in the
# compose swarm, whose leechers exit on completion: the `completed` announce in
# flight was cancelled by the immediate `stopped`).
#
#   bash tracker_completed.sh ACTORRENT WORKDIR
#
# opentracker on loopback, an actorrent seeder, five actorrent leechers that
# exit 0 on completion, each started after the one before has ended (so none
# is slowed by another): the tracker's scrape must count 5 downloads
# ("downloaded"), and no leecher left as a peer ("incomplete" 0).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool opentracker
it_setup

N=5
read -r TPORT <<<"$(free_ports 1)"
make_random "$WORKDIR/src/payload" $((4 * 1024 * 1024))
tracked_torrents "$AR" "$TPORT" "http://127.0.0.1:$TPORT/announce" "$WORKDIR/t.torrent|$WORKDIR/src/payload|256K"
HASH=${TRACKED_HASHES[0]}
ar_seed_start "$AR" "$WORKDIR/seed" 200 "$WORKDIR/t.torrent" "$WORKDIR/src" --port 0
wait_for_tracker_seeds "$TPORT" "$HASH" 1 30

note "$N leechers, one after the other, each exiting on completion"
for ((k = 1; k <= N; k++)); do
  ar_download_start "$AR" "$WORKDIR/l$k" 60 "$WORKDIR/t.torrent" "$WORKDIR/d$k"
  pid=$BG_LAST
  rc=0
  wait "$pid" || rc=$?
  bg_forget "$pid"
  ((rc == 0)) || { tail -n 5 "$WORKDIR/l$k.err"; fail "leecher $k exited $rc"; }
  cmp -- "$WORKDIR/src/payload" "$WORKDIR/d$k/payload" || fail "leecher $k's data differs"
done
got=$(tracker_count "$TPORT" "$HASH" downloaded)
echo "   tracker: downloaded $got, incomplete $(tracker_count "$TPORT" "$HASH" incomplete)"
check_eq "downloads the tracker counted" "$N" "$got"
check_eq "leechers the tracker still lists" 0 "$(tracker_count "$TPORT" "$HASH" incomplete)"
echo "PASS"
