// libFuzzer target for the .torrent loader (parse_metainfo) and the path
// sanitiser.
//
// Every input is parsed with the default limits and with tight ones. When the
// loader accepts a torrent, the result must be safe to act on: every path stays
// inside the download directory, files tile the byte stream without gaps or
// overlaps, the piece count matches the total size, every bound in the limits
// holds and the info-hash is the SHA-1 of the exact `info` bytes. Any broken
// invariant calls abort(), which libFuzzer reports as a crash.

#include "fuzz/fuzz_check.hpp"
#include "protocol/bencode.hpp"
#include "protocol/metainfo.hpp"
#include "protocol/sha1.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace actorrent;

namespace {


std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// One path component as the sanitiser promises it: non-empty, not "." or "..",
// no separator, no NUL or other control character, not longer than the limit.
void check_component(std::string_view c, std::size_t max_bytes, std::string_view whole) {
  // details are built only on failure (FUZZ_CHECK_MSG evaluates them lazily)
  auto detail = [&] { return "component " + quoted(c) + " of " + quoted(whole); };
  FUZZ_CHECK_MSG(!c.empty(), detail());
  FUZZ_CHECK_MSG(c != "." && c != "..", detail());
  FUZZ_CHECK_MSG(c.size() <= max_bytes, detail() + " is longer than " + std::to_string(max_bytes));
  for (char ch : c) {
    auto u = static_cast<unsigned char>(ch);
    FUZZ_CHECK_MSG(ch != '/' && ch != '\\', detail());
    FUZZ_CHECK_MSG(u >= 0x20 && u != 0x7f, detail());
  }
}

// Splits a '/'-separated relative path into its components, checking each.
std::vector<std::string_view> check_path(std::string_view path, std::size_t max_component_bytes) {
  FUZZ_CHECK_MSG(!path.empty(), "empty path");
  FUZZ_CHECK_MSG(path.front() != '/', "absolute path " + quoted(path));
  std::vector<std::string_view> comps;
  std::size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    auto c = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    check_component(c, max_component_bytes, path);
    comps.push_back(c);
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  return comps;
}

void check_metainfo(const metainfo& mi, std::string_view input, const metainfo_limits& lim) {
  FUZZ_CHECK(input.size() <= lim.max_file_bytes);

  // name: one sanitised component
  check_component(mi.name, lim.max_component_bytes, mi.name);

  // info-hash: SHA-1 of the exact bytes of the info dictionary
  bencode::limits blim;
  blim.allow_trailing = true;
  blim.max_depth = lim.max_bencode_depth;
  auto doc = bencode::decode(input, blim);
  FUZZ_CHECK(doc.ok());
  auto info = doc->root().find_dict("info");
  FUZZ_CHECK(static_cast<bool>(info));
  FUZZ_CHECK(mi.info_hash == sha1(info.raw()));

  // pieces
  FUZZ_CHECK(mi.piece_length >= 1 && mi.piece_length <= lim.max_piece_length);
  FUZZ_CHECK(mi.total_size >= 1 && mi.total_size <= lim.max_total_size);
  FUZZ_CHECK(mi.piece_hashes.size() % 20 == 0);
  const auto n = mi.num_pieces();
  FUZZ_CHECK(n == (mi.total_size + mi.piece_length - 1) / mi.piece_length);
  FUZZ_CHECK(n >= 1 && n <= lim.max_pieces);
  FUZZ_CHECK(mi.piece_hash(0).view() == std::string_view{mi.piece_hashes}.substr(0, 20));
  FUZZ_CHECK(mi.piece_hash(n - 1).view() == std::string_view{mi.piece_hashes}.substr((n - 1) * 20));
  FUZZ_CHECK(mi.piece_size(0) == std::min(mi.piece_length, mi.total_size));
  const auto last = mi.piece_size(n - 1);
  FUZZ_CHECK(last >= 1 && last <= mi.piece_length);
  FUZZ_CHECK((n - 1) * mi.piece_length + last == mi.total_size);

  // files: tile the byte stream in order, paths stay inside the download dir
  FUZZ_CHECK(!mi.files.empty());
  FUZZ_CHECK(mi.files.size() <= lim.max_files);
  if (!mi.multi_file)
    FUZZ_CHECK(mi.files.size() == 1);
  std::uint64_t expected_offset = 0;
  std::set<std::string_view> files;     // paths of files that get written
  std::set<std::string_view> dirs;      // every proper prefix of those paths
  for (std::size_t i = 0; i < mi.files.size(); ++i) {
    const auto& f = mi.files[i];
    auto where = [&] { return "file " + std::to_string(i) + " " + quoted(f.path); };
    FUZZ_CHECK_MSG(f.offset == expected_offset, where() + " offset " + std::to_string(f.offset)
                                                   + " expected " + std::to_string(expected_offset));
    FUZZ_CHECK_MSG(f.size <= mi.total_size - f.offset, where());
    expected_offset += f.size;
    if (f.symlink)
      FUZZ_CHECK_MSG(f.size == 0, where());

    const auto comps = check_path(f.path, lim.max_component_bytes);
    if (!mi.multi_file) {
      FUZZ_CHECK_MSG(f.path == mi.name, where());
    } else {
      FUZZ_CHECK_MSG(comps.size() >= 2 && comps.front() == mi.name, where());
      if (!f.pad)
        FUZZ_CHECK_MSG(comps.size() <= lim.max_path_depth + 1, where());
    }
    if (!f.symlink_target.empty())
      check_path(f.symlink_target, lim.max_component_bytes);
    if (!f.symlink)
      FUZZ_CHECK_MSG(f.symlink_target.empty(), where());

    if (f.pad)
      continue; // never written to disk
    FUZZ_CHECK_MSG(files.insert(f.path).second, where() + " is a duplicate");
    std::string_view sv{f.path};
    for (auto slash = sv.find('/'); slash != std::string_view::npos; slash = sv.find('/', slash + 1))
      dirs.insert(sv.substr(0, slash));
  }
  FUZZ_CHECK(expected_offset == mi.total_size);
  for (auto d : dirs)
    FUZZ_CHECK_MSG(files.count(d) == 0, "path " + quoted(d) + " is both a file and a directory");

  // trackers and web seeds: trimmed, non-empty, no duplicates
  std::set<std::string_view> trackers;
  std::size_t tracker_count = 0;
  for (auto& tier : mi.trackers) {
    FUZZ_CHECK(!tier.empty());
    for (auto& url : tier) {
      FUZZ_CHECK(!url.empty());
      FUZZ_CHECK(trackers.insert(url).second);
      ++tracker_count;
    }
  }
  FUZZ_CHECK(mi.all_trackers().size() == tracker_count);
  std::set<std::string_view> seeds;
  for (auto& url : mi.url_list)
    FUZZ_CHECK(!url.empty() && seeds.insert(url).second);
}

void check_error(const error_info& err, std::string_view input) {
  FUZZ_CHECK(!err.message.empty());
  FUZZ_CHECK(err.offset == error_info::no_offset || err.offset <= input.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};

  const metainfo_limits def{};
  const auto full = parse_metainfo(input, def);
  if (full)
    check_metainfo(*full, input, def);
  else
    check_error(full.error(), input);

  // tight limits: short components (renaming and shortening collide more often),
  // few files and pieces, shallow nesting
  metainfo_limits tight;
  tight.max_file_bytes = 1u << 16;
  tight.max_pieces = 64;
  tight.max_files = 16;
  tight.max_path_depth = 4;
  tight.max_component_bytes = 48; // the info-hash fallback name has 40
  tight.max_piece_length = 1u << 20;
  tight.max_total_size = 1ull << 30;
  tight.max_bencode_depth = 8;
  const auto small = parse_metainfo(input, tight);
  if (small) {
    check_metainfo(*small, input, tight);
    // every tight limit is below the default one, so the default accepts too
    // and agrees on everything but the (possibly shortened) path spellings
    FUZZ_CHECK(full.ok());
    FUZZ_CHECK(small->info_hash == full->info_hash);
    FUZZ_CHECK(small->total_size == full->total_size);
    FUZZ_CHECK(small->piece_length == full->piece_length);
    FUZZ_CHECK(small->piece_hashes == full->piece_hashes);
    FUZZ_CHECK(small->files.size() == full->files.size());
    for (std::size_t i = 0; i < small->files.size(); ++i) {
      FUZZ_CHECK(small->files[i].size == full->files[i].size);
      FUZZ_CHECK(small->files[i].pad == full->files[i].pad);
    }
    FUZZ_CHECK(small->trackers == full->trackers);
  } else {
    check_error(small.error(), input);
  }

  // the sanitiser on its own, over a bounded slice of the input
  const auto slice = input.substr(0, 4096);
  for (std::size_t max : {std::size_t{255}, std::size_t{5}}) {
    for (auto& c : sanitize_path_element(slice, max))
      check_component(c, max, slice);
  }
  return 0;
}
