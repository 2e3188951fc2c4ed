#!/usr/bin/env bash
# What `download` does with files that already carry a torrent's file names,
# `--recheck`, and the symlink rule of `create` and `seed` (issue 11).
#
#   bash download_existing_file.sh ACTORRENT WORKDIR
#
# An actorrent seeder (--port 0, no trackers) serves a 2 MiB + 7 byte torrent
# made by `actorrent create`. Checks, each against that seeder with --peer:
#  (a) a download directory holding an unrelated file of the torrent's name
#      (random bytes, longer than the torrent says, no resume data): download
#      exits 1 within 30 s, naming the file and --force, and the file is
#      byte-identical afterwards; with --force the download completes and the
#      file becomes the torrent's data, cut to its size;
#  (b) the first half of the data plus junk (no resume data): a resume, not
#      refused: the download completes and the file is the torrent's data;
#  (c) --recheck: after a complete download (resume data written), one byte
#      is changed with the mtime kept; `seed` trusts the resume data (all
#      pieces present), `seed --recheck` finds the piece missing and exits 1;
#  (d) symlinks: `create` of a directory holding a regular file and a symlink
#      to a file outside it warns about the link and leaves it out (the
#      torrent has one file), and `seed` of that torrent from the same
#      directory finds every piece; a torrent whose file is a symlink in the
#      directory (same bytes behind it) is refused by `seed` (exit 1), naming it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool cmp
it_setup

C=$WORKDIR/content
SIZE=$((2 * 1024 * 1024 + 7))
make_random "$C/data.bin" "$SIZE"
with_timeout 60 "$AR" create "$C/data.bin" -t http://127.0.0.1:1/announce -l 32K -o "$WORKDIR/data.torrent" -q ||
  fail "actorrent create exited $?"
ar_seeder_start "$AR" "$WORKDIR/seed" "$WORKDIR/data.torrent" "$C" --no-trackers

# download NAME DIR ARGS...: actorrent download into DIR from the seeder; its
# exit status in RC, stdout in NAME.json, stderr in NAME.err.
download() {
  local name=$1 dir=$2
  shift 2
  RC=0
  timeout --kill-after=5 60 "$AR" download "$WORKDIR/data.torrent" -o "$dir" --port 0 --no-trackers \
    --peer "127.0.0.1:$SEED_PORT" --json-progress "$@" </dev/null >"$WORKDIR/$name.json" 2>"$WORKDIR/$name.err" ||
    RC=$?
}

note "(a) an unrelated file of the torrent's name is not overwritten"
D=$WORKDIR/a
make_random "$D/data.bin" $((SIZE + 1000))
cp "$D/data.bin" "$WORKDIR/unrelated.copy"
download a-refused "$D"
check_eq "download over an unrelated file: exit status" 1 "$RC"
check_contains "the refusal names the file" "refusing to overwrite $D/data.bin" "$(cat "$WORKDIR/a-refused.err")"
check_contains "the refusal names --force" "--force" "$(cat "$WORKDIR/a-refused.err")"
cmp -s "$D/data.bin" "$WORKDIR/unrelated.copy" || fail "the unrelated file was changed"
[[ ! -e "$D/.actorrent" ]] || fail "a refused download left resume data in $D/.actorrent"
echo "   ok: refused: $(grep -m1 'refusing' "$WORKDIR/a-refused.err")"
download a-forced "$D" --force
check_eq "download --force: exit status" 0 "$RC"
cmp -s "$D/data.bin" "$C/data.bin" || fail "after download --force, $D/data.bin is not the torrent's data"
echo "   ok: --force replaced it (now $(stat -c %s "$D/data.bin") bytes, the torrent's size)"

note "(b) data that verifies in part is a resume"
D=$WORKDIR/b
mkdir -p "$D"
{ head -c $((SIZE / 2)) "$C/data.bin"; head -c $((SIZE / 2 + 5000)) /dev/urandom; } >"$D/data.bin"
download b "$D"
check_eq "download over partial data: exit status" 0 "$RC"
cmp -s "$D/data.bin" "$C/data.bin" || fail "after the resume, $D/data.bin is not the torrent's data"
resumed=$(json_event "$WORKDIR/b.json" checked resumed_pieces)
((resumed > 0)) || fail "the check found no piece of the first half"
echo "   ok: $resumed pieces found, the rest downloaded, the file cut to size"

