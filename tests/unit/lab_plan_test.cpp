#define CAF_SUITE lab_plan
#include <caf/test/unit_test.hpp>

#include "lab/plan.hpp"
#include "lab/units.hpp"

#include <set>
#include <string>

using namespace actorrent;
using namespace actorrent::lab;

namespace {

const std::string good_plan = R"(name: liar-and-partition
seed: 42
torrent: {size: 64MiB, piece_length: 256KiB, files: 1}
limits: {max_duration: 300s}
groups:
  - {name: seeders, kind: actorrent, count: 1, role: seed, link: {rate: 40mbit, delay: 20ms}}
  - {name: leechers, kind: actorrent, count: 8, role: leech, link: {delay: 40ms, jitter: 10ms, loss: 0.5%}}
  - {name: lt, kind: libtorrent, count: 2, role: leech}
  - {name: liars, kind: actorrent, count: 1, role: seed, behavior: {corrupt_blocks: 20%}}
faults:
  - {at: 10s, for: 15s, kind: partition, between: [leechers, seeders]}
  - {at: 5s, kind: churn, targets: leechers, count: 2, down_for: 5s}
oracles: [all_honest_complete, data_intact, no_honest_banned, misbehaving_banned, no_crash]
)";

std::string error_of(const std::string& yaml) {
  auto r = parse_plan(yaml, "plan.yaml");
  return r ? std::string{} : r.error().message;
}

