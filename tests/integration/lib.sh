# Shared helpers for the integration scripts in this directory.
#
#   source "$(dirname "$0")/lib.sh"
#
# Every helper that runs an external program bounds it with `timeout`. A
# failing check prints "FAIL: ..." on stderr and exits the script with 1.
#
# tests/CMakeLists.txt registers every *.sh here as a ctest entry, this file
# too: run as a script (bash lib.sh ACTORRENT WORKDIR) it tests its own helpers.

# The Debian python that has the libtorrent module, whatever is first on PATH.
PY=${PY:-/usr/bin/python3}
# Default bound, in seconds, for one external command.
CMD_TIMEOUT=${CMD_TIMEOUT:-60}

# it_args "$@": every test script's arguments, ACTORRENT WORKDIR; sets AR and
# WORKDIR (exit 2 on a wrong count, fail if ACTORRENT is not executable).
it_args() {
  [[ $# -eq 2 ]] || { echo "usage: $0 ACTORRENT WORKDIR" >&2; exit 2; }
  AR=$1
  WORKDIR=$2
  [[ -x "$AR" ]] || fail "actorrent binary '$AR' is not executable"
}

# it_setup: a fresh WORKDIR (made absolute), and every background process of
# the script stopped by PID when it exits or is interrupted.
it_setup() {
  setup_workdir "$WORKDIR"
  WORKDIR=$(cd "$WORKDIR" && pwd)
  trap bg_stop_all EXIT
  trap 'exit 130' INT TERM
}

# fail MESSAGE...: report a failed check and stop the script.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# skip MESSAGE...: the test cannot run on this machine (a missing facility of
# the system, not of the code under test): print "SKIP: ..." and exit 77, which
# tests/CMakeLists.txt declares as ctest's SKIP_RETURN_CODE. Never for a
# missing tool the test drives (need_tool fails for that).
skip() {
  echo "SKIP: $*"
  exit 77
}

# note MESSAGE...: print what is being checked.
note() {
  echo "-- $*"
}

# check_eq WHAT EXPECTED ACTUAL: fail unless the two strings are equal.
check_eq() {
  local what=$1 expected=$2 actual=$3
  if [[ "$expected" != "$actual" ]]; then
    fail "$what: expected '$expected', got '$actual'"
  fi
}

# check_contains WHAT NEEDLE HAYSTACK: fail unless HAYSTACK contains NEEDLE.
check_contains() {
  local what=$1 needle=$2 haystack=$3
  if [[ "$haystack" != *"$needle"* ]]; then
    fail "$what: expected to contain '$needle', got '$haystack'"
  fi
}

# with_timeout SECONDS CMD...: run CMD bounded in time; a timeout is a failure,
# any other exit status is passed on to the caller.
with_timeout() {
  local secs=$1
  shift
  local rc=0
  timeout --kill-after=5 "$secs" "$@" || rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    fail "timed out after ${secs}s: $*"
  fi
  return "$rc"
}

# need_tool NAME...: fail clearly when a program the test drives is missing.
need_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || fail "required tool '$t' is not installed"
  done
}

# ipv6_loopback_missing: print why this machine has no usable IPv6 loopback
# and return 0; return 1 (printing nothing) if it has one: ::1 is on lo (when
# `ip` is installed to say so) and a TCP socket can bind and listen on [::1].
ipv6_loopback_missing() {
  if command -v ip >/dev/null 2>&1 &&
    ! timeout 10 ip -6 addr show dev lo 2>/dev/null | grep -qE '^[[:space:]]*inet6 ::1/128'; then
    echo "'ip -6 addr show dev lo' lists no ::1"
    return 0
  fi
  local why
  why=$(timeout 10 "$PY" -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("::1", 0))
s.listen(1)
' 2>&1) && return 1
  echo "cannot listen on [::1]: ${why##*$'\n'}"
}

# need_libtorrent: fail clearly unless $PY can import libtorrent.
need_libtorrent() {
  [[ -x "$PY" ]] || fail "$PY not found"
  timeout 30 "$PY" -c 'import libtorrent' 2>/dev/null ||
    fail "$PY cannot import libtorrent (install python3-libtorrent)"
}

# setup_workdir DIR: start from an empty work directory.
setup_workdir() {
  local dir=$1
  [[ -n "$dir" && "$dir" != "/" ]] || fail "refusing work directory '$dir'"
  rm -rf -- "$dir"
  mkdir -p -- "$dir"
}

# json_get KEY < JSON: print the value at KEY, a dot-separated path whose
# parts are object keys or list indices (files.0.path). Strings print as they
# are, booleans as true/false, null as null, lists and objects as compact JSON.
json_get() {
  timeout 30 "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for part in sys.argv[1].split(".") if sys.argv[1] else []:
    if isinstance(v, list):
        v = v[int(part)]
    elif isinstance(v, dict):
        if part not in v:
            sys.exit("json_get: no key %r" % part)
        v = v[part]
    else:
        sys.exit("json_get: %r is not a container" % part)
if isinstance(v, bool):
    print("true" if v else "false")
elif v is None:
    print("null")
elif isinstance(v, (dict, list)):
    print(json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=True))
else:
    print(v)
' "$1"
}

# lt_info_hash FILE: the v1 info-hash libtorrent computes, 40 lower-case hex.
lt_info_hash() {
  timeout 30 "$PY" -c '
import sys, libtorrent as lt
print(str(lt.torrent_info(sys.argv[1]).info_hashes().v1))
' "$1"
}

# transmission_hash FILE: the "Hash:" transmission-show prints, lower-cased.
transmission_hash() {
  local out
  out=$(with_timeout 30 transmission-show -- "$1") || fail "transmission-show failed on $1"
  sed -n 's/^[[:space:]]*Hash:[[:space:]]*\([0-9a-fA-F]\{40\}\)[[:space:]]*$/\1/p' <<<"$out" |
    head -n 1 | tr 'A-F' 'a-f'
}

# ar_info_hash ACTORRENT FILE: the hash on the "info-hash:" line of
# `actorrent info` (a hybrid's line goes on with a note after the hash).
ar_info_hash() {
  local out
  out=$(with_timeout 30 "$1" info "$2") || fail "actorrent info failed on $2"
  sed -n 's/^info-hash:[[:space:]]*\([0-9a-f]\{40\}\)\([[:space:]].*\)\{0,1\}$/\1/p' <<<"$out" | head -n 1
}

