#define CAF_SUITE wire
#include <caf/test/unit_test.hpp>

#include "protocol/wire.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace actorrent;
using namespace actorrent::wire;
using namespace std::literals;

namespace {

using bytes = std::vector<std::uint8_t>;
using trace = std::vector<std::string>;

bytes to_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

std::span<const std::uint8_t> view(const bytes& b) { return b; }

std::string hex(std::span<const std::uint8_t> b) {
  return to_hex({reinterpret_cast<const char*>(b.data()), b.size()});
}

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes encoded(const message& m) {
  bytes out;
  append(out, m);
  return out;
}

std::string describe(const message& m) {
  auto s = to_string(m);
  if (!m.payload.empty())
    s += " [" + hex(m.payload) + "]";
  return s;
}

std::string describe(const handshake& hs, handshake_stage st) {
  return std::string{st == handshake_stage::prefix ? "handshake prefix " : "handshake "}
         + hex(hs.reserved) + " " + hs.info_hash.hex() + " " + hs.peer_id.hex();
}

// Push API: parses the chunks in turn and records every item and the error.
trace push(decoder& d, const std::vector<std::span<const std::uint8_t>>& chunks) {
  trace t;
  auto on_hs = [&](const handshake& hs, handshake_stage st) { t.push_back(describe(hs, st)); };
  auto on_msg = [&](const message& m) { t.push_back(describe(m)); };
  for (auto c : chunks) {
    auto st = d.parse(c, on_hs, on_msg);
    if (!st) {
      t.push_back("error: " + st.error().to_string());
      break;
    }
  }
  return t;
}

// Pull API: feeds the chunks in turn, draining with next() after each.
trace pull(decoder& d, const std::vector<std::span<const std::uint8_t>>& chunks) {
  trace t;
  for (auto c : chunks) {
    d.feed(c);
    for (;;) {
      auto ev = d.next();
      if (!ev) {
        t.push_back("error: " + ev.error().to_string());
        return t;
      }
      if (ev->kind == event_kind::need_more)
        break;
      if (ev->kind == event_kind::message)
        t.push_back(describe(ev->msg));
      else
        t.push_back(describe(ev->hs, ev->kind == event_kind::handshake_prefix
                                       ? handshake_stage::prefix
                                       : handshake_stage::complete));
    }
  }
  return t;
}

// Push API with a callback that stops after every item; resumes with empty chunks.
trace push_stepwise(decoder& d, const std::vector<std::span<const std::uint8_t>>& chunks) {
  trace t;
  bool got = false;
  auto on_hs = [&](const handshake& hs, handshake_stage st) {
    t.push_back(describe(hs, st));
    got = true;
    return false;
  };
  auto on_msg = [&](const message& m) {
    t.push_back(describe(m));
    got = true;
    return false;
  };
  for (auto c : chunks) {
    got = false;
    auto st = d.parse(c, on_hs, on_msg);
    while (st && got) {
      got = false;
      st = d.parse({}, on_hs, on_msg);
    }
    if (!st) {
      t.push_back("error: " + st.error().to_string());
      break;
    }
  }
  return t;
}

std::vector<std::span<const std::uint8_t>> split_at(const bytes& b, std::size_t i) {
  auto s = view(b);
  return {s.first(i), s.subspan(i)};
}

std::vector<std::span<const std::uint8_t>> one_by_one(const bytes& b) {
  std::vector<std::span<const std::uint8_t>> out;
  for (std::size_t i = 0; i < b.size(); ++i)
    out.push_back(view(b).subspan(i, 1));
  return out;
}

std::vector<std::span<const std::uint8_t>> whole(const bytes& b) { return {view(b)}; }

// Every way of splitting `stream` into two chunks, and one byte at a time, gives
// `expected` through all three ways of driving the decoder.
void check_all_splits(const bytes& stream, const trace& expected,
                      decoder::mode start = decoder::mode::messages, limits lim = {}) {
  std::size_t mismatches = 0;
  auto check = [&](const trace& got, const char* how, std::size_t at) {
    if (got != expected && ++mismatches <= 3) {
      CAF_MESSAGE(how << " split at " << at << " differs");
      CAF_CHECK_EQUAL(got, expected);
    }
  };
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    decoder a{start, lim}, b{start, lim}, c{start, lim};
    check(push(a, split_at(stream, i)), "push", i);
    check(pull(b, split_at(stream, i)), "pull", i);
    check(push_stepwise(c, split_at(stream, i)), "stepwise", i);
  }
  decoder a{start, lim}, b{start, lim}, c{start, lim};
  check(push(a, one_by_one(stream)), "push one-by-one", 0);
  check(pull(b, one_by_one(stream)), "pull one-by-one", 0);
  check(push_stepwise(c, one_by_one(stream)), "stepwise one-by-one", 0);
  CAF_CHECK_EQUAL(mismatches, 0u);
}

