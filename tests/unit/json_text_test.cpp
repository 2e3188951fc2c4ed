// api/json_text: the list answer's value writer against nlohmann-json's own
// dump (replace mode): the same text where both are canonical, and always
// text that parses back to the same value.
#define CAF_SUITE json_text
#include <caf/test/unit_test.hpp>

#include "api/json_text.hpp"

#include <cmath>
#include <limits>
#include <random>

using nlohmann::json;
using actorrent::api::append_json;

namespace {

std::string text(const json& v) {
  std::string out;
  append_json(out, v);
  return out;
}

std::string reference(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

} // namespace

CAF_TEST(scalars and containers read back as the same value) {
  std::vector<json> values{
    nullptr, true, false, 0, -1, 42, std::numeric_limits<std::int64_t>::min(),
    std::numeric_limits<std::uint64_t>::max(), 0.5, -2.25, 1e300, 3.0, 0.1, 1234.5678, "", "plain",
    "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f bell \x07 nul-free",
    "unicode: \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
    json::array(), json::object(), json::array({1, "two", nullptr, json::array({3.5})}),
    json{{"a", 1}, {"b", json{{"c", "d"}}}, {"e", json::array({true, false})}}};
  for (auto& v : values) {
    auto t = text(v);
    CAF_CHECK_EQUAL(json::parse(t), v);
    CAF_CHECK_EQUAL(t, reference(v));
  }
}

CAF_TEST(invalid UTF-8 becomes U+FFFD as in the replace mode of nlohmann) {
  std::vector<std::string> bad{"\xFF", "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "x\xE2\x82y",
                               "\x80\x80", "ok\xF0\x9F\x98"};
  for (auto& s : bad) {
    auto t = text(json(s));
    CAF_CHECK(json::accept(t));
    CAF_CHECK_NOT_EQUAL(t.find("\xEF\xBF\xBD"), std::string::npos);
  }
  CAF_CHECK_EQUAL(text(json("\xFF")), reference(json("\xFF")));
  CAF_CHECK_EQUAL(text(json("a\xC3")), reference(json("a\xC3")));
}

CAF_TEST(non-finite numbers are null and floats stay floats) {
  CAF_CHECK_EQUAL(text(json(std::nan(""))), "null");
  CAF_CHECK_EQUAL(text(json(std::numeric_limits<double>::infinity())), "null");
  CAF_CHECK(json::parse(text(json(2.0))).is_number_float());
  CAF_CHECK(json::parse(text(json(1e22))).is_number_float());
}

CAF_TEST(random doubles round trip) {
  std::mt19937_64 rng{7};
  std::uniform_real_distribution<double> d{-1e6, 1e6};
  for (int i = 0; i < 2000; ++i) {
    auto x = d(rng);
    CAF_CHECK_EQUAL(json::parse(text(json(x))).get<double>(), x);
  }
}
