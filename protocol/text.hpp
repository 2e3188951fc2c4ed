// Small text helpers shared by the codecs and the command line: hex digits,
// ASCII case folding, quoting untrusted bytes for error messages, edit
// distance for "did you mean" hints, and reading a small text file whole.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace actorrent::text {

/// Value of a hex digit (either case), or -1.
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

inline char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Whether `s` starts with `prefix`, ignoring ASCII case (`prefix` is lower case).
inline bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower_ascii(s[i]) != prefix[i])
      return false;
  return true;
}

/// Untrusted bytes for an error message: at most 64 of them, in single quotes,
/// with anything unprintable (and the backslash) written as \xNN.
inline std::string quote(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  constexpr std::size_t max_len = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0f]);
    }
  }
  if (s.size() > max_len)
    out += "...";
  out.push_back('\'');
  return out;
}

/// Levenshtein distance between `a` and `b` (for "did you mean" hints on keys
/// and setting names).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// Reads the regular file `path` whole, refusing more than `limit` bytes (a
/// config or plan is small; a huge or endless file is an error, not an
/// allocation). On failure returns nothing and sets `error` to "PATH: why"
/// ("cannot read: ...", "larger than N bytes").
std::optional<std::string> read_text_file(const std::string& path, std::size_t limit, std::string& error);

} // namespace actorrent::text
