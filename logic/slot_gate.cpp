#include "logic/slot_gate.hpp"

#include <utility>

namespace actorrent::logic {

gate_slot::~gate_slot() { gate_->release(); }

std::shared_ptr<slot_gate> slot_gate::make(std::size_t capacity) {
  return std::make_shared<slot_gate>(capacity);
}

void slot_gate::acquire(const std::string& key, grant_fn grant) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& q = queues_[key];
    if (q.empty())
      turns_.push_back(key);
    q.push_back(std::move(grant));
    ++waiting_;
  }
  serve();
}

void slot_gate::set_capacity(std::size_t capacity) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    capacity_ = capacity < 1 ? 1 : capacity;
  }
  serve();
}

std::size_t slot_gate::capacity() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return capacity_;
}

std::size_t slot_gate::in_use() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return in_use_;
}

std::size_t slot_gate::waiting() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return waiting_;
}

std::size_t slot_gate::granted() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return granted_;
}

void slot_gate::release() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    --in_use_;
  }
  serve();
}

// One thread serves at a time, in a loop rather than by recursion: a callback
// that drops its slot at once (its owner is gone) releases it from inside this
// loop, and thousands of such waiters in a row must not nest thousands deep.
void slot_gate::serve() {
  std::unique_lock<std::mutex> guard{mtx_};
  if (serving_)
    return; // the serving thread sees the change when it looks again
  serving_ = true;
  while (in_use_ < capacity_ && !turns_.empty()) {
    auto key = std::move(turns_.front());
    turns_.pop_front();
    auto it = queues_.find(key);
    auto grant = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty())
      queues_.erase(it);
    else
      turns_.push_back(std::move(key));
    --waiting_;
    ++in_use_;
    ++granted_;
    guard.unlock();
    try {
      grant(std::make_shared<const gate_slot>(shared_from_this()));
    } catch (...) {
      // a callback that throws loses its turn; its token, destroyed on the
      // way out, gave the slot back
    }
    grant = nullptr; // what it holds goes outside the lock
    guard.lock();
  }
  serving_ = false;
}

} // namespace actorrent::logic
