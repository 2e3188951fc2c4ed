#include "daemon/session.hpp"

#include "api/json_text.hpp"
#include "actors/torrent.hpp"
#include "api/metrics.hpp"
#include "app/engine_config.hpp"
#include "daemon/rpc.hpp"
#include "daemon/torrent_table.hpp"
#include "logic/engine_metrics.hpp"
#include "logic/file_selection.hpp"
#include "logic/rate_split.hpp"
#include "logic/shared_text.hpp"
#include "logic/slot_gate.hpp"
#include "protocol/metainfo.hpp"
#include "protocol/peer_id.hpp"
#include "protocol/text.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include <dirent.h>
#include <malloc.h>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actorrent::daemon {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t max_torrent_bytes = 16 << 20; ///< a .torrent given to the API or the watch directory

void log_line(const std::string& line) {
  std::fprintf(stderr, "actorrent daemon: %s\n", line.c_str());
  std::fflush(stderr);
}

// ---- the state worker ------------------------------------------------------------

bool write_atomically(const std::string& path, const std::string& bytes, std::string& err) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    err = tmp + ": " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = tmp + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// A path under `root` made of the relative '/'-separated `rel` (no "..", no
// absolute path), or empty.
std::string inside(const std::string& root, const std::string& rel) {
  if (rel.empty() || rel.front() == '/')
    return {};
  std::size_t start = 0;
  while (start <= rel.size()) {
    auto slash = rel.find('/', start);
    auto comp = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (comp.empty() || comp == "." || comp == "..")
      return {};
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return root + "/" + rel;
}

void erase_files(const std::string& root, const std::vector<std::string>& rels) {
  std::set<std::string, std::greater<>> dirs; // deepest first
  for (auto& rel : rels) {
    auto path = inside(root, rel);
    if (path.empty())
      continue;
    // refuse symbolic links in the directories on the way too
    bool link_on_way = false;
    for (auto slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
      struct stat ds {};
      auto d = root + "/" + rel.substr(0, slash);
      if (::lstat(d.c_str(), &ds) != 0 || S_ISLNK(ds.st_mode)) {
        link_on_way = true;
        break;
      }
      dirs.insert(d);
    }
    struct stat st {};
    if (link_on_way || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    ::unlink(path.c_str());
  }
  for (auto& d : dirs)
    ::rmdir(d.c_str()); // only succeeds when empty
}

struct store_state {
  static inline const char* name = "daemon-state-store";
};

state_store_actor::behavior_type state_store(state_store_actor::stateful_pointer<store_state> self) {
  return {
    [self](status_atom) {
      return actor_status{"state-store", "", {{"mailbox", std::to_string(self->mailbox().size())}}};
    },
    [](put_atom, const std::string& path, const std::string& bytes) {
      std::string err;
      if (!write_atomically(path, bytes, err))
        log_line("cannot write " + err);
    },
    [](erase_atom, const std::string& root, const std::vector<std::string>& rels) { erase_files(root, rels); },
    [](flush_atom) { return true; },
    [](scan_atom, const std::string& dir, const session_actor& session) {
      std::vector<std::string> names, blobs;
      DIR* d = ::opendir(dir.c_str());
      if (d == nullptr) {
        log_line("cannot read the watch directory " + dir + ": " + std::strerror(errno));
        caf::anon_send(session, scan_atom_v, names, blobs);
        return;
      }
      std::vector<std::string> found;
      while (auto* ent = ::readdir(d)) {
        std::string n = ent->d_name;
        if (n.size() > 8 && n.compare(n.size() - 8, 8, ".torrent") == 0 && n.front() != '.')
          found.push_back(n);
        if (found.size() >= 1000)
          break;
      }
      ::closedir(d);
      std::sort(found.begin(), found.end());
      for (auto& n : found) {
        auto path = dir + "/" + n;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
          continue;
        std::string why;
        std::string bytes;
        if (static_cast<std::uint64_t>(st.st_size) > max_torrent_bytes) {
          why = "larger than " + std::to_string(max_torrent_bytes) + " bytes";
        } else {
          std::ifstream in(path, std::ios::binary);
          bytes.assign(std::istreambuf_iterator<char>(in), {});
          if (!in && !in.eof())
            why = "cannot read it";
          else if (auto mi = parse_metainfo(bytes); !mi)
            why = "not a valid .torrent: " + mi.error().to_string();
        }
        if (!why.empty()) {
          std::string err;
          ::rename(path.c_str(), (path + ".bad").c_str());
          write_atomically(path + ".reason", why + "\n", err);
          log_line("watch: " + n + " moved aside as " + n + ".bad: " + why);
          continue;
        }
        ::rename(path.c_str(), (path + ".added").c_str());
        names.push_back(n);
        blobs.push_back(std::move(bytes));
      }
      caf::anon_send(session, scan_atom_v, std::move(names), std::move(blobs));
    },
  };
}

// ---- the session -------------------------------------------------------------------

/// entry::sent_slots before any share was sent: the torrent's own slot counts.
constexpr std::uint32_t no_slot_cap = std::numeric_limits<std::uint32_t>::max();

/// What the session keeps of a torrent's last status: the fields its rows,
/// stats and limits read. The full torrent_status (496 bytes, with the lab's
/// wire counters, the have bitfield, the banned and failed-from lists) was
/// kept for every torrent, sleeping or not.
struct status_row {
  std::uint64_t total_size = 0, have_bytes = 0, downloaded = 0, wasted = 0, uploaded = 0;
  std::uint64_t check_total = 0, selected_size = 0, selected_have = 0;
  std::uint32_t pieces_have = 0, pieces_total = 0, peers = 0, seeds = 0, leechers = 0;
  std::uint32_t hash_failures = 0, banned = 0, resumed_pieces = 0, half_open = 0, handshaking = 0;
  double down_rate = 0, up_rate = 0;
  bool complete = false;
  /// Alike across thousands of torrents of one tracker: one copy each.
  logic::shared_text tracker_status, tracker_error;
  std::optional<torrent_phase> state; ///< none before the first status
  std::vector<peer_info> peer_list;

  /// Takes what it keeps of `s` (an unchanged tracker line costs no lock; peer_list keeps its buffer).
  void assign(const torrent_status& s) {
    total_size = s.total_size;
    have_bytes = s.have_bytes;
    downloaded = s.downloaded;
    wasted = s.wasted;
    uploaded = s.uploaded;
    check_total = s.check_total;
    selected_size = s.selected_size;
    selected_have = s.selected_have;
    pieces_have = s.pieces_have;
    pieces_total = s.pieces_total;
    peers = s.peers;
    seeds = s.seeds;
    leechers = s.leechers;
    hash_failures = s.hash_failures;
    banned = s.banned;
    resumed_pieces = s.resumed_pieces;
    half_open = s.half_open;
    handshaking = s.handshaking;
    down_rate = s.down_rate;
    up_rate = s.up_rate;
    complete = s.complete;
    tracker_status = s.tracker_status;
    state = phase_from_name(s.state);
    tracker_error = s.tracker_error;
    peer_list = s.peer_list;
  }
};

struct entry {
  /// The session's map key (the v1 info-hash in hex), not a copy of it.
  const std::string* key = nullptr;
  const std::string& id() const { return *key; }
  std::uint64_t seq = 0;
  std::shared_ptr<const metainfo> mi;
  std::string save_path;
  std::vector<std::string> labels;
  std::vector<bool> files;          ///< wanted per entry of mi->files (empty: all)
  bool user_paused = false;
  std::optional<std::uint64_t> up_limit, down_limit, peers_limit;
  std::optional<double> ratio_limit;
  std::int64_t added_at = 0;        ///< unix seconds

  torrent_actor actor;
  /// Asleep (seeding or finished, quiet for seeding.sleep_after): no actor;
  /// spawned again from `nap` by a peer, its next announce or an API call.
  /// The nap is copied into these fields rather than kept as the torrent sent
  /// it: their buffers are allocated once, with the entry, and reused from one
  /// sleep to the next, so thousands of naps do not pin pages all over the
  /// heap that the torrents' actors used (fragmentation was most of the RSS).
  bool asleep = false;
  torrent_nap nap;                  ///< its `announcer` and `status` stay null: see nap_announcer
  announce_nap nap_announcer;
  bool nap_has_announcer = false;
  bool nap_tiers_from_metainfo = false; ///< nap_announcer.tiers left empty: they are mi->trackers
  bool napping = false;             ///< a sleep request is in flight
  /// Queued for its start-up check, not spawned yet: a daemon adding or
  /// restoring thousands of torrents holds actors only for those it checks
  /// and runs, not for every one waiting.
  bool unspawned = false;
  /// It last had a peer (or a peer woke it); a torrent that never had one
  /// may sleep as soon as it is quiet (right after its check and first announce).
  clock_type::time_point last_busy{};
  status_row status;
  torrent_phase phase = torrent_phase::queued; ///< the actor's lifecycle state
  logic::shared_text error;
  logic::shared_text queue_reason;  ///< why the session holds it (queued, ratio reached, ...)
  bool session_paused = false;      ///< paused by the queue (shown as queued)
  bool check_requested = false;
  bool restored = false;
  bool ready_pending = false;       ///< restored and not checked yet: /readyz waits for it
  clock_type::time_point check_started{};
  std::optional<double> check_ms;
  std::optional<std::uint64_t> check_hashed;
  clock_type::time_point running_since{};
  clock_type::time_point last_down{}, last_up{};
  std::uint64_t seen_down = 0, seen_up = 0;
  bool stalled = false;
  bool poll_pending = false;
  std::uint64_t woke_tick = 0;      ///< the session tick of its last `woke` event
  // what was last sent as limits
  double sent_up = -1, sent_down = -1;
  std::uint32_t sent_peers = 0, sent_half = 0;
  std::uint32_t sent_slots = no_slot_cap; ///< limits.unchoke_slots: the share last sent
  // restart (recheck, files_set) and removal
  bool restarting = false;
  bool recheck_next = false;
  bool removing = false;
  bool delete_data = false;
  const char* last_api_state = nullptr; ///< api_state() when last announced on the feed
};

struct session_state {
  session_config cfg;
  std::map<std::string, entry> torrents;
  /// The torrents in the order they were added (by seq), kept between calls of
  /// schedule(), which runs on every state change: sorting all of them each time
  /// made a restart of 5,000 torrents take 25 s. Stale after every insert or erase.
  std::vector<entry*> order;
  bool order_stale = true;
  /// The id of the entry each running torrent actor belongs to, for its down
  /// message: a walk over every entry comparing addresses (a weak reference
  /// taken and dropped for each) was a fifth of the CPU time of a restart of
  /// 5,000 torrents. Kept by set_actor and clear_actor.
  std::unordered_map<caf::actor_addr, std::string> by_actor;
  std::uint64_t next_seq = 1;
  state_store_actor store;
  /// Mailbox sizes of the listener and the state store, asked every 5 s
  /// (only an actor itself can read its mailbox).
  std::map<std::string, std::uint64_t> mailboxes;
  sha1_hash peer_id;
  clock_type::time_point started = clock_type::now();
  std::uint64_t ticks = 0;
  std::uint64_t watch_due = 0;
  bool scanning = false;
  bool shutting_down = false;
  bool schedule_pending = false; ///< a schedule_atom to itself is in the mailbox
  std::size_t restore_pending = 0;    ///< restored torrents not checked yet
  clock_type::time_point restore_started{};
  // totals of torrents that are gone, and counters
  std::uint64_t removed_downloaded = 0, removed_uploaded = 0;
  std::uint64_t added_total = 0, removed_total = 0, completed_total = 0, errors_total = 0;
  std::uint64_t tracker_failures = 0, watch_added = 0, watch_rejected = 0;
  std::uint64_t rpc_calls = 0;
  std::uint64_t sleeps = 0, wakes = 0; ///< torrents put to sleep and spawned again from their nap
  /// Tracker requests in flight at once (limits.announces), shared by every
  /// torrent's announcer: each request holds a worker thread up to its timeout.
  std::shared_ptr<logic::slot_gate> announce_gate;
  /// The engine's counters for /metrics, shared with every torrent's peers,
  /// connectors and disk store; cumulative for the daemon's life.
  std::shared_ptr<logic::engine_metrics> metrics = std::make_shared<logic::engine_metrics>(
    api::daemon_metrics::hash_check_bounds(), api::daemon_metrics::disk_op_bounds());
  static inline const char* name = "session";
};

using self_ptr = session_actor::stateful_pointer<session_state>;

std::string reply_result(json result) {
  return json{{"result", std::move(result)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string reply_error(int code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}}.dump(-1, ' ', false,
                                                                      json::error_handler_t::replace);
}

const daemon_config& conf(self_ptr self) { return self->state.cfg.config.cfg; }

void emit(self_ptr self, json ev) {
  if (self->state.cfg.hooks.on_event)
    self->state.cfg.hooks.on_event(ev);
}

const label_defaults* label_of(self_ptr self, const entry& e, bool (*has)(const label_defaults&)) {
  for (auto& l : e.labels)
    if (auto it = conf(self).labels.find(l); it != conf(self).labels.end() && has(it->second))
      return &it->second;
  return nullptr;
}

double ratio_limit_of(self_ptr self, const entry& e) {
  if (e.ratio_limit)
    return *e.ratio_limit;
  if (auto* l = label_of(self, e, [](const label_defaults& d) { return d.ratio_limit.has_value(); }))
    return *l->ratio_limit;
  return conf(self).ratio_limit;
}

std::uint64_t up_limit_of(self_ptr self, const entry& e) {
  if (e.up_limit)
    return *e.up_limit;
  if (auto* l = label_of(self, e, [](const label_defaults& d) { return d.upload_rate.has_value(); }))
    return *l->upload_rate;
  return conf(self).engine.max_upload_rate;
}

std::uint64_t down_limit_of(self_ptr self, const entry& e) {
  if (e.down_limit)
    return *e.down_limit;
  if (auto* l = label_of(self, e, [](const label_defaults& d) { return d.download_rate.has_value(); }))
    return *l->download_rate;
  return conf(self).engine.max_download_rate;
}

std::uint64_t peers_limit_of(self_ptr self, const entry& e) {
  if (e.peers_limit)
    return *e.peers_limit;
  if (auto* l = label_of(self, e, [](const label_defaults& d) { return d.peers.has_value(); }))
    return *l->peers;
  return conf(self).peers_per_torrent;
}

/// The API's state of a torrent: one of torrent_states(), a static string.
const char* api_state(const entry& e) {
  if (e.removing || e.phase == torrent_phase::stopping)
    return "stopping";
  if (!e.actor && !e.asleep && !e.unspawned)
    return e.restarting ? "checking" : "error";
  if (e.phase == torrent_phase::checking)
    return "checking";
  if (e.phase == torrent_phase::downloading)
    return "downloading";
  if (e.phase == torrent_phase::seeding || e.phase == torrent_phase::finished)
    return "seeding";
  // queued (never started) or paused
  return e.user_paused ? "paused" : "queued";
}

std::string resume_path(self_ptr self, const std::string& id) { return conf(self).state + "/resume/" + id + ".resume"; }
std::string torrent_path(self_ptr self, const std::string& id) {
  return conf(self).state + "/torrents/" + id + ".torrent";
}
std::string meta_path(self_ptr self, const std::string& id) { return conf(self).state + "/torrents/" + id + ".json"; }

json limits_json(const entry& e) {
  json l = json::object();
  if (e.up_limit)
    l["upload_rate"] = *e.up_limit;
  if (e.down_limit)
    l["download_rate"] = *e.down_limit;
  if (e.peers_limit)
    l["peers"] = *e.peers_limit;
  return l;
}

void persist(self_ptr self, const entry& e) {
  json m = {{"save_path", e.save_path}, {"labels", e.labels}, {"paused", e.user_paused}, {"added", e.added_at},
            {"limits", limits_json(e)}};
  if (e.ratio_limit)
    m["ratio_limit"] = *e.ratio_limit;
  if (!e.files.empty()) {
    json f = json::array();
    for (bool b : e.files)
      f.push_back(b);
    m["files"] = f;
  }
  self->send(self->state.store, put_atom_v, meta_path(self, e.id()), m.dump());
}

double progress_of(const entry& e) {
  const auto& s = e.status;
  auto size = s.selected_size > 0 ? s.selected_size : (e.mi ? e.mi->total_size : 0);
  auto have = s.selected_size > 0 ? s.selected_have : s.have_bytes;
  return size == 0 ? 1.0 : static_cast<double>(have) / static_cast<double>(size);
}

std::uint64_t wanted_of(const entry& e) {
  return e.status.selected_size > 0 ? e.status.selected_size : e.mi->total_size;
}

std::uint64_t have_of(const entry& e) {
  return e.status.selected_size > 0 ? e.status.selected_have : e.status.have_bytes;
}


// Every field of a torrent's row (torrent_fields() names them), each computed
// on its own: torrents.list writes the fields asked for straight into its
// answer, without a JSON object per torrent.
using field_fn = json (*)(self_ptr, const entry&);
using write_fn = void (*)(std::string&, self_ptr, const entry&);
struct row_field {
  const char* name;
  field_fn fn;
  write_fn write = nullptr; ///< the same value written as text (no json built); null: append fn's
};

// A value written as text exactly as append_json writes json(v).
void write_value(std::string& out, const std::string& v) { api::append_json_string(out, v); }
void write_value(std::string& out, double v) { api::append_json_double(out, v); }
void write_value(std::string& out, long long v) { api::append_json_int(out, v); }
void write_value(std::string& out, std::uint64_t v) { api::append_json_uint(out, v); }
void write_value(std::string& out, std::uint32_t v) { api::append_json_uint(out, v); }
void write_value(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0)
      out += ',';
    api::append_json_string(out, v[i]);
  }
  out += ']';
}
template <class T>
void write_value(std::string& out, const std::optional<T>& v) {
  if (v)
    write_value(out, *v);
  else
    out += "null";
}

template <class T>
json json_of(const T& v) {
  return json(v);
}
template <class T>
json json_of(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// A field from one typed getter: its json value and its text agree by construction.
template <auto Get>
row_field typed_field(const char* name) {
  return {name, [](self_ptr self, const entry& e) { return json_of(Get(self, e)); },
          [](std::string& out, self_ptr self, const entry& e) { write_value(out, Get(self, e)); }};
}

std::optional<std::string> none_if_empty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>{s};
}

const std::vector<row_field>& row_fields() {
  static const std::vector<row_field> table{
    typed_field<([](self_ptr, const entry& e) -> const std::string& { return e.id(); })>("id"),
    typed_field<([](self_ptr, const entry& e) -> const std::string& { return e.mi->name; })>("name"),
    typed_field<([](self_ptr, const entry& e) { return api_state(e); })>("state"),
    typed_field<([](self_ptr, const entry& e) { return std::round(progress_of(e) * 10000) / 10000; })>("progress"),
    typed_field<([](self_ptr, const entry& e) { return std::uint64_t{e.mi->total_size}; })>("size"),
    {"wanted_size", [](self_ptr, const entry& e) { return json(wanted_of(e)); }},
    {"have_bytes", [](self_ptr, const entry& e) { return json(have_of(e)); }},
    typed_field<([](self_ptr, const entry& e) { return std::llround(e.status.down_rate); })>("down_rate"),
    typed_field<([](self_ptr, const entry& e) { return std::llround(e.status.up_rate); })>("up_rate"),
    typed_field<([](self_ptr, const entry& e) { return std::uint32_t{e.status.peers}; })>("peers"),
    {"seeds", [](self_ptr, const entry& e) { return json(e.status.seeds); }},
    typed_field<([](self_ptr, const entry& e) {
      auto size = e.mi->total_size;
      double ratio = size == 0 ? 0.0 : static_cast<double>(e.status.uploaded) / static_cast<double>(size);
      return std::round(ratio * 1000) / 1000;
    })>("ratio"),
    typed_field<([](self_ptr, const entry& e) -> std::optional<std::uint64_t> {
      auto wanted = wanted_of(e);
      auto have = have_of(e);
      if (have < wanted && e.status.down_rate > 1)
        return static_cast<std::uint64_t>(static_cast<double>(wanted - have) / e.status.down_rate);
      return std::nullopt;
    })>("eta"),
    typed_field<([](self_ptr, const entry& e) -> const std::vector<std::string>& { return e.labels; })>("labels"),
    typed_field<([](self_ptr, const entry& e) -> const std::string& { return e.save_path; })>("save_path"),
    typed_field<([](self_ptr, const entry& e) { return none_if_empty(e.error); })>("error"),
    {"downloaded", [](self_ptr, const entry& e) { return json(e.status.downloaded); }},
    {"uploaded", [](self_ptr, const entry& e) { return json(e.status.uploaded); }},
    {"pieces", [](self_ptr, const entry& e) { return json(e.mi->num_pieces()); }},
    {"pieces_have", [](self_ptr, const entry& e) { return json(e.status.pieces_have); }},
    {"added", [](self_ptr, const entry& e) { return json(e.added_at); }},
    typed_field<([](self_ptr, const entry& e) { return none_if_empty(e.queue_reason); })>("queue_reason"),
    {"restored", [](self_ptr, const entry& e) { return json(e.restored); }},
    {"asleep", [](self_ptr, const entry& e) { return json(e.asleep); }},
    {"check",
     [](self_ptr, const entry& e) {
       if (!e.check_ms)
         return json(nullptr);
       return json{{"ms", std::llround(*e.check_ms)},
                   {"pieces_hashed", e.check_hashed.value_or(0)},
                   {"pieces_verified", e.status.resumed_pieces}};
     }},
    {"ratio_limit", [](self_ptr self, const entry& e) { return json(ratio_limit_of(self, e)); }},
    {"limits",
     [](self_ptr self, const entry& e) {
       return json{{"upload_rate", up_limit_of(self, e)},
                   {"download_rate", down_limit_of(self, e)},
                   {"peers", peers_limit_of(self, e)}};
     }},
    {"tracker_status",
     [](self_ptr, const entry& e) {
       return json((e.status.tracker_error.empty() ? e.status.tracker_status : e.status.tracker_error).str());
     }},
  };
  return table;
}

const row_field* find_field(const std::string& name) {
  for (auto& f : row_fields())
    if (name == f.name)
      return &f;
  return nullptr;
}

json row_of(self_ptr self, const entry& e) {
  json row = json::object();
  for (auto& f : row_fields())
    row[f.name] = f.fn(self, e);
  return row;
}

// torrents.list's result as JSON text, written field by field (1,000 rows
// would otherwise be 1,000 JSON objects built, dumped, and parsed again).
std::string list_text(self_ptr self, const list_query& q) {
  std::vector<const entry*> entries; // id order (the map's)
  entries.reserve(self->state.torrents.size());
  for (auto& [id, e] : self->state.torrents)
    entries.push_back(&e);
  list_source src;
  src.size = entries.size();
  src.state = [&](std::size_t i) { return api_state(*entries[i]); };
  src.name = [&](std::size_t i) { return entries[i]->mi->name; };
  src.has_label = [&](std::size_t i, const std::string& l) {
    const auto& ls = entries[i]->labels;
    return std::find(ls.begin(), ls.end(), l) != ls.end();
  };
  const row_field* sort_field = nullptr; // select_page asks for one field, row after row
  std::string sort_name;
  src.value = [&](std::size_t i, const std::string& f) {
    if (sort_field == nullptr || f != sort_name) {
      sort_field = find_field(f);
      sort_name = f;
    }
    return sort_field == nullptr ? json(nullptr) : sort_field->fn(self, *entries[i]);
  };
  auto page = select_page(src, q);
  std::vector<const row_field*> cols;
  if (q.fields.empty()) {
    for (auto& f : row_fields())
      cols.push_back(&f);
  } else {
    for (auto& name : q.fields)
      if (auto* f = find_field(name); f != nullptr && std::find(cols.begin(), cols.end(), f) == cols.end())
        cols.push_back(f);
  }
  std::string out = "{\"next_cursor\":";
  out += page.next ? "\"" + std::to_string(*page.next) + "\"" : std::string{"null"};
  out += ",\"torrents\":[";
  out.reserve(out.size() + page.rows.size() * (40 + 24 * cols.size()));
  // values are written straight into `out` (no string per value)
  bool first_row = true;
  for (auto i : page.rows) {
    out += first_row ? "{" : ",{";
    first_row = false;
    bool first_col = true;
    for (auto* c : cols) {
      if (!first_col)
        out += ',';
      first_col = false;
      out += '"';
      out += c->name;
      out += "\":";
      if (c->write != nullptr)
        c->write(out, self, *entries[i]);
      else
        api::append_json(out, c->fn(self, *entries[i]));
    }
    out += '}';
  }
  out += "],\"total\":" + std::to_string(page.total) + "}";
  return out;
}

void note_state(self_ptr self, entry& e) {
  const char* now_state = api_state(e);
  if (e.last_api_state != nullptr && std::string_view{now_state} == e.last_api_state)
    return;
  json ev = {{"type", "state"}, {"id", e.id()}, {"name", e.mi->name}, {"state", now_state},
             {"previous", e.last_api_state == nullptr ? json(nullptr) : json(e.last_api_state)}};
  if (!e.queue_reason.empty())
    ev["reason"] = e.queue_reason.str();
  e.last_api_state = now_state;
  emit(self, std::move(ev));
}

// ---- torrents ------------------------------------------------------------------

void schedule(self_ptr self);
void restore_counted(self_ptr self, entry& e);

// `e` has no actor any more (it went down, or quit to sleep).
void clear_actor(self_ptr self, entry& e) {
  if (!e.actor)
    return;
  self->state.by_actor.erase(e.actor.address());
  e.actor = nullptr;
}

// A fresh torrent actor for `e`, monitored (a previous one's down message
// is then ignored, as before the index).
void set_actor(self_ptr self, entry& e, torrent_actor actor) {
  clear_actor(self, e);
  e.actor = std::move(actor);
  self->monitor(e.actor);
  self->state.by_actor[e.actor.address()] = e.id();
}

// The queue pass after a torrent's event, once for all the events already
// in the mailbox: schedule() walks every torrent, and at a restart of 5,000
// torrents one pass per event made it 4.5 s to all seeding instead of 3.0-3.2 s.
// While events come slower than the session handles them, each still gets
// its own pass, at once.
void schedule_soon(self_ptr self) {
  auto& st = self->state;
  if (st.schedule_pending)
    return;
  st.schedule_pending = true;
  self->send(self, schedule_atom_v);
}

// The torrent actor's config for an entry.
torrent_config entry_config(self_ptr self, entry& e) {
  auto& st = self->state;
  torrent_config tc;
  tc.torrent = e.mi;
  tc.download_dir = e.save_path;
  tc.listen_port = st.cfg.listen_port;
  app::apply_settings(conf(self).engine, tc);
  tc.peer_defaults.metrics = st.metrics;
  tc.disk_defaults.metrics = st.metrics;
  tc.max_peers = static_cast<std::uint32_t>(std::min<std::uint64_t>(peers_limit_of(self, e), conf(self).peers_global));
  tc.max_upload_rate = static_cast<double>(up_limit_of(self, e));
  tc.max_download_rate = static_cast<double>(down_limit_of(self, e));
  tc.use_trackers = true;
  tc.seed = true;
  tc.start_queued = true;
  tc.peer_id = st.peer_id;
  tc.announcer_defaults.gate = st.announce_gate;
  tc.observer = caf::actor_cast<caf::actor>(self);
  tc.listener = st.cfg.listener;
  tc.resume_file = resume_path(self, e.id());
  tc.selected_files = e.files;
  tc.verbose = st.cfg.verbose;
  return tc;
}

// Back to `queued`, before its start-up check.
void reset_entry(entry& e) {
  e.asleep = false;
  e.napping = false;
  e.phase = torrent_phase::queued;
  e.error.clear();
  e.check_requested = false;
  e.session_paused = false;
  e.restarting = false;
  e.sent_up = e.sent_down = -1;
  e.sent_peers = e.sent_half = 0;
  e.sent_slots = no_slot_cap;
  e.status = status_row{};
  e.status.total_size = e.mi->total_size;
  e.status.pieces_total = static_cast<std::uint32_t>(e.mi->num_pieces());
}

// A fresh torrent actor (queued: the session starts its check). A nap is
// dropped: the fresh actor knows its pieces from the resume data.
void spawn_entry(self_ptr self, entry& e) {
  auto tc = entry_config(self, e);
  tc.recheck = std::exchange(e.recheck_next, false);
  reset_entry(e);
  e.unspawned = false;
  set_actor(self, e, self->spawn(torrent, std::move(tc)));
}

// Queued without an actor: schedule() spawns it when its check may start.
void defer_spawn(entry& e) {
  reset_entry(e);
  e.unspawned = true;
}

entry* find_entry(self_ptr self, const std::string& id);
void update_status(entry& e, const torrent_status& s);

// A nap's data without its announcer and status (assigned: `to` keeps its buffers).
void copy_nap(torrent_nap& to, const torrent_nap& from) {
  to.phase = from.phase;
  to.have = from.have;
  to.resumed_pieces = from.resumed_pieces;
  to.downloaded_closed = from.downloaded_closed;
  to.uploaded_closed = from.uploaded_closed;
  to.wasted = from.wasted;
  to.hash_failures = from.hash_failures;
  to.resume_totals = from.resume_totals;
  to.pieces_saved = from.pieces_saved;
  to.moved_saved = from.moved_saved;
  to.announced = from.announced;
}

// A sleeping torrent spawned again from its nap: it goes on seeding (or
// finished) without a check; the limits are sent again.
void wake_entry(self_ptr self, entry& e) {
  auto& st = self->state;
  auto tc = entry_config(self, e);
  auto nap = std::make_shared<torrent_nap>();
  copy_nap(*nap, e.nap);
  if (e.nap_has_announcer) {
    auto a = std::make_shared<announce_nap>(e.nap_announcer);
    if (e.nap_tiers_from_metainfo)
      a->tiers = e.mi->trackers;
    nap->announcer = std::move(a);
  }
  nap->status = std::make_unique<torrent_status>(); // its tracker lines, as it showed them
  nap->status->tracker_status = e.status.tracker_status.str();
  nap->status->tracker_error = e.status.tracker_error.str();
  tc.nap = std::move(nap);
  e.asleep = false;
  set_actor(self, e, self->spawn(torrent, std::move(tc)));
  e.sent_up = e.sent_down = -1;
  e.sent_peers = e.sent_half = 0;
  e.sent_slots = no_slot_cap;
  e.woke_tick = st.ticks;
  ++st.wakes;
}

// The entry's actor, spawned again if it sleeps (null if it has none: failed).
const torrent_actor& awake(self_ptr self, entry& e) {
  if (!e.actor && e.asleep)
    wake_entry(self, e);
  return e.actor;
}

// Quiet enough to be asked to sleep: seeding or finished, no peer for
// seeding.sleep_after, nothing the session holds it for. The torrent itself
// has the last word (it says no while its announcer talks to a tracker).
bool may_sleep(self_ptr self, const entry& e, clock_type::time_point now) {
  auto sleep_after = std::chrono::seconds{conf(self).sleep_after};
  return e.actor && !e.napping && sleep_after.count() > 0 && (e.phase == torrent_phase::seeding || e.phase == torrent_phase::finished)
         && e.status.peers == 0 && !e.removing && !e.restarting && !e.user_paused && !e.session_paused
         && now - e.last_busy >= sleep_after;
}

// Asks a quiet torrent to sleep; it says no if it is not quiet after all.
void try_sleep(self_ptr self, entry& e) {
  e.napping = true;
  auto key = e.id();
  auto actor = e.actor;
  // no timeout: a torrent always answers (at once, or when its announcer has),
  // and a nap lost to a timeout would leave a torrent that quit for nothing
  self->request(actor, caf::infinite, sleep_atom_v)
    .then(
      [self, key, actor](torrent_nap_ptr& nap) {
        auto* e = find_entry(self, key);
        // its down message may have come first (on_down leaves it napping)
        if (e == nullptr || !nap || !(e->actor == actor || (!e->actor && e->napping)))
          return;
        e->napping = false;
        self->demonitor(actor.address());
        clear_actor(self, *e);
        e->poll_pending = false;
        if (nap->status)
          update_status(*e, *nap->status);
        copy_nap(e->nap, *nap);
        e->nap_has_announcer = nap->announcer != nullptr;
        if (nap->announcer) {
          e->nap_announcer = *nap->announcer; // assigned into the buffers it has
          // tiers as the metainfo lists them (the usual case) are not kept twice
          e->nap_tiers_from_metainfo = e->nap_announcer.tiers == e->mi->trackers;
          if (e->nap_tiers_from_metainfo)
            std::vector<std::vector<std::string>>{}.swap(e->nap_announcer.tiers);
        }
        e->asleep = true;
        ++self->state.sleeps;
      },
      [self, key, actor](caf::error&) {
        if (auto* e = find_entry(self, key); e != nullptr && e->actor == actor)
          e->napping = false;
      });
}

// Stops the actor; `then` runs once it has answered (or the bound passed).
void stop_actor(self_ptr self, entry& e) {
  if (!e.actor)
    return;
  auto actor = e.actor;
  self->request(actor, std::chrono::seconds{conf(self).shutdown_timeout}, stop_atom_v)
    .then([self, actor](bool) { self->send_exit(actor, caf::exit_reason::user_shutdown); },
          [self, actor](caf::error&) { self->send_exit(actor, caf::exit_reason::user_shutdown); });
}

entry* find_entry(self_ptr self, const std::string& id) {
  auto it = self->state.torrents.find(id);
  return it == self->state.torrents.end() ? nullptr : &it->second;
}

entry& need(self_ptr self, const std::string& id) {
  auto* e = find_entry(self, id);
  if (e == nullptr)
    throw rpc::rpc_error(rpc::not_found, "no torrent with id " + id);
  return *e;
}

std::string check_save_path(const std::string& p) {
  if (p.empty() || p.front() != '/' || p.size() > 4096)
    throw rpc::rpc_error(rpc::invalid_params, "save_path must be an absolute path");
  for (char c : p)
    if (static_cast<unsigned char>(c) < 0x20)
      throw rpc::rpc_error(rpc::invalid_params, "save_path holds a control character");
  if (p.find("/../") != std::string::npos || (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0))
    throw rpc::rpc_error(rpc::invalid_params, "save_path must not contain '..'");
  return p;
}

std::vector<std::string> check_labels(const std::vector<std::string>& labels) {
  for (auto& l : labels)
    if (l.empty() || l.size() > 64 || std::any_of(l.begin(), l.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      throw rpc::rpc_error(rpc::invalid_params, "a label is 1 to 64 printable characters");
  return labels;
}

/// Adds a torrent (API, watch directory, restore). Returns {id, added}.
json add_torrent(self_ptr self, const std::string& bytes, std::optional<std::string> save_path,
                 std::vector<std::string> labels, bool paused, const std::string& source, const json* stored = nullptr) {
  auto& st = self->state;
  auto mi = parse_metainfo(bytes);
  if (!mi)
    throw rpc::rpc_error(rpc::failed, "not a valid .torrent: " + mi.error().to_string());
  auto id = mi->info_hash.hex();
  if (auto* e = find_entry(self, id); e != nullptr && !e->removing)
    return {{"id", id}, {"added", false}, {"name", e->mi->name}};
  if (find_entry(self, id) != nullptr)
    throw rpc::rpc_error(rpc::unavailable, "torrent " + id + " is being removed; add it again in a moment");
  entry e;
  e.seq = st.next_seq++;
  e.mi = std::make_shared<const metainfo>(std::move(*mi));
  e.labels = std::move(labels);
  e.user_paused = paused;
  e.added_at = static_cast<std::int64_t>(std::time(nullptr));
  if (stored != nullptr && stored->is_object()) {
    // restored: what the state directory says (checked loosely: it is ours)
    auto& m = *stored;
    if (auto it = m.find("added"); it != m.end() && it->is_number_integer())
      e.added_at = it->get<std::int64_t>();
    if (auto it = m.find("limits"); it != m.end() && it->is_object()) {
      if (it->contains("upload_rate") && (*it)["upload_rate"].is_number_unsigned())
        e.up_limit = (*it)["upload_rate"].get<std::uint64_t>();
      if (it->contains("download_rate") && (*it)["download_rate"].is_number_unsigned())
        e.down_limit = (*it)["download_rate"].get<std::uint64_t>();
      if (it->contains("peers") && (*it)["peers"].is_number_unsigned())
        e.peers_limit = (*it)["peers"].get<std::uint64_t>();
    }
    if (auto it = m.find("ratio_limit"); it != m.end() && it->is_number())
      e.ratio_limit = it->get<double>();
    if (auto it = m.find("files"); it != m.end() && it->is_array() && it->size() == e.mi->files.size()) {
      for (auto& b : *it)
        e.files.push_back(b.is_boolean() && b.get<bool>());
    }
  }
  if (!save_path)
    if (auto* l = label_of(self, e, [](const label_defaults& d) { return d.save_path.has_value(); }))
      save_path = *l->save_path;
  e.save_path = save_path ? *save_path : conf(self).downloads;
  auto at = st.torrents.emplace(id, std::move(e)).first; // not there: checked above
  auto& slot = at->second;
  slot.key = &at->first; // a std::map's keys stay where they are
  st.order_stale = true;
  defer_spawn(slot);
  ++st.added_total;
  if (stored == nullptr) {
    self->send(st.store, put_atom_v, torrent_path(self, id), bytes);
    persist(self, slot);
    log_line("added " + slot.mi->name + " (" + id + ") from " + source + " to " + slot.save_path);
  } else {
    slot.restored = true;
  }
  slot.last_api_state = api_state(slot);
  emit(self, {{"type", "added"}, {"id", id}, {"name", slot.mi->name}, {"state", slot.last_api_state},
              {"source", source}});
  return {{"id", id}, {"added", true}, {"name", slot.mi->name}};
}

// Stop the actor, then spawn it again with what changed (files, recheck).
void restart(self_ptr self, entry& e) {
  if (e.restarting || e.unspawned) // not spawned yet: it will be with what changed
    return;
  if (!e.actor) {
    spawn_entry(self, e);
    return;
  }
  e.restarting = true;
  stop_actor(self, e); // the down message spawns the new one
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto owner = st.by_actor.find(dm.source);
  if (owner == st.by_actor.end())
    return;
  auto it = st.torrents.find(owner->second);
  if (it == st.torrents.end() || it->second.actor.address() != dm.source) {
    st.by_actor.erase(owner); // its entry is gone or has another actor
    return;
  }
  auto& e = it->second;
  clear_actor(self, e);
  if (e.napping && !dm.reason && !e.removing && !e.restarting)
    return; // it quit to sleep: its nap is on the way
  if (e.removing) {
    st.removed_downloaded += e.status.downloaded;
    st.removed_uploaded += e.status.uploaded;
    std::vector<std::string> state_files{"torrents/" + e.id() + ".torrent", "torrents/" + e.id() + ".json",
                                         "resume/" + e.id() + ".resume"};
    self->send(st.store, erase_atom_v, conf(self).state, state_files);
    if (e.delete_data) {
      std::vector<std::string> files;
      for (auto& f : e.mi->files)
        if (!f.pad)
          files.push_back(f.path);
      files.push_back(".actorrent/" + e.id() + ".parts");
      self->send(st.store, erase_atom_v, e.save_path, files);
    }
    log_line("removed " + e.mi->name + " (" + e.id() + ")" + (e.delete_data ? " and its data" : ""));
    emit(self, {{"type", "removed"}, {"id", e.id()}, {"name", e.mi->name}, {"data_deleted", e.delete_data}});
    ++st.removed_total;
    st.torrents.erase(it);
    st.order_stale = true;
    schedule_soon(self);
    return;
  }
  if (e.restarting && !st.shutting_down) {
    spawn_entry(self, e);
    note_state(self, e);
    schedule_soon(self);
    return;
  }
  restore_counted(self, e);
  if (!st.shutting_down && e.error.empty()) {
    e.error = dm.reason ? self->system().render(dm.reason) : std::string{"the torrent actor stopped"};
    ++st.errors_total;
    emit(self, {{"type", "error"}, {"id", e.id()}, {"name", e.mi->name}, {"message", e.error.str()}});
  }
  note_state(self, e);
  schedule_soon(self);
}

// Assigned, not moved: the entry's status keeps the buffers it has (the
// torrent's come from other threads' arenas and would pin pages there).
void update_status(entry& e, const torrent_status& s) {
  auto now = clock_type::now();
  if (s.downloaded > e.seen_down) {
    e.seen_down = s.downloaded;
    e.last_down = now;
  }
  if (s.uploaded > e.seen_up) {
    e.seen_up = s.uploaded;
    e.last_up = now;
  }
  if (s.peers > 0)
    e.last_busy = now;
  e.status.assign(s);
  if (e.phase == torrent_phase::checking && e.status.state && *e.status.state != torrent_phase::checking)
    e.phase = *e.status.state;
}

// A restored torrent was checked (or failed): /readyz turns 200 after the last.
void restore_counted(self_ptr self, entry& e) {
  auto& st = self->state;
  if (!e.ready_pending)
    return;
  e.ready_pending = false;
  if (st.restore_pending > 0 && --st.restore_pending == 0) {
    auto secs = std::chrono::duration<double>(clock_type::now() - st.restore_started).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f s", secs);
    log_line("every restored torrent is checked (" + std::to_string(st.torrents.size()) + " torrents, " + buf + ")");
    if (st.cfg.ready)
      st.cfg.ready->store(true);
  }
}

void on_event(self_ptr self, torrent_event& ev) {
  auto& st = self->state;
  auto* e = find_entry(self, ev.info_hash.hex());
  if (e == nullptr)
    return;
  update_status(*e, std::move(ev.status));
  switch (ev.what) {
    case torrent_event::kind::state_changed:
      e->phase = ev.state;
      if (e->phase == torrent_phase::downloading || e->phase == torrent_phase::seeding) {
        e->running_since = clock_type::now();
        e->last_down = e->running_since;
        e->last_up = e->running_since;
        e->stalled = false;
      }
      break;
    case torrent_event::kind::checked: {
      e->check_ms = std::chrono::duration<double, std::milli>(clock_type::now() - e->check_started).count();
      e->check_hashed = e->status.check_total;
      auto line = std::string{e->restored ? "restored " : "checked "} + e->mi->name + " (" + e->id()
                  + "): " + std::to_string(e->status.resumed_pieces) + " of " + std::to_string(e->mi->num_pieces())
                  + " pieces verified, " + std::to_string(e->status.check_total) + " hashed";
      if (e->restored && e->status.check_total == 0)
        line += " (resume data trusted, no re-hash)";
      char ms[32];
      std::snprintf(ms, sizeof ms, ", %.1f ms", *e->check_ms);
      log_line(line + ms);
      restore_counted(self, *e);
      break;
    }
    case torrent_event::kind::completed:
      ++st.completed_total;
      emit(self, {{"type", "completed"}, {"id", e->id()}, {"name", e->mi->name}, {"size", e->mi->total_size}});
      log_line("completed " + e->mi->name + " (" + e->id() + ")");
      break;
    case torrent_event::kind::error:
      restore_counted(self, *e);
      e->error = ev.message;
      ++st.errors_total;
      log_line("error in " + e->mi->name + " (" + e->id() + "): " + ev.message);
      emit(self, {{"type", "error"}, {"id", e->id()}, {"name", e->mi->name}, {"message", ev.message}});
      break;
    case torrent_event::kind::tracker_failed:
      ++st.tracker_failures;
      // its announcer has just finished a walk: a quiet torrent sleeps now
      // rather than at the next poll (1-3 s later). At a start or restart
      // that is hundreds of torrents fewer awake at once, and a torrent woken
      // for a retry is awake for milliseconds.
      if (may_sleep(self, *e, clock_type::now()))
        try_sleep(self, *e);
      return; // no change of state: nothing to schedule
    case torrent_event::kind::woke:
      e->woke_tick = st.ticks; // polled closely again
      e->last_busy = clock_type::now();
      return;
  }
  note_state(self, *e);
  schedule_soon(self);
}

// ---- queue and limits ------------------------------------------------------------

// A copy, so that a caller may add or remove torrents while it walks them.
std::vector<entry*> in_order(self_ptr self) {
  auto& st = self->state;
  if (st.order_stale) {
    st.order.clear();
    st.order.reserve(st.torrents.size());
    for (auto& [id, e] : st.torrents)
      st.order.push_back(&e);
    std::sort(st.order.begin(), st.order.end(), [](entry* a, entry* b) { return a->seq < b->seq; });
    st.order_stale = false;
  }
  return st.order;
}

void pause_by_session(self_ptr self, entry& e, std::string why) {
  e.session_paused = true;
  e.queue_reason = std::move(why);
  self->send(awake(self, e), pause_atom_v);
  e.phase = torrent_phase::paused;
  note_state(self, e);
}

void schedule(self_ptr self) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  const auto& c = conf(self);
  auto order = in_order(self);
  auto now = clock_type::now();
  using enum torrent_phase;
  std::size_t checks = 0, downloads = 0, seeds = 0;
  for (auto* e : order) {
    if ((!e->actor && !e->asleep) || e->removing) // a sleeping seed counts as seeding
      continue;
    if (e->phase == checking)
      ++checks;
    else if (e->phase == downloading) {
      e->stalled = now - std::max(e->last_down, e->running_since) > std::chrono::seconds{c.stalled_after};
      if (!e->stalled)
        ++downloads;
    }
    else if (e->phase == seeding)
      ++seeds;
  }
  // start-up checks, oldest first
  for (auto* e : order) {
    if (checks >= c.active_checks)
      break;
    // never checked: queued since spawn, or paused by the user before its check
    if ((e->actor || e->unspawned) && !e->removing && !e->user_paused && !e->check_requested
        && (e->phase == queued || e->phase == paused)) {
      if (e->unspawned)
        spawn_entry(self, *e);
      e->check_requested = true;
      e->check_started = now;
      e->phase = torrent_phase::checking;
      self->send(e->actor, unpause_atom_v);
      ++checks;
      note_state(self, *e);
    }
  }
  // too many running (a limit was lowered, or checks ended): the newest wait
  bool over = (c.active_downloads > 0 && downloads > c.active_downloads) || (c.active_seeds > 0 && seeds > c.active_seeds);
  for (auto it = order.rbegin(); over && it != order.rend(); ++it) {
    auto* e = *it;
    if ((!e->actor && !e->asleep) || e->removing)
      continue;
    if (e->phase == downloading && !e->stalled && c.active_downloads > 0 && downloads > c.active_downloads) {
      pause_by_session(self, *e, "queued: " + std::to_string(c.active_downloads) + " downloads active");
      --downloads;
    } else if (e->phase == seeding && c.active_seeds > 0 && seeds > c.active_seeds) {
      pause_by_session(self, *e, "queued: " + std::to_string(c.active_seeds) + " seeds active");
      --seeds;
    }
  }
  // free slots: the oldest waiting ones run
  for (auto* e : order) {
    if (!e->session_paused || e->user_paused || !e->actor || e->removing || e->phase != paused)
      continue;
    bool complete = e->status.complete;
    if (!complete && (c.active_downloads == 0 || downloads < c.active_downloads)) {
      ++downloads;
    } else if (complete && (c.active_seeds == 0 || seeds < c.active_seeds)) {
      ++seeds;
    } else {
      continue;
    }
    e->session_paused = false;
    e->queue_reason.clear();
    self->send(e->actor, unpause_atom_v);
    e->phase = complete ? seeding : downloading;
    e->running_since = now;
    e->last_down = e->last_up = now;
    note_state(self, *e);
  }
}

// Ratio and idle-seeding limits: a seed that reached one is paused (by the user's rules).
void seeding_limits(self_ptr self) {
  auto now = clock_type::now();
  for (auto& [id, e] : self->state.torrents) {
    if ((!e.actor && !e.asleep) || e.phase != torrent_phase::seeding || e.user_paused)
      continue;
    auto limit = ratio_limit_of(self, e);
    auto size = e.mi->total_size;
    std::string why;
    if (limit > 0 && size > 0 && static_cast<double>(e.status.uploaded) / static_cast<double>(size) >= limit)
      why = "ratio limit reached";
    auto idle = conf(self).idle_seed_time;
    if (why.empty() && idle > 0 && now - std::max(e.last_up, e.running_since) > std::chrono::seconds{idle})
      why = "idle seeding limit reached";
    if (why.empty())
      continue;
    e.user_paused = true;
    e.queue_reason = why;
    self->send(awake(self, e), pause_atom_v);
    e.phase = torrent_phase::paused;
    log_line(e.mi->name + " (" + id + ") paused: " + why);
    persist(self, e);
    note_state(self, e);
  }
}

// The global limits shared among the running torrents.
// limits.unchoke_slots: the upload slots of all torrents, shared each second
// by what each can use now (its interested peers, at most its own slots),
// max-min fair; the odd slots (or all of them, when there are fewer slots
// than torrents wanting one) go round every 10 s. Without a cap, a torrent
// that had one gets its own slot counts back.
void share_unchoke_slots(self_ptr self, const std::vector<entry*>& running) {
  const auto& c = conf(self);
  auto own = static_cast<std::uint32_t>(std::min<std::uint64_t>(c.engine.upload_slots + c.engine.optimistic_slots,
                                                                no_slot_cap - 1));
  std::vector<std::uint32_t> shares(running.size(), no_slot_cap);
  if (c.unchoke_slots > 0) {
    std::vector<std::uint32_t> wanted;
    for (auto* e : running)
      wanted.push_back(std::min(own, e->status.leechers));
    shares = logic::split_slots(static_cast<std::uint32_t>(c.unchoke_slots), wanted, self->state.ticks / 10);
  }
  for (std::size_t i = 0; i < running.size(); ++i) {
    auto& e = *running[i];
    if (shares[i] != e.sent_slots) {
      e.sent_slots = shares[i];
      self->send(e.actor, unchoke_atom_v, shares[i]);
    }
  }
}

void apply_limits(self_ptr self) {
  const auto& c = conf(self);
  std::vector<entry*> running;
  std::uint64_t peers_used = 0;
  std::size_t downloading = 0;
  for (auto& [id, e] : self->state.torrents)
    if (e.actor && (e.phase == torrent_phase::downloading || e.phase == torrent_phase::seeding || e.phase == torrent_phase::checking)) {
      running.push_back(&e);
      peers_used += e.status.peers;
      downloading += e.phase == torrent_phase::downloading ? 1 : 0;
    }
  if (running.empty())
    return;
  std::vector<double> up_used, down_used;
  for (auto* e : running) {
    up_used.push_back(e->status.up_rate);
    down_used.push_back(e->status.down_rate);
  }
  std::vector<double> up_share, down_share;
  if (c.upload_rate > 0)
    up_share = logic::split_limit(static_cast<double>(c.upload_rate), up_used);
  if (c.download_rate > 0)
    down_share = logic::split_limit(static_cast<double>(c.download_rate), down_used);
  auto free_peers = c.peers_global > peers_used ? c.peers_global - peers_used : 0;
  auto grow = std::max<std::uint64_t>(free_peers / running.size(), free_peers > 0 ? 1 : 0);
  auto half = std::max<std::uint64_t>(1, c.half_open_global / std::max<std::size_t>(downloading, 1));
  half = std::min<std::uint64_t>(half, c.engine.max_half_open);
  for (std::size_t i = 0; i < running.size(); ++i) {
    auto& e = *running[i];
    double up = static_cast<double>(up_limit_of(self, e));
    double down = static_cast<double>(down_limit_of(self, e));
    if (!up_share.empty())
      up = up > 0 ? std::min(up, up_share[i]) : up_share[i];
    if (!down_share.empty())
      down = down > 0 ? std::min(down, down_share[i]) : down_share[i];
    auto peers = static_cast<std::uint32_t>(
      std::max<std::uint64_t>(1, std::min<std::uint64_t>(peers_limit_of(self, e), e.status.peers + grow)));
    auto h = static_cast<std::uint32_t>(half);
    auto differs = [](double a, double b) { return (a <= 0) != (b <= 0) || std::abs(a - b) > 0.02 * std::max(a, b); };
    if (differs(up, e.sent_up) || differs(down, e.sent_down) || peers != e.sent_peers || h != e.sent_half) {
      e.sent_up = up;
      e.sent_down = down;
      e.sent_peers = peers;
      e.sent_half = h;
      self->send(e.actor, limits_atom_v, up, down, peers, h);
    }
  }
  share_unchoke_slots(self, running);
}

// ---- stats -----------------------------------------------------------------------

json session_stats(self_ptr self) {
  auto& st = self->state;
  json by_state = json::object();
  for (auto& s : torrent_states())
    by_state[s] = 0;
  std::uint64_t down = st.removed_downloaded, up = st.removed_uploaded, wasted = 0, hash_failures = 0, pieces = 0;
  std::uint64_t peers = 0, seeds = 0, leechers = 0, banned = 0, checks_queued = 0, stalled = 0;
  std::uint64_t half_open = 0, handshaking = 0, asleep = 0;
  double down_rate = 0, up_rate = 0;
  for (auto& [id, e] : st.torrents) {
    by_state[api_state(e)] = by_state[api_state(e)].get<std::uint64_t>() + 1;
    down += e.status.downloaded;
    up += e.status.uploaded;
    wasted += e.status.wasted;
    hash_failures += e.status.hash_failures;
    pieces += e.status.pieces_have;
    peers += e.status.peers;
    seeds += e.status.seeds;
    leechers += e.status.leechers;
    half_open += e.status.half_open;
    handshaking += e.status.handshaking;
    banned += e.status.banned;
    down_rate += e.status.down_rate;
    up_rate += e.status.up_rate;
    checks_queued += (e.actor || e.unspawned) && !e.check_requested && !e.user_paused ? 1 : 0;
    asleep += e.asleep ? 1 : 0;
    stalled += e.stalled && e.phase == torrent_phase::downloading ? 1 : 0;
  }
  auto uptime = std::chrono::duration<double>(clock_type::now() - st.started).count();
  auto& m = *st.metrics;
  auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  json disconnects = json::object(), attempts = json::object(), wasted_by = json::object();
  for (std::size_t i = 0; i < logic::disconnect_reason_count; ++i)
    disconnects[logic::to_string(static_cast<logic::disconnect_reason>(i))] = load(m.disconnects[i]);
  for (std::size_t i = 0; i < logic::connect_result_count; ++i)
    attempts[logic::to_string(static_cast<logic::connect_result>(i))] = load(m.connects[i]);
  for (std::size_t i = 0; i < logic::waste_reason_count; ++i)
    wasted_by[logic::to_string(static_cast<logic::waste_reason>(i))] = load(m.wasted[i]);
  return {{"torrents", {{"total", st.torrents.size()}, {"by_state", by_state}, {"stalled", stalled},
                        {"asleep", asleep}, {"sleeps", st.sleeps}, {"wakes", st.wakes},
                        {"added", st.added_total}, {"removed", st.removed_total}, {"completed", st.completed_total},
                        {"errors", st.errors_total}}},
          {"bytes", {{"payload_downloaded", down}, {"payload_uploaded", up}, {"wasted", wasted},
                     {"protocol_downloaded", load(m.protocol_in)}, {"protocol_uploaded", load(m.protocol_out)},
                     {"wasted_by_reason", wasted_by}}},
          {"rates", {{"download", std::llround(down_rate)}, {"upload", std::llround(up_rate)}}},
          {"peers", {{"connected", peers}, {"seeds", seeds}, {"leechers", leechers}, {"banned", banned},
                     {"half_open", half_open}, {"handshaking", handshaking},
                     {"connect_attempts", attempts}, {"disconnects", disconnects}}},
          {"pieces", {{"verified_have", pieces}, {"hash_failures", hash_failures},
                      {"passed", load(m.pieces_passed)}, {"failed", load(m.pieces_failed)}}},
          {"announces", {{"tracker_failures", st.tracker_failures}, {"ok", load(m.announces_ok)},
                         {"failed", load(m.announces_failed)}, {"in_flight", st.announce_gate->in_use()},
                         {"waiting", st.announce_gate->waiting()}}},
          {"disk", {{"read_bytes", load(m.disk_read_bytes)}, {"written_bytes", load(m.disk_written_bytes)},
                    {"queued_jobs", std::max<std::int64_t>(0, load(m.disk_queued_jobs))},
                    {"queued_bytes", std::max<std::int64_t>(0, load(m.disk_queued_bytes))}}},
          {"checks", {{"waiting", checks_queued}}},
          {"watch", {{"added", st.watch_added}, {"rejected", st.watch_rejected}}},
          {"limits", {{"peers_global", conf(self).peers_global}, {"upload_rate", conf(self).upload_rate},
                      {"download_rate", conf(self).download_rate}, {"active_downloads", conf(self).active_downloads},
                      {"active_seeds", conf(self).active_seeds}, {"announces", conf(self).announces},
                      {"unchoke_slots", conf(self).unchoke_slots}}},
          {"listen_port", st.cfg.listen_port},
          {"uptime_s", std::llround(uptime)},
          {"api_calls", st.rpc_calls},
          {"mailbox", [&] {
             json mb = {{"session", self->mailbox().size()}};
             for (auto& [name, n] : st.mailboxes)
               mb[name] = n;
             return mb;
           }()}};
}

json histogram_json(const logic::fixed_histogram& h) {
  auto s = h.snapshot();
  return {{"counts", s.counts}, {"sum", s.sum}, {"count", s.count}};
}

// session.stats with the engine's duration histograms (the bucket counts for
// the bounds of api::daemon_metrics): for session.stats, not for the feed's
// periodic stats event.
json session_stats_full(self_ptr self) {
  auto out = session_stats(self);
  auto& m = *self->state.metrics;
  json ops = json::object();
  for (std::size_t i = 0; i < logic::disk_op_count; ++i)
    ops[logic::to_string(static_cast<logic::disk_op>(i))] = histogram_json(m.disk_seconds[i]);
  out["histograms"] = {{"hash_batch_seconds", histogram_json(m.hash_seconds)}, {"disk_op_seconds", ops}};
  return out;
}

// ---- the API ------------------------------------------------------------------------

json m_add(self_ptr self, const json& p, const std::string& blob) {
  rpc::only_fields(p, {"metainfo", "path", "save_path", "labels", "paused"});
  if (blob.empty())
    throw rpc::rpc_error(rpc::invalid_params, "give 'metainfo' (base64 of the .torrent) or 'path'");
  std::optional<std::string> save_path;
  if (auto sp = rpc::opt_string(p, "save_path"))
    save_path = check_save_path(*sp);
  auto labels = check_labels(rpc::opt_strings(p, "labels", 32, 64).value_or(std::vector<std::string>{}));
  bool paused = rpc::opt_bool(p, "paused").value_or(false);
  auto r = add_torrent(self, blob, save_path, labels, paused, p.contains("path") ? "path" : "api");
  schedule(self);
  return r;
}

json m_get(self_ptr self, const json& p) {
  rpc::only_fields(p, {"id", "fields"});
  if (!p.contains("id"))
    throw rpc::rpc_error(rpc::invalid_params, "parameter 'id' is required");
  auto& e = need(self, rpc::check_id(p["id"]));
  auto fields = parse_fields(p);
  auto row = row_of(self, e);
  if (fields.empty()) {
    row["info"] = {{"piece_length", e.mi->piece_length}, {"files", logic::user_file_count(e.mi->files)},
                   {"private", e.mi->is_private}, {"comment", e.mi->comment}};
    row["banned"] = e.status.banned;
    row["hash_failures"] = e.status.hash_failures;
    row["wasted"] = e.status.wasted;
    row["stalled"] = e.stalled && e.phase == torrent_phase::downloading;
  }
  return project(row, fields);
}

template <class F>
json for_ids(self_ptr self, const json& p, std::initializer_list<std::string_view> allowed, F f) {
  rpc::only_fields(p, allowed);
  auto ids = rpc::get_ids(p);
  for (auto& id : ids)
    need(self, id); // all or nothing: an unknown id fails the call before anything changes
  for (auto& id : ids)
    f(need(self, id));
  schedule(self);
  return {{"ids", ids}};
}

json m_start(self_ptr self, const json& p) {
  return for_ids(self, p, {"ids"}, [self](entry& e) {
    if (e.removing)
      return;
    bool was = e.user_paused;
    e.user_paused = false;
    e.queue_reason.clear();
    if (!e.actor && !e.asleep && !e.unspawned && !e.restarting) {
      spawn_entry(self, e);
    } else if (was && e.actor && e.check_requested && e.phase == torrent_phase::paused) {
      // paused after its check: let the queue decide (it may have to wait)
      e.session_paused = true;
      e.queue_reason = "queued";
    }
    if (was)
      persist(self, e);
    note_state(self, e);
  });
}

json m_stop(self_ptr self, const json& p) {
  return for_ids(self, p, {"ids"}, [self](entry& e) {
    if (e.user_paused || e.removing)
      return;
    restore_counted(self, e); // a paused one does not hold /readyz back
    e.user_paused = true;
    e.session_paused = false;
    e.queue_reason.clear();
    if (awake(self, e)) {
      self->send(e.actor, pause_atom_v);
      if (e.check_requested)
        e.phase = torrent_phase::paused;
    }
    persist(self, e);
    note_state(self, e);
  });
}

json m_recheck(self_ptr self, const json& p) {
  return for_ids(self, p, {"ids"}, [self](entry& e) {
    if (e.removing)
      return;
    e.recheck_next = true;
    e.restored = false;
    restart(self, e);
    note_state(self, e);
  });
}

json m_reannounce(self_ptr self, const json& p) {
  return for_ids(self, p, {"ids"}, [self](entry& e) {
    if (awake(self, e))
      self->send(e.actor, announce_atom_v);
  });
}

json m_remove(self_ptr self, const json& p) {
  bool del = rpc::opt_bool(p, "delete_data").value_or(false);
  return for_ids(self, p, {"ids", "delete_data"}, [self, del](entry& e) {
    if (e.removing)
      return;
    restore_counted(self, e);
    e.removing = true;
    e.delete_data = del;
    if (awake(self, e)) { // a sleeping one too: it announces `stopped`
      stop_actor(self, e);
      note_state(self, e);
    } else {
      // no actor (it failed): finish the removal now
      std::vector<std::string> state_files{"torrents/" + e.id() + ".torrent", "torrents/" + e.id() + ".json",
                                           "resume/" + e.id() + ".resume"};
      self->send(self->state.store, erase_atom_v, conf(self).state, state_files);
      if (del) {
        std::vector<std::string> files;
        for (auto& f : e.mi->files)
          if (!f.pad)
            files.push_back(f.path);
        self->send(self->state.store, erase_atom_v, e.save_path, files);
      }
      emit(self, {{"type", "removed"}, {"id", e.id()}, {"name", e.mi->name}, {"data_deleted", del}});
      ++self->state.removed_total;
      auto id = e.id();
      self->state.torrents.erase(id);
      self->state.order_stale = true;
    }
  });
}

json m_set(self_ptr self, const json& p) {
  rpc::only_fields(p, {"ids", "limits", "labels", "ratio_limit"});
  std::optional<std::vector<std::string>> labels;
  if (auto l = rpc::opt_strings(p, "labels", 32, 64))
    labels = check_labels(*l);
  auto ratio = rpc::opt_number(p, "ratio_limit", 0, 1e6);
  std::optional<std::uint64_t> up, down, peers;
  bool limits = false;
  if (auto it = p.find("limits"); it != p.end() && !it->is_null()) {
    if (!it->is_object())
      throw rpc::rpc_error(rpc::invalid_params, "parameter 'limits' must be an object {upload_rate?, download_rate?, peers?}");
    rpc::only_fields(*it, {"upload_rate", "download_rate", "peers"});
    up = rpc::opt_uint(*it, "upload_rate", 1ull << 40);
    down = rpc::opt_uint(*it, "download_rate", 1ull << 40);
    peers = rpc::opt_uint(*it, "peers", 10000);
    if (peers && *peers == 0)
      throw rpc::rpc_error(rpc::invalid_params, "limits.peers must be from 1 to 10000");
    limits = true;
  }
  json q = p;
  q.erase("limits");
  q.erase("labels");
  q.erase("ratio_limit");
  auto r = for_ids(self, q, {"ids"}, [&](entry& e) {
    if (labels)
      e.labels = *labels;
    if (ratio)
      e.ratio_limit = *ratio;
    if (limits) {
      if (up)
        e.up_limit = *up;
      if (down)
        e.down_limit = *down;
      if (peers)
        e.peers_limit = *peers;
    }
    e.sent_up = -1; // send the limits again at once
    persist(self, e);
  });
  apply_limits(self);
  return r;
}

json m_files(self_ptr self, const json& p) {
  rpc::only_fields(p, {"id"});
  if (!p.contains("id"))
    throw rpc::rpc_error(rpc::invalid_params, "parameter 'id' is required");
  auto& e = need(self, rpc::check_id(p["id"]));
  json out = json::array();
  std::size_t n = 0;
  for (std::size_t i = 0; i < e.mi->files.size(); ++i) {
    auto& f = e.mi->files[i];
    if (f.pad)
      continue;
    ++n;
    bool wanted = e.files.empty() || e.files[i];
    out.push_back({{"index", n}, {"path", f.path}, {"size", f.size}, {"wanted", wanted}, {"priority", wanted ? 1 : 0}});
  }
  return {{"id", e.id()}, {"files", out}};
}

json m_files_set(self_ptr self, const json& p) {
  rpc::only_fields(p, {"id", "files"});
  if (!p.contains("id"))
    throw rpc::rpc_error(rpc::invalid_params, "parameter 'id' is required");
  auto& e = need(self, rpc::check_id(p["id"]));
  auto it = p.find("files");
  if (it == p.end() || !it->is_array() || it->empty() || it->size() > 1000000)
    throw rpc::rpc_error(rpc::invalid_params, "parameter 'files' must be a list of {index, wanted?, priority?}");
  // the user's numbers (1.., pad files not numbered) to entries of mi->files
  std::vector<std::size_t> entry_of;
  for (std::size_t i = 0; i < e.mi->files.size(); ++i)
    if (!e.mi->files[i].pad)
      entry_of.push_back(i);
  auto mask = e.files.empty() ? std::vector<bool>(e.mi->files.size(), true) : e.files;
  for (std::size_t i = 0; i < e.mi->files.size(); ++i)
    if (e.mi->files[i].pad)
      mask[i] = false;
  for (auto& f : *it) {
    if (!f.is_object())
      throw rpc::rpc_error(rpc::invalid_params, "each entry of 'files' is an object {index, wanted?, priority?}");
    rpc::only_fields(f, {"index", "wanted", "priority"});
    auto idx = rpc::opt_uint(f, "index", entry_of.size());
    if (!idx || *idx == 0)
      throw rpc::rpc_error(rpc::invalid_params, "files[].index must be from 1 to " + std::to_string(entry_of.size()));
    auto wanted = rpc::opt_bool(f, "wanted");
    auto prio = rpc::opt_uint(f, "priority", 7);
    if (prio && *prio > 1)
      throw rpc::rpc_error(rpc::invalid_params, "files[].priority: only 0 (skip) and 1 (normal) are supported");
    if (prio)
      wanted = *prio == 1;
    if (wanted)
      mask[entry_of[*idx - 1]] = *wanted;
  }
  bool all = true;
  for (auto i : entry_of)
    all = all && mask[i];
  e.files = all ? std::vector<bool>{} : mask;
  persist(self, e);
  restart(self, e); // the torrent's wanted pieces are fixed at spawn; resume data keeps what is verified
  note_state(self, e);
  return {{"id", e.id()}, {"restarted", true}};
}

json m_peers(self_ptr self, const json& p) {
  rpc::only_fields(p, {"id"});
  if (!p.contains("id"))
    throw rpc::rpc_error(rpc::invalid_params, "parameter 'id' is required");
  auto& e = need(self, rpc::check_id(p["id"]));
  json out = json::array();
  for (auto& pi : e.status.peer_list)
    out.push_back({{"address", pi.address}, {"client", pi.client}, {"down_rate", std::llround(pi.down_rate)},
                   {"up_rate", std::llround(pi.up_rate)}, {"downloaded", pi.downloaded}, {"uploaded", pi.uploaded},
                   {"incoming", pi.incoming}, {"seed", pi.seed}, {"interested", pi.interested},
                   {"unchoked", pi.unchoked}, {"snubbed", pi.snubbed}});
  return {{"id", e.id()}, {"peers", out}};
}

json m_trackers(self_ptr self, const json& p) {
  rpc::only_fields(p, {"id"});
  if (!p.contains("id"))
    throw rpc::rpc_error(rpc::invalid_params, "parameter 'id' is required");
  auto& e = need(self, rpc::check_id(p["id"]));
  json tiers = json::array();
  for (auto& tier : e.mi->trackers)
    tiers.push_back(tier);
  return {{"id", e.id()}, {"tiers", tiers}, {"status", e.status.tracker_status.str()},
          {"last_error", e.status.tracker_error.empty() ? json(nullptr) : json(e.status.tracker_error.str())}};
}

void publish_config(self_ptr self) {
  self->state.announce_gate->set_capacity(conf(self).announces);
  if (self->state.cfg.on_config)
    self->state.cfg.on_config(self->state.cfg.config);
}

json m_config_set(self_ptr self, const json& p) {
  rpc::only_fields(p, {"key", "value", "values"});
  std::map<std::string, json> changes;
  if (auto it = p.find("values"); it != p.end()) {
    if (!it->is_object() || it->empty() || it->size() > 200)
      throw rpc::rpc_error(rpc::invalid_params, "parameter 'values' must be an object {KEY: VALUE, ...}");
    for (auto& [k, v] : it->items())
      changes[k] = v;
  }
  if (p.contains("key")) {
    if (!p.contains("value"))
      throw rpc::rpc_error(rpc::invalid_params, "parameter 'value' is required with 'key'");
    changes[rpc::get_string(p, "key", 128)] = p["value"];
  }
  if (changes.empty())
    throw rpc::rpc_error(rpc::invalid_params, "give {key, value} or {values: {KEY: VALUE}}");
  std::vector<std::string> restart_keys;
  for (auto& [k, v] : changes) { // all checked before any applies
    auto ok = check_api_value(k, v);
    if (!ok)
      throw rpc::rpc_error(rpc::invalid_params, ok.error().message);
  }
  auto& lc = self->state.cfg.config;
  json applied = json::array();
  for (auto& [k, v] : changes) {
    auto ok = check_api_value(k, v);
    lc.api[k] = v;
    if (!(*ok)->runtime) {
      restart_keys.push_back(k); // kept for the next start
      continue;
    }
    auto fresh = apply_api_value(lc, k, v);
    (void) fresh;
    applied.push_back(k);
  }
  json api = json::object();
  for (auto& [k, v] : lc.api)
    api[k] = v;
  self->send(self->state.store, put_atom_v, conf(self).state + "/config-api.json", api.dump(2));
  publish_config(self);
  for (auto& [id, e] : self->state.torrents)
    e.sent_up = -1;
  apply_limits(self);
  schedule(self);
  return {{"applied", applied}, {"needs_restart", restart_keys}};
}

json m_config_reload(self_ptr self, const json& p, const std::string& blob) {
  rpc::only_fields(p, {"dry_run"});
  bool dry = rpc::opt_bool(p, "dry_run").value_or(false);
  auto& st = self->state;
  auto fresh = parse_daemon_config(blob, st.cfg.config_path, st.cfg.env, st.cfg.config.api);
  if (!fresh)
    throw rpc::rpc_error(rpc::failed, fresh.error().message);
  auto d = diff_configs(st.cfg.config, *fresh);
  if (!dry) {
    st.cfg.config = merge_runtime(st.cfg.config, *fresh);
    publish_config(self);
    for (auto& [id, e] : st.torrents)
      e.sent_up = -1;
    apply_limits(self);
    schedule(self);
    log_line("configuration reloaded: " + std::to_string(d.runtime.size()) + " change(s) applied, "
             + std::to_string(d.restart.size()) + " need a restart");
  }
  return {{"dry_run", dry}, {"applied", dry ? json::array() : json(d.runtime)}, {"would_apply", d.runtime},
          {"needs_restart", d.restart}};
}

std::string handle_rpc(self_ptr self, const std::string& method, const std::string& params_text,
                       const std::string& blob) {
  ++self->state.rpc_calls;
  try {
    json params = params_text.empty() ? json::object() : json::parse(params_text);
    if (params.is_null())
      params = json::object();
    if (self->state.shutting_down && method != "session.stats" && method != "torrents.list"
        && method != "torrents.get")
      throw rpc::rpc_error(rpc::unavailable, "the daemon is shutting down");
    if (method == "torrents.list") // as text: reply_result's form, without the JSON tree
      return "{\"result\":" + list_text(self, parse_list_query(params)) + "}";
    json r;
    if (method == "torrents.add")
      r = m_add(self, params, blob);
    else if (method == "torrents.get")
      r = m_get(self, params);
    else if (method == "torrents.start")
      r = m_start(self, params);
    else if (method == "torrents.stop")
      r = m_stop(self, params);
    else if (method == "torrents.recheck")
      r = m_recheck(self, params);
    else if (method == "torrents.reannounce")
      r = m_reannounce(self, params);
    else if (method == "torrents.remove")
      r = m_remove(self, params);
    else if (method == "torrents.set")
      r = m_set(self, params);
    else if (method == "torrents.files")
      r = m_files(self, params);
    else if (method == "torrents.files_set")
      r = m_files_set(self, params);
    else if (method == "torrents.peers")
      r = m_peers(self, params);
    else if (method == "torrents.trackers")
      r = m_trackers(self, params);
    else if (method == "session.stats")
      r = session_stats_full(self);
    else if (method == "config.get") {
      rpc::only_fields(params, {"key"});
      auto all = describe_config(self->state.cfg.config);
      if (auto k = rpc::opt_string(params, "key", 128)) {
        if (!all.contains(*k))
          throw rpc::rpc_error(rpc::invalid_params, "unknown key " + text::quote(*k));
        r = all[*k];
        r["key"] = *k;
      } else {
        r = all;
      }
    } else if (method == "config.set")
      r = m_config_set(self, params);
    else if (method == "config.reload")
      r = m_config_reload(self, params, blob);
    else
      throw rpc::rpc_error(rpc::method_not_found, "unknown method " + text::quote(method));
    return reply_result(std::move(r));
  } catch (const rpc::rpc_error& e) {
    return reply_error(e.code, e.what());
  } catch (const json::exception& e) {
    return reply_error(rpc::invalid_params, std::string{"bad parameter: "} + e.what());
  } catch (const std::exception& e) {
    return reply_error(rpc::internal_error, std::string{"internal error: "} + e.what());
  }
}

// ---- timer and shutdown -------------------------------------------------------------------

// Sleeping torrents woken for their announces in one tick at most: torrents
// added together announce together (and, with a tracker down, retry
// together); thousands of actors spawned at once would hold up the API calls
// behind them for a tenth of a second. The others wake in the next ticks.
constexpr std::size_t max_announce_wakes_per_tick = 50;

void poll(self_ptr self) {
  auto now = clock_type::now();
  std::size_t announce_wakes = 0;
  for (auto& [id, e] : self->state.torrents) {
    if (!e.actor) {
      if (e.asleep && e.nap_has_announcer && e.nap_announcer.due && *e.nap_announcer.due <= now
          && announce_wakes < max_announce_wakes_per_tick) {
        wake_entry(self, e); // its announcer's next announce is due
        ++announce_wakes;
      }
      continue;
    }
    if (e.poll_pending || e.napping)
      continue;
    // quiet seeding or finished torrents go to sleep (tried every 2 s: the
    // torrent says no while its announcer is talking to a tracker)
    if (may_sleep(self, e, now) && (self->state.ticks + e.seq) % 2 == 0) {
      try_sleep(self, e);
      continue;
    }
    if (e.phase != torrent_phase::checking && e.phase != torrent_phase::downloading && e.phase != torrent_phase::seeding && e.phase != torrent_phase::stopping)
      continue;
    // a seed without peers changes little, and its events (woke when a peer
    // comes, tracker failures, state changes) carry its status: every 30 s is
    // enough, but closely for 10 s after it woke
    auto ticks = self->state.ticks;
    if (e.phase == torrent_phase::seeding && e.status.peers == 0 && ticks - e.woke_tick > 10 && (ticks + e.seq) % 30 != 0)
      continue;
    e.poll_pending = true;
    auto key = id;
    self->request(e.actor, 2s, progress_atom_v)
      .then(
        [self, key](torrent_status& s) {
          if (auto* e = find_entry(self, key)) {
            e->poll_pending = false;
            update_status(*e, std::move(s));
          }
        },
        [self, key](caf::error&) {
          if (auto* e = find_entry(self, key))
            e->poll_pending = false;
        });
  }
}

// The listener's and the state store's mailbox sizes, for session.stats and
// the metrics: each tells its own.
void sample_mailboxes(self_ptr self) {
  auto ask = [self](const std::string& name, auto handle) {
    if (!handle)
      return;
    self->request(handle, std::chrono::seconds{2}, status_atom_v)
      .then(
        [self, name](const actor_status& s) {
          auto it = s.values.find("mailbox");
          if (it != s.values.end())
            self->state.mailboxes[name] = std::strtoull(it->second.c_str(), nullptr, 10);
        },
        [](caf::error&) {});
  };
  ask("listener", self->state.cfg.listener);
  ask("state_store", self->state.store);
}

void tick(self_ptr self) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  ++st.ticks;
  poll(self);
  seeding_limits(self);
  schedule(self);
  apply_limits(self);
  if (!conf(self).watch.empty() && !st.scanning && st.ticks >= st.watch_due) {
    st.scanning = true;
    st.watch_due = st.ticks + conf(self).watch_interval;
    self->send(st.store, scan_atom_v, conf(self).watch, session_actor{self});
  }
  if (st.ticks % 5 == 0) {
    auto s = session_stats(self);
    s["type"] = "stats";
    emit(self, std::move(s));
    sample_mailboxes(self);
  }
  // bursts (1,000 adds, a restore, big API answers) leave free memory in
  // malloc's arenas that glibc keeps mapped: give it back to the system
  if (st.ticks % 30 == 3)
    ::malloc_trim(0);
  self->delayed_send(self, 1s, tick_atom_v);
}

caf::result<std::string> shutdown(self_ptr self) {
  auto& st = self->state;
  auto rp = self->make_response_promise<std::string>();
  st.shutting_down = true;
  struct progress {
    std::size_t pending = 0;
    std::vector<std::string> failed;
    std::size_t stopped = 0;
    clock_type::time_point start = clock_type::now();
    bool delivered = false;
  };
  auto pr = std::make_shared<progress>();
  auto finish = [self, pr, rp]() mutable {
    if (pr->delivered || pr->pending > 0)
      return;
    pr->delivered = true;
    // the state worker's queued writes (paused flags, labels, ...) land before we answer
    auto left = conf(self).shutdown_timeout * 1000
                - static_cast<std::uint64_t>(std::max<std::int64_t>(
                  0, std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - pr->start).count()));
    auto deliver = [self, pr, rp](bool store_ok) mutable {
      if (!store_ok)
        pr->failed.push_back("state directory: queued writes not finished");
      auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - pr->start).count();
      json report = {{"stopped", pr->stopped}, {"not_finished", pr->failed}, {"ms", std::llround(ms)}};
      rp.deliver(report.dump());
    };
    self->request(self->state.store, std::chrono::milliseconds{std::max<std::uint64_t>(left, 500)}, flush_atom_v)
      .then([deliver](bool) mutable { deliver(true); }, [deliver](caf::error&) mutable { deliver(false); });
  };
  for (auto& [id, e] : st.torrents) {
    // a sleeping torrent's resume data is current: it wakes only to announce `stopped`
    if (!e.actor && !(e.asleep && e.nap.announced && e.nap_has_announcer))
      continue;
    if (!awake(self, e))
      continue;
    ++pr->pending;
    auto name = e.mi->name + " (" + id + ")";
    auto actor = e.actor;
    self->request(actor, std::chrono::seconds{conf(self).shutdown_timeout}, stop_atom_v)
      .then(
        [pr, finish, name](bool ok) mutable {
          --pr->pending;
          if (ok)
            ++pr->stopped;
          else
            pr->failed.push_back(name + ": resume data or files not written");
          finish();
        },
        [self, pr, finish, name](caf::error& err) mutable {
          --pr->pending;
          pr->failed.push_back(name + ": " + self->system().render(err));
          finish();
        });
  }
  finish();
  return rp;
}

