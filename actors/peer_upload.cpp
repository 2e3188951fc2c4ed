#include "actors/peer_connection.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "net/quiet_sendfile.hpp"
#include "storage/mapped_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <sys/socket.h>
#include <sys/uio.h>

namespace actorrent {

const char* to_string(upload_phase p) {
  return p == upload_phase::choking ? "choking" : "serving";
}

namespace peer_upload {

namespace {

using namespace peer_wire;

caf::behavior serving(peer_broker* self);

// Copies a block, from `skip` bytes into its message (header and bytes), into
// CAF's write buffer (not flushed). False if the bytes could not be read (a
// mapped file cut short behind our back).
bool copy_block(peer_broker* self, const block_ref& b, const block_view& data, std::size_t skip) {
  auto& st = self->state;
  auto& out = self->wr_buf(st.hdl);
  const auto before = out.size();
  auto h = wire::piece_header(b.piece, b.offset, b.length);
  if (skip < h.size()) {
    out.insert(out.end(), h.begin() + static_cast<std::ptrdiff_t>(skip), h.end());
    skip = 0;
  } else {
    skip -= h.size();
  }
  const auto n = data.length - skip;
  if (data.mapped != nullptr) {
    const auto at = out.size();
    out.resize(at + n);
    if (!storage::copy_mapped(out.data() + at, data.data() + skip, n)) {
      out.resize(before);
      return false;
    }
  } else {
    out.insert(out.end(), data.data() + skip, data.data() + data.length);
  }
  if (st.faults && skip == 0) // lab: wire faults (they turn the direct path off, so whole blocks come here)
    wire_fault::on_block_out(self, b, out, before + h.size());
  auto& u = st.up;
  u.caf_busy = true;
  if (u.out_queued == 0)
    u.last_write_progress = now(self); // the send timeout runs from here
  u.out_queued += out.size() - before;
  u.copied_bytes += n;
  return true;
}

// The socket, if writes may go to it directly: a stream socket of the default
// multiplexer (whose handle id is the descriptor), and not turned off.
int direct_socket(peer_broker* self) {
  auto& st = self->state;
  if (!st.cfg.direct_writes || st.faults) // wire faults change the bytes in CAF's buffer
    return -1;
  int fd = static_cast<int>(st.hdl.id());
  int type = 0;
  socklen_t len = sizeof(type);
  if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    return -1;
  return fd;
}

// On the direct path, a block served from a file mapping goes out by sendfile
// from its file after its header (send with MSG_MORE): the kernel takes the
// page-cache pages, so neither the copy from the mapping into the socket nor
// the page-table work of touching the mapping is paid (8 leechers: seeder
// CPU 2.26 -> 1.81 s, bench/RESULTS.md issue 15). ACTORRENT_SENDFILE=0 turns
// it off (one sendmsg of many blocks from the mappings, as before), for
// side-by-side measurements. Read once.
bool sendfile_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("ACTORRENT_SENDFILE");
    return v == nullptr || v[0] != '0';
  }();
  return on;
}

void pop_read(upload_state& u) {
  u.read_bytes -= u.reads.front().block.length;
  u.reads.pop_front();
}

// Writes the blocks that are ready, in request order: directly (one sendmsg
// of many blocks) while CAF's buffer is empty, else through it.
void write_ready(peer_broker* self) {
  auto& st = self->state;
  auto& u = st.up;
  if (u.direct_fd == -2 || (st.faults && u.direct_fd >= 0)) // faults turned on at run time end the direct path
    u.direct_fd = direct_socket(self);
  bool copied = false;
  auto t = now(self);
  auto copy_front = [&](std::size_t skip) {
    auto& r = u.reads.front();
    if (!copy_block(self, r.block, *r.data, skip)) {
      close(self, "cannot read " + describe(r.block) + " to upload: its file was cut short");
      return false;
    }
    u.meter.add(r.block.length);
    st.proto_out += wire::piece_header_size;
    st.last_sent = t;
    pop_read(u);
    copied = true;
    return true;
  };
  constexpr std::size_t max_blocks = 64;
  while (!st.closing) {
    while (!u.reads.empty() && u.reads.front().data && u.reads.front().cancelled)
      pop_read(u);
    if (u.reads.empty() || !u.reads.front().data)
      break;
    if (u.direct_fd < 0) {
      if (!copy_front(0))
        return;
      continue;
    }
    if (u.caf_busy || !self->wr_buf(st.hdl).empty())
      break; // on_written comes back once CAF has written its part
    if (sendfile_enabled() && u.reads.front().data->mapped != nullptr) {
      auto& r = u.reads.front();
      auto m = std::static_pointer_cast<const storage::file_mapping>(r.data->mapping);
      if (m && m->fd() >= 0) {
        auto h = wire::piece_header(r.block.piece, r.block.offset, r.block.length);
        ssize_t w = -1;
        do
          w = ::send(u.direct_fd, h.data(), h.size(), MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
          return close(self, std::string{"cannot write to the peer: "} + std::strerror(errno));
        std::size_t sent = static_cast<std::size_t>(std::max<ssize_t>(w, 0));
        if (sent == h.size()) {
          off_t off = static_cast<off_t>(r.data->mapped - m->data());
          // not ::sendfile: it has no MSG_NOSIGNAL, and a peer that hangs up would raise SIGPIPE
          ssize_t f = net::quiet_sendfile(u.direct_fd, m->fd(), &off, r.data->length);
          if (f < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return close(self, "cannot upload " + describe(r.block) + ": " + std::strerror(errno));
          sent += static_cast<std::size_t>(std::max<ssize_t>(f, 0));
        }
        u.direct_bytes += sent;
        if (sent > 0) {
          u.last_write_progress = t;
          st.last_sent = t;
        }
        if (sent == h.size() + r.data->length) {
          u.meter.add(r.block.length);
          st.proto_out += wire::piece_header_size;
          pop_read(u);
          continue;
        }
        copy_front(sent); // the socket is full: the rest through CAF
        break;
      }
    }
    std::array<std::array<std::uint8_t, wire::piece_header_size>, max_blocks> headers;
    std::array<iovec, 2 * max_blocks> iov;
    std::size_t n = 0;
    std::size_t total = 0;
    for (auto it = u.reads.begin(); it != u.reads.end() && it->data && !it->cancelled && n < max_blocks; ++it) {
      headers[n] = wire::piece_header(it->block.piece, it->block.offset, it->block.length);
      iov[2 * n] = {headers[n].data(), headers[n].size()};
      iov[2 * n + 1] = {const_cast<char*>(it->data->data()), it->data->length};
      total += headers[n].size() + it->data->length;
      ++n;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = 2 * n;
    ssize_t w = -1;
    do
      w = ::sendmsg(u.direct_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      int e = errno;
      if (e == EFAULT)
        return close(self, "cannot read a block to upload: its file was cut short");
      return close(self, std::string{"cannot write to the peer: "} + std::strerror(e));
    }
    auto done = static_cast<std::size_t>(std::max<ssize_t>(w, 0));
    u.direct_bytes += done;
    if (done > 0) {
      u.last_write_progress = t;
      st.last_sent = t;
    }
    while (done > 0) {
      auto whole = wire::piece_header_size + u.reads.front().block.length;
      if (done < whole) {
        copy_front(done); // the rest of a block cut short
        done = 0;
        break;
      }
      done -= whole;
      u.meter.add(u.reads.front().block.length);
      st.proto_out += wire::piece_header_size;
      pop_read(u);
    }
    if (copied || st.closing)
      break;
    if (static_cast<std::size_t>(std::max<ssize_t>(w, 0)) < total) {
      // the socket is full: one block through CAF, whose write-ready event
      // and report tell us when there is room again
      copy_front(0);
      break;
    }
  }
  if (copied && !st.closing)
    self->flush(st.hdl);
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
    if (!d.valid() || d.length != it->block.length)
      return close(self, "short read of " + describe(it->block));
    it->data = std::move(d);
    ++it;
  }
  write_ready(self);
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
  if (remaining == 0) {
    u.caf_busy = false; // CAF's buffer is empty: direct writes may go on
    if (!self->state.closing)
      write_ready(self);
  }
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
