#include "actors/disk_store.hpp"

#include "protocol/sha1_multi.hpp"
#include "storage/batch_hasher.hpp"
#include "storage/overwrite_guard.hpp"
#include "storage/posix_util.hpp"
#include "storage/resume_data.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <thread>

namespace actorrent {

namespace {

constexpr std::uint32_t block_size = 16 * 1024;

caf::error disk_error(std::string msg) { return caf::make_error(caf::sec::runtime_error, std::move(msg)); }

using self_ptr = disk_actor::stateful_pointer<disk_state>;

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

// The daemon's queued-jobs gauge: what waits in this store's mailbox and for a
// hash batch, after each job (the last job of a busy spell reports 0).
void sample_queue(self_ptr self) {
  auto& st = self->state;
  if (st.metrics)
    st.queued.set(static_cast<std::int64_t>(self->mailbox().size() + st.hash_jobs.size()));
}

// The piece from the read cache, read from disk on a miss (nullptr: unreadable).
std::shared_ptr<std::vector<char>> cached_piece(self_ptr self, std::uint32_t piece) {
  auto& st = self->state;
  if (auto it = st.cache_index.find(piece); it != st.cache_index.end()) {
    st.cache.splice(st.cache.begin(), st.cache, it->second); // most recently used first
    return it->second->second;
  }
  auto size = static_cast<std::size_t>(st.torrent->piece_size(piece));
  std::shared_ptr<std::vector<char>> data;
  // make room first, reusing an evicted piece's buffer if no block of it is
  // still on its way to a peer: no allocation, zero-filling or page faults on
  // a warm cache (only this actor hands out references, so a use count of 1
  // cannot grow behind our back)
  while (!st.cache.empty() && st.cache_bytes + size > st.cache_limit) {
    auto& last = st.cache.back();
    st.cache_bytes -= last.second->size();
    st.cache_index.erase(last.first);
    if (!data && last.second.use_count() == 1 && last.second->capacity() >= size)
      data = std::move(last.second);
    st.cache.pop_back();
  }
  if (!data)
    data = std::make_shared<std::vector<char>>();
  data->resize(size);
  auto out = std::span<std::uint8_t>{reinterpret_cast<std::uint8_t*>(data->data()), data->size()};
  if (!st.storage->read(piece, 0, out))
    return nullptr;
  st.cache_bytes += data->size();
  st.cache.emplace_front(piece, data);
  st.cache_index[piece] = st.cache.begin();
  return data;
}

// Releases the pages of every piece mapped in (see disk_state::mapped).
void release_mapped(disk_state& st) {
  std::vector<const storage::file_mapping*> files;
  for (const auto& [piece, range] : st.mapped)
    if (std::find(files.begin(), files.end(), range.mapping.get()) == files.end())
      files.push_back(range.mapping.get());
  for (const auto* m : files)
    storage::release_pages(m->data(), static_cast<std::size_t>(m->size()));
  st.mapped.clear();
  st.mapped_bytes = 0;
}

// The piece as a mapping of its file, its pages mapped in; nullptr when it
// does not lie in one file or cannot be mapped or read (the piece cache's
// pread then serves it, or names the error).
const storage::torrent_storage::mapped_range* mapped_of(self_ptr self, std::uint32_t piece) {
  auto& st = self->state;
  if (!st.map_reads)
    return nullptr;
  if (auto it = st.mapped.find(piece); it != st.mapped.end())
    return &it->second;
  auto size = static_cast<std::size_t>(st.torrent->piece_size(piece));
  auto range = st.storage->map_range(piece, 0, size);
  if (!range)
    return nullptr;
  if (st.mapped_bytes + size > st.cache_limit && !st.mapped.empty())
    release_mapped(st);
  // Pages already in the page cache need not be mapped in: uploads go out by sendfile from the file
  // (mapping them in and out was 11 % of a seeder's CPU with 8 leechers); only a piece that is not all
  // cached is read in here, on the disk actor, so that the broker never waits for the disk.
  if (!storage::resident_pages(range->data, size) && !storage::populate_pages(range->data, size)) {
    if (errno == EINVAL)
      st.map_reads = false; // a kernel without MADV_POPULATE_READ (before 5.14): pread only
    return nullptr;
  }
  st.mapped_bytes += size;
  return &st.mapped.emplace(piece, std::move(*range)).first->second;
}

// Whether the blocks of `piece` may be kept for hashing: full-length pieces
// made of whole 16 KiB blocks.
bool assemblable(const disk_state& st, std::uint32_t piece) {
  return st.assembling_limit > 0 && st.torrent->piece_length % block_size == 0
         && st.torrent->piece_size(piece) == st.torrent->piece_length;
}

void forget_assembly(disk_state& st, std::uint32_t piece) {
  if (auto it = st.assembling.find(piece); it != st.assembling.end()) {
    for (auto& b : it->second.blocks)
      st.assembling_bytes -= b.size();
    st.assembling.erase(it);
  }
}

// Keeps a block just written for its piece's hash, within the memory bound.
void keep_block(disk_state& st, block_data& bd) {
  if (!assemblable(st, bd.piece) || bd.offset % block_size != 0 || bd.bytes.size() != block_size)
    return;
  auto& a = st.assembling[bd.piece];
  if (a.spilled)
    return;
  if (a.blocks.empty())
    a.blocks.resize(static_cast<std::size_t>(st.torrent->piece_length / block_size));
  auto& slot = a.blocks[bd.offset / block_size];
  if (st.assembling_bytes - slot.size() + bd.bytes.size() > st.assembling_limit) {
    // no room: this piece will be read back; its blocks make room for others
    for (auto& b : a.blocks) {
      st.assembling_bytes -= b.size();
      b = std::vector<char>{};
    }
    a.received = 0;
    a.spilled = true;
    return;
  }
  if (slot.empty())
    ++a.received;
  st.assembling_bytes += bd.bytes.size() - slot.size();
  slot = std::move(bd.bytes);
}

// SHA-1 of every 16 KiB block (the last one may be shorter) of a piece read
// back from disk a block at a time; empty if it cannot be read.
std::vector<sha1_hash> block_hashes_on_disk(disk_state& st, std::uint32_t piece) {
  const auto size = st.torrent->piece_size(piece);
  std::vector<sha1_hash> out;
  std::array<std::uint8_t, block_size> buf;
  for (std::uint64_t off = 0; off < size; off += block_size) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(block_size, size - off));
    if (!st.storage->read(piece, off, std::span<std::uint8_t>{buf.data(), n}))
      return {};
    out.push_back(sha1(buf.data(), n));
  }
  return out;
}

