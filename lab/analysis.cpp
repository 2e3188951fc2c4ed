#include "lab/analysis.hpp"

#include "lab/process.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <ostream>
#include <vector>

#include <sys/resource.h>

namespace actorrent::lab {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

resolved_plan without_faults(const resolved_plan& rp) {
  resolved_plan b = rp;
  b.faults.clear();
  b.spec.faults.clear();
  for (auto& g : b.spec.groups)
    g.behavior.clear();
  for (auto& p : b.peers)
    p.honest = true;
  std::vector<oracle_spec> keep;
  for (auto& o : b.spec.oracles)
    if (o.name != "slowdown" && o.name != "misbehaving_banned")
      keep.push_back(o);
  b.spec.oracles = std::move(keep);
  b.spec.name += " (baseline)";
  return b;
}

namespace {

/// Nearest-rank percentile of sorted values (q in (0, 1]).
double percentile(const std::vector<double>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double round1(double x) { return std::round(x * 10) / 10; }

/// The completion times of honest leechers; `missing` counts those that never completed.
std::vector<double> honest_times(const json& peers, std::size_t& missing) {
  std::vector<double> t;
  missing = 0;
  if (!peers.is_array())
    return t;
  for (auto& p : peers) {
    if (!p.is_object() || p.value("role", "") != "leech" || !p.value("honest", false))
      continue;
    if (p.contains("completion_s") && p["completion_s"].is_number())
      t.push_back(p["completion_s"].get<double>());
    else
      ++missing;
  }
  std::sort(t.begin(), t.end());
  return t;
}

std::optional<json> read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in)
    return std::nullopt;
  auto j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

json ratio(const json& run, const json& base) {
  if (!run.is_number() || !base.is_number() || base.get<double>() <= 0)
    return nullptr;
  return std::round(100 * run.get<double>() / base.get<double>()) / 100;
}

} // namespace

json completion_figures(const json& peers) {
  std::size_t missing = 0;
  auto t = honest_times(peers, missing);
  json f;
  f["leechers"] = t.size() + missing;
  f["completed"] = t.size();
  f["p50_s"] = t.empty() ? json(nullptr) : json(round1(percentile(t, 0.5)));
  f["p90_s"] = t.empty() ? json(nullptr) : json(round1(percentile(t, 0.9)));
  f["max_s"] = t.empty() ? json(nullptr) : json(round1(t.back()));
  return f;
}

json slowdown_oracle(const json& peers, const std::string& baseline_dir, double factor) {
  json o{{"name", "slowdown"}, {"passed", false}, {"detail", ""}};
  auto base = baseline_dir.empty() ? std::nullopt : read_json(fs::path(baseline_dir) / "report.json");
  if (!base) {
    o["detail"] = "no baseline report (" + (baseline_dir.empty() ? std::string{"run with --baseline"}
                                                                 : baseline_dir + "/report.json missing or unreadable")
                  + ")";
    return o;
  }
  auto bf = completion_figures((*base)["peers"]);
  std::size_t missing = 0;
  auto t = honest_times(peers, missing);
  std::size_t base_missing = 0;
  honest_times((*base)["peers"], base_missing);
  char buf[256];
  if (base_missing > 0 || !bf["p90_s"].is_number()) {
    o["detail"] = "the baseline run did not complete (" + std::to_string(base_missing)
                  + " honest leechers unfinished): no reference time";
    return o;
  }
  auto base_p90 = bf["p90_s"].get<double>();
  o["baseline_p90_s"] = base_p90;
  if (missing > 0 || t.empty()) {
    std::snprintf(buf, sizeof(buf), "%zu honest leechers did not complete (baseline p90 %.1f s)", missing, base_p90);
    o["detail"] = buf;
    o["run_p90_s"] = nullptr;
    o["ratio"] = nullptr;
    return o;
  }
  auto run_p90 = round1(percentile(t, 0.9));
  // a baseline of a fraction of a second still gets a meaningful bound: times are sampled once a second
  auto ref = std::max(base_p90, 1.0);
  auto r = run_p90 / ref;
  o["run_p90_s"] = run_p90;
  o["ratio"] = std::round(r * 100) / 100;
  o["passed"] = r <= factor;
  std::snprintf(buf, sizeof(buf), "p90 completion %.1f s against %.1f s in the baseline: %.2fx (limit %gx)", run_p90,
                base_p90, r, factor);
  o["detail"] = buf;
  return o;
}

json baseline_json(const json& peers, const std::string& baseline_dir) {
  json b;
  b["dir"] = baseline_dir;
  auto base = read_json(fs::path(baseline_dir) / "report.json");
  if (!base) {
    b["error"] = "no readable " + baseline_dir + "/report.json";
    return b;
  }
  auto bf = completion_figures((*base)["peers"]);
  auto rf = completion_figures(peers);
  b["completion"] = bf;
  b["duration_s"] = (*base).contains("duration_s") ? (*base)["duration_s"] : json(nullptr);
  b["slowdown"] = json{{"p50", ratio(rf["p50_s"], bf["p50_s"])},
                       {"p90", ratio(rf["p90_s"], bf["p90_s"])},
                       {"max", ratio(rf["max_s"], bf["max_s"])}};
  json oracles = json::array();
  if (base->contains("oracles") && (*base)["oracles"].is_array())
    for (auto& o : (*base)["oracles"])
      if (o.is_object())
        oracles.push_back(json{{"name", o.value("name", "")}, {"passed", o.value("passed", false)}});
  b["oracles"] = oracles;
  return b;
}

json runner_usage() {
  auto cpu = [](const rusage& ru) {
    return std::round(1000 * (static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6
                              + static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6))
           / 1000;
  };
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  // ru_maxrss is in KiB on Linux; for children it is the largest single child
  return json{{"cpu_s", cpu(self)},
              {"peak_rss_bytes", static_cast<std::uint64_t>(self.ru_maxrss) * 1024},
              {"children_cpu_s", cpu(children)},
              {"children_peak_rss_bytes", static_cast<std::uint64_t>(children.ru_maxrss) * 1024}};
}

bool write_html_report(const std::string& dir, std::ostream& log) {
  std::string script = std::string{ACTORRENT_LAB_DIR} + "/report.py";
  if (const char* env = std::getenv("ACTORRENT_LAB_REPORT"); env != nullptr && *env != '\0')
    script = env;
  std::error_code ec;
  if (!fs::exists("/usr/bin/python3", ec)) {
    log << "lab: report.html not made: /usr/bin/python3 is missing\n";
    return false;
  }
  // a plan of many peers and a long run: a few minutes at most, then the run still ends
  auto r = run_command({"/usr/bin/python3", script, dir}, std::chrono::minutes(3));
  if (r.exit_code != 0) {
    auto msg = r.output;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r'))
      msg.pop_back();
    if (auto nl = msg.rfind('\n'); nl != std::string::npos)
      msg = msg.substr(nl + 1); // the last line says why (e.g. no matplotlib)
    log << "lab: report.html not made: " << (msg.empty() ? "report.py failed" : msg) << "\n";
    return false;
  }
  log << "lab: HTML report in " << (fs::path(dir) / "report.html").string() << "\n";
  return true;
}

} // namespace actorrent::lab
