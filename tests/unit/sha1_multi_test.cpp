#define CAF_SUITE sha1_multi
#include <caf/test/unit_test.hpp>

#include "protocol/sha1_multi.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace actorrent;

namespace {

std::vector<sha1_kernel> available_kernels() {
  std::vector<sha1_kernel> out;
  for (auto k : {sha1_kernel::scalar, sha1_kernel::avx2, sha1_kernel::avx512})
    if (sha1_kernel_available(k))
      out.push_back(k);
  return out;
}

// `count` buffers of `len` random bytes, each starting `skew` bytes into its
// own allocation (so lanes are unaligned and lie at any distance and order).
struct buffers {
  std::vector<std::vector<std::uint8_t>> store;
  std::vector<const std::uint8_t*> ptrs;

  buffers(std::size_t count, std::size_t len, std::uint32_t seed) {
    std::mt19937 rng{seed};
    store.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto skew = i % 5;
      store[i].resize(len + skew);
      for (auto& b : store[i])
        b = static_cast<std::uint8_t>(rng());
      ptrs.push_back(store[i].data() + skew);
    }
  }
};

// Every available kernel against OpenSSL's one-shot SHA-1.
void check_against_openssl(std::size_t count, std::size_t len, std::uint32_t seed) {
  buffers in{count, len, seed};
  for (auto k : available_kernels()) {
    std::vector<sha1_hash> got(count);
    sha1_many(in.ptrs.data(), count, len, got.data(), k);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) {
      auto want = sha1(in.ptrs[i], len).hex();
      if (got[i].hex() != want && wrong++ == 0)
        CAF_MESSAGE("kernel " << to_string(k) << ", " << count << " buffers of " << len << " bytes, buffer " << i
                              << ": " << got[i].hex() << " != " << want);
    }
    CAF_CHECK_EQUAL(wrong, 0u);
  }
}

} // namespace

CAF_TEST(known answers of FIPS 180 in every lane of every kernel) {
  const std::string million(1000000, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {million, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
  };
  for (auto k : available_kernels())
    for (auto& [text, hex] : cases) {
      // 17 copies: one full group of 16 lanes and a remainder of one
      std::vector<const std::uint8_t*> ptrs(17, reinterpret_cast<const std::uint8_t*>(text.data()));
      std::vector<sha1_hash> got(ptrs.size());
      sha1_many(ptrs.data(), ptrs.size(), text.size(), got.data(), k);
      for (auto& h : got)
        CAF_CHECK_EQUAL(h.hex(), hex);
    }
}

CAF_TEST(every padding shape around the 64 - byte block and its 56 - byte limit) {
  for (std::size_t len : {0u, 1u, 3u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 127u, 128u, 129u, 1000u})
    check_against_openssl(16, len, static_cast<std::uint32_t>(len) + 1);
}

CAF_TEST(any count of buffers from full groups to partial groups to one) {
  for (std::size_t count = 1; count <= 35; ++count)
    check_against_openssl(count, 200, static_cast<std::uint32_t>(count) * 7);
}

CAF_TEST(piece - sized buffers: 16 KiB blocks and 256 KiB pieces) {
  check_against_openssl(19, 16 * 1024, 11);
  check_against_openssl(17, 256 * 1024, 12);
}

CAF_TEST(buffers in parts hash like the whole buffer) {
  // (count, parts, part_len): 16 KiB blocks of a 256 KiB piece, small parts,
  // one part with a ragged end, partial lane groups
  const std::vector<std::array<std::size_t, 3>> shapes = {
    {17, 16, 16 * 1024}, {16, 3, 64}, {5, 7, 128}, {2, 2, 192}, {20, 1, 1000}, {9, 4, 0}};
  for (auto [count, parts, part_len] : shapes) {
    buffers in{count, parts * part_len, static_cast<std::uint32_t>(count + parts + part_len)};
    std::vector<const std::uint8_t*> ptrs;
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t j = 0; j < parts; ++j)
        ptrs.push_back(in.ptrs[i] + j * part_len);
    for (auto k : available_kernels()) {
      std::vector<sha1_hash> got(count);
      sha1_many_parts(ptrs.data(), count, parts, part_len, got.data(), k);
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < count; ++i)
        if (got[i] != sha1(in.ptrs[i], parts * part_len) && wrong++ == 0)
          CAF_MESSAGE("kernel " << to_string(k) << ", " << count << " buffers of " << parts << " x " << part_len
                                << " bytes, buffer " << i);
      CAF_CHECK_EQUAL(wrong, 0u);
    }
  }
}

