#define CAF_SUITE file_layout
#include <caf/test/unit_test.hpp>

#include "storage/file_layout.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::storage;

namespace {

struct spec {
  std::string path;
  std::uint64_t size;
  bool pad = false;
};

// A metainfo with the given files laid end to end and dummy piece hashes.
metainfo make_meta(const std::vector<spec>& files, std::uint64_t piece_length) {
  metainfo mi;
  mi.name = "t";
  mi.multi_file = true;
  mi.piece_length = piece_length;
  std::uint64_t pos = 0;
  for (const auto& s : files) {
    file_entry fe;
    fe.path = s.path;
    fe.size = s.size;
    fe.offset = pos;
    fe.pad = s.pad;
    pos += s.size;
    mi.files.push_back(fe);
  }
  mi.total_size = pos;
  mi.piece_hashes.assign((pos + piece_length - 1) / piece_length * 20, 'x');
  return mi;
}

file_layout make_layout(const std::vector<spec>& files, std::uint64_t piece_length) {
  auto l = file_layout::create(make_meta(files, piece_length));
  CAF_REQUIRE(l.ok());
  return std::move(*l);
}

// "file:offset+length" per slice, "p" marks pad slices, "@n" the buffer offset
// when it is not the running sum.
std::string str(const std::vector<file_slice>& slices) {
  std::string out;
  std::uint64_t expect = 0;
  for (const auto& s : slices) {
    if (!out.empty())
      out += ' ';
    out += std::to_string(s.file_index) + ':' + std::to_string(s.file_offset) + '+' + std::to_string(s.length);
    if (s.pad)
      out += 'p';
    if (s.buffer_offset != expect)
      out += '@' + std::to_string(s.buffer_offset);
    expect = s.buffer_offset + s.length;
  }
  return out;
}

std::string map(const file_layout& l, std::size_t piece, std::uint64_t off, std::uint64_t len) {
  auto r = l.map_block(piece, off, len);
  return r ? str(*r) : "error: " + r.error().message;
}

} // namespace

CAF_TEST(pad files map as pad slices) {
  // a(10) pad(6) | b(16) | c(5): pieces of 16, 16 and 5 bytes
  auto l = make_layout({{"t/a", 10}, {"t/.pad/6", 6, true}, {"t/b", 16}, {"t/c", 5}}, 16);
  CAF_CHECK_EQUAL(l.num_pieces(), 3u);
  CAF_CHECK_EQUAL(l.total_size(), 37u);
  CAF_CHECK_EQUAL(l.piece_size(0), 16u);
  CAF_CHECK_EQUAL(l.piece_size(2), 5u);
  CAF_CHECK_EQUAL(l.piece_size(3), 0u);
  CAF_CHECK_EQUAL(map(l, 0, 0, 16), "0:0+10 1:0+6p");
  CAF_CHECK_EQUAL(map(l, 0, 12, 4), "1:2+4p");
  CAF_CHECK_EQUAL(map(l, 1, 0, 16), "2:0+16");
  CAF_CHECK_EQUAL(map(l, 2, 0, 5), "3:0+5");
  CAF_CHECK_EQUAL(map(l, 0, 8, 0), "");
  auto slices = l.map_block(0, 8, 8);
  CAF_REQUIRE(slices.ok());
  CAF_REQUIRE_EQUAL(slices->size(), 2u);
  CAF_CHECK_EQUAL((*slices)[1].buffer_offset, 2u);
  CAF_CHECK((*slices)[1].pad);
  CAF_CHECK(!(*slices)[0].pad);
}

