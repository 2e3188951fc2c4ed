#!/usr/bin/env bash
# Torrents made by other tools load in `actorrent info` with the same meaning:
# mktorrent 1.1 (single file and directory, private, tiers, web seeds, source,
# piece length 2^15..2^20) and python3-libtorrent 2.0.8's create_torrent
# (v1-only, v1-only with pad files, hybrid v1/v2 with pad files, executable
# attributes, private).
#
#   bash interop_load.sh ACTORRENT WORKDIR
#
# Per torrent it checks that actorrent's info-hash (text and --json) equals
# libtorrent's v1 info-hash (info_hashes().v1, also for hybrids) and
# transmission-show's; and that actorrent and libtorrent agree on name, piece
# length and count, total size, private flag, hybrid-ness, every file (path,
# size, offset, pad flag; both count pad files as files), trackers, web
# seeds, comment, creator and creation date. Torrents with pad files must show
# at least one pad. No network is used.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool mktorrent transmission-show head
need_libtorrent
setup_workdir "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
C=$WORKDIR/content
T=$WORKDIR/torrents
mkdir -p "$C" "$T"

note "making content in $C"
rnd() { timeout 30 head -c "$2" /dev/urandom >"$1"; }
rnd "$C/single.bin" $((1536 * 1024 + 777))
mkdir -p "$C/dir/a/b" "$C/dir/sp ace ü" "$C/dir/z"
rnd "$C/dir/a/b/deep.bin" 300001
: >"$C/dir/a/empty"
rnd "$C/dir/a/tiny" 3
rnd "$C/dir/sp ace ü/日本 ✓.txt" 40000
rnd "$C/dir/top.bin" 65536
rnd "$C/dir/z/run.sh" 1000
chmod 755 "$C/dir/z/run.sh"

# ------------------------------------------------------------ mktorrent
# id | content | mktorrent options
MK_CASES=(
  "mk_s15|single.bin|-l 15 -a http://127.0.0.1:1/announce"
  "mk_s20p|single.bin|-l 20 -p -a http://127.0.0.1:1/announce"
  "mk_d15|dir|-l 15 -a http://127.0.0.1:1/announce"
  "mk_d16|dir|-l 16 -a http://127.0.0.1:1/a -a http://127.0.0.1:1/b -c mk-comment -w http://127.0.0.1:1/ws/"
  "mk_d17d|dir|-l 17 -d -a http://127.0.0.1:1/a,http://127.0.0.1:1/a2"
  "mk_d18p|dir|-l 18 -p -s SRC -a http://127.0.0.1:1/announce"
  "mk_d19|dir|-l 19 -a http://127.0.0.1:1/announce -n renamed"
  "mk_d20p|dir|-l 20 -p -a http://127.0.0.1:1/announce"
)
# ------------------------------------------------------------ libtorrent
# id | content | piece length | flags | expect pads (1/0) | extras
LT_CASES=(
  "lt_v1_s|single.bin|16384|v1_only|0|"
  "lt_v1_d|dir|32768|v1_only|0|meta"
  "lt_v1_pad|dir|16384|v1_only,canonical_files|1|"
  "lt_v1_pad_p|dir|65536|v1_only,canonical_files|1|private"
  "lt_hyb_s|single.bin|16384||0|"
  "lt_hyb_d|dir|16384||1|meta"
  "lt_hyb_d64p|dir|65536||1|private"
  # With this flag libtorrent 2.0.8 writes the v1 "files" list with the empty
  # file a/empty *before* the pad that follows a/b/deep.bin, while its v2
  # "file tree" (from which libtorrent builds its own file list when it loads
  # a hybrid) puts the pad first: libtorrent reads file 1 = pad, file 2 =
  # a/empty at offset 327680. actorrent must read the same.
  "lt_hyb_notail|dir|32768|canonical_files_no_tail_padding|1|"
)

LT_MAKE_PY='
import sys, libtorrent as lt
out, content, piece, flagnames, extras = sys.argv[1:6]
flags = 0
for n in filter(None, flagnames.split(",")):
    flags |= getattr(lt.create_torrent, n)
fs = lt.file_storage()
lt.add_files(fs, content)
ct = lt.create_torrent(fs, int(piece), flags)
ct.add_tracker("http://127.0.0.1:1/announce", 0)
if "meta" in extras:
    ct.add_tracker("http://127.0.0.1:1/backup", 1)
    ct.add_url_seed("http://127.0.0.1:1/seed/")
    ct.set_comment("lt comment ✓")
    ct.set_creator("interop_load.sh")
if "private" in extras:
    ct.set_priv(True)
lt.set_piece_hashes(ct, content.rsplit("/", 1)[0])
with open(out, "wb") as f:
    f.write(lt.bencode(ct.generate()))
'

