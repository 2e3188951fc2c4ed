#include "protocol/wire.hpp"

#include <cstring>
#include <limits>

namespace actorrent::wire {

namespace {

// ---- byte order -------------------------------------------------------------------

std::uint32_t get_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8)
         | std::uint32_t{p[3]};
}

std::uint16_t get_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

void put_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

void put_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// ---- handshake ----------------------------------------------------------------------

// Checks whatever part of the fixed handshake header (pstrlen + protocol
// string) `in` holds. Returns false and fills `err` (offset relative to `in`).
bool check_handshake_header(std::span<const std::uint8_t> in, error_info& err) {
  if (in.empty())
    return true;
  if (in[0] != protocol_string.size()) {
    err = make_error("handshake pstrlen " + std::to_string(in[0]) + ", expected "
                       + std::to_string(protocol_string.size()),
                     0);
    return false;
  }
  const auto n = std::min(in.size() - 1, protocol_string.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (in[1 + i] != static_cast<std::uint8_t>(protocol_string[i])) {
      err = make_error("handshake protocol string is not \"BitTorrent protocol\"", 1 + i);
      return false;
    }
  }
  return true;
}

void read_handshake_prefix(const std::uint8_t* p, handshake& hs) noexcept {
  std::memcpy(hs.reserved.data(), p + 20, 8);
  std::memcpy(hs.info_hash.bytes.data(), p + 28, 20);
}

result<handshake> decode_handshake_n(std::span<const std::uint8_t> in, std::size_t n) {
  error_info err;
  if (!check_handshake_header(in.first(std::min(in.size(), n)), err))
    return err;
  if (in.size() < n)
    return make_error("handshake needs " + std::to_string(n) + " bytes, got "
                        + std::to_string(in.size()),
                      in.size());
  handshake hs;
  read_handshake_prefix(in.data(), hs);
  if (n == handshake_size)
    std::memcpy(hs.peer_id.bytes.data(), in.data() + 48, 20);
  return hs;
}

// ---- messages -------------------------------------------------------------------------

// Allowed range of the length prefix (id byte + payload) of a message type.
struct length_range {
  std::uint64_t min;
  std::uint64_t max;
};

length_range range_of(std::uint8_t id, const limits& lim) noexcept {
  const std::uint64_t any = lim.max_message_length;
  switch (static_cast<msg_type>(id)) {
    case msg_type::choke:
    case msg_type::unchoke:
    case msg_type::interested:
    case msg_type::not_interested:
    case msg_type::have_all:
    case msg_type::have_none:
      return {1, 1};
    case msg_type::have:
    case msg_type::suggest:
    case msg_type::allowed_fast:
      return {5, 5};
    case msg_type::request:
    case msg_type::cancel:
    case msg_type::reject:
      return {13, 13};
    case msg_type::port:
      return {3, 3};
    case msg_type::piece:
      return {9, 9 + std::uint64_t{lim.max_block_length}};
    case msg_type::extended:
      return {2, any};
    default: // bitfield, unknown ids
      return {1, any};
  }
}

bool is_known_id(std::uint8_t id) noexcept {
  return id <= 9 || (id >= 0x0D && id <= 0x11) || id == 20;
}

enum class parse_status : std::uint8_t { ok, need_more, error };

// Parses the message at the start of `in`. ok: `size` is its total size.
// need_more: `size` is the total size `in` must reach. error: `err` is set
// (offset 0, the message's length prefix).
parse_status parse_message(std::span<const std::uint8_t> in, const limits& lim, message& m,
                           std::size_t& size, error_info& err) {
  if (in.size() < 4) {
    size = 4;
    return parse_status::need_more;
  }
  const auto len = get_be32(in.data());
  if (len == 0) {
    m = message{};
    size = 4;
    return parse_status::ok;
  }
  if (len > lim.max_message_length) {
    err = make_error("length prefix " + std::to_string(len) + " exceeds limit "
                       + std::to_string(lim.max_message_length),
                     0);
    return parse_status::error;
  }
  if (in.size() < 5) {
    size = 5;
    return parse_status::need_more;
  }
  const auto id = in[4];
  const auto known = is_known_id(id);
  const auto range = range_of(id, lim);
  if (len < range.min || len > range.max) {
    std::string what = known ? to_string(static_cast<msg_type>(id)) : "unknown";
    what += " message length " + std::to_string(len);
    if (range.min == range.max)
      what += ", expected " + std::to_string(range.min);
    else if (len > range.max)
      what += " exceeds limit " + std::to_string(range.max);
    else
      what += ", expected at least " + std::to_string(range.min);
    err = make_error(std::move(what), 0);
    return parse_status::error;
  }
  const std::size_t total = 4 + std::size_t{len};
  if (in.size() < total) {
    size = total;
    return parse_status::need_more;
  }
  const auto* body = in.data() + 5;
  const std::size_t body_len = len - 1;
  m = message{};
  m.raw_id = id;
  m.type = known ? static_cast<msg_type>(id) : msg_type::unknown;
  switch (m.type) {
    case msg_type::have:
    case msg_type::suggest:
    case msg_type::allowed_fast:
      m.index = get_be32(body);
      break;
    case msg_type::request:
    case msg_type::cancel:
    case msg_type::reject:
      m.index = get_be32(body);
      m.begin = get_be32(body + 4);
      m.length = get_be32(body + 8);
      break;
    case msg_type::piece:
      m.index = get_be32(body);
      m.begin = get_be32(body + 4);
      m.payload = {body + 8, body_len - 8};
      m.length = static_cast<std::uint32_t>(body_len - 8);
      break;
    case msg_type::port:
      m.port = get_be16(body);
      break;
    case msg_type::extended:
      m.ext_id = body[0];
      m.payload = {body + 1, body_len - 1};
      break;
    case msg_type::bitfield:
    case msg_type::unknown:
      m.payload = {body, body_len};
      break;
    default: // the payload-less messages
      break;
  }
  size = total;
  return parse_status::ok;
}

