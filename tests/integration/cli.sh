#!/usr/bin/env bash
# The actorrent command line: exit codes (0 ok, 1 error, 2 usage), error
# messages on stderr, --help, --json output, and create's refusals; for
# download and seed: exit codes on bad arguments, and against libtorrent
# seeders and a leecher (peers.py) on loopback: --config FILE.yaml (and the
# command line over it), --max-peers, --seed-time and --seed-ratio.
#
#   bash cli.sh ACTORRENT WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
setup_workdir "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
AR=$(cd "$(dirname "$AR")" && pwd)/$(basename "$AR")
cd "$WORKDIR"
trap bg_stop_all EXIT
trap 'exit 130' INT TERM
OUT=$WORKDIR/out
ERR=$WORKDIR/err

# expect RC WHAT ARGS...: run actorrent ARGS, stdout to $OUT, stderr to $ERR;
# fail unless it exits with RC.
expect() {
  local want=$1 what=$2
  shift 2
  local rc=0
  with_timeout 30 "$AR" "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
  [[ $rc -eq $want ]] || fail "$what: expected exit $want, got $rc (actorrent $*; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 300 "$ERR"))"
  echo "   ok: $what -> $rc"
}
# An error (exit 1): one "actorrent: error: ..." message on stderr, none on stdout.
expect_error() {
  local what=$1 needle=$2
  shift 2
  expect 1 "$what" "$@"
  [[ "$(head -c 17 "$ERR")" == "actorrent: error:" ]] || fail "$what: stderr does not start with 'actorrent: error:': $(cat "$ERR")"
  [[ ! -s "$OUT" ]] || fail "$what: unexpected stdout: $(head -c 300 "$OUT")"
  if [[ -n "$needle" ]]; then
    grep -Eq -- "$needle" "$ERR" || fail "$what: message does not match /$needle/: $(cat "$ERR")"
  fi
  echo "      $(head -n 1 "$ERR")"
}
# A usage error (exit 2): a message on stderr, nothing on stdout.
expect_usage() {
  local what=$1
  shift
  expect 2 "$what" "$@"
  [[ -s "$ERR" ]] || fail "$what: no message on stderr"
  [[ ! -s "$OUT" ]] || fail "$what: unexpected stdout: $(head -c 300 "$OUT")"
}
sha() { sha1sum -- "$1" | cut -d' ' -f1; }

note "help and version exit 0 and print usage"
expect 0 "--help" --help
grep -q "Usage:" "$OUT" || fail "--help prints no 'Usage:'"
{ grep -q "info" "$OUT" && grep -q "create" "$OUT"; } || fail "--help does not list info and create"
expect 0 "-h" -h
expect 0 "info --help" info --help
grep -q "Usage:.*info" "$OUT" || fail "info --help prints no usage"
expect 0 "create --help" create --help
grep -q "Usage:.*create" "$OUT" || fail "create --help prints no usage"
for opt in --tracker --output --piece-length --private --comment --name --web-seed --date --force --json --quiet; do
  grep -q -- "$opt" "$OUT" || fail "create --help does not mention $opt"
done
expect 0 "--version" --version
grep -Eq "^actorrent [0-9]+\.[0-9]+" "$OUT" || fail "--version prints '$(cat "$OUT")'"

note "usage errors exit 2"
expect_usage "no subcommand"
expect_usage "unknown subcommand" bogus
expect_usage "unknown top-level option" --bogus
expect_usage "info without a file" info
expect_usage "info with an unknown option" info --bogus x.torrent
expect_usage "info with two files" info a.torrent b.torrent
expect_usage "create without a path" create

note "making a valid torrent to damage"
timeout 30 head -c 200000 /dev/urandom >data.bin
expect 0 "create data.bin" create data.bin -t http://127.0.0.1:1/announce -l 16K -o good.torrent -q
[[ ! -s "$OUT" && ! -s "$ERR" ]] || fail "create -q printed something: $(cat "$OUT" "$ERR")"
expect 0 "info good.torrent" info good.torrent
grep -Eq "^info-hash: +[0-9a-f]{40}" "$OUT" || fail "info prints no info-hash line: $(cat "$OUT")"

