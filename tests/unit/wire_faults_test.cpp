#define CAF_SUITE wire_faults
#include <caf/test/unit_test.hpp>

#include "lab/plan.hpp"
#include "logic/wire_faults.hpp"

#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::logic;

namespace {

std::string error_of(std::string_view spec) {
  auto r = parse_wire_fault_spec(spec);
  return r ? std::string{} : r.error().message;
}

bool contains(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos)
    return true;
  CAF_MESSAGE("'" << s << "' lacks '" << part << "'");
  return false;
}

/// Which of blocks 0..n-1 of pieces 0..m-1 a spec corrupts, as a bit string.
std::string corrupted(const std::string& spec, std::uint32_t pieces, std::uint32_t blocks) {
  auto s = parse_wire_fault_spec(spec);
  CAF_REQUIRE(s);
  wire_faults f{*s, nullptr};
  std::string out;
  for (std::uint32_t p = 0; p < pieces; ++p)
    for (std::uint32_t b = 0; b < blocks; ++b)
      out.push_back(f.corrupt(p, b) ? '1' : '0');
  return out;
}

} // namespace

CAF_TEST(a spec names behaviours values seed and peer) {
  auto r = parse_wire_fault_spec("corrupt_blocks=20%,fake_have,seed=42,peer=liars-1");
  CAF_REQUIRE_EQUAL(error_of("corrupt_blocks=20%,fake_have,seed=42,peer=liars-1"), "");
  CAF_CHECK_EQUAL(r->get(wire_behavior::corrupt_blocks), 200'000u); // ppm
  CAF_CHECK_EQUAL(r->get(wire_behavior::claim_unserved), 1'000'000u); // bare percentage: all
  CAF_CHECK_EQUAL(r->seed, 42u);
  CAF_CHECK_EQUAL(r->peer, "liars-1");
  CAF_CHECK(r->any());
  CAF_CHECK_EQUAL(r->to_string(), "corrupt_blocks=20%,claim_unserved=100%,seed=42,peer=liars-1");
  // every value type, blanks around items
  auto all = parse_wire_fault_spec(" choke_flapping=2s , slow_reads=5MB/s, snub, free_ride=false, unknown_messages=true ");
  CAF_REQUIRE(all);
  CAF_CHECK_EQUAL(all->get(wire_behavior::choke_flapping), 2000u);
  CAF_CHECK_EQUAL(all->get(wire_behavior::slow_reads), 40'000'000u);
  CAF_CHECK(all->on(wire_behavior::snub));
  CAF_CHECK(!all->on(wire_behavior::free_ride)); // false: off
  CAF_CHECK(all->on(wire_behavior::unknown_messages));
  // the canonical form parses back to the same spec
  auto again = parse_wire_fault_spec(all->to_string());
  CAF_REQUIRE(again);
  CAF_CHECK(again->value == all->value);
  // empty: everything off
  auto none = parse_wire_fault_spec("");
  CAF_REQUIRE(none);
  CAF_CHECK(!none->any());
  auto zero = parse_wire_fault_spec("corrupt_blocks=0%");
  CAF_REQUIRE(zero);
  CAF_CHECK(!zero->any());
}

CAF_TEST(bad specs are clear errors) {
  CAF_CHECK(contains(error_of("corrupt_block=20%"), "'corrupt_block': unknown wire fault (did you mean 'corrupt_blocks'?)"));
  CAF_CHECK(contains(error_of("launch_missiles"), "unknown wire fault"));
  CAF_CHECK(contains(error_of("launch_missiles"), "known: corrupt_blocks, claim_unserved"));
  CAF_CHECK(contains(error_of("corrupt_blocks=20"), "'corrupt_blocks': expected a percentage"));
  CAF_CHECK(contains(error_of("corrupt_blocks=120%"), "'corrupt_blocks': expected a percentage"));
  CAF_CHECK(contains(error_of("snub=maybe"), "'snub': expected true or false, got 'maybe'"));
  CAF_CHECK(contains(error_of("choke_flapping=fast"), "'choke_flapping': expected a duration"));
  CAF_CHECK(contains(error_of("slow_reads=0bit"), "'slow_reads': expected a rate"));
  CAF_CHECK(contains(error_of("snub,snub"), "'snub': given twice"));
  CAF_CHECK(contains(error_of("fake_have,claim_unserved=5%"), "given twice")); // an alias is the same behaviour
  CAF_CHECK(contains(error_of("snub,,free_ride"), "empty item"));
  CAF_CHECK(contains(error_of("snub,"), "empty item"));
  CAF_CHECK(contains(error_of("corrupt_blocks="), "empty value"));
  CAF_CHECK(contains(error_of("seed"), "'seed': needs a value"));
  CAF_CHECK(contains(error_of("seed=-1"), "'seed': expected an integer"));
  CAF_CHECK(contains(error_of("seed=99999999999999999999"), "'seed': expected an integer"));
  CAF_CHECK(contains(error_of("peer=a b"), "'peer': expected a name"));
  CAF_CHECK(contains(error_of("peer=" + std::string(65, 'x')), "'peer': expected a name"));
  CAF_CHECK(contains(error_of(std::string(5000, 'x')), "longer than 4096 bytes"));
  CAF_CHECK(contains(error_of("sn\x01ub"), "'sn\\x01ub'")); // untrusted bytes are quoted
}

CAF_TEST(the same seed gives the same decisions and another seed others) {
  auto a = corrupted("corrupt_blocks=20%,seed=42,peer=liars-1", 64, 16);
  CAF_CHECK_EQUAL(a, corrupted("corrupt_blocks=20%,seed=42,peer=liars-1", 64, 16));
  CAF_CHECK_NOT_EQUAL(a, corrupted("corrupt_blocks=20%,seed=43,peer=liars-1", 64, 16));
  CAF_CHECK_NOT_EQUAL(a, corrupted("corrupt_blocks=20%,seed=42,peer=liars-2", 64, 16));
  // about the share: 20% of 1024 blocks
  auto ones = static_cast<double>(std::count(a.begin(), a.end(), '1'));
  CAF_CHECK_GREATER(ones, 0.15 * 1024);
  CAF_CHECK_LESS(ones, 0.25 * 1024);
  // 0% and 100% are exact
  CAF_CHECK_EQUAL(corrupted("corrupt_blocks=100%,seed=1", 4, 4), std::string(16, '1'));
  CAF_CHECK_EQUAL(corrupted("claim_unserved=50%,seed=1", 4, 4), std::string(16, '0'));
  // the mix is a fixed function (a change would change every lab run's decisions)
  CAF_CHECK_EQUAL(wire_faults::mix(42, "liars-1", 1, 0, 0), wire_faults::mix(42, "liars-1", 1, 0, 0));
  CAF_CHECK_NOT_EQUAL(wire_faults::mix(42, "liars-1", 1, 0, 1), wire_faults::mix(42, "liars-1", 1, 1, 0));
  // pieces claimed and never served follow their own share
  auto s = parse_wire_fault_spec("claim_unserved=30%,seed=7");
  CAF_REQUIRE(s);
  wire_faults f{*s, nullptr};
  int unserved = 0;
  for (std::uint32_t p = 0; p < 1000; ++p)
    unserved += f.unserved(p) ? 1 : 0;
  CAF_CHECK_GREATER(unserved, 250);
  CAF_CHECK_LESS(unserved, 350);
}

CAF_TEST(counters count per behaviour and per peer and survive a new spec) {
  auto counters = std::make_shared<wire_fault_counters>();
  wire_faults one{*parse_wire_fault_spec("snub"), counters};
  one.counters().add(wire_behavior::snub, 3);
  one.counters().corrupted_to(5);
  wire_faults two{*parse_wire_fault_spec("corrupt_blocks=1%"), counters};
  two.counters().add(wire_behavior::corrupt_blocks);
  two.counters().corrupted_to(5, 2);
  CAF_CHECK_EQUAL(counters->get(wire_behavior::snub), 3u);
  auto v = counters->values();
  CAF_CHECK_EQUAL(v.size(), 2u);
  CAF_CHECK_EQUAL(v["wire.snub"], "3");
  CAF_CHECK_EQUAL(v["wire.corrupt_blocks"], "1");
  auto by_peer = counters->corrupted_by_peer(); // named: CAF_CHECK_EQUAL keeps a reference
  CAF_CHECK_EQUAL(by_peer.at(5), 3u);
  CAF_CHECK(sends_bad_data(wire_behavior::corrupt_blocks));
  CAF_CHECK(!sends_bad_data(wire_behavior::snub));
}

CAF_TEST(every behaviour of a lab plan is a wire fault and back) {
  // the plan's behavior map, every key, in the plan's printed values
  std::string keys;
  for (auto b : all_wire_behaviors()) {
    std::string v;
    switch (value_type(b)) {
      case wire_value::percent: v = "20%"; break;
      case wire_value::flag: v = "true"; break;
      case wire_value::duration: v = "2s"; break;
      case wire_value::rate: v = "1mbit"; break;
    }
    keys += (keys.empty() ? "" : ", ") + std::string{to_string(b)} + ": " + v;
  }
  auto yaml = "name: all\nseed: 9\ntorrent: {size: 1MiB}\ngroups:\n"
              "  - {name: s, kind: actorrent, count: 1, role: seed}\n"
              "  - {name: bad, kind: actorrent, count: 1, role: leech, behavior: {"
              + keys + "}}\n";
  auto p = lab::parse_plan(yaml, "all.yaml");
  CAF_REQUIRE_EQUAL(p ? std::string{} : p.error().message, "");
  const auto& entries = p->groups[1].behavior;
  CAF_CHECK_EQUAL(entries.size(), wire_behavior_count);
  std::vector<std::pair<std::string, std::string>> kv;
  for (auto& e : entries)
    kv.emplace_back(e.key, e.value);
  auto spec_text = wire_fault_spec_string(kv, p->seed, "bad-1");
  auto spec = parse_wire_fault_spec(spec_text);
  CAF_REQUIRE_EQUAL(spec ? std::string{} : spec.error().message, "");
  for (auto b : all_wire_behaviors())
    CAF_CHECK(spec->on(b));
  CAF_CHECK_EQUAL(spec->seed, 9u);
  CAF_CHECK_EQUAL(spec->peer, "bad-1");
  CAF_CHECK_EQUAL(spec->get(wire_behavior::corrupt_blocks), 200'000u);
}
