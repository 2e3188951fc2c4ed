#define CAF_SUITE lab_netns
#include <caf/test/unit_test.hpp>

#include "lab/netns.hpp"
#include "lab/plan.hpp"
#include "lab/process.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::lab;

namespace {

const std::string plan_text = R"(name: n
seed: 1
torrent: {size: 1MiB}
limits: {max_duration: 30s}
groups:
  - {name: s, kind: actorrent, count: 1, role: seed, link: {rate: 8mbit}}
  - {name: l, kind: actorrent, count: 2, role: leech, link: {loss: 1%}}
faults:
  - {at: 1s, for: 2s, kind: partition, between: [l, s], oneway: true}
)";

/// Records every command; commands starting with one of `failing` fail.
struct recorder {
  std::vector<argv_t> commands;
  std::vector<std::string> failing;

  command_sink sink() {
    return [this](const argv_t& argv) {
      commands.push_back(argv);
      auto text = printable(argv);
      for (auto& f : failing)
        if (text.find(f) != std::string::npos)
          return command_result{2, "Error: Specified qdisc kind is unknown."};
      return command_result{0, {}};
    };
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (auto& c : commands)
      out.push_back(printable(c));
    return out;
  }

  bool has(const std::string& line) const {
    auto l = lines();
    return std::find(l.begin(), l.end(), line) != l.end();
  }
};

resolved_plan resolved(const std::string& text) {
  auto p = parse_plan(text, "n.yaml");
  CAF_REQUIRE(p.ok());
  auto r = resolve(*p);
  CAF_REQUIRE(r.ok());
  return *r;
}

} // namespace

CAF_TEST(printable quotes what a shell would split) {
  CAF_CHECK_EQUAL(printable({"ip", "-n", "alab-x-br", "link"}), "ip -n alab-x-br link");
  CAF_CHECK_EQUAL(printable({"echo", "a b", "it's", ""}), "echo 'a b' 'it'\\''s' ''");
}

