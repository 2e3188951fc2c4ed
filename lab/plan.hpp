// A swarm-lab plan: one YAML file describing one experiment (issue 12), read
// with yaml-cpp, checked completely before anything is started, and resolved
// into the concrete peers, addresses and fault times of a run. CAF-free: the
// fuzz build links it.
//
//   name: partition-heals
//   seed: 42
//   torrent: {size: 8MiB, piece_length: 256KiB, files: 1}
//   limits: {max_duration: 60s}
//   groups:
//     - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 40mbit, delay: 20ms}}
//     - {name: leechers, kind: actorrent, count: 3, role: leech, link: {delay: 40ms, jitter: 10ms, loss: 0.5%}}
//   faults:
//     - {at: 5s, for: 10s, kind: partition, between: [leechers, seeders]}
//   oracles: [all_honest_complete, data_intact, no_crash]
//
// Errors name the source, line and column (1-based) and the key's path:
// "plan.yaml:7:12: groups[1].count: expected an integer from 1 to 1000, got 'x'".
#pragma once

#include "protocol/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::lab {

inline constexpr std::size_t plan_file_limit = 1 << 20;
inline constexpr std::uint32_t max_peers_total = 1000;
inline constexpr std::size_t max_groups = 100;
inline constexpr std::size_t max_faults = 1000;
inline constexpr std::uint32_t max_files = 1000;

enum class peer_kind { actorrent, libtorrent, aria2c, transmission };
enum class peer_role { seed, leech };

std::string_view to_string(peer_kind k);
std::string_view to_string(peer_role r);

/// Link shaping of a peer's side of the lab network (tc netem + tbf); unset
/// fields are not shaped.
struct link_spec {
  std::optional<std::uint64_t> rate_bits;  ///< bits/s
  std::optional<std::uint64_t> delay_ms;
  std::optional<std::uint64_t> jitter_ms;
  std::optional<std::uint32_t> loss_ppm;   ///< parts per million
  bool empty() const { return !rate_bits && !delay_ms && !jitter_ms && !loss_ppm; }
  /// "rate 40mbit, delay 20ms" or "none".
  std::string describe() const;
  bool operator==(const link_spec&) const = default;
};

/// One misbehaviour of a peer's wire layer ("corrupt_blocks: 20%"); the value
/// is checked and kept in its printed form. Carried out by the wire-fault layer.
struct behavior_entry {
  std::string key;
  std::string value;
  bool operator==(const behavior_entry&) const = default;
};

/// Gilbert-Elliott loss (burst_loss faults): a chain in state good or bad, stepped
/// every `step_ms`; at each step good -> bad with `to_bad`, bad -> good with
/// `to_good`; packets leaving the peer are dropped with `loss_bad` (`loss_good`)
/// while it is bad (good). Probabilities in parts per million.
struct burst_loss_spec {
  std::uint32_t to_bad_ppm = 0;
  std::uint32_t to_good_ppm = 0;
  std::uint32_t loss_bad_ppm = 1'000'000;
  std::uint32_t loss_good_ppm = 0;
  std::uint64_t step_ms = 100;
  bool operator==(const burst_loss_spec&) const = default;
};

struct group_spec {
  std::string name;
  peer_kind kind = peer_kind::actorrent;
  std::uint32_t count = 1;
  peer_role role = peer_role::leech;
  link_spec link;
  std::vector<behavior_entry> behavior; ///< empty: honest peers
};

/// wire: the targets' wire-fault layer on for a window (`behavior`, as a
/// group's); disk: disk faults of actorrent peers for a window (`disk`). Both
/// are turned on and off over BASP by the lab's coordinator.
/// reset: every TCP connection of the targets is reset once it has carried
/// `after` bytes (iptables connbytes + REJECT --reject-with tcp-reset);
/// burst_loss: Gilbert-Elliott bursty loss, a seeded two-state chain the runner
/// steps (lab/burst_loss.hpp).
enum class fault_kind { partition, blackhole, delay, loss, rate, pause, churn, wire, disk, reset, burst_loss };
std::string_view to_string(fault_kind k);

