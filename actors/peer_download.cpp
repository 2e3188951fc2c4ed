#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>

namespace actorrent {

const char* to_string(download_phase p) {
  switch (p) {
    case download_phase::handshaking:
      return "handshaking";
    case download_phase::choked:
      return "choked";
    case download_phase::downloading:
      return "downloading";
  }
  return "?";
}

namespace peer_download {

namespace {

using namespace peer_wire;

// With a download limit, requests go out in batches of about this much time
// at the limit (so a slow limit is not one wake-up per block).
constexpr double request_batch_seconds = 0.05;

caf::behavior choked(peer_broker* self);
caf::behavior downloading(peer_broker* self);

std::vector<bool> to_bools(const bitfield& bf) {
  std::vector<bool> out(bf.size());
  for (auto i = bf.find_next_set(0); i != bitfield::npos; i = bf.find_next_set(i + 1))
    out[i] = true;
  return out;
}

void remember_cancelled(peer_broker* self, const block_ref& b) {
  auto& d = self->state.down;
  if (d.recently_cancelled.size() < self->state.cfg.cancelled_memory)
    d.recently_cancelled.push_back(b);
}

// How many more blocks the download bucket allows now; schedules a wake-up
// (refill_atom) when it allows none.
std::uint32_t affordable(peer_broker* self, std::uint32_t want) {
  auto& d = self->state.down;
  if (!d.bucket.limited())
    return want;
  d.bucket.refill(now(self));
  auto batch = std::clamp<std::uint32_t>(
    static_cast<std::uint32_t>(d.bucket.rate() * request_batch_seconds / block_size), 1, want);
  auto n = static_cast<std::uint32_t>(d.bucket.tokens() / block_size);
  if (n >= batch)
    return std::min(n, want);
  if (!d.refill_scheduled) {
    d.refill_scheduled = true;
    auto wait = d.bucket.wait_for(std::uint64_t{batch} * block_size) + std::chrono::milliseconds(1);
    self->delayed_send(caf::actor_cast<peer_impl_actor>(self), wait, refill_atom_v);
  }
  return 0;
}

// The picker's answer to a pick request: request every block (as the bucket
// allows), or hand them back when we were choked meanwhile.
void on_picked(peer_broker* self, std::vector<block_ref>& blocks) {
  auto& st = self->state;
  auto& d = st.down;
  d.pick_pending = false;
  if (st.closing)
    return;
  if (!d.unchoked()) {
    if (!blocks.empty())
      self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::move(blocks));
    return;
  }
  d.starved = blocks.empty();
  auto t = now(self);
  std::vector<block_ref> unaffordable;
  for (auto& b : blocks) {
    if (!d.bucket.take(b.length, t)) {
      unaffordable.push_back(b);
      continue;
    }
    d.outstanding.push_back({b, t});
    send(self, [&](auto& buf) { wire::append_request(buf, b.piece, b.offset, b.length); });
  }
  if (!unaffordable.empty())
    self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::move(unaffordable));
  if (!blocks.empty())
    self->flush(st.hdl);
  if (d.bucket.limited() && !blocks.empty())
    refill(self); // keep requesting at the limit while these are in flight
}

void update_interest(peer_broker* self) {
  auto& st = self->state;
  bool want = st.down.remote_has.has_any_not_in(st.we_have);
  if (want == st.down.am_interested)
    return;
  st.down.am_interested = want;
  send(self, [&](auto& buf) {
    if (want)
      wire::append_interested(buf);
    else
      wire::append_not_interested(buf);
  });
  self->flush(st.hdl);
  refill(self);
}

// Hands every outstanding request back to the picker (choke, snub).
void give_back_outstanding(peer_broker* self, bool send_cancels) {
  auto& st = self->state;
  auto& d = st.down;
  if (d.outstanding.empty())
    return;
  std::vector<block_ref> blocks;
  blocks.reserve(d.outstanding.size());
  for (auto& r : d.outstanding) {
    blocks.push_back(r.block);
    if (send_cancels)
      send(self, [&](auto& buf) { wire::append_cancel(buf, r.block.piece, r.block.offset, r.block.length); });
    remember_cancelled(self, r.block);
  }
  d.outstanding.clear();
  self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::move(blocks));
  if (send_cancels)
    self->flush(st.hdl);
}

// Slow start: a whole queue's worth of blocks in under half a second means the
// queue, not the peer, is the limit: double it (the per-second tick then keeps
// it at about two seconds of data).
void grow_queue(peer_broker* self, std::chrono::steady_clock::time_point t) {
  auto& d = self->state.down;
  if (++d.window_blocks < d.queue_depth)
    return;
  if (t - d.window_start < std::chrono::milliseconds(500))
    d.queue_depth = std::min(d.queue_depth * 2, self->state.cfg.max_queue_depth);
  d.window_blocks = 0;
  d.window_start = t;
}

