// The torrent actor with CAF's deterministic test coordinator and a real disk
// store in a temporary directory (no trackers): the start-up check, verdicts,
// completion and stop, and the choker's decisions sent to stub peers.
#define CAF_SUITE torrent_actor
#include <caf/test/dsl.hpp>

#include "actors/torrent.hpp"
#include "protocol/metainfo_writer.hpp"
#include "storage/file_layout.hpp"
#include "storage/resume_data.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <limits>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace actorrent;
using namespace caf;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t piece_len = 16384;

struct fixture : test_coordinator_fixture<> {
  fs::path dir;
  std::string content;
  std::shared_ptr<const metainfo> mi;

  fixture() {
    char tmpl[] = "/tmp/actorrent-torrent-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    content.resize(3 * piece_len + 100);
    for (std::size_t i = 0; i < content.size(); ++i)
      content[i] = static_cast<char>(i * 7 + i / 13);
    torrent_spec spec;
    spec.name = "data.bin";
    spec.files = {{{}, content.size(), false}};
    spec.piece_length = piece_len;
    for (std::size_t off = 0; off < content.size(); off += piece_len)
      spec.piece_hashes += std::string{sha1(std::string_view{content}.substr(off, piece_len)).view()};
    auto bytes = write_metainfo(spec);
    CAF_REQUIRE(bytes.ok());
    auto parsed = parse_metainfo(*bytes);
    CAF_REQUIRE(parsed.ok());
    mi = std::make_shared<metainfo>(std::move(*parsed));
  }

  // Runs every queued message, but no timers: the torrent's periodic tick
  // would otherwise keep the run going forever.
  void step() { sched.run(); }

  torrent_actor started;

  ~fixture() {
    if (started) { // its timer never ends on its own
      anon_send_exit(started, exit_reason::user_shutdown);
      step();
    }
    for (auto& p : peers)
      anon_send_exit(p, exit_reason::user_shutdown);
    step();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void write_content(const std::string& data) {
    std::ofstream out{dir / "data.bin", std::ios::binary};
    out << data;
  }

  torrent_config config() {
    torrent_config cfg;
    cfg.torrent = mi;
    cfg.download_dir = dir.string();
    cfg.use_trackers = false;
    cfg.check_threads = 1;
    return cfg;
  }

  torrent_actor start() { return start(config()); }

  torrent_actor start(torrent_config cfg) {
    auto t = sys.spawn(torrent, cfg);
    started = t;
    step();
    return t;
  }

  // ---- stub peers: what the torrent tells them, as "<index> <what>" in order

  std::vector<std::string> told;
  std::vector<actor> peers;

  static behavior peer_stub(event_based_actor*, std::vector<std::string>* told, peer_index idx) {
    auto say = [told, idx](const std::string& what) { told->push_back(std::to_string(idx) + " " + what); };
    return {
      [say](unchoke_atom) { say("unchoke"); },
      [say](choke_atom) { say("choke"); },
      [say](drop_atom, const std::string& reason) { say("drop: " + reason); },
      [](local_have_atom, std::uint32_t) {},
    };
  }

  // A peer connects to us (as the listener and a peer connection would tell
  // the torrent), completes its handshake and reports its interest.
  peer_index add_peer(const torrent_actor& t, std::uint8_t n, bool interested = true) {
    self->send(t, incoming_atom_v, peer_endpoint::v4(10, 0, 0, n, 6881));
    step();
    peer_index idx = 0;
    self->receive([&](peer_config& pc) { idx = pc.index; },
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("incoming peer refused"); });
    auto stub = sys.spawn(peer_stub, &told, idx);
    peers.push_back(stub);
    sha1_hash id;
    id.bytes.fill(n);
    self->send(t, adopt_atom_v, idx, actor_cast<peer_actor>(stub));
    self->send(t, connected_atom_v, idx, id);
    if (interested)
      self->send(t, interest_atom_v, idx, true);
    step();
    return idx;
  }

