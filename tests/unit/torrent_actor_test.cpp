// The torrent actor with CAF's deterministic test coordinator and a real disk
// store in a temporary directory (no peers, no trackers): the start-up check,
// verdicts, completion and stop.
#define CAF_SUITE torrent_actor
#include <caf/test/dsl.hpp>

#include "actors/torrent.hpp"
#include "protocol/metainfo_writer.hpp"

#include <caf/all.hpp>

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
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void write_content(const std::string& data) {
    std::ofstream out{dir / "data.bin", std::ios::binary};
    out << data;
  }

  torrent_actor start() {
    torrent_config cfg;
    cfg.torrent = mi;
    cfg.download_dir = dir.string();
    cfg.use_trackers = false;
    cfg.check_threads = 1;
    auto t = sys.spawn(torrent, cfg);
    started = t;
    step();
    return t;
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

CAF_TEST_FIXTURE_SCOPE_END()