// The error message of decoding `in` in one piece with the push API.
std::string error_of(const bytes& in, limits lim = {}) {
  decoder d{decoder::mode::messages, lim};
  auto st = d.parse(view(in), [](const message&) {});
  return st ? "ok" : st.error().message;
}

bytes be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// A message header with an arbitrary length prefix and id, plus `body_len` zero bytes.
bytes raw_msg(std::uint32_t len, std::uint8_t id, std::size_t body_len) {
  auto out = be32(len);
  out.push_back(id);
  out.resize(out.size() + body_len, 0);
  return out;
}

handshake sample_handshake() {
  handshake hs;
  hs.set_extensions(true);
  hs.set_fast(true);
  hs.set_dht(true);
  for (std::uint8_t i = 0; i < 20; ++i)
    hs.info_hash.bytes[i] = i;
  auto pid = "-AT0001-abcdefghijkl"sv;
  std::copy(pid.begin(), pid.end(), hs.peer_id.bytes.begin());
  return hs;
}

} // namespace

// ---- handshake ------------------------------------------------------------------

CAF_TEST(handshake known bytes) {
  auto hs = sample_handshake();
  CAF_CHECK(hs.supports_dht());
  CAF_CHECK(hs.supports_fast());
  CAF_CHECK(hs.supports_extensions());
  auto expected = to_bytes("\x13" "BitTorrent protocol"
                           "\x00\x00\x00\x00\x00\x10\x00\x05"
                           "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"
                           "\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"
                           "-AT0001-abcdefghijkl"sv);
  CAF_REQUIRE_EQUAL(expected.size(), handshake_size);
  auto arr = encode_handshake(hs);
  CAF_CHECK(bytes(arr.begin(), arr.end()) == expected);
  bytes out{0xAA};
  append_handshake(hs, out);
  CAF_CHECK_EQUAL(out.size(), 69u);
  CAF_CHECK(bytes(out.begin() + 1, out.end()) == expected);

  auto back = decode_handshake(view(expected));
  CAF_REQUIRE(back.ok());
  CAF_CHECK(*back == hs);
  // Trailing bytes are not the handshake's business.
  auto longer = concat({expected, encoded(message::unchoke())});
  CAF_CHECK(decode_handshake(view(longer)).ok());

  auto prefix = decode_handshake_prefix(view(expected).first(48));
  CAF_REQUIRE(prefix.ok());
  CAF_CHECK(prefix->info_hash == hs.info_hash);
  CAF_CHECK(prefix->reserved == hs.reserved);
  CAF_CHECK(prefix->peer_id.is_zero());
}

CAF_TEST(handshake reserved bits) {
  handshake hs;
  CAF_CHECK(!hs.supports_dht() && !hs.supports_fast() && !hs.supports_extensions());
  hs.set_fast(true);
  CAF_CHECK_EQUAL(hs.reserved[7], 0x04);
  hs.set_dht(true);
  CAF_CHECK_EQUAL(hs.reserved[7], 0x05);
  hs.set_fast(false);
  CAF_CHECK_EQUAL(hs.reserved[7], 0x01);
  hs.set_extensions(true);
  CAF_CHECK_EQUAL(hs.reserved[5], 0x10);
  CAF_CHECK(hs.supports_extensions() && hs.supports_dht() && !hs.supports_fast());
}

CAF_TEST(malformed handshakes) {
  const auto arr = encode_handshake(sample_handshake());
  const bytes good(arr.begin(), arr.end());
  auto bad_len = good;
  bad_len[0] = 20;
  auto r = decode_handshake(view(bad_len));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "handshake pstrlen 20, expected 19");
  CAF_CHECK_EQUAL(r.error().offset, 0u);

  auto bad_str = good;
  bad_str[19] = 'L'; // "BitTorrent protocoL"
  r = decode_handshake(view(bad_str));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "handshake protocol string is not \"BitTorrent protocol\"");
  CAF_CHECK_EQUAL(r.error().offset, 19u);
  CAF_CHECK(!decode_handshake_prefix(view(bad_str)).ok());

  r = decode_handshake(view(good).first(30));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "handshake needs 68 bytes, got 30");
  r = decode_handshake_prefix(view(good).first(47));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "handshake needs 48 bytes, got 47");
  CAF_CHECK(decode_handshake_prefix(view(good).first(48)).ok());
  r = decode_handshake({});
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "handshake needs 68 bytes, got 0");

  // The same errors from the stream decoder, as soon as the bad byte arrives.
  for (auto& [in, msg, off] : std::vector<std::tuple<bytes, std::string, std::size_t>>{
         {bad_len, "handshake pstrlen 20, expected 19", 0},
         {bad_str, "handshake protocol string is not \"BitTorrent protocol\"", 19}}) {
    trace expected{"error: " + msg + " (at byte " + std::to_string(off) + ")"};
    check_all_splits(in, expected, decoder::mode::handshake);
    decoder d{decoder::mode::handshake};
    auto st = d.parse(view(in).first(off + 1), [](auto&&...) {}, [](const message&) {});
    CAF_CHECK(!st.ok());
    CAF_CHECK(d.failed());
  }
}

