// Helpers shared by the unit tests.
#pragma once

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace actorrent::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Tests skipped so far, and the note of one (prints "SKIPPED: <test>: why"); in main.cpp.
extern std::atomic<int> skipped_tests;
void note_skip(const std::string& why);

/// Whether f throws std::invalid_argument (CAF 0.17 has no CHECK_THROWS).
template <class F>
bool throws_invalid(F f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

/// Directory with the shared conformance corpus (../shared beside the checkout).
inline std::string shared_dir() {
  if (auto env = std::getenv("ACTORRENT_SHARED_DIR"))
    return env;
  return ACTORRENT_SHARED_DIR;
}

} // namespace actorrent::test

/// Ends the running test as skipped: it cannot run on this machine (no IPv6
/// loopback, a program missing). Use only for what the machine lacks, never to
/// step around a failure. The binary then exits 77 unless a check failed, and
/// ctest reports the entry as skipped (tests/CMakeLists.txt).
#define ACTORRENT_SKIP(why)                                                                        \
  do {                                                                                             \
    ::actorrent::test::note_skip(why);                                                             \
    return;                                                                                        \
  } while (false)
