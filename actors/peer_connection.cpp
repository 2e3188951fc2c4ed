#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>

#include <sys/socket.h>

namespace actorrent {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint32_t block_size = 16 * 1024;
constexpr std::size_t max_recently_cancelled = 4096;
constexpr std::size_t read_chunk = 64 * 1024;

caf::actor me(peer_broker* self) { return caf::actor_cast<caf::actor>(self); }

void deliver(peer_broker* self, caf::message msg);
void deliver_upload(peer_broker* self, caf::message msg);

// Appends one encoded wire message to the broker's write buffer.
template <class F>
void send_wire(peer_broker* self, F&& encode) {
  auto& st = self->state;
  thread_local std::vector<std::uint8_t> scratch;
  scratch.clear();
  encode(scratch);
  auto& out = self->wr_buf(st.hdl);
  out.insert(out.end(), scratch.begin(), scratch.end());
  st.last_sent = clock_type::now();
}

std::string describe(const block_ref& b) {
  return "piece " + std::to_string(b.piece) + " offset " + std::to_string(b.offset) + " length "
         + std::to_string(b.length);
}

peer_report report(const peer_state& st) {
  return peer_report{st.cfg.index, st.downloaded, st.uploaded, st.down_rate, st.up_rate,
                     st.remote_seed, st.snubbed, st.peer_interested};
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

// Closes the connection once, telling the torrent why and the picker that our
// blocks are free again.
void close_connection(peer_broker* self, const std::string& reason) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.closing = true;
  if (st.handshake_done) // final numbers, so the torrent's totals stay exact
    self->send(st.cfg.torrent, stats_atom_v, report(st));
  if (st.joined_picker)
    self->send(st.cfg.picker, left_atom_v, st.cfg.index);
  self->send(st.cfg.torrent, drop_atom_v, st.cfg.index, reason);
  if (st.cfg.abortive_close)
    abort_socket(st.hdl);
  self->close(st.hdl);
  self->quit();
}

std::vector<bool> to_bools(const bitfield& bf) {
  std::vector<bool> out(bf.size());
  for (auto i = bf.find_next_set(0); i != bitfield::npos; i = bf.find_next_set(i + 1))
    out[i] = true;
  return out;
}

void update_interest(peer_broker* self);

// Asks the picker for more blocks when the request queue runs low.
void refill(peer_broker* self) {
  auto& st = self->state;
  if (st.closing || st.pick_pending || !st.am_interested || !st.unchoked)
    return;
  auto have = static_cast<std::uint32_t>(st.outstanding.size());
  if (have >= st.queue_depth)
    return;
  auto want = st.queue_depth - have;
  if (have > 0 && want < std::max<std::uint32_t>(1, st.queue_depth / 4))
    return; // batch requests: ask when a quarter of the queue is free
  st.pick_pending = true;
  self->request(st.cfg.picker, caf::infinite, pick_atom_v, st.cfg.index, want)
    .then(
      [self](std::vector<block_ref>& blocks) {
        auto& st = self->state;
        st.pick_pending = false;
        if (st.closing)
          return;
        if (!st.unchoked) {
          if (!blocks.empty())
            self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::move(blocks));
          return;
        }
        st.starved = blocks.empty();
        auto now = clock_type::now();
        for (auto& b : blocks) {
          st.outstanding.push_back({b, now});
          send_wire(self, [&](auto& buf) { wire::append_request(buf, b.piece, b.offset, b.length); });
        }
        if (!blocks.empty())
          self->flush(st.hdl);
      },
      [self](caf::error&) { self->state.pick_pending = false; });
}

void update_interest(peer_broker* self) {
  auto& st = self->state;
  bool want = st.remote_has.has_any_not_in(st.we_have);
  if (want == st.am_interested)
    return;
  st.am_interested = want;
  send_wire(self, [&](auto& buf) {
    if (want)
      wire::append_interested(buf);
    else
      wire::append_not_interested(buf);
  });
  self->flush(st.hdl);
  refill(self);
}

