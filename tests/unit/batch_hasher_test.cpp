#define CAF_SUITE batch_hasher
#include <caf/test/unit_test.hpp>

#include "protocol/sha1_multi.hpp"
#include "storage/batch_hasher.hpp"

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace actorrent;
using namespace actorrent::storage;

namespace {

// Content in memory: read() copies from it; pieces listed in `in_memory` are
// handed out in parts instead (each part its own copy, so a part read past its
// end would show up as a wrong hash or under ASan); pieces in `absent` say
// "not there"; a read of `broken` is an error.
struct test_source final : piece_source {
  std::string content;
  std::uint64_t plen = 0;
  std::size_t part = 0;
  std::set<std::size_t> in_memory, absent, broken;
  std::vector<std::vector<std::vector<std::uint8_t>>> parts; // [piece][part]
  std::atomic<std::size_t> reads{0};
  std::atomic<std::size_t> max_read{0};

  test_source(std::uint64_t size, std::uint64_t piece_length, std::uint64_t seed = 7)
    : content(size, '\0'), plen(piece_length) {
    std::mt19937_64 rng{seed};
    for (auto& c : content)
      c = static_cast<char>(rng());
  }

  void keep_in_memory(std::size_t piece, std::size_t part_len) {
    part = part_len;
    in_memory.insert(piece);
    if (parts.size() <= piece)
      parts.resize(piece + 1);
    for (std::uint64_t off = 0; off < plen; off += part_len) {
      auto* p = reinterpret_cast<const std::uint8_t*>(content.data() + piece * plen + off);
      parts[piece].emplace_back(p, p + part_len);
    }
  }

  result<bool> read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) override {
    ++reads;
    for (auto m = max_read.load(); out.size() > m && !max_read.compare_exchange_weak(m, out.size());) {
    }
    if (broken.count(piece) != 0)
      return make_error("cannot read piece " + std::to_string(piece));
    if (absent.count(piece) != 0)
      return false;
    const auto begin = piece * plen + offset;
    CAF_REQUIRE(begin + out.size() <= content.size());
    std::memcpy(out.data(), content.data() + begin, out.size());
    return true;
  }

  const std::uint8_t* memory(std::size_t piece, std::uint64_t offset) override {
    if (in_memory.count(piece) == 0)
      return nullptr;
    CAF_REQUIRE_EQUAL(offset % part, 0u);
    return parts[piece][static_cast<std::size_t>(offset / part)].data();
  }

  sha1_hash expected(std::size_t piece) const {
    return sha1(std::string_view{content}.substr(piece * plen, plen));
  }
};

std::vector<std::size_t> all_pieces(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = i;
  return v;
}

} // namespace

CAF_TEST(every piece of every shape hashes as OpenSSL hashes it) {
  // piece lengths: one chunk, several chunks, no multiple of 64, with a short
  // last piece and without
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> cases = {
    {16 * 1024, 16 * 1024 * 37 + 1000}, {512 * 1024, 512 * 1024 * 5}, {40000, 40000 * 19 + 77},
    {1024 * 1024, 1024 * 1024 * 3 + 65}};
  for (auto [plen, size] : cases)
    for (std::size_t lanes : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
      test_source src{size, plen};
      hash_settings hs;
      hs.piece_length = plen;
      hs.total_size = size;
      hs.lanes = lanes;
      batch_hasher h{hs};
      const auto n = h.num_pieces();
      CAF_CHECK_EQUAL(n, (size + plen - 1) / plen);
      auto ids = all_pieces(n);
      std::vector<piece_digest> out(n);
      CAF_REQUIRE(h.hash(ids, src, out).ok());
      for (std::size_t p = 0; p < n; ++p) {
        CAF_CHECK(out[p].present);
        CAF_CHECK_EQUAL(out[p].hash.hex(), src.expected(p).hex());
      }
      // reads are bounded by the chunk, whatever the piece length
      CAF_CHECK_LESS_OR_EQUAL(src.max_read.load(), 256u * 1024);
      CAF_CHECK_LESS_OR_EQUAL(h.buffer_bytes(), h.lanes() * 256u * 1024);
    }
}

