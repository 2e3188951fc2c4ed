#include "logic/file_selection.hpp"

#include "protocol/text.hpp"

#include <algorithm>

namespace actorrent::logic {

namespace {

/// Digits (at most 9) as a number, or 0 for anything else (file numbers start at 1).
std::uint64_t number(std::string_view t) {
  if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string_view::npos)
    return 0;
  std::uint64_t v = 0;
  for (char c : t)
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

/// The pieces [first, last] that hold the bytes of a non-empty file.
std::pair<std::uint64_t, std::uint64_t> piece_span(const file_entry& f, std::uint64_t piece_length) {
  return {f.offset / piece_length, (f.offset + f.size - 1) / piece_length};
}

} // namespace

std::size_t user_file_count(const std::vector<file_entry>& files) {
  return static_cast<std::size_t>(std::count_if(files.begin(), files.end(), [](auto& f) { return !f.pad; }));
}

result<std::vector<bool>> parse_file_selection(std::string_view text, const std::vector<file_entry>& files) {
  auto n = user_file_count(files);
  // entry index of each user file number (1-based)
  std::vector<std::size_t> entry_of;
  for (std::size_t i = 0; i < files.size(); ++i)
    if (!files[i].pad)
      entry_of.push_back(i);
  std::vector<bool> selected(files.size(), false);
  auto bad = [&] { return make_error("expected file numbers like 1,3-5, got " + text::quote(text)); };
  if (text.empty())
    return bad();
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    auto dash = item.find('-');
    auto lo = number(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : number(item.substr(dash + 1));
    if (lo == 0 || hi == 0)
      return bad();
    if (hi < lo)
      return make_error("range " + std::to_string(lo) + "-" + std::to_string(hi) + " is backwards");
    if (hi > n)
      return make_error("file " + std::to_string(hi) + " does not exist (the torrent has " + std::to_string(n)
                        + (n == 1 ? " file)" : " files)"));
    for (auto k = lo; k <= hi; ++k)
      selected[entry_of[k - 1]] = true;
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  return selected;
}

std::vector<bool> wanted_pieces(const std::vector<bool>& selected, const std::vector<file_entry>& files,
                                std::uint64_t piece_length, std::uint32_t num_pieces) {
  std::vector<bool> wanted(num_pieces, false);
  if (piece_length == 0)
    return wanted;
  for (std::size_t i = 0; i < files.size() && i < selected.size(); ++i) {
    if (!selected[i] || files[i].pad || files[i].size == 0)
      continue;
    auto [first, last] = piece_span(files[i], piece_length);
    for (auto p = first; p <= last && p < num_pieces; ++p)
      wanted[p] = true;
  }
  return wanted;
}

std::vector<std::uint32_t> boundary_pieces(const std::vector<bool>& selected, const std::vector<file_entry>& files,
                                           std::uint64_t piece_length, std::uint32_t num_pieces) {
  auto wanted = wanted_pieces(selected, files, piece_length, num_pieces);
  std::vector<bool> mixed(num_pieces, false);
  if (piece_length == 0)
    return {};
  for (std::size_t i = 0; i < files.size(); ++i) {
    bool sel = i < selected.size() && selected[i];
    if (sel || files[i].pad || files[i].size == 0)
      continue;
    // only the first and last piece of an unselected file can be shared with another file
    auto [first, last] = piece_span(files[i], piece_length);
    for (auto p : {first, last})
      if (p < num_pieces && wanted[p])
        mixed[p] = true;
  }
  std::vector<std::uint32_t> out;
  for (std::uint32_t p = 0; p < num_pieces; ++p)
    if (mixed[p])
      out.push_back(p);
  return out;
}

} // namespace actorrent::logic
