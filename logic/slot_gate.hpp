// A bound on how many of something run at once across a process, shared by
// many owners: the daemon's tracker announces (each one holds a blocking
// worker thread while it talks to a tracker, up to its timeout). Without it a
// restart of 5,000 torrents whose tracker never answers had 5,000 such
// threads alive at once.
//
// acquire() hands a slot to its callback at once if one is free, or later,
// when a slot comes back; waiters are served round-robin over their keys (the
// tracker's host), first come first served within a key, so that a tracker
// that never answers holds back only the torrents behind it, not the others.
// A slot is a token: it goes back when its last copy is destroyed, so a
// waiter that is gone by the time its turn comes (its callback drops the
// token) costs nothing. Thread-safe; callbacks run outside the gate's lock, on
// the thread that acquired or released, and should not throw (one that does
// loses its turn).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace actorrent::logic {

class slot_gate;

/// A slot of a slot_gate, held while it lives; gives its slot back when destroyed.
class gate_slot {
public:
  explicit gate_slot(std::shared_ptr<slot_gate> gate) : gate_(std::move(gate)) {}
  gate_slot(const gate_slot&) = delete;
  gate_slot& operator=(const gate_slot&) = delete;
  ~gate_slot();

private:
  std::shared_ptr<slot_gate> gate_;
};

class slot_gate : public std::enable_shared_from_this<slot_gate> {
public:
  using slot = gate_slot;
  using slot_ptr = std::shared_ptr<const gate_slot>;
  using grant_fn = std::function<void(slot_ptr)>;

  /// At most `capacity` slots out at once (at least 1).
  static std::shared_ptr<slot_gate> make(std::size_t capacity);

  /// `grant` gets a slot: now if one is free and nobody waits, else in turn.
  void acquire(const std::string& key, grant_fn grant);

  /// A new bound; more room serves waiters at once, less waits for slots to come back.
  void set_capacity(std::size_t capacity);

  std::size_t capacity() const;
  std::size_t in_use() const;  ///< slots out now
  std::size_t waiting() const; ///< callbacks not served yet
  std::size_t granted() const; ///< slots handed out since the start

  explicit slot_gate(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

private:
  friend class gate_slot;
  void release();
  void serve(); // hands out free slots until none is free or nobody waits

  mutable std::mutex mtx_;
  std::size_t capacity_;
  std::size_t in_use_ = 0;
  std::size_t waiting_ = 0;
  std::size_t granted_ = 0;
  bool serving_ = false; ///< a thread is in serve(): others leave the work to it
  std::map<std::string, std::deque<grant_fn>> queues_;
  std::deque<std::string> turns_; ///< keys with waiters, in round-robin order
};

} // namespace actorrent::logic
