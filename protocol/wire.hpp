// The BitTorrent peer wire protocol: handshake, BEP 3 messages, the BEP 6 fast
// extension and the BEP 10 extension envelope.
//
// Decoding is zero-copy and allocation-free per message: a decoded `message` is
// a small struct whose payload (bitfield bytes, piece block, extended payload)
// is a span pointing either into the caller's chunk or into the decoder's
// buffer. Encoding appends big-endian bytes to a caller's buffer.
#pragma once

#include "protocol/result.hpp"
#include "protocol/sha1.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace actorrent::wire {

// ---- constants ------------------------------------------------------------------

/// The protocol string of the handshake (its length, 19, is `pstrlen`).
inline constexpr std::string_view protocol_string = "BitTorrent protocol";
/// Size of a complete handshake: 1 + 19 + 8 + 20 + 20.
inline constexpr std::size_t handshake_size = 68;
/// Bytes up to and including the info-hash: what an accepting side must read
/// before it knows which torrent the connection is for.
inline constexpr std::size_t handshake_prefix_size = 48;
/// The conventional request size.
inline constexpr std::uint32_t default_block_size = 16 * 1024;
/// Bytes of a piece message before its block: length(4) id(1) index(4) begin(4).
inline constexpr std::size_t piece_header_size = 13;

// ---- handshake ------------------------------------------------------------------

/// The 68-byte handshake: <19>"BitTorrent protocol"<reserved:8><info_hash:20><peer_id:20>.
struct handshake {
  std::array<std::uint8_t, 8> reserved{};
  sha1_hash info_hash;
  sha1_hash peer_id;

  /// BEP 5: DHT port message supported (reserved byte 7, bit 0x01).
  bool supports_dht() const noexcept { return (reserved[7] & 0x01) != 0; }
  /// BEP 6: fast extension supported (reserved byte 7, bit 0x04).
  bool supports_fast() const noexcept { return (reserved[7] & 0x04) != 0; }
  /// BEP 10: extension protocol supported (reserved byte 5, bit 0x10).
  bool supports_extensions() const noexcept { return (reserved[5] & 0x10) != 0; }

  void set_dht(bool on) noexcept { set_bit(7, 0x01, on); }
  void set_fast(bool on) noexcept { set_bit(7, 0x04, on); }
  void set_extensions(bool on) noexcept { set_bit(5, 0x10, on); }

  friend bool operator==(const handshake&, const handshake&) = default;

private:
  void set_bit(std::size_t byte, std::uint8_t bit, bool on) noexcept {
    reserved[byte] = static_cast<std::uint8_t>(on ? (reserved[byte] | bit)
                                                  : (reserved[byte] & ~bit));
  }
};

/// Writes the 68 handshake bytes.
void write_handshake(const handshake& hs, std::span<std::uint8_t, handshake_size> out) noexcept;
/// Appends the 68 handshake bytes.
void append_handshake(const handshake& hs, std::vector<std::uint8_t>& out);
std::array<std::uint8_t, handshake_size> encode_handshake(const handshake& hs) noexcept;

/// Decodes a complete handshake from the first 68 bytes of `in` (bytes after
/// them are ignored). Errors, with the byte offset of the culprit:
/// "handshake needs 68 bytes, got 30", "handshake pstrlen 20, expected 19",
/// "handshake protocol string is not \"BitTorrent protocol\"".
result<handshake> decode_handshake(std::span<const std::uint8_t> in);
/// Decodes the first 48 bytes (through the info-hash) for an incoming connection
/// that must pick the torrent before the peer id arrives; `peer_id` stays zero.
/// Same errors as decode_handshake, with 48 in place of 68.
result<handshake> decode_handshake_prefix(std::span<const std::uint8_t> in);

// ---- messages -------------------------------------------------------------------

/// Message types. Wire ids keep their numeric value; keep-alive (no id on the
/// wire) and unknown ids get values outside the 8-bit id range.
enum class msg_type : std::uint16_t {
  choke = 0,
  unchoke = 1,
  interested = 2,
  not_interested = 3,
  have = 4,
  bitfield = 5,
  request = 6,
  piece = 7,
  cancel = 8,
  port = 9,          ///< BEP 5
  suggest = 0x0D,    ///< BEP 6 suggest piece
  have_all = 0x0E,   ///< BEP 6
  have_none = 0x0F,  ///< BEP 6
  reject = 0x10,     ///< BEP 6 reject request
  allowed_fast = 0x11, ///< BEP 6
  extended = 20,     ///< BEP 10
  keep_alive = 0x100,
  unknown = 0x101,   ///< an id this codec does not know; see message::raw_id
};

