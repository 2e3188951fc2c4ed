#define CAF_SUITE file_selection
#include <caf/test/unit_test.hpp>

#include "logic/file_selection.hpp"

using namespace actorrent;
using namespace actorrent::logic;

namespace {

/// Files of the given sizes back to back; a negative size is a pad file of -size bytes.
std::vector<file_entry> layout(std::initializer_list<long long> sizes) {
  std::vector<file_entry> out;
  std::uint64_t off = 0;
  for (auto s : sizes) {
    file_entry f;
    f.pad = s < 0;
    f.size = static_cast<std::uint64_t>(s < 0 ? -s : s);
    f.offset = off;
    f.path = "file";
    off += f.size;
    out.push_back(f);
  }
  return out;
}

std::string error_of(std::string_view text, const std::vector<file_entry>& files) {
  auto r = parse_file_selection(text, files);
  return r ? std::string{} : r.error().message;
}

} // namespace

CAF_TEST(parsing numbers and ranges) {
  auto files = layout({10, 20, 30, 40, 50});
  auto r = parse_file_selection("1,3-4", files);
  CAF_REQUIRE(r.ok());
  CAF_CHECK((*r == std::vector<bool>{true, false, true, true, false}));
  r = parse_file_selection("5,5,2-5", files);
  CAF_REQUIRE(r.ok());
  CAF_CHECK((*r == std::vector<bool>{false, true, true, true, true}));
  CAF_CHECK_EQUAL(error_of("6", files), "file 6 does not exist (the torrent has 5 files)");
  CAF_CHECK_EQUAL(error_of("2-9", files), "file 9 does not exist (the torrent has 5 files)");
  CAF_CHECK_EQUAL(error_of("4-2", files), "range 4-2 is backwards");
  for (auto bad : {"", "0", "1,", ",1", "1-", "-3", "a", "1 ,2", "1-2-3", "1;2", "9999999999"})
    CAF_CHECK_EQUAL(error_of(bad, files), "expected file numbers like 1,3-5, got '" + std::string{bad} + "'");
  CAF_CHECK_EQUAL(error_of("2", layout({10})), "file 2 does not exist (the torrent has 1 file)");
}

CAF_TEST(pad files are not numbered) {
  auto files = layout({10, -6, 20, -12, 30});
  CAF_CHECK_EQUAL(user_file_count(files), 3u);
  auto r = parse_file_selection("2", files);
  CAF_REQUIRE(r.ok());
  CAF_CHECK((*r == std::vector<bool>{false, false, true, false, false}));
  CAF_CHECK(!parse_file_selection("4", files));
}

CAF_TEST(pieces wholly inside unselected files are not wanted) {
  // pieces of 16 bytes; files: [0,40) [40,48) [48,100): pieces 0..6
  auto files = layout({40, 8, 52});
  std::uint32_t n = 7;
  std::vector<bool> only_first{true, false, false};
  CAF_CHECK((wanted_pieces(only_first, files, 16, n) == std::vector<bool>{true, true, true, false, false, false, false}));
  // piece 2 ([32,48)) holds bytes of files 1 and 2: a boundary piece
  CAF_CHECK((boundary_pieces(only_first, files, 16, n) == std::vector<std::uint32_t>{2}));
  std::vector<bool> only_middle{false, true, false};
  CAF_CHECK((wanted_pieces(only_middle, files, 16, n) == std::vector<bool>{false, false, true, false, false, false, false}));
  CAF_CHECK((boundary_pieces(only_middle, files, 16, n) == std::vector<std::uint32_t>{2}));
  std::vector<bool> last{false, false, true};
  // file 3 is [48,100): pieces 3..6; piece 3 starts at 48 exactly, so no boundary
  CAF_CHECK((wanted_pieces(last, files, 16, n) == std::vector<bool>{false, false, false, true, true, true, true}));
  CAF_CHECK(boundary_pieces(last, files, 16, n).empty());
  std::vector<bool> all{true, true, true};
  CAF_CHECK((wanted_pieces(all, files, 16, n) == std::vector<bool>(n, true)));
  CAF_CHECK(boundary_pieces(all, files, 16, n).empty());
  std::vector<bool> none{false, false, false};
  CAF_CHECK((wanted_pieces(none, files, 16, n) == std::vector<bool>(n, false)));
}

CAF_TEST(pad files and empty files do not make boundaries) {
  // file 1 [0,10), pad [10,16), file 2 [16,48), empty file, file 3 [48,64)
  auto files = layout({10, -6, 32, 0, 16});
  std::vector<bool> first{true, false, false, false, false};
  CAF_CHECK((wanted_pieces(first, files, 16, 4) == std::vector<bool>{true, false, false, false}));
  CAF_CHECK(boundary_pieces(first, files, 16, 4).empty());
  std::vector<bool> empty_only{false, false, false, true, false};
  CAF_CHECK((wanted_pieces(empty_only, files, 16, 4) == std::vector<bool>(4, false)));
}
