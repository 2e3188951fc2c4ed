// The SHA-1 compression function written once over a lane type T, for the
// per-ISA translation units sha1_multi_avx2.cpp and sha1_multi_avx512.cpp.
//
// Everything here has internal linkage and the file includes no standard
// header: those units are compiled with -mavx2 / -mavx512f, and an inline
// function shared with the rest of the program could otherwise be emitted with
// those instructions and picked by the linker for callers on any CPU.
//
// T provides: reg (the vector), lanes, load/store of the state, set1, add,
// rol<n>, ch, parity, maj, xor4, and load_block(lanes, offset, w) that fills
// w[0..15] with the big-endian words of the 64-byte block at `offset` of every
// lane (word i of lane l in element l of w[i]).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace actorrent::detail {
namespace {

// One round t of FIPS 180-4's SHA-1, then the next with the working variables
// renamed (a, b, c, d, e) -> (e', a, b', c, d), so nothing is copied.
template <class T, int t>
struct sha1_round {
  using R = typename T::reg;
  __attribute__((always_inline)) static inline void run(R& a, R& b, R& c, R& d, R& e, R* w) {
    R wt;
    if constexpr (t < 16) {
      wt = w[t];
    } else {
      // w[t & 15] still holds w[t - 16]
      wt = T::template rol<1>(T::xor4(w[(t - 3) & 15], w[(t - 8) & 15], w[(t - 14) & 15], w[t & 15]));
      w[t & 15] = wt;
    }
    R f;
    uint32_t k;
    if constexpr (t < 20) {
      f = T::ch(b, c, d);
      k = 0x5A827999u;
    } else if constexpr (t < 40) {
      f = T::parity(b, c, d);
      k = 0x6ED9EBA1u;
    } else if constexpr (t < 60) {
      f = T::maj(b, c, d);
      k = 0x8F1BBCDCu;
    } else {
      f = T::parity(b, c, d);
      k = 0xCA62C1D6u;
    }
    e = T::add(T::add(e, T::template rol<5>(a)), T::add(f, T::add(wt, T::set1(k))));
    b = T::template rol<30>(b);
    if constexpr (t < 79)
      sha1_round<T, t + 1>::run(e, a, b, c, d, w);
  }
};

template <class T>
void sha1_blocks(const uint8_t* const* lanes, size_t nblocks, uint32_t* state) {
  using R = typename T::reg;
  constexpr int L = T::lanes;
  R h0 = T::load(state + 0 * L), h1 = T::load(state + 1 * L), h2 = T::load(state + 2 * L),
    h3 = T::load(state + 3 * L), h4 = T::load(state + 4 * L);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    R w[16];
    T::load_block(lanes, blk * 64, w);
    R a = h0, b = h1, c = h2, d = h3, e = h4;
    sha1_round<T, 0>::run(a, b, c, d, e, w);
    // after 80 renamings (80 = 16 * 5) the names are back where they started
    h0 = T::add(h0, a);
    h1 = T::add(h1, b);
    h2 = T::add(h2, c);
    h3 = T::add(h3, d);
    h4 = T::add(h4, e);
  }
  T::store(state + 0 * L, h0);
  T::store(state + 1 * L, h1);
  T::store(state + 2 * L, h2);
  T::store(state + 3 * L, h3);
  T::store(state + 4 * L, h4);
}

} // namespace
} // namespace actorrent::detail
