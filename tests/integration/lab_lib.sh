# What the swarm-lab tests (tests/integration/lab_*.sh) share. Sourced after
# lib.sh and `it_args "$@"`:
#
#   source "$(dirname "$0")/lab_lib.sh"
#   lab_setup [TOOL...]   skip (77) unless root with `ip netns` working; fail if
#                         opentracker, iptables, tc or a TOOL is missing; it_setup;
#                         on exit (also on failure) stop the background processes
#                         and remove the namespaces of this test's runs
#
# A test's runs are found by their run ID, which the runner logs on stderr as
# "lab: network of ... (netns, run ID)" (its namespaces are alab-ID-*): every
# runner's stderr must go to a file ending in .log under $WORKDIR. Namespaces of
# other lab runs on the machine are never touched.

# lab_run_ids [LOG...]: the run IDs in LOG (default: every *.log under $WORKDIR).
lab_run_ids() {
  local logs=("$@")
  if ((${#logs[@]} == 0)); then
    mapfile -t logs < <(find "$WORKDIR" -name '*.log' -type f 2>/dev/null)
  fi
  ((${#logs[@]} > 0)) || return 0
  cat "${logs[@]}" 2>/dev/null | sed -n 's/^lab: network of .* (netns, run \([a-z0-9]*\))$/\1/p' | sort -u
}

# lab_namespaces [LOG...]: the namespaces still there of the runs in LOG (default:
# of every run of this test).
lab_namespaces() {
  local id
  for id in $(lab_run_ids "$@"); do
    ip netns list 2>/dev/null | awk '{print $1}' | grep -- "^alab-$id-" || true
  done
}

# lab_remove_own: kills the processes in this test's namespaces and deletes them.
lab_remove_own() {
  local ns pid
  for ns in $(lab_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

lab_setup() {
  [[ $(id -u) -eq 0 ]] || skip "lab runs need root (network namespaces)"
  command -v ip >/dev/null || skip "no ip command"
  local probe=alab-probe-$$
  ip netns add "$probe" 2>/dev/null || skip "ip netns does not work here"
  ip netns del "$probe"
  need_tool opentracker iptables tc "$@"
  it_setup
  trap 'bg_stop_all; lab_remove_own' EXIT
}

# nothing_left DIR [LOG...]: no namespace of the runs in LOG (default: of every
# run of this test) and no process with DIR in its arguments.
nothing_left() {
  local dir=$1 left
  shift
  left=$(lab_namespaces "$@")
  [[ -z "$left" ]] || fail "namespaces left behind: $left"
  if left=$(pgrep -af -- "$dir/" 2>/dev/null); then
    fail "processes left behind: $left"
  fi
}

# lab_run_expect STATUS SECONDS NAME [ARG...]: `lab run $WORKDIR/NAME.yaml --out
# $WORKDIR/NAME ARG...` (its stderr into $WORKDIR/NAME.log, then shown) must exit
# with STATUS within SECONDS.
lab_run_expect() {
  local want=$1 secs=$2 name=$3 rc=0
  shift 3
  with_timeout "$secs" "$AR" lab run "$WORKDIR/$name.yaml" --out "$WORKDIR/$name" "$@" 2>"$WORKDIR/$name.log" || rc=$?
  cat "$WORKDIR/$name.log"
  check_eq "lab run exit status ($name)" "$want" "$rc"
}

# report_check REPORT PYTHON-EXPR...: each expression must be true of the report `r`.
report_check() {
  local report=$1
  shift
  timeout 30 "$PY" - "$report" "$@" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
for expr in sys.argv[2:]:
    if not eval(expr, {"r": r, "all": all, "any": any, "len": len, "sum": sum, "min": min, "max": max, "isinstance": isinstance, "int": int}):
        sys.exit("report check failed: %s\n%s" % (expr, json.dumps({k: r.get(k) for k in ("oracles", "faults", "bans", "peers", "baseline", "completion", "runner", "error")}, indent=1)))
PYEOF
}

# lab_wait PID SECS: wait at most SECS for a runner started in the background
# (its PID in BG_PIDS) to end, reap it and drop it from BG_PIDS; its exit status
# is left in LAB_RC (still running after SECS: it is killed, LAB_RC 137).
lab_wait() {
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  LAB_RC=0
  wait "$pid" || LAB_RC=$?
  bg_forget "$pid"
}