check_torrent() {  # id torrent-file expect-pads
  local id=$1 file=$2 pads=$3
  [[ -s "$file" ]] || fail "$id: $file was not written"
  with_timeout 30 "$AR" info "$file" --json >"$T/$id.info.json" ||
    fail "$id: actorrent info --json exited $? on a torrent libtorrent accepts"
  local lt_hash
  lt_hash=$(lt_info_hash "$file")
  [[ "$lt_hash" =~ ^[0-9a-f]{40}$ ]] || fail "$id: libtorrent gave no info-hash ('$lt_hash')"
  check_eq "$id: info-hash, actorrent info (text) vs libtorrent" "$lt_hash" "$(ar_info_hash "$AR" "$file")"
  check_eq "$id: info-hash, actorrent info --json vs libtorrent" "$lt_hash" "$(json_get info_hash <"$T/$id.info.json")"
  # transmission 3.00 refuses hybrid v1/v2 torrents ("Error parsing .torrent
  # file"), so it is a second reader only for the v1-only ones.
  if [[ "$(json_get hybrid <"$T/$id.info.json")" == false ]]; then
    check_eq "$id: info-hash, transmission-show vs libtorrent" "$lt_hash" "$(transmission_hash "$file")"
  fi
  lt_compare "$file" "$T/$id.info.json"
  local npads
  npads=$(timeout 10 "$PY" -c 'import json,sys; print(sum(1 for f in json.load(sys.stdin)["files"] if f["pad"]))' \
    <"$T/$id.info.json")
  if [[ "$pads" == 1 ]]; then
    ((npads > 0)) || fail "$id: expected pad files, actorrent shows none"
  else
    check_eq "$id: pad files" 0 "$npads"
  fi
  echo "   ok: $id $lt_hash ($(json_get piece_count <"$T/$id.info.json") pieces of" \
    "$(json_get piece_length <"$T/$id.info.json"), $npads pad files," \
    "hybrid $(json_get hybrid <"$T/$id.info.json"))"
}

for case in "${MK_CASES[@]}"; do
  IFS='|' read -r id rel opts <<<"$case"
  # shellcheck disable=SC2206  # opts is a fixed, space-free word list
  extra=($opts)
  note "$id: mktorrent ${opts} '$rel'"
  with_timeout 60 mktorrent -t 2 "${extra[@]}" -o "$T/$id.torrent" "$C/$rel" >"$T/$id.mktorrent.log" ||
    fail "$id: mktorrent exited $? ($(cat "$T/$id.mktorrent.log"))"
  check_torrent "$id" "$T/$id.torrent" 0
  exp=${opts#*-l }
  exp=${exp%% *}
  check_eq "$id: piece length 2^$exp" $((1 << exp)) "$(json_get piece_length <"$T/$id.info.json")"
  check_eq "$id: private" "$([[ " $opts " == *" -p "* ]] && echo true || echo false)" \
    "$(json_get private <"$T/$id.info.json")"
done
check_eq "mk_d16: tiers" '[["http://127.0.0.1:1/a"],["http://127.0.0.1:1/b"]]' "$(json_get trackers <"$T/mk_d16.info.json")"
check_eq "mk_d16: web seeds" '["http://127.0.0.1:1/ws/"]' "$(json_get url_list <"$T/mk_d16.info.json")"
check_eq "mk_d16: comment" "mk-comment" "$(json_get comment <"$T/mk_d16.info.json")"
check_eq "mk_d17d: one tier of two" '[["http://127.0.0.1:1/a","http://127.0.0.1:1/a2"]]' \
  "$(json_get trackers <"$T/mk_d17d.info.json")"
check_eq "mk_d17d: no creation date (-d)" null "$(json_get creation_date <"$T/mk_d17d.info.json")"
check_eq "mk_d19: name" renamed "$(json_get name <"$T/mk_d19.info.json")"
[[ "$(json_get creation_date <"$T/mk_s15.info.json")" =~ ^[0-9]+$ ]] || fail "mk_s15: creation date missing"

for case in "${LT_CASES[@]}"; do
  IFS='|' read -r id rel piece flags pads extras <<<"$case"
  note "$id: libtorrent create_torrent piece $piece flags '${flags:-default (hybrid)}' ${extras}"
  with_timeout 60 "$PY" -c "$LT_MAKE_PY" "$T/$id.torrent" "$C/$rel" "$piece" "$flags" "$extras" ||
    fail "$id: libtorrent create_torrent failed"
  check_torrent "$id" "$T/$id.torrent" "$pads"
  check_eq "$id: hybrid" "$([[ "$flags" == *v1_only* ]] && echo false || echo true)" \
    "$(json_get hybrid <"$T/$id.info.json")"
done
check_eq "lt_v1_d: comment" "lt comment ✓" "$(json_get comment <"$T/lt_v1_d.info.json")"
check_eq "lt_hyb_d: tiers" '[["http://127.0.0.1:1/announce"],["http://127.0.0.1:1/backup"]]' \
  "$(json_get trackers <"$T/lt_hyb_d.info.json")"
check_eq "lt_hyb_d64p: private" true "$(json_get private <"$T/lt_hyb_d64p.info.json")"

# A v2-only torrent has no v1 info-hash. actorrent may not support it, but
# must then refuse it cleanly (exit 1, "actorrent: error: ...").
note "v2-only torrent from libtorrent: loaded, or refused cleanly"
with_timeout 60 "$PY" -c "$LT_MAKE_PY" "$T/lt_v2.torrent" "$C/dir" 16384 v2_only "" ||
  fail "lt_v2: libtorrent create_torrent failed"
rc=0
with_timeout 30 "$AR" info "$T/lt_v2.torrent" >"$T/lt_v2.out" 2>"$T/lt_v2.err" || rc=$?
case $rc in
  0) echo "   ok: lt_v2 loaded" ;;
  1) [[ "$(head -c 17 "$T/lt_v2.err")" == "actorrent: error:" ]] ||
       fail "lt_v2: exit 1 without an 'actorrent: error:' message: $(cat "$T/lt_v2.err")"
     echo "   ok: lt_v2 refused: $(cat "$T/lt_v2.err")" ;;
  *) fail "lt_v2: actorrent info exited $rc: $(cat "$T/lt_v2.err")" ;;
esac

echo "PASS: interop_load (${#MK_CASES[@]} mktorrent + ${#LT_CASES[@]} libtorrent torrents, ${SECONDS}s)"
