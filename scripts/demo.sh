#!/usr/bin/env bash
# The main job's demo: a local swarm on loopback, made and torn down here.
#   opentracker (HTTP, 127.0.0.1) + an actorrent seeder and a python3-libtorrent
#   seeder (rate-capped so the progress is visible) + one bad seeder of our own
#   that corrupts some pieces + actorrent downloading from all of them via the
#   tracker, with its progress bar; then the download is compared byte for byte
#   with the source.
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
BIN="$BUILD/app/actorrent"
WORK="$BUILD/demo"
PEERS="$ROOT/tests/integration/peers.py"
PY=/usr/bin/python3
SIZE_MB="${DEMO_SIZE_MB:-160}"
RATE="${DEMO_SEED_RATE:-25000000}"   # bytes/s per seeder

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # FILE: wait (bounded) until a seeder printed "ready"
  for _ in $(seq 1 300); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: a seeder did not start; see $1" >&2; return 1
}

rm -rf "$WORK" && mkdir -p "$WORK/content/album/disc 1" "$WORK/download" "$WORK/tracker"
echo "==> demo content: ${SIZE_MB} MB in $WORK/content/album"
head -c $((SIZE_MB * 1024 * 1024 - 12345)) /dev/urandom > "$WORK/content/album/disc 1/track01.flac"
head -c 12000 /dev/urandom > "$WORK/content/album/cover.jpg"
echo "hello from the actorrent demo swarm" > "$WORK/content/album/README.txt"
: > "$WORK/content/album/empty.txt"

TRACKER_PORT=$(free_port)
"$BIN" create "$WORK/content/album" -t "http://127.0.0.1:$TRACKER_PORT/announce" -l 256K \
  -o "$WORK/album.torrent" -q
"$BIN" info "$WORK/album.torrent" | head -8
HASH=$("$BIN" info --json "$WORK/album.torrent" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')

echo "==> tracker: opentracker on 127.0.0.1:$TRACKER_PORT"
echo "$HASH" > "$WORK/tracker/whitelist"
chmod 755 "$WORK" "$WORK/tracker" && chmod 644 "$WORK/tracker/whitelist"
opentracker -i 127.0.0.1 -p "$TRACKER_PORT" -P "$TRACKER_PORT" -d "$WORK/tracker" -w whitelist \
  > "$WORK/tracker/log" 2>&1 &
pids+=($!)
sleep 0.5

port=$(free_port)
echo "==> seeder 1: libtorrent on 127.0.0.1:$port, ${RATE} B/s"
"$PY" "$PEERS" lt-seed "$WORK/album.torrent" "$WORK/content" "$port" --tracker \
  --upload-limit "$RATE" --lifetime 300 > "$WORK/seed1.out" 2> "$WORK/seed1.log" &
pids+=($!)
wait_ready "$WORK/seed1.out"
port=$(free_port)
echo "==> seeder 2: actorrent seed on 127.0.0.1:$port, ${RATE} B/s"
"$BIN" seed "$WORK/album.torrent" "$WORK/content" --port "$port" --max-upload-rate "$RATE" --json-progress \
  > "$WORK/seed2.out" 2> "$WORK/seed2.log" &
pids+=($!)
for _ in $(seq 1 300); do grep -q '"seeding":true' "$WORK/seed2.out" 2>/dev/null && break; sleep 0.1; done
grep -q '"seeding":true' "$WORK/seed2.out" || { echo "demo: the actorrent seeder did not start; see $WORK/seed2.log" >&2; exit 1; }
BAD_PORT=$(free_port)
echo "==> seeder 3: our corrupting test peer on 127.0.0.1:$BAD_PORT (pieces 1,5,9 corrupt)"
"$PY" "$PEERS" bad-seed "$WORK/album.torrent" "$WORK/content" "$BAD_PORT" --corrupt 1,5,9 \
  --upload-limit "$RATE" --lifetime 300 > "$WORK/bad.out" 2> "$WORK/bad.log" &
pids+=($!)
wait_ready "$WORK/bad.out"

echo "==> actorrent download (trackers + the bad peer dialled directly)"
"$BIN" download "$WORK/album.torrent" -o "$WORK/download" --port 0 --peer "127.0.0.1:$BAD_PORT" --verbose --timeout 240
echo "==> comparing with the source"
diff -r "$WORK/content/album" "$WORK/download/album" && echo "demo: download is byte-identical to the source"
up=$(tail -n 1 "$WORK/seed2.out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["uploaded"])')
echo "demo: the actorrent seeder uploaded $up bytes of it"
