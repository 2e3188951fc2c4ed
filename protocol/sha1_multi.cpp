#include "protocol/sha1_multi.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace actorrent {

namespace {

constexpr std::uint32_t sha1_init[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
constexpr std::size_t max_lanes = 16;

using blocks_fn = void (*)(const std::uint8_t* const*, std::size_t, std::uint32_t*);

blocks_fn blocks_of(sha1_kernel k) {
  return k == sha1_kernel::avx512 ? detail::sha1_blocks_avx512 : detail::sha1_blocks_avx2;
}

// One call of a SIMD kernel over `count` (1..lanes) buffers, each made of
// `parts` parts of `part_len` bytes (part j of buffer i at data[i * parts + j];
// only the last part may end inside a 64-byte block). The unused lanes repeat
// buffer 0 and their results are dropped.
void hash_group(sha1_kernel k, const std::uint8_t* const* data, std::size_t count, std::size_t parts,
                std::size_t part_len, sha1_hash* out) {
  const std::size_t lanes = sha1_lanes(k);
  std::array<const std::uint8_t*, max_lanes> ptr{};
  auto source = [&](std::size_t lane, std::size_t part) { return data[(lane < count ? lane : 0) * parts + part]; };
  alignas(64) std::uint32_t state[5 * max_lanes];
  for (std::size_t w = 0; w < 5; ++w)
    for (std::size_t i = 0; i < lanes; ++i)
      state[w * lanes + i] = sha1_init[w];
  const std::size_t full = part_len / 64;
  for (std::size_t j = 0; j < parts && full > 0; ++j) {
    for (std::size_t i = 0; i < lanes; ++i)
      ptr[i] = source(i, j);
    blocks_of(k)(ptr.data(), full, state);
  }
  // padding: the rest, 0x80, zeroes, the length in bits (big-endian), in one
  // block or two; the same shape for every lane since the lengths are equal
  const std::size_t rest = part_len % 64;
  const std::size_t tail_blocks = rest + 9 <= 64 ? 1 : 2;
  alignas(64) std::uint8_t tail[max_lanes][128];
  const std::uint64_t bits = static_cast<std::uint64_t>(parts) * part_len * 8;
  for (std::size_t i = 0; i < lanes; ++i) {
    auto* t = tail[i];
    std::memset(t, 0, sizeof tail[i]);
    if (rest > 0)
      std::memcpy(t, source(i, parts - 1) + full * 64, rest);
    t[rest] = 0x80;
    for (std::size_t b = 0; b < 8; ++b)
      t[tail_blocks * 64 - 1 - b] = static_cast<std::uint8_t>(bits >> (8 * b));
    ptr[i] = t;
  }
  blocks_of(k)(ptr.data(), tail_blocks, state);
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t w = 0; w < 5; ++w) {
      auto v = state[w * lanes + i];
      for (std::size_t b = 0; b < 4; ++b)
        out[i].bytes[4 * w + b] = static_cast<std::uint8_t>(v >> (24 - 8 * b));
    }
}

bool cpu_has(sha1_kernel k) {
#if defined(__x86_64__)
  switch (k) {
    case sha1_kernel::scalar:
      return true;
    case sha1_kernel::avx2:
      return __builtin_cpu_supports("avx2");
    case sha1_kernel::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }
  return false;
#else
  return k == sha1_kernel::scalar;
#endif
}

} // namespace

const char* to_string(sha1_kernel k) {
  switch (k) {
    case sha1_kernel::scalar:
      return "scalar";
    case sha1_kernel::avx2:
      return "avx2";
    case sha1_kernel::avx512:
      return "avx512";
  }
  return "?";
}

std::optional<sha1_kernel> sha1_kernel_from_string(std::string_view name) {
  for (auto k : {sha1_kernel::scalar, sha1_kernel::avx2, sha1_kernel::avx512})
    if (name == to_string(k))
      return k;
  return std::nullopt;
}

std::size_t sha1_lanes(sha1_kernel k) {
  switch (k) {
    case sha1_kernel::avx2:
      return 8;
    case sha1_kernel::avx512:
      return 16;
    default:
      return 1;
  }
}

bool sha1_kernel_available(sha1_kernel k) {
  static const bool avx2 = cpu_has(sha1_kernel::avx2);
  static const bool avx512 = cpu_has(sha1_kernel::avx512);
  return k == sha1_kernel::scalar || (k == sha1_kernel::avx2 && avx2) || (k == sha1_kernel::avx512 && avx512);
}

sha1_kernel sha1_default_kernel() {
  static const sha1_kernel chosen = [] {
    auto best = sha1_kernel_available(sha1_kernel::avx512) ? sha1_kernel::avx512
                : sha1_kernel_available(sha1_kernel::avx2) ? sha1_kernel::avx2
                                                             : sha1_kernel::scalar;
    if (const char* env = std::getenv("ACTORRENT_SHA1"))
      if (auto k = sha1_kernel_from_string(env); k && sha1_kernel_available(*k) && *k < best)
        best = *k;
    return best;
  }();
  return chosen;
}

void sha1_many(const std::uint8_t* const* data, std::size_t count, std::size_t len, sha1_hash* out,
               sha1_kernel k) {
  sha1_many_parts(data, count, 1, len, out, k);
}

void sha1_many_parts(const std::uint8_t* const* data, std::size_t count, std::size_t parts, std::size_t part_len,
                     sha1_hash* out, sha1_kernel k) {
  if (!sha1_kernel_available(k))
    throw std::invalid_argument(std::string{"SHA-1 kernel "} + to_string(k) + " is not available on this CPU");
  if (parts == 0 || (parts > 1 && part_len % 64 != 0))
    throw std::invalid_argument("SHA-1 of buffers in parts: at least one part, and parts a multiple of 64 bytes");
  std::size_t i = 0;
  while (i < count) {
    const std::size_t left = count - i;
    // a SIMD call costs the same with idle lanes as with full ones; measured
    // here (bench: 256 KiB buffers) 16 lanes of AVX-512 run at ~1.5x 8 lanes
    // of AVX2, and those at ~3x one buffer of OpenSSL: so a group of 11 or
    // more takes AVX-512, 3 or more AVX2, fewer go one by one
    auto use = sha1_kernel::scalar;
    const bool avx2 = k >= sha1_kernel::avx2 && sha1_kernel_available(sha1_kernel::avx2);
    if (k == sha1_kernel::avx512 && (left >= 11 || (!avx2 && left >= 5)))
      use = sha1_kernel::avx512;
    else if (avx2 && left >= 3)
      use = sha1_kernel::avx2;
    if (use == sha1_kernel::scalar) {
      if (parts == 1) {
        out[i] = sha1(data[i], part_len);
      } else {
        sha1_hasher h;
        for (std::size_t j = 0; j < parts; ++j)
          h.update(data[i * parts + j], part_len);
        out[i] = h.finish();
      }
      ++i;
      continue;
    }
    const std::size_t n = std::min(left, sha1_lanes(use));
    hash_group(use, data + i * parts, n, parts, part_len, out + i);
    i += n;
  }
}

} // namespace actorrent
