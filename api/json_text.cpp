#include "api/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace actorrent::api {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (1..4), or 0 if none starts there.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  auto c = b(i);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    auto c1 = b(i + 1);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) // overlong, surrogates
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    auto c1 = b(i + 1);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) // overlong, above U+10FFFF
      return 0;
    return 4;
  }
  return 0;
}

template <class T>
void append_number(std::string& out, T x) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, r.ptr);
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (auto n = utf8_length(s, i); n > 0) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "\xEF\xBF\xBD"; // U+FFFD for one bad byte
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_json_int(std::string& out, std::int64_t v) { append_number(out, v); }

void append_json_uint(std::string& out, std::uint64_t v) { append_number(out, v); }

void append_json_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  auto start = out.size();
  append_number(out, d); // shortest text that reads back as the same double
  if (out.find_first_of(".eE", start) == std::string::npos)
    out += ".0"; // still a float when read back
}

void append_json(std::string& out, const nlohmann::json& v) {
  using t = nlohmann::json::value_t;
  switch (v.type()) {
    case t::null:
    case t::discarded:
      out += "null";
      return;
    case t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case t::number_integer:
      append_json_int(out, v.get<std::int64_t>());
      return;
    case t::number_unsigned:
      append_json_uint(out, v.get<std::uint64_t>());
      return;
    case t::number_float:
      append_json_double(out, v.get<double>());
      return;
    case t::string:
      append_json_string(out, v.get_ref<const std::string&>());
      return;
    case t::array: {
      out += '[';
      bool first = true;
      for (auto& x : v) {
        if (!first)
          out += ',';
        first = false;
        append_json(out, x);
      }
      out += ']';
      return;
    }
    case t::object: {
      out += '{';
      bool first = true;
      for (auto& [k, x] : v.items()) {
        if (!first)
          out += ',';
        first = false;
        append_json_string(out, k);
        out += ':';
        append_json(out, x);
      }
      out += '}';
      return;
    }
    case t::binary:
      out += "null"; // never made here; JSON has no binary
      return;
  }
}

} // namespace actorrent::api
