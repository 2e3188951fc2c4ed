#include "lab/delayer.hpp"

#include "lab/delay_line.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#ifdef ACTORRENT_HAVE_NFQUEUE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}
#endif

namespace actorrent::lab {

bool delayer_available() {
#ifdef ACTORRENT_HAVE_NFQUEUE
  return true;
#else
  return false;
#endif
}

#ifndef ACTORRENT_HAVE_NFQUEUE

int run_delayer(const delayer_options&, std::ostream& err) {
  err << "actorrent: this binary was built without libnetfilter_queue (Debian's libnetfilter-queue-dev): "
         "no userspace delayer\n";
  return 1;
}

#else

namespace {

std::atomic<int> g_stop{0};

void delayer_stop_signal(int sig) { g_stop.store(sig); }

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// FNV-1a over the bytes naming a packet's flow: protocol, addresses and (TCP,
/// UDP) ports, read from the first bytes of the IPv4 or IPv6 header.
std::uint64_t flow_key(const unsigned char* p, int len) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](const unsigned char* b, int n) {
    for (int i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  };
  if (len < 1)
    return h;
  int version = p[0] >> 4;
  int l4 = -1, proto = -1;
  if (version == 4 && len >= 20) {
    proto = p[9];
    mix(p + 9, 1);
    mix(p + 12, 8);
    l4 = (p[0] & 0x0f) * 4;
  } else if (version == 6 && len >= 40) {
    proto = p[6];
    mix(p + 6, 1);
    mix(p + 8, 32);
    l4 = 40;
  }
  if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && l4 > 0 && len >= l4 + 4)
    mix(p + l4, 4);
  return h;
}

struct delayer_state {
  delay_line line;
  nfq_q_handle* qh = nullptr;
  std::uint64_t verdict_errors = 0;
  std::uint64_t enobufs = 0;
  std::vector<std::uint32_t> due;
};

int on_packet(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void* data) {
  auto& st = *static_cast<delayer_state*>(data);
  auto* hdr = nfq_get_msg_packet_hdr(nfa);
  if (hdr == nullptr)
    return 0;
  auto id = ntohl(hdr->packet_id);
  unsigned char* payload = nullptr;
  int len = nfq_get_payload(nfa, &payload);
  auto flow = flow_key(payload, payload != nullptr ? len : 0);
  if (!st.line.admit(id, flow, now_us()))
    if (nfq_set_verdict(qh, id, NF_DROP, 0, nullptr) < 0)
      ++st.verdict_errors;
  return 0;
}

void release(delayer_state& st, bool all) {
  st.due.clear();
  if (all)
    st.line.take_all(now_us(), st.due);
  else
    st.line.take_due(now_us(), st.due);
  for (auto id : st.due)
    if (nfq_set_verdict(st.qh, id, NF_ACCEPT, 0, nullptr) < 0)
      ++st.verdict_errors;
}

void write_stats(const delayer_options& opt, const delayer_state& st, bool final) {
  if (opt.stats_file.empty())
    return;
  auto& l = st.line;
  nlohmann::json j{{"ready", true},
                   {"final", final},
                   {"delay_ms", opt.delay_ms},
                   {"jitter_ms", opt.jitter_ms},
                   {"limit", opt.limit},
                   {"delayed", l.delayed()},
                   {"dropped", l.dropped()},
                   {"held", l.held()},
                   {"max_held", l.max_held()},
                   {"order_waits", l.order_waits()},
                   {"mean_hold_ms", l.delayed() ? static_cast<double>(l.total_hold_us()) / 1000.0 / l.delayed() : 0.0},
                   {"max_hold_ms", static_cast<double>(l.max_hold_us()) / 1000.0},
                   {"enobufs", st.enobufs},
                   {"verdict_errors", st.verdict_errors}};
  auto tmp = opt.stats_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
  }
  std::rename(tmp.c_str(), opt.stats_file.c_str());
}

} // namespace

int run_delayer(const delayer_options& opt, std::ostream& err) {
  delay_line_config cfg;
  cfg.delay_us = opt.delay_ms * 1000;
  cfg.jitter_us = opt.jitter_ms * 1000;
  cfg.capacity = opt.limit;
  delayer_state st{delay_line(cfg, opt.seed, "delay-" + opt.name), nullptr, 0, 0, {}};

  struct sigaction sa {};
  sa.sa_handler = delayer_stop_signal; // no SA_RESTART: poll() returns EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    err << "actorrent lab delayer: nfq_open failed: " << std::strerror(errno)
        << " (is nfnetlink_queue in this kernel?)\n";
    return 1;
  }
  nfq_bind_pf(h, AF_INET); // needed by old kernels only; newer ones ignore it
  st.qh = nfq_create_queue(h, static_cast<std::uint16_t>(opt.queue), &on_packet, &st);
  if (st.qh == nullptr) {
    err << "actorrent lab delayer: cannot bind NFQUEUE " << opt.queue << ": " << std::strerror(errno)
        << " (another program holds it, or the kernel has no nfnetlink_queue)\n";
    nfq_close(h);
    return 1;
  }
  // 64 bytes of each packet: enough for the flow's addresses and ports
  if (nfq_set_mode(st.qh, NFQNL_COPY_PACKET, 64) < 0) {
    err << "actorrent lab delayer: cannot set the copy mode: " << std::strerror(errno) << "\n";
    nfq_destroy_queue(st.qh);
    nfq_close(h);
    return 1;
  }
  // the kernel holds what we hold, plus what waits in the socket: a little more
  // than our limit, so that our counter (not the kernel) drops at a full line
  nfq_set_queue_maxlen(st.qh, static_cast<std::uint32_t>(opt.limit + 256));
  // whole GSO packets, not segmented for us (we never change them)
  nfq_set_queue_flags(st.qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 8u << 20);
  int fd = nfq_fd(h);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  write_stats(opt, st, false); // ready

  std::vector<char> buf(256 * 1024);
  auto next_stats = now_us() + 1'000'000;
  while (g_stop.load() == 0) {
    auto now = now_us();
    std::uint64_t wake = next_stats;
    if (auto r = st.line.next_release(); r && *r < wake)
      wake = *r;
    // poll's resolution is a millisecond: round up, never 0 while nothing is due
    int timeout_ms = wake > now ? static_cast<int>((wake - now + 999) / 1000) : 0;
    pollfd pfd{fd, POLLIN, 0};
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
      err << "actorrent lab delayer: poll: " << std::strerror(errno) << "\n";
      break;
    }
    if (n > 0 && (pfd.revents & POLLIN) != 0) {
      for (int burst = 0; burst < 256; ++burst) { // bounded: releases are due between reads too
        auto got = ::recv(fd, buf.data(), buf.size(), 0);
        if (got < 0) {
          if (errno == ENOBUFS) { // the kernel could not tell us of some packets; they wait in its queue
            ++st.enobufs;
            continue;
          }
          break; // EAGAIN: read all
        }
        nfq_handle_packet(h, buf.data(), static_cast<int>(got));
      }
    }
    release(st, false);
    if (now_us() >= next_stats) {
      write_stats(opt, st, false);
      next_stats = now_us() + 1'000'000;
    }
  }
  release(st, true); // what is held leaves now
  nfq_destroy_queue(st.qh);
  nfq_close(h);
  write_stats(opt, st, true);
  return 0;
}

#endif

} // namespace actorrent::lab