  // A seeding torrent with one regular slot (no optimistic one, a slot lasts
  // one round) and `n` interested peers; peer 1 holds the slot.
  torrent_actor start_seed_one_slot(std::chrono::seconds choke_interval, std::uint8_t n) {
    write_content(content);
    auto cfg = config();
    cfg.seed = true;
    cfg.choker.regular_slots = 1;
    cfg.choker.optimistic_slots = 0;
    cfg.choker.seed_slot_time = std::chrono::seconds(0);
    cfg.choke_interval = choke_interval;
    auto t = start(cfg);
    CAF_REQUIRE(status(t).seeding);
    for (std::uint8_t i = 1; i <= n; ++i)
      add_peer(t, i);
    CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"1 unchoke"});
    return t;
  }

  // What the torrent told the peers since the last call.
  std::vector<std::string> take_told() { return std::exchange(told, {}); }

  // The torrent's next one-second tick (a choker round, with choke_interval 0).
  void tick() {
    sched.trigger_timeouts();
    step();
  }

  // Lifecycle events the torrent sent to its observer (`self`) so far, as
  // "<kind> <state>" in order ("checked downloading 3/4", "error ...: message").
  std::vector<std::string> take_events() {
    std::vector<std::string> out;
    bool more = true;
    while (more)
      self->receive(
        [&](event_atom, torrent_event& ev) {
          static const char* kinds[] = {"state", "checked", "completed", "error", "tracker", "woke"};
          auto line = std::string{kinds[static_cast<int>(ev.what)]} + " " + phase_name(ev.state);
          if (ev.what == torrent_event::kind::checked)
            line += " " + std::to_string(ev.status.pieces_have) + "/" + std::to_string(ev.status.pieces_total);
          if (!ev.message.empty())
            line += ": " + ev.message;
          out.push_back(line);
        },
        after(std::chrono::seconds(0)) >> [&] { more = false; });
    return out;
  }

  // Asks the torrent to take an incoming peer; the index, or 0 if refused.
  peer_index incoming(const torrent_actor& t, std::uint8_t n) {
    self->send(t, incoming_atom_v, peer_endpoint::v4(10, 0, 0, n, 6881));
    step();
    peer_index idx = 0;
    self->receive([&](peer_config& pc) { idx = pc.index; }, [](error&) {},
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to incoming"); });
    return idx;
  }

  // Reads 100 bytes of piece 1 (at offset 16) through a disk store; "" on failure.
  std::string read_block(const disk_actor& disk) {
    self->send(disk, read_atom_v, std::vector<block_ref>{block_ref{1, 16, 100}});
    step();
    std::string got;
    self->receive([&](std::vector<block_view>& views) {
                    if (views.size() == 1 && views[0].valid())
                      got.assign(views[0].data(), views[0].length);
                  },
                  [](error& err) { CAF_FAIL("read failed: " << to_string(err)); },
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to the read"); });
    return got;
  }

  // Stops a torrent and waits for its answer.
  void stop_torrent(const torrent_actor& t) {
    self->send(t, stop_atom_v);
    step();
    self->receive([](bool) {}, after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to stop"); });
  }

  torrent_status status(const torrent_actor& t) {
    torrent_status out;
    self->send(t, progress_atom_v);
    step();
    self->receive([&](torrent_status& s) { out = std::move(s); },
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no progress reply"); });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(torrent_actor_tests, fixture)

CAF_TEST(complete data on disk finishes without any peer) {
  write_content(content);
  auto t = start();
  auto s = status(t);
  CAF_CHECK(!s.checking);
  CAF_CHECK_EQUAL(s.pieces_have, 4u);
  CAF_CHECK_EQUAL(s.have_bytes, content.size());
  CAF_CHECK(s.complete);
  CAF_CHECK_EQUAL(s.tracker_status, "trackers off");
}

CAF_TEST(a corrupt piece on disk is not counted and will be downloaded) {
  auto damaged = content;
  damaged[piece_len + 5] ^= 0x01; // piece 1
  write_content(damaged);
  auto t = start();
  auto s = status(t);
  CAF_CHECK_EQUAL(s.pieces_have, 3u);
  CAF_CHECK_EQUAL(s.have_bytes, content.size() - piece_len);
  CAF_CHECK(!s.complete);
}

CAF_TEST(verdicts count verified pieces and failures) {
  auto t = start(); // nothing on disk
  auto s = status(t);
  CAF_CHECK_EQUAL(s.pieces_have, 0u);
  self->send(t, verdict_atom_v, piece_verdict{2, true, {}}, std::vector<peer_index>{});
  self->send(t, verdict_atom_v, piece_verdict{0, false, {}}, std::vector<peer_index>{});
  step();
  s = status(t);
  CAF_CHECK_EQUAL(s.pieces_have, 1u);
  CAF_CHECK_EQUAL(s.have_bytes, piece_len);
  CAF_CHECK_EQUAL(s.hash_failures, 1u);
  CAF_CHECK_EQUAL(s.wasted, piece_len);
  // the same piece verified twice counts once
  self->send(t, verdict_atom_v, piece_verdict{2, true, {}}, std::vector<peer_index>{});
  step();
  CAF_CHECK_EQUAL(status(t).pieces_have, 1u);
}

CAF_TEST(the last verdict completes the download and creates the files) {
  auto t = start();
  for (std::uint32_t p = 0; p < 4; ++p)
    self->send(t, verdict_atom_v, piece_verdict{p, true, {}}, std::vector<peer_index>{});
  step();
  auto s = status(t);
  CAF_CHECK(s.complete);
  CAF_CHECK(fs::exists(dir / "data.bin"));
  CAF_CHECK_EQUAL(fs::file_size(dir / "data.bin"), content.size());
}

CAF_TEST(stop replies once the disk is flushed) {
  auto t = start();
  self->send(t, stop_atom_v);
  step();
  bool stopped = false;
  self->receive([&](bool ok) { stopped = ok; }, after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no stop reply"); });
  CAF_CHECK(stopped);
}

CAF_TEST(an interested peer is unchoked at once while a regular slot is free) {
  auto cfg = config();
  cfg.choker.regular_slots = 2;
  auto t = start(cfg);
  auto p1 = add_peer(t, 1, false);
  CAF_CHECK(take_told().empty()); // not interested: no slot
  self->send(t, interest_atom_v, p1, true);
  step();
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{std::to_string(p1) + " unchoke"});
  // the same report again does not unchoke twice
  self->send(t, interest_atom_v, p1, true);
  step();
  CAF_CHECK(take_told().empty());
  CAF_CHECK_EQUAL(status(t).leechers, 1u);
}

CAF_TEST(only regular_slots interested peers are unchoked between rounds) {
  auto cfg = config();
  cfg.choker.regular_slots = 2;
  auto t = start(cfg);
  for (std::uint8_t n = 1; n <= 4; ++n)
    add_peer(t, n);
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"1 unchoke", "2 unchoke"}));
  CAF_CHECK_EQUAL(status(t).leechers, 4u);
}

CAF_TEST(the session unchoke cap chokes the extra peers at once and gives slots back) {
  auto cfg = config();
  cfg.choker.regular_slots = 2;
  cfg.choker.optimistic_slots = 0;
  auto t = start(cfg);
  for (std::uint8_t n = 1; n <= 3; ++n)
    add_peer(t, n);
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"1 unchoke", "2 unchoke"}));
  // limits.unchoke_slots leaves this torrent one slot: a round at once
  self->send(t, unchoke_atom_v, std::uint32_t{1});
  step();
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"2 choke"});
  self->send(t, unchoke_atom_v, std::uint32_t{0});
  step();
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"1 choke"});
  // no slot: an interested peer waits
  self->send(t, interest_atom_v, peer_index{3}, false);
  self->send(t, interest_atom_v, peer_index{3}, true);
  step();
  CAF_CHECK(take_told().empty());
  // the cap lifted (a share at or above its own slots): its own two slots, at once
  self->send(t, unchoke_atom_v, std::numeric_limits<std::uint32_t>::max());
  step();
  auto told_now = take_told();
  std::sort(told_now.begin(), told_now.end());
  CAF_CHECK_EQUAL(told_now.size(), 2u);
  for (auto& line : told_now)
    CAF_CHECK(line.find(" unchoke") != std::string::npos);
}

