#include "protocol/metainfo.hpp"

#include "protocol/bencode.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace actorrent {

namespace {

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence, keeping a
// short extension (".mkv") when there is one.
std::string shorten_component(std::string s, std::size_t max) {
  if (s.size() <= max)
    return s;
  std::string ext;
  if (auto dot = s.rfind('.'); dot != std::string::npos && dot > 0 && s.size() - dot <= 16)
    ext = s.substr(dot);
  std::size_t keep = max > ext.size() ? max - ext.size() : max;
  if (keep == max)
    ext.clear();
  // step back over UTF-8 continuation bytes so a code point is not split
  while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80)
    --keep;
  auto out = s.substr(0, keep) + ext;
  // stray continuation bytes can leave nothing, or only dots: never a valid name
  if (out.find_first_not_of('.') == std::string::npos)
    out = "_";
  return out;
}

std::string_view preferred_utf8(bencode::node dict, std::string_view key, std::string_view utf8_key) {
  if (auto v = dict.find_string(utf8_key))
    return *v;
  if (auto v = dict.find_string(key))
    return *v;
  return {};
}

// Splits "name.ext" into ("name", ".ext"), for duplicate renaming.
std::pair<std::string, std::string> split_extension(const std::string& leaf) {
  auto dot = leaf.rfind('.');
  if (dot == std::string::npos || dot == 0)
    return {leaf, ""};
  return {leaf.substr(0, dot), leaf.substr(dot)};
}

// Keeps every file path unique and never both a file and a directory.
class path_registry {
public:
  explicit path_registry(std::size_t max_component_bytes) : max_bytes_(max_component_bytes) {}

  // Returns a free variant of `components` (renaming clashing parts) and
  // registers it.
  std::string claim(std::vector<std::string> components) {
    std::string prefix;
    for (std::size_t i = 0; i + 1 < components.size(); ++i) {
      auto dir = join(prefix, components[i]);
      if (files_.count(dir) != 0) {
        components[i] = free_name(prefix, components[i]);
        dir = join(prefix, components[i]);
      }
      dirs_.insert(dir);
      prefix = std::move(dir);
    }
    auto& leaf = components.back();
    auto full = join(prefix, leaf);
    if (files_.count(full) != 0 || dirs_.count(full) != 0)
      full = join(prefix, free_name(prefix, leaf));
    files_.insert(full);
    return full;
  }

private:
  static std::string join(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + '/' + b;
  }

  bool taken(const std::string& p) const { return files_.count(p) != 0 || dirs_.count(p) != 0; }

  std::string free_name(const std::string& prefix, const std::string& leaf) {
    auto [stem, ext] = split_extension(leaf);
    auto& n = next_suffix_[join(prefix, leaf)];
    for (;;) {
      auto suffix = "." + std::to_string(++n) + ext;
      // keep the renamed component within the length limit too
      auto candidate = suffix.size() < max_bytes_
                         ? shorten_component(stem, max_bytes_ - suffix.size()) + suffix
                         : shorten_component(stem + suffix, max_bytes_);
      if (!taken(join(prefix, candidate)))
        return candidate;
    }
  }

  std::unordered_set<std::string> files_;
  std::unordered_set<std::string> dirs_;
  std::unordered_map<std::string, std::size_t> next_suffix_;
  std::size_t max_bytes_;
};

struct parsed_path {
  std::vector<std::string> components;
};

// Reads a BEP 3 path list (strings only), sanitising each element.
result<parsed_path> read_path_list(bencode::node list, const metainfo_limits& lim, std::size_t file_index) {
  parsed_path out;
  if (list.size() > lim.max_path_depth)
    return make_error("path of file " + std::to_string(file_index) + " is deeper than "
                        + std::to_string(lim.max_path_depth),
                      list.offset());
  for (auto& e : list.elements()) {
    if (!e.is_string())
      return make_error("invalid path of file " + std::to_string(file_index)
                          + ": element is not a string",
                        e.offset());
    for (auto& c : sanitize_path_element(e.string_value(), lim.max_component_bytes))
      out.components.push_back(std::move(c));
    if (out.components.size() > lim.max_path_depth) // separators inside elements count too
      return make_error("path of file " + std::to_string(file_index) + " is deeper than "
                          + std::to_string(lim.max_path_depth),
                        e.offset());
  }
  return out;
}

struct v1_file_view {
  std::vector<std::string_view> path; // raw, unsanitised components
  std::uint64_t size;
  std::uint64_t offset;
};

