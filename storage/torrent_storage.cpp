#include "storage/torrent_storage.hpp"

#include "storage/posix_util.hpp"

#include "storage/batch_hasher.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actorrent::storage {

namespace {

// A cached descriptor; shared so that evicting it from the cache while another
// thread reads through it only closes it once that read is done.
struct fd_holder {
  explicit fd_holder(int f) : fd(f) {}
  fd_holder(const fd_holder&) = delete;
  fd_holder& operator=(const fd_holder&) = delete;
  ~fd_holder() { ::close(fd); }
  int fd;
};
using shared_fd = std::shared_ptr<const fd_holder>;

// Every open below the root: never follow a symlink in the last component,
// never acquire a controlling terminal, never block on a FIFO.
constexpr int open_base = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;

// Largest single pread/pwrite request (Linux caps transfers near 2 GiB).
constexpr std::uint64_t max_io = 1u << 30;

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto slash = p.find('/', start);
    out.emplace_back(p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos)
      return out;
    start = slash + 1;
  }
}

bool is_symlink_at(int dir, const std::string& name) {
  struct stat st {};
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// An open failure of `name` in `dir`, shown as `shown`. With O_NOFOLLOW a
// symlink gives ELOOP, or ENOTDIR together with O_DIRECTORY.
std::string describe_open_failure(int dir, const std::string& name, const std::string& shown, int e) {
  if ((e == ELOOP || e == ENOTDIR) && is_symlink_at(dir, name))
    return shown + " is a symbolic link; refusing to follow it";
  return "cannot open " + shown + ": " + errno_text(e);
}

enum class access_mode { read, write };

struct opened {
  int fd = -1; // owned by the receiver on success
  bool writable = false;
  bool missing = false; // failed because something does not exist
  error_info err;
};

opened failure(int e, std::string msg) {
  opened out;
  out.missing = e == ENOENT;
  out.err = make_error(std::move(msg));
  return out;
}

} // namespace

status validate_relative_path(std::string_view path) {
  auto unsafe = [&](const char* why) {
    return make_error("unsafe path \"" + std::string{path} + "\": " + why);
  };
  if (path.empty())
    return make_error("empty path");
  if (path.find('\0') != std::string_view::npos)
    return unsafe("NUL byte");
  if (path.front() == '/')
    return unsafe("absolute");
  for (const auto& c : split_path(path)) {
    if (c.empty())
      return unsafe("empty component");
    if (c == "..")
      return unsafe("'..' component");
    if (c == ".")
      return unsafe("'.' component");
  }
  return {};
}

struct torrent_storage::impl {
  struct entry {
    shared_fd fd;
    bool writable = false;
    bool sized = false; // grown to its full size
    std::list<std::size_t>::iterator lru_pos;
  };

  impl(file_layout l, std::string hashes, std::string r, int rfd, std::size_t max)
    : layout(std::move(l)),
      piece_hashes(std::move(hashes)),
      root(std::move(r)),
      root_fd(rfd),
      max_open(std::max<std::size_t>(max, 1)),
      cache(layout.num_files()),
      dirty(layout.num_files(), 0),
      maps(layout.num_files()) {
    shown_root = root.back() == '/' ? root : root + '/';
  }

  ~impl() {
    cache.clear();
    ::close(root_fd);
  }

  const file_layout layout;
  const std::string piece_hashes;
  const std::string root;
  std::string shown_root; // root with one trailing '/'
  const int root_fd;
  const std::size_t max_open;

  std::mutex mtx; // guards everything below
  std::vector<entry> cache;
  std::list<std::size_t> lru; // front: most recently used
  std::size_t open_count = 0;
  std::vector<char> dirty;
  // read-only mappings of whole files (map_range), made on demand
  std::vector<std::shared_ptr<const file_mapping>> maps;
  std::size_t map_count = 0;

