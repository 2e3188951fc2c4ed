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

sha1_kernel sha1_kernel_for(std::size_t count, sha1_kernel k) {
  // a SIMD call costs the same with idle lanes as with full ones; measured
  // here (bench: 256 KiB buffers) 16 lanes of AVX-512 run at ~1.5x 8 lanes of
  // AVX2, and those at ~3x one buffer of OpenSSL: so a group of 11 or more
  // takes AVX-512, 3 or more AVX2, fewer go one by one
  const bool avx2 = k >= sha1_kernel::avx2 && sha1_kernel_available(sha1_kernel::avx2);
  if (k == sha1_kernel::avx512 && (count >= 11 || (!avx2 && count >= 5)))
    return sha1_kernel::avx512;
  if (avx2 && count >= 3)
    return sha1_kernel::avx2;
  return sha1_kernel::scalar;
}

sha1_stream::sha1_stream(std::size_t count, sha1_kernel k) : count_(count) {
  if (!sha1_kernel_available(k))
    throw std::invalid_argument(std::string{"SHA-1 kernel "} + to_string(k) + " is not available on this CPU");
  if (count == 0 || (count > sha1_lanes(k) && k != sha1_kernel::scalar))
    throw std::invalid_argument("SHA-1 stream: 1 to " + std::to_string(sha1_lanes(k)) + " messages");
  kernel_ = sha1_kernel_for(count, k);
  if (kernel_ != sha1_kernel::scalar && count > sha1_lanes(kernel_))
    kernel_ = k; // e.g. 9 or 10 messages: too many for AVX2's lanes, not enough to prefer AVX-512
  if (kernel_ == sha1_kernel::scalar) {
    scalar_.resize(count);
    return;
  }
  const std::size_t lanes = sha1_lanes(kernel_);
  for (std::size_t w = 0; w < 5; ++w)
    for (std::size_t i = 0; i < lanes; ++i)
      state_[w * lanes + i] = sha1_init[w];
}

void sha1_stream::update(const std::uint8_t* const* data, std::size_t len) {
  if (closed_)
    throw std::logic_error("SHA-1 stream: update after a length that is not a multiple of 64");
  if (len % 64 != 0)
    closed_ = true;
  if (kernel_ == sha1_kernel::scalar) {
    for (std::size_t i = 0; i < count_; ++i)
      scalar_[i].update(data[i], len);
    total_ += len;
    return;
  }
  const std::size_t lanes = sha1_lanes(kernel_);
  std::array<const std::uint8_t*, max_lanes> ptr{};
  for (std::size_t i = 0; i < lanes; ++i) // idle lanes repeat message 0; their digests are dropped
    ptr[i] = data[i < count_ ? i : 0];
  const std::size_t full = len / 64;
  if (full > 0)
    blocks_of(kernel_)(ptr.data(), full, state_.data());
  rest_ = len % 64;
  for (std::size_t i = 0; i < lanes && rest_ > 0; ++i)
    std::memcpy(tail_[i].data(), ptr[i] + full * 64, rest_);
  total_ += len;
}

void sha1_stream::finish(sha1_hash* out) {
  closed_ = true;
  if (kernel_ == sha1_kernel::scalar) {
    for (std::size_t i = 0; i < count_; ++i)
      out[i] = scalar_[i].finish();
    return;
  }
  // padding: the rest, 0x80, zeroes, the length in bits (big-endian), in one
  // block or two; the same shape for every lane since the lengths are equal
  const std::size_t lanes = sha1_lanes(kernel_);
  const std::size_t tail_blocks = rest_ + 9 <= 64 ? 1 : 2;
  const std::uint64_t bits = total_ * 8;
  std::array<const std::uint8_t*, max_lanes> ptr{};
  for (std::size_t i = 0; i < lanes; ++i) {
    auto* t = tail_[i].data();
    std::memset(t + rest_, 0, 128 - rest_);
    t[rest_] = 0x80;
    for (std::size_t b = 0; b < 8; ++b)
      t[tail_blocks * 64 - 1 - b] = static_cast<std::uint8_t>(bits >> (8 * b));
    ptr[i] = t;
  }
  blocks_of(kernel_)(ptr.data(), tail_blocks, state_.data());
  for (std::size_t i = 0; i < count_; ++i)
    for (std::size_t w = 0; w < 5; ++w) {
      auto v = state_[w * lanes + i];
      for (std::size_t b = 0; b < 4; ++b)
        out[i].bytes[4 * w + b] = static_cast<std::uint8_t>(v >> (24 - 8 * b));
    }
}

void sha1_many_parts(const std::uint8_t* const* data, std::size_t count, std::size_t parts, std::size_t part_len,
                     sha1_hash* out, sha1_kernel k) {
  if (!sha1_kernel_available(k))
    throw std::invalid_argument(std::string{"SHA-1 kernel "} + to_string(k) + " is not available on this CPU");
  if (parts == 0 || (parts > 1 && part_len % 64 != 0))
    throw std::invalid_argument("SHA-1 of buffers in parts: at least one part, and parts a multiple of 64 bytes");
  std::size_t i = 0;
  std::array<const std::uint8_t*, max_lanes> ptr{};
  while (i < count) {
    const auto use = sha1_kernel_for(count - i, k);
    if (use == sha1_kernel::scalar && parts == 1) { // OpenSSL's one-shot call
      out[i] = sha1(data[i], part_len);
      ++i;
      continue;
    }
    const std::size_t n = use == sha1_kernel::scalar ? 1 : std::min(count - i, sha1_lanes(use));
    sha1_stream s{n, use};
    for (std::size_t j = 0; j < parts; ++j) {
      for (std::size_t m = 0; m < n; ++m)
        ptr[m] = data[(i + m) * parts + j];
      s.update(ptr.data(), part_len);
    }
    s.finish(out + i);
    i += n;
  }
}

} // namespace actorrent
