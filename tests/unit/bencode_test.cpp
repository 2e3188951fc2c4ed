#define CAF_SUITE bencode
#include <caf/test/unit_test.hpp>

#include "protocol/bencode.hpp"

#include <string>

using namespace actorrent;
using namespace std::literals;

namespace {

// Returns the error message of a failed decode, or "ok".
std::string error_of(std::string_view in) {
  auto r = bencode::decode(in);
  return r ? "ok" : r.error().message;
}

std::size_t error_offset(std::string_view in) {
  auto r = bencode::decode(in);
  return r ? error_info::no_offset : r.error().offset;
}

} // namespace

CAF_TEST(integers) {
  auto r = bencode::decode("i42e");
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r->root().is_int());
  CAF_CHECK_EQUAL(r->root().int_value(), 42);
  CAF_CHECK_EQUAL(bencode::decode("i-17e")->root().int_value(), -17);
  CAF_CHECK_EQUAL(bencode::decode("i0e")->root().int_value(), 0);
  CAF_CHECK_EQUAL(bencode::decode("i9223372036854775807e")->root().int_value(),
                  INT64_MAX);
  CAF_CHECK_EQUAL(bencode::decode("i-9223372036854775808e")->root().int_value(),
                  INT64_MIN);
}

CAF_TEST(strict integers are enforced) {
  CAF_CHECK_EQUAL(error_of("i-0e"), "negative zero integer");
  CAF_CHECK_EQUAL(error_of("i03e"), "integer with leading zero");
  CAF_CHECK_EQUAL(error_of("i-03e"), "integer with leading zero");
  CAF_CHECK_EQUAL(error_of("ie"), "integer without digits");
  CAF_CHECK_EQUAL(error_of("i-e"), "integer without digits");
  CAF_CHECK_EQUAL(error_of("i9223372036854775808e"), "integer out of 64-bit range");
  CAF_CHECK_EQUAL(error_of("i-9223372036854775809e"), "integer out of 64-bit range");
  CAF_CHECK_EQUAL(error_of("i12"), "unexpected end of input inside integer");
  CAF_CHECK_EQUAL(error_of("i1x2e"), "invalid character in integer");
  CAF_CHECK_EQUAL(error_offset("i1x2e"), 2u);
  CAF_CHECK_EQUAL(error_of("i+1e"), "integer without digits");
}

CAF_TEST(strings are views into the input) {
  std::string input = "5:hello";
  auto r = bencode::decode(input);
  CAF_REQUIRE(r.ok());
  auto s = r->root().string_value();
  CAF_CHECK_EQUAL(s, "hello"sv);
  CAF_CHECK(s.data() == input.data() + 2); // no copy
  CAF_CHECK_EQUAL(bencode::decode("0:")->root().string_value(), ""sv);
  // binary content, including NUL
  std::string bin = "3:a\0b"s;
  CAF_CHECK_EQUAL(bencode::decode(bin)->root().string_value(), "a\0b"sv);
}

CAF_TEST(malformed strings) {
  CAF_CHECK_EQUAL(error_of("5:abc"), "string length 5 exceeds the input");
  CAF_CHECK_EQUAL(error_offset("5:abc"), 0u);
  CAF_CHECK_EQUAL(error_of("03:abc"), "string length with leading zero");
  CAF_CHECK_EQUAL(error_of("3abc"), "expected ':' after string length");
  CAF_CHECK_EQUAL(error_of("99999999999999999999:x"), "string length too large");
  CAF_CHECK_EQUAL(error_of("12"), "unexpected end of input inside string length");
}

CAF_TEST(lists and dictionaries) {
  auto r = bencode::decode("d3:bari1e3:fool4:spami-3eee");
  CAF_REQUIRE(r.ok());
  auto root = r->root();
  CAF_CHECK(root.is_dict());
  CAF_CHECK_EQUAL(root.size(), 2u);
  CAF_CHECK_EQUAL(root.find_int("bar"), std::optional<std::int64_t>{1});
  auto foo = root.find_list("foo");
  CAF_REQUIRE(foo);
  CAF_CHECK_EQUAL(foo.size(), 2u);
  CAF_CHECK_EQUAL(foo.at(0).string_value(), "spam"sv);
  CAF_CHECK_EQUAL(foo.at(1).int_value(), -3);
  CAF_CHECK(!foo.at(2));
  CAF_CHECK_EQUAL(foo.raw(), "l4:spami-3ee"sv);
  CAF_CHECK_EQUAL(foo.offset(), 14u);
  CAF_CHECK(!root.find("missing"));
  CAF_CHECK(!root.find_string("bar")); // wrong type
  auto items = root.items();
  CAF_REQUIRE_EQUAL(items.size(), 2u);
  CAF_CHECK_EQUAL(items[0].first, "bar"sv);
  CAF_CHECK_EQUAL(bencode::decode("le")->root().size(), 0u);
  CAF_CHECK_EQUAL(bencode::decode("de")->root().size(), 0u);
}

