#!/usr/bin/env bash
# The progress bar of `actorrent download` on a real terminal (tmux), read off
# the screen.
#
#   bash progress_tty.sh ACTORRENT WORKDIR
#
# A libtorrent seeder (peers.py lt-seed, capped at 1 MB/s) serves a 16 MiB
# torrent; actorrent downloads it with --peer inside a detached tmux session
# (its own server socket, 160x30), run by a wrapper (timeout --foreground, so
# that Ctrl-C reaches it) that prints "EXIT=N" when
# it ends. The screen is captured every 0.5 s (tmux capture-pane) and must
# show:
#   (a) a progress bar whose percentage grows (at least three increasing
#       values) and a rate above 0 B/s;
#   (b) after Ctrl-C (tmux send-keys C-c) while downloading: the program ends
#       (exit status not 0: the download is not complete) with one line
#       saying it was interrupted, the wrapper's "EXIT=" starts a line of its
#       own (the terminal is left on a clean line), and no line on the screen
#       keeps the terminal's "^C" echo glued to a bar (the interrupted bar is
#       redrawn or cleared, not left garbled).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

it_args "$@"
need_tool tmux
need_libtorrent
it_setup

TMUX_SOCK=actorrent-test-$$
TMUX_PID=
stop_tmux() {
  if [[ -n "$TMUX_PID" ]]; then
    kill "$TMUX_PID" 2>/dev/null || true
  fi
  bg_stop_all
}
trap stop_tmux EXIT
tm() { timeout 10 tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

C=$WORKDIR/content
note "content and torrent"
make_random "$C/f.bin" $((16 * 1024 * 1024))
with_timeout 60 "$AR" create "$C/f.bin" -t http://127.0.0.1:1/announce -l 256K -o "$WORKDIR/f.torrent" -q ||
  fail "actorrent create exited $?"
P=$(free_ports 1)
lt_seed_start "$WORKDIR/lt.log" "$WORKDIR/f.torrent" "$C" "$P" --upload-limit 1000000

note "actorrent download in tmux (160x30)"
# the wrapper catches SIGINT (so that it lives on to print EXIT=); actorrent,
# which gets Ctrl-C from the terminal too, has its own handler
printf '#!/bin/sh\ntrap : INT\ncd "%s" || exit 99\ntimeout --foreground --kill-after=5 90 "%s" download f.torrent -o dl --no-trackers --port 0 --peer 127.0.0.1:%s\necho "EXIT=$?"\nsleep 60\n' \
  "$WORKDIR" "$AR" "$P" >"$WORKDIR/run.sh"
tm new-session -d -x 160 -y 30 -s t "sh $WORKDIR/run.sh" || fail "tmux new-session failed"
TMUX_PID=$(tm display-message -p -t t '#{pid}') || fail "no tmux server pid"
tm set-option -t t remain-on-exit on >/dev/null || true
echo "   tmux server pid $TMUX_PID"

screen() { tm capture-pane -p -t t; }
pcts=()
rates=()
for ((i = 0; i < 40; i++)); do
  sleep 0.5
  s=$(screen)
  printf '%s\n' "$s" >"$WORKDIR/screen.$i"
  [[ "$s" != *"EXIT="* ]] || { cat "$WORKDIR/screen.$i" >&2; fail "actorrent ended before Ctrl-C"; }
  bar=$(grep -E '[0-9]+\.[0-9]%' <<<"$s" | tail -n 1 || true)
  [[ -n "$bar" ]] || continue
  [[ "$bar" =~ ([0-9]+\.[0-9])% ]] && pcts+=("${BASH_REMATCH[1]}")
  [[ "$bar" =~ ([0-9.]+\ [KMG]?i?B/s) ]] && rates+=("${BASH_REMATCH[1]}")
  # enough seen: three increasing values and a rate above 0
  inc=$(printf '%s\n' "${pcts[@]}" | awk 'NR == 1 || $1 > last { n++; last = $1 } END { print n + 0 }')
  if ((inc >= 3)) && printf '%s\n' "${rates[@]}" | grep -qvE '^0(\.0)? B/s$'; then
    break
  fi
done
echo "   percentages seen: ${pcts[*]:-none}"
echo "   rates seen: $(printf '%s, ' "${rates[@]:-none}")"
inc=$(printf '%s\n' "${pcts[@]:-}" | awk 'NF && (n == 0 || $1 > last) { n++; last = $1 } END { print n + 0 }')
((inc >= 3)) || { screen >&2; fail "(a) the percentage did not grow through three values in 20 s"; }
printf '%s\n' "${rates[@]:-}" | grep -qE '^[0-9.]+ [KMG]i?B/s$|^[1-9][0-9.]* B/s$' ||
  { screen >&2; fail "(a) no rate above 0 B/s on the screen"; }
last_pct=${pcts[-1]}
awk -v p="$last_pct" 'BEGIN { exit !(p < 100) }' || fail "(a) the download finished before Ctrl-C could be tested"
echo "   ok: (a) the percentage grew (${pcts[0]}% .. $last_pct%) with a rate shown"

note "(b) Ctrl-C while downloading"
tm send-keys -t t C-c
for ((i = 0; i < 100; i++)); do
  sleep 0.1
  s=$(screen)
  [[ "$s" == *"EXIT="* ]] && break
done
printf '%s\n' "$s" >"$WORKDIR/screen.end"
echo "   the screen after Ctrl-C:"
grep -v '^$' "$WORKDIR/screen.end" | sed 's/^/   | /'
[[ "$s" == *"EXIT="* ]] || fail "(b) actorrent still runs 10 s after Ctrl-C"
rc=$(sed -n 's/^EXIT=\([0-9]*\)$/\1/p' "$WORKDIR/screen.end")
[[ -n "$rc" ]] || fail "(b) 'EXIT=' does not start a line of its own: the terminal is not left on a clean line"
((rc != 0)) || fail "(b) an interrupted download exited 0"
n=$(grep -c 'interrupted' "$WORKDIR/screen.end" || true)
check_eq "(b) lines saying the download was interrupted" 1 "$n"
if grep -nE '%.*\^C?$|\^C' "$WORKDIR/screen.end" >&2; then
  fail "(b) the terminal's ^C echo is left glued to a progress bar (line(s) above): the interrupted bar is not redrawn or cleared"
fi
echo "   ok: (b) exit $rc, one 'interrupted' line, a clean line after it"
echo "PASS: progress_tty (growing percentage, a rate, clean end after Ctrl-C; ${SECONDS}s)"