std::size_t body_size(const message& m) noexcept {
  switch (m.type) {
    case msg_type::keep_alive:
      return 0;
    case msg_type::have:
    case msg_type::suggest:
    case msg_type::allowed_fast:
      return 4;
    case msg_type::request:
    case msg_type::cancel:
    case msg_type::reject:
      return 12;
    case msg_type::piece:
      return 8 + m.payload.size();
    case msg_type::port:
      return 2;
    case msg_type::extended:
      return 1 + m.payload.size();
    case msg_type::bitfield:
    case msg_type::unknown:
      return m.payload.size();
    default:
      return 0;
  }
}

} // namespace

// ---- handshake --------------------------------------------------------------------

void write_handshake(const handshake& hs, std::span<std::uint8_t, handshake_size> out) noexcept {
  auto* p = out.data();
  p[0] = static_cast<std::uint8_t>(protocol_string.size());
  std::memcpy(p + 1, protocol_string.data(), protocol_string.size());
  std::memcpy(p + 20, hs.reserved.data(), 8);
  std::memcpy(p + 28, hs.info_hash.bytes.data(), 20);
  std::memcpy(p + 48, hs.peer_id.bytes.data(), 20);
}

std::array<std::uint8_t, handshake_size> encode_handshake(const handshake& hs) noexcept {
  std::array<std::uint8_t, handshake_size> out;
  write_handshake(hs, out);
  return out;
}

