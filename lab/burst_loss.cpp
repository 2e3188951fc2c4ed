#include "lab/burst_loss.hpp"

namespace actorrent::lab {

gilbert_elliott::gilbert_elliott(const burst_loss_spec& spec, std::uint64_t seed, std::string_view purpose)
  : spec_(spec), rng_(seed, purpose) {}

bool gilbert_elliott::step() {
  auto p = bad_ ? spec_.to_good_ppm : spec_.to_bad_ppm;
  bool change = rng_.below(1'000'000) < p;
  if (change) {
    bad_ = !bad_;
    if (bad_)
      ++bursts_;
  }
  ++steps_;
  if (bad_)
    ++bad_steps_;
  return change;
}

} // namespace actorrent::lab
