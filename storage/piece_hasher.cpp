#include "storage/piece_hasher.hpp"

#include "storage/batch_hasher.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

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
  // reads bytes of the concatenation from the files (pread: safe on several threads)
  class concatenation final : public piece_source {
  public:
    concatenation(const std::vector<open_file>& files, std::uint64_t plen) : files_(files), plen_(plen) {}
    result<bool> read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) override {
      const auto begin = static_cast<std::uint64_t>(piece) * plen_ + offset;
      const auto end = begin + out.size();
      // first file that overlaps [begin, end)
      auto it = std::upper_bound(files_.begin(), files_.end(), begin,
                                 [](std::uint64_t off, const open_file& f) { return off < f.offset; });
      if (it != files_.begin())
        --it;
      for (auto pos = begin; it != files_.end() && pos < end; ++it) {
        if (it->size == 0 || it->offset + it->size <= pos)
          continue;
        const auto in_file = pos - it->offset;
        const auto n = std::min(end - pos, it->size - in_file);
        auto* dst = out.data() + (pos - begin);
        if (it->fd < 0) {
          std::memset(dst, 0, n);
        } else {
          for (std::uint64_t got = 0; got < n;) {
            auto r = ::pread(it->fd, dst + got, n - got, static_cast<off_t>(in_file + got));
            if (r < 0 && errno == EINTR)
              continue;
            if (r < 0)
              return make_error("cannot read " + *it->path + ": " + std::strerror(errno));
            if (r == 0)
              return make_error(*it->path + " is shorter than expected");
            got += static_cast<std::uint64_t>(r);
          }
        }
        pos += n;
      }
      return true;
    }

  private:
    const std::vector<open_file>& files_;
    std::uint64_t plen_;
  };
  hash_settings hs;
  hs.piece_length = opts.piece_length;
  hs.total_size = total;
  concatenation src{fds.files, opts.piece_length};
  const auto num_pieces = batch_hasher{hs}.num_pieces();
  std::vector<std::size_t> pieces(num_pieces);
  for (std::size_t i = 0; i < num_pieces; ++i)
    pieces[i] = i;
  std::vector<piece_digest> digests(num_pieces);
  if (auto st = hash_in_parallel(hs, pieces, src, opts.threads, digests, opts.progress); !st)
    return st.error();
  std::vector<sha1_hash> hashes(num_pieces);
  for (std::size_t i = 0; i < num_pieces; ++i)
    hashes[i] = digests[i].hash;
  return hashes;
}

} // namespace actorrent::storage