note "(c) --recheck finds a byte changed with the mtime kept"
D=$WORKDIR/b # complete, with resume data from (b)
[[ -n "$(ls "$D/.actorrent/"*.resume 2>/dev/null)" ]] || fail "no resume data after the download in $D"
mtime=$(stat -c %y "$D/data.bin")
timeout 30 "$PY" -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100000)
    b = f.read(1)[0]
    f.seek(100000)
    f.write(bytes([b ^ 0xFF]))
' "$D/data.bin"
touch -d "$mtime" "$D/data.bin"
check_eq "mtime kept" "$mtime" "$(stat -c %y "$D/data.bin")"
seed_check() { # NAME ARGS...: `seed` with --seed-time 1; RC and NAME.err
  local name=$1
  shift
  RC=0
  timeout --kill-after=5 60 "$AR" seed "$WORKDIR/data.torrent" "$D" --port 0 --no-trackers --seed-time 1 "$@" \
    </dev/null >"$WORKDIR/$name.out" 2>"$WORKDIR/$name.err" || RC=$?
}
total=$(((SIZE + 32767) / 32768))
seed_check c-trusted
check_eq "seed trusting the resume data: exit status" 0 "$RC"
check_contains "seed trusting the resume data" "checked: $total of $total" "$(cat "$WORKDIR/c-trusted.err")"
seed_check c-recheck --recheck
check_eq "seed --recheck over the changed byte: exit status" 1 "$RC"
check_contains "seed --recheck" "only $((total - 1)) of $total pieces verify" "$(cat "$WORKDIR/c-recheck.err")"
echo "   ok: trusted without --recheck, piece found missing with it"

note "(d) create skips symlinks with a warning, and seed agrees"
T=$WORKDIR/tree/share
make_random "$T/real.bin" 100000
make_random "$WORKDIR/outside.bin" 5000
ln -s "$WORKDIR/outside.bin" "$T/link.bin"
with_timeout 60 "$AR" create "$T" -o "$WORKDIR/tree.torrent" -l 16K --json >"$WORKDIR/d-create.json" \
  2>"$WORKDIR/d-create.err" || fail "create of a tree with a symlink exited $?"
check_contains "create's warning" "skipped link.bin" "$(cat "$WORKDIR/d-create.err")"
check_eq "files in the torrent" 1 "$(json_get files <"$WORKDIR/d-create.json")"
RC=0
timeout --kill-after=5 60 "$AR" seed "$WORKDIR/tree.torrent" "$WORKDIR/tree" --port 0 --no-trackers --seed-time 1 \
  </dev/null >"$WORKDIR/d-seed.out" 2>"$WORKDIR/d-seed.err" || RC=$?
check_eq "seed of the created tree: exit status" 0 "$RC"
pieces=$(((100000 + 16383) / 16384))
check_contains "seed of the created tree" "checked: $pieces of $pieces" "$(cat "$WORKDIR/d-seed.err")"
echo "   ok: the link was left out, and seed finds every piece"
T2=$WORKDIR/tree2/share
make_random "$T2/real.bin" 50000
make_random "$T2/other.bin" 7000
with_timeout 60 "$AR" create "$T2" -o "$WORKDIR/tree2.torrent" -l 16K -q || fail "create of tree2 exited $?"
mv "$T2/other.bin" "$WORKDIR/other.bin"
ln -s "$WORKDIR/other.bin" "$T2/other.bin"
RC=0
timeout --kill-after=5 60 "$AR" seed "$WORKDIR/tree2.torrent" "$WORKDIR/tree2" --port 0 --no-trackers --seed-time 1 \
  </dev/null >"$WORKDIR/d-seed2.out" 2>"$WORKDIR/d-seed2.err" || RC=$?
check_eq "seed with a symlink in place of a file: exit status" 1 "$RC"
check_contains "seed with a symlink in place of a file" "$T2/other.bin is a symbolic link" "$(cat "$WORKDIR/d-seed2.err")"
echo "   ok: a symlink in the tree is refused: $(grep -m1 'symbolic link' "$WORKDIR/d-seed2.err")"