// ---- known vectors ----------------------------------------------------------------

CAF_TEST(known bytes of every message) {
  const bytes block{0xDE, 0xAD, 0xBE, 0xEF};
  const bytes bits{0xFF, 0x80};
  const auto ext = to_bytes("d1:md6:ut_pexi1eee");
  struct vec {
    message m;
    bytes wire;
  };
  std::vector<vec> cases{
    {message::keep_alive(), {0, 0, 0, 0}},
    {message::choke(), {0, 0, 0, 1, 0}},
    {message::unchoke(), {0, 0, 0, 1, 1}},
    {message::interested(), {0, 0, 0, 1, 2}},
    {message::not_interested(), {0, 0, 0, 1, 3}},
    {message::have(0x01020304), {0, 0, 0, 5, 4, 1, 2, 3, 4}},
    {message::bitfield(bits), {0, 0, 0, 3, 5, 0xFF, 0x80}},
    {message::request(1, 0x4000, 0x4000),
     {0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0}},
    {message::piece(2, 0x8000, block),
     {0, 0, 0, 13, 7, 0, 0, 0, 2, 0, 0, 0x80, 0, 0xDE, 0xAD, 0xBE, 0xEF}},
    {message::cancel(0xFFFFFFFF, 1, 2),
     {0, 0, 0, 13, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 2}},
    {message::port_msg(6881), {0, 0, 0, 3, 9, 0x1A, 0xE1}},
    {message::suggest(7), {0, 0, 0, 5, 0x0D, 0, 0, 0, 7}},
    {message::have_all(), {0, 0, 0, 1, 0x0E}},
    {message::have_none(), {0, 0, 0, 1, 0x0F}},
    {message::reject(3, 16384, 16384),
     {0, 0, 0, 13, 0x10, 0, 0, 0, 3, 0, 0, 0x40, 0, 0, 0, 0x40, 0}},
    {message::allowed_fast(0x0A0B), {0, 0, 0, 5, 0x11, 0, 0, 0x0A, 0x0B}},
    {message::extended(0, ext), concat({{0, 0, 0, 20, 20, 0}, ext})},
    {message::unknown(0xFE, block), {0, 0, 0, 5, 0xFE, 0xDE, 0xAD, 0xBE, 0xEF}},
    {message::unknown(0x0A, {}), {0, 0, 0, 1, 0x0A}},
  };
  for (auto& c : cases) {
    CAF_MESSAGE(to_string(c.m));
    CAF_CHECK_EQUAL(hex(encoded(c.m)), hex(c.wire));
    CAF_CHECK_EQUAL(encoded_size(c.m), c.wire.size());
    // decode_message gives the same message back, with the payload viewing the input
    auto back = decode_message(view(c.wire));
    CAF_REQUIRE(back.ok());
    CAF_CHECK(*back == c.m);
    CAF_CHECK_EQUAL(describe(*back), describe(c.m));
    if (!back->payload.empty())
      CAF_CHECK(back->payload.data() >= c.wire.data()
                && back->payload.data() + back->payload.size() == c.wire.data() + c.wire.size());
    // span encoder: exact size works, one byte short writes nothing
    bytes buf(c.wire.size() + 3, 0x55);
    CAF_CHECK_EQUAL(encode(c.m, buf), c.wire.size());
    CAF_CHECK(bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(c.wire.size()))
              == c.wire);
    CAF_CHECK_EQUAL(buf.back(), 0x55);
    bytes small(c.wire.size() - 1, 0x55);
    CAF_CHECK_EQUAL(encode(c.m, small), 0u);
    CAF_CHECK(std::all_of(small.begin(), small.end(), [](auto b) { return b == 0x55; }));
  }
}

