#define CAF_SUITE lab_docker_backend
#include <caf/test/unit_test.hpp>

#include "lab/backend.hpp"
#include "lab/docker_backend.hpp"
#include "lab/plan.hpp"
#include "lab/process.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

using namespace actorrent;
using namespace actorrent::lab;

namespace {

/// Records every command (from any thread); answers `docker ps` with two ids,
/// an iptables listing with counters, and fails commands containing a `failing` text.
struct recorder {
  std::mutex mtx;
  std::vector<std::string> lines;
  std::vector<std::string> failing;

  command_sink sink() {
    return [this](const argv_t& argv) {
      auto text = printable(argv);
      std::lock_guard<std::mutex> guard{mtx};
      lines.push_back(text);
      for (auto& f : failing)
        if (text.find(f) != std::string::npos)
          return command_result{2, "Error: Specified qdisc kind is unknown."};
      if (text.find("docker ps -aq") == 0)
        return command_result{0, "c1\nc2\n"};
      if (text.find("docker inspect -f '{{.State.Pid}}'") == 0)
        return command_result{0, "4242\n"};
      if (text.find("iptables -w -L -v -x -n") != std::string::npos)
        return command_result{0, "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
                                 "    pkts      bytes target     prot opt in     out     source               destination\n"
                                 "       7      420 DROP       0    --  *      *       10.77.0.3            0.0.0.0/0\n"
                                 "\n"
                                 "Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
                                 "    pkts      bytes target     prot opt in     out     source               destination\n"
                                 "       5      300 DROP       0    --  *      *       0.0.0.0/0            10.77.0.2\n"};
      return command_result{0, {}};
    };
  }

  std::size_t count(const std::string& part) {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [&](auto& l) { return l.find(part) != std::string::npos; }));
  }

  bool has_line(const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
};

resolved_plan resolved(const std::string& text) {
  auto p = parse_plan(text, "d.yaml");
  CAF_REQUIRE(p.ok());
  auto r = resolve(*p);
  CAF_REQUIRE(r.ok());
  return std::move(*r);
}

backend_options docker_options() {
  backend_options o;
  o.name = "docker";
  o.out_dir = "/tmp/lab-out";
  o.actorrent = "/build/actorrent";
  return o;
}

/// The error build() returns for `rp` when the commands containing `failing` fail.
std::string build_error(const resolved_plan& rp, const std::string& failing, const std::string& run) {
  recorder rec;
  rec.failing.push_back(failing);
  docker_backend b(rp, docker_options(), run, rec.sink());
  auto ok = b.build();
  CAF_REQUIRE(!ok.ok());
  return ok.error().message;
}

const std::string pause_plan = R"(name: d
seed: 1
torrent: {size: 1MiB}
groups:
  - {name: s, kind: actorrent, count: 1, role: seed, link: {rate: 8mbit}}
  - {name: l, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 2s, kind: pause, targets: l-1}
)";

const std::string partition_plan = R"(name: d
seed: 1
torrent: {size: 1MiB}
groups:
  - {name: s, kind: actorrent, count: 1, role: seed}
  - {name: l, kind: actorrent, count: 2, role: leech}
faults:
  - {at: 1s, for: 2s, kind: partition, between: [l, s]}
)";

} // namespace

