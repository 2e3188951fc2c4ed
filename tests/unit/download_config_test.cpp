#define CAF_SUITE download_config
#include <caf/test/unit_test.hpp>

#include "app/download_config.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

using namespace actorrent;
using namespace actorrent::app;

namespace {

/// A file under /tmp holding `text`, removed when the object goes.
struct temp_file {
  std::string path;

  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/actorrent-config-test-XXXXXX";
    int fd = ::mkstemp(name);
    CAF_REQUIRE(fd >= 0);
    path = name;
    std::size_t done = 0;
    while (done < text.size()) {
      auto n = ::write(fd, text.data() + done, text.size() - done);
      CAF_REQUIRE(n > 0);
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }

  ~temp_file() { ::unlink(path.c_str()); }
};

/// The error message of parsing `yaml` as "c.yaml" ("" if it parsed).
std::string error_of(const std::string& yaml) {
  auto r = parse_download_config(yaml, "c.yaml");
  return r ? std::string{} : r.error().to_string();
}

const std::string port_range = "expected an integer from 0 to 65535, ";

} // namespace

CAF_TEST(a valid file sets every key) {
  temp_file f{"# actorrent download settings\n"
              "download_dir: /srv/torrents\n"
              "port: 51413\n"
              "max_peers: 80\n"
              "peers:\n"
              "  - 127.0.0.1:6881\n"
              "  - \"[::1]:6882\"\n"
              "  - seed.example.org:6883\n"
              "use_trackers: false\n"
              "trackers: [\"udp://t.example:6969/announce\", \"http://t.example/a\"]\n"
              "quiet: yes\n"
              "json_progress: True\n"
              "verbose: off\n"
              "timeout: 600\n"};
  auto s = load_download_config(f.path);
  CAF_REQUIRE(s.ok());
  CAF_CHECK_EQUAL(s->download_dir.value_or(""), "/srv/torrents");
  CAF_CHECK_EQUAL(s->port.value_or(0), 51413);
  CAF_CHECK_EQUAL(s->tunables.at("max_peers"), 80u);
  CAF_REQUIRE(s->peers.has_value());
  CAF_CHECK_EQUAL(s->peers->size(), 3u);
  CAF_CHECK_EQUAL(s->peers->at(0), "127.0.0.1:6881");
  CAF_CHECK_EQUAL(s->peers->at(1), "[::1]:6882");
  CAF_CHECK_EQUAL(s->peers->at(2), "seed.example.org:6883");
  CAF_CHECK_EQUAL(s->use_trackers.value_or(true), false);
  CAF_REQUIRE(s->trackers.has_value());
  CAF_CHECK_EQUAL(s->trackers->size(), 2u);
  CAF_CHECK_EQUAL(s->trackers->at(0), "udp://t.example:6969/announce");
  CAF_CHECK_EQUAL(s->quiet.value_or(false), true);
  CAF_CHECK_EQUAL(s->json_progress.value_or(false), true);
  CAF_CHECK_EQUAL(s->verbose.value_or(true), false);
  CAF_CHECK_EQUAL(s->timeout.value_or(1), 600u);
}

CAF_TEST(empty and partial files) {
  for (auto text : {"", "\n", "# nothing\n", "---\n"}) {
    auto s = parse_download_config(text, "c.yaml");
    CAF_REQUIRE(s.ok());
    CAF_CHECK(!s->download_dir && !s->port && s->tunables.empty() && !s->peers && !s->trackers && !s->use_trackers && !s->quiet
              && !s->json_progress && !s->verbose && !s->timeout);
  }
  auto s = parse_download_config("port: 6882\npeers: []\ntimeout: 0\n", "c.yaml");
  CAF_REQUIRE(s.ok());
  CAF_CHECK_EQUAL(s->port.value_or(0), 6882);
  CAF_REQUIRE(s->peers.has_value());
  CAF_CHECK(s->peers->empty());
  CAF_CHECK_EQUAL(s->timeout.value_or(9), 0u);
  CAF_CHECK(s->tunables.empty());
  // Quoted numbers are numbers too.
  CAF_CHECK_EQUAL(parse_download_config("port: '80'\n", "c.yaml")->port.value_or(0), 80);
}

