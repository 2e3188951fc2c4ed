#define CAF_SUITE torrent_storage
#include <caf/test/unit_test.hpp>

#include "storage/torrent_storage.hpp"
#include "storage_test_util.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace actorrent;
using namespace actorrent::storage;
using namespace actorrent::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// Every path below `dir` (not following symlinks), relative to it.
std::set<std::string> tree(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator{dir, ec}; !ec && it != fs::recursive_directory_iterator{};
       it.increment(ec))
    out.insert(fs::relative(it->path(), dir).string());
  return out;
}

std::string read_piece(const torrent_storage& st, std::size_t piece) {
  std::string out(st.layout().piece_size(piece), '?');
  auto r = st.read(piece, 0, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()});
  return r ? out : "error: " + r.error().message;
}

} // namespace

CAF_TEST(blocks written in random order read back identical) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  CAF_REQUIRE_EQUAL(st.layout().num_pieces(), 9u);
  CAF_CHECK_EQUAL(st.layout().piece_size(8), 1696u);
  write_all(st, t);
  CAF_CHECK(st.flush().ok());
  std::string all;
  for (std::size_t p = 0; p < 9; ++p) {
    all += read_piece(st, p);
    CAF_CHECK(st.verify_piece(p));
    auto h = st.hash_piece(p);
    CAF_REQUIRE(h.ok());
    CAF_CHECK_EQUAL(h->hex(), t.mi.piece_hash(p).hex());
  }
  CAF_CHECK(all == t.content);
  // unaligned read across a and the pad file
  std::string mid(32000, '?');
  CAF_REQUIRE(st.read(1, 100, {reinterpret_cast<std::uint8_t*>(mid.data()), mid.size()}).ok());
  CAF_CHECK(mid == t.content.substr(32768 + 100, 32000));
  // the files on disk are the source bytes; pad files are not on disk
  for (const auto& f : t.mi.files) {
    if (f.pad || f.size == 0)
      continue;
    CAF_CHECK(slurp(tmp.path + "/" + f.path) == t.content.substr(f.offset, f.size));
  }
  CAF_CHECK(!fs::exists(tmp.path + "/name/.pad"));
  CAF_CHECK(!fs::exists(tmp.path + "/name/e1"));
  // empty files appear with create_all_files
  CAF_REQUIRE(st.create_all_files().ok());
  CAF_CHECK(fs::is_regular_file(tmp.path + "/name/e1"));
  CAF_CHECK(fs::is_regular_file(tmp.path + "/name/e2"));
  CAF_CHECK_EQUAL(fs::file_size(tmp.path + "/name/e2"), 0u);
  CAF_CHECK(!fs::exists(tmp.path + "/name/.pad"));
  CAF_CHECK_EQUAL(tree(tmp.path), (std::set<std::string>{"name", "name/a", "name/e1", "name/dir", "name/dir/b",
                                                         "name/e2", "name/c", "name/d"}));
  CAF_CHECK(st.flush().ok());
}

CAF_TEST(a piece written at once across files and empty and pad files) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  auto slices = st.layout().map_block(4, 0, 32768);
  CAF_REQUIRE(slices.ok());
  CAF_CHECK_EQUAL(slices->size(), 3u); // b, c, pad (e2 has no bytes)
  CAF_REQUIRE(st.write(4, 0, bytes(t.content, 4 * 32768, 32768)).ok());
  CAF_CHECK(st.verify_piece(4));
  CAF_CHECK(read_piece(st, 4) == t.content.substr(4 * 32768, 32768));
  // files are created sparse at their full size
  CAF_CHECK_EQUAL(fs::file_size(tmp.path + "/name/dir/b"), 70000u);
  CAF_CHECK_EQUAL(fs::file_size(tmp.path + "/name/c"), 5u);
  CAF_CHECK(!fs::exists(tmp.path + "/name/a"));
  struct stat sb {};
  CAF_REQUIRE(::stat((tmp.path + "/name/dir/b").c_str(), &sb) == 0);
  CAF_CHECK_LESS(static_cast<std::uint64_t>(sb.st_blocks) * 512, 70000u); // sparse
  // a piece whose bytes were never written does not verify
  CAF_CHECK(!st.verify_piece(3));
  CAF_CHECK(read_piece(st, 3) == std::string(32768, '\0'));
}

