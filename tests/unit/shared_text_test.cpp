#define CAF_SUITE shared_text
#include <caf/test/unit_test.hpp>

#include "logic/shared_text.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

using actorrent::logic::shared_text;
using actorrent::logic::shared_text_pool_size;

CAF_TEST(equal texts share one copy) {
  std::string a = "http://tracker.example/announce: connection refused";
  std::string b = a; // another buffer, same text
  shared_text x = a;
  shared_text y;
  y = b;
  CAF_CHECK(x.same_copy(y));
  CAF_CHECK_EQUAL(x.str(), a);
  CAF_CHECK(x == y);
  CAF_CHECK(x == std::string_view{a});
  shared_text z = std::string{"http://tracker.example/announce: timed out"};
  CAF_CHECK(!z.same_copy(x));
  CAF_CHECK(!(z == x));
}

CAF_TEST(the empty text holds nothing) {
  shared_text e;
  CAF_CHECK(e.empty());
  CAF_CHECK_EQUAL(e.str(), "");
  shared_text f = "something long enough to live on the heap";
  CAF_CHECK(!f.empty());
  f = "";
  CAF_CHECK(f.empty());
  CAF_CHECK(f.same_copy(e));
  f = std::string{"x"};
  f.clear();
  CAF_CHECK(f.empty());
}

CAF_TEST(texts no holder keeps do not pile up in the pool) {
  // tracker lines with counts in them: each new, each soon replaced
  const auto before = shared_text_pool_size(); // what other tests left
  shared_text holder;
  std::size_t largest = 0;
  for (int i = 0; i < 20000; ++i) {
    holder = "http://tracker.example/announce: " + std::to_string(i) + " peers";
    largest = std::max(largest, shared_text_pool_size());
  }
  // swept each time it doubles past what is live (at least 64 texts)
  CAF_CHECK_LESS(largest, 2 * before + 1000);
  std::vector<shared_text> later;
  for (int i = 0; i < 3000; ++i)
    later.emplace_back("another text " + std::to_string(i % 10));
  for (std::size_t i = 0; i < 10; ++i)
    CAF_CHECK(later[i].same_copy(later[i + 10]));
}

CAF_TEST(a text whose holders are all gone can be held again and shared) {
  std::string s = "a text that comes and goes, longer than the small-string buffer";
  { shared_text once = s; }
  shared_text again = s; // the pool's entry for it has expired: a new copy is made
  CAF_CHECK_EQUAL(again.str(), s);
  shared_text third = s;
  CAF_CHECK(third.same_copy(again));
}

CAF_TEST(threads may assign at once) {
  std::vector<std::thread> ts;
  std::vector<shared_text> out(4);
  for (std::size_t t = 0; t < 4; ++t)
    ts.emplace_back([t, &out] {
      shared_text mine;
      for (int i = 0; i < 2000; ++i)
        mine = "status " + std::to_string(i % 7) + " of a tracker with a long enough URL";
      out[t] = mine;
    });
  for (auto& t : ts)
    t.join();
  for (std::size_t t = 1; t < 4; ++t)
    CAF_CHECK(out[t].same_copy(out[0]));
}
