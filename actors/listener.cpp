#include "actors/listener.hpp"

#include "actors/peer_connection.hpp"

#include "protocol/wire.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cstring>

namespace actorrent {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// 1 length byte, "BitTorrent protocol", 8 reserved bytes, then the info-hash.
constexpr std::size_t info_hash_end = 1 + 19 + 8 + 20;
constexpr std::size_t max_preread = 64 * 1024;
constexpr char protocol_name[] = "BitTorrent protocol";

void refuse(listener_broker* self, caf::io::connection_handle hdl) {
  ++self->state.refused;
  self->state.pending.erase(hdl);
  self->close(hdl);
}

// The remote address as a peer endpoint; IPv4 peers reaching a dual-stack
// socket show up as "::ffff:a.b.c.d" and are mapped back to IPv4.
std::optional<peer_endpoint> remote_endpoint(listener_broker* self, caf::io::connection_handle hdl) {
  auto addr = self->remote_addr(hdl);
  auto port = self->remote_port(hdl);
  constexpr std::string_view mapped = "::ffff:";
  if (addr.size() > mapped.size() && addr.compare(0, mapped.size(), mapped) == 0)
    if (auto v4 = peer_endpoint::from_ip(std::string_view{addr}.substr(mapped.size()), port))
      return v4;
  return peer_endpoint::from_ip(addr, port);
}

void attach(listener_broker* self, const sha1_hash& info_hash, torrent_actor torrent) {
  self->monitor(torrent);
  self->state.routes[info_hash] = std::move(torrent);
}

void ask_torrent(listener_broker* self, caf::io::connection_handle hdl, const sha1_hash& ih, torrent_actor torrent,
                 const peer_endpoint& ep);

// Enough of the handshake is in: find the torrent and ask it. No torrent
// attached for the info-hash: the waker (the daemon's session) may have it
// asleep, and spawns it again.
void route_connection(listener_broker* self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  auto& p = st.pending[hdl];
  const auto& b = p.bytes;
  if (b[0] != 19 || std::memcmp(b.data() + 1, protocol_name, 19) != 0)
    return refuse(self, hdl); // not BitTorrent, or an encrypted handshake
  sha1_hash ih;
  std::memcpy(ih.bytes.data(), b.data() + 28, 20);
  auto route = st.routes.find(ih);
  auto ep = remote_endpoint(self, hdl);
  if (!ep || (route == st.routes.end() && !st.waker))
    return refuse(self, hdl);
  p.asked = true;
  if (route != st.routes.end())
    return ask_torrent(self, hdl, ih, route->second, *ep);
  self->request(st.waker, 5s, wake_atom_v, ih)
    .then(
      [self, hdl, ih, ep = *ep](torrent_actor& torrent) {
        if (self->state.pending.count(hdl) == 0)
          return; // closed meanwhile
        if (self->state.routes.count(ih) == 0) // its own attach may still be on the way
          attach(self, ih, torrent);
        ask_torrent(self, hdl, ih, std::move(torrent), ep);
      },
      [self, hdl](caf::error&) {
        if (self->state.pending.count(hdl) != 0)
          refuse(self, hdl); // no such torrent
      });
}

void ask_torrent(listener_broker* self, caf::io::connection_handle hdl, const sha1_hash& ih, torrent_actor torrent,
                 const peer_endpoint& ep) {
  self->request(torrent, 10s, incoming_atom_v, ep)
    .then(
      [self, hdl, ih, torrent](peer_config& cfg) {
        auto& st = self->state;
        auto it = st.pending.find(hdl);
        auto route = st.routes.find(ih);
        if (it == st.pending.end() || route == st.routes.end()) {
          // the connection closed (or the torrent detached) meanwhile
          self->send(torrent, peer_failed_atom_v, cfg.index,
                     std::string{"incoming connection closed during the handshake"});
          if (it != st.pending.end())
            refuse(self, hdl);
          return;
        }
        auto idx = cfg.index;
        cfg.preread = std::move(it->second.bytes);
        st.pending.erase(it);
        ++st.accepted;
        cfg.incoming = true;
        // cfg goes in as an lvalue: CAF 0.17's typed_broker::fork forwards its
        // arguments twice (to an init function it then discards, and to
        // spawn_functor), so an rvalue would reach the new broker moved-from.
        peer_actor peer = self->fork(peer_connection, hdl, cfg);
        self->send(torrent, adopt_atom_v, idx, std::move(peer));
      },
      [self, hdl](caf::error&) {
        if (self->state.pending.count(hdl) != 0)
          refuse(self, hdl); // refused by the torrent (limits, banned, stopping) or no answer
      });
}

// What the listener is doing, for status_atom.
actor_status status_of(const listener_state& st) {
  return {listener_state::name, st.bind_error ? "failed" : "listening",
          {{"port", std::to_string(st.port)},
           {"pending", std::to_string(st.pending.size())},
           {"torrents", std::to_string(st.routes.size())},
           {"accepted", std::to_string(st.accepted)},
           {"refused", std::to_string(st.refused)}}};
}

void on_accept(listener_broker* self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  if (st.pending.size() >= st.cfg.max_pending) {
    ++st.refused;
    self->close(hdl);
    return;
  }
  st.pending[hdl].since = clock_type::now();
  self->configure_read(hdl, caf::io::receive_policy::at_most(max_preread));
}

void on_data(listener_broker* self, caf::io::new_data_msg& msg) {
  auto& st = self->state;
  auto it = st.pending.find(msg.handle);
  if (it == st.pending.end())
    return;
  auto& p = it->second;
  if (p.bytes.size() + msg.buf.size() > max_preread)
    return refuse(self, msg.handle); // far more than a handshake before we answered
  p.bytes.insert(p.bytes.end(), msg.buf.begin(), msg.buf.end());
  if (!p.asked && p.bytes.size() >= info_hash_end)
    route_connection(self, msg.handle);
  else if (!p.asked && !p.bytes.empty() && p.bytes[0] != 19)
    refuse(self, msg.handle);
}

void expire_handshakes(listener_broker* self) {
  auto& st = self->state;
  auto now = clock_type::now();
  std::vector<caf::io::connection_handle> expired;
  for (auto& [hdl, p] : st.pending)
    if (!p.asked && now - p.since > st.cfg.handshake_timeout)
      expired.push_back(hdl);
  for (auto hdl : expired)
    refuse(self, hdl);
}

} // namespace

