#include "net/http_announce.hpp"

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <mutex>

namespace actorrent::net {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct body_sink {
  std::string data;
  std::size_t cap = 0;
  bool overflow = false;
};

extern "C" size_t actorrent_announce_write(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  auto n = size * nmemb;
  if (n > sink->cap - sink->data.size()) {
    sink->overflow = true;
    return n == 0 ? 1 : 0; // any count other than n aborts the transfer
  }
  sink->data.append(ptr, n);
  return n;
}

struct easy_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct multi_deleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};

} // namespace

void init_curl_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

announce_answer http_announce(const announce_params& p, const std::atomic<bool>* cancel) {
  announce_answer out;
  auto req = p.request;
  req.compact = true;
  auto url = tracker::build_announce_url(p.url, req);
  if (!url) {
    out.error = "bad tracker url: " + url.error().message;
    return out;
  }
  init_curl_once();
  std::unique_ptr<CURL, easy_deleter> easy{curl_easy_init()};
  std::unique_ptr<CURLM, multi_deleter> multi{curl_multi_init()};
  if (!easy || !multi) {
    out.error = "curl initialisation failed";
    return out;
  }
  body_sink sink;
  sink.cap = static_cast<std::size_t>(p.max_response_bytes);
  char errbuf[CURL_ERROR_SIZE] = {0};
  auto* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, url->c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(p.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(p.timeout_ms));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &actorrent_announce_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); // whatever curl can decode
  curl_easy_setopt(h, CURLOPT_USERAGENT, "actorrent/0.1");
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  if (curl_multi_add_handle(multi.get(), h) != CURLM_OK) {
    out.error = "curl initialisation failed";
    return out;
  }
  // Our own bound in case curl's timeout does not fire.
  auto hard_deadline = clock_type::now() + milliseconds{p.timeout_ms} + std::chrono::seconds{2};
  CURLcode rc = CURLE_OK;
  bool done = false;
  std::string fail;
  while (!done) {
    int running = 0;
    auto mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      fail = std::string{"curl: "} + curl_multi_strerror(mc);
      break;
    }
    int queued = 0;
    while (auto* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        rc = msg->data.result;
        done = true;
      }
    }
    if (done)
      break;
    if (cancel != nullptr && cancel->load()) {
      fail = "cancelled";
      break;
    }
    if (clock_type::now() >= hard_deadline) {
      fail = timed_out(p.timeout_ms);
      break;
    }
    curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_multi_remove_handle(multi.get(), h);
  if (!fail.empty()) {
    out.error = std::move(fail);
    return out;
  }
  if (sink.overflow) {
    out.error = "response larger than " + std::to_string(p.max_response_bytes) + " bytes";
    return out;
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.error = timed_out(p.timeout_ms);
    return out;
  }
  if (rc != CURLE_OK) {
    out.error = errbuf[0] != '\0' ? std::string{errbuf} : std::string{curl_easy_strerror(rc)};
    return out;
  }
  auto parsed = tracker::parse_announce_response(sink.data);
  if (parsed && parsed->failure_reason) {
    out.error = "tracker failure: " + clean_text(*parsed->failure_reason);
    return out;
  }
  if (status != 200) {
    out.error = "http status " + std::to_string(status);
    return out;
  }
  if (!parsed) {
    out.error = "bad tracker response: " + parsed.error().to_string();
    return out;
  }
  auto& r = *parsed;
  out.ok = true;
  out.peers = std::move(r.peers);
  out.interval = r.interval.value_or(1800);
  out.min_interval = r.min_interval.value_or(0);
  out.seeders = r.complete.value_or(0);
  out.leechers = r.incomplete.value_or(0);
  if (r.warning_message)
    out.warning = clean_text(*r.warning_message);
  out.trackerid = std::move(r.tracker_id);
  return out;
}

} // namespace actorrent::net