// The batch's pieces for the batch hasher: blocks still in memory where all of
// a piece's blocks are there, else read back from the files (the page cache, as
// a rule). A piece that cannot be read is absent: it fails and is fetched again.
class batch_source final : public storage::piece_source {
public:
  explicit batch_source(disk_state& st) : st_(st) {}
  /// Hashes the piece from `a`'s blocks.
  void keep(std::uint32_t piece, const disk_state::assembly* a) { memory_.emplace_back(piece, a); }
  result<bool> read(std::size_t piece, std::uint64_t offset, std::span<std::uint8_t> out) override {
    return st_.storage->read(piece, offset, out).ok();
  }
  const std::uint8_t* memory(std::size_t piece, std::uint64_t offset) override {
    for (const auto& [p, a] : memory_) // (a batch has at most 16)
      if (p == piece)
        return reinterpret_cast<const std::uint8_t*>(a->blocks[static_cast<std::size_t>(offset / block_size)].data());
    return nullptr;
  }

private:
  disk_state& st_;
  std::vector<std::pair<std::size_t, const disk_state::assembly*>> memory_;
};

// Hashes every waiting piece with the batch hasher and answers each with its
// verdict.
void run_hash_batch(self_ptr self) {
  auto& st = self->state;
  ++st.hash_generation;
  st.hash_timer = false;
  auto jobs = std::move(st.hash_jobs);
  st.hash_jobs.clear();
  if (jobs.empty())
    return;
  batch_source src{st};
  std::vector<const disk_state::assembly*> memory(jobs.size(), nullptr);
  std::vector<std::size_t> ids(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    ids[i] = jobs[i].piece;
    auto it = st.assembling.find(jobs[i].piece);
    if (it != st.assembling.end() && !it->second.spilled && it->second.received == it->second.blocks.size()) {
      memory[i] = &it->second;
      src.keep(jobs[i].piece, memory[i]);
      ++st.pieces_from_memory;
    }
  }
  std::vector<storage::piece_digest> digests(jobs.size());
  // (reads never fail the batch: an unreadable piece is absent)
  auto t0 = steady::now();
  auto hashed = st.hasher->hash(ids, src, digests);
  if (st.metrics)
    st.metrics->hash_seconds.observe(seconds_since(t0));
  std::vector<piece_verdict> verdicts(jobs.size());
  st.pieces_hashed += jobs.size();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& v = verdicts[i];
    v.piece = jobs[i].piece;
    v.ok = hashed && digests[i].present && digests[i].hash == st.torrent->piece_hash(v.piece);
    if (!v.ok || jobs[i].with_blocks) {
      if (memory[i] != nullptr) {
        for (auto& b : memory[i]->blocks)
          v.block_hashes.push_back(sha1(b.data(), b.size()));
      } else {
        v.block_hashes = block_hashes_on_disk(st, v.piece);
      }
    }
    if (v.ok)
      st.storage->start_writeback(v.piece); // little left for the flush at the end
    if (st.metrics) {
      (v.ok ? st.metrics->pieces_passed : st.metrics->pieces_failed).fetch_add(1, std::memory_order_relaxed);
      if (!v.ok)
        st.metrics->add_wasted(logic::waste_reason::hash_failed, st.torrent->piece_size(v.piece));
    }
  }
  // only now: `memory` points into these blocks up to here
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    forget_assembly(st, verdicts[i].piece);
    jobs[i].promise.deliver(std::move(verdicts[i]));
  }
}

