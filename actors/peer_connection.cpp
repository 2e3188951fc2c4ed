#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>

#include <sys/socket.h>

namespace actorrent {

namespace peer_wire {

std::string describe(const block_ref& b) {
  return "piece " + std::to_string(b.piece) + " offset " + std::to_string(b.offset) + " length "
         + std::to_string(b.length);
}

bool valid_block(const peer_state& st, const block_ref& b) {
  if (b.piece >= st.cfg.num_pieces || b.length == 0 || b.length > st.cfg.max_block_length)
    return false;
  auto piece_len = std::min<std::uint64_t>(st.cfg.piece_length,
                                           st.cfg.total_size - std::uint64_t{b.piece} * st.cfg.piece_length);
  return std::uint64_t{b.offset} + b.length <= piece_len;
}

namespace {

peer_report report(const peer_state& st) {
  return peer_report{st.cfg.index,     st.down.meter.total(), st.up.meter.total(),     st.down.meter.rate(),
                     st.up.meter.rate(), st.down.remote_seed(), st.down.snubbed, st.up.peer_interested};
}

// CAF closes a connection gracefully: the socket stays open until everything
// queued for it is written. A peer that stopped reading would keep it, and the
// broker, alive for good (and the actor system from shutting down). We close
// only peers we are done with, so pending data is dropped: shutdown() makes the
// pending writes fail at once, and a zero linger turns the close into a reset.
// CAF 0.17's default multiplexer uses the socket descriptor as the handle id.
void abort_socket(caf::io::connection_handle hdl) {
  int fd = static_cast<int>(hdl.id());
  int type = 0;
  socklen_t len = sizeof(type);
  if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    return; // not a socket of ours (e.g. the test multiplexer's handles)
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  ::shutdown(fd, SHUT_RDWR);
}

} // namespace

void report_wire(peer_state& st) {
  if (!st.cfg.metrics)
    return;
  st.proto_in_share.report(st.wire_in - std::min(st.piece_in, st.wire_in));
  st.proto_out_share.report(st.proto_out);
}

void close(peer_broker* self, const std::string& reason) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.closing = true;
  if (st.cfg.metrics) {
    report_wire(st);
    st.cfg.metrics->disconnected(reason);
  }
  if (st.down.handshake_done()) {
    self->send(st.cfg.torrent, stats_atom_v, report(st)); // final numbers: the torrent's totals stay exact
    self->send(st.cfg.picker, left_atom_v, st.cfg.index);
  }
  self->send(st.cfg.torrent, drop_atom_v, st.cfg.index, reason);
  if (st.cfg.abortive_close)
    abort_socket(st.hdl);
  self->close(st.hdl);
  self->quit();
}

bool seed_to_seed(peer_broker* self) {
  auto& st = self->state;
  if (st.down.remote_seed() && st.we_have.all()) {
    close(self, "both are seeds");
    return true;
  }
  return false;
}

} // namespace peer_wire