CAF_TEST(check_existing on complete data) {
  temp_dir tmp;
  auto t = sample_torrent();
  {
    auto st = open_storage(t, tmp.path);
    write_all(st, t);
    CAF_REQUIRE(st.flush().ok());
  }
  auto st = open_storage(t, tmp.path);
  std::mutex mtx;
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  auto r = st.check_existing(2, [&](std::size_t done, std::size_t total) {
    std::lock_guard<std::mutex> g{mtx};
    calls.emplace_back(done, total);
  });
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "111111111");
  CAF_REQUIRE_EQUAL(calls.size(), 9u);
  std::sort(calls.begin(), calls.end());
  CAF_CHECK_EQUAL(calls.back().first, 9u);
  CAF_CHECK_EQUAL(calls.back().second, 9u);
  CAF_CHECK_EQUAL(calls.front().first, 1u);
  // one thread gives the same answer
  auto r1 = st.check_existing(1);
  CAF_REQUIRE(r1.ok());
  CAF_CHECK_EQUAL(pieces_str(*r1), "111111111");
}

CAF_TEST(check_existing finds one corrupted byte) {
  temp_dir tmp;
  auto t = sample_torrent();
  {
    auto st = open_storage(t, tmp.path);
    write_all(st, t);
  }
  // byte 40000 of d is torrent byte 163840 + 40000 = 203840, in piece 6
  {
    std::fstream f{tmp.path + "/name/d", std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(40000);
    f.put(static_cast<char>(t.content[203840] ^ 0x01));
  }
  auto st = open_storage(t, tmp.path);
  auto r = st.check_existing(2);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "111111011");
  CAF_CHECK(!st.verify_piece(6));
  CAF_CHECK(st.verify_piece(5));
}

CAF_TEST(check_existing treats missing and short files as missing pieces) {
  temp_dir tmp;
  auto t = sample_torrent();
  {
    auto st = open_storage(t, tmp.path);
    write_all(st, t);
    CAF_REQUIRE(st.create_all_files().ok());
  }
  // b covers torrent bytes [65536, 135536): pieces 2, 3 and 4
  fs::remove(tmp.path + "/name/dir/b");
  // d cut to 50000 bytes: piece 5 (d's first 32768 bytes) is still complete
  fs::resize_file(tmp.path + "/name/d", 50000);
  const auto before = tree(tmp.path);
  auto st = open_storage(t, tmp.path);
  auto r = st.check_existing(2);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "110001000");
  CAF_CHECK(tree(tmp.path) == before);
  CAF_CHECK(!fs::exists(tmp.path + "/name/dir/b"));
  CAF_CHECK_EQUAL(fs::file_size(tmp.path + "/name/d"), 50000u);
  // reading the missing file names it
  CAF_CHECK_EQUAL(read_piece(st, 2), "error: cannot open " + tmp.path + "/name/dir/b: No such file or directory");
  CAF_CHECK_EQUAL(error_of(st.hash_piece(6)),
                  "unexpected end of file in " + tmp.path + "/name/d at offset 50000");
  // the whole directory tree missing: all false, nothing created
  fs::remove_all(tmp.path + "/name");
  auto r2 = st.check_existing(2);
  CAF_REQUIRE(r2.ok());
  CAF_CHECK_EQUAL(pieces_str(*r2), "000000000");
  CAF_CHECK(tree(tmp.path).empty());
}

