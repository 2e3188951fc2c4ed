#define CAF_SUITE metainfo
#include <caf/test/unit_test.hpp>

#include "protocol/bencode.hpp"
#include "protocol/metainfo.hpp"
#include "protocol/metainfo_writer.hpp"

using namespace actorrent;
using namespace std::literals;

namespace {

std::string hashes(std::size_t n) { return std::string(20 * n, 'h'); }

// A multi-file info dict of the given files (path lists, sizes).
bencode::dict multi_info(std::vector<std::pair<bencode::list, std::int64_t>> files,
                         std::int64_t piece_length = 16384) {
  std::int64_t total = 0;
  bencode::list fl;
  for (auto& [path, size] : files) {
    fl.emplace_back(bencode::dict{{"length", size}, {"path", path}});
    total += size;
  }
  auto pieces = static_cast<std::size_t>((total + piece_length - 1) / piece_length);
  return bencode::dict{{"name", "root"}, {"piece length", piece_length},
                       {"pieces", hashes(pieces)}, {"files", std::move(fl)}};
}

result<metainfo> parse(bencode::dict root) { return parse_metainfo(bencode::encode(root)); }

result<metainfo> parse_info(bencode::dict info) {
  return parse(bencode::dict{{"info", std::move(info)}});
}

std::vector<std::string> paths(const metainfo& mi) {
  std::vector<std::string> out;
  for (auto& f : mi.files)
    out.push_back(f.path);
  return out;
}

} // namespace

CAF_TEST(single file torrent and info hash over the raw bytes) {
  // keys of `info` deliberately unsorted: the hash must cover these exact bytes
  std::string info = "d6:lengthi40000e4:name5:a.bin6:pieces60:" + hashes(3)
                     + "12:piece lengthi16384ee";
  std::string file = "d8:announce20:http://t.example/ann4:info" + info + "e";
  auto mi = parse_metainfo(file);
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(mi->info_hash, sha1(info));
  CAF_CHECK_EQUAL(mi->name, "a.bin");
  CAF_CHECK_EQUAL(mi->num_pieces(), 3u);
  CAF_CHECK_EQUAL(mi->piece_size(0), 16384u);
  CAF_CHECK_EQUAL(mi->piece_size(2), 40000u - 2 * 16384u);
  CAF_REQUIRE_EQUAL(mi->files.size(), 1u);
  CAF_CHECK_EQUAL(mi->files[0].path, "a.bin");
  CAF_CHECK(!mi->multi_file);
  CAF_REQUIRE_EQUAL(mi->trackers.size(), 1u);
  CAF_CHECK_EQUAL(mi->trackers[0][0], "http://t.example/ann");
}

CAF_TEST(paths never leave the download directory) {
  auto mi = parse_info(multi_info({{bencode::list{"..", "..", "etc", "passwd"}, 10},
                                   {bencode::list{"/abs", "x"}, 10},
                                   {bencode::list{"a\\..\\b"}, 10},
                                   {bencode::list{"", ".", "c"}, 10},
                                   {bencode::list{"n\0ul"s}, 10},
                                   {bencode::list{".."}, 10}}));
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(paths(*mi), (std::vector<std::string>{"root/etc/passwd", "root/abs/x", "root/a/b",
                                                        "root/c", "root/n_ul", "root/_"}));
}

CAF_TEST(duplicate paths and file-directory clashes are renamed) {
  auto mi = parse_info(multi_info({{bencode::list{"a.txt"}, 1},
                                   {bencode::list{"a.txt"}, 1},
                                   {bencode::list{".", "a.txt"}, 1},
                                   {bencode::list{"d"}, 1},
                                   {bencode::list{"d", "x"}, 1}}));
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(paths(*mi), (std::vector<std::string>{"root/a.txt", "root/a.1.txt", "root/a.2.txt",
                                                        "root/d", "root/d.1/x"}));
}

CAF_TEST(sanitising single elements) {
  using v = std::vector<std::string>;
  CAF_CHECK_EQUAL(sanitize_path_element("a/b\\c"), (v{"a", "b", "c"}));
  CAF_CHECK_EQUAL(sanitize_path_element("../.."), v{});
  CAF_CHECK_EQUAL(sanitize_path_element("..."), v{"..."});
  CAF_CHECK_EQUAL(sanitize_path_element("tab\there"), v{"tab_here"});
  // over-long components keep their extension and whole UTF-8 characters
  auto long_name = std::string(300, 'x') + ".mkv";
  auto s = sanitize_path_element(long_name);
  CAF_REQUIRE_EQUAL(s.size(), 1u);
  CAF_CHECK_EQUAL(s[0].size(), 255u);
  CAF_CHECK(s[0].ends_with(".mkv"));
  std::string umlauts;
  for (int i = 0; i < 200; ++i)
    umlauts += "\xc3\xa4"; // 'ä', two bytes
  auto u = sanitize_path_element(umlauts, 11);
  CAF_REQUIRE_EQUAL(u.size(), 1u);
  CAF_CHECK_EQUAL(u[0].size(), 10u); // not 11: the sixth 'ä' would be split
}

