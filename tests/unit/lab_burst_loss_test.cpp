#define CAF_SUITE lab_burst_loss
#include <caf/test/unit_test.hpp>

#include "lab/burst_loss.hpp"

#include <vector>

using namespace actorrent::lab;

namespace {

burst_loss_spec spec(std::uint32_t to_bad, std::uint32_t to_good) {
  burst_loss_spec s;
  s.to_bad_ppm = to_bad;
  s.to_good_ppm = to_good;
  s.loss_bad_ppm = 900'000;
  s.loss_good_ppm = 10'000;
  return s;
}

std::vector<bool> states(gilbert_elliott g, int n) {
  std::vector<bool> out;
  for (int i = 0; i < n; ++i) {
    g.step();
    out.push_back(g.bad());
  }
  return out;
}

} // namespace

CAF_TEST(the same seed and purpose give the same bursts) {
  auto s = spec(100'000, 300'000);
  CAF_CHECK(states(gilbert_elliott{s, 7, "f0-a"}, 500) == states(gilbert_elliott{s, 7, "f0-a"}, 500));
  CAF_CHECK(states(gilbert_elliott{s, 7, "f0-a"}, 500) != states(gilbert_elliott{s, 7, "f0-b"}, 500));
  CAF_CHECK(states(gilbert_elliott{s, 7, "f0-a"}, 500) != states(gilbert_elliott{s, 8, "f0-a"}, 500));
}

CAF_TEST(the chain spends the stationary share of steps in state bad) {
  // stationary share of bad: to_bad / (to_bad + to_good) = 0.1 / 0.4 = 25%;
  // mean burst 1 / to_good = 3.3 steps
  gilbert_elliott g{spec(100'000, 300'000), 42, "share"};
  CAF_CHECK(!g.bad());
  CAF_CHECK_EQUAL(g.loss_ppm(), 10'000u);
  for (int i = 0; i < 100'000; ++i)
    g.step();
  CAF_CHECK_EQUAL(g.steps(), 100'000u);
  auto share = static_cast<double>(g.bad_steps()) / static_cast<double>(g.steps());
  CAF_CHECK(share > 0.23 && share < 0.27);
  auto mean_burst = static_cast<double>(g.bad_steps()) / static_cast<double>(g.bursts());
  CAF_CHECK(mean_burst > 3.0 && mean_burst < 3.7);
  CAF_CHECK_EQUAL(gilbert_elliott(spec(1'000'000, 1'000'000), 1, "x").loss_ppm(), 10'000u);
}

CAF_TEST(certain transitions alternate and the loss follows the state) {
  gilbert_elliott g{spec(1'000'000, 1'000'000), 1, "alternate"};
  for (int i = 0; i < 6; ++i) {
    CAF_CHECK(g.step());
    CAF_CHECK_EQUAL(g.bad(), i % 2 == 0);
    CAF_CHECK_EQUAL(g.loss_ppm(), g.bad() ? 900'000u : 10'000u);
  }
  CAF_CHECK_EQUAL(g.bursts(), 3u);
}
