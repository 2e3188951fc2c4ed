#define CAF_SUITE content_scan
#include <caf/test/unit_test.hpp>

#include "storage/content_scan.hpp"
#include "storage_test_util.hpp"

#include <filesystem>
#include <fstream>

using namespace actorrent;
using namespace actorrent::storage;
namespace fs = std::filesystem;

CAF_TEST(symbolic links are never followed - skipped below a directory and refused as the path) {
  actorrent::test::temp_dir dir;
  const auto root = dir.path + "/share";
  fs::create_directories(root + "/sub");
  fs::create_directories(dir.path + "/outside_dir");
  std::ofstream{root + "/a.bin"} << "aaaa";
  std::ofstream{root + "/sub/b.bin"} << "bb";
  std::ofstream{dir.path + "/outside.bin"} << "not ours";
  fs::create_symlink(dir.path + "/outside.bin", root + "/link.bin");
  fs::create_symlink(dir.path + "/outside_dir", root + "/linkdir");
  fs::create_symlink(root + "/nowhere", root + "/dangling");
  auto c = scan_content(root);
  CAF_REQUIRE(c.ok());
  CAF_REQUIRE_EQUAL(c->files.size(), 2u);
  CAF_CHECK_EQUAL(c->files[0].components, (std::vector<std::string>{"a.bin"}));
  CAF_CHECK_EQUAL(c->files[1].components, (std::vector<std::string>{"sub", "b.bin"}));
  CAF_CHECK_EQUAL(c->total_size, 6u);
  auto skipped = c->skipped;
  std::sort(skipped.begin(), skipped.end());
  CAF_CHECK_EQUAL(skipped, (std::vector<std::string>{"dangling", "link.bin", "linkdir"}));
  // the path itself a link (to a file, or to a directory)
  auto file_link = scan_content(root + "/link.bin");
  CAF_REQUIRE(!file_link.ok());
  CAF_CHECK_NOT_EQUAL(file_link.error().message.find("is a symbolic link"), std::string::npos);
  CAF_CHECK(!scan_content(root + "/linkdir").ok());
  // a plain file is still fine
  auto one = scan_content(root + "/a.bin");
  CAF_REQUIRE(one.ok());
  CAF_CHECK_EQUAL(one->total_size, 4u);
  CAF_CHECK(!one->is_directory);
}