CAF_TEST(pieces in memory are hashed from their parts without a read or a buffer) {
  const std::uint64_t plen = 256 * 1024;
  test_source src{plen * 6, plen};
  for (std::size_t p : {0u, 2u, 3u, 5u})
    src.keep_in_memory(p, 16 * 1024);
  hash_settings hs;
  hs.piece_length = plen;
  hs.total_size = plen * 6;
  hs.memory_part = 16 * 1024;
  batch_hasher h{hs};
  auto ids = all_pieces(6);
  std::vector<piece_digest> out(6);
  CAF_REQUIRE(h.hash(ids, src, out).ok());
  for (std::size_t p = 0; p < 6; ++p)
    CAF_CHECK_EQUAL(out[p].hash.hex(), src.expected(p).hex());
  // only pieces 1 and 4 were read
  CAF_CHECK_EQUAL(src.reads.load(), 2 * (plen / h.chunk()));
  if (h.lanes() >= 6)
    CAF_CHECK_EQUAL(h.buffer_bytes(), 2 * h.chunk());
  // all in memory: no buffer at all
  test_source mem{plen * 4, plen};
  for (std::size_t p = 0; p < 4; ++p)
    mem.keep_in_memory(p, 16 * 1024);
  batch_hasher h2{hs};
  std::vector<std::size_t> ids2{3, 1, 0, 2};
  std::vector<piece_digest> out2(4);
  CAF_REQUIRE(h2.hash(ids2, mem, out2).ok());
  for (std::size_t i = 0; i < 4; ++i)
    CAF_CHECK_EQUAL(out2[i].hash.hex(), mem.expected(ids2[i]).hex());
  CAF_CHECK_EQUAL(mem.reads.load(), 0u);
  CAF_CHECK_EQUAL(h2.buffer_bytes(), 0u);
}

CAF_TEST(an absent piece fails alone and an error stops the run) {
  const std::uint64_t plen = 64 * 1024;
  test_source src{plen * 10 + 5, plen};
  src.absent = {2, 10}; // 10 is the short last piece
  hash_settings hs;
  hs.piece_length = plen;
  hs.total_size = plen * 10 + 5;
  batch_hasher h{hs};
  std::vector<std::size_t> ids = {0, 1, 2, 3, 10, 11}; // 11 is past the end
  std::vector<piece_digest> out(ids.size());
  CAF_REQUIRE(h.hash(ids, src, out).ok());
  CAF_CHECK(out[0].present && out[1].present && out[3].present);
  CAF_CHECK(!out[2].present);
  CAF_CHECK(!out[4].present);
  CAF_CHECK(!out[5].present);
  CAF_CHECK_EQUAL(out[3].hash.hex(), src.expected(3).hex());
  src.broken = {1};
  auto st = h.hash(ids, src, out);
  CAF_REQUIRE(!st.ok());
  CAF_CHECK_EQUAL(st.error().message, "cannot read piece 1");
  std::vector<piece_digest> too_few(2);
  CAF_CHECK(!h.hash(ids, src, too_few).ok());
}

