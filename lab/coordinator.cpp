#include "lab/coordinator.hpp"

#include "actors/control.hpp"
#include "messages/interfaces.hpp"

#include <cstdlib>
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

namespace actorrent::lab {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto connect_timeout = 2s;
constexpr auto sample_timeout = 900ms;

/// What the coordinator actor writes and the runner reads.
struct board {
  mutable std::mutex mtx;
  std::map<std::uint32_t, board_entry> peers;
  std::map<std::uint32_t, clock_type::time_point> sampled_at;
  std::optional<std::string> fatal;
};

nlohmann::json to_progress(const control_sample& s) {
  nlohmann::json j;
  auto permille = s.total_size == 0 ? 1000 : std::min<std::uint64_t>(1000, s.have_bytes * 1000 / s.total_size);
  j["source"] = "basp";
  j["percent"] = static_cast<double>(permille) / 10.0;
  j["have_bytes"] = s.have_bytes;
  j["total_size"] = s.total_size;
  j["downloaded"] = s.downloaded;
  j["uploaded"] = s.uploaded;
  j["wasted"] = s.wasted;
  j["down_rate"] = std::llround(s.down_rate);
  j["up_rate"] = std::llround(s.up_rate);
  j["peers"] = s.peers;
  j["seeds"] = s.seeds;
  j["hash_failures"] = s.hash_failures;
  j["banned"] = s.banned;
  j["pieces_have"] = s.pieces_have;
  j["pieces_total"] = s.pieces_total;
  j["complete"] = s.complete;
  j["seeding"] = s.seeding;
  j["state"] = s.state;
  j["errors"] = s.errors;
  j["pid"] = s.pid;
  j["node"] = s.node;
  j["rss_bytes"] = s.rss_bytes;
  j["peak_rss_bytes"] = s.peak_rss_bytes;
  j["uptime_ms"] = s.uptime_ms;
  nlohmann::json faults = nlohmann::json::object();
  for (auto& [k, v] : s.values)
    if (k.rfind("wire.", 0) == 0 || k.rfind("disk.", 0) == 0)
      faults[k] = v;
  j["faults"] = faults;
  // the same keys as the JSON progress lines (app/progress.cpp): the ban oracles,
  // the piece copies and the wire-fault report read them
  j["banned_peers"] = s.banned_peers;
  if (!s.have_hex.empty())
    j["have"] = s.have_hex;
  if (!s.hash_failures_from.empty())
    j["hash_failures_from"] = s.hash_failures_from;
  if (!s.wire.empty() || !s.wire_corrupted_to.empty()) {
    auto& w = j["wire"] = nlohmann::json::object();
    for (auto& [k, v] : s.wire)
      w[k.substr(k.find('.') + 1)] = std::strtoull(v.c_str(), nullptr, 10);
    j["wire_corrupted_to"] = s.wire_corrupted_to;
  }
  return j;
}

struct peer_link {
  std::string name, host;
  std::uint16_t port = 0;
  control_actor handle;
  caf::node_id node;
  bool connecting = false;
  bool sampling = false;
  bool wanted = true; ///< false after forget, until the peer is added again: no reconnects to a peer that is down
  std::uint64_t generation = 0; ///< bumped by forget: late replies of an old process are dropped
};

struct coordinator_state {
  std::shared_ptr<board> out;
  std::map<std::uint32_t, peer_link> peers;
  static inline const char* name = "lab-coordinator";
};

using coord_ptr = coordinator_actor::stateful_pointer<coordinator_state>;

void note_error(coord_ptr self, std::uint32_t peer, const std::string& what) {
  std::lock_guard<std::mutex> guard{self->state.out->mtx};
  self->state.out->peers[peer].error = what;
}

void set_connected(coord_ptr self, std::uint32_t peer, bool on, const std::string& node) {
  std::lock_guard<std::mutex> guard{self->state.out->mtx};
  auto& e = self->state.out->peers[peer];
  e.connected = on;
  if (on) {
    e.node = node;
    ++e.connects;
    e.error.clear();
  }
}

void connect(coord_ptr self, std::uint32_t peer) {
  auto& link = self->state.peers[peer];
  if (link.connecting || link.handle)
    return;
  link.connecting = true;
  auto gen = link.generation;
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom_v, link.host, link.port)
    .then(
      [self, peer, gen](const caf::node_id& nid, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        auto& link = self->state.peers[peer];
        if (link.generation != gen)
          return;
        link.connecting = false;
        auto where = link.name + " (" + link.host + ":" + std::to_string(link.port) + ")";
        if (!ptr) {
          note_error(self, peer, "no actor published at " + where);
          return;
        }
        for (auto& [other, o] : self->state.peers)
          if (other != peer && o.handle && o.node == nid) {
            auto msg = "peers " + o.name + " and " + link.name + " have the same CAF node ID " + to_string(nid)
                       + ": BASP cannot tell them apart (CAF 0.17 derives it from the MAC addresses and the PID: "
                         "separate PID namespaces that see the same interfaces give the same ID); the run is stopped";
            std::lock_guard<std::mutex> guard{self->state.out->mtx};
            if (!self->state.out->fatal)
              self->state.out->fatal = msg;
            self->state.out->peers[peer].error = msg;
            return;
          }
        auto expected = self->system().message_types<control_actor>();
        if (!ifs.empty() && ifs != expected) {
          note_error(self, peer, where + " publishes another interface than actorrent's control actor");
          return;
        }
        link.handle = caf::actor_cast<control_actor>(ptr);
        link.node = nid;
        self->monitor(link.handle);
        set_connected(self, peer, true, to_string(nid));
      },
      [self, peer, gen](caf::error& err) {
        auto& link = self->state.peers[peer];
        if (link.generation != gen)
          return;
        link.connecting = false;
        note_error(self, peer, "connect to " + link.host + ":" + std::to_string(link.port) + ": "
                                 + self->system().render(err));
      });
}

