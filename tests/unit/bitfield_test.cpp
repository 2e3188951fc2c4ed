#define CAF_SUITE bitfield
#include <caf/test/unit_test.hpp>

#include "protocol/bitfield.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace actorrent;

namespace {

using bytes = std::vector<std::uint8_t>;

bytes raw(const bitfield& bf) { return bytes(bf.bytes().begin(), bf.bytes().end()); }

std::string error_of(const bytes& in, std::size_t pieces) {
  auto r = bitfield::from_wire(in, pieces);
  return r ? "ok" : r.error().message;
}

// Deterministic pseudo-random bits for comparisons against a naive model.
struct lcg {
  std::uint32_t state;
  bool next_bit(unsigned percent) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % 100 < percent;
  }
};

} // namespace

CAF_TEST(msb first layout) {
  bitfield bf{20};
  CAF_CHECK_EQUAL(bf.size(), 20u);
  CAF_CHECK_EQUAL(bf.num_bytes(), 3u);
  CAF_CHECK(raw(bf) == (bytes{0, 0, 0}));
  bf.set(0);
  bf.set(9);
  bf.set(19);
  CAF_CHECK(raw(bf) == (bytes{0x80, 0x40, 0x10}));
  CAF_CHECK(bf.test(0) && bf.test(9) && bf.test(19));
  CAF_CHECK(!bf.test(1) && !bf.test(8) && !bf.test(18));
  CAF_CHECK(bf[9]);
  bf.clear(9);
  CAF_CHECK(!bf.test(9));
  bf.assign(7, true);
  CAF_CHECK(raw(bf) == (bytes{0x81, 0x00, 0x10}));
  bf.assign(7, false);
  CAF_CHECK(raw(bf) == (bytes{0x80, 0x00, 0x10}));
  CAF_CHECK_EQUAL(bitfield::bytes_for(0), 0u);
  CAF_CHECK_EQUAL(bitfield::bytes_for(1), 1u);
  CAF_CHECK_EQUAL(bitfield::bytes_for(8), 1u);
  CAF_CHECK_EQUAL(bitfield::bytes_for(9), 2u);
}

CAF_TEST(out of range indices are harmless) {
  bitfield bf{10};
  bf.set(10);
  bf.set(15); // a spare bit of the last byte
  bf.set(1000000);
  CAF_CHECK(raw(bf) == (bytes{0, 0}));
  CAF_CHECK(!bf.test(10));
  CAF_CHECK(!bf.test(static_cast<std::size_t>(-1)));
  CAF_CHECK(bf.none());
  bitfield empty;
  empty.set(0);
  CAF_CHECK(!empty.test(0));
  CAF_CHECK(empty.empty());
}

CAF_TEST(set all keeps spare bits clear) {
  bitfield bf{10, true};
  CAF_CHECK(raw(bf) == (bytes{0xFF, 0xC0}));
  CAF_CHECK(bf.all());
  CAF_CHECK_EQUAL(bf.count(), 10u);
  bf.clear_all();
  CAF_CHECK(bf.none());
  CAF_CHECK(!bf.all());
  bf.set_all();
  CAF_CHECK(raw(bf) == (bytes{0xFF, 0xC0}));
  bf.clear(9);
  CAF_CHECK(!bf.all());
  CAF_CHECK(bf.any());
  CAF_CHECK_EQUAL(bf.count(), 9u);
  // exact multiples of 8 have no spare bits
  bitfield b16{16, true};
  CAF_CHECK(raw(b16) == (bytes{0xFF, 0xFF}));
  CAF_CHECK(b16.all());
  // empty bitfields are vacuously all and none
  bitfield none;
  CAF_CHECK(none.all());
  CAF_CHECK(none.none());
  CAF_CHECK_EQUAL(none.count(), 0u);
}

CAF_TEST(count all none against a naive model) {
  for (std::size_t size : {1u, 7u, 8u, 9u, 63u, 64u, 65u, 127u, 200u, 1000u, 4099u}) {
    for (unsigned density : {0u, 3u, 50u, 97u, 100u}) {
      lcg rng{static_cast<std::uint32_t>(size * 31 + density)};
      bitfield bf{size};
      std::vector<bool> model(size);
      for (std::size_t i = 0; i < size; ++i) {
        model[i] = rng.next_bit(density);
        bf.assign(i, model[i]);
      }
      std::size_t ones = 0;
      for (bool b : model)
        ones += b ? 1 : 0;
      CAF_CHECK_EQUAL(bf.count(), ones);
      CAF_CHECK_EQUAL(bf.all(), ones == size);
      CAF_CHECK_EQUAL(bf.none(), ones == 0);
      // find_next_set / find_next_clear from every position
      std::size_t bad = 0;
      for (std::size_t from = 0; from <= size; ++from) {
        std::size_t want_set = bitfield::npos;
        std::size_t want_clear = bitfield::npos;
        for (std::size_t i = from; i < size; ++i)
          if (model[i]) {
            want_set = i;
            break;
          }
        for (std::size_t i = from; i < size; ++i)
          if (!model[i]) {
            want_clear = i;
            break;
          }
        if (bf.find_next_set(from) != want_set || bf.find_next_clear(from) != want_clear)
          ++bad;
      }
      CAF_CHECK_EQUAL(bad, 0u);
    }
  }
}

