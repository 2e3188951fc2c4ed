#define CAF_SUITE lab_delay_line
#include <caf/test/unit_test.hpp>

#include "lab/delay_line.hpp"

#include <algorithm>
#include <map>
#include <vector>

using namespace actorrent::lab;

namespace {

delay_line_config cfg(std::uint64_t delay_ms, std::uint64_t jitter_ms, std::size_t capacity = 1000) {
  delay_line_config c;
  c.delay_us = delay_ms * 1000;
  c.jitter_us = jitter_ms * 1000;
  c.capacity = capacity;
  return c;
}

/// Release times of packets arriving every `gap_us`, spread over `flows` flows.
std::vector<std::uint64_t> schedule(delay_line line, int n, std::uint64_t gap_us, std::uint64_t flows) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back(line
                    .admit(static_cast<std::uint32_t>(i), static_cast<std::uint64_t>(i) % flows,
                           static_cast<std::uint64_t>(i) * gap_us)
                    .value_or(0));
  return out;
}

} // namespace

CAF_TEST(a fixed delay holds every packet exactly that long) {
  delay_line line(cfg(40, 0), 1, "p");
  CAF_CHECK(!line.next_release());
  CAF_CHECK_EQUAL(line.admit(7, 1, 1000).value_or(0), 41000u);
  CAF_CHECK_EQUAL(line.admit(8, 1, 2000).value_or(0), 42000u);
  CAF_CHECK_EQUAL(line.next_release().value_or(0), 41000u);
  std::vector<std::uint32_t> out;
  line.take_due(40999, out);
  CAF_CHECK(out.empty());
  line.take_due(41000, out);
  CAF_CHECK_EQUAL(out, (std::vector<std::uint32_t>{7}));
  line.take_due(50000, out);
  CAF_CHECK_EQUAL(out, (std::vector<std::uint32_t>{7, 8}));
  CAF_CHECK_EQUAL(line.delayed(), 2u);
  CAF_CHECK_EQUAL(line.held(), 0u);
  CAF_CHECK_EQUAL(line.flows(), 0u);
  CAF_CHECK_EQUAL(line.total_hold_us(), 40000u + 48000u);
  CAF_CHECK_EQUAL(line.max_hold_us(), 48000u);
}

CAF_TEST(the same seed and name give the same schedule and others another) {
  auto a = schedule(delay_line(cfg(40, 10), 42, "leechers-1"), 500, 100, 7);
  auto b = schedule(delay_line(cfg(40, 10), 42, "leechers-1"), 500, 100, 7);
  auto c = schedule(delay_line(cfg(40, 10), 43, "leechers-1"), 500, 100, 7);
  auto d = schedule(delay_line(cfg(40, 10), 42, "leechers-2"), 500, 100, 7);
  CAF_CHECK(a == b);
  CAF_CHECK(a != c);
  CAF_CHECK(a != d);
}

CAF_TEST(jitter stays within delay plus or minus jitter and spreads over it) {
  // one flow per packet: no order constraint raises a release time
  delay_line line(cfg(40, 10), 5, "p");
  std::uint64_t lo = UINT64_MAX, hi = 0;
  for (std::uint32_t i = 0; i < 900; ++i) {
    auto now = std::uint64_t{i} * 1000;
    auto hold = line.admit(i, i, now).value_or(0) - now;
    lo = std::min(lo, hold);
    hi = std::max(hi, hold);
    std::vector<std::uint32_t> out;
    line.take_due(now, out); // keep the line short
  }
  CAF_CHECK_GREATER_OR_EQUAL(lo, 30000u);
  CAF_CHECK_LESS_OR_EQUAL(hi, 50000u);
  CAF_CHECK_LESS(lo, 32000u); // 900 uniform draws reach near both ends
  CAF_CHECK_GREATER(hi, 48000u);
  // jitter larger than the delay: clamped at 0, never before the arrival
  delay_line wide(cfg(5, 20), 5, "p");
  for (std::uint32_t i = 0; i < 200; ++i)
    CAF_CHECK_GREATER_OR_EQUAL(wide.admit(i, i, 1000 * std::uint64_t{i}).value_or(0), 1000 * std::uint64_t{i});
}

CAF_TEST(packets of one flow leave in arrival order and flows may pass each other) {
  delay_line line(cfg(40, 30), 9, "p");
  // 3 flows, a packet every 100 us: jitter (60 ms wide) far above the spacing
  std::map<std::uint32_t, std::uint64_t> flow_of;
  for (std::uint32_t i = 0; i < 600; ++i) {
    flow_of[i] = i % 3;
    CAF_REQUIRE(line.admit(i, i % 3, std::uint64_t{i} * 100));
  }
  CAF_CHECK_GREATER(line.order_waits(), 0u);
  std::vector<std::uint32_t> out;
  for (std::uint64_t t = 0; t <= 200000; t += 1000)
    line.take_due(t, out);
  CAF_REQUIRE_EQUAL(out.size(), 600u);
  std::map<std::uint64_t, std::uint32_t> last;
  bool in_order = true, passed = false;
  for (std::size_t k = 0; k < out.size(); ++k) {
    auto f = flow_of[out[k]];
    if (last.count(f) && last[f] > out[k])
      in_order = false;
    last[f] = out[k];
    if (k > 0 && out[k] < out[k - 1])
      passed = true; // a later packet of another flow left first
  }
  CAF_CHECK(in_order);
  CAF_CHECK(passed);
  CAF_CHECK_EQUAL(line.flows(), 0u);
}

CAF_TEST(a full line refuses packets and counts them and never holds more) {
  delay_line line(cfg(100, 0, 4), 1, "p");
  int admitted = 0;
  for (std::uint32_t i = 0; i < 10; ++i)
    admitted += line.admit(i, 1, i).has_value() ? 1 : 0;
  CAF_CHECK_EQUAL(admitted, 4);
  CAF_CHECK_EQUAL(line.dropped(), 6u);
  CAF_CHECK_EQUAL(line.held(), 4u);
  CAF_CHECK_EQUAL(line.max_held(), 4u);
  CAF_CHECK_LESS_OR_EQUAL(line.flows(), line.held());
  std::vector<std::uint32_t> out;
  line.take_all(5, out);
  CAF_CHECK_EQUAL(out, (std::vector<std::uint32_t>{0, 1, 2, 3}));
  CAF_CHECK(line.admit(11, 1, 6).has_value()); // room again
}
