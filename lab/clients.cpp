#include "lab/clients.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <unistd.h>

namespace actorrent::lab {

namespace fs = std::filesystem;

namespace {

/// A driver script of the source tree's lab/ ($ACTORRENT_LAB_SCRIPTS for another folder).
std::string lab_script(const std::string& name) {
  if (const char* env = std::getenv("ACTORRENT_LAB_SCRIPTS"); env != nullptr && *env != '\0')
    return std::string{env} + "/" + name;
  return std::string{ACTORRENT_LAB_DIR} + "/" + name;
}

bool on_path(const std::string& prog) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':'))
    if (!d.empty() && ::access((fs::path(d) / prog).c_str(), X_OK) == 0)
      return true;
  return false;
}

} // namespace

argv_t real_client_argv(const resolved_plan& rp, std::size_t i, const std::string& torrent, const std::string& dir) {
  const auto& peer = rp.peers[i];
  auto script = peer.kind == peer_kind::aria2c ? lab_script("aria2_peer.py") : lab_script("tr_peer.py");
  return {"/usr/bin/python3", script, std::string{to_string(peer.role)}, torrent, dir, std::to_string(peer.port)};
}

std::string missing_clients(const resolved_plan& rp) {
  std::string s;
  auto need = [&](const group_spec& g, const char* prog, const char* package) {
    if (!on_path(prog))
      s += "group " + g.name + ": kind " + std::string{to_string(g.kind)} + " needs " + prog
           + ", not found on PATH (Debian: apt-get install " + package + ")\n";
  };
  for (auto& g : rp.spec.groups) {
    switch (g.kind) {
      case peer_kind::actorrent:
        break;
      case peer_kind::libtorrent:
        if (run_command({"/usr/bin/python3", "-c", "import libtorrent"}, std::chrono::seconds(20)).exit_code != 0)
          s += "group " + g.name + ": kind libtorrent needs /usr/bin/python3 with the libtorrent module"
               " (Debian: apt-get install python3-libtorrent)\n";
        break;
      case peer_kind::aria2c:
        need(g, "aria2c", "aria2");
        if (::access("/usr/bin/python3", X_OK) != 0)
          s += "group " + g.name + ": kind aria2c needs /usr/bin/python3 for its driver\n";
        break;
      case peer_kind::transmission:
        need(g, "transmission-cli", "transmission-cli");
        if (::access("/usr/bin/python3", X_OK) != 0)
          s += "group " + g.name + ": kind transmission needs /usr/bin/python3 for its driver\n";
        break;
    }
  }
  return s;
}

} // namespace actorrent::lab