// Collects the files of a BEP 52 "file tree" in order.
status walk_file_tree(bencode::node dir, std::vector<std::string_view>& prefix,
                      std::vector<v1_file_view>& out) {
  for (auto& [name, child] : dir.items()) {
    if (!child.is_dict())
      return make_error("invalid v2 'file tree': entry is not a dictionary", child.offset());
    if (auto leaf = child.find(""); leaf) {
      if (!leaf.is_dict())
        return make_error("invalid v2 'file tree': file entry is not a dictionary", leaf.offset());
      auto len = leaf.find_int("length");
      if (!len || *len < 0)
        return make_error("invalid v2 'file tree': file without a valid length", leaf.offset());
      prefix.push_back(name);
      out.push_back({prefix, static_cast<std::uint64_t>(*len), 0});
      prefix.pop_back();
      continue;
    }
    if (child.size() == 0)
      return make_error("invalid v2 'file tree': empty directory", child.offset());
    prefix.push_back(name);
    if (auto st = walk_file_tree(child, prefix, out); !st)
      return st;
    prefix.pop_back();
  }
  return {};
}

// A hybrid torrent is loaded as v1, but only if its v2 half describes the same
// files: otherwise v1 and v2 peers would download different content.
status check_hybrid(bencode::node info, const std::vector<v1_file_view>& v1,
                    std::uint64_t piece_length) {
  auto tree = info.find_dict("file tree");
  if (!tree)
    return make_error("hybrid torrent without a v2 'file tree'");
  std::vector<v1_file_view> v2;
  std::vector<std::string_view> prefix;
  if (auto st = walk_file_tree(tree, prefix, v2); !st)
    return st;
  const char* mismatch = "the v1 and v2 file metadata of this hybrid torrent do not match";
  if (v2.size() != v1.size())
    return make_error(mismatch);
  for (std::size_t i = 0; i < v1.size(); ++i) {
    // single-file torrents hold the name itself in the tree; multi-file ones
    // hold paths relative to the name, as the v1 'path' lists do
    if (v2[i].path != v1[i].path || v2[i].size != v1[i].size)
      return make_error(mismatch);
    if (v1[i].offset % piece_length != 0 && v1[i].size > 0)
      return make_error("hybrid torrent: file " + std::to_string(i)
                        + " does not start at a piece boundary (missing pad file)");
  }
  return {};
}

} // namespace

std::vector<std::string> sanitize_path_element(std::string_view element,
                                               std::size_t max_component_bytes) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && cur != "." && cur != "..")
      out.push_back(shorten_component(std::move(cur), max_component_bytes));
    cur.clear();
  };
  for (char c : element) {
    if (c == '/' || c == '\\') {
      flush();
    } else {
      auto u = static_cast<unsigned char>(c);
      cur.push_back(u < 0x20 || u == 0x7f ? '_' : c);
    }
  }
  flush();
  return out;
}

sha1_hash metainfo::piece_hash(std::size_t index) const {
  return *sha1_hash::from_bytes(std::string_view{piece_hashes}.substr(index * 20, 20));
}

std::uint64_t metainfo::piece_size(std::size_t index) const {
  auto begin = static_cast<std::uint64_t>(index) * piece_length;
  return std::min(piece_length, total_size - begin);
}

std::vector<std::string> metainfo::all_trackers() const {
  std::vector<std::string> out;
  for (auto& tier : trackers)
    out.insert(out.end(), tier.begin(), tier.end());
  return out;
}