// Hands every outstanding request back to the picker (choke, snub, close).
void give_back_outstanding(peer_broker* self, bool send_cancels) {
  auto& st = self->state;
  if (st.outstanding.empty())
    return;
  std::vector<block_ref> blocks;
  blocks.reserve(st.outstanding.size());
  for (auto& r : st.outstanding) {
    blocks.push_back(r.block);
    if (send_cancels)
      send_wire(self, [&](auto& buf) { wire::append_cancel(buf, r.block.piece, r.block.offset, r.block.length); });
    if (st.recently_cancelled.size() < max_recently_cancelled)
      st.recently_cancelled.push_back(r.block);
  }
  st.outstanding.clear();
  self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::move(blocks));
  if (send_cancels)
    self->flush(st.hdl);
}

// Both sides have every piece: neither can give the other anything.
bool seed_to_seed(peer_broker* self) {
  auto& st = self->state;
  if (st.remote_seed && st.we_have.all()) {
    close_connection(self, "both are seeds");
    return true;
  }
  return false;
}

// ---- upload ----------------------------------------------------------------

void append_block(peer_broker* self, const block_ref& b, const block_view& data) {
  auto& st = self->state;
  auto& out = self->wr_buf(st.hdl);
  auto before = out.size();
  std::vector<std::uint8_t> header;
  wire::append_piece_header(header, b.piece, b.offset, b.length);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.data(), data.data() + data.length);
  if (st.out_queued == 0)
    st.last_write_progress = clock_type::now(); // the send timeout runs from here
  st.out_queued += out.size() - before;
  st.uploaded += b.length;
  st.up_bytes_this_tick += b.length;
  st.last_sent = clock_type::now();
}

void on_read(peer_broker* self, std::uint64_t first_seq, std::vector<block_view>& data);

// Most blocks one disk read asks for: one message to the disk and back per
// 16 blocks rather than per block.
constexpr std::size_t max_read_batch = 16;

// Issues disk reads for queued requests while the socket backlog plus the
// reads in flight stay under the limit: the next requests go out together.
void pump_uploads(peer_broker* self) {
  auto& st = self->state;
  auto limited = st.upload_rate_limit > 0;
  if (limited) { // token bucket: refill by the time passed, at most half a second of burst
    auto now = clock_type::now();
    auto dt = std::chrono::duration<double>(now - st.tokens_refilled).count();
    st.tokens_refilled = now;
    auto cap = std::max(0.5 * st.upload_rate_limit, double{block_size});
    st.upload_tokens = std::min(cap, st.upload_tokens + dt * st.upload_rate_limit);
  }
  std::vector<block_ref> batch;
  auto issue = [&] {
    if (batch.empty())
      return;
    auto first_seq = st.upload_reads.back().seq + 1 - batch.size();
    self->request(st.cfg.disk, caf::infinite, read_atom_v, std::move(batch))
      .then([self, first_seq](std::vector<block_view>& data) { on_read(self, first_seq, data); },
            [self](caf::error& err) {
              close_connection(self, "cannot read a block to upload: " + self->system().render(err));
            });
    batch = {};
  };
  while (!st.closing && !st.am_choking && !st.upload_queue.empty()
         && st.out_queued + st.read_bytes < st.cfg.send_buffer_limit) {
    auto b = st.upload_queue.front();
    if (limited) {
      if (st.upload_tokens < b.length) {
        if (!st.pump_scheduled) { // come back when the bucket holds this block
          st.pump_scheduled = true;
          auto wait = (b.length - st.upload_tokens) / st.upload_rate_limit;
          self->delayed_send(self, std::chrono::microseconds{static_cast<std::int64_t>(wait * 1e6) + 1000}, pump_atom_v);
        }
        break;
      }
      st.upload_tokens -= b.length;
    }
    st.upload_queue.pop_front();
    st.upload_reads.push_back({st.next_read_seq++, b, std::nullopt, false});
    st.read_bytes += b.length;
    batch.push_back(b);
    if (batch.size() == max_read_batch)
      issue();
  }
  issue();
}