CAF_TEST(typed appenders match the generic encoder) {
  const bytes block(100, 0x42);
  const bytes bits{0xA5};
  bytes out;
  append_keep_alive(out);
  append_choke(out);
  append_unchoke(out);
  append_interested(out);
  append_not_interested(out);
  append_have(out, 9);
  append_bitfield(out, bits);
  append_request(out, 1, 2, 3);
  append_piece(out, 4, 5, block);
  append_cancel(out, 6, 7, 8);
  append_port(out, 51413);
  append_suggest(out, 10);
  append_have_all(out);
  append_have_none(out);
  append_reject(out, 11, 12, 13);
  append_allowed_fast(out, 14);
  append_extended(out, 3, block);
  bytes ref;
  for (auto& m : {message::keep_alive(), message::choke(), message::unchoke(),
                  message::interested(), message::not_interested(), message::have(9),
                  message::bitfield(bits), message::request(1, 2, 3),
                  message::piece(4, 5, block), message::cancel(6, 7, 8),
                  message::port_msg(51413), message::suggest(10), message::have_all(),
                  message::have_none(), message::reject(11, 12, 13),
                  message::allowed_fast(14), message::extended(3, block)})
    append(ref, m);
  CAF_CHECK(out == ref);
  CAF_CHECK_EQUAL(out.size(), 4u + 5 * 4 + 9 + 6 + 17 + 113 + 17 + 7 + 9 + 5 + 5 + 17 + 9 + 106);
}

CAF_TEST(piece header for scatter gather) {
  const bytes block(16384, 0x33);
  auto h = piece_header(5, 32768, 16384);
  CAF_CHECK_EQUAL(hex(h), "00004009070000000500008000");
  bytes full;
  append_piece(full, 5, 32768, block);
  CAF_CHECK(bytes(full.begin(), full.begin() + 13) == bytes(h.begin(), h.end()));
  bytes gathered;
  append_piece_header(gathered, 5, 32768, 16384);
  gathered.insert(gathered.end(), block.begin(), block.end());
  CAF_CHECK(gathered == full);
  auto m = decode_message(view(gathered));
  CAF_REQUIRE(m.ok());
  CAF_CHECK(m->type == msg_type::piece);
  CAF_CHECK_EQUAL(m->index, 5u);
  CAF_CHECK_EQUAL(m->begin, 32768u);
  CAF_CHECK_EQUAL(m->length, 16384u);
  CAF_CHECK_EQUAL(m->payload.size(), 16384u);
}

CAF_TEST(message names) {
  CAF_CHECK_EQUAL(to_string(message::have(5)), "have(index=5)");
  CAF_CHECK_EQUAL(to_string(message::request(1, 16384, 16384)),
                  "request(index=1, begin=16384, length=16384)");
  CAF_CHECK_EQUAL(to_string(message::reject(1, 2, 3)), "reject request(index=1, begin=2, length=3)");
  CAF_CHECK_EQUAL(to_string(message::not_interested()), "not interested");
  CAF_CHECK_EQUAL(to_string(message::keep_alive()), "keep-alive");
  CAF_CHECK_EQUAL(to_string(message::port_msg(80)), "port(80)");
  CAF_CHECK_EQUAL(to_string(message::unknown(99, {})), "unknown(id=99, 0 bytes)");
  CAF_CHECK_EQUAL(std::string{to_string(msg_type::allowed_fast)}, "allowed fast");
  CAF_CHECK_EQUAL(std::string{to_string(msg_type::suggest)}, "suggest piece");
}

CAF_TEST(decode_message rejects partial and extra bytes) {
  auto have = encoded(message::have(3));
  auto r = decode_message(view(have).first(7));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "truncated message: need 9 bytes, got 7");
  r = decode_message(view(have).first(2));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "truncated message: need 4 bytes, got 2");
  auto two = concat({have, have});
  r = decode_message(view(two));
  CAF_REQUIRE(!r.ok());
  CAF_CHECK_EQUAL(r.error().message, "9 bytes after a message of 9 bytes");
  CAF_CHECK_EQUAL(r.error().offset, 9u);
}

// ---- the stream decoder -------------------------------------------------------------

namespace {

// A stream exercising every message type, with payloads of several sizes.
struct sample_stream {
  bytes block1;
  bytes block2;
  bytes bits;
  bytes ext;
  bytes stream;
  trace expected;

