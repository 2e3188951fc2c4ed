#define CAF_SUITE daemon_config
#include <caf/test/unit_test.hpp>

#include "daemon/config.hpp"

#include <string>

using namespace actorrent;
using namespace actorrent::daemon;

namespace {

const std::string base = "paths: {downloads: /srv/t, state: /var/lib/a}\n"
                         "api:\n"
                         "  tokens:\n"
                         "    - {token: \"0123456789abcdef-admin\", scopes: [admin]}\n";

std::string error_of(const std::string& yaml, const std::vector<std::string>& env = {}) {
  auto r = parse_daemon_config(yaml, "d.yaml", env);
  return r ? std::string{} : r.error().message;
}

} // namespace

CAF_TEST(a valid file sets the fixed keys) {
  auto r = parse_daemon_config("listen: {port: 51413}\n"
                               "api:\n"
                               "  bind: 127.0.0.1\n"
                               "  port: 9092\n"
                               "  tokens:\n"
                               "    - {token: \"0123456789abcdef-read\", scopes: [read]}\n"
                               "    - token: \"0123456789abcdef-ctl\"\n"
                               "      scopes: [read, control]\n"
                               "paths: {downloads: /srv/t, state: /var/lib/a, watch: /srv/watch}\n"
                               "limits:\n"
                               "  peers_global: 300\n"
                               "  peers_per_torrent: 40\n"
                               "  upload_rate: 5M\n"
                               "  download_rate: 64K\n"
                               "  active_downloads: 3\n"
                               "  active_seeds: 7\n"
                               "seeding: {ratio_limit: 1.5, idle_seed_time: 30m}\n"
                               "labels:\n"
                               "  movies: {save_path: /srv/m, upload_rate: 1M, peers: 20, ratio_limit: 2}\n"
                               "engine: {upload_slots: 6}\n",
                               "d.yaml");
  CAF_REQUIRE(r.ok());
  const auto& c = r->cfg;
  CAF_CHECK_EQUAL(c.listen_port, 51413u);
  CAF_CHECK_EQUAL(c.api_port, 9092u);
  CAF_REQUIRE_EQUAL(c.tokens.size(), 2u);
  CAF_CHECK(c.tokens[0].level == scope::read);
  CAF_CHECK(c.tokens[1].level == scope::control);
  CAF_CHECK_EQUAL(c.watch, "/srv/watch");
  CAF_CHECK_EQUAL(c.peers_global, 300u);
  CAF_CHECK_EQUAL(c.peers_per_torrent, 40u);
  CAF_CHECK_EQUAL(c.upload_rate, 5u * 1024 * 1024);
  CAF_CHECK_EQUAL(c.download_rate, 64u * 1024);
  CAF_CHECK_EQUAL(c.active_downloads, 3u);
  CAF_CHECK_EQUAL(c.active_seeds, 7u);
  CAF_CHECK_EQUAL(c.ratio_limit, 1.5);
  CAF_CHECK_EQUAL(c.idle_seed_time, 1800u);
  CAF_REQUIRE(c.labels.count("movies") == 1);
  CAF_CHECK_EQUAL(*c.labels.at("movies").save_path, "/srv/m");
  CAF_CHECK_EQUAL(*c.labels.at("movies").upload_rate, 1024u * 1024);
  CAF_CHECK_EQUAL(c.engine.upload_slots, 6u);
  auto described = describe_config(*r);
  CAF_CHECK_EQUAL(described["limits.peers_global"]["source"], "file");
  CAF_CHECK_EQUAL(described["limits.stalled_after"]["source"], "default");
  CAF_CHECK_EQUAL(described["api.tokens"]["value"][0]["token"], "(hidden)");
}

