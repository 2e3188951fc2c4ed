#include "protocol/metainfo_writer.hpp"

#include "protocol/bencode.hpp"

namespace actorrent {

std::uint64_t default_piece_length(std::uint64_t total_size) {
  std::uint64_t len = 16 * 1024;
  while (len < (16u << 20) && total_size / len > 2000)
    len *= 2;
  return len;
}

result<std::string> write_metainfo(const torrent_spec& spec) {
  if (spec.name.empty())
    return make_error("torrent name is empty");
  if (spec.piece_length == 0)
    return make_error("piece length is zero");
  if (spec.files.empty())
    return make_error("no files");
  if (!spec.multi_file && spec.files.size() != 1)
    return make_error("a single-file torrent needs exactly one file");
  std::uint64_t total = 0;
  for (auto& f : spec.files)
    total += f.size;
  if (total == 0)
    return make_error("total size is zero: nothing to share");
  const auto pieces = (total + spec.piece_length - 1) / spec.piece_length;
  if (spec.piece_hashes.size() != pieces * 20)
    return make_error("expected " + std::to_string(pieces) + " piece hashes, got "
                      + std::to_string(spec.piece_hashes.size() / 20));
  bencode::dict info;
  info["name"] = spec.name;
  info["piece length"] = static_cast<std::int64_t>(spec.piece_length);
  info["pieces"] = spec.piece_hashes;
  if (spec.is_private)
    info["private"] = 1;
  if (spec.multi_file) {
    bencode::list files;
    for (auto& f : spec.files) {
      if (f.path.empty())
        return make_error("a file has an empty path");
      bencode::list path;
      for (auto& c : f.path)
        path.emplace_back(c);
      bencode::dict entry;
      entry["length"] = static_cast<std::int64_t>(f.size);
      entry["path"] = std::move(path);
      if (f.executable)
        entry["attr"] = "x";
      files.emplace_back(std::move(entry));
    }
    info["files"] = std::move(files);
  } else {
    info["length"] = static_cast<std::int64_t>(spec.files.front().size);
    if (spec.files.front().executable)
      info["attr"] = "x";
  }
  bencode::dict root;
  if (!spec.trackers.empty() && !spec.trackers.front().empty())
    root["announce"] = spec.trackers.front().front();
  if (spec.trackers.size() > 1 || (!spec.trackers.empty() && spec.trackers.front().size() > 1)) {
    bencode::list tiers;
    for (auto& tier : spec.trackers) {
      bencode::list t;
      for (auto& url : tier)
        t.emplace_back(url);
      tiers.emplace_back(std::move(t));
    }
    root["announce-list"] = std::move(tiers);
  }
  if (!spec.url_list.empty()) {
    bencode::list ul;
    for (auto& u : spec.url_list)
      ul.emplace_back(u);
    root["url-list"] = std::move(ul);
  }
  if (!spec.comment.empty())
    root["comment"] = spec.comment;
  if (!spec.created_by.empty())
    root["created by"] = spec.created_by;
  if (spec.creation_date)
    root["creation date"] = *spec.creation_date;
  root["info"] = std::move(info);
  return bencode::encode(root);
}

} // namespace actorrent
