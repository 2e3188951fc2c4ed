#include "storage/batch_hasher.hpp"

#include "protocol/sha1_multi.hpp"

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace actorrent::storage {

batch_hasher::batch_hasher(const hash_settings& s) : settings_(s) {
  settings_.piece_length = std::max<std::uint64_t>(settings_.piece_length, 1);
  // never wider than the kernel: sha1_stream takes at most that many
  const auto kernel_lanes = std::clamp<std::size_t>(sha1_lanes(sha1_default_kernel()), 1, 16);
  lanes_ = s.lanes != 0 ? std::min(s.lanes, kernel_lanes) : kernel_lanes;
  const auto plen = settings_.piece_length;
  // memory parts feed sha1_stream: a multiple of 64 that divides the piece
  part_ = s.memory_part;
  if (part_ == 0 || part_ % 64 != 0 || plen % part_ != 0)
    part_ = 0;
  chunk_ = std::max<std::size_t>(s.chunk, 64);
  chunk_ -= chunk_ % 64;
  if (part_ != 0)
    chunk_ = std::max(part_, chunk_ - chunk_ % part_);
  if (chunk_ >= plen)
    chunk_ = static_cast<std::size_t>(plen); // one update per piece: any length works
}

std::size_t batch_hasher::num_pieces() const {
  return static_cast<std::size_t>((settings_.total_size + settings_.piece_length - 1) / settings_.piece_length);
}

std::uint64_t batch_hasher::piece_size(std::size_t piece) const {
  const auto begin = static_cast<std::uint64_t>(piece) * settings_.piece_length;
  if (begin >= settings_.total_size)
    return 0;
  return std::min(settings_.piece_length, settings_.total_size - begin);
}

status batch_hasher::hash(std::span<const std::size_t> pieces, piece_source& src, std::span<piece_digest> out) {
  if (out.size() != pieces.size())
    return make_error("batch hasher: " + std::to_string(out.size()) + " digests for "
                      + std::to_string(pieces.size()) + " pieces");
  std::vector<std::size_t> group; // positions in `pieces` of full-length pieces
  std::vector<std::size_t> ids;
  std::vector<piece_digest> digests;
  auto flush_group = [&]() -> status {
    if (group.empty())
      return {};
    ids.clear();
    for (auto i : group)
      ids.push_back(pieces[i]);
    digests.assign(group.size(), piece_digest{});
    if (auto st = hash_group(ids, src, digests); !st)
      return st;
    for (std::size_t j = 0; j < group.size(); ++j)
      out[group[j]] = digests[j];
    group.clear();
    return {};
  };
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto size = piece_size(pieces[i]);
    if (size == 0) {
      out[i] = piece_digest{}; // past the end: not there
      continue;
    }
    if (size != settings_.piece_length) {
      if (auto st = hash_alone(pieces[i], src, out[i]); !st)
        return st;
      continue;
    }
    group.push_back(i);
    if (group.size() == lanes_)
      if (auto st = flush_group(); !st)
        return st;
  }
  return flush_group();
}

status batch_hasher::hash_group(std::span<const std::size_t> pieces, piece_source& src,
                                std::span<piece_digest> out) {
  const auto n = pieces.size();
  const auto plen = settings_.piece_length;
  // a chunk of buffer for each piece read, none for those in memory
  slots_.assign(n, nullptr);
  ptrs_.resize(n);
  std::vector<char> in_memory(n, 0);
  std::size_t reads = 0;
  for (std::size_t j = 0; j < n; ++j) {
    in_memory[j] = part_ != 0 && src.memory(pieces[j], 0) != nullptr;
    reads += in_memory[j] ? 0 : 1;
  }
  buffer_.resize(reads * chunk_);
  for (std::size_t j = 0, k = 0; j < n; ++j) {
    out[j].present = true;
    if (!in_memory[j])
      slots_[j] = buffer_.data() + k++ * chunk_;
  }
  // with a piece in memory, every lane advances one part at a time
  sha1_stream stream{n};
  for (std::uint64_t off = 0; off < plen; off += chunk_) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_, plen - off));
    for (std::size_t j = 0; j < n; ++j) {
      if (slots_[j] == nullptr || !out[j].present)
        continue; // (an absent piece's lane goes on with whatever its buffer holds)
      auto got = src.read(pieces[j], off, std::span<std::uint8_t>{slots_[j], len});
      if (!got)
        return std::move(got).error();
      out[j].present = *got;
    }
    const auto step = reads == n ? len : std::min(part_, len);
    for (std::size_t sub = 0; sub < len; sub += step) {
      const auto m = std::min(step, len - sub);
      for (std::size_t j = 0; j < n; ++j)
        ptrs_[j] = slots_[j] != nullptr ? slots_[j] + sub : src.memory(pieces[j], off + sub);
      stream.update(ptrs_.data(), m);
    }
  }
  std::vector<sha1_hash> digests(n);
  stream.finish(digests.data());
  for (std::size_t j = 0; j < n; ++j)
    out[j].hash = digests[j];
  return {};
}

