// Disk faults (storage/disk_faults.hpp): the spec's grammar and errors, its
// printed form, and what each fault decides for a sequence of writes (bytes
// counted from when it is set, the same writes failing for the same seed,
// nothing while off).
#define CAF_SUITE disk_faults
#include <caf/test/unit_test.hpp>

#include "storage/disk_faults.hpp"

#include <cerrno>

using namespace actorrent;
using namespace actorrent::storage;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_disk_fault_spec(text);
  return r ? std::string{} : r.error().message;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

} // namespace

CAF_TEST(specs parse and print back) {
  auto s = parse_disk_fault_spec("full_after=4MiB, slow_writes=20ms,write_errors=12.5%,errors_after=1000,seed=9");
  CAF_REQUIRE(s.ok());
  CAF_CHECK_EQUAL(s->full_after.value_or(0), 4ull << 20);
  CAF_CHECK_EQUAL(s->errors_after.value_or(0), 1000u);
  CAF_CHECK_EQUAL(s->write_error_ppm, 125000u);
  CAF_CHECK_EQUAL(s->slow_write.count(), 20000);
  CAF_CHECK_EQUAL(s->seed, 9u);
  auto text = s->to_string();
  CAF_CHECK_EQUAL(text, "write_errors=12.5%,errors_after=1000B,full_after=4MiB,slow_writes=20ms,seed=9");
  auto back = parse_disk_fault_spec(text);
  CAF_REQUIRE(back.ok());
  CAF_CHECK(*back == *s);
  auto spec = [](const std::string& text) {
    auto r = parse_disk_fault_spec(text);
    CAF_REQUIRE(r.ok());
    return *r;
  };
  CAF_CHECK(spec("").empty());
  CAF_CHECK(spec("off").empty());
  CAF_CHECK_EQUAL(spec("off").to_string(), "off");
  CAF_CHECK_EQUAL(spec("full_after=1.5K").full_after.value_or(0), 1536u);
  CAF_CHECK_EQUAL(spec("full_after=2MB").full_after.value_or(0), 2000000u);
  CAF_CHECK_EQUAL(spec("slow_writes=250us").slow_write.count(), 250);
}

CAF_TEST(bad specs say what is wrong) {
  CAF_CHECK(contains(error_of("full_after"), "disk fault 'full_after': expected NAME=VALUE"));
  CAF_CHECK(contains(error_of("full_afte=1M"), "unknown name"));
  CAF_CHECK(contains(error_of("full_after=1X"), "expected a size like 4MiB"));
  CAF_CHECK(contains(error_of("full_after=1.3B"), "expected a size"));
  CAF_CHECK(contains(error_of("write_errors=101%"), "expected a share"));
  CAF_CHECK(contains(error_of("write_errors=5"), "expected a share"));
  CAF_CHECK(contains(error_of("slow_writes=11s"), "at most 10s"));
  CAF_CHECK(contains(error_of("slow_writes=5"), "expected a duration"));
  CAF_CHECK(contains(error_of("full_after=1M,,seed=1"), "empty item"));
  CAF_CHECK(contains(error_of("seed=1,seed=2"), "given twice"));
  CAF_CHECK(contains(error_of("seed=-1"), "expected an integer"));
  CAF_CHECK(contains(error_of(std::string(2000, 'x')), "longer than 1000"));
  CAF_CHECK(contains(error_of("full_after=99999999999999999999999"), "expected a size"));
}

CAF_TEST(full after n bytes then every write fails with enospc) {
  disk_faults f;
  CAF_CHECK(!f.active());
  CAF_CHECK_EQUAL(f.before_write(16384).error, 0);
  CAF_CHECK_EQUAL(f.writes.load(), 0u); // off: not even counted
  f.set(*parse_disk_fault_spec("full_after=32KiB"));
  CAF_CHECK(f.active());
  CAF_CHECK_EQUAL(f.before_write(16384).error, 0);
  CAF_CHECK_EQUAL(f.before_write(16384).error, 0);
  CAF_CHECK_EQUAL(f.before_write(16384).error, ENOSPC);
  CAF_CHECK_EQUAL(f.before_write(1).error, ENOSPC);
  CAF_CHECK_EQUAL(f.injected_full.load(), 2u);
  auto v = f.values(); // (a copy: CAF_CHECK_EQUAL keeps references to its operands)
  CAF_CHECK_EQUAL(v["disk.injected_full"], "2");
  CAF_CHECK_EQUAL(v["disk.fault"], "full_after=32KiB");
  f.set({}); // off, and the count starts again when set again
  CAF_CHECK_EQUAL(f.before_write(16384).error, 0);
  f.set(*parse_disk_fault_spec("full_after=32KiB"));
  CAF_CHECK_EQUAL(f.before_write(16384).error, 0);
  v = f.values();
  CAF_CHECK_EQUAL(v["disk.times_set"], "2");
}

CAF_TEST(errors after n bytes and slow writes) {
  disk_faults f{*parse_disk_fault_spec("errors_after=10,slow_writes=3ms")};
  auto d = f.before_write(10);
  CAF_CHECK_EQUAL(d.error, 0);
  CAF_CHECK_EQUAL(d.delay.count(), 3000);
  CAF_CHECK_EQUAL(f.before_write(1).error, EIO);
  CAF_CHECK_EQUAL(f.injected_errors.load(), 1u);
  CAF_CHECK_EQUAL(f.slowed_writes.load(), 2u);
  auto v = f.values();
  CAF_CHECK_EQUAL(v["disk.slow_ms"], "6");
}

CAF_TEST(a share of writes fails the same way for the same seed) {
  auto run = [](const std::string& spec) {
    disk_faults f{*parse_disk_fault_spec(spec)};
    std::vector<bool> failed;
    for (int i = 0; i < 10000; ++i)
      failed.push_back(f.before_write(16384).error == EIO);
    return failed;
  };
  auto a = run("write_errors=10%,seed=1");
  auto b = run("write_errors=10%,seed=1");
  auto c = run("write_errors=10%,seed=2");
  CAF_CHECK(a == b);
  CAF_CHECK(a != c);
  auto n = std::count(a.begin(), a.end(), true);
  CAF_CHECK(n > 850 && n < 1150); // 10% of 10000, within a few standard deviations
  auto all = run("write_errors=100%");
  CAF_CHECK(std::count(all.begin(), all.end(), true) == 10000);
}

CAF_TEST(disk full errors are told from others) {
  CAF_CHECK(is_disk_full_error("cannot write x: No space left on device"));
  CAF_CHECK(is_disk_full_error("cannot write x: Read-only file system"));
  CAF_CHECK(!is_disk_full_error("cannot write x: Input/output error"));
}
