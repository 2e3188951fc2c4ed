// FUZZ_CHECK(cond) / FUZZ_CHECK_MSG(cond, detail): aborts with the file, line and condition when an invariant
// of a fuzz target does not hold (libFuzzer then saves the input).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace actorrent::fuzz {

[[noreturn]] inline void violated(const char* file, int line, const char* what,
                                  const std::string& detail = {}) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
  if (!detail.empty())
    std::fprintf(stderr, "  %s\n", detail.c_str());
  std::abort();
}

} // namespace actorrent::fuzz

#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::actorrent::fuzz::violated(__FILE__, __LINE__, #cond);                                      \
  } while (false)

#define FUZZ_CHECK_MSG(cond, detail)                                                               \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::actorrent::fuzz::violated(__FILE__, __LINE__, #cond, detail);                              \
  } while (false)
