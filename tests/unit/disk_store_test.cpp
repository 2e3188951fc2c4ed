#define CAF_SUITE disk_store
#include <caf/test/dsl.hpp>

#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/disk_store.hpp"
#include "storage_test_util.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace caf;
using namespace actorrent;

namespace {

constexpr std::uint64_t piece_len = 32 * 1024; // two 16 KiB blocks
constexpr std::uint32_t blk = 16 * 1024;

// Forwards "hash this piece" to the disk store as a request and records the
// verdicts in the order they arrive.
behavior hash_client(event_based_actor* self, disk_actor disk, std::vector<piece_verdict>* out) {
  return {
    [=](hash_atom, std::uint32_t piece, bool with_blocks) {
      self->request(disk, infinite, hash_atom_v, piece, with_blocks).then([=](piece_verdict& v) {
        out->push_back(std::move(v));
      });
    },
  };
}

// Messages are run with sched.run(), which fires no timer: the batch timer
// fires only where a test says so (the fixture's run() would fire it).
struct fixture : test_coordinator_fixture<> {
  actorrent::test::temp_dir dir;
  // 10 full pieces and a last one of 5000 bytes
  actorrent::test::torrent t = actorrent::test::make_torrent({{"data.bin", 10 * piece_len + 5000}}, piece_len, 7);
  std::shared_ptr<storage::disk_faults> faults = std::make_shared<storage::disk_faults>(); // off unless a test sets one
  std::shared_ptr<logic::engine_metrics> metrics = std::make_shared<logic::engine_metrics>(); // the daemon's counters
  disk_actor disk;
  actor client;
  std::vector<piece_verdict> verdicts;

  // hash_memory: how many bytes of blocks the disk store keeps for hashing
  explicit fixture(std::size_t hash_memory = 1024 * 1024) {
    disk_config cfg;
    cfg.torrent = std::make_shared<const metainfo>(t.mi);
    cfg.root = dir.path;
    cfg.hash_batch = 4;
    cfg.hash_delay = std::chrono::milliseconds{20};
    cfg.hash_memory_bytes = hash_memory;
    cfg.faults = faults;
    cfg.metrics = metrics;
    disk = sys.spawn(disk_store, std::move(cfg));
    client = sys.spawn(hash_client, disk, &verdicts);
    run();
  }

  ~fixture() {
    anon_send_exit(client, exit_reason::user_shutdown);
    anon_send_exit(disk, exit_reason::user_shutdown);
    run();
  }

  // Writes piece `p` as the torrent has it, or with its last block flipped.
  void write_piece(std::uint32_t p, bool corrupt_last_block = false) {
    auto begin = p * piece_len;
    auto size = static_cast<std::uint32_t>(t.mi.piece_size(p));
    for (std::uint32_t off = 0; off < size; off += blk) {
      block_data bd;
      bd.piece = p;
      bd.offset = off;
      auto n = std::min(blk, size - off);
      bd.bytes.assign(t.content.begin() + static_cast<std::ptrdiff_t>(begin + off),
                      t.content.begin() + static_cast<std::ptrdiff_t>(begin + off + n));
      if (corrupt_last_block && off + blk >= size)
        bd.bytes[0] = static_cast<char>(~bd.bytes[0]);
      anon_send(disk, block_atom_v, std::move(bd));
    }
    sched.run();
  }

  void ask(std::uint32_t p, bool with_blocks = false) {
    anon_send(client, hash_atom_v, p, with_blocks);
    sched.run();
  }

  const disk_state& state() { return deref<disk_actor::stateful_base<disk_state>>(disk).state; }

