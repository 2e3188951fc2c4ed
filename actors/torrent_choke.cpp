// The torrent's uploads: the choker's rounds and decisions sent to the peer
// connections, and each unchoked peer's share of the upload limit.
#include "actors/torrent_internal.hpp"

#include "logic/rate_split.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace actorrent::torrent_detail {

namespace {

// A connection the choker may consider: its handle is held and its handshake done.
bool choosable(const torrent_state& st, peer_index idx, const torrent_state::peer_link& l) {
  auto* c = st.peers.find(idx);
  return l.handle && c != nullptr && c->handshaken;
}

logic::choker_peer to_choker_peer(const torrent_state& st, peer_index idx, const torrent_state::peer_link& l) {
  logic::choker_peer c;
  c.id = idx;
  c.interested = l.report.interested;
  c.is_seed = l.report.is_seed;
  c.snubbed = l.report.snubbed;
  c.down_rate = l.report.down_rate;
  c.up_rate = l.report.up_rate;
  c.uploaded = l.report.uploaded;
  if (auto* conn = st.peers.find(idx))
    c.connected_at = conn->since;
  return c;
}

std::vector<logic::choker_peer> choker_view(self_ptr self) {
  auto& st = self->state;
  std::vector<logic::choker_peer> out;
  for (auto& [idx, l] : st.links)
    if (choosable(st, idx, l))
      out.push_back(to_choker_peer(st, idx, l));
  return out;
}

// The upload limit is split evenly among the peers the choker unchokes; each
// peer connection enforces its share with a token bucket.
double upload_share(self_ptr self) {
  auto& st = self->state;
  std::size_t n = 0;
  for (auto& [idx, l] : st.links)
    n += choosable(st, idx, l) && st.choker.is_unchoked(idx) ? 1 : 0;
  return st.cfg.max_upload_rate / static_cast<double>(std::max<std::size_t>(n, 1));
}

void send_rate(self_ptr self, torrent_state::peer_link& l, double share) {
  if (self->state.cfg.max_upload_rate <= 0 || !l.handle || l.rate_sent == share)
    return;
  l.rate_sent = share;
  caf::anon_send(l.handle, up_share_atom_v, share);
}

void send_choke(self_ptr self, peer_index idx, bool unchoke) {
  auto& st = self->state;
  auto it = st.links.find(idx);
  if (it == st.links.end() || !it->second.handle)
    return;
  if (unchoke) {
    send_rate(self, it->second, upload_share(self)); // its share of the limit first
    caf::anon_send(it->second.handle, unchoke_atom_v);
  } else {
    caf::anon_send(it->second.handle, choke_atom_v);
  }
}

// The download limit is split among the handshaken peers by what each one
// delivers now (logic/rate_split.hpp); each peer's download bucket holds its share.
void update_download_shares(self_ptr self) {
  auto& st = self->state;
  if (st.cfg.max_download_rate <= 0)
    return;
  std::vector<torrent_state::peer_link*> links;
  std::vector<double> used;
  for (auto& [idx, l] : st.links)
    if (choosable(st, idx, l)) {
      links.push_back(&l);
      used.push_back(l.report.down_rate);
    }
  auto shares = logic::split_limit(st.cfg.max_download_rate, used);
  for (std::size_t i = 0; i < links.size(); ++i)
    if (links[i]->down_share_sent != shares[i]) {
      links[i]->down_share_sent = shares[i];
      caf::anon_send(links[i]->handle, down_share_atom_v, shares[i]);
    }
}

} // namespace

void update_rates(self_ptr self) {
  auto share = upload_share(self);
  auto& st = self->state;
  for (auto& [idx, l] : st.links)
    if (auto* c = st.peers.find(idx); c != nullptr && c->handshaken)
      send_rate(self, l, share);
  update_download_shares(self);
}

// A slot came free between rounds (a peer left or lost interest): interested
// peers waiting for one get it now rather than at the next round.
void fill_free_slots(self_ptr self) {
  auto& st = self->state;
  auto now = torrent_detail::now(self);
  for (auto& [idx, l] : st.links)
    if (choosable(st, idx, l) && l.report.interested && !st.choker.is_unchoked(idx)
        && st.choker.on_interested(to_choker_peer(st, idx, l), now))
      send_choke(self, idx, true);
}

void set_unchoke_cap(self_ptr self, std::uint32_t cap) {
  auto& st = self->state;
  auto own = st.cfg.choker; // the torrent's own slot counts
  auto regular = std::min(own.regular_slots, cap);
  auto optimistic = std::min(own.optimistic_slots, cap - regular);
  auto before = st.choker.config().regular_slots + st.choker.config().optimistic_slots;
  st.choker.set_slots(regular, optimistic);
  if (!active(st))
    return;
  if (regular + optimistic < before)
    choke_round(self);
  else
    fill_free_slots(self);
}

void choke_round(self_ptr self) {
  auto& st = self->state;
  auto view = choker_view(self);
  auto d = st.choker.round(view, st.complete, now(self));
  for (auto idx : d.choke)
    send_choke(self, idx, false);
  for (auto idx : d.unchoke)
    send_choke(self, idx, true);
}

void on_interest(self_ptr self, peer_index idx, bool on) {
  auto& st = self->state;
  auto* l = find_link(st, idx);
  if (l == nullptr || st.peers.find(idx) == nullptr) // not ours, or closing (paused, stopping)
    return;
  l->report.interested = on;
  if (on && l->handle && st.choker.on_interested(to_choker_peer(st, idx, *l), now(self)))
    send_choke(self, idx, true);
  if (!on && st.choker.is_unchoked(idx)) {
    // its slot is of no use to it: choke it now and give the slot to a waiting peer
    st.choker.forget(idx);
    send_choke(self, idx, false);
    fill_free_slots(self);
  }
}

void forget_choked(self_ptr self, peer_index idx) {
  self->state.choker.forget(idx);
}

} // namespace actorrent::torrent_detail
