#include "app/shutdown.hpp"

#include <cstdio>

#include <unistd.h>

namespace actorrent::app {

volatile std::sig_atomic_t stop_signal = 0;
volatile std::sig_atomic_t hup_signal = 0;

namespace {

extern "C" void on_stop_signal(int sig) { stop_signal = sig; }
extern "C" void on_hup_signal(int) { hup_signal = 1; }

void catch_signal(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, nullptr);
}

} // namespace

void install_stop_signals(bool catch_hup) {
  catch_signal(SIGINT, on_stop_signal);
  catch_signal(SIGTERM, on_stop_signal);
  if (catch_hup)
    catch_signal(SIGHUP, on_hup_signal);
}

shutdown_watchdog::shutdown_watchdog(int exit_code, std::chrono::seconds grace, std::string warning)
  : thread_([this, exit_code, grace, warning = std::move(warning)] {
      std::unique_lock<std::mutex> guard{mtx_};
      if (!cv_.wait_for(guard, grace, [this] { return done_; })) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s\n", warning.c_str());
        std::fflush(stderr);
        ::_exit(exit_code);
      }
    }) {}

shutdown_watchdog::~shutdown_watchdog() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

} // namespace actorrent::app
