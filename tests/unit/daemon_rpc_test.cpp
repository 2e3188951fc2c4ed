#define CAF_SUITE daemon_rpc
#include <caf/test/unit_test.hpp>

#include "daemon/rpc.hpp"
#include "daemon/torrent_table.hpp"

#include <string>

using namespace actorrent;
using namespace actorrent::daemon;
using nlohmann::json;

namespace {

rpc::dispatcher make_dispatcher() {
  rpc::dispatcher d;
  d.add({"echo", scope::read, [](const json& p) { return p.is_null() ? json("none") : p; }});
  d.add({"torrents.stop", scope::control, [](const json& p) {
           rpc::only_fields(rpc::params_object(p), {"ids"});
           return json{{"ids", rpc::get_ids(rpc::params_object(p))}};
         }});
  d.add({"config.set", scope::admin, [](const json&) { return json("ok"); }});
  d.add({"boom", scope::read, [](const json&) -> json { throw std::runtime_error("kaput"); }});
  d.add({"missing", scope::read, [](const json&) -> json { throw rpc::rpc_error(rpc::not_found, "no torrent"); }});
  return d;
}

json call(const rpc::dispatcher& d, const std::string& body, scope granted = scope::admin, int* status = nullptr) {
  auto r = d.handle(body, granted);
  if (status != nullptr)
    *status = r.http_status;
  return r.body.empty() ? json{} : json::parse(r.body);
}

} // namespace

CAF_TEST(the envelope) {
  auto d = make_dispatcher();
  auto r = call(d, R"({"jsonrpc":"2.0","id":7,"method":"echo","params":{"a":1}})");
  CAF_CHECK_EQUAL(r["id"], 7);
  CAF_CHECK_EQUAL(r["result"]["a"], 1);
  CAF_CHECK_EQUAL(r["jsonrpc"], "2.0");
  int status = 0;
  r = call(d, "{nope", scope::admin, &status);
  CAF_CHECK_EQUAL(r["error"]["code"], -32700);
  CAF_CHECK_EQUAL(status, 400);
  r = call(d, R"({"jsonrpc":"1.0","id":1,"method":"echo"})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32600);
  r = call(d, R"({"jsonrpc":"2.0","id":{"x":1},"method":"echo"})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32600);
  r = call(d, R"({"jsonrpc":"2.0","id":"a","method":"nope"})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32601);
  CAF_CHECK_EQUAL(r["id"], "a");
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[1,2]})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32602);
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"boom"})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32603);
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"missing"})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32004);
  // a notification gets no answer, even when it fails
  auto n = d.handle(R"({"jsonrpc":"2.0","method":"boom"})", scope::admin);
  CAF_CHECK(n.body.empty());
  r = call(d, R"([{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","method":"echo"},5])");
  CAF_REQUIRE(r.is_array());
  CAF_CHECK_EQUAL(r.size(), 2u);
  CAF_CHECK_EQUAL(r[0]["result"], "none");
  CAF_CHECK_EQUAL(r[1]["error"]["code"], -32600);
  auto empty_batch = call(d, "[]"); // named: a check keeps references into its operands
  CAF_CHECK_EQUAL(empty_batch["error"]["code"], -32600);
  std::string deep(1000, '[');
  auto too_deep = call(d, deep);
  CAF_CHECK_EQUAL(too_deep["error"]["code"], -32700);
}

CAF_TEST(scopes per method) {
  auto d = make_dispatcher();
  int status = 0;
  auto stop = R"({"jsonrpc":"2.0","id":1,"method":"torrents.stop","params":{"ids":["0123456789abcdef0123456789ABCDEF01234567"]}})";
  auto r = call(d, stop, scope::read, &status);
  CAF_CHECK_EQUAL(r["error"]["code"], -32002);
  CAF_CHECK_EQUAL(status, 403);
  r = call(d, stop, scope::control, &status);
  CAF_CHECK_EQUAL(status, 200);
  CAF_CHECK_EQUAL(r["result"]["ids"][0], "0123456789abcdef0123456789abcdef01234567");
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"config.set"})", scope::control);
  CAF_CHECK_EQUAL(r["error"]["code"], -32002);
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"config.set"})", scope::admin);
  CAF_CHECK_EQUAL(r["result"], "ok");
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"torrents.stop","params":{"ids":["xyz"]}})", scope::admin);
  CAF_CHECK_EQUAL(r["error"]["code"], -32602);
  r = call(d, R"({"jsonrpc":"2.0","id":1,"method":"torrents.stop","params":{"ids":[],"x":1}})", scope::admin);
  CAF_CHECK_EQUAL(r["error"]["code"], -32602);
}

