// Gilbert-Elliott bursty loss without netem (this machine's kernel has no
// sch_netem): a two-state Markov chain per target peer, stepped by the lab
// runner at a fixed interval and seeded from the plan. While the chain is in
// state bad, the runner keeps an iptables `statistic` DROP rule with the bad
// state's loss on the peer's outgoing packets; in state good, the good state's
// (none at 0%). So losses come in bursts whose lengths are whole steps: mean
// burst 1/to_good steps, mean gap 1/to_bad steps. Unlike netem's gemodel, which
// decides per packet, the state changes at most once per step. CAF-free.
#pragma once

#include "lab/plan.hpp"

#include <cstdint>
#include <string_view>

namespace actorrent::lab {

class gilbert_elliott {
public:
  /// Starts in state good. `purpose` names the chain (fault and peer), so each
  /// target of each fault draws its own sequence from the plan's seed.
  gilbert_elliott(const burst_loss_spec& spec, std::uint64_t seed, std::string_view purpose);

  bool bad() const { return bad_; }
  /// The share of outgoing packets dropped in the current state (ppm).
  std::uint32_t loss_ppm() const { return bad_ ? spec_.loss_bad_ppm : spec_.loss_good_ppm; }
  /// One step of the chain; true when the state changed.
  bool step();
  /// Steps taken and steps spent in state bad so far.
  std::uint64_t steps() const { return steps_; }
  std::uint64_t bad_steps() const { return bad_steps_; }
  /// Times the chain went from good to bad.
  std::uint64_t bursts() const { return bursts_; }

private:
  burst_loss_spec spec_;
  seeded_rng rng_;
  bool bad_ = false;
  std::uint64_t steps_ = 0, bad_steps_ = 0, bursts_ = 0;
};

} // namespace actorrent::lab
