#include "storage/posix_util.hpp"

#include <cstring>

namespace actorrent::storage {

namespace {

// strerror_r comes in a GNU (returns char*) and an XSI (returns int) flavour.
[[maybe_unused]] const char* strerror_pick(const char* r, const char*) { return r; }
[[maybe_unused]] const char* strerror_pick(int r, const char* buf) { return r == 0 ? buf : "unknown error"; }

} // namespace

std::string errno_text(int e) {
  char buf[256] = {};
  return strerror_pick(::strerror_r(e, buf, sizeof buf), buf);
}

} // namespace actorrent::storage