CAF_TEST(a symlink in the download directory is never followed) {
  temp_dir tmp;
  temp_dir outside;
  auto t = sample_torrent();
  const auto root = tmp.path + "/dl";
  auto st = open_storage(t, root);
  // root/name -> outside
  CAF_REQUIRE(::symlink(outside.path.c_str(), (root + "/name").c_str()) == 0);
  const auto msg = root + "/name is a symbolic link; refusing to follow it";
  CAF_CHECK_EQUAL(error_of(st.write(0, 0, bytes(t.content, 0, 16384))), msg);
  CAF_CHECK_EQUAL(error_of(st.create_all_files()), msg);
  CAF_CHECK_EQUAL(error_of(st.check_existing(2)), msg);
  CAF_CHECK_EQUAL(read_piece(st, 0), "error: " + msg);
  CAF_CHECK(tree(outside.path).empty());
  // root/name/dir -> outside, deeper down
  fs::remove(root + "/name");
  fs::create_directory(root + "/name");
  CAF_REQUIRE(::symlink(outside.path.c_str(), (root + "/name/dir").c_str()) == 0);
  CAF_CHECK_EQUAL(error_of(st.write(2, 0, bytes(t.content, 65536, 16384))),
                  root + "/name/dir is a symbolic link; refusing to follow it");
  CAF_CHECK(tree(outside.path).empty());
  // a file that is a symlink to an outside file, and a dangling one
  {
    std::ofstream f{outside.path + "/victim"};
    f << "keep";
  }
  CAF_REQUIRE(::symlink((outside.path + "/victim").c_str(), (root + "/name/a").c_str()) == 0);
  CAF_REQUIRE(::symlink((outside.path + "/new").c_str(), (root + "/name/c").c_str()) == 0);
  CAF_CHECK_EQUAL(error_of(st.write(0, 0, bytes(t.content, 0, 16384))),
                  root + "/name/a is a symbolic link; refusing to follow it");
  CAF_CHECK_EQUAL(error_of(st.write(4, 4464, bytes(t.content, 4 * 32768 + 4464, 5))),
                  root + "/name/c is a symbolic link; refusing to follow it");
  CAF_CHECK_EQUAL(slurp(outside.path + "/victim"), "keep");
  CAF_CHECK(!fs::exists(outside.path + "/new"));
  CAF_CHECK_EQUAL(tree(outside.path), (std::set<std::string>{"victim"}));
  CAF_CHECK(!st.verify_piece(0));
}

CAF_TEST(non-zero pad bytes are rejected before writing) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  // piece 1 is a's bytes [32768, 37000) then pad
  std::string block = t.content.substr(32768, 16384);
  block[5000] = 'x';
  auto r = st.write(1, 0, bytes(block, 0, block.size()));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "non-zero data in pad file 2 at piece 1 offset 5000");
  CAF_CHECK_EQUAL(r.error().offset, 5000u);
  CAF_CHECK(!fs::exists(tmp.path + "/name")); // nothing was written
  CAF_CHECK_EQUAL(error_of(st.layout().check_pad(1, 0, bytes(block, 0, block.size()))), r.error().message);
  // out-of-range blocks
  CAF_CHECK_EQUAL(error_of(st.write(9, 0, bytes(block, 0, 1))), "piece index 9 out of range (9 pieces)");
  CAF_CHECK_EQUAL(error_of(st.write(8, 1000, bytes(block, 0, 1000))),
                  "block at offset 1000 with length 1000 exceeds piece 8 of size 1696");
}

CAF_TEST(i/o errors name the file) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  // a directory where a file belongs
  fs::create_directories(tmp.path + "/name/a");
  CAF_CHECK_EQUAL(error_of(st.write(0, 0, bytes(t.content, 0, 16384))),
                  "cannot open " + tmp.path + "/name/a: Is a directory");
  // a file where a directory belongs
  {
    std::ofstream f{tmp.path + "/name/dir"};
  }
  CAF_CHECK_EQUAL(error_of(st.write(2, 0, bytes(t.content, 65536, 16384))),
                  "cannot open " + tmp.path + "/name/dir: Not a directory");
  CAF_CHECK_EQUAL(error_of(st.check_existing(1)), "cannot open " + tmp.path + "/name/a: Is a directory");
  // a FIFO is not a regular file (and opening it does not block)
  CAF_REQUIRE(::mkfifo((tmp.path + "/name/c").c_str(), 0644) == 0);
  CAF_CHECK_EQUAL(error_of(st.write(4, 4464, bytes(t.content, 4 * 32768 + 4464, 5))),
                  tmp.path + "/name/c is not a regular file");
  // a download directory that cannot be created
  CAF_CHECK_EQUAL(error_of(torrent_storage::open(t.mi, tmp.path + "/name/dir/sub")),
                  "cannot open download directory " + tmp.path + "/name/dir/sub: Not a directory");
}

