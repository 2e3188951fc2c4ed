#!/usr/bin/env bash
# Torrents made by `actorrent create` are read the same way by libtorrent
# (python3-libtorrent 2.0.8) and transmission-show, and their piece hashes
# verify against the content in libtorrent.
#
#   bash interop_create.sh ACTORRENT WORKDIR
#
# Per torrent it checks:
#   (a) libtorrent's v1 info-hash == `actorrent info` (text and --json) ==
#       `actorrent create --json`
#   (b) transmission-show's Hash, piece count and privacy agree
#   (c) libtorrent and actorrent agree on name, piece length/count, total size,
#       private flag, files, trackers, web seeds, comment, creator, date; and
#       these match the content on disk and the options given
#   (e) creating twice (with 2 and 1 hashing threads) is byte-identical
#   (f) libtorrent's bencode(bdecode(file)) == file (canonical bencoding)
# and then, for all torrents in one libtorrent session:
#   (d) libtorrent hashes the content on disk and finds every piece good; and,
#       as a control, a copy with one flipped byte fails exactly that piece.
# No network: trackers and web seeds point at 127.0.0.1:1 and are never used
# except for libtorrent's (refused) announces on loopback.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool transmission-show cmp stat head
need_libtorrent
setup_workdir "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
C=$WORKDIR/content
T=$WORKDIR/torrents
mkdir -p "$C" "$T"
TRACKER=http://127.0.0.1:1/announce

# ---------------------------------------------------------------- content
note "making content in $C"
rnd() { timeout 30 head -c "$2" /dev/urandom >"$1"; }
rnd "$C/single.bin" $((3 * 1024 * 1024 + 12345))   # not a multiple of any piece length
ln "$C/single.bin" "$C/renamed.bin"                 # the same bytes under the -n name
rnd "$C/one.byte" 1
rnd "$C/exact.bin" 32768                            # exactly 2 pieces of 16 KiB
UTF8_NAME='naïve file ☃ 日本.dat'
rnd "$C/$UTF8_NAME" 70000
mkdir -p "$C/tree/a/b/c" "$C/tree/b dir" "$C/tree/z"
rnd "$C/tree/a/b/c/deep.bin" 1000003
: >"$C/tree/a/empty.txt"
rnd "$C/tree/a/tiny" 1
rnd "$C/tree/b dir/with space ü 日本 ✓.txt" 50000
rnd "$C/tree/top.bin" 65536
: >"$C/tree/z/also-empty"
rnd "$C/tree/z/last.bin" 17
TREE_FILES=7

# total_of PATH: the byte count of a file, or of all regular files under a dir.
total_of() {
  if [[ -d "$1" ]]; then
    find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
  else
    stat -c %s -- "$1"
  fi
}
files_of() {
  if [[ -d "$1" ]]; then find "$1" -type f | wc -l; else echo 1; fi
}

