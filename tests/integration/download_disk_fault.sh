#!/usr/bin/env bash
# Disk faults (issue 12, "Disk level") on loopback, one actorrent seeder and
# one actorrent leecher:
#
#   bash download_disk_fault.sh ACTORRENT WORKDIR
#
# 1. --disk-fault full_after=3MiB: the download ends with exit 1 and "disk
#    error: ... No space left on device", the JSON error event carries
#    disk_error; the resume data lists only pieces really on disk (every piece
#    it lists verifies by SHA-1 here).
# 2. Run again without the fault: it resumes from exactly those pieces (the
#    "checked" event's resumed_pieces), completes with the right data, and
#    downloads only the rest (downloaded == total - resumed * piece length:
#    no verified piece is fetched again).
# 3. --disk-fault write_errors=2% (of block writes): lost pieces are fetched again, nobody is
#    blamed (hash_failures 0, banned 0), the data is right.
# 4. At run time over BASP (`--control`, `lab control`): disk full pauses the
#    peer (it stays up, its sample shows state paused and the disk error);
#    turning the fault off resumes it and it completes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
it_setup

piece=262144
make_random "$WORKDIR/src" $((8 * 1024 * 1024))
mkdir -p "$WORKDIR/seed"
cp "$WORKDIR/src" "$WORKDIR/seed/payload"
with_timeout 60 "$AR" create "$WORKDIR/seed/payload" -o "$WORKDIR/t.torrent" -l $piece >/dev/null
read -r SPORT <<<"$(free_ports 1)"
# a 2 MB/s seeder: the downloads take a few seconds, time for the faults to bite
ar_seed_start "$AR" "$WORKDIR/seeder" 240 "$WORKDIR/t.torrent" "$WORKDIR/seed" --port "$SPORT" --no-trackers \
  --max-upload-rate 2M
SEEDER=$BG_LAST
wait_for_port "$SPORT" 20 "$SEEDER" seeder "$WORKDIR/seeder.err"
peer=(--no-trackers --peer "127.0.0.1:$SPORT")

note "disk full after 3 MiB: exit 1, a clear message, resume data of verified pieces only"
ar_download_start "$AR" "$WORKDIR/full" 60 "$WORKDIR/t.torrent" "$WORKDIR/dl" "${peer[@]}" --disk-fault full_after=3MiB
rc=0
wait "$BG_LAST" || rc=$?
bg_forget "$BG_LAST"
check_eq "exit status with a full disk" 1 "$rc"
check_contains "message" "disk error: cannot write piece" "$(cat "$WORKDIR/full.err")"
check_contains "message" "No space left on device (injected disk fault)" "$(cat "$WORKDIR/full.err")"
check_contains "message" "verified pieces kept in the resume data; run again when the disk has room" \
  "$(cat "$WORKDIR/full.err")"
