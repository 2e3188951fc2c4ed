#include "storage/piece_hasher.hpp"

#include "protocol/sha1_multi.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace actorrent::storage {

namespace {

struct open_file {
  int fd = -1;
  std::uint64_t offset = 0; // of the file's first byte in the concatenation
  std::uint64_t size = 0;
  const std::string* path = nullptr;
};

class fd_set_guard {
public:
  std::vector<open_file> files;
  ~fd_set_guard() {
    for (auto& f : files)
      if (f.fd >= 0)
        ::close(f.fd);
  }
};

} // namespace

result<std::vector<sha1_hash>> hash_pieces(const std::vector<hash_source>& sources,
                                           const hash_options& opts) {
  if (opts.piece_length == 0)
    return make_error("piece length must be positive");
  fd_set_guard fds;
  std::uint64_t total = 0;
  for (auto& src : sources) {
    open_file f;
    f.offset = total;
    f.size = src.size;
    f.path = &src.path;
    if (!src.path.empty() && src.size > 0) {
      f.fd = ::open(src.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (f.fd < 0)
        return make_error("cannot open " + src.path + ": " + std::strerror(errno));
      ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    total += src.size;
    fds.files.push_back(f);
  }
  const auto num_pieces = static_cast<std::size_t>((total + opts.piece_length - 1) / opts.piece_length);
  std::vector<sha1_hash> hashes(num_pieces);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex err_mtx;
  std::string first_error;
  // Each worker claims a group of consecutive pieces and hashes them side by
  // side (sha1_stream), reading at most 256 KiB of each at a time, so memory
  // stays bounded whatever the piece length.
  const std::size_t group = std::clamp<std::size_t>(sha1_lanes(sha1_default_kernel()), 1, 16);
  const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(opts.piece_length, 256u * 1024));
  auto fail = [&](std::string msg) {
    std::lock_guard<std::mutex> g{err_mtx};
    if (first_error.empty())
      first_error = std::move(msg);
  };
  // reads bytes [begin, end) of the concatenation into dst; false (with the
  // error recorded) on failure
  auto read_range = [&](std::uint64_t begin, std::uint64_t end, char* dst) {
    // first file that overlaps [begin, end)
    auto it = std::upper_bound(fds.files.begin(), fds.files.end(), begin,
                               [](std::uint64_t off, const open_file& f) { return off < f.offset; });
    if (it != fds.files.begin())
      --it;
    std::uint64_t pos = begin;
    for (; it != fds.files.end() && pos < end; ++it) {
      if (it->size == 0 || it->offset + it->size <= pos)
        continue;
      const auto in_file = pos - it->offset;
      const auto n = std::min(end - pos, it->size - in_file);
      char* out = dst + (pos - begin);
      if (it->fd < 0) {
        std::memset(out, 0, n);
      } else {
        std::uint64_t got = 0;
        while (got < n) {
          auto r = ::pread(it->fd, out + got, n - got, static_cast<off_t>(in_file + got));
          if (r < 0 && errno == EINTR)
            continue;
          if (r <= 0) {
            fail(r < 0 ? "cannot read " + *it->path + ": " + std::strerror(errno)
                       : *it->path + " is shorter than expected");
            return false;
          }
          got += static_cast<std::uint64_t>(r);
        }
      }
      pos += n;
    }
    return true;
  };
  auto worker = [&] {
    std::vector<char> buf(group * chunk);
    std::vector<const std::uint8_t*> ptrs(group);
    for (;;) {
      const auto first = next.fetch_add(group);
      if (first >= num_pieces)
        return;
      {
        std::lock_guard<std::mutex> g{err_mtx};
        if (!first_error.empty())
          return;
      }
      const auto last = std::min(num_pieces, first + group);
      // only the torrent's last piece can be short: it is hashed on its own
      const std::uint64_t last_len = std::min<std::uint64_t>(opts.piece_length, total - (last - 1) * opts.piece_length);
      const auto full_end = last_len == opts.piece_length ? last : last - 1;
      if (full_end > first) {
        sha1_stream stream{full_end - first};
        for (std::uint64_t off = 0; off < opts.piece_length; off += chunk) {
          const auto n = std::min<std::uint64_t>(chunk, opts.piece_length - off);
          for (auto idx = first; idx < full_end; ++idx) {
            char* dst = buf.data() + (idx - first) * chunk;
            const auto begin = idx * opts.piece_length + off;
            if (!read_range(begin, begin + n, dst))
              return;
            ptrs[idx - first] = reinterpret_cast<const std::uint8_t*>(dst);
          }
          stream.update(ptrs.data(), static_cast<std::size_t>(n));
        }
        stream.finish(hashes.data() + first);
      }
      if (full_end < last) {
        sha1_hasher h;
        const auto begin = (last - 1) * opts.piece_length;
        for (std::uint64_t off = 0; off < last_len; off += chunk) {
          const auto n = std::min<std::uint64_t>(chunk, last_len - off);
          if (!read_range(begin + off, begin + off + n, buf.data()))
            return;
          h.update(buf.data(), static_cast<std::size_t>(n));
        }
        hashes[last - 1] = h.finish();
      }
      for (auto idx = first; idx < last; ++idx) { // one call per piece
        auto d = done.fetch_add(1) + 1;
        if (opts.progress)
          opts.progress(d, num_pieces);
      }
    }
  };
  unsigned nthreads = opts.threads != 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  nthreads = static_cast<unsigned>(std::min<std::size_t>(nthreads, std::max<std::size_t>(num_pieces, 1)));
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < nthreads; ++i)
    threads.emplace_back(worker);
  worker();
  for (auto& t : threads)
    t.join();
  if (!first_error.empty())
    return make_error(first_error);
  return hashes;
}

} // namespace actorrent::storage
