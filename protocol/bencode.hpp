// Bencoding (BEP 3): a zero-copy decoder over a byte span and a canonical encoder.
//
// The decoder produces a flat token table (one 16-byte token per value) that
// refers back into the input; `node` is a cheap view into it. Every string is a
// view into the input, every value knows its exact raw byte range, and every error
// carries the byte offset where it was found. The input must outlive the document.
#pragma once

#include "protocol/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace actorrent::bencode {

enum class kind : std::uint8_t { integer, string, list, dict };

const char* to_string(kind k);

/// Bounds that keep hostile input from costing unbounded time or memory.
struct limits {
  std::size_t max_depth = 100;         ///< nesting of lists and dictionaries
  std::size_t max_tokens = 2'000'000;  ///< values in the whole document (16 bytes each)
  bool allow_trailing = false;         ///< accept bytes after the top-level value
};

class document;

/// A view of one value inside a decoded document.
class node {
public:
  node() = default;

  kind type() const;
  bool is_int() const { return type() == kind::integer; }
  bool is_string() const { return type() == kind::string; }
  bool is_list() const { return type() == kind::list; }
  bool is_dict() const { return type() == kind::dict; }
  explicit operator bool() const { return doc_ != nullptr; }

  /// The exact bytes of this value in the input (e.g. the `info` dictionary).
  std::string_view raw() const;
  /// Byte offset of this value in the input.
  std::size_t offset() const;

  std::int64_t int_value() const;        ///< requires is_int()
  std::string_view string_value() const; ///< requires is_string()

  /// Number of elements of a list or of key/value pairs of a dict.
  std::size_t size() const;
  /// i-th element of a list (linear in i).
  node at(std::size_t i) const;
  /// All elements of a list, in order.
  std::vector<node> elements() const;
  /// All key/value pairs of a dictionary, in input order.
  std::vector<std::pair<std::string_view, node>> items() const;

  /// Dictionary look-up; an empty node when absent or when this is not a dict.
  node find(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  std::optional<std::int64_t> find_int(std::string_view key) const;
  node find_list(std::string_view key) const;
  node find_dict(std::string_view key) const;

private:
  friend class document;
  node(const document* doc, std::uint32_t idx) : doc_(doc), idx_(idx) {}
  const document* doc_ = nullptr;
  std::uint32_t idx_ = 0;
};

/// The result of decoding: owns the token table, views the input.
class document {
public:
  node root() const { return node{this, 0}; }
  std::string_view input() const { return input_; }
  std::size_t token_count() const { return tokens_.size(); }

  struct token {
    std::uint32_t start;   ///< offset of the first byte of the value
    std::uint32_t end;     ///< one past its last byte
    std::uint32_t next;    ///< index of the token after this value and all its children
    std::uint32_t payload; ///< strings: offset of the first content byte
    kind type;
    std::int64_t integer;  ///< integers: the value
  };

private:
  friend class node;
  friend result<document> decode(std::string_view, const limits&);
  std::string_view input_;
  std::vector<token> tokens_;
};

/// Decodes one bencoded value. Strict per BEP 3: integers without leading zeros
/// or `-0`, in int64 range; string lengths without leading zeros; dictionary
/// keys are strings and unique (unsorted keys are accepted).
result<document> decode(std::string_view input, const limits& lim = {});

// ---- owned values and the canonical encoder -------------------------------

struct value;
using list = std::vector<value>;
using dict = std::map<std::string, value>; // std::string orders keys bytewise

/// An owned bencode value, for building messages and files.
struct value {
  std::variant<std::int64_t, std::string, list, dict> data;

  value() : data(std::int64_t{0}) {}
  value(std::int64_t i) : data(i) {}
  value(int i) : data(std::int64_t{i}) {}
  value(std::string s) : data(std::move(s)) {}
  value(std::string_view s) : data(std::string{s}) {}
  value(const char* s) : data(std::string{s}) {}
  value(list l) : data(std::move(l)) {}
  value(dict d) : data(std::move(d)) {}

  /// Deep copy of a decoded node.
  static value from(node n);
};

/// Appends the canonical encoding (sorted keys) of `v` to `out`.
void encode(const value& v, std::string& out);
std::string encode(const value& v);

/// Writers for the primitives, for callers streaming their own structure.
void encode_int(std::int64_t i, std::string& out);
void encode_string(std::string_view s, std::string& out);

} // namespace actorrent::bencode