session_actor::behavior_type session(self_ptr self, session_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.announce_gate = logic::slot_gate::make(conf(self).announces);
  st.peer_id = generate_peer_id();
  st.store = spawn_state_store(self->system());
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& [id, e] : self->state.torrents)
      if (e.actor)
        self->send_exit(e.actor, em.reason);
    self->send_exit(self->state.store, em.reason);
    self->quit(em.reason);
  });
  st.restore_started = clock_type::now();
  auto restore = std::move(st.cfg.restore);
  for (auto& r : restore) {
    try {
      std::optional<std::string> save_path;
      std::vector<std::string> labels;
      bool paused = false;
      if (r.meta.is_object()) {
        if (auto it = r.meta.find("save_path"); it != r.meta.end() && it->is_string())
          save_path = it->get<std::string>();
        if (auto it = r.meta.find("labels"); it != r.meta.end() && it->is_array())
          for (auto& l : *it)
            if (l.is_string())
              labels.push_back(l.get<std::string>());
        if (auto it = r.meta.find("paused"); it != r.meta.end() && it->is_boolean())
          paused = it->get<bool>();
      }
      auto added = add_torrent(self, r.metainfo, save_path, labels, paused, "state", &r.meta);
      if (!paused)
        if (auto* e = find_entry(self, added["id"].get<std::string>()); e != nullptr && !e->ready_pending) {
          e->ready_pending = true;
          ++st.restore_pending;
        }
    } catch (const rpc::rpc_error& e) {
      log_line("cannot restore " + r.id + ": " + e.what());
    }
  }
  if (!restore.empty())
    log_line("restoring " + std::to_string(st.torrents.size()) + " torrents from " + conf(self).state);
  if (st.restore_pending == 0 && st.cfg.ready)
    st.cfg.ready->store(true);
  schedule(self);
  if (st.cfg.listener)
    self->send(st.cfg.listener, wake_atom_v, caf::actor_cast<waker_actor>(self));
  self->delayed_send(self, 1s, tick_atom_v);
  return {
    [self](rpc_atom, const std::string& method, const std::string& params, const std::string& blob) {
      return handle_rpc(self, method, params, blob);
    },
    [self](event_atom, torrent_event& ev) { on_event(self, ev); },
    [self](tick_atom) { tick(self); },
    [self](schedule_atom) {
      self->state.schedule_pending = false;
      schedule(self);
    },
    [self](scan_atom, std::vector<std::string>& names, std::vector<std::string>& blobs) {
      self->state.scanning = false;
      for (std::size_t i = 0; i < names.size() && i < blobs.size(); ++i) {
        try {
          auto r = add_torrent(self, blobs[i], std::nullopt, {}, false, "watch directory (" + names[i] + ")");
          ++self->state.watch_added;
        } catch (const rpc::rpc_error& e) {
          ++self->state.watch_rejected;
          log_line("watch: " + names[i] + ": " + e.what());
        }
      }
      schedule(self);
    },
    [self](stop_atom) { return shutdown(self); },
    [self](wake_atom, const sha1_hash& info_hash) -> caf::result<torrent_actor> {
      auto* e = find_entry(self, info_hash.hex());
      if (e == nullptr || e->removing || self->state.shutting_down)
        return caf::make_error(caf::sec::runtime_error, "no such torrent");
      if (auto& actor = awake(self, *e))
        return actor;
      return caf::make_error(caf::sec::runtime_error, "the torrent has no actor");
    },
    [self](status_atom) {
      auto& st = self->state;
      return actor_status{session_state::name, st.shutting_down ? "stopping" : "running",
                          {{"torrents", std::to_string(st.torrents.size())},
                           {"api_calls", std::to_string(st.rpc_calls)}}};
    },
  };
}

} // namespace

