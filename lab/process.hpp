// Running the lab's helper programs (ip, tc, iptables, actorrent, opentracker)
// with fork/exec and argument vectors: no shell, so nothing from a plan is ever
// parsed as shell syntax. CAF-free.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace actorrent::lab {

using argv_t = std::vector<std::string>;

/// "ip -n x link set ..." for logs and dry runs (arguments with spaces or
/// quotes are single-quoted).
std::string printable(const argv_t& argv);

struct command_result {
  int exit_code = -1;      ///< -1: could not start, or killed by a signal
  std::string output;      ///< stdout and stderr together (at most 64 KiB kept)
};

/// Runs argv to completion (at most `limit`; then SIGKILL) and returns its exit
/// code and output.
command_result run_command(const argv_t& argv, std::chrono::milliseconds limit = std::chrono::seconds(30));

/// A program started in the background, in its own process group (a Ctrl-C at
/// the terminal reaches the lab runner only, which stops it by PID).
struct child_process {
  pid_t pid = -1;
  bool exited = false;
  int status = 0; ///< waitpid status once exited

  /// Starts argv with stdout and stderr appended to the given files ("" :
  /// /dev/null). Returns false (with `error` set) if it could not start.
  bool start(const argv_t& argv, const std::string& out_file, const std::string& err_file, std::string& error);
  /// Non-blocking check; true while it runs.
  bool poll();
  /// Sends `sig` if it still runs.
  void signal(int sig);
  /// Sends `sig` to its whole process group (it and what it started, e.g. the
  /// client a driver script runs) if it still runs.
  void signal_group(int sig);
  /// Sends `first` (0: none, it was sent before), waits up to `grace`, then
  /// SIGKILL; always reaps.
  void stop(int first, std::chrono::milliseconds grace);
  /// "exit 0", "killed by signal 9".
  std::string describe_status() const;
};

} // namespace actorrent::lab