CAF_TEST(bearer tokens and hosts) {
  std::vector<api_token> tokens{{"0123456789abcdef-read", scope::read, {scope::read}},
                                {"0123456789abcdef-admin", scope::admin, {scope::admin}}};
  auto a = rpc::check_bearer("Bearer 0123456789abcdef-admin", tokens);
  CAF_CHECK(a.ok);
  CAF_CHECK(a.granted == scope::admin);
  CAF_CHECK(rpc::check_bearer("bearer 0123456789abcdef-read", tokens).granted == scope::read);
  CAF_CHECK(!rpc::check_bearer("", tokens).ok);
  CAF_CHECK(!rpc::check_bearer("Basic abc", tokens).ok);
  CAF_CHECK(!rpc::check_bearer("Bearer 0123456789abcdef-adm", tokens).ok);
  CAF_CHECK(!rpc::check_bearer("Bearer 0123456789abcdef-admin2", tokens).ok);
  CAF_CHECK(rpc::host_allowed("127.0.0.1:9091", "127.0.0.1", {}));
  CAF_CHECK(rpc::host_allowed("localhost", "127.0.0.1", {}));
  CAF_CHECK(rpc::host_allowed("[::1]:9091", "127.0.0.1", {}));
  CAF_CHECK(rpc::host_allowed("NAS.lan:9091", "0.0.0.0", {"nas.lan"}));
  CAF_CHECK(!rpc::host_allowed("evil.example:9091", "127.0.0.1", {}));
  CAF_CHECK(!rpc::host_allowed("0.0.0.0:9091", "0.0.0.0", {}));
  CAF_CHECK(!rpc::host_allowed("", "127.0.0.1", {}));
  CAF_CHECK(!rpc::host_allowed("[::1", "127.0.0.1", {}));
}

CAF_TEST(base64) {
  // named results: CAF_CHECK_EQUAL keeps references to its arguments
  auto padded = rpc::base64_decode("aGVsbG8=", 100);
  auto unpadded = rpc::base64_decode("aGVsbG8", 100);
  CAF_REQUIRE(padded && unpadded);
  CAF_CHECK_EQUAL(*padded, "hello");
  CAF_CHECK_EQUAL(*unpadded, "hello");
  CAF_CHECK(!rpc::base64_decode("aGV$bG8=", 100));
  CAF_CHECK(!rpc::base64_decode("aGVsbG8=", 3));
  CAF_CHECK(!rpc::base64_decode("a", 100));
}

CAF_TEST(a text result is spliced into the answer unparsed) {
  rpc::dispatcher d;
  int calls = 0;
  d.add({"text", scope::read, nullptr, [&calls](const json& p) {
           ++calls;
           if (p.is_object() && p.contains("fail"))
             throw rpc::rpc_error(rpc::not_found, "no torrent");
           return std::string{R"({"torrents":[{"id":"x","name":"a \"b\""}],"total":1})"};
         }});
  int status = 0;
  auto r = call(d, R"({"jsonrpc":"2.0","id":"q","method":"text"})", scope::read, &status);
  CAF_CHECK_EQUAL(status, 200);
  CAF_CHECK_EQUAL(r["id"], "q");
  CAF_CHECK_EQUAL(r["jsonrpc"], "2.0");
  CAF_CHECK_EQUAL(r["result"]["total"], 1);
  CAF_CHECK_EQUAL(r["result"]["torrents"][0]["name"], "a \"b\"");
  r = call(d, R"({"jsonrpc":"2.0","id":2,"method":"text","params":{"fail":1}})");
  CAF_CHECK_EQUAL(r["error"]["code"], -32004);
  CAF_CHECK(!r.contains("result"));
  // in a batch the text is parsed into the answer
  r = call(d, R"([{"jsonrpc":"2.0","id":1,"method":"text"},{"jsonrpc":"2.0","id":2,"method":"text"}])");
  CAF_REQUIRE_EQUAL(r.size(), 2u);
  CAF_CHECK_EQUAL(r[1]["result"]["torrents"][0]["id"], "x");
  // a notification runs the method and gets no answer
  auto before = calls;
  auto raw = d.handle(R"({"jsonrpc":"2.0","method":"text"})", scope::admin);
  CAF_CHECK(raw.body.empty());
  CAF_CHECK_EQUAL(calls, before + 1);
}