CAF_TEST(choker rounds while leeching: optimistic slot then tit-for-tat) {
  auto cfg = config();
  cfg.choker.regular_slots = 2;
  cfg.choker.optimistic_slots = 1;
  cfg.choke_interval = std::chrono::seconds(0); // a round on every tick
  auto t = start(cfg);
  for (std::uint8_t n = 1; n <= 4; ++n)
    add_peer(t, n);
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"1 unchoke", "2 unchoke"}));
  // the first round keeps the holders (nobody gives us anything yet) and
  // gives the optimistic slot to the peer that connected first
  tick();
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"3 unchoke"});
  // peer 4 starts giving us data: it takes a regular slot from peer 2 (the
  // holder with the higher id among equals), the optimistic peer 3 keeps its
  peer_report r;
  r.id = 4;
  r.down_rate = 100000;
  r.interested = true;
  self->send(t, stats_atom_v, r);
  step();
  tick();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"2 choke", "4 unchoke"}));
  // nothing changed: nothing is sent
  tick();
  CAF_CHECK(take_told().empty());
  // a peer that loses interest loses its slot at once, and a waiting peer gets it
  self->send(t, interest_atom_v, peer_index{1}, false);
  step();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"1 choke", "2 unchoke"}));
  tick();
  CAF_CHECK(take_told().empty());
}

