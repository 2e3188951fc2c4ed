#!/usr/bin/env bash
# download --select-file: only the chosen files of a multi-file torrent are
# fetched and written.
#
#   bash download_select.sh ACTORRENT WORKDIR
#
# A tree of five files of odd sizes (f1..f5, 299,012 bytes) in 32 KiB pieces,
# so that pieces 1, 3, 4 and 7 straddle a selected and an unselected file,
# seeded by a python3-libtorrent session (peers.py lt-seed). Checks:
#   (a) `download --select-file 2,4 --peer SEED --no-trackers` exits 0 with a
#       final JSON event "complete", selected_have == selected_size, no hash
#       failure; f2 and f4 are byte-identical to the source; f1, f3, f5 do not
#       exist; under DIR there is nothing but those two files, the resume data
#       and the part file DIR/.actorrent/HASH.parts, which holds exactly the
#       source's bytes of the unselected files at their torrent offsets over
#       the boundary pieces; the working directory stays empty;
#   (b) a second run with no peer completes from disk alone (the boundary
#       pieces verify from the part file), still creating no unselected file;
#   (c) bad lists exit 2 naming the problem (file 9 of 5, a backwards range,
#       garbage), and write nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
AR=$(cd "$(dirname -- "$AR")" && pwd)/$(basename -- "$AR") # absolute: some runs start in another directory
need_tool cmp find
need_libtorrent
it_setup

read -r SPORT <<<"$(free_ports 1)"
C=$WORKDIR/content
T=$WORKDIR/multi.torrent
D=$WORKDIR/dl
CWD=$WORKDIR/cwd
mkdir -p "$C/multi" "$CWD"

note "content: five files across 32 KiB pieces"
make_random "$C/multi/f1.bin" 50000
make_random "$C/multi/f2.bin" 70001
make_random "$C/multi/f3.bin" 33333
make_random "$C/multi/f4.bin" 100000
make_random "$C/multi/f5.bin" 45678
rc=0
with_timeout 60 "$AR" create "$C/multi" -l 32K -o "$T" -q || rc=$?
((rc == 0)) || fail "actorrent create exited $rc"
HASH=$(ar_info_hash "$AR" "$T")

note "(c) bad lists exit 2 and write nothing"
for bad in "9|does not exist" "4-2|backwards" "x|expected file numbers" "0|"; do
  list=${bad%%|*}
  want=${bad#*|}
  rc=0
  (cd "$CWD" && timeout 30 "$AR" download "$T" -o "$WORKDIR/bad" --no-trackers --port 0 --select-file "$list") \
    >"$WORKDIR/bad.out" 2>"$WORKDIR/bad.err" || rc=$?
  check_eq "--select-file '$list': exit code" 2 "$rc"
  [[ -z "$want" ]] || grep -q -- "$want" "$WORKDIR/bad.err" ||
    fail "--select-file '$list': stderr does not say '$want': $(cat "$WORKDIR/bad.err")"
  [[ ! -e "$WORKDIR/bad" ]] || fail "--select-file '$list': $WORKDIR/bad was created"
  echo "   ok: '$list' -> exit 2: $(head -n 1 "$WORKDIR/bad.err")"
done

note "libtorrent seeder on port $SPORT"
lt_seed_start "$WORKDIR/seed.log" "$T" "$C" "$SPORT"
SEED=$BG_LAST

note "(a) download --select-file 2,4"
pushd "$CWD" >/dev/null # the working directory must stay empty
ar_download_start "$AR" "$WORKDIR/sel" 60 "$T" "$D" --no-trackers --peer "127.0.0.1:$SPORT" --select-file 2,4
popd >/dev/null
rc=0
wait "$BG_LAST" || rc=$?
bg_forget "$BG_LAST"
((rc == 0)) || fail "(a) actorrent download exited $rc: $(tail -n 20 "$WORKDIR/sel.err")"
last=$(tail -n 1 "$WORKDIR/sel.json")
check_eq "(a) final event" complete "$(json_get event <<<"$last")"
check_eq "(a) selected_have == selected_size" "$(json_get selected_size <<<"$last")" \
  "$(json_get selected_have <<<"$last")"
check_eq "(a) hash_failures" 0 "$(json_get hash_failures <<<"$last")"
check_eq "(a) percent" 100.0 "$(json_get percent <<<"$last")"
for f in f2.bin f4.bin; do
  timeout 30 cmp -- "$C/multi/$f" "$D/multi/$f" || fail "(a) $D/multi/$f differs from the source"
done
for f in f1.bin f3.bin f5.bin; do
  [[ ! -e "$D/multi/$f" ]] || fail "(a) unselected $D/multi/$f exists"
done
got=$(cd "$D" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
check_eq "(a) everything under DIR" \
  "./.actorrent ./.actorrent/$HASH.parts ./.actorrent/$HASH.resume ./multi ./multi/f2.bin ./multi/f4.bin " "$got"
[[ -z "$(ls -A "$CWD")" ]] || fail "(a) files written in the working directory: $(ls -A "$CWD")"
# the part file: the unselected bytes of the boundary pieces, at their torrent offsets
timeout 30 "$PY" - "$C/multi" "$D/.actorrent/$HASH.parts" <<'PYEOF' || fail "(a) the part file is wrong"
import os, sys
src, part = sys.argv[1], sys.argv[2]
names = ["f1.bin", "f2.bin", "f3.bin", "f4.bin", "f5.bin"]
selected = {"f2.bin", "f4.bin"}
data, spans, off = b"", [], 0
for n in names:
    b = open(os.path.join(src, n), "rb").read()
    spans.append((n, off, off + len(b)))
    data += b
    off += len(b)
P = 32768
npieces = (len(data) + P - 1) // P
wanted = [any(n in selected and s < (p + 1) * P and e > p * P for n, s, e in spans) for p in range(npieces)]
pbytes = open(part, "rb").read()
checked = 0
for n, s, e in spans:
    if n in selected:
        continue
    for p in range(npieces):
        lo, hi = max(s, p * P), min(e, (p + 1) * P)
        if lo >= hi or not wanted[p]:
            continue
        if pbytes[lo:hi] != data[lo:hi]:
            sys.exit("part file bytes %d-%d (%s, piece %d) differ from the source" % (lo, hi, n, p))
        checked += hi - lo
if checked == 0:
    sys.exit("no boundary bytes to check")
print("   ok: the part file holds the %d unselected bytes of the boundary pieces" % checked)
PYEOF
echo "   ok: f2, f4 identical; f1, f3, f5 absent; nothing else under DIR or in the working directory"

note "(b) again with no peer: complete from disk (boundary pieces from the part file)"
bg_stop "$SEED"
rc=0
(cd "$CWD" && timeout 60 "$AR" download "$T" -o "$D" --no-trackers --port 0 --json-progress --timeout 30 \
  --select-file 2,4) >"$WORKDIR/again.json" 2>"$WORKDIR/again.err" || rc=$?
check_eq "(b) exit code" 0 "$rc"
last=$(tail -n 1 "$WORKDIR/again.json")
check_eq "(b) final event" complete "$(json_get event <<<"$last")"
check_eq "(b) downloaded" 0 "$(json_get downloaded <<<"$last")"
for f in f1.bin f3.bin f5.bin; do
  [[ ! -e "$D/multi/$f" ]] || fail "(b) unselected $D/multi/$f exists"
done
echo "   ok: complete from disk, resumed $(json_get resumed_pieces <<<"$last") pieces"
echo "PASS: download_select (--select-file 2,4 from libtorrent, boundary bytes in the part file, bad lists exit 2, ${SECONDS}s)"
