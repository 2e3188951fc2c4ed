// A tiny CAF 0.17 program for tests/integration/docker_hosts.sh: what node ID
// a process gets inside a container, and a coordinator reaching actors on other
// "machines" (containers) over BASP. Built by the test with the system's CAF.
//
//   caf_node_id print [SECS]        prints this process's node ID ("HOSTHASH#PID"), stays SECS
//   caf_node_id serve PORT SECS     publishes an actor on PORT that answers get_atom
//                                   with (hostname, node ID, PORT); prints the node ID
//   caf_node_id ask HOST:PORT...    connects to each (BASP), asks it, prints "HOST:PORT
//                                   HOSTNAME NODE-ID served-by-port PORT" or "HOST:PORT error: ..."
//                                   and exits 1 if any failed
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <unistd.h>

namespace {

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

caf::behavior identity(caf::event_based_actor* self, std::string port) {
  return {[self, port](caf::get_atom) {
    return caf::make_message(host_name(), caf::to_string(self->home_system().node()), port);
  }};
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "print";
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  caf::actor_system sys{cfg};
  if (mode == "print") {
    std::cout << caf::to_string(sys.node()) << std::endl;
    if (argc > 2)
      std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[2])));
    return 0;
  }
  if (mode == "serve" && argc == 4) {
    auto a = sys.spawn(identity, std::string{argv[2]});
    auto port = sys.middleman().publish(a, static_cast<uint16_t>(std::atoi(argv[2])));
    if (!port) {
      std::cerr << "publish: " << sys.render(port.error()) << std::endl;
      return 1;
    }
    std::cout << caf::to_string(sys.node()) << " on port " << *port << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[3])));
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    return 0;
  }
  if (mode == "ask" && argc > 2) {
    int failed = 0;
    caf::scoped_actor self{sys};
    for (int i = 2; i < argc; ++i) {
      std::string target = argv[i];
      auto colon = target.rfind(':');
      if (colon == std::string::npos) {
        std::cout << target << " error: not HOST:PORT" << std::endl;
        ++failed;
        continue;
      }
      auto remote = sys.middleman().remote_actor(target.substr(0, colon),
                                                 static_cast<uint16_t>(std::atoi(target.c_str() + colon + 1)));
      if (!remote) {
        std::cout << target << " error: " << sys.render(remote.error()) << std::endl;
        ++failed;
        continue;
      }
      self->request(*remote, std::chrono::seconds(5), caf::get_atom::value)
        .receive(
          [&](const std::string& host, const std::string& node, const std::string& port) {
            std::cout << target << " " << host << " " << node << " served-by-port " << port << std::endl;
          },
                 [&](caf::error& e) {
                   std::cout << target << " error: " << sys.render(e) << std::endl;
                   ++failed;
                 });
    }
    return failed == 0 ? 0 : 1;
  }
  std::cerr << "usage: caf_node_id print [SECS] | serve PORT SECS | ask HOST:PORT..." << std::endl;
  return 2;
}
