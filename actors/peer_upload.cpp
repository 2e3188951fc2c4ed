#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>

namespace actorrent {

const char* to_string(upload_phase p) {
  return p == upload_phase::choking ? "choking" : "serving";
}

namespace peer_upload {

namespace {

using namespace peer_wire;

caf::behavior serving(peer_broker* self);

void append_block(peer_broker* self, const block_ref& b, const block_view& data) {
  auto& st = self->state;
  auto& out = self->wr_buf(st.hdl);
  auto before = out.size();
  std::vector<std::uint8_t> header;
  wire::append_piece_header(header, b.piece, b.offset, b.length);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.data(), data.data() + data.length);
  if (st.faults) // lab: wire faults
    wire_fault::on_block_out(self, b, out, before + header.size());
  auto t = now(self);
  if (st.up.out_queued == 0)
    st.up.last_write_progress = t; // the send timeout runs from here
  st.up.out_queued += out.size() - before;
  st.up.meter.add(b.length);
  st.last_sent = t;
}

// A disk read finished: write every block that is ready, in request order.
void on_read(peer_broker* self, std::uint64_t first_seq, std::vector<block_view>& data) {
  auto& st = self->state;
  auto& u = st.up;
  if (st.closing)
    return;
  // the reads of one batch are consecutive in `reads` (cancels only mark them)
  auto it = std::find_if(u.reads.begin(), u.reads.end(), [first_seq](const auto& r) { return r.seq == first_seq; });
  for (auto& d : data) {
    if (it == u.reads.end())
      return;
    if (!d.piece || d.length != it->block.length)
      return close(self, "short read of " + describe(it->block));
    it->data = std::move(d);
    ++it;
  }
  bool wrote = false;
  while (!u.reads.empty() && u.reads.front().data) {
    auto& r = u.reads.front();
    u.read_bytes -= r.block.length;
    if (!r.cancelled) {
      append_block(self, r.block, *r.data);
      wrote = true;
    }
    u.reads.pop_front();
  }
  if (wrote)
    self->flush(st.hdl);
  pump(self);
}

void read_batch(peer_broker* self, std::vector<block_ref> batch) {
  if (batch.empty())
    return;
  auto& st = self->state;
  auto first_seq = st.up.reads.back().seq + 1 - batch.size();
  self->request(st.cfg.disk, caf::infinite, read_atom_v, std::move(batch))
    .then([self, first_seq](std::vector<block_view>& data) { on_read(self, first_seq, data); },
          [self](caf::error& err) {
            close(self, "cannot read a block to upload: " + self->system().render(err));
          });
}

// The upload bucket lacks the next block: come back when it holds it.
void wait_for_tokens(peer_broker* self, const block_ref& b) {
  auto& u = self->state.up;
  if (u.pump_scheduled)
    return;
  u.pump_scheduled = true;
  auto wait = u.bucket.wait_for(b.length) + std::chrono::milliseconds(1);
  self->delayed_send(caf::actor_cast<peer_impl_actor>(self), wait, pump_atom_v);
}

void send_reject(peer_broker* self, const block_ref& b) {
  send(self, [&](auto& buf) { wire::append_reject(buf, b.piece, b.offset, b.length); });
}

// Drops every request not written yet (our choke): with the fast extension
// each one gets a reject, as BEP 6 asks.
void drop_requests(peer_broker* self) {
  auto& st = self->state;
  for (auto& b : st.up.queue)
    if (st.fast)
      send_reject(self, b);
  st.up.queue.clear();
  for (auto& r : st.up.reads)
    if (!r.cancelled) {
      r.cancelled = true;
      if (st.fast)
        send_reject(self, r.block);
    }
}

bool check_request(peer_broker* self, const block_ref& b) {
  auto& st = self->state;
  if (valid_block(st, b) && b.length <= st.cfg.max_request_length)
    return true;
  close(self, "invalid request (" + describe(b) + ")");
  return false;
}

// What the remote may send in both upload states: its interest.
caf::message_handler upload_common(peer_broker* self) {
  auto set_interest = [self](bool on) {
    auto& st = self->state;
    if (st.up.peer_interested == on)
      return;
    st.up.peer_interested = on;
    self->send(st.cfg.torrent, interest_atom_v, st.cfg.index, on);
  };
  return {
    [set_interest](w_interested_atom) { set_interest(true); },
    [set_interest](w_uninterested_atom) { set_interest(false); },
  };
}

void on_request(peer_broker* self, const block_ref& b) {
  auto& st = self->state;
  auto& u = st.up;
  if (!check_request(self, b))
    return;
  if (st.faults && wire_fault::swallow_request(self, b)) // lab: wire faults
    return;
  if (!st.we_have.test(b.piece))
    return close(self, "request for piece " + std::to_string(b.piece) + " we do not have");
  if (u.queue.size() + u.reads.size() >= st.cfg.max_queued_requests)
    return close(self, "more than " + std::to_string(st.cfg.max_queued_requests) + " queued requests");
  u.queue.push_back(b);
  if (st.parsing)
    u.pump_after_parse = true; // the chunk's other requests join the same disk read
  else
    pump(self);
}

void on_cancel(peer_broker* self, const block_ref& b) {
  auto& st = self->state;
  auto& u = st.up;
  bool found = false;
  if (auto it = std::find(u.queue.begin(), u.queue.end(), b); it != u.queue.end()) {
    u.queue.erase(it);
    found = true;
  } else {
    for (auto& r : u.reads)
      if (r.block == b && !r.cancelled) {
        r.cancelled = true;
        found = true;
        break;
      }
  }
  // BEP 6: a cancelled request is answered with the block or a reject
  if (found && st.fast)
    send_reject(self, b);
}

// Upload state: the remote is unchoked; its requests are checked, queued and
// served in order.
caf::behavior serving(peer_broker* self) {
  caf::message_handler here{
    [self](choke_atom) {
      self->state.up.machine.enter(upload_phase::choking, choking(self));
      drop_requests(self);
      send(self, [](auto& buf) { wire::append_choke(buf); });
      self->flush(self->state.hdl);
    },
    [](unchoke_atom) {
      // already unchoked
    },
    [self](w_request_atom, const block_ref& b) { on_request(self, b); },
    [self](w_cancel_atom, const block_ref& b) { on_cancel(self, b); },
  };
  return here.or_else(upload_common(self));
}

} // namespace

// Upload state: we choke the remote. Requests are not served: with the fast
// extension each gets a reject, without it they are ignored (BEP 3); a peer
// that keeps requesting far beyond what it could have had in flight when we
// choked it is dropped.
caf::behavior choking(peer_broker* self) {
  caf::message_handler here{
    [self](unchoke_atom) {
      auto& st = self->state;
      st.up.machine.enter(upload_phase::serving, serving(self));
      st.up.ignored_requests = 0;
      send(self, [](auto& buf) { wire::append_unchoke(buf); });
      self->flush(st.hdl);
    },
    [](choke_atom) {
      // already choked
    },
    [self](w_request_atom, const block_ref& b) {
      auto& st = self->state;
      if (!check_request(self, b))
        return;
      if (++st.up.ignored_requests > st.cfg.max_queued_requests)
        return close(self, "more than " + std::to_string(st.cfg.max_queued_requests) + " requests while choked");
      if (st.fast)
        send_reject(self, b);
    },
    [](w_cancel_atom, const block_ref&) {
      // nothing is queued while choked
    },
  };
  return here.or_else(upload_common(self));
}

void pump(peer_broker* self) {
  auto& st = self->state;
  auto& u = st.up;
  auto t = now(self);
  std::vector<block_ref> batch;
  while (!st.closing && !u.choking() && !u.queue.empty()
         && u.out_queued + u.read_bytes < st.cfg.send_buffer_limit) {
    auto b = u.queue.front();
    if (!u.bucket.take(b.length, t)) {
      wait_for_tokens(self, b);
      break;
    }
    u.queue.pop_front();
    u.reads.push_back({u.next_read_seq++, b, std::nullopt, false});
    u.read_bytes += b.length;
    batch.push_back(b);
    if (batch.size() >= st.cfg.read_batch)
      read_batch(self, std::exchange(batch, {}));
  }
  read_batch(self, std::move(batch));
}

void on_written(peer_broker* self, std::uint64_t written, std::uint64_t remaining) {
  auto& u = self->state.up;
  u.out_queued = remaining;
  if (written > 0)
    u.last_write_progress = now(self);
  pump(self);
}

void set_share(peer_broker* self, double bytes_per_second) {
  self->state.up.bucket.set_rate(bytes_per_second, now(self));
  pump(self);
}

bool tick(peer_broker* self) {
  auto& st = self->state;
  auto& u = st.up;
  u.meter.tick();
  if (st.down.handshake_done() && u.out_queued > 0 && now(self) - u.last_write_progress > st.cfg.send_timeout) {
    close(self, "peer does not read: " + std::to_string(u.out_queued) + " bytes unsent for "
                  + std::to_string(st.cfg.send_timeout.count()) + " s");
    return false;
  }
  return true;
}

} // namespace peer_upload

} // namespace actorrent
