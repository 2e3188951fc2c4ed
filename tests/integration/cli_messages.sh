#!/usr/bin/env bash
# What `download` and `seed` tell users, and how they exit: an unknown command,
# a magnet link, a busy port (named, and no directory made), YAML `port: 0`
# and `trackers`, the final summary of a resumed download (what this run
# fetched, not the torrent's size), the `complete` JSON event's elapsed time
# and rate, and exit 130 after Ctrl-C for both commands.
#
#   bash cli_messages.sh ACTORRENT WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
it_setup
AR=$(cd "$(dirname "$AR")" && pwd)/$(basename "$AR")
cd "$WORKDIR"
OUT=$WORKDIR/out
ERR=$WORKDIR/err

# run RC WHAT ARGS...: actorrent ARGS (stdout to $OUT, stderr to $ERR) must exit RC.
run() {
  local want=$1 what=$2 rc=0
  shift 2
  with_timeout 60 "$AR" "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
  [[ $rc -eq $want ]] || fail "$what: expected exit $want, got $rc (actorrent $*; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 500 "$ERR"))"
  echo "   ok: $what -> $rc"
}
err_has() { grep -Fq -- "$2" "$ERR" || fail "$1: stderr lacks '$2': $(cat "$ERR")"; }

note "unknown command and magnet links"
run 2 "unknown command" bogus
err_has "unknown command" "unknown command 'bogus'"
err_has "unknown command" "download"
run 2 "a torrent file given without a command" some.torrent
err_has "file without command" "actorrent download FILE.torrent"
run 1 "a magnet link" download 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567' -o mdir
err_has "magnet" "magnet links are not supported yet"
[[ ! -e mdir ]] || fail "a magnet link made the directory"

note "a torrent of 1 MiB in 16 KiB pieces"
make_random data/d.bin $((1024 * 1024))
run 0 "create" create data/d.bin -t http://127.0.0.1:1/announce -l 16K -o d.torrent -q

note "seed --timeout is described for a seeder"
run 0 "seed --help" seed --help
grep -A2 -- "--timeout" "$OUT" | grep -q "checking the data" || fail "seed --timeout help: $(grep -A2 -- --timeout "$OUT")"

note "the settings list, --set and the named flags go through it"
run 0 "settings" settings
head -n 1 "$OUT" | grep -q "^NAME *DEFAULT *RANGE *UNIT *MEANING" || fail "settings header: $(head -n 1 "$OUT")"
for name in max_peers read_size choke_interval reconnect_delay_max max_download_rate connect_timeout; do
  grep -q "^$name " "$OUT" || fail "settings does not list $name"
done
printf 'read_size: 128K\n' >tun.yaml
run 0 "settings with a file and --set" settings --config tun.yaml --set max_peers=80
grep -q "^read_size .*64K (now 128K)" "$OUT" || fail "settings --config: $(grep read_size "$OUT")"
grep -q "^max_peers .*50 (now 80)" "$OUT" || fail "settings --set: $(grep max_peers "$OUT")"
run 2 "--set of an unknown name" download d.torrent -o data --set max_peer=5
err_has "--set unknown" "did you mean 'max_peers'"
run 2 "--set out of bounds" download d.torrent -o data --set choke_interval=0
err_has "--set bounds" "from 1s to 1h, got '0'"
run 2 "--max-download-rate without a number" download d.torrent -o data --max-download-rate fast
err_has "--max-download-rate" "--max-download-rate: expected bytes/s"
run 2 "--max-peers 0" download d.torrent -o data --max-peers 0
run 2 "settings out of order" download d.torrent -o data --set max_queue_depth=400 --set initial_queue_depth=500
err_has "order" "'initial_queue_depth' (500) is above 'max_queue_depth' (400)"
run 0 "download with tunables set" download d.torrent -o data --no-trackers --port 0 --set read_size=128K \
  --max-download-rate 1M --set connect_timeout=2s

read -r BUSY P1 P2 P3 <<<"$(free_ports 4)"
note "a busy port is named and no directory is made"
bg_start 60 "$WORKDIR/busy.log" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
print("ready", flush=True)
time.sleep(50)
' "$BUSY"
BUSY_PID=$BG_LAST
wait_for_log "$WORKDIR/busy.log" '^ready$' 20 "$BUSY_PID" "port holder"
run 1 "download on a busy port" download d.torrent -o newdir --port "$BUSY" --no-trackers
err_has "busy port" "port $BUSY is in use"
grep -q "system_error\|caf::" "$ERR" && fail "busy port: CAF's text in the message: $(cat "$ERR")"
[[ ! -e newdir ]] || fail "the download directory was made although the port was busy"
run 1 "seed on a busy port" seed d.torrent data --port "$BUSY" --no-trackers
err_has "busy port (seed)" "port $BUSY is in use"
bg_stop "$BUSY_PID"

note "YAML: port 0 is accepted; trackers is a list, use_trackers the switch"
printf 'port: 0\nuse_trackers: false\n' >zero.yaml
run 0 "download of data already there, port 0 from YAML" download d.torrent -o data --config zero.yaml
grep -Fq "nothing downloaded" "$OUT" || fail "summary of a download with nothing to fetch: $(cat "$OUT")"
printf 'trackers: false\n' >old.yaml
run 2 "YAML trackers: false" download d.torrent -o data --config old.yaml
err_has "YAML trackers" "use_trackers: false"
printf 'max_upload_rate: fast\n' >rate.yaml
run 2 "YAML bad rate" download d.torrent -o data --config rate.yaml
[[ $(grep -o "'fast'" "$ERR" | wc -l) -eq 1 ]] || fail "the bad value is not named exactly once: $(cat "$ERR")"

