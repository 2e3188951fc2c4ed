// `actorrent lab delayer` (hidden): the lab's userspace delayer for kernels
// without netem. Started by the lab runner inside one peer's network namespace,
// where an iptables rule sends the peer's incoming packets to NFQUEUE `queue`;
// it holds each packet (the verdict waits) until lab/delay_line.hpp releases it,
// then accepts it. It blocks in poll() with the next release as the timeout
// (no spinning), counts what it delayed and dropped into `stats_file` (JSON,
// rewritten once a second and at the end; first written once the queue is
// bound, which is how the runner knows it is ready), and on SIGTERM/SIGINT
// lets every held packet go, unbinds and exits 0. Built only where Debian's
// libnetfilter-queue-dev was found; elsewhere it says so and exits 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace actorrent::lab {

struct delayer_options {
  unsigned queue = 0;
  std::uint64_t delay_ms = 0, jitter_ms = 0;
  std::uint64_t seed = 0;
  std::string name;        ///< seeds the jitter draws with `seed` (the runner: the peer's name)
  std::size_t limit = 1000; ///< packets held at most; more are dropped and counted
  std::string stats_file;   ///< where the counters go ("" : nowhere)
};

/// Whether this binary was built with libnetfilter_queue.
bool delayer_available();

/// Runs until SIGTERM/SIGINT; 0 after a clean stop, 1 when the queue cannot be
/// bound (the reason on `err`).
int run_delayer(const delayer_options& opt, std::ostream& err);

} // namespace actorrent::lab
