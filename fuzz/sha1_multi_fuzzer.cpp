// libFuzzer target for the multi-buffer SHA-1 (protocol/sha1_multi.hpp): a
// differential test against OpenSSL. The first byte picks how many buffers the
// rest is cut into (1..35: full groups, partial groups, single ones); the
// rest is cut into that many equal parts (the remainder dropped), and every
// available kernel must give OpenSSL's digest for each part; buffers whose
// length is a multiple of 128 are hashed again cut in two halves (sha1_many_parts).

#include "fuzz/fuzz_check.hpp"
#include "protocol/sha1_multi.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace actorrent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::size_t count = 1 + data[0] % 35;
  ++data;
  --size;
  const std::size_t len = size / count;
  std::vector<const std::uint8_t*> ptrs;
  std::vector<sha1_hash> want;
  for (std::size_t i = 0; i < count; ++i) {
    ptrs.push_back(data + i * len);
    want.push_back(sha1(ptrs.back(), len));
  }
  for (auto k : {sha1_kernel::scalar, sha1_kernel::avx2, sha1_kernel::avx512}) {
    if (!sha1_kernel_available(k))
      continue;
    std::vector<sha1_hash> got(count);
    sha1_many(ptrs.data(), count, len, got.data(), k);
    for (std::size_t i = 0; i < count; ++i)
      FUZZ_CHECK_MSG(got[i] == want[i], std::string{to_string(k)} + ": buffer " + std::to_string(i) + " of "
                                          + std::to_string(count) + ", " + std::to_string(len) + " bytes");
  }
  // the same buffers in two parts each, when the cut can fall on a 64-byte block
  if (len >= 128 && len % 64 == 0) {
    const std::size_t half = len / 128 * 64;
    if (half * 2 == len) {
      std::vector<const std::uint8_t*> parts;
      for (auto* p : ptrs) {
        parts.push_back(p);
        parts.push_back(p + half);
      }
      std::vector<sha1_hash> got(count);
      sha1_many_parts(parts.data(), count, 2, half, got.data());
      for (std::size_t i = 0; i < count; ++i)
        FUZZ_CHECK_MSG(got[i] == want[i], "two parts: buffer " + std::to_string(i) + " of " + std::to_string(count));
    }
  }
  return 0;
}