void drop_cached(self_ptr self, std::uint32_t piece) {
  auto& st = self->state;
  if (auto it = st.cache_index.find(piece); it != st.cache_index.end()) {
    st.cache_bytes -= it->second->second->size();
    st.cache.erase(it->second);
    st.cache_index.erase(it);
  }
}

// Writes the resume data: `have` and the files' stamps as they are now.
caf::error write_resume(disk_state& st, const std::vector<bool>& have, const transfer_totals& t) {
  auto stamps = st.storage->file_stamps();
  if (!stamps)
    return disk_error("cannot stat the files for the resume data: " + stamps.error().message);
  storage::resume_data rd;
  rd.info_hash = st.torrent->info_hash;
  rd.pieces = have;
  rd.pieces.resize(st.torrent->num_pieces(), false);
  rd.files = std::move(*stamps);
  rd.uploaded = st.base->uploaded + t.uploaded;
  rd.downloaded = st.base->downloaded + t.downloaded;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - st.base->started);
  rd.seconds_active = st.base->seconds + static_cast<std::uint64_t>(secs.count());
  if (auto w = storage::write_resume_file(st.resume_file, rd); !w)
    return disk_error(w.error().message);
  return {};
}

// The resume data's plan for the start-up check (nullopt: hash everything);
// sets *found when resume data for this torrent lies beside the data, whether
// it is trusted or not. With `recheck`, it is read for its totals only.
std::optional<storage::resume_plan> resume_plan_of(self_ptr self, bool* found) {
  auto& st = self->state;
  *found = false;
  if (st.resume_file.empty())
    return std::nullopt;
  const auto& layout = st.storage->layout();
  auto saved = storage::read_resume_file(st.resume_file, layout, st.torrent->info_hash);
  if (!saved) {
    *found = true; // ours, though unreadable: never trusted, a full check follows
    std::fprintf(stderr, "actorrent: ignoring resume data: %s\n", saved.error().message.c_str());
    return std::nullopt;
  }
  if (!*saved)
    return std::nullopt;
  *found = true;
  st.base->uploaded = (*saved)->uploaded;
  st.base->downloaded = (*saved)->downloaded;
  st.base->seconds = (*saved)->seconds_active;
  if (st.recheck)
    return std::nullopt;
  auto stamps = st.storage->file_stamps();
  if (!stamps)
    return std::nullopt;
  return storage::plan_resume(layout, **saved, *stamps);
}