CAF_TEST(defaults then file then command line) {
  download_options opts;
  CAF_CHECK_EQUAL(opts.download_dir, ".");
  CAF_CHECK_EQUAL(opts.port, 6881);
  CAF_CHECK_EQUAL(opts.tunables.max_peers, 50u);
  CAF_CHECK_EQUAL(opts.use_trackers, true);
  CAF_CHECK(opts.trackers.empty());
  CAF_CHECK_EQUAL(opts.timeout, 0u);
  auto file = parse_download_config("download_dir: /data\nport: 7000\npeers: [\"1.2.3.4:5\"]\n"
                                    "use_trackers: no\nverbose: yes\n",
                                    "c.yaml");
  CAF_REQUIRE(file.ok());
  apply_to(*file, opts);
  download_settings cli;
  cli.port = 7001;
  cli.peers = std::vector<std::string>{"5.6.7.8:9", "[::1]:10"};
  apply_to(cli, opts);
  CAF_CHECK_EQUAL(opts.download_dir, "/data"); // only in the file
  CAF_CHECK_EQUAL(opts.port, 7001);            // the command line wins
  CAF_CHECK_EQUAL(opts.tunables.max_peers, 50u); // nobody set it
  CAF_REQUIRE_EQUAL(opts.peers.size(), 2u);    // replaced, not merged
  CAF_CHECK_EQUAL(opts.peers[0], "5.6.7.8:9");
  CAF_CHECK_EQUAL(opts.use_trackers, false);
  CAF_CHECK_EQUAL(opts.verbose, true);
  CAF_CHECK_EQUAL(opts.quiet, false);
}

CAF_TEST(bad integers name the key and the value) {
  CAF_CHECK_EQUAL(error_of("port: abc\n"), "c.yaml: key 'port': " + port_range + "got 'abc'");
  // 0 (any free port) is accepted, as on the command line
  CAF_CHECK_EQUAL(error_of("port: 0\n"), "");
  CAF_CHECK_EQUAL(parse_download_config("port: 0\n", "c.yaml")->port.value_or(1), 0);
  CAF_CHECK_EQUAL(error_of("port: 65536\n"), "c.yaml: key 'port': " + port_range + "got '65536'");
  CAF_CHECK_EQUAL(error_of("port: -1\n"), "c.yaml: key 'port': " + port_range + "got '-1'");
  CAF_CHECK_EQUAL(error_of("port: 80.5\n"), "c.yaml: key 'port': " + port_range + "got '80.5'");
  CAF_CHECK_EQUAL(error_of("port: 0x50\n"), "c.yaml: key 'port': " + port_range + "got '0x50'");
  CAF_CHECK_EQUAL(error_of("port: 99999999999999999999999\n"),
                  "c.yaml: key 'port': " + port_range + "got '99999999999999999999999'");
  CAF_CHECK_EQUAL(error_of("port: ''\n"), "c.yaml: key 'port': " + port_range + "got ''");
  CAF_CHECK_EQUAL(error_of("port:\n"), "c.yaml: key 'port': " + port_range + "got nothing");
  CAF_CHECK_EQUAL(error_of("port: [80]\n"), "c.yaml: key 'port': " + port_range + "got a list");
  CAF_CHECK_EQUAL(error_of("port: {a: 1}\n"), "c.yaml: key 'port': " + port_range + "got a mapping");
  CAF_CHECK_EQUAL(error_of("max_peers: 0\n"),
                  "c.yaml: key 'max_peers': expected an integer from 1 to 10000, got '0'");
  CAF_CHECK_EQUAL(error_of("max_peers: 10001\n"),
                  "c.yaml: key 'max_peers': expected an integer from 1 to 10000, got '10001'");
  CAF_CHECK_EQUAL(error_of("timeout: -1\n"),
                  "c.yaml: key 'timeout': expected a number of seconds from 0 to 31536000, got '-1'");
  CAF_CHECK_EQUAL(error_of("timeout: 1h\n"),
                  "c.yaml: key 'timeout': expected a number of seconds from 0 to 31536000, got '1h'");
}