CAF_TEST(empty files in the middle take no bytes) {
  auto l = make_layout({{"t/a", 10}, {"t/e1", 0}, {"t/e2", 0}, {"t/b", 20}, {"t/e3", 0}}, 8);
  CAF_CHECK_EQUAL(map(l, 0, 0, 8), "0:0+8");
  CAF_CHECK_EQUAL(map(l, 1, 0, 8), "0:8+2 3:0+6");
  CAF_CHECK_EQUAL(map(l, 3, 0, 6), "3:14+6");
  CAF_CHECK_EQUAL(l.file_pieces(1).first, l.file_pieces(1).end);
  CAF_CHECK_EQUAL(l.file_pieces(0).first, 0u);
  CAF_CHECK_EQUAL(l.file_pieces(0).end, 2u);
  CAF_CHECK_EQUAL(l.file_pieces(3).first, 1u);
  CAF_CHECK_EQUAL(l.file_pieces(3).end, 4u);
  // leading empty files
  auto l2 = make_layout({{"t/e0", 0}, {"t/a", 3}, {"t/e1", 0}}, 2);
  CAF_CHECK_EQUAL(map(l2, 0, 0, 2), "1:0+2");
  CAF_CHECK_EQUAL(map(l2, 1, 0, 1), "1:2+1");
}

CAF_TEST(last piece shorter than the rest) {
  auto l = make_layout({{"t", 100}}, 32);
  CAF_CHECK_EQUAL(l.num_pieces(), 4u);
  CAF_CHECK_EQUAL(l.piece_size(3), 4u);
  CAF_CHECK_EQUAL(map(l, 3, 0, 4), "0:96+4");
  CAF_CHECK_EQUAL(map(l, 3, 0, 32), "error: block at offset 0 with length 32 exceeds piece 3 of size 4");
  CAF_CHECK_EQUAL(map(l, 3, 5, 0), "error: block at offset 5 with length 0 exceeds piece 3 of size 4");
  CAF_CHECK_EQUAL(map(l, 4, 0, 1), "error: piece index 4 out of range (4 pieces)");
  CAF_CHECK_EQUAL(map(l, 0, UINT64_MAX, 2), "error: block at offset 18446744073709551615 with length 2 "
                                            "exceeds piece 0 of size 32");
  CAF_CHECK_EQUAL(map(l, 0, 1, UINT64_MAX), "error: block at offset 1 with length 18446744073709551615 "
                                            "exceeds piece 0 of size 32");
  // map_range clamps at the end
  CAF_CHECK_EQUAL(str(l.map_range(90, 100)), "0:90+10");
  CAF_CHECK_EQUAL(str(l.map_range(100, 1)), "");
}

CAF_TEST(block spanning three files) {
  auto l = make_layout({{"t/a", 5}, {"t/b", 3}, {"t/c", 10}}, 16);
  CAF_CHECK_EQUAL(map(l, 0, 2, 10), "0:2+3 1:0+3 2:0+4");
  auto s = l.map_block(0, 2, 10);
  CAF_REQUIRE(s.ok());
  CAF_REQUIRE_EQUAL(s->size(), 3u);
  CAF_CHECK_EQUAL((*s)[0].buffer_offset, 0u);
  CAF_CHECK_EQUAL((*s)[1].buffer_offset, 3u);
  CAF_CHECK_EQUAL((*s)[2].buffer_offset, 6u);
  CAF_CHECK_EQUAL(map(l, 1, 0, 2), "2:8+2");
}