CAF_TEST(NET_ADMIN holders only for peers whose plan shapes or cuts their link) {
  auto rp = resolved(pause_plan);
  recorder rec;
  docker_backend b(rp, docker_options(), "t1", rec.sink());
  CAF_CHECK(b.has_holder(0));
  CAF_CHECK(!b.has_holder(1));
  CAF_CHECK(!b.has_holder(2));
  CAF_REQUIRE(b.build().ok());
  CAF_CHECK_EQUAL(rec.count("--cap-add NET_ADMIN"), 1u);
  CAF_CHECK_EQUAL(rec.count("docker run -d --name alab-t1-s-1-net"), 1u);
  CAF_CHECK(rec.has_line("docker network create --driver bridge --internal --subnet 10.77.0.0/16 --ip-range "
                         "10.77.254.0/24 --gateway 10.77.255.254 --label actorrent.lab=1 --label "
                         "actorrent.lab.run=t1 alab-t1"));
  // the seeder's 8mbit both ways: tbf or netem on eth0, tbf on the ifb its ingress goes through
  CAF_CHECK_EQUAL(rec.count("docker exec alab-t1-s-1-net sh -c"), 1u);
  CAF_CHECK_EQUAL(rec.count("tc qdisc replace dev ifb0 root tbf rate 8000000bit"), 1u);
  auto seed = printable(b.peer_command(0, {"/build/actorrent", "seed", "/tmp/lab-out/lab.torrent", "/tmp/lab-out/peers/s-1"}));
  CAF_CHECK(seed.find("--network container:alab-t1-s-1-net") != std::string::npos);
  CAF_CHECK(seed.find("--entrypoint actorrent actorrent:latest seed /tmp/lab-out/lab.torrent") != std::string::npos);
  CAF_CHECK(seed.find("-v /tmp/lab-out:/tmp/lab-out:ro -v /tmp/lab-out/peers/s-1:/tmp/lab-out/peers/s-1")
            != std::string::npos);
  auto leech = printable(b.peer_command(1, {"/build/actorrent", "download"}));
  CAF_CHECK(leech.find("--network alab-t1 --ip 10.77.0.3 --hostname l-1") != std::string::npos);
  CAF_CHECK(leech.find("NET_ADMIN") == std::string::npos);
  // the bridge address: a holder without capabilities, shared by the tracker and the coordinator
  CAF_CHECK(rec.has_line("docker run -d --name alab-t1-coord --label actorrent.lab=1 --label actorrent.lab.run=t1 "
                         "--network alab-t1 --ip 10.77.0.1 --hostname coordinator --entrypoint sleep actorrent:latest "
                         "infinity"));
  auto tracker = printable(b.tracker_command({"opentracker", "-i", "10.77.0.1", "-d", "/tmp/lab-out/tracker"}));
  CAF_CHECK(tracker.find("--network container:alab-t1-coord --user 0") != std::string::npos);
  CAF_CHECK(tracker.find("--ip") == std::string::npos);
  CAF_CHECK(tracker.find("-v /tmp/lab-out/tracker:/tmp/lab-out/tracker:ro --entrypoint opentracker") != std::string::npos);
  // the coordinator's namespace is the holder's process's (setns needs root)
  CAF_CHECK_EQUAL(b.coordinator_netns(), ::geteuid() == 0 ? std::string{"/proc/4242/ns/net"} : std::string{});
}

CAF_TEST(wire and disk fault windows on docker need the coordinator and so root) {
  auto text = pause_plan;
  text += "  - {at: 1s, for: 2s, kind: wire, targets: l-2, behavior: {corrupt_blocks: 10%}}\n";
  auto rp = resolved(text);
  auto u = backend_unsupported_parts(rp, "docker");
  if (::geteuid() == 0)
    CAF_CHECK_EQUAL(u, "");
  else
    CAF_CHECK(u.find("wire fault window needs the BASP coordinator") != std::string::npos);
  CAF_CHECK_EQUAL(backend_unsupported_parts(rp, "netns"), "");
}

CAF_TEST(a coordinator holder whose process cannot be found is an error) {
  if (::geteuid() != 0) {
    CAF_MESSAGE("not root: the docker backend starts no coordinator");
    return;
  }
  auto msg = build_error(resolved(pause_plan), "docker inspect -f '{{.State.Pid}}'", "t8");
  CAF_CHECK(msg.find("cannot find the process of alab-t8-coord") != std::string::npos);
}

CAF_TEST(a partition is one docker exec per holder and its drop counters are read before the rules go) {
  auto rp = resolved(partition_plan);
  recorder rec;
  docker_backend b(rp, docker_options(), "t2", rec.sink());
  for (std::size_t i = 0; i < 3; ++i)
    CAF_CHECK(b.has_holder(i));
  CAF_REQUIRE(b.build().ok());
  auto execs_before = rec.count("docker exec");
  CAF_REQUIRE(b.block(1, 0, true, nullptr).ok());
  CAF_REQUIRE(b.block(0, 1, true, nullptr).ok());
  CAF_REQUIRE(b.block(2, 0, true, nullptr).ok());
  CAF_REQUIRE(b.block(0, 2, true, nullptr).ok());
  CAF_CHECK_EQUAL(rec.count("docker exec") - execs_before, 0u); // queued
  CAF_REQUIRE(b.commit().ok());
  CAF_CHECK_EQUAL(rec.count("docker exec") - execs_before, 3u); // one per holder
  CAF_CHECK(rec.has_line("docker exec alab-t2-s-1-net sh -c 'set -e\niptables -w -I INPUT -s 10.77.0.3 -j DROP\n"
                         "iptables -w -I OUTPUT -d 10.77.0.3 -j DROP\niptables -w -I INPUT -s 10.77.0.4 -j DROP\n"
                         "iptables -w -I OUTPUT -d 10.77.0.4 -j DROP'"));
  std::uint64_t dropped = 0;
  CAF_REQUIRE(b.block(1, 0, false, &dropped).ok());
  CAF_REQUIRE(b.commit().ok());
  // l-1's OUTPUT rule to 10.77.0.2 dropped 5, s-1's INPUT rule from 10.77.0.3 dropped 7
  CAF_CHECK_EQUAL(dropped, 12u);
  CAF_CHECK_EQUAL(rec.count("iptables -w -L -v -x -n"), 2u);
  CAF_CHECK(rec.has_line("docker exec alab-t2-l-1-net iptables -w -D OUTPUT -d 10.77.0.2 -j DROP"));
}

