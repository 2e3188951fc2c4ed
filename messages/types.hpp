// Message structs exchanged between actorrent's actors. Each has an `inspect`
// overload so CAF can print (and, if ever needed, serialise) it.
#pragma once

#include "protocol/peer_address.hpp"
#include "protocol/sha1.hpp"

#include <caf/meta/type_name.hpp>

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent {

/// Small integer a torrent gives each peer connection (stable for its lifetime).
using peer_index = std::uint32_t;

/// One block of a piece: what a request names.
struct block_ref {
  std::uint32_t piece = 0;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  friend bool operator==(const block_ref&, const block_ref&) = default;
  friend auto operator<=>(const block_ref&, const block_ref&) = default;
};

/// A received block on its way to the disk. `bytes` is filled once from the
/// socket buffer and then only moved: CAF messages are copy-on-write, so the
/// payload is copied exactly once between socket and page cache.
struct block_data {
  peer_index from = 0;
  std::uint32_t piece = 0;
  std::uint32_t offset = 0;
  std::vector<char> bytes;
};

/// A block read for upload: a slice of a cached piece, shared rather than
/// copied (the disk store never changes a buffer someone else still holds), or
/// a slice of a read-only mapping of its file (`mapped` set, `piece` empty; read
/// it only through the kernel, e.g. writev, or storage::copy_mapped: a file cut
/// short behind our back turns a plain read of it into SIGBUS).
/// Only ever passed between actors of one process.
struct block_view {
  std::shared_ptr<const std::vector<char>> piece;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  const char* mapped = nullptr;        ///< the block in a file mapping
  std::shared_ptr<const void> mapping; ///< keeps that mapping alive
  const char* data() const { return mapped != nullptr ? mapped : piece->data() + offset; }
  bool valid() const { return mapped != nullptr || piece != nullptr; }
};

/// The disk's answer after hashing a complete piece. On failure it carries the
/// SHA-1 of every block, so a later good copy tells which blocks were wrong.
struct piece_verdict {
  std::uint32_t piece = 0;
  bool ok = false;
  std::vector<sha1_hash> block_hashes;
  /// Not hashed: a block of the piece could not be written (disk full, I/O
  /// error, an injected disk fault). No sender is to blame; the piece is
  /// fetched again.
  std::string write_error{};
};

/// Announce events (BEP 3).
enum class announce_event : std::uint8_t { none, started, completed, stopped };

/// What the torrent tells the announcer at each announce.
struct transfer_totals {
  std::uint64_t uploaded = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t left = 0;
};

/// Peers and numbers from one successful announce.
struct announce_reply {
  std::string tracker;             ///< the URL that answered
  std::vector<peer_endpoint> peers;
  std::uint32_t interval = 1800;   ///< seconds
  std::uint32_t min_interval = 0;  ///< seconds, 0 if not given
  std::uint64_t seeders = 0;
  std::uint64_t leechers = 0;
  std::string warning;             ///< tracker's "warning message", if any
};

/// A snapshot of a torrent for progress output.
/// One connected peer as the status shows it (`download --peers`, JSON
/// `peers` events).
struct peer_info {
  std::string address;          ///< "1.2.3.4:6881", "[::1]:6881"
  std::string client;           ///< from its peer id: "libtorrent 2.0.9", "unknown"
  double down_rate = 0;         ///< bytes/s from it
  double up_rate = 0;           ///< bytes/s to it
  std::uint64_t downloaded = 0; ///< payload bytes from it
  std::uint64_t uploaded = 0;   ///< payload bytes to it
  bool incoming = false;        ///< it dialled us
  bool seed = false;            ///< it has every piece
  bool interested = false;      ///< it wants pieces from us
  bool unchoked = false;        ///< we let it download
  bool snubbed = false;         ///< it sent us nothing for a while
};

struct torrent_status {
  std::uint64_t total_size = 0;
  std::uint64_t have_bytes = 0;     ///< verified
  std::uint64_t downloaded = 0;     ///< payload bytes received
  std::uint64_t wasted = 0;         ///< bytes of failed pieces and duplicates
  std::uint64_t uploaded = 0;
  std::uint32_t pieces_have = 0;
  std::uint32_t pieces_total = 0;
  std::uint32_t peers = 0;
  std::uint32_t seeds = 0;
  std::uint32_t hash_failures = 0;
  std::uint32_t banned = 0;
  double down_rate = 0;             ///< bytes/s
  double up_rate = 0;
  bool complete = false;
  bool checking = false;            ///< still checking data already on disk
  bool seeding = false;             ///< complete and serving peers
  std::uint32_t resumed_pieces = 0; ///< pieces found verified at start (resume data or check)
  std::uint32_t leechers = 0;       ///< connected peers that are interested in our pieces
  std::uint16_t listen_port = 0;    ///< where incoming peers reach us
  std::uint64_t check_done = 0;     ///< start-up check: pieces hashed so far
  std::uint64_t check_total = 0;    ///< start-up check: pieces to hash
  std::string tracker_status;       ///< last announce outcome, for the status line
  std::string state;                ///< the lifecycle state: queued, checking, downloading, seeding, finished, paused, stopping
  std::string tracker_error;        ///< the last tracker failure ("URL: reason"); empty once an announce succeeds
  std::vector<peer_info> peer_list; ///< the handshaken peers
  /// --select-file: bytes and number of the pieces to fetch (all of them
  /// unless files are selected), and the verified bytes among them.
  std::uint64_t selected_size = 0;
  std::uint64_t selected_have = 0;
  std::uint32_t selected_pieces = 0;
  std::vector<std::string> banned_peers;  ///< the banned addresses ("1.2.3.4:6881")
  /// Lab: what the wire-fault layer did ("wire.corrupt_blocks" -> "12"), and
  /// corrupted blocks sent per remote address.
  std::map<std::string, std::string> wire;
  std::map<std::string, std::uint64_t> wire_corrupted_to;
  /// The verified pieces as a BitTorrent bitfield in hex (piece 0 is the high
  /// bit of the first byte); the swarm lab counts the copies of each piece.
  std::string have_hex;
  /// Failed pieces with a block from each address (who fed us bad data).
  std::map<std::string, std::uint64_t> hash_failures_from;
  /// A block write failed (disk full, I/O error): the torrent paused itself
  /// with this reason; empty otherwise (cleared by unpause).
  std::string disk_error{};
  /// Connections by state besides the handshaken `peers`: outgoing connects
  /// in flight, and connections whose handshake has not completed yet.
  std::uint32_t half_open = 0;
  std::uint32_t handshaking = 0;
};

/// The lifecycle states of a torrent (see actors/torrent.hpp).
enum class torrent_phase : std::uint8_t { queued, checking, downloading, seeding, finished, paused, stopping };

/// The state's name: "queued", "checking", ...
const char* phase_name(torrent_phase p);

/// The phase whose phase_name is `name`; none for any other text.
std::optional<torrent_phase> phase_from_name(std::string_view name);

/// What a torrent tells its observer (torrent_config::observer).
struct torrent_event {
  enum class kind : std::uint8_t {
    state_changed,  ///< `state` is the new state
    checked,        ///< the start-up check is done: `status.pieces_have` of `status.pieces_total` verify
    completed,      ///< every piece is verified and flushed
    error,          ///< the torrent ends with `message` (it quits right after)
    tracker_failed, ///< a tracker failed: `message` is "URL: reason"
    woke,           ///< a quiet torrent has a peer or disk work again (its disk store and picker were let go)
  };
  kind what = kind::state_changed;
  torrent_phase state = torrent_phase::checking;
  torrent_status status;            ///< the torrent's status at the event
  std::string message;
  sha1_hash info_hash;              ///< which torrent (one observer watches many in the daemon)
};

/// Per-connection numbers a peer reports to its torrent on every tick.
struct peer_report {
  peer_index id = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t uploaded = 0;
  double down_rate = 0;
  double up_rate = 0;
  bool is_seed = false;
  bool snubbed = false;
  bool interested = false;   ///< the remote wants pieces from us
};

/// What every actor answers to `status_atom` (see status_client): its name,
/// the state it is in, and its own numbers by name, for people and tools (the
/// swarm lab, the daemon's API) rather than for other actors' decisions.
struct actor_status {
  std::string name;                          ///< the state struct's `name`, e.g. "peer-connection"
  std::string state;                         ///< its current behavior(s), e.g. "downloading/serving"
  std::map<std::string, std::string> values; ///< e.g. {"downloaded", "1048576"}
};

/// What a peer's control actor (actors/control.hpp) answers to sample_atom:
/// the lab's sample of one peer, sent over BASP to the coordinator.
struct control_sample {
  std::uint32_t pid = 0;             ///< the peer's process
  std::string node;                  ///< its CAF node ID, as text
  std::string state;                 ///< the torrent's lifecycle state
  bool complete = false;
  bool seeding = false;
  std::uint64_t total_size = 0;
  std::uint64_t have_bytes = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t uploaded = 0;
  std::uint64_t wasted = 0;
  double down_rate = 0;              ///< bytes/s
  double up_rate = 0;
  std::uint32_t peers = 0;
  std::uint32_t seeds = 0;
  std::uint32_t hash_failures = 0;
  std::uint32_t banned = 0;
  std::uint32_t pieces_have = 0;
  std::uint32_t pieces_total = 0;
  std::uint64_t rss_bytes = 0;       ///< VmRSS now (0: unknown)
  std::uint64_t peak_rss_bytes = 0;  ///< VmHWM (0: unknown)
  std::uint64_t uptime_ms = 0;       ///< since the control actor started
  std::vector<std::string> errors;   ///< "tracker: URL: reason", "disk: write failed: ..."
  std::map<std::string, std::string> values; ///< the torrent's status values (wire.*, disk.*, ...)
  // What the lab's oracles and report read, as in the JSON progress lines:
  std::vector<std::string> banned_peers;                       ///< banned addresses
  std::string have_hex;                                        ///< verified pieces, hex bitfield
  std::map<std::string, std::uint64_t> hash_failures_from;     ///< failed pieces per sender address
  std::map<std::string, std::string> wire;                     ///< wire-fault counters ("wire.NAME")
  std::map<std::string, std::uint64_t> wire_corrupted_to;      ///< corrupted blocks sent per address
};

// ---- inspect overloads ------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sha1_hash& x) {
  return f(caf::meta::type_name("sha1_hash"), x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_endpoint& x) {
  return f(caf::meta::type_name("peer_endpoint"), x.addr, x.v6, x.port);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, block_ref& x) {
  return f(caf::meta::type_name("block_ref"), x.piece, x.offset, x.length);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, block_data& x) {
  return f(caf::meta::type_name("block_data"), x.from, x.piece, x.offset, x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, piece_verdict& x) {
  return f(caf::meta::type_name("piece_verdict"), x.piece, x.ok, x.block_hashes, x.write_error);
}

// announce_event needs no inspect: CAF serialises enums natively.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transfer_totals& x) {
  return f(caf::meta::type_name("transfer_totals"), x.uploaded, x.downloaded, x.left);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, announce_reply& x) {
  return f(caf::meta::type_name("announce_reply"), x.tracker, x.peers, x.interval,
           x.min_interval, x.seeders, x.leechers, x.warning);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_info& x) {
  return f(caf::meta::type_name("peer_info"), x.address, x.client, x.down_rate, x.up_rate, x.downloaded,
           x.uploaded, x.incoming, x.seed, x.interested, x.unchoked, x.snubbed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, torrent_status& x) {
  return f(caf::meta::type_name("torrent_status"), x.total_size, x.have_bytes, x.downloaded,
           x.wasted, x.uploaded, x.pieces_have, x.pieces_total, x.peers, x.seeds,
           x.hash_failures, x.banned, x.down_rate, x.up_rate, x.complete, x.checking,
           x.seeding, x.resumed_pieces, x.leechers, x.listen_port, x.check_done, x.check_total,
           x.tracker_status, x.state, x.tracker_error, x.peer_list, x.selected_size, x.selected_have,
           x.selected_pieces, x.banned_peers, x.wire, x.wire_corrupted_to, x.have_hex, x.hash_failures_from,
           x.disk_error, x.half_open, x.handshaking);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, torrent_event& x) {
  return f(caf::meta::type_name("torrent_event"), x.what, x.state, x.status, x.message, x.info_hash);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_report& x) {
  return f(caf::meta::type_name("peer_report"), x.id, x.downloaded, x.uploaded, x.down_rate,
           x.up_rate, x.is_seed, x.snubbed, x.interested);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_status& x) {
  return f(caf::meta::type_name("actor_status"), x.name, x.state, x.values);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, control_sample& x) {
  return f(caf::meta::type_name("control_sample"), x.pid, x.node, x.state, x.complete, x.seeding, x.total_size,
           x.have_bytes, x.downloaded, x.uploaded, x.wasted, x.down_rate, x.up_rate, x.peers, x.seeds,
           x.hash_failures, x.banned, x.pieces_have, x.pieces_total, x.rss_bytes, x.peak_rss_bytes, x.uptime_ms,
           x.errors, x.values, x.banned_peers, x.have_hex, x.hash_failures_from, x.wire, x.wire_corrupted_to);
}

} // namespace actorrent

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrent::block_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<actorrent::block_view>)
