#define CAF_SUITE lab_driver
#include <caf/test/unit_test.hpp>

#include "lab/driver.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <unistd.h>

using namespace actorrent;
using namespace actorrent::lab;

namespace {

/// A scratch folder under /tmp, removed with its files at the end.
struct scratch {
  std::string dir;
  scratch() {
    char name[] = "/tmp/actorrent-lab-driver-XXXXXX";
    CAF_REQUIRE(::mkdtemp(name) != nullptr);
    dir = name;
  }
  ~scratch() {
    for (auto f : {"/out", "/err"})
      ::unlink((dir + f).c_str());
    ::rmdir(dir.c_str());
  }
};

/// Samples until `pred` holds (at most 5 s).
template <class Pred>
peer_sample sample_until(process_driver& d, Pred pred) {
  peer_sample s;
  for (int i = 0; i < 250; ++i) {
    s = d.sample();
    if (pred(s))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return s;
}

} // namespace

CAF_TEST(progress lines are read and a stop is not a crash) {
  scratch tmp;
  // prints two JSON lines (and a partial one), then waits to be stopped
  process_driver d({"sh", "-c", "echo '{\"complete\":false}'; echo 'not json'; echo '{\"complete\":true,\"banned\":0}';"
                                 " printf '{\"comp'; exec sleep 30"},
                   tmp.dir + "/out", tmp.dir + "/err");
  CAF_REQUIRE(d.start().ok());
  auto s = sample_until(d, [](const peer_sample& x) { return x.progress && x.progress->value("complete", false); });
  CAF_CHECK(s.running);
  CAF_REQUIRE(s.progress.has_value());
  CAF_CHECK_EQUAL(s.progress->value("complete", false), true);
  CAF_CHECK(s.rss_bytes.has_value());
  d.pause(true);
  CAF_CHECK(d.sample().paused);
  d.pause(false);
  d.request_stop();
  d.stop(); // sh -c ... exec sleep: SIGINT ends it
  CAF_CHECK(!d.sample().running);
  CAF_CHECK(!d.crash().has_value());
  CAF_CHECK(!d.forced());
  CAF_CHECK(d.peak_rss().has_value());
}

CAF_TEST(a peer that dies on its own is a crash) {
  scratch tmp;
  process_driver segv({"sh", "-c", "kill -SEGV $$"}, tmp.dir + "/out", tmp.dir + "/err");
  CAF_REQUIRE(segv.start().ok());
  sample_until(segv, [](const peer_sample& x) { return !x.running; });
  auto segv_crash = segv.crash();
  CAF_REQUIRE(segv_crash.has_value());
  CAF_CHECK_EQUAL(*segv_crash, "killed by signal 11");
  process_driver fails({"sh", "-c", "exit 3"}, tmp.dir + "/out", tmp.dir + "/err");
  CAF_REQUIRE(fails.start().ok());
  sample_until(fails, [](const peer_sample& x) { return !x.running; });
  auto fails_crash = fails.crash();
  CAF_REQUIRE(fails_crash.has_value());
  CAF_CHECK_EQUAL(*fails_crash, "exited with status 3 before the end of the run");
  process_driver done({"true"}, tmp.dir + "/out", tmp.dir + "/err");
  CAF_REQUIRE(done.start().ok());
  sample_until(done, [](const peer_sample& x) { return !x.running; });
  CAF_CHECK(!done.crash().has_value());
}

CAF_TEST(churn kills without a crash and restarts) {
  scratch tmp;
  process_driver d({"sleep", "30"}, tmp.dir + "/out", tmp.dir + "/err");
  CAF_REQUIRE(d.start().ok());
  CAF_CHECK(!d.restart().ok()); // still running
  d.kill();
  CAF_CHECK(!d.sample().running);
  CAF_CHECK(!d.crash().has_value());
  CAF_REQUIRE(d.restart().ok());
  CAF_CHECK(d.sample().running);
  d.stop();
  CAF_CHECK(!d.sample().running);
  CAF_CHECK(!d.crash().has_value());
}

CAF_TEST(a peer that ignores SIGINT is forced) {
  scratch tmp;
  process_driver d({"sh", "-c", "trap '' INT; exec sleep 30"}, tmp.dir + "/out", tmp.dir + "/err");
  CAF_REQUIRE(d.start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  d.stop(); // 8 s grace, then SIGKILL
  auto waited = std::chrono::steady_clock::now() - t0;
  CAF_CHECK(waited >= std::chrono::seconds(7));
  CAF_CHECK(d.forced());
  CAF_CHECK(!d.sample().running);
  CAF_CHECK(!d.crash().has_value());
}
