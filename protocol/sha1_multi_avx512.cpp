// 16-lane SHA-1 with AVX-512 F + BW; this file alone is compiled with those
// instruction sets (see CMakeLists.txt) and runs only after a CPU check.
#include "protocol/sha1_multi_kernel.hpp"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>

namespace actorrent::detail {
namespace {

struct avx512_lanes {
  using reg = __m512i;
  static constexpr int lanes = 16;

  static reg load(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static void store(uint32_t* p, reg v) { _mm512_storeu_si512(p, v); }
  static reg set1(uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
  static reg add(reg a, reg b) { return _mm512_add_epi32(a, b); }
  template <int n>
  static reg rol(reg a) {
    return _mm512_rol_epi32(a, n);
  }
  // vpternlogd truth tables, operand order (b, c, d)
  static reg ch(reg b, reg c, reg d) { return _mm512_ternarylogic_epi32(b, c, d, 0xCA); }
  static reg parity(reg b, reg c, reg d) { return _mm512_ternarylogic_epi32(b, c, d, 0x96); }
  static reg maj(reg b, reg c, reg d) { return _mm512_ternarylogic_epi32(b, c, d, 0xE8); }
  static reg xor4(reg a, reg b, reg c, reg d) {
    return _mm512_xor_si512(_mm512_ternarylogic_epi32(a, b, c, 0x96), d);
  }

  // Word t of lane l into element l of w[t]: one 64-byte load per lane, a
  // byte swap to big-endian, then a 16x16 transpose of 32-bit elements
  // (dword and qword unpacks inside 128-bit lanes, then two rounds of
  // 128-bit lane shuffles). Gathers did the same at a third of the speed.
  static void load_block(const uint8_t* const* p, size_t off, reg* w) {
    const __m512i swap = _mm512_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9,
                                         10, 11, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0,
                                         1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    reg r[16];
    for (int l = 0; l < 16; ++l)
      r[l] = _mm512_shuffle_epi8(_mm512_loadu_si512(p[l] + off), swap);
    // u[4g + c]: rows 4g..4g+3, words 4j+c in 128-bit lane j
    reg u[16];
    for (int g = 0; g < 4; ++g) {
      reg t0 = _mm512_unpacklo_epi32(r[4 * g], r[4 * g + 1]);
      reg t1 = _mm512_unpackhi_epi32(r[4 * g], r[4 * g + 1]);
      reg t2 = _mm512_unpacklo_epi32(r[4 * g + 2], r[4 * g + 3]);
      reg t3 = _mm512_unpackhi_epi32(r[4 * g + 2], r[4 * g + 3]);
      u[4 * g + 0] = _mm512_unpacklo_epi64(t0, t2);
      u[4 * g + 1] = _mm512_unpackhi_epi64(t0, t2);
      u[4 * g + 2] = _mm512_unpacklo_epi64(t1, t3);
      u[4 * g + 3] = _mm512_unpackhi_epi64(t1, t3);
    }
    for (int c = 0; c < 4; ++c) {
      reg v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44);
      reg v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
      reg v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
      reg v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
      w[c] = _mm512_shuffle_i32x4(v0, v2, 0x88);
      w[4 + c] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
      w[8 + c] = _mm512_shuffle_i32x4(v1, v3, 0x88);
      w[12 + c] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
    }
  }
};

} // namespace

void sha1_blocks_avx512(const uint8_t* const* lanes, size_t nblocks, uint32_t* state) {
  sha1_blocks<avx512_lanes>(lanes, nblocks, state);
}

} // namespace actorrent::detail

#else

namespace actorrent::detail {
// never called: sha1_kernel_available(avx512) is false on such builds
void sha1_blocks_avx512(const uint8_t* const*, size_t, uint32_t*) { __builtin_trap(); }
} // namespace actorrent::detail

#endif
