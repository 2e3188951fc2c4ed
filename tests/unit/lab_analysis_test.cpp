#define CAF_SUITE lab_analysis
#include <caf/test/unit_test.hpp>

#include "lab/analysis.hpp"
#include "lab/clients.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace actorrent;
using namespace actorrent::lab;
using json = nlohmann::ordered_json;

namespace {

json leecher(const std::string& name, json completion, bool honest = true) {
  return json{{"name", name}, {"role", "leech"}, {"honest", honest}, {"completion_s", completion}};
}

json seed(const std::string& name) { return json{{"name", name}, {"role", "seed"}, {"honest", true}}; }

/// A folder holding report.json with these peers, removed at the end.
struct baseline_dir {
  std::string dir;
  explicit baseline_dir(const json& peers) {
    char name[] = "/tmp/actorrent-lab-analysis-XXXXXX";
    CAF_REQUIRE(::mkdtemp(name) != nullptr);
    dir = name;
    std::ofstream(dir + "/report.json") << json{{"peers", peers}, {"duration_s", 9.5}}.dump();
  }
  ~baseline_dir() {
    ::unlink((dir + "/report.json").c_str());
    ::rmdir(dir.c_str());
  }
};

} // namespace

CAF_TEST(completion figures are nearest-rank percentiles of the honest leechers) {
  json peers = json::array({seed("s-1"), leecher("l-1", 4.0), leecher("l-2", 2.0), leecher("l-3", 3.0),
                            leecher("l-4", 10.0), leecher("bad-1", 1.0, false)});
  auto f = completion_figures(peers);
  CAF_CHECK_EQUAL(f["leechers"].get<int>(), 4);
  CAF_CHECK_EQUAL(f["completed"].get<int>(), 4);
  CAF_CHECK_EQUAL(f["p50_s"].get<double>(), 3.0); // ranks: 2 3 4 10; ceil(0.5*4) = 2nd
  CAF_CHECK_EQUAL(f["p90_s"].get<double>(), 10.0);
  CAF_CHECK_EQUAL(f["max_s"].get<double>(), 10.0);
  peers.push_back(leecher("l-5", nullptr));
  f = completion_figures(peers);
  CAF_CHECK_EQUAL(f["leechers"].get<int>(), 5);
  CAF_CHECK_EQUAL(f["completed"].get<int>(), 4);
  auto none = completion_figures(json::array({seed("s-1"), leecher("l-1", nullptr)}));
  CAF_CHECK(none["p90_s"].is_null());
  CAF_CHECK(completion_figures(json("not peers"))["p50_s"].is_null());
}

CAF_TEST(slowdown compares p90 with the baseline) {
  baseline_dir base(json::array({seed("s-1"), leecher("l-1", 2.0), leecher("l-2", 4.0)}));
  auto run = json::array({seed("s-1"), leecher("l-1", 5.0), leecher("l-2", 10.0)});
  auto holds = slowdown_oracle(run, base.dir, 3.0);
  CAF_CHECK_EQUAL(holds["passed"].get<bool>(), true);
  CAF_CHECK_EQUAL(holds["ratio"].get<double>(), 2.5);
  CAF_CHECK_EQUAL(holds["detail"].get<std::string>(),
                  "p90 completion 10.0 s against 4.0 s in the baseline: 2.50x (limit 3x)");
  auto fails = slowdown_oracle(run, base.dir, 2.0);
  CAF_CHECK_EQUAL(fails["passed"].get<bool>(), false);
  auto unfinished = slowdown_oracle(json::array({leecher("l-1", 5.0), leecher("l-2", nullptr)}), base.dir, 3.0);
  CAF_CHECK_EQUAL(unfinished["passed"].get<bool>(), false);
  CAF_CHECK_EQUAL(unfinished["detail"].get<std::string>(),
                  "1 honest leechers did not complete (baseline p90 4.0 s)");
  auto nobase = slowdown_oracle(run, "/nonexistent/lab-baseline", 3.0);
  CAF_CHECK_EQUAL(nobase["passed"].get<bool>(), false);
  CAF_CHECK(nobase["detail"].get<std::string>().find("missing or unreadable") != std::string::npos);
  auto b = baseline_json(run, base.dir);
  CAF_CHECK_EQUAL(b["completion"]["p90_s"].get<double>(), 4.0);
  CAF_CHECK_EQUAL(b["slowdown"]["p90"].get<double>(), 2.5);
  CAF_CHECK_EQUAL(b["slowdown"]["p50"].get<double>(), 2.5);
  CAF_CHECK_EQUAL(b["duration_s"].get<double>(), 9.5);
}