void sample_one(coord_ptr self, std::uint32_t peer) {
  auto& link = self->state.peers[peer];
  if (!link.handle || link.sampling)
    return;
  link.sampling = true;
  auto gen = link.generation;
  self->request(link.handle, sample_timeout, sample_atom_v)
    .then(
      [self, peer, gen](control_sample& s) {
        auto& link = self->state.peers[peer];
        link.sampling = false;
        if (link.generation != gen)
          return;
        std::lock_guard<std::mutex> guard{self->state.out->mtx};
        auto& e = self->state.out->peers[peer];
        e.progress = to_progress(s);
        ++e.samples;
        e.error.clear();
        self->state.out->sampled_at[peer] = clock_type::now();
      },
      [self, peer, gen](caf::error& err) {
        auto& link = self->state.peers[peer];
        link.sampling = false;
        if (link.generation == gen)
          note_error(self, peer, "sample: " + self->system().render(err));
      });
}

template <class Atom, class... Ts>
caf::result<bool> relay(coord_ptr self, std::uint32_t peer, Atom atom, Ts... xs) {
  auto it = self->state.peers.find(peer);
  if (it == self->state.peers.end() || !it->second.handle)
    return caf::make_error(caf::sec::runtime_error, "peer " + std::to_string(peer) + " is not connected");
  return self->delegate(it->second.handle, atom, std::move(xs)...);
}

