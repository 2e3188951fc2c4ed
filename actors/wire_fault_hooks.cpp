#include "actors/wire_fault_hooks.hpp"

#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>

namespace actorrent::wire_fault {

namespace {

using logic::wire_behavior;
using namespace peer_wire;
using namespace std::chrono_literals;

// Message ids that no BEP uses (BEP 3: ignore unknown ones).
constexpr std::uint8_t unknown_ids[] = {0x63, 0xf0, 0x2a};

void count(peer_broker* self, wire_behavior b, std::uint64_t n = 1) {
  self->state.faults->f->counters().add(b, n);
}

bool on(const peer_state& st, wire_behavior b) { return st.faults->f->on(b); }

void append_u32(std::vector<std::uint8_t>& buf, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    buf.push_back(static_cast<std::uint8_t>(v >> shift));
}

void send_unknown(peer_broker* self) {
  for (auto id : unknown_ids)
    send(self, [id](auto& buf) {
      append_u32(buf, 5);
      buf.push_back(id);
      append_u32(buf, 0xdeadbeef);
    });
  count(self, wire_behavior::unknown_messages, std::size(unknown_ids));
}

// The misbehaviours done once per connection, after the handshake (or when the
// layer is turned on for an established connection). The oversize length
// prefix goes last: after it the stream makes no sense to the remote.
void inject(peer_broker* self) {
  auto& st = self->state;
  auto n = st.cfg.num_pieces;
  if (on(st, wire_behavior::have_out_of_range)) {
    send(self, [n](auto& buf) { wire::append_have(buf, n + 7); });
    count(self, wire_behavior::have_out_of_range);
  }
  if (on(st, wire_behavior::requests_out_of_range)) {
    send(self, [n](auto& buf) { wire::append_request(buf, n + 3, 0, block_size); });
    count(self, wire_behavior::requests_out_of_range);
  }
  if (on(st, wire_behavior::unrequested_pieces)) {
    auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(block_size, std::min(st.cfg.piece_length, st.cfg.total_size)));
    std::vector<std::uint8_t> zeros(len, 0);
    send(self, [&](auto& buf) { wire::append_piece(buf, 0, 0, zeros); });
    count(self, wire_behavior::unrequested_pieces);
  }
  if (on(st, wire_behavior::request_flood)) {
    // twice what an honest peer may have queued: valid blocks, round and round
    std::uint64_t want = 2ull * std::max<std::uint32_t>(st.cfg.max_queued_requests, 1);
    std::uint64_t sent = 0;
    for (std::uint64_t i = 0; i < want && n > 0; ++i, ++sent) {
      auto p = static_cast<std::uint32_t>(i % n);
      auto piece_len = std::min<std::uint64_t>(st.cfg.piece_length, st.cfg.total_size - std::uint64_t{p} * st.cfg.piece_length);
      auto blocks = std::max<std::uint64_t>((piece_len + block_size - 1) / block_size, 1);
      auto offset = ((i / n) % blocks) * block_size;
      auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(block_size, piece_len - offset));
      send(self, [&](auto& buf) { wire::append_request(buf, p, static_cast<std::uint32_t>(offset), len); });
    }
    count(self, wire_behavior::request_flood, sent);
  }
  if (on(st, wire_behavior::unknown_messages)) {
    send_unknown(self);
    st.faults->last_unknown = now(self);
  }
  if (on(st, wire_behavior::oversize_length)) {
    send(self, [](auto& buf) {
      append_u32(buf, 0x7ffffff0u);
      buf.push_back(7); // a "piece" of 2 GiB
    });
    count(self, wire_behavior::oversize_length);
  }
  self->flush(st.hdl);
}

} // namespace

void set(peer_broker* self, std::shared_ptr<const logic::wire_faults> f) {
  auto& st = self->state;
  if (!f || !f->spec().any()) {
    if (st.faults && st.faults->reading_halted)
      self->trigger(st.hdl);
    st.faults.reset();
    return;
  }
  if (!st.faults)
    st.faults = std::make_unique<wire_fault_conn>();
  st.faults->f = std::move(f);
  st.faults->last_flap = now(self);
  if (st.down.handshake_done() && !st.closing)
    inject(self);
}

bool on_handshake_out(peer_broker* self, wire::handshake& hs) {
  auto& st = self->state;
  if (on(st, wire_behavior::wrong_info_hash)) {
    for (auto& b : hs.info_hash.bytes)
      b = static_cast<std::uint8_t>(b ^ 0x5a);
    count(self, wire_behavior::wrong_info_hash);
  }
  if (!on(st, wire_behavior::truncated_handshake))
    return false;
  // the protocol string and half the reserved bytes, then silence: the remote
  // waits for the rest until its handshake timeout
  send(self, [&](auto& buf) {
    std::vector<std::uint8_t> full;
    wire::append_handshake(hs, full);
    buf.insert(buf.end(), full.begin(), full.begin() + 24);
  });
  self->flush(st.hdl);
  st.faults->muted = true;
  count(self, wire_behavior::truncated_handshake);
  return true;
}

