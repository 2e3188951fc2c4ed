// The driver of an actorrent peer in the lab: its process is supervised by the
// backend's own driver (netns: process_driver, with SIGSTOP pause, kill and
// restart for churn, crash detection, memory from /proc; docker: the container's
// driver, with docker pause, kill and start), while its samples, fault windows
// and clean stop go over BASP through the coordinator (lab/coordinator.hpp) to
// the control actor the peer publishes (--control ADDRESS:7070).
#pragma once

#include "lab/coordinator.hpp"
#include "lab/driver.hpp"

#include <memory>

namespace actorrent::lab {

class basp_driver : public peer_driver {
public:
  basp_driver(std::shared_ptr<coordinator> coord, std::size_t peer, std::string name, std::string host,
              std::uint16_t port, std::unique_ptr<peer_driver> proc);
  status start() override;
  void request_stop() override;
  void stop() override;
  bool running() override { return proc_->running(); }
  void pause(bool on) override;
  void kill() override;
  status restart() override;
  /// The process's state, with the last BASP sample as the progress (none
  /// until the first one, or while it is older than 3 s: a paused or hung
  /// peer shows `sample_error`).
  peer_sample sample() override;
  /// Through the coordinator; waits up to 5 s for a peer not connected yet.
  result<bool> set_fault(fault_layer layer, const std::string& spec) override;
  std::optional<nlohmann::json> sample_now() override;
  std::optional<std::string> crash() const override { return proc_->crash(); }
  std::optional<std::uint64_t> peak_rss() const override { return proc_->peak_rss(); }
  bool forced() const override { return proc_->forced(); }

private:
  std::shared_ptr<coordinator> coord_;
  std::size_t peer_;
  std::string name_, host_;
  std::uint16_t port_;
  std::unique_ptr<peer_driver> proc_; ///< the process or container, from the backend
  bool stop_asked_ = false;
  bool escalated_ = false; ///< asked over BASP, then by signal
};

} // namespace actorrent::lab