  // Files not selected (--select-file): never created, opened or written; the
  // bytes of theirs that a wanted piece holds go to the part file, at their
  // offset in the torrent (so it is sparse, indexed by piece). Set once, before
  // any I/O (skip_files), then only read.
  std::vector<char> skip;
  std::string part_path;  // relative to root; empty: no part file
  shared_fd part_fd;      // guarded by mtx
  bool part_writable = false;
  bool part_dirty = false;

  std::mutex zero_mtx; // guards zero_hashes
  std::vector<std::pair<std::uint64_t, sha1_hash>> zero_hashes;

  std::string full_path(std::size_t index) const { return shown_root + layout.file(index).path; }

  sha1_hash expected_hash(std::size_t piece) const {
    sha1_hash h;
    std::memcpy(h.bytes.data(), piece_hashes.data() + piece * 20, 20);
    return h;
  }

  // Grows a file to its full size (never shrinks it). Caller holds mtx.
  status ensure_size(int fd, std::size_t index) {
    const auto want = layout.file(index).size;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      return make_error("cannot stat " + full_path(index) + ": " + errno_text(e));
    }
    if (static_cast<std::uint64_t>(st.st_size) < want && ::ftruncate(fd, static_cast<off_t>(want)) != 0) {
      int e = errno;
      return make_error("cannot resize " + full_path(index) + " to " + std::to_string(want)
                        + " bytes: " + errno_text(e));
    }
    return {};
  }

  // The directory that holds file `index`, reached from root_fd one component
  // at a time without following symlinks, creating missing directories if
  // `create`. On failure returns false and fills `fail_out`.
  struct parent_dir {
    unique_fd held; // the directory, unless it is root_fd itself
    int fd = -1;
    std::string leaf;  // the file's last component
    std::string shown; // the file's full path, for messages
  };
  bool open_parent(std::size_t index, bool create, parent_dir& pd, opened& fail_out) const {
    auto comps = split_path(layout.file(index).path);
    pd.fd = root_fd;
    pd.shown = shown_root;
    for (std::size_t i = 0; i + 1 < comps.size(); ++i) {
      const auto& name = comps[i];
      pd.shown += name;
      int fd = ::openat(pd.fd, name.c_str(), O_RDONLY | O_DIRECTORY | open_base);
      if (fd < 0 && errno == ENOENT && create) {
        if (::mkdirat(pd.fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
          int e = errno;
          fail_out = failure(e, "cannot create directory " + pd.shown + ": " + errno_text(e));
          return false;
        }
        fd = ::openat(pd.fd, name.c_str(), O_RDONLY | O_DIRECTORY | open_base);
      }
      if (fd < 0) {
        int e = errno;
        fail_out = failure(e, describe_open_failure(pd.fd, name, pd.shown, e));
        return false;
      }
      pd.held.reset(fd);
      pd.fd = fd;
      pd.shown += '/';
    }
    pd.leaf = std::move(comps.back());
    pd.shown += pd.leaf;
    return true;
  }

  // Opens file `index` without following symlinks, creating its directories
  // and the file itself only for writing. Caller holds mtx.
  opened open_file(std::size_t index, access_mode mode) {
    opened out;
    const auto& fe = layout.file(index);
    const bool for_write = mode == access_mode::write;
    parent_dir pd;
    if (!open_parent(index, for_write, pd, out))
      return out;
    const int dir = pd.fd;
    const auto& leaf = pd.leaf;
    const auto& shown = pd.shown;
    int fd = -1;
    bool writable = true;
    if (for_write) {
      // O_CREAT | O_EXCL never follows a symlink, even a dangling one
      fd = ::openat(dir, leaf.c_str(), O_RDWR | O_CREAT | O_EXCL | open_base,
                    static_cast<mode_t>(fe.executable ? 0755 : 0644));
      if (fd < 0 && errno == EEXIST)
        fd = ::openat(dir, leaf.c_str(), O_RDWR | open_base);
    } else {
      fd = ::openat(dir, leaf.c_str(), O_RDWR | open_base);
      if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS || errno == ETXTBSY)) {
        writable = false;
        fd = ::openat(dir, leaf.c_str(), O_RDONLY | open_base);
      }
    }
    if (fd < 0) {
      int e = errno;
      return failure(e, describe_open_failure(dir, leaf, shown, e));
    }
    unique_fd file{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      return failure(e, "cannot stat " + shown + ": " + errno_text(e));
    }
    if (!S_ISREG(st.st_mode))
      return failure(0, shown + " is not a regular file");
    if (int fl = ::fcntl(fd, F_GETFL); fl >= 0)
      ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (for_write) {
      if (auto s = ensure_size(fd, index); !s)
        return failure(0, s.error().message);
    }
    out.fd = file.release();
    out.writable = writable;
    return out;
  }

  void drop(std::size_t index) {
    auto& e = cache[index];
    if (!e.fd)
      return;
    e.fd.reset();
    lru.erase(e.lru_pos);
    --open_count;
  }

  // A descriptor for file `index` from the cache, opening it if needed. For
  // writing, the file is created and grown to size, and marked dirty. Sets
  // *missing if the open failed because something did not exist.
  result<shared_fd> acquire(std::size_t index, access_mode mode, bool* missing = nullptr) {
    std::lock_guard<std::mutex> guard{mtx};
    const bool for_write = mode == access_mode::write;
    auto& e = cache[index];
    if (e.fd && for_write && e.writable && !e.sized) {
      if (auto s = ensure_size(e.fd->fd, index); !s)
        return s.error();
      e.sized = true;
    }
    if (e.fd && (!for_write || e.writable)) {
      lru.splice(lru.begin(), lru, e.lru_pos);
      if (for_write)
        dirty[index] = 1;
      return e.fd;
    }
    drop(index); // cached read-only, now needed for writing
    auto o = open_file(index, mode);
    if (o.fd < 0) {
      if (missing)
        *missing = o.missing;
      return o.err;
    }
    while (open_count >= max_open && !lru.empty())
      drop(lru.back());
    e.fd = std::make_shared<const fd_holder>(o.fd);
    e.writable = o.writable;
    e.sized = for_write;
    lru.push_front(index);
    e.lru_pos = lru.begin();
    ++open_count;
    if (for_write)
      dirty[index] = 1;
    return e.fd;
  }

  bool skipped(std::size_t index) const { return index < skip.size() && skip[index] != 0; }

  std::string shown_part() const { return shown_root + part_path; }

  // The part file, opened (and for writing created, with its directories)
  // component by component without following symlinks. Sets *missing if it
  // (or a directory on the way) does not exist.
  result<shared_fd> acquire_part(access_mode mode, bool* missing = nullptr) {
    std::lock_guard<std::mutex> guard{mtx};
    const bool for_write = mode == access_mode::write;
    if (part_fd && (!for_write || part_writable)) {
      if (for_write)
        part_dirty = true;
      return part_fd;
    }
    auto comps = split_path(part_path);
    unique_fd held;
    int dir = root_fd;
    std::string shown = shown_root;
    for (std::size_t i = 0; i < comps.size(); ++i) {
      const bool last = i + 1 == comps.size();
      shown += comps[i];
      int fd = -1;
      if (last && for_write)
        fd = ::openat(dir, comps[i].c_str(), O_RDWR | O_CREAT | open_base, 0644);
      else if (last)
        fd = ::openat(dir, comps[i].c_str(), O_RDWR | open_base);
      else {
        fd = ::openat(dir, comps[i].c_str(), O_RDONLY | O_DIRECTORY | open_base);
        if (fd < 0 && errno == ENOENT && for_write && (::mkdirat(dir, comps[i].c_str(), 0755) == 0 || errno == EEXIST))
          fd = ::openat(dir, comps[i].c_str(), O_RDONLY | O_DIRECTORY | open_base);
      }
      if (fd < 0) {
        int e = errno;
        if (missing)
          *missing = e == ENOENT;
        return make_error(describe_open_failure(dir, comps[i], shown, e));
      }
      if (last) {
        unique_fd file{fd};
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
          return make_error(shown + " is not a regular file");
        if (int fl = ::fcntl(fd, F_GETFL); fl >= 0)
          ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        part_fd = std::make_shared<const fd_holder>(file.release());
        part_writable = true;
        if (for_write)
          part_dirty = true;
        return part_fd;
      }
      held.reset(fd);
      dir = fd;
      shown += '/';
    }
    return make_error("empty part file path");
  }

  // Where the bytes of slice `s` live: the file's descriptor and the offset in
  // it, or for a skipped file the part file at the slice's torrent offset.
  struct io_target {
    shared_fd fd;
    std::uint64_t offset = 0;
    bool part = false;
  };
  result<io_target> target(const file_slice& s, access_mode mode, bool* missing = nullptr) {
    if (skipped(s.file_index)) {
      if (part_path.empty())
        return make_error(full_path(s.file_index) + " is not selected");
      auto fd = acquire_part(mode, missing);
      if (!fd)
        return fd.error();
      return io_target{*fd, layout.file(s.file_index).offset + s.file_offset, true};
    }
    auto fd = acquire(s.file_index, mode, missing);
    if (!fd)
      return fd.error();
    return io_target{*fd, s.file_offset, false};
  }

  std::string shown(const io_target& t, std::size_t index) const { return t.part ? shown_part() : full_path(index); }

  status read_into(std::size_t piece, std::uint64_t offset, std::uint8_t* out, std::uint64_t len,
                   bool* missing = nullptr) {
    auto slices = layout.map_block(piece, offset, len);
    if (!slices)
      return slices.error();
    for (const auto& s : *slices) {
      auto* dst = out + s.buffer_offset;
      if (s.pad) {
        std::memset(dst, 0, s.length);
        continue;
      }
      auto t = target(s, access_mode::read, missing);
      if (!t)
        return t.error();
      std::uint64_t done = 0;
      while (done < s.length) {
        const auto n = std::min(s.length - done, max_io);
        auto r = ::pread(t->fd->fd, dst + done, n, static_cast<off_t>(t->offset + done));
        if (r < 0) {
          int e = errno;
          if (e == EINTR)
            continue;
          return make_error("cannot read " + shown(*t, s.file_index) + ": " + errno_text(e));
        }
        if (r == 0) {
          if (missing)
            *missing = true;
          return make_error("unexpected end of file in " + shown(*t, s.file_index) + " at offset "
                            + std::to_string(t->offset + done));
        }
        done += static_cast<std::uint64_t>(r);
      }
    }
    return {};
  }

  storage::hash_settings hash_settings() const {
    storage::hash_settings hs;
    hs.piece_length = layout.piece_length();
    hs.total_size = layout.total_size();
    return hs;
  }

  // The pieces' bytes for the batch hasher. With `missing_is_absent`, a file
  // that is missing or shorter than the piece needs makes the piece absent
  // (the start-up check); otherwise every read error is an error.
  struct piece_reader final : piece_source {
    piece_reader(impl& i, bool missing_is_absent = true) : d(i), lenient(missing_is_absent) {}
    result<bool> read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) override {
      bool missing = false;
      if (auto st = d.read_into(piece, offset, out.data(), out.size(), &missing); !st) {
        if (lenient && missing)
          return false;
        return std::move(st).error();
      }
      return true;
    }
    impl& d;
    bool lenient;
  };

  std::size_t hash_chunk() const {
    return static_cast<std::size_t>(std::min<std::uint64_t>(layout.piece_length(), 1u << 20));
  }

  // SHA-1 of `size` zero bytes: what a piece that is all holes hashes to.
  sha1_hash zero_hash(std::uint64_t size) {
    std::lock_guard<std::mutex> guard{zero_mtx};
    for (const auto& [n, h] : zero_hashes)
      if (n == size)
        return h;
    const std::vector<std::uint8_t> zeroes(hash_chunk(), 0);
    sha1_hasher hasher;
    for (std::uint64_t off = 0; off < size; off += zeroes.size())
      hasher.update(zeroes.data(), static_cast<std::size_t>(std::min<std::uint64_t>(zeroes.size(), size - off)));
    zero_hashes.emplace_back(size, hasher.finish());
    return zero_hashes.back().second;
  }

  // Whether the bytes of `slices` (all present on disk) hold any data, or lie
  // entirely in holes (pad slices count as holes). `gone`: a file vanished.
  enum class on_disk { data, holes, gone };
  result<on_disk> has_data(const std::vector<file_slice>& slices) {
    for (const auto& s : slices) {
      if (s.pad)
        continue;
      if (skipped(s.file_index))
        return on_disk::data; // in the part file: read it (missing: absent)
      bool missing = false;
      auto fd = acquire(s.file_index, access_mode::read, &missing);
      if (!fd) {
        if (missing)
          return on_disk::gone;
        return fd.error();
      }
      const auto from = static_cast<off_t>(s.file_offset);
      const auto at = ::lseek((*fd)->fd, from, SEEK_DATA);
      // ENXIO: only holes from `from` to the end of the file; any other error:
      // the filesystem can't tell, so assume data
      if (at < 0 ? errno != ENXIO : static_cast<std::uint64_t>(at) < s.file_offset + s.length)
        return on_disk::data;
    }
    return on_disk::holes;
  }
};

