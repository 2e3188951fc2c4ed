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

/// CAF's scheduler for the commands that run the engine (download, seed,
/// daemon): "sharing" unless ACTORRENT_SCHED names another policy (e.g.
/// stealing). CAF's default work-stealing workers poll for work (100 tries,
/// then 500 with a 50 us sleep each) before they wait: four of them on two
/// cores spent 0.9-1.1 of the 2.3-2.6 CPU-s of a 256 MiB, 8-leecher seeding
/// run polling (issue 15; "moderate" polling off: 1.4-1.5 CPU-s), and a
/// daemon whose thousand idle torrents each wake now and then never let them
/// rest (15 % of a core). The sharing policy's workers wait on a condition
/// variable: 1.5 CPU-s.
void configure_scheduler(caf::actor_system_config& cfg);

} // namespace actorrent::app