CAF_TEST(utf8 variants of name and path are preferred) {
  auto info = multi_info({{bencode::list{"raw"}, 5}});
  auto& f = std::get<bencode::dict>(std::get<bencode::list>(info["files"].data)[0].data);
  f["path.utf-8"] = bencode::list{"utf8"};
  info["name.utf-8"] = "Name";
  auto mi = parse_info(info);
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(mi->name, "Name");
  CAF_CHECK_EQUAL(paths(*mi), std::vector<std::string>{"Name/utf8"});
}

CAF_TEST(bad names) {
  auto info = multi_info({{bencode::list{"f"}, 5}});
  info["name"] = "..";
  auto mi = parse_info(info);
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(mi->name, mi->info_hash.hex()); // as libtorrent does
  info["name"] = "a/b";
  auto flat = parse_info(info);
  CAF_REQUIRE(flat.ok());
  CAF_CHECK_EQUAL(flat->name, "a_b");
  info["name"] = "x\0"s;
  CAF_CHECK_EQUAL(parse_info(info).error().message, "invalid 'name': contains NUL bytes");
  info.erase("name");
  CAF_CHECK_EQUAL(parse_info(info).error().message, "missing or invalid 'name'");
}

CAF_TEST(pad files and offsets) {
  auto info = multi_info({{bencode::list{"a"}, 100}, {bencode::list{".pad", "16284"}, 16284},
                          {bencode::list{"b"}, 50}});
  auto& files = std::get<bencode::list>(info["files"].data);
  std::get<bencode::dict>(files[1].data)["attr"] = "p";
  std::get<bencode::dict>(files[2].data)["attr"] = "xh";
  auto mi = parse_info(info);
  CAF_REQUIRE(mi.ok());
  CAF_REQUIRE_EQUAL(mi->files.size(), 3u);
  CAF_CHECK(mi->files[1].pad);
  CAF_CHECK_EQUAL(mi->files[1].path, "root/.pad/16284");
  CAF_CHECK_EQUAL(mi->files[2].offset, 16384u);
  CAF_CHECK(mi->files[2].executable);
  CAF_CHECK(mi->files[2].hidden);
  CAF_CHECK_EQUAL(mi->total_size, 16434u);
}

CAF_TEST(tracker tiers) {
  bencode::dict root{{"info", multi_info({{bencode::list{"a"}, 1}})},
                     {"announce", "http://ignored/when/list/present"},
                     {"announce-list", bencode::list{bencode::list{" http://a/ann ", "udp://b:1"},
                                                     bencode::list{"http://a/ann"}, // duplicate
                                                     bencode::list{},
                                                     bencode::list{"http://c/ann"}}},
                     {"url-list", "http://seed/"}};
  auto mi = parse(root);
  CAF_REQUIRE(mi.ok());
  CAF_REQUIRE_EQUAL(mi->trackers.size(), 2u);
  CAF_CHECK_EQUAL(mi->trackers[0], (std::vector<std::string>{"http://a/ann", "udp://b:1"}));
  CAF_CHECK_EQUAL(mi->trackers[1], std::vector<std::string>{"http://c/ann"});
  CAF_CHECK_EQUAL(mi->url_list, std::vector<std::string>{"http://seed/"});
}

CAF_TEST(validation errors) {
  auto base = multi_info({{bencode::list{"a"}, 40000}});
  auto err = [](bencode::dict info) { return parse_info(std::move(info)).error().message; };
  auto info = base;
  info["pieces"] = std::string(41, 'x');
  CAF_CHECK_EQUAL(err(info), "'pieces' length 41 is not a multiple of 20");
  info["pieces"] = hashes(2);
  CAF_CHECK_EQUAL(err(info), "incorrect number of piece hashes: 2 for 3 pieces");
  info = base;
  info["piece length"] = 0;
  CAF_CHECK_EQUAL(err(info), "invalid 'piece length' 0 (must be 1 to 536870912)");
  info = multi_info({{bencode::list{"a"}, -5}});
  CAF_CHECK_EQUAL(err(info), "negative file length -5");
  info = multi_info({{bencode::list{"a"}, 0}});
  CAF_CHECK_EQUAL(err(info), "torrent has no data (total size 0)");
  info = base;
  info["files"] = bencode::list{};
  CAF_CHECK_EQUAL(err(info), "no files in torrent");
  info = base;
  info["meta version"] = 2;
  info.erase("pieces");
  CAF_CHECK_EQUAL(err(info), "v2-only torrent (BEP 52) is not supported yet; only v1 and hybrid torrents are");
  CAF_CHECK_EQUAL(parse_metainfo("le").error().message, "torrent file is not a dictionary");
  CAF_CHECK_EQUAL(parse_metainfo("d4:infoi1ee").error().message, "missing or invalid 'info' dictionary");
  auto bad = parse_metainfo("d4:infod");
  CAF_CHECK_EQUAL(bad.error().message, "invalid bencoding: unexpected end of input");
  CAF_CHECK_EQUAL(bad.error().offset, 8u);
}