torrent_storage::torrent_storage(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
torrent_storage::torrent_storage(torrent_storage&&) noexcept = default;
torrent_storage& torrent_storage::operator=(torrent_storage&&) noexcept = default;
torrent_storage::~torrent_storage() = default;

result<torrent_storage> torrent_storage::open(const metainfo& mi, const std::string& root,
                                              const storage_options& opts) {
  auto layout = file_layout::create(mi);
  if (!layout)
    return layout.error();
  for (std::size_t i = 0; i < layout->num_files(); ++i) {
    const auto& f = layout->file(i);
    if (f.pad || f.symlink)
      continue; // never opened
    if (auto st = validate_relative_path(f.path); !st)
      return make_error("file " + std::to_string(i) + ": " + st.error().message);
  }
  if (root.empty())
    return make_error("empty download directory path");
  if (root.find('\0') != std::string::npos)
    return make_error("download directory path contains a NUL byte");
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // the root is the user's choice: create it and its parents like mkdir -p
    for (auto slash = root.find('/', 1); slash != std::string::npos; slash = root.find('/', slash + 1))
      ::mkdir(root.substr(0, slash).c_str(), 0755);
    ::mkdir(root.c_str(), 0755);
    fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) {
    int e = errno;
    return make_error("cannot open download directory " + root + ": " + errno_text(e));
  }
  auto hashes = mi.piece_hashes;
  return torrent_storage{std::make_unique<impl>(std::move(*layout), std::move(hashes), root, fd,
                                                opts.max_open_files)};
}

