// Helpers shared by the unit tests.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

namespace actorrent::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Directory with the shared conformance corpus (../shared beside the checkout).
inline std::string shared_dir() {
  if (auto env = std::getenv("ACTORRENT_SHARED_DIR"))
    return env;
  return ACTORRENT_SHARED_DIR;
}

} // namespace actorrent::test