struct fault_spec {
  std::string where;                  ///< "plan.yaml:12:5: faults[1]", for errors found later
  fault_kind kind = fault_kind::delay;
  std::uint64_t at_ms = 0;
  std::optional<std::uint64_t> for_ms; ///< unset: to the end of the run
  std::vector<std::string> targets;   ///< group or peer names (partition: side A)
  std::vector<std::string> other;     ///< partition: side B
  bool one_way = false;               ///< partition: only A -> B dropped
  std::optional<std::uint32_t> count; ///< pick this many of the targets (seeded)
  std::optional<std::uint64_t> down_for_ms; ///< churn: how long a peer stays down
  link_spec link;                     ///< delay/loss/rate: the shaping during the window
  std::vector<behavior_entry> behavior; ///< wire: the misbehaviour during the window
  std::vector<behavior_entry> disk;     ///< disk: write_errors, errors_after, full_after, slow_writes
  std::optional<std::uint64_t> after_bytes; ///< reset: bytes a connection carries (both ways) before it is reset
  burst_loss_spec burst;                ///< burst_loss
};

struct oracle_spec {
  std::string name;                        ///< all_honest_complete, data_intact, ...
  std::optional<std::uint64_t> within_ms;  ///< all_honest_complete
  std::optional<std::uint64_t> max_bytes;  ///< max_rss
  std::optional<double> factor;            ///< slowdown
  std::string describe() const;            ///< "all_honest_complete {within: 120s}"
};

struct plan {
  std::string source;          ///< the file name given, for messages
  std::string name;
  std::uint64_t seed = 0;
  std::uint64_t size = 0;      ///< torrent.size, bytes
  std::uint64_t piece_length = 256 * 1024;
  std::uint32_t files = 1;
  std::uint64_t max_duration_ms = 300'000;
  std::vector<group_spec> groups;
  std::vector<fault_spec> faults;
  std::vector<oracle_spec> oracles; ///< defaults: all_honest_complete, data_intact, no_crash
};

/// Parses and checks a plan (every key, every reference between groups and
/// faults). `source` starts every error. Never throws.
result<plan> parse_plan(std::string_view yaml, const std::string& source);

/// Reads `path` (at most plan_file_limit bytes) into `text` and parses it.
result<plan> load_plan(const std::string& path, std::string* text = nullptr);

// ---- resolution ------------------------------------------------------------------

struct resolved_peer {
  std::string name;     ///< <group>-<n>, n from 1
  std::size_t group = 0;
  std::uint32_t number = 1;
  peer_kind kind = peer_kind::actorrent;
  peer_role role = peer_role::leech;
  bool honest = true;
  std::string address;  ///< inside the lab network only
  std::uint16_t port = 6881;
  link_spec link;
};

struct resolved_fault {
  std::size_t index = 0;             ///< in plan::faults
  fault_kind kind = fault_kind::delay;
  std::uint64_t start_ms = 0;
  std::optional<std::uint64_t> end_ms; ///< unset: until the end of the run
  std::vector<std::size_t> targets;  ///< peer indices (partition: side A)
  std::vector<std::size_t> other;    ///< partition: side B
  bool one_way = false;
  std::optional<std::uint64_t> down_for_ms;
  link_spec link;                    ///< delay/loss/rate: the window's shaping (the runner lays it over each target's own link)
  std::vector<behavior_entry> behavior; ///< wire
  std::vector<behavior_entry> disk;     ///< disk
  std::optional<std::uint64_t> after_bytes; ///< reset
  burst_loss_spec burst;                ///< burst_loss
};

struct resolved_plan {
  plan spec;
  std::string subnet = "10.77.0.0/16";
  std::string bridge_address = "10.77.0.1"; ///< the tracker listens here
  std::uint8_t prefix_length = 16;
  std::uint16_t tracker_port = 6969;
  std::vector<resolved_peer> peers;
  std::vector<resolved_fault> faults;
};

/// Names the peers, gives each an address, resolves fault targets (choosing
/// `count` of them with a generator seeded from the plan's seed and the fault's
/// index) and times. Errors (an empty side of a partition, a count larger than
/// its targets) name the fault's place in the file.
result<resolved_plan> resolve(const plan& p);

/// The spec a wire or disk fault sends to one peer's control actor:
/// "key=value,...", with seed=<plan seed> (and, for wire, peer=<name>) appended.
std::string fault_spec_string(const resolved_plan& rp, const resolved_fault& f, std::size_t peer);

/// Deterministic 64-bit generator (splitmix64) for every random choice of a run.
class seeded_rng {
public:
  seeded_rng(std::uint64_t seed, std::string_view purpose);
  std::uint64_t next();
  /// Uniform in [0, n), n > 0.
  std::uint64_t below(std::uint64_t n);

private:
  std::uint64_t state_;
};

/// The human-readable resolved plan `lab validate` prints.
std::string describe(const resolved_plan& rp);

} // namespace actorrent::lab
