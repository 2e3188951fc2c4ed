// Fuzzes the peer wire decoder: the input (after one flags byte) is a byte
// stream decoded in one piece and again split at positions derived from the
// data, through the push and the pull API; all runs must agree item by item.
// Every decoded message must re-encode to exactly the bytes it came from and
// decode back to itself. The input is also parsed as a handshake and as a
// bitfield payload.
#include "protocol/bitfield.hpp"
#include "protocol/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::wire;

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

using bytes = std::vector<std::uint8_t>;

// One decoded item, owned: its kind and its canonical encoding.
struct item {
  int kind; // 0 prefix, 1 handshake, 2 message, 3 error
  bytes data;
  bool operator==(const item&) const = default;
};

item from_handshake(const handshake& hs, handshake_stage st) {
  auto enc = encode_handshake(hs);
  return {st == handshake_stage::prefix ? 0 : 1, bytes(enc.begin(), enc.end())};
}

item from_error(const error_info& e) {
  auto s = e.to_string();
  return {3, bytes(s.begin(), s.end())};
}

struct run_result {
  std::vector<item> items;
};

// Checks one message decoded at stream offset [end - size, end) of `stream`.
item check_message(const message& m, std::span<const std::uint8_t> stream, std::uint64_t end,
                   const limits& lim) {
  bytes enc;
  append(enc, m);
  check(enc.size() == encoded_size(m));
  check(end >= enc.size() && end <= stream.size());
  // The wire form is canonical: re-encoding gives back the exact input bytes.
  auto start = static_cast<std::size_t>(end) - enc.size();
  check(std::memcmp(stream.data() + start, enc.data(), enc.size()) == 0);
  // ... which decode to the same message.
  auto again = decode_message(enc, lim);
  check(again.ok());
  check(*again == m);
  // The span encoder agrees and respects its bound.
  bytes buf(enc.size());
  check(encode(m, buf) == enc.size() && buf == enc);
  if (!buf.empty()) {
    bytes small(enc.size() - 1);
    check(encode(m, small) == 0);
  }
  if (m.type == msg_type::piece)
    check(m.length == m.payload.size() && m.payload.size() <= lim.max_block_length);
  check(enc.size() <= 4 + std::size_t{lim.max_message_length});
  return {2, std::move(enc)};
}

// Push API over the given chunks (optionally stopping after every item).
std::vector<item> run_push(std::span<const std::uint8_t> stream,
                           const std::vector<std::size_t>& cuts, decoder::mode start,
                           const limits& lim, bool stepwise) {
  decoder d{start, lim};
  std::vector<item> out;
  bool got = false;
  auto on_hs = [&](const handshake& hs, handshake_stage st) {
    out.push_back(from_handshake(hs, st));
    got = true;
    return !stepwise;
  };
  auto on_msg = [&](const message& m) {
    out.push_back(check_message(m, stream, d.bytes_consumed(), lim));
    got = true;
    return !stepwise;
  };
  std::size_t pos = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    auto end = i < cuts.size() ? cuts[i] : stream.size();
    auto chunk = stream.subspan(pos, end - pos);
    pos = end;
    got = false;
    auto st = d.parse(chunk, on_hs, on_msg);
    while (st && stepwise && got) {
      got = false;
      st = d.parse({}, on_hs, on_msg);
    }
    if (!st) {
      check(d.failed());
      out.push_back(from_error(st.error()));
      return out;
    }
    // Only a partial item stays buffered (after a stop, the unread rest too).
    if (!stepwise)
      check(d.buffered() < 4 + std::size_t{lim.max_message_length} + handshake_size);
  }
  check(d.bytes_consumed() + d.buffered() == stream.size());
  return out;
}

