#define CAF_SUITE piece_hasher
#include <caf/test/unit_test.hpp>

#include "storage/piece_hasher.hpp"
#include "storage_test_util.hpp"

#include <atomic>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::storage;

namespace {

// Files of random bytes (and one pad source of zeroes) laid end to end; the
// expected piece hashes come from OpenSSL over the concatenation.
struct content {
  actorrent::test::temp_dir dir;
  std::vector<hash_source> sources;
  std::string all;

  explicit content(const std::vector<std::uint64_t>& sizes) {
    std::mt19937_64 rng{sizes.size()};
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      std::string bytes(sizes[i], '\0');
      bool pad = i == 1; // the second source is a pad file: zeroes, no path
      if (!pad)
        for (auto& c : bytes)
          c = static_cast<char>(rng());
      hash_source src;
      src.size = sizes[i];
      if (!pad) {
        src.path = dir.path + "/f" + std::to_string(i);
        std::ofstream{src.path, std::ios::binary} << bytes;
      }
      sources.push_back(src);
      all += bytes;
    }
  }

  std::vector<std::string> expected(std::uint64_t piece_length) const {
    std::vector<std::string> out;
    for (std::size_t off = 0; off < all.size(); off += piece_length)
      out.push_back(sha1(std::string_view{all}.substr(off, piece_length)).hex());
    return out;
  }
};

std::vector<std::string> hexes(const std::vector<sha1_hash>& hs) {
  std::vector<std::string> out;
  for (auto& h : hs)
    out.push_back(h.hex());
  return out;
}

} // namespace

CAF_TEST(pieces of every shape hash as OpenSSL hashes the concatenation) {
  // (piece length, file sizes): full lane groups with a short last piece,
  // pieces bigger than one 256 KiB read, lengths that are no multiple of 64,
  // an exact multiple (no short piece)
  const std::vector<std::pair<std::uint64_t, std::vector<std::uint64_t>>> cases = {
    {16 * 1024, {300000, 16384, 100001}},
    {512 * 1024, {1500000, 4096, 2000000}},
    {40000, {123457, 1000, 777777}},
    {32 * 1024, {32768 * 20, 32768, 32768 * 3}},
  };
  for (auto& [plen, sizes] : cases)
    for (unsigned threads : {1u, 2u}) {
      content c{sizes};
      hash_options opts;
      opts.piece_length = plen;
      opts.threads = threads;
      std::atomic<std::size_t> calls{0}; // (called from the worker threads)
      opts.progress = [&](std::size_t, std::size_t) { ++calls; }; // one call a piece
      auto got = hash_pieces(c.sources, opts);
      CAF_REQUIRE(got.ok());
      CAF_CHECK_EQUAL(hexes(*got), c.expected(plen));
      CAF_CHECK_EQUAL(calls.load(), got->size());
    }
}

CAF_TEST(a file shorter than stated is an error naming it) {
  content c{{100000, 1000, 50000}};
  c.sources[2].size = 60000;
  hash_options opts;
  opts.piece_length = 16 * 1024;
  auto got = hash_pieces(c.sources, opts);
  CAF_REQUIRE(!got.ok());
  CAF_CHECK(got.error().message.find("f2 is shorter than expected") != std::string::npos);
}