  sample_stream() : block1(300), block2(1), bits{0xF0, 0x0F, 0xAA}, ext(to_bytes("d1:v3:ATe")) {
    for (std::size_t i = 0; i < block1.size(); ++i)
      block1[i] = static_cast<std::uint8_t>(i * 7);
    block2[0] = 0x99;
    std::vector<message> msgs{
      message::bitfield(bits), message::have_none(), message::keep_alive(),
      message::unchoke(), message::interested(), message::have(42),
      message::request(1, 0, 16384), message::piece(1, 0, block1), message::keep_alive(),
      message::piece(2, 16384, block2), message::cancel(1, 0, 16384), message::choke(),
      message::not_interested(), message::port_msg(6881), message::suggest(3),
      message::have_all(), message::reject(4, 5, 6), message::allowed_fast(7),
      message::extended(0, ext), message::extended(3, {}), message::unknown(0x63, block2),
      message::unknown(0x0B, {}), message::piece(0, 0, {}), message::bitfield({}),
    };
    for (auto& m : msgs) {
      append(stream, m);
      expected.push_back(describe(m));
    }
  }
};

} // namespace

CAF_TEST(the sample stream decodes as expected) {
  sample_stream s;
  decoder d;
  auto t = push(d, whole(s.stream));
  CAF_CHECK_EQUAL(t, s.expected);
  // spot-check the exact rendering so that a symmetric bug cannot hide
  CAF_REQUIRE_EQUAL(t.size(), 24u);
  CAF_CHECK_EQUAL(t[0], "bitfield(3 bytes) [f00faa]");
  CAF_CHECK_EQUAL(t[2], "keep-alive");
  CAF_CHECK_EQUAL(t[9], "piece(index=2, begin=16384, length=1) [99]");
  CAF_CHECK_EQUAL(t[18], "extended(ext_id=0, 9 bytes) [64313a76333a415465]");
  CAF_CHECK_EQUAL(t[21], "unknown(id=11, 0 bytes)");
  CAF_CHECK_EQUAL(d.buffered(), 0u);
  CAF_CHECK_EQUAL(d.bytes_consumed(), s.stream.size());
}

CAF_TEST(every split of a message stream gives the same messages) {
  sample_stream s;
  check_all_splits(s.stream, s.expected);
}

CAF_TEST(random chunkings give the same messages) {
  sample_stream s;
  std::uint32_t rng = 12345;
  for (int round = 0; round < 200; ++round) {
    std::vector<std::span<const std::uint8_t>> chunks;
    for (std::size_t pos = 0; pos < s.stream.size();) {
      rng = rng * 1103515245u + 12345u;
      auto n = std::min<std::size_t>(s.stream.size() - pos, 1 + (rng >> 16) % 40);
      chunks.push_back(view(s.stream).subspan(pos, n));
      pos += n;
    }
    decoder a, b;
    CAF_CHECK_EQUAL(push(a, chunks), s.expected);
    CAF_CHECK_EQUAL(pull(b, chunks), s.expected);
  }
}

CAF_TEST(handshake then messages at every split) {
  sample_stream s;
  auto hs = sample_handshake();
  auto hs_bytes = encode_handshake(hs);
  auto stream = concat({bytes(hs_bytes.begin(), hs_bytes.end()), s.stream});
  auto prefix = hs;
  prefix.peer_id = sha1_hash{};
  trace expected{describe(prefix, handshake_stage::prefix),
                 describe(hs, handshake_stage::complete)};
  expected.insert(expected.end(), s.expected.begin(), s.expected.end());
  CAF_CHECK_EQUAL(expected[0], "handshake prefix 0000000000100005 "
                               "000102030405060708090a0b0c0d0e0f10111213 "
                               "0000000000000000000000000000000000000000");
  check_all_splits(stream, expected, decoder::mode::handshake);

  decoder d{decoder::mode::handshake};
  CAF_CHECK(d.current_mode() == decoder::mode::handshake);
  // The prefix arrives alone (an accepting side looks up the torrent here).
  int prefixes = 0;
  int completes = 0;
  auto on_hs = [&](const handshake& h, handshake_stage st) {
    if (st == handshake_stage::prefix) {
      ++prefixes;
      CAF_CHECK(h.info_hash == hs.info_hash);
    } else {
      ++completes;
      CAF_CHECK(h == hs);
    }
  };
  CAF_CHECK(d.parse(view(stream).first(48), on_hs, [](const message&) {}).ok());
  CAF_CHECK_EQUAL(prefixes, 1);
  CAF_CHECK_EQUAL(completes, 0);
  CAF_CHECK_EQUAL(d.buffered(), 48u);
  CAF_CHECK(d.parse(view(stream).subspan(48, 20), on_hs, [](const message&) {}).ok());
  CAF_CHECK_EQUAL(prefixes, 1);
  CAF_CHECK_EQUAL(completes, 1);
  CAF_CHECK_EQUAL(d.buffered(), 0u);
  CAF_CHECK(d.current_mode() == decoder::mode::messages);
}