CAF_TEST(unsorted keys keep the raw bytes of each value) {
  // keys out of order: accepted, and `raw` is the exact input slice
  std::string input = "d4:infod6:lengthi5e4:name1:ae8:announce3:urle";
  auto r = bencode::decode(input);
  CAF_REQUIRE(r.ok());
  auto info = r->root().find_dict("info");
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info.raw(), "d6:lengthi5e4:name1:ae"sv);
  // an unsorted inner dictionary is also kept verbatim
  auto r2 = bencode::decode("d4:infod4:name1:a6:lengthi5eee");
  CAF_REQUIRE(r2.ok());
  CAF_CHECK_EQUAL(r2->root().find("info").raw(), "d4:name1:a6:lengthi5ee"sv);
}

CAF_TEST(malformed structures) {
  CAF_CHECK_EQUAL(error_of(""), "empty input");
  CAF_CHECK_EQUAL(error_of("l"), "unexpected end of input");
  CAF_CHECK_EQUAL(error_of("d3:foo"), "unexpected end of input");
  CAF_CHECK_EQUAL(error_of("d3:fooe"), "dictionary key without value");
  CAF_CHECK_EQUAL(error_of("di1ei2ee"), "dictionary key is not a string");
  CAF_CHECK_EQUAL(error_of("d1:ai1e1:ai2ee"), "duplicate dictionary key");
  CAF_CHECK_EQUAL(error_of("e"), "unexpected 'e'");
  CAF_CHECK_EQUAL(error_of("i1ei2e"), "trailing data after value");
  CAF_CHECK_EQUAL(error_offset("i1ei2e"), 3u);
  CAF_CHECK_EQUAL(error_of("x"), "invalid character 'x'");
  CAF_CHECK_EQUAL(error_of("\xff"), "invalid character '\\xff'");
  CAF_CHECK_EQUAL(error_of("\x03"), "invalid character '\\x03'");
  bencode::limits lim;
  lim.allow_trailing = true;
  CAF_CHECK(bencode::decode("i1ei2e", lim).ok());
}

CAF_TEST(depth and token limits) {
  std::string deep(200, 'l');
  deep += std::string(200, 'e');
  CAF_CHECK_EQUAL(error_of(deep), "nesting deeper than 100");
  bencode::limits lim;
  lim.max_depth = 300;
  CAF_CHECK(bencode::decode(deep, lim).ok());
  // a very deep input does not recurse: one million levels is just an error
  std::string very_deep(1'000'000, 'l');
  CAF_CHECK_EQUAL(error_of(very_deep), "nesting deeper than 100");
  lim = bencode::limits{};
  lim.max_tokens = 3;
  CAF_CHECK_EQUAL(bencode::decode("li1ei2ee", lim).ok(), true);
  auto r = bencode::decode("li1ei2ei3ee", lim);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error().message, "too many values (limit 3)");
  CAF_CHECK_EQUAL(r.error().offset, 7u);
}

CAF_TEST(canonical encoding) {
  bencode::dict d;
  d["zeta"] = 1;
  d["alpha"] = bencode::list{"x", -2, bencode::dict{}};
  d["\xff"] = "high byte sorts last";
  auto out = bencode::encode(d);
  CAF_CHECK_EQUAL(out, "d5:alphal1:xi-2edee4:zetai1e1:\xff" "20:high byte sorts laste");
  // round trip: decode, copy, encode gives the same bytes
  auto r = bencode::decode(out);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(bencode::encode(bencode::value::from(r->root())), out);
  // unsorted input becomes canonical on re-encoding
  auto u = bencode::decode("d1:bi1e1:ai2ee");
  CAF_REQUIRE(u.ok());
  CAF_CHECK_EQUAL(bencode::encode(bencode::value::from(u->root())), "d1:ai2e1:bi1ee");
  CAF_CHECK_EQUAL(bencode::encode(INT64_MIN), "i-9223372036854775808e");
}