const file_layout& torrent_storage::layout() const { return impl_->layout; }

const std::string& torrent_storage::root() const { return impl_->root; }

std::string torrent_storage::full_path(std::size_t file_index) const { return impl_->full_path(file_index); }

status torrent_storage::write(std::size_t piece, std::uint64_t offset, std::span<const std::uint8_t> data) {
  auto& d = *impl_;
  auto slices = d.layout.map_block(piece, offset, data.size());
  if (!slices)
    return slices.error();
  if (auto st = d.layout.check_pad(piece, offset, data); !st)
    return st;
  for (const auto& s : *slices) {
    if (s.pad)
      continue;
    auto t = d.target(s, access_mode::write);
    if (!t)
      return t.error();
    const auto* src = data.data() + s.buffer_offset;
    std::uint64_t done = 0;
    while (done < s.length) {
      const auto n = std::min(s.length - done, max_io);
      auto r = ::pwrite(t->fd->fd, src + done, n, static_cast<off_t>(t->offset + done));
      if (r < 0) {
        int e = errno;
        if (e == EINTR)
          continue;
        return make_error("cannot write " + d.shown(*t, s.file_index) + ": " + errno_text(e));
      }
      if (r == 0)
        return make_error("cannot write " + d.shown(*t, s.file_index) + ": no bytes written");
      done += static_cast<std::uint64_t>(r);
    }
  }
  return {};
}

