#include "storage/resume_data.hpp"

#include "protocol/bencode.hpp"
#include "protocol/bitfield.hpp"
#include "storage/posix_util.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actorrent::storage {

namespace {

constexpr std::string_view key_downloaded = "downloaded";
constexpr std::string_view key_files = "files";
constexpr std::string_view key_info_hash = "info-hash";
constexpr std::string_view key_pieces = "pieces";
constexpr std::string_view key_seconds = "seconds-active";
constexpr std::string_view key_uploaded = "uploaded";
constexpr std::string_view key_version = "version";

// In bytewise order, as canonical bencoding wants them.
constexpr std::array<std::string_view, 7> known_keys = {key_downloaded, key_files, key_info_hash, key_pieces,
                                                        key_seconds,    key_uploaded, key_version};

std::int64_t clamp_signed(std::uint64_t v) {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(v, max));
}

error_info bad(std::string what, const bencode::node& at) {
  return make_error("bad resume data: " + std::move(what), at.offset());
}

error_info wrong_type(std::string_view name, const bencode::node& n, const char* expected) {
  return bad(std::string{name} + " is " + bencode::to_string(n.type()) + ", expected " + expected, n);
}

// A non-negative integer.
result<std::uint64_t> count_of(std::string_view name, const bencode::node& n) {
  if (!n.is_int())
    return wrong_type(name, n, "an integer");
  if (n.int_value() < 0)
    return bad(std::string{name} + " is negative (" + std::to_string(n.int_value()) + ")", n);
  return static_cast<std::uint64_t>(n.int_value());
}

// The root dictionary: exactly the known keys, each once, in sorted order.
status check_keys(const bencode::node& root) {
  std::array<bool, known_keys.size()> seen{};
  std::size_t prev = 0;
  for (const auto& [key, value] : root.items()) {
    auto it = std::find(known_keys.begin(), known_keys.end(), key);
    if (it == known_keys.end())
      return bad("unknown key \"" + std::string{key} + "\"", value);
    const auto idx = static_cast<std::size_t>(it - known_keys.begin());
    if (idx < prev) // the decoder already refused duplicates
      return bad("key \"" + std::string{key} + "\" out of order", value);
    seen[idx] = true;
    prev = idx;
  }
  for (std::size_t i = 0; i < known_keys.size(); ++i)
    if (!seen[i])
      return bad("missing key \"" + std::string{known_keys[i]} + "\"", root);
  return {};
}

result<file_stamp> stamp_of(std::size_t index, const bencode::node& n) {
  const auto name = "files[" + std::to_string(index) + "]";
  if (!n.is_list() || n.size() != 3)
    return bad(name + " is not a list of 3 integers [exists size mtime_ns]", n);
  const auto parts = n.elements();
  auto exists = count_of(name + ".exists", parts[0]);
  if (!exists)
    return exists.error();
  if (*exists > 1)
    return bad(name + ".exists is " + std::to_string(*exists) + ", expected 0 or 1", parts[0]);
  auto size = count_of(name + ".size", parts[1]);
  if (!size)
    return size.error();
  if (!parts[2].is_int())
    return wrong_type(name + ".mtime_ns", parts[2], "an integer");
  file_stamp out{*exists == 1, *size, parts[2].int_value()};
  if (!out.exists && (out.size != 0 || out.mtime_ns != 0))
    return bad(name + " is a missing file with a size or mtime", n);
  return out;
}

// mkdir -p: every missing directory of `dir`. Errors on the way up are left for
// the last mkdir, or the open after it, to report.
status make_dirs(const std::string& dir) {
  for (auto slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
    ::mkdir(dir.substr(0, slash).c_str(), 0755);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    int e = errno;
    return make_error("cannot create directory " + dir + ": " + errno_text(e));
  }
  return {};
}

status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(errno_text(errno));
    if (n == 0)
      return make_error("no bytes written");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

status sync_fd(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR)
      return make_error(errno_text(errno));
  }
  return {};
}

} // namespace

std::size_t max_resume_size(const file_layout& layout) {
  // keys, counters, the info-hash and the bitfield's length prefix fit in 512
  // bytes; one file entry is at most "l" "i1e" "i<20 digits>e" "i<-19 digits>e" "e"
  // = 49 bytes
  return 512 + bitfield::bytes_for(layout.num_pieces()) + 64 * layout.num_files();
}

