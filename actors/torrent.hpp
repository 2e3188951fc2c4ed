// The torrent actor: supervises one torrent's peers, piece picker, disk store
// and tracker announcer.
//
// Children on demand (a daemon holds thousands of idle torrents): the disk
// store and the picker are spawned for the start-up check, for a peer, or for
// disk work (resume data, flush, stop), and let go when the torrent has had
// none of these for children_idle (at once after a check no peer waited for);
// the announcer is spawned when the torrent first goes online. A seed with no
// peer, no one to dial and no children has no timer at all until a peer or a
// tracker answer wakes it. A supervisor that holds thousands of torrents (the
// daemon's session) can go further: a quiet torrent asked to sleep
// (sleep_atom) hands over a torrent_nap and quits, and a torrent spawned from
// that nap (torrent_config::nap) goes on where it was, without a check. Incoming peers get their whole config from the
// torrent (incoming_atom), so they always name its current disk store.
//
// It owns the peer set (deduplicated by address, a connection limit, a bound
// on half-open connects, reconnects with back-off, never a connection to
// itself), asks the announcer for more peers when it runs low, keeps a strong
// handle to every peer broker until the broker is down (CAF 0.17 destroys a
// stateful broker twice if its own connection holds the last reference), and
// answers progress requests. It also judges hash failures: a piece that failed
// with a single sender is a strike against it; with several senders, the piece
// is fetched again from one of them and its blocks compared with the failed
// copy, so exactly the peers whose blocks differed are banned.
//
// Uploads: the torrent attaches itself to the listener (incoming peers with
// its info-hash are handed to it), runs the choker every 10 s over the peers'
// reports (tit-for-tat while leeching, round robin while seeding, one
// optimistic unchoke rotating every 30 s) and unchokes a newly interested
// peer at once while a slot is free. With `seed` set it keeps serving after
// the download completes (announcing `completed`); peer connections close
// seed-to-seed links themselves.
//
// Lifecycle: one CAF behavior per state, each assembled from shared handler
// sets (actors/torrent_internal.hpp) and switched with become():
//
//   queued --unpause--> checking --data complete--> seeding (seed) / finished
//                          |                            ^
//                          +---data missing-------> downloading
//                          +---require_complete and data missing: error, quit
//   any state --pause--> paused --unpause--> the state its data calls for
//   any state --stop---> stopping (closes peers, announces `stopped`, flushes)
//
// Peers that connect during `checking` wait in the mailbox (the checking
// behavior skips them) and are answered by the next state. The peer set
// (logic/peer_set.hpp) decides whom to dial, accept, back off and ban; the
// actor carries its decisions out. An optional observer actor receives
// lifecycle events (state changes, the check's result, completion, errors,
// tracker failures) as (event_atom, torrent_event).
#pragma once

#include "actors/disk_store.hpp"
#include "actors/peer_connection.hpp"
#include "actors/piece_picker_actor.hpp"
#include "actors/tracker_announcer.hpp"
#include "logic/blame.hpp"
#include "logic/choker.hpp"
#include "logic/peer_set.hpp"
#include "logic/wire_faults.hpp"
#include "messages/interfaces.hpp"
#include "protocol/metainfo.hpp"
#include "storage/disk_faults.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace actorrent {

/// What a sleeping torrent hands its supervisor (sleep_atom) and is spawned
/// again from (torrent_config::nap): everything it knew except its peers, so
/// it goes on seeding (or finished) where it was, without a check. Only quiet
/// torrents sleep: seeding or finished, no peer, no one to dial, no ban, no
/// disk store, resume data current, the announcer idle (see can_sleep).
struct torrent_nap {
  torrent_phase phase = torrent_phase::seeding;   ///< seeding or finished
  std::vector<bool> have;
  std::uint32_t resumed_pieces = 0;
  std::uint64_t downloaded_closed = 0;
  std::uint64_t uploaded_closed = 0;
  std::uint64_t wasted = 0;
  std::uint32_t hash_failures = 0;
  std::shared_ptr<resume_base> resume_totals;
  std::uint32_t pieces_saved = 0;
  std::uint64_t moved_saved = 0;
  bool announced = false;                          ///< `started` went to the trackers
  /// Null: none was running. Its `due` is when the supervisor wakes the torrent.
  announce_nap_ptr announcer;
  /// Its last status, for the supervisor to take (it holds thousands of
  /// naps: the nap itself keeps none). The tracker lines (status.tracker_status,
  /// tracker_error) are what the torrent shows again when spawned from the
  /// nap: the supervisor puts them back here before it does.
  std::unique_ptr<torrent_status> status;
};