# --------------------------------------------------------------- torrents
# id | content (relative to $C) | expected piece length (0 = any) | options
CASES=(
  "s16|single.bin|16384|-l 16K"
  "s64p|single.bin|65536|-l 64K -p"
  "s1m|single.bin|1048576|-l 1M"
  "sdefp|single.bin|0|-p"
  "one|one.byte|16384|-l 16K"
  "exact|exact.bin|16384|-l 16K"
  "u16|$UTF8_NAME|16384|-l 16K"
  "u32p|$UTF8_NAME|32768|-l 32K --private"
  "t16|tree|16384|-l 16K"
  "t32p|tree|32768|--piece-length 32K -p"
  "t256|tree|262144|-l 256K"
  "tdefp|tree|0|-p"
  "named|single.bin|32768|-l 32K -n renamed.bin"
)
VERIFY=()
for case in "${CASES[@]}"; do
  IFS='|' read -r id rel plen opts <<<"$case"
  out=$T/$id.torrent
  # shellcheck disable=SC2206  # opts is a fixed, space-free word list
  extra=($opts)
  note "$id: actorrent create '$rel' ${opts}"
  with_timeout 60 "$AR" create "$C/$rel" -t "$TRACKER" "${extra[@]}" -j 2 -o "$out" --json \
    >"$T/$id.create.json" || fail "$id: actorrent create exited $?"
  [[ -s "$out" ]] || fail "$id: $out was not written"

  # (e) determinism: same input, other thread count, byte-identical output
  with_timeout 60 "$AR" create "$C/$rel" -t "$TRACKER" "${extra[@]}" -j 1 -o "$T/$id.again.torrent" -q ||
    fail "$id: second actorrent create exited $?"
  timeout 30 cmp -- "$out" "$T/$id.again.torrent" || fail "$id: creating twice gave different bytes"

  # (a) info-hash: libtorrent vs actorrent info (text, json) vs create --json
  with_timeout 30 "$AR" info "$out" --json >"$T/$id.info.json" || fail "$id: actorrent info --json exited $?"
  lt_hash=$(lt_info_hash "$out")
  [[ "$lt_hash" =~ ^[0-9a-f]{40}$ ]] || fail "$id: libtorrent gave no info-hash ('$lt_hash')"
  check_eq "$id: info-hash, actorrent info (text) vs libtorrent" "$lt_hash" "$(ar_info_hash "$AR" "$out")"
  check_eq "$id: info-hash, actorrent info --json vs libtorrent" "$lt_hash" "$(json_get info_hash <"$T/$id.info.json")"
  check_eq "$id: info-hash, actorrent create --json vs libtorrent" "$lt_hash" "$(json_get info_hash <"$T/$id.create.json")"

  # (b) transmission-show
  check_eq "$id: info-hash, transmission-show vs libtorrent" "$lt_hash" "$(transmission_hash "$out")"
  tshow=$(with_timeout 30 transmission-show -- "$out") || fail "$id: transmission-show exited $?"
  check_eq "$id: transmission-show piece count" "$(json_get piece_count <"$T/$id.info.json")" \
    "$(sed -n 's/^ *Piece Count: *\([0-9]*\)$/\1/p' <<<"$tshow")"
  if [[ " $opts " == *" -p "* || " $opts " == *" --private "* ]]; then want_priv=true; tpriv="Private torrent"
  else want_priv=false; tpriv="Public torrent"; fi
  check_eq "$id: transmission-show privacy" "$tpriv" "$(sed -n 's/^ *Privacy: *//p' <<<"$tshow")"

  # (c) libtorrent vs actorrent, field by field; then both vs the content
  lt_compare "$out" "$T/$id.info.json"
  name=$(basename -- "$rel")
  [[ " $opts " == *" -n renamed.bin"* ]] && name=renamed.bin
  total=$(total_of "$C/$rel")
  nfiles=$(files_of "$C/$rel")
  pl=$(json_get piece_length <"$T/$id.info.json")
  check_eq "$id: name" "$name" "$(json_get name <"$T/$id.info.json")"
  check_eq "$id: private" "$want_priv" "$(json_get private <"$T/$id.info.json")"
  check_eq "$id: total size vs content on disk" "$total" "$(json_get total_size <"$T/$id.info.json")"
  check_eq "$id: file count vs content on disk" "$nfiles" "$(json_get files <"$T/$id.info.json" |
    "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  [[ "$plen" == 0 ]] || check_eq "$id: piece length" "$plen" "$pl"
  (( pl >= 16384 && (pl & (pl - 1)) == 0 )) || fail "$id: piece length $pl is not a power of two >= 16 KiB"
  check_eq "$id: piece count = ceil(total / piece length)" $(((total + pl - 1) / pl)) \
    "$(json_get piece_count <"$T/$id.info.json")"
  check_eq "$id: trackers" "[[\"$TRACKER\"]]" "$(json_get trackers <"$T/$id.info.json")"
  check_eq "$id: creation date without --date" null "$(json_get creation_date <"$T/$id.info.json")"
  check_eq "$id: multi_file" "$([[ -d "$C/$rel" ]] && echo true || echo false)" \
    "$(json_get multi_file <"$T/$id.info.json")"

  # (f) canonical bencoding
  lt_canonical "$out"
  echo "   ok: $id $lt_hash ($(json_get piece_count <"$T/$id.info.json") pieces of $pl)"
  VERIFY+=("$out|$C|")