CAF_TEST(choker rounds while seeding rotate the regular slot round robin) {
  auto t = start_seed_one_slot(std::chrono::seconds(0), 3); // a round on every tick
  // each round the longest waiting peer takes the slot
  tick();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"1 choke", "2 unchoke"}));
  tick();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"2 choke", "3 unchoke"}));
  tick();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"3 choke", "1 unchoke"}));
}

CAF_TEST(choker rounds follow the actor clock) {
  auto t = start_seed_one_slot(std::chrono::seconds(10), 2);
  // the test clock stands still: no round however often the scheduler runs
  step();
  CAF_CHECK(take_told().empty());
  // the first tick (1 s) runs the first round: the slot rotates
  advance_time(std::chrono::seconds(1));
  step();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"1 choke", "2 unchoke"}));
  // the next one is due a whole interval later (11 s), not before
  advance_time(std::chrono::seconds(5));
  step();
  advance_time(std::chrono::seconds(4));
  step();
  CAF_CHECK(take_told().empty());
  advance_time(std::chrono::seconds(1));
  step();
  CAF_CHECK_EQUAL(take_told(), (std::vector<std::string>{"2 choke", "1 unchoke"}));
}

CAF_TEST(a peer that is gone leaves the choker) {
  auto cfg = config();
  cfg.choker.regular_slots = 1;
  auto t = start(cfg);
  add_peer(t, 1);
  add_peer(t, 2);
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"1 unchoke"});
  anon_send_exit(peers[0], exit_reason::user_shutdown);
  step();
  // its slot is free for the next interested peer (peer 2 says so again)
  self->send(t, interest_atom_v, peer_index{2}, true);
  step();
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"2 unchoke"});
}

CAF_TEST(an incoming peer during the check is answered after it with the checked pieces) {
  auto damaged = content;
  damaged[piece_len + 5] ^= 0x01; // piece 1 fails the check
  write_content(damaged);
  auto cfg = config();
  cfg.observer = actor_cast<actor>(self);
  auto t = sys.spawn(torrent, cfg);
  started = t;
  // queued before the torrent ran at all: it arrives while checking
  self->send(t, incoming_atom_v, peer_endpoint::v4(10, 0, 0, 1, 6881));
  step();
  std::vector<bool> have;
  peer_index idx = 0;
  self->receive([&](peer_config& pc) { idx = pc.index; have = pc.we_have; },
                [](error& err) { CAF_FAIL("incoming peer refused: " << to_string(err)); },
                after(std::chrono::seconds(0)) >> [] { CAF_FAIL("incoming peer not answered"); });
  CAF_CHECK_NOT_EQUAL(idx, 0u);
  CAF_CHECK_EQUAL(have, (std::vector<bool>{true, false, true, true}));
  CAF_CHECK_EQUAL(take_events(), (std::vector<std::string>{"checked checking 3/4", "state downloading"}));
  CAF_CHECK_EQUAL(status(t).state, "downloading");
}

CAF_TEST(pause drops the peers and refuses new ones; unpause downloads again) {
  auto cfg = config();
  cfg.observer = actor_cast<actor>(self);
  auto t = start(cfg);
  take_events();
  add_peer(t, 1);
  take_told();
  self->send(t, pause_atom_v);
  step();
  CAF_CHECK_EQUAL(take_told(), std::vector<std::string>{"1 drop: paused"});
  CAF_CHECK_EQUAL(take_events(), std::vector<std::string>{"state paused"});
  auto s = status(t);
  CAF_CHECK_EQUAL(s.state, "paused");
  CAF_CHECK_EQUAL(s.peers, 0u);
  CAF_CHECK_EQUAL(incoming(t, 2), 0u); // refused
  self->send(t, pause_atom_v); // again: nothing changes
  step();
  CAF_CHECK(take_events().empty());
  self->send(t, unpause_atom_v);
  step();
  CAF_CHECK_EQUAL(take_events(), std::vector<std::string>{"state downloading"});
  CAF_CHECK_NOT_EQUAL(incoming(t, 2), 0u);
}

CAF_TEST(a torrent paused during its check stays paused with the result of the check) {
  auto damaged = content;
  damaged[5] ^= 0x01; // piece 0
  write_content(damaged);
  auto cfg = config();
  cfg.observer = actor_cast<actor>(self);
  auto t = sys.spawn(torrent, cfg);
  started = t;
  self->send(t, pause_atom_v); // handled by the checking behavior, before the disk answers
  step();
  CAF_CHECK_EQUAL(take_events(), (std::vector<std::string>{"state paused", "checked paused 3/4"}));
  auto s = status(t);
  CAF_CHECK_EQUAL(s.state, "paused");
  CAF_CHECK(!s.checking);
  CAF_CHECK_EQUAL(s.pieces_have, 3u);
  self->send(t, unpause_atom_v);
  step();
  CAF_CHECK_EQUAL(take_events(), std::vector<std::string>{"state downloading"});
}