// A disk read finished: write every block that is ready, in request order.
void on_read(peer_broker* self, std::uint64_t first_seq, std::vector<block_view>& data) {
  auto& st = self->state;
  if (st.closing)
    return;
  // the reads of one batch are consecutive in upload_reads (cancels only mark them)
  auto it = std::find_if(st.upload_reads.begin(), st.upload_reads.end(),
                         [first_seq](const auto& r) { return r.seq == first_seq; });
  for (auto& d : data) {
    if (it == st.upload_reads.end())
      return;
    if (!d.piece || d.length != it->block.length)
      return close_connection(self, "short read of " + describe(it->block));
    it->data = std::move(d);
    ++it;
  }
  bool wrote = false;
  while (!st.upload_reads.empty() && st.upload_reads.front().data) {
    auto& r = st.upload_reads.front();
    st.read_bytes -= r.block.length;
    if (!r.cancelled) {
      append_block(self, r.block, *r.data);
      wrote = true;
    }
    st.upload_reads.pop_front();
  }
  if (wrote)
    self->flush(st.hdl);
  pump_uploads(self);
}

void send_reject(peer_broker* self, const block_ref& b) {
  send_wire(self, [&](auto& buf) { wire::append_reject(buf, b.piece, b.offset, b.length); });
}

// Drops every request not written yet (our choke, or closing): with the fast
// extension each one gets a reject, as BEP 6 asks.
void drop_upload_requests(peer_broker* self) {
  auto& st = self->state;
  for (auto& b : st.upload_queue)
    if (st.fast)
      send_reject(self, b);
  st.upload_queue.clear();
  for (auto& r : st.upload_reads)
    if (!r.cancelled) {
      r.cancelled = true;
      if (st.fast)
        send_reject(self, r.block);
    }
}

std::size_t pending_requests(const peer_state& st) {
  return st.upload_queue.size() + st.upload_reads.size();
}

bool valid_block(const peer_state& st, const block_ref& b);

void on_piece(peer_broker* self, block_data& bd) {
  auto& st = self->state;
  block_ref ref{bd.piece, bd.offset, static_cast<std::uint32_t>(bd.bytes.size())};
  auto it = std::find_if(st.outstanding.begin(), st.outstanding.end(),
                         [&](const auto& r) { return r.block == ref; });
  if (it == st.outstanding.end()) {
    auto c = std::find(st.recently_cancelled.begin(), st.recently_cancelled.end(), ref);
    if (c != st.recently_cancelled.end()) {
      st.recently_cancelled.erase(c); // arrived after we cancelled it: wasted, not hostile
      return;
    }
    close_connection(self, "unrequested block (" + describe(ref) + ")");
    return;
  }
  st.outstanding.erase(it);
  st.downloaded += ref.length;
  st.bytes_this_tick += ref.length;
  auto now = clock_type::now();
  st.last_block = now;
  // slow start: a whole queue's worth of blocks in under half a second means the
  // queue, not the peer, is the limit: double it (the per-second tick then keeps
  // it at about two seconds of data)
  if (++st.window_blocks >= st.queue_depth) {
    if (now - st.window_start < std::chrono::milliseconds(500))
      st.queue_depth = std::min(st.queue_depth * 2, st.cfg.max_queue_depth);
    st.window_blocks = 0;
    st.window_start = now;
  }
  st.snubbed = false;
  // The picker decides what to do with the data and forwards it to the disk.
  bd.from = st.cfg.index;
  self->send(st.cfg.picker, block_atom_v, std::move(bd));
  refill(self);
}