/// "choke", "not interested", "reject request", "keep-alive", "unknown", ...
const char* to_string(msg_type t) noexcept;

/// One decoded (or to-be-encoded) message. Which fields are meaningful depends on
/// `type`; the others are zero / empty. No allocation: `payload` is a view.
struct message {
  msg_type type = msg_type::keep_alive;
  /// The id byte on the wire (equals `type` for known ids; 0 for keep-alive).
  std::uint8_t raw_id = 0;
  /// extended: the BEP 10 extended message id (0 = extension handshake).
  std::uint8_t ext_id = 0;
  /// port: the DHT port.
  std::uint16_t port = 0;
  /// have, request, piece, cancel, suggest, reject, allowed_fast: piece index.
  std::uint32_t index = 0;
  /// request, piece, cancel, reject: byte offset within the piece.
  std::uint32_t begin = 0;
  /// request, cancel, reject: requested length; piece: block size (payload.size()).
  std::uint32_t length = 0;
  /// bitfield: the bitfield bytes; piece: the block; extended: the bencoded
  /// payload after ext_id; unknown: everything after the id byte.
  std::span<const std::uint8_t> payload;

  static message keep_alive() noexcept { return {}; }
  static message choke() noexcept { return simple(msg_type::choke); }
  static message unchoke() noexcept { return simple(msg_type::unchoke); }
  static message interested() noexcept { return simple(msg_type::interested); }
  static message not_interested() noexcept { return simple(msg_type::not_interested); }
  static message have_all() noexcept { return simple(msg_type::have_all); }
  static message have_none() noexcept { return simple(msg_type::have_none); }
  static message have(std::uint32_t index) noexcept {
    return with_index(msg_type::have, index);
  }
  static message suggest(std::uint32_t index) noexcept {
    return with_index(msg_type::suggest, index);
  }
  static message allowed_fast(std::uint32_t index) noexcept {
    return with_index(msg_type::allowed_fast, index);
  }
  static message request(std::uint32_t index, std::uint32_t begin, std::uint32_t length) noexcept {
    return block_ref(msg_type::request, index, begin, length);
  }
  static message cancel(std::uint32_t index, std::uint32_t begin, std::uint32_t length) noexcept {
    return block_ref(msg_type::cancel, index, begin, length);
  }
  static message reject(std::uint32_t index, std::uint32_t begin, std::uint32_t length) noexcept {
    return block_ref(msg_type::reject, index, begin, length);
  }
  static message piece(std::uint32_t index, std::uint32_t begin,
                       std::span<const std::uint8_t> block) noexcept {
    auto m = block_ref(msg_type::piece, index, begin, static_cast<std::uint32_t>(block.size()));
    m.payload = block;
    return m;
  }
  static message bitfield(std::span<const std::uint8_t> bytes) noexcept {
    auto m = simple(msg_type::bitfield);
    m.payload = bytes;
    return m;
  }
  static message port_msg(std::uint16_t p) noexcept {
    auto m = simple(msg_type::port);
    m.port = p;
    return m;
  }
  static message extended(std::uint8_t ext, std::span<const std::uint8_t> body) noexcept {
    auto m = simple(msg_type::extended);
    m.ext_id = ext;
    m.payload = body;
    return m;
  }
  /// A message with an id this codec does not know (the caller must not pass a
  /// known id, or the encoding would not decode back to an unknown message).
  static message unknown(std::uint8_t id, std::span<const std::uint8_t> body) noexcept {
    message m;
    m.type = msg_type::unknown;
    m.raw_id = id;
    m.payload = body;
    return m;
  }

  /// Field-wise equality; payloads compare by content.
  friend bool operator==(const message& a, const message& b) noexcept {
    return a.type == b.type && a.raw_id == b.raw_id && a.ext_id == b.ext_id
           && a.port == b.port && a.index == b.index && a.begin == b.begin
           && a.length == b.length
           && std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(),
                         b.payload.end());
  }

