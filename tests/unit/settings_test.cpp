#define CAF_SUITE settings
#include <caf/test/unit_test.hpp>

#include "logic/settings.hpp"

#include <set>
#include <string>

using namespace actorrent;
using namespace actorrent::logic;

namespace {

std::string error_of(status s) {
  return s ? std::string{} : s.error().message;
}

} // namespace

CAF_TEST(every default lies within its bounds and every name is unique) {
  settings defaults;
  CAF_CHECK(validate(defaults));
  std::set<std::string_view> names;
  for (auto& e : default_setting_table()) {
    CAF_CHECK(names.insert(e.name).second);
    CAF_CHECK(e.min <= e.max);
    CAF_CHECK(!e.help.empty());
    auto v = defaults.*(e.field);
    CAF_CHECK(v >= e.min && v <= e.max);
  }
  // every field of the struct is in the table: the struct holds only uint64s
  CAF_CHECK_EQUAL(names.size() * sizeof(std::uint64_t), sizeof(settings));
}

CAF_TEST(values in text with units) {
  auto get = [](std::string_view name, std::string_view text) -> std::uint64_t {
    auto* e = find_setting(name);
    CAF_REQUIRE(e != nullptr);
    auto v = parse_setting(*e, text);
    return v ? *v : ~std::uint64_t{0};
  };
  CAF_CHECK_EQUAL(get("max_peers", "80"), 80u);
  CAF_CHECK_EQUAL(get("read_size", "64K"), 65536u);
  CAF_CHECK_EQUAL(get("read_size", "1m"), 1048576u);
  CAF_CHECK_EQUAL(get("max_upload_rate", "5M"), 5u << 20);
  CAF_CHECK_EQUAL(get("max_download_rate", "0"), 0u);
  CAF_CHECK_EQUAL(get("connect_timeout", "500ms"), 500u);
  CAF_CHECK_EQUAL(get("connect_timeout", "2s"), 2000u);
  CAF_CHECK_EQUAL(get("connect_timeout", "700"), 700u);
  CAF_CHECK_EQUAL(get("choke_interval", "10"), 10u);
  CAF_CHECK_EQUAL(get("choke_interval", "10s"), 10u);
  CAF_CHECK_EQUAL(get("reconnect_delay_max", "5m"), 300u);
  CAF_CHECK_EQUAL(get("tracker_retry_max", "1h"), 3600u);
  for (auto bad : {"", "-1", "1.5", "0x10", "10 s", "s", "99999999999999999999"})
    CAF_CHECK(!parse_setting(*find_setting("choke_interval"), bad));
  CAF_CHECK(!parse_setting(*find_setting("max_peers"), "5K")); // counts take no suffix
  CAF_CHECK(!parse_setting(*find_setting("read_size"), "5ms"));
}

CAF_TEST(errors name the bounds and quote the value once) {
  settings st;
  CAF_CHECK_EQUAL(error_of(set_setting(st, "max_peers", "0")),
                  "setting 'max_peers': expected an integer from 1 to 10000, got '0'");
  CAF_CHECK_EQUAL(error_of(set_setting(st, "read_size", "1K")),
                  "setting 'read_size': expected a size in bytes (K, M, G suffixes) from 4K to 16M, got '1K'");
  CAF_CHECK_EQUAL(error_of(set_setting(st, "choke_interval", "2d")),
                  "setting 'choke_interval': expected a number of seconds (or with s, m, h) from 1s to 1h, got '2d'");
  CAF_CHECK_EQUAL(error_of(set_setting(st, "connect_timeout", "5")),
                  "setting 'connect_timeout': expected milliseconds (or with ms, s) from 100ms to 600s, got '5'");
  CAF_CHECK_EQUAL(error_of(set_setting(st, "max_peer", "5")),
                  "unknown setting 'max_peer' (did you mean 'max_peers'?); 'actorrent settings' lists them");
  CAF_CHECK_EQUAL(error_of(set_setting(st, "max_peers5")),
                  "expected NAME=VALUE, got 'max_peers5'");
  CAF_CHECK_EQUAL(error_of(set_setting(st, "=5")), "expected NAME=VALUE, got '=5'");
  CAF_CHECK_EQUAL(st.max_peers, 50u); // failed sets change nothing
  CAF_CHECK(set_setting(st, "max_peers=80"));
  CAF_CHECK(set_setting(st, "hash_delay=1s"));
  CAF_CHECK_EQUAL(st.max_peers, 80u);
  CAF_CHECK_EQUAL(st.hash_delay, 1000u);
}

CAF_TEST(validation checks bounds and order) {
  settings st;
  st.endgame_max_requesters = 9;
  CAF_CHECK_EQUAL(error_of(validate(st)), "setting 'endgame_max_requesters': 9 is outside 1..4");
  st = settings{};
  st.initial_queue_depth = 500;
  CAF_CHECK_EQUAL(error_of(validate(st)),
                  "setting 'initial_queue_depth' (500) is above 'max_queue_depth' (256)");
  st = settings{};
  st.reconnect_delay = 600;
  CAF_CHECK(!validate(st));
  st = settings{};
  st.tracker_retry = 3600;
  st.tracker_retry_max = 60;
  CAF_CHECK(!validate(st));
}

CAF_TEST(tests can lower a bound) {
  settings st;
  CAF_CHECK(!set_setting(st, "choke_interval", "0"));
  auto table = default_setting_table();
  for (auto& e : table)
    if (e.name == "choke_interval")
      e.min = 0;
  CAF_CHECK(set_setting(st, "choke_interval", "0", table));
  CAF_CHECK_EQUAL(st.choke_interval, 0u);
  CAF_CHECK(validate(st, table));
  CAF_CHECK(!validate(st)); // the default table still refuses it
}

CAF_TEST(formatting reads back) {
  settings defaults;
  for (auto& e : default_setting_table()) {
    for (auto v : {e.min, e.max, defaults.*(e.field)}) {
      auto text = format_setting(e, v);
      auto back = parse_setting(e, text);
      CAF_CHECK(back.ok());
      if (back)
        CAF_CHECK_EQUAL(*back, v);
    }
  }
  CAF_CHECK_EQUAL(format_setting(*find_setting("read_size"), 65536), "64K");
  CAF_CHECK_EQUAL(format_setting(*find_setting("read_size"), 5000), "5000");
  CAF_CHECK_EQUAL(format_setting(*find_setting("reconnect_delay_max"), 300), "5m");
  CAF_CHECK_EQUAL(format_setting(*find_setting("connect_timeout"), 500), "500ms");
  CAF_CHECK_EQUAL(format_setting(*find_setting("max_upload_rate"), 0), "0");
}

CAF_TEST(the list for people) {
  settings st;
  st.max_peers = 80;
  auto text = describe_settings(st);
  CAF_CHECK_EQUAL(text.substr(0, 4), "NAME");
  std::size_t lines = 0;
  for (char c : text)
    lines += c == '\n' ? 1 : 0;
  CAF_CHECK_EQUAL(lines, default_setting_table().size() + 1);
  CAF_CHECK(text.find("max_peers ") != std::string::npos);
  CAF_CHECK(text.find("50 (now 80)") != std::string::npos);
  CAF_CHECK(text.find("read_size") != std::string::npos);
  CAF_CHECK(text.find("64K") != std::string::npos);
}
