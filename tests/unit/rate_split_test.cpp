// Splitting a rate limit among peers (max-min fair over what they use).
#define CAF_SUITE rate_split
#include <caf/test/unit_test.hpp>

#include "logic/rate_split.hpp"

#include <numeric>

using namespace actorrent::logic;

namespace {
double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
bool near(double a, double b) { return a > b - 1e-6 && a < b + 1e-6; }
} // namespace

CAF_TEST(no peers or no limit give nothing) {
  CAF_CHECK(split_limit(1000, {}).empty());
  CAF_CHECK_EQUAL(split_limit(0, {5, 5}), (std::vector<double>{0, 0}));
}

CAF_TEST(peers that all want more share equally) {
  auto s = split_limit(3e6, {5e6, 5e6, 5e6});
  CAF_REQUIRE_EQUAL(s.size(), 3u);
  for (auto x : s)
    CAF_CHECK(near(x, 1e6));
}

CAF_TEST(a slow peer keeps what it uses plus headroom and the rest goes to the fast ones) {
  // limit 2 MB/s; one peer manages 100 kB/s, two could take 5 MB/s
  auto s = split_limit(2e6, {1e5, 5e6, 5e6}, 16 * 1024);
  CAF_CHECK(near(s[0], 1.25e5));
  CAF_CHECK(near(s[1], (2e6 - 1.25e5) / 2));
  CAF_CHECK(near(s[2], s[1]));
  CAF_CHECK(near(sum(s), 2e6));
}

CAF_TEST(an idle peer gets the minimum headroom so it can start) {
  auto s = split_limit(1e6, {0, 2e6}, 16 * 1024);
  CAF_CHECK(near(s[0], 16 * 1024));
  CAF_CHECK(near(s[1], 1e6 - 16 * 1024));
}

CAF_TEST(when every want is met the leftover is spread so the limit is used) {
  auto s = split_limit(1e6, {1e4, 2e4}, 1000);
  CAF_CHECK(near(sum(s), 1e6));
  CAF_CHECK(s[1] > s[0]);
}

CAF_TEST(the shares never exceed the limit whatever the rates) {
  std::vector<double> used;
  for (int i = 0; i < 50; ++i)
    used.push_back(i * 37e3);
  auto s = split_limit(1.5e6, used);
  CAF_CHECK(near(sum(s), 1.5e6));
  for (auto x : s)
    CAF_CHECK(x > 0);
}

CAF_TEST(unchoke slots are shared by max-min fairness) {
  using v = std::vector<std::uint32_t>;
  CAF_CHECK(split_slots(10, {}).empty());
  // enough for everyone: each gets what it wants
  CAF_CHECK_EQUAL(split_slots(20, {4, 2, 0, 5}), (v{4, 2, 0, 5}));
  // a torrent wanting little keeps it, the rest share equally
  CAF_CHECK_EQUAL(split_slots(9, {1, 8, 8}), (v{1, 4, 4}));
  // odd slots go in turn
  CAF_CHECK_EQUAL(split_slots(8, {5, 5, 5}, 0), (v{3, 3, 2}));
  CAF_CHECK_EQUAL(split_slots(8, {5, 5, 5}, 1), (v{2, 3, 3}));
  CAF_CHECK_EQUAL(split_slots(8, {5, 5, 5}, 2), (v{3, 2, 3}));
  // fewer slots than torrents: one each, in turn, never to one wanting none
  CAF_CHECK_EQUAL(split_slots(2, {3, 0, 3, 3}, 0), (v{1, 0, 1, 0}));
  CAF_CHECK_EQUAL(split_slots(2, {3, 0, 3, 3}, 1), (v{0, 0, 1, 1}));
  CAF_CHECK_EQUAL(split_slots(2, {3, 0, 3, 3}, 3), (v{1, 0, 0, 1}));
  CAF_CHECK_EQUAL(split_slots(0, {3, 3}), (v{0, 0}));
  // the total is never exceeded and nobody gets more than it wants
  for (std::uint32_t total = 0; total < 40; ++total)
    for (std::size_t turn = 0; turn < 5; ++turn) {
      v want{0, 1, 7, 3, 12};
      auto s = split_slots(total, want, turn);
      std::uint32_t sum = 0, wanted = 0;
      for (std::size_t i = 0; i < s.size(); ++i) {
        CAF_CHECK_LESS_OR_EQUAL(s[i], want[i]);
        sum += s[i];
        wanted += want[i];
      }
      CAF_CHECK_EQUAL(sum, std::min(total, wanted));
    }
}
