// The rate limits' token bucket and the rate meter, without actors.
#define CAF_SUITE token_bucket
#include <caf/test/unit_test.hpp>

#include "logic/token_bucket.hpp"

using namespace actorrent::logic;
using namespace std::chrono_literals;

namespace {
const token_bucket::clock::time_point t0{10s};
}

CAF_TEST(unlimited takes everything and never waits) {
  token_bucket b;
  CAF_CHECK(!b.limited());
  CAF_CHECK(b.take(1u << 30, t0));
  CAF_CHECK(b.wait_for(1u << 20) == token_bucket::clock::duration::zero());
}

CAF_TEST(a new limit starts empty and fills at its rate) {
  token_bucket b;
  b.set_rate(100'000, t0);
  CAF_CHECK(!b.take(16384, t0));
  CAF_CHECK(!b.take(16384, t0 + 100ms)); // 10 000 tokens
  CAF_CHECK(b.take(16384, t0 + 200ms));  // 20 000
  CAF_CHECK_EQUAL(static_cast<int>(b.tokens()), 20000 - 16384);
}

CAF_TEST(the bucket holds at most half a second or one block) {
  token_bucket b;
  b.set_rate(100'000, t0);
  b.refill(t0 + 10s);
  CAF_CHECK_EQUAL(b.tokens(), 50'000.0);
  token_bucket slow;
  slow.set_rate(1000, t0);
  slow.refill(t0 + 60s);
  CAF_CHECK_EQUAL(slow.tokens(), 16384.0); // one block always fits
  CAF_CHECK(slow.take(16384, t0 + 60s));
}

CAF_TEST(wait_for says when the tokens will be there) {
  token_bucket b;
  b.set_rate(32768, t0);
  CAF_CHECK(b.wait_for(16384) == 500ms);
  b.refill(t0 + 250ms);
  CAF_CHECK(b.wait_for(16384) == 250ms);
  CAF_CHECK(!b.take(16384, t0 + 499ms));
  CAF_CHECK(b.take(16384, t0 + 500ms));
}

CAF_TEST(the rate meter smooths bytes per second) {
  rate_meter m;
  m.add(1000);
  CAF_CHECK_EQUAL(m.tick(), 1000u);
  CAF_CHECK_EQUAL(m.rate(), 400.0);
  CAF_CHECK_EQUAL(m.tick(), 0u);
  CAF_CHECK_EQUAL(m.rate(), 240.0);
  CAF_CHECK_EQUAL(m.total(), 1000u);
}
