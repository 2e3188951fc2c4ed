#include "logic/peer_set.hpp"

#include <algorithm>

namespace actorrent::logic {

namespace {

// base * 2^(n-1), at most `cap` (n >= 1); no overflow for any n.
std::chrono::milliseconds doubled(std::chrono::milliseconds base, std::uint32_t n, std::chrono::milliseconds cap) {
  auto d = base;
  for (std::uint32_t i = 1; i < n && d < cap; ++i)
    d *= 2;
  return std::min(d, cap);
}

} // namespace

peer_set::peer_set(peer_set_config cfg, sha1_hash our_id) : cfg_(cfg), our_id_(our_id) {}

std::size_t peer_set::add_candidates(const std::vector<peer_endpoint>& eps) {
  std::size_t added = 0;
  for (auto& ep : eps)
    if (ep.port != 0 && banned_.count(ep) == 0 && known_.try_emplace(ep).second)
      ++added;
  return added;
}

peer_set::index peer_set::add_connection(connection c) {
  auto idx = next_index_++;
  history_.emplace(idx, c.endpoint);
  conns_.emplace(idx, std::move(c));
  return idx;
}

std::vector<std::pair<peer_set::index, peer_endpoint>> peer_set::dial(time_point now) {
  std::vector<std::pair<index, peer_endpoint>> out;
  for (auto& [ep, c] : known_) {
    if (size() >= cfg_.max_peers || half_open_ >= cfg_.max_half_open)
      break;
    if (c.connected || c.next_attempt > now || banned_.count(ep) != 0)
      continue;
    c.connected = true;
    connection conn;
    conn.endpoint = ep;
    conn.connecting = true;
    ++half_open_;
    out.emplace_back(add_connection(std::move(conn)), ep);
  }
  return out;
}

std::optional<peer_set::time_point> peer_set::next_attempt(const peer_endpoint& ep) const {
  auto it = known_.find(ep);
  if (it == known_.end())
    return std::nullopt;
  return it->second.next_attempt;
}

bool peer_set::dial_due(time_point now, std::chrono::seconds horizon) const {
  for (auto& [ep, c] : known_)
    if (!c.connected && banned_.count(ep) == 0 && c.next_attempt <= now + horizon)
      return true;
  return false;
}

bool peer_set::connected(index idx, time_point now) {
  auto it = conns_.find(idx);
  if (it == conns_.end() || !it->second.connecting)
    return false;
  it->second.connecting = false;
  it->second.since = now;
  --half_open_;
  return true;
}

void peer_set::back_off(candidate& c, time_point now, bool early) {
  c.connected = false;
  if (early) {
    ++c.early_closes;
    c.next_attempt = now + doubled(cfg_.early_retry, c.early_closes, cfg_.max_backoff);
    return;
  }
  c.early_closes = 0;
  ++c.failures;
  c.next_attempt = now + doubled(cfg_.failure_backoff, c.failures, cfg_.max_backoff);
}

void peer_set::connect_failed(index idx, time_point now) {
  auto it = conns_.find(idx);
  if (it == conns_.end() || !it->second.connecting)
    return;
  --half_open_;
  auto ep = it->second.endpoint;
  conns_.erase(it);
  if (auto k = known_.find(ep); k != known_.end()) {
    k->second.early_closes = 0;
    back_off(k->second, now, false);
  }
}

peer_set::refusal peer_set::accept(const peer_endpoint& ep, time_point now, index& out) {
  if (size() >= cfg_.max_peers)
    return refusal::limit;
  if (banned_address(ep))
    return refusal::banned;
  connection c;
  c.endpoint = ep;
  c.incoming = true;
  c.since = now;
  out = add_connection(std::move(c));
  return refusal::none;
}

std::string peer_set::attach(index idx) {
  auto it = conns_.find(idx);
  if (it == conns_.end())
    return {};
  it->second.attached = true;
  return it->second.pending_drop;
}

void peer_set::drop_on_attach(index idx, std::string reason) {
  if (auto it = conns_.find(idx); it != conns_.end())
    it->second.pending_drop = std::move(reason);
}

peer_set::handshake_result peer_set::handshake(index idx, const sha1_hash& id) {
  handshake_result r;
  auto it = conns_.find(idx);
  if (it == conns_.end()) {
    r.keep = false;
    return r;
  }
  auto initiator = [this](const connection& c, const sha1_hash& remote) { return c.incoming ? remote : our_id_; };
  for (auto& [other, c] : conns_) {
    if (other == idx || !c.handshaken || c.id != id)
      continue;
    bool keep_new = initiator(it->second, id) < initiator(c, c.id);
    if (!keep_new) {
      it->second.duplicate = true;
      r.keep = false;
      r.drop = idx;
      return r;
    }
    c.handshaken = false;
    c.duplicate = true;
    r.drop = other;
    break;
  }
  it->second.handshaken = true;
  it->second.id = id;
  if (!it->second.incoming)
    if (auto k = known_.find(it->second.endpoint); k != known_.end())
      k->second.failures = 0;
  return r;
}

void peer_set::closed(index idx, time_point now, bool count) {
  auto it = conns_.find(idx);
  if (it == conns_.end())
    return;
  auto c = std::move(it->second);
  conns_.erase(it);
  if (c.connecting)
    --half_open_;
  if (c.incoming)
    return;
  auto k = known_.find(c.endpoint);
  if (k == known_.end())
    return;
  if (!count) {
    k->second.connected = false;
    return;
  }
  bool early = !c.connecting && !c.duplicate && now - c.since < cfg_.early_close_window;
  back_off(k->second, now, early);
}

std::vector<peer_set::index> peer_set::expire_unattached(time_point now) {
  std::vector<index> out;
  for (auto& [idx, c] : conns_)
    if (c.incoming && !c.attached && now - c.since >= cfg_.attach_timeout)
      out.push_back(idx);
  for (auto idx : out)
    conns_.erase(idx);
  return out;
}

void peer_set::clear_connections() {
  for (auto& [idx, c] : conns_)
    if (!c.incoming)
      if (auto k = known_.find(c.endpoint); k != known_.end())
        k->second.connected = false;
  conns_.clear();
  half_open_ = 0;
}

std::optional<peer_endpoint> peer_set::ban(index idx) {
  auto it = history_.find(idx);
  if (it == history_.end())
    return std::nullopt;
  banned_.insert(it->second);
  return it->second;
}

bool peer_set::banned_address(const peer_endpoint& ep) const {
  return std::any_of(banned_.begin(), banned_.end(),
                     [&ep](const peer_endpoint& b) { return b.addr == ep.addr && b.v6 == ep.v6; });
}

const peer_set::connection* peer_set::find(index idx) const {
  auto it = conns_.find(idx);
  return it == conns_.end() ? nullptr : &it->second;
}

std::optional<peer_endpoint> peer_set::endpoint(index idx) const {
  auto it = history_.find(idx);
  if (it == history_.end())
    return std::nullopt;
  return it->second;
}

} // namespace actorrent::logic
