// `actorrent lab run`: builds the lab network for a resolved plan, starts the
// tracker and the peers, applies the fault timeline, samples every peer once a
// second into OUT/samples.jsonl, checks the oracles, writes OUT/report.json and
// tears everything down (normal end, error, Ctrl-C). Peers are driven through
// lab/driver.hpp; actorrent peers over BASP by the coordinator
// (lab/coordinator.hpp), whose CAF threads live in the bridge's namespace.
#pragma once

#include "lab/plan.hpp"

#include <iosfwd>
#include <string>

namespace actorrent::lab {

struct run_options {
  std::string out_dir;
  std::string actorrent;  ///< the actorrent binary the peers run
  std::string plan_text;  ///< for the report's sha256
  bool dry_run = false;
  std::string commit;       ///< the binary's commit (build_info.hpp), for report.json
  std::string baseline_dir; ///< --baseline: the fault-free run's OUT/baseline (slowdown, report.json "baseline")
  std::string backend = "netns";           ///< where the peers live: netns or docker (lab/backend.hpp)
  std::string docker_image = "actorrent:latest";
  std::string docker_lab_image = "actorrent-lab:latest";
};

/// Parts of a plan `lab run` cannot carry out yet; empty when it can run it.
std::string unsupported_parts(const resolved_plan& rp);

/// Prints what a run would do (namespaces, links, tracker, peers, the fault
/// timeline with its commands, teardown), starting nothing.
void print_dry_run(const resolved_plan& rp, const run_options& opt, std::ostream& out);

/// Runs the experiment. Returns 0 when every oracle holds, 1 when one fails or
/// the run could not be carried out (the message says why); progress and
/// errors go to `log`.
int run_plan(const resolved_plan& rp, const run_options& opt, std::ostream& log);

/// Installs SIGINT/SIGTERM/SIGHUP handlers that ask a running lab to stop
/// (the runner polls the flag and tears down).
void install_stop_handlers();

/// Whether a stop signal arrived (then a --baseline run does not go on to the real one).
bool stop_requested();

} // namespace actorrent::lab
