#include "actors/control.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <fstream>
#include <sstream>

#include <unistd.h>

namespace actorrent {

namespace {

std::uint64_t proc_status_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  auto len = std::char_traits<char>::length(key);
  while (std::getline(in, line))
    if (line.compare(0, len, key) == 0) {
      std::istringstream fields(line.substr(len));
      std::uint64_t kib = 0;
      if (fields >> kib)
        return kib * 1024;
    }
  return 0;
}

control_sample make_sample(control_actor::stateful_pointer<control_state> self, const torrent_status& st) {
  control_sample s;
  s.pid = static_cast<std::uint32_t>(::getpid());
  s.node = to_string(self->system().node());
  s.state = st.state;
  s.complete = st.complete;
  s.seeding = st.seeding;
  s.total_size = st.total_size;
  s.have_bytes = st.have_bytes;
  s.downloaded = st.downloaded;
  s.uploaded = st.uploaded;
  s.wasted = st.wasted;
  s.down_rate = st.down_rate;
  s.up_rate = st.up_rate;
  s.peers = st.peers;
  s.seeds = st.seeds;
  s.hash_failures = st.hash_failures;
  s.banned = st.banned;
  s.pieces_have = st.pieces_have;
  s.pieces_total = st.pieces_total;
  s.rss_bytes = own_rss_bytes();
  s.peak_rss_bytes = own_peak_rss_bytes();
  s.uptime_ms = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - self->state.started).count());
  s.banned_peers = st.banned_peers;
  s.have_hex = st.have_hex;
  s.hash_failures_from = st.hash_failures_from;
  s.wire = st.wire;
  s.wire_corrupted_to = st.wire_corrupted_to;
  if (!st.tracker_error.empty())
    s.errors.push_back("tracker: " + st.tracker_error);
  if (!st.disk_error.empty())
    s.errors.push_back("disk: " + st.disk_error);
  return s;
}

caf::result<control_sample> sample(control_actor::stateful_pointer<control_state> self) {
  auto& st = self->state;
  ++st.samples;
  auto rp = self->make_response_promise<control_sample>();
  auto timeout = st.cfg.request_timeout;
  self->request(st.cfg.torrent, timeout, progress_atom_v)
    .then(
      [self, rp, timeout](torrent_status& ts) mutable {
        auto s = make_sample(self, ts);
        self->request(self->state.cfg.torrent, timeout, status_atom_v)
          .then([rp, s](actor_status& as) mutable {
                  s.values = std::move(as.values);
                  rp.deliver(std::move(s));
                },
                [rp, s](caf::error&) mutable { rp.deliver(std::move(s)); });
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

control_actor::behavior_type control(control_actor::stateful_pointer<control_state> self, control_config cfg) {
  self->state.cfg = std::move(cfg);
  self->state.started = std::chrono::steady_clock::now();
  return {
    [self](sample_atom) -> caf::result<control_sample> { return sample(self); },
    [self](pause_atom) {
      self->send(self->state.cfg.torrent, pause_atom_v);
      return true;
    },
    [self](unpause_atom) {
      self->send(self->state.cfg.torrent, unpause_atom_v);
      return true;
    },
    [self](stop_atom) -> caf::result<bool> {
      if (!self->state.cfg.owner)
        return caf::make_error(caf::sec::runtime_error, "this control actor cannot stop its process");
      // the reply goes out first; the command then stops the torrent and exits
      caf::anon_send(self->state.cfg.owner, stop_atom_v);
      return true;
    },
    [self](wire_fault_atom, std::string& spec) -> caf::result<bool> {
      return self->delegate(self->state.cfg.torrent, wire_fault_atom_v, std::move(spec));
    },
    [self](disk_fault_atom, std::string& spec) -> caf::result<bool> {
      return self->delegate(self->state.cfg.torrent, disk_fault_atom_v, std::move(spec));
    },
  };
}

void add_control_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<control_sample>("actorrent::control_sample");
}

void configure_basp(caf::actor_system_config& cfg, std::chrono::milliseconds heartbeat,
                    std::chrono::milliseconds timeout) {
  cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{timeout});
}

std::uint64_t own_rss_bytes() { return proc_status_kib("VmRSS:"); }
std::uint64_t own_peak_rss_bytes() { return proc_status_kib("VmHWM:"); }

} // namespace actorrent
