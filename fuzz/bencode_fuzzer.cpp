// libFuzzer target for the bencode decoder and the canonical encoder.
//
// Every input is decoded with the default limits, with tight limits and with
// trailing data allowed. Each successful decode is walked through every accessor
// of `node`, checking that the tree describes the input exactly; then the tree
// is copied into an owned value, encoded, decoded again and encoded again. Any
// broken invariant calls abort(), which libFuzzer reports as a crash.

#include "fuzz/fuzz_check.hpp"
#include "protocol/bencode.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bc = actorrent::bencode;

namespace {

// Accessors that are linear per call (at, find) are checked on every element
// only for small containers, and on a bounded sample otherwise, so that one
// input costs O(n) and not O(n^2).
constexpr std::size_t full_check_limit = 64;
constexpr std::size_t sample = 8;

bool sampled(std::size_t i, std::size_t n) {
  return n <= full_check_limit || i < sample || i + sample >= n;
}

struct walk_state {
  std::string_view input;
  std::size_t tokens = 0;      // nodes visited, dictionary keys included
  std::size_t max_depth = 0;   // deepest container nesting seen
  bool keys_sorted = true;     // every dictionary already in canonical key order
};

std::string canonical_int(std::int64_t v) {
  std::string s;
  bc::encode_int(v, s);
  return s;
}

std::string canonical_header(std::size_t len) {
  return std::to_string(len) + ":";
}

// True when `part` lies inside `whole` (pointer-wise).
bool within(std::string_view part, std::string_view whole) {
  auto b = reinterpret_cast<std::uintptr_t>(whole.data());
  auto p = reinterpret_cast<std::uintptr_t>(part.data());
  return p >= b && p + part.size() <= b + whole.size();
}

std::size_t offset_in(std::string_view part, std::string_view whole) {
  return static_cast<std::size_t>(part.data() - whole.data());
}

void walk(bc::node n, walk_state& st, std::size_t depth) {
  FUZZ_CHECK(static_cast<bool>(n));
  ++st.tokens;
  const auto raw = n.raw();
  FUZZ_CHECK(!raw.empty());
  FUZZ_CHECK(within(raw, st.input));
  FUZZ_CHECK(n.offset() == offset_in(raw, st.input));
  const auto end = n.offset() + raw.size();

  const int kinds = int{n.is_int()} + int{n.is_string()} + int{n.is_list()} + int{n.is_dict()};
  FUZZ_CHECK(kinds == 1);
  FUZZ_CHECK(bc::to_string(n.type()) != std::string_view{"?"});

  if (n.is_int() || n.is_string()) {
    // scalars have no children
    FUZZ_CHECK(n.size() == 0);
    FUZZ_CHECK(!n.at(0));
    FUZZ_CHECK(n.elements().empty());
    FUZZ_CHECK(n.items().empty());
    FUZZ_CHECK(!n.find(""));
    FUZZ_CHECK(!n.find_string("a") && !n.find_int("a") && !n.find_list("a") && !n.find_dict("a"));
  }

  if (n.is_int()) {
    // the decoder is strict, so the input spelling is the canonical one
    FUZZ_CHECK(raw == canonical_int(n.int_value()));
    return;
  }
  if (n.is_string()) {
    const auto s = n.string_value();
    FUZZ_CHECK(within(s, raw));
    FUZZ_CHECK(offset_in(s, raw) + s.size() == raw.size());
    FUZZ_CHECK(raw.substr(0, raw.size() - s.size()) == canonical_header(s.size()));
    return;
  }

  ++depth;
  st.max_depth = std::max(st.max_depth, depth);
  FUZZ_CHECK(raw.size() >= 2 && raw.back() == 'e');
  std::size_t pos = n.offset() + 1; // where the next child must start

  if (n.is_list()) {
    FUZZ_CHECK(raw.front() == 'l');
    FUZZ_CHECK(n.items().empty());
    FUZZ_CHECK(!n.find("") && !n.find_string("") && !n.find_int(""));
    const auto elems = n.elements();
    FUZZ_CHECK(n.size() == elems.size());
    for (std::size_t i = 0; i < elems.size(); ++i) {
      const auto& e = elems[i];
      FUZZ_CHECK(e.offset() == pos);
      if (sampled(i, elems.size())) {
        auto a = n.at(i);
        FUZZ_CHECK(a && a.offset() == e.offset() && a.raw() == e.raw() && a.type() == e.type());
      }
      walk(e, st, depth);
      pos += e.raw().size();
    }
    FUZZ_CHECK(!n.at(elems.size()));
    FUZZ_CHECK(pos + 1 == end);
    return;
  }

  FUZZ_CHECK(raw.front() == 'd');
  FUZZ_CHECK(n.elements().empty());
  FUZZ_CHECK(!n.at(0));
  const auto items = n.items();
  FUZZ_CHECK(n.size() == items.size());
  std::set<std::string_view> keys;
  std::string_view previous;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& [key, value] = items[i];
    // the key is a string token that sits right before its value
    ++st.tokens;
    const auto header = canonical_header(key.size());
    FUZZ_CHECK(within(key, st.input));
    FUZZ_CHECK(offset_in(key, st.input) == pos + header.size());
    FUZZ_CHECK(st.input.substr(pos, header.size()) == header);
    pos += header.size() + key.size();
    FUZZ_CHECK(value && value.offset() == pos);
    FUZZ_CHECK(keys.insert(key).second); // keys are unique
    if (i > 0 && !(previous < key))
      st.keys_sorted = false;
    previous = key;
    if (sampled(i, items.size())) {
      auto f = n.find(key);
      FUZZ_CHECK(f && f.offset() == value.offset() && f.raw() == value.raw());
      FUZZ_CHECK(n.find_string(key).has_value() == value.is_string());
      FUZZ_CHECK(n.find_int(key).has_value() == value.is_int());
      FUZZ_CHECK(static_cast<bool>(n.find_list(key)) == value.is_list());
      FUZZ_CHECK(static_cast<bool>(n.find_dict(key)) == value.is_dict());
      if (value.is_string())
        FUZZ_CHECK(*n.find_string(key) == value.string_value());
      if (value.is_int())
        FUZZ_CHECK(*n.find_int(key) == value.int_value());
    }
    walk(value, st, depth);
    pos += value.raw().size();
  }
  FUZZ_CHECK(pos + 1 == end);
  // absent keys are not found
  for (std::string_view absent : {std::string_view{}, std::string_view{"info"},
                                  std::string_view{"\xff\xfe missing"}}) {
    if (keys.count(absent) == 0) {
      FUZZ_CHECK(!n.find(absent));
      FUZZ_CHECK(!n.find_string(absent) && !n.find_int(absent));
      FUZZ_CHECK(!n.find_list(absent) && !n.find_dict(absent));
    }
  }
}