CAF_TEST(stopping in the handshake prefix keeps the rest) {
  auto hs = sample_handshake();
  auto hs_bytes = encode_handshake(hs);
  auto stream = concat({bytes(hs_bytes.begin(), hs_bytes.end()), encoded(message::have(1))});
  decoder d{decoder::mode::handshake};
  trace t;
  auto on_msg = [&](const message& m) { t.push_back(describe(m)); };
  auto stop_at_prefix = [&](const handshake&, handshake_stage st) {
    t.push_back(st == handshake_stage::prefix ? "prefix" : "complete");
    return st != handshake_stage::prefix;
  };
  CAF_CHECK(d.parse(view(stream), stop_at_prefix, on_msg).ok());
  CAF_CHECK_EQUAL(t, (trace{"prefix"}));
  CAF_CHECK_EQUAL(d.buffered(), stream.size());
  CAF_CHECK(d.parse({}, stop_at_prefix, on_msg).ok());
  CAF_CHECK_EQUAL(t, (trace{"prefix", "complete", "have(index=1)"}));
  CAF_CHECK_EQUAL(d.buffered(), 0u);
}

CAF_TEST(a messages only parse refuses a handshake stream) {
  decoder d{decoder::mode::handshake};
  auto st = d.parse(view(encoded(message::choke())), [](const message&) {});
  CAF_REQUIRE(!st.ok());
  CAF_CHECK_EQUAL(st.error().message, "decoder expects a handshake");
  CAF_CHECK(d.failed());
  d.reset(decoder::mode::messages);
  CAF_CHECK(!d.failed());
  CAF_CHECK(d.parse(view(encoded(message::choke())), [](const message&) {}).ok());
}

CAF_TEST(whole messages are decoded in place) {
  const bytes block(1000, 0x5A);
  bytes chunk;
  append_have(chunk, 1);
  append_piece(chunk, 2, 0, block);
  append_bitfield(chunk, block);
  decoder d;
  std::vector<const std::uint8_t*> where;
  auto on_msg = [&](const message& m) {
    if (!m.payload.empty())
      where.push_back(m.payload.data());
  };
  CAF_REQUIRE(d.parse(view(chunk), on_msg).ok());
  CAF_REQUIRE_EQUAL(where.size(), 2u);
  CAF_CHECK(where[0] == chunk.data() + 9 + 13);
  CAF_CHECK(where[1] == chunk.data() + 9 + 1013 + 5);
  CAF_CHECK_EQUAL(d.buffered(), 0u);

  // A piece split over two chunks comes out of the decoder's buffer; the
  // messages after it are decoded in place again.
  where.clear();
  const std::size_t cut = 9 + 500;
  bytes first(chunk.begin(), chunk.begin() + cut);
  bytes second(chunk.begin() + cut, chunk.end());
  CAF_REQUIRE(d.parse(view(first), on_msg).ok());
  CAF_CHECK_EQUAL(where.size(), 0u);
  CAF_CHECK_EQUAL(d.buffered(), 500u); // only the partial piece is buffered
  CAF_REQUIRE(d.parse(view(second), on_msg).ok());
  CAF_REQUIRE_EQUAL(where.size(), 2u);
  CAF_CHECK(!(where[0] >= second.data() && where[0] < second.data() + second.size()));
  CAF_CHECK(where[1] == second.data() + (9 + 1013 - cut) + 5);
  CAF_CHECK_EQUAL(d.buffered(), 0u);
}

CAF_TEST(pull payload views survive later next calls) {
  bytes stream;
  append_bitfield(stream, bytes{1, 2, 3});
  append_extended(stream, 1, bytes{4, 5});
  decoder d;
  d.feed(view(stream));
  auto a = d.next();
  auto b = d.next();
  auto c = d.next();
  CAF_REQUIRE(a.ok() && b.ok() && c.ok());
  CAF_CHECK(a->kind == event_kind::message);
  CAF_CHECK(c->kind == event_kind::need_more);
  CAF_CHECK_EQUAL(hex(a->msg.payload), "010203");
  CAF_CHECK_EQUAL(hex(b->msg.payload), "0405");
  CAF_CHECK_EQUAL(b->msg.ext_id, 1);
}

// ---- malformed input ----------------------------------------------------------------