CAF_TEST(bad booleans and strings) {
  CAF_CHECK_EQUAL(error_of("quiet: maybe\n"), "c.yaml: key 'quiet': expected true or false, got 'maybe'");
  CAF_CHECK_EQUAL(error_of("use_trackers: 1\n"), "c.yaml: key 'use_trackers': expected true or false, got '1'");
  // `trackers` is a list of URLs now; the old boolean says where it went
  CAF_CHECK_EQUAL(error_of("trackers: false\n"),
                  "c.yaml: key 'trackers': expected a list of tracker URLs (to turn the torrent's trackers off, "
                  "use 'use_trackers: false'), got 'false'");
  CAF_CHECK_EQUAL(error_of("trackers: http://a/b\n"),
                  "c.yaml: key 'trackers': expected a list of tracker URLs, got 'http://a/b'");
  CAF_CHECK_EQUAL(error_of("trackers: [ftp://a/b]\n"),
                  "c.yaml: key 'trackers': entry 1: expected an http://, https:// or udp:// tracker URL, got 'ftp://a/b'");
  CAF_CHECK_EQUAL(error_of("trackers: [\"http://a/b\", \"udp://\"]\n"),
                  "c.yaml: key 'trackers': entry 2: the tracker URL 'udp://' has no host");
  CAF_CHECK_EQUAL(error_of("trackers: [[x]]\n"), "c.yaml: key 'trackers': entry 1: expected a tracker URL, got a list");
  CAF_CHECK_EQUAL(error_of("verbose:\n"), "c.yaml: key 'verbose': expected true or false, got nothing");
  CAF_CHECK_EQUAL(error_of("json_progress: [true]\n"),
                  "c.yaml: key 'json_progress': expected true or false, got a list");
  CAF_CHECK_EQUAL(error_of("download_dir:\n"), "c.yaml: key 'download_dir': expected a directory path, got nothing");
  CAF_CHECK_EQUAL(error_of("download_dir: ''\n"), "c.yaml: key 'download_dir': expected a directory path, got ''");
  CAF_CHECK_EQUAL(error_of("download_dir: [a, b]\n"),
                  "c.yaml: key 'download_dir': expected a directory path, got a list");
  CAF_CHECK_EQUAL(error_of("download_dir: \"a\\0b\"\n"), "c.yaml: key 'download_dir': the path contains a NUL byte");
  // Long and unprintable values are shortened and escaped.
  CAF_CHECK_EQUAL(error_of("quiet: \"a\\tb\"\n"), "c.yaml: key 'quiet': expected true or false, got 'a\\x09b'");
  CAF_CHECK_EQUAL(error_of("quiet: " + std::string(100, 'x') + "\n"),
                  "c.yaml: key 'quiet': expected true or false, got '" + std::string(64, 'x') + "...'");
}

CAF_TEST(bad peers) {
  CAF_CHECK_EQUAL(error_of("peers: 1.2.3.4:80\n"),
                  "c.yaml: key 'peers': expected a list of \"host:port\" addresses, got '1.2.3.4:80'");
  CAF_CHECK_EQUAL(error_of("peers:\n"), "c.yaml: key 'peers': expected a list of \"host:port\" addresses, got nothing");
  CAF_CHECK_EQUAL(error_of("peers: [\"1.2.3.4:80\", \"1.2.3.4:99999\"]\n"),
                  "c.yaml: key 'peers': entry 2: invalid port '99999'");
  CAF_CHECK_EQUAL(error_of("peers: [example.org]\n"),
                  "c.yaml: key 'peers': entry 1: missing port in address 'example.org'");
  CAF_CHECK_EQUAL(error_of("peers: ['::1:80']\n"),
                  "c.yaml: key 'peers': entry 1: ipv6 address without brackets in '::1:80'");
  CAF_CHECK_EQUAL(error_of("peers: ['300.1.1.1:80']\n"),
                  "c.yaml: key 'peers': entry 1: invalid ipv4 address '300.1.1.1'");
  CAF_CHECK_EQUAL(error_of("peers:\n  - {host: a, port: 1}\n"),
                  "c.yaml: key 'peers': entry 1: expected a \"host:port\" address, got a mapping");
  CAF_CHECK(check_peer_address("[::1]:80").ok());
  CAF_CHECK(check_peer_address("localhost:80").ok());
  auto empty = check_peer_address("");
  CAF_REQUIRE(!empty.ok());
  CAF_CHECK_EQUAL(empty.error().message, "empty address");
}

