// The lab's control actor (actors/control.hpp) with CAF's deterministic test
// coordinator and a stub torrent: a sample carries the torrent's numbers, its
// status values and its errors; pause, unpause and the fault specs reach the
// torrent; the torrent's refusal (a build without the wire layer) comes back
// as an error; stop reaches the owner. The sample survives CAF's binary
// serialisation (what BASP sends).
#define CAF_SUITE control
#include <caf/test/dsl.hpp>

#include "actors/control.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <unistd.h>

using namespace actorrent;
using namespace caf;

namespace {

struct recorder {
  int pauses = 0, unpauses = 0;
  std::vector<std::string> wire, disk;
  int stops_seen_by_owner = 0;
};

torrent_status stub_status() {
  torrent_status st;
  st.total_size = 4000;
  st.have_bytes = 1000;
  st.downloaded = 1200;
  st.uploaded = 300;
  st.wasted = 200;
  st.down_rate = 512.4;
  st.peers = 3;
  st.seeds = 1;
  st.hash_failures = 1;
  st.banned = 2;
  st.pieces_have = 1;
  st.pieces_total = 4;
  st.state = "paused";
  st.tracker_error = "http://t/announce: refused";
  st.disk_error = "cannot write piece 2: No space left on device (injected disk fault)";
  return st;
}

torrent_actor::behavior_type torrent_stub(torrent_actor::pointer, recorder* rec) {
  return {
    [](progress_atom) { return stub_status(); },
    [](peers_atom, const announce_reply&) {},
    [](failed_atom, const std::string&, const std::string&) {},
    [](verdict_atom, const piece_verdict&, const std::vector<peer_index>&) {},
    [](stats_atom, const peer_report&) {},
    [](connected_atom, peer_index, const sha1_hash&) {},
    [](dialed_atom, peer_index, int) {},
    [](peer_failed_atom, peer_index, const std::string&) {},
    [](drop_atom, peer_index, const std::string&) {},
    [](tick_atom) {},
    [](incoming_atom, const peer_endpoint&) { return peer_config{}; },
    [](adopt_atom, peer_index, const peer_actor&) {},
    [](interest_atom, peer_index, bool) {},
    [rec](pause_atom) { ++rec->pauses; },
    [rec](unpause_atom) { ++rec->unpauses; },
    [](stop_atom) { return true; },
    [](status_atom) {
      return actor_status{"torrent", "paused", {{"disk.injected_full", "3"}, {"peers", "3"}}};
    },
    [rec](wire_fault_atom, const std::string& spec) -> caf::result<bool> {
      rec->wire.push_back(spec);
      return caf::make_error(caf::sec::runtime_error, "wire faults are not in this build");
    },
    [rec](disk_fault_atom, const std::string& spec) -> caf::result<bool> {
      rec->disk.push_back(spec);
      return true;
    },
    [](limits_atom, double, double, std::uint32_t, std::uint32_t) {},
    [](unchoke_atom, std::uint32_t) {},
    [](announce_atom) {},
    [](sleep_atom) -> caf::result<torrent_nap_ptr> { return caf::make_error(caf::sec::runtime_error, "stub"); },
  };
}

behavior owner_stub(event_based_actor*, recorder* rec) {
  return {[rec](stop_atom) { ++rec->stops_seen_by_owner; }};
}

struct fixture : test_coordinator_fixture<> {
  recorder rec;
  torrent_actor torrent;
  actor owner;
  control_actor ctl;

  fixture() {
    torrent = sys.spawn(torrent_stub, &rec);
    owner = sys.spawn(owner_stub, &rec);
    control_config cfg;
    cfg.torrent = torrent;
    cfg.owner = owner;
    ctl = sys.spawn(control, cfg);
    run();
  }

