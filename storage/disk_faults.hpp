// Disk faults for the swarm lab (issue 12, "Faults -> Disk level"): what a
// torrent's disk store does to its block writes while a fault is on. CAF-free;
// the disk store asks before every block write, the torrent reads the counters
// for its status and turns the fault on and off (--disk-fault, or the lab's
// control actor at run time).
//
//   write_errors=2%       a share of block writes fail with EIO (which ones is a
//                         function of seed and the write's number: same seed,
//                         same writes); a piece of 16 blocks is lost with
//                         probability 1 - (1 - share)^16 (2%: about 28%)
//   errors_after=4MiB     every write fails with EIO once 4 MiB were written
//   full_after=4MiB       every write fails with ENOSPC (disk full) once 4 MiB
//                         were written
//   slow_writes=20ms      each block write waits this long first (the disk
//                         store's thread sleeps, as on a slow disk)
//   seed=N                the decisions' seed (default 0)
//
// Items are joined with commas ("full_after=8MiB,slow_writes=5ms"); "" or "off"
// turns every fault off. Byte counts start when the spec is set. Sizes take B,
// K/KiB, M/MiB, G/GiB (1024-based) or KB/MB/GB (1000-based); durations us, ms
// or s; shares 0% to 100%. Only block writes are affected: reads, the resume
// data and the final flush are not.
#pragma once

#include "protocol/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace actorrent::storage {

struct disk_fault_spec {
  std::uint32_t write_error_ppm = 0;            ///< share of writes failing with EIO, parts per million
  std::optional<std::uint64_t> errors_after;    ///< bytes, then every write fails with EIO
  std::optional<std::uint64_t> full_after;      ///< bytes, then every write fails with ENOSPC
  std::chrono::microseconds slow_write{0};      ///< delay before each write
  std::uint64_t seed = 0;
  bool empty() const { return write_error_ppm == 0 && !errors_after && !full_after && slow_write.count() == 0; }
  /// The canonical form ("full_after=4MiB,slow_writes=20ms"; "off" when empty);
  /// parses back to the same spec.
  std::string to_string() const;
  bool operator==(const disk_fault_spec&) const = default;
};

/// Parses a spec (see the file comment); errors name the item and what was expected.
result<disk_fault_spec> parse_disk_fault_spec(std::string_view text);

/// What one write should suffer.
struct disk_fault_decision {
  int error = 0;                            ///< 0, EIO or ENOSPC
  std::chrono::microseconds delay{0};
};

/// The fault now in force and what it did. Thread-safe: the disk store asks on
/// its thread, the torrent sets and reads on another. Costs one relaxed atomic
/// load per write while off.
class disk_faults {
public:
  disk_faults() = default;
  explicit disk_faults(disk_fault_spec spec) { set(std::move(spec)); }

  /// Replaces the fault (an empty spec: off); byte counts start again.
  void set(disk_fault_spec spec);
  disk_fault_spec spec() const;
  bool active() const { return active_.load(std::memory_order_relaxed); }
  /// Bumped by every set(): tells a write error of an earlier fault from one of now.
  std::uint64_t generation() const { return generation_.load(); }

  /// Asked before writing `bytes` of a block: the error to return instead of
  /// writing, and how long to wait first. Counts what it decides.
  disk_fault_decision before_write(std::size_t bytes);

  /// Counters (cumulative over spec changes), for the status values "disk.*".
  std::atomic<std::uint64_t> writes{0};            ///< writes asked about while a fault was on
  std::atomic<std::uint64_t> injected_errors{0};   ///< EIO injected
  std::atomic<std::uint64_t> injected_full{0};     ///< ENOSPC injected
  std::atomic<std::uint64_t> slowed_writes{0};
  std::atomic<std::uint64_t> slow_us{0};           ///< total delay added
  std::atomic<std::uint64_t> failed_writes{0};     ///< every failed block write, injected or real (the disk store counts)
  std::atomic<std::uint64_t> refetched_pieces{0};  ///< pieces dropped after a failed write, fetched again
  std::atomic<std::uint64_t> times_set{0};         ///< how often a non-empty spec was set

  /// The counters and the spec by name, prefixed "disk.".
  std::map<std::string, std::string> values() const;

private:
  mutable std::mutex mtx_;
  disk_fault_spec spec_;
  std::uint64_t bytes_since_set_ = 0;
  std::uint64_t write_number_ = 0;
  std::atomic<bool> active_{false};
  std::atomic<std::uint64_t> generation_{0};
};

/// Whether a write error's text says the disk is full or read-only (ENOSPC,
/// EDQUOT, EROFS): no point going on writing.
bool is_disk_full_error(const std::string& message);

} // namespace actorrent::storage
