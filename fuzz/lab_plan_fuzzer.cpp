// libFuzzer target for swarm-lab plans (lab/plan.hpp) and the quantities in
// them (lab/units.hpp).
//
// Every input either parses or gives an error that starts with the source name;
// an accepted plan resolves or gives an error that names a fault; a resolved plan
// has one peer per counted group member, unique addresses inside 10.77.0.0/16,
// fault targets that exist, and prints. Sizes, durations, rates and percentages
// that parse print back to the same value.

#include "fuzz/fuzz_check.hpp"
#include "lab/plan.hpp"
#include "lab/units.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

using namespace actorrent;
using namespace actorrent::lab;

namespace {

void check_plan(std::string_view in) {
  auto p = parse_plan(in, "f.yaml");
  if (!p) {
    FUZZ_CHECK(p.error().message.rfind("f.yaml", 0) == 0);
    return;
  }
  FUZZ_CHECK(!p->groups.empty() && !p->oracles.empty());
  auto r = resolve(*p);
  if (!r) {
    FUZZ_CHECK(r.error().message.find("faults[") != std::string::npos);
    return;
  }
  std::size_t expected = 0;
  for (auto& g : p->groups)
    expected += g.count;
  FUZZ_CHECK(r->peers.size() == expected && expected <= max_peers_total);
  std::set<std::string> addresses, names;
  for (auto& peer : r->peers) {
    FUZZ_CHECK(peer.address.rfind("10.77.", 0) == 0 && peer.address != r->bridge_address);
    FUZZ_CHECK(addresses.insert(peer.address).second);
    FUZZ_CHECK(names.insert(peer.name).second);
  }
  FUZZ_CHECK(r->faults.size() == p->faults.size());
  for (auto& f : r->faults) {
    FUZZ_CHECK(!f.targets.empty());
    for (auto t : f.targets)
      FUZZ_CHECK(t < r->peers.size());
    for (auto t : f.other)
      FUZZ_CHECK(t < r->peers.size());
    if (f.end_ms)
      FUZZ_CHECK(*f.end_ms > f.start_ms && *f.end_ms <= p->max_duration_ms);
  }
  FUZZ_CHECK(!describe(*r).empty());
}

void check_units(std::string_view in) {
  if (in.size() > 64)
    return;
  if (auto v = parse_size(in))
    FUZZ_CHECK(parse_size(format_size(*v)).ok() && *parse_size(format_size(*v)) == *v);
  if (auto v = parse_duration_ms(in))
    FUZZ_CHECK(parse_duration_ms(format_duration_ms(*v)).ok() && *parse_duration_ms(format_duration_ms(*v)) == *v);
  if (auto v = parse_rate_bits(in))
    FUZZ_CHECK(parse_rate_bits(format_rate_bits(*v)).ok() && *parse_rate_bits(format_rate_bits(*v)) == *v);
  if (auto v = parse_percent_ppm(in)) {
    FUZZ_CHECK(*v <= 1'000'000);
    FUZZ_CHECK(parse_percent_ppm(format_percent_ppm(*v)).ok() && *parse_percent_ppm(format_percent_ppm(*v)) == *v);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_plan(input);
  check_units(input);
  return 0;
}
