// The UDP announce transport of BEP 15 (see net/announce_transport.hpp).
#pragma once

#include "net/announce_transport.hpp"
#include "protocol/result.hpp"
#include "protocol/tracker_udp.hpp"

#include <chrono>
#include <random>
#include <vector>

namespace actorrent::net {

/// One request/response exchange with a UDP tracker at a time, on a connected
/// datagram socket, each packet retransmitted after rto, 2 rto, 4 rto ... up
/// to `max_tries` packets, the whole bounded by one deadline.
class udp_transaction {
public:
  using clock = std::chrono::steady_clock;

  /// Resolves the host of `url` (udp://host:port[/path]) and connects a socket
  /// to the first usable address. The deadline starts now.
  static result<udp_transaction> open(const std::string& url, std::uint32_t timeout_ms, int max_tries,
                                      const std::atomic<bool>* cancel);

  udp_transaction(udp_transaction&&) noexcept;
  udp_transaction& operator=(udp_transaction&&) noexcept;
  ~udp_transaction();

  /// Sends `packet` until the answer carrying `tid` arrives (other packets are
  /// ignored) and decodes it as `expected`; errors: "tracker error: ..." (the
  /// tracker's error packet), "connection refused", "timed out after N ms
  /// (udp ACTION, K tries)", "cancelled", socket errors.
  result<tracker::udp::response> exchange(const std::string& packet, std::uint32_t tid,
                                          tracker::udp::action expected);

  /// connect (unless `connection_id` is cached) and announce; a cached id the
  /// tracker rejects is replaced by one fresh connect while time is left.
  announce_answer announce(const tracker::announce_request& req, std::uint64_t connection_id,
                           std::uint64_t rng_seed);

  bool expired() const { return clock::now() >= deadline_; }

private:
  udp_transaction() = default;
  int fd_ = -1;
  address_family family_ = address_family::v4;
  std::string request_string_; ///< BEP 41 URL data
  clock::time_point deadline_;
  const std::atomic<bool>* cancel_ = nullptr;
  int max_tries_ = 4;
  std::chrono::milliseconds rto_{1000};
  std::uint32_t timeout_ms_ = 0;
  std::vector<char> buf_;
};

/// One UDP announce: open() then announce().
announce_answer udp_announce(const announce_params& p, const std::atomic<bool>* cancel = nullptr);

} // namespace actorrent::net
