// What the lab computes around a run besides the oracles of runner.cpp: the
// fault-free twin of a plan for `lab run --baseline`, completion figures and
// the `slowdown` oracle against that baseline, the runner's own CPU and memory,
// and the HTML report (lab/report.py). CAF-free.
#pragma once

#include "lab/plan.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>

namespace actorrent::lab {

/// The plan with every fault and every behavior removed (all peers honest) and
/// its oracles but slowdown and misbehaving_banned: what `lab run --baseline`
/// runs first (into OUT/baseline).
resolved_plan without_faults(const resolved_plan& rp);

/// Completion figures of the honest leechers of a report's `peers` array:
/// {leechers, completed, p50_s, p90_s, max_s} (times null when none completed;
/// percentiles by nearest rank over the completed ones).
nlohmann::ordered_json completion_figures(const nlohmann::ordered_json& peers);

/// The `slowdown: F` oracle. The run's figure is the p90 of the completion
/// times of its honest leechers, a leecher that did not complete counting as
/// never (then the oracle fails); the baseline's is the same figure of
/// BASELINE_DIR/report.json. Holds when run p90 <= F * baseline p90. Returns
/// {name, passed, detail, run_p90_s, baseline_p90_s, ratio}.
nlohmann::ordered_json slowdown_oracle(const nlohmann::ordered_json& peers, const std::string& baseline_dir,
                                       double factor);

/// The `baseline` object of report.json: the baseline's completion figures, its
/// directory, and the ratios of the run's p50/p90/max to them.
nlohmann::ordered_json baseline_json(const nlohmann::ordered_json& peers, const std::string& baseline_dir);

/// The runner's own CPU (user+system) and peak RSS (getrusage RUSAGE_SELF), and
/// those of its waited-for children (peers, tracker, ip/tc/iptables):
/// {cpu_s, peak_rss_bytes, children_cpu_s, children_peak_rss_bytes}.
nlohmann::ordered_json runner_usage();

/// Runs `python3 lab/report.py DIR` (the script of the source tree, or
/// $ACTORRENT_LAB_REPORT) to write DIR/report.html. Never fails the run: when
/// python3 or matplotlib is missing it says that the HTML report was not made.
/// Returns whether DIR/report.html was written.
bool write_html_report(const std::string& dir, std::ostream& log);

} // namespace actorrent::lab
