#include "logic/rate_split.hpp"

#include <algorithm>
#include <numeric>

namespace actorrent::logic {

std::vector<double> split_limit(double limit, const std::vector<double>& used, double min_headroom) {
  auto n = used.size();
  std::vector<double> share(n, 0.0);
  if (n == 0 || limit <= 0)
    return share;
  // what each peer would take: its rate now and room to grow
  std::vector<double> want(n);
  for (std::size_t i = 0; i < n; ++i)
    want[i] = std::max(used[i], 0.0) + std::max(0.25 * std::max(used[i], 0.0), min_headroom);
  // water-filling: the smallest wants are met first while they fit in an equal part
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return want[a] < want[b]; });
  double left = limit;
  std::size_t k = 0;
  for (; k < n; ++k) {
    auto equal = left / static_cast<double>(n - k);
    if (want[order[k]] > equal)
      break;
    share[order[k]] = want[order[k]];
    left -= want[order[k]];
  }
  if (k < n) {
    auto equal = left / static_cast<double>(n - k);
    for (auto i = k; i < n; ++i)
      share[order[i]] = equal;
  } else {
    // every want is met: what is left is spread evenly, so nothing is lost
    for (auto& s : share)
      s += left / static_cast<double>(n);
  }
  return share;
}

std::vector<std::uint32_t> split_slots(std::uint32_t total, const std::vector<std::uint32_t>& wanted,
                                       std::size_t turn) {
  auto n = wanted.size();
  std::vector<std::uint32_t> share(n, 0);
  if (n == 0)
    return share;
  std::uint64_t left = total;
  // water-filling over the torrents still wanting more
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < n; ++i)
    if (wanted[i] > 0)
      open.push_back(i);
  while (!open.empty() && left > 0) {
    auto equal = left / open.size();
    if (equal == 0)
      break;
    std::vector<std::size_t> still;
    std::uint64_t given = 0;
    for (auto i : open) {
      auto give = std::min<std::uint64_t>(equal, wanted[i] - share[i]);
      share[i] += static_cast<std::uint32_t>(give);
      given += give;
      if (share[i] < wanted[i])
        still.push_back(i);
    }
    left -= given;
    open = std::move(still);
  }
  // fewer slots left than torrents wanting one: one each, in turn
  for (std::size_t k = 0; k < n && left > 0 && !open.empty(); ++k) {
    auto i = (turn + k) % n;
    if (share[i] < wanted[i]) {
      ++share[i];
      --left;
    }
  }
  return share;
}

} // namespace actorrent::logic