CAF_TEST(a paused complete torrent resumes as a seed) {
  write_content(content);
  auto cfg = config();
  cfg.seed = true;
  auto t = start(cfg);
  CAF_REQUIRE_EQUAL(status(t).state, "seeding");
  self->send(t, pause_atom_v);
  step();
  CAF_CHECK_EQUAL(status(t).state, "paused");
  self->send(t, unpause_atom_v);
  step();
  auto s = status(t);
  CAF_CHECK_EQUAL(s.state, "seeding");
  CAF_CHECK(s.complete);
}

CAF_TEST(a queued torrent checks nothing until it is started) {
  write_content(content);
  auto cfg = config();
  cfg.start_queued = true;
  auto t = start(cfg);
  auto s = status(t);
  CAF_CHECK_EQUAL(s.state, "queued");
  CAF_CHECK(s.checking);
  CAF_CHECK_EQUAL(s.pieces_have, 0u);
  CAF_CHECK_EQUAL(incoming(t, 1), 0u); // refused
  self->send(t, unpause_atom_v);
  step();
  s = status(t);
  CAF_CHECK_EQUAL(s.state, "finished"); // complete, not seeding
  CAF_CHECK_EQUAL(s.pieces_have, 4u);
  CAF_CHECK(s.complete);
}

CAF_TEST(require_complete ends the torrent after the check when data is missing) {
  auto damaged = content;
  damaged[5] ^= 0x01; // piece 0
  write_content(damaged);
  auto cfg = config();
  cfg.require_complete = true;
  cfg.seed = true;
  cfg.observer = actor_cast<actor>(self);
  cfg.resume_file = (dir / ".actorrent" / "x.resume").string();
  auto t = start(cfg);
  auto events = take_events();
  CAF_REQUIRE_EQUAL(events.size(), 2u);
  CAF_CHECK_EQUAL(events[0], "checked checking 3/4");
  CAF_CHECK_NOT_EQUAL(events[1].find("1 of 4 pieces missing or wrong in " + dir.string()), std::string::npos);
  CAF_CHECK_EQUAL(events[1].rfind("error checking", 0), 0u);
  // it is gone, and wrote nothing
  self->send(t, progress_atom_v);
  step();
  bool answered = false;
  self->receive([&](torrent_status&) { answered = true; }, [](error&) {}, after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(!answered);
  CAF_CHECK(!fs::exists(dir / ".actorrent"));
  started = torrent_actor{};
}

CAF_TEST(the observer hears of completion when the last piece verifies) {
  auto cfg = config();
  cfg.observer = actor_cast<actor>(self);
  auto t = start(cfg);
  CAF_CHECK_EQUAL(take_events(), (std::vector<std::string>{"checked checking 0/4", "state downloading"}));
  for (std::uint32_t p = 0; p < 4; ++p)
    self->send(t, verdict_atom_v, piece_verdict{p, true, {}}, std::vector<peer_index>{});
  step();
  CAF_CHECK_EQUAL(take_events(), (std::vector<std::string>{"completed downloading", "state finished"}));
}

CAF_TEST(tracker failures are kept in the status until an announce succeeds) {
  auto cfg = config();
  cfg.observer = actor_cast<actor>(self);
  auto t = start(cfg);
  take_events();
  self->send(t, failed_atom_v, std::string{"http://tracker/announce"}, std::string{"not authorized"});
  step();
  CAF_CHECK_EQUAL(status(t).tracker_error, "http://tracker/announce: not authorized");
  CAF_CHECK_EQUAL(take_events(),
                  std::vector<std::string>{"tracker downloading: http://tracker/announce: not authorized"});
  announce_reply r;
  r.tracker = "http://tracker/announce";
  self->send(t, peers_atom_v, r);
  step();
  CAF_CHECK_EQUAL(status(t).tracker_error, "");
}

CAF_TEST(the torrent answers the shared status interface with its state) {
  auto t = start(config());
  take_events();
  self->send(t, status_atom_v);
  step();
  actor_status out;
  self->receive([&](actor_status& s) { out = std::move(s); },
                after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no status reply"); });
  CAF_CHECK_EQUAL(out.name, "torrent");
  CAF_CHECK_EQUAL(out.state, "downloading");
  CAF_CHECK_EQUAL(out.values["pieces_have"], "0");
  CAF_CHECK_EQUAL(out.values["tracker_error"], "");
}

CAF_TEST(wire faults: a bad spec is an error and a good one shows in the status) {
  auto t = start(config());
  take_events();
  self->send(t, wire_fault_atom_v, std::string{"corrupt_block=5%"});
  step();
  std::string err;
  self->receive([&](bool) { CAF_FAIL("a bad spec was accepted"); },
                [&](caf::error& e) { err = self->system().render(e); },
                after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no reply"); });
  CAF_CHECK(err.find("unknown wire fault (did you mean 'corrupt_blocks'?)") != std::string::npos);
  self->send(t, wire_fault_atom_v, std::string{"corrupt_blocks=5%,seed=3"});
  step();
  bool ok = false;
  self->receive([&](bool b) { ok = b; }, after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no reply"); });
  CAF_CHECK(ok);
  self->send(t, status_atom_v);
  step();
  actor_status out;
  self->receive([&](actor_status& s) { out = std::move(s); },
                after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no status reply"); });
  // nothing done yet: no wire.* value until a behaviour acts
  CAF_CHECK_EQUAL(out.values.count("wire.corrupt_blocks"), 0u);
  self->send(t, wire_fault_atom_v, std::string{}); // off
  step();
  self->receive([&](bool b) { ok = b; }, after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no reply"); });
  CAF_CHECK(ok);
}

CAF_TEST(with files selected the wanted pieces complete the download and only those files are created) {
  // a (20000) | b (20000) | c (9252) in 16 KiB pieces: b is in pieces 1 and 2
  torrent_spec spec;
  spec.name = "multi";
  spec.multi_file = true;
  spec.files = {{{"a"}, 20000, false}, {{"b"}, 20000, false}, {{"c"}, 9252, false}};
  spec.piece_length = piece_len;
  spec.piece_hashes = std::string(4 * 20, 'x');
  auto bytes = write_metainfo(spec);
  CAF_REQUIRE(bytes.ok());
  auto parsed = parse_metainfo(*bytes);
  CAF_REQUIRE(parsed.ok());
  auto cfg = config();
  cfg.torrent = std::make_shared<metainfo>(std::move(*parsed));
  cfg.selected_files = {false, true, false};
  auto t = start(cfg);
  auto s = status(t);
  CAF_CHECK_EQUAL(s.state, "downloading");
  CAF_CHECK_EQUAL(s.selected_pieces, 2u);
  CAF_CHECK_EQUAL(s.selected_size, 2 * piece_len);
  self->send(t, verdict_atom_v, piece_verdict{1, true, {}}, std::vector<peer_index>{});
  step();
  s = status(t);
  CAF_CHECK(!s.complete);
  CAF_CHECK_EQUAL(s.selected_have, piece_len);
  self->send(t, verdict_atom_v, piece_verdict{2, true, {}}, std::vector<peer_index>{});
  step();
  s = status(t);
  CAF_CHECK(s.complete);
  CAF_CHECK_EQUAL(s.state, "finished");
  CAF_CHECK_EQUAL(s.pieces_have, 2u);
  CAF_CHECK_EQUAL(s.selected_have, s.selected_size);
  CAF_CHECK(fs::exists(dir / "multi" / "b"));
  CAF_CHECK(!fs::exists(dir / "multi" / "a"));
  CAF_CHECK(!fs::exists(dir / "multi" / "c"));
}

CAF_TEST(an idle seed lets its disk store and picker go and spawns them again for its next peer) {
  write_content(content);
  // totals of an earlier session, in resume data that is not trusted (no file
  // stamps): the check hashes the data but keeps the totals
  auto resume = (dir / "resume").string();
  storage::resume_data earlier;
  earlier.info_hash = mi->info_hash;
  earlier.pieces.assign(mi->num_pieces(), false);
  earlier.files.resize(1); // a stamp that matches nothing: the data is hashed
  earlier.uploaded = 123456;
  earlier.downloaded = 654321;
  CAF_REQUIRE(storage::write_resume_file(resume, earlier).ok());
  auto cfg = config();
  cfg.seed = true;
  cfg.resume_file = resume;
  cfg.children_idle = std::chrono::seconds(5);
  auto t = start(cfg);
  CAF_REQUIRE(status(t).seeding);
  auto& st = deref<torrent_actor::stateful_base<torrent_state>>(t).state;
  // spawned for the check only: gone as soon as it is done, with no peer there
  CAF_CHECK(!st.disk);
  CAF_CHECK(!st.picker);
  // a peer keeps them, however long it stays
  auto idx = add_peer(t, 1, false);
  for (int i = 0; i < 8; ++i) {
    advance_time(std::chrono::seconds(1));
    step();
  }
  CAF_CHECK(st.disk && st.picker);
  peer_report served;
  served.id = idx;
  served.uploaded = 5000;
  self->send(t, stats_atom_v, served);
  step();
  // once it is gone, they go after children_idle (5 s), not before
  anon_send_exit(peers.back(), exit_reason::user_shutdown);
  peers.pop_back();
  step();
  CAF_CHECK(st.links.count(idx) == 0);
  for (int i = 0; i < 4; ++i) {
    advance_time(std::chrono::seconds(1));
    step();
  }
  CAF_CHECK(st.disk && st.picker);
  for (int i = 0; i < 2; ++i) {
    advance_time(std::chrono::seconds(1));
    step();
  }
  CAF_CHECK(!st.disk);
  CAF_CHECK(!st.picker);
  CAF_CHECK(status(t).seeding);
  // what the peer took went into the resume data before the store went
  auto layout = storage::file_layout::create(*mi);
  CAF_REQUIRE(layout.ok());
  auto uploaded_in_file = [&] {
    auto saved = storage::read_resume_file(resume, *layout, mi->info_hash);
    return saved.ok() && saved->has_value() ? (*saved)->uploaded : 0;
  };
  CAF_CHECK_EQUAL(uploaded_in_file(), 123456u + 5000u);
  // a quiet seed: no more ticks until something wakes it
  advance_time(std::chrono::seconds(1));
  step();
  CAF_CHECK(!st.ticking);
  // the next peer gets new ones in its config, and the new store serves reads
  self->send(t, incoming_atom_v, peer_endpoint::v4(10, 0, 0, 2, 6881));
  step();
  peer_config pc;
  self->receive([&](peer_config& got) { pc = std::move(got); },
                after(std::chrono::seconds(0)) >> [] { CAF_FAIL("incoming peer refused"); });
  CAF_REQUIRE(st.disk && st.picker);
  CAF_CHECK(st.ticking);
  CAF_CHECK(pc.disk == st.disk);
  CAF_CHECK(pc.picker == st.picker);
  CAF_CHECK_EQUAL(pc.we_have, std::vector<bool>(mi->num_pieces(), true));
  CAF_CHECK(read_block(pc.disk) == content.substr(piece_len + 16, 100));
  // a stop writes resume data through the new store, with the earlier totals
  stop_torrent(t);
  auto saved = storage::read_resume_file(resume, *layout, mi->info_hash);
  CAF_REQUIRE(saved.ok() && saved->has_value());
  auto up = (*saved)->uploaded;
  auto down = (*saved)->downloaded;
  CAF_CHECK_EQUAL(up, 123456u + 5000u);
  CAF_CHECK_EQUAL(down, 654321u);
  auto pieces = (*saved)->pieces;
  CAF_CHECK_EQUAL(pieces, std::vector<bool>(mi->num_pieces(), true));
}

CAF_TEST(a quiet seed whose resume data is current stops without a disk store) {
  write_content(content);
  auto cfg = config();
  cfg.seed = true;
  cfg.resume_file = (dir / "resume").string();
  auto t = start(cfg);
  CAF_REQUIRE(status(t).seeding);
  auto& st = deref<torrent_actor::stateful_base<torrent_state>>(t).state;
  CAF_REQUIRE(!st.disk);
  self->send(t, stop_atom_v);
  step();
  bool ok = false;
  self->receive([&](bool b) { ok = b; }, after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to stop"); });
  CAF_CHECK(ok);
  CAF_CHECK(!st.disk);
}

CAF_TEST(a quiet seed goes to sleep and one spawned from its nap seeds on without a check) {
  write_content(content);
  auto resume = (dir / "resume").string();
  auto cfg = config();
  cfg.seed = true;
  cfg.resume_file = resume;
  cfg.children_idle = std::chrono::seconds(2);
  auto t = start(cfg);
  CAF_REQUIRE(status(t).seeding);
  auto& st = deref<torrent_actor::stateful_base<torrent_state>>(t).state;
  auto ask_sleep = [&](const torrent_actor& who) {
    torrent_nap_ptr nap;
    self->send(who, sleep_atom_v);
    step();
    self->receive([&](torrent_nap_ptr& n) { nap = std::move(n); }, [](error&) {},
                  after(std::chrono::seconds(0)) >> [] { CAF_FAIL("no answer to sleep"); });
    return nap;
  };
  // with a peer it is not quiet: it says no and goes on
  auto idx = add_peer(t, 1, false);
  peer_report served;
  served.id = idx;
  served.uploaded = 5000;
  self->send(t, stats_atom_v, served);
  step();
  CAF_CHECK(ask_sleep(t) == nullptr);
  CAF_CHECK(status(t).seeding);
  // the peer goes, the store goes after children_idle (with the totals in the resume data)
  anon_send_exit(peers.back(), exit_reason::user_shutdown);
  peers.pop_back();
  step();
  for (int i = 0; i < 4; ++i) {
    advance_time(std::chrono::seconds(1));
    step();
  }
  CAF_REQUIRE(!st.disk);
  self->monitor(t);
  auto nap = ask_sleep(t);
  CAF_REQUIRE(nap != nullptr);
  bool down = false;
  self->receive([&](down_msg& dm) { down = dm.source == t.address(); },
                after(std::chrono::seconds(0)) >> [] {});
  CAF_CHECK(down);
  started = nullptr;
  CAF_CHECK(nap->phase == torrent_phase::seeding);
  CAF_CHECK_EQUAL(nap->have, std::vector<bool>(mi->num_pieces(), true));
  CAF_CHECK_EQUAL(nap->uploaded_closed, 5000u);
  CAF_REQUIRE(nap->status != nullptr);
  CAF_CHECK_EQUAL(nap->status->uploaded, 5000u);
  CAF_CHECK(nap->announcer == nullptr); // no trackers here
  // spawned again from the nap: seeding at once, no check, no store, the same totals
  auto cfg2 = config();
  cfg2.seed = true;
  cfg2.resume_file = resume;
  cfg2.nap = nap;
  auto t2 = sys.spawn(torrent, cfg2);
  started = t2;
  step();
  auto s2 = status(t2);
  CAF_CHECK(s2.seeding);
  CAF_CHECK_EQUAL(s2.uploaded, 5000u);
  CAF_CHECK_EQUAL(s2.check_total, 0u); // nothing hashed
  auto& st2 = deref<torrent_actor::stateful_base<torrent_state>>(t2).state;
  CAF_CHECK(!st2.disk);
  CAF_CHECK(st2.checked && st2.complete);
  // and serves the next peer from a new store
  self->send(t2, incoming_atom_v, peer_endpoint::v4(10, 0, 0, 3, 6881));
  step();
  peer_config pc;
  self->receive([&](peer_config& got) { pc = std::move(got); },
                after(std::chrono::seconds(0)) >> [] { CAF_FAIL("incoming peer refused"); });
  CAF_REQUIRE(st2.disk);
  CAF_CHECK_EQUAL(pc.we_have, std::vector<bool>(mi->num_pieces(), true));
  CAF_CHECK(read_block(pc.disk) == content.substr(piece_len + 16, 100));
  // a stop writes the totals of both lives
  stop_torrent(t2);
  auto layout = storage::file_layout::create(*mi);
  CAF_REQUIRE(layout.ok());
  auto saved = storage::read_resume_file(resume, *layout, mi->info_hash);
  CAF_REQUIRE(saved.ok() && saved->has_value());
  auto up = (*saved)->uploaded;
  CAF_CHECK_EQUAL(up, 5000u);
}

CAF_TEST(children_idle 0 keeps the disk store and picker of an idle seed) {
  write_content(content);
  auto cfg = config();
  cfg.seed = true;
  cfg.children_idle = std::chrono::seconds(0);
  auto t = start(cfg);
  CAF_REQUIRE(status(t).seeding);
  auto& st = deref<torrent_actor::stateful_base<torrent_state>>(t).state;
  for (int i = 0; i < 40; ++i) {
    advance_time(std::chrono::seconds(1));
    step();
  }
  CAF_CHECK(st.disk && st.picker);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(phase names read back as their phases) {
  for (auto p : {torrent_phase::queued, torrent_phase::checking, torrent_phase::downloading, torrent_phase::seeding,
                 torrent_phase::finished, torrent_phase::paused, torrent_phase::stopping}) {
    auto back = phase_from_name(phase_name(p));
    CAF_REQUIRE(back.has_value());
    CAF_CHECK(*back == p);
  }
  CAF_CHECK(!phase_from_name("").has_value());
  CAF_CHECK(!phase_from_name("Seeding").has_value());
  CAF_CHECK(!phase_from_name("unknown").has_value());
}