CAF_TEST(list filter sort fields and cursor) {
  std::vector<json> rows;
  for (int i = 0; i < 5; ++i)
    rows.push_back({{"id", std::string(39, '0') + std::to_string(i)},
                    {"name", i % 2 == 0 ? "Ubuntu " + std::to_string(i) : "debian " + std::to_string(i)},
                    {"state", i < 2 ? "seeding" : "downloading"},
                    {"labels", i == 3 ? json::array({"linux"}) : json::array()},
                    {"added", 10 - i},
                    {"size", i * 100}});
  std::vector<const json*> ptrs;
  for (auto& r : rows)
    ptrs.push_back(&r);
  auto q = parse_list_query({{"sort", "-size"}, {"limit", 2}, {"fields", {"id", "size"}}});
  auto page = list_torrents(ptrs, q);
  CAF_REQUIRE_EQUAL(page["torrents"].size(), 2u);
  CAF_CHECK_EQUAL(page["torrents"][0]["size"], 400);
  CAF_CHECK(!page["torrents"][0].contains("name"));
  CAF_CHECK_EQUAL(page["next_cursor"], "2");
  CAF_CHECK_EQUAL(page["total"], 5);
  q = parse_list_query({{"sort", "-size"}, {"limit", 2}, {"cursor", page["next_cursor"]}});
  page = list_torrents(ptrs, q);
  CAF_CHECK_EQUAL(page["torrents"][0]["size"], 200);
  q.offset = 4;
  page = list_torrents(ptrs, q);
  CAF_CHECK_EQUAL(page["torrents"].size(), 1u);
  CAF_CHECK(page["next_cursor"].is_null());
  page = list_torrents(ptrs, parse_list_query({{"filter", {{"state", "seeding"}}}}));
  CAF_CHECK_EQUAL(page["total"], 2);
  page = list_torrents(ptrs, parse_list_query({{"filter", {{"label", "linux"}}}}));
  CAF_CHECK_EQUAL(page["total"], 1);
  page = list_torrents(ptrs, parse_list_query({{"filter", {{"name", "UBUNTU"}}}, {"sort", "added"}}));
  CAF_CHECK_EQUAL(page["total"], 3);
  CAF_CHECK_EQUAL(page["torrents"][0]["added"], 6);
  auto bad = [](const json& p) {
    try {
      parse_list_query(p);
    } catch (const rpc::rpc_error& e) {
      return e.code;
    }
    return 0;
  };
  CAF_CHECK_EQUAL(bad({{"sort", "colour"}}), -32602);
  CAF_CHECK_EQUAL(bad({{"fields", {"id", "colour"}}}), -32602);
  CAF_CHECK_EQUAL(bad({{"filter", {{"state", "sleeping"}}}}), -32602);
  CAF_CHECK_EQUAL(bad({{"limit", 0}}), -32602);
  CAF_CHECK_EQUAL(bad({{"cursor", "x"}}), -32602);
  CAF_CHECK_EQUAL(bad({{"whatever", 1}}), -32602);
}

CAF_TEST(a sort keeps ties in id order whether the values are all numbers or not) {
  // numbers only (plain keys), then the same with a null among them (json
  // comparison): ascending ties stay in row order, nulls sort last going up
  // and first going down
  std::vector<json> values = {3, 1.5, 3, 0, 1.5, 7u, -2, 3};
  auto order = [&](const std::vector<json>& vals, const std::string& sort) {
    list_source src;
    src.size = vals.size();
    src.state = [](std::size_t) { return std::string{"seeding"}; };
    src.name = [](std::size_t) { return std::string{}; };
    src.has_label = [](std::size_t, const std::string&) { return false; };
    src.value = [&](std::size_t i, const std::string&) { return vals[i]; };
    list_query q;
    q.sort = sort;
    return select_page(src, q).rows;
  };
  using rows = std::vector<std::size_t>;
  CAF_CHECK_EQUAL(order(values, "size"), (rows{6, 3, 1, 4, 0, 2, 7, 5}));
  CAF_CHECK_EQUAL(order(values, "-size"), (rows{5, 0, 2, 7, 1, 4, 3, 6}));
  auto with_null = values;
  with_null[2] = nullptr;
  CAF_CHECK_EQUAL(order(with_null, "size"), (rows{6, 3, 1, 4, 0, 7, 5, 2}));
  CAF_CHECK_EQUAL(order(with_null, "-size"), (rows{2, 5, 0, 7, 1, 4, 3, 6}));
}
