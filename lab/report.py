#!/usr/bin/python3
"""The swarm lab's HTML report: actorrent lab run calls this after report.json.

  report.py DIR

Reads DIR/report.json, DIR/samples.jsonl, DIR/plan.yaml, the peers' logs
(DIR/peers/NAME.err, for disconnect reasons) and, when `lab run --baseline`
made one, DIR/baseline/ (its report.json and samples.jsonl), and writes
DIR/report.html: one self-contained file (plots are PNG images embedded as
base64, the style is inline; nothing is loaded from anywhere).

Needs Debian's python3-matplotlib; without it, exits 3 saying so (the run itself
is not affected). Exit 2 when DIR/report.json is missing or unreadable.
"""

import base64
import collections
import html
import io
import json
import math
import os
import re
import sys


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_samples(path):
    """samples.jsonl as a list of dicts (bad lines skipped)."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if isinstance(j, dict) and "t" in j and "peer" in j:
                    out.append(j)
    except OSError:
        pass
    return out


def esc(x):
    return html.escape("" if x is None else str(x))


def num(x, fmt="{:.1f}", none="–"):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return none
    return fmt.format(x)


def size(n):
    if n is None:
        return "–"
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return ("{:.0f} {}" if unit == "B" else "{:.1f} {}").format(n, unit)
        n /= 1024
    return str(n)


def percentile(sorted_values, q):
    """Nearest rank, as lab/analysis.cpp computes it."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values))))
    return sorted_values[rank - 1]


def popcount_hex(h):
    try:
        return bin(int(h, 16)).count("1") if h else 0
    except ValueError:
        return 0


# ---- disconnects, from the peers' --verbose logs ----------------------------------

CLOSED = re.compile(r"closed (\S+): (.*)$")
CONNECT_FAILED = re.compile(r"connect to (\S+) failed: (.*)$")
BANNED = re.compile(r"banned (\S+): (.*)$")


def reason_key(text):
    """A reason without the numbers that make every line differ."""
    text = re.sub(r"\(piece \d+\)", "(piece N)", text.strip())
    text = re.sub(r"\b\d+\b", "N", text)
    return text[:80]


def disconnects(dirname, peer_names):
    """{peer: Counter(reason -> count)} and {peer: [banned addresses]} from NAME.err."""
    closed = {}
    banned = {}
    for name in peer_names:
        c = collections.Counter()
        b = []
        try:
            with open(os.path.join(dirname, "peers", name + ".err"), encoding="utf-8", errors="replace") as f:
                for line in f:
                    line = line.rstrip("\n")
                    m = CLOSED.search(line)
                    if m:
                        c[reason_key(m.group(2))] += 1
                        continue
                    m = CONNECT_FAILED.search(line)
                    if m:
                        c["connect failed: " + reason_key(m.group(2))] += 1
                        continue
                    m = BANNED.search(line)
                    if m:
                        b.append(m.group(1))
        except OSError:
            pass
        closed[name] = c
        banned[name] = b
    return closed, banned


# ---- plots ------------------------------------------------------------------------

def figure_png(fig):
    buf = io.BytesIO()
    fig.set_size_inches(6.4, 3.4)  # every plot the same size, so they line up two by two
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=72)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def fault_windows(report):
    """(start, end or None, label) of every planned fault window."""
    out = []
    for i, f in enumerate(report.get("faults") or []):
        at = f.get("at_s")
        if at is None:
            continue
        length = f.get("for_s")
        out.append((at, at + length if length is not None else None,
                    "[%d] %s" % (i, f.get("kind", "?"))))
    return out


def shade(ax, windows, t_end):
    colors = ["#f4a261", "#e76f51", "#2a9d8f", "#8ab17d", "#b56576", "#6d597a"]
    for k, (a, b, label) in enumerate(windows):
        ax.axvspan(a, b if b is not None else t_end, color=colors[k % len(colors)], alpha=0.18, label=label)


