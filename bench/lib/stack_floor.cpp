// The RSS floor of actorrent's daemon stack (bench/daemon.sh): a process that
// loads and starts what `actorrent daemon` starts before its first torrent, and
// nothing of actorrent's own: a CAF actor system with the I/O middleman (the
// peers' brokers) and one actor, libcurl initialised (HTTP trackers), OpenSSL's
// SHA-1 (piece hashes), a cpp-httplib server listening (the API) and one YAML
// document parsed (the configuration). It idles, then prints its memory as JSON.
//
//   stack_floor PORT [SECONDS (5)]
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <curl/curl.h>
#include <httplib.h>
#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

long status_kb(const std::string& key) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0)
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: stack_floor PORT [SECONDS]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>("floor"), 5, digest);
  auto doc = YAML::Load("listen: {port: 6881}");
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto echo = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
  httplib::Server server;
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  if (!server.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "stack_floor: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  std::thread http{[&] { server.listen_after_bind(); }};
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  std::printf("{\"rss_kb\": %ld, \"anon_kb\": %ld, \"file_kb\": %ld, \"sha1_byte\": %u, \"yaml_port\": %d}\n",
              status_kb("VmRSS"), status_kb("RssAnon"), status_kb("RssFile"), static_cast<unsigned>(digest[0]),
              doc["listen"]["port"].as<int>());
  std::fflush(stdout);
  server.stop();
  http.join();
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  curl_global_cleanup();
  return 0;
}
