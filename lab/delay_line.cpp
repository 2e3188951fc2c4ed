#include "lab/delay_line.hpp"

#include <algorithm>

namespace actorrent::lab {

delay_line::delay_line(const delay_line_config& cfg, std::uint64_t seed, std::string_view purpose)
  : cfg_(cfg), rng_(seed, purpose) {}

std::optional<std::uint64_t> delay_line::admit(std::uint32_t id, std::uint64_t flow, std::uint64_t now_us) {
  if (heap_.size() >= cfg_.capacity) {
    ++dropped_;
    return std::nullopt;
  }
  // uniform in [delay - jitter, delay + jitter], never before the arrival
  std::uint64_t hold = cfg_.delay_us;
  if (cfg_.jitter_us > 0) {
    auto draw = rng_.below(2 * cfg_.jitter_us + 1); // 0 .. 2*jitter
    hold = cfg_.delay_us + draw >= cfg_.jitter_us ? cfg_.delay_us + draw - cfg_.jitter_us : 0;
  }
  auto release = now_us + hold;
  auto& fs = flows_[flow];
  if (fs.pending > 0 && fs.last_release > release) {
    release = fs.last_release;
    ++order_waits_;
  }
  fs.last_release = release;
  ++fs.pending;
  heap_.push(entry{release, seq_++, now_us, flow, id});
  max_held_ = std::max(max_held_, heap_.size());
  return release;
}

std::optional<std::uint64_t> delay_line::next_release() const {
  if (heap_.empty())
    return std::nullopt;
  return heap_.top().release;
}

void delay_line::release_top(std::uint64_t now_us, std::vector<std::uint32_t>& out) {
  auto e = heap_.top();
  heap_.pop();
  out.push_back(e.id);
  ++delayed_;
  auto held = now_us > e.arrival ? now_us - e.arrival : 0;
  total_hold_us_ += held;
  max_hold_us_ = std::max(max_hold_us_, held);
  if (auto it = flows_.find(e.flow); it != flows_.end() && --it->second.pending == 0)
    flows_.erase(it);
}

void delay_line::take_due(std::uint64_t now_us, std::vector<std::uint32_t>& out) {
  while (!heap_.empty() && heap_.top().release <= now_us)
    release_top(now_us, out);
}

void delay_line::take_all(std::uint64_t now_us, std::vector<std::uint32_t>& out) {
  while (!heap_.empty())
    release_top(now_us, out);
}

} // namespace actorrent::lab