// Pull API over the given chunks.
std::vector<item> run_pull(std::span<const std::uint8_t> stream,
                           const std::vector<std::size_t>& cuts, decoder::mode start,
                           const limits& lim) {
  decoder d{start, lim};
  std::vector<item> out;
  std::size_t pos = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    auto end = i < cuts.size() ? cuts[i] : stream.size();
    d.feed(stream.subspan(pos, end - pos));
    pos = end;
    for (;;) {
      auto ev = d.next();
      if (!ev) {
        out.push_back(from_error(ev.error()));
        return out;
      }
      if (ev->kind == event_kind::need_more)
        break;
      if (ev->kind == event_kind::message)
        out.push_back(check_message(ev->msg, stream, d.bytes_consumed(), lim));
      else
        out.push_back(from_handshake(ev->hs, ev->kind == event_kind::handshake_prefix
                                               ? handshake_stage::prefix
                                               : handshake_stage::complete));
    }
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::uint8_t flags = data[0];
  std::span<const std::uint8_t> stream{data + 1, size - 1};
  const auto start = (flags & 1) ? decoder::mode::handshake : decoder::mode::messages;
  limits lim;
  if (flags & 2) { // small limits, so that the limit checks are reached
    lim.max_message_length = 64;
    lim.max_block_length = 16;
  }

  // Split points derived from the data: a small LCG seeded by the flags and size.
  std::vector<std::size_t> cuts;
  std::uint32_t rng = 0x9E3779B9u ^ flags ^ static_cast<std::uint32_t>(size * 2654435761u);
  const std::size_t max_step = (flags >> 2) % 16 + 1;
  for (std::size_t pos = 0;;) {
    rng = rng * 1664525u + 1013904223u;
    pos += 1 + (rng >> 16) % max_step;
    if (pos >= stream.size())
      break;
    cuts.push_back(pos);
  }

  const auto whole = run_push(stream, {}, start, lim, false);
  check(run_push(stream, cuts, start, lim, false) == whole);
  check(run_push(stream, cuts, start, lim, true) == whole);
  check(run_pull(stream, cuts, start, lim) == whole);
  std::vector<std::size_t> one_by_one;
  if (stream.size() <= 4096) {
    for (std::size_t i = 1; i < stream.size(); ++i)
      one_by_one.push_back(i);
    check(run_push(stream, one_by_one, start, lim, false) == whole);
  }

  // The handshake parsers agree with each other and round-trip.
  auto hs = decode_handshake(stream);
  auto prefix = decode_handshake_prefix(stream);
  if (hs.ok()) {
    check(prefix.ok());
    check(prefix->info_hash == hs->info_hash && prefix->reserved == hs->reserved);
    auto enc = encode_handshake(*hs);
    check(std::memcmp(enc.data(), stream.data(), handshake_size) == 0);
    auto back = decode_handshake(enc);
    check(back.ok() && *back == *hs);
    // The stream decoder in handshake mode starts with the same two events.
    if (start == decoder::mode::handshake) {
      check(whole.size() >= 2 && whole[0].kind == 0 && whole[1].kind == 1);
      check(whole[1].data == bytes(enc.begin(), enc.end()));
    }
  } else if (start == decoder::mode::handshake && !whole.empty()) {
    check(whole.back().kind == 3 || whole[0].kind == 0);
  }

  // The stream as a bitfield payload.
  const std::size_t pieces = stream.size() * 8 - (stream.empty() ? 0 : (flags >> 5));
  if (auto bf = bitfield::from_wire(stream, pieces); bf.ok()) {
    check(bf->size() == pieces);
    check(bf->num_bytes() == stream.size());
    check(stream.empty() || std::memcmp(bf->bytes().data(), stream.data(), stream.size()) == 0);
    check(bf->count() <= pieces);
    check(bf->all() == (bf->count() == pieces));
    check(bf->none() == (bf->count() == 0));
    auto first = bf->find_next_set();
    check(first == bitfield::npos ? bf->none() : bf->test(first));
    auto copy = *bf;
    copy.resize(pieces + 3, true);
    check(copy.count() == bf->count() + 3);
    copy.resize(pieces);
    check(copy == *bf);
  }
  return 0;
}
