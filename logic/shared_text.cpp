#include "logic/shared_text.hpp"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <unordered_map>

namespace actorrent::logic {

namespace {

// Keyed by copies: a key viewing the pooled string would dangle once its last
// holder is gone (the string is destroyed then, its control block only later).
// There are few distinct texts, so the copies cost little.
struct pool {
  std::mutex mtx;
  std::unordered_map<std::string, std::weak_ptr<const std::string>> texts;
  std::size_t sweep_at = 64;

  void sweep() {
    for (auto it = texts.begin(); it != texts.end();)
      it = it->second.expired() ? texts.erase(it) : std::next(it);
    sweep_at = std::max<std::size_t>(64, 2 * texts.size());
  }
};

// Never destroyed: holders in objects that outlive static destruction (actor
// states torn down late) may still assign.
pool& the_pool() {
  static auto* p = new pool;
  return *p;
}

} // namespace

const std::string& shared_text::empty_string() noexcept {
  static const std::string none;
  return none;
}

void shared_text::assign(std::string_view s) {
  if (s.empty()) {
    p_.reset();
    return;
  }
  if (p_ && std::string_view{*p_} == s)
    return;
  auto& pl = the_pool();
  std::lock_guard<std::mutex> guard{pl.mtx};
  std::string key{s};
  auto it = pl.texts.find(key);
  if (it != pl.texts.end()) {
    if (auto live = it->second.lock()) {
      p_ = std::move(live);
      return;
    }
  } else if (pl.texts.size() >= pl.sweep_at) {
    pl.sweep();
  }
  auto fresh = std::make_shared<const std::string>(s);
  pl.texts.insert_or_assign(std::move(key), fresh);
  p_ = std::move(fresh);
}

std::size_t shared_text_pool_size() {
  auto& pl = the_pool();
  std::lock_guard<std::mutex> guard{pl.mtx};
  return pl.texts.size();
}

} // namespace actorrent::logic