# lt_compare TORRENT AR_JSON_FILE: compare what libtorrent reads from TORRENT
# with `actorrent info --json` saved in AR_JSON_FILE: info-hash (v1), name,
# piece length and count, total size, private flag, v2/hybrid, every file
# (path, size, offset, pad flag), tracker tiers, web seeds, comment, creator,
# creation date. Prints every mismatch and fails if there is one.
lt_compare() {
  timeout 60 "$PY" - "$1" "$2" <<'PYEOF' || fail "libtorrent and actorrent disagree on $1 (see above)"
import json, sys
import libtorrent as lt
path, ar_path = sys.argv[1], sys.argv[2]
with open(ar_path, encoding="utf-8") as f:
    ar = json.load(f)
ti = lt.torrent_info(path)
fs = ti.files()
bad = []
def cmp(what, lt_value, ar_value):
    if lt_value != ar_value:
        bad.append("%s: libtorrent %r, actorrent %r" % (what, lt_value, ar_value))
ih = ti.info_hashes()
cmp("info_hash (v1)", str(ih.v1), ar["info_hash"])
cmp("hybrid (has v1 and v2)", ih.has_v1() and ih.has_v2(), ar["hybrid"])
cmp("name", ti.name(), ar["name"])
cmp("piece_length", ti.piece_length(), ar["piece_length"])
cmp("piece_count", ti.num_pieces(), ar["piece_count"])
cmp("total_size", ti.total_size(), ar["total_size"])
cmp("private", bool(ti.priv()), ar["private"])
cmp("file count", fs.num_files(), len(ar["files"]))
# For hybrid torrents libtorrent orders its file list by the v2 file tree, which
# can put a zero-length file on the other side of a pad file than the v1 'files'
# list (which actorrent follows). A zero-length file occupies no bytes, so its
# place in the byte stream is not observable: compare the files that hold bytes
# in order, and the zero-length ones as a set of paths.
lt_files = [(fs.file_path(i), fs.file_size(i), fs.file_offset(i),
             bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)) for i in range(fs.num_files())]
ar_files = [(f["path"], f["size"], f["offset"], f["pad"]) for f in ar["files"]]
if ar.get("hybrid"):
    cmp("zero-length files", sorted(f[0] for f in lt_files if f[1] == 0 and not f[3]),
        sorted(f[0] for f in ar_files if f[1] == 0 and not f[3]))
    lt_files = [f for f in lt_files if f[1] > 0]
    ar_files = [f for f in ar_files if f[1] > 0]
for i in range(min(len(lt_files), len(ar_files))):
    lp, ls, lo, lpad = lt_files[i]
    ap, asz, ao, apad = ar_files[i]
    cmp("file %d pad" % i, lpad, apad)
    cmp("file %d size" % i, ls, asz)
    cmp("file %d offset" % i, lo, ao)
    if not lpad:  # pad file names are an internal detail of each program
        cmp("file %d path" % i, lp, ap)
tiers = []
for t in ti.trackers():
    while len(tiers) <= t.tier:
        tiers.append([])
    tiers[t.tier].append(t.url)
# libtorrent shuffles the URLs within a tier (BEP 12), so compare tiers as sets.
cmp("trackers (URLs sorted within tiers)", [sorted(t) for t in tiers],
    [sorted(t) for t in ar["trackers"]])
cmp("url_list", [w["url"] for w in ti.web_seeds() if w.get("type", 0) == 0], ar["url_list"])
cmp("comment", ti.comment(), ar["comment"])
cmp("created_by", ti.creator(), ar["created_by"])
cmp("creation_date", ti.creation_date(), ar["creation_date"] or 0)
if ar["creation_date"] == 0:
    bad.append("creation_date: actorrent 0 where null means absent")
for b in bad:
    print("  mismatch in %s: %s" % (path, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}

# lt_canonical FILE: fail unless libtorrent's bencoding of its own decoding of
# FILE is byte-identical to FILE (sorted keys, no trailing data, minimal ints).
lt_canonical() {
  timeout 60 "$PY" - "$1" <<'PYEOF' || fail "$1 is not in canonical bencoding (see above)"
import sys, libtorrent as lt
raw = open(sys.argv[1], "rb").read()
again = lt.bencode(lt.bdecode(raw))
if again != raw:
    n = next((i for i in range(min(len(raw), len(again))) if raw[i] != again[i]),
             min(len(raw), len(again)))
    print("  %s: %d bytes, libtorrent re-encodes %d bytes, first difference at byte %d: "
          "ours %r, libtorrent %r" % (sys.argv[1], len(raw), len(again), n,
                                      raw[max(0, n - 20):n + 20], again[max(0, n - 20):n + 20]),
          file=sys.stderr)
    sys.exit(1)
PYEOF
}

# lt_verify SECONDS SPEC...: add each torrent to one libtorrent session (no
# DHT, LSD, UPnP or NAT-PMP; listening on 127.0.0.1 only), let libtorrent hash
# the content it finds under the save path, and compare the pieces it has with
# what is expected. Each SPEC is TORRENT|SAVE_PATH|MISSING, MISSING being a
# comma-separated list of piece indices expected to fail ("" = all good, i.e.
# the torrent must end up seeding). Bounded by SECONDS.
lt_verify() {
  local secs=$1
  shift
  timeout --kill-after=5 $((secs + 15)) "$PY" - "$secs" "$@" <<'PYEOF' || fail "libtorrent verification failed (see above)"
import sys, time
import libtorrent as lt
limit = float(sys.argv[1])
specs = [a.split("|") for a in sys.argv[2:]]
ses = lt.session({
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False, "enable_lsd": False,
    "enable_upnp": False, "enable_natpmp": False,
    "alert_mask": lt.alert.category_t.error_notification
                  | lt.alert.category_t.status_notification
                  | lt.alert.category_t.storage_notification,
})
handles = {}
for torrent, save_path, missing in specs:
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    atp.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed
                   | lt.torrent_flags.seed_mode)
    h = ses.add_torrent(atp)
    expected = sorted(int(x) for x in missing.split(",") if x)
    handles[str(h.info_hashes().v1)] = (h, torrent, expected)
checked, errors = set(), []
deadline = time.monotonic() + limit
while len(checked) < len(handles) and time.monotonic() < deadline:
    ses.wait_for_alert(200)
    for a in ses.pop_alerts():
        if isinstance(a, lt.torrent_checked_alert):
            checked.add(str(a.handle.info_hashes().v1))
        elif isinstance(a, (lt.file_error_alert, lt.torrent_error_alert)):
            errors.append(a.message())
ok = True
for e in errors:
    print("  libtorrent error: %s" % e, file=sys.stderr)
    ok = False
for key, (h, torrent, expected) in handles.items():
    st = h.status()
    if key not in checked:
        print("  %s: not checked within %.0fs (state %s)" % (torrent, limit, st.state),
              file=sys.stderr)
        ok = False
        continue
    missing = [i for i, have in enumerate(st.pieces) if not have]
    if len(st.pieces) != h.torrent_file().num_pieces():
        print("  %s: piece bitfield has %d entries" % (torrent, len(st.pieces)), file=sys.stderr)
        ok = False
    if missing != expected:
        print("  %s: pieces failing the hash check %s, expected %s (state %s)"
              % (torrent, missing[:20], expected[:20], st.state), file=sys.stderr)
        ok = False
    elif not expected and st.state not in (lt.torrent_status.seeding, lt.torrent_status.finished):
        print("  %s: all pieces good but state %s" % (torrent, st.state), file=sys.stderr)
        ok = False
    else:
        print("   %s: %d pieces checked, %d failing as expected, state %s"
              % (torrent.rsplit("/", 1)[-1], len(st.pieces), len(missing), st.state))
sys.exit(0 if ok else 1)
PYEOF
}