private:
  static message simple(msg_type t) noexcept {
    message m;
    m.type = t;
    m.raw_id = static_cast<std::uint8_t>(t);
    return m;
  }
  static message with_index(msg_type t, std::uint32_t index) noexcept {
    auto m = simple(t);
    m.index = index;
    return m;
  }
  static message block_ref(msg_type t, std::uint32_t index, std::uint32_t begin,
                           std::uint32_t length) noexcept {
    auto m = with_index(t, index);
    m.begin = begin;
    m.length = length;
    return m;
  }
};

/// For logs: "have(index=5)", "piece(index=1, begin=16384, length=16384)",
/// "extended(ext_id=0, 42 bytes)", "unknown(id=99, 3 bytes)".
std::string to_string(const message& m);

// ---- encoding -------------------------------------------------------------------
//
// Every append_* function appends one complete message (4-byte big-endian
// length prefix included) to `out`. Payloads must be shorter than 4 GiB minus
// the header (the decoder's limits are far below that anyway).

void append_keep_alive(std::vector<std::uint8_t>& out);
void append_choke(std::vector<std::uint8_t>& out);
void append_unchoke(std::vector<std::uint8_t>& out);
void append_interested(std::vector<std::uint8_t>& out);
void append_not_interested(std::vector<std::uint8_t>& out);
void append_have(std::vector<std::uint8_t>& out, std::uint32_t index);
void append_bitfield(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bits);
void append_request(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                    std::uint32_t length);
/// Header and block in one buffer (copies the block); see piece_header() to avoid that.
void append_piece(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                  std::span<const std::uint8_t> block);
void append_cancel(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                   std::uint32_t length);
void append_port(std::vector<std::uint8_t>& out, std::uint16_t port);
void append_suggest(std::vector<std::uint8_t>& out, std::uint32_t index);
void append_have_all(std::vector<std::uint8_t>& out);
void append_have_none(std::vector<std::uint8_t>& out);
void append_reject(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                   std::uint32_t length);
void append_allowed_fast(std::vector<std::uint8_t>& out, std::uint32_t index);
void append_extended(std::vector<std::uint8_t>& out, std::uint8_t ext_id,
                     std::span<const std::uint8_t> payload);

/// The 13 bytes that precede a block of `block_length` bytes in a piece message,
/// for scatter/gather writes: send piece_header(...) and then the block itself
/// straight from the disk cache, without copying it into a message buffer.
inline std::array<std::uint8_t, piece_header_size>
piece_header(std::uint32_t index, std::uint32_t begin, std::uint32_t block_length) noexcept {
  std::array<std::uint8_t, piece_header_size> h{};
  auto put = [&h](std::size_t pos, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i)
      h[pos + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  };
  put(0, 9 + block_length);
  h[4] = static_cast<std::uint8_t>(msg_type::piece);
  put(5, index);
  put(9, begin);
  return h;
}
/// Appends piece_header(index, begin, block_length) to `out`.
void append_piece_header(std::vector<std::uint8_t>& out, std::uint32_t index,
                         std::uint32_t begin, std::uint32_t block_length);

/// Encoded size of `m`, length prefix included.
std::size_t encoded_size(const message& m) noexcept;
/// Appends the encoding of any message.
void append(std::vector<std::uint8_t>& out, const message& m);
/// Writes the encoding of `m` to the front of `out`; returns the number of bytes
/// written, or 0 (writing nothing) when `out` is smaller than encoded_size(m).
std::size_t encode(const message& m, std::span<std::uint8_t> out) noexcept;

// ---- decoding -------------------------------------------------------------------

/// Bounds on what a peer may send. Checked as soon as the length prefix and the
/// id byte have arrived, before the body is buffered, so an oversized or
/// malformed message is rejected without waiting for (or storing) its body.
struct limits {
  /// Largest accepted length prefix (id byte + payload), for every message
  /// type. 1 MiB admits bitfields of torrents with ~8.4 million pieces.
  std::uint32_t max_message_length = 1024 * 1024;
  /// Largest accepted block in a piece message (its length prefix may be at
  /// most 9 + this). Blocks are normally 16 KiB.
  std::uint32_t max_block_length = 128 * 1024;
};

