#define CAF_SUITE overwrite_guard
#include <caf/test/unit_test.hpp>

#include "storage/overwrite_guard.hpp"
#include "storage_test_util.hpp"

#include <fstream>

using namespace actorrent;
using namespace actorrent::storage;
using namespace actorrent::test;

namespace {

file_layout layout_of(const std::vector<spec>& files) {
  auto t = make_torrent(files, 16 * 1024);
  auto l = file_layout::create(t.mi);
  CAF_REQUIRE(l.ok());
  return std::move(*l);
}

} // namespace

CAF_TEST(files with data are unrelated unless resume data or a verified piece says they are ours) {
  auto l = layout_of({{"a", 40000}, {"pad", 9152, true}, {"b", 20000}, {"c", 100}});
  // a exists with data, pad is never on disk, b is missing, c exists but empty
  std::vector<file_stamp> stamps = {{true, 40000, 1}, {true, 9152, 0}, {false, 0, 0}, {true, 0, 2}};
  std::vector<bool> none(l.num_pieces(), false);
  auto c = check_overwrite(l, stamps, none, false);
  CAF_REQUIRE_EQUAL(c.unrelated.size(), 1u);
  CAF_CHECK_EQUAL(c.unrelated[0], 0u);
  CAF_CHECK(c.too_long.empty());
  auto msg = describe_unrelated(l, c, "/dl");
  CAF_CHECK_EQUAL(msg.rfind("refusing to overwrite /dl/" + l.file(0).path + ": it exists", 0), 0u);
  CAF_CHECK_NOT_EQUAL(msg.find("--force"), std::string::npos);
  // resume data found: ours
  CAF_CHECK(check_overwrite(l, stamps, none, true).unrelated.empty());
  // one piece verifies: a resume
  auto one = none;
  one[1] = true;
  CAF_CHECK(check_overwrite(l, stamps, one, false).unrelated.empty());
}

CAF_TEST(longer files are reported and several unrelated files are counted) {
  auto l = layout_of({{"a", 40000}, {"b", 20000}, {"c", 100}});
  std::vector<file_stamp> stamps = {{true, 50000, 1}, {true, 20000, 1}, {true, 7, 1}};
  std::vector<bool> none(l.num_pieces(), false);
  auto c = check_overwrite(l, stamps, none, false);
  CAF_CHECK_EQUAL(c.unrelated.size(), 3u);
  CAF_REQUIRE_EQUAL(c.too_long.size(), 1u);
  CAF_CHECK_EQUAL(c.too_long[0], 0u);
  CAF_CHECK_NOT_EQUAL(describe_unrelated(l, c, "/dl/").find("(and 2 more files)"), std::string::npos);
  CAF_CHECK(describe_unrelated(l, check_overwrite(l, stamps, none, true), "/dl").empty());
}

CAF_TEST(truncate_to_size cuts a longer file and leaves shorter and missing ones) {
  temp_dir dir;
  auto t = make_torrent({{"x/a", 40000}, {"x/b", 20000}}, 16 * 1024);
  auto s = torrent_storage::open(t.mi, dir.path);
  CAF_REQUIRE(s.ok());
  auto pa = dir.path + "/" + s->layout().file(0).path;
  std::filesystem::create_directories(std::filesystem::path{pa}.parent_path());
  std::ofstream{pa, std::ios::binary} << std::string(50000, 'z');
  auto ok = s->truncate_to_size(0);
  CAF_REQUIRE(ok.ok());
  CAF_CHECK_EQUAL(std::filesystem::file_size(pa), 40000u);
  auto missing = s->truncate_to_size(1);
  CAF_CHECK(missing.ok());
  CAF_CHECK(!std::filesystem::exists(dir.path + "/" + s->layout().file(1).path));
  std::ofstream{pa, std::ios::binary | std::ios::trunc} << std::string(10, 'z');
  auto shorter = s->truncate_to_size(0);
  CAF_CHECK(shorter.ok());
  CAF_CHECK_EQUAL(std::filesystem::file_size(pa), 10u);
}