std::string encode_resume(const resume_data& data) {
  bitfield bits{data.pieces.size()};
  for (std::size_t i = 0; i < data.pieces.size(); ++i)
    bits.assign(i, data.pieces[i]);
  const auto raw = bits.bytes();
  bencode::list files;
  files.reserve(data.files.size());
  for (const auto& f : data.files) {
    // a missing file is [0 0 0] whatever else its stamp holds: decode_resume
    // refuses a missing file with a size or mtime
    if (f.exists)
      files.emplace_back(bencode::list{std::int64_t{1}, clamp_signed(f.size), f.mtime_ns});
    else
      files.emplace_back(bencode::list{std::int64_t{0}, std::int64_t{0}, std::int64_t{0}});
  }
  bencode::dict root;
  root[std::string{key_downloaded}] = clamp_signed(data.downloaded);
  root[std::string{key_files}] = std::move(files);
  root[std::string{key_info_hash}] = data.info_hash.view();
  root[std::string{key_pieces}] = std::string{reinterpret_cast<const char*>(raw.data()), raw.size()};
  root[std::string{key_seconds}] = clamp_signed(data.seconds_active);
  root[std::string{key_uploaded}] = clamp_signed(data.uploaded);
  root[std::string{key_version}] = resume_format_version;
  return bencode::encode(root);
}

result<resume_data> decode_resume(std::string_view bytes, const file_layout& layout,
                                  const sha1_hash& expected_info_hash) {
  const auto cap = max_resume_size(layout);
  if (bytes.size() > cap)
    return make_error("bad resume data: " + std::to_string(bytes.size()) + " bytes, more than the "
                      + std::to_string(cap) + " expected at most");
  bencode::limits lim;
  lim.max_depth = 3; // root, files, one file
  // root + known keys and values + 4 per file, with room for a few unknown keys
  // so that they are reported as such
  lim.max_tokens = 64 + 4 * layout.num_files();
  auto doc = bencode::decode(bytes, lim);
  if (!doc)
    return make_error("bad resume data: " + doc.error().message, doc.error().offset);
  const auto root = doc->root();
  if (!root.is_dict())
    return wrong_type("the resume data", root, "a dictionary");
  // the version first: another version may well have other keys
  const auto version = root.find(key_version);
  if (!version)
    return bad("missing key \"version\"", root);
  if (!version.is_int())
    return wrong_type(key_version, version, "an integer");
  if (version.int_value() != resume_format_version)
    return bad("unsupported version " + std::to_string(version.int_value()) + " (this program reads version "
                 + std::to_string(resume_format_version) + ")",
               version);
  if (auto st = check_keys(root); !st)
    return st.error();

  resume_data out;
  const auto ih = root.find(key_info_hash);
  if (!ih.is_string())
    return wrong_type(key_info_hash, ih, "a 20-byte string");
  auto hash = sha1_hash::from_bytes(ih.string_value());
  if (!hash)
    return bad("info-hash has " + std::to_string(ih.string_value().size()) + " bytes, expected 20", ih);
  if (*hash != expected_info_hash)
    return bad("info-hash " + hash->hex() + " is not this torrent's (" + expected_info_hash.hex() + ")", ih);
  out.info_hash = *hash;

  const auto pieces = root.find(key_pieces);
  if (!pieces.is_string())
    return wrong_type(key_pieces, pieces, "a bitfield string");
  const auto raw = pieces.string_value();
  auto bits = bitfield::from_wire({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()},
                                  layout.num_pieces());
  if (!bits)
    return bad("pieces: " + bits.error().message, pieces);
  out.pieces.resize(layout.num_pieces());
  for (std::size_t i = 0; i < out.pieces.size(); ++i)
    out.pieces[i] = bits->test(i);

  const auto files = root.find(key_files);
  if (!files.is_list())
    return wrong_type(key_files, files, "a list");
  if (files.size() != layout.num_files())
    return bad("files has " + std::to_string(files.size()) + " entries, expected " + std::to_string(layout.num_files()),
               files);
  const auto entries = files.elements();
  out.files.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto stamp = stamp_of(i, entries[i]);
    if (!stamp)
      return stamp.error();
    out.files.push_back(*stamp);
  }

  const std::array<std::pair<std::string_view, std::uint64_t*>, 3> counters = {
    {{key_downloaded, &out.downloaded}, {key_seconds, &out.seconds_active}, {key_uploaded, &out.uploaded}}};
  for (const auto& [name, dst] : counters) {
    auto v = count_of(name, root.find(name));
    if (!v)
      return v.error();
    *dst = *v;
  }
  return out;
}

