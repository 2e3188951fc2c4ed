#include "lab/driver.hpp"

#include <csignal>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

namespace actorrent::lab {

std::optional<std::uint64_t> read_peak_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      std::uint64_t kib = 0;
      if (fields >> kib)
        return kib * 1024;
    }
  return std::nullopt;
}

process_driver::process_driver(argv_t argv, std::string out_file, std::string err_file)
  : argv_(std::move(argv)), out_file_(std::move(out_file)), err_file_(std::move(err_file)) {}

process_driver::~process_driver() { stop(); }

status process_driver::start() {
  std::string err;
  if (!proc_.start(argv_, out_file_, err_file_, err))
    return make_error(err);
  killed_by_us_ = false;
  paused_ = false;
  stop_sent_ = false;
  return {};
}

void process_driver::check_exit() {
  if (proc_.pid <= 0 || proc_.poll() || killed_by_us_ || stopping_ || crash_)
    return;
  // it ended on its own: fine with exit 0, a crash otherwise
  if (WIFSIGNALED(proc_.status))
    crash_ = "killed by signal " + std::to_string(WTERMSIG(proc_.status));
  else if (WIFEXITED(proc_.status) && WEXITSTATUS(proc_.status) != 0)
    crash_ = "exited with status " + std::to_string(WEXITSTATUS(proc_.status)) + " before the end of the run";
}

void process_driver::request_stop() {
  if (proc_.pid <= 0 || stop_sent_)
    return;
  stopping_ = true;
  if (proc_.poll()) {
    if (auto rss = read_peak_rss(proc_.pid); rss && (!peak_rss_ || *rss > *peak_rss_))
      peak_rss_ = rss;
    proc_.signal(SIGCONT); // a paused peer must be able to act on it
    proc_.signal(SIGINT);
    stop_sent_ = true;
  }
}

void process_driver::stop() {
  if (proc_.pid <= 0)
    return;
  stopping_ = true;
  if (proc_.poll()) {
    if (auto rss = read_peak_rss(proc_.pid); rss && (!peak_rss_ || *rss > *peak_rss_))
      peak_rss_ = rss;
    // past actorrent's own 5 s shutdown watchdog
    proc_.stop(stop_sent_ ? 0 : SIGINT, std::chrono::seconds(8));
    forced_ = forced_ || (WIFSIGNALED(proc_.status) && WTERMSIG(proc_.status) == SIGKILL);
    if (WIFSIGNALED(proc_.status) && WTERMSIG(proc_.status) != SIGKILL && WTERMSIG(proc_.status) != SIGINT
        && !crash_)
      crash_ = "killed by signal " + std::to_string(WTERMSIG(proc_.status)) + " while stopping";
  } else {
    check_exit();
  }
  read_lines();
}

void process_driver::pause(bool on) {
  if (!proc_.poll())
    return;
  proc_.signal_group(on ? SIGSTOP : SIGCONT); // a driver script's client too
  paused_ = on;
}

void process_driver::kill() {
  if (!proc_.poll())
    return;
  killed_by_us_ = true;
  proc_.signal_group(SIGKILL); // a driver script's client too
  int st = 0;
  ::waitpid(proc_.pid, &st, 0);
  proc_.exited = true;
  proc_.status = st;
}

status process_driver::restart() {
  if (proc_.poll())
    return make_error("still running");
  return start();
}

void read_json_lines(const std::string& file, std::uint64_t& offset, std::string& partial,
                     std::optional<nlohmann::json>& last) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return;
  in.seekg(static_cast<std::streamoff>(offset));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset += chunk.size();
  partial += chunk;
  std::size_t start = 0;
  for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n', start)) {
    auto line = partial.substr(start, nl - start);
    start = nl + 1;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object())
      last = std::move(j);
  }
  partial.erase(0, start);
}

void process_driver::read_lines() { read_json_lines(out_file_, read_offset_, partial_, last_); }

peer_sample process_driver::sample() {
  peer_sample s;
  read_lines();
  s.running = proc_.poll();
  check_exit();
  if (s.running)
    if (auto rss = read_peak_rss(proc_.pid)) {
      s.rss_bytes = rss;
      if (!peak_rss_ || *rss > *peak_rss_)
        peak_rss_ = rss;
    }
  s.paused = paused_ && s.running;
  s.progress = last_;
  return s;
}

} // namespace actorrent::lab
