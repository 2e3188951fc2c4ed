// The torrent's peers: dialling and accepting (as the peer set decides),
// spawning and holding peer brokers, handshakes and duplicates, closes, bans
// and hash verdicts. The connector's and listener's messages
// (dialed_atom with a socket, peer_failed_atom with an index) are handled in
// accepting_handlers / refusing_handlers / peer_handlers only.
#include "actors/torrent_internal.hpp"

#include "actors/connector.hpp"
#include "actors/peer_connection.hpp"

#include <caf/all.hpp>

#include <unistd.h>

namespace actorrent::torrent_detail {

using namespace std::chrono_literals;

torrent_state::peer_link* find_link(torrent_state& st, peer_index idx) {
  if (auto it = st.links.find(idx); it != st.links.end())
    return &it->second;
  if (st.peers.find(idx) == nullptr)
    return nullptr;
  return &st.links[idx];
}

peer_config peer_template(self_ptr self) {
  ensure_children(self);
  auto& st = self->state;
  st.children_for_check = false; // a peer's: they wait children_idle once it is gone
  auto& mi = *st.cfg.torrent;
  peer_config pc = st.cfg.peer_defaults;
  pc.info_hash = mi.info_hash;
  pc.our_peer_id = st.cfg.peer_id;
  pc.num_pieces = static_cast<std::uint32_t>(mi.num_pieces());
  pc.piece_length = mi.piece_length;
  pc.total_size = mi.total_size;
  pc.torrent = torrent_actor{self};
  pc.picker = st.picker;
  pc.disk = st.disk;
  pc.abortive_close = true;
  pc.wire_faults = st.wire_faults;
  return pc;
}

void maybe_connect(self_ptr self) {
  auto& st = self->state;
  if (!active(st))
    return;
  auto now = torrent_detail::now(self);
  for (auto& [idx, ep] : st.peers.dial(now))
    spawn_connector(self->system(), ep, st.cfg.connect_timeout, torrent_actor{self}, idx, st.cancel_connects,
                    st.cfg.peer_defaults.metrics);
  // running low on peers: ask the trackers early (the announcer honours min interval)
  if (st.announcer && st.announced && st.peers.size() < st.cfg.max_peers / 2
      && now - st.last_announce_request > st.cfg.more_peers_interval) {
    st.last_announce_request = now;
    self->send(st.announcer, announce_atom_v, announce_event::none, totals(self));
  }
}

void drop_all_peers(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.cancel_connects->store(true); // connects in flight give up; later ones get a fresh flag
  st.cancel_connects = std::make_shared<std::atomic<bool>>(false);
  for (auto it = st.links.begin(); it != st.links.end();) {
    st.choker.forget(it->first);
    if (!it->second.handle) { // an incoming peer not handed over yet: refused when it is
      it = st.links.erase(it);
      continue;
    }
    caf::anon_send(it->second.handle, drop_atom_v, reason);
    ++it;
  }
  st.peers.clear_connections();
}

namespace {

void ban(self_ptr self, peer_index idx, const std::string& why) {
  auto& st = self->state;
  auto known = st.peers.endpoint(idx);
  bool already = known && st.peers.banned(*known); // more bad pieces of a liar in flight
  auto ep = st.peers.ban(idx); // also for peers that are gone already
  if (!ep)
    return;
  if (!already)
    note(self, "banned " + ep->to_string() + ": " + why);
  if (auto it = st.links.find(idx); it != st.links.end() && it->second.handle)
    caf::anon_send(it->second.handle, drop_atom_v, "banned: " + why);
}

// Carries out what the blame tracker decided about a piece.
void apply(self_ptr self, std::uint32_t piece, const logic::blame_tracker::decision& d) {
  for (auto p : d.ban)
    ban(self, p, "sent corrupt data (piece " + std::to_string(piece) + ")");
  if (d.pin)
    self->send(self->state.picker, pin_atom_v, piece, *d.pin);
}

// Closes a connection now, or as soon as its handle arrives.
void drop_peer(self_ptr self, peer_index idx, const std::string& why) {
  auto& st = self->state;
  if (auto it = st.links.find(idx); it != st.links.end() && it->second.handle)
    caf::anon_send(it->second.handle, drop_atom_v, why);
  else
    st.peers.drop_on_attach(idx, why);
}

void on_handshake(self_ptr self, peer_index idx, const sha1_hash& id) {
  auto r = self->state.peers.handshake(idx, id);
  if (r.drop)
    drop_peer(self, *r.drop, "duplicate connection to the same peer");
}

// The broker serving a connection: held strongly until it is down.
void hold(self_ptr self, peer_index idx, peer_actor hdl) {
  self->monitor(hdl);
  self->state.links[idx].handle = std::move(hdl);
}

void on_adopt(self_ptr self, peer_index idx, peer_actor& hdl) {
  auto& st = self->state;
  bool known = st.peers.find(idx) != nullptr;
  hold(self, idx, hdl);
  if (!known) // not ours (any more): closed, but held until it is down
    caf::anon_send(hdl, drop_atom_v, st.phase == torrent_phase::stopping ? "shutting down" : "not accepting peers now");
  else if (auto why = st.peers.attach(idx); !why.empty())
    caf::anon_send(hdl, drop_atom_v, why);
}

// The connector or the listener gave up on a connection.
void on_failed(self_ptr self, peer_index idx, const std::string& reason) {
  auto& st = self->state;
  auto* c = st.peers.find(idx);
  if (c == nullptr)
    return;
  if (c->incoming) { // the listener could not hand the connection over
    if (auto it = st.links.find(idx); it == st.links.end() || !it->second.handle) {
      st.links.erase(idx);
      st.peers.closed(idx, now(self), false);
    }
    return;
  }
  note(self, "connect to " + c->endpoint.to_string() + " failed: " + reason);
  st.peers.connect_failed(idx, now(self));
  maybe_connect(self);
}

void on_announce(self_ptr self, announce_reply& r) {
  auto& st = self->state;
  if (auto& m = st.cfg.peer_defaults.metrics)
    m->announces_ok.fetch_add(1, std::memory_order_relaxed);
  st.tracker_status = r.tracker + ": " + std::to_string(r.peers.size()) + " peers";
  if (!r.warning.empty())
    st.tracker_status += " (warning: " + r.warning + ")";
  st.tracker_error.clear();
  st.peers.add_candidates(r.peers);
  maybe_connect(self);
  wake(self); // dials the rest as back-offs end
}

void on_tracker_failed(self_ptr self, const std::string& url, const std::string& reason) {
  auto& st = self->state;
  if (auto& m = st.cfg.peer_defaults.metrics)
    m->announces_failed.fetch_add(1, std::memory_order_relaxed);
  st.tracker_status = url + ": " + reason;
  st.tracker_error = st.tracker_status;
  notify(self, torrent_event::kind::tracker_failed, st.tracker_error);
}

} // namespace

bool on_peer_down(self_ptr self, const caf::actor_addr& source) {
  auto& st = self->state;
  for (auto it = st.links.begin(); it != st.links.end(); ++it) {
    if (!it->second.handle || it->second.handle.address() != source)
      continue;
    auto idx = it->first;
    st.downloaded_closed += it->second.report.downloaded;
    st.uploaded_closed += it->second.report.uploaded;
    st.choker.forget(idx);
    self->send(st.picker, left_atom_v, idx);
    st.links.erase(it); // releases the strong handle: the broker is down now
    st.peers.closed(idx, now(self));
    if (active(st))
      fill_free_slots(self);
    maybe_connect(self);
    return true;
  }
  return false;
}

void on_verdict(self_ptr self, piece_verdict& v, std::vector<peer_index>& senders) {
  auto& st = self->state;
  auto piece = v.piece;
  auto size = st.cfg.torrent->piece_size(piece);
  if (!v.write_error.empty()) { // our disk's fault, not the senders'
    on_write_failed(self, piece, v.write_error);
    return;
  }
  if (v.ok) {
    st.write_failures_in_row = 0;
    add_piece(st, piece);
    for (auto& [idx, l] : st.links)
      if (auto* c = st.peers.find(idx); l.handle && c != nullptr && c->handshaken)
        caf::anon_send(l.handle, local_have_atom_v, piece);
    // a good copy after a failure: every block that differs names a liar
    apply(self, piece, st.blame.piece_passed(piece, v.block_hashes));
    if (wanted_done(st))
      finish(self, true); // once
    return;
  }
  ++st.hash_failures;
  for (auto idx : std::set<peer_index>(senders.begin(), senders.end()))
    ++st.failed_senders[idx];
  st.wasted += size;
  note(self, "piece " + std::to_string(piece) + " failed its hash check");
  apply(self, piece, st.blame.piece_failed(piece, v.block_hashes, senders));
}

caf::message_handler peer_handlers(self_ptr self) {
  return {
    [self](peers_atom, announce_reply& r) { on_announce(self, r); },
    [self](failed_atom, const std::string& url, const std::string& reason) { on_tracker_failed(self, url, reason); },
    [self](verdict_atom, piece_verdict& v, std::vector<peer_index>& senders) { on_verdict(self, v, senders); },
    [self](stats_atom, const peer_report& r) {
      if (auto* l = find_link(self->state, r.id))
        l->report = r;
    },
    [self](connected_atom, peer_index idx, const sha1_hash& id) {
      on_handshake(self, idx, id);
      update_rates(self); // its share of a download limit before it requests anything
    },
    [self](peer_failed_atom, peer_index idx, const std::string& reason) { on_failed(self, idx, reason); },
    [self](adopt_atom, peer_index idx, peer_actor& hdl) { on_adopt(self, idx, hdl); },
    [self](interest_atom, peer_index idx, bool on) { on_interest(self, idx, on); },
    [self](drop_atom, peer_index idx, const std::string& reason) {
      if (auto ep = self->state.peers.endpoint(idx))
        note(self, "closed " + ep->to_string() + ": " + reason);
    },
  };
}

caf::message_handler accepting_handlers(self_ptr self) {
  return {
    [self](incoming_atom, const peer_endpoint& ep) -> caf::result<peer_config> {
      auto& st = self->state;
      peer_index idx = 0;
      switch (st.peers.accept(ep, now(self), idx)) {
        case logic::peer_set::refusal::limit:
          return caf::make_error(caf::sec::request_receiver_down, "peer limit reached");
        case logic::peer_set::refusal::banned:
          return caf::make_error(caf::sec::request_receiver_down, "banned");
        case logic::peer_set::refusal::none:
          break;
      }
      auto pc = peer_template(self);
      pc.index = idx;
      pc.we_have = st.have;
      return pc;
    },
    [self](dialed_atom, peer_index idx, int fd) {
      auto& st = self->state;
      if (!st.peers.connected(idx, now(self))) { // dropped meanwhile (paused)
        ::close(fd);
        return;
      }
      auto pc = peer_template(self);
      pc.index = idx;
      pc.we_have = st.have;
      hold(self, idx, spawn_peer_connection(self->system(), fd, std::move(pc)));
      st.peers.attach(idx);
      maybe_connect(self);
    },
  };
}

caf::message_handler refusing_handlers(self_ptr self, std::string why) {
  return {
    [why](incoming_atom, const peer_endpoint&) -> caf::result<peer_config> {
      return caf::make_error(caf::sec::request_receiver_down, why);
    },
    [self](dialed_atom, peer_index idx, int fd) {
      ::close(fd);
      auto& st = self->state;
      if (st.peers.connected(idx, now(self)))
        st.peers.closed(idx, now(self), false);
    },
  };
}

} // namespace actorrent::torrent_detail
