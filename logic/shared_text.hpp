// A text that thousands of holders carry alike, kept once. A daemon's
// sleeping torrents all show the same few tracker lines ("http://t/announce:
// connection refused"); each held its own copy (220 bytes a torrent, heap and
// string, at 5,000 torrents 1.1 MB). A shared_text holds a reference to the
// one copy in a process-wide pool; the pool forgets a text once no holder is
// left (swept as it grows). Thread-safe; assigning the text a holder already
// has takes no lock.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace actorrent::logic {

class shared_text {
public:
  shared_text() = default;
  shared_text(std::string_view s) { assign(s); } // NOLINT: implicit, as a string is
  shared_text(const std::string& s) { assign(s); } // NOLINT
  shared_text(const char* s) { assign(s); } // NOLINT

  shared_text& operator=(std::string_view s) {
    assign(s);
    return *this;
  }
  shared_text& operator=(const std::string& s) { return *this = std::string_view{s}; }
  shared_text& operator=(const char* s) { return *this = std::string_view{s}; }

  /// The text ("" when empty).
  const std::string& str() const noexcept { return p_ ? *p_ : empty_string(); }
  operator const std::string&() const noexcept { return str(); } // NOLINT
  bool empty() const noexcept { return !p_; }
  void clear() noexcept { p_.reset(); }

  /// True when both hold the very same copy (what the pool guarantees for equal texts).
  bool same_copy(const shared_text& other) const noexcept { return p_ == other.p_; }

  friend bool operator==(const shared_text& a, std::string_view b) noexcept { return std::string_view{a.str()} == b; }
  friend bool operator==(const shared_text& a, const shared_text& b) noexcept {
    return a.p_ == b.p_ || a.str() == b.str();
  }

private:
  void assign(std::string_view s);
  static const std::string& empty_string() noexcept;

  std::shared_ptr<const std::string> p_; ///< null: the empty text
};

/// Texts the pool holds now, live or not swept yet (for tests and stats).
std::size_t shared_text_pool_size();

} // namespace actorrent::logic