void torrent_storage::start_writeback(std::size_t piece) {
  auto& d = *impl_;
  if (piece >= d.layout.num_pieces())
    return;
  auto slices = d.layout.map_range(static_cast<std::uint64_t>(piece) * d.layout.piece_length(),
                                   d.layout.piece_size(piece));
  for (const auto& s : slices) {
    if (s.pad || d.skipped(s.file_index))
      continue;
    auto fd = d.acquire(s.file_index, access_mode::read); // never creates a file
    if (!fd)
      continue;
#ifdef __linux__
    ::sync_file_range((*fd)->fd, static_cast<off_t>(s.file_offset), static_cast<off_t>(s.length),
                      SYNC_FILE_RANGE_WRITE);
#endif
  }
}

status torrent_storage::read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) const {
  return impl_->read_into(piece, offset, out.data(), out.size());
}

result<sha1_hash> torrent_storage::hash_piece(std::size_t piece) const {
  auto& d = *impl_;
  if (auto st = d.layout.check_block(piece, 0, 0); !st)
    return st.error();
  impl::piece_reader src{d, false};
  batch_hasher hasher{d.hash_settings()};
  const std::size_t ids[1] = {piece};
  piece_digest out[1];
  if (auto st = hasher.hash(ids, src, out); !st)
    return st.error();
  return out[0].hash;
}

