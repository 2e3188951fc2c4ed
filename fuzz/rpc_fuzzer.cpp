// libFuzzer target for the daemon's JSON-RPC handling (daemon/rpc.*,
// daemon/torrent_table.*): the envelope, batches, the scope check, the params
// helpers the methods use, torrents.list's query and paging, the bearer-token
// and Host checks, and base64.
//
// The first byte picks the token's scope and which header checks run; the
// rest is the body. Invariants: nothing throws; the answer is empty (only
// notifications) or JSON; a single call's answer is one JSON-RPC 2.0
// response with exactly one of result and error; a batch's answer is a list
// no longer than the batch.

#include "daemon/rpc.hpp"
#include "daemon/torrent_table.hpp"
#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ad = actorrent::daemon;
using nlohmann::json;

namespace {

const std::vector<json>& sample_rows() {
  static const std::vector<json> rows = [] {
    std::vector<json> r;
    for (int i = 0; i < 20; ++i)
      r.push_back({{"id", std::string(38, 'a') + std::to_string(10 + i)},
                   {"name", "t" + std::to_string(i % 7)},
                   {"state", ad::torrent_states()[static_cast<std::size_t>(i) % ad::torrent_states().size()]},
                   {"progress", i / 20.0},
                   {"size", i * 1000},
                   {"labels", i % 3 == 0 ? json::array({"a"}) : json::array()},
                   {"eta", i % 2 == 0 ? json(nullptr) : json(i)}});
    return r;
  }();
  return rows;
}

ad::rpc::dispatcher make_dispatcher() {
  ad::rpc::dispatcher d;
  d.add({"torrents.list", ad::scope::read, [](const json& p) {
           std::vector<const json*> ptrs;
           for (auto& r : sample_rows())
             ptrs.push_back(&r);
           return ad::list_torrents(ptrs, ad::parse_list_query(p));
         }});
  d.add({"torrents.stop", ad::scope::control, [](const json& p) {
           const auto& q = ad::rpc::params_object(p);
           ad::rpc::only_fields(q, {"ids", "delete_data"});
           ad::rpc::opt_bool(q, "delete_data");
           return json{{"ids", ad::rpc::get_ids(q)}};
         }});
  d.add({"torrents.add", ad::scope::control, [](const json& p) {
           const auto& q = ad::rpc::params_object(p);
           ad::rpc::only_fields(q, {"metainfo", "path", "save_path", "labels", "paused"});
           auto b = ad::rpc::opt_string(q, "metainfo", 1 << 16);
           auto bytes = b ? ad::rpc::base64_decode(*b, 1 << 16) : std::nullopt;
           ad::rpc::opt_strings(q, "labels", 32, 64);
           ad::rpc::opt_bool(q, "paused");
           return json{{"bytes", bytes ? bytes->size() : 0}};
         }});
  d.add({"torrents.set", ad::scope::control, [](const json& p) {
           const auto& q = ad::rpc::params_object(p);
           ad::rpc::opt_number(q, "ratio_limit", 0, 1e6);
           ad::rpc::opt_uint(q, "limit", 100);
           return json{{"ids", ad::rpc::get_ids(q)}};
         }});
  d.add({"config.set", ad::scope::admin, [](const json& p) { return json{{"key", ad::rpc::get_string(ad::rpc::params_object(p), "key")}}; }});
  return d;
}

void check_response(const json& r) {
  FUZZ_CHECK(r.is_object());
  FUZZ_CHECK(r.value("jsonrpc", "") == "2.0");
  FUZZ_CHECK(r.contains("id"));
  FUZZ_CHECK(r.contains("result") != r.contains("error"));
  if (r.contains("error")) {
    FUZZ_CHECK(r["error"]["code"].is_number_integer());
    FUZZ_CHECK(r["error"]["message"].is_string());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto d = make_dispatcher();
  if (size == 0)
    return 0;
  auto mode = data[0];
  std::string_view body{reinterpret_cast<const char*>(data + 1), size - 1};
  auto granted = static_cast<ad::scope>(mode % 3);
  if (mode & 0x80) {
    std::vector<ad::api_token> tokens{{"0123456789abcdef", ad::scope::read, {ad::scope::read}}};
    auto a = ad::rpc::check_bearer(body, tokens);
    FUZZ_CHECK(!a.ok || (body.size() == 23 && body.substr(7) == "0123456789abcdef"));
    ad::rpc::host_allowed(body, "127.0.0.1", {"nas.lan"});
    ad::rpc::base64_decode(body, 1 << 16);
    return 0;
  }
  auto r = d.handle(body, granted);
  if (r.body.empty())
    return 0;
  auto j = json::parse(r.body, nullptr, false);
  FUZZ_CHECK(!j.is_discarded());
  if (j.is_array()) {
    for (auto& one : j)
      check_response(one);
  } else {
    check_response(j);
  }
  return 0;
}