CAF_TEST(in parallel every piece is hashed once with one progress call each) {
  const std::uint64_t plen = 32 * 1024;
  test_source src{plen * 100 + 1, plen};
  hash_settings hs;
  hs.piece_length = plen;
  hs.total_size = plen * 100 + 1;
  std::vector<std::size_t> ids;
  for (std::size_t p = 0; p <= 100; p += 3) // a subset, as the start-up check asks
    ids.push_back(p);
  ids.push_back(100);
  for (unsigned threads : {1u, 2u, 4u}) {
    std::vector<piece_digest> out(ids.size());
    std::atomic<std::size_t> calls{0};
    std::mutex m;
    std::size_t last_total = 0;
    auto st = hash_in_parallel(hs, ids, src, threads, out, [&](std::size_t, std::size_t total) {
      ++calls;
      std::lock_guard<std::mutex> g{m};
      last_total = total;
    });
    CAF_REQUIRE(st.ok());
    CAF_CHECK_EQUAL(calls.load(), ids.size());
    CAF_CHECK_EQUAL(last_total, ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      CAF_CHECK_EQUAL(out[i].hash.hex(), src.expected(ids[i]).hex());
  }
  src.broken = {51};
  std::vector<piece_digest> out(ids.size());
  auto st = hash_in_parallel(hs, ids, src, 2, out);
  CAF_REQUIRE(!st.ok());
  CAF_CHECK_EQUAL(st.error().message, "cannot read piece 51");
}

namespace {

int own_nice() {
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
}

// Records the thread and its nice value of every read.
struct watching_source final : piece_source {
  test_source& inner;
  std::mutex m;
  std::set<std::thread::id> threads;
  std::set<int> nices;
  explicit watching_source(test_source& s) : inner(s) {}
  result<bool> read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) override {
    {
      std::lock_guard<std::mutex> g{m};
      threads.insert(std::this_thread::get_id());
      nices.insert(own_nice());
    }
    return inner.read(piece, offset, out);
  }
};

} // namespace

CAF_TEST(background hashing runs on threads of its own at a lower priority) {
  const std::uint64_t plen = 1 << 20;
  const std::size_t pieces = background_min_bytes / plen + 1;
  test_source src{plen * pieces, plen};
  hash_settings hs;
  hs.piece_length = plen;
  hs.total_size = plen * pieces;
  std::vector<std::size_t> ids;
  for (std::size_t p = 0; p < pieces; ++p)
    ids.push_back(p);
  const int before = own_nice();
  for (unsigned threads : {1u, 2u}) {
    watching_source w{src};
    std::vector<piece_digest> out(ids.size());
    auto st = hash_in_parallel(hs, ids, w, threads, out, {}, 5);
    if (!st.ok())
      CAF_FAIL(st.error().message);
    for (std::size_t i = 0; i < ids.size(); ++i)
      CAF_CHECK_EQUAL(out[i].hash.hex(), src.expected(ids[i]).hex());
    CAF_CHECK_EQUAL(w.threads.count(std::this_thread::get_id()), 0u);
    CAF_CHECK(w.nices == std::set<int>{std::min(before + 5, 19)});
    CAF_CHECK_EQUAL(own_nice(), before); // the caller's own priority is untouched
  }
  // without a nice value, the caller hashes too, at its own priority; and so
  // it does with one for a job below background_min_bytes
  for (int nice : {0, 5}) {
    watching_source w{src};
    auto few = nice == 0 ? std::span<const std::size_t>{ids} : std::span<const std::size_t>{ids}.first(pieces - 2);
    std::vector<piece_digest> out(few.size());
    CAF_REQUIRE(hash_in_parallel(hs, few, w, 1, out, {}, nice).ok());
    CAF_CHECK_EQUAL(w.threads.size(), 1u);
    CAF_CHECK_EQUAL(w.threads.count(std::this_thread::get_id()), 1u);
    CAF_CHECK(w.nices == std::set<int>{before});
    CAF_CHECK_EQUAL(out.back().hash.hex(), src.expected(few.back()).hex());
  }
}

CAF_TEST(lanes never exceed the kernel and settings out of range are brought in) {
  hash_settings hs;
  hs.piece_length = 40000;
  hs.total_size = 1;
  hs.lanes = 64;
  hs.chunk = 1000;
  hs.memory_part = 100; // no multiple of 64: ignored
  batch_hasher h{hs};
  const std::size_t kernel_lanes = std::max<std::size_t>(1, sha1_lanes(sha1_default_kernel()));
  CAF_CHECK_LESS_OR_EQUAL(h.lanes(), kernel_lanes);
  CAF_CHECK_EQUAL(h.chunk(), 960u);
  hs.chunk = 1 << 20;
  batch_hasher whole{hs};
  CAF_CHECK_EQUAL(whole.chunk(), 40000u);
  hs.piece_length = 0;
  batch_hasher zero{hs};
  CAF_CHECK_EQUAL(zero.num_pieces(), 1u);
}