check_eq "final JSON event" error "$(json_last "$WORKDIR/full.json" event)"
check_contains "final JSON disk_error" "No space left on device" "$(json_last "$WORKDIR/full.json" disk_error)"
kept=$(json_last "$WORKDIR/full.json" pieces_have)
((kept > 0 && kept < 32)) || fail "expected some but not all pieces kept, got $kept"
resume=$(ls "$WORKDIR"/dl/.actorrent/*.resume)
listed=$(timeout 30 "$PY" - "$resume" <<'PYEOF'
import sys
data = open(sys.argv[1], "rb").read()
# bencoded; "6:pieces" holds a BEP 3 bitfield (first piece in the high bit)
i = data.index(b"6:pieces") + len(b"6:pieces")
colon = data.index(b":", i)
bits = data[colon + 1:colon + 1 + int(data[i:colon])]
print(",".join(str(k) for k in range(len(bits) * 8) if bits[k // 8] >> (7 - k % 8) & 1))
PYEOF
)
on_disk=$(valid_pieces "$WORKDIR/t.torrent" "$WORKDIR/dl")
note "resume data lists pieces [$listed]; pieces verifying on disk [$on_disk]"
[[ -n "$listed" ]] || fail "the resume data lists no piece"
for p in ${listed//,/ }; do
  [[ ",$on_disk," == *",$p,"* ]] || fail "piece $p is in the resume data but not on disk"
done
check_eq "pieces in the resume data" "$kept" "$(tr ',' '\n' <<<"$listed" | grep -c .)"

note "again without the fault: resumes those pieces, fetches only the rest, right data"
ar_download "$AR" "$WORKDIR/again" 60 "$WORKDIR/t.torrent" "$WORKDIR/dl" "${peer[@]}"
check_eq "resumed pieces" "$kept" "$(json_event "$WORKDIR/again.json" checked resumed_pieces)"
check_eq "bytes downloaded on the second run" $(((32 - kept) * piece)) "$(json_last "$WORKDIR/again.json" downloaded)"
cmp -s "$WORKDIR/src" "$WORKDIR/dl/payload" || fail "data differs after the resumed download"

note "write errors on 2% of the block writes (about a quarter of the 16-block pieces): fetched again, nobody blamed"
ar_download "$AR" "$WORKDIR/share" 90 "$WORKDIR/t.torrent" "$WORKDIR/dl2" "${peer[@]}" --disk-fault write_errors=2%,seed=3
lost=$(grep -c "not written (cannot write piece .*Input/output error (injected disk fault)): fetching it again" \
  "$WORKDIR/share.err" || true)
((lost > 0)) || fail "no piece was lost to the injected write errors"
check_eq "hash failures" 0 "$(json_last "$WORKDIR/share.json" hash_failures)"
check_eq "banned peers" 0 "$(json_last "$WORKDIR/share.json" banned)"
cmp -s "$WORKDIR/src" "$WORKDIR/dl2/payload" || fail "data differs after write errors"
note "$lost pieces lost to write errors and fetched again"

note "at run time over BASP: disk full pauses the peer, off resumes it"
ar_download_start "$AR" "$WORKDIR/ctl" 90 "$WORKDIR/t.torrent" "$WORKDIR/dl3" "${peer[@]}" --control 127.0.0.1:0
CTL=$BG_LAST
wait_for_log "$WORKDIR/ctl.err" "control actor on 127.0.0.1:[0-9]+" 20 "$CTL" "controlled download"
cport=$(json_event "$WORKDIR/ctl.json" control control_port)
out=$(with_timeout 30 "$AR" lab control "127.0.0.1:$cport" --disk-fault full_after=1MiB)
check_eq "disk fault accepted" true "$(json_get disk_fault <<<"$out")"
wait_until 30 "$CTL" "controlled download" "$WORKDIR/ctl.err" "no pause for the disk error" \
  grep -q "disk error: cannot write piece" "$WORKDIR/ctl.err"
sleep 1
out=$(with_timeout 30 "$AR" lab control "127.0.0.1:$cport")
check_eq "state in the BASP sample" paused "$(json_get sample.state <<<"$out")"
check_contains "errors in the BASP sample" "disk: cannot write piece" "$(json_get sample.errors <<<"$out")"
full=$(timeout 30 "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sample"]["faults"]["disk.injected_full"])' <<<"$out")
((full > 0)) || fail "the sample counts no injected disk-full error"
bg_alive "$CTL" "controlled download (paused, not ended)" "$WORKDIR/ctl.err"
out=$(with_timeout 30 "$AR" lab control "127.0.0.1:$cport" --disk-fault off)
check_eq "disk fault off accepted" true "$(json_get disk_fault <<<"$out")"
ar_download_finish "$CTL" "$WORKDIR/ctl"
cmp -s "$WORKDIR/src" "$WORKDIR/dl3/payload" || fail "data differs after the run-time disk fault"
check_eq "hash failures (controlled)" 0 "$(json_last "$WORKDIR/ctl.json" hash_failures)"

note "a bad --disk-fault is a usage error"
rc=0
out=$("$AR" download "$WORKDIR/t.torrent" -o "$WORKDIR/dl4" --disk-fault full_after=lots 2>&1) || rc=$?
check_eq "exit status" 2 "$rc"
check_contains "message" "--disk-fault: disk fault 'full_after=lots': expected a size" "$out"
echo "PASS"