namespace {

using namespace peer_wire;
using namespace std::chrono_literals;

// Runs one wire message (as a CAF message) through the current state of the
// download machine, or of the upload machine.
void deliver(peer_broker* self, caf::message msg) {
  auto& st = self->state;
  if (st.closing)
    return;
  if (!st.down.machine.handle(msg) && !st.closing)
    close(self, "unexpected " + to_string(msg) + " while " + to_string(st.down.machine.phase));
}

void deliver_upload(peer_broker* self, caf::message msg) {
  auto& st = self->state;
  if (st.closing)
    return;
  if (!st.down.handshake_done())
    return close(self, "unexpected " + to_string(msg) + " before the handshake");
  if (!st.up.machine.handle(msg) && !st.closing)
    close(self, "unexpected " + to_string(msg) + " while " + to_string(st.up.machine.phase));
}

caf::message block_msg(auto atom, const wire::message& m) {
  return caf::make_message(atom, block_ref{m.index, m.begin, m.length});
}

// Turns each decoded wire message into a typed message for its state machine.
void dispatch_wire(peer_broker* self, const wire::message& m) {
  using wire::msg_type;
  switch (m.type) {
    case msg_type::keep_alive:
    case msg_type::port:
    case msg_type::suggest:
    case msg_type::extended:
    case msg_type::unknown:
      return; // nothing to do (yet)
    case msg_type::choke:
      return deliver(self, caf::make_message(w_choke_atom_v));
    case msg_type::unchoke:
      return deliver(self, caf::make_message(w_unchoke_atom_v));
    case msg_type::interested:
      return deliver_upload(self, caf::make_message(w_interested_atom_v));
    case msg_type::not_interested:
      return deliver_upload(self, caf::make_message(w_uninterested_atom_v));
    case msg_type::have:
      return deliver(self, caf::make_message(w_have_atom_v, m.index));
    case msg_type::bitfield:
      return deliver(self, caf::make_message(w_bitfield_atom_v, std::vector<char>(m.payload.begin(), m.payload.end())));
    case msg_type::have_all:
      return deliver(self, caf::make_message(w_have_all_atom_v));
    case msg_type::have_none:
      return deliver(self, caf::make_message(w_have_none_atom_v));
    case msg_type::request:
      return deliver_upload(self, block_msg(w_request_atom_v, m));
    case msg_type::cancel:
      return deliver_upload(self, block_msg(w_cancel_atom_v, m));
    case msg_type::reject:
      return deliver(self, block_msg(w_reject_atom_v, m));
    case msg_type::allowed_fast:
      return deliver(self, caf::make_message(w_allowed_fast_atom_v, m.index));
    case msg_type::piece: {
      self->state.piece_in += m.payload.size();
      // the one copy of the block: from the socket buffer into its own vector
      block_data bd{self->state.cfg.index, m.index, m.begin, std::vector<char>(m.payload.begin(), m.payload.end())};
      return deliver(self, caf::make_message(w_piece_atom_v, std::move(bd)));
    }
  }
}

// Parses bytes from the socket: many wire messages per chunk.
void on_bytes(peer_broker* self, std::span<const std::uint8_t> bytes) {
  auto& st = self->state;
  st.wire_in += bytes.size();
  auto on_handshake = [self](const wire::handshake& hs, wire::handshake_stage stage) {
    if (stage == wire::handshake_stage::complete)
      deliver(self, caf::make_message(w_handshake_atom_v, hs.info_hash, hs.peer_id, hs.supports_fast()));
    return !self->state.closing;
  };
  auto on_message = [self](const wire::message& m) {
    dispatch_wire(self, m);
    return !self->state.closing;
  };
  st.parsing = true;
  auto res = st.decoder.parse(bytes, on_handshake, on_message);
  st.parsing = false;
  if (!res)
    return close(self, "protocol error: " + res.error().to_string());
  if (st.up.pump_after_parse) {
    st.up.pump_after_parse = false;
    peer_upload::pump(self);
  }
  if (!st.closing)
    self->flush(st.hdl); // requests and haves written while handling the chunk
}

// Sends our handshake and parses what the listener already read. Runs once,
// when the socket is ours: at once for outgoing connections, and for incoming
// ones on the first message after the listener moved the socket over.
void start_wire(peer_broker* self) {
  auto& st = self->state;
  if (st.wire_started || st.closing)
    return;
  st.wire_started = true;
  self->configure_read(st.hdl, caf::io::receive_policy::at_most(st.cfg.read_size));
  self->ack_writes(st.hdl, true);
  wire::handshake hs;
  hs.info_hash = st.cfg.info_hash;
  hs.peer_id = st.cfg.our_peer_id;
  hs.set_fast(true);
  if (st.faults && wire_fault::on_handshake_out(self, hs))
    return;
  send(self, [&](auto& buf) { wire::append_handshake(hs, buf); });
  self->flush(st.hdl);
  if (!st.cfg.preread.empty()) {
    auto pre = std::move(st.cfg.preread);
    st.cfg.preread.clear();
    on_bytes(self, pre);
  }
}

// Once a second: rates and timeouts of both halves, the keep-alive, our report.
void on_tick(peer_broker* self) {
  auto& st = self->state;
  if (st.closing)
    return;
  auto t = now(self);
  peer_download::tick(self);
  if (!peer_upload::tick(self))
    return;
  if (!st.down.handshake_done()) {
    if (t - st.started > st.cfg.handshake_timeout)
      return close(self, "handshake timed out");
  } else {
    if (t - st.last_received > st.cfg.idle_timeout)
      return close(self, "no data for " + std::to_string(st.cfg.idle_timeout.count()) + " s");
    if (t - st.last_sent > st.cfg.keep_alive_interval) {
      send(self, [](auto& buf) { wire::append_keep_alive(buf); });
      self->flush(st.hdl);
    }
    self->send(st.cfg.torrent, stats_atom_v, report(st));
    report_wire(st);
    if (st.down.starved)
      peer_download::refill(self);
    if (st.faults)
      wire_fault::tick(self);
  }
  self->delayed_send(caf::actor_cast<peer_impl_actor>(self), 1s, tick_atom_v);
}

actor_status status_of(const peer_state& st) {
  auto str = [](auto x) { return std::to_string(x); };
  return {peer_state::name,
          std::string{to_string(st.down.machine.phase)} + "/" + to_string(st.up.machine.phase),
          {{"index", str(st.cfg.index)},
           {"downloaded", str(st.down.meter.total())},
           {"uploaded", str(st.up.meter.total())},
           {"down_rate", str(st.down.meter.rate())},
           {"up_rate", str(st.up.meter.rate())},
           {"down_limit", str(st.down.bucket.rate())},
           {"up_limit", str(st.up.bucket.rate())},
           {"queue_depth", str(st.down.queue_depth)},
           {"outstanding", str(st.down.outstanding.size())},
           {"upload_queue", str(st.up.queue.size() + st.up.reads.size())},
           {"interested", str(st.down.am_interested)},
           {"peer_interested", str(st.up.peer_interested)}}};
}

// The broker's mailbox: bytes from the socket, timers, and what the torrent
// and the picker tell this connection. It stays the same in every state.
peer_impl_actor::behavior_type mailbox(peer_broker* self) {
  return {
    [self](caf::io::new_data_msg& msg) {
      start_wire(self);
      self->state.last_received = now(self);
      if (self->state.faults && wire_fault::on_data(self, msg.buf.size()))
        return;
      on_bytes(self, {reinterpret_cast<const std::uint8_t*>(msg.buf.data()), msg.buf.size()});
    },
    [self](caf::io::data_transferred_msg& msg) { peer_upload::on_written(self, msg.written, msg.remaining); },
    [self](caf::io::connection_closed_msg&) { close(self, "connection closed by the peer"); },
    [self](start_atom) { start_wire(self); },
    [self](tick_atom) { on_tick(self); },
    [self](pump_atom) {
      self->state.up.pump_scheduled = false;
      peer_upload::pump(self);
    },
    [self](refill_atom) {
      self->state.down.refill_scheduled = false;
      peer_download::refill(self);
    },
    [self](up_share_atom, double bytes_per_second) { peer_upload::set_share(self, bytes_per_second); },
    [self](down_share_atom, double bytes_per_second) { peer_download::set_share(self, bytes_per_second); },
    [self](choke_atom) {
      if (self->state.down.handshake_done())
        deliver_upload(self, caf::make_message(choke_atom_v));
    },
    [self](unchoke_atom) {
      if (self->state.faults && wire_fault::withhold_unchoke(self))
        return;
      if (self->state.down.handshake_done())
        deliver_upload(self, caf::make_message(unchoke_atom_v));
    },
    [self](drop_atom, const std::string& reason) { close(self, reason); },
    [self](local_have_atom, std::uint32_t piece) { peer_download::local_have(self, piece); },
    [self](cancel_atom, const block_ref& b) { peer_download::cancel(self, b); },
    [self](status_atom) { return status_of(self->state); },
    [self](wire_fault_atom, wire_faults_ptr& f) { wire_fault::set(self, std::move(f)); },
    [self](wire_fault_atom) { wire_fault::resume_reading(self); },
  };
}

} // namespace

