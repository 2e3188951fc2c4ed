#include "app/format.hpp"

#include <cstdio>
#include <unistd.h>

namespace actorrent::app {

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(units)) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<std::uint64_t>(v)))
    std::snprintf(buf, sizeof(buf), "%.0f %s", v, units[u]); // exact: "256 KiB"
  else
    std::snprintf(buf, sizeof(buf), v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

void print_error(const std::string& msg) { std::fprintf(stderr, "actorrent: error: %s\n", msg.c_str()); }

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

} // namespace actorrent::app