CAF_TEST(find across word boundaries) {
  bitfield bf{300};
  CAF_CHECK_EQUAL(bf.find_next_set(), bitfield::npos);
  CAF_CHECK_EQUAL(bf.find_next_clear(), 0u);
  bf.set(250);
  CAF_CHECK_EQUAL(bf.find_next_set(), 250u);
  CAF_CHECK_EQUAL(bf.find_next_set(250), 250u);
  CAF_CHECK_EQUAL(bf.find_next_set(251), bitfield::npos);
  CAF_CHECK_EQUAL(bf.find_next_set(300), bitfield::npos);
  CAF_CHECK_EQUAL(bf.find_next_set(5000), bitfield::npos);
  bf.set_all();
  bf.clear(299);
  CAF_CHECK_EQUAL(bf.find_next_clear(), 299u);
  bf.set(299);
  CAF_CHECK_EQUAL(bf.find_next_clear(), bitfield::npos); // spare bits are not pieces
  // iteration idiom
  bitfield it{70};
  it.set(3);
  it.set(64);
  it.set(69);
  std::vector<std::size_t> seen;
  for (auto i = it.find_next_set(); i != bitfield::npos; i = it.find_next_set(i + 1))
    seen.push_back(i);
  CAF_CHECK_EQUAL(seen, (std::vector<std::size_t>{3, 64, 69}));
}

CAF_TEST(resize keeps and fills) {
  bitfield bf{10};
  bf.set(1);
  bf.set(9);
  bf.resize(20, true);
  CAF_CHECK_EQUAL(bf.size(), 20u);
  CAF_CHECK(raw(bf) == (bytes{0x40, 0x7F, 0xF0}));
  CAF_CHECK_EQUAL(bf.count(), 12u);
  bf.resize(5);
  CAF_CHECK(raw(bf) == (bytes{0x40}));
  CAF_CHECK_EQUAL(bf.count(), 1u);
  bf.resize(12);
  CAF_CHECK(raw(bf) == (bytes{0x40, 0x00})); // shrunk bits do not come back
  bf.resize(13, true);
  CAF_CHECK(raw(bf) == (bytes{0x40, 0x08}));
  bf.resize(40, true);
  CAF_CHECK(raw(bf) == (bytes{0x40, 0x0F, 0xFF, 0xFF, 0xFF}));
  CAF_CHECK_EQUAL(bf.count(), 1u + 28u); // bit 1 and bits 12..39
  bf.resize(0);
  CAF_CHECK(bf.empty());
  CAF_CHECK_EQUAL(bf.num_bytes(), 0u);
}

CAF_TEST(from wire) {
  auto r = bitfield::from_wire(bytes{0xA0, 0x40}, 10);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r->size(), 10u);
  CAF_CHECK(r->test(0) && r->test(2) && r->test(9));
  CAF_CHECK_EQUAL(r->count(), 3u);
  CAF_CHECK(raw(*r) == (bytes{0xA0, 0x40}));

  CAF_CHECK_EQUAL(error_of(bytes{0xFF, 0xFF, 0xFF}, 10), "bitfield has 3 bytes, expected 2 for 10 pieces");
  CAF_CHECK_EQUAL(error_of(bytes{0xFF}, 10), "bitfield has 1 bytes, expected 2 for 10 pieces");
  CAF_CHECK_EQUAL(error_of(bytes{}, 1), "bitfield has 0 bytes, expected 1 for 1 pieces");
  CAF_CHECK_EQUAL(error_of(bytes{0xFF, 0xE0}, 10), "bitfield sets spare bit 10 beyond 10 pieces");
  CAF_CHECK_EQUAL(error_of(bytes{0xFF, 0xC1}, 10), "bitfield sets spare bit 15 beyond 10 pieces");
  CAF_CHECK_EQUAL(error_of(bytes{0x00, 0x00, 0x00, 0x01}, 30),
                  "bitfield sets spare bit 31 beyond 30 pieces");
  auto spare = bitfield::from_wire(bytes{0x00, 0x00, 0x00, 0x01}, 30);
  CAF_REQUIRE(!spare.ok());
  CAF_CHECK_EQUAL(spare.error().offset, 3u);
  CAF_CHECK_EQUAL(error_of(bytes{0xFF, 0xC0}, 10), "ok");
  CAF_CHECK_EQUAL(error_of(bytes{0xFF, 0xFF}, 16), "ok");
  CAF_CHECK_EQUAL(error_of(bytes{}, 0), "ok");
}

CAF_TEST(equality) {
  bitfield a{12};
  bitfield b{12};
  CAF_CHECK(a == b);
  a.set(11);
  CAF_CHECK(!(a == b));
  b.set(11);
  CAF_CHECK(a == b);
  CAF_CHECK(!(bitfield{12} == bitfield{13}));
  CAF_CHECK(*bitfield::from_wire(bytes{0x00, 0x10}, 12) == a);
}

CAF_TEST(has any not in) {
  bitfield peer{100};
  bitfield mine{100};
  CAF_CHECK(!peer.has_any_not_in(mine));
  peer.set(70);
  CAF_CHECK(peer.has_any_not_in(mine));
  mine.set(70);
  CAF_CHECK(!peer.has_any_not_in(mine));
  mine.set_all();
  peer.set_all();
  CAF_CHECK(!peer.has_any_not_in(mine));
  mine.clear(99);
  CAF_CHECK(peer.has_any_not_in(mine));
  CAF_CHECK(!mine.has_any_not_in(peer));
  // a shorter other: bits past its end count as missing
  bitfield shorter{50, true};
  bitfield longer{100};
  longer.set(49);
  CAF_CHECK(!longer.has_any_not_in(shorter));
  longer.set(60);
  CAF_CHECK(longer.has_any_not_in(shorter));
}