state_store_actor spawn_state_store(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(state_store);
}

session_actor spawn_session(caf::actor_system& sys, session_config cfg) {
  // Detached: a thread of its own, so that disk stores blocking the
  // scheduler's threads (start-up checks, fsync) never delay an API answer.
  return sys.spawn<caf::detached>(session, std::move(cfg));
}

std::string prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  for (auto sub : {"", "/torrents", "/resume"}) {
    fs::create_directories(dir + sub, ec);
    if (ec || !fs::is_directory(dir + sub, ec))
      return "cannot create " + dir + sub + ": " + (ec ? ec.message() : std::string{"not a directory"});
  }
  return {};
}

std::vector<stored_torrent> read_state_dir(const std::string& dir, std::vector<std::string>& problems) {
  std::vector<stored_torrent> out;
  std::error_code ec;
  std::vector<std::string> ids;
  for (auto it = fs::directory_iterator(dir + "/torrents", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.size() == 48 && name.compare(40, 8, ".torrent") == 0)
      ids.push_back(name.substr(0, 40));
  }
  std::sort(ids.begin(), ids.end());
  for (auto& id : ids) {
    stored_torrent t;
    t.id = id;
    std::string err;
    auto bytes = text::read_text_file(dir + "/torrents/" + id + ".torrent", max_torrent_bytes, err);
    if (!bytes) {
      problems.push_back(err);
      continue;
    }
    t.metainfo = std::move(*bytes);
    if (auto meta = text::read_text_file(dir + "/torrents/" + id + ".json", 1 << 20, err)) {
      t.meta = json::parse(*meta, nullptr, false);
      if (t.meta.is_discarded()) {
        problems.push_back(dir + "/torrents/" + id + ".json: not JSON; using defaults");
        t.meta = nullptr;
      }
    }
    out.push_back(std::move(t));
  }
  // added order: oldest first, as the queue wants it
  std::stable_sort(out.begin(), out.end(), [](const stored_torrent& a, const stored_torrent& b) {
    auto added = [](const stored_torrent& t) -> std::int64_t {
      if (t.meta.is_object() && t.meta.contains("added") && t.meta["added"].is_number_integer())
        return t.meta["added"].get<std::int64_t>();
      return 0;
    };
    return added(a) < added(b);
  });
  return out;
}