# elapsed: seconds since the script started.
elapsed() {
  echo "$SECONDS"
}

# --- helpers of the download tests (download_*.sh) ---------------------------
# Background processes (seeders, trackers) are started with bg_start, bounded
# in time, and stopped by PID with bg_stop / bg_stop_all (the EXIT trap).

# The seeders of peers.py (lt-seed, bad-seed), beside this file.
PEERS_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/peers.py
# Reads sock_watch_start's samples (sock_bytes, sock_send_rate, sock_active).
SOCKSTAT_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sockstat.py
BG_PIDS=()
BG_LAST=
declare -A BG_STATUS=()

# bg_start SECS LOG CMD...: run CMD in the background (stdin /dev/null, stdout
# and stderr to LOG), bounded by SECS; its PID (that of `timeout`, which passes
# signals on) is added to BG_PIDS and left in BG_LAST.
bg_start() {
  local secs=$1 log=$2
  shift 2
  : >"$log" # now, so that nobody reads an old LOG while the child starts
  timeout --kill-after=5 "$secs" "$@" </dev/null >"$log" 2>&1 &
  BG_LAST=$!
  BG_PIDS+=("$BG_LAST")
}

# bg_forget PID: drop PID from BG_PIDS (after the caller has waited for it).
bg_forget() {
  local p keep=()
  for p in "${BG_PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
}

# bg_stop PID...: SIGTERM each PID, wait up to 10 s for it (then SIGKILL), reap
# it and drop it from BG_PIDS. PIDs not started by bg_start are ignored.
bg_stop() {
  bg_signal_stop TERM "$@"
}