  sha1_hash block_sha1(std::uint32_t p, std::uint32_t off) {
    auto begin = p * piece_len + off;
    auto n = std::min<std::uint64_t>(blk, t.mi.piece_size(p) - off);
    return sha1(std::string_view{t.content}.substr(begin, n));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(disk_store_tests, fixture)

CAF_TEST(a full batch is hashed at once and every verdict is right) {
  for (std::uint32_t p = 0; p < 4; ++p)
    write_piece(p);
  for (std::uint32_t p = 0; p < 3; ++p)
    ask(p);
  CAF_CHECK_EQUAL(verdicts.size(), 0u); // waiting for the batch to fill
  ask(3);
  CAF_REQUIRE_EQUAL(verdicts.size(), 4u);
  for (std::uint32_t p = 0; p < 4; ++p) {
    CAF_CHECK_EQUAL(verdicts[p].piece, p);
    CAF_CHECK(verdicts[p].ok);
    CAF_CHECK(verdicts[p].block_hashes.empty());
  }
  // hashed from the blocks kept in memory, which are let go after the verdicts
  CAF_CHECK_EQUAL(state().pieces_from_memory, 4u);
  CAF_CHECK_EQUAL(state().assembling_bytes, 0u);
  CAF_CHECK(state().assembling.empty());
}

CAF_TEST(a partial batch waits for the timer and no longer) {
  write_piece(5);
  write_piece(10); // the short last piece goes through the one-buffer path
  ask(5);
  ask(10);
  CAF_CHECK_EQUAL(verdicts.size(), 0u);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 2u);
  CAF_CHECK(verdicts[0].ok && verdicts[0].piece == 5u);
  CAF_CHECK(verdicts[1].ok && verdicts[1].piece == 10u);
}

CAF_TEST(a bad piece fails with per - block hashes that tell the bad block) {
  write_piece(0);
  write_piece(1, true);
  write_piece(2);
  write_piece(3);
  ask(0);
  ask(1);
  ask(2, true); // good, but its block hashes are asked for
  ask(3);
  CAF_REQUIRE_EQUAL(verdicts.size(), 4u);
  CAF_CHECK(verdicts[0].ok);
  CAF_CHECK(!verdicts[1].ok);
  CAF_REQUIRE_EQUAL(verdicts[1].block_hashes.size(), 2u);
  CAF_CHECK(verdicts[1].block_hashes[0] == block_sha1(1, 0));
  CAF_CHECK(verdicts[1].block_hashes[1] != block_sha1(1, blk));
  CAF_CHECK(verdicts[2].ok);
  CAF_REQUIRE_EQUAL(verdicts[2].block_hashes.size(), 2u);
  CAF_CHECK(verdicts[2].block_hashes[1] == block_sha1(2, blk));
  CAF_CHECK(verdicts[3].ok && verdicts[3].block_hashes.empty());
}

CAF_TEST(a piece never written fails instead of hanging) {
  ask(6);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 1u);
  CAF_CHECK(!verdicts[0].ok);
}

CAF_TEST(the timer of a batch that already ran is ignored) {
  for (std::uint32_t p = 0; p < 5; ++p)
    write_piece(p);
  ask(0); // arms the timer of this batch
  ask(1);
  ask(2);
  ask(3); // full: runs now
  CAF_CHECK_EQUAL(verdicts.size(), 4u);
  ask(4); // a new batch, with its own timer
  CAF_REQUIRE_EQUAL(sched.clock().schedule().size(), 2u);
  CAF_REQUIRE(sched.trigger_timeout()); // the old batch's timer: nothing happens
  sched.run();
  CAF_CHECK_EQUAL(verdicts.size(), 4u);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 5u);
  CAF_CHECK(verdicts[4].ok && verdicts[4].piece == 4u);
}

CAF_TEST(the written file holds the torrent content) {
  for (std::uint32_t p = 0; p <= 10; ++p)
    write_piece(p);
  std::ifstream in{dir.path + "/data.bin", std::ios::binary};
  std::string got{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  CAF_CHECK(got == t.content);
}

CAF_TEST(a piece that failed is hashed from its new blocks once fetched again) {
  write_piece(1, true);
  ask(1);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 1u);
  CAF_CHECK(!verdicts[0].ok);
  write_piece(1);
  ask(1);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 2u);
  CAF_CHECK(verdicts[1].ok);
  CAF_CHECK_EQUAL(state().pieces_from_memory, 2u);
}

CAF_TEST(a failed block write answers the hash request with the error and blames nobody) {
  faults->set(*storage::parse_disk_fault_spec("full_after=16KiB"));
  write_piece(0); // its first block is written, the second refused: disk full
  ask(0);
  CAF_REQUIRE_EQUAL(verdicts.size(), 1u); // at once: nothing to hash
  CAF_CHECK(!verdicts[0].ok);
  CAF_CHECK_EQUAL(verdicts[0].write_error, "cannot write piece 0: No space left on device (injected disk fault)");
  CAF_CHECK(verdicts[0].block_hashes.empty());
  CAF_CHECK_EQUAL(faults->failed_writes.load(), 1u);
  CAF_CHECK_EQUAL(faults->injected_full.load(), 1u);
  // the fault is gone: the piece fetched again is hashed and good
  faults->set({});
  write_piece(0);
  ask(0);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 2u);
  CAF_CHECK(verdicts[1].ok);
  CAF_CHECK(verdicts[1].write_error.empty());
}

