#include "storage/overwrite_guard.hpp"

#include <algorithm>

namespace actorrent::storage {

overwrite_check check_overwrite(const file_layout& layout, const std::vector<file_stamp>& stamps,
                                const std::vector<bool>& verified, bool have_resume) {
  overwrite_check out;
  const bool ours = have_resume || std::find(verified.begin(), verified.end(), true) != verified.end();
  for (std::size_t i = 0; i < layout.num_files() && i < stamps.size(); ++i) {
    const auto& f = layout.file(i);
    if (f.pad || f.symlink || !stamps[i].exists)
      continue;
    if (stamps[i].size > f.size)
      out.too_long.push_back(i);
    if (!ours && stamps[i].size > 0)
      out.unrelated.push_back(i);
  }
  return out;
}

std::string describe_unrelated(const file_layout& layout, const overwrite_check& check, const std::string& shown_root) {
  if (check.unrelated.empty())
    return {};
  auto root = shown_root.empty() || shown_root.back() == '/' ? shown_root : shown_root + '/';
  std::string out = "refusing to overwrite " + root + layout.file(check.unrelated.front()).path;
  if (check.unrelated.size() > 1)
    out += " (and " + std::to_string(check.unrelated.size() - 1) + " more file"
           + (check.unrelated.size() > 2 ? "s" : "") + ")";
  out += ": it exists, but there is no resume data for this torrent and none of its data matches the "
         "torrent (download --force replaces it; or choose another directory)";
  return out;
}

} // namespace actorrent::storage