result<std::map<std::string, json>> read_api_overrides(const std::string& dir) {
  std::map<std::string, json> out;
  std::string err;
  std::error_code ec;
  if (!fs::exists(dir + "/config-api.json", ec))
    return out;
  auto text = text::read_text_file(dir + "/config-api.json", 1 << 20, err);
  if (!text)
    return make_error(err);
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(dir + "/config-api.json: not a JSON object");
  for (auto& [k, v] : j.items())
    out[k] = v;
  return out;
}

std::string ask_session_text(caf::actor_system& sys, const session_actor& session, const std::string& method,
                             const json& params, std::string blob, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  std::string reply;
  caf::error failure;
  self->request(session, timeout, rpc_atom_v, method, params.dump(), std::move(blob))
    .receive([&](std::string& r) { reply = std::move(r); }, [&](caf::error& err) { failure = std::move(err); });
  if (failure) {
    if (failure == caf::sec::request_timeout)
      throw rpc::rpc_error(rpc::timeout, "the session did not answer within " + std::to_string(timeout.count())
                                           + " ms");
    throw rpc::rpc_error(rpc::unavailable, "the session is gone: " + sys.render(failure));
  }
  // reply_result's form, {"result":R}: R is returned as it is
  static constexpr std::string_view head = "{\"result\":";
  if (reply.size() > head.size() && reply.compare(0, head.size(), head) == 0 && reply.back() == '}')
    return reply.substr(head.size(), reply.size() - head.size() - 1);
  auto j = json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw rpc::rpc_error(rpc::internal_error, "the session's reply is not JSON");
  if (auto e = j.find("error"); e != j.end())
    throw rpc::rpc_error((*e)["code"].get<int>(), (*e)["message"].get<std::string>());
  throw rpc::rpc_error(rpc::internal_error, "the session's reply has neither result nor error");
}

json ask_session(caf::actor_system& sys, const session_actor& session, const std::string& method,
                 const json& params, std::string blob, std::chrono::milliseconds timeout) {
  auto text = ask_session_text(sys, session, method, params, std::move(blob), timeout);
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    throw rpc::rpc_error(rpc::internal_error, "the session's reply is not JSON");
  return j;
}

} // namespace actorrent::daemon
