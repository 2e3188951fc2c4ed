// How the lab runner drives one peer: start, stop, pause, kill/restart for
// churn, one sample a second, and wire/disk faults. process_driver runs a peer
// as a process in its namespace and reads its JSON lines (libtorrent peers);
// basp_driver (lab/basp_driver.hpp) supervises an actorrent peer's process the
// same way but samples it and sets its faults over BASP, through the
// coordinator (lab/coordinator.hpp).
#pragma once

#include "lab/coordinator.hpp"
#include "lab/process.hpp"
#include "protocol/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace actorrent::lab {

/// What the runner knows of a peer at one moment.
struct peer_sample {
  bool running = false;
  bool paused = false;
  std::optional<nlohmann::json> progress; ///< the peer's last progress object, if any
  std::optional<std::uint64_t> rss_bytes;
  std::string source = "stdout";          ///< where `progress` came from: the JSON lines, "basp", or "basp+stdout" (an ended peer: its final line over its last BASP sample)
  std::optional<std::string> sample_error; ///< why there is no progress now (basp)
};

class peer_driver {
public:
  virtual ~peer_driver() = default;
  virtual status start() = 0;
  /// Asks the peer to stop without waiting (so many peers stop at once).
  virtual void request_stop() = 0;
  /// Asks the peer to stop (it announces "stopped"), then forces it; never blocks
  /// for more than a few seconds.
  virtual void stop() = 0;
  /// Whether the peer's process (or container) still runs: cheap, no sampling.
  virtual bool running() = 0;
  virtual void pause(bool on) = 0;
  /// Churn: kill it now (not a crash) / start it again, resuming its data.
  virtual void kill() = 0;
  virtual status restart() = 0;
  virtual peer_sample sample() = 0;
  /// Set once the peer ended in a way the runner did not cause.
  virtual std::optional<std::string> crash() const = 0;
  /// The highest resident set seen (VmHWM), if known.
  virtual std::optional<std::uint64_t> peak_rss() const = 0;
  /// Whether the peer needed SIGKILL to stop.
  virtual bool forced() const = 0;
  /// Turns a wire or disk fault on (a spec) or off (""): what the peer
  /// answered. Only actorrent peers driven over BASP can.
  virtual result<bool> set_fault(fault_layer, const std::string&) {
    return make_error("only actorrent peers under the coordinator take wire and disk faults");
  }
  /// A fresh sample now, when the driver can ask for one (BASP).
  virtual std::optional<nlohmann::json> sample_now() { return std::nullopt; }
};

/// A peer run as a command (inside its namespace) whose stdout is JSON progress
/// lines, one a second.
class process_driver : public peer_driver {
public:
  process_driver(argv_t argv, std::string out_file, std::string err_file);
  ~process_driver() override;
  status start() override;
  void request_stop() override;
  void stop() override;
  bool running() override { return proc_.pid > 0 && proc_.poll(); }
  void pause(bool on) override;
  void kill() override;
  status restart() override;
  peer_sample sample() override;
  std::optional<std::string> crash() const override { return crash_; }
  std::optional<std::uint64_t> peak_rss() const override { return peak_rss_; }
  bool forced() const override { return forced_; }

private:
  void check_exit();
  void read_lines();
  argv_t argv_;
  std::string out_file_, err_file_;
  child_process proc_;
  bool paused_ = false;
  bool killed_by_us_ = false;
  bool stopping_ = false;
  bool stop_sent_ = false;
  bool forced_ = false;
  std::optional<std::string> crash_;
  std::optional<std::uint64_t> peak_rss_;
  std::uint64_t read_offset_ = 0;
  std::string partial_;
  std::optional<nlohmann::json> last_;
};

/// Reads what was appended to `file` since `offset` and keeps the last complete
/// JSON object line in `last` (`partial`: an unfinished line, kept for the next call).
void read_json_lines(const std::string& file, std::uint64_t& offset, std::string& partial,
                     std::optional<nlohmann::json>& last);

/// VmHWM of a process from /proc, in bytes.
std::optional<std::uint64_t> read_peak_rss(pid_t pid);

} // namespace actorrent::lab