/// Decodes exactly one complete message occupying all of `in` (length prefix
/// included). Errors: those of the decoder, plus "truncated message: need N
/// bytes, got M" and "M bytes after a message of N bytes". The payload views `in`.
result<message> decode_message(std::span<const std::uint8_t> in, const limits& lim = {});

/// What the pull API (decoder::next) produced.
enum class event_kind : std::uint8_t {
  need_more,        ///< no complete item is buffered; feed more bytes
  handshake_prefix, ///< `hs.reserved` and `hs.info_hash` are known (48 bytes in)
  handshake,        ///< the whole handshake, `hs`; the decoder now reads messages
  message,          ///< `msg`
};

struct event {
  event_kind kind = event_kind::need_more;
  handshake hs;
  message msg;
};

/// For the push API's handshake callback.
enum class handshake_stage : std::uint8_t {
  prefix,   ///< 48 bytes in: reserved bits and info-hash known, peer id still zero
  complete, ///< all 68 bytes; the decoder switches to messages right after
};

/// Incremental decoder of one connection's incoming byte stream.
///
/// The stream may arrive split at any byte; the decoder yields the same items
/// for every split. It optionally starts with the handshake (mode::handshake:
/// one `prefix` event at 48 bytes, one `complete` event at 68) and then decodes
/// messages.
///
/// Errors are final: the decoder stays failed and keeps returning the first
/// error (its offset is the stream offset of the offending message's length
/// prefix, or of the offending handshake byte). Messages decoded before the
/// error are still delivered. Error messages name the type and length, e.g.
/// "length prefix 2000000 exceeds limit 1048576", "have message length 4,
/// expected 5", "piece message length 8, expected at least 9",
/// "piece message length 131082 exceeds limit 131081",
/// "extended message length 1, expected at least 2".
///
/// Unknown ids are not errors: they come out as msg_type::unknown (bounded by
/// max_message_length) and the caller may ignore them. Whether a BEP 6/BEP 10
/// message is allowed on this connection (i.e. was negotiated in the handshake)
/// is the caller's decision, as are semantic checks (piece index in range,
/// request length acceptable).
///
/// Two ways to use it (they may be mixed):
///
/// * Push, zero-copy (the fast path): `parse(chunk, on_message)` decodes every
///   complete message straight out of `chunk` and calls `on_message(const
///   message&)` for each. Only a partial message at the end of the chunk is
///   copied into the decoder; the next parse() first completes it by copying
///   just the missing bytes, then goes back to decoding in place. Payload views
///   point into `chunk` or into the decoder's buffer and are valid only during
///   the callback. A callback returning `false` (it may also return void)
///   stops decoding after that item; the rest of the chunk is then buffered
///   and is decoded by the next parse() (pass an empty chunk to resume) or next().
///   Callbacks must not call back into the same decoder.
///
/// * Pull: `feed(bytes)` appends (copies) bytes, `next()` returns one item or
///   need_more. Payload views point into the decoder's buffer and stay valid
///   until the next feed(), parse() or reset() (next() never moves the buffer).
///
/// Memory: in push use, the buffer holds at most one partial message, i.e. less
/// than 4 + max_message_length bytes (plus the rest of a chunk after a callback
/// stopped early). Space is not reserved on the strength of a length prefix
/// alone beyond 64 KiB, and a buffer grown past 256 KiB is released once it
/// empties. In pull use the buffer holds what was fed and not yet consumed by
/// next(): drain with next() until need_more before feeding more.
class decoder {
public:
  enum class mode : std::uint8_t { handshake, messages };

  explicit decoder(mode start = mode::messages, limits lim = {}) noexcept
    : lim_(lim), mode_(start) {}

  /// Back to the freshly constructed state (buffer dropped, error cleared).
  void reset(mode start = mode::messages) noexcept;