struct torrent_config {
  std::shared_ptr<const metainfo> torrent;
  std::string download_dir = ".";
  std::uint16_t listen_port = 6881;     ///< the port we announce
  std::uint32_t max_peers = 50;          ///< connected or connecting
  std::uint32_t max_half_open = 8;       ///< connects in flight at once
  std::chrono::milliseconds connect_timeout{5000};
  std::vector<peer_endpoint> initial_peers; ///< dialled at start (besides trackers)
  std::uint32_t max_strikes = 2;         ///< sole-sender hash failures before a ban
  std::uint32_t numwant = 50;
  unsigned check_threads = 0;            ///< hashing threads of the start-up check
  bool use_trackers = true;
  bool verbose = false;                  ///< print closed connections (with the reason), bans, hash failures
  bool seed = false;                     ///< keep serving peers once complete
  bool require_complete = false;         ///< after the check, missing data is an error (for `seed`), not a download
  bool start_queued = false;             ///< start in `queued`: no check until unpause_atom
  std::string resume_file;               ///< resume data path; empty: none
  bool force_overwrite = false;          ///< replace existing files that are not ours (disk_config)
  bool recheck = false;                  ///< ignore resume data: hash every piece at the check
  /// --select-file: one flag per entry of torrent->files (pad files false);
  /// empty: every file. Only pieces holding a byte of a selected file are
  /// fetched, the torrent completes when they all verify, and unselected files
  /// are never written (their bytes in boundary pieces go to a part file beside
  /// the resume data, DIR/.actorrent/HASH.parts).
  std::vector<bool> selected_files;
  double max_upload_rate = 0;            ///< bytes/s for the whole torrent, 0: unlimited
  std::chrono::seconds resume_interval{5}; ///< rewrite it this often while pieces are added
  /// The disk store and the piece picker exist while the torrent checks,
  /// downloads, stops or has peers; an idle torrent (seeding, finished, paused
  /// or queued, with no peer and no disk work) lets them go after this long
  /// and spawns them again for its next peer. 0: keep them.
  std::chrono::seconds children_idle{30};
  listener_actor listener;               ///< routes incoming connections to us (may be null)
  caf::actor observer;                   ///< receives (event_atom, torrent_event) (may be null)
  logic::choker_config choker;
  logic::peer_set_config peer_set;       ///< back-off times; max_peers/max_half_open come from above
  std::chrono::seconds choke_interval{10};
  sha1_hash peer_id;                     ///< ours; generated if zero
  // Tunables from logic::settings (app/engine_config.cpp fills them).
  // TODO(coordinator): wire these in torrent.cpp, which still uses constants or
  // default-constructed child configs:
  double max_download_rate = 0;          ///< bytes/s for the whole torrent, split among peers; 0: unlimited
  std::chrono::seconds more_peers_interval{30}; ///< with few peers, ask the trackers this often at most
  /// Templates of the children's configs: the torrent starts from these and
  /// fills in what is its own (torrent, handles, ids, paths, geometry).
  disk_config disk_defaults;
  picker_config picker_defaults;
  announcer_config announcer_defaults;
  peer_config peer_defaults;
  /// Lab: misbehave on the wire from the start (--wire-fault; empty: off).
  logic::wire_fault_spec wire_fault;
  /// Disk faults of the lab (--disk-fault, disk_fault_atom); null: the torrent
  /// makes its own, off. Shared with the disk store, which asks it before
  /// every block write.
  std::shared_ptr<storage::disk_faults> disk_faults;
  /// Block writes failing in a row (other than disk full, which pauses at
  /// once) before the torrent pauses with a disk error.
  std::uint32_t max_write_failures = 8;
  /// Spawned again after a sleep: start from this (no check, no `started`);
  /// null: a fresh start.
  torrent_nap_ptr nap;
};