def completion_times(report):
    return sorted(p["completion_s"] for p in report.get("peers") or []
                  if p.get("role") == "leech" and p.get("honest") and isinstance(p.get("completion_s"), (int, float)))


def honest_leechers(report):
    return [p for p in report.get("peers") or [] if p.get("role") == "leech" and p.get("honest")]


def plot_cdf(plt, report, base):
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for rep, label, style in ((report, "this run", "-"), (base, "baseline (no faults)", "--")):
        if rep is None:
            continue
        t = completion_times(rep)
        n = len(honest_leechers(rep))
        if not t or n == 0:
            continue
        xs = [0.0] + [x for x in t for _ in (0, 1)]
        ys = [0.0] + [v for k in range(len(t)) for v in (k / n, (k + 1) / n)]
        ax.plot(xs, ys, style, drawstyle="default", label="%s (%d/%d done)" % (label, len(t), n))
    ax.set_xlabel("completion time (s)")
    ax.set_ylabel("fraction of honest leechers")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("CDF of completion times")
    return figure_png(fig)


def complete_over_time(samples, leechers):
    """[(t, fraction of `leechers` complete)] from the samples."""
    done = set()
    out = []
    by_t = collections.defaultdict(list)
    for s in samples:
        by_t[s["t"]].append(s)
    for t in sorted(by_t):
        for s in by_t[t]:
            if s["peer"] in leechers and s.get("complete"):
                done.add(s["peer"])
        out.append((t, len(done) / len(leechers) if leechers else 0))
    return out


def plot_fraction(plt, report, samples, base, base_samples, windows):
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    t_end = report.get("duration_s") or (samples[-1]["t"] if samples else 1)
    shade(ax, windows, t_end)
    for rep, smp, label, style in ((report, samples, "this run", "-"), (base, base_samples, "baseline", "--")):
        if rep is None or not smp:
            continue
        names = {p["name"] for p in honest_leechers(rep)}
        pts = complete_over_time(smp, names)
        if pts:
            ax.step([p[0] for p in pts], [p[1] for p in pts], style, where="post", label=label)
    ax.set_xlabel("time since the peers started (s)")
    ax.set_ylabel("honest leechers complete")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Fraction of honest leechers complete (fault windows shaded)")
    return figure_png(fig)


def plot_rates(plt, report, samples, windows):
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    t_end = report.get("duration_s") or (samples[-1]["t"] if samples else 1)
    shade(ax, windows, t_end)
    series = collections.defaultdict(list)
    for s in samples:
        r = s.get("down_rate")
        series[s["peer"]].append((s["t"], (r or 0) / 1e6 if isinstance(r, (int, float)) else float("nan")))
    peers = report.get("peers") or []
    many = len(peers) > 12
    for p in peers:
        pts = series.get(p["name"])
        if not pts or p.get("role") == "seed":
            continue
        ax.plot([x for x, _ in pts], [y for _, y in pts], lw=0.8 if many else 1.2,
                label=None if many else p["name"])
    ax.set_xlabel("time since the peers started (s)")
    ax.set_ylabel("download rate (MB/s)")
    ax.grid(alpha=0.3)
    if not many or windows:  # with many peers only the fault windows are labelled
        ax.legend(loc="upper right", fontsize=7, ncol=2)
    ax.set_title("Download rate of each leecher" + (" (%d peers, unlabelled)" % len(peers) if many else ""))
    return figure_png(fig)