  mode current_mode() const noexcept { return mode_; }
  bool failed() const noexcept { return failed_; }
  /// The error that stopped the decoder (meaningful when failed()).
  const error_info& error() const noexcept { return err_; }
  const limits& get_limits() const noexcept { return lim_; }
  /// Bytes received but not yet consumed by a delivered item.
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }
  /// Stream offset of the next undelivered byte (bytes consumed so far).
  std::uint64_t bytes_consumed() const noexcept { return consumed_; }

  // -- push API --

  /// Decodes all complete messages in `chunk` (after any buffered bytes) and
  /// calls `on_message(const message&)` for each. Fails with "decoder expects a
  /// handshake" if the decoder is in handshake mode: use the three-argument
  /// overload for streams that start with the handshake.
  template <class OnMessage>
  status parse(std::span<const std::uint8_t> chunk, OnMessage&& on_message) {
    if (mode_ == mode::handshake && !failed_)
      return fail(make_error("decoder expects a handshake", consumed_));
    auto no_handshake = [](const handshake&, handshake_stage) { return false; };
    return parse(chunk, no_handshake, on_message);
  }

  /// Like parse(chunk, on_message), also calling `on_handshake(const handshake&,
  /// handshake_stage)` for the prefix and the complete handshake while in
  /// handshake mode.
  template <class OnHandshake, class OnMessage>
  status parse(std::span<const std::uint8_t> chunk, OnHandshake&& on_handshake,
               OnMessage&& on_message) {
    if (failed_)
      return err_;
    message msg;
    handshake hs;
    std::size_t consumed = 0;
    std::size_t need = 0;
    auto deliver = [&](step_kind k) -> bool {
      if (k == step_kind::message)
        return call(on_message, std::as_const(msg));
      return call(on_handshake, std::as_const(hs),
                  k == step_kind::handshake_prefix ? handshake_stage::prefix
                                                   : handshake_stage::complete);
    };
    // 1. Items that are (or become, by topping up from `chunk`) complete in the buffer.
    while (pos_ < buf_.size()) {
      auto avail = std::span<const std::uint8_t>{buf_}.subspan(pos_);
      auto k = step(avail, msg, hs, consumed, need);
      if (k == step_kind::error)
        return err_;
      if (k == step_kind::need_more) {
        if (chunk.empty())
          return {};
        // Copy only what completes the next step, not the whole chunk.
        auto take = std::min(need - avail.size(), chunk.size());
        buf_.insert(buf_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
        chunk = chunk.subspan(take);
        continue;
      }
      pos_ += consumed;
      consumed_ += consumed;
      if (!deliver(k)) {
        stash(chunk);
        return {};
      }
    }
    drop_buffer();
    // 2. The zero-copy path: decode in place from the caller's chunk.
    while (!chunk.empty()) {
      auto k = step(chunk, msg, hs, consumed, need);
      if (k == step_kind::error)
        return err_;
      if (k == step_kind::need_more) {
        stash(chunk, need);
        return {};
      }
      chunk = chunk.subspan(consumed);
      consumed_ += consumed;
      if (!deliver(k)) {
        stash(chunk);
        return {};
      }
    }
    return {};
  }

  // -- pull API --

  /// Appends a copy of `bytes` to the buffer (ignored once the decoder failed).
  void feed(std::span<const std::uint8_t> bytes);
  /// The next complete item, need_more, or the (sticky) error.
  result<event> next();

private:
  enum class step_kind : std::uint8_t { need_more, handshake_prefix, handshake, message, error };

  // Decodes one item at the start of `in` (which begins at stream offset
  // consumed_). On need_more, `need` is the total size `in` must reach for the
  // next step to make progress (always > in.size()). On an item, `consumed` is
  // its size (0 for the handshake prefix, which is reported before it is
  // consumed). On error, the decoder is failed.
  step_kind step(std::span<const std::uint8_t> in, message& msg, handshake& hs,
                 std::size_t& consumed, std::size_t& need);
  status fail(error_info err);
  // Buffers the rest of a chunk (after draining the consumed part of buf_).
  void stash(std::span<const std::uint8_t> rest, std::size_t need = 0);
  // Empties the buffer, releasing its memory if it grew large.
  void drop_buffer() noexcept;

  template <class F, class... Ts>
  static bool call(F& f, Ts&&... xs) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, Ts...>>) {
      f(std::forward<Ts>(xs)...);
      return true;
    } else {
      return static_cast<bool>(f(std::forward<Ts>(xs)...));
    }
  }

  limits lim_;
  mode mode_;
  bool failed_ = false;
  bool prefix_reported_ = false;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0;        // first unconsumed byte in buf_
  std::uint64_t consumed_ = 0; // stream offset of buf_[pos_] / of the chunk position
  error_info err_;
};

} // namespace actorrent::wire