CAF_TEST(unknown and repeated keys) {
  CAF_CHECK_EQUAL(error_of("prot: 80\n"), "c.yaml: unknown key 'prot' (did you mean 'port'?)");
  CAF_CHECK_EQUAL(error_of("max-peers: 3\n"), "c.yaml: unknown key 'max-peers' (did you mean 'max_peers'?)");
  CAF_CHECK_EQUAL(error_of("tracker: false\n"), "c.yaml: unknown key 'tracker' (did you mean 'trackers'?)");
  CAF_CHECK_EQUAL(error_of("colour: red\n"), "c.yaml: unknown key 'colour'");
  CAF_CHECK_EQUAL(error_of("port: 80\nPort: 81\n"), "c.yaml: unknown key 'Port' (did you mean 'port'?)");
  CAF_CHECK_EQUAL(error_of("port: 1\nport: 2\n"), "c.yaml: key 'port' given twice");
  CAF_CHECK_EQUAL(error_of("? [a, b]\n: 1\n"), "c.yaml: line 1: expected a key name, got a list");
  // The first bad key is reported, even after valid ones.
  CAF_CHECK_EQUAL(error_of("port: 80\nquiet: true\nverbos: true\n"),
                  "c.yaml: unknown key 'verbos' (did you mean 'verbose'?)");
}

CAF_TEST(syntax errors and other documents) {
  CAF_CHECK_EQUAL(error_of("port: [1, 2\n"), "c.yaml: line 2, column 1: end of sequence flow not found");
  CAF_CHECK_EQUAL(error_of("port: *nowhere\n"), "c.yaml: line 1, column 7: the referenced anchor is not defined");
  CAF_CHECK_EQUAL(error_of("- port\n- 80\n"),
                  "c.yaml: expected a mapping of settings (key: value) at the top level, got a list");
  CAF_CHECK_EQUAL(error_of("port 80\n"),
                  "c.yaml: expected a mapping of settings (key: value) at the top level, got 'port 80'");
  // Deep nesting is refused by yaml-cpp's depth guard, not a crash.
  CAF_CHECK(!error_of("port: " + std::string(5000, '[') + "\n").empty());
}

CAF_TEST(files that cannot be read) {
  auto missing = load_download_config("/tmp/actorrent-no-such-config.yaml");
  CAF_REQUIRE(!missing.ok());
  CAF_CHECK_EQUAL(missing.error().message, "/tmp/actorrent-no-such-config.yaml: cannot read: No such file or directory");
  auto dir = load_download_config("/tmp");
  CAF_REQUIRE(!dir.ok());
  CAF_CHECK_EQUAL(dir.error().message, "/tmp: cannot read: is a directory");
  temp_file big{std::string(config_file_limit + 1, '#')};
  auto too_big = load_download_config(big.path);
  CAF_REQUIRE(!too_big.ok());
  CAF_CHECK_EQUAL(too_big.error().message, big.path + ": larger than 1048576 bytes");
  temp_file bad{"port: abc\n"};
  auto r = load_download_config(bad.path);
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, bad.path + ": key 'port': " + port_range + "got 'abc'");
}