CAF_TEST(a baseline whose leechers did not finish gives no reference) {
  baseline_dir base(json::array({leecher("l-1", 2.0), leecher("l-2", nullptr)}));
  auto o = slowdown_oracle(json::array({leecher("l-1", 2.0), leecher("l-2", 2.0)}), base.dir, 3.0);
  CAF_CHECK_EQUAL(o["passed"].get<bool>(), false);
  CAF_CHECK(o["detail"].get<std::string>().find("baseline run did not complete") != std::string::npos);
}

CAF_TEST(the baseline plan has no faults or behaviors and no slowdown oracle) {
  auto p = parse_plan(R"(name: b
seed: 1
torrent: {size: 1MiB}
groups:
  - {name: s, kind: actorrent, count: 1, role: seed}
  - {name: liars, kind: actorrent, count: 1, role: seed, behavior: {corrupt_blocks: 20%}}
  - {name: l, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 2s, kind: partition, between: [l, s]}
oracles: [all_honest_complete, misbehaving_banned, {slowdown: 3x}, no_crash]
)",
                      "b.yaml");
  CAF_REQUIRE(p);
  auto rp = resolve(*p);
  CAF_REQUIRE(rp);
  CAF_CHECK(!rp->peers[1].honest);
  auto b = without_faults(*rp);
  CAF_CHECK(b.faults.empty());
  CAF_CHECK(b.spec.faults.empty());
  CAF_CHECK(b.spec.groups[1].behavior.empty());
  CAF_CHECK(b.peers[1].honest);
  CAF_REQUIRE_EQUAL(b.spec.oracles.size(), 2u);
  CAF_CHECK_EQUAL(b.spec.oracles[0].name, "all_honest_complete");
  CAF_CHECK_EQUAL(b.spec.oracles[1].name, "no_crash");
  CAF_CHECK_EQUAL(b.peers.size(), rp->peers.size());
  CAF_CHECK_EQUAL(b.peers[3].address, rp->peers[3].address);
}

CAF_TEST(missing real clients are named with their package) {
  auto p = parse_plan("name: c\nseed: 1\ntorrent: {size: 1MiB}\ngroups:\n"
                      "  - {name: s, kind: actorrent, count: 1, role: seed}\n"
                      "  - {name: tr, kind: transmission, count: 1, role: leech}\n",
                      "c.yaml");
  CAF_REQUIRE(p);
  auto rp = resolve(*p);
  CAF_REQUIRE(rp);
  auto old = std::string{std::getenv("PATH") ? std::getenv("PATH") : ""};
  ::setenv("PATH", "/nonexistent", 1);
  auto missing = missing_clients(*rp);
  ::setenv("PATH", old.c_str(), 1);
  CAF_CHECK_EQUAL(missing, "group tr: kind transmission needs transmission-cli, not found on PATH"
                           " (Debian: apt-get install transmission-cli)\n");
  auto argv = real_client_argv(*rp, 1, "/x/lab.torrent", "/x/peers/tr-1");
  CAF_REQUIRE_EQUAL(argv.size(), 6u);
  CAF_CHECK(argv[1].size() > 11 && argv[1].substr(argv[1].size() - 11) == "/tr_peer.py");
  CAF_CHECK_EQUAL(argv[2], "leech");
}

CAF_TEST(every example plan is valid) {
  namespace fs = std::filesystem;
  std::size_t plans = 0;
  for (auto& e : fs::directory_iterator(fs::path(ACTORRENT_SOURCE_DIR) / "examples" / "plans")) {
    if (e.path().extension() != ".yaml")
      continue;
    auto p = load_plan(e.path().string());
    if (!p) {
      CAF_FAIL(p.error().message);
      continue;
    }
    auto rp = resolve(*p);
    CAF_CHECK(static_cast<bool>(rp));
    ++plans;
  }
  CAF_CHECK_GREATER_OR_EQUAL(plans, 6u);
}