bool on_data(peer_broker* self, std::size_t n) {
  auto& st = self->state;
  auto& fc = *st.faults;
  if (fc.muted)
    return true;
  if (auto bits = fc.f->spec().get(wire_behavior::slow_reads); bits != 0 && !fc.reading_halted) {
    // these bytes at the rate: the socket is not read again before that
    auto us = static_cast<std::int64_t>(static_cast<double>(n) * 8.0 * 1e6 / static_cast<double>(bits));
    if (us > 0) {
      self->halt(st.hdl);
      fc.reading_halted = true;
      self->delayed_send(caf::actor_cast<peer_impl_actor>(self), std::chrono::microseconds(us), wire_fault_atom_v);
      count(self, wire_behavior::slow_reads);
    }
  }
  return false;
}

void resume_reading(peer_broker* self) {
  auto& st = self->state;
  if (st.closing)
    return;
  if (st.faults)
    st.faults->reading_halted = false;
  self->trigger(st.hdl);
}

void after_handshake(peer_broker* self) {
  auto& st = self->state;
  auto& f = *st.faults->f;
  bitfield claim = st.we_have;
  if (f.on(wire_behavior::claim_unserved))
    for (std::uint32_t p = 0; p < st.cfg.num_pieces; ++p)
      if (!claim.test(p) && f.unserved(p))
        claim.set(p);
  if (f.on(wire_behavior::bad_bitfield_length)) {
    std::vector<std::uint8_t> bytes(claim.bytes().begin(), claim.bytes().end());
    bytes.push_back(0); // one byte too many
    send(self, [&](auto& buf) { wire::append_bitfield(buf, bytes); });
    count(self, wire_behavior::bad_bitfield_length);
  } else if (claim.all() && st.fast) {
    send(self, [](auto& buf) { wire::append_have_all(buf); });
  } else if (claim.none() && st.fast) {
    send(self, [](auto& buf) { wire::append_have_none(buf); });
  } else if (!claim.none()) {
    send(self, [&](auto& buf) { wire::append_bitfield(buf, claim.bytes()); });
  }
  inject(self);
}

bool swallow_request(peer_broker* self, const block_ref& b) {
  auto& st = self->state;
  if (on(st, wire_behavior::snub)) {
    count(self, wire_behavior::snub);
    return true;
  }
  if (on(st, wire_behavior::free_ride)) {
    count(self, wire_behavior::free_ride);
    return true;
  }
  if (on(st, wire_behavior::claim_unserved) && st.faults->f->unserved(b.piece)) {
    count(self, wire_behavior::claim_unserved);
    return true;
  }
  return false;
}

void on_block_out(peer_broker* self, const block_ref& b, std::vector<char>& out, std::size_t at) {
  auto& st = self->state;
  auto& f = *st.faults->f;
  if (!f.on(wire_behavior::corrupt_blocks) || !f.corrupt(b.piece, b.offset / block_size) || at + b.length > out.size())
    return;
  // a few bytes flipped: the piece fails its hash, the length stays right
  for (std::size_t k : {std::size_t{0}, std::size_t{b.length / 2}, std::size_t{b.length - 1}})
    out[at + k] = static_cast<char>(out[at + k] ^ 0x55);
  count(self, wire_behavior::corrupt_blocks);
  f.counters().corrupted_to(st.cfg.index);
}

bool withhold_unchoke(peer_broker* self) {
  if (!on(self->state, wire_behavior::free_ride))
    return false;
  count(self, wire_behavior::free_ride);
  return true;
}

void tick(peer_broker* self) {
  auto& st = self->state;
  auto& fc = *st.faults;
  if (fc.muted || !st.down.handshake_done() || st.closing)
    return;
  auto t = now(self);
  if (auto ms = fc.f->spec().get(wire_behavior::choke_flapping); ms != 0) {
    auto period = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(ms), 1s);
    if (t - fc.last_flap >= period) {
      fc.last_flap = t;
      bool unchoke = st.up.choking();
      if (!(unchoke && on(st, wire_behavior::free_ride))) {
        // through the upload machine, as if the choker had decided it
        auto msg = unchoke ? caf::make_message(unchoke_atom_v) : caf::make_message(choke_atom_v);
        st.up.machine.handle(msg);
        count(self, wire_behavior::choke_flapping);
      }
    }
  }
  if (on(st, wire_behavior::unknown_messages) && t - fc.last_unknown >= 5s) {
    fc.last_unknown = t;
    send_unknown(self);
    self->flush(st.hdl);
  }
}

} // namespace actorrent::wire_fault