void on_tick(peer_broker* self) {
  auto& st = self->state;
  if (st.closing)
    return;
  auto now = clock_type::now();
  auto last_second = static_cast<double>(st.bytes_this_tick);
  st.down_rate = 0.6 * st.down_rate + 0.4 * last_second;
  st.bytes_this_tick = 0;
  st.up_rate = 0.6 * st.up_rate + 0.4 * static_cast<double>(st.up_bytes_this_tick);
  st.up_bytes_this_tick = 0;
  // queue depth: about two seconds of data at the rate of the last second (not
  // the smoothed one, so a fast peer gets a deep queue at once); it never drops
  // below the initial depth
  auto depth = static_cast<std::uint32_t>(std::max(last_second, st.down_rate) * 2.0 / block_size);
  st.queue_depth = std::clamp(std::max(depth, st.queue_depth / 2), st.cfg.initial_queue_depth, st.cfg.max_queue_depth);
  if (!st.handshake_done) {
    if (now - st.started > st.cfg.handshake_timeout)
      return close_connection(self, "handshake timed out");
  } else {
    if (!st.outstanding.empty()) {
      auto since = std::max(st.outstanding.front().sent, st.last_block);
      if (now - since > st.cfg.request_timeout) {
        st.snubbed = true; // no block for a whole timeout: let others take its blocks
        give_back_outstanding(self, true);
      }
    }
    if (st.out_queued > 0 && now - st.last_write_progress > st.cfg.send_timeout)
      return close_connection(self, "peer does not read: " + std::to_string(st.out_queued) + " bytes unsent for "
                                      + std::to_string(st.cfg.send_timeout.count()) + " s");
    if (now - st.last_received > st.cfg.idle_timeout)
      return close_connection(self, "no data for " + std::to_string(st.cfg.idle_timeout.count()) + " s");
    if (now - st.last_sent > st.cfg.keep_alive_interval) {
      send_wire(self, [](auto& buf) { wire::append_keep_alive(buf); });
      self->flush(st.hdl);
    }
    self->send(st.cfg.torrent, stats_atom_v, report(st));
    if (st.starved)
      refill(self);
  }
  self->delayed_send(self, 1s, tick_atom_v);
}

// Runs one wire message (as a CAF message) through the current protocol state.
// State changes requested while a state handler runs take effect afterwards.
void deliver(peer_broker* self, caf::message msg) {
  auto& st = self->state;
  if (st.closing)
    return;
  auto res = st.wire_state(msg);
  if (!res && !st.closing)
    close_connection(self, "unexpected " + to_string(msg) + " while " + st.state_name);
  if (st.next_state) {
    st.wire_state = std::move(*st.next_state);
    st.next_state.reset();
  }
}

// The same for the upload state machine: the remote's interest, requests and
// cancels, and the choker's decisions.
void deliver_upload(peer_broker* self, caf::message msg) {
  auto& st = self->state;
  if (st.closing)
    return;
  if (!st.handshake_done)
    return close_connection(self, "unexpected " + to_string(msg) + " before the handshake");
  auto res = st.upload_state(msg);
  if (!res && !st.closing)
    close_connection(self, "unexpected " + to_string(msg) + " while " + st.upload_state_name);
  if (st.next_upload_state) {
    st.upload_state = std::move(*st.next_upload_state);
    st.next_upload_state.reset();
  }
}

void enter_upload(peer_broker* self, caf::behavior next, const char* name) {
  self->state.next_upload_state = std::move(next);
  self->state.upload_state_name = name;
}

void enter(peer_broker* self, caf::behavior next, const char* name) {
  self->state.next_state = std::move(next);
  self->state.state_name = name;
}

// Turns each decoded wire message into a typed message for the protocol state.
void dispatch_wire(peer_broker* self, const wire::message& m) {
  auto& st = self->state;
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
      return deliver(self, caf::make_message(w_bitfield_atom_v,
                                             std::vector<char>(m.payload.begin(), m.payload.end())));
    case msg_type::have_all:
      return deliver(self, caf::make_message(w_have_all_atom_v));
    case msg_type::have_none:
      return deliver(self, caf::make_message(w_have_none_atom_v));
    case msg_type::request:
      return deliver_upload(self, caf::make_message(w_request_atom_v, block_ref{m.index, m.begin, m.length}));
    case msg_type::cancel:
      return deliver_upload(self, caf::make_message(w_cancel_atom_v, block_ref{m.index, m.begin, m.length}));
    case msg_type::reject:
      return deliver(self, caf::make_message(w_reject_atom_v, block_ref{m.index, m.begin, m.length}));
    case msg_type::allowed_fast:
      return deliver(self, caf::make_message(w_allowed_fast_atom_v, m.index));
    case msg_type::piece: {
      // the one copy of the block: from the socket buffer into its own vector
      block_data bd{st.cfg.index, m.index, m.begin, std::vector<char>(m.payload.begin(), m.payload.end())};
      return deliver(self, caf::make_message(w_piece_atom_v, std::move(bd)));
    }
  }
}