// Checks one successfully decoded document and returns its canonical encoding.
std::string check_document(const bc::document& doc, std::string_view input, const bc::limits& lim) {
  FUZZ_CHECK(doc.input().data() == input.data() && doc.input().size() == input.size());
  const auto root = doc.root();
  FUZZ_CHECK(root.offset() == 0);
  if (lim.allow_trailing)
    FUZZ_CHECK(root.raw().size() <= input.size());
  else
    FUZZ_CHECK(root.raw().size() == input.size());

  walk_state st;
  st.input = input;
  walk(root, st, 0);
  FUZZ_CHECK(st.tokens == doc.token_count());
  FUZZ_CHECK(st.tokens <= lim.max_tokens);
  FUZZ_CHECK(st.max_depth <= lim.max_depth);

  // owned copy -> canonical encoding -> decode again
  const auto owned = bc::value::from(root);
  const auto enc = bc::encode(owned);
  // strict input differs from its canonical form only in dictionary key order
  FUZZ_CHECK(enc.size() == root.raw().size());
  if (st.keys_sorted)
    FUZZ_CHECK(enc == root.raw());
  const auto again = bc::decode(enc, lim);
  if (!again) {
    std::fprintf(stderr, "re-decoding the canonical encoding failed: %s\n",
                 again.error().to_string().c_str());
    ::actorrent::fuzz::violated(__FILE__, __LINE__, "decode(encode(x)) succeeds");
  }
  FUZZ_CHECK(again->token_count() == doc.token_count());
  FUZZ_CHECK(again->root().raw().size() == enc.size());
  // canonical encoding is idempotent
  FUZZ_CHECK(bc::encode(bc::value::from(again->root())) == enc);
  // ... and the streaming overload appends the same bytes
  std::string appended = "x";
  bc::encode(owned, appended);
  FUZZ_CHECK(appended.size() == enc.size() + 1 && std::string_view{appended}.substr(1) == enc);
  return enc;
}

void check_error(const actorrent::error_info& err, std::string_view input) {
  FUZZ_CHECK(!err.message.empty());
  FUZZ_CHECK(err.offset == actorrent::error_info::no_offset || err.offset <= input.size());
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return std::string_view{s}.substr(0, prefix.size()) == prefix;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};

  // 1. default limits
  const bc::limits def{};
  const auto full = bc::decode(input, def);
  std::string canonical;
  if (full) {
    canonical = check_document(*full, input, def);
  } else {
    check_error(full.error(), input);
  }

  // 2. tight limits: strictly fewer inputs succeed, and they decode identically
  bc::limits tight;
  tight.max_depth = 3;
  tight.max_tokens = 40;
  const auto small = bc::decode(input, tight);
  if (small) {
    FUZZ_CHECK(full.ok());
    FUZZ_CHECK(check_document(*small, input, tight) == canonical);
    FUZZ_CHECK(small->token_count() == full->token_count());
  } else {
    check_error(small.error(), input);
    if (full) {
      // only a limit can make a valid document fail
      FUZZ_CHECK(starts_with(small.error().message, "nesting deeper than")
                 || starts_with(small.error().message, "too many values"));
    } else {
      // both decoders read the input in the same order, so unless a limit
      // struck first they stop at the same problem
      FUZZ_CHECK((small.error().message == full.error().message
                  && small.error().offset == full.error().offset)
                 || starts_with(small.error().message, "nesting deeper than")
                 || starts_with(small.error().message, "too many values"));
    }
  }

  // 3. trailing data allowed: the first value of the input
  bc::limits trailing;
  trailing.allow_trailing = true;
  const auto prefix = bc::decode(input, trailing);
  if (prefix) {
    const auto enc = check_document(*prefix, input, trailing);
    const auto first = prefix->root().raw();
    if (full) {
      FUZZ_CHECK(first.size() == input.size());
      FUZZ_CHECK(enc == canonical);
    } else {
      // the strict decoder can only have objected to what follows the value
      FUZZ_CHECK(first.size() < input.size());
      FUZZ_CHECK(full.error().message == "trailing data after value");
      FUZZ_CHECK(full.error().offset == first.size());
    }
    // the value on its own decodes strictly to the same tree
    const auto alone = bc::decode(first, def);
    FUZZ_CHECK(alone.ok());
    FUZZ_CHECK(alone->token_count() == prefix->token_count());
  } else {
    check_error(prefix.error(), input);
    // the problem lies within the first value, so the strict decoder saw it too
    FUZZ_CHECK(!full.ok());
    FUZZ_CHECK(prefix.error().message == full.error().message);
    FUZZ_CHECK(prefix.error().offset == full.error().offset);
  }
  return 0;
}