void on_piece(peer_broker* self, block_data& bd) {
  auto& st = self->state;
  auto& d = st.down;
  block_ref ref{bd.piece, bd.offset, static_cast<std::uint32_t>(bd.bytes.size())};
  if (!valid_block(st, ref))
    return close(self, "invalid block (" + describe(ref) + ")");
  auto it = std::find_if(d.outstanding.begin(), d.outstanding.end(),
                         [&](const auto& r) { return r.block == ref; });
  if (it == d.outstanding.end()) {
    auto c = std::find(d.recently_cancelled.begin(), d.recently_cancelled.end(), ref);
    if (c == d.recently_cancelled.end())
      return close(self, "unrequested block (" + describe(ref) + ")");
    d.recently_cancelled.erase(c); // arrived after we cancelled it: wasted, not hostile
    if (st.cfg.metrics)
      st.cfg.metrics->add_wasted(logic::waste_reason::cancelled, ref.length);
    return;
  }
  d.outstanding.erase(it);
  d.meter.add(ref.length);
  auto t = now(self);
  d.last_block = t;
  grow_queue(self, t);
  d.snubbed = false;
  // The picker decides what to do with the data and forwards it to the disk.
  bd.from = st.cfg.index;
  self->send(st.cfg.picker, block_atom_v, std::move(bd));
  refill(self);
}

// The remote's piece set grew (have, bitfield, have all): tell the picker.
void on_remote_pieces(peer_broker* self, std::vector<bool> bits, std::optional<std::uint32_t> one) {
  auto& st = self->state;
  if (seed_to_seed(self))
    return;
  if (one)
    self->send(st.cfg.picker, have_atom_v, st.cfg.index, *one);
  else
    self->send(st.cfg.picker, bitfield_atom_v, st.cfg.index, std::move(bits));
  update_interest(self);
}

void on_have(peer_broker* self, std::uint32_t piece) {
  auto& st = self->state;
  if (piece >= st.cfg.num_pieces)
    return close(self, "have for piece " + std::to_string(piece) + " of " + std::to_string(st.cfg.num_pieces));
  if (st.down.remote_has.test(piece))
    return;
  st.down.remote_has.set(piece);
  on_remote_pieces(self, {}, piece);
}

void on_bitfield(peer_broker* self, const std::vector<char>& raw) {
  auto& st = self->state;
  auto bf = bitfield::from_wire({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()},
                                st.cfg.num_pieces);
  if (!bf)
    return close(self, "bad bitfield: " + bf.error().message);
  st.down.remote_has = std::move(*bf);
  on_remote_pieces(self, to_bools(st.down.remote_has), std::nullopt);
}

void on_reject(peer_broker* self, const block_ref& b) {
  auto& st = self->state;
  if (!st.fast)
    return close(self, "reject without the fast extension");
  auto& out = st.down.outstanding;
  auto it = std::find_if(out.begin(), out.end(), [&](const auto& r) { return r.block == b; });
  if (it == out.end())
    return; // BEP 6: rejecting something we did not ask for is harmless
  out.erase(it);
  self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::vector<block_ref>{b});
}

// What the remote may send in every download state after the handshake.
caf::message_handler wire_common(peer_broker* self) {
  auto need_fast = [self](const char* what) {
    if (self->state.fast)
      return true;
    close(self, std::string{what} + " without the fast extension");
    return false;
  };
  return {
    [self](w_have_atom, std::uint32_t piece) { on_have(self, piece); },
    [self](w_bitfield_atom, const std::vector<char>& raw) { on_bitfield(self, raw); },
    [self, need_fast](w_have_all_atom) {
      if (!need_fast("have all"))
        return;
      self->state.down.remote_has.set_all();
      on_remote_pieces(self, std::vector<bool>(self->state.cfg.num_pieces, true), std::nullopt);
    },
    [need_fast](w_have_none_atom) { need_fast("have none"); },
    [self, need_fast](w_allowed_fast_atom, std::uint32_t piece) {
      if (need_fast("allowed fast") && piece >= self->state.cfg.num_pieces)
        close(self, "allowed fast for piece " + std::to_string(piece));
    },
    [self](w_reject_atom, const block_ref& b) { on_reject(self, b); },
    [self](w_piece_atom, block_data& bd) { on_piece(self, bd); },
  };
}

// State: we are choked by the remote. Blocks requested before the choke may
// still arrive (handled by `wire_common`); nothing new is requested.
caf::behavior choked(peer_broker* self) {
  caf::message_handler here{
    [self](w_unchoke_atom) {
      self->state.down.machine.enter(download_phase::downloading, downloading(self));
      refill(self);
    },
    [](w_choke_atom) {
      // already choked
    },
  };
  return here.or_else(wire_common(self));
}