note "a resumed download: the summary counts what this run fetched"
mkdir -p part
cp data/d.bin part/d.bin
# the last 64 KiB (4 pieces) are wrong
head -c 65536 /dev/zero | dd of=part/d.bin bs=1 seek=$((1024 * 1024 - 65536)) conv=notrunc status=none
ar_seed_start "$AR" "$WORKDIR/seeder" 90 d.torrent data --port "$P1" --no-trackers
SEED=$BG_LAST
wait_for_log "$WORKDIR/seeder.json" '"event":"checked"' 30 "$SEED" "seeder"
run 0 "resumed download" download d.torrent -o part --port "$P2" --no-trackers --peer "127.0.0.1:$P1" --timeout 40
cmp -s data/d.bin part/d.bin || fail "the resumed download differs from the source"
grep -Fq "download complete: d.bin (1.0 MiB), 64.0 KiB downloaded in" "$OUT" ||
  fail "summary of the resumed download: $(cat "$OUT")"

note "the JSON complete event has the elapsed time and the average rate"
cp data/d.bin part2.bin
mkdir -p part2 && mv part2.bin part2/d.bin
head -c 32768 /dev/zero | dd of=part2/d.bin bs=1 seek=0 conv=notrunc status=none
run 0 "resumed download (JSON)" download d.torrent -o part2 --port "$P2" --no-trackers --peer "127.0.0.1:$P1" \
  --timeout 40 --json-progress
last=$(tail -n 1 "$OUT")
check_eq "last event" complete "$(json_get event <<<"$last")"
check_eq "downloaded in the complete event" 32768 "$(json_get downloaded <<<"$last")"
el=$(json_get elapsed_seconds <<<"$last")
avg=$(json_get avg_down_rate <<<"$last")
"$PY" -c 'import sys; e, a = float(sys.argv[1]), int(sys.argv[2]); sys.exit(not (0 < e < 40 and a > 0 and abs(a - 32768 / e) <= 32768 / e * 0.01 + 1))' "$el" "$avg" ||
  fail "complete event: elapsed_seconds $el, avg_down_rate $avg do not fit 32768 bytes"

note "the peer list: a seeder with --peers shows a connected peer with its client and flags"
ar_seed_start "$AR" "$WORKDIR/lister" 60 d.torrent data --port "$P3" --no-trackers --peers
LISTER=$BG_LAST
wait_for_log "$WORKDIR/lister.json" '"event":"checked"' 30 "$LISTER" "seeder with --peers"
HASH=$(ar_info_hash "$AR" d.torrent)
# a peer that says it is libtorrent 2.0.9, is interested, and stays 6 s
bg_start 30 "$WORKDIR/fakepeer.log" "$PY" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex(sys.argv[2]) + b"-LT2090-abcdefghijkl")
got = b""
while len(got) < 68:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("closed during the handshake")
    got += chunk
s.sendall(b"\x00\x00\x00\x01\x02")  # interested
print("connected", flush=True)
end = time.time() + 6
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        if not s.recv(65536):
            break
    except socket.timeout:
        pass
' "$P3" "$HASH"
FAKE=$BG_LAST
wait_for_log "$WORKDIR/fakepeer.log" '^connected$' 20 "$FAKE" "fake peer"
wait_for_log "$WORKDIR/lister.json" '"event":"peers".*"client":"libtorrent 2.0.9"' 15 "$LISTER" "seeder with --peers"
line=$(grep '"event":"peers".*"client":"libtorrent 2.0.9"' "$WORKDIR/lister.json" | tail -n 1)
addr=$(json_get peers.0.address <<<"$line")
[[ "$addr" == 127.0.0.1:* ]] || fail "peer address in the peers event: $addr"
flags=$(json_get peers.0.flags <<<"$line")
[[ "$flags" == *I* && "$flags" == *i* ]] || fail "flags of an incoming interested peer: '$flags' ($line)"
bg_stop "$FAKE"
bg_signal_stop INT "$LISTER"
check_eq "seed --peers: exit status after SIGINT" 130 "${BG_STATUS[$LISTER]}"

note "Ctrl-C exits 130, for seed and download alike"
bg_signal_stop INT "$SEED"
check_eq "seed: exit status after SIGINT" 130 "${BG_STATUS[$SEED]}"
check_eq "seed: last event" stopped "$(json_last "$WORKDIR/seeder.json" event)"
mkdir -p empty
ar_download_start "$AR" "$WORKDIR/leech" 60 d.torrent empty --no-trackers
LEECH=$BG_LAST
wait_for_log "$WORKDIR/leech.json" '"event":"checked"' 30 "$LEECH" "download"
bg_signal_stop INT "$LEECH"
check_eq "download: exit status after SIGINT" 130 "${BG_STATUS[$LEECH]}"
bg_start 60 "$WORKDIR/term.log" "$AR" download d.torrent -o empty --no-trackers --port 0 --json-progress
TERM_PID=$BG_LAST
wait_for_log "$WORKDIR/term.log" '"event":"checked"' 30 "$TERM_PID" "download"
bg_signal_stop TERM "$TERM_PID"
check_eq "download: exit status after SIGTERM" 143 "${BG_STATUS[$TERM_PID]}"

echo "PASS"
