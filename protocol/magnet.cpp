#include "protocol/magnet.hpp"

#include <optional>
#include <set>

namespace actorrent {

namespace {

using text::hex_digit;
using text::starts_with_nocase;

using peer_address_detail::quote;


// RFC 4648 base32 alphabet value of c (either case), or -1.
int base32_digit(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}



// `key` is `name` or `name.<digits>`.
bool key_is(std::string_view key, std::string_view name) {
  if (key.substr(0, name.size()) != name)
    return false;
  if (key.size() == name.size())
    return true;
  if (key[name.size()] != '.' || key.size() == name.size() + 1)
    return false;
  for (auto c : key.substr(name.size() + 1))
    if (c < '0' || c > '9')
      return false;
  return true;
}

// Percent-decodes `value`, which starts at byte `offset` of the URI.
result<std::string> percent_decode(std::string_view value, std::size_t offset) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out.push_back(value[i]);
      continue;
    }
    if (i + 2 >= value.size())
      return make_error("truncated percent escape " + quote(value.substr(i)), offset + i);
    auto hi = hex_digit(value[i + 1]);
    auto lo = hex_digit(value[i + 2]);
    if (hi < 0 || lo < 0)
      return make_error("invalid percent escape " + quote(value.substr(i, 3)), offset + i);
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

// Parses the info-hash text after "urn:btih:"; `offset` is where the value starts.
result<sha1_hash> parse_btih(std::string_view text, std::size_t offset) {
  if (text.size() == 40) {
    for (char c : text)
      if (hex_digit(c) < 0)
        return make_error("invalid character " + quote(std::string_view{&c, 1})
                            + " in hex info-hash",
                          offset);
    return *sha1_hash::from_hex(text);
  }
  if (text.size() == 32) {
    sha1_hash h;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t pos = 0;
    for (char c : text) {
      auto v = base32_digit(c);
      if (v < 0)
        return make_error("invalid character " + quote(std::string_view{&c, 1})
                            + " in base32 info-hash",
                          offset);
      acc = (acc << 5) | static_cast<std::uint32_t>(v);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        h.bytes[pos++] = static_cast<std::uint8_t>((acc >> bits) & 0xff);
      }
    }
    return h;
  }
  return make_error("btih info-hash has " + std::to_string(text.size())
                      + " characters, expected 40 (hex) or 32 (base32)",
                    offset);
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}

void append_encoded(std::string& out, std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0f]);
    }
  }
}

} // namespace

result<magnet_link> parse_magnet(std::string_view uri) {
  constexpr std::string_view prefix = "magnet:?";
  if (!starts_with_nocase(uri, prefix))
    return make_error("not a magnet uri (expected 'magnet:?')", 0);
  magnet_link out;
  std::optional<sha1_hash> btih;
  bool btmh = false;
  std::optional<std::string> other_xt;
  bool have_dn = false;
  std::set<std::string> seen_trackers;
  std::set<host_port> seen_peers;
  std::size_t pos = prefix.size();
  while (pos <= uri.size()) {
    auto amp = uri.find('&', pos);
    if (amp == std::string_view::npos)
      amp = uri.size();
    auto param = uri.substr(pos, amp - pos);
    auto param_offset = pos;
    pos = amp + 1;
    auto eq = param.find('=');
    if (eq == std::string_view::npos)
      continue; // empty or valueless parameter
    auto key = param.substr(0, eq);
    auto value_offset = param_offset + eq + 1;
    bool is_xt = key_is(key, "xt");
    bool is_tr = key_is(key, "tr");
    bool is_dn = key == "dn";
    bool is_pe = key == "x.pe";
    if (!is_xt && !is_tr && !is_dn && !is_pe)
      continue;
    auto value = percent_decode(param.substr(eq + 1), value_offset);
    if (!value)
      return value.error();
    if (is_xt) {
      std::string_view v = *value;
      if (starts_with_nocase(v, "urn:btih:")) {
        auto h = parse_btih(v.substr(9), value_offset);
        if (!h)
          return h.error();
        if (btih && *btih != *h)
          return make_error("conflicting btih info-hashes " + btih->hex() + " and " + h->hex(),
                            value_offset);
        btih = *h;
      } else if (starts_with_nocase(v, "urn:btmh:")) {
        btmh = true;
      } else if (!other_xt) {
        other_xt = std::move(*value);
      }
    } else if (is_tr) {
      if (!value->empty() && seen_trackers.insert(*value).second)
        out.trackers.push_back(std::move(*value));
    } else if (is_dn) {
      if (!have_dn) {
        out.display_name = std::move(*value);
        have_dn = true;
      }
    } else {
      auto hp = parse_host_port(*value);
      if (!hp)
        return make_error("invalid x.pe: " + hp.error().message, value_offset);
      if (seen_peers.insert(*hp).second)
        out.peers.push_back(std::move(*hp));
    }
  }
  if (!btih) {
    if (btmh)
      return make_error("v2 magnet links (btmh) are not supported yet");
    if (other_xt)
      return make_error("unsupported xt " + quote(*other_xt) + " (expected urn:btih:)");
    return make_error("missing xt parameter");
  }
  out.info_hash = *btih;
  return out;
}

std::string to_magnet_uri(const magnet_link& m) {
  std::string out = "magnet:?xt=urn:btih:";
  out += m.info_hash.hex();
  if (!m.display_name.empty()) {
    out += "&dn=";
    append_encoded(out, m.display_name);
  }
  for (const auto& tr : m.trackers) {
    out += "&tr=";
    append_encoded(out, tr);
  }
  for (const auto& p : m.peers) {
    out += "&x.pe=";
    append_encoded(out, p.to_string());
  }
  return out;
}

} // namespace actorrent