done
[[ "$(find "$C/tree" -type f | wc -l)" -eq $TREE_FILES ]] || fail "content tree changed"

# Metadata options: tiers, a multi-URL tier, web seeds, a UTF-8 comment, --date.
note "meta: tiers (-t a,b -t c), web seeds, UTF-8 comment, --date"
before=$(date +%s)
with_timeout 60 "$AR" create "$C/tree" -l 64K -o "$T/meta.torrent" -q --date \
  -t "http://127.0.0.1:1/a,udp://127.0.0.1:1/b" -t "http://127.0.0.1:1/c" \
  -w "http://127.0.0.1:1/seed/" -w "http://127.0.0.1:1/seed2/" \
  -c "comment ✓ with UTF-8" || fail "meta: actorrent create exited $?"
after=$(date +%s)
with_timeout 30 "$AR" info "$T/meta.torrent" --json >"$T/meta.info.json" || fail "meta: actorrent info exited $?"
lt_compare "$T/meta.torrent" "$T/meta.info.json"
lt_canonical "$T/meta.torrent"
check_eq "meta: info-hash, transmission-show vs libtorrent" "$(lt_info_hash "$T/meta.torrent")" \
  "$(transmission_hash "$T/meta.torrent")"
check_eq "meta: trackers" '[["http://127.0.0.1:1/a","udp://127.0.0.1:1/b"],["http://127.0.0.1:1/c"]]' \
  "$(json_get trackers <"$T/meta.info.json")"
check_eq "meta: url_list" '["http://127.0.0.1:1/seed/","http://127.0.0.1:1/seed2/"]' \
  "$(json_get url_list <"$T/meta.info.json")"
check_eq "meta: comment" "comment ✓ with UTF-8" "$(json_get comment <"$T/meta.info.json")"
date=$(json_get creation_date <"$T/meta.info.json")
{ [[ "$date" =~ ^[0-9]+$ ]] && ((date >= before && date <= after)); } ||
  fail "meta: creation date '$date' is not within [$before, $after]"
# The info dictionary, so the info-hash, does not depend on those options.
with_timeout 60 "$AR" create "$C/tree" -l 64K -o "$T/t64.torrent" -q || fail "t64: create exited $?"
check_eq "meta: info-hash equals that of a plain 64 KiB torrent (only outer keys differ)" \
  "$(lt_info_hash "$T/t64.torrent")" "$(lt_info_hash "$T/meta.torrent")"
echo "   ok: meta"

# (d) libtorrent hashes the content and finds every piece good. Control:
# torrents made of a copy of single.bin with byte 20000 flipped, checked
# against the good single.bin, must fail exactly piece 1 (16 KiB pieces) and
# piece 0 (64 KiB pieces): the check really compares hashes.
note "libtorrent checks the content of all ${#VERIFY[@]} torrents, plus 2 controls"
mkdir -p "$WORKDIR/bad"
timeout 30 cp -- "$C/single.bin" "$WORKDIR/bad/single.bin"
timeout 30 "$PY" - "$WORKDIR/bad/single.bin" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(20000)
    b = f.read(1)
    f.seek(20000)
    f.write(bytes([b[0] ^ 0x01]))
PYEOF
timeout 30 cmp -s "$C/single.bin" "$WORKDIR/bad/single.bin" && fail "control copy was not corrupted"
with_timeout 60 "$AR" create "$WORKDIR/bad/single.bin" -l 16K -o "$T/bad16.torrent" -q ||
  fail "bad16: create exited $?"
with_timeout 60 "$AR" create "$WORKDIR/bad/single.bin" -l 64K -o "$T/bad64.torrent" -q ||
  fail "bad64: create exited $?"
VERIFY+=("$T/meta.torrent|$C|" "$T/bad16.torrent|$C|1" "$T/bad64.torrent|$C|0")
lt_verify 120 "${VERIFY[@]}"

# After checking, libtorrent must not have changed the content.
[[ "$(total_of "$C/tree")" -eq "$(json_get total_size <"$T/t16.info.json")" ]] || fail "content changed"
echo "PASS: interop_create (${#CASES[@]} torrents + meta, ${SECONDS}s)"