CAF_TEST(unknown keys name the key line and column) {
  auto e = error_of(base + "limits:\n  peers_globl: 10\n");
  CAF_CHECK_EQUAL(e, "d.yaml: line 6, column 3: key 'limits.peers_globl': unknown key (did you mean "
                     "'limits.peers_global'?)");
  e = error_of(base + "limitz: {}\n");
  CAF_CHECK(e.find("d.yaml: line 5, column 1: key 'limitz': unknown section (did you mean 'limits'?)") == 0);
  e = error_of(base + "labels:\n  tv: {save_pth: /x}\n");
  CAF_CHECK(e.find("line 6, column 8: key 'labels.tv.save_pth': unknown key") != std::string::npos);
}

CAF_TEST(wrong types and ranges name the key line and column) {
  CAF_CHECK_EQUAL(error_of(base + "limits:\n  peers_global: lots\n"),
                  "d.yaml: line 6, column 17: key 'limits.peers_global': expected an integer from 1 to 100000, "
                  "got 'lots'");
  CAF_CHECK_EQUAL(error_of(base + "limits: {peers_global: 0}\n"),
                  "d.yaml: line 5, column 24: key 'limits.peers_global': expected an integer from 1 to 100000, "
                  "got '0'");
  CAF_CHECK_EQUAL(error_of(base + "listen: {port: [1]}\n"),
                  "d.yaml: line 5, column 16: key 'listen.port': expected a value, got a list");
  CAF_CHECK(error_of(base + "limits: {upload_rate: 5X}\n").find("key 'limits.upload_rate': expected bytes/s")
            != std::string::npos);
  CAF_CHECK(error_of(base + "seeding: {ratio_limit: -1}\n").find("line 5, column 24") != std::string::npos);
  CAF_CHECK(error_of("paths: {downloads: /a, state: /b}\napi: {tokens: [{token: short, scopes: [read]}]}\n")
              .find("line 2, column 24: key 'api.tokens.token': expected 16 to 256") != std::string::npos);
  CAF_CHECK(error_of("paths: {downloads: /a, state: /b}\n"
                     "api: {tokens: [{token: 0123456789abcdef0, scopes: [root]}]}\n")
              .find("key 'api.tokens.scopes': expected read, control or admin, got 'root'") != std::string::npos);
  CAF_CHECK(error_of(base + "engine: {upload_slots: 100000}\n").find("line 5, column 24") != std::string::npos);
}

CAF_TEST(syntax errors and missing keys) {
  auto e = error_of(base + "limits: {peers_global: 1\n");
  CAF_CHECK(e.find("d.yaml: line ") == 0);
  CAF_CHECK(e.find("YAML syntax") != std::string::npos);
  CAF_CHECK_EQUAL(error_of("api: {tokens: [{token: 0123456789abcdef0, scopes: [read]}]}\npaths: {state: /b}\n"),
                  "d.yaml: key 'paths.downloads' is required (or ACTORRENT_PATHS__DOWNLOADS)");
  CAF_CHECK(error_of("paths: {downloads: /a, state: /b}\n").find("key 'api.tokens' is required") != std::string::npos);
  CAF_CHECK(error_of("- a\n- b\n").find("line 1, column 1: expected a mapping of sections") != std::string::npos);
}

CAF_TEST(the environment overrides the file) {
  auto r = parse_daemon_config(base + "limits: {peers_global: 100}\n", "d.yaml",
                               {"ACTORRENT_LIMITS__PEERS_GLOBAL=200", "ACTORRENT_API__ALLOWED_HOSTS=box.lan,nas",
                                "ACTORRENT_SHA1=scalar", "PATH=/bin"});
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r->cfg.peers_global, 200u);
  CAF_CHECK_EQUAL(r->cfg.allowed_hosts.size(), 2u);
  auto d = describe_config(*r);
  CAF_CHECK_EQUAL(d["limits.peers_global"]["source"], "env");
  CAF_CHECK_EQUAL(d["limits.peers_global"]["value"], 200);
  CAF_CHECK_EQUAL(error_of(base, {"ACTORRENT_LIMITS__PEERS_GLOBAL=many"}),
                  "environment ACTORRENT_LIMITS__PEERS_GLOBAL: key 'limits.peers_global': expected an integer "
                  "from 1 to 100000, got 'many'");
  CAF_CHECK(error_of(base, {"ACTORRENT_LIMITS__PEERS_GLOBL=1"}).find("unknown key") != std::string::npos);
  CAF_CHECK(error_of(base, {"ACTORRENT_API__TOKENS=x"}).find("can only be set in the file") != std::string::npos);
  CAF_CHECK_EQUAL(env_name("limits.peers_global"), "ACTORRENT_LIMITS__PEERS_GLOBAL");
}

