// Conformance of the torrent loader.
//
// Always: our own corpus, tests/conformance/torrents/ with the verdicts in
// tests/conformance/verdicts.tsv, both written by tests/conformance/make_corpus.py
// and committed.
// Where present (our CI lays it beside the checkout, $ACTORRENT_SHARED_DIR or
// ../shared): the larger external corpus, libtorrent's corner-case torrents and
// WebTorrent's fixtures, checked against libtorrent 2.0.8's verdicts. Absent,
// those tests skip (ACTORRENT_SKIP: ctest's entry unit.conformance.external
// shows "Skipped").
#define CAF_SUITE conformance
#include <caf/test/unit_test.hpp>

#include "protocol/metainfo.hpp"
#include "test_util.hpp"

#include <filesystem>
#include <sstream>

using namespace actorrent;

namespace {

std::vector<std::vector<std::string>> read_tsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in{test::read_file(path)};
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::string col;
    std::istringstream ls{line};
    while (std::getline(ls, col, '\t'))
      cols.push_back(col);
    if (!cols.empty())
      rows.push_back(std::move(cols));
  }
  return rows;
}

// A path that cannot leave the download directory.
bool contained(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.find('\\') != std::string::npos
      || p.find('\0') != std::string::npos)
    return false;
  std::istringstream in{p};
  std::string comp;
  while (std::getline(in, comp, '/'))
    if (comp.empty() || comp == "." || comp == "..")
      return false;
  return p.back() != '/';
}

// The path list of a verdict row: "a | [pad] | b".
std::vector<std::string> split_paths(const std::string& text) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    auto end = text.find(" | ", begin);
    out.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos)
      return out;
    begin = end + 3;
  }
}

// The external corpus's directory, or nothing (after noting the skip).
std::optional<std::string> external_corpus() {
  auto dir = test::shared_dir() + "/conformance/";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return std::nullopt;
  return dir;
}

} // namespace

CAF_TEST(our corpus gets the verdicts of make_corpus.py) {
  const std::string dir = ACTORRENT_SOURCE_DIR "/tests/conformance/";
  auto rows = read_tsv(dir + "verdicts.tsv");
  CAF_REQUIRE_GREATER_OR_EQUAL(rows.size(), 60u);
  std::size_t accepted = 0, rejected = 0;
  for (auto& row : rows) {
    CAF_REQUIRE_EQUAL(row.size(), 8u);
    auto& file = row[0];
    auto mi = load_metainfo_file(dir + "torrents/" + file);
    CAF_MESSAGE(file << ": " << (mi ? "accept " + mi->info_hash.hex() : mi.error().to_string()));
    if (row[1] == "reject") {
      CAF_CHECK(!mi);
      if (!mi && mi.error().message.find(row[7]) == std::string::npos)
        CAF_FAIL(file << ": the error '" << mi.error().message << "' does not say '" << row[7] << "'");
      ++rejected;
      continue;
    }
    CAF_REQUIRE_EQUAL(row[1], "accept");
    CAF_CHECK(mi.ok());
    if (!mi)
      continue;
    ++accepted;
    CAF_CHECK_EQUAL(mi->info_hash.hex(), row[2]);
    CAF_CHECK_EQUAL(std::to_string(mi->files.size()), row[3]);
    CAF_CHECK_EQUAL(std::to_string(mi->num_pieces()), row[4]);
    CAF_CHECK_EQUAL(std::to_string(mi->piece_length), row[5]);
    CAF_CHECK_EQUAL(std::to_string(mi->total_size), row[6]);
    auto want = split_paths(row[7]);
    CAF_REQUIRE_EQUAL(want.size(), mi->files.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      auto& f = mi->files[i];
      if (f.pad) {
        CAF_CHECK_EQUAL(want[i], "[pad]");
        continue;
      }
      CAF_CHECK_EQUAL(f.path, want[i]);
      CAF_CHECK(contained(f.path));
      if (f.symlink && !f.symlink_target.empty())
        CAF_CHECK(contained(f.symlink_target));
    }
  }
  CAF_MESSAGE(accepted << " accepted, " << rejected << " rejected");
  CAF_CHECK_GREATER(accepted, 20u);
  CAF_CHECK_GREATER(rejected, 20u);
}