result<metainfo> parse_metainfo(std::string_view bytes, const metainfo_limits& lim) {
  if (bytes.size() > lim.max_file_bytes)
    return make_error("torrent file larger than " + std::to_string(lim.max_file_bytes) + " bytes");
  bencode::limits blim;
  blim.max_depth = lim.max_bencode_depth;
  blim.allow_trailing = true; // real-world files often end with a newline or junk
  auto doc = bencode::decode(bytes, blim);
  if (!doc)
    return make_error("invalid bencoding: " + doc.error().message, doc.error().offset);
  auto root = doc->root();
  if (!root.is_dict())
    return make_error("torrent file is not a dictionary", 0);
  auto info = root.find("info");
  if (!info || !info.is_dict())
    return make_error("missing or invalid 'info' dictionary", info ? info.offset() : error_info::no_offset);
  metainfo mi;
  mi.info_hash = sha1(info.raw());

  // ---- v2 / hybrid ----------------------------------------------------------
  auto meta_version = info.find_int("meta version");
  const bool has_pieces = static_cast<bool>(info.find("pieces"));
  if (meta_version && *meta_version == 2) {
    if (!has_pieces)
      return make_error("v2-only torrent (BEP 52) is not supported yet; only v1 and hybrid torrents are");
    mi.hybrid = true;
  } else if (meta_version && *meta_version != 1) {
    return make_error("unknown 'meta version' " + std::to_string(*meta_version));
  }

  // ---- piece length and hashes --------------------------------------------
  auto plen = info.find("piece length");
  if (!plen || !plen.is_int())
    return make_error("missing or non-integer 'piece length'", plen ? plen.offset() : error_info::no_offset);
  if (plen.int_value() <= 0 || static_cast<std::uint64_t>(plen.int_value()) > lim.max_piece_length)
    return make_error("invalid 'piece length' " + std::to_string(plen.int_value()) + " (must be 1 to "
                        + std::to_string(lim.max_piece_length) + ")",
                      plen.offset());
  mi.piece_length = static_cast<std::uint64_t>(plen.int_value());
  auto pieces = info.find("pieces");
  if (!pieces || !pieces.is_string())
    return make_error("missing or invalid 'pieces'", pieces ? pieces.offset() : error_info::no_offset);
  if (pieces.string_value().size() % 20 != 0)
    return make_error("'pieces' length " + std::to_string(pieces.string_value().size())
                        + " is not a multiple of 20",
                      pieces.offset());

  // ---- name ------------------------------------------------------------------
  auto raw_name_node = info.find("name.utf-8");
  if (!raw_name_node || !raw_name_node.is_string())
    raw_name_node = info.find("name");
  if (!raw_name_node || !raw_name_node.is_string())
    return make_error("missing or invalid 'name'", raw_name_node ? raw_name_node.offset() : error_info::no_offset);
  auto raw_name = raw_name_node.string_value();
  if (raw_name.find('\0') != std::string_view::npos)
    return make_error("invalid 'name': contains NUL bytes", raw_name_node.offset());
  {
    // the name is one component: separators inside it become '_'
    std::string flat{raw_name};
    std::replace(flat.begin(), flat.end(), '/', '_');
    std::replace(flat.begin(), flat.end(), '\\', '_');
    auto comps = sanitize_path_element(flat, lim.max_component_bytes);
    mi.name = comps.empty() ? mi.info_hash.hex() : comps.front();
  }

  // ---- files -------------------------------------------------------------------
  std::uint64_t total = 0;
  auto add_size = [&](std::int64_t len, std::size_t off) -> status {
    if (len < 0)
      return make_error("negative file length " + std::to_string(len), off);
    auto ulen = static_cast<std::uint64_t>(len);
    if (ulen > lim.max_total_size || total > lim.max_total_size - ulen)
      return make_error("total size exceeds " + std::to_string(lim.max_total_size) + " bytes", off);
    total += ulen;
    return {};
  };
  std::vector<v1_file_view> v1_files; // non-pad files, for the hybrid check
  if (auto files = info.find("files")) {
    if (!files.is_list())
      return make_error("'files' is not a list", files.offset());
    if (files.size() == 0)
      return make_error("no files in torrent", files.offset());
    if (files.size() > lim.max_files)
      return make_error("more than " + std::to_string(lim.max_files) + " files", files.offset());
    mi.multi_file = true;
    path_registry registry{lim.max_component_bytes};
    std::size_t index = 0;
    for (auto& f : files.elements()) {
      if (!f.is_dict())
        return make_error("file " + std::to_string(index) + " is not a dictionary", f.offset());
      file_entry fe;
      if (auto attr = f.find_string("attr")) {
        fe.pad = attr->find('p') != std::string_view::npos;
        fe.executable = attr->find('x') != std::string_view::npos;
        fe.hidden = attr->find('h') != std::string_view::npos;
        fe.symlink = attr->find('l') != std::string_view::npos;
      }
      auto len = f.find("length");
      if (fe.symlink) {
        // a symlink carries no data: any 'length' it states is ignored
      } else if (!len || !len.is_int()) {
        return make_error("file " + std::to_string(index) + " has no integer 'length'", f.offset());
      } else {
        if (auto st = add_size(len.int_value(), len.offset()); !st)
          return st.error();
        fe.size = static_cast<std::uint64_t>(len.int_value());
      }
      fe.offset = total - fe.size;
      auto path = f.find("path.utf-8");
      if (!path || !path.is_list())
        path = f.find("path");
      if (!fe.pad && path && path.is_list() && path.size() > 0) {
        // BitComet-style pad files: "_____padding_file_*" without attributes
        auto last = path.at(path.size() - 1);
        if (last.is_string() && last.string_value().starts_with("_____padding_file_"))
          fe.pad = true;
      }
      if (!fe.pad && path && path.is_list()) {
        std::vector<std::string_view> raw;
        for (auto& e : path.elements())
          if (e.is_string())
            raw.push_back(e.string_value());
        v1_files.push_back({std::move(raw), fe.size, fe.offset});
      }
      if (fe.pad) {
        // pad files are never written; their path only labels them
        fe.path = mi.name + "/.pad/" + std::to_string(fe.size);
      } else {
        if (!path || !path.is_list())
          return make_error("file " + std::to_string(index) + " has no 'path' list", f.offset());
        auto pp = read_path_list(path, lim, index);
        if (!pp)
          return pp.error();
        auto comps = std::move(pp->components);
        if (comps.empty())
          comps.push_back("_");
        comps.insert(comps.begin(), mi.name);
        fe.path = registry.claim(std::move(comps));
      }
      if (fe.symlink) {
        auto target = f.find_list("symlink path");
        if (!target)
          return make_error("symlink file " + std::to_string(index) + " has no 'symlink path' list", f.offset());
        auto tp = read_path_list(target, lim, index);
        if (!tp)
          return tp.error();
        std::string joined;
        for (auto& c : tp->components)
          joined += (joined.empty() ? "" : "/") + c;
        fe.symlink_target = std::move(joined);
      }
      mi.files.push_back(std::move(fe));
      ++index;
    }
  } else {
    auto len = info.find("length");
    if (!len || !len.is_int())
      return make_error("missing 'length' and 'files': no files in torrent", info.offset());
    if (auto st = add_size(len.int_value(), len.offset()); !st)
      return st.error();
    file_entry fe;
    fe.path = mi.name;
    fe.size = total;
    mi.files.push_back(std::move(fe));
    v1_files.push_back({{raw_name}, total, 0});
  }
  if (total == 0)
    return make_error("torrent has no data (total size 0)");
  mi.total_size = total;
  const auto expected_pieces = (total + mi.piece_length - 1) / mi.piece_length;
  if (expected_pieces > lim.max_pieces)
    return make_error("too many pieces: " + std::to_string(expected_pieces) + " (limit "
                      + std::to_string(lim.max_pieces) + ")");
  if (pieces.string_value().size() / 20 != expected_pieces)
    return make_error("incorrect number of piece hashes: " + std::to_string(pieces.string_value().size() / 20)
                        + " for " + std::to_string(expected_pieces) + " pieces",
                      pieces.offset());
  if (mi.hybrid) {
    if (auto st = check_hybrid(info, v1_files, mi.piece_length); !st)
      return st.error();
  }
  mi.piece_hashes = std::string{pieces.string_value()};
  mi.is_private = info.find_int("private").value_or(0) == 1;

  // ---- outside info: trackers, web seeds, descriptive fields ----------------
  auto add_url = [](std::vector<std::string>& v, std::string_view url) {
    while (!url.empty() && std::isspace(static_cast<unsigned char>(url.front())))
      url.remove_prefix(1);
    while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back())))
      url.remove_suffix(1);
    if (!url.empty() && std::find(v.begin(), v.end(), url) == v.end())
      v.emplace_back(url);
  };
  std::unordered_set<std::string> seen_trackers;
  if (auto tiers = root.find_list("announce-list")) {
    for (auto& tier : tiers.elements()) {
      if (!tier.is_list())
        continue;
      std::vector<std::string> urls;
      for (auto& u : tier.elements())
        if (u.is_string())
          add_url(urls, u.string_value());
      std::erase_if(urls, [&](const std::string& u) { return !seen_trackers.insert(u).second; });
      if (!urls.empty())
        mi.trackers.push_back(std::move(urls));
    }
  }
  if (mi.trackers.empty()) {
    if (auto announce = root.find_string("announce")) {
      std::vector<std::string> urls;
      add_url(urls, *announce);
      if (!urls.empty())
        mi.trackers.push_back(std::move(urls));
    }
  }
  if (auto ul = root.find("url-list")) {
    if (ul.is_string())
      add_url(mi.url_list, ul.string_value());
    else if (ul.is_list())
      for (auto& u : ul.elements())
        if (u.is_string())
          add_url(mi.url_list, u.string_value());
  }
  mi.comment = std::string{preferred_utf8(root, "comment", "comment.utf-8")};
  mi.created_by = std::string{preferred_utf8(root, "created by", "created by.utf-8")};
  if (auto cd = root.find_int("creation date"))
    mi.creation_date = *cd;
  return mi;
}

result<metainfo> load_metainfo_file(const std::string& path, const metainfo_limits& lim) {
  std::unique_ptr<FILE, int (*)(FILE*)> f{std::fopen(path.c_str(), "rb"), &std::fclose};
  if (!f)
    return make_error("cannot open " + path + ": " + std::strerror(errno));
  std::string data;
  char buf[65536];
  for (;;) {
    auto n = std::fread(buf, 1, sizeof(buf), f.get());
    if (n == 0)
      break;
    if (data.size() + n > lim.max_file_bytes)
      return make_error(path + ": torrent file larger than " + std::to_string(lim.max_file_bytes) + " bytes");
    data.append(buf, n);
  }
  if (std::ferror(f.get()))
    return make_error("cannot read " + path + ": " + std::strerror(errno));
  auto mi = parse_metainfo(data, lim);
  if (!mi)
    return error_info{mi.error().message, mi.error().offset};
  return mi;
}

} // namespace actorrent