// State: unchoked; requests are pipelined to the adaptive queue depth.
caf::behavior downloading(peer_broker* self) {
  caf::message_handler here{
    [self](w_choke_atom) {
      self->state.down.machine.enter(download_phase::choked, choked(self));
      // without the fast extension a choke discards all our requests
      give_back_outstanding(self, false);
    },
    [](w_unchoke_atom) {
      // already unchoked
    },
  };
  return here.or_else(wire_common(self));
}

// Our pieces: a bitfield, or have none / have all with the fast extension.
void send_our_pieces(peer_broker* self) {
  auto& st = self->state;
  if (st.we_have.none() && st.fast)
    send(self, [](auto& buf) { wire::append_have_none(buf); });
  else if (st.we_have.all() && st.fast)
    send(self, [](auto& buf) { wire::append_have_all(buf); });
  else if (!st.we_have.none())
    send(self, [&](auto& buf) { wire::append_bitfield(buf, st.we_have.bytes()); });
  self->flush(st.hdl);
}

} // namespace

caf::behavior handshaking(peer_broker* self) {
  return {
    [self](w_handshake_atom, const sha1_hash& info_hash, const sha1_hash& peer_id, bool fast) {
      auto& st = self->state;
      if (info_hash != st.cfg.info_hash)
        return close(self, "handshake for another torrent (" + info_hash.hex() + ")");
      if (peer_id == st.cfg.our_peer_id)
        return close(self, "connected to ourselves");
      st.fast = fast;
      st.down.machine.enter(download_phase::choked, choked(self));
      self->send(st.cfg.torrent, connected_atom_v, st.cfg.index, peer_id);
      self->send(st.cfg.picker, caf::join_atom_v, st.cfg.index, caf::actor_cast<peer_actor>(self));
      if (st.faults)
        wire_fault::after_handshake(self); // lab: our claimed pieces, then misbehaviour
      else
        send_our_pieces(self);
    },
  }; // nothing else can come before the handshake
}

void refill(peer_broker* self) {
  auto& st = self->state;
  auto& d = st.down;
  if (st.closing || d.pick_pending || !d.am_interested || !d.unchoked())
    return;
  auto have = static_cast<std::uint32_t>(d.outstanding.size());
  if (have >= d.queue_depth)
    return;
  auto want = d.queue_depth - have;
  if (have > 0 && want < std::max<std::uint32_t>(1, d.queue_depth / 4))
    return; // batch requests: ask when a quarter of the queue is free
  want = affordable(self, want);
  if (want == 0)
    return;
  d.pick_pending = true;
  self->request(st.cfg.picker, caf::infinite, pick_atom_v, st.cfg.index, want)
    .then([self](std::vector<block_ref>& blocks) { on_picked(self, blocks); },
          [self](caf::error&) { self->state.down.pick_pending = false; });
}

void local_have(peer_broker* self, std::uint32_t piece) {
  auto& st = self->state;
  st.we_have.set(piece);
  if (!st.down.handshake_done())
    return;
  if (!st.down.remote_seed()) { // a seed needs no haves
    send(self, [&](auto& buf) { wire::append_have(buf, piece); });
    self->flush(st.hdl);
  }
  if (!seed_to_seed(self))
    update_interest(self);
}

void cancel(peer_broker* self, const block_ref& b) {
  auto& st = self->state;
  auto& d = st.down;
  auto it = std::find_if(d.outstanding.begin(), d.outstanding.end(), [&](const auto& r) { return r.block == b; });
  if (it == d.outstanding.end())
    return;
  d.outstanding.erase(it);
  remember_cancelled(self, b);
  send(self, [&](auto& buf) { wire::append_cancel(buf, b.piece, b.offset, b.length); });
  self->flush(st.hdl);
  refill(self);
}

void set_share(peer_broker* self, double bytes_per_second) {
  self->state.down.bucket.set_rate(bytes_per_second, now(self));
  refill(self);
}

void tick(peer_broker* self) {
  auto& st = self->state;
  auto& d = st.down;
  auto last_second = static_cast<double>(d.meter.tick());
  // queue depth: about two seconds of data at the rate of the last second (not
  // the smoothed one, so a fast peer gets a deep queue at once); it never drops
  // below the initial depth
  auto depth = static_cast<std::uint32_t>(std::max(last_second, d.meter.rate()) * 2.0 / block_size);
  d.queue_depth = std::clamp(std::max(depth, d.queue_depth / 2), st.cfg.initial_queue_depth, st.cfg.max_queue_depth);
  if (!d.handshake_done())
    return;
  if (!d.outstanding.empty()) {
    auto since = std::max(d.outstanding.front().sent, d.last_block);
    if (now(self) - since > st.cfg.request_timeout) {
      d.snubbed = true; // no block for a whole timeout: let others take its blocks
      give_back_outstanding(self, true);
    }
  }
}

} // namespace peer_download

} // namespace actorrent
