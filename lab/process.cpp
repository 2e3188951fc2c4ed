#include "lab/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace actorrent::lab {

std::string printable(const argv_t& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty())
      s.push_back(' ');
    bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                   "-_./:=%,+@") == std::string::npos;
    if (plain) {
      s += a;
    } else {
      s.push_back('\'');
      for (char c : a) {
        if (c == '\'')
          s += "'\\''";
        else
          s.push_back(c);
      }
      s.push_back('\'');
    }
  }
  return s;
}

namespace {

std::vector<char*> c_argv(const argv_t& argv) {
  std::vector<char*> v;
  for (const auto& a : argv)
    v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

/// In the child: resets the signals the runner handles, so programs start with defaults.
void child_defaults() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD})
    ::sigaction(sig, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

} // namespace

command_result run_command(const argv_t& argv, std::chrono::milliseconds limit) {
  command_result res;
  if (argv.empty())
    return res;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    res.output = std::string{"pipe: "} + std::strerror(errno);
    return res;
  }
  auto args = c_argv(argv);
  pid_t pid = ::fork();
  if (pid < 0) {
    res.output = std::string{"fork: "} + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return res;
  }
  if (pid == 0) {
    child_defaults();
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, 0);
    ::execvp(args[0], args.data());
    auto msg = std::string{"cannot run "} + argv[0] + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + limit;
  bool killed = false;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
      res.output += "\n(killed after " + std::to_string(limit.count()) + " ms)";
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, killed ? 1000 : static_cast<int>(std::max<long>(left.count(), 1)));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (killed)
        break;
      continue;
    }
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (res.output.size() < 65536)
      res.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return res;
}

bool child_process::start(const argv_t& argv, const std::string& out_file, const std::string& err_file,
                          std::string& error) {
  if (argv.empty()) {
    error = "empty command";
    return false;
  }
  auto open_out = [](const std::string& f) {
    return ::open(f.empty() ? "/dev/null" : f.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  };
  int out = open_out(out_file);
  int err = open_out(err_file);
  if (out < 0 || err < 0) {
    error = "cannot open " + (out < 0 ? out_file : err_file) + ": " + std::strerror(errno);
    if (out >= 0)
      ::close(out);
    if (err >= 0)
      ::close(err);
    return false;
  }
  auto args = c_argv(argv);
  pid_t p = ::fork();
  if (p < 0) {
    error = std::string{"fork: "} + std::strerror(errno);
    ::close(out);
    ::close(err);
    return false;
  }
  if (p == 0) {
    child_defaults();
    ::setpgid(0, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, 0);
    ::execvp(args[0], args.data());
    auto msg = std::string{"cannot run "} + argv[0] + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::setpgid(p, p); // also from the parent: no race with the first signal
  ::close(out);
  ::close(err);
  pid = p;
  exited = false;
  status = 0;
  return true;
}

bool child_process::poll() {
  if (pid <= 0 || exited)
    return false;
  int st = 0;
  auto r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    exited = true;
    status = st;
    return false;
  }
  return true;
}

void child_process::signal(int sig) {
  if (poll())
    ::kill(pid, sig);
}

void child_process::signal_group(int sig) {
  if (poll())
    ::kill(-pid, sig); // its own group: setpgid at start
}

void child_process::stop(int first, std::chrono::milliseconds grace) {
  if (!poll())
    return;
  if (first != 0) {
    ::kill(pid, SIGCONT); // a paused process must be able to act on `first`
    ::kill(pid, first);
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (poll() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (poll()) {
    ::kill(pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    exited = true;
    status = st;
  }
}

std::string child_process::describe_status() const {
  if (!exited)
    return "running";
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

} // namespace actorrent::lab
