#!/usr/bin/env bash
# The wire-fault layer (--wire-fault, issue 12) against an honest actorrent
# leecher: for each hostile behaviour, an actorrent seed misbehaving on purpose
# ("the liar") and an honest actorrent seed serve one leecher, which dials both
# (--peer, --no-trackers). Checked per behaviour:
#   - the leecher completes (exit 0, final JSON "complete"), its file is
#     byte-identical to the source, and it did not crash;
#   - the liar really misbehaved: its final JSON's wire.<behaviour> counter > 0;
#   - what the leecher did about it: the liar banned (corrupt blocks), or the
#     connection to it closed with the expected reason (actorrent -v stderr);
#   - the honest seed is never banned, and nobody but the liar ever is.
# Torrent: one 4 MiB + 1,000 byte file, 64 KiB pieces. The honest seed's upload
# is capped at 1 MB/s so that the liar gets to serve (and lie) too.
#
#   bash wire_faults.sh ACTORRENT WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool cmp head
it_setup

C=$WORKDIR/content
mkdir -p "$C"
note "content and torrent"
make_random "$C/file.bin" $((4 * 1024 * 1024 + 1000))
with_timeout 60 "$AR" create "$C/file.bin" -t http://127.0.0.1:1/announce -l 64K -o "$WORKDIR/file.torrent" -q ||
  fail "actorrent create exited $?"

note "honest seed (upload capped at 1 MB/s)"
ar_seeder_start "$AR" "$WORKDIR/honest" "$WORKDIR/file.torrent" "$C" --max-upload-rate 1M
HONEST=$BG_LAST
GOOD="127.0.0.1:$SEED_PORT"

# A bad spec is refused before anything starts (exit 2, the reason named).
rc=0
out=$(with_timeout 30 "$AR" seed "$WORKDIR/file.torrent" "$C" --wire-fault corrupt_block=5% 2>&1) || rc=$?
check_eq "a bad --wire-fault: exit status" 2 "$rc"
check_contains "a bad --wire-fault: message" "unknown wire fault (did you mean 'corrupt_blocks'?)" "$out"

# run_case BEHAVIOUR[=VALUE] EXPECT: EXPECT is "ban" (the leecher bans the
# liar for corrupt data), "drop:TEXT" (it closes the liar's connection with a
# reason containing TEXT) or "tolerate" (neither needed; the leecher just
# completes, from the honest seed where the liar serves nothing). More
# arguments go to the liar.
run_case() {
  local spec=$1 expect=$2 name bad_port liar dl j banned counter rc t0=$SECONDS
  name=${spec%%=*}
  bad_port=$(free_ports 1)
  ar_json_start "$WORKDIR/$name.liar" 120 "$AR" seed "$WORKDIR/file.torrent" "$C" --json-progress --verbose \
    --port "$bad_port" --wire-fault "$spec,seed=7,peer=liar" "${@:3}"
  liar=$BG_LAST
  wait_for_port "$bad_port" 30 "$liar" "liar ($name)" "$WORKDIR/$name.liar.err"
  ar_download_start "$AR" "$WORKDIR/$name" 60 "$WORKDIR/file.torrent" "$WORKDIR/$name.dl" --no-trackers \
    --peer "127.0.0.1:$bad_port" --peer "$GOOD" --set handshake_timeout=3s
  dl=$BG_LAST
  ar_download_finish "$dl" "$WORKDIR/$name"
  bg_signal_stop INT "$liar" # its final JSON line has what it did
  rc=${BG_STATUS[$liar]}
  ((rc == 130)) || fail "$name: the liar exited $rc after SIGINT, not 130 (see $WORKDIR/$name.liar.err)"
  j=$WORKDIR/$name.json
  check_same_content "$C/file.bin" "$WORKDIR/$name.dl/file.bin" >/dev/null
  counter=$(tail -n 1 "$WORKDIR/$name.liar.json" | json_get "wire.$name" 2>/dev/null || echo 0)
  ((counter > 0)) || fail "$name: the liar's wire.$name is '$counter': it did not misbehave, so the case tests nothing"
  banned=$(json_last "$j" banned_peers)
  if [[ "$banned" == *"$GOOD"* ]]; then fail "$name: the honest seed $GOOD was banned ($banned)"; fi
  case $expect in
    ban)
      check_eq "$name: banned_peers (the liar only)" "[\"127.0.0.1:$bad_port\"]" "$banned"
      grep -q "banned 127\.0\.0\.1:$bad_port: sent corrupt data" "$WORKDIR/$name.err" ||
        fail "$name: no 'banned 127.0.0.1:$bad_port: sent corrupt data' in $WORKDIR/$name.err"
      ;;
    drop:*)
      check_eq "$name: banned_peers" "[]" "$banned"
      grep -q "closed 127\.0\.0\.1:$bad_port: .*${expect#drop:}" "$WORKDIR/$name.err" || {
        grep "127\.0\.0\.1:$bad_port" "$WORKDIR/$name.err" >&2 || true
        fail "$name: the leecher did not close the liar's connection with '${expect#drop:}' ($WORKDIR/$name.err)"
      }
      ;;
    tolerate)
      check_eq "$name: banned_peers" "[]" "$banned"
      ;;
  esac
  if grep -qiE 'terminate called|segmentation|sanitizer|did not shut down' "$WORKDIR/$name.err" "$WORKDIR/$name.liar.err"; then
    fail "$name: a crash or a hang at exit in the logs"
  fi
  echo "   ok: $name ($expect): liar did it $counter times; leecher complete, data identical, honest seed not banned, $((SECONDS - t0))s"
}

run_case corrupt_blocks=50% ban
run_case bad_bitfield_length drop:"bad bitfield"
run_case have_out_of_range drop:"have for piece"
run_case oversize_length drop:"protocol error"
run_case wrong_info_hash drop:"handshake for another torrent"
run_case truncated_handshake drop:"handshake timed out"
run_case requests_out_of_range drop:"invalid request"
run_case request_flood drop:"requests while choked"
run_case unrequested_pieces drop:"unrequested block"
run_case unknown_messages tolerate
run_case claim_unserved=30% tolerate
run_case choke_flapping=1s tolerate --max-upload-rate 256K # slow enough to flap (once a second) during the download
run_case free_ride tolerate
run_case snub tolerate
run_case slow_reads=200kbit tolerate

bg_stop "$HONEST"
echo "PASS: wire_faults (15 hostile behaviours: leecher complete with identical data, the liar dropped or banned, the honest seed never, ${SECONDS}s)"