peer_impl_actor::behavior_type peer_connection(peer_broker* self, caf::io::connection_handle hdl,
                                               peer_config cfg) {
  auto& st = self->state;
  st.hdl = hdl;
  st.cfg = std::move(cfg);
  st.down.queue_depth = st.cfg.initial_queue_depth;
  st.down.remote_has = bitfield(st.cfg.num_pieces);
  st.we_have = bitfield(st.cfg.num_pieces);
  for (std::size_t i = 0; i < st.cfg.we_have.size() && i < st.cfg.num_pieces; ++i)
    if (st.cfg.we_have[i])
      st.we_have.set(i);
  st.cfg.we_have.clear();
  wire::limits lim;
  lim.max_block_length = st.cfg.max_block_length;
  lim.max_message_length = std::max<std::size_t>(lim.max_message_length, bitfield::bytes_for(st.cfg.num_pieces) + 1);
  st.decoder = wire::decoder{wire::decoder::mode::handshake, lim};
  if (st.cfg.metrics) {
    st.proto_in_share = logic::counter_share{&st.cfg.metrics->protocol_in};
    st.proto_out_share = logic::counter_share{&st.cfg.metrics->protocol_out};
  }
  auto t = now(self);
  st.started = st.last_received = st.last_sent = st.down.last_block = st.up.last_write_progress = t;
  st.down.machine.current = peer_download::handshaking(self);
  st.up.machine.current = peer_upload::choking(self);
  if (st.cfg.wire_faults)
    wire_fault::set(self, st.cfg.wire_faults);
  self->delayed_send(caf::actor_cast<peer_impl_actor>(self), 1s, tick_atom_v);
  if (st.cfg.incoming)
    self->send(caf::actor_cast<peer_impl_actor>(self), start_atom_v); // the listener moves the socket in after this function
  else
    start_wire(self);
  return mailbox(self);
}

peer_actor spawn_peer_connection(caf::actor_system& sys, int fd, peer_config cfg) {
  return sys.middleman().spawn_broker(
    [](peer_broker* self, int sock, peer_config c) -> peer_impl_actor::behavior_type {
      // (typed_broker's add_tcp_scribe(fd) calls a base overload that does not
      // exist in CAF 0.17; abstract_broker's add_scribe(fd) is the same thing)
      auto hdl = self->add_scribe(sock);
      return peer_connection(self, hdl, std::move(c));
    },
    fd, std::move(cfg));
}

} // namespace actorrent