// Refuses to go on over files that are not ours (storage/overwrite_guard.hpp)
// unless forced; cuts files longer than the torrent says when the download
// will write into them.
caf::error guard_overwrite(self_ptr self, const std::vector<bool>& have, bool resume_found) {
  auto& st = self->state;
  auto stamps = st.storage->file_stamps();
  if (!stamps)
    return disk_error("checking existing data failed: " + stamps.error().message);
  const auto& layout = st.storage->layout();
  auto found = storage::check_overwrite(layout, *stamps, have, resume_found);
  if (!found.unrelated.empty() && !st.force_overwrite)
    return disk_error(storage::describe_unrelated(layout, found, st.storage->root()));
  if (std::find(have.begin(), have.end(), false) == have.end())
    return {}; // complete: nothing will be written
  for (auto i : found.too_long)
    if (auto t = st.storage->truncate_to_size(i); !t)
      return disk_error(t.error().message);
  return {};
}

// The start-up check: which pieces are on disk (resume data trusted where its
// files are unchanged, everything else hashed), then the overwrite guard.
caf::result<std::vector<bool>> check_existing(self_ptr self) {
  auto& st = self->state;
  bool resume_found = false;
  auto plan = resume_plan_of(self, &resume_found);
  storage::torrent_storage::progress_fn report;
  if (st.progress)
    report = [p = st.progress](std::size_t done, std::size_t total) {
      p->total.store(total);
      p->done.store(done);
    };
  std::optional<std::vector<bool>> only;
  if (plan)
    only = plan->to_check;
  if (!st.wanted.empty()) {
    if (!only)
      only = st.wanted;
    for (std::size_t p = 0; p < only->size() && p < st.wanted.size(); ++p)
      (*only)[p] = (*only)[p] && st.wanted[p];
  }
  auto res = st.storage->check_existing(st.check_threads, report, only ? &*only : nullptr, st.check_nice);
  if (!res)
    return disk_error("checking existing data failed: " + res.error().message);
  if (plan)
    for (std::size_t p = 0; p < res->size() && p < plan->trusted.size(); ++p)
      if (plan->trusted[p]) {
        (*res)[p] = true;
        ++st.trusted_pieces;
      }
  if (auto err = guard_overwrite(self, *res, resume_found))
    return err;
  // from now on the data here is this torrent's: say so at once, so that a
  // run killed before its first periodic save is not taken for a stranger's
  // (right after the verdict: its fsyncs do not delay it); a seed whose data
  // is incomplete ends after the check and writes nothing
  bool complete = std::find(res->begin(), res->end(), false) == res->end();
  if (!resume_found && !st.resume_file.empty() && (complete || !st.require_complete))
    self->request(caf::actor_cast<disk_actor>(self), caf::infinite, resume_atom_v, *res, transfer_totals{}, false)
      .then([](bool) {},
            [self](caf::error& err) {
              std::fprintf(stderr, "actorrent: cannot write resume data: %s\n", self->system().render(err).c_str());
            });
  return std::move(*res);
}

} // namespace

namespace {

// Takes the configuration and opens the torrent's files; an error ends the store.
caf::error open_store(self_ptr self, const disk_config& cfg) {
  auto& st = self->state;
  st.torrent = cfg.torrent;
  st.check_threads = cfg.check_threads;
  st.check_nice = cfg.check_nice;
  st.cache_limit = cfg.read_cache_bytes;
  st.map_reads = cfg.map_reads;
  st.resume_file = cfg.resume_file;
  st.force_overwrite = cfg.force_overwrite;
  st.recheck = cfg.recheck;
  st.require_complete = cfg.require_complete;
  st.progress = cfg.progress;
  st.faults = cfg.faults;
  st.metrics = cfg.metrics;
  if (st.metrics)
    st.queued = logic::gauge_share{&st.metrics->disk_queued_jobs};
  st.base = cfg.base ? cfg.base : std::make_shared<resume_base>();
  st.hash_delay = cfg.hash_delay;
  st.assembling_limit = cfg.hash_memory_bytes;
  st.hash_batch = cfg.hash_batch > 0 ? cfg.hash_batch : sha1_lanes(sha1_default_kernel());
  if (cfg.torrent->piece_length > 0)
    st.hash_batch = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::min<std::uint64_t>(st.hash_batch, cfg.hash_batch_bytes / cfg.torrent->piece_length)),
      1, st.hash_batch);
  auto opened = storage::torrent_storage::open(*cfg.torrent, cfg.root);
  if (!opened)
    return disk_error("cannot open storage in " + cfg.root + ": " + opened.error().message);
  st.storage.emplace(std::move(*opened));
  if (!cfg.skip_files.empty())
    if (auto ok = st.storage->skip_files(cfg.skip_files, cfg.part_file); !ok)
      return disk_error("cannot select files: " + ok.error().message);
  if (!cfg.wanted.empty() && cfg.wanted.size() != cfg.torrent->num_pieces())
    return disk_error("the wanted-piece mask has the wrong size");
  st.wanted = cfg.wanted;
  storage::hash_settings hs;
  hs.piece_length = cfg.torrent->piece_length;
  hs.total_size = cfg.torrent->total_size;
  if (cfg.torrent->piece_length % block_size == 0)
    hs.memory_part = block_size; // blocks kept in memory feed the lanes directly
  st.hasher.emplace(hs);
  return {};
}

