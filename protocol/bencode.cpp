#include "protocol/bencode.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace actorrent::bencode {

const char* to_string(kind k) {
  switch (k) {
    case kind::integer:
      return "integer";
    case kind::string:
      return "string";
    case kind::list:
      return "list";
    case kind::dict:
      return "dictionary";
  }
  return "?";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A byte as text for error messages: itself if printable, else "\xff".
std::string printable(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 32 && u < 127)
    return std::string(1, c);
  static constexpr char digits[] = "0123456789abcdef";
  return std::string{'\\', 'x', digits[u >> 4], digits[u & 0x0f]};
}

struct frame {
  std::uint32_t token;
  bool is_dict;
  bool expect_key; // dictionaries alternate key, value
};

// Parses the digits of an integer body starting at `pos` (just after 'i') up to
// the terminating 'e'. On success, `pos` points past the 'e'.
status parse_integer(std::string_view in, std::size_t& pos, std::int64_t& out) {
  const auto start = pos - 1; // the 'i'
  bool negative = false;
  if (pos < in.size() && in[pos] == '-') {
    negative = true;
    ++pos;
  }
  const auto digits_begin = pos;
  std::uint64_t acc = 0;
  const std::uint64_t limit = negative
                                ? std::uint64_t{1} << 63
                                : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  while (pos < in.size() && is_digit(in[pos])) {
    auto d = static_cast<std::uint64_t>(in[pos] - '0');
    if (acc > (limit - d) / 10)
      return make_error("integer out of 64-bit range", start);
    acc = acc * 10 + d;
    ++pos;
  }
  if (pos >= in.size())
    return make_error("unexpected end of input inside integer", start);
  if (pos == digits_begin)
    return make_error("integer without digits", start);
  if (in[pos] != 'e')
    return make_error("invalid character in integer", pos);
  const auto ndigits = pos - digits_begin;
  if (in[digits_begin] == '0' && ndigits > 1)
    return make_error("integer with leading zero", start);
  if (negative && acc == 0)
    return make_error("negative zero integer", start);
  ++pos; // 'e'
  if (negative)
    out = acc == (std::uint64_t{1} << 63) ? std::numeric_limits<std::int64_t>::min()
                                          : -static_cast<std::int64_t>(acc);
  else
    out = static_cast<std::int64_t>(acc);
  return {};
}

// Parses a string header "<len>:" at `pos`; on success `pos` points at the
// first content byte and `len` holds the length, which fits in the input.
status parse_string_header(std::string_view in, std::size_t& pos, std::size_t& len) {
  const auto start = pos;
  std::size_t acc = 0;
  while (pos < in.size() && is_digit(in[pos])) {
    if (pos - start >= 12) // no input we accept is a terabyte long
      return make_error("string length too large", start);
    acc = acc * 10 + static_cast<std::size_t>(in[pos] - '0');
    ++pos;
  }
  if (pos >= in.size())
    return make_error("unexpected end of input inside string length", start);
  if (in[pos] != ':')
    return make_error("expected ':' after string length", pos);
  if (in[start] == '0' && pos - start > 1)
    return make_error("string length with leading zero", start);
  ++pos;
  if (acc > in.size() - pos)
    return make_error("string length " + std::to_string(acc) + " exceeds the input", start);
  len = acc;
  return {};
}

} // namespace