CAF_TEST(non-zero pad bytes are reported) {
  auto l = make_layout({{"t/a", 10}, {"t/.pad/6", 6, true}, {"t/b", 16}}, 16);
  std::vector<std::uint8_t> block(16, 0xAB);
  std::fill(block.begin() + 10, block.end(), 0);
  CAF_CHECK(l.check_pad(0, 0, block).ok());
  block[13] = 1;
  auto st = l.check_pad(0, 0, block);
  CAF_REQUIRE(!st.ok());
  CAF_CHECK_EQUAL(st.error().message, "non-zero data in pad file 1 at piece 0 offset 13");
  CAF_CHECK_EQUAL(st.error().offset, 13u);
  // a block starting inside the pad file
  std::vector<std::uint8_t> tail(4, 0);
  tail[3] = 7;
  st = l.check_pad(0, 12, tail);
  CAF_REQUIRE(!st.ok());
  CAF_CHECK_EQUAL(st.error().message, "non-zero data in pad file 1 at piece 0 offset 15");
  CAF_CHECK_EQUAL(st.error().offset, 3u);
  // non-zero bytes in real files are fine
  std::vector<std::uint8_t> real(16, 0xFF);
  CAF_CHECK(l.check_pad(1, 0, real).ok());
  auto oob = l.check_pad(1, 1, real);
  CAF_REQUIRE(!oob.ok());
  CAF_CHECK_EQUAL(oob.error().message, "block at offset 1 with length 16 exceeds piece 1 of size 16");
}

CAF_TEST(inconsistent metainfo is rejected) {
  auto mi = make_meta({{"t/a", 10}, {"t/b", 6}}, 4);
  mi.files[1].offset = 9;
  CAF_CHECK_EQUAL(file_layout::create(mi).error().message, "file 1 has offset 9, expected 10");
  mi = make_meta({{"t/a", 10}, {"t/b", 6}}, 4);
  mi.total_size = 17;
  CAF_CHECK_EQUAL(file_layout::create(mi).error().message, "file sizes add up to 16, not total size 17");
  mi = make_meta({{"t/a", 10}, {"t/b", 6}}, 4);
  mi.piece_hashes.resize(60);
  CAF_CHECK_EQUAL(file_layout::create(mi).error().message, "incorrect number of piece hashes: 3 for 4 pieces");
  mi = make_meta({{"t/a", 10}}, 4);
  mi.piece_length = 0;
  CAF_CHECK_EQUAL(file_layout::create(mi).error().message, "piece length must be positive");
  mi = make_meta({{"t/a", 0}}, 4);
  CAF_CHECK_EQUAL(file_layout::create(mi).error().message, "torrent has no data (total size 0)");
  mi = make_meta({{"t/a", 10}, {"t/l", 3}}, 4);
  mi.files[1].symlink = true;
  CAF_CHECK_EQUAL(file_layout::create(mi).error().message, "symlink file 1 has non-zero size 3");
}

CAF_TEST(binary search agrees with a linear scan) {
  std::mt19937_64 rng{42};
  std::vector<spec> files;
  for (int i = 0; i < 500; ++i) {
    auto kind = rng() % 4;
    std::uint64_t size = kind == 0 ? 0 : 1 + rng() % (kind == 1 ? 3 : 200);
    files.push_back({"t/f" + std::to_string(i), size, kind == 3});
  }
  files.push_back({"t/last", 1});
  const std::uint64_t plen = 64;
  auto l = make_layout(files, plen);
  for (int round = 0; round < 2000; ++round) {
    const auto start = rng() % l.total_size();
    const auto len = 1 + rng() % 300;
    auto got = l.map_range(start, len);
    // linear reference
    std::vector<file_slice> want;
    const auto end = std::min(l.total_size(), start + len);
    for (std::size_t i = 0; i < l.num_files(); ++i) {
      const auto& f = l.file(i);
      const auto b = std::max(start, f.offset);
      const auto e = std::min(end, f.offset + f.size);
      if (b < e)
        want.push_back({i, b - f.offset, e - b, b - start, f.pad});
    }
    CAF_REQUIRE_EQUAL(str(got), str(want));
    CAF_REQUIRE(got == want);
  }
  // every piece maps to exactly its size
  for (std::size_t p = 0; p < l.num_pieces(); ++p) {
    auto s = l.map_block(p, 0, l.piece_size(p));
    CAF_REQUIRE(s.ok());
    std::uint64_t sum = 0;
    for (auto& x : *s)
      sum += x.length;
    CAF_REQUIRE_EQUAL(sum, l.piece_size(p));
  }
}