bool torrent_storage::verify_piece(std::size_t piece) const {
  auto h = hash_piece(piece);
  return h && *h == impl_->expected_hash(piece);
}

status torrent_storage::flush() {
  auto& d = *impl_;
  std::vector<std::size_t> todo;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    for (std::size_t i = 0; i < d.dirty.size(); ++i)
      if (d.dirty[i]) {
        todo.push_back(i);
        d.dirty[i] = 0;
      }
  }
  auto requeue = [&](std::size_t from) {
    std::lock_guard<std::mutex> guard{d.mtx};
    for (auto k = from; k < todo.size(); ++k)
      d.dirty[todo[k]] = 1;
  };
  shared_fd part;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.part_dirty)
      part = d.part_fd;
    d.part_dirty = false;
  }
  while (part && ::fdatasync(part->fd) != 0) {
    int e = errno;
    if (e == EINTR)
      continue;
    {
      std::lock_guard<std::mutex> guard{d.mtx};
      d.part_dirty = true;
    }
    requeue(0);
    return make_error("cannot sync " + d.shown_part() + ": " + errno_text(e));
  }
  for (std::size_t k = 0; k < todo.size(); ++k) {
    // a descriptor evicted since the write is reopened: fdatasync flushes the
    // file, whichever descriptor wrote to it
    auto fd = d.acquire(todo[k], access_mode::read);
    if (!fd) {
      requeue(k);
      return fd.error();
    }
    while (::fdatasync((*fd)->fd) != 0) {
      int e = errno;
      if (e == EINTR)
        continue;
      requeue(k);
      return make_error("cannot sync " + d.full_path(todo[k]) + ": " + errno_text(e));
    }
  }
  return {};
}