coordinator_actor::behavior_type coordinator_fun(coord_ptr self, std::shared_ptr<board> out) {
  self->state.out = std::move(out);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& [peer, link] : self->state.peers)
      if (link.handle && link.handle.address() == dm.source) {
        link.handle = nullptr;
        link.node = caf::node_id{};
        set_connected(self, peer, false, {});
        note_error(self, peer, "connection lost: " + self->system().render(dm.reason));
      }
  });
  self->delayed_send(self, 200ms, tick_atom_v);
  return {
    [self](caf::put_atom, std::uint32_t peer, std::string& name, std::string& host, std::uint16_t port) {
      auto& link = self->state.peers[peer];
      link.name = std::move(name);
      link.host = std::move(host);
      link.port = port;
      link.wanted = true;
      {
        std::lock_guard<std::mutex> guard{self->state.out->mtx};
        self->state.out->peers[peer].known = true;
      }
      connect(self, peer);
    },
    [self](left_atom, std::uint32_t peer) {
      auto& link = self->state.peers[peer];
      if (link.handle)
        self->demonitor(link.handle.address());
      link.handle = nullptr;
      link.node = caf::node_id{};
      link.connecting = false;
      link.sampling = false;
      link.wanted = false;
      ++link.generation;
      set_connected(self, peer, false, {});
    },
    [self](tick_atom) {
      for (auto& [peer, link] : self->state.peers) {
        if (link.handle)
          sample_one(self, peer);
        else if (link.wanted)
          connect(self, peer);
      }
      self->delayed_send(self, 1s, tick_atom_v);
    },
    [self](sample_atom, std::uint32_t peer) -> caf::result<control_sample> {
      auto it = self->state.peers.find(peer);
      if (it == self->state.peers.end() || !it->second.handle)
        return caf::make_error(caf::sec::runtime_error, "peer " + std::to_string(peer) + " is not connected");
      return self->delegate(it->second.handle, sample_atom_v);
    },
    [self](wire_fault_atom, std::uint32_t peer, std::string& spec) {
      return relay(self, peer, wire_fault_atom_v, std::move(spec));
    },
    [self](disk_fault_atom, std::uint32_t peer, std::string& spec) {
      return relay(self, peer, disk_fault_atom_v, std::move(spec));
    },
    [self](pause_atom, std::uint32_t peer) { return relay(self, peer, pause_atom_v); },
    [self](unpause_atom, std::uint32_t peer) { return relay(self, peer, unpause_atom_v); },
    [self](stop_atom, std::uint32_t peer) { return relay(self, peer, stop_atom_v); },
  };
}

/// Switches the calling thread's network namespace for its lifetime.
class netns_switch {
public:
  status enter(const std::string& path) {
    if (path.empty())
      return {};
    own_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own_ < 0)
      return make_error(std::string{"cannot open this thread's network namespace: "} + std::strerror(errno));
    int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0)
      return make_error("cannot open network namespace " + path + ": " + std::strerror(errno));
    int rc = ::setns(target, CLONE_NEWNET);
    int e = errno;
    ::close(target);
    if (rc != 0)
      return make_error("cannot enter network namespace " + path + ": " + std::strerror(e));
    return {};
  }
  ~netns_switch() {
    if (own_ >= 0) {
      ::setns(own_, CLONE_NEWNET); // back to where the runner's thread was
      ::close(own_);
    }
  }

private:
  int own_ = -1;
};

} // namespace

struct coordinator::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  coordinator_actor actor;
  std::shared_ptr<board> out = std::make_shared<board>();
  mutable std::mutex call_mtx;

  template <class T, class... Ts>
  result<T> call(std::chrono::milliseconds timeout, Ts&&... xs) {
    std::lock_guard<std::mutex> guard{call_mtx};
    if (!sys)
      return make_error("the coordinator is shut down");
    caf::scoped_actor self{*sys};
    std::optional<T> got;
    std::string err;
    self->request(actor, timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { got = std::move(x); }, [&](caf::error& e) { err = describe(e); });
    if (!got)
      return make_error(err);
    return std::move(*got);
  }

  std::string describe(const caf::error& e) {
    const auto& ctx = e.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return sys->render(e);
  }
};

coordinator::coordinator() : impl_(std::make_unique<impl>()) {}

coordinator::~coordinator() { shutdown(); }

