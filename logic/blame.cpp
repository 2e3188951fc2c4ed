#include "logic/blame.hpp"

#include <algorithm>

namespace actorrent::logic {

std::uint32_t blame_tracker::strikes(peer p) const {
  auto it = strikes_.find(p);
  return it == strikes_.end() ? 0 : it->second;
}

void blame_tracker::strike(peer p, decision& d) {
  if (++strikes_[p] >= max_strikes_ && std::find(d.ban.begin(), d.ban.end(), p) == d.ban.end())
    d.ban.push_back(p);
}

blame_tracker::decision blame_tracker::piece_failed(std::uint32_t piece, const std::vector<sha1_hash>& block_hashes,
                                                    const std::vector<peer>& senders) {
  decision d;
  std::vector<peer> distinct = senders;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::erase(distinct, nobody);
  if (distinct.empty())
    return d;
  if (distinct.size() == 1) {
    strike(distinct.front(), d);
    return d;
  }
  // keep the first failed copy with several senders: it is what we compare with
  failed_.try_emplace(piece, failed_copy{block_hashes, senders});
  // re-download from the sender with the fewest strikes (ties: lowest index)
  d.pin = *std::min_element(distinct.begin(), distinct.end(), [this](peer a, peer b) {
    return std::make_pair(strikes(a), a) < std::make_pair(strikes(b), b);
  });
  return d;
}

blame_tracker::decision blame_tracker::piece_passed(std::uint32_t piece, const std::vector<sha1_hash>& block_hashes) {
  decision d;
  auto it = failed_.find(piece);
  if (it == failed_.end())
    return d;
  auto& bad = it->second;
  for (std::size_t b = 0; b < bad.block_hashes.size() && b < block_hashes.size() && b < bad.senders.size(); ++b)
    if (bad.block_hashes[b] != block_hashes[b] && bad.senders[b] != nobody
        && std::find(d.ban.begin(), d.ban.end(), bad.senders[b]) == d.ban.end())
      d.ban.push_back(bad.senders[b]); // sent a block that differs from the good copy
  failed_.erase(it);
  return d;
}

} // namespace actorrent::logic
