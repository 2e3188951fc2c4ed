// libFuzzer target for disk-fault specs (storage/disk_faults.hpp): the text of
// `--disk-fault` and of the lab's disk_fault_atom, which reaches a peer over
// BASP. Every accepted spec must print a canonical form that parses back to
// the same spec and prints the same again, and a few writes under it must
// decide only EIO, ENOSPC or nothing, with the delay it names.

#include "fuzz/fuzz_check.hpp"
#include "storage/disk_faults.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace actorrent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto spec = storage::parse_disk_fault_spec(input);
  if (!spec)
    return 0;
  auto text = spec->to_string();
  auto back = storage::parse_disk_fault_spec(text);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == *spec || (spec->empty() && back->empty()));
  FUZZ_CHECK(back->to_string() == text);
  auto quick = *spec;
  quick.slow_write = std::chrono::microseconds{0}; // decide, but never sleep in the fuzzer
  storage::disk_faults f{quick};
  for (int i = 0; i < 4; ++i) {
    auto d = f.before_write(16384);
    FUZZ_CHECK(d.error == 0 || d.error == EIO || d.error == ENOSPC);
    FUZZ_CHECK(d.delay.count() == 0);
  }
  return 0;
}