void write_block(self_ptr self, block_data& bd) {
  auto& st = self->state;
  auto data = std::span<const std::uint8_t>{reinterpret_cast<const std::uint8_t*>(bd.bytes.data()), bd.bytes.size()};
  if (auto pad = st.storage->layout().check_pad(bd.piece, bd.offset, data); !pad)
    return; // the sender's fault: the hash check will fail the piece and blame it
  drop_cached(self, bd.piece); // never serve a stale copy
  // a write that fails loses this piece only: its hash request is answered
  // with the error, the picker fetches it again, and the torrent decides
  // whether to go on (on_write_failed)
  auto failed = [&](std::string why) {
    forget_assembly(st, bd.piece);
    st.write_failed.emplace(bd.piece, std::pair{std::move(why), st.faults ? st.faults->generation() : 0});
    if (st.faults)
      st.faults->failed_writes.fetch_add(1);
  };
  if (st.faults && st.faults->active()) {
    auto d = st.faults->before_write(data.size());
    if (d.delay.count() > 0)
      std::this_thread::sleep_for(d.delay); // a slow disk holds this thread as a real one would
    if (d.error != 0) {
      failed("cannot write piece " + std::to_string(bd.piece) + ": " + storage::errno_text(d.error)
             + " (injected disk fault)");
      return;
    }
  }
  auto t0 = steady::now();
  if (auto w = st.storage->write(bd.piece, bd.offset, data); !w) {
    failed(w.error().message);
    return;
  }
  if (st.metrics) {
    st.metrics->observe_disk(logic::disk_op::write, seconds_since(t0));
    st.metrics->disk_written_bytes.fetch_add(data.size(), std::memory_order_relaxed);
  }
  st.bytes_written += data.size();
  keep_block(st, bd); // moves the bytes, no copy
}

// Queues a hash request: the batch runs when full or when its timer fires.
caf::result<piece_verdict> queue_hash(self_ptr self, std::uint32_t piece, bool with_blocks) {
  auto& st = self->state;
  if (auto it = st.write_failed.find(piece); it != st.write_failed.end()) {
    piece_verdict v;
    v.piece = piece;
    // a piece left unfinished when a fault paused us completes after the fault
    // changed: it still lacks a block, but the disk is not to blame now
    bool stale = st.faults && it->second.second != st.faults->generation();
    v.write_error = stale ? "a block of piece " + std::to_string(piece) + " was lost to an earlier write error"
                          : std::move(it->second.first);
    st.write_failed.erase(it);
    return v;
  }
  auto rp = self->make_response_promise<piece_verdict>();
  st.hash_jobs.push_back({piece, with_blocks, rp});
  if (st.hash_jobs.size() >= st.hash_batch) {
    run_hash_batch(self);
  } else if (!st.hash_timer) {
    st.hash_timer = true;
    self->delayed_send(self, st.hash_delay, hash_atom_v, st.hash_generation);
  }
  return rp;
}

caf::result<bool> save_resume(self_ptr self, const std::vector<bool>& have, const transfer_totals& t, bool sync) {
  auto& st = self->state;
  if (st.resume_file.empty())
    return false;
  if (sync) {
    auto t0 = steady::now();
    if (auto f = st.storage->flush(); !f)
      return disk_error("flush failed: " + f.error().message);
    if (st.metrics)
      st.metrics->observe_disk(logic::disk_op::sync, seconds_since(t0));
  }
  if (auto err = write_resume(st, have, t))
    return err;
  return true;
}