bool valid_block(const peer_state& st, const block_ref& b) {
  if (b.piece >= st.cfg.num_pieces || b.length == 0 || b.length > st.cfg.max_block_length)
    return false;
  auto piece_len = std::min<std::uint64_t>(st.cfg.piece_length,
                                           st.cfg.total_size - std::uint64_t{b.piece} * st.cfg.piece_length);
  return std::uint64_t{b.offset} + b.length <= piece_len;
}

caf::behavior choked(peer_broker* self);
caf::behavior downloading(peer_broker* self);

// The broker's mailbox: bytes from the socket, timers, and what the torrent
// and the picker tell this connection. It stays the same in every state.
// Parses bytes from the socket: many wire messages per chunk.
void on_bytes(peer_broker* self, std::span<const std::uint8_t> bytes) {
  auto& st = self->state;
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
  if (!res) {
    close_connection(self, "protocol error: " + res.error().to_string());
    return;
  }
  if (st.pump_after_parse) {
    st.pump_after_parse = false;
    pump_uploads(self);
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
  self->configure_read(st.hdl, caf::io::receive_policy::at_most(read_chunk));
  self->ack_writes(st.hdl, true);
  wire::handshake hs;
  hs.info_hash = st.cfg.info_hash;
  hs.peer_id = st.cfg.our_peer_id;
  hs.set_fast(true);
  send_wire(self, [&](auto& buf) { wire::append_handshake(hs, buf); });
  self->flush(st.hdl);
  if (!st.cfg.preread.empty()) {
    auto pre = std::move(st.cfg.preread);
    st.cfg.preread.clear();
    on_bytes(self, pre);
  }
}

// The broker's mailbox: bytes from the socket, timers, and what the torrent
// and the picker tell this connection. It stays the same in every state.
caf::behavior mailbox(peer_broker* self) {
  return {
    [self](caf::io::new_data_msg& msg) {
      start_wire(self);
      self->state.last_received = clock_type::now();
      on_bytes(self, {reinterpret_cast<const std::uint8_t*>(msg.buf.data()), msg.buf.size()});
    },
    [self](const caf::io::data_transferred_msg& msg) {
      auto& st = self->state;
      st.out_queued = msg.remaining;
      if (msg.written > 0)
        st.last_write_progress = clock_type::now();
      pump_uploads(self);
    },
    [self](start_atom) { start_wire(self); },
    [self](pump_atom) {
      self->state.pump_scheduled = false;
      pump_uploads(self);
    },
    [self](rate_atom, double bytes_per_second) {
      // the torrent's upload limit, split among the peers it unchokes (0: none)
      auto& st = self->state;
      if (st.upload_rate_limit <= 0 && bytes_per_second > 0) {
        st.upload_tokens = 0;
        st.tokens_refilled = clock_type::now();
      }
      st.upload_rate_limit = bytes_per_second;
      pump_uploads(self);
    },
    [self](choke_atom) {
      if (self->state.handshake_done)
        deliver_upload(self, caf::make_message(choke_atom_v));
    },
    [self](unchoke_atom) {
      if (self->state.handshake_done)
        deliver_upload(self, caf::make_message(unchoke_atom_v));
    },
    [self](const caf::io::connection_closed_msg&) {
      close_connection(self, "connection closed by the peer");
    },
    [self](tick_atom) { on_tick(self); },
    [self](drop_atom, const std::string& reason) { close_connection(self, reason); },
    [self](local_have_atom, std::uint32_t piece) {
      auto& st = self->state;
      st.we_have.set(piece);
      if (st.handshake_done && !st.remote_seed) { // a seed needs no haves
        send_wire(self, [&](auto& buf) { wire::append_have(buf, piece); });
        self->flush(st.hdl);
      }
      if (st.handshake_done && !seed_to_seed(self))
        update_interest(self);
    },
    [self](cancel_atom, const block_ref& b) {
      // endgame: the block arrived from another peer
      auto& st = self->state;
      auto it = std::find_if(st.outstanding.begin(), st.outstanding.end(),
                             [&](const auto& r) { return r.block == b; });
      if (it == st.outstanding.end())
        return;
      st.outstanding.erase(it);
      if (st.recently_cancelled.size() < max_recently_cancelled)
        st.recently_cancelled.push_back(b);
      send_wire(self, [&](auto& buf) { wire::append_cancel(buf, b.piece, b.offset, b.length); });
      self->flush(st.hdl);
      refill(self);
    },
  };
}

// What the remote may send in every protocol state after the handshake.
caf::message_handler wire_common(peer_broker* self) {
  return {
    [self](w_have_atom, std::uint32_t piece) {
      auto& st = self->state;
      if (piece >= st.cfg.num_pieces)
        return close_connection(self, "have for piece " + std::to_string(piece) + " of "
                                        + std::to_string(st.cfg.num_pieces));
      if (st.remote_has.test(piece))
        return;
      st.remote_has.set(piece);
      st.remote_seed = st.remote_has.all();
      if (seed_to_seed(self))
        return;
      self->send(st.cfg.picker, have_atom_v, st.cfg.index, piece);
      update_interest(self);
    },
    [self](w_bitfield_atom, const std::vector<char>& raw) {
      auto& st = self->state;
      auto bf = bitfield::from_wire({reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()},
                                    st.cfg.num_pieces);
      if (!bf)
        return close_connection(self, "bad bitfield: " + bf.error().message);
      st.remote_has = std::move(*bf);
      st.remote_seed = st.remote_has.all();
      if (seed_to_seed(self))
        return;
      self->send(st.cfg.picker, bitfield_atom_v, st.cfg.index, to_bools(st.remote_has));
      update_interest(self);
    },
    [self](w_have_all_atom) {
      auto& st = self->state;
      if (!st.fast)
        return close_connection(self, "have all without the fast extension");
      st.remote_has.set_all();
      st.remote_seed = true;
      if (seed_to_seed(self))
        return;
      self->send(st.cfg.picker, bitfield_atom_v, st.cfg.index, std::vector<bool>(st.cfg.num_pieces, true));
      update_interest(self);
    },
    [self](w_have_none_atom) {
      if (!self->state.fast)
        return close_connection(self, "have none without the fast extension");
    },
    [self](w_allowed_fast_atom, std::uint32_t piece) {
      auto& st = self->state;
      if (!st.fast)
        return close_connection(self, "allowed fast without the fast extension");
      if (piece >= st.cfg.num_pieces)
        return close_connection(self, "allowed fast for piece " + std::to_string(piece));
    },
    [self](w_reject_atom, const block_ref& b) {
      auto& st = self->state;
      if (!st.fast)
        return close_connection(self, "reject without the fast extension");
      auto it = std::find_if(st.outstanding.begin(), st.outstanding.end(),
                             [&](const auto& r) { return r.block == b; });
      if (it == st.outstanding.end())
        return; // BEP 6: rejecting something we did not ask for is harmless
      st.outstanding.erase(it);
      self->send(st.cfg.picker, cancel_atom_v, st.cfg.index, std::vector<block_ref>{b});
    },
    [self](w_piece_atom, block_data& bd) {
      auto& st = self->state;
      block_ref ref{bd.piece, bd.offset, static_cast<std::uint32_t>(bd.bytes.size())};
      if (!valid_block(st, ref))
        return close_connection(self, "invalid block (" + describe(ref) + ")");
      on_piece(self, bd);
    },
  };
}

// State: we are choked by the remote. Blocks requested before the choke may
// still arrive (handled by `wire_common`); nothing new is requested.
caf::behavior choked(peer_broker* self) {
  caf::message_handler here{
    [self](w_unchoke_atom) {
      self->state.unchoked = true;
      enter(self, downloading(self), "downloading");
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
      auto& st = self->state;
      st.unchoked = false;
      // without the fast extension a choke discards all our requests
      give_back_outstanding(self, false);
      enter(self, choked(self), "choked");
    },
    [](w_unchoke_atom) {
      // already unchoked
    },
  };
  return here.or_else(wire_common(self));
}

caf::behavior choking(peer_broker* self);
caf::behavior serving(peer_broker* self);

// What the remote may send in both upload states: its interest.
caf::message_handler upload_common(peer_broker* self) {
  auto set_interest = [self](bool on) {
    auto& st = self->state;
    if (st.peer_interested == on)
      return;
    st.peer_interested = on;
    self->send(st.cfg.torrent, interest_atom_v, st.cfg.index, on);
  };
  return {
    [set_interest](w_interested_atom) { set_interest(true); },
    [set_interest](w_uninterested_atom) { set_interest(false); },
  };
}

// Upload state: we choke the remote. Requests are not served: with the fast
// extension each gets a reject, without it they are ignored (BEP 3); a peer
// that keeps requesting far beyond what it could have had in flight when we
// choked it is dropped.
caf::behavior choking(peer_broker* self) {
  caf::message_handler here{
    [self](unchoke_atom) {
      auto& st = self->state;
      st.am_choking = false;
      st.ignored_requests = 0;
      send_wire(self, [](auto& buf) { wire::append_unchoke(buf); });
      self->flush(st.hdl);
      enter_upload(self, serving(self), "serving");
    },
    [](choke_atom) {
      // already choked
    },
    [self](w_request_atom, const block_ref& b) {
      auto& st = self->state;
      if (!valid_block(st, b) || b.length > st.cfg.max_request_length)
        return close_connection(self, "invalid request (" + describe(b) + ")");
      if (++st.ignored_requests > st.cfg.max_queued_requests)
        return close_connection(self, "more than " + std::to_string(st.cfg.max_queued_requests)
                                        + " requests while choked");
      if (st.fast)
        send_reject(self, b);
    },
    [](w_cancel_atom, const block_ref&) {
      // nothing is queued while choked
    },
  };
  return here.or_else(upload_common(self));
}

// Upload state: the remote is unchoked; its requests are checked, queued and
// served in order.
caf::behavior serving(peer_broker* self) {
  caf::message_handler here{
    [self](choke_atom) {
      auto& st = self->state;
      st.am_choking = true;
      drop_upload_requests(self);
      send_wire(self, [](auto& buf) { wire::append_choke(buf); });
      self->flush(st.hdl);
      enter_upload(self, choking(self), "choking");
    },
    [](unchoke_atom) {
      // already unchoked
    },
    [self](w_request_atom, const block_ref& b) {
      auto& st = self->state;
      if (!valid_block(st, b) || b.length > st.cfg.max_request_length)
        return close_connection(self, "invalid request (" + describe(b) + ")");
      if (!st.we_have.test(b.piece))
        return close_connection(self, "request for piece " + std::to_string(b.piece) + " we do not have");
      if (pending_requests(st) >= st.cfg.max_queued_requests)
        return close_connection(self, "more than " + std::to_string(st.cfg.max_queued_requests)
                                        + " queued requests");
      st.upload_queue.push_back(b);
      if (st.parsing)
        st.pump_after_parse = true; // the chunk's other requests join the same disk read
      else
        pump_uploads(self);
    },
    [self](w_cancel_atom, const block_ref& b) {
      auto& st = self->state;
      bool found = false;
      if (auto it = std::find(st.upload_queue.begin(), st.upload_queue.end(), b); it != st.upload_queue.end()) {
        st.upload_queue.erase(it);
        found = true;
      } else {
        for (auto& r : st.upload_reads)
          if (r.block == b && !r.cancelled) {
            r.cancelled = true;
            found = true;
            break;
          }
      }
      // BEP 6: a cancelled request is answered with the block or a reject
      if (found && st.fast)
        send_reject(self, b);
    },
  };
  return here.or_else(upload_common(self));
}

// State: waiting for the remote handshake (ours is already sent).
caf::behavior handshaking(peer_broker* self) {
  caf::message_handler here{
    [self](w_handshake_atom, const sha1_hash& info_hash, const sha1_hash& peer_id, bool fast) {
      auto& st = self->state;
      if (info_hash != st.cfg.info_hash)
        return close_connection(self, "handshake for another torrent (" + info_hash.hex() + ")");
      if (peer_id == st.cfg.our_peer_id)
        return close_connection(self, "connected to ourselves");
      st.remote_id = peer_id;
      st.fast = fast;
      st.handshake_done = true;
      self->send(st.cfg.torrent, connected_atom_v, st.cfg.index, peer_id);
      self->send(st.cfg.picker, caf::join_atom_v, st.cfg.index, me(self));
      st.joined_picker = true;
      // our pieces: a bitfield, or have none / have all with the fast extension
      if (st.we_have.none() && st.fast)
        send_wire(self, [](auto& buf) { wire::append_have_none(buf); });
      else if (st.we_have.all() && st.fast)
        send_wire(self, [](auto& buf) { wire::append_have_all(buf); });
      else if (!st.we_have.none())
        send_wire(self, [&](auto& buf) { wire::append_bitfield(buf, st.we_have.bytes()); });
      self->flush(st.hdl);
      enter(self, choked(self), "choked");
    },
  };
  return here; // nothing else can come before the handshake
}

} // namespace

