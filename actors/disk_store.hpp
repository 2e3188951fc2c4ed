// The disk store actor of one torrent: writes blocks with pwrite, hashes whole
// pieces, checks existing data at start, flushes at the end, reads blocks for
// uploads through a bounded cache of whole pieces, and keeps the resume data
// (storage/resume_data.hpp): at the start-up check, pieces it lists as verified
// are trusted when their files still have the size and mtime it recorded, and
// everything else is hashed; the torrent asks for it to be rewritten every few
// seconds while pieces are added, and at exit. It runs on a CAF
// scheduler thread, never on the middleman (network) thread, so hashing and
// disk I/O never stall the peer connections; with the network on the
// middleman thread this puts the two cores to work.
#pragma once

#include "logic/engine_metrics.hpp"
#include "messages/interfaces.hpp"
#include "protocol/metainfo.hpp"
#include "storage/batch_hasher.hpp"
#include "storage/disk_faults.hpp"
#include "storage/torrent_storage.hpp"

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <unordered_map>
#include <optional>
#include <string>

namespace actorrent {

struct check_progress {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> total{0};
};

/// What a torrent's disk store learns at the check and needs for every resume
/// write: the totals of earlier sessions (from the resume data) and when this
/// session started. The torrent holds it, so a store spawned again (an idle
/// torrent lets its store go and spawns a new one for its next peer) writes
/// the same totals without checking again.
struct resume_base {
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t seconds = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

struct disk_config {
  std::shared_ptr<const metainfo> torrent;
  std::string root;              ///< download directory
  unsigned check_threads = 0;    ///< for the start-up check; 0: one per core
  /// The start-up check hashes on threads of its own this much below the
  /// usual priority (0: on the store's own thread too, at the usual one).
  int check_nice = 0;
  std::size_t read_cache_bytes = 16 * 1024 * 1024; ///< whole pieces kept (or kept mapped in) for uploads
  /// Serve uploads from read-only mappings of the files where a piece lies in
  /// one file (false: always pread into the piece cache).
  bool map_reads = true;
  std::string resume_file;       ///< resume data (read at the check, written on request); empty: none
  /// Pieces hashed side by side in one batch (0: as many as the SHA-1 kernel has
  /// lanes, 16 with AVX-512). Pieces read back from disk for it are read in
  /// chunks of at most 256 KiB each, so its memory does not grow with the piece length.
  std::size_t hash_batch = 0;
  /// A batch never waits for more than this many bytes of pieces: the picker
  /// stops requesting once max_disk_queue bytes (6 MiB) are handed over but not
  /// yet hashed, so a batch waiting to fill beyond that would stall the
  /// download until its timer, and one as large as the queue would make the
  /// peers stop and go (engine_config keeps it at most half the queue). 3 MiB:
  /// 12 pieces of 256 KiB, still the 16-lane kernel.
  std::size_t hash_batch_bytes = 3 * 1024 * 1024;
  /// How long the first piece of a batch waits for others: at 300 MB/s a batch
  /// of 16 pieces of 256 KiB fills in ~14 ms.
  std::chrono::milliseconds hash_delay{20};
  /// Blocks kept in memory after their write until their piece is hashed, so
  /// a piece is hashed from the bytes that came off the wire rather than read
  /// back from the page cache. Pieces that do not fit are read back.
  std::size_t hash_memory_bytes = 12 * 1024 * 1024;
  /// Replace files that exist with data in them although there is no resume
  /// data and no piece of theirs verifies (else the check fails, naming them).
  bool force_overwrite = false;
  /// Ignore the resume data at the start-up check: hash every piece.
  bool recheck = false;
  /// The torrent ends unless every piece verifies (a seed): the check then
  /// claims the data as this torrent's only when it is complete.
  bool require_complete = false;
  /// Files not selected (--select-file), one flag per file of the torrent
  /// (empty: every file is wanted): never created or written; their bytes in
  /// wanted pieces go to `part_file` (torrent_storage::skip_files).
  std::vector<bool> skip_files;
  std::string part_file;  ///< relative to root, e.g. ".actorrent/HASH.parts"
  /// Pieces wanted (empty: all): the start-up check looks at these only.
  std::vector<bool> wanted;
  /// Progress of the start-up check, for the torrent's status: pieces hashed and
  /// pieces to hash (written by the hashing threads, read by the torrent).
  std::shared_ptr<check_progress> progress;
  /// Totals of earlier sessions and this session's start (null: the store
  /// keeps its own, starting now).
  std::shared_ptr<resume_base> base;
  /// Injected disk faults (the lab's, --disk-fault), asked before every block
  /// write; null: none.
  std::shared_ptr<storage::disk_faults> faults;
  /// The daemon's counters (disk bytes, operation and hash-batch durations,
  /// queued jobs, pieces verified); null: none kept.
  std::shared_ptr<logic::engine_metrics> metrics;
};

struct disk_state {
  std::optional<storage::torrent_storage> storage;
  std::shared_ptr<const metainfo> torrent;
  /// A piece waiting to be hashed with the next batch.
  struct hash_job {
    std::uint32_t piece = 0;
    bool with_blocks = false;
    caf::typed_response_promise<piece_verdict> promise;
  };
  std::vector<hash_job> hash_jobs;
  std::size_t hash_batch = 1;
  std::chrono::milliseconds hash_delay{0};
  std::uint64_t hash_generation = 0; ///< bumped by every batch; a stale timer is ignored
  bool hash_timer = false;           ///< a timer for the current generation is pending
  /// Hashes the batches (its read buffer, reused, holds a chunk of each piece
  /// of a batch read back from disk, none for pieces hashed from memory).
  std::optional<storage::batch_hasher> hasher;
  /// The blocks written so far of a piece not yet hashed (kept only when the
  /// piece length is a multiple of 16 KiB and the piece has its full length).
  struct assembly {
    std::vector<std::vector<char>> blocks; ///< by block index; empty: not received
    std::size_t received = 0;
    bool spilled = false; ///< a block did not fit in memory: this piece is read back
  };
  std::unordered_map<std::uint32_t, assembly> assembling;
  std::size_t assembling_bytes = 0;
  std::size_t assembling_limit = 0;
  std::uint64_t pieces_hashed = 0;     ///< pieces hashed (read by the tests)...
  std::uint64_t pieces_from_memory = 0; ///< ...of which from their blocks in memory
  std::uint64_t bytes_written = 0;
  unsigned check_threads = 0;
  int check_nice = 0;
  std::string resume_file;
  bool force_overwrite = false;
  bool recheck = false;
  bool require_complete = false;
  std::shared_ptr<check_progress> progress;
  std::shared_ptr<storage::disk_faults> faults;
  /// Pieces a block write of which failed, with the error: their hash request
  /// is answered with it (write_error) instead of a hash, so no sender is blamed.
  /// (The faults' generation at the failure: an error of an earlier fault is
  /// reported as a lost block, not as the disk being full now.)
  std::unordered_map<std::uint32_t, std::pair<std::string, std::uint64_t>> write_failed;
  std::vector<bool> wanted;           ///< pieces the check looks at (empty: all)
  std::shared_ptr<resume_base> base;  ///< totals of earlier sessions (never null)
  std::uint32_t trusted_pieces = 0;   ///< taken from resume data without hashing
  /// Read cache for uploads: whole pieces, least recently used evicted first,
  /// so a piece several peers want is read from disk once.
  std::list<std::pair<std::uint32_t, std::shared_ptr<std::vector<char>>>> cache;
  std::unordered_map<std::uint32_t, decltype(cache)::iterator> cache_index;
  std::size_t cache_bytes = 0;
  std::size_t cache_limit = 0;
  /// Pieces served from read-only mappings of their files instead (those that
  /// lie in one file): no copy, the peer writes them from the page cache. A
  /// piece's pages are mapped in (populated) here on its first read, so the
  /// network thread never waits for the disk; once cache_limit bytes of pieces
  /// are mapped in, every file mapping's pages are released at once (one
  /// madvise per file, not one per piece), which bounds the resident set.
  std::unordered_map<std::uint32_t, storage::torrent_storage::mapped_range> mapped;
  std::size_t mapped_bytes = 0;
  bool map_reads = true;              ///< serve uploads from mappings where possible
  std::uint64_t mapped_reads = 0;     ///< blocks served from a mapping...
  std::uint64_t copied_reads = 0;     ///< ...and from the piece cache
  std::shared_ptr<logic::engine_metrics> metrics; ///< null: none kept
  logic::gauge_share queued;          ///< this store's share of metrics->disk_queued_jobs (after `metrics`)

  static inline const char* name = "disk-store";
};

disk_actor::behavior_type disk_store(disk_actor::stateful_pointer<disk_state> self, disk_config cfg);

} // namespace actorrent