CAF_TEST(build makes namespaces veths addresses and shaping inside the lab only) {
  auto rp = resolved(plan_text);
  recorder rec;
  {
    lab_network net(rp, "t1", rec.sink());
    CAF_REQUIRE(net.build().ok());
    CAF_CHECK(net.has_netem());
    CAF_CHECK(rec.has("ip netns add alab-t1-br"));
    CAF_CHECK(rec.has("ip netns add alab-t1-l-2"));
    CAF_CHECK(rec.has("ip -n alab-t1-br link add p1 type veth peer name eth0 address 02:61:6c:00:00:02 netns alab-t1-l-1"));
    CAF_CHECK(rec.has("ip -n alab-t1-br link add br0 address 02:61:6c:00:00:00 type bridge"));
    // a permanent ARP entry for every lab address in every namespace (the kernel's
    // table is shared by all namespaces and refuses learnt entries past gc_thresh3)
    for (auto ns : {"alab-t1-br", "alab-t1-s-1", "alab-t1-l-1", "alab-t1-l-2"})
      CAF_CHECK(std::any_of(rec.commands.begin(), rec.commands.end(), [&](const argv_t& c) {
        return c.size() == 5 && c[0] == "ip" && c[2] == ns && c[3] == "-batch";
      }));
    CAF_CHECK(rec.has("ip -n alab-t1-l-1 addr add 10.77.0.3/16 dev eth0"));
    CAF_CHECK(rec.has("tc -n alab-t1-s-1 qdisc replace dev eth0 root netem rate 8000000bit limit 10000"));
    CAF_CHECK(rec.has("tc -n alab-t1-br qdisc replace dev p0 root tbf rate 8000000bit burst 32768 latency 200ms"));
    CAF_CHECK(rec.has("tc -n alab-t1-l-2 qdisc replace dev eth0 root netem loss 1% limit 10000"));
    // every command names a lab namespace: nothing is made in the host's
    for (auto& c : rec.commands) {
      auto text = printable(c);
      CAF_CHECK(text.find("alab-t1-") != std::string::npos);
    }
    rec.commands.clear();
    CAF_REQUIRE(net.block(1, 0, true).ok());
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-1 iptables -w -I OUTPUT -d 10.77.0.2 -j DROP"));
    CAF_CHECK(rec.has("ip netns exec alab-t1-s-1 iptables -w -I INPUT -s 10.77.0.3 -j DROP"));
    rec.commands.clear();
    // reset: connbytes + REJECT with a TCP reset, both directions, removed again
    CAF_REQUIRE(net.reset_after(1, 1048576, true).ok());
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-1 iptables -w -I INPUT -p tcp '!' -i lo -m connbytes --connbytes 1048576: "
                      "--connbytes-dir both --connbytes-mode bytes -m comment --comment alab-reset -j REJECT "
                      "--reject-with tcp-reset"));
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-1 iptables -w -I OUTPUT -p tcp '!' -o lo -m connbytes --connbytes 1048576: "
                      "--connbytes-dir both --connbytes-mode bytes -m comment --comment alab-reset -j REJECT "
                      "--reject-with tcp-reset"));
    std::uint64_t resets = 0;
    CAF_REQUIRE(net.reset_after(1, 1048576, false, &resets).ok());
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-1 iptables -w -D OUTPUT -p tcp '!' -o lo -m connbytes --connbytes 1048576: "
                      "--connbytes-dir both --connbytes-mode bytes -m comment --comment alab-reset -j REJECT "
                      "--reject-with tcp-reset"));
    rec.commands.clear();
    // burst_loss: one rule at a time, replaced as the chain's state changes
    CAF_REQUIRE(net.burst_drop(2, 1'000'000).ok());
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-2 iptables -w -I OUTPUT '!' -o lo -m comment --comment alab-burst -j DROP"));
    CAF_REQUIRE(net.burst_drop(2, 250'000).ok());
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-2 iptables -w -D OUTPUT '!' -o lo -m comment --comment alab-burst -j DROP"));
    CAF_CHECK(rec.has("ip netns exec alab-t1-l-2 iptables -w -I OUTPUT '!' -o lo -m statistic --mode random --probability "
                      "0.250000 -m comment --comment alab-burst -j DROP"));
    rec.commands.clear();
    CAF_REQUIRE(net.burst_drop(2, 250'000).ok()); // unchanged: nothing to do
    CAF_CHECK(rec.commands.empty());
    std::uint64_t dropped = 0;
    CAF_REQUIRE(net.burst_drop(2, 0, &dropped).ok());
    CAF_CHECK_EQUAL(rec.commands.size(), 2u); // the counters read, the rule removed
    rec.commands.clear();
  } // the destructor tears down: every namespace, the bridge last
  auto l = rec.lines();
  CAF_REQUIRE(!l.empty());
  CAF_CHECK_EQUAL(l.back(), "ip netns del alab-t1-br");
  CAF_CHECK_EQUAL(std::count_if(l.begin(), l.end(), [](auto& s) { return s.rfind("ip netns del ", 0) == 0; }), 4);
}

CAF_TEST(without netem loss becomes an iptables drop and delay is refused) {
  auto rp = resolved(plan_text);
  recorder rec;
  rec.failing = {"netem"};
  lab_network net(rp, "t2", rec.sink());
  CAF_REQUIRE(net.build().ok());
  CAF_CHECK(!net.has_netem());
  CAF_CHECK(rec.has("tc -n alab-t2-s-1 qdisc replace dev eth0 root tbf rate 8000000bit burst 32768 latency 200ms"));
  CAF_CHECK(rec.has("ip netns exec alab-t2-l-1 iptables -w -I OUTPUT '!' -o lo -m statistic --mode random "
                    "--probability 0.010000 -j DROP"));
  rec.commands.clear();
  link_spec more;
  more.loss_ppm = 100000;
  CAF_REQUIRE(net.set_link(1, more).ok());
  CAF_CHECK(rec.has("ip netns exec alab-t2-l-1 iptables -w -D OUTPUT '!' -o lo -m statistic --mode random "
                    "--probability 0.010000 -j DROP"));
  CAF_CHECK(rec.has("ip netns exec alab-t2-l-1 iptables -w -I OUTPUT '!' -o lo -m statistic --mode random "
                    "--probability 0.100000 -j DROP"));
  net.teardown();
  auto delayed = resolved(R"(name: n
seed: 1
torrent: {size: 1MiB}
groups:
  - {name: s, kind: actorrent, count: 1, role: seed, link: {delay: 20ms}}
)");
  recorder rec2;
  rec2.failing = {"netem"};
  lab_network net2(delayed, "t3", rec2.sink());
  auto ok = net2.build();
  CAF_REQUIRE(!ok.ok());
  CAF_CHECK(ok.error().message.find("s-1: link delay/jitter needs the netem qdisc") != std::string::npos);
  net2.teardown();
  CAF_CHECK(rec2.has("ip netns del alab-t3-br"));
}

CAF_TEST(without netem a delay is a delayer process fed by an NFQUEUE rule) {
  auto rp = resolved(R"(name: n
seed: 9
torrent: {size: 1MiB}
groups:
  - {name: s, kind: actorrent, count: 1, role: seed, link: {delay: 20ms}}
)");
  recorder rec;
  rec.failing = {"netem"};
  lab_network net(rp, "t8", rec.sink());
  net.use_delayer("/bin/ar", "/out/delayers", true); // a dry run: commands only
  CAF_REQUIRE(net.build().ok());
  auto rule = [](int q, const char* op) {
    return std::string{"ip netns exec alab-t8-s-1 iptables -w -t mangle "} + op
           + " PREROUTING -i eth0 -m comment --comment alab-delay -j NFQUEUE --queue-num " + std::to_string(q)
           + " --queue-bypass";
  };
  CAF_CHECK(rec.has("ip netns exec alab-t8-s-1 /bin/ar lab delayer --queue 0 --delay 20ms --jitter 0ms --seed 9 "
                    "--name s-1 --stats /out/delayers/s-1-1.json"));
  CAF_CHECK(rec.has(rule(0, "-I")));
  // a new delay: the next delayer on the other queue, its rule first, then the old one goes
  rec.commands.clear();
  link_spec more;
  more.delay_ms = 50;
  more.jitter_ms = 10;
  CAF_REQUIRE(net.set_link(0, more).ok());
  std::vector<std::string> l;
  for (auto& line : rec.lines())
    if (line.find("delayer") != std::string::npos || line.find("NFQUEUE") != std::string::npos)
      l.push_back(line);
  CAF_REQUIRE_EQUAL(l.size(), 3u);
  CAF_CHECK_EQUAL(l[0], "ip netns exec alab-t8-s-1 /bin/ar lab delayer --queue 1 --delay 50ms --jitter 10ms --seed 9 "
                        "--name s-1 --stats /out/delayers/s-1-2.json");
  CAF_CHECK_EQUAL(l[1], rule(1, "-I"));
  CAF_CHECK_EQUAL(l[2], rule(0, "-D"));
  // the same delay with a loss beside it: the delayer stays
  rec.commands.clear();
  more.loss_ppm = 10000;
  CAF_REQUIRE(net.set_link(0, more).ok());
  for (auto& line : rec.lines())
    CAF_CHECK(line.find("delayer") == std::string::npos && line.find("NFQUEUE") == std::string::npos);
  // no delay: the rule goes
  rec.commands.clear();
  CAF_REQUIRE(net.set_link(0, link_spec{}).ok());
  CAF_CHECK(rec.has(rule(1, "-D")));
  net.teardown();
}

CAF_TEST(a failed step stops the build and teardown removes what was made) {
  auto rp = resolved(plan_text);
  recorder rec;
  rec.failing = {"ip netns add alab-t4-l-2"};
  lab_network net(rp, "t4", rec.sink());
  CAF_CHECK(!net.build().ok());
  rec.commands.clear();
  net.teardown();
  CAF_CHECK(rec.has("ip netns del alab-t4-l-1"));
  CAF_CHECK(rec.has("ip netns del alab-t4-s-1"));
  CAF_CHECK(rec.has("ip netns del alab-t4-br"));
  CAF_CHECK(!rec.has("ip netns del alab-t4-l-2"));
  rec.commands.clear();
  net.teardown(); // idempotent
  CAF_CHECK(rec.commands.empty());
}

CAF_TEST(run_command passes arguments without a shell) {
  auto r = run_command({"printf", "%s|", "a b", "$(echo no)", ";"});
  CAF_CHECK_EQUAL(r.exit_code, 0);
  CAF_CHECK_EQUAL(r.output, "a b|$(echo no)|;|");
  auto missing = run_command({"/nonexistent/program"});
  CAF_CHECK_EQUAL(missing.exit_code, 127);
  auto slow = run_command({"sleep", "5"}, std::chrono::milliseconds(200));
  CAF_CHECK_EQUAL(slow.exit_code, -1);
}

CAF_TEST(marked rules count their packets and lab MACs are the peer index) {
  const std::string listing = R"(Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination
      17     2040 DROP       0    --  *      !lo     0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.25000000000 /* alab-burst */
       5      300 REJECT     6    --  *      !lo     0.0.0.0/0            0.0.0.0/0            connbytes 1048576 connbytes mode bytes connbytes direction both /* alab-reset */ reject-with tcp-reset
       9      540 DROP       0    --  *      *       0.0.0.0/0            10.77.0.2
)";
  CAF_CHECK_EQUAL(count_marked(listing, "alab-burst"), 17u);
  CAF_CHECK_EQUAL(count_marked(listing, "alab-reset"), 5u);
  CAF_CHECK_EQUAL(count_marked(listing, "alab-other"), 0u);
  CAF_CHECK_EQUAL(lab_mac(0), "02:61:6c:00:00:01");
  CAF_CHECK_EQUAL(lab_mac(255), "02:61:6c:00:01:00");
  CAF_CHECK_EQUAL(lab_mac(bridge_mac_index), "02:61:6c:00:00:00");
}

CAF_TEST(the tracker must answer from every peer namespace before peers start) {
  auto rp = resolved(plan_text);
  recorder rec;
  lab_network net(rp, "t3", rec.sink());
  CAF_REQUIRE(net.tracker_reachable().ok());
  CAF_REQUIRE_EQUAL(rec.commands.size(), rp.peers.size());
  for (std::size_t i = 0; i < rp.peers.size(); ++i) {
    const auto& c = rec.commands[i];
    CAF_CHECK_EQUAL(c[3], "alab-t3-" + rp.peers[i].name);
    CAF_CHECK(c.back().find("/dev/tcp/10.77.0.1/6969") != std::string::npos);
  }
  rec.commands.clear();
  rec.failing = {"alab-t3-l-1 bash"};
  auto r = net.tracker_reachable();
  CAF_REQUIRE(!r.ok());
  CAF_CHECK(r.error().message.find("l-1 cannot reach the tracker at 10.77.0.1:6969") != std::string::npos);
}
