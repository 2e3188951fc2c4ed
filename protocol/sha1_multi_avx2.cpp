// 8-lane SHA-1 with AVX2; this file alone is compiled with -mavx2 (see
// CMakeLists.txt) and runs only after a CPU check.
#include "protocol/sha1_multi_kernel.hpp"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

namespace actorrent::detail {
namespace {

struct avx2_lanes {
  using reg = __m256i;
  static constexpr int lanes = 8;

  static reg load(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(uint32_t* p, reg v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static reg set1(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static reg add(reg a, reg b) { return _mm256_add_epi32(a, b); }
  template <int n>
  static reg rol(reg a) {
    return _mm256_or_si256(_mm256_slli_epi32(a, n), _mm256_srli_epi32(a, 32 - n));
  }
  static reg ch(reg b, reg c, reg d) { return _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d))); }
  static reg parity(reg b, reg c, reg d) { return _mm256_xor_si256(_mm256_xor_si256(b, c), d); }
  static reg maj(reg b, reg c, reg d) {
    return _mm256_or_si256(_mm256_and_si256(b, c), _mm256_and_si256(d, _mm256_or_si256(b, c)));
  }
  static reg xor4(reg a, reg b, reg c, reg d) {
    return _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
  }

  // Word t of lane l into element l of w[t]: per half block, one 32-byte load
  // per lane, a byte swap to big-endian and an 8x8 transpose of 32-bit
  // elements (unpacks inside 128-bit lanes, then 128-bit lane permutes).
  static void load_block(const uint8_t* const* p, size_t off, reg* w) {
    const __m256i swap = _mm256_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9,
                                         10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    for (int half = 0; half < 2; ++half) {
      reg r[8];
      for (int l = 0; l < 8; ++l)
        r[l] = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[l] + off + 32 * half)),
                                   swap);
      // u[4g + c]: rows 4g..4g+3, words 4j+c in 128-bit lane j
      reg u[8];
      for (int g = 0; g < 2; ++g) {
        reg t0 = _mm256_unpacklo_epi32(r[4 * g], r[4 * g + 1]);
        reg t1 = _mm256_unpackhi_epi32(r[4 * g], r[4 * g + 1]);
        reg t2 = _mm256_unpacklo_epi32(r[4 * g + 2], r[4 * g + 3]);
        reg t3 = _mm256_unpackhi_epi32(r[4 * g + 2], r[4 * g + 3]);
        u[4 * g + 0] = _mm256_unpacklo_epi64(t0, t2);
        u[4 * g + 1] = _mm256_unpackhi_epi64(t0, t2);
        u[4 * g + 2] = _mm256_unpacklo_epi64(t1, t3);
        u[4 * g + 3] = _mm256_unpackhi_epi64(t1, t3);
      }
      for (int c = 0; c < 4; ++c) {
        w[8 * half + c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
        w[8 * half + 4 + c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
      }
    }
  }
};

} // namespace

void sha1_blocks_avx2(const uint8_t* const* lanes, size_t nblocks, uint32_t* state) {
  sha1_blocks<avx2_lanes>(lanes, nblocks, state);
}

} // namespace actorrent::detail

#else

namespace actorrent::detail {
// never called: sha1_kernel_available(avx2) is false on such builds
void sha1_blocks_avx2(const uint8_t* const*, size_t, uint32_t*) { __builtin_trap(); }
} // namespace actorrent::detail

#endif