struct torrent_state {
  /// A peer connection whose handle we hold (strong: until the broker is down).
  struct peer_link {
    peer_actor handle;
    double rate_sent = -1;               ///< the upload share last sent to it
    double down_share_sent = -1;         ///< the download share last sent to it
    peer_report report;
  };

  torrent_config cfg;
  disk_actor disk;
  picker_actor picker;
  announcer_actor announcer;
  logic::peer_set peers;                 ///< who is dialled, connected, backed off, banned
  std::unordered_map<peer_index, peer_link> links;
  logic::blame_tracker blame;
  logic::choker choker;
  std::shared_ptr<std::atomic<bool>> cancel_connects = std::make_shared<std::atomic<bool>>(false);
  std::chrono::steady_clock::time_point next_choke_round{};
  torrent_phase phase = torrent_phase::checking;
  std::vector<bool> have;
  std::uint64_t have_bytes = 0;
  std::uint32_t pieces_have = 0;
  std::uint64_t wasted = 0;
  std::uint32_t hash_failures = 0;
  std::map<peer_index, std::uint32_t> failed_senders; ///< failed pieces each peer sent a block of (the lab's ban oracles)
  std::uint64_t downloaded_closed = 0;   ///< payload of peers that are gone
  std::uint64_t uploaded_closed = 0;
  std::vector<bool> wanted;              ///< pieces to fetch (all unless files are selected)
  std::uint32_t wanted_total = 0;        ///< pieces set in `wanted`
  std::uint32_t wanted_have = 0;         ///< ...of which verified
  std::uint64_t wanted_size = 0;         ///< bytes of the wanted pieces
  std::uint64_t wanted_have_bytes = 0;   ///< ...of which verified
  std::uint32_t resumed_pieces = 0;      ///< verified at start
  std::shared_ptr<check_progress> check = std::make_shared<check_progress>();
  /// Totals of earlier sessions for the resume data: kept here, shared with
  /// every disk store the torrent spawns.
  std::shared_ptr<resume_base> resume_totals = std::make_shared<resume_base>();
  /// When the disk store and picker were last needed (children_idle).
  std::chrono::steady_clock::time_point children_used{};
  /// They were spawned for the check and no peer has used them: they go as
  /// soon as the torrent is idle, without waiting children_idle (a daemon
  /// checking thousands of torrents at start never holds them all at once).
  bool children_for_check = false;
  std::uint32_t pieces_saved = 0;        ///< pieces_have at the last resume write
  std::uint64_t moved_saved = 0;         ///< this session's uploaded + downloaded at the last resume write
  bool resume_pending = false;           ///< a resume write is in flight
  std::chrono::steady_clock::time_point next_resume_save{};
  bool check_started = false;            ///< the start-up check was asked for
  bool checked = false;                  ///< start-up check done
  bool finishing = false;                ///< every piece verified: the final flush was asked for
  bool complete = false;                 ///< every piece verified and flushed
  bool announced = false;                ///< `started` was sent to the current announcer
  bool use_trackers_failed = false;      ///< the announcer actor is gone
  std::string tracker_status = "not announced yet";
  std::string tracker_error;             ///< the last tracker failure, until an announce succeeds
  std::chrono::steady_clock::time_point last_announce_request{};
  std::vector<caf::typed_response_promise<bool>> stop_promises;
  /// Lab: the active wire faults (null: off) and what they did, over every spec.
  wire_faults_ptr wire_faults;
  std::shared_ptr<logic::wire_fault_counters> wire_counters = std::make_shared<logic::wire_fault_counters>();
  std::shared_ptr<storage::disk_faults> disk_faults; ///< never null
  std::string disk_error;                ///< why a write error paused us; cleared by unpause
  std::uint32_t write_failures_in_row = 0; ///< pieces lost to write errors since the last verified one
  bool ticking = false;                  ///< a tick is scheduled (queued and paused torrents have none)

  static inline const char* name = "torrent";
};

torrent_actor::behavior_type torrent(torrent_actor::stateful_pointer<torrent_state> self, torrent_config cfg);

/// Spawns a torrent actor.
torrent_actor spawn_torrent(caf::actor_system& sys, torrent_config cfg);

} // namespace actorrent
