#include "logic/choker.hpp"

#include <algorithm>
#include <tuple>

namespace actorrent::logic {

namespace {

// Peers the choker may unchoke at all: the others would request nothing.
bool eligible(const choker_peer& p) {
  return p.interested && !p.is_seed;
}

// Rates come from the caller's estimators; a NaN would break the strict weak
// order std::sort needs, so anything not positive counts as 0.
double rate(double r) {
  return r > 0 ? r : 0.0;
}

} // namespace

choke_decision choker::round(std::span<const choker_peer> peers, bool seeding,
                             choker_clock::time_point now) {
  // Forget peers the caller no longer lists: their connection is gone, there is
  // nobody to send a choke to.
  std::unordered_map<std::uint32_t, const choker_peer*> present;
  present.reserve(peers.size());
  for (const auto& p : peers)
    present.emplace(p.id, &p);
  std::erase_if(peers_, [&](const auto& kv) { return present.count(kv.first) == 0; });

  auto held = [&](std::uint32_t id) {
    auto it = peers_.find(id);
    return it == peers_.end() ? slot::none : it->second.held;
  };
  // The start of a peer's current wait for a slot: "now" while it holds one,
  // else when it lost its last slot, else when it connected.
  auto wait_start = [&](const choker_peer& p) {
    auto it = peers_.find(p.id);
    if (it == peers_.end())
      return p.connected_at;
    return it->second.held == slot::none ? it->second.last_unchoked : now;
  };
  // Seeding: a regular slot is up after seed_slot_time, or after the quota.
  auto slot_expired = [&](const choker_peer& p) {
    const auto& m = peers_.at(p.id);
    if (now - m.since >= cfg_.seed_slot_time)
      return true;
    auto given = p.uploaded > m.uploaded_at_start ? p.uploaded - m.uploaded_at_start : 0;
    return cfg_.seed_slot_quota != 0 && given >= cfg_.seed_slot_quota;
  };

  // -- regular slots ----------------------------------------------------------
  std::vector<const choker_peer*> ranked;
  for (const auto& [id, p] : present)
    if (eligible(*p) && !p->snubbed)
      ranked.push_back(p);
  if (seeding) {
    // Round robin: holders whose time is not up keep their slot (group 0), the
    // waiting peers come next, longest wait first (group 1), holders whose time
    // is up go to the back of the line (group 2).
    auto key = [&](const choker_peer* p) {
      int group = 1;
      if (held(p->id) == slot::regular)
        group = slot_expired(*p) ? 2 : 0;
      return std::tuple{group, wait_start(*p), -rate(p->up_rate), p->id};
    };
    std::sort(ranked.begin(), ranked.end(),
              [&](const auto* a, const auto* b) { return key(a) < key(b); });
  } else {
    // Tit-for-tat: fastest to us first. Equal rates (typically 0 from peers we
    // do not download from) keep the current holder, which avoids needless
    // churn, then favour the longest wait.
    auto key = [&](const choker_peer* p) {
      bool holder = held(p->id) == slot::regular;
      return std::tuple{-rate(p->down_rate), !holder, wait_start(*p), p->id};
    };
    std::sort(ranked.begin(), ranked.end(),
              [&](const auto* a, const auto* b) { return key(a) < key(b); });
  }
  if (ranked.size() > cfg_.regular_slots)
    ranked.resize(cfg_.regular_slots);
  std::unordered_map<std::uint32_t, slot> next;
  for (const auto* p : ranked)
    next.emplace(p->id, slot::regular);

  // -- optimistic slots -------------------------------------------------------
  // Keep the optimistic peers whose period is not over and that still qualify
  // (not promoted to a regular slot, still eligible).
  std::size_t kept = 0;
  for (const auto& [id, m] : peers_) {
    if (m.held != slot::optimistic || next.count(id) != 0 || kept >= cfg_.optimistic_slots)
      continue;
    if (eligible(*present.at(id)) && now - m.since < cfg_.optimistic_period) {
      next.emplace(id, slot::optimistic);
      ++kept;
    }
  }
  if (kept < cfg_.optimistic_slots) {
    std::vector<const choker_peer*> candidates;
    for (const auto& [id, p] : present)
      if (eligible(*p) && next.count(id) == 0)
        candidates.push_back(p);
    // New peers first, then the longest wait; a peer whose period just ended
    // waits since "now", so it is re-chosen only when nobody else qualifies.
    auto key = [&](const choker_peer* p) {
      bool is_new = peers_.count(p->id) == 0 && now - p->connected_at < cfg_.new_peer_window;
      return std::tuple{!is_new, wait_start(*p), p->id};
    };
    std::sort(candidates.begin(), candidates.end(),
              [&](const auto* a, const auto* b) { return key(a) < key(b); });
    auto free = std::min<std::size_t>(cfg_.optimistic_slots - kept, candidates.size());
    for (std::size_t i = 0; i < free; ++i)
      next.emplace(candidates[i]->id, slot::optimistic);
  }

  // -- apply: remember the new slots, report only the changes -----------------
  choke_decision d;
  for (const auto& [id, p] : present) {
    auto it = next.find(id);
    slot now_held = it == next.end() ? slot::none : it->second;
    slot was_held = held(id);
    if (now_held == was_held)
      continue;
    if (now_held == slot::none) {
      auto& m = peers_.at(id);
      m.held = slot::none;
      m.last_unchoked = now;
      d.choke.push_back(id);
      continue;
    }
    if (was_held == slot::none)
      d.unchoke.push_back(id);
    // A new slot (or a change of kind) starts its own clock and quota.
    auto& m = peers_[id];
    m.held = now_held;
    m.since = now;
    m.uploaded_at_start = p->uploaded;
  }
  std::sort(d.unchoke.begin(), d.unchoke.end());
  std::sort(d.choke.begin(), d.choke.end());
  return d;
}

bool choker::on_interested(const choker_peer& peer, choker_clock::time_point now) {
  if (!eligible(peer) || peer.snubbed || is_unchoked(peer.id))
    return false;
  if (count(slot::regular) >= cfg_.regular_slots)
    return false;
  auto& m = peers_[peer.id];
  m.held = slot::regular;
  m.since = now;
  m.uploaded_at_start = peer.uploaded;
  return true;
}

bool choker::is_unchoked(std::uint32_t id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.held != slot::none;
}

std::size_t choker::unchoked_count() const {
  return peers_.size() - count(slot::none);
}

std::vector<std::uint32_t> choker::optimistic() const {
  std::vector<std::uint32_t> out;
  for (const auto& [id, m] : peers_)
    if (m.held == slot::optimistic)
      out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t choker::count(slot s) const {
  return static_cast<std::size_t>(
    std::count_if(peers_.begin(), peers_.end(), [s](const auto& kv) { return kv.second.held == s; }));
}

} // namespace actorrent::logic
