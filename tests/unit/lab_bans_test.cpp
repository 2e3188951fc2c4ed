#define CAF_SUITE lab_bans
#include <caf/test/unit_test.hpp>

#include "lab/bans.hpp"
#include "lab/plan.hpp"

#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::lab;

namespace {

// seeders-1 10.77.0.2, liars-1 10.77.0.3, leechers-1 10.77.0.4, leechers-2 10.77.0.5
const char* plan_text = R"(name: bans
seed: 3
torrent: {size: 1MiB}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed}
  - {name: liars, kind: actorrent, count: 1, role: seed, behavior: {corrupt_blocks: 20%}}
  - {name: leechers, kind: actorrent, count: 2, role: leech}
)";

resolved_plan plan() {
  auto p = parse_plan(plan_text, "bans.yaml");
  CAF_REQUIRE(p);
  auto r = resolve(*p);
  CAF_REQUIRE(r);
  CAF_REQUIRE_EQUAL(r->peers[1].address, "10.77.0.3");
  return *r;
}

std::vector<ban_report> honest_reports() {
  std::vector<ban_report> r(4);
  for (auto& x : r) {
    x.reported = true;
    x.banned.emplace();
  }
  return r;
}

} // namespace

CAF_TEST(the liar gets its wire-fault argument and honest peers none) {
  auto rp = plan();
  CAF_CHECK_EQUAL(wire_fault_arg(rp, 1), "corrupt_blocks=20%,seed=3,peer=liars-1");
  CAF_CHECK_EQUAL(wire_fault_arg(rp, 0), "");
  CAF_CHECK(sends_bad_data(rp, 1));
  CAF_CHECK(!sends_bad_data(rp, 2));
  CAF_CHECK_EQUAL(address_host("10.77.0.3:6881"), "10.77.0.3");
  CAF_CHECK_EQUAL(address_host("[fd00::1]:80"), "fd00::1");
}

CAF_TEST(every fed leecher banned the liar: oracles hold precision and recall 1) {
  auto rp = plan();
  auto r = honest_reports();
  // leechers-1 banned the liar twice (it dialled us, we dialled it): one name
  *r[2].banned = {"10.77.0.3:6881", "10.77.0.3:40000"};
  r[2].failed_from = {{"10.77.0.3:6881", 3}};
  *r[3].banned = {"10.77.0.3:6881"};
  r[3].failed_from = {{"10.77.0.3:40000", 1}, {"10.77.0.2:6881", 1}}; // an honest co-sender is not a liar
  r[1].corrupted_to = {{"10.77.0.4:51000", 40}, {"10.77.0.5:6881", 9}};
  auto a = analyse_bans(rp, r);
  CAF_CHECK(a.misbehaving_banned);
  CAF_CHECK(a.no_honest_banned);
  CAF_CHECK_EQUAL(a.banned_peers[2], (std::vector<std::string>{"liars-1"}));
  CAF_REQUIRE(a.precision && a.recall);
  CAF_CHECK_EQUAL(*a.precision, 1.0);
  CAF_CHECK_EQUAL(*a.recall, 1.0);
}

CAF_TEST(a fed leecher that did not ban and an honest peer banned fail their oracles) {
  auto rp = plan();
  auto r = honest_reports();
  *r[2].banned = {"10.77.0.2:6881"}; // the honest seeder
  r[2].failed_from = {{"10.77.0.3:6881", 2}};
  auto a = analyse_bans(rp, r);
  CAF_CHECK(!a.misbehaving_banned);
  CAF_CHECK(a.misbehaving_detail.find("leechers-1 did not ban liars-1 (2 failed pieces had its blocks)")
            != std::string::npos);
  CAF_CHECK(!a.no_honest_banned);
  CAF_CHECK(a.no_honest_detail.find("leechers-1 banned seeders-1 (honest)") != std::string::npos);
  CAF_REQUIRE(a.precision && a.recall);
  CAF_CHECK_EQUAL(*a.precision, 0.0);
  CAF_CHECK_EQUAL(*a.recall, 0.0);
}

CAF_TEST(corrupted blocks never hashed are not judged and no ban means no precision) {
  auto rp = plan();
  auto r = honest_reports();
  r[1].corrupted_to = {{"10.77.0.4:6881", 5}}; // duplicates leechers-1 dropped
  auto a = analyse_bans(rp, r);
  CAF_CHECK(a.misbehaving_banned);
  CAF_CHECK(a.misbehaving_detail.find("never hashed them") != std::string::npos);
  CAF_CHECK(!a.precision);
  CAF_CHECK(!a.recall);
  // a peer that reported no ban list cannot be judged
  r[3].banned.reset();
  CAF_CHECK(!analyse_bans(rp, r).no_honest_banned);
}