CAF_TEST(a failing rule names its command) {
  auto rp = resolved(partition_plan);
  recorder rec;
  docker_backend b(rp, docker_options(), "t3", rec.sink());
  CAF_REQUIRE(b.build().ok());
  const std::string failing_rule = "-I OUTPUT -d 10.77.0.2"; // a named string: GCC 12 -O3 misreads a pushed literal
  rec.failing.push_back(failing_rule);
  CAF_REQUIRE(b.block(1, 0, true, nullptr).ok());
  auto ok = b.commit();
  CAF_REQUIRE(!ok.ok());
  CAF_CHECK(ok.error().message.find("docker exec alab-t3-l-1-net iptables -w -I OUTPUT -d 10.77.0.2 -j DROP")
            != std::string::npos);
}

CAF_TEST(without netem delay is refused and loss is an iptables drop) {
  auto text = pause_plan;
  text.replace(text.find("link: {rate: 8mbit}"), 19, "link: {loss: 1%}");
  auto rp = resolved(text);
  recorder rec;
  rec.failing.push_back("netem");
  docker_backend b(rp, docker_options(), "t4", rec.sink());
  CAF_REQUIRE(b.build().ok());
  CAF_CHECK_EQUAL(rec.count("iptables -w -I OUTPUT '!' -o lo -m statistic --mode random --probability 0.010000 -j DROP"),
                  1u);
  auto delayed = pause_plan;
  delayed.replace(delayed.find("link: {rate: 8mbit}"), 19, "link: {delay: 20ms}");
  auto msg = build_error(resolved(delayed), "netem", "t5");
  CAF_CHECK(msg.find("s-1: link delay/jitter needs the netem qdisc") != std::string::npos);
}

CAF_TEST(teardown removes the containers of the run with their volumes and its network by label) {
  auto rp = resolved(pause_plan);
  recorder rec;
  {
    docker_backend b(rp, docker_options(), "t6", rec.sink());
    CAF_REQUIRE(b.build().ok());
    CAF_CHECK_EQUAL(b.teardown(), "");
    CAF_CHECK(rec.has_line("docker ps -aq --filter label=actorrent.lab.run=t6"));
    CAF_CHECK(rec.has_line("docker rm -f -v c1 c2"));
    CAF_CHECK(rec.has_line("docker network rm alab-t6"));
    CAF_CHECK(rec.has_line("docker volume ls -q --filter label=actorrent.lab.run=t6"));
  } // the destructor tears down again: the network is not removed twice
  CAF_CHECK_EQUAL(rec.count("docker network rm"), 1u);
}

CAF_TEST(the docker backend refuses libtorrent peers; an unknown backend is an error) {
  auto text = pause_plan;
  text.replace(text.find("{name: l, kind: actorrent"), 25, "{name: l, kind: libtorrent");
  auto rp = resolved(text);
  CAF_CHECK(backend_unsupported_parts(rp, "docker").find("group l: kind libtorrent") != std::string::npos);
  CAF_CHECK_EQUAL(backend_unsupported_parts(rp, "netns"), "");
  recorder rec;
  auto o = docker_options();
  o.name = "vm";
  auto b = make_backend(rp, o, "t7", rec.sink());
  CAF_REQUIRE(!b.ok());
  CAF_CHECK_EQUAL(b.error().message, "unknown backend 'vm' (netns or docker)");
}