note "info on bad files exits 1 with a message naming the problem"
expect_error "info on a missing file" "missing\.torrent" info missing.torrent
printf 'hello world, this is not a torrent\n' >garbage.torrent
expect_error "info on a text file" "bencod|byte" info garbage.torrent
head -c 4096 /dev/urandom >random.torrent
expect_error "info on random bytes" "" info random.torrent
# A non-printable byte is shown in hex: 0xff as \xff (not \x255).
printf '\xff\x00\x01' >ff.torrent
expect_error "info on a file starting with byte 0xff" "'\\\\x[fF][fF]'" info ff.torrent
: >empty.torrent
expect_error "info on an empty file" "bencod|byte|empty" info empty.torrent
size=$(stat -c %s good.torrent)
head -c $((size / 2)) good.torrent >truncated.torrent
expect_error "info on a torrent cut in half" "bencod|byte|end" info truncated.torrent
head -c $((size - 1)) good.torrent >truncated1.torrent
expect_error "info on a torrent missing its last byte" "bencod|byte|end" info truncated1.torrent
printf 'i42e' >int.torrent
expect_error "info on a bencoded integer" "dictionar" info int.torrent
printf 'd8:announce20:http://127.0.0.1:1/ae' >noinfo.torrent
expect_error "info on a dictionary without 'info'" "info" info noinfo.torrent
mkdir -p adir.torrent
expect_error "info on a directory" "" info adir.torrent

note "create refuses bad input"
expect_error "create on a missing path" "nope" create nope -t http://127.0.0.1:1/a -o nope.torrent
[[ ! -e nope.torrent ]] || fail "create on a missing path wrote nope.torrent"
: >empty.bin
expect_error "create on an empty file" "size|empty|0 bytes" create empty.bin -t http://127.0.0.1:1/a -o e.torrent
[[ ! -e e.torrent ]] || fail "create on an empty file wrote e.torrent"
mkdir -p emptydir/sub
expect_error "create on a directory without files" "" create emptydir -t http://127.0.0.1:1/a -o ed.torrent
[[ ! -e ed.torrent ]] || fail "create on an empty directory wrote ed.torrent"
for bad in 1000 3K 8K 12K 128M 0 -16K abc 16KB 1.5M; do
  expect_usage "create -l $bad" create data.bin -t http://127.0.0.1:1/a -l "$bad" -o bad.torrent
  [[ ! -e bad.torrent ]] || fail "create -l $bad wrote bad.torrent"
done

note "create does not overwrite without --force"
before=$(sha good.torrent)
expect_error "create over an existing file" "exists|force" \
  create data.bin -t http://127.0.0.1:1/other -l 32K -o good.torrent
check_eq "good.torrent unchanged after a refused create" "$before" "$(sha good.torrent)"
expect 0 "create --force over an existing file" create data.bin -t http://127.0.0.1:1/other -l 32K -o good.torrent -f -q
[[ "$(sha good.torrent)" != "$before" ]] || fail "create --force did not replace good.torrent"
expect 0 "info on the replaced file" info good.torrent --json
check_eq "replaced file's piece length" 32768 "$(json_get piece_length <"$OUT")"

note "default output name is NAME.torrent in the current directory"
expect 0 "create without -o" create data.bin -t http://127.0.0.1:1/a -q
[[ -s data.bin.torrent ]] || fail "create without -o did not write data.bin.torrent"
expect 0 "create -n renamed without -o" create data.bin -n renamed.bin -t http://127.0.0.1:1/a -q
[[ -s renamed.bin.torrent ]] || fail "create -n renamed.bin did not write renamed.bin.torrent"

note "--json output parses and has the documented keys"
expect 0 "info --json" info data.bin.torrent --json
timeout 30 "$PY" - "$OUT" <<'PYEOF' || fail "info --json output is not as documented: $(head -c 2000 "$OUT")"
import json, re, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
types = {"name": str, "info_hash": str, "piece_length": int, "piece_count": int,
         "total_size": int, "private": bool, "multi_file": bool, "hybrid": bool,
         "files": list, "trackers": list, "url_list": list, "comment": str,
         "created_by": str}
bad = [k for k, t in types.items() if not isinstance(d.get(k), t)]
if "creation_date" not in d or not (d["creation_date"] is None or isinstance(d["creation_date"], int)):
    bad.append("creation_date")
if bad:
    sys.exit("missing or mistyped keys: %s" % bad)