CAF_TEST(libtorrent test torrents agree with libtorrent 2.0.8) {
  auto found = external_corpus();
  if (!found)
    ACTORRENT_SKIP("no external corpus at " + test::shared_dir() + "/conformance (set ACTORRENT_SHARED_DIR)");
  auto dir = *found;
  auto rows = read_tsv(dir + "libtorrent-2.0.8-verdicts.tsv");
  CAF_REQUIRE_GREATER_OR_EQUAL(rows.size(), 100u);
  std::size_t accepted = 0, rejected = 0, v2_only = 0;
  for (auto& row : rows) {
    CAF_REQUIRE_GREATER_OR_EQUAL(row.size(), 7u);
    auto& file = row[0];
    auto mi = load_metainfo_file(dir + "libtorrent-test-torrents/" + file);
    CAF_MESSAGE(file << ": " << (mi ? "accept " + mi->info_hash.hex() : mi.error().to_string()));
    if (row[1] == "reject") {
      CAF_CHECK(!mi);
      if (!mi)
        CAF_CHECK(!mi.error().message.empty());
      ++rejected;
      continue;
    }
    if (row[2] == "-") {
      // v2-only: libtorrent accepts, we refuse with an error that says why
      CAF_CHECK(!mi);
      if (!mi)
        CAF_CHECK_NOT_EQUAL(mi.error().message.find("v2-only"), std::string::npos);
      ++v2_only;
      continue;
    }
    CAF_CHECK(mi.ok());
    if (!mi)
      continue;
    ++accepted;
    CAF_CHECK_EQUAL(mi->info_hash.hex(), row[2]);
    CAF_CHECK_EQUAL(std::to_string(mi->files.size()), row[3]); // pad files included
    CAF_CHECK_EQUAL(std::to_string(mi->num_pieces()), row[4]);
    CAF_CHECK_EQUAL(std::to_string(mi->piece_length), row[5]);
    CAF_CHECK_EQUAL(std::to_string(mi->total_size), row[6]);
    std::size_t pads = 0;
    for (auto& f : mi->files) {
      CAF_CHECK(contained(f.path));
      if (f.symlink && !f.symlink_target.empty())
        CAF_CHECK(contained(f.symlink_target));
      pads += f.pad ? 1 : 0;
    }
    // libtorrent marks pad files with "[pad]": the same files must be pads here
    std::size_t lt_pads = 0;
    for (auto pos = row[7].find("[pad]"); pos != std::string::npos; pos = row[7].find("[pad]", pos + 1))
      ++lt_pads;
    CAF_CHECK_EQUAL(pads, lt_pads);
  }
  CAF_MESSAGE(accepted << " accepted, " << rejected << " rejected, " << v2_only << " v2-only refused");
}

CAF_TEST(webtorrent fixtures agree with libtorrent 2.0.8) {
  auto found = external_corpus();
  if (!found)
    ACTORRENT_SKIP("no external corpus at " + test::shared_dir() + "/conformance (set ACTORRENT_SHARED_DIR)");
  auto dir = *found;
  auto rows = read_tsv(dir + "webtorrent-fixtures-libtorrent-2.0.8.tsv");
  CAF_REQUIRE_GREATER_OR_EQUAL(rows.size(), 9u);
  for (auto& row : rows) {
    auto mi = load_metainfo_file(dir + "webtorrent-fixtures/" + row[0]);
    if (row[1] == "reject") {
      CAF_CHECK(!mi);
      continue;
    }
    CAF_REQUIRE(mi.ok());
    CAF_CHECK_EQUAL(mi->info_hash.hex(), row[2]);
    CAF_CHECK_EQUAL(std::to_string(mi->files.size()), row[3]);
    CAF_CHECK_EQUAL(std::to_string(mi->num_pieces()), row[4]);
    CAF_CHECK_EQUAL(std::to_string(mi->piece_length), row[5]);
    CAF_CHECK_EQUAL(std::to_string(mi->total_size), row[6]);
  }
}