CAF_TEST(unsafe paths are refused) {
  CAF_CHECK(validate_relative_path("name/a/b.txt").ok());
  CAF_CHECK(validate_relative_path("a..b/..c").ok());
  CAF_CHECK_EQUAL(error_of(validate_relative_path("../x")), "unsafe path \"../x\": '..' component");
  CAF_CHECK_EQUAL(error_of(validate_relative_path("a/../../x")), "unsafe path \"a/../../x\": '..' component");
  CAF_CHECK_EQUAL(error_of(validate_relative_path("/etc/passwd")), "unsafe path \"/etc/passwd\": absolute");
  CAF_CHECK_EQUAL(error_of(validate_relative_path("a//b")), "unsafe path \"a//b\": empty component");
  CAF_CHECK_EQUAL(error_of(validate_relative_path("a/")), "unsafe path \"a/\": empty component");
  CAF_CHECK_EQUAL(error_of(validate_relative_path("./a")), "unsafe path \"./a\": '.' component");
  CAF_CHECK_EQUAL(error_of(validate_relative_path(std::string_view{"a\0b", 3})),
                  std::string{"unsafe path \"a"} + '\0' + "b\": NUL byte");
  CAF_CHECK_EQUAL(error_of(validate_relative_path("")), "empty path");
  temp_dir tmp;
  auto t = make_torrent({{"name/ok", 10}, {"name/../../evil", 10}}, 16);
  CAF_CHECK_EQUAL(error_of(torrent_storage::open(t.mi, tmp.path)),
                  "file 1: unsafe path \"name/../../evil\": '..' component");
  t = make_torrent({{"/tmp/evil", 10}}, 16);
  CAF_CHECK_EQUAL(error_of(torrent_storage::open(t.mi, tmp.path)), "file 0: unsafe path \"/tmp/evil\": absolute");
  CAF_CHECK_EQUAL(error_of(torrent_storage::open(make_torrent({{"ok", 10}}, 16).mi, "")),
                  "empty download directory path");
  // pad file labels are never opened, so they are not checked
  t = make_torrent({{"name/a", 10}, {"../pad", 6, true}, {"name/b", 16}}, 16);
  CAF_CHECK(torrent_storage::open(t.mi, tmp.path).ok());
  CAF_CHECK(tree(tmp.path).empty());
}

CAF_TEST(the descriptor cache stays bounded) {
  temp_dir tmp;
  std::vector<spec> files;
  for (int i = 0; i < 10; ++i)
    files.push_back({"name/f" + std::to_string(i), 1000});
  auto t = make_torrent(files, 1024, 3);
  storage_options opts;
  opts.max_open_files = 3;
  auto st = open_storage(t, tmp.path + "/x/y", opts); // root and parents are created
  CAF_CHECK(fs::is_directory(tmp.path + "/x/y"));
  write_all(st, t);
  CAF_CHECK_LESS_OR_EQUAL(st.open_file_count(), 3u);
  CAF_CHECK(st.flush().ok()); // reopens evicted files to sync them
  CAF_CHECK_LESS_OR_EQUAL(st.open_file_count(), 3u);
  for (std::size_t p = 0; p < st.layout().num_pieces(); ++p)
    CAF_CHECK(st.verify_piece(p));
  auto r = st.check_existing(2);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "1111111111");
  CAF_CHECK_LESS_OR_EQUAL(st.open_file_count(), 3u);
  st.close_files();
  CAF_CHECK_EQUAL(st.open_file_count(), 0u);
  CAF_CHECK(st.verify_piece(9));
}

CAF_TEST(concurrent hashing of different pieces) {
  temp_dir tmp;
  auto t = sample_torrent();
  storage_options opts;
  opts.max_open_files = 1; // forces eviction while the other thread reads
  auto st = open_storage(t, tmp.path, opts);
  write_all(st, t);
  std::atomic<int> bad{0};
  auto run = [&](std::size_t first) {
    for (int round = 0; round < 20; ++round)
      for (std::size_t p = first; p < 9; p += 2)
        if (!st.verify_piece(p))
          ++bad;
  };
  std::thread other{run, 1};
  run(0);
  other.join();
  CAF_CHECK_EQUAL(bad.load(), 0);
}