result<document> decode(std::string_view in, const limits& lim) {
  if (in.size() >= std::numeric_limits<std::uint32_t>::max())
    return make_error("input too large for bencode decoder");
  if (in.empty())
    return make_error("empty input", 0);
  document doc;
  doc.input_ = in;
  auto& toks = doc.tokens_;
  toks.reserve(std::min<std::size_t>(in.size() / 3 + 1, 1024));
  std::vector<frame> stack;
  std::size_t pos = 0;
  auto push_token = [&](kind k, std::size_t start) -> status {
    if (toks.size() >= lim.max_tokens)
      return make_error("too many values (limit " + std::to_string(lim.max_tokens) + ")", start);
    document::token t{};
    t.start = static_cast<std::uint32_t>(start);
    t.type = k;
    toks.push_back(t);
    return {};
  };
  for (;;) {
    if (pos >= in.size())
      return make_error("unexpected end of input", pos);
    const char c = in[pos];
    const std::size_t start = pos;
    bool completed = false; // a whole value ended at `pos`
    if (c == 'e') {
      if (stack.empty())
        return make_error("unexpected 'e'", pos);
      auto& top = stack.back();
      if (top.is_dict && !top.expect_key)
        return make_error("dictionary key without value", pos);
      auto& t = toks[top.token];
      ++pos;
      t.end = static_cast<std::uint32_t>(pos);
      t.next = static_cast<std::uint32_t>(toks.size());
      if (top.is_dict) {
        // reject duplicate keys: two readers could otherwise disagree on a value
        std::vector<std::string_view> keys;
        for (auto i = top.token + 1; i < t.next;) {
          auto& k = toks[i];
          keys.emplace_back(in.substr(k.payload, k.end - k.payload));
          i = toks[k.next].next;
        }
        std::sort(keys.begin(), keys.end());
        if (std::adjacent_find(keys.begin(), keys.end()) != keys.end())
          return make_error("duplicate dictionary key", t.start);
      }
      stack.pop_back();
      completed = true;
    } else {
      if (!stack.empty() && stack.back().is_dict && stack.back().expect_key && !is_digit(c))
        return make_error("dictionary key is not a string", pos);
      if (c == 'i') {
        if (auto st = push_token(kind::integer, start); !st)
          return st.error();
        ++pos;
        std::int64_t v = 0;
        if (auto st = parse_integer(in, pos, v); !st)
          return st.error();
        auto& t = toks.back();
        t.integer = v;
        t.end = static_cast<std::uint32_t>(pos);
        t.next = static_cast<std::uint32_t>(toks.size());
        completed = true;
      } else if (c == 'l' || c == 'd') {
        if (stack.size() >= lim.max_depth)
          return make_error("nesting deeper than " + std::to_string(lim.max_depth), pos);
        if (auto st = push_token(c == 'l' ? kind::list : kind::dict, start); !st)
          return st.error();
        stack.push_back(frame{static_cast<std::uint32_t>(toks.size() - 1), c == 'd', true});
        ++pos;
      } else if (is_digit(c)) {
        if (auto st = push_token(kind::string, start); !st)
          return st.error();
        std::size_t len = 0;
        if (auto st = parse_string_header(in, pos, len); !st)
          return st.error();
        auto& t = toks.back();
        t.payload = static_cast<std::uint32_t>(pos);
        pos += len;
        t.end = static_cast<std::uint32_t>(pos);
        t.next = static_cast<std::uint32_t>(toks.size());
        completed = true;
      } else {
        return make_error("invalid character '" + printable(c) + "'", pos);
      }
    }
    if (completed) {
      if (stack.empty())
        break;
      if (stack.back().is_dict)
        stack.back().expect_key = !stack.back().expect_key;
    }
  }
  if (pos != in.size() && !lim.allow_trailing)
    return make_error("trailing data after value", pos);
  return doc;
}

// ---- node ----------------------------------------------------------------------

kind node::type() const { return doc_->tokens_[idx_].type; }

std::string_view node::raw() const {
  const auto& t = doc_->tokens_[idx_];
  return doc_->input_.substr(t.start, t.end - t.start);
}

std::size_t node::offset() const { return doc_->tokens_[idx_].start; }

std::int64_t node::int_value() const {
  assert(is_int());
  return doc_->tokens_[idx_].integer;
}

std::string_view node::string_value() const {
  assert(is_string());
  const auto& t = doc_->tokens_[idx_];
  return doc_->input_.substr(t.payload, t.end - t.payload);
}

