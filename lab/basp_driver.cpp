#include "lab/basp_driver.hpp"

#include <thread>

namespace actorrent::lab {

basp_driver::basp_driver(std::shared_ptr<coordinator> coord, std::size_t peer, std::string name, std::string host,
                         std::uint16_t port, std::unique_ptr<peer_driver> proc)
  : coord_(std::move(coord)), peer_(peer), name_(std::move(name)), host_(std::move(host)), port_(port),
    proc_(std::move(proc)) {}

status basp_driver::start() {
  if (auto ok = proc_->start(); !ok)
    return ok;
  // the coordinator connects as soon as the peer has published (it retries every second)
  coord_->add_peer(peer_, name_, host_, port_);
  return {};
}

void basp_driver::request_stop() {
  // a clean stop over BASP (the torrent announces `stopped`, exit 0), asked
  // without waiting so that every peer stops at once; stop() falls back on
  // the backend driver's SIGINT
  // (called again while it still runs: the process driver's signal)
  if (!stop_asked_ && coord_->latest(peer_).connected) {
    stop_asked_ = true;
    coord_->request_stop(peer_);
    return;
  }
  escalated_ = true;
  proc_->request_stop();
}

void basp_driver::stop() {
  // a peer asked over BASP gets a few seconds to end on its own first (the
  // runner's shutdown waits for all peers at once and escalates itself)
  for (int i = 0; stop_asked_ && !escalated_ && i < 40 && proc_->running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  proc_->stop();
  // no more connects to it: in a container, its address is gone and a connect
  // would hold the coordinator's middleman until it times out
  coord_->retire(peer_);
}

void basp_driver::pause(bool on) { proc_->pause(on); }

void basp_driver::kill() {
  coord_->forget(peer_);
  proc_->kill();
}

status basp_driver::restart() {
  if (auto ok = proc_->restart(); !ok)
    return ok;
  coord_->forget(peer_); // the restarted process is a new node
  coord_->add_peer(peer_, name_, host_, port_);
  return {};
}

peer_sample basp_driver::sample() {
  auto s = proc_->sample(); // running, paused, memory, crash detection
  auto own = std::move(s.progress); // the last JSON line the peer printed
  auto e = coord_->latest(peer_);
  s.progress.reset();
  s.source = "basp";
  if (e.progress && e.age_s >= 0 && e.age_s < 3.0) {
    s.progress = e.progress;
  } else {
    s.sample_error = e.error.empty() ? (e.connected ? "no sample yet" : "not connected yet") : e.error;
  }
  // a peer that has ended printed its final figures (the "stopped" line) after
  // its last BASP sample, whose counters may lag its pieces by a stats tick:
  // those figures win, what only BASP carries (node, state, faults) stays
  if (!s.running && own && own->is_object()) {
    auto merged = s.progress && s.progress->is_object() ? *s.progress : nlohmann::json::object();
    for (auto& [key, value] : own->items())
      merged[key] = value;
    s.progress = std::move(merged);
    s.sample_error.reset();
    s.source = "basp+stdout";
  }
  return s;
}

result<bool> basp_driver::set_fault(fault_layer layer, const std::string& spec) {
  // a peer still starting (or restarting) has not published yet: give the
  // coordinator's connect (retried every second) a few seconds, bounded
  for (int i = 0; i < 50 && !coord_->latest(peer_).connected && proc_->sample().running; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  return coord_->set_fault(peer_, layer, spec);
}

std::optional<nlohmann::json> basp_driver::sample_now() {
  auto s = coord_->sample_now(peer_);
  if (!s)
    return std::nullopt;
  return *s;
}

} // namespace actorrent::lab