result<std::vector<bool>> torrent_storage::check_existing(unsigned threads, progress_fn progress,
                                                          const std::vector<bool>* only, int nice) const {
  auto& d = *impl_;
  const auto& layout = d.layout;
  if (only && only->size() != layout.num_pieces())
    return make_error("piece mask has " + std::to_string(only->size()) + " entries, expected "
                      + std::to_string(layout.num_pieces()));
  const auto wanted = [&](std::size_t p) { return !only || (*only)[p]; };
  // cached descriptors may point at files deleted or replaced since: look again
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    while (!d.lru.empty())
      d.drop(d.lru.back());
    d.part_fd.reset();
  }
  // how many leading bytes of each file are on disk (files no wanted piece
  // touches are not looked at)
  std::vector<std::uint64_t> avail(layout.num_files(), 0);
  for (std::size_t i = 0; i < layout.num_files(); ++i) {
    const auto& f = layout.file(i);
    if (f.pad || d.skipped(i)) {
      avail[i] = f.size; // skipped: its bytes of a piece are read from the part file
      continue;
    }
    const auto range = layout.file_pieces(i);
    bool needed = false;
    for (auto p = range.first; p < range.end && !needed; ++p)
      needed = wanted(p);
    if (!needed)
      continue;
    bool missing = false;
    auto fd = d.acquire(i, access_mode::read, &missing);
    if (!fd) {
      if (missing)
        continue;
      return fd.error();
    }
    struct stat st {};
    if (::fstat((*fd)->fd, &st) != 0) {
      int e = errno;
      return make_error("cannot stat " + d.full_path(i) + ": " + errno_text(e));
    }
    avail[i] = std::min(f.size, static_cast<std::uint64_t>(st.st_size));
  }
  std::vector<char> good(layout.num_pieces(), 0);
  std::vector<std::size_t> todo;
  for (std::size_t p = 0; p < layout.num_pieces(); ++p) {
    if (!wanted(p))
      continue;
    auto slices = layout.map_range(static_cast<std::uint64_t>(p) * layout.piece_length(), layout.piece_size(p));
    if (!std::all_of(slices.begin(), slices.end(), [&](const file_slice& s) {
          return s.file_offset + s.length <= avail[s.file_index];
        }))
      continue;
    auto data = d.has_data(slices);
    if (!data)
      return data.error();
    if (*data == impl::on_disk::data)
      todo.push_back(p);
    else if (*data == impl::on_disk::holes)
      good[p] = d.expected_hash(p) == d.zero_hash(layout.piece_size(p));
  }
  // hashed by the batch hasher, side by side; a piece whose file vanished or
  // shrank since the look above is simply not there
  impl::piece_reader src{d};
  std::vector<storage::piece_digest> digests(todo.size());
  if (auto st = hash_in_parallel(d.hash_settings(), todo, src, threads, digests, progress, nice); !st)
    return st.error();
  for (std::size_t i = 0; i < todo.size(); ++i)
    good[todo[i]] = digests[i].present && digests[i].hash == d.expected_hash(todo[i]);
  return std::vector<bool>(good.begin(), good.end());
}

