#include "net/announce_transport.hpp"

#include "net/http_announce.hpp"
#include "net/udp_announce.hpp"

#include <algorithm>

namespace actorrent::net {

std::string timed_out(std::uint32_t timeout_ms) {
  return "timed out after " + std::to_string(timeout_ms) + " ms";
}

std::string clean_text(std::string_view s) {
  constexpr std::size_t max_len = 256;
  std::string out;
  out.reserve(std::min(s.size(), max_len + 3));
  for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > max_len)
    out += "...";
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i])
      return false;
  }
  return true;
}

announce_answer announce(const announce_params& p, const std::atomic<bool>* cancel) {
  if (starts_with_nocase(p.url, "http://") || starts_with_nocase(p.url, "https://"))
    return http_announce(p, cancel);
  if (starts_with_nocase(p.url, "udp://"))
    return udp_announce(p, cancel);
  announce_answer out;
  out.error = "unsupported tracker url scheme";
  return out;
}

} // namespace actorrent::net
