#include "protocol/peer_id.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <random>

#include <sys/random.h>

namespace actorrent {

namespace {

// Fills `out` from the kernel CSPRNG; falls back to std::random_device (also
// non-deterministic on Linux) if getrandom is unavailable.
void fill_random(std::uint8_t* out, std::size_t len) {
  std::size_t done = 0;
  while (done < len) {
    auto n = ::getrandom(out + done, len - done, 0);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    break;
  }
  if (done == len)
    return;
  std::random_device rd;
  for (; done < len; ++done)
    out[done] = static_cast<std::uint8_t>(rd());
}

} // namespace

std::uint64_t random_seed() {
  std::uint8_t b[8];
  fill_random(b, sizeof b);
  std::uint64_t v = 0;
  for (auto x : b)
    v = v << 8 | x;
  return v;
}

namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// One Azureus version character: 0-9, then A-Z = 10..35, a-z = 36..61 (the
// base62 scheme Transmission documents; older clients only use 0-9 and A-Z).
int version_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 36;
  return -1;
}

struct azureus_client {
  std::string_view code;
  std::string_view name;
};

// Sorted by code (byte order) for the binary search below.
constexpr std::array<azureus_client, 18> azureus_clients{{
  {"AT", "actorrent"},
  {"AZ", "Vuze"},
  {"BC", "BitComet"},
  {"BI", "BiglyBT"},
  {"BT", "BitTorrent"},
  {"DE", "Deluge"},
  {"FW", "FrostWire"},
  {"KT", "KTorrent"},
  {"LT", "libtorrent"},
  {"PI", "PicoTorrent"},
  {"TR", "Transmission"},
  {"UM", "uTorrent Mac"},
  {"UT", "uTorrent"},
  {"UW", "uTorrent Web"},
  {"WW", "WebTorrent"},
  {"XL", "Xunlei"},
  {"lt", "libtorrent (rakshasa)"},
  {"qB", "qBittorrent"},
}};

std::string_view azureus_name(std::string_view code) {
  auto it = std::lower_bound(azureus_clients.begin(), azureus_clients.end(), code,
                             [](const azureus_client& c, std::string_view k) { return c.code < k; });
  if (it != azureus_clients.end() && it->code == code)
    return it->name;
  return {};
}

// "1.2.3" from the four version characters of "-XXabcd-"; a fourth digit other
// than '0' is appended as ".d". Empty when a character is not a version digit.
std::string azureus_version(std::string_view code, std::string_view v) {
  if (code == "TR" && v[0] >= '0' && v[0] <= '2' && is_digit(v[1]) && is_digit(v[2])) {
    // Transmission before 3.00: one major digit, two minor digits, a flag.
    return std::string{v[0]} + '.' + v[1] + v[2];
  }
  std::string out;
  for (std::size_t i = 0; i < 3; ++i) {
    auto d = version_digit(v[i]);
    if (d < 0)
      return {};
    if (i > 0)
      out += '.';
    out += std::to_string(d);
  }
  if (is_digit(v[3]) && v[3] != '0') {
    out += '.';
    out += v[3];
  }
  return out;
}

// Parses "<n>-<n>-<n>" starting at `pos` in `id` (aria2 and mainline style):
// returns "n.n.n", or empty if the text does not have that shape.
std::string dashed_version(std::string_view id, std::size_t pos) {
  std::string out;
  for (int group = 0; group < 3; ++group) {
    std::size_t start = pos;
    while (pos < id.size() && pos - start < 3 && is_digit(id[pos]))
      ++pos;
    if (pos == start || pos >= id.size() || id[pos] != '-')
      return {};
    if (group > 0)
      out += '.';
    out.append(id.substr(start, pos - start));
    ++pos; // the dash
  }
  return out;
}

} // namespace

sha1_hash generate_peer_id(std::string_view prefix) {
  sha1_hash id;
  const auto n = std::min(prefix.size(), id.bytes.size());
  std::copy_n(prefix.begin(), n, id.bytes.begin());
  // Rejection sampling keeps the characters uniform: 248 = 4 * 62.
  constexpr unsigned limit = 256 - 256 % peer_id_alphabet.size();
  std::array<std::uint8_t, 64> pool{};
  std::size_t used = pool.size();
  for (auto i = n; i < id.bytes.size();) {
    if (used == pool.size()) {
      fill_random(pool.data(), pool.size());
      used = 0;
    }
    auto b = pool[used++];
    if (b < limit)
      id.bytes[i++] = static_cast<std::uint8_t>(peer_id_alphabet[b % peer_id_alphabet.size()]);
  }
  return id;
}

client_info identify_client(const sha1_hash& peer_id) {
  const auto id = peer_id.view();
  client_info out;
  if (id[0] == '-' && id[7] == '-' && is_alnum(id[1]) && is_alnum(id[2])
      && std::all_of(id.begin() + 3, id.begin() + 7, is_alnum)) {
    out.code = std::string{id.substr(1, 2)};
    if (auto name = azureus_name(out.code); !name.empty()) {
      out.name = name;
      out.version = azureus_version(out.code, id.substr(3, 4));
    }
    return out;
  }
  if (id.substr(0, 3) == "A2-") {
    if (auto v = dashed_version(id, 3); !v.empty()) {
      out.name = "aria2";
      out.version = std::move(v);
    }
    return out;
  }
  if (id[0] == 'M' && is_digit(id[1])) {
    if (auto v = dashed_version(id, 1); !v.empty()) {
      out.name = "BitTorrent (mainline)";
      out.version = std::move(v);
    }
    return out;
  }
  return out;
}

std::string describe_client(const sha1_hash& peer_id) {
  auto info = identify_client(peer_id);
  if (info.name == "unknown") {
    if (!info.code.empty())
      return "unknown client " + std::string{peer_id.view().substr(0, 8)};
    return "unknown";
  }
  std::string out{info.name};
  if (!info.version.empty()) {
    out += ' ';
    out += info.version;
  }
  return out;
}

} // namespace actorrent