result<std::vector<file_stamp>> torrent_storage::file_stamps() const {
  const auto& d = *impl_;
  std::vector<file_stamp> out(d.layout.num_files());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& f = d.layout.file(i);
    if (f.pad || f.symlink) {
      out[i] = {true, f.size, 0}; // never on disk: nothing to look at
      continue;
    }
    if (d.skipped(i))
      continue; // not selected: absent, so no piece touching it is trusted from resume data
    impl::parent_dir pd;
    opened failed;
    if (!d.open_parent(i, false, pd, failed)) {
      if (failed.missing)
        continue;
      return failed.err;
    }
    struct stat st {};
    if (::fstatat(pd.fd, pd.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int e = errno;
      if (e == ENOENT)
        continue;
      return make_error("cannot stat " + pd.shown + ": " + errno_text(e));
    }
    if (S_ISLNK(st.st_mode))
      return make_error(pd.shown + " is a symbolic link; refusing to follow it");
    if (!S_ISREG(st.st_mode))
      return make_error(pd.shown + " is not a regular file");
    out[i] = {true, static_cast<std::uint64_t>(st.st_size),
              static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  }
  return out;
}

status torrent_storage::create_all_files() {
  auto& d = *impl_;
  for (std::size_t i = 0; i < d.layout.num_files(); ++i) {
    const auto& f = d.layout.file(i);
    if (f.pad || f.symlink || d.skipped(i))
      continue;
    if (auto fd = d.acquire(i, access_mode::write); !fd)
      return fd.error();
  }
  return {};
}

std::optional<torrent_storage::mapped_range> torrent_storage::map_range(std::size_t piece, std::uint64_t offset,
                                                                      std::uint64_t length) const {
  auto& d = *impl_;
  auto slices = d.layout.map_block(piece, offset, length);
  if (!slices || slices->size() != 1)
    return std::nullopt;
  const auto& s = slices->front();
  if (s.pad || d.skipped(s.file_index))
    return std::nullopt;
  const auto size = d.layout.file(s.file_index).size;
  std::shared_ptr<const file_mapping> m;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    m = d.maps[s.file_index];
  }
  if (!m) {
    auto fd = d.acquire(s.file_index, access_mode::read);
    if (!fd)
      return std::nullopt;
    struct stat st {};
    if (::fstat((*fd)->fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) < size)
      return std::nullopt;
    m = file_mapping::map((*fd)->fd, size);
    if (!m)
      return std::nullopt;
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.maps[s.file_index]) {
      m = d.maps[s.file_index]; // another thread was first
    } else {
      // a bound on mappings (one VMA each) for torrents of many files
      if (d.map_count >= 1024) {
        for (auto& x : d.maps)
          x.reset();
        d.map_count = 0;
      }
      d.maps[s.file_index] = m;
      ++d.map_count;
    }
  }
  if (s.file_offset + s.length > m->size())
    return std::nullopt;
  return mapped_range{m, m->data() + s.file_offset};
}

status torrent_storage::truncate_to_size(std::size_t file_index) {
  auto& d = *impl_;
  if (file_index >= d.layout.num_files())
    return make_error("no file " + std::to_string(file_index));
  const auto& f = d.layout.file(file_index);
  if (f.pad || f.symlink || d.skipped(file_index))
    return {};
  bool missing = false;
  auto fd = d.acquire(file_index, access_mode::read, &missing);
  if (!fd)
    return missing ? status{} : status{fd.error()};
  struct stat st {};
  if (::fstat((*fd)->fd, &st) != 0) {
    int e = errno;
    return make_error("cannot stat " + d.full_path(file_index) + ": " + errno_text(e));
  }
  if (static_cast<std::uint64_t>(st.st_size) <= f.size)
    return {};
  if (::ftruncate((*fd)->fd, static_cast<off_t>(f.size)) != 0) {
    int e = errno;
    return make_error("cannot truncate " + d.full_path(file_index) + " to " + std::to_string(f.size)
                      + " bytes: " + errno_text(e));
  }
  return {};
}

void torrent_storage::close_files() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  while (!d.lru.empty())
    d.drop(d.lru.back());
  d.part_fd.reset();
  for (auto& m : d.maps)
    m.reset();
  d.map_count = 0;
}

status torrent_storage::skip_files(const std::vector<bool>& skip, const std::string& part_path) {
  auto& d = *impl_;
  if (skip.size() != d.layout.num_files())
    return make_error("file mask has " + std::to_string(skip.size()) + " entries, expected "
                      + std::to_string(d.layout.num_files()));
  if (auto ok = validate_relative_path(part_path); !ok)
    return ok;
  std::lock_guard<std::mutex> guard{d.mtx};
  d.skip.assign(skip.begin(), skip.end());
  for (std::size_t i = 0; i < skip.size(); ++i)
    if (skip[i])
      d.drop(i);
  d.part_path = part_path;
  d.part_fd.reset();
  return {};
}

std::size_t torrent_storage::open_file_count() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->open_count;
}

} // namespace actorrent::storage
