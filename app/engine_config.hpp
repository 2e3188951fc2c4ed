// From the settings list (logic/settings.hpp) into the actors' configs: the
// one place that knows which tunable goes where.
#pragma once

#include "actors/listener.hpp"
#include "actors/torrent.hpp"
#include "logic/settings.hpp"

namespace actorrent::app {

/// Sets every tunable of `tc` (its own fields, the choker's, and the
/// templates of its children's configs) from `s`; leaves the rest of `tc`.
void apply_settings(const logic::settings& s, torrent_config& tc);

/// Sets the listener's tunables from `s`.
void apply_settings(const logic::settings& s, listener_config& lc);

} // namespace actorrent::app