// Blocks for upload, one view per block (shared slices of cached pieces).
caf::result<std::vector<block_view>> read_blocks(self_ptr self, const std::vector<block_ref>& blocks) {
  auto& st = self->state;
  std::vector<block_view> out;
  out.reserve(blocks.size());
  for (const auto& b : blocks) {
    if (b.piece >= st.torrent->num_pieces())
      return disk_error("read of piece " + std::to_string(b.piece) + " out of range");
    if (auto* m = mapped_of(self, b.piece)) {
      if (std::uint64_t{b.offset} + b.length > st.torrent->piece_size(b.piece))
        return disk_error("read past the end of piece " + std::to_string(b.piece));
      block_view v;
      v.length = b.length;
      v.mapped = m->data + b.offset;
      v.mapping = m->mapping;
      out.push_back(std::move(v));
      ++st.mapped_reads;
      continue;
    }
    ++st.copied_reads;
    auto piece = cached_piece(self, b.piece);
    if (piece == nullptr)
      return disk_error("cannot read piece " + std::to_string(b.piece));
    if (std::uint64_t{b.offset} + b.length > piece->size())
      return disk_error("read past the end of piece " + std::to_string(b.piece));
    out.push_back(block_view{std::move(piece), b.offset, b.length, nullptr, nullptr});
  }
  return out;
}

} // namespace

disk_actor::behavior_type disk_store(disk_actor::stateful_pointer<disk_state> self, disk_config cfg) {
  if (auto err = open_store(self, cfg)) {
    self->quit(std::move(err));
    return disk_actor::behavior_type::make_empty_behavior();
  }
  return {
    [self](block_atom, block_data& bd) {
      write_block(self, bd);
      sample_queue(self);
    },
    [self](hash_atom, std::uint32_t piece, bool with_blocks) -> caf::result<piece_verdict> {
      auto r = queue_hash(self, piece, with_blocks);
      sample_queue(self);
      return r;
    },
    [self](hash_atom, std::uint64_t generation) {
      if (generation == self->state.hash_generation)
        run_hash_batch(self);
      sample_queue(self);
    },
    [self](check_atom) -> caf::result<std::vector<bool>> { return check_existing(self); },
    [self](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (auto c = st.storage->create_all_files(); !c)
        return disk_error("creating files failed: " + c.error().message);
      auto t0 = steady::now();
      if (auto f = st.storage->flush(); !f)
        return disk_error("flush failed: " + f.error().message);
      if (st.metrics)
        st.metrics->observe_disk(logic::disk_op::sync, seconds_since(t0));
      return true;
    },
    [self](resume_atom, const std::vector<bool>& have, const transfer_totals& t, bool sync) -> caf::result<bool> {
      return save_resume(self, have, t, sync);
    },
    [self](read_atom, const std::vector<block_ref>& blocks) -> caf::result<std::vector<block_view>> {
      auto& st = self->state;
      auto t0 = steady::now();
      auto r = read_blocks(self, blocks);
      if (st.metrics) {
        st.metrics->observe_disk(logic::disk_op::read, seconds_since(t0));
        std::uint64_t bytes = 0;
        for (auto& b : blocks)
          bytes += b.length;
        st.metrics->disk_read_bytes.fetch_add(bytes, std::memory_order_relaxed);
      }
      sample_queue(self);
      return r;
    },
    [self](status_atom) {
      auto& st = self->state;
      return actor_status{disk_state::name, st.hash_jobs.empty() ? "idle" : "hashing",
                          {{"bytes_written", std::to_string(st.bytes_written)},
                           {"hash_jobs", std::to_string(st.hash_jobs.size())},
                           {"pieces_from_memory", std::to_string(st.pieces_from_memory)},
                           {"trusted_pieces", std::to_string(st.trusted_pieces)},
                           {"cache_bytes", std::to_string(st.cache_bytes)},
                           {"mapped_bytes", std::to_string(st.mapped_bytes)},
                           {"mapped_reads", std::to_string(st.mapped_reads)},
                           {"copied_reads", std::to_string(st.copied_reads)}}};
    },
  };
}

} // namespace actorrent
