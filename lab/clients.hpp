// Real BitTorrent clients as lab peers besides libtorrent (lab/lt_peer.py):
// `kind: aria2c` (lab/aria2_peer.py drives aria2c over its JSON-RPC interface)
// and `kind: transmission` (lab/tr_peer.py runs transmission-cli and parses its
// console progress). Each driver prints the JSON progress fields of actorrent's
// --json-progress that its client can tell, one object a second. CAF-free.
#pragma once

#include "lab/plan.hpp"
#include "lab/process.hpp"

#include <string>

namespace actorrent::lab {

/// The command running peer `i` of kind aria2c or transmission (its driver
/// script with /usr/bin/python3), with data in `dir`.
argv_t real_client_argv(const resolved_plan& rp, std::size_t i, const std::string& torrent, const std::string& dir);

/// What `lab run` needs on this machine for the plan's peer kinds and does not
/// find (one line each, e.g. "group ar2: kind aria2c needs aria2c, not found
/// on PATH (Debian: apt-get install aria2)"); empty when everything is there.
/// `lab validate` does not call it: a plan is valid on any machine.
std::string missing_clients(const resolved_plan& rp);

} // namespace actorrent::lab