CAF_TEST(wrong lengths are rejected with the type and the length) {
  struct bad {
    bytes in;
    std::string error;
  };
  std::vector<bad> cases{
    {be32(2000000), "length prefix 2000000 exceeds limit 1048576"},
    {be32(0xFFFFFFFF), "length prefix 4294967295 exceeds limit 1048576"},
    {raw_msg(2, 0, 1), "choke message length 2, expected 1"},
    {raw_msg(2, 1, 1), "unchoke message length 2, expected 1"},
    {raw_msg(5, 2, 4), "interested message length 5, expected 1"},
    {raw_msg(2, 3, 1), "not interested message length 2, expected 1"},
    {raw_msg(4, 4, 3), "have message length 4, expected 5"},
    {raw_msg(6, 4, 5), "have message length 6, expected 5"},
    {raw_msg(12, 6, 11), "request message length 12, expected 13"},
    {raw_msg(14, 6, 13), "request message length 14, expected 13"},
    {raw_msg(8, 7, 7), "piece message length 8, expected at least 9"},
    {raw_msg(1, 7, 0), "piece message length 1, expected at least 9"},
    {raw_msg(9 + 131072 + 1, 7, 0), "piece message length 131082 exceeds limit 131081"},
    {raw_msg(12, 8, 11), "cancel message length 12, expected 13"},
    {raw_msg(2, 9, 1), "port message length 2, expected 3"},
    {raw_msg(4, 9, 3), "port message length 4, expected 3"},
    {raw_msg(4, 0x0D, 3), "suggest piece message length 4, expected 5"},
    {raw_msg(2, 0x0E, 1), "have all message length 2, expected 1"},
    {raw_msg(3, 0x0F, 2), "have none message length 3, expected 1"},
    {raw_msg(12, 0x10, 11), "reject request message length 12, expected 13"},
    {raw_msg(6, 0x11, 5), "allowed fast message length 6, expected 5"},
    {raw_msg(1, 20, 0), "extended message length 1, expected at least 2"},
    {raw_msg(1048577, 5, 0), "length prefix 1048577 exceeds limit 1048576"},
    {raw_msg(1048577, 0x77, 0), "length prefix 1048577 exceeds limit 1048576"},
  };
  const auto good = concat({encoded(message::unchoke()), encoded(message::have(1))});
  for (auto& c : cases) {
    CAF_MESSAGE(c.error);
    CAF_CHECK_EQUAL(error_of(c.in), c.error);
    auto in = concat({good, c.in});
    // Everything before the bad message is delivered, then the error, at the
    // stream offset of the bad message's length prefix, for every split.
    trace expected{"unchoke", "have(index=1)", "error: " + c.error + " (at byte 14)"};
    decoder d;
    CAF_CHECK_EQUAL(push(d, whole(in)), expected);
    CAF_CHECK(d.failed());
    CAF_CHECK_EQUAL(d.error().offset, 14u);
    decoder p;
    CAF_CHECK_EQUAL(pull(p, one_by_one(in)), expected);
    // The error shows as soon as the header is in: no waiting for the body.
    decoder h;
    auto st = h.parse(view(in).first(std::min(in.size(), good.size() + 5)),
                      [](const message&) {});
    CAF_CHECK(!st.ok());
    CAF_CHECK(h.buffered() <= 5u);
    // decode_message reports the same error at offset 0.
    auto r = decode_message(view(c.in));
    CAF_REQUIRE(!r.ok());
    CAF_CHECK_EQUAL(r.error().message, c.error);
    CAF_CHECK_EQUAL(r.error().offset, 0u);
  }
  // Lengths and types together at every split, including the error.
  bad c = cases[6];
  auto in = concat({good, c.in});
  check_all_splits(in, {"unchoke", "have(index=1)", "error: " + c.error + " (at byte 14)"});
}

CAF_TEST(errors are sticky) {
  decoder d;
  auto in = concat({raw_msg(4, 4, 3), encoded(message::choke())});
  int seen = 0;
  auto st = d.parse(view(in), [&](const message&) { ++seen; });
  CAF_REQUIRE(!st.ok());
  CAF_CHECK_EQUAL(seen, 0);
  auto again = d.parse(view(encoded(message::choke())), [&](const message&) { ++seen; });
  CAF_REQUIRE(!again.ok());
  CAF_CHECK_EQUAL(again.error().message, "have message length 4, expected 5");
  CAF_CHECK_EQUAL(seen, 0);
  auto n = d.next();
  CAF_REQUIRE(!n.ok());
  CAF_CHECK_EQUAL(n.error().message, "have message length 4, expected 5");
  d.reset();
  CAF_CHECK(d.parse(view(encoded(message::choke())), [&](const message&) { ++seen; }).ok());
  CAF_CHECK_EQUAL(seen, 1);
}