  template <class T, class... Ts>
  std::variant<T, std::string> ask(Ts... xs) {
    std::variant<T, std::string> out = std::string{"no answer"};
    auto req = self->request(ctl, infinite, xs...);
    run();
    req.receive([&](T& x) { out = std::move(x); }, [&](error& e) { out = sys.render(e); });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(control_tests, fixture)

CAF_TEST(a sample carries the torrent numbers values and errors) {
  auto r = ask<control_sample>(sample_atom_v);
  CAF_REQUIRE(std::holds_alternative<control_sample>(r));
  auto& s = std::get<control_sample>(r);
  CAF_CHECK_EQUAL(s.have_bytes, 1000u);
  CAF_CHECK_EQUAL(s.total_size, 4000u);
  CAF_CHECK_EQUAL(s.downloaded, 1200u);
  CAF_CHECK_EQUAL(s.uploaded, 300u);
  CAF_CHECK_EQUAL(s.wasted, 200u);
  CAF_CHECK_EQUAL(s.peers, 3u);
  CAF_CHECK_EQUAL(s.banned, 2u);
  CAF_CHECK_EQUAL(s.hash_failures, 1u);
  CAF_CHECK_EQUAL(s.state, "paused");
  CAF_CHECK_EQUAL(s.pid, static_cast<std::uint32_t>(::getpid()));
  CAF_CHECK_EQUAL(s.node, to_string(sys.node()));
  CAF_CHECK_EQUAL(s.values["disk.injected_full"], "3");
  CAF_REQUIRE_EQUAL(s.errors.size(), 2u);
  CAF_CHECK_EQUAL(s.errors[0], "tracker: http://t/announce: refused");
  CAF_CHECK_EQUAL(s.errors[1], "disk: cannot write piece 2: No space left on device (injected disk fault)");
  CAF_CHECK(s.peak_rss_bytes > 0);
}

CAF_TEST(pause and unpause reach the torrent) {
  auto p = ask<bool>(pause_atom_v);
  CAF_CHECK(std::holds_alternative<bool>(p));
  CAF_CHECK_EQUAL(rec.pauses, 1);
  auto u = ask<bool>(unpause_atom_v);
  CAF_CHECK(std::holds_alternative<bool>(u));
  CAF_CHECK_EQUAL(rec.unpauses, 1);
}

CAF_TEST(fault specs reach the torrent and its refusal comes back) {
  auto d = ask<bool>(disk_fault_atom_v, std::string{"full_after=1MiB"});
  CAF_CHECK(std::holds_alternative<bool>(d));
  CAF_REQUIRE(!rec.disk.empty());
  CAF_CHECK_EQUAL(rec.disk.back(), "full_after=1MiB");
  auto w = ask<bool>(wire_fault_atom_v, std::string{"corrupt_blocks=20%"});
  CAF_REQUIRE(std::holds_alternative<std::string>(w));
  CAF_CHECK(std::get<std::string>(w).find("wire faults are not in this build") != std::string::npos);
  CAF_CHECK_EQUAL(rec.wire.back(), "corrupt_blocks=20%");
}

CAF_TEST(stop reaches the owner and is refused without one) {
  auto s = ask<bool>(stop_atom_v);
  CAF_CHECK(std::holds_alternative<bool>(s));
  CAF_CHECK_EQUAL(rec.stops_seen_by_owner, 1);
  control_config cfg;
  cfg.torrent = torrent;
  ctl = sys.spawn(control, cfg);
  run();
  auto refused = ask<bool>(stop_atom_v);
  CAF_REQUIRE(std::holds_alternative<std::string>(refused));
  CAF_CHECK(std::get<std::string>(refused).find("cannot stop its process") != std::string::npos);
}

CAF_TEST(a sample survives binary serialisation) {
  control_sample s;
  s.pid = 7;
  s.node = "ABC#7";
  s.state = "downloading";
  s.have_bytes = 123;
  s.down_rate = 2.5;
  s.errors = {"disk: x"};
  s.values = {{"wire.corrupted_blocks", "4"}, {"disk.injected_full", "1"}};
  std::vector<char> buf;
  binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(s));
  control_sample back;
  binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(back));
  CAF_CHECK_EQUAL(back.pid, 7u);
  CAF_CHECK_EQUAL(back.node, "ABC#7");
  CAF_CHECK_EQUAL(back.have_bytes, 123u);
  CAF_CHECK_EQUAL(back.down_rate, 2.5);
  CAF_CHECK_EQUAL(back.errors, s.errors);
  CAF_CHECK(back.values == s.values);
}

CAF_TEST_FIXTURE_SCOPE_END()