caf::behavior peer_connection(peer_broker* self, caf::io::connection_handle hdl, peer_config cfg) {
  auto& st = self->state;
  st.hdl = hdl;
  st.cfg = std::move(cfg);
  st.queue_depth = st.cfg.initial_queue_depth;
  st.remote_has = bitfield(st.cfg.num_pieces);
  st.we_have = bitfield(st.cfg.num_pieces);
  for (std::size_t i = 0; i < st.cfg.we_have.size() && i < st.cfg.num_pieces; ++i)
    if (st.cfg.we_have[i])
      st.we_have.set(i);
  st.cfg.we_have.clear();
  wire::limits lim;
  lim.max_block_length = st.cfg.max_block_length;
  lim.max_message_length = std::max<std::size_t>(lim.max_message_length, bitfield::bytes_for(st.cfg.num_pieces) + 1);
  st.decoder = wire::decoder{wire::decoder::mode::handshake, lim};
  st.started = st.last_received = st.last_sent = st.last_block = st.last_write_progress = clock_type::now();
  st.wire_state = handshaking(self);
  st.state_name = "handshaking";
  st.upload_state = choking(self);
  st.upload_state_name = "choking";
  self->delayed_send(self, 1s, tick_atom_v);
  if (st.cfg.incoming)
    self->send(self, start_atom_v); // the listener moves the socket in after this function
  else
    start_wire(self);
  return mailbox(self);
}

caf::actor spawn_peer_connection(caf::actor_system& sys, int fd, peer_config cfg) {
  return sys.middleman().spawn_broker(
    [](peer_broker* self, int sock, peer_config c) -> caf::behavior {
      auto hdl = self->add_scribe(sock);
      return peer_connection(self, hdl, std::move(c));
    },
    fd, std::move(cfg));
}

caf::actor fork_peer_connection(caf::io::broker* owner, caf::io::connection_handle hdl, peer_config cfg) {
  cfg.incoming = true;
  return owner->fork(
    [](peer_broker* self, caf::io::connection_handle h, peer_config c) -> caf::behavior {
      return peer_connection(self, h, std::move(c));
    },
    hdl, std::move(cfg));
}

} // namespace actorrent