CAF_TEST(api overrides win and are checked) {
  auto r = parse_daemon_config(base, "d.yaml", {"ACTORRENT_LIMITS__ACTIVE_SEEDS=3"},
                               {{"limits.active_seeds", 9}, {"limits.upload_rate", "2M"}});
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r->cfg.active_seeds, 9u);
  CAF_CHECK_EQUAL(r->cfg.upload_rate, 2u * 1024 * 1024);
  auto described = describe_config(*r); // a named value: the check keeps a reference into it
  CAF_CHECK_EQUAL(described["limits.active_seeds"]["source"], "api");
  CAF_CHECK(!check_api_value("paths.state", "/x").ok());
  CAF_CHECK(!check_api_value("api.tokens", "x").ok());
  CAF_CHECK(!check_api_value("limits.peers_global", 0).ok());
  CAF_CHECK(!check_api_value("limits.nope", 1).ok());
  CAF_CHECK(check_api_value("limits.peers_global", 10).ok());
  auto lc = *r;
  CAF_CHECK(apply_api_value(lc, "limits.peers_per_torrent", 12).ok());
  CAF_CHECK_EQUAL(lc.cfg.peers_per_torrent, 12u);
}

CAF_TEST(reload applies runtime keys and reports the others) {
  auto a = parse_daemon_config(base + "limits: {peers_global: 100}\nlisten: {port: 7000}\n", "d.yaml");
  auto b = parse_daemon_config(base + "limits: {peers_global: 150}\nlisten: {port: 7001}\n", "d.yaml");
  CAF_REQUIRE(a.ok() && b.ok());
  auto d = diff_configs(*a, *b);
  CAF_REQUIRE_EQUAL(d.runtime.size(), 1u);
  CAF_CHECK_EQUAL(d.runtime[0], "limits.peers_global");
  CAF_REQUIRE_EQUAL(d.restart.size(), 1u);
  CAF_CHECK_EQUAL(d.restart[0], "listen.port");
  auto m = merge_runtime(*a, *b);
  CAF_CHECK_EQUAL(m.cfg.peers_global, 150u);
  CAF_CHECK_EQUAL(m.cfg.listen_port, 7000u);
}

CAF_TEST(the global unchoke slots are a limits key with an env override) {
  auto r = parse_daemon_config(base + "limits: {unchoke_slots: 20}\n", "d.yaml");
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r->cfg.unchoke_slots, 20u);
  auto d = parse_daemon_config(base, "d.yaml");
  CAF_REQUIRE(d.ok());
  CAF_CHECK_EQUAL(d->cfg.unchoke_slots, 0u); // no cap unless set
  auto e = parse_daemon_config(base + "limits: {unchoke_slots: 20}\n", "d.yaml", {"ACTORRENT_LIMITS__UNCHOKE_SLOTS=8"});
  CAF_REQUIRE(e.ok());
  CAF_CHECK_EQUAL(e->cfg.unchoke_slots, 8u);
  auto described = describe_config(*e);
  CAF_CHECK_EQUAL(described["limits.unchoke_slots"]["source"], "env");
  CAF_CHECK_EQUAL(error_of(base + "limits: {unchoke_slots: -1}\n"),
                  "d.yaml: line 5, column 25: key 'limits.unchoke_slots': expected an integer from 0 to 100000, "
                  "got '-1'");
  CAF_CHECK(error_of(base, {"ACTORRENT_LIMITS__UNCHOKE_SLOTS=many"}).find("key 'limits.unchoke_slots'")
            != std::string::npos);
}
