// The torrent actor's lifecycle: one behavior per state (see torrent.hpp),
// each the state's own handlers, then the lifecycle handlers every state
// shares, then the peer handlers (torrent_peers.cpp), chained with or_else.
#include "actors/torrent_internal.hpp"

#include "actors/disk_store.hpp"
#include "actors/piece_picker_actor.hpp"
#include "actors/tracker_announcer.hpp"
#include "logic/file_selection.hpp"
#include "protocol/peer_id.hpp"

#include <caf/all.hpp>

#include <cstdio>

namespace actorrent {

const char* phase_name(torrent_phase p) {
  switch (p) {
    case torrent_phase::queued: return "queued";
    case torrent_phase::checking: return "checking";
    case torrent_phase::downloading: return "downloading";
    case torrent_phase::seeding: return "seeding";
    case torrent_phase::finished: return "finished";
    case torrent_phase::paused: return "paused";
    case torrent_phase::stopping: return "stopping";
  }
  return "unknown";
}

std::optional<torrent_phase> phase_from_name(std::string_view name) {
  for (auto p : {torrent_phase::queued, torrent_phase::checking, torrent_phase::downloading, torrent_phase::seeding,
                 torrent_phase::finished, torrent_phase::paused, torrent_phase::stopping})
    if (name == phase_name(p))
      return p;
  return std::nullopt;
}

namespace torrent_detail {

using namespace std::chrono_literals;

clock_type::time_point now(self_ptr self) { return self->clock().now(); }

void note(self_ptr self, const std::string& msg) {
  if (self->state.cfg.verbose)
    std::fprintf(stderr, "actorrent: %s: %s\n", self->state.cfg.torrent->name.c_str(), msg.c_str());
}

transfer_totals totals(self_ptr self) {
  auto& st = self->state;
  transfer_totals t;
  t.downloaded = st.downloaded_closed;
  t.uploaded = st.uploaded_closed;
  for (auto& [idx, l] : st.links) {
    t.downloaded += l.report.downloaded;
    t.uploaded += l.report.uploaded;
  }
  t.left = st.cfg.torrent->total_size - st.have_bytes;
  return t;
}

void add_piece(torrent_state& st, std::uint32_t piece) {
  if (piece >= st.have.size() || st.have[piece])
    return;
  auto size = st.cfg.torrent->piece_size(piece);
  st.have[piece] = true;
  st.have_bytes += size;
  ++st.pieces_have;
  if (st.wanted[piece]) {
    ++st.wanted_have;
    st.wanted_have_bytes += size;
  }
}

bool active(const torrent_state& st) {
  return st.phase == torrent_phase::downloading || st.phase == torrent_phase::seeding;
}

// One line of the peer list (download --peers, JSON "peers" events).
peer_info peer_entry_info(self_ptr self, peer_index idx, const logic::peer_set::connection& c,
                          const torrent_state::peer_link& l) {
  peer_info pi;
  pi.address = c.endpoint.to_string();
  pi.client = describe_client(c.id);
  pi.down_rate = l.report.down_rate;
  pi.up_rate = l.report.up_rate;
  pi.downloaded = l.report.downloaded;
  pi.uploaded = l.report.uploaded;
  pi.incoming = c.incoming;
  pi.seed = l.report.is_seed;
  pi.interested = l.report.interested;
  pi.unchoked = self->state.choker.is_unchoked(idx);
  pi.snubbed = l.report.snubbed;
  return pi;
}

/// The verified pieces as hex of the wire bitfield (piece 0 is bit 0x80 of byte 0).
std::string have_hex(const std::vector<bool>& have) {
  static const char* digits = "0123456789abcdef";
  std::vector<unsigned> bytes((have.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < have.size(); ++i)
    if (have[i])
      bytes[i / 8] |= 0x80u >> (i % 8);
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

torrent_status make_status(self_ptr self) {
  auto& st = self->state;
  torrent_status s;
  s.listen_port = st.cfg.listen_port;
  s.total_size = st.cfg.torrent->total_size;
  s.have_bytes = st.have_bytes;
  s.selected_size = st.wanted_size;
  s.selected_have = st.wanted_have_bytes;
  s.selected_pieces = st.wanted_total;
  s.pieces_have = st.pieces_have;
  s.pieces_total = static_cast<std::uint32_t>(st.cfg.torrent->num_pieces());
  s.have_hex = have_hex(st.have);
  auto t = totals(self);
  s.downloaded = t.downloaded;
  s.uploaded = t.uploaded;
  s.wasted = st.wasted;
  s.hash_failures = st.hash_failures;
  s.banned = static_cast<std::uint32_t>(st.peers.banned_count());
  for (auto& [idx, l] : st.links) {
    auto* c = st.peers.find(idx);
    if (c == nullptr || !c->handshaken)
      continue;
    ++s.peers;
    s.seeds += l.report.is_seed ? 1 : 0;
    s.down_rate += l.report.down_rate;
    s.up_rate += l.report.up_rate;
    s.leechers += l.report.interested ? 1 : 0;
    s.peer_list.push_back(peer_entry_info(self, idx, *c, l));
  }
  s.half_open = st.peers.half_open();
  for (auto& [idx, c] : st.peers.connections())
    s.handshaking += !c.connecting && !c.handshaken ? 1 : 0;
  s.seeding = st.complete && st.cfg.seed;
  s.resumed_pieces = st.resumed_pieces;
  s.complete = st.complete;
  s.checking = !st.checked;
  s.check_done = st.check->done.load();
  s.check_total = st.check->total.load();
  s.tracker_status = st.cfg.use_trackers ? st.tracker_status : "trackers off";
  s.tracker_error = st.tracker_error;
  s.disk_error = st.disk_error;
  s.state = phase_name(st.phase);
  for (auto& ep : st.peers.banned_list())
    s.banned_peers.push_back(ep.to_string());
  s.wire = st.wire_counters->values();
  for (auto& [idx, n] : st.failed_senders)
    if (auto ep = st.peers.endpoint(idx))
      s.hash_failures_from[ep->to_string()] += n;
  for (auto& [idx, n] : st.wire_counters->corrupted_by_peer())
    if (auto ep = st.peers.endpoint(idx))
      s.wire_corrupted_to[ep->to_string()] += n;
  return s;
}

void notify(self_ptr self, torrent_event::kind what, std::string message) {
  auto& st = self->state;
  if (!st.cfg.observer)
    return;
  torrent_event ev;
  ev.what = what;
  ev.state = st.phase;
  ev.status = make_status(self);
  ev.message = std::move(message);
  ev.info_hash = st.cfg.torrent->info_hash;
  caf::anon_send(st.cfg.observer, event_atom_v, std::move(ev));
}

// Ends the torrent and everything it supervises: its peer brokers (which
// their sockets would otherwise keep alive), disk store, picker and announcer.
// Nothing of it may outlive the torrent, or the actor system never shuts down.
void terminate(self_ptr self, caf::error reason) {
  auto& st = self->state;
  if (reason && reason != caf::exit_reason::user_shutdown)
    notify(self, torrent_event::kind::error, self->system().render(reason));
  auto why = reason ? reason : caf::error{caf::exit_reason::user_shutdown};
  st.cancel_connects->store(true);
  for (auto& [idx, l] : st.links)
    if (l.handle)
      self->send_exit(l.handle, why);
  if (st.announcer)
    self->send_exit(st.announcer, why);
  if (st.picker)
    self->send_exit(st.picker, why);
  if (st.disk)
    self->send_exit(st.disk, why);
  self->quit(std::move(reason));
}

namespace {

// The resume data on disk says what the torrent knows now: its pieces and
// its session's transfer totals (or there is none to keep up to date).
bool resume_current(self_ptr self) {
  auto& st = self->state;
  if (st.cfg.resume_file.empty() || !st.checked)
    return true;
  auto t = totals(self);
  return st.pieces_have == st.pieces_saved && t.uploaded + t.downloaded == st.moved_saved;
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
  auto t = totals(self);
  ensure_children(self);
  self->request(st.disk, std::chrono::seconds{30}, resume_atom_v, st.have, t, sync)
    .then(
      [self, pieces, moved = t.uploaded + t.downloaded](bool) {
        self->state.resume_pending = false;
        self->state.pieces_saved = pieces;
        self->state.moved_saved = moved;
        maybe_release_children(self);
      },
      [self, pieces, moved = t.uploaded + t.downloaded](caf::error& err) {
        auto& st = self->state;
        st.resume_pending = false;
        st.pieces_saved = pieces; // not again before something changes (no retry every tick)
        st.moved_saved = moved;
        note(self, "cannot write resume data: " + self->system().render(err));
      });
}

// A new announcer, or (with `nap`) the one that went to sleep, going on where
// it was: `announced` is then left as it is.
void start_announcer(self_ptr self, announce_nap_ptr nap = nullptr) {
  auto& st = self->state;
  auto& mi = *st.cfg.torrent;
  announcer_config ac = st.cfg.announcer_defaults;
  ac.tiers = mi.trackers;
  ac.info_hash = mi.info_hash;
  ac.peer_id = st.cfg.peer_id;
  ac.port = st.cfg.listen_port;
  ac.numwant = static_cast<int>(st.cfg.numwant);
  ac.torrent = torrent_actor{self};
  if (!nap)
    st.announced = false;
  ac.nap = std::move(nap);
  st.announcer = spawn_announcer(self->system(), std::move(ac));
  st.use_trackers_failed = false;
  self->monitor(st.announcer);
}

// Pausing: the announcer sends `stopped` and ends; unpausing starts a new one.
void stop_announcer(self_ptr self) {
  auto& st = self->state;
  if (!st.announcer)
    return;
  auto old = std::exchange(st.announcer, announcer_actor{});
  self->demonitor(old.address());
  if (!st.announced || st.use_trackers_failed) {
    self->send_exit(old, caf::exit_reason::user_shutdown);
    return;
  }
  self->request(old, 2s, stop_atom_v, totals(self))
    .then([self, old](bool) { self->send_exit(old, caf::exit_reason::user_shutdown); },
          [self, old](caf::error&) { self->send_exit(old, caf::exit_reason::user_shutdown); });
}

// Entering downloading or seeding: announce `started` (once per announcer) and dial.
void go_online(self_ptr self) {
  auto& st = self->state;
  if (st.cfg.use_trackers) {
    if (!st.announcer)
      start_announcer(self);
    if (!st.announced) {
      st.announced = true;
      st.last_announce_request = now(self);
      self->send(st.announcer, announce_atom_v, announce_event::started, totals(self));
    }
  }
  st.peers.add_candidates(st.cfg.initial_peers);
  maybe_connect(self);
}

// ---- behaviors --------------------------------------------------------------------

caf::message_handler lifecycle_handlers(self_ptr self);
void enter(self_ptr self, torrent_phase next);

torrent_actor::behavior_type assemble(self_ptr self, caf::message_handler own) {
  // the typed interface is the union of the three sets (each state's own
  // handlers shadow the shared ones they replace)
  auto all = own.or_else(lifecycle_handlers(self)).or_else(peer_handlers(self));
  return {torrent_actor::behavior_type::unsafe_init{}, caf::behavior{std::move(all)}};
}

// A seed with nothing to time: no peer, no one to dial, no disk store or
// picker. Its tick stops (a daemon holds thousands of them) until wake().
bool quiet_seed(const torrent_state& st) {
  return st.phase == torrent_phase::seeding && !st.disk && st.links.empty() && st.peers.size() == 0
         && st.peers.candidates() == 0;
}

// Timer of the states that talk to peers: choker rounds, rate shares, resume
// data, accepted peers whose connection never came, more peers.
void active_tick(self_ptr self) {
  auto& st = self->state;
  auto now = torrent_detail::now(self);
  if (now >= st.next_choke_round) {
    st.next_choke_round = now + st.cfg.choke_interval;
    choke_round(self);
  }
  update_rates(self);
  if (now >= st.next_resume_save) {
    st.next_resume_save = now + st.cfg.resume_interval;
    save_resume(self, false, false);
  }
  for (auto idx : st.peers.expire_unattached(now))
    if (auto it = st.links.find(idx); it != st.links.end() && !it->second.handle)
      st.links.erase(it);
  maybe_connect(self);
  if (maybe_release_children(self) && quiet_seed(st)) {
    st.ticking = false; // wake() starts it again
    return;
  }
  self->delayed_send(self, 1s, tick_atom_v);
}

// Queued, paused and finished torrents have no peers and nothing to time: their
// tick chain ends here once their disk store and picker are gone (a daemon
// holds thousands of them), and enter() or ensure_children() starts it again.
void idle_tick(self_ptr self) {
  auto& st = self->state;
  bool released = maybe_release_children(self);
  if (released && (st.phase == torrent_phase::queued || st.phase == torrent_phase::paused
                   || st.phase == torrent_phase::finished)) {
    st.ticking = false;
    return;
  }
  update_rates(self);
  self->delayed_send(self, 1s, tick_atom_v);
}

void ensure_ticking(self_ptr self) {
  if (self->state.ticking)
    return;
  self->state.ticking = true;
  self->delayed_send(self, 1s, tick_atom_v);
}

// downloading and seeding: peers are dialled and accepted, the choker runs.
torrent_actor::behavior_type active_behavior(self_ptr self) {
  auto own = caf::message_handler{[self](tick_atom) { active_tick(self); }}.or_else(accepting_handlers(self));
  return assemble(self, std::move(own));
}

// queued, paused, finished, stopping: no peer is dialled or accepted.
torrent_actor::behavior_type idle_behavior(self_ptr self, std::string why) {
  auto own = caf::message_handler{[self](tick_atom) { idle_tick(self); }}.or_else(refusing_handlers(self, why));
  return assemble(self, std::move(own));
}

// checking: incoming peers wait in the mailbox until the next state answers them.
torrent_actor::behavior_type checking_behavior(self_ptr self) {
  auto own = caf::message_handler{
    [](incoming_atom, const peer_endpoint&) -> caf::result<peer_config> { return caf::skip; },
    [self](tick_atom) { idle_tick(self); },
  };
  return assemble(self, own.or_else(refusing_handlers(self, "checking")));
}

void enter(self_ptr self, torrent_phase next) {
  auto& st = self->state;
  if (st.phase == next)
    return;
  st.phase = next;
  if (next != torrent_phase::queued && next != torrent_phase::paused && next != torrent_phase::finished)
    ensure_ticking(self);
  switch (next) {
    case torrent_phase::checking: self->become(checking_behavior(self)); break;
    case torrent_phase::downloading:
    case torrent_phase::seeding: self->become(active_behavior(self)); break;
    case torrent_phase::queued: self->become(idle_behavior(self, "queued")); break;
    case torrent_phase::paused: self->become(idle_behavior(self, "paused")); break;
    case torrent_phase::finished: self->become(idle_behavior(self, "download complete")); break;
    case torrent_phase::stopping: self->become(idle_behavior(self, "not accepting peers now")); break;
  }
  note(self, std::string{"state: "} + phase_name(next));
  notify(self, torrent_event::kind::state_changed);
}

// Where a checked torrent belongs when it runs.
void run_checked(self_ptr self) {
  auto& st = self->state;
  if (!wanted_done(st)) {
    enter(self, torrent_phase::downloading);
    go_online(self);
  } else if (st.cfg.seed) {
    enter(self, torrent_phase::seeding);
    go_online(self);
  } else {
    enter(self, torrent_phase::finished);
  }
}

void on_checked(self_ptr self, std::vector<bool>& have) {
  auto& st = self->state;
  auto& mi = *st.cfg.torrent;
  for (std::size_t i = 0; i < have.size() && i < st.have.size(); ++i)
    if (have[i])
      add_piece(st, static_cast<std::uint32_t>(i));
  self->send(st.picker, check_atom_v, have);
  st.checked = true;
  st.resumed_pieces = st.pieces_have;
  notify(self, torrent_event::kind::checked);
  if (st.phase == torrent_phase::stopping)
    return;
  auto missing = mi.num_pieces() - st.pieces_have;
  if (st.cfg.require_complete && missing > 0) {
    auto msg = std::to_string(missing) + " of " + std::to_string(mi.num_pieces()) + " pieces missing or wrong in "
               + st.cfg.download_dir;
    terminate(self, caf::make_error(caf::sec::runtime_error, std::move(msg)));
    return;
  }
  if (wanted_done(st))
    finish(self, false);
  if (st.phase == torrent_phase::checking) // not paused or stopping meanwhile
    run_checked(self);
}

// Asks the disk store to check the data already there.
void ask_check(self_ptr self) {
  self->state.check_started = true;
  ensure_children(self);
  self->state.children_for_check = true;
  self->request(self->state.disk, caf::infinite, check_atom_v)
    .then([self](std::vector<bool>& have) { on_checked(self, have); },
          [self](caf::error& err) { terminate(self, err); });
}

void pause(self_ptr self) {
  auto& st = self->state;
  if (st.phase == torrent_phase::paused || st.phase == torrent_phase::stopping)
    return;
  drop_all_peers(self, "paused");
  stop_announcer(self);
  save_resume(self, true, true);
  enter(self, torrent_phase::paused);
}

void unpause(self_ptr self) {
  auto& st = self->state;
  if (st.phase != torrent_phase::paused && st.phase != torrent_phase::queued)
    return;
  st.disk_error.clear();
  st.write_failures_in_row = 0;
  if (!st.check_started) {
    ask_check(self);
    enter(self, torrent_phase::checking);
  }
  else if (!st.checked)
    enter(self, torrent_phase::checking); // its result is on the way
  else
    run_checked(self);
}

// Stop: close peers, announce `stopped`, then resume data (which syncs the
// files) or a flush; every stop request is answered when that is done.
caf::result<bool> stop(self_ptr self) {
  auto& st = self->state;
  auto rp = self->make_response_promise<bool>();
  st.stop_promises.push_back(rp);
  if (st.phase == torrent_phase::stopping)
    return rp;
  enter(self, torrent_phase::stopping);
  if (st.cfg.listener)
    caf::anon_send(st.cfg.listener, detach_atom_v, st.cfg.torrent->info_hash);
  drop_all_peers(self, "shutting down");
  auto done = [self](bool ok) {
    for (auto& p : std::exchange(self->state.stop_promises, {}))
      p.deliver(ok);
  };
  auto finish_stop = [self, done] {
    auto& st = self->state;
    if (!st.disk && resume_current(self)) {
      done(true); // an idle torrent whose store is gone: nothing to write or flush
      return;
    }
    ensure_children(self);
    if (!st.cfg.resume_file.empty() && st.checked) {
      self->request(st.disk, std::chrono::seconds{10}, resume_atom_v, st.have, totals(self), true)
        .then([done](bool) { done(true); }, [done](caf::error&) { done(false); });
      return;
    }
    self->request(st.disk, std::chrono::seconds{10}, flush_atom_v)
      .then([done](bool) { done(true); }, [done](caf::error&) { done(false); });
  };
  if (st.announcer && !st.use_trackers_failed)
    self->request(st.announcer, std::chrono::seconds{2}, stop_atom_v, totals(self))
      .then([finish_stop](bool) { finish_stop(); }, [finish_stop](caf::error&) { finish_stop(); });
  else
    finish_stop();
  return rp;
}

// Lab: new wire faults for every current and future peer connection.
caf::result<bool> set_wire_faults(self_ptr self, const std::string& text) {
  auto& st = self->state;
  auto spec = logic::parse_wire_fault_spec(text);
  if (!spec)
    return caf::make_error(caf::sec::invalid_argument, spec.error().message);
  st.wire_faults = spec->any() ? std::make_shared<const logic::wire_faults>(*spec, st.wire_counters) : nullptr;
  note(self, st.wire_faults ? "wire faults on: " + spec->to_string() : std::string{"wire faults off"});
  for (auto& [idx, l] : st.links)
    if (l.handle)
      caf::anon_send(l.handle, wire_fault_atom_v, st.wire_faults);
  return true;
}


// Disk faults on (a spec) or off (""): a torrent a write error paused goes on
// when they go off.
caf::result<bool> set_disk_fault(self_ptr self, const std::string& text) {
  auto spec = storage::parse_disk_fault_spec(text);
  if (!spec)
    return caf::make_error(caf::sec::runtime_error, spec.error().message);
  auto& st = self->state;
  bool off = spec->empty();
  st.disk_faults->set(std::move(*spec));
  note(self, "disk faults " + st.disk_faults->spec().to_string());
  if (off && !st.disk_error.empty() && st.phase == torrent_phase::paused)
    unpause(self);
  return true;
}

} // namespace

void on_write_failed(self_ptr self, std::uint32_t piece, const std::string& why) {
  auto& st = self->state;
  st.disk_faults->refetched_pieces.fetch_add(1);
  ++st.write_failures_in_row;
  note(self, "piece " + std::to_string(piece) + " not written (" + why + "): fetching it again");
  bool full = storage::is_disk_full_error(why);
  if (!st.disk_error.empty() || (!full && st.write_failures_in_row < st.cfg.max_write_failures))
    return;
  if (st.phase == torrent_phase::paused || st.phase == torrent_phase::stopping)
    return;
  st.disk_error = why;
  if (!full)
    st.disk_error += " (" + std::to_string(st.write_failures_in_row) + " pieces in a row)";
  note(self, "disk error: " + st.disk_error + "; pausing (verified pieces are kept)");
  pause(self);
  notify(self, torrent_event::kind::state_changed, "disk error: " + st.disk_error);
}

namespace {

// New limits from the daemon's session. Switching a rate limit off tells the
// peers at once (update_rates only sends shares while a limit is set).
void set_limits(self_ptr self, double up, double down, std::uint32_t max_peers, std::uint32_t max_half_open) {
  auto& st = self->state;
  bool up_off = st.cfg.max_upload_rate > 0 && up <= 0;
  bool down_off = st.cfg.max_download_rate > 0 && down <= 0;
  st.cfg.max_upload_rate = up;
  st.cfg.max_download_rate = down;
  st.cfg.max_peers = std::max<std::uint32_t>(max_peers, 1);
  st.cfg.max_half_open = std::max<std::uint32_t>(max_half_open, 1);
  st.peers.set_limits(st.cfg.max_peers, st.cfg.max_half_open);
  for (auto& [idx, l] : st.links) {
    if (!l.handle)
      continue;
    if (up_off) {
      l.rate_sent = 0;
      caf::anon_send(l.handle, up_share_atom_v, 0.0);
    }
    if (down_off) {
      l.down_share_sent = 0;
      caf::anon_send(l.handle, down_share_atom_v, 0.0);
    }
  }
  update_rates(self);
  if (active(st))
    maybe_connect(self);
}

// Quiet enough to sleep (see torrent_nap): nothing it would lose by quitting
// but what the nap carries, and candidates it would not dial now (other seeds
// that closed on it, backing off; its next announce names them again).
bool can_sleep(self_ptr self) {
  auto& st = self->state;
  bool quiet_phase = st.phase == torrent_phase::seeding || st.phase == torrent_phase::finished;
  bool no_peers = st.links.empty() && st.peers.size() == 0 && !st.peers.dial_due(now(self), std::chrono::seconds{0})
                  && st.peers.banned_count() == 0;
  bool no_lab_state = !st.wire_faults && !st.disk_faults->active() && st.failed_senders.empty();
  return quiet_phase && st.complete && !st.disk && !st.resume_pending && no_peers && st.stop_promises.empty()
         && no_lab_state && st.disk_error.empty() && resume_current(self);
}

void fall_asleep(self_ptr self, caf::typed_response_promise<torrent_nap_ptr>& rp, announce_nap_ptr announcer) {
  auto& st = self->state;
  auto nap = std::make_shared<torrent_nap>();
  nap->phase = st.phase;
  nap->have = st.have;
  nap->resumed_pieces = st.resumed_pieces;
  nap->downloaded_closed = st.downloaded_closed;
  nap->uploaded_closed = st.uploaded_closed;
  nap->wasted = st.wasted;
  nap->hash_failures = st.hash_failures;
  nap->resume_totals = st.resume_totals;
  nap->pieces_saved = st.pieces_saved;
  nap->moved_saved = st.moved_saved;
  nap->announced = st.announced;
  nap->announcer = std::move(announcer);
  nap->status = std::make_unique<torrent_status>(make_status(self));
  if (st.cfg.listener)
    caf::anon_send(st.cfg.listener, detach_atom_v, st.cfg.torrent->info_hash);
  note(self, "asleep");
  rp.deliver(std::move(nap));
  st.cancel_connects->store(true);
  self->quit();
}

// sleep_atom: the announcer hands over first (it may be busy: then no sleep).
caf::result<torrent_nap_ptr> go_to_sleep(self_ptr self) {
  auto& st = self->state;
  maybe_release_children(self, true); // sleep_after, the session's wait, was long enough
  if (!can_sleep(self))
    return caf::make_error(caf::sec::runtime_error, "not quiet");
  auto rp = self->make_response_promise<torrent_nap_ptr>();
  if (!st.announcer || st.use_trackers_failed) {
    if (st.announcer)
      self->send_exit(std::exchange(st.announcer, announcer_actor{}), caf::exit_reason::user_shutdown);
    fall_asleep(self, rp, nullptr);
    return rp;
  }
  // no timeout: the announcer answers at once, and an answer dropped after a
  // timeout would take the announcer's state with it
  self->request(st.announcer, caf::infinite, sleep_atom_v)
    .then(
      [self, rp](announce_nap_ptr& announcer) mutable {
        auto& st = self->state;
        self->demonitor(st.announcer.address()); // it quit
        st.announcer = announcer_actor{};
        if (!can_sleep(self)) { // a peer or a stop came meanwhile: the announcer goes on
          if (st.phase != torrent_phase::stopping)
            start_announcer(self, std::move(announcer));
          rp.deliver(caf::make_error(caf::sec::runtime_error, "not quiet"));
          return;
        }
        fall_asleep(self, rp, std::move(announcer));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

// Spawned again after a sleep: what the nap says, no check; seeding or finished.
torrent_actor::behavior_type wake_from(self_ptr self, torrent_nap& nap) {
  auto& st = self->state;
  for (std::size_t i = 0; i < nap.have.size() && i < st.have.size(); ++i)
    if (nap.have[i])
      add_piece(st, static_cast<std::uint32_t>(i));
  st.resumed_pieces = nap.resumed_pieces;
  st.downloaded_closed = nap.downloaded_closed;
  st.uploaded_closed = nap.uploaded_closed;
  st.wasted = nap.wasted;
  st.hash_failures = nap.hash_failures;
  if (nap.resume_totals)
    st.resume_totals = nap.resume_totals;
  st.pieces_saved = nap.pieces_saved;
  st.moved_saved = nap.moved_saved;
  st.check_started = st.checked = st.finishing = st.complete = true;
  st.announced = nap.announced;
  if (nap.status) {
    st.tracker_status = std::move(nap.status->tracker_status);
    st.tracker_error = std::move(nap.status->tracker_error);
  }
  note(self, "awake");
  if (nap.phase != torrent_phase::seeding) {
    st.phase = torrent_phase::finished;
    return idle_behavior(self, "download complete");
  }
  st.phase = torrent_phase::seeding;
  if (st.cfg.use_trackers && nap.announcer)
    start_announcer(self, std::move(nap.announcer));
  go_online(self);
  ensure_ticking(self); // one tick, which stops again while it stays quiet
  return active_behavior(self);
}

caf::message_handler lifecycle_handlers(self_ptr self) {
  return {
    [self](progress_atom) { return make_status(self); },
    [self](status_atom) {
      auto s = make_status(self);
      actor_status as{torrent_state::name, s.state,
                      {{"pieces_have", std::to_string(s.pieces_have)},
                       {"peers", std::to_string(s.peers)},
                       {"downloaded", std::to_string(s.downloaded)},
                       {"uploaded", std::to_string(s.uploaded)},
                       {"banned", std::to_string(s.banned)},
                       {"tracker_error", s.tracker_error}}};
      for (auto& [k, v] : self->state.disk_faults->values())
        as.values[k] = v;
      as.values["disk.error"] = s.disk_error;
      as.values.merge(self->state.wire_counters->values()); // wire.<behavior>: what the lab's faults did
      return as;
    },
    [self](wire_fault_atom, const std::string& spec) -> caf::result<bool> { return set_wire_faults(self, spec); },
    [self](pause_atom) { pause(self); },
    [self](limits_atom, double up, double down, std::uint32_t max_peers, std::uint32_t max_half_open) {
      set_limits(self, up, down, max_peers, max_half_open);
    },
    [self](unchoke_atom, std::uint32_t cap) { set_unchoke_cap(self, cap); },
    [self](announce_atom) {
      auto& st = self->state;
      if (st.announcer && active(st) && !st.use_trackers_failed) {
        st.last_announce_request = now(self);
        self->send(st.announcer, announce_atom_v, announce_event::none, totals(self));
      }
    },
    [self](unpause_atom) { unpause(self); },
    [self](disk_fault_atom, const std::string& text) -> caf::result<bool> { return set_disk_fault(self, text); },
    [self](stop_atom) { return stop(self); },
    [self](sleep_atom) { return go_to_sleep(self); },
  };
}

void on_down(self_ptr self, caf::down_msg& dm) {
  auto& st = self->state;
  if (dm.source == st.disk || dm.source == st.picker) {
    note(self, "internal actor failed: " + self->system().render(dm.reason));
    terminate(self, dm.reason ? dm.reason : caf::make_error(caf::sec::runtime_error, "disk or picker stopped"));
    return;
  }
  if (st.announcer && dm.source == st.announcer) {
    st.use_trackers_failed = true;
    return;
  }
  on_peer_down(self, dm.source);
}

} // namespace

// The disk store and the piece picker (both monitored), spawned when first
// needed: a daemon holds thousands of idle torrents, which keep neither.
void ensure_children(self_ptr self) {
  auto& st = self->state;
  st.children_used = now(self);
  if (st.disk)
    return;
  auto& mi = *st.cfg.torrent;
  disk_config dc = st.cfg.disk_defaults;
  dc.torrent = st.cfg.torrent;
  dc.root = st.cfg.download_dir;
  dc.check_threads = st.cfg.check_threads;
  dc.resume_file = st.cfg.resume_file;
  dc.force_overwrite = st.cfg.force_overwrite;
  dc.recheck = st.cfg.recheck;
  dc.require_complete = st.cfg.require_complete;
  dc.progress = st.check;
  dc.base = st.resume_totals;
  dc.faults = st.disk_faults;
  if (!st.cfg.selected_files.empty()) {
    dc.wanted = st.wanted;
    dc.skip_files.resize(mi.files.size(), false);
    for (std::size_t i = 0; i < mi.files.size(); ++i)
      dc.skip_files[i] = !mi.files[i].pad && !st.cfg.selected_files[i];
    dc.part_file = ".actorrent/" + mi.info_hash.hex() + ".parts";
  }
  st.disk = self->spawn(disk_store, std::move(dc));
  picker_config pc = st.cfg.picker_defaults;
  pc.algo.total_size = mi.total_size;
  pc.algo.piece_length = static_cast<std::uint32_t>(mi.piece_length);
  pc.algo.seed = std::hash<sha1_hash>{}(st.cfg.peer_id);
  if (!st.cfg.selected_files.empty())
    pc.wanted = st.wanted;
  pc.disk = st.disk;
  pc.torrent = torrent_actor{self};
  pc.metrics = st.cfg.peer_defaults.metrics;
  st.picker = self->spawn(piece_picker_actor, pc);
  self->monitor(st.disk);
  self->monitor(st.picker);
  if (st.checked) { // spawned again after the check: the picker learns what we have
    self->send(st.picker, check_atom_v, st.have);
    notify(self, torrent_event::kind::woke);
  }
  ensure_ticking(self); // the tick lets them go again
}

namespace {

// Whether the disk store and the picker have work now or may soon.
bool children_busy(const torrent_state& st) {
  switch (st.phase) {
    case torrent_phase::checking:
    case torrent_phase::downloading:
    case torrent_phase::stopping:
      return true;
    default:
      break;
  }
  return !st.checked || st.resume_pending || (st.finishing && !st.complete) || !st.links.empty()
         || st.peers.size() > 0;
}

} // namespace

void wake(self_ptr self) {
  if (active(self->state))
    ensure_ticking(self);
}

bool maybe_release_children(self_ptr self, bool at_once) {
  auto& st = self->state;
  if (!st.disk)
    return true;
  if (st.cfg.children_idle.count() <= 0 && !at_once)
    return true; // kept: nothing to wait for
  auto t = now(self);
  if (children_busy(st)) {
    st.children_used = t;
    return false;
  }
  if (!resume_current(self)) { // its totals go into the resume data before its store goes
    save_resume(self, true, false);
    return false;
  }
  if (!at_once && !st.children_for_check && t - st.children_used < st.cfg.children_idle)
    return false;
  st.children_for_check = false;
  auto disk = std::exchange(st.disk, disk_actor{});
  auto picker = std::exchange(st.picker, picker_actor{});
  self->demonitor(disk.address());
  self->demonitor(picker.address());
  self->send_exit(picker, caf::exit_reason::user_shutdown);
  self->send_exit(disk, caf::exit_reason::user_shutdown);
  note(self, "idle: disk store and picker let go");
  return true;
}

// Every piece is verified: flush, then announce `completed` if we downloaded
// something in this session (a seeder that starts complete announced
// `started` with nothing left instead), and seed on or finish.
void finish(self_ptr self, bool downloaded_now) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  ensure_children(self);
  // files that still need creating (empty ones), then everything synced
  self->request(st.disk, caf::infinite, flush_atom_v)
    .then(
      [self, downloaded_now](bool) {
        auto& st = self->state;
        st.complete = true;
        // complete from the start with every piece trusted from the resume
        // data (none hashed): that resume data is current, and writing it
        // again would cost a restored daemon one fsync per torrent
        bool resume_trusted = !downloaded_now && st.check && st.check->total.load() == 0
                              && st.resumed_pieces == st.cfg.torrent->num_pieces();
        if (!resume_trusted)
          save_resume(self, true, false); // the files were just synced
        else
          st.pieces_saved = st.pieces_have; // the resume data on disk says just that
        note(self, downloaded_now ? "download complete" : "all pieces present");
        if (st.announcer && st.announced && downloaded_now)
          self->send(st.announcer, announce_atom_v, announce_event::completed, totals(self));
        notify(self, torrent_event::kind::completed);
        // a finished leecher that does not seed has no use for its peers; a
        // seeder keeps them (the connections close seed-to-seed links)
        if (st.phase == torrent_phase::downloading) {
          if (st.cfg.seed) {
            enter(self, torrent_phase::seeding);
          } else {
            drop_all_peers(self, "download complete");
            enter(self, torrent_phase::finished);
          }
        }
        maybe_release_children(self);
      },
      [self](caf::error& err) {
        note(self, "flush failed: " + self->system().render(err));
        terminate(self, err);
      });
}

} // namespace torrent_detail

using namespace torrent_detail;

torrent_actor::behavior_type torrent(self_ptr self, torrent_config cfg) {
  auto& st = self->state;
  if (cfg.peer_id.is_zero())
    cfg.peer_id = generate_peer_id();
  st.cfg = std::move(cfg);
  st.disk_faults = st.cfg.disk_faults ? st.cfg.disk_faults : std::make_shared<storage::disk_faults>();
  st.blame = logic::blame_tracker{st.cfg.max_strikes};
  if (st.cfg.wire_fault.any())
    st.wire_faults = std::make_shared<const logic::wire_faults>(st.cfg.wire_fault, st.wire_counters);
  st.choker = logic::choker{st.cfg.choker};
  auto psc = st.cfg.peer_set;
  psc.max_peers = st.cfg.max_peers;
  psc.max_half_open = st.cfg.max_half_open;
  st.peers = logic::peer_set{psc, st.cfg.peer_id};
  st.have.assign(st.cfg.torrent->num_pieces(), false);
  const auto& mi = *st.cfg.torrent;
  const auto n = static_cast<std::uint32_t>(mi.num_pieces());
  if (!st.cfg.selected_files.empty() && st.cfg.selected_files.size() != mi.files.size())
    st.cfg.selected_files.clear(); // a malformed mask selects nothing less than everything
  st.wanted = st.cfg.selected_files.empty()
                ? std::vector<bool>(n, true)
                : logic::wanted_pieces(st.cfg.selected_files, mi.files, mi.piece_length, n);
  for (std::uint32_t p = 0; p < n; ++p)
    if (st.wanted[p]) {
      ++st.wanted_total;
      st.wanted_size += mi.piece_size(p);
    }
  if (mi.trackers.empty()) // the announcer is spawned when the torrent goes online
    st.cfg.use_trackers = false;
  if (st.cfg.listener)
    caf::anon_send(st.cfg.listener, attach_atom_v, st.cfg.torrent->info_hash, torrent_actor{self});
  self->set_exit_handler([self](caf::exit_msg& em) { terminate(self, std::move(em.reason)); });
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  if (auto nap = std::exchange(st.cfg.nap, nullptr))
    return wake_from(self, *nap);
  if (st.cfg.start_queued) {
    st.phase = torrent_phase::queued;
    return idle_behavior(self, "queued");
  }
  // check what is already on disk, then start talking to the swarm
  ensure_ticking(self);
  st.phase = torrent_phase::checking;
  ask_check(self);
  return checking_behavior(self);
}

torrent_actor spawn_torrent(caf::actor_system& sys, torrent_config cfg) {
  return sys.spawn(torrent, std::move(cfg));
}

} // namespace actorrent
