#include "logic/piece_picker.hpp"

#include <algorithm>
#include <bit>
#include <numeric>
#include <utility>

namespace actorrent::logic {

const char* to_string(block_status s) noexcept {
  switch (s) {
    case block_status::accepted:
      return "accepted";
    case block_status::duplicate:
      return "duplicate";
    case block_status::unrequested:
      return "unrequested";
    case block_status::invalid:
      return "invalid";
  }
  return "unknown";
}

// -- small helpers ---------------------------------------------------------------

namespace {

// byte_bits[v][k]: bit k (most significant first) of the byte v, as 0 or 1.
constexpr auto make_byte_bits() {
  std::array<std::array<std::uint32_t, 8>, 256> t{};
  for (unsigned v = 0; v < 256; ++v)
    for (unsigned k = 0; k < 8; ++k)
      t[v][k] = (v >> (7 - k)) & 1u;
  return t;
}

constexpr auto byte_bits = make_byte_bits();

} // namespace

std::uint64_t piece_picker::random_coprime(std::uint64_t n) noexcept {
  if (n <= 2)
    return 1;
  for (int tries = 0; tries < 16; ++tries) {
    auto s = 1 + rng_.below(n - 1);
    if (std::gcd(s, n) == 1)
      return s;
  }
  return 1;
}

bool piece_picker::block_slot::requested_by(peer_id_t p) const noexcept {
  for (std::uint8_t i = 0; i < num_requesters; ++i)
    if (requesters[i] == p)
      return true;
  return false;
}

// -- construction ----------------------------------------------------------------

result<piece_picker> piece_picker::create(const piece_picker_config& cfg) {
  if (cfg.total_size == 0)
    return make_error("total size 0 is invalid");
  if (cfg.piece_length == 0)
    return make_error("piece length 0 is invalid");
  if (cfg.piece_length > max_piece_length)
    return make_error("piece length " + std::to_string(cfg.piece_length) + " exceeds limit "
                      + std::to_string(max_piece_length));
  auto pieces = cfg.total_size / cfg.piece_length + (cfg.total_size % cfg.piece_length != 0);
  if (pieces > max_pieces)
    return make_error(std::to_string(pieces) + " pieces exceeds limit "
                      + std::to_string(max_pieces));
  if (cfg.endgame_max_requesters < 1 || cfg.endgame_max_requesters > max_requesters_limit)
    return make_error("endgame max requesters " + std::to_string(cfg.endgame_max_requesters)
                      + " is outside 1.." + std::to_string(max_requesters_limit));
  return piece_picker{cfg};
}

piece_picker::piece_picker(const piece_picker_config& cfg)
  : cfg_(cfg),
    num_pieces_(static_cast<std::uint32_t>(cfg.total_size / cfg.piece_length
                                           + (cfg.total_size % cfg.piece_length != 0))),
    rng_{cfg.seed},
    have_(num_pieces_),
    avail_(num_pieces_, 0),
    bucket_pos_(num_pieces_, 0),
    dirty_(true), // the buckets are built by the first pick()
    slot_(num_pieces_, npos32) {
  unwanted_.assign(num_pieces_, false);
  last_piece_size_ = static_cast<std::uint32_t>(
    cfg.total_size - static_cast<std::uint64_t>(num_pieces_ - 1) * cfg.piece_length);
}

// -- geometry --------------------------------------------------------------------

std::uint32_t piece_picker::piece_size(std::uint32_t index) const noexcept {
  if (index >= num_pieces_)
    return 0;
  return index + 1 == num_pieces_ ? last_piece_size_ : cfg_.piece_length;
}

std::uint32_t piece_picker::blocks_in_piece(std::uint32_t index) const noexcept {
  auto size = piece_size(index);
  return size / block_size + (size % block_size != 0);
}

std::uint32_t piece_picker::block_length(std::uint32_t piece,
                                         std::uint32_t block) const noexcept {
  auto size = piece_size(piece);
  auto start = block * block_size;
  return std::min(block_size, size - start);
}

piece_picker::block_key piece_picker::to_key(std::uint32_t piece, std::uint32_t offset,
                                             std::uint32_t length) const noexcept {
  block_key bad{npos32, 0};
  if (piece >= num_pieces_)
    return bad;
  if (offset % block_size != 0 || offset >= piece_size(piece))
    return bad;
  auto block = offset / block_size;
  if (length != block_length(piece, block))
    return bad;
  return {piece, block};
}

block_request piece_picker::to_request(block_key k) const noexcept {
  return {k.piece, k.block * block_size, block_length(k.piece, k.block)};
}

// -- availability buckets --------------------------------------------------------

void piece_picker::bucket_insert(std::uint32_t piece, std::uint32_t avail) {
  if (avail >= buckets_.size())
    buckets_.resize(static_cast<std::size_t>(avail) + 1);
  auto& b = buckets_[avail];
  b.push_back(piece);
  // Insert at a random position, so that arrival order (e.g. of have
  // messages) does not shape the scan order.
  auto last = b.size() - 1;
  auto j = rng_.below(b.size());
  std::swap(b[j], b[last]);
  bucket_pos_[b[j]] = static_cast<std::uint32_t>(j);
  bucket_pos_[b[last]] = static_cast<std::uint32_t>(last);
}

void piece_picker::bucket_remove(std::uint32_t piece, std::uint32_t avail) noexcept {
  auto& b = buckets_[avail];
  auto pos = bucket_pos_[piece];
  auto moved = b.back();
  b[pos] = moved;
  bucket_pos_[moved] = pos;
  b.pop_back();
}

void piece_picker::inc_avail(std::uint32_t piece) {
  auto a = avail_[piece]++;
  if (!dirty_ && !have_.test(piece)) {
    bucket_remove(piece, a);
    bucket_insert(piece, a + 1);
  }
}

void piece_picker::dec_avail(std::uint32_t piece) {
  if (avail_[piece] == 0)
    return; // cannot happen while the invariants hold
  auto a = avail_[piece]--;
  if (!dirty_ && !have_.test(piece)) {
    bucket_remove(piece, a);
    bucket_insert(piece, a - 1);
  }
}

void piece_picker::apply_bits(const bitfield& bits, bool add) {
  // Moving each piece between buckets costs a few random memory accesses; for
  // a big bitfield, updating the counters in one branch-free sweep and
  // rebuilding the buckets once (on the next pick) is much cheaper.
  auto count = bits.count();
  auto missing = static_cast<std::size_t>(num_pieces_ - num_have_);
  if (!dirty_ && count > 64 && count * 4 >= missing)
    dirty_ = true;
  auto bytes = bits.bytes();
  if (dirty_) {
    // Invariant: avail_[i] >= 1 wherever a known peer's bit is set, so the
    // subtraction cannot wrap.
    auto* avail = avail_.data();
    auto full = num_pieces_ / 8;
    for (std::size_t i = 0; i < full; ++i) {
      const auto& e = byte_bits[bytes[i]]; // two 16-byte vector adds
      auto* a = avail + i * 8;
      if (add)
        for (unsigned k = 0; k < 8; ++k)
          a[k] += e[k];
      else
        for (unsigned k = 0; k < 8; ++k)
          a[k] -= e[k];
    }
    for (auto piece = full * 8; piece < num_pieces_; ++piece)
      if (bits.test(piece))
        avail[piece] = add ? avail[piece] + 1 : avail[piece] - 1;
    return;
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto v = bytes[i];
    while (v != 0) {
      auto bit = static_cast<unsigned>(std::countl_zero(v));
      v = static_cast<std::uint8_t>(v & ~(0x80u >> bit));
      auto piece = static_cast<std::uint32_t>(i * 8 + bit);
      if (add)
        inc_avail(piece);
      else
        dec_avail(piece);
    }
  }
}

void piece_picker::forget_bits(peer_state& ps) {
  if (ps.seed) {
    ps.seed = false;
    --num_seeds_;
  } else if (!ps.bits.empty()) {
    apply_bits(ps.bits, false);
  }
  ps.bits = bitfield{};
}

void piece_picker::rebuild_buckets() {
  // Counting sort of the missing pieces by availability: two sequential passes.
  // Buckets come out in index order; pick_new_pieces() randomizes by scanning
  // from a random start with a random stride.
  std::vector<std::uint32_t> counts;
  for (std::uint32_t p = 0; p < num_pieces_; ++p) {
    if (have_.test(p))
      continue;
    if (avail_[p] >= counts.size())
      counts.resize(static_cast<std::size_t>(avail_[p]) + 1, 0);
    ++counts[avail_[p]];
  }
  buckets_.resize(counts.size());
  for (std::size_t a = 0; a < counts.size(); ++a) {
    buckets_[a].clear();
    buckets_[a].reserve(counts[a]);
  }
  for (std::uint32_t p = 0; p < num_pieces_; ++p) {
    if (have_.test(p))
      continue;
    auto& b = buckets_[avail_[p]];
    bucket_pos_[p] = static_cast<std::uint32_t>(b.size());
    b.push_back(p);
  }
  dirty_ = false;
}

// -- peers -----------------------------------------------------------------------

piece_picker::peer_state& piece_picker::peer_ref(peer_id_t peer) {
  return peers_[peer];
}

const piece_picker::peer_state* piece_picker::find_peer(peer_id_t peer) const noexcept {
  auto i = peers_.find(peer);
  return i == peers_.end() ? nullptr : &i->second;
}

piece_picker::peer_state* piece_picker::find_peer(peer_id_t peer) noexcept {
  auto i = peers_.find(peer);
  return i == peers_.end() ? nullptr : &i->second;
}

bool piece_picker::peer_bitfield(peer_id_t peer, const bitfield& bits) {
  if (bits.size() != num_pieces_)
    return false;
  if (bits.all()) {
    peer_have_all(peer);
    return true;
  }
  auto& ps = peer_ref(peer);
  forget_bits(ps);
  ps.bits = bits;
  apply_bits(ps.bits, true);
  return true;
}

bool piece_picker::peer_have(peer_id_t peer, std::uint32_t index) {
  if (index >= num_pieces_)
    return false;
  auto& ps = peer_ref(peer);
  if (ps.seed)
    return true;
  if (ps.bits.empty())
    ps.bits = bitfield(num_pieces_);
  if (ps.bits.test(index))
    return true;
  ps.bits.set(index);
  inc_avail(index);
  return true;
}

void piece_picker::peer_have_all(peer_id_t peer) {
  auto& ps = peer_ref(peer);
  if (ps.seed)
    return;
  forget_bits(ps);
  ps.seed = true;
  ++num_seeds_;
}

void piece_picker::peer_have_none(peer_id_t peer) {
  forget_bits(peer_ref(peer));
}

std::size_t piece_picker::peer_left(peer_id_t peer) {
  auto* ps = find_peer(peer);
  if (ps == nullptr)
    return 0;
  auto n = hand_back_all(peer, *ps, false);
  forget_bits(*ps);
  auto pinned = std::move(ps->pinned);
  ps->pinned.clear();
  for (auto piece : pinned) {
    if (auto* d = find_download(piece); d != nullptr && d->pinned == peer) {
      d->pinned = no_peer;
      maybe_drop_download(piece);
    }
  }
  peers_.erase(peer);
  return n;
}

bool piece_picker::peer_has(peer_id_t peer, std::uint32_t index) const noexcept {
  auto* ps = find_peer(peer);
  return ps != nullptr && index < num_pieces_ && has(*ps, index);
}

bool piece_picker::is_seed(peer_id_t peer) const noexcept {
  auto* ps = find_peer(peer);
  return ps != nullptr && ps->seed;
}

std::uint32_t piece_picker::availability(std::uint32_t index) const noexcept {
  return index < num_pieces_ ? avail_[index] + num_seeds_ : 0;
}

// -- our pieces --------------------------------------------------------------------

bool piece_picker::mark_have(std::uint32_t index) {
  if (index >= num_pieces_ || have_.test(index))
    return false;
  if (slot_[index] != npos32)
    drop_download(index);
  if (!dirty_)
    bucket_remove(index, avail_[index]);
  have_.set(index);
  ++num_have_;
  if (unwanted_[index])
    --num_unwanted_missing_;
  bytes_have_ += piece_size(index);
  return true;
}

// -- downloads ---------------------------------------------------------------------

piece_picker::download* piece_picker::find_download(std::uint32_t piece) noexcept {
  if (piece >= num_pieces_ || slot_[piece] == npos32)
    return nullptr;
  return &downloads_[slot_[piece]];
}

const piece_picker::download* piece_picker::find_download(std::uint32_t piece) const noexcept {
  if (piece >= num_pieces_ || slot_[piece] == npos32)
    return nullptr;
  return &downloads_[slot_[piece]];
}

std::uint32_t piece_picker::start_download(std::uint32_t piece) {
  auto slot = static_cast<std::uint32_t>(downloads_.size());
  auto& d = downloads_.emplace_back();
  d.piece = piece;
  d.blocks.resize(blocks_in_piece(piece));
  slot_[piece] = slot;
  return slot;
}

void piece_picker::drop_download(std::uint32_t piece) {
  auto slot = slot_[piece];
  auto& d = downloads_[slot];
  for (std::uint32_t b = 0; b < d.num_blocks(); ++b) {
    auto& s = d.blocks[b];
    for (std::uint8_t i = 0; i < s.num_requesters; ++i) {
      if (auto* qs = find_peer(s.requesters[i]); qs != nullptr) {
        erase_outstanding(*qs, {piece, b});
        remember_late(*qs, {piece, b});
      }
    }
    num_outstanding_ -= s.num_requesters;
  }
  num_requested_blocks_ -= d.num_requested;
  num_received_blocks_ -= d.num_received;
  if (d.pinned != no_peer)
    if (auto* ps = find_peer(d.pinned); ps != nullptr)
      std::erase(ps->pinned, piece);
  if (auto last = static_cast<std::uint32_t>(downloads_.size() - 1); slot != last) {
    downloads_[slot] = std::move(downloads_[last]);
    slot_[downloads_[slot].piece] = slot;
  }
  downloads_.pop_back();
  slot_[piece] = npos32;
}

void piece_picker::maybe_drop_download(std::uint32_t piece) {
  // A piece nobody requests, nothing received and not pinned is "not started"
  // again: it goes back to the rarest-first pool.
  auto* d = find_download(piece);
  if (d != nullptr && d->num_requested == 0 && d->num_received == 0 && d->pinned == no_peer)
    drop_download(piece);
}

void piece_picker::add_request(download& d, std::uint32_t block, peer_id_t peer,
                               peer_state& ps) {
  auto& s = d.blocks[block];
  s.requesters[s.num_requesters++] = peer;
  if (s.num_requesters == 1) {
    ++d.num_requested;
    ++num_requested_blocks_;
  }
  ++num_outstanding_;
  ps.outstanding.push_back({d.piece, block});
  ps.last_piece = d.piece;
}

bool piece_picker::remove_requester(download& d, std::uint32_t block, peer_id_t peer) {
  auto& s = d.blocks[block];
  for (std::uint8_t i = 0; i < s.num_requesters; ++i) {
    if (s.requesters[i] != peer)
      continue;
    s.requesters[i] = s.requesters[--s.num_requesters];
    --num_outstanding_;
    if (s.num_requesters == 0 && !s.received) {
      --d.num_requested;
      --num_requested_blocks_;
      d.first_free = std::min(d.first_free, block);
    }
    return true;
  }
  return false;
}

bool piece_picker::erase_outstanding(peer_state& ps, block_key k) noexcept {
  auto& v = ps.outstanding;
  auto i = std::find(v.begin(), v.end(), k);
  if (i == v.end())
    return false;
  v.erase(i); // keeps request order; queues are short
  return true;
}

void piece_picker::remember_late(peer_state& ps, block_key k) {
  if (cfg_.late_request_memory == 0)
    return;
  ps.late.push_back(k);
  while (ps.late.size() > cfg_.late_request_memory)
    ps.late.pop_front();
}

bool piece_picker::take_late(peer_state& ps, block_key k) noexcept {
  auto i = std::find(ps.late.begin(), ps.late.end(), k);
  if (i == ps.late.end())
    return false;
  ps.late.erase(i);
  return true;
}

std::size_t piece_picker::hand_back_all(peer_id_t peer, peer_state& ps, bool remember) {
  auto reqs = std::move(ps.outstanding);
  ps.outstanding.clear();
  for (auto k : reqs) {
    if (auto* d = find_download(k.piece); d != nullptr)
      remove_requester(*d, k.block, peer);
    if (remember)
      remember_late(ps, k);
  }
  for (auto k : reqs)
    maybe_drop_download(k.piece);
  return reqs.size();
}

bool piece_picker::drop_request(peer_id_t peer, const block_request& b, bool remember) {
  auto k = to_key(b.piece, b.offset, b.length);
  if (k.piece == npos32)
    return false;
  auto* ps = find_peer(peer);
  auto* d = find_download(k.piece);
  if (ps == nullptr || d == nullptr || !remove_requester(*d, k.block, peer))
    return false;
  erase_outstanding(*ps, k);
  if (remember)
    remember_late(*ps, k);
  maybe_drop_download(k.piece);
  return true;
}

bool piece_picker::request_rejected(peer_id_t peer, const block_request& b) {
  return drop_request(peer, b, false);
}

bool piece_picker::request_timed_out(peer_id_t peer, const block_request& b) {
  return drop_request(peer, b, true);
}

std::size_t piece_picker::peer_choked(peer_id_t peer) {
  auto* ps = find_peer(peer);
  return ps == nullptr ? 0 : hand_back_all(peer, *ps, true);
}

std::vector<block_request> piece_picker::outstanding(peer_id_t peer) const {
  std::vector<block_request> out;
  if (auto* ps = find_peer(peer); ps != nullptr) {
    out.reserve(ps->outstanding.size());
    for (auto k : ps->outstanding)
      out.push_back(to_request(k));
  }
  return out;
}

// -- receiving -------------------------------------------------------------------

block_result piece_picker::block_received(peer_id_t peer, std::uint32_t piece,
                                          std::uint32_t offset, std::uint32_t length) {
  block_result r;
  auto k = to_key(piece, offset, length);
  if (k.piece == npos32) {
    r.status = block_status::invalid;
    return r;
  }
  auto* ps = find_peer(peer);
  if (have_.test(piece)) {
    r.status = ps != nullptr && take_late(*ps, k) ? block_status::duplicate
                                                  : block_status::unrequested;
    return r;
  }
  auto* d = find_download(piece);
  bool requested = d != nullptr && d->blocks[k.block].requested_by(peer);
  bool late = !requested && ps != nullptr && take_late(*ps, k);
  if (!requested && !late) {
    r.status = block_status::unrequested;
    return r;
  }
  if (d != nullptr && d->blocks[k.block].received) {
    r.status = block_status::duplicate;
    return r;
  }
  if (d != nullptr && d->pinned != no_peer && d->pinned != peer && !requested) {
    // Late data for a piece now reserved for one peer: keep the blame clean.
    r.status = block_status::duplicate;
    return r;
  }
  if (d == nullptr)
    d = &downloads_[start_download(piece)];
  auto& s = d->blocks[k.block];
  auto req = to_request(k);
  for (std::uint8_t i = 0; i < s.num_requesters; ++i) {
    auto q = s.requesters[i];
    auto* qs = find_peer(q);
    if (qs != nullptr)
      erase_outstanding(*qs, k);
    if (q != peer) {
      r.cancels.push_back({q, req});
      if (qs != nullptr)
        remember_late(*qs, k);
    }
  }
  num_outstanding_ -= s.num_requesters;
  if (s.num_requesters > 0) {
    --d->num_requested;
    --num_requested_blocks_;
    s.num_requesters = 0;
  }
  s.received = true;
  s.sender = peer;
  ++d->num_received;
  ++num_received_blocks_;
  while (d->first_free < d->num_blocks() && !d->blocks[d->first_free].is_free())
    ++d->first_free;
  r.status = block_status::accepted;
  r.piece_complete = d->num_received == d->num_blocks();
  return r;
}

// -- hashing -----------------------------------------------------------------------

std::vector<peer_id_t> piece_picker::block_senders(std::uint32_t index) const {
  std::vector<peer_id_t> out;
  if (auto* d = find_download(index); d != nullptr) {
    out.reserve(d->blocks.size());
    for (auto& s : d->blocks)
      out.push_back(s.sender);
  }
  return out;
}

std::vector<peer_id_t> piece_picker::piece_failed(std::uint32_t index) {
  auto senders = block_senders(index);
  auto* d = find_download(index);
  if (d == nullptr)
    return senders;
  for (auto& s : d->blocks) {
    if (s.received) {
      s.received = false;
      s.sender = no_peer;
      --num_received_blocks_;
    }
  }
  d->num_received = 0;
  d->first_free = 0;
  while (d->first_free < d->num_blocks() && !d->blocks[d->first_free].is_free())
    ++d->first_free;
  maybe_drop_download(index);
  return senders;
}

bool piece_picker::pin_piece_to_peer(std::uint32_t index, peer_id_t peer) {
  if (index >= num_pieces_ || have_.test(index) || peer == no_peer)
    return false;
  auto* known = find_peer(peer);
  if (known == nullptr || !has(*known, index))
    return false;
  auto& ps = peer_ref(peer);
  auto* d = find_download(index);
  if (d == nullptr)
    d = &downloads_[start_download(index)];
  if (d->pinned == peer)
    return true;
  if (d->pinned != no_peer)
    if (auto* old = find_peer(d->pinned); old != nullptr)
      std::erase(old->pinned, index);
  d->pinned = peer;
  ps.pinned.push_back(index);
  return true;
}

bool piece_picker::unpin_piece(std::uint32_t index) {
  auto* d = find_download(index);
  if (d == nullptr || d->pinned == no_peer)
    return false;
  if (auto* ps = find_peer(d->pinned); ps != nullptr)
    std::erase(ps->pinned, index);
  d->pinned = no_peer;
  maybe_drop_download(index);
  return true;
}

peer_id_t piece_picker::pinned_peer(std::uint32_t index) const noexcept {
  auto* d = find_download(index);
  return d == nullptr ? no_peer : d->pinned;
}

// -- picking -----------------------------------------------------------------------

void piece_picker::take_blocks(std::uint32_t slot, peer_id_t peer, peer_state& ps,
                               std::size_t max, std::vector<block_request>& out) {
  auto& d = downloads_[slot];
  if (d.num_free() == 0)
    return;
  // first_free: every block before it is requested or received.
  for (auto b = d.first_free; b < d.num_blocks() && out.size() < max; ++b) {
    if (d.blocks[b].is_free()) {
      add_request(d, b, peer, ps);
      out.push_back(to_request({d.piece, b}));
    }
  }
  while (d.first_free < d.num_blocks() && !d.blocks[d.first_free].is_free())
    ++d.first_free;
}

bool piece_picker::startable(const peer_state& ps, std::uint32_t piece) const noexcept {
  return slot_[piece] == npos32 && !have_.test(piece) && !unwanted_[piece] && has(ps, piece);
}

bool piece_picker::set_wanted(const std::vector<bool>& wanted) {
  if (wanted.size() != num_pieces_)
    return false;
  num_unwanted_missing_ = 0;
  for (std::uint32_t p = 0; p < num_pieces_; ++p) {
    unwanted_[p] = !wanted[p];
    if (unwanted_[p] && !have_.test(p))
      ++num_unwanted_missing_;
  }
  return true;
}

void piece_picker::pick_new_pieces(peer_id_t peer, peer_state& ps, std::size_t max,
                                   std::vector<block_request>& out) {
  if (num_have_ < cfg_.random_first_pieces) {
    // Fast start: a random piece completes as quickly as a rare one but is
    // more likely to be wanted by others than the rarest. A bounded number of
    // probes; a peer with few pieces falls through to the bucket scan.
    for (int tries = 0; tries < 64 && out.size() < max; ++tries) {
      auto p = static_cast<std::uint32_t>(rng_.below(num_pieces_));
      if (startable(ps, p))
        take_blocks(start_download(p), peer, ps, max, out);
    }
  }
  if (out.size() >= max)
    return;
  if (dirty_)
    rebuild_buckets();
  // A non-seed peer contributes to the availability of its own pieces, so none
  // of them can be in bucket 0.
  for (std::size_t a = ps.seed ? 0 : 1; a < buckets_.size(); ++a) {
    const auto& b = buckets_[a];
    auto n = b.size();
    if (n == 0)
      continue;
    // Random start and random stride coprime to n: every piece of the bucket
    // is visited once, in an order that differs per call and per seed.
    auto i = rng_.below(n);
    auto step = random_coprime(n);
    for (std::size_t k = 0; k < n; ++k, i = i + step >= n ? i + step - n : i + step) {
      auto p = b[i];
      if (!startable(ps, p))
        continue;
      take_blocks(start_download(p), peer, ps, max, out);
      if (out.size() >= max)
        return;
    }
  }
}

void piece_picker::pick_endgame(peer_id_t peer, peer_state& ps, std::size_t max,
                                std::vector<block_request>& out) {
  // Least-duplicated blocks first: those requested from one peer, then two...
  for (std::uint32_t level = 1; level < cfg_.endgame_max_requesters; ++level) {
    for (std::uint32_t slot = 0; slot < downloads_.size(); ++slot) {
      auto& d = downloads_[slot];
      if (d.num_requested == 0 || (d.pinned != no_peer && d.pinned != peer)
          || !has(ps, d.piece))
        continue;
      for (std::uint32_t b = 0; b < d.num_blocks(); ++b) {
        auto& s = d.blocks[b];
        if (s.received || s.num_requesters != level || s.requested_by(peer))
          continue;
        add_request(d, b, peer, ps);
        out.push_back(to_request({d.piece, b}));
        if (out.size() >= max)
          return;
      }
    }
  }
}

std::vector<block_request> piece_picker::pick(peer_id_t peer, std::size_t max_blocks) {
  std::vector<block_request> out;
  auto* ps = find_peer(peer);
  if (max_blocks == 0 || ps == nullptr || wanted_complete())
    return out;
  auto usable = [&](const download& d) {
    return d.num_free() > 0 && (d.pinned == no_peer || d.pinned == peer) && has(*ps, d.piece);
  };
  // 0 + 1: pieces pinned to this peer, then the pieces it has requests in and
  // the piece it requested from last: O(q), enough in the common case of a
  // peer refilling its queue within its current piece.
  ++epoch_;
  std::vector<std::uint32_t> own;
  auto add_own = [&](std::uint32_t piece) {
    if (piece >= num_pieces_ || slot_[piece] == npos32)
      return;
    auto& d = downloads_[slot_[piece]];
    if (d.mark == epoch_)
      return;
    d.mark = epoch_;
    if (usable(d))
      own.push_back(slot_[piece]);
  };
  for (auto piece : ps->pinned)
    add_own(piece);
  for (auto k : ps->outstanding)
    add_own(k.piece);
  add_own(ps->last_piece);
  for (auto slot : own)
    if (out.size() < max_blocks)
      take_blocks(slot, peer, *ps, max_blocks, out);
  if (out.size() >= max_blocks)
    return out;
  // 2: pieces nobody is downloading now (most complete first); remember the
  // ones others are downloading for step 4. O(D).
  std::vector<std::uint32_t> orphan, shared;
  for (std::uint32_t slot = 0; slot < downloads_.size(); ++slot) {
    auto& d = downloads_[slot];
    if (d.mark == epoch_ || !usable(d))
      continue;
    (d.num_requested == 0 ? orphan : shared).push_back(slot);
  }
  std::stable_sort(orphan.begin(), orphan.end(), [this](std::uint32_t x, std::uint32_t y) {
    return downloads_[x].num_received > downloads_[y].num_received;
  });
  for (auto slot : orphan)
    if (out.size() < max_blocks)
      take_blocks(slot, peer, *ps, max_blocks, out);
  // 3: new pieces.
  if (out.size() < max_blocks)
    pick_new_pieces(peer, *ps, max_blocks, out);
  // 4: share pieces other peers are downloading.
  for (auto slot : shared)
    if (out.size() < max_blocks)
      take_blocks(slot, peer, *ps, max_blocks, out);
  // 5: endgame: this peer can get no free block and every missing piece has
  // been started, so duplicate requests only cost a little bandwidth at the end.
  if (out.size() < max_blocks && cfg_.endgame_max_requesters > 1 && all_pieces_started())
    pick_endgame(peer, *ps, max_blocks, out);
  return out;
}

// -- self check ------------------------------------------------------------------

std::string piece_picker::self_check() {
  auto fail = [](std::string what) { return what; };
  if (have_.count() != num_have_)
    return fail("num_have " + std::to_string(num_have_) + " != have bits");
  {
    std::uint32_t unwanted_missing = 0;
    for (std::uint32_t p = 0; p < num_pieces_; ++p)
      unwanted_missing += unwanted_[p] && !have_.test(p) ? 1 : 0;
    if (unwanted_missing != num_unwanted_missing_)
      return fail("num_unwanted_missing " + std::to_string(num_unwanted_missing_) + " != "
                  + std::to_string(unwanted_missing));
  }
  std::uint64_t bytes = 0;
  for (std::uint32_t p = 0; p < num_pieces_; ++p)
    if (have_.test(p))
      bytes += piece_size(p);
  if (bytes != bytes_have_)
    return fail("bytes_have mismatch");
  std::uint32_t seeds = 0;
  std::vector<std::uint32_t> avail(num_pieces_, 0);
  for (auto& [id, ps] : peers_) {
    if (ps.seed) {
      ++seeds;
      if (!ps.bits.empty())
        return fail("seed with bits");
      continue;
    }
    for (std::uint32_t p = 0; p < num_pieces_; ++p)
      if (ps.bits.test(p))
        ++avail[p];
  }
  if (seeds != num_seeds_)
    return fail("seed count mismatch");
  if (avail != avail_)
    return fail("availability mismatch");
  if (!dirty_) {
    std::size_t total = 0;
    for (auto& b : buckets_)
      total += b.size();
    if (total != num_pieces_ - num_have_)
      return fail("bucket sizes do not add up");
    for (std::uint32_t p = 0; p < num_pieces_; ++p) {
      if (have_.test(p))
        continue;
      auto a = avail_[p];
      if (a >= buckets_.size() || bucket_pos_[p] >= buckets_[a].size()
          || buckets_[a][bucket_pos_[p]] != p)
        return fail("piece " + std::to_string(p) + " not in its bucket");
    }
  }
  std::size_t requested = 0, outstanding = 0, received = 0;
  for (std::uint32_t slot = 0; slot < downloads_.size(); ++slot) {
    auto& d = downloads_[slot];
    auto name = "download of piece " + std::to_string(d.piece);
    if (slot_[d.piece] != slot)
      return fail(name + ": slot mismatch");
    if (have_.test(d.piece))
      return fail(name + ": piece already had");
    std::uint32_t req = 0, rec = 0;
    for (std::uint32_t b = 0; b < d.num_blocks(); ++b) {
      auto& s = d.blocks[b];
      if (s.received) {
        ++rec;
        if (s.num_requesters != 0)
          return fail(name + ": received block with requesters");
        if (s.sender == no_peer)
          return fail(name + ": received block without sender");
      } else if (s.sender != no_peer) {
        return fail(name + ": sender of a missing block");
      }
      if (s.num_requesters > 0)
        ++req;
      if (b < d.first_free && s.is_free())
        return fail(name + ": free block before first_free");
      for (std::uint8_t i = 0; i < s.num_requesters; ++i) {
        for (std::uint8_t j = 0; j < i; ++j)
          if (s.requesters[i] == s.requesters[j])
            return fail(name + ": duplicate requester");
        auto* qs = find_peer(s.requesters[i]);
        if (qs == nullptr)
          return fail(name + ": requester unknown");
        if (std::count(qs->outstanding.begin(), qs->outstanding.end(), block_key{d.piece, b})
            != 1)
          return fail(name + ": requester's queue disagrees");
      }
      outstanding += s.num_requesters;
    }
    if (req != d.num_requested || rec != d.num_received)
      return fail(name + ": block counters mismatch");
    if (req == 0 && rec == 0 && d.pinned == no_peer)
      return fail(name + ": empty download kept");
    if (d.pinned != no_peer) {
      auto* ps = find_peer(d.pinned);
      if (ps == nullptr || std::count(ps->pinned.begin(), ps->pinned.end(), d.piece) != 1)
        return fail(name + ": pin not recorded at the peer");
    }
    requested += req;
    received += rec;
  }
  for (std::uint32_t p = 0; p < num_pieces_; ++p)
    if (slot_[p] != npos32 && (slot_[p] >= downloads_.size() || downloads_[slot_[p]].piece != p))
      return fail("dangling slot for piece " + std::to_string(p));
  std::size_t queued = 0;
  for (auto& [id, ps] : peers_) {
    queued += ps.outstanding.size();
    for (auto k : ps.outstanding) {
      auto* d = find_download(k.piece);
      if (d == nullptr || !d->blocks[k.block].requested_by(id))
        return fail("peer " + std::to_string(id) + " queue has a stale request");
    }
    for (auto piece : ps.pinned)
      if (pinned_peer(piece) != id)
        return fail("peer " + std::to_string(id) + " lists a pin it does not hold");
  }
  if (requested != num_requested_blocks_)
    return fail("num_requested_blocks mismatch");
  if (outstanding != num_outstanding_ || queued != num_outstanding_)
    return fail("num_outstanding mismatch");
  if (received != num_received_blocks_)
    return fail("num_received_blocks mismatch");
  return {};
}

} // namespace actorrent::logic