/// good_plan with the first occurrence of `from` replaced by `to`.
std::string with(const std::string& from, const std::string& to) {
  auto s = good_plan;
  auto at = s.find(from);
  CAF_REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

/// The value, or the largest value of its type for an error (never a valid result).
template <class T>
T value_of(const result<T>& r) {
  if (!r.ok())
    return ~T{0};
  return r.value();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

} // namespace

CAF_TEST(sizes durations rates and loss) {
  CAF_CHECK_EQUAL(value_of(parse_size("64MiB")), 64ull << 20);
  CAF_CHECK_EQUAL(value_of(parse_size("256KiB")), 256ull << 10);
  CAF_CHECK_EQUAL(value_of(parse_size("8M")), 8ull << 20);
  CAF_CHECK_EQUAL(value_of(parse_size("1.5KiB")), 1536u);
  CAF_CHECK_EQUAL(value_of(parse_size("5MB")), 5000000u);
  CAF_CHECK_EQUAL(value_of(parse_size("12345")), 12345u);
  CAF_CHECK(!parse_size("1.5"));
  CAF_CHECK(!parse_size("1.0001KB")); // not a whole number of bytes
  CAF_CHECK(!parse_size("2TiB"));
  CAF_CHECK(!parse_size("-1MiB"));
  CAF_CHECK(!parse_size("MiB"));
  CAF_CHECK(!parse_size("99999999999999999999MiB"));
  CAF_CHECK_EQUAL(value_of(parse_duration_ms("10s")), 10000u);
  CAF_CHECK_EQUAL(value_of(parse_duration_ms("250ms")), 250u);
  CAF_CHECK_EQUAL(value_of(parse_duration_ms("1.5s")), 1500u);
  CAF_CHECK_EQUAL(value_of(parse_duration_ms("2m")), 120000u);
  CAF_CHECK(!parse_duration_ms("10"));
  CAF_CHECK(!parse_duration_ms("1.0005s"));
  CAF_CHECK(!parse_duration_ms("8d"));
  CAF_CHECK_EQUAL(value_of(parse_rate_bits("20mbit")), 20000000u);
  CAF_CHECK_EQUAL(value_of(parse_rate_bits("5MB/s")), 40000000u);
  CAF_CHECK_EQUAL(value_of(parse_rate_bits("1KiB/s")), 8192u);
  CAF_CHECK(!parse_rate_bits("0mbit"));
  CAF_CHECK(!parse_rate_bits("20mbps"));
  CAF_CHECK(!parse_rate_bits("101gbit"));
  CAF_CHECK_EQUAL(value_of(parse_percent_ppm("1%")), 10000u);
  CAF_CHECK_EQUAL(value_of(parse_percent_ppm("0.5%")), 5000u);
  CAF_CHECK_EQUAL(value_of(parse_percent_ppm("100%")), 1000000u);
  CAF_CHECK(!parse_percent_ppm("101%"));
  CAF_CHECK(!parse_percent_ppm("0.5"));
  CAF_CHECK(!parse_percent_ppm("0.00001%"));
  // printed forms parse back to the same value
  for (std::uint64_t v : {1ull, 1000ull, 1536ull, 64ull << 20, 3ull << 30})
    CAF_CHECK_EQUAL(value_of(parse_size(format_size(v))), v);
  for (std::uint64_t v : {1ull, 250ull, 1500ull, 10000ull})
    CAF_CHECK_EQUAL(value_of(parse_duration_ms(format_duration_ms(v))), v);
  for (std::uint64_t v : {7ull, 1500ull, 20000000ull, 40000000ull})
    CAF_CHECK_EQUAL(value_of(parse_rate_bits(format_rate_bits(v))), v);
  for (std::uint32_t v : {1u, 5000u, 10000u, 123456u, 1000000u})
    CAF_CHECK_EQUAL(value_of(parse_percent_ppm(format_percent_ppm(v))), v);
  CAF_CHECK_EQUAL(tc_percent(5000), "0.5%");
  CAF_CHECK_EQUAL(tc_rate(40000000), "40000000bit");
}

CAF_TEST(the example plan of issue 12 parses with every key) {
  auto r = parse_plan(good_plan, "plan.yaml");
  CAF_REQUIRE_EQUAL(error_of(good_plan), "");
  const auto& p = *r;
  CAF_CHECK_EQUAL(p.name, "liar-and-partition");
  CAF_CHECK_EQUAL(p.seed, 42u);
  CAF_CHECK_EQUAL(p.size, 64ull << 20);
  CAF_CHECK_EQUAL(p.piece_length, 256u * 1024);
  CAF_CHECK_EQUAL(p.files, 1u);
  CAF_CHECK_EQUAL(p.max_duration_ms, 300000u);
  CAF_REQUIRE_EQUAL(p.groups.size(), 4u);
  CAF_CHECK_EQUAL(p.groups[0].link.rate_bits, 40000000u);
  CAF_CHECK_EQUAL(p.groups[0].link.delay_ms, 20u);
  CAF_CHECK_EQUAL(p.groups[1].count, 8u);
  CAF_CHECK_EQUAL(p.groups[1].link.jitter_ms, 10u);
  CAF_CHECK_EQUAL(p.groups[1].link.loss_ppm, 5000u);
  CAF_CHECK(p.groups[2].kind == peer_kind::libtorrent);
  CAF_REQUIRE_EQUAL(p.groups[3].behavior.size(), 1u);
  CAF_CHECK_EQUAL(p.groups[3].behavior[0].key, "corrupt_blocks");
  CAF_CHECK_EQUAL(p.groups[3].behavior[0].value, "20%");
  CAF_REQUIRE_EQUAL(p.faults.size(), 2u);
  CAF_CHECK(p.faults[0].kind == fault_kind::partition);
  CAF_CHECK_EQUAL(p.faults[0].at_ms, 10000u);
  CAF_CHECK_EQUAL(p.faults[0].for_ms, 15000u);
  CAF_CHECK_EQUAL(p.faults[0].targets, std::vector<std::string>{"leechers"});
  CAF_CHECK_EQUAL(p.faults[0].other, std::vector<std::string>{"seeders"});
  CAF_CHECK(p.faults[1].kind == fault_kind::churn);
  CAF_CHECK_EQUAL(p.faults[1].count, 2u);
  CAF_CHECK_EQUAL(p.faults[1].down_for_ms, 5000u);
  CAF_REQUIRE_EQUAL(p.oracles.size(), 5u);
  CAF_CHECK_EQUAL(p.oracles[3].name, "misbehaving_banned");
}

CAF_TEST(errors name the key line and column) {
  CAF_CHECK_EQUAL(error_of(with("count: 8", "count: x")),
                  "plan.yaml:7:46: groups[1].count: expected an integer from 1 to 1000, got 'x'");
  CAF_CHECK_EQUAL(error_of(with("count: 8", "count: 0")),
                  "plan.yaml:7:46: groups[1].count: expected an integer from 1 to 1000, got '0'");
  CAF_CHECK(contains(error_of(with("size: 64MiB", "size: 64MB/s")), "plan.yaml:3:17: torrent.size: expected a size"));
  CAF_CHECK(contains(error_of(with("delay: 20ms", "delay: 20")), "plan.yaml:6:88: groups[0].link.delay: expected a duration"));
  CAF_CHECK(contains(error_of(with("loss: 0.5%", "loss: 0.5")), "groups[1].link.loss: expected a percentage"));
  CAF_CHECK(contains(error_of(with("rate: 40mbit", "rate: 40mbps")), "groups[0].link.rate: expected a rate"));
  CAF_CHECK(contains(error_of(with("kind: libtorrent", "kind: libtorent")),
                     "plan.yaml:8:22: groups[2].kind: expected actorrent, libtorrent, aria2c or transmission, got "
                     "'libtorent' (did you mean 'libtorrent'?)"));
  CAF_CHECK(contains(error_of(with("role: leech}", "role: lech}")), "plan.yaml:8:50: groups[2].role: expected seed or leech, got 'lech' (did you mean 'leech'?)"));
  CAF_CHECK(contains(error_of(with("seed: 42", "sed: 42")), "plan.yaml:2:1: sed: unknown key (did you mean 'seed'?)"));
  CAF_CHECK(contains(error_of(with("seed: 42", "seed: -4")), "plan.yaml:2:7: seed: expected an integer"));
  CAF_CHECK(contains(error_of(with("name: liars,", "name: seeders,")), "groups[3].name: a group named 'seeders' is defined twice"));
  CAF_CHECK(contains(error_of(with("between: [leechers, seeders]", "between: [leechers, seedrs]")),
                     "plan.yaml:11:62: faults[0].between[1]: no group or peer named 'seedrs' (did you mean 'seeders'?)"));
  CAF_CHECK(contains(error_of(with("between: [leechers, seeders]", "between: [leechers]")),
                     "faults[0].between: expected two sides"));
  CAF_CHECK(contains(error_of(with("at: 10s, for: 15s", "at: 290s, for: 15s")),
                     "faults[0]: ends at 305s, after limits.max_duration (300s)"));
  CAF_CHECK(contains(error_of(with("down_for: 5s", "for: 5s")), "plan.yaml:12:5: faults[1].down_for: missing"));
  CAF_CHECK(contains(error_of(with(", down_for: 5s", "")), "faults[1].down_for: missing"));
  CAF_CHECK(contains(error_of(with("kind: churn", "kind: partition")), "faults[1].targets: not used by a partition fault"));
  CAF_CHECK(contains(error_of(with("corrupt_blocks: 20%", "corrupt_block: 20%")), "groups[3].behavior.corrupt_block: unknown key (did you mean 'corrupt_blocks'?)"));
  CAF_CHECK(contains(error_of(with("no_crash]", "no_crashes]")), "oracles[4]: expected all_honest_complete"));
  CAF_CHECK(contains(error_of(with("kind: libtorrent, count: 2, role: leech}",
                                   "kind: libtorrent, count: 2, role: leech, behavior: {snub: true}}")),
                     "groups[2].behavior: only actorrent peers can misbehave"));
  CAF_CHECK(contains(error_of(with("piece_length: 256KiB", "piece_length: 300KiB")), "torrent.piece_length: expected a power of two"));
  CAF_CHECK(contains(error_of(with("delay: 40ms, jitter", "jitter")), "jitter needs a delay"));
  CAF_CHECK(contains(error_of("name: x\nseed: 1\n"), "plan.yaml:1:1: torrent: missing"));
  CAF_CHECK(contains(error_of("groups: [\n"), "plan.yaml:"));
  CAF_CHECK_EQUAL(error_of(""), "plan.yaml: the plan is empty");
  CAF_CHECK(contains(error_of("- a\n- b\n"), "expected a mapping"));
  CAF_CHECK(contains(error_of(with("role: seed, link", "role: leech, link")), "no honest seed"));
  CAF_CHECK(contains(error_of(with("seed: 42", "seed: 42\nseed: 43")), "seed: given twice"));
}

CAF_TEST(oracles with values) {
  auto r = parse_plan(with("oracles: [all_honest_complete,", "oracles: [{all_honest_complete: {within: 120s}}, {max_rss: 64MiB}, {slowdown: 3x},"),
                      "plan.yaml");
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(r->oracles[0].within_ms, 120000u);
  CAF_CHECK_EQUAL(r->oracles[1].max_bytes, 64ull << 20);
  CAF_CHECK_EQUAL(r->oracles[2].factor, 3.0);
  CAF_CHECK(contains(error_of(with("no_crash]", "{slowdown: 0.5x}]")), "oracles[4].slowdown: expected a factor"));
  CAF_CHECK(contains(error_of(with("no_crash]", "max_rss]")), "max_rss needs a value"));
  auto defaults = parse_plan(with("oracles: [all_honest_complete, data_intact, no_honest_banned, misbehaving_banned, no_crash]", ""),
                             "plan.yaml");
  CAF_REQUIRE(defaults.ok());
  CAF_CHECK_EQUAL(defaults->oracles.size(), 3u);
}

CAF_TEST(resolution names peers gives addresses and times faults) {
  auto p = parse_plan(good_plan, "plan.yaml");
  CAF_REQUIRE(p.ok());
  auto r = resolve(*p);
  CAF_REQUIRE(r.ok());
  CAF_REQUIRE_EQUAL(r->peers.size(), 12u);
  CAF_CHECK_EQUAL(r->peers[0].name, "seeders-1");
  CAF_CHECK_EQUAL(r->peers[1].name, "leechers-1");
  CAF_CHECK_EQUAL(r->peers[8].name, "leechers-8");
  CAF_CHECK_EQUAL(r->peers[11].name, "liars-1");
  CAF_CHECK(!r->peers[11].honest);
  CAF_CHECK(r->peers[0].honest);
  std::set<std::string> addresses;
  for (auto& peer : r->peers) {
    CAF_CHECK(peer.address.rfind("10.77.", 0) == 0);
    CAF_CHECK(peer.address != r->bridge_address);
    addresses.insert(peer.address);
  }
  CAF_CHECK_EQUAL(addresses.size(), 12u);
  CAF_CHECK_EQUAL(r->peers[0].address, "10.77.0.2");
  CAF_REQUIRE_EQUAL(r->faults.size(), 2u);
  CAF_CHECK_EQUAL(r->faults[0].start_ms, 10000u);
  CAF_CHECK_EQUAL(r->faults[0].end_ms, 25000u);
  CAF_CHECK_EQUAL(r->faults[0].targets.size(), 8u);
  CAF_CHECK_EQUAL(r->faults[0].other, std::vector<std::size_t>{0});
  // churn picks 2 of the 8 leechers, the same ones for the same seed
  CAF_REQUIRE_EQUAL(r->faults[1].targets.size(), 2u);
  for (auto t : r->faults[1].targets)
    CAF_CHECK(r->peers[t].group == 1);
  auto again = resolve(*p);
  CAF_CHECK_EQUAL(again->faults[1].targets, r->faults[1].targets);
  // another seed picks other peers for at least one of a few seeds
  bool differs = false;
  for (std::uint64_t seed = 1; seed < 10 && !differs; ++seed) {
    auto q = *p;
    q.seed = seed;
    differs = resolve(q)->faults[1].targets != r->faults[1].targets;
  }
  CAF_CHECK(differs);
  auto text = describe(*r);
  CAF_CHECK(contains(text, "leechers-3  actorrent leech  10.77.0.5:6881  link: delay 40ms, jitter 10ms, loss 0.5%"));
  CAF_CHECK(contains(text, "[0] 10s to 25s partition: leechers-1,"));
  CAF_CHECK(contains(text, "misbehaving: corrupt_blocks=20%"));
}

CAF_TEST(resolution refuses what only the peers show) {
  auto p = parse_plan(with("count: 2, down_for", "count: 9, down_for"), "plan.yaml");
  CAF_REQUIRE(p.ok());
  auto r = resolve(*p);
  CAF_REQUIRE(!r.ok());
  CAF_CHECK(contains(r.error().message, "plan.yaml:12:5: faults[1].count: 9 peers asked for, but the targets hold 8"));
  auto q = parse_plan(with("between: [leechers, seeders]", "between: [leechers, leechers-2]"), "plan.yaml");
  CAF_REQUIRE(q.ok());
  auto rq = resolve(*q);
  CAF_REQUIRE(!rq.ok());
  CAF_CHECK(contains(rq.error().message, "leechers-2 is on both sides"));
}

CAF_TEST(the seeded generator is deterministic and bounded) {
  seeded_rng a(7, "x"), b(7, "x"), c(7, "y");
  bool all_same = true;
  for (int i = 0; i < 100; ++i) {
    auto va = a.next();
    CAF_CHECK_EQUAL(va, b.next());
    all_same = all_same && va == c.next();
  }
  CAF_CHECK(!all_same);
  for (int i = 0; i < 1000; ++i)
    CAF_CHECK(a.below(3) < 3);
}

CAF_TEST(wire and disk faults in the timeline) {
  const std::string churn = "  - {at: 5s, kind: churn, targets: leechers, count: 2, down_for: 5s}";
  auto text = with(churn, "  - {at: 20s, for: 10s, kind: wire, targets: liars, behavior: {corrupt_blocks: 50%}}\n"
                          "  - {at: 3s, for: 4s, kind: disk, targets: leechers-2, disk: {slow_writes: 5ms, full_after: 2MiB}}");
  auto p = parse_plan(text, "plan.yaml");
  CAF_REQUIRE(p.ok());
  CAF_REQUIRE_EQUAL(p->faults.size(), 3u);
  CAF_CHECK(p->faults[1].kind == fault_kind::wire);
  CAF_CHECK(p->faults[2].kind == fault_kind::disk);
  auto r = resolve(*p);
  CAF_REQUIRE(r.ok());
  CAF_CHECK_EQUAL(fault_spec_string(*r, r->faults[1], r->faults[1].targets.at(0)), "corrupt_blocks=50%,seed=42,peer=liars-1");
  CAF_CHECK_EQUAL(fault_spec_string(*r, r->faults[2], r->faults[2].targets.at(0)), "full_after=2MiB,slow_writes=5ms,seed=42");
  auto d = describe(*r);
  CAF_CHECK(contains(d, "[2] 3s to 7s disk: leechers-2 (full_after=2MiB, slow_writes=5ms)"));
  CAF_CHECK(contains(d, "[1] 20s to 30s wire: liars-1 (corrupt_blocks=50%)"));
  auto disk_fault = [&](const std::string& body) { return error_of(with(churn, "  - {at: 5s, for: 2s, " + body + "}")); };
  CAF_CHECK(contains(disk_fault("kind: disk, targets: lt, disk: {full_after: 1MiB}"),
                     "plan.yaml:12:44: faults[1].targets: disk faults are for actorrent peers only ('lt' is libtorrent)"));
  CAF_CHECK(contains(disk_fault("kind: disk, targets: leechers, disk: {full_afer: 1MiB}"),
                     "faults[1].disk.full_afer: unknown key (did you mean 'full_after'?)"));
  CAF_CHECK(contains(disk_fault("kind: disk, targets: leechers, disk: {write_errors: 120%}"), "faults[1].disk.write_errors:"));
  CAF_CHECK(contains(disk_fault("kind: disk, targets: leechers"), "plan.yaml:12:5: faults[1].disk: missing"));
  CAF_CHECK(contains(disk_fault("kind: disk, targets: leechers, disk: {slow_writes: 20s}"),
                     "faults[1].disk.slow_writes: expected a delay per write from 1ms to 10s"));
  CAF_CHECK(contains(disk_fault("kind: partition, between: [leechers, seeders], disk: {full_after: 1MiB}"),
                     "faults[1].disk: not used by a partition fault"));
  CAF_CHECK(contains(disk_fault("kind: wire, targets: leechers"), "faults[1].behavior: missing"));
  CAF_CHECK(contains(disk_fault("kind: wire, targets: lt-1, behavior: {snub: true}"),
                     "faults[1].targets: wire faults are for actorrent peers only ('lt-1' is libtorrent)"));
  CAF_CHECK(contains(disk_fault("kind: wire, targets: leechers, behavior: {snub: false}"), "every behaviour is off"));
}

CAF_TEST(reset and burst_loss faults parse and their bad values are located) {
  auto churn = std::string{"{at: 5s, kind: churn, targets: leechers, count: 2, down_for: 5s}"};
  auto fault = [&](const std::string& f) { return with(churn, f); };
  auto ok = parse_plan(fault("{at: 5s, for: 10s, kind: reset, targets: leechers, after: 1MiB}"), "plan.yaml");
  CAF_REQUIRE(ok);
  CAF_CHECK(ok->faults[1].kind == fault_kind::reset);
  CAF_CHECK_EQUAL(ok->faults[1].after_bytes.value_or(0), 1024u * 1024u);
  auto b = parse_plan(fault("{at: 5s, for: 10s, kind: burst_loss, targets: leechers, to_bad: 10%, to_good: 40%, step: 200ms}"),
                      "plan.yaml");
  CAF_REQUIRE(b);
  CAF_CHECK_EQUAL(b->faults[1].burst.to_bad_ppm, 100'000u);
  CAF_CHECK_EQUAL(b->faults[1].burst.to_good_ppm, 400'000u);
  CAF_CHECK_EQUAL(b->faults[1].burst.loss_bad_ppm, 1'000'000u); // default: a burst drops everything
  CAF_CHECK_EQUAL(b->faults[1].burst.loss_good_ppm, 0u);
  CAF_CHECK_EQUAL(b->faults[1].burst.step_ms, 200u);
  // the resolved plan says what it will do
  auto rp = resolve(*b);
  CAF_REQUIRE(rp);
  CAF_CHECK(contains(describe(*rp), "burst_loss: leechers-1"));
  CAF_CHECK(contains(describe(*rp), "Gilbert-Elliott every 200ms: to_bad 10%, to_good 40%, loss_bad 100%, loss_good 0%"));
  CAF_CHECK(contains(describe(*resolve(*ok)), "each TCP connection reset after 1MiB"));
  // errors: key, line and column
  CAF_CHECK(contains(error_of(fault("{at: 5s, kind: reset, targets: leechers}")), "plan.yaml:12:5: faults[1].after: missing"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, kind: reset, targets: leechers, after: lots}")),
                     "plan.yaml:12:53: faults[1].after: expected a size"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, kind: reset, targets: leechers, after: 0}")),
                     "faults[1].after: expected a size above 0"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, for: 5s, kind: burst_loss, targets: leechers, to_good: 40%}")),
                     "faults[1].to_bad: missing"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, for: 5s, kind: burst_loss, targets: leechers, to_bad: 10, to_good: 40%}")),
                     "plan.yaml:12:68: faults[1].to_bad: expected a percentage"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, for: 5s, kind: burst_loss, targets: leechers, to_bad: 10%, to_good: 0%}")),
                     "faults[1].to_good: expected a probability above 0%"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, for: 5s, kind: burst_loss, targets: leechers, to_bad: 1%, to_good: 5%, step: 1ms}")),
                     "faults[1].step: expected a step from 50ms to 60s"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, kind: burst_loss, targets: leechers, to_bad: 1%, to_good: 5%}")),
                     "faults[1].for: missing"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, for: 5s, kind: loss, targets: leechers, loss: 1%, after: 1MiB}")),
                     "faults[1].after: not used by a loss fault"));
  CAF_CHECK(contains(error_of(fault("{at: 5s, for: 5s, kind: reset, targets: leechers, after: 1MiB, to_bad: 1%}")),
                     "faults[1].to_bad: not used by a reset fault"));
}
