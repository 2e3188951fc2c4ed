#include "actors/piece_picker_actor.hpp"

#include <caf/all.hpp>

namespace actorrent {

namespace {

block_ref to_ref(const logic::block_request& b) { return {b.piece, b.offset, b.length}; }
logic::block_request to_req(const block_ref& b) { return {b.piece, b.offset, b.length}; }

std::vector<block_ref> pick(picker_state& st, peer_index peer, std::uint32_t n) {
  std::vector<block_ref> out;
  for (auto& b : st.algo->pick(peer, n))
    out.push_back(to_ref(b));
  return out;
}

bool disk_busy(const picker_state& st) { return st.forwarded - st.written > st.cfg.max_disk_queue; }

void sample_queue(picker_state& st) { st.queued_bytes.set(static_cast<std::int64_t>(st.forwarded - st.written)); }

void on_verdict(picker_actor::stateful_pointer<picker_state> self, piece_verdict& v) {
  auto& st = self->state;
  if (!st.hash_marks.empty()) {
    st.written = st.hash_marks.front();
    st.hash_marks.pop_front();
    sample_queue(st);
  }
  // the disk caught up: serve the picks that waited
  while (!st.deferred.empty() && !disk_busy(st)) {
    auto d = std::move(st.deferred.front());
    st.deferred.pop_front();
    d.promise.deliver(pick(st, d.peer, d.count));
  }
  std::vector<peer_index> senders;
  if (v.ok) {
    senders = st.algo->block_senders(v.piece);
    st.algo->piece_verified(v.piece);
  } else if (!v.write_error.empty()) {
    senders = st.algo->piece_failed(v.piece); // fetched again; nobody's fault
  } else {
    senders = st.algo->piece_failed(v.piece);
    st.failed_before.insert(v.piece);
  }
  self->send(st.cfg.torrent, verdict_atom_v, std::move(v), std::move(senders));
}

} // namespace

picker_actor::behavior_type piece_picker_actor(picker_actor::stateful_pointer<picker_state> self,
                                               picker_config cfg) {
  auto& st = self->state;
  auto algo = logic::piece_picker::create(cfg.algo);
  st.cfg = std::move(cfg);
  if (st.cfg.metrics)
    st.queued_bytes = logic::gauge_share{&st.cfg.metrics->disk_queued_bytes};
  if (!algo) {
    self->quit(caf::make_error(caf::sec::runtime_error, "piece picker: " + algo.error().message));
    return picker_actor::behavior_type::make_empty_behavior();
  }
  if (!st.cfg.wanted.empty() && !algo->set_wanted(st.cfg.wanted)) {
    self->quit(caf::make_error(caf::sec::runtime_error, "piece picker: the wanted-piece mask has "
                                 + std::to_string(st.cfg.wanted.size()) + " entries, not one per piece"));
    return picker_actor::behavior_type::make_empty_behavior();
  }
  st.algo.emplace(std::move(*algo));
  return {
    [self](caf::join_atom, peer_index peer, peer_actor& hdl) { self->state.peers[peer] = std::move(hdl); },
    [self](bitfield_atom, peer_index peer, const std::vector<bool>& has) {
      auto& algo = *self->state.algo;
      if (has.size() == algo.num_pieces() && std::find(has.begin(), has.end(), false) == has.end()) {
        algo.peer_have_all(peer);
        return;
      }
      bitfield bf(algo.num_pieces());
      for (std::size_t i = 0; i < has.size() && i < algo.num_pieces(); ++i)
        if (has[i])
          bf.set(i);
      algo.peer_bitfield(peer, bf);
    },
    [self](have_atom, peer_index peer, std::uint32_t piece) { self->state.algo->peer_have(peer, piece); },
    [self](pick_atom, peer_index peer, std::uint32_t n) -> caf::result<std::vector<block_ref>> {
      auto& st = self->state;
      if (disk_busy(st) && !st.hash_marks.empty()) {
        auto rp = self->make_response_promise<std::vector<block_ref>>();
        st.deferred.push_back({peer, n, rp});
        return rp;
      }
      return pick(st, peer, n);
    },
    [self](block_atom, block_data& bd) {
      auto& st = self->state;
      auto res = st.algo->block_received(bd.from, bd.piece, bd.offset, static_cast<std::uint32_t>(bd.bytes.size()));
      if (res.misbehaving()) {
        if (auto it = st.peers.find(bd.from); it != st.peers.end())
          caf::anon_send(it->second, drop_atom_v,
                     std::string{"sent a "} + logic::to_string(res.status) + " block of piece "
                       + std::to_string(bd.piece));
        return;
      }
      for (auto& c : res.cancels)
        if (auto it = st.peers.find(c.peer); it != st.peers.end())
          caf::anon_send(it->second, cancel_atom_v, to_ref(c.block));
      if (!res.accepted())
        return; // a duplicate: the data is already on its way to the disk
      auto piece = bd.piece;
      st.forwarded += bd.bytes.size();
      sample_queue(st);
      self->send(st.cfg.disk, block_atom_v, std::move(bd));
      if (res.piece_complete) {
        bool with_blocks = st.failed_before.count(piece) != 0;
        st.hash_marks.push_back(st.forwarded);
        self->request(st.cfg.disk, caf::infinite, hash_atom_v, piece, with_blocks)
          .then([self](piece_verdict& v) { on_verdict(self, v); });
      }
    },
    [self](cancel_atom, peer_index peer, const std::vector<block_ref>& blocks) {
      for (auto& b : blocks)
        self->state.algo->request_timed_out(peer, to_req(b));
    },
    [self](left_atom, peer_index peer) {
      auto& st = self->state;
      st.algo->peer_left(peer);
      st.peers.erase(peer);
    },
    [self](check_atom, const std::vector<bool>& have) {
      for (std::size_t i = 0; i < have.size(); ++i)
        if (have[i])
          self->state.algo->mark_have(static_cast<std::uint32_t>(i));
    },
    [self](pin_atom, std::uint32_t piece, peer_index peer) {
      // A pin waits for one peer, which may choke us or leave without a word
      // for a long time: after pin_timeout the piece is open to all again (the
      // failed copy stays with the blame tracker, so a good copy still names
      // the liars).
      if (self->state.algo->pin_piece_to_peer(piece, peer) && self->state.cfg.pin_timeout.count() > 0)
        self->delayed_send(self, self->state.cfg.pin_timeout, unpin_atom_v, piece, peer);
    },
    [self](unpin_atom, std::uint32_t piece, peer_index peer) {
      auto& algo = *self->state.algo;
      if (algo.pinned_peer(piece) == peer) {
        algo.unpin_piece(piece);
        ++self->state.pins_expired;
      }
    },
    [self](progress_atom) {
      auto& algo = *self->state.algo;
      return std::make_tuple(algo.bytes_have(), algo.num_have());
    },
    [self](status_atom) {
      auto& st = self->state;
      return actor_status{picker_state::name, "picking",
                          {{"pieces_have", std::to_string(st.algo->num_have())},
                           {"bytes_have", std::to_string(st.algo->bytes_have())},
                           {"peers", std::to_string(st.peers.size())},
                          {"pins_expired", std::to_string(st.pins_expired)},
                           {"bytes_at_disk", std::to_string(st.forwarded - st.written)}}};
    },
  };
}

} // namespace actorrent