# bg_signal_stop SIG PID...: bg_stop, sending SIG (INT, TERM, ...) first.
# `timeout` passes SIGINT and SIGTERM on to the program it runs (and SIGKILLs
# it if it has not exited --kill-after seconds later). Each exit status is left
# in BG_STATUS[PID].
bg_signal_stop() {
  local sig=$1 pid t
  shift
  for pid in "$@"; do
    if [[ " ${BG_PIDS[*]} " == *" $pid "* ]]; then kill -"$sig" "$pid" 2>/dev/null || true; fi
  done
  for pid in "$@"; do
    [[ " ${BG_PIDS[*]} " == *" $pid "* ]] || continue
    for ((t = 0; t < 100; t++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    BG_STATUS[$pid]=0
    wait "$pid" 2>/dev/null || BG_STATUS[$pid]=$?
    bg_forget "$pid"
  done
}

# bg_stop_all: bg_stop every process still in BG_PIDS (use as the EXIT trap).
bg_stop_all() {
  ((${#BG_PIDS[@]} == 0)) || bg_stop "${BG_PIDS[@]}"
}

# bg_alive PID WHAT LOG: fail (showing the end of LOG) unless PID still runs.
bg_alive() {
  kill -0 "$1" 2>/dev/null && return 0
  tail -n 20 "$3" >&2 || true
  fail "$2 (pid $1) has exited; the end of $3 is above"
}

# wait_until SECS PID WHAT LOG MISSING CMD...: wait until CMD succeeds; fail
# (showing the end of LOG) if PID exits first or SECS pass ("WHAT: MISSING
# within SECSs").
wait_until() {
  local secs=$1 pid=$2 what=$3 log=$4 missing=$5
  shift 5
  local end=$((SECONDS + secs))
  until "$@"; do
    bg_alive "$pid" "$what" "$log"
    if ((SECONDS >= end)); then
      tail -n 20 "$log" >&2 || true
      fail "$what: $missing within ${secs}s"
    fi
    sleep 0.1
  done
}

# wait_for_log LOG ERE SECS PID WHAT: wait until LOG has a line matching ERE;
# fail if PID exits first or SECS pass.
wait_for_log() {
  wait_until "$3" "$4" "$5" "$1" "no line matching '$2' in $1" grep -qE -- "$2" "$1"
}

# wait_for_port PORT SECS PID WHAT LOG: wait until 127.0.0.1:PORT accepts TCP.
wait_for_port() {
  local port=$1 secs=$2 pid=$3 what=$4 log=$5
  local end=$((SECONDS + secs))
  until timeout 2 bash -c ">/dev/tcp/127.0.0.1/$port" 2>/dev/null; do
    bg_alive "$pid" "$what" "$log"
    ((SECONDS < end)) || fail "$what: nothing listens on 127.0.0.1:$port after ${secs}s"
    sleep 0.1
  done
}

# free_ports N [ADDR...]: N distinct ports that are free on every ADDR (numeric
# IPv4 or IPv6; default 127.0.0.1) for both TCP and UDP right now, drawn at
# random from 20000-32767 (below the ephemeral range).
free_ports() {
  timeout 30 "$PY" - "$@" <<'PYEOF'
import random, socket, sys
want, got = int(sys.argv[1]), []
addrs = sys.argv[2:] or ["127.0.0.1"]
while len(got) < want:
    p = random.randint(20000, 32767)
    ok = p not in got
    for addr in addrs:
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(family, kind)
            try:
                s.bind((addr, p))
            except OSError:
                ok = False
            finally:
                s.close()
    if ok:
        got.append(p)
print(" ".join(map(str, got)))
PYEOF
}

# prom_start TARGET [BEARER]: a real Prometheus (Debian prometheus) scraping
# http://TARGET/metrics every second (with Authorization: Bearer BEARER if
# given), its TSDB in $WORKDIR/tsdb, listening on 127.0.0.1 only; waits
# (bounded, 60 s) until up{job="actorrent"} is 1 and the target's last scrape
# has no error. Sets PROM_PORT and PROM_PID (stop it with bg_stop). The caller
# checks `command -v prometheus` first (skip or note when missing).
prom_start() {
  local target=$1 bearer=${2:-} i up err
  read -r PROM_PORT <<<"$(free_ports 1)"
  {
    printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
    printf 'scrape_configs:\n  - job_name: actorrent\n'
    [[ -n "$bearer" ]] && printf '    authorization:\n      type: Bearer\n      credentials: "%s"\n' "$bearer"
    printf "    static_configs:\n      - targets: ['%s']\n" "$target"
  } >"$WORKDIR/prometheus.yml"
  with_timeout 30 promtool check config "$WORKDIR/prometheus.yml" >/dev/null ||
    fail "promtool rejects the scrape config: $(cat "$WORKDIR/prometheus.yml")"
  mkdir -p "$WORKDIR/tsdb"
  bg_start 240 "$WORKDIR/prometheus.log" prometheus --config.file="$WORKDIR/prometheus.yml" \
    --storage.tsdb.path="$WORKDIR/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn
  PROM_PID=$BG_LAST
  up=
  for ((i = 0; i < 120; i++)); do
    kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(tail -5 "$WORKDIR/prometheus.log")"
    up=$(prom_query 'up{job="actorrent"}' | prom_value)
    [[ "$up" == 1 ]] && break
    sleep 0.5
  done
  [[ "$up" == 1 ]] || fail "the scrape target is not up after 60 s (up=$up): $(tail -5 "$WORKDIR/prometheus.log")"
  err=$(timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/targets" | timeout 10 "$PY" -c '
import json, sys
t = [t for t in json.load(sys.stdin)["data"]["activeTargets"] if t["labels"]["job"] == "actorrent"]
print(t[0]["health"] + "|" + t[0]["lastError"] if t else "missing|")')
  check_eq "scrape target health and last scrape error" "up|" "$err"
}

# prom_query EXPR: the JSON answer of Prometheus' instant query API ("" if it does not answer).
prom_query() {
  timeout 10 curl -sS -G --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
    --data-urlencode "query=$1" 2>/dev/null || true
}

# prom_value < JSON: the value of the first sample of a vector answer ("" if none).
prom_value() {
  timeout 10 "$PY" -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}

# make_random FILE BYTES: FILE filled with BYTES random bytes (0 makes it empty).
make_random() {
  mkdir -p -- "$(dirname -- "$1")"
  timeout 60 head -c "$2" /dev/urandom >"$1"
}

# make_tree DIR: a multi-file tree for download tests: nested directories, four
# empty files (among them the first and the last file of a torrent, whose
# files are in path order), 1- and 17-byte files, a name with spaces and UTF-8,
# and a total (4,277,312 bytes) that no power-of-two piece length divides, so
# the last piece is shorter than the others.
make_tree() {
  local d=$1
  make_random "$d/0-empty-first" 0
  make_random "$d/zz-empty-last" 0
  make_random "$d/a/b/c/deep.bin" 3000077
  make_random "$d/a/empty.txt" 0
  make_random "$d/a/tiny" 1
  make_random "$d/b dir/with space ü ✓.txt" 50000
  make_random "$d/top.bin" 1048576
  make_random "$d/z/also-empty" 0
  make_random "$d/z/last.bin" 17
  make_random "$d/z/y/x/w/mid.bin" 178641
}

# opentracker_start RUNDIR PORT HASH...: opentracker on 127.0.0.1:PORT (HTTP
# and UDP) with the info-hashes whitelisted (it is built whitelist-only, and it
# chroots into RUNDIR and drops privileges to nobody, so RUNDIR and the list are
# made world-readable). Its log is RUNDIR.log; its PID is left in TRACKER_PID.
opentracker_start() {
  local dir=$1 port=$2
  shift 2
  need_tool opentracker
  mkdir -p -- "$dir"
  printf '%s\n' "$@" >"$dir/whitelist"
  chmod 755 "$dir"
  chmod 644 "$dir/whitelist"
  bg_start 300 "$dir.log" opentracker -i 127.0.0.1 -p "$port" -P "$port" -d "$dir" -w whitelist
  TRACKER_PID=$BG_LAST
  wait_for_port "$port" 15 "$TRACKER_PID" opentracker "$dir.log"
}

# tracked_torrents AR PORT ANNOUNCE SPEC...: the torrents of a test that finds
# its peers through a tracker, and that tracker. Each SPEC is
# TORRENT|SOURCE|PIECE_LENGTH: `AR create SOURCE -t ANNOUNCE -l PIECE_LENGTH -o
# TORRENT` (bounded; failing fails). Then opentracker_start on 127.0.0.1:PORT
# (run directory $WORKDIR/tracker) with their info-hashes whitelisted, which
# are left in TRACKED_HASHES in the order of the SPECs.
tracked_torrents() {
  local ar=$1 port=$2 announce=$3 spec torrent src piece hash rc
  shift 3
  TRACKED_HASHES=()
  for spec in "$@"; do
    IFS='|' read -r torrent src piece <<<"$spec"
    rc=0
    with_timeout 60 "$ar" create "$src" -t "$announce" -l "$piece" -o "$torrent" -q || rc=$?
    ((rc == 0)) || fail "actorrent create $(basename -- "$src") exited $rc"
    hash=$(ar_info_hash "$ar" "$torrent")
    TRACKED_HASHES+=("$hash")
  done
  note "opentracker on 127.0.0.1:$port, whitelisting ${TRACKED_HASHES[*]}"
  opentracker_start "$WORKDIR/tracker" "$port" "${TRACKED_HASHES[@]}"
}

# tracker_count PORT HASH FIELD: the FIELD ("complete": seeds, "incomplete":
# leechers) that opentracker's HTTP scrape on 127.0.0.1:PORT reports for the
# info-hash (40 hex), or 0.
tracker_count() {
  timeout 15 "$PY" - "$1" "$2" "$PEERS_PY" "$3" <<'PYEOF'
import os, sys, urllib.parse, urllib.request
sys.path.insert(0, os.path.dirname(sys.argv[3]))
from peers import bdecode
ih = bytes.fromhex(sys.argv[2])
url = "http://127.0.0.1:%s/scrape?info_hash=%s" % (sys.argv[1], urllib.parse.quote_from_bytes(ih))
try:
    body = urllib.request.urlopen(url, timeout=5).read()
    print(bdecode(body)[0].get(b"files", {}).get(ih, {}).get(sys.argv[4].encode(), 0))
except Exception as e:
    print("scrape %s: %s" % (url, e), file=sys.stderr)
    print(0)
PYEOF
}

# tracker_seeds PORT HASH: the seeds opentracker knows for the info-hash.
tracker_seeds() {
  tracker_count "$1" "$2" complete
}

# wait_for_tracker_count PORT HASH FIELD N SECS: wait until the tracker's
# scrape FIELD (complete, incomplete) for HASH reaches N.
wait_for_tracker_count() {
  local port=$1 hash=$2 field=$3 n=$4 secs=$5 got=0
  local end=$((SECONDS + secs))
  while got=$(tracker_count "$port" "$hash" "$field") && ((got < n)); do
    ((SECONDS < end)) || fail "the tracker on port $port counts $got $field peer(s) of $hash, not $n, after ${secs}s"
    sleep 0.2
  done
}

# wait_for_tracker_seeds PORT HASH N SECS: wait until the tracker knows N seeds.
wait_for_tracker_seeds() {
  wait_for_tracker_count "$1" "$2" complete "$3" "$4"
}

# lt_seed_start LOG TORRENT DATADIR PORT [peers.py lt-seed options]: a
# libtorrent seeder; waits for its "ready" (with --tracker: it has announced).
# PID in BG_LAST.
lt_seed_start() {
  local log=$1 torrent=$2 data=$3 port=$4
  shift 4
  bg_start 150 "$log" "$PY" "$PEERS_PY" lt-seed "$torrent" "$data" "$port" --lifetime 140 "$@"
  wait_for_log "$log" '^ready$' 40 "$BG_LAST" "libtorrent seeder on port $port"
}

# tr_config NAME PORT: the config dir $WORKDIR/NAME.conf of a transmission-cli
# on 127.0.0.1:PORT (settings.json: DHT, LPD, PEX, uTP, port forwarding and
# encryption off, bound to 127.0.0.1 and ::1, no speed or ratio limits).
tr_config() {
  local conf=$WORKDIR/$1.conf
  need_tool transmission-cli stdbuf
  mkdir -p "$conf"
  cat >"$conf/settings.json" <<EOF
{
  "dht-enabled": false,
  "lpd-enabled": false,
  "pex-enabled": false,
  "utp-enabled": false,
  "port-forwarding-enabled": false,
  "encryption": 0,
  "bind-address-ipv4": "127.0.0.1",
  "bind-address-ipv6": "::1",
  "peer-port": $2,
  "rpc-enabled": false,
  "speed-limit-up-enabled": false,
  "ratio-limit-enabled": false,
  "idle-seeding-limit-enabled": false,
  "message-level": 3
}
EOF
}

# tr_start NAME TORRENT DATADIR PORT [transmission-cli options]:
# transmission-cli for TORRENT with its data (or download) directory DATADIR on
# 127.0.0.1:PORT, its config dir from tr_config, its log $WORKDIR/NAME.log.
# Waits until it listens; PID in TR_PID.
tr_start() {
  local name=$1 torrent=$2 data=$3 port=$4
  shift 4
  tr_config "$name" "$port"
  # stdbuf: unbuffered, or its status lines reach the log in 4 KiB chunks.
  bg_start 150 "$WORKDIR/$name.log" stdbuf -o0 transmission-cli -g "$WORKDIR/$name.conf" -w "$data" -p "$port" \
    -D -M -B -et "$@" "$torrent"
  TR_PID=$BG_LAST
  wait_for_port "$port" 20 "$TR_PID" "transmission-cli ($name)" "$WORKDIR/$name.log"
}

# tr_seed_start NAME TORRENT DATADIR PORT [transmission-cli options]:
# tr_start, then wait until it has verified the data and says "Seeding".
tr_seed_start() {
  tr_start "$@"
  # Its status line is rewritten with \r; grep sees it all as one line.
  wait_for_log "$WORKDIR/$1.log" 'Seeding' 30 "$TR_PID" "transmission-cli ($1)"
}

# aria2_start LOG DATADIR PORT [aria2c options and torrents]: aria2c on
# 127.0.0.1:PORT with DATADIR as its directory, DHT, LPD, PEX and IPv6 off; it
# announces to the torrents' HTTP trackers. Waits until it listens; PID in
# BG_LAST.
aria2_start() {
  local log=$1 data=$2 port=$3
  shift 3
  need_tool aria2c
  bg_start 150 "$log" aria2c --no-conf --enable-dht=false --enable-dht6=false --bt-enable-lpd=false \
    --enable-peer-exchange=false --disable-ipv6=true --file-allocation=none --interface=127.0.0.1 \
    --listen-port="$port" --dir="$data" --summary-interval=0 --console-log-level=notice "$@"
  wait_for_port "$port" 20 "$BG_LAST" aria2c "$log"
}

# aria2_seed_start LOG DATADIR PORT TORRENT... [-- aria2c options]: one aria2c
# seeding the torrents from DATADIR (told the data is complete:
# --bt-seed-unverified; --seed-ratio=0.0: seed forever). PID in BG_LAST.
aria2_seed_start() {
  local log=$1 data=$2 port=$3 torrents=()
  shift 3
  while (($# > 0)) && [[ "$1" != -- ]]; do torrents+=("$1"); shift; done
  (($# == 0)) || shift
  aria2_start "$log" "$data" "$port" --seed-ratio=0.0 --bt-seed-unverified=true "$@" "${torrents[@]}"
}

# ar_download_start AR NAME SECS TORRENT DIR [ARGS...]: start `actorrent
# download TORRENT -o DIR --json-progress --verbose --timeout SECS ARGS...` in
# the background, JSON lines to NAME.json, stderr to NAME.err; PID in BG_LAST.
# Without a --port in ARGS it listens on a free port (--port 0): tests run in
# parallel, and two on the default port would collide.
ar_download_start() {
  local ar=$1 name=$2 secs=$3 torrent=$4 dir=$5
  shift 5
  local port=(--port 0)
  [[ " $* " == *" --port "* ]] && port=()
  ar_json_start "$name" $((secs + 15)) "$ar" download "$torrent" -o "$dir" --json-progress --verbose \
    --timeout "$secs" "${port[@]}" "$@"
}

# ar_seed_start AR NAME SECS TORRENT DIR [ARGS...]: start `actorrent seed
# TORRENT DIR --json-progress --verbose ARGS...` in the background, bounded by
# SECS, JSON lines to NAME.json, stderr to NAME.err; PID in BG_LAST.
ar_seed_start() {
  local ar=$1 name=$2 secs=$3 torrent=$4 dir=$5
  shift 5
  ar_json_start "$name" "$secs" "$ar" seed "$torrent" "$dir" --json-progress --verbose "$@"
}

# ar_json_start NAME SECS CMD...: run CMD in the background bounded by SECS,
# stdout to NAME.json, stderr to NAME.err; PID (of `timeout`) in BG_LAST.
# A signal to PID reaches CMD; SIGKILL follows 10 s later if it is still up.
ar_json_start() {
  local name=$1 secs=$2
  shift 2
  : >"$name.json"
  : >"$name.err"
  # --kill-after 10: past actorrent's own 5 s shutdown watchdog
  timeout --kill-after=10 "$secs" "$@" </dev/null >"$name.json" 2>"$name.err" &
  BG_LAST=$!
  BG_PIDS+=("$BG_LAST")
}

# bg_child PID: the PID of the program that `timeout` (PID, from bg_start or
# ar_*_start) runs; waits up to 5 s for it to exist.
bg_child() {
  local t c
  for ((t = 0; t < 50; t++)); do
    c=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
    c=${c%% *}
    if [[ -n "$c" ]]; then
      echo "$c"
      return 0
    fi
    sleep 0.1
  done
  fail "no child process under pid $1"
}

# json_event FILE EVENT KEY: KEY of the first JSON line of FILE whose event is
# EVENT (fails if there is none).
json_event() {
  timeout 30 "$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip():
        j = json.loads(l)
        if j.get("event") == sys.argv[2]:
            print(j[sys.argv[3]])
            sys.exit(0)
sys.exit("json_event: no %r event in %s" % (sys.argv[2], sys.argv[1]))
' "$1" "$2" "$3"
}

# valid_pieces TORRENT DATADIR: the indices of the pieces whose bytes on disk
# under DATADIR match the torrent's SHA-1 hashes, comma-separated, computed here
# with hashlib (missing or short files make the pieces they cover invalid).
valid_pieces() {
  timeout 60 "$PY" - "$1" "$2" "$PEERS_PY" <<'PYEOF'
import hashlib, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[3]))
from peers import Torrent
t = Torrent(sys.argv[1])
data = bytearray()
for parts, length, _ in t.files:
    path = os.path.join(sys.argv[2], *parts)
    chunk = open(path, "rb").read(length) if os.path.exists(path) else b""
    data += chunk + bytes(length - len(chunk))  # short: zeros, which fail the hash
    # (a file shorter than the torrent says cannot complete a piece of random data)
ok = [i for i in range(t.num_pieces)
      if hashlib.sha1(data[i * t.piece_length:i * t.piece_length + t.piece_size(i)]).digest() == t.hashes[i]]
print(",".join(map(str, ok)))
PYEOF
}

# ar_download_finish PID NAME: wait for the download started as PID (bounded by
# its own timeout) and fail, showing the last JSON line and the end of
# NAME.err, unless it exited 0 with a final JSON line whose event is
# "complete", with complete true and have_bytes equal to total_size.
ar_download_finish() {
  local pid=$1 name=$2 rc=0
  wait "$pid" || rc=$?
  bg_forget "$pid"
  if ((rc != 0)) || [[ "$(tail -n 1 "$name.json" | json_get event 2>/dev/null)" != complete ]]; then
    echo "--- last JSON line of $name.json:" >&2
    tail -n 1 "$name.json" >&2 || true
    echo "--- end of $name.err:" >&2
    tail -n 30 "$name.err" >&2 || true
    fail "actorrent download ($(basename -- "$name")) exited $rc without completing ($name.err)"
  fi
  local last
  last=$(tail -n 1 "$name.json")
  check_eq "$(basename -- "$name"): 'complete' in the final JSON line" true "$(json_get complete <<<"$last")"
  check_eq "$(basename -- "$name"): have_bytes == total_size in the final JSON line" \
    "$(json_get total_size <<<"$last")" "$(json_get have_bytes <<<"$last")"
}

# ar_download AR NAME SECS TORRENT DIR [ARGS...]: ar_download_start, then
# ar_download_finish.
ar_download() {
  ar_download_start "$@"
  ar_download_finish "$BG_LAST" "$2"
}

# json_last FILE KEY: KEY of the last JSON line of FILE.
json_last() {
  tail -n 1 "$1" | json_get "$2"
}

# json_max FILE KEY: the largest integer value of KEY over the JSON lines of FILE.
json_max() {
  timeout 30 "$PY" -c '
import json, sys
print(max([int(json.loads(l)[sys.argv[2]]) for l in open(sys.argv[1]) if l.strip()] or [0]))
' "$1" "$2"
}

# check_empty_files SRC DST: every empty file under SRC exists under DST and
# is empty (there must be at least one). Prints how many there are.
check_empty_files() {
  local src=$1 dst=$2 f n=0
  while IFS= read -r f; do
    [[ -f "$dst/$f" ]] || fail "empty file $f is missing under $dst"
    [[ -s "$dst/$f" ]] && fail "$dst/$f should be empty but has $(stat -c %s -- "$dst/$f") bytes"
    n=$((n + 1))
  done < <(cd -- "$src" && find . -type f -empty | LC_ALL=C sort)
  ((n > 0)) || fail "no empty file under $src to check"
  echo "$n"
}

# check_same_content SRC DST [nonempty]: DST holds the same regular files as
# SRC (a file or a directory: same relative paths, none missing, none extra),
# each byte-identical (cmp). With "nonempty", empty files are left out on both
# sides (for clients that do not create them). Prints the number compared.
check_same_content() {
  local src=$1 dst=$2 a b f n=0 only=()
  [[ "${3:-}" == nonempty ]] && only=(! -empty)
  [[ -e "$dst" ]] || fail "$dst was not created"
  if [[ -f "$src" ]]; then
    [[ -f "$dst" ]] || fail "$dst is not a regular file"
    timeout 60 cmp -- "$src" "$dst" || fail "$dst differs from $src"
    echo 1
    return
  fi
  [[ -d "$dst" ]] || fail "$dst is not a directory"
  a=$(cd -- "$src" && find . -type f "${only[@]}" | LC_ALL=C sort)
  b=$(cd -- "$dst" && find . -type f "${only[@]}" | LC_ALL=C sort)
  check_eq "the files under $dst" "$a" "$b"
  while IFS= read -r f; do
    [[ -f "$dst/$f" ]] || fail "$dst/$f is missing"
    timeout 60 cmp -- "$src/$f" "$dst/$f" || fail "$dst/$f differs from $src/$f"
    n=$((n + 1))
  done <<<"$a"
  echo "$n"
}

# --- helpers of the seeding tests (seed_*.sh) -------------------------------

# ar_seeder_start AR NAME TORRENT DIR [ARGS...]: `actorrent seed TORRENT DIR
# --port 0 --verbose ARGS...` in the background (bounded by 250 s), stdout
# (status lines) to NAME.out, stderr to NAME.err. Not --json-progress: in JSON
# mode the "listening on port N" line is not printed. Waits until it listens
# and has checked that every piece is present. Leaves the port in SEED_PORT,
# the PID of its `timeout` in BG_LAST and that of actorrent itself in SEED_PID.
ar_seeder_start() {
  local ar=$1 name=$2 torrent=$3 dir=$4
  shift 4
  : >"$name.out"
  : >"$name.err"
  # --kill-after 15: ar_seeder_stop, not timeout, should see a slow shutdown.
  timeout --kill-after=15 250 "$ar" seed "$torrent" "$dir" --port 0 --verbose "$@" \
    </dev/null >"$name.out" 2>"$name.err" &
  BG_LAST=$!
  BG_PIDS+=("$BG_LAST")
  wait_for_log "$name.err" '^actorrent: listening on port [0-9]+$' 15 "$BG_LAST" "actorrent seed"
  wait_for_log "$name.err" '^actorrent: checked: ([0-9]+) of \1 pieces present' 60 "$BG_LAST" "actorrent seed"
  SEED_PORT=$(sed -n 's/^actorrent: listening on port \([0-9]*\)$/\1/p' "$name.err" | head -n 1)
  SEED_PID=$(child_pid "$BG_LAST")
  [[ -n "$SEED_PID" ]] || fail "no actorrent process under timeout (pid $BG_LAST)"
}

# ar_seeder_stop PID NAME: SIGTERM the seeder started as PID (ar_seeder_start's
# BG_LAST) and fail unless it exits 143 (stopped by SIGTERM, as documented) within 12 s, its last status line
# saying "seeding stopped", without its shutdown watchdog's warning (an actor
# that did not terminate). Prints how long it took.
ar_seeder_stop() {
  local pid=$1 name=$2 rc=0 t t0=$EPOCHREALTIME
  kill -TERM "$pid" 2>/dev/null || true
  for ((t = 0; t < 120; t++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "actorrent seed (pid $pid) still runs 12 s after SIGTERM"
  wait "$pid" || rc=$?
  bg_forget "$pid"
  t=$(seconds_between "$t0" "$EPOCHREALTIME")
  check_eq "actorrent seed: exit status after SIGTERM" 143 "$rc"
  check_contains "actorrent seed: last status line" "seeding stopped" "$(tail -n 1 "$name.out")"
  if grep -q 'did not shut down' "$name.err"; then
    fail "actorrent seed exited ${t}s after SIGTERM, by its watchdog: '$(grep -m1 'did not shut down' "$name.err")'"
  fi
  echo "   ok: actorrent seed exited 143 ${t}s after SIGTERM"
}

# sock_watch_start FILE SECS: every 0.25 s for up to SECS, append what the
# kernel counts for every established TCP socket (ss -tinp: owner PID,
# addresses, bytes_acked = bytes sent and acknowledged, bytes_received) to
# FILE, each sample after a line "@ TIME" ($EPOCHREALTIME). Stop it with
# bg_stop "$SOCK_WATCH"; read it with sock_bytes or sock_send_rate.
sock_watch_start() {
  need_tool ss
  : >"$1"
  # the loop also ends when its parent (timeout) is gone, so it never outlives it
  bg_start "$2" "$1.log" bash -c 'while kill -0 "$PPID" 2>/dev/null; do
      echo "@ $EPOCHREALTIME" >>"$1"; ss -tinpH state established >>"$1" 2>/dev/null; sleep 0.25; done' _ "$1"
  SOCK_WATCH=$BG_LAST
}

# sock_bytes FILE PID [PEER_PID]: "SENT RECEIVED CONNECTIONS" of process PID
# over every TCP connection it had while sock_watch ran (each connection's
# largest sample, summed; what it moved after the last sample is missing);
# with PEER_PID, only its connections to process PEER_PID. (sockstat.py)
sock_bytes() {
  timeout 30 "$PY" "$SOCKSTAT_PY" bytes "$@" || fail "sockstat.py bytes $* failed"
}

# sock_send_rate FILE PID SKIP WINDOW: how fast process PID sent over TCP (all
# its connections), from sock_watch's FILE: the window of WINDOW seconds that
# starts SKIP seconds after it had first sent 256 KiB. Prints
# "RATE_B_PER_S SECONDS_MEASURED PER_CONNECTION_BYTES..." (bytes each
# connection sent within the window, largest first); fails if the samples do
# not cover the window.
sock_send_rate() {
  timeout 30 "$PY" "$SOCKSTAT_PY" rate "$@" || fail "sock_send_rate: no measurement (see above)"
}

# sock_recv_rate FILE PID SKIP WINDOW: the same for what process PID received
# (the window starts SKIP seconds after it had received 256 KiB).
sock_recv_rate() {
  timeout 30 "$PY" "$SOCKSTAT_PY" recvrate "$@" || fail "sock_recv_rate: no measurement (see above)"
}

# sock_active FILE PID SKIP WINDOW: over the same window, "N:COUNT ...": in
# COUNT of the intervals between two samples, N of PID's connections sent data.
sock_active() {
  timeout 30 "$PY" "$SOCKSTAT_PY" active "$@" || fail "sock_active: no measurement (see above)"
}

# child_pid PID: the PID of PID's (first) child process.
child_pid() {
  local c=
  # The file has no final newline: read fails at its end but still sets c.
  read -r c _ <"/proc/$1/task/$1/children" 2>/dev/null || true
  echo "$c"
}

# vm_hwm_kib PID: the peak resident set size (VmHWM) of PID, in KiB.
vm_hwm_kib() {
  awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

# completion_hook FILE: write FILE.sh, an executable script that records the
# time (seconds since the epoch, with decimals) in FILE when it runs (a
# client's on-completion hook); print the script's path.
completion_hook() {
  printf '#!/bin/sh\ndate +%%s.%%N >"%s.tmp" && mv "%s.tmp" "%s"\n' "$1" "$1" "$1" >"$1.sh"
  chmod 755 "$1.sh"
  echo "$1.sh"
}

# wait_for_file FILE SECS PID WHAT LOG: wait until FILE exists; fail if PID
# exits first or SECS pass.
wait_for_file() {
  wait_until "$2" "$3" "$4" "$5" "no $1 (the end of $5 is above)" test -e "$1"
}

# seconds_between T0 T1: T1 - T0 (seconds since the epoch, with decimals, as
# in $EPOCHREALTIME), printed with one decimal.
seconds_between() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", b - a }'
}

# mb_per_s BYTES SECONDS: BYTES / SECONDS in MB/s (10^6), one decimal.
mb_per_s() {
  awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f\n", (s > 0 ? n / s / 1e6 : 0) }'
}

# --- self test, when run as a script rather than sourced -------------------
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  [[ $# -eq 2 ]] || { echo "usage: $0 ACTORRENT WORKDIR" >&2; exit 2; }
  WORKDIR=$2
  setup_workdir "$WORKDIR"
  [[ -d "$WORKDIR" && -z "$(ls -A "$WORKDIR")" ]] || fail "setup_workdir did not make an empty dir"

  note "check_eq / check_contains pass and fail as they should"
  check_eq "equal strings" "abc" "abc"
  check_contains "substring" "b c" "a b c d"
  (check_eq "x" "a" "b") 2>"$WORKDIR/err" && fail "check_eq accepted different strings"
  grep -q "^FAIL: x: expected 'a', got 'b'$" "$WORKDIR/err" || fail "check_eq message: $(cat "$WORKDIR/err")"
  (check_contains "y" "zz" "abc") 2>/dev/null && fail "check_contains accepted a missing needle"

  note "with_timeout passes exit codes on and turns a timeout into a failure"
  with_timeout 5 true || fail "with_timeout true"
  rc=0; with_timeout 5 sh -c 'exit 3' || rc=$?
  check_eq "with_timeout exit status" 3 "$rc"
  (with_timeout 1 sleep 10) 2>"$WORKDIR/err" && fail "with_timeout did not stop sleep"
  grep -q "^FAIL: timed out after 1s" "$WORKDIR/err" || fail "with_timeout message: $(cat "$WORKDIR/err")"

  note "json_get walks objects and lists"
  json='{"a":{"b":[10,{"c":"x y"}]},"t":true,"n":null,"l":[1,2]}'
  check_eq "json_get a.b.0" 10 "$(json_get a.b.0 <<<"$json")"
  check_eq "json_get a.b.1.c" "x y" "$(json_get a.b.1.c <<<"$json")"
  check_eq "json_get t" true "$(json_get t <<<"$json")"
  check_eq "json_get n" null "$(json_get n <<<"$json")"
  check_eq "json_get l" "[1,2]" "$(json_get l <<<"$json")"
  (json_get missing <<<"$json") 2>/dev/null && fail "json_get accepted a missing key"

  note "libtorrent, transmission-show and actorrent agree on a known torrent"
  need_libtorrent
  need_tool transmission-show
  # A fixed 1-file torrent, bencoded by hand: its info-hash is the SHA-1 of
  # the info dictionary's bytes, computed here independently with hashlib.
  info='d6:lengthi5e4:name5:a.txt12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae'
  printf 'd8:announce20:http://127.0.0.1:1/a4:info%se' "$info" >"$WORKDIR/known.torrent"
  want=$(printf '%s' "$info" | timeout 10 "$PY" -c 'import hashlib,sys; print(hashlib.sha1(sys.stdin.buffer.read()).hexdigest())')
  check_eq "lt_info_hash" "$want" "$(lt_info_hash "$WORKDIR/known.torrent")"
  check_eq "transmission_hash" "$want" "$(transmission_hash "$WORKDIR/known.torrent")"
  check_eq "ar_info_hash" "$want" "$(ar_info_hash "$1" "$WORKDIR/known.torrent")"

  note "lt_canonical accepts canonical bencoding and rejects unsorted keys"
  lt_canonical "$WORKDIR/known.torrent"
  printf 'd4:info%s8:announce20:http://127.0.0.1:1/ae' "$info" >"$WORKDIR/unsorted.torrent"
  (lt_canonical "$WORKDIR/unsorted.torrent") 2>"$WORKDIR/err" && fail "lt_canonical accepted unsorted keys"
  grep -q "first difference at byte 1" "$WORKDIR/err" || fail "lt_canonical message: $(cat "$WORKDIR/err")"
  echo "PASS: lib.sh helpers (${SECONDS}s)"
fi