CAF_TEST(a stream fed in chunks of any multiple of 64 gives the digests of the whole) {
  // chunk sizes cycle through these; the last one may be ragged
  const std::vector<std::size_t> chunks = {64, 16 * 1024, 192, 4096, 640};
  for (auto k : available_kernels())
    for (std::size_t count : {1u, 2u, 3u, 8u, 9u, 10u, 11u, 16u}) {
      if (count > sha1_lanes(k) && k != sha1_kernel::scalar)
        continue;
      for (std::size_t len : {0u, 63u, 64u, 100000u, 21 * 1024u}) {
        buffers in{count, len, static_cast<std::uint32_t>(count * 131 + len)};
        sha1_stream st{count, k};
        std::vector<const std::uint8_t*> ptrs(count);
        std::size_t off = 0;
        for (std::size_t c = 0; off < len; ++c) {
          auto n = std::min(chunks[c % chunks.size()], len - off);
          for (std::size_t i = 0; i < count; ++i)
            ptrs[i] = in.ptrs[i] + off;
          st.update(ptrs.data(), n);
          off += n;
        }
        std::vector<sha1_hash> got(count);
        st.finish(got.data());
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < count; ++i)
          if (got[i] != sha1(in.ptrs[i], len) && wrong++ == 0)
            CAF_MESSAGE("kernel " << to_string(k) << " (ran " << to_string(st.kernel()) << "), " << count
                                  << " messages of " << len << " bytes, message " << i);
        CAF_CHECK_EQUAL(wrong, 0u);
      }
    }
}

CAF_TEST(a stream refuses more data after a ragged chunk and too many messages) {
  const std::uint8_t bytes[128] = {};
  const std::uint8_t* p = bytes;
  sha1_stream st{1};
  st.update(&p, 100);
  bool refused = false;
  try {
    st.update(&p, 64);
  } catch (const std::logic_error&) {
    refused = true;
  }
  CAF_CHECK(refused);
  refused = false;
  try {
    sha1_stream too_many{17, sha1_default_kernel() == sha1_kernel::scalar ? sha1_kernel::avx2 : sha1_default_kernel()};
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CAF_CHECK(refused);
}

CAF_TEST(parts that split a 64 - byte block are refused) {
  const std::uint8_t bytes[200] = {};
  const std::uint8_t* ptrs[2] = {bytes, bytes + 100};
  sha1_hash out;
  bool refused = false;
  try {
    sha1_many_parts(ptrs, 1, 2, 100, &out);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CAF_CHECK(refused);
}

CAF_TEST(the default kernel is available and the widest one unless narrowed) {
  auto k = sha1_default_kernel();
  CAF_CHECK(sha1_kernel_available(k));
  CAF_CHECK(sha1_kernel_available(sha1_kernel::scalar));
  CAF_CHECK_EQUAL(sha1_lanes(sha1_kernel::scalar), 1u);
  CAF_CHECK_EQUAL(sha1_lanes(sha1_kernel::avx2), 8u);
  CAF_CHECK_EQUAL(sha1_lanes(sha1_kernel::avx512), 16u);
  CAF_CHECK(sha1_kernel_from_string("avx2") == sha1_kernel::avx2);
  CAF_CHECK(!sha1_kernel_from_string("sse9"));
  if (std::getenv("ACTORRENT_SHA1") == nullptr && sha1_kernel_available(sha1_kernel::avx512))
    CAF_CHECK(k == sha1_kernel::avx512);
}