status batch_hasher::hash_alone(std::size_t piece, piece_source& src, piece_digest& out) {
  const auto size = piece_size(piece);
  sha1_hasher h;
  out.present = true;
  if (part_ != 0 && src.memory(piece, 0) != nullptr) {
    for (std::uint64_t off = 0; off < size; off += part_)
      h.update(src.memory(piece, off), static_cast<std::size_t>(std::min<std::uint64_t>(part_, size - off)));
    out.hash = h.finish();
    return {};
  }
  buffer_.resize(std::max(buffer_.size(), chunk_));
  for (std::uint64_t off = 0; off < size; off += chunk_) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_, size - off));
    auto got = src.read(piece, off, std::span<std::uint8_t>{buffer_.data(), len});
    if (!got)
      return std::move(got).error();
    if (!*got) {
      out.present = false;
      break;
    }
    h.update(buffer_.data(), len);
  }
  out.hash = h.finish();
  return {};
}

namespace {

// Lowers the calling thread's scheduling priority by `nice`; false if the
// system refused.
bool lower_thread_priority(int nice) {
  if (nice <= 0)
    return true;
  // on Linux, PRIO_PROCESS with a thread id sets that thread's nice value only
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0)
    return false;
  return ::setpriority(PRIO_PROCESS, tid, std::min(now + nice, 19)) == 0;
}

} // namespace

status hash_in_parallel(const hash_settings& s, std::span<const std::size_t> pieces, piece_source& src,
                        unsigned threads, std::span<piece_digest> out, const hash_progress_fn& progress,
                        int nice) {
  if (out.size() != pieces.size())
    return make_error("batch hasher: " + std::to_string(out.size()) + " digests for "
                      + std::to_string(pieces.size()) + " pieces");
  const std::size_t group = batch_hasher{s}.lanes();
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<bool> failed{false};
  std::mutex err_mtx;
  std::optional<error_info> first_error;
  auto worker = [&] {
    batch_hasher hasher{s};
    while (!failed.load()) {
      const auto first = next.fetch_add(group);
      if (first >= pieces.size())
        return;
      const auto n = std::min(group, pieces.size() - first);
      if (auto st = hasher.hash(pieces.subspan(first, n), src, out.subspan(first, n)); !st) {
        std::lock_guard<std::mutex> g{err_mtx};
        if (!first_error)
          first_error = st.error();
        failed = true;
        return;
      }
      for (std::size_t i = 0; i < n; ++i) { // one call per piece
        const auto d = done.fetch_add(1) + 1;
        if (progress)
          progress(d, pieces.size());
      }
    }
  };
  const std::size_t groups = (pieces.size() + group - 1) / group;
  unsigned n = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  n = static_cast<unsigned>(std::min<std::size_t>(n, std::max<std::size_t>(groups, 1)));
  std::vector<std::thread> pool;
  // background work runs only on threads of its own: a thread's priority
  // cannot be raised again without privileges, so the caller's stays as is.
  // A small job is hashed at once by the caller: otherwise a restart of 5,000
  // one-piece torrents starts and joins 5,000 threads for ~0.2 ms of hashing each.
  const bool background = nice > 0 && pieces.size() * s.piece_length >= background_min_bytes;
  for (unsigned i = background ? 0 : 1; i < n; ++i) {
    try {
      if (background)
        pool.emplace_back([&worker, nice] {
          lower_thread_priority(nice); // refused: it still hashes, at the usual priority
          worker();
        });
      else
        pool.emplace_back(worker);
    } catch (...) {
      break; // fewer threads still finish the job
    }
  }
  if (!background || pool.empty())
    worker();
  for (auto& t : pool)
    t.join();
  if (first_error)
    return *first_error;
  return {};
}

} // namespace actorrent::storage
