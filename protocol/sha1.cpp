#include "protocol/sha1.hpp"

#include "protocol/text.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace actorrent {

namespace {


EVP_MD_CTX* as_ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

} // namespace

std::string to_hex(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0f]);
  }
  return out;
}

std::string sha1_hash::hex() const { return to_hex(view()); }

std::optional<sha1_hash> sha1_hash::from_hex(std::string_view hex) {
  if (hex.size() != 40)
    return std::nullopt;
  sha1_hash out;
  for (std::size_t i = 0; i < 20; ++i) {
    auto hi = text::hex_digit(hex[2 * i]);
    auto lo = text::hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<sha1_hash> sha1_hash::from_bytes(std::string_view raw) {
  if (raw.size() != 20)
    return std::nullopt;
  sha1_hash out;
  std::memcpy(out.bytes.data(), raw.data(), 20);
  return out;
}

bool sha1_hash::is_zero() const {
  for (auto b : bytes)
    if (b != 0)
      return false;
  return true;
}

sha1_hash sha1(const void* data, std::size_t len) {
  sha1_hash out;
  unsigned int n = 0;
  if (EVP_Digest(data, len, out.bytes.data(), &n, EVP_sha1(), nullptr) != 1 || n != 20)
    throw std::runtime_error("OpenSSL SHA-1 failed");
  return out;
}

sha1_hasher::sha1_hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(as_ctx(ctx_), EVP_sha1(), nullptr) != 1)
    throw std::bad_alloc();
}

sha1_hasher::~sha1_hasher() {
  if (ctx_ != nullptr)
    EVP_MD_CTX_free(as_ctx(ctx_));
}

sha1_hasher::sha1_hasher(sha1_hasher&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

sha1_hasher& sha1_hasher::operator=(sha1_hasher&& other) noexcept {
  std::swap(ctx_, other.ctx_);
  return *this;
}

void sha1_hasher::update(const void* data, std::size_t len) {
  if (EVP_DigestUpdate(as_ctx(ctx_), data, len) != 1)
    throw std::runtime_error("OpenSSL SHA-1 update failed");
}

sha1_hash sha1_hasher::finish() {
  sha1_hash out;
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(as_ctx(ctx_), out.bytes.data(), &n) != 1 || n != 20
      || EVP_DigestInit_ex(as_ctx(ctx_), EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("OpenSSL SHA-1 final failed");
  return out;
}

} // namespace actorrent