def piece_copies(report, samples):
    """[(t, min, mean, max)] copies of each piece among the peers, and a note on what was counted."""
    by_t = collections.defaultdict(dict)
    for s in samples:
        by_t[s["t"]][s["peer"]] = s
    total = None
    for s in samples:
        if isinstance(s.get("pieces_total"), int) and s["pieces_total"] > 0:
            total = s["pieces_total"]
            break
    if total is None:
        return [], "no peer reported pieces_total"
    import numpy as np  # a dependency of matplotlib
    kinds = {p["name"]: p.get("kind") for p in report.get("peers") or []}
    last = {}
    out = []
    inferred = set()
    bits_of = {}  # hex -> its bits as an array (peers keep the same bitfield for many seconds)

    def bits(h):
        if h not in bits_of:
            try:
                b = np.unpackbits(np.frombuffer(bytes.fromhex(h), dtype=np.uint8))[:total]
            except ValueError:
                b = None
            if b is not None and len(b) < total:
                b = None
            bits_of[h] = b
        return bits_of[h]
    for t in sorted(by_t):
        last.update(by_t[t])
        counts = np.zeros(total, dtype=np.int64)
        for name, s in last.items():
            if not s.get("running", True):
                continue  # a peer that is down serves nothing
            h = s.get("have")
            if isinstance(h, str) and h:
                b = bits(h)
                if b is not None:
                    counts += b
            elif s.get("complete"):
                inferred.add(kinds.get(name, "?"))
                counts += 1
        out.append((t, int(counts.min()), float(counts.mean()), int(counts.max())))
    note = "from each peer's have-bitfield (\"have\" in its progress)"
    if inferred:
        note += "; peers of kind %s report no bitfield and count only once complete" % ", ".join(sorted(inferred))
    return out, note


def plot_copies(plt, report, samples, windows):
    pts, note = piece_copies(report, samples)
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    t_end = report.get("duration_s") or (samples[-1]["t"] if samples else 1)
    shade(ax, windows, t_end)
    if pts:
        ts = [p[0] for p in pts]
        ax.fill_between(ts, [p[1] for p in pts], [p[3] for p in pts], step="post", alpha=0.25, label="min to max")
        ax.step(ts, [p[2] for p in pts], where="post", label="mean")
        ax.step(ts, [p[1] for p in pts], where="post", lw=0.8, label="min")
        ax.step(ts, [p[3] for p in pts], where="post", lw=0.8, label="max")
    ax.set_xlabel("time since the peers started (s)")
    ax.set_ylabel("copies of a piece")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title("Copies of each piece in the swarm (running peers)")
    return figure_png(fig), note