void append_handshake(const handshake& hs, std::vector<std::uint8_t>& out) {
  auto bytes = encode_handshake(hs);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

result<handshake> decode_handshake(std::span<const std::uint8_t> in) {
  return decode_handshake_n(in, handshake_size);
}

result<handshake> decode_handshake_prefix(std::span<const std::uint8_t> in) {
  return decode_handshake_n(in, handshake_prefix_size);
}

// ---- names --------------------------------------------------------------------------

const char* to_string(msg_type t) noexcept {
  switch (t) {
    case msg_type::choke: return "choke";
    case msg_type::unchoke: return "unchoke";
    case msg_type::interested: return "interested";
    case msg_type::not_interested: return "not interested";
    case msg_type::have: return "have";
    case msg_type::bitfield: return "bitfield";
    case msg_type::request: return "request";
    case msg_type::piece: return "piece";
    case msg_type::cancel: return "cancel";
    case msg_type::port: return "port";
    case msg_type::suggest: return "suggest piece";
    case msg_type::have_all: return "have all";
    case msg_type::have_none: return "have none";
    case msg_type::reject: return "reject request";
    case msg_type::allowed_fast: return "allowed fast";
    case msg_type::extended: return "extended";
    case msg_type::keep_alive: return "keep-alive";
    case msg_type::unknown: return "unknown";
  }
  return "unknown";
}

std::string to_string(const message& m) {
  std::string out = to_string(m.type);
  auto num = [](std::uint64_t v) { return std::to_string(v); };
  switch (m.type) {
    case msg_type::have:
    case msg_type::suggest:
    case msg_type::allowed_fast:
      out += "(index=" + num(m.index) + ")";
      break;
    case msg_type::request:
    case msg_type::cancel:
    case msg_type::reject:
    case msg_type::piece:
      out += "(index=" + num(m.index) + ", begin=" + num(m.begin) + ", length=" + num(m.length)
             + ")";
      break;
    case msg_type::port:
      out += "(" + num(m.port) + ")";
      break;
    case msg_type::bitfield:
      out += "(" + num(m.payload.size()) + " bytes)";
      break;
    case msg_type::extended:
      out += "(ext_id=" + num(m.ext_id) + ", " + num(m.payload.size()) + " bytes)";
      break;
    case msg_type::unknown:
      out += "(id=" + num(m.raw_id) + ", " + num(m.payload.size()) + " bytes)";
      break;
    default:
      break;
  }
  return out;
}

// ---- encoding -----------------------------------------------------------------------

std::size_t encoded_size(const message& m) noexcept {
  return m.type == msg_type::keep_alive ? 4 : 5 + body_size(m);
}

std::size_t encode(const message& m, std::span<std::uint8_t> out) noexcept {
  const auto size = encoded_size(m);
  if (out.size() < size || size - 4 > std::numeric_limits<std::uint32_t>::max())
    return 0;
  auto* p = out.data();
  put_be32(p, static_cast<std::uint32_t>(size - 4));
  if (m.type == msg_type::keep_alive)
    return size;
  p[4] = m.type == msg_type::unknown ? m.raw_id : static_cast<std::uint8_t>(m.type);
  auto* body = p + 5;
  auto copy_payload = [&m](std::uint8_t* dst) {
    if (!m.payload.empty())
      std::memcpy(dst, m.payload.data(), m.payload.size());
  };
  switch (m.type) {
    case msg_type::have:
    case msg_type::suggest:
    case msg_type::allowed_fast:
      put_be32(body, m.index);
      break;
    case msg_type::request:
    case msg_type::cancel:
    case msg_type::reject:
      put_be32(body, m.index);
      put_be32(body + 4, m.begin);
      put_be32(body + 8, m.length);
      break;
    case msg_type::piece:
      put_be32(body, m.index);
      put_be32(body + 4, m.begin);
      copy_payload(body + 8);
      break;
    case msg_type::port:
      put_be16(body, m.port);
      break;
    case msg_type::extended:
      body[0] = m.ext_id;
      copy_payload(body + 1);
      break;
    case msg_type::bitfield:
    case msg_type::unknown:
      copy_payload(body);
      break;
    default:
      break;
  }
  return size;
}

void append(std::vector<std::uint8_t>& out, const message& m) {
  const auto old = out.size();
  out.resize(old + encoded_size(m));
  const auto n = encode(m, std::span<std::uint8_t>{out}.subspan(old));
  out.resize(old + n); // n is 0 only for a payload too large for a length prefix
}

void append_keep_alive(std::vector<std::uint8_t>& out) { append(out, message::keep_alive()); }
void append_choke(std::vector<std::uint8_t>& out) { append(out, message::choke()); }
void append_unchoke(std::vector<std::uint8_t>& out) { append(out, message::unchoke()); }
void append_interested(std::vector<std::uint8_t>& out) { append(out, message::interested()); }
void append_not_interested(std::vector<std::uint8_t>& out) {
  append(out, message::not_interested());
}
void append_have(std::vector<std::uint8_t>& out, std::uint32_t index) {
  append(out, message::have(index));
}
void append_bitfield(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bits) {
  append(out, message::bitfield(bits));
}
void append_request(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                    std::uint32_t length) {
  append(out, message::request(index, begin, length));
}
void append_piece(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                  std::span<const std::uint8_t> block) {
  append(out, message::piece(index, begin, block));
}
void append_cancel(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                   std::uint32_t length) {
  append(out, message::cancel(index, begin, length));
}
void append_port(std::vector<std::uint8_t>& out, std::uint16_t port) {
  append(out, message::port_msg(port));
}
void append_suggest(std::vector<std::uint8_t>& out, std::uint32_t index) {
  append(out, message::suggest(index));
}
void append_have_all(std::vector<std::uint8_t>& out) { append(out, message::have_all()); }
void append_have_none(std::vector<std::uint8_t>& out) { append(out, message::have_none()); }
void append_reject(std::vector<std::uint8_t>& out, std::uint32_t index, std::uint32_t begin,
                   std::uint32_t length) {
  append(out, message::reject(index, begin, length));
}
void append_allowed_fast(std::vector<std::uint8_t>& out, std::uint32_t index) {
  append(out, message::allowed_fast(index));
}
void append_extended(std::vector<std::uint8_t>& out, std::uint8_t ext_id,
                     std::span<const std::uint8_t> payload) {
  append(out, message::extended(ext_id, payload));
}

void append_piece_header(std::vector<std::uint8_t>& out, std::uint32_t index,
                         std::uint32_t begin, std::uint32_t block_length) {
  auto h = piece_header(index, begin, block_length);
  out.insert(out.end(), h.begin(), h.end());
}

// ---- one-shot decoding ----------------------------------------------------------------

result<message> decode_message(std::span<const std::uint8_t> in, const limits& lim) {
  message m;
  std::size_t size = 0;
  error_info err;
  switch (parse_message(in, lim, m, size, err)) {
    case parse_status::error:
      return err;
    case parse_status::need_more:
      return make_error("truncated message: need " + std::to_string(size) + " bytes, got "
                          + std::to_string(in.size()),
                        in.size());
    case parse_status::ok:
      break;
  }
  if (size != in.size())
    return make_error(std::to_string(in.size() - size) + " bytes after a message of "
                        + std::to_string(size) + " bytes",
                      size);
  return m;
}

// ---- decoder ----------------------------------------------------------------------------

namespace {
constexpr std::size_t reserve_limit = 64 * 1024;
constexpr std::size_t release_threshold = 256 * 1024;
} // namespace

void decoder::reset(mode start) noexcept {
  mode_ = start;
  failed_ = false;
  prefix_reported_ = false;
  std::vector<std::uint8_t>{}.swap(buf_);
  pos_ = 0;
  consumed_ = 0;
  err_ = error_info{};
}

status decoder::fail(error_info err) {
  failed_ = true;
  err_ = std::move(err);
  return err_;
}

void decoder::drop_buffer() noexcept {
  if (buf_.capacity() > release_threshold)
    std::vector<std::uint8_t>{}.swap(buf_);
  else
    buf_.clear();
  pos_ = 0;
}

void decoder::stash(std::span<const std::uint8_t> rest, std::size_t need) {
  if (pos_ == buf_.size()) {
    drop_buffer();
  } else if (pos_ > 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  // Reserve for the whole pending message only when it is small: a peer must not
  // be able to make us allocate max_message_length with a 5-byte header.
  if (need > buf_.size() + rest.size() && need <= reserve_limit)
    buf_.reserve(need);
  buf_.insert(buf_.end(), rest.begin(), rest.end());
}

void decoder::feed(std::span<const std::uint8_t> bytes) {
  if (failed_)
    return;
  stash(bytes);
}

decoder::step_kind decoder::step(std::span<const std::uint8_t> in, message& msg, handshake& hs,
                                 std::size_t& consumed, std::size_t& need) {
  error_info err;
  if (mode_ == mode::handshake) {
    if (!check_handshake_header(in.first(std::min(in.size(), handshake_size)), err)) {
      err.offset += consumed_;
      fail(std::move(err));
      return step_kind::error;
    }
    if (in.size() < handshake_prefix_size) {
      need = handshake_prefix_size;
      return step_kind::need_more;
    }
    if (!prefix_reported_) {
      hs = handshake{};
      read_handshake_prefix(in.data(), hs);
      prefix_reported_ = true;
      consumed = 0;
      return step_kind::handshake_prefix;
    }
    if (in.size() < handshake_size) {
      need = handshake_size;
      return step_kind::need_more;
    }
    hs = handshake{};
    read_handshake_prefix(in.data(), hs);
    std::memcpy(hs.peer_id.bytes.data(), in.data() + 48, 20);
    consumed = handshake_size;
    mode_ = mode::messages;
    prefix_reported_ = false;
    return step_kind::handshake;
  }
  std::size_t size = 0;
  switch (parse_message(in, lim_, msg, size, err)) {
    case parse_status::ok:
      consumed = size;
      return step_kind::message;
    case parse_status::need_more:
      need = size;
      return step_kind::need_more;
    case parse_status::error:
      break;
  }
  err.offset += consumed_;
  fail(std::move(err));
  return step_kind::error;
}

result<event> decoder::next() {
  if (failed_)
    return err_;
  event ev;
  std::size_t consumed = 0;
  std::size_t need = 0;
  auto avail = std::span<const std::uint8_t>{buf_}.subspan(pos_);
  switch (step(avail, ev.msg, ev.hs, consumed, need)) {
    case step_kind::error:
      return err_;
    case step_kind::need_more:
      ev.kind = event_kind::need_more;
      return ev;
    case step_kind::handshake_prefix:
      ev.kind = event_kind::handshake_prefix;
      break;
    case step_kind::handshake:
      ev.kind = event_kind::handshake;
      break;
    case step_kind::message:
      ev.kind = event_kind::message;
      break;
  }
  pos_ += consumed;
  consumed_ += consumed;
  return ev;
}

} // namespace actorrent::wire