assert re.fullmatch(r"[0-9a-f]{40}", d["info_hash"]), d["info_hash"]
assert d["name"] == "data.bin" and d["total_size"] == 200000, d
assert d["private"] is False and d["multi_file"] is False and d["hybrid"] is False, d
assert d["trackers"] == [["http://127.0.0.1:1/a"]], d["trackers"]
assert d["creation_date"] is None, d["creation_date"]
assert len(d["files"]) == 1, d["files"]
f = d["files"][0]
assert f["path"] == "data.bin" and f["size"] == 200000 and f["offset"] == 0 and f["pad"] is False, f
assert d["piece_count"] == -(-200000 // d["piece_length"]), d
PYEOF
info_hash=$(json_get info_hash <"$OUT")
expect 0 "create --json" create data.bin -t http://127.0.0.1:1/a -o j.torrent --json
check_eq "create --json info_hash equals info --json" "$info_hash" "$(json_get info_hash <"$OUT")"
check_eq "create --json name" data.bin "$(json_get name <"$OUT")"
check_eq "create --json total_size" 200000 "$(json_get total_size <"$OUT")"
expect 0 "info text" info j.torrent
check_eq "info text info-hash equals --json" "$info_hash" "$(ar_info_hash "$AR" j.torrent)"

note "a file name with spaces and UTF-8 survives to the JSON"
mkdir -p "d ü"
head -c 1000 /dev/urandom >"d ü/ü ✓ x.bin"
expect 0 "create on 'd ü'" create "d ü" -o utf8.torrent -q
expect 0 "info utf8.torrent --json" info utf8.torrent --json
check_eq "UTF-8 path in JSON" "d ü/ü ✓ x.bin" "$(json_get files.0.path <"$OUT")"
check_eq "UTF-8 name in JSON" "d ü" "$(json_get name <"$OUT")"

note "download and seed: usage errors exit 2, failures exit 1"
make_random "$WORKDIR/dsrc/four.bin" $((4 * 1024 * 1024))
expect 0 "create four.torrent" create dsrc/four.bin -t http://127.0.0.1:1/announce -l 64K -o four.torrent -q
expect_usage "download without a torrent" download
expect_usage "download with an unknown option" download four.torrent --bogus
expect_usage "download --max-peers not a number" download four.torrent --max-peers many
expect_usage "download --seed-ratio not a number" download four.torrent --seed-ratio lots
expect_usage "download --seed-time not a number" download four.torrent --seed-time soon
expect_usage "download --upload-slots not a number" download four.torrent --upload-slots some
expect_usage "download --max-upload-rate with a bad unit" download four.torrent --max-upload-rate 5X
expect_usage "download --peer without a port" download four.torrent --peer 127.0.0.1
expect_usage "download --config of a missing file" download four.torrent --config nope.yaml
printf 'bogus_key: 1\n' >bad.yaml
expect_usage "download --config with an unknown key" download four.torrent --config bad.yaml
grep -q "bogus_key" "$ERR" || fail "the config error does not name the unknown key: $(cat "$ERR")"
expect_usage "seed without a directory" seed four.torrent
expect_usage "seed with an unknown option" seed four.torrent dsrc --bogus
expect_error "download of a missing torrent file" "nope\.torrent" download nope.torrent -o dl --no-trackers
expect_error "seed of a missing torrent file" "nope\.torrent" seed nope.torrent dsrc --no-trackers
# seed checks the data first: exit 1 with an error naming how many pieces are
# missing, and without creating the directory it was given.
expect 1 "seed with no data (the directory does not exist)" seed four.torrent nodata --no-trackers --port 0
grep -Eq "^actorrent: error: .*(\ball 64 pieces missing\b|\b0 of 64\b)" "$ERR" ||
  fail "seed with no data: no error naming the pieces missing (all 64): $(cat "$ERR")"
[[ ! -s "$OUT" ]] || fail "seed with no data: unexpected stdout: $(head -c 300 "$OUT")"
echo "      $(grep -m1 '^actorrent: error:' "$ERR")"
[[ ! -e nodata ]] || fail "seed created the data directory 'nodata' of a torrent it cannot seed"

need_libtorrent
read -r P1 P2 PA PC <<<"$(free_ports 4)"
note "two libtorrent seeders on 127.0.0.1:$P1 and :$P2, 1 MB/s each"
lt_seed_start "$WORKDIR/lt1.log" four.torrent dsrc "$P1" --upload-limit 1000000
lt_seed_start "$WORKDIR/lt2.log" four.torrent dsrc "$P2" --upload-limit 1000000

# ar_json_dl NAME ARGS...: actorrent download four.torrent ARGS (bounded),
# JSON lines in NAME.json, stderr in NAME.err; fail unless it exits 0 with a
# last JSON event "complete".
ar_json_dl() {
  local name=$1 rc=0
  shift
  with_timeout 60 "$AR" download four.torrent "$@" >"$name.json" 2>"$name.err" </dev/null || rc=$?
  ((rc == 0)) || fail "download $name: exit $rc ($(tail -n 3 "$name.err"))"
  check_eq "download $name: event of the last JSON line" complete "$(json_last "$name.json" event)"
}

note "--config FILE.yaml: directory, peers, port, max_peers and JSON output from the file"
{
  echo "download_dir: $WORKDIR/cfg-dl"
  echo "peers: [\"127.0.0.1:$P1\", \"127.0.0.1:$P2\"]"
  echo "port: $PC"
  echo "max_peers: 1"
  echo "json_progress: true"
  echo "timeout: 50"
} >cfg.yaml
ar_json_dl cfg --config cfg.yaml --no-trackers
n=$(check_same_content dsrc/four.bin cfg-dl/four.bin)
check_eq "--config: most peers at once (max_peers: 1 in the file)" 1 "$(json_max cfg.json peers)"
check_eq "--config: the port listened on (port: $PC in the file)" "$PC" "$(json_last cfg.json listen_port)"
echo "   ok: --config: $n file in cfg-dl, JSON lines, port $PC, at most 1 peer"
note "the command line wins over the file: -o and --max-peers 2"
ar_json_dl cfg2 --config cfg.yaml --no-trackers -o cfg-dl2 --max-peers 2
check_same_content dsrc/four.bin cfg-dl2/four.bin >/dev/null
check_eq "--config + --max-peers 2: most peers at once" 2 "$(json_max cfg2.json peers)"
echo "   ok: -o and --max-peers on the command line override the file"

note "--max-peers 1 on the command line, two seeders given"
ar_json_dl mp1 -o mp1 --no-trackers --port 0 --json-progress --max-peers 1 --peer "127.0.0.1:$P1" \
  --peer "127.0.0.1:$P2"
check_same_content dsrc/four.bin mp1/four.bin >/dev/null
check_eq "--max-peers 1: most peers at once" 1 "$(json_max mp1.json peers)"
echo "   ok: --max-peers 1 held (with --max-peers 2 the same seeders gave 2)"

# first_complete_time JSON PID: wait (up to 60 s) until JSON has a line with
# "complete":true; print $EPOCHREALTIME then.
first_complete_time() {
  wait_until 60 "$2" "actorrent download" "${1%.json}.err" "no complete JSON line" \
    grep -q '"complete":true' "$1"
  echo "$EPOCHREALTIME"
}

note "--seed --seed-time 3: seeds 3 s after completing, then exits 0"
ar_json_start "$WORKDIR/st" 60 "$AR" download four.torrent -o st --no-trackers --port 0 --json-progress \
  --peer "127.0.0.1:$P1" --seed --seed-time 3
pid=$BG_LAST
t_done=$(first_complete_time "$WORKDIR/st.json" "$pid")
rc=0
wait "$pid" || rc=$?
bg_forget "$pid"
took=$(seconds_between "$t_done" "$EPOCHREALTIME")
check_eq "--seed-time 3: exit status" 0 "$rc"
awk -v t="$took" 'BEGIN { exit !(t >= 2.5 && t <= 8) }' ||
  fail "--seed-time 3: exited ${took}s after completing (expected 3 s, 2.5 to 8)"
check_same_content dsrc/four.bin st/four.bin >/dev/null
echo "   ok: --seed-time 3: exit 0 ${took}s after completing"

note "--seed --seed-ratio 1: seeds until it has uploaded the torrent's size (to a libtorrent leecher)"
ar_json_start "$WORKDIR/sr" 90 "$AR" download four.torrent -o sr --no-trackers --port "$PA" --json-progress \
  --peer "127.0.0.1:$P1" --seed --seed-ratio 1
pid=$BG_LAST
first_complete_time "$WORKDIR/sr.json" "$pid" >/dev/null
sleep 2
bg_alive "$pid" "actorrent download --seed --seed-ratio 1 (nothing uploaded yet)" "$WORKDIR/sr.err"
bg_start 60 "$WORKDIR/leech.log" "$PY" "$PEERS_PY" lt-leech four.torrent "$WORKDIR/leech" \
  --peer "127.0.0.1:$PA" --lifetime 50
leech=$BG_LAST
rc=0
for ((i = 0; i < 600; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "--seed-ratio 1: still seeding 60 s after the leecher started"
wait "$pid" || rc=$?
bg_forget "$pid"
check_eq "--seed-ratio 1: exit status" 0 "$rc"
up=$(json_last "$WORKDIR/sr.json" uploaded)
((up >= 4 * 1024 * 1024)) || fail "--seed-ratio 1: exited having uploaded $up bytes, less than the torrent's size"
lrc=0
wait "$leech" || lrc=$?
bg_forget "$leech"
check_eq "the libtorrent leecher (from actorrent only): exit status" 0 "$lrc"
echo "   ok: --seed-ratio 1: exit 0 after uploading $up bytes; the leecher verified every piece"

note "port: 0 (any free port) in a config file, as --port 0 on the command line"
sed "s/^port: .*/port: 0/" cfg.yaml >cfg0.yaml
ar_json_dl cfg0 --config cfg0.yaml --no-trackers -o cfg-dl0
check_same_content dsrc/four.bin cfg-dl0/four.bin >/dev/null
echo "   ok: port: 0 in the file"

echo "PASS: cli (${SECONDS}s)"