def plot_bans(plt, report, samples, windows):
    series = collections.defaultdict(list)
    for s in samples:
        b = s.get("banned")
        if isinstance(b, int):
            series[s["peer"]].append((s["t"], b))
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    t_end = report.get("duration_s") or (samples[-1]["t"] if samples else 1)
    shade(ax, windows, t_end)
    any_ban = False
    for name, pts in sorted(series.items()):
        if any(b > 0 for _, b in pts):
            any_ban = True
            ax.step([x for x, _ in pts], [y for _, y in pts], where="post", label=name)
    if not any_ban:
        ax.text(0.5, 0.5, "no peer banned anyone", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("time since the peers started (s)")
    ax.set_ylabel("peers banned")
    ax.set_xlim(0, t_end)
    ax.grid(alpha=0.3)
    if any_ban:
        ax.legend(loc="upper left", fontsize=7, ncol=2)
    ax.set_title("Ban timeline (how many peers each peer has banned)")
    return figure_png(fig)


# ---- tables -----------------------------------------------------------------------

def group_rows(report, base, closed):
    groups = collections.OrderedDict()
    for p in report.get("peers") or []:
        groups.setdefault(p.get("group"), []).append(p)
    base_groups = collections.defaultdict(list)
    for p in (base or {}).get("peers") or []:
        base_groups[p.get("group")].append(p)
    rows = []
    for g, peers in groups.items():
        leech = [p for p in peers if p.get("role") == "leech"]
        t = sorted(p["completion_s"] for p in leech if isinstance(p.get("completion_s"), (int, float)))
        bt = sorted(p["completion_s"] for p in base_groups.get(g, [])
                    if p.get("role") == "leech" and isinstance(p.get("completion_s"), (int, float)))
        slow = None
        if t and bt and len(t) == len(leech):
            slow = percentile(t, 0.9) / max(percentile(bt, 0.9), 1.0)
        reasons = collections.Counter()
        for p in peers:
            reasons.update(closed.get(p["name"], {}))

        def total(key):
            vals = [p.get(key) for p in peers if isinstance(p.get(key), (int, float))]
            return sum(vals) if vals else None
        rss = [p.get("peak_rss_bytes") for p in peers if isinstance(p.get("peak_rss_bytes"), int)]
        rows.append({
            "group": g, "kind": peers[0].get("kind"), "role": peers[0].get("role"), "count": len(peers),
            "honest": all(p.get("honest") for p in peers),
            "rate": ("%d/%d" % (len(t), len(leech))) if leech else "seed",
            "p50": percentile(t, 0.5), "p90": percentile(t, 0.9), "max": t[-1] if t else None,
            "slowdown": slow, "wasted": total("wasted_bytes"), "down": total("bytes_down"), "up": total("bytes_up"),
            "hash_failures": total("hash_failures"), "banned": total("banned_count"),
            "rss": max(rss) if rss else None, "reasons": reasons,
            "crashed": sum(1 for p in peers if p.get("crashed")),
        })
    return rows


STYLE = """
body{font-family:sans-serif;margin:1.5em;max-width:1100px;color:#222}
h1{font-size:1.4em;margin-bottom:.2em} h3{font-size:1em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0} .pass{color:#17803d;font-weight:bold} .fail{color:#c0392b;font-weight:bold}
.meta td:first-child{font-weight:bold;background:#f7f7f7} pre{background:#f7f7f7;padding:.6em;font-size:.8em;overflow:auto}
.plots img{max-width:49%;margin:2px;border:1px solid #eee} .note{color:#666;font-size:.8em}
"""


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py DIR")
    d = sys.argv[1]
    report = load_json(os.path.join(d, "report.json"))
    if not isinstance(report, dict):
        print("report.py: no readable %s" % os.path.join(d, "report.json"), file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("python3-matplotlib is missing (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 3
    samples = load_samples(os.path.join(d, "samples.jsonl"))
    base = load_json(os.path.join(d, "baseline", "report.json"))
    if not isinstance(base, dict):
        base = None
    base_samples = load_samples(os.path.join(d, "baseline", "samples.jsonl")) if base else []
    try:
        with open(os.path.join(d, "plan.yaml"), encoding="utf-8", errors="replace") as f:
            plan_text = f.read(200000)
    except OSError:
        plan_text = None
    peers = report.get("peers") or []
    closed, ban_lines = disconnects(d, [p["name"] for p in peers])
    windows = fault_windows(report)

    plots = [("cdf", plot_cdf(plt, report, base)),
             ("fraction", plot_fraction(plt, report, samples, base, base_samples, windows)),
             ("rates", plot_rates(plt, report, samples, windows))]
    copies_png, copies_note = plot_copies(plt, report, samples, windows)
    plots.append(("copies", copies_png))
    plots.append(("bans", plot_bans(plt, report, samples, windows)))

    plan = report.get("plan") or {}
    oracles = report.get("oracles") or []
    all_pass = bool(oracles) and all(o.get("passed") for o in oracles) and not report.get("error")
    h = []
    h.append("<!DOCTYPE html><html><head><meta charset='utf-8'><title>lab report: %s</title><style>%s</style></head><body>"
             % (esc(plan.get("name")), STYLE))
    h.append("<h1>Swarm lab report: %s <span class='%s'>%s</span></h1>"
             % (esc(plan.get("name")), "pass" if all_pass else "fail",
                "every oracle holds" if all_pass else "FAILED"))
    runner = report.get("runner") or {}
    meta = [("plan", plan.get("source")), ("seed", plan.get("seed")), ("plan sha256", plan.get("sha256")),
            ("commit", report.get("commit") or "unknown"), ("duration", num(report.get("duration_s"), "{:.1f} s")),
            ("peers", len(peers)),
            ("runner", "%s CPU, peak RSS %s (children: %s CPU)" % (num(runner.get("cpu_s"), "{:.2f} s"),
                                                                   size(runner.get("peak_rss_bytes")),
                                                                   num(runner.get("children_cpu_s"), "{:.1f} s"))),
            ("baseline", "yes (%s)" % (report.get("baseline") or {}).get("dir") if base else "none (run with --baseline)")]
    if report.get("error"):
        meta.append(("error", report.get("error")))
    if report.get("interrupted"):
        meta.append(("interrupted", "yes"))
    if report.get("timed_out"):
        meta.append(("timed out", "yes (max_duration reached)"))
    h.append("<table class='meta'>" + "".join("<tr><td>%s</td><td>%s</td></tr>" % (esc(k), esc(v)) for k, v in meta)
             + "</table>")

    h.append("<h2>Oracles</h2><table><tr><th>oracle</th><th>result</th><th>detail</th></tr>")
    for o in oracles:
        h.append("<tr><td>%s</td><td class='%s'>%s</td><td>%s</td></tr>"
                 % (esc(o.get("name")), "pass" if o.get("passed") else "fail",
                    "holds" if o.get("passed") else "FAILS", esc(o.get("detail"))))
    h.append("</table>")

    h.append("<h2>Plots</h2><div class='plots'>")
    titles = {"cdf": "CDF of completion times", "fraction": "fraction complete over time",
              "rates": "download rate per peer", "copies": "copies of each piece", "bans": "ban timeline"}
    for key, png in plots:
        h.append("<img id='plot-%s' alt='%s' src='data:image/png;base64,%s'>" % (key, esc(titles[key]), png))
    h.append("</div><p class='note'>Piece copies: %s. Shaded: the planned fault windows.</p>" % esc(copies_note))

    h.append("<h2>Groups</h2><table><tr><th>group</th><th>kind</th><th>role</th><th>peers</th><th>complete</th>"
             "<th>p50 s</th><th>p90 s</th><th>max s</th><th>slowdown (p90)</th><th>wasted</th><th>down</th><th>up</th>"
             "<th>hash fails</th><th>bans</th><th>peak RSS</th><th>crashed</th></tr>")
    for r in group_rows(report, base, closed):
        h.append("<tr><td>%s%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                 "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td></tr>"
                 % (esc(r["group"]), "" if r["honest"] else " (misbehaving)", esc(r["kind"]), esc(r["role"]), r["count"],
                    esc(r["rate"]), num(r["p50"]), num(r["p90"]), num(r["max"]),
                    num(r["slowdown"], "{:.2f}×", "–" if base else "no baseline"), size(r["wasted"]), size(r["down"]),
                    size(r["up"]), num(r["hash_failures"], "{:.0f}"), num(r["banned"], "{:.0f}"), size(r["rss"]),
                    r["crashed"]))
    h.append("</table>")
    h.append("<h3>Disconnects by reason</h3><table><tr><th>group</th><th>disconnects by reason (count)</th></tr>")
    for r in group_rows(report, base, closed):
        reasons = "; ".join("%s: %d" % (esc(k), n) for k, n in r["reasons"].most_common(8)) or "none reported"
        h.append("<tr><td>%s</td><td>%s</td></tr>" % (esc(r["group"]), reasons))
    h.append("</table><p class='note'>Times are from the start of the peers, sampled once a second; percentiles by "
             "nearest rank over the leechers that completed. Slowdown: this group's p90 over the baseline's (the same "
             "plan without faults or behaviors). Disconnects come from the actorrent peers' --verbose logs "
             "(closed connections and failed connects); other kinds do not report them. Fields a peer kind does not "
             "report are shown as –.</p>")

    comp = report.get("completion") or {}
    bl = report.get("baseline") or {}
    h.append("<h2>Completion (honest leechers)</h2><table><tr><th></th><th>completed</th><th>p50 s</th><th>p90 s</th>"
             "<th>max s</th></tr>")
    h.append("<tr><td>this run</td><td>%s/%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
             % (esc(comp.get("completed")), esc(comp.get("leechers")), num(comp.get("p50_s")), num(comp.get("p90_s")),
                num(comp.get("max_s"))))
    if bl.get("completion"):
        bc = bl["completion"]
        sd = bl.get("slowdown") or {}
        h.append("<tr><td>baseline</td><td>%s/%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                 % (esc(bc.get("completed")), esc(bc.get("leechers")), num(bc.get("p50_s")), num(bc.get("p90_s")),
                    num(bc.get("max_s"))))
        h.append("<tr><td>slowdown</td><td></td><td>%s</td><td>%s</td><td>%s</td></tr>"
                 % (num(sd.get("p50"), "{:.2f}×"), num(sd.get("p90"), "{:.2f}×"), num(sd.get("max"), "{:.2f}×")))
    h.append("</table>")

    h.append("<h2>Faults: planned and applied</h2><table><tr><th>#</th><th>kind</th><th>targets</th><th>planned</th>"
             "<th>applied</th></tr>")
    for i, f in enumerate(report.get("faults") or []):
        targets = ", ".join(f.get("targets") or [])
        if f.get("other"):
            targets += (" → " if f.get("one_way") else " ↔ ") + ", ".join(f["other"])
        planned = "at %s s" % num(f.get("at_s")) + (" for %s s" % num(f.get("for_s")) if f.get("for_s") is not None
                                                    else " to the end")
        if f.get("link"):
            planned += ", " + f["link"]
        if f.get("after_bytes") is not None:
            planned += ", each TCP connection reset after %s bytes" % f["after_bytes"]
        if f.get("burst"):
            planned += ", Gilbert-Elliott " + ", ".join("%s %s" % (k, v) for k, v in f["burst"].items())
        a = f.get("applied") or {}
        applied = "%s actions, first %s s, last %s s" % (a.get("count", 0), num(a.get("first_s")), num(a.get("last_s")))
        for k, v in a.items():
            if k not in ("count", "first_s", "last_s") and v is not None:
                applied += ", %s %s" % (k.replace("_", " "), v)
        h.append("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                 % (i, esc(f.get("kind")), esc(targets), esc(planned), esc(applied)))
    if not report.get("faults"):
        h.append("<tr><td colspan='5'>no faults in this plan</td></tr>")
    h.append("</table>")

    bans = report.get("bans") or {}
    h.append("<h2>Bans</h2>")
    if bans.get("precision") is None and bans.get("recall") is None:
        h.append("<p>Ban precision and recall: not reported by this run (they need the peers' ban lists).</p>")
    else:
        h.append("<table><tr><th>precision</th><th>recall</th></tr><tr><td>%s</td><td>%s</td></tr></table>"
                 % (num(bans.get("precision"), "{:.2f}"), num(bans.get("recall"), "{:.2f}")))
    listed = [(n, a) for n, addrs in ban_lines.items() for a in addrs]
    if listed:
        h.append("<p class='note'>From the peers' logs: " + esc("; ".join("%s banned %s" % x for x in listed[:40]))
                 + "</p>")

    h.append("<h2>Peers</h2><table><tr><th>peer</th><th>kind</th><th>role</th><th>honest</th><th>completed</th>"
             "<th>time s</th><th>data ok</th><th>down</th><th>up</th><th>wasted</th><th>bans</th><th>peak RSS</th>"
             "<th>crash</th></tr>")
    for p in peers:
        h.append("<tr>" + "".join("<td>%s</td>" % esc(x) for x in (
            p.get("name"), p.get("kind"), p.get("role"), p.get("honest"), p.get("completed"),
            num(p.get("completion_s")), p.get("data_ok"), size(p.get("bytes_down")), size(p.get("bytes_up")),
            size(p.get("wasted_bytes")), p.get("banned_count"), size(p.get("peak_rss_bytes")),
            p.get("crash") or "")) + "</tr>")
    h.append("</table>")
    if plan_text is not None:
        h.append("<h2>Plan</h2><pre>%s</pre>" % esc(plan_text))
    h.append("<p class='note'>Written by lab/report.py from report.json and samples.jsonl.</p></body></html>")
    tmp = os.path.join(d, "report.html.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(h))
    os.replace(tmp, os.path.join(d, "report.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