CAF_TEST(configurable limits) {
  limits lim;
  lim.max_message_length = 100;
  lim.max_block_length = 16384;
  CAF_CHECK_EQUAL(error_of(raw_msg(101, 5, 100), lim), "length prefix 101 exceeds limit 100");
  CAF_CHECK_EQUAL(error_of(raw_msg(100, 5, 99), lim), "ok");
  lim.max_message_length = 1 << 20;
  CAF_CHECK_EQUAL(error_of(raw_msg(9 + 16384, 7, 8 + 16384), lim), "ok");
  CAF_CHECK_EQUAL(error_of(raw_msg(9 + 16385, 7, 8 + 16385), lim),
                  "piece message length 16394 exceeds limit 16393");
  // A bitfield for 8 million pieces (1 MiB - 1 byte) passes the default limits.
  CAF_CHECK_EQUAL(error_of(raw_msg(1 << 20, 5, (1 << 20) - 1)), "ok");
}

CAF_TEST(unknown ids are delivered and skipped) {
  bytes stream;
  append(stream, message::unknown(0x42, bytes{1, 2, 3}));
  append_have(stream, 8);
  decoder d;
  std::vector<message> got;
  std::vector<std::string> payloads;
  CAF_REQUIRE(d.parse(view(stream),
                      [&](const message& m) {
                        got.push_back(m);
                        payloads.push_back(hex(m.payload));
                      })
                .ok());
  CAF_REQUIRE_EQUAL(got.size(), 2u);
  CAF_CHECK(got[0].type == msg_type::unknown);
  CAF_CHECK_EQUAL(got[0].raw_id, 0x42);
  CAF_CHECK_EQUAL(payloads[0], "010203");
  CAF_CHECK(got[1].type == msg_type::have);
  CAF_CHECK_EQUAL(got[1].index, 8u);
}

CAF_TEST(buffered bytes stay bounded) {
  // A peer announcing a large (legal) bitfield and trickling it in: the decoder
  // holds exactly what arrived, never more than one message.
  decoder d;
  const std::uint32_t len = 200000;
  auto header = raw_msg(len, 5, 0);
  int seen = 0;
  auto count = [&](const message& m) {
    ++seen;
    if (m.type == msg_type::bitfield)
      CAF_CHECK_EQUAL(m.payload.size(), len - 1);
  };
  CAF_REQUIRE(d.parse(view(header), count).ok());
  CAF_CHECK_EQUAL(d.buffered(), 5u);
  const bytes piece(999, 0x11);
  std::size_t sent = 1; // the id byte was part of the header
  while (sent + piece.size() < len) {
    CAF_REQUIRE(d.parse(view(piece), count).ok());
    sent += piece.size();
    CAF_REQUIRE_EQUAL(d.buffered(), 4 + sent);
  }
  bytes rest(len - sent, 0x11);
  append_choke(rest);
  rest.push_back(0); // 1 byte of the next message
  CAF_REQUIRE(d.parse(view(rest), count).ok());
  CAF_CHECK_EQUAL(seen, 2);
  CAF_CHECK_EQUAL(d.buffered(), 1u);

  // Many whole messages plus a partial tail: only the tail is kept.
  decoder e;
  bytes many;
  for (std::uint32_t i = 0; i < 1000; ++i)
    append_have(many, i);
  append_request(many, 1, 2, 3);
  many.resize(many.size() - 4);
  seen = 0;
  CAF_REQUIRE(e.parse(view(many), [&](const message&) { ++seen; }).ok());
  CAF_CHECK_EQUAL(seen, 1000);
  CAF_CHECK_EQUAL(e.buffered(), 13u);

  // An oversized announcement fails at once, with nothing buffered for it.
  decoder f;
  CAF_CHECK(!f.parse(view(be32(0x7FFFFFFF)), [](const message&) {}).ok());
  CAF_CHECK(f.buffered() <= 4u);
}

CAF_TEST(pull api reports need_more and the stream offset) {
  decoder d;
  auto r = d.next();
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r->kind == event_kind::need_more);
  auto req = encoded(message::request(1, 2, 3));
  d.feed(view(req).first(10));
  r = d.next();
  CAF_REQUIRE(r.ok());
  CAF_CHECK(r->kind == event_kind::need_more);
  CAF_CHECK_EQUAL(d.buffered(), 10u);
  d.feed(view(req).subspan(10));
  r = d.next();
  CAF_REQUIRE(r.ok());
  CAF_REQUIRE(r->kind == event_kind::message);
  CAF_CHECK(r->msg == message::request(1, 2, 3));
  CAF_CHECK_EQUAL(d.bytes_consumed(), 17u);
  CAF_CHECK_EQUAL(d.buffered(), 0u);
}
