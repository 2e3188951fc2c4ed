#include "storage/content_scan.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace actorrent::storage {

result<scanned_content> scan_content(const std::string& path) {
  scanned_content out;
  std::error_code ec;
  fs::path root = fs::path{path}.lexically_normal();
  if (root.has_filename() == false && root.has_parent_path())
    root = root.parent_path(); // "dir/" -> "dir"
  // symlinks are never followed (download and seed refuse them in a torrent's
  // tree too): a linked path is refused, linked entries below a directory skipped
  auto st = fs::symlink_status(root, ec);
  if (ec)
    return make_error("cannot access " + path + ": " + ec.message());
  if (fs::is_symlink(st))
    return make_error(path + " is a symbolic link; give the path it points to (links are not followed)");
  out.name = fs::absolute(root, ec).filename().string();
  if (out.name.empty() || out.name == "." || out.name == "..")
    out.name = fs::weakly_canonical(fs::absolute(root), ec).filename().string();
  if (out.name.empty())
    return make_error("cannot derive a torrent name from " + path);
  auto exec_bit = [](fs::perms p) { return (p & fs::perms::owner_exec) != fs::perms::none; };
  if (fs::is_regular_file(st)) {
    scanned_file f;
    f.full_path = root.string();
    f.size = fs::file_size(root, ec);
    if (ec)
      return make_error("cannot stat " + path + ": " + ec.message());
    f.executable = exec_bit(st.permissions());
    out.total_size = f.size;
    out.files.push_back(std::move(f));
    return out;
  }
  if (!fs::is_directory(st))
    return make_error(path + " is neither a regular file nor a directory");
  out.is_directory = true;
  fs::recursive_directory_iterator it{root, fs::directory_options::none, ec}, end;
  if (ec)
    return make_error("cannot read directory " + path + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec)
      return make_error("cannot read directory below " + path + ": " + ec.message());
    const auto& entry = *it;
    auto rel = entry.path().lexically_relative(root);
    if (entry.is_symlink(ec)) { // to a file or a directory: not followed
      out.skipped.push_back(rel.string());
      continue;
    }
    if (entry.is_directory(ec))
      continue;
    if (!entry.is_regular_file(ec)) {
      out.skipped.push_back(rel.string());
      continue;
    }
    scanned_file f;
    for (auto& c : rel)
      f.components.push_back(c.string());
    f.full_path = entry.path().string();
    f.size = entry.file_size(ec);
    if (ec)
      return make_error("cannot stat " + f.full_path + ": " + ec.message());
    f.executable = exec_bit(entry.symlink_status(ec).permissions());
    out.total_size += f.size;
    out.files.push_back(std::move(f));
  }
  if (out.files.empty())
    return make_error(path + " contains no regular files");
  std::sort(out.files.begin(), out.files.end(),
            [](const scanned_file& a, const scanned_file& b) { return a.components < b.components; });
  return out;
}

} // namespace actorrent::storage