CAF_TEST(limits against hostile files) {
  metainfo_limits lim;
  lim.max_files = 2;
  lim.max_path_depth = 3;
  auto three = multi_info({{bencode::list{"a"}, 1}, {bencode::list{"b"}, 1}, {bencode::list{"c"}, 1}});
  CAF_CHECK_EQUAL(parse_metainfo(bencode::encode(bencode::dict{{"info", three}}), lim).error().message,
                  "more than 2 files");
  auto deep = multi_info({{bencode::list{"a", "b", "c", "d"}, 1}});
  CAF_CHECK_EQUAL(parse_metainfo(bencode::encode(bencode::dict{{"info", deep}}), lim).error().message,
                  "path of file 0 is deeper than 3");
  // 2^40 bytes in 16 KiB pieces is 2^26 pieces: over the 2^21 default
  auto huge = multi_info({{bencode::list{"a"}, 1}});
  std::get<bencode::dict>(std::get<bencode::list>(huge["files"].data)[0].data)["length"] =
    std::int64_t{1} << 40;
  CAF_CHECK_EQUAL(parse_info(huge).error().message, "too many pieces: 67108864 (limit 2097152)");
  lim = metainfo_limits{};
  lim.max_file_bytes = 10;
  CAF_CHECK_EQUAL(parse_metainfo(std::string(11, 'd'), lim).error().message,
                  "torrent file larger than 10 bytes");
}

CAF_TEST(writer output loads back with the same fields) {
  torrent_spec spec;
  spec.name = "dir";
  spec.multi_file = true;
  spec.files = {{{"a", "b.txt"}, 20000, false}, {{"c"}, 0, false}, {{"x"}, 12, true}};
  spec.piece_length = 16384;
  spec.piece_hashes = hashes(2);
  spec.trackers = {{"http://t1/a"}, {"http://t2/a", "udp://t3:80"}};
  spec.is_private = true;
  spec.comment = "hi";
  auto bytes = write_metainfo(spec);
  CAF_REQUIRE(bytes.ok());
  auto mi = parse_metainfo(*bytes);
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(paths(*mi), (std::vector<std::string>{"dir/a/b.txt", "dir/c", "dir/x"}));
  CAF_CHECK(mi->is_private);
  CAF_CHECK(mi->files[2].executable);
  CAF_CHECK_EQUAL(mi->trackers, spec.trackers);
  CAF_CHECK_EQUAL(mi->comment, "hi");
  CAF_CHECK(!mi->creation_date);
  // canonical: decoding and re-encoding gives the same bytes
  auto doc = bencode::decode(*bytes);
  CAF_REQUIRE(doc.ok());
  CAF_CHECK_EQUAL(bencode::encode(bencode::value::from(doc->root())), *bytes);
  spec.piece_hashes = hashes(1);
  CAF_CHECK_EQUAL(write_metainfo(spec).error().message, "expected 2 piece hashes, got 1");
}

CAF_TEST(default piece length) {
  CAF_CHECK_EQUAL(default_piece_length(1000), 16384u);
  CAF_CHECK_EQUAL(default_piece_length(1ull << 30), 1ull << 20);  // 1 GiB: 1024 pieces
  CAF_CHECK_EQUAL(default_piece_length(1ull << 50), 16ull << 20); // capped
}

// Regressions found by fuzz/metainfo_fuzzer.cpp (inputs in fuzz/regressions/metainfo/).
CAF_TEST(fuzz regression: stray utf8 continuation bytes never leave an empty or dot component) {
  using v = std::vector<std::string>;
  CAF_CHECK_EQUAL(sanitize_path_element("d\x90\x90\x90\x90\x90", 5), v{"_"});
  CAF_CHECK_EQUAL(sanitize_path_element("a\x90\x90\x90\x90\x90.", 5), v{"_"});
  auto mi = parse_info(multi_info({{bencode::list{std::string(300, '\x80')}, 1}}));
  CAF_REQUIRE(mi.ok());
  CAF_CHECK_EQUAL(mi->files[0].path, "root/_");
}

CAF_TEST(fuzz regression: renamed duplicates stay within the component limit) {
  auto long_name = std::string(255, 'A');
  auto mi = parse_info(multi_info({{bencode::list{long_name}, 1}, {bencode::list{long_name}, 1}}));
  CAF_REQUIRE(mi.ok());
  auto second = mi->files[1].path.substr(5); // after "root/"
  CAF_CHECK_EQUAL(second.size(), 255u);
  CAF_CHECK(second.ends_with(".1"));
  CAF_CHECK_NOT_EQUAL(mi->files[0].path, mi->files[1].path);
}

CAF_TEST(fuzz regression: separators inside one element count towards the depth limit) {
  std::string element;
  for (int i = 0; i < 200; ++i)
    element += "a/";
  element += "f";
  auto r = parse_info(multi_info({{bencode::list{element}, 1}}));
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error().message, "path of file 0 is deeper than 128");
}
