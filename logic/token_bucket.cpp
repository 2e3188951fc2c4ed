#include "logic/token_bucket.hpp"

#include <algorithm>

namespace actorrent::logic {

void token_bucket::set_rate(double bytes_per_second, clock::time_point now) {
  auto rate = std::max(0.0, bytes_per_second);
  if (rate_ <= 0 && rate > 0) {
    tokens_ = 0;
    refilled_ = now;
  } else if (rate_ > 0) {
    refill(now); // what was earned at the old rate stays
  }
  rate_ = rate;
  tokens_ = std::min(tokens_, burst());
}

double token_bucket::burst() const noexcept {
  return std::max(0.5 * rate_, min_burst_);
}

void token_bucket::refill(clock::time_point now) {
  if (rate_ <= 0)
    return;
  if (now > refilled_) {
    auto dt = std::chrono::duration<double>(now - refilled_).count();
    tokens_ = std::min(burst(), tokens_ + dt * rate_);
  }
  refilled_ = std::max(refilled_, now);
}

bool token_bucket::take(std::uint64_t n, clock::time_point now) {
  if (rate_ <= 0)
    return true;
  refill(now);
  auto need = std::min(static_cast<double>(n), burst());
  if (tokens_ < need)
    return false;
  tokens_ -= need;
  return true;
}

token_bucket::clock::duration token_bucket::wait_for(std::uint64_t n) const {
  if (rate_ <= 0)
    return clock::duration::zero();
  auto missing = std::min(static_cast<double>(n), burst()) - tokens_;
  if (missing <= 0)
    return clock::duration::zero();
  return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(missing / rate_));
}

std::uint64_t rate_meter::tick() noexcept {
  auto last = this_tick_;
  rate_ = 0.6 * rate_ + 0.4 * static_cast<double>(last);
  this_tick_ = 0;
  return last;
}

} // namespace actorrent::logic