CAF_TEST(single-file torrent) {
  temp_dir tmp;
  auto t = make_torrent({{"single.bin", 50001}}, 16384, 9);
  auto st = open_storage(t, tmp.path);
  auto r0 = st.check_existing(2);
  CAF_REQUIRE(r0.ok());
  CAF_CHECK_EQUAL(pieces_str(*r0), "0000");
  CAF_CHECK(tree(tmp.path).empty());
  write_all(st, t, 11);
  CAF_CHECK(slurp(tmp.path + "/single.bin") == t.content);
  auto r = st.check_existing(0);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "1111");
}

// --select-file: m/f1 | m/f2 | m/f3 in 32 KiB pieces (5 pieces, the last one
// 22,262 bytes); only f2 selected, so pieces 1 and 3 straddle a boundary.
namespace {

torrent three_files() { return make_torrent({{"m/f1", 50000}, {"m/f2", 70001}, {"m/f3", 33333}}, 32768, 21); }

void write_piece(torrent_storage& st, const torrent& t, std::size_t p) {
  const auto& l = st.layout();
  for (std::uint64_t off = 0; off < l.piece_size(p); off += 16384) {
    auto len = std::min<std::uint64_t>(16384, l.piece_size(p) - off);
    CAF_REQUIRE_EQUAL(error_of(st.write(p, off, bytes(t.content, p * l.piece_length() + off, len))), "ok");
  }
}

} // namespace

CAF_TEST(skipped files are never created: their bytes of boundary pieces go to the part file) {
  temp_dir tmp;
  auto t = three_files();
  auto st = open_storage(t, tmp.path);
  CAF_REQUIRE_EQUAL(error_of(st.skip_files({true, false, true}, ".actorrent/h.parts")), "ok");
  for (std::size_t p : {1u, 2u, 3u})
    write_piece(st, t, p);
  CAF_CHECK_EQUAL(error_of(st.create_all_files()), "ok");
  CAF_CHECK_EQUAL(error_of(st.flush()), "ok");
  CAF_CHECK_EQUAL(tree(tmp.path), (std::set<std::string>{".actorrent", ".actorrent/h.parts", "m", "m/f2"}));
  CAF_CHECK(slurp(tmp.path + "/m/f2") == t.content.substr(50000, 70001));
  // the part file holds the unselected bytes at their torrent offsets
  auto part = slurp(tmp.path + "/.actorrent/h.parts");
  CAF_REQUIRE_EQUAL(part.size(), 131072u); // up to the end of piece 3
  CAF_CHECK(part.substr(32768, 50000 - 32768) == t.content.substr(32768, 50000 - 32768));
  CAF_CHECK(part.substr(120001, 131072 - 120001) == t.content.substr(120001, 131072 - 120001));
  CAF_CHECK(part.substr(50000, 70001) == std::string(70001, '\0')); // f2's bytes are not in it
  // reads and hashes see the whole pieces
  for (std::size_t p : {1u, 2u, 3u}) {
    CAF_CHECK(read_piece(st, p) == t.content.substr(p * 32768, 32768));
    CAF_CHECK(st.verify_piece(p));
  }
  // piece 0 (f1 only) reads as the part file's hole; piece 4 is past its end
  CAF_CHECK(!st.verify_piece(0));
  CAF_CHECK(!st.verify_piece(4));
  auto r = st.check_existing(2);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "01110");
  // skipped files count as absent for resume data, whatever is on disk
  auto stamps = st.file_stamps();
  CAF_REQUIRE(stamps.ok());
  CAF_CHECK(!(*stamps)[0].exists);
  CAF_CHECK((*stamps)[1].exists);
  CAF_CHECK(!(*stamps)[2].exists);
  CAF_CHECK_EQUAL(error_of(st.truncate_to_size(0)), "ok");
  CAF_CHECK(!fs::exists(tmp.path + "/m/f1"));
  // without the part file the boundary pieces are missing, the inner one is not
  st.close_files();
  fs::remove(tmp.path + "/.actorrent/h.parts");
  auto r2 = st.check_existing(1);
  CAF_REQUIRE(r2.ok());
  CAF_CHECK_EQUAL(pieces_str(*r2), "00100");
  CAF_CHECK(!fs::exists(tmp.path + "/.actorrent/h.parts")); // the check creates nothing
}