listener_impl_actor::behavior_type listener(listener_broker* self, listener_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  auto bind = st.cfg.bind_address.empty() ? nullptr : st.cfg.bind_address.c_str();
  if (auto doorman = self->add_tcp_doorman(st.cfg.port, bind, true)) {
    st.port = doorman->second;
    self->delayed_send(caf::actor_cast<listener_impl_actor>(self), 1s, tick_atom_v);
  } else {
    // Quitting here, in the initialization, leaves spawn_listener's request
    // unanswered until its 5 s timeout (seen with CAF 0.17: "cannot listen on
    // port N: system_error(request_timeout)"). Answer it with the bind error.
    st.bind_error = std::move(doorman.error());
  }
  self->set_down_handler([self](const caf::down_msg& dm) { // an attached torrent is gone
    auto& routes = self->state.routes;
    for (auto it = routes.begin(); it != routes.end();)
      it = it->second.address() == dm.source ? routes.erase(it) : std::next(it);
  });
  return {
    [self](caf::io::new_connection_msg& msg) { on_accept(self, msg.handle); },
    [self](caf::io::new_data_msg& msg) { on_data(self, msg); },
    [self](caf::io::connection_closed_msg& msg) {
      self->state.pending.erase(msg.handle); // a pending answer sees it gone
    },
    [self](caf::io::acceptor_closed_msg&) {
      self->quit(caf::make_error(caf::sec::runtime_error, "listening socket closed"));
    },
    [self](tick_atom) {
      expire_handshakes(self);
      self->delayed_send(caf::actor_cast<listener_impl_actor>(self), 1s, tick_atom_v);
    },
    [self](attach_atom, const sha1_hash& info_hash, torrent_actor& torrent) {
      attach(self, info_hash, std::move(torrent));
    },
    [self](detach_atom, const sha1_hash& info_hash) { self->state.routes.erase(info_hash); },
    [self](wake_atom, waker_actor& waker) { self->state.waker = std::move(waker); },
    [self](caf::get_atom) -> caf::result<std::uint16_t> {
      auto& st = self->state;
      if (st.bind_error) {
        self->quit(st.bind_error);
        return st.bind_error;
      }
      return st.port;
    },
    [self](status_atom) {
      auto s = status_of(self->state);
      s.values["mailbox"] = std::to_string(self->mailbox().size());
      return s;
    },
  };
}

caf::expected<listener_actor> spawn_listener(caf::actor_system& sys, listener_config cfg) {
  listener_actor hdl = sys.middleman().spawn_broker(listener, std::move(cfg));
  caf::scoped_actor self{sys};
  caf::expected<listener_actor> result{caf::sec::runtime_error};
  self->request(hdl, 5s, caf::get_atom_v)
    .receive([&](std::uint16_t) { result = hdl; },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace actorrent
