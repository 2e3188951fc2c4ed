#include "actors/torrent.hpp"

#include "actors/connector.hpp"
#include "actors/disk_store.hpp"
#include "actors/peer_connection.hpp"
#include "actors/piece_picker_actor.hpp"
#include "actors/tracker_announcer.hpp"
#include "protocol/peer_id.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>
#include <cstdio>

namespace actorrent {

namespace {

using clock_type = caf::actor_clock::clock_type; // std::chrono::steady_clock
using namespace std::chrono_literals;
using self_ptr = torrent_actor::stateful_pointer<torrent_state>;

// The time by the actor system's clock: the steady clock in a real run, the
// test coordinator's in deterministic tests (so they move time forward
// rather than waiting for it).
clock_type::time_point now(self_ptr self) { return self->clock().now(); }

// Notable events (connections closed and why, bans, hash failures) go to
// stderr when the torrent is verbose; nothing is kept.
void note(self_ptr self, const std::string& msg) {
  if (self->state.cfg.verbose)
    std::fprintf(stderr, "actorrent: %s: %s\n", self->state.cfg.torrent->name.c_str(), msg.c_str());
}

transfer_totals totals(self_ptr self) {
  auto& st = self->state;
  transfer_totals t;
  t.downloaded = st.downloaded_closed;
  t.uploaded = st.uploaded_closed;
  for (auto& [idx, p] : st.peers) {
    t.downloaded += p.report.downloaded;
    t.uploaded += p.report.uploaded;
  }
  t.left = st.cfg.torrent->total_size - st.have_bytes;
  return t;
}

std::uint32_t connected_count(const torrent_state& st) {
  return static_cast<std::uint32_t>(st.peers.size());
}

void connect_to(self_ptr self, const peer_endpoint& ep) {
  auto& st = self->state;
  auto idx = st.next_index++;
  st.known[ep].connected = true;
  st.endpoints.emplace(idx, ep);
  torrent_state::peer_entry entry;
  entry.endpoint = ep;
  st.peers.emplace(idx, std::move(entry));
  ++st.half_open;
  spawn_connector(self->system(), ep, st.cfg.connect_timeout, torrent_actor{self}, idx, st.cancel_connects);
}

// Dials candidates while below the connection limits.
void maybe_connect(self_ptr self) {
  auto& st = self->state;
  if (st.stopping || (st.complete && !st.cfg.seed) || !st.checked)
    return;
  auto now = actorrent::now(self);
  for (auto& [ep, c] : st.known) {
    if (connected_count(st) >= st.cfg.max_peers || st.half_open >= st.cfg.max_half_open)
      break;
    if (c.connected || c.next_attempt > now || st.banned.count(ep) != 0)
      continue;
    connect_to(self, ep);
  }
  // running low on peers: ask the trackers early (the announcer honours min interval)
  if (st.cfg.use_trackers && connected_count(st) < st.cfg.max_peers / 2 && now - st.last_announce_request > 30s) {
    st.last_announce_request = now;
    self->send(st.announcer, announce_atom_v, announce_event::none, totals(self));
  }
}

void add_candidates(self_ptr self, const std::vector<peer_endpoint>& eps) {
  auto& st = self->state;
  for (auto& ep : eps)
    if (ep.port != 0 && st.banned.count(ep) == 0)
      st.known.try_emplace(ep);
  maybe_connect(self);
}

// A candidate becomes available again after a back-off that grows with failures.
void back_off(self_ptr self, const peer_endpoint& ep) {
  auto it = self->state.known.find(ep);
  if (it == self->state.known.end())
    return;
  auto& c = it->second;
  c.connected = false;
  ++c.failures;
  auto delay = std::min<std::chrono::seconds>(std::chrono::seconds{5} * (1u << std::min(c.failures, 6u)), 300s);
  c.next_attempt = now(self) + delay;
}

// Ends the torrent and everything it supervises: its peer brokers (which
// their sockets would otherwise keep alive), disk store, picker and announcer.
// Nothing of it may outlive the torrent, or the actor system never shuts down.
void terminate(self_ptr self, caf::error reason) {
  auto& st = self->state;
  auto why = reason ? reason : caf::error{caf::exit_reason::user_shutdown};
  st.cancel_connects->store(true);
  for (auto& [idx, p] : st.peers)
    if (p.handle)
      self->send_exit(p.handle, why);
  if (st.announcer)
    self->send_exit(st.announcer, why);
  self->send_exit(st.picker, why);
  self->send_exit(st.disk, why);
  self->quit(std::move(reason));
}

void ban(self_ptr self, peer_index idx, const std::string& why) {
  auto& st = self->state;
  auto ep = st.endpoints.find(idx); // also for peers that are gone already
  if (ep == st.endpoints.end())
    return;
  st.banned.insert(ep->second);
  note(self, "banned " + ep->second.to_string() + ": " + why);
  if (auto it = st.peers.find(idx); it != st.peers.end() && it->second.handle)
    caf::anon_send(it->second.handle, drop_atom_v, "banned: " + why);
}

// Carries out what the blame tracker decided about a piece.
void apply(self_ptr self, std::uint32_t piece, const logic::blame_tracker::decision& d) {
  for (auto p : d.ban)
    ban(self, p, "sent corrupt data (piece " + std::to_string(piece) + ")");
  if (d.pin)
    self->send(self->state.picker, pin_atom_v, piece, *d.pin);
}

// Rewrites the resume data if pieces were added since the last write (or
// always, with `force`); `sync` flushes the files first.
void save_resume(self_ptr self, bool force, bool sync) {
  auto& st = self->state;
  if (st.cfg.resume_file.empty() || !st.checked || st.resume_pending)
    return;
  if (!force && st.pieces_have == st.pieces_saved)
    return;
  st.resume_pending = true;
  auto pieces = st.pieces_have;
  self->request(st.disk, std::chrono::seconds{30}, resume_atom_v, st.have, totals(self), sync)
    .then(
      [self, pieces](bool) {
        self->state.resume_pending = false;
        self->state.pieces_saved = pieces;
      },
      [self](caf::error& err) {
        self->state.resume_pending = false;
        note(self, "cannot write resume data: " + self->system().render(err));
      });
}

// Takes an incoming peer (the listener then hands its connection over), or
// says why not.
caf::expected<peer_index> accept_incoming(self_ptr self, const peer_endpoint& ep) {
  auto& st = self->state;
  if (st.stopping)
    return caf::make_error(caf::sec::request_receiver_down, "not accepting peers now");
  if (connected_count(st) >= st.cfg.max_peers)
    return caf::make_error(caf::sec::request_receiver_down, "peer limit reached");
  // bans are by address for incoming peers: their port is not the one they listen on
  for (auto& b : st.banned)
    if (b.addr == ep.addr && b.v6 == ep.v6)
      return caf::make_error(caf::sec::request_receiver_down, "banned");
  auto idx = st.next_index++;
  st.endpoints.emplace(idx, ep);
  torrent_state::peer_entry entry;
  entry.endpoint = ep;
  entry.incoming = true;
  entry.since = now(self);
  st.peers.emplace(idx, std::move(entry));
  return idx;
}

// Peers that connected while the data was being checked.
void answer_deferred_incoming(self_ptr self) {
  auto deferred = std::move(self->state.deferred_incoming);
  self->state.deferred_incoming.clear();
  for (auto& [ep, rp] : deferred) {
    if (auto idx = accept_incoming(self, ep))
      rp.deliver(*idx, self->state.have);
    else
      rp.deliver(std::move(idx.error()));
  }
}

// Every piece is verified: flush, then announce `completed` if we downloaded
// something in this session (a seeder that starts complete announces
// `started` with nothing left instead).
void finish(self_ptr self, bool downloaded_now = true) {
  auto& st = self->state;
  // files that still need creating (empty ones), then everything synced
  self->request(st.disk, caf::infinite, flush_atom_v)
    .then(
      [self, downloaded_now](bool) {
        auto& st = self->state;
        st.complete = true;
        save_resume(self, true, false); // the files were just synced
        note(self, downloaded_now ? "download complete" : "all pieces present");
        if (st.cfg.use_trackers && downloaded_now)
          self->send(st.announcer, announce_atom_v, announce_event::completed, totals(self));
        // a finished leecher that does not seed has no use for its peers; a
        // seeder keeps them (the connections close seed-to-seed links)
        if (!st.cfg.seed)
          for (auto& [idx, p] : st.peers)
            if (p.handle)
              caf::anon_send(p.handle, drop_atom_v, "download complete");
      },
      [self](caf::error& err) {
        note(self, "flush failed: " + self->system().render(err));
        terminate(self, err);
      });
}

// What every peer connection of this torrent shares; the index and our pieces
// are filled in per connection.
peer_config peer_template(self_ptr self) {
  auto& st = self->state;
  auto& mi = *st.cfg.torrent;
  peer_config pc;
  pc.info_hash = mi.info_hash;
  pc.our_peer_id = st.cfg.peer_id;
  pc.num_pieces = static_cast<std::uint32_t>(mi.num_pieces());
  pc.piece_length = mi.piece_length;
  pc.total_size = mi.total_size;
  pc.torrent = torrent_actor{self};
  pc.picker = st.picker;
  pc.disk = st.disk;
  pc.abortive_close = true;
  return pc;
}

logic::choker_peer to_choker_peer(peer_index idx, const torrent_state::peer_entry& p) {
  logic::choker_peer c;
  c.id = idx;
  c.interested = p.report.interested;
  c.is_seed = p.report.is_seed;
  c.snubbed = p.report.snubbed;
  c.down_rate = p.report.down_rate;
  c.up_rate = p.report.up_rate;
  c.uploaded = p.report.uploaded;
  c.connected_at = p.since;
  return c;
}

std::vector<logic::choker_peer> choker_view(self_ptr self) {
  std::vector<logic::choker_peer> out;
  for (auto& [idx, p] : self->state.peers)
    if (p.handle && p.handshaken)
      out.push_back(to_choker_peer(idx, p));
  return out;
}

// The upload limit is split evenly among the peers the choker unchokes; each
// peer connection enforces its share with a token bucket.
double upload_share(self_ptr self) {
  auto& st = self->state;
  std::size_t n = 0;
  for (auto& [idx, p] : st.peers)
    n += p.handle && p.handshaken && st.choker.is_unchoked(idx) ? 1 : 0;
  return st.cfg.max_upload_rate / static_cast<double>(std::max<std::size_t>(n, 1));
}

void send_rate(self_ptr self, torrent_state::peer_entry& p, double share) {
  if (self->state.cfg.max_upload_rate <= 0 || !p.handle || p.rate_sent == share)
    return;
  p.rate_sent = share;
  caf::anon_send(p.handle, rate_atom_v, share);
}

void update_rates(self_ptr self) {
  auto share = upload_share(self);
  for (auto& [idx, p] : self->state.peers)
    if (p.handshaken)
      send_rate(self, p, share);
}

void send_choke(self_ptr self, peer_index idx, bool unchoke) {
  auto& st = self->state;
  if (auto it = st.peers.find(idx); it != st.peers.end() && it->second.handle) {
    if (unchoke) {
      send_rate(self, it->second, upload_share(self)); // its share of the limit first
      caf::anon_send(it->second.handle, unchoke_atom_v);
    } else {
      caf::anon_send(it->second.handle, choke_atom_v);
    }
  }
}

// A slot came free between rounds (a peer left or lost interest): interested
// peers waiting for one get it now rather than at the next round.
void fill_free_slots(self_ptr self) {
  auto& st = self->state;
  auto now = actorrent::now(self);
  for (auto& [idx, p] : st.peers)
    if (p.handle && p.handshaken && p.report.interested && !st.choker.is_unchoked(idx)
        && st.choker.on_interested(to_choker_peer(idx, p), now))
      send_choke(self, idx, true);
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

void on_verdict(self_ptr self, piece_verdict& v, std::vector<peer_index>& senders) {
  auto& st = self->state;
  auto piece = v.piece;
  auto size = st.cfg.torrent->piece_size(piece);
  if (v.ok) {
    if (piece < st.have.size() && !st.have[piece]) {
      st.have[piece] = true;
      st.have_bytes += size;
      ++st.pieces_have;
    }
    for (auto& [idx, p] : st.peers)
      if (p.handle && p.handshaken)
        caf::anon_send(p.handle, local_have_atom_v, piece);
    // a good copy after a failure: every block that differs names a liar
    apply(self, piece, st.blame.piece_passed(piece, v.block_hashes));
    if (st.pieces_have == st.cfg.torrent->num_pieces() && !st.complete)
      finish(self);
    return;
  }
  ++st.hash_failures;
  st.wasted += size;
  note(self, "piece " + std::to_string(piece) + " failed its hash check");
  apply(self, piece, st.blame.piece_failed(piece, v.block_hashes, senders));
}

} // namespace

torrent_actor::behavior_type torrent(self_ptr self, torrent_config cfg) {
  auto& st = self->state;
  if (cfg.peer_id.is_zero())
    cfg.peer_id = generate_peer_id();
  st.cfg = std::move(cfg);
  st.blame = logic::blame_tracker{st.cfg.max_strikes};
  st.choker = logic::choker{st.cfg.choker};
  auto& mi = *st.cfg.torrent;
  st.have.assign(mi.num_pieces(), false);
  // children: disk store, piece picker, announcer (all monitored)
  disk_config dc;
  dc.torrent = st.cfg.torrent;
  dc.root = st.cfg.download_dir;
  dc.check_threads = st.cfg.check_threads;
  dc.resume_file = st.cfg.resume_file;
  dc.progress = st.check;
  st.disk = self->spawn(disk_store, std::move(dc));
  picker_config pc;
  pc.algo.total_size = mi.total_size;
  pc.algo.piece_length = static_cast<std::uint32_t>(mi.piece_length);
  pc.algo.seed = std::hash<sha1_hash>{}(st.cfg.peer_id);
  pc.disk = st.disk;
  pc.torrent = torrent_actor{self};
  st.picker = self->spawn(piece_picker_actor, pc);
  self->monitor(st.disk);
  self->monitor(st.picker);
  if (st.cfg.use_trackers && !mi.trackers.empty()) {
    announcer_config ac;
    ac.tiers = mi.trackers;
    ac.info_hash = mi.info_hash;
    ac.peer_id = st.cfg.peer_id;
    ac.port = st.cfg.listen_port;
    ac.numwant = static_cast<int>(st.cfg.numwant);
    ac.torrent = torrent_actor{self};
    st.announcer = spawn_announcer(self->system(), ac);
    self->monitor(st.announcer);
  } else {
    st.cfg.use_trackers = false;
  }
  if (st.cfg.listener)
    caf::anon_send(st.cfg.listener, attach_atom_v, mi.info_hash, peer_template(self), torrent_actor{self});
  self->set_exit_handler([self](caf::exit_msg& em) { terminate(self, std::move(em.reason)); });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.disk || dm.source == st.picker) {
      note(self, "internal actor failed: " + self->system().render(dm.reason));
      terminate(self, dm.reason ? dm.reason : caf::make_error(caf::sec::runtime_error, "disk or picker stopped"));
      return;
    }
    if (dm.source == st.announcer) {
      st.use_trackers_failed = true;
      return;
    }
    for (auto it = st.peers.begin(); it != st.peers.end(); ++it) {
      if (it->second.handle && it->second.handle.address() == dm.source) {
        st.downloaded_closed += it->second.report.downloaded;
        st.uploaded_closed += it->second.report.uploaded;
        auto ep = it->second.endpoint;
        bool incoming = it->second.incoming;
        st.choker.forget(it->first);
        self->send(st.picker, left_atom_v, it->first);
        st.peers.erase(it); // releases the strong handle: the broker is down now
        if (!st.stopping)
          fill_free_slots(self);
        if (!incoming)
          back_off(self, ep);
        maybe_connect(self);
        return;
      }
    }
  });
  // check what is already on disk, then start talking to the swarm
  self->request(st.disk, caf::infinite, check_atom_v)
    .then(
      [self](std::vector<bool>& have) {
        auto& st = self->state;
        auto& mi = *st.cfg.torrent;
        for (std::size_t i = 0; i < have.size() && i < st.have.size(); ++i)
          if (have[i]) {
            st.have[i] = true;
            st.have_bytes += mi.piece_size(i);
            ++st.pieces_have;
          }
        self->send(st.picker, check_atom_v, have);
        st.checked = true;
        st.resumed_pieces = st.pieces_have;
        answer_deferred_incoming(self);
        if (st.pieces_have == mi.num_pieces()) {
          finish(self, false);
          if (!st.cfg.seed)
            return;
        }
        if (st.cfg.use_trackers) {
          st.last_announce_request = now(self);
          self->send(st.announcer, announce_atom_v, announce_event::started, totals(self));
        }
        add_candidates(self, st.cfg.initial_peers);
      },
      [self](caf::error& err) { terminate(self, err); });
  self->delayed_send(self, 1s, tick_atom_v);
  return {
    [self](progress_atom) {
      auto& st = self->state;
      torrent_status s;
      s.listen_port = st.cfg.listen_port;
      s.total_size = st.cfg.torrent->total_size;
      s.have_bytes = st.have_bytes;
      s.pieces_have = st.pieces_have;
      s.pieces_total = static_cast<std::uint32_t>(st.cfg.torrent->num_pieces());
      auto t = totals(self);
      s.downloaded = t.downloaded;
      s.uploaded = t.uploaded;
      s.wasted = st.wasted;
      s.hash_failures = st.hash_failures;
      s.banned = static_cast<std::uint32_t>(st.banned.size());
      for (auto& [idx, p] : st.peers) {
        if (!p.handshaken)
          continue;
        ++s.peers;
        s.seeds += p.report.is_seed ? 1 : 0;
        s.down_rate += p.report.down_rate;
        s.up_rate += p.report.up_rate;
        s.leechers += p.report.interested ? 1 : 0;
        peer_info pi; // for the peer list (download --peers, JSON "peers" events)
        pi.address = p.endpoint.to_string();
        pi.client = describe_client(p.id);
        pi.down_rate = p.report.down_rate;
        pi.up_rate = p.report.up_rate;
        pi.downloaded = p.report.downloaded;
        pi.uploaded = p.report.uploaded;
        pi.incoming = p.incoming;
        pi.seed = p.report.is_seed;
        pi.interested = p.report.interested;
        pi.unchoked = st.choker.is_unchoked(idx);
        pi.snubbed = p.report.snubbed;
        s.peer_list.push_back(std::move(pi));
      }
      s.seeding = st.complete && st.cfg.seed;
      s.resumed_pieces = st.resumed_pieces;
      s.complete = st.complete;
      s.checking = !st.checked;
      s.check_done = st.check->done.load();
      s.check_total = st.check->total.load();
      s.tracker_status = st.cfg.use_trackers ? st.tracker_status : "trackers off";
      return s;
    },
    [self](peers_atom, announce_reply& r) {
      auto& st = self->state;
      st.tracker_status = r.tracker + ": " + std::to_string(r.peers.size()) + " peers";
      if (!r.warning.empty())
        st.tracker_status += " (warning: " + r.warning + ")";
      add_candidates(self, r.peers);
    },
    [self](failed_atom, const std::string& url, const std::string& reason) {
      self->state.tracker_status = url + ": " + reason;
    },
    [self](verdict_atom, piece_verdict& v, std::vector<peer_index>& senders) { on_verdict(self, v, senders); },
    [self](stats_atom, const peer_report& r) {
      if (auto it = self->state.peers.find(r.id); it != self->state.peers.end())
        it->second.report = r;
    },
    [self](connected_atom, peer_index idx, const sha1_hash& id) {
      auto& st = self->state;
      auto it = st.peers.find(idx);
      if (it == st.peers.end())
        return;
      // The same peer twice (under two addresses, or both sides dialled each
      // other at once): both ends must keep the same connection, so keep the
      // one whose initiator has the lower peer id.
      auto initiator = [&st](const torrent_state::peer_entry& e, const sha1_hash& remote) {
        return e.incoming ? remote : st.cfg.peer_id;
      };
      for (auto& [other, p] : st.peers) {
        if (other == idx || !p.handshaken || p.id != id)
          continue;
        bool keep_new = initiator(it->second, id) < initiator(p, p.id);
        auto& loser = keep_new ? p : it->second;
        if (loser.handle)
          caf::anon_send(loser.handle, drop_atom_v, "duplicate connection to the same peer");
        else
          loser.pending_drop = "duplicate connection to the same peer";
        if (!keep_new)
          return;
        p.handshaken = false;
        break;
      }
      it->second.handshaken = true;
      it->second.id = id;
      if (!it->second.incoming)
        st.known[it->second.endpoint].failures = 0;
    },
    [self](connected_atom, peer_index idx, int fd) {
      auto& st = self->state;
      --st.half_open;
      auto it = st.peers.find(idx);
      if (it == st.peers.end() || st.stopping || (st.complete && !st.cfg.seed)) {
        ::close(fd);
        if (it != st.peers.end()) {
          st.known[it->second.endpoint].connected = false;
          st.peers.erase(it);
        }
        return;
      }
      auto pc = peer_template(self);
      pc.index = idx;
      pc.we_have = st.have;
      auto hdl = spawn_peer_connection(self->system(), fd, std::move(pc));
      self->monitor(hdl);
      it->second.handle = std::move(hdl);
      it->second.connecting = false;
      it->second.since = now(self);
      maybe_connect(self);
    },
    [self](failed_atom, peer_index idx, const std::string& reason) {
      auto& st = self->state;
      auto it = st.peers.find(idx);
      if (it == st.peers.end())
        return;
      if (it->second.incoming) { // the listener could not hand the connection over
        if (!it->second.handle)
          st.peers.erase(it);
        return;
      }
      --st.half_open;
      note(self, "connect to " + it->second.endpoint.to_string() + " failed: " + reason);
      auto ep = it->second.endpoint;
      st.peers.erase(it);
      back_off(self, ep);
      maybe_connect(self);
    },
    [self](incoming_atom, const peer_endpoint& ep) -> caf::result<peer_index, std::vector<bool>> {
      auto& st = self->state;
      if (!st.checked && !st.stopping) { // answered when the start-up check is done
        auto rp = self->make_response_promise<peer_index, std::vector<bool>>();
        st.deferred_incoming.emplace_back(ep, rp);
        return rp;
      }
      auto idx = accept_incoming(self, ep);
      if (!idx)
        return std::move(idx.error());
      return caf::make_result(*idx, st.have);
    },
    [self](adopt_atom, peer_index idx, caf::actor& hdl) {
      auto& st = self->state;
      self->monitor(hdl);
      auto it = st.peers.find(idx);
      if (it == st.peers.end()) { // hold it until it is down all the same
        torrent_state::peer_entry entry;
        entry.incoming = true;
        it = st.peers.emplace(idx, std::move(entry)).first;
        caf::anon_send(hdl, drop_atom_v, "not accepting peers now");
      } else if (st.stopping) {
        caf::anon_send(hdl, drop_atom_v, "shutting down");
      } else if (!it->second.pending_drop.empty()) {
        caf::anon_send(hdl, drop_atom_v, it->second.pending_drop);
      }
      it->second.handle = std::move(hdl);
      it->second.connecting = false;
    },
    [self](interest_atom, peer_index idx, bool on) {
      auto& st = self->state;
      auto it = st.peers.find(idx);
      if (it == st.peers.end())
        return;
      it->second.report.interested = on;
      if (on && it->second.handle && st.choker.on_interested(to_choker_peer(idx, it->second), now(self)))
        send_choke(self, idx, true);
      if (!on && st.choker.is_unchoked(idx)) {
        // its slot is of no use to it: choke it now and give the slot to a waiting peer
        st.choker.forget(idx);
        send_choke(self, idx, false);
        fill_free_slots(self);
      }
    },
    [self](drop_atom, peer_index idx, const std::string& reason) {
      auto& st = self->state;
      if (auto it = st.peers.find(idx); it != st.peers.end())
        note(self, "closed " + it->second.endpoint.to_string() + ": " + reason);
    },
    [self](tick_atom) {
      auto& st = self->state;
      auto now = actorrent::now(self);
      if (now >= st.next_choke_round && !st.stopping) {
        st.next_choke_round = now + st.cfg.choke_interval;
        choke_round(self);
      }
      update_rates(self);
      if (now >= st.next_resume_save && !st.stopping) {
        st.next_resume_save = now + st.cfg.resume_interval;
        save_resume(self, false, false);
      }
      maybe_connect(self);
      self->delayed_send(self, 1s, tick_atom_v);
    },
    [self](stop_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.stopping = true;
      if (st.cfg.listener)
        caf::anon_send(st.cfg.listener, detach_atom_v, st.cfg.torrent->info_hash);
      for (auto& [idx, p] : st.peers)
        if (p.handle)
          caf::anon_send(p.handle, drop_atom_v, "shutting down");
      auto rp = self->make_response_promise<bool>();
      auto finish_stop = [self, rp]() mutable {
        auto& st = self->state;
        auto done = [rp](bool ok) mutable { rp.deliver(ok); };
        if (!st.cfg.resume_file.empty() && st.checked) {
          // resume data last: it syncs the files, then records them
          self->request(st.disk, std::chrono::seconds{10}, resume_atom_v, st.have, totals(self), true)
            .then([done](bool) mutable { done(true); }, [done](caf::error&) mutable { done(false); });
          return;
        }
        self->request(st.disk, std::chrono::seconds{10}, flush_atom_v)
          .then([done](bool) mutable { done(true); }, [done](caf::error&) mutable { done(false); });
      };
      if (st.cfg.use_trackers && !st.use_trackers_failed) {
        self->request(st.announcer, std::chrono::seconds{2}, stop_atom_v, totals(self))
          .then([finish_stop](bool) mutable { finish_stop(); },
                [finish_stop](caf::error&) mutable { finish_stop(); });
      } else {
        finish_stop();
      }
      return rp;
    },
  };
}

torrent_actor spawn_torrent(caf::actor_system& sys, torrent_config cfg) {
  return sys.spawn(torrent, std::move(cfg));
}

} // namespace actorrent