std::size_t node::size() const {
  if (!doc_ || !(is_list() || is_dict()))
    return 0;
  const auto& toks = doc_->tokens_;
  std::size_t n = 0;
  for (auto i = idx_ + 1; i < toks[idx_].next; i = toks[i].next)
    ++n;
  return is_dict() ? n / 2 : n;
}

node node::at(std::size_t i) const {
  if (!doc_ || !is_list())
    return {};
  const auto& toks = doc_->tokens_;
  for (auto j = idx_ + 1; j < toks[idx_].next; j = toks[j].next, --i)
    if (i == 0)
      return node{doc_, j};
  return {};
}

std::vector<node> node::elements() const {
  std::vector<node> out;
  if (!doc_ || !is_list())
    return out;
  const auto& toks = doc_->tokens_;
  for (auto j = idx_ + 1; j < toks[idx_].next; j = toks[j].next)
    out.push_back(node{doc_, j});
  return out;
}

std::vector<std::pair<std::string_view, node>> node::items() const {
  std::vector<std::pair<std::string_view, node>> out;
  if (!doc_ || !is_dict())
    return out;
  const auto& toks = doc_->tokens_;
  for (auto j = idx_ + 1; j < toks[idx_].next;) {
    auto v = toks[j].next;
    out.emplace_back(node{doc_, j}.string_value(), node{doc_, v});
    j = toks[v].next;
  }
  return out;
}

node node::find(std::string_view key) const {
  if (!doc_ || !is_dict())
    return {};
  const auto& toks = doc_->tokens_;
  for (auto j = idx_ + 1; j < toks[idx_].next;) {
    auto v = toks[j].next;
    if (node{doc_, j}.string_value() == key)
      return node{doc_, v};
    j = toks[v].next;
  }
  return {};
}

std::optional<std::string_view> node::find_string(std::string_view key) const {
  if (auto n = find(key); n && n.is_string())
    return n.string_value();
  return std::nullopt;
}

std::optional<std::int64_t> node::find_int(std::string_view key) const {
  if (auto n = find(key); n && n.is_int())
    return n.int_value();
  return std::nullopt;
}

node node::find_list(std::string_view key) const {
  if (auto n = find(key); n && n.is_list())
    return n;
  return {};
}

node node::find_dict(std::string_view key) const {
  if (auto n = find(key); n && n.is_dict())
    return n;
  return {};
}

// ---- owned values and encoding ------------------------------------------------

value value::from(node n) {
  switch (n.type()) {
    case kind::integer:
      return value{n.int_value()};
    case kind::string:
      return value{n.string_value()};
    case kind::list: {
      list l;
      for (auto& e : n.elements())
        l.push_back(from(e));
      return value{std::move(l)};
    }
    case kind::dict: {
      dict d;
      for (auto& [k, v] : n.items())
        d.emplace(std::string{k}, from(v));
      return value{std::move(d)};
    }
  }
  return {};
}

void encode_int(std::int64_t i, std::string& out) {
  out += 'i';
  out += std::to_string(i);
  out += 'e';
}

void encode_string(std::string_view s, std::string& out) {
  out += std::to_string(s.size());
  out += ':';
  out.append(s.data(), s.size());
}

void encode(const value& v, std::string& out) {
  if (auto i = std::get_if<std::int64_t>(&v.data)) {
    encode_int(*i, out);
  } else if (auto s = std::get_if<std::string>(&v.data)) {
    encode_string(*s, out);
  } else if (auto l = std::get_if<list>(&v.data)) {
    out += 'l';
    for (auto& e : *l)
      encode(e, out);
    out += 'e';
  } else {
    out += 'd';
    for (auto& [k, e] : std::get<dict>(v.data)) {
      encode_string(k, out);
      encode(e, out);
    }
    out += 'e';
  }
}

std::string encode(const value& v) {
  std::string out;
  encode(v, out);
  return out;
}

} // namespace actorrent::bencode