CAF_TEST(upload rates with suffixes) {
  auto rate = [](const char* text) -> std::uint64_t {
    auto r = parse_rate(text);
    return r ? *r : ~std::uint64_t{0};
  };
  CAF_CHECK_EQUAL(rate("0"), 0u);
  CAF_CHECK_EQUAL(rate("1500"), 1500u);
  CAF_CHECK_EQUAL(rate("500K"), 500u * 1024);
  CAF_CHECK_EQUAL(rate("5m"), 5u * 1024 * 1024);
  CAF_CHECK_EQUAL(rate("1G"), 1ull << 30);
  for (auto bad : {"", "K", "-5", "5MB", "1.5M", "2000G", "99999999999999"})
    CAF_CHECK(!parse_rate(bad));
  auto s = parse_download_config("max_upload_rate: 2M\nseed: yes\nseed_ratio: 1.5\nseed_time: 60\n"
                                 "upload_slots: 2\n", "f.yaml");
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->tunables.at("max_upload_rate"), 2u << 20);
  CAF_CHECK_EQUAL(*s->seed, true);
  CAF_CHECK_EQUAL(*s->seed_ratio, 1.5);
  CAF_CHECK_EQUAL(*s->seed_time, 60u);
  CAF_CHECK_EQUAL(s->tunables.at("upload_slots"), 2u);
  auto e = parse_download_config("seed_ratio: 1e9\n", "f.yaml");
  CAF_REQUIRE(!e);
  CAF_CHECK(e.error().message.find("key 'seed_ratio'") != std::string::npos);
  auto r = parse_download_config("max_upload_rate: fast\n", "f.yaml");
  CAF_REQUIRE(!r);
  CAF_CHECK(r.error().message.find("key 'max_upload_rate'") != std::string::npos);
  // the value is named once, not twice
  CAF_CHECK_EQUAL(r.error().message,
                  "f.yaml: key 'max_upload_rate': expected bytes/s like 500K, 5M or 1G from 0 to 1024G, got 'fast'");
  CAF_CHECK_EQUAL(error_of("max_upload_rate: [1]\n"),
                  "c.yaml: key 'max_upload_rate': expected bytes/s like 500K, 5M or 1G from 0 to 1024G, got a list");
}

CAF_TEST(every tunable of the settings list is a key) {
  auto s = parse_download_config("read_size: 128K\nchoke_interval: 5s\nmax_download_rate: 10M\n"
                                 "connect_timeout: 2s\n", "c.yaml");
  CAF_REQUIRE(s.ok());
  download_options opts;
  download_settings cli;
  cli.tunables["choke_interval"] = 7; // the command line wins, key by key
  apply_to(*s, opts);
  apply_to(cli, opts);
  CAF_CHECK_EQUAL(opts.tunables.read_size, 128u * 1024);
  CAF_CHECK_EQUAL(opts.tunables.choke_interval, 7u);
  CAF_CHECK_EQUAL(opts.tunables.max_download_rate, 10u << 20);
  CAF_CHECK_EQUAL(opts.tunables.connect_timeout, 2000u);
  CAF_CHECK_EQUAL(opts.tunables.max_peers, 50u);
  CAF_CHECK_EQUAL(error_of("read_size: 1\n"),
                  "c.yaml: key 'read_size': expected a size in bytes (K, M, G suffixes) from 4K to 16M, got '1'");
  CAF_CHECK_EQUAL(error_of("read_sise: 1\n"), "c.yaml: unknown key 'read_sise' (did you mean 'read_size'?)");
  CAF_CHECK_EQUAL(error_of("choke_interval: {a: 1}\n"),
                  "c.yaml: key 'choke_interval': expected a number of seconds (or with s, m, h) from 1s to 1h, "
                  "got a mapping");
}

CAF_TEST(select_file is a string of file numbers) {
  auto s = parse_download_config("select_file: \"2,4-5\"\n", "c.yaml");
  CAF_REQUIRE(s.ok());
  CAF_CHECK_EQUAL(*s->select_file, "2,4-5");
  auto n = parse_download_config("select_file: 3\n", "c.yaml"); // a bare number is a list of one
  CAF_REQUIRE(n.ok());
  CAF_CHECK_EQUAL(*n->select_file, "3");
  download_options opts;
  apply_to(*s, opts);
  CAF_CHECK_EQUAL(opts.select_file, "2,4-5");
  CAF_CHECK_EQUAL(error_of("select_file: [1, 2]\n"),
                  "c.yaml: key 'select_file': expected file numbers like \"1,3-5\", got a list");
}