CAF_TEST(a file that is not selected is ignored even when it exists) {
  temp_dir tmp;
  auto t = three_files();
  {
    auto full = open_storage(t, tmp.path);
    write_all(full, t);
  }
  auto before = slurp(tmp.path + "/m/f1");
  auto st = open_storage(t, tmp.path);
  CAF_REQUIRE_EQUAL(error_of(st.skip_files({true, false, true}, ".actorrent/h.parts")), "ok");
  auto r = st.check_existing(1);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(pieces_str(*r), "00100"); // boundary pieces need the part file
  write_piece(st, t, 1);
  CAF_CHECK(slurp(tmp.path + "/m/f1") == before); // never opened, let alone written
  CAF_CHECK(st.verify_piece(1));
}

CAF_TEST(skip_files refuses a wrong mask and an unsafe part file path) {
  temp_dir tmp;
  auto t = three_files();
  auto st = open_storage(t, tmp.path);
  CAF_CHECK_NOT_EQUAL(error_of(st.skip_files({true, false}, ".actorrent/h.parts")), "ok");
  CAF_CHECK_NOT_EQUAL(error_of(st.skip_files({true, false, true}, "../h.parts")), "ok");
  CAF_CHECK_NOT_EQUAL(error_of(st.skip_files({true, false, true}, "/tmp/h.parts")), "ok");
}

CAF_TEST(the part file is not reached through a symbolic link) {
  temp_dir tmp;
  temp_dir outside;
  auto t = three_files();
  auto st = open_storage(t, tmp.path);
  fs::create_symlink(outside.path, tmp.path + "/.actorrent");
  CAF_REQUIRE_EQUAL(error_of(st.skip_files({true, false, true}, ".actorrent/h.parts")), "ok");
  auto w = st.write(1, 0, bytes(t.content, 32768, 16384));
  CAF_CHECK_NOT_EQUAL(error_of(w), "ok");
  CAF_CHECK(tree(outside.path).empty());
}

// ---- map_range: uploads served from read-only mappings (issue 15) ----------

CAF_TEST(map_range views a block in one file and declines what it cannot map) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  // nothing on disk yet: no mapping (a read names the missing file instead)
  CAF_CHECK(!st.map_range(0, 0, 16384));
  write_all(st, t);
  auto m = st.map_range(0, 16384, 16384);
  CAF_REQUIRE(m);
  // just written, so in the page cache: resident without being mapped in
  CAF_CHECK(resident_pages(m->data, 16384));
  CAF_REQUIRE(populate_pages(m->data, 16384));
  std::string got(16384, '?');
  CAF_REQUIRE(copy_mapped(got.data(), m->data, got.size()));
  CAF_CHECK(got == t.content.substr(16384, 16384));
  // piece 4 spans b, c and a pad file: not one range of one file
  CAF_CHECK(!st.map_range(4, 0, 32768));
  // blocks outside their piece are refused
  CAF_CHECK(!st.map_range(0, 32768 - 100, 200));
  // a later write shows through the mapping (one page cache)
  std::string other(16384, 'x');
  CAF_REQUIRE(st.write(0, 16384, bytes(other, 0, other.size())).ok());
  CAF_REQUIRE(copy_mapped(got.data(), m->data, got.size()));
  CAF_CHECK(got == other);
}

CAF_TEST(a mapped file cut short fails the copy instead of killing the process) {
  temp_dir tmp;
  auto t = make_torrent({{"single.bin", 3 * 16384}}, 16384, 5);
  auto st = open_storage(t, tmp.path);
  write_all(st, t);
  auto m = st.map_range(2, 0, 16384);
  CAF_REQUIRE(m);
  CAF_REQUIRE(::truncate((tmp.path + "/single.bin").c_str(), 4096) == 0);
  std::string got(16384, '?');
  CAF_CHECK(!copy_mapped(got.data(), m->data, got.size())); // SIGBUS, caught
  CAF_CHECK(!populate_pages(m->data, 16384));
  CAF_CHECK(!resident_pages(m->data, 16384)); // beyond the end: no cached page, so the disk actor tries populate
  // bytes still in the file read fine
  auto first = st.map_range(0, 0, 4096);
  CAF_REQUIRE(first);
  CAF_CHECK(copy_mapped(got.data(), first->data, 4096));
  CAF_CHECK(got.substr(0, 4096) == t.content.substr(0, 4096));
  // close_files drops the mapping: the short file is no longer mapped
  st.close_files();
  CAF_CHECK(!st.map_range(2, 0, 16384));
}
