#define CAF_SUITE slot_gate
#include <caf/test/unit_test.hpp>

#include "logic/slot_gate.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using actorrent::logic::slot_gate;

namespace {

/// Grants land here, in order: who got a slot, and the slot itself (kept).
struct recorder {
  std::vector<std::string> order;
  std::vector<slot_gate::slot_ptr> held;

  slot_gate::grant_fn keep(std::string who) {
    return [this, who](slot_gate::slot_ptr s) {
      order.push_back(who);
      held.push_back(std::move(s));
    };
  }

  // A release may serve a waiter at once, whose grant lands in `held`: the
  // slots are taken out of it before they are dropped.
  void release_first() {
    auto s = std::move(held.front());
    held.erase(held.begin());
    s.reset();
  }
  void release_all() {
    auto old = std::move(held);
    held.clear();
    old.clear();
  }
};

} // namespace

CAF_TEST(no more slots out than the capacity and the next waiter gets a returned one) {
  auto gate = slot_gate::make(2);
  recorder r;
  gate->acquire("a", r.keep("a1"));
  gate->acquire("a", r.keep("a2"));
  gate->acquire("a", r.keep("a3"));
  CAF_CHECK_EQUAL(r.order.size(), 2u);
  CAF_CHECK_EQUAL(gate->in_use(), 2u);
  CAF_CHECK_EQUAL(gate->waiting(), 1u);
  r.release_first(); // a1 is done
  CAF_REQUIRE_EQUAL(r.order.size(), 3u);
  CAF_CHECK_EQUAL(r.order[2], "a3");
  CAF_CHECK_EQUAL(gate->in_use(), 2u);
  CAF_CHECK_EQUAL(gate->waiting(), 0u);
  r.release_all();
  CAF_CHECK_EQUAL(gate->in_use(), 0u);
  CAF_CHECK_EQUAL(gate->granted(), 3u);
}

CAF_TEST(a copied slot goes back once when its last copy is gone) {
  auto gate = slot_gate::make(1);
  recorder r;
  gate->acquire("a", r.keep("first"));
  auto copy = r.held.front();
  r.release_all();
  gate->acquire("a", r.keep("second"));
  CAF_CHECK_EQUAL(r.order.size(), 1u); // the copy still holds it
  copy.reset();
  CAF_CHECK_EQUAL(r.order.size(), 2u);
}

CAF_TEST(waiters take turns over their keys and queue in order within one) {
  auto gate = slot_gate::make(1);
  recorder r;
  gate->acquire("first", r.keep("first"));
  // a silent tracker's torrents queued first, then two others'
  for (int i = 0; i < 3; ++i)
    gate->acquire("silent", r.keep("silent" + std::to_string(i)));
  gate->acquire("good", r.keep("good0"));
  gate->acquire("other", r.keep("other0"));
  gate->acquire("good", r.keep("good1"));
  for (int i = 0; i < 6; ++i)
    r.release_all(); // each release serves the next one, which is then released too
  std::vector<std::string> want{"first", "silent0", "good0", "other0", "silent1", "good1", "silent2"};
  CAF_CHECK_EQUAL(r.order, want);
}

CAF_TEST(a waiter gone by its turn gives the slot on at once and thousands do not nest) {
  auto gate = slot_gate::make(1);
  recorder r;
  gate->acquire("k", r.keep("holder"));
  std::size_t dropped = 0;
  for (int i = 0; i < 100000; ++i)
    gate->acquire("k", [&dropped](slot_gate::slot_ptr) { ++dropped; }); // its owner has quit
  gate->acquire("k", r.keep("last"));
  CAF_CHECK_EQUAL(gate->waiting(), 100001u);
  r.release_all(); // one release: the 100,000 are served and drop their slots in a loop
  CAF_CHECK_EQUAL(dropped, 100000u);
  CAF_REQUIRE_EQUAL(r.order.size(), 2u);
  CAF_CHECK_EQUAL(r.order[1], "last");
  CAF_CHECK_EQUAL(gate->in_use(), 1u);
  CAF_CHECK_EQUAL(gate->waiting(), 0u);
}

CAF_TEST(more capacity serves waiters at once and less waits for returns) {
  auto gate = slot_gate::make(1);
  recorder r;
  for (int i = 0; i < 4; ++i)
    gate->acquire("k", r.keep(std::to_string(i)));
  CAF_CHECK_EQUAL(r.order.size(), 1u);
  gate->set_capacity(3);
  CAF_CHECK_EQUAL(r.order.size(), 3u);
  gate->set_capacity(1);
  CAF_CHECK_EQUAL(gate->in_use(), 3u); // nobody's slot is taken back
  r.release_first();
  CAF_CHECK_EQUAL(r.order.size(), 3u); // 2 out, bound 1: the last still waits
  r.release_first();
  CAF_CHECK_EQUAL(r.order.size(), 3u);
  r.release_first();
  CAF_CHECK_EQUAL(r.order.size(), 4u);
  gate->set_capacity(0); // taken as 1
  CAF_CHECK_EQUAL(gate->capacity(), 1u);
}

CAF_TEST(a callback that throws loses its turn and the slot goes back) {
  auto gate = slot_gate::make(1);
  recorder r;
  gate->acquire("k", r.keep("holder"));
  gate->acquire("k", [](slot_gate::slot_ptr) { throw std::runtime_error{"no"}; });
  gate->acquire("k", r.keep("next"));
  r.release_all();
  CAF_REQUIRE_EQUAL(r.order.size(), 2u);
  CAF_CHECK_EQUAL(r.order[1], "next");
  CAF_CHECK_EQUAL(gate->in_use(), 1u);
}

CAF_TEST(threads acquiring and releasing at once never exceed the bound) {
  auto gate = slot_gate::make(3);
  std::atomic<int> out{0}, worst{0}, done{0};
  std::mutex mtx;
  std::vector<slot_gate::slot_ptr> held;
  auto grant = [&](slot_gate::slot_ptr s) {
    auto now = ++out;
    for (auto w = worst.load(); now > w && !worst.compare_exchange_weak(w, now);) {
    }
    std::lock_guard<std::mutex> guard{mtx};
    held.push_back(std::move(s));
  };
  // a slot some thread was granted goes back (outside the lock: it may serve the next)
  auto give_one_back = [&] {
    slot_gate::slot_ptr mine;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (held.empty())
        return;
      mine = std::move(held.back());
      held.pop_back();
    }
    --out;
    ++done;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        gate->acquire(std::to_string((t + i) % 5), grant);
        give_one_back();
      }
    });
  for (auto& t : threads)
    t.join();
  // what is still held or waiting ends now
  for (int rounds = 0; rounds < 10000 && (gate->waiting() > 0 || gate->in_use() > 0); ++rounds)
    give_one_back();
  CAF_CHECK_LESS_OR_EQUAL(worst.load(), 3);
  CAF_CHECK_EQUAL(done.load(), 8000);
  CAF_CHECK_EQUAL(gate->in_use(), 0u);
  CAF_CHECK_EQUAL(gate->waiting(), 0u);
}