status write_resume_file(const std::string& path, const resume_data& data) {
  auto fail = [&](std::string what) { return make_error("cannot write " + path + ": " + std::move(what)); };
  if (path.empty() || path.back() == '/')
    return fail("not a file name");
  if (path.find('\0') != std::string::npos)
    return fail("NUL byte in the path");
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (auto st = make_dirs(dir); !st)
    return fail(st.error().message);
  const auto bytes = encode_resume(data);
  const auto tmp = path + ".tmp-" + std::to_string(::getpid());
  // O_NOFOLLOW: never write through a link planted at the temporary name
  unique_fd fd{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644)};
  if (fd.get() < 0) {
    int e = errno;
    return fail("cannot create " + tmp + ": " + errno_text(e));
  }
  auto fail_tmp = [&](const std::string& step, const error_info& err) {
    fd.reset();
    ::unlink(tmp.c_str());
    return fail(step + " " + tmp + ": " + err.message);
  };
  if (auto st = write_all(fd.get(), bytes); !st)
    return fail_tmp("cannot write", st.error());
  if (auto st = sync_fd(fd.get()); !st)
    return fail_tmp("cannot sync", st.error());
  if (::close(fd.release()) != 0) {
    int e = errno;
    return fail_tmp("cannot close", make_error(errno_text(e)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    return fail_tmp("cannot rename", make_error(errno_text(e)));
  }
  // the rename is durable once the directory is
  unique_fd dfd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dfd.get() < 0) {
    int e = errno;
    return fail("cannot open directory " + dir + ": " + errno_text(e));
  }
  if (auto st = sync_fd(dfd.get()); !st)
    return fail("cannot sync directory " + dir + ": " + st.error().message);
  return {};
}

result<std::optional<resume_data>> read_resume_file(const std::string& path, const file_layout& layout,
                                                    const sha1_hash& expected_info_hash) {
  auto fail = [&](std::string what, std::size_t offset = error_info::no_offset) {
    return make_error("resume file " + path + ": " + std::move(what), offset);
  };
  // O_NONBLOCK: a FIFO planted at the path must not hang us (it is refused below)
  unique_fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (fd.get() < 0) {
    int e = errno;
    if (e == ENOENT)
      return std::optional<resume_data>{};
    return fail("cannot open: " + errno_text(e));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    int e = errno;
    return fail("cannot stat: " + errno_text(e));
  }
  if (!S_ISREG(st.st_mode))
    return fail("not a regular file");
  const auto cap = max_resume_size(layout);
  const auto too_big = [&](std::uint64_t size) {
    return fail(std::to_string(size) + " bytes, more than the " + std::to_string(cap) + " expected at most for "
                + std::to_string(layout.num_pieces()) + " pieces and " + std::to_string(layout.num_files())
                + " files");
  };
  if (static_cast<std::uint64_t>(st.st_size) > cap)
    return too_big(static_cast<std::uint64_t>(st.st_size));
  // read at most cap + 1 bytes: the file may have grown since the fstat
  std::string bytes(cap + 1, '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    auto n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      return fail("cannot read: " + errno_text(e));
    }
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  if (got > cap)
    return too_big(got);
  bytes.resize(got);
  auto data = decode_resume(bytes, layout, expected_info_hash);
  if (!data)
    return fail(data.error().message, data.error().offset);
  return std::optional<resume_data>{std::move(*data)};
}

resume_plan plan_resume(const file_layout& layout, const resume_data& saved, const std::vector<file_stamp>& now) {
  const auto n = layout.num_pieces();
  resume_plan plan{std::vector<bool>(n, false), std::vector<bool>(n, true)};
  if (saved.pieces.size() != n || saved.files.size() != layout.num_files() || now.size() != layout.num_files())
    return plan;
  plan.trusted = saved.pieces;
  for (std::size_t i = 0; i < layout.num_files(); ++i) {
    const auto& f = layout.file(i);
    if (f.pad || f.size == 0 || saved.files[i] == now[i])
      continue;
    const auto range = layout.file_pieces(i);
    for (auto p = range.first; p < range.end; ++p)
      plan.trusted[p] = false;
  }
  for (std::size_t p = 0; p < n; ++p)
    plan.to_check[p] = !plan.trusted[p];
  return plan;
}

} // namespace actorrent::storage