CAF_TEST(a write error of an earlier fault is a lost block not a full disk) {
  faults->set(*storage::parse_disk_fault_spec("full_after=0"));
  write_piece(3);
  faults->set({}); // turned off before the piece was complete (the torrent was paused)
  ask(3);
  CAF_REQUIRE_EQUAL(verdicts.size(), 1u);
  CAF_CHECK(!verdicts[0].ok);
  CAF_CHECK_EQUAL(verdicts[0].write_error, "a block of piece 3 was lost to an earlier write error");
  CAF_CHECK(!storage::is_disk_full_error(verdicts[0].write_error));
}

CAF_TEST(uploads are read from mappings of the file and give the same bytes) {
  for (std::uint32_t p = 0; p <= 10; ++p)
    write_piece(p);
  std::vector<block_ref> want{{0, 0, blk}, {3, blk, blk}, {10, 0, 5000}, {0, blk, blk}};
  std::vector<block_view> got;
  auto rh = self->request(disk, infinite, read_atom_v, want);
  sched.run();
  rh.receive([&](std::vector<block_view>& v) { got = std::move(v); }, [](caf::error&) { CAF_FAIL("read failed"); });
  CAF_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAF_CHECK(got[i].mapped != nullptr);
    CAF_CHECK(got[i].piece == nullptr);
    CAF_REQUIRE_EQUAL(got[i].length, want[i].length);
    std::string bytes(got[i].length, '?');
    CAF_REQUIRE(storage::copy_mapped(bytes.data(), got[i].data(), bytes.size()));
    CAF_CHECK(bytes == t.content.substr(want[i].piece * piece_len + want[i].offset, want[i].length));
  }
  CAF_CHECK_EQUAL(state().mapped_reads, 4u);
  CAF_CHECK_EQUAL(state().copied_reads, 0u);
  CAF_CHECK_EQUAL(state().cache_bytes, 0u);
  CAF_CHECK_LESS_OR_EQUAL(state().mapped_bytes, std::size_t{16} * 1024 * 1024);
  // a read past the end of a piece is an error, as before
  bool failed = false;
  auto rh2 = self->request(disk, infinite, read_atom_v, std::vector<block_ref>{{10, 4096, blk}});
  sched.run();
  rh2.receive([](std::vector<block_view>&) {}, [&](caf::error&) { failed = true; });
  CAF_CHECK(failed);
}

CAF_TEST(the daemon counters see writes hash batches verdicts reads and the queue) {
  auto op = [this](logic::disk_op o) { return metrics->disk_seconds[static_cast<std::size_t>(o)].snapshot().count; };
  write_piece(0);
  write_piece(1, true);
  CAF_CHECK_EQUAL(metrics->disk_written_bytes.load(), 2 * piece_len);
  CAF_CHECK_EQUAL(op(logic::disk_op::write), 4u);
  CAF_CHECK_EQUAL(metrics->disk_queued_jobs.load(), 0);
  // two pieces wait for a batch of four: two jobs queued
  ask(0);
  ask(1);
  CAF_CHECK_EQUAL(metrics->disk_queued_jobs.load(), 2);
  CAF_CHECK_EQUAL(metrics->hash_seconds.snapshot().count, 0u);
  CAF_REQUIRE(sched.trigger_timeout());
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 2u);
  CAF_CHECK_EQUAL(metrics->hash_seconds.snapshot().count, 1u); // one batch
  CAF_CHECK_EQUAL(metrics->pieces_passed.load(), 1u);
  CAF_CHECK_EQUAL(metrics->pieces_failed.load(), 1u);
  CAF_CHECK_EQUAL(metrics->wasted[static_cast<std::size_t>(logic::waste_reason::hash_failed)].load(), piece_len);
  CAF_CHECK_EQUAL(metrics->disk_queued_jobs.load(), 0);
  // an upload read and a flush
  auto rh = self->request(disk, infinite, read_atom_v, std::vector<block_ref>{{0, 0, blk}});
  sched.run();
  rh.receive([](std::vector<block_view>&) {}, [](caf::error&) { CAF_FAIL("read failed"); });
  CAF_CHECK_EQUAL(metrics->disk_read_bytes.load(), blk);
  CAF_CHECK_EQUAL(op(logic::disk_op::read), 1u);
  auto fh = self->request(disk, infinite, actorrent::flush_atom_v);
  sched.run();
  fh.receive([](bool) {}, [](caf::error&) { CAF_FAIL("flush failed"); });
  CAF_CHECK_EQUAL(op(logic::disk_op::sync), 1u);
}

