// libFuzzer target for wire-fault specs (logic/wire_faults.hpp: `--wire-fault`
// and the torrent's wire_fault_atom take them from users and the lab).
//
// Every input either parses or gives an error that starts with "wire-fault";
// an accepted spec prints a canonical form that parses back to the same spec,
// and its decisions are the same when asked twice.

#include "fuzz/fuzz_check.hpp"
#include "logic/wire_faults.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace actorrent;
using namespace actorrent::logic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto s = parse_wire_fault_spec(in);
  if (!s) {
    FUZZ_CHECK_MSG(s.error().message.rfind("wire-fault", 0) == 0, s.error().message);
    return 0;
  }
  auto text = s->to_string();
  auto again = parse_wire_fault_spec(text);
  FUZZ_CHECK_MSG(again.ok(), text);
  FUZZ_CHECK_MSG(again->value == s->value && again->seed == s->seed && again->peer == s->peer, text);
  FUZZ_CHECK(again->to_string() == text);
  wire_faults f{*s, nullptr};
  for (std::uint32_t p = 0; p < 8; ++p) {
    FUZZ_CHECK(f.corrupt(p, p * 3) == f.corrupt(p, p * 3));
    FUZZ_CHECK(f.unserved(p) == f.unserved(p));
  }
  return 0;
}
