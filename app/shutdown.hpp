// What `actorrent download` and `actorrent daemon` share to stop: the signal
// handlers (SIGINT/SIGTERM ask to stop, SIGHUP to reload) and a watchdog that
// ends the process when the actor system does not shut down in time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <string>
#include <thread>

namespace actorrent::app {

/// The last SIGINT or SIGTERM received (0: none), set by the handler.
extern volatile std::sig_atomic_t stop_signal;
/// 1 after a SIGHUP (when install_stop_signals was asked to catch it); the
/// reader resets it.
extern volatile std::sig_atomic_t hup_signal;

/// SIGINT and SIGTERM set stop_signal; with `catch_hup`, SIGHUP sets hup_signal.
void install_stop_signals(bool catch_hup);

/// While it lives, a thread waits `grace`; if the watchdog is not destroyed
/// by then, it prints `warning` on stderr and calls _exit(exit_code) (an actor
/// that never terminates would otherwise keep the process alive forever).
class shutdown_watchdog {
public:
  shutdown_watchdog(int exit_code, std::chrono::seconds grace, std::string warning);
  ~shutdown_watchdog();
  shutdown_watchdog(const shutdown_watchdog&) = delete;
  shutdown_watchdog& operator=(const shutdown_watchdog&) = delete;

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_; // last: starts after the members above exist
};

} // namespace actorrent::app