result<std::unique_ptr<coordinator>> coordinator::start(const std::string& netns_path) {
  std::unique_ptr<coordinator> c{new coordinator};
  auto& im = *c->impl_;
  im.cfg.load<caf::io::middleman>();
  add_control_types(im.cfg);
  configure_basp(im.cfg);
  im.cfg.set("scheduler.max-threads", 2);
  {
    netns_switch ns;
    if (auto ok = ns.enter(netns_path); !ok)
      return ok.error();
    // every thread the system starts now is born in that namespace
    im.sys = std::make_unique<caf::actor_system>(im.cfg);
    im.actor = im.sys->spawn(coordinator_fun, im.out);
  }
  return c;
}

void coordinator::shutdown() {
  if (!impl_ || !impl_->sys)
    return;
  std::lock_guard<std::mutex> guard{impl_->call_mtx};
  caf::anon_send_exit(impl_->actor, caf::exit_reason::user_shutdown);
  impl_->actor = nullptr;
  impl_->sys.reset();
}

void coordinator::add_peer(std::size_t peer, const std::string& name, const std::string& host, std::uint16_t port) {
  std::lock_guard<std::mutex> guard{impl_->call_mtx};
  if (impl_->sys)
    caf::anon_send(impl_->actor, caf::put_atom_v, static_cast<std::uint32_t>(peer), name, host, port);
}

void coordinator::forget(std::size_t peer) {
  std::lock_guard<std::mutex> guard{impl_->call_mtx};
  if (impl_->sys)
    caf::anon_send(impl_->actor, left_atom_v, static_cast<std::uint32_t>(peer));
  std::lock_guard<std::mutex> g2{impl_->out->mtx};
  auto& e = impl_->out->peers[static_cast<std::uint32_t>(peer)];
  e.connected = false;
  e.progress.reset();
}

void coordinator::retire(std::size_t peer) {
  std::lock_guard<std::mutex> guard{impl_->call_mtx};
  if (impl_->sys)
    caf::anon_send(impl_->actor, left_atom_v, static_cast<std::uint32_t>(peer));
}

board_entry coordinator::latest(std::size_t peer) const {
  std::lock_guard<std::mutex> guard{impl_->out->mtx};
  auto key = static_cast<std::uint32_t>(peer);
  auto it = impl_->out->peers.find(key);
  if (it == impl_->out->peers.end())
    return {};
  board_entry e = it->second;
  if (auto t = impl_->out->sampled_at.find(key); t != impl_->out->sampled_at.end() && e.progress)
    e.age_s = std::chrono::duration<double>(clock_type::now() - t->second).count();
  return e;
}

std::optional<std::string> coordinator::fatal() const {
  std::lock_guard<std::mutex> guard{impl_->out->mtx};
  return impl_->out->fatal;
}

result<bool> coordinator::set_fault(std::size_t peer, fault_layer layer, const std::string& spec,
                                    std::chrono::milliseconds timeout) {
  auto p = static_cast<std::uint32_t>(peer);
  if (layer == fault_layer::wire)
    return impl_->call<bool>(timeout, wire_fault_atom_v, p, spec);
  return impl_->call<bool>(timeout, disk_fault_atom_v, p, spec);
}

result<nlohmann::json> coordinator::sample_now(std::size_t peer, std::chrono::milliseconds timeout) {
  auto s = impl_->call<control_sample>(timeout, sample_atom_v, static_cast<std::uint32_t>(peer));
  if (!s)
    return s.error();
  return to_progress(*s);
}

result<bool> coordinator::pause(std::size_t peer, bool on, std::chrono::milliseconds timeout) {
  auto p = static_cast<std::uint32_t>(peer);
  if (on)
    return impl_->call<bool>(timeout, pause_atom_v, p);
  return impl_->call<bool>(timeout, unpause_atom_v, p);
}

void coordinator::request_stop(std::size_t peer) {
  std::lock_guard<std::mutex> guard{impl_->call_mtx};
  if (impl_->sys)
    caf::anon_send(impl_->actor, stop_atom_v, static_cast<std::uint32_t>(peer));
}

result<bool> coordinator::stop(std::size_t peer, std::chrono::milliseconds timeout) {
  return impl_->call<bool>(timeout, stop_atom_v, static_cast<std::uint32_t>(peer));
}

} // namespace actorrent::lab
