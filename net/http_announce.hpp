// The HTTP(S) announce transport over libcurl (see net/announce_transport.hpp).
#pragma once

#include "net/announce_transport.hpp"

namespace actorrent::net {

/// Initialises libcurl once per process (thread-safe; http_announce calls it).
void init_curl_once();

/// One HTTP(S) announce. Errors: "bad tracker url: ...", curl's text,
/// "timed out after N ms", "response larger than N bytes", "http status N",
/// "tracker failure: <reason>" (also with a non-200 status), "bad tracker
/// response: ...", "cancelled".
announce_answer http_announce(const announce_params& p, const std::atomic<bool>* cancel = nullptr);

} // namespace actorrent::net
