#include "storage/mapped_file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 // Linux 5.14
#endif

namespace actorrent::storage {

namespace {

std::uintptr_t page_size() {
  static const auto n = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  return n;
}

// The SIGBUS guard of copy_mapped(): a thread inside a copy has `guard` set;
// the handler jumps back to it. A SIGBUS anywhere else goes to the handler
// that was there before (by default: the process dies, as without us).
thread_local sigjmp_buf* guard = nullptr;
struct sigaction previous {};

void on_sigbus(int sig, siginfo_t* info, void* ctx) {
  if (guard != nullptr)
    siglongjmp(*guard, 1);
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction != nullptr) {
      previous.sa_sigaction(sig, info, ctx);
      return;
    }
  } else if (previous.sa_handler != SIG_IGN && previous.sa_handler != SIG_DFL) {
    previous.sa_handler(sig);
    return;
  }
  // the default action (or ignoring it, which cannot work for a fault): put
  // back the default; returning re-runs the faulting access, which ends the process
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGBUS, &dfl, nullptr);
}

void install_guard() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &previous);
  });
}

} // namespace

std::shared_ptr<const file_mapping> file_mapping::map(int fd, std::uint64_t length) {
  if (length == 0 || length > static_cast<std::uint64_t>(SIZE_MAX))
    return nullptr;
  void* a = ::mmap(nullptr, static_cast<std::size_t>(length), PROT_READ, MAP_SHARED, fd, 0);
  if (a == MAP_FAILED)
    return nullptr;
  return std::shared_ptr<const file_mapping>(new file_mapping(a, length, ::fcntl(fd, F_DUPFD_CLOEXEC, 0)));
}

file_mapping::~file_mapping() {
  ::munmap(addr_, static_cast<std::size_t>(length_));
  if (fd_ >= 0)
    ::close(fd_);
}

bool populate_pages(const void* p, std::size_t n) {
  if (n == 0)
    return true;
  auto first = reinterpret_cast<std::uintptr_t>(p) & ~(page_size() - 1);
  auto last = reinterpret_cast<std::uintptr_t>(p) + n;
  for (;;) {
    if (::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_READ) == 0)
      return true;
    if (errno != EINTR)
      return false;
  }
}

bool resident_pages(const void* p, std::size_t n) {
  if (n == 0)
    return true;
  auto first = reinterpret_cast<std::uintptr_t>(p) & ~(page_size() - 1);
  auto last = reinterpret_cast<std::uintptr_t>(p) + n;
  unsigned char vec[256];
  for (auto at = first; at < last;) {
    auto pages = std::min<std::uintptr_t>((last - at + page_size() - 1) / page_size(), sizeof vec);
    if (::mincore(reinterpret_cast<void*>(at), pages * page_size(), vec) != 0)
      return false;
    for (std::uintptr_t i = 0; i < pages; ++i)
      if ((vec[i] & 1) == 0)
        return false;
    at += pages * page_size();
  }
  return true;
}

void release_pages(const void* p, std::size_t n) {
  auto first = (reinterpret_cast<std::uintptr_t>(p) + page_size() - 1) & ~(page_size() - 1);
  auto last = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(page_size() - 1);
  if (last > first)
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

bool copy_mapped(void* dst, const void* src, std::size_t n) {
  install_guard();
  sigjmp_buf here;
  if (sigsetjmp(here, 0) != 0) {
    guard = nullptr;
    return false;
  }
  guard = &here;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(dst, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  guard = nullptr;
  return true;
}

} // namespace actorrent::storage