CAF_TEST(a disk store takes its queued jobs out of the gauge when it ends) {
  write_piece(0);
  ask(0);
  CAF_CHECK_EQUAL(metrics->disk_queued_jobs.load(), 1);
  anon_send_exit(disk, exit_reason::user_shutdown);
  run();
  CAF_CHECK_EQUAL(metrics->disk_queued_jobs.load(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// Room for three blocks only: most pieces spill and are read back from disk.
struct tight_fixture : fixture {
  tight_fixture() : fixture(3 * blk) {}
};

// No blocks kept at all: every piece is read back.
struct readback_fixture : fixture {
  readback_fixture() : fixture(0) {}
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(disk_store_memory_tests, tight_fixture)

CAF_TEST(pieces that do not fit in memory are read back and still judged right) {
  for (std::uint32_t p = 0; p < 4; ++p)
    write_piece(p, p == 2);
  CAF_CHECK(state().assembling_bytes <= 3 * blk);
  for (std::uint32_t p = 0; p < 4; ++p)
    ask(p);
  CAF_REQUIRE_EQUAL(verdicts.size(), 4u);
  for (std::uint32_t p = 0; p < 4; ++p)
    CAF_CHECK_EQUAL(verdicts[p].ok, p != 2);
  CAF_REQUIRE_EQUAL(verdicts[2].block_hashes.size(), 2u);
  CAF_CHECK(verdicts[2].block_hashes[0] == block_sha1(2, 0));
  CAF_CHECK(verdicts[2].block_hashes[1] != block_sha1(2, blk));
  CAF_CHECK_EQUAL(state().pieces_hashed, 4u);
  CAF_CHECK(state().pieces_from_memory < 4u);
  CAF_CHECK_EQUAL(state().assembling_bytes, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(disk_store_readback_tests, readback_fixture)

CAF_TEST(with no memory for blocks every piece is read back) {
  for (std::uint32_t p = 0; p < 4; ++p)
    write_piece(p, p == 1);
  write_piece(10);
  for (std::uint32_t p = 0; p < 4; ++p)
    ask(p, p == 3);
  ask(10); // the first four ran as a full batch; this one waits for its timer
  CAF_REQUIRE_EQUAL(sched.trigger_timeouts(), 2u); // (the first batch's stale one too)
  sched.run();
  CAF_REQUIRE_EQUAL(verdicts.size(), 5u);
  for (std::uint32_t i = 0; i < 4; ++i)
    CAF_CHECK_EQUAL(verdicts[i].ok, i != 1);
  CAF_CHECK(verdicts[4].ok);
  CAF_REQUIRE_EQUAL(verdicts[1].block_hashes.size(), 2u);
  CAF_CHECK(verdicts[1].block_hashes[1] != block_sha1(1, blk));
  CAF_REQUIRE_EQUAL(verdicts[3].block_hashes.size(), 2u);
  CAF_CHECK(verdicts[3].block_hashes[0] == block_sha1(3, 0));
  CAF_CHECK_EQUAL(state().pieces_from_memory, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// Writes a whole torrent of `piece_length` (block by block, as the picker
// would send it), with one byte of piece `corrupt` flipped, asks for every
// piece's hash and returns the verdicts.
std::vector<piece_verdict> hash_all(test_coordinator_fixture<>& f, std::uint64_t piece_length, std::uint64_t total,
                                    std::size_t hash_memory, std::uint32_t corrupt, std::string* content = nullptr) {
  actorrent::test::temp_dir dir;
  auto t = actorrent::test::make_torrent({{"big.bin", total}}, piece_length, 11);
  if (content != nullptr)
    *content = t.content;
  disk_config cfg;
  cfg.torrent = std::make_shared<const metainfo>(t.mi);
  cfg.root = dir.path;
  cfg.hash_memory_bytes = hash_memory;
  auto disk = f.sys.spawn(disk_store, std::move(cfg));
  std::vector<piece_verdict> verdicts;
  auto client = f.sys.spawn(hash_client, disk, &verdicts);
  for (std::uint32_t p = 0; p < t.mi.num_pieces(); ++p) {
    auto size = t.mi.piece_size(p);
    for (std::uint64_t off = 0; off < size; off += blk) {
      block_data bd;
      bd.piece = p;
      bd.offset = static_cast<std::uint32_t>(off);
      auto n = std::min<std::uint64_t>(blk, size - off);
      auto begin = t.content.begin() + static_cast<std::ptrdiff_t>(p * piece_length + off);
      bd.bytes.assign(begin, begin + static_cast<std::ptrdiff_t>(n));
      if (p == corrupt && off + n >= size) // the piece's last block
        bd.bytes.back() = static_cast<char>(~bd.bytes.back());
      anon_send(disk, block_atom_v, std::move(bd));
    }
    anon_send(client, hash_atom_v, p, false);
  }
  f.run(); // messages and the batch timers
  anon_send_exit(client, exit_reason::user_shutdown);
  anon_send_exit(disk, exit_reason::user_shutdown);
  f.run();
  return verdicts;
}

std::string oks(const std::vector<piece_verdict>& vs) {
  std::string out;
  for (auto& v : vs)
    out += v.ok ? '1' : '0';
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(disk_store_piece_length_tests, test_coordinator_fixture<>)

CAF_TEST(big pieces are hashed in chunks whether in memory or read back) {
  // 512 KiB pieces: two 256 KiB chunks each; five full pieces and a short one
  const std::uint64_t plen = 512 * 1024, total = 5 * plen + 70000;
  for (std::size_t memory : {std::size_t{0}, std::size_t{8} << 20}) {
    std::string content;
    auto vs = hash_all(*this, plen, total, memory, 3, &content);
    CAF_CHECK_EQUAL(oks(vs), "111011");
    CAF_REQUIRE_EQUAL(vs.size(), 6u);
    CAF_REQUIRE_EQUAL(vs[3].block_hashes.size(), 32u);
    auto block = [&](std::size_t b) { return sha1(std::string_view{content}.substr(3 * plen + b * blk, blk)); };
    CAF_CHECK(vs[3].block_hashes[30] == block(30));
    CAF_CHECK(vs[3].block_hashes[31] != block(31)); // the flipped byte
  }
}

CAF_TEST(pieces that are no multiple of the block size are hashed too) {
  // 40,000-byte pieces: no whole blocks, no whole 64-byte blocks either
  auto vs = hash_all(*this, 40000, 7 * 40000 + 123, 1 << 20, 5);
  CAF_CHECK_EQUAL(oks(vs), "11111011");
  CAF_REQUIRE_EQUAL(vs[5].block_hashes.size(), 3u);
}

CAF_TEST_FIXTURE_SCOPE_END()

// ---- the start-up check: overwrite guard and --recheck -----------------------

namespace {

struct check_outcome {
  bool ok = false;
  std::string have; // '1' per piece found
  std::string error;
};

// Runs the disk store's start-up check in a real actor system (its hashing
// threads block the actor, as in the client), then, if `save`, writes resume
// data saying the pieces found are there.
check_outcome run_check(const metainfo& mi, const std::string& root, const std::string& resume, bool force,
                        bool recheck, bool save = false) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  disk_config dc;
  dc.torrent = std::make_shared<const metainfo>(mi);
  dc.root = root;
  dc.resume_file = resume;
  dc.force_overwrite = force;
  dc.recheck = recheck;
  dc.check_threads = 2;
  auto disk = sys.spawn(disk_store, std::move(dc));
  check_outcome out;
  std::vector<bool> have;
  self->request(disk, std::chrono::seconds{60}, check_atom_v)
    .receive(
      [&](std::vector<bool>& h) {
        out.ok = true;
        have = h;
        for (bool b : h)
          out.have += b ? '1' : '0';
      },
      [&](caf::error& err) { out.error = sys.render(err); });
  // a barrier: what the check queued for itself (the first resume data) is done
  self->request(disk, std::chrono::seconds{60}, read_atom_v, std::vector<block_ref>{})
    .receive([](std::vector<block_view>&) {}, [](caf::error&) {});
  if (save && out.ok)
    self->request(disk, std::chrono::seconds{60}, resume_atom_v, have, transfer_totals{}, true)
      .receive([](bool) {}, [](caf::error&) { CAF_FAIL("resume data not written"); });
  self->send_exit(disk, exit_reason::user_shutdown);
  return out;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path{path}.parent_path());
  std::ofstream{path, std::ios::binary | std::ios::trunc} << bytes;
}

} // namespace

CAF_TEST(an unrelated file with the name of the torrent is refused unless forced) {
  actorrent::test::temp_dir dir;
  auto t = actorrent::test::make_torrent({{"data.bin", 3 * piece_len + 100}}, piece_len, 3);
  const auto path = dir.path + "/data.bin";
  const std::string unrelated(3 * piece_len + 5000, 'u'); // longer than the torrent says
  write_file(path, unrelated);
  auto refused = run_check(t.mi, dir.path, dir.path + "/.actorrent/x.resume", false, false);
  CAF_CHECK(!refused.ok);
  CAF_CHECK_NOT_EQUAL(refused.error.find("refusing to overwrite " + path), std::string::npos);
  CAF_CHECK_NOT_EQUAL(refused.error.find("--force"), std::string::npos);
  CAF_CHECK_EQUAL(std::filesystem::file_size(path), unrelated.size()); // untouched
  CAF_CHECK(!std::filesystem::exists(dir.path + "/.actorrent/x.resume"));
  // forced: goes on, and the longer file is cut to the torrent's size
  auto forced = run_check(t.mi, dir.path, dir.path + "/.actorrent/x.resume", true, false);
  CAF_CHECK(forced.ok);
  CAF_CHECK_EQUAL(forced.have, "0000");
  CAF_CHECK_EQUAL(std::filesystem::file_size(path), t.content.size());
  // the data is ours from now on: resume data says so at once, and the next
  // check does not refuse the (still unverified) file
  CAF_CHECK(std::filesystem::exists(dir.path + "/.actorrent/x.resume"));
  write_file(path, unrelated.substr(0, t.content.size()));
  CAF_CHECK(run_check(t.mi, dir.path, dir.path + "/.actorrent/x.resume", false, false).ok);
}

CAF_TEST(a file whose data verifies in part is a resume - no refusal and the longer file cut) {
  actorrent::test::temp_dir dir;
  auto t = actorrent::test::make_torrent({{"data.bin", 3 * piece_len + 100}}, piece_len, 3);
  const auto path = dir.path + "/data.bin";
  auto bytes = t.content.substr(0, piece_len) + std::string(2 * piece_len + 100, 'x') + "trailing";
  write_file(path, bytes);
  auto got = run_check(t.mi, dir.path, "", false, false);
  CAF_CHECK(got.ok);
  CAF_CHECK_EQUAL(got.have, "1000");
  CAF_CHECK_EQUAL(std::filesystem::file_size(path), t.content.size());
  // complete data and an empty directory: nothing to refuse
  write_file(path, t.content);
  CAF_CHECK_EQUAL(run_check(t.mi, dir.path, "", false, false).have, "1111");
  actorrent::test::temp_dir empty;
  CAF_CHECK_EQUAL(run_check(t.mi, empty.path, "", false, false).have, "0000");
}

CAF_TEST(recheck ignores resume data and finds a byte changed with the mtime kept) {
  actorrent::test::temp_dir dir;
  auto t = actorrent::test::make_torrent({{"data.bin", 3 * piece_len + 100}}, piece_len, 3);
  const auto path = dir.path + "/data.bin";
  const auto resume = dir.path + "/.actorrent/t.resume";
  write_file(path, t.content);
  auto first = run_check(t.mi, dir.path, resume, false, false, true);
  CAF_REQUIRE_EQUAL(first.have, "1111");
  CAF_REQUIRE(std::filesystem::exists(resume));
  // flip a byte of piece 2, keeping the mtime
  auto mtime = std::filesystem::last_write_time(path);
  {
    std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(static_cast<std::streamoff>(2 * piece_len + 10));
    f.put(static_cast<char>(~t.content[2 * piece_len + 10]));
  }
  std::filesystem::last_write_time(path, mtime);
  // trusted without --recheck (the resume data's promise), found with it
  CAF_CHECK_EQUAL(run_check(t.mi, dir.path, resume, false, false).have, "1111");
  CAF_CHECK_EQUAL(run_check(t.mi, dir.path, resume, false, true).have, "1101");
}
