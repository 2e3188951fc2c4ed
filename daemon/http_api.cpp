#include "daemon/http_api.hpp"

#include "daemon/session.hpp"
#include "protocol/metainfo.hpp"
#include "protocol/text.hpp"

#include <caf/actor_system.hpp>

namespace actorrent::daemon {

using nlohmann::json;

namespace {

constexpr std::size_t max_torrent_bytes = 16 << 20;

void send_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

} // namespace

http_api::http_api(caf::actor_system& sys, session_actor session, const loaded_config& lc,
                   std::shared_ptr<std::atomic<bool>> ready, std::string config_path)
  : sys_(sys), session_(std::move(session)), ready_(std::move(ready)), config_path_(std::move(config_path)),
    max_body_(lc.cfg.max_body), threads_(static_cast<std::size_t>(lc.cfg.api_threads)), port_(lc.cfg.api_port) {
  update(lc);
  add_methods();
  server_.set_payload_max_length(static_cast<std::size_t>(max_body_));
  server_.set_tcp_nodelay(true); // a response is headers, then body: no Nagle wait between them
  // An idle keep-alive connection holds one of the few worker threads, and stop() waits for it: with
  // cpp-httplib's default of 5 s, one idle client kept the daemon alive 4-5 s after its shutdown was done.
  server_.set_keep_alive_timeout(1);
  auto n = threads_;
  server_.new_task_queue = [n] { return new httplib::ThreadPool(n); };
  server_.Post("/api/v1/rpc", [this](const httplib::Request& req, httplib::Response& res) { on_rpc(req, res); });
  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    bool ok = ready_ && ready_->load();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready\n" : "restoring torrents\n", "text/plain");
  });
}

http_api::~http_api() { stop(); }

void http_api::update(const loaded_config& lc) {
  auto v = std::make_shared<view>();
  v->tokens = lc.cfg.tokens;
  v->allowed_hosts = lc.cfg.allowed_hosts;
  v->bind = lc.cfg.api_bind;
  v->timeout = std::chrono::milliseconds{lc.cfg.api_timeout_ms};
  std::lock_guard<std::mutex> guard{mtx_};
  view_ = std::move(v);
}

std::shared_ptr<const http_api::view> http_api::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return view_;
}

authorization http_api::authorize(const httplib::Request& req, scope needed) const {
  auto v = current();
  authorization a;
  if (!rpc::host_allowed(req.get_header_value("Host"), v->bind, v->allowed_hosts)) {
    a.status = 400;
    a.message = "Host header " + text::quote(req.get_header_value("Host"))
                + " is not allowed (api.allowed_hosts; this guards against DNS rebinding)";
    return a;
  }
  auto check = rpc::check_bearer(req.get_header_value("Authorization"), v->tokens);
  if (!check.ok) {
    a.status = 401;
    a.message = check.message;
    return a;
  }
  a.granted = check.granted;
  if (check.granted < needed) {
    a.status = 403;
    a.message = "this route needs the scope '" + std::string{scope_name(needed)} + "'";
    return a;
  }
  a.ok = true;
  a.status = 200;
  return a;
}

void http_api::refuse(httplib::Response& res, const authorization& a) {
  int code = a.status == 401 ? rpc::unauthorized : a.status == 403 ? rpc::forbidden : rpc::invalid_request;
  if (a.status == 401)
    res.set_header("WWW-Authenticate", "Bearer");
  send_json(res, a.status, rpc::error_response(nullptr, code, a.message).dump());
}

json http_api::ask(const std::string& method, const json& params, std::string blob) {
  return ask_session(sys_, session_, method, params, std::move(blob), current()->timeout);
}

json http_api::stats() { return ask("session.stats", json::object()); }

void http_api::add_methods() {
  auto plain = [this](const std::string& name, scope s) {
    rpc::method m{name, s, {}, {}};
    m.text_fn = [this, name](const json& params) {
      return ask_session_text(sys_, session_, name, params, {}, current()->timeout);
    };
    dispatcher_.add(std::move(m));
  };
  for (auto* n : {"torrents.list", "torrents.get", "torrents.files", "torrents.peers", "torrents.trackers",
                  "session.stats", "config.get"})
    plain(n, scope::read);
  for (auto* n : {"torrents.start", "torrents.stop", "torrents.recheck", "torrents.reannounce", "torrents.remove",
                  "torrents.set", "torrents.files_set"})
    plain(n, scope::control);
  plain("config.set", scope::admin);
  // torrents.add: the .torrent's bytes are read or decoded here, off the session
  dispatcher_.add({"torrents.add", scope::control, [this](const json& params_in) {
                     const auto& params = rpc::params_object(params_in);
                     rpc::only_fields(params, {"metainfo", "path", "save_path", "labels", "paused"});
                     auto b64 = rpc::opt_string(params, "metainfo", max_torrent_bytes / 3 * 4 + 4);
                     auto path = rpc::opt_string(params, "path", 4096);
                     if (b64.has_value() == path.has_value())
                       throw rpc::rpc_error(rpc::invalid_params,
                                            "give exactly one of 'metainfo' (base64 of the .torrent) and 'path'");
                     std::string bytes;
                     if (b64) {
                       auto decoded = rpc::base64_decode(*b64, max_torrent_bytes);
                       if (!decoded)
                         throw rpc::rpc_error(rpc::invalid_params, "'metainfo' is not valid base64");
                       bytes = std::move(*decoded);
                     } else {
                       if (path->size() < 9 || path->compare(path->size() - 8, 8, ".torrent") != 0
                           || path->front() != '/')
                         throw rpc::rpc_error(rpc::invalid_params,
                                              "'path' must be an absolute path of a .torrent file");
                       std::string err;
                       auto text = text::read_text_file(*path, max_torrent_bytes, err);
                       if (!text)
                         throw rpc::rpc_error(rpc::failed, err);
                       bytes = std::move(*text);
                     }
                     if (auto mi = parse_metainfo(bytes); !mi)
                       throw rpc::rpc_error(rpc::failed, "not a valid .torrent: " + mi.error().to_string());
                     return ask("torrents.add", params, std::move(bytes));
                   }});
  // config.reload: the file is read here
  dispatcher_.add({"config.reload", scope::admin, [this](const json& params_in) {
                     const auto& params = rpc::params_object(params_in);
                     rpc::only_fields(params, {"dry_run"});
                     std::string err;
                     auto text = text::read_text_file(config_path_, 1 << 20, err);
                     if (!text)
                       throw rpc::rpc_error(rpc::failed, err);
                     return ask("config.reload", params, std::move(*text));
                   }});
}

void http_api::on_rpc(const httplib::Request& req, httplib::Response& res) {
  auto a = authorize(req, scope::read);
  if (!a.ok)
    return refuse(res, a);
  auto t0 = std::chrono::steady_clock::now();
  auto r = dispatcher_.handle(req.body, a.granted);
  if (on_call) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    std::string method = j.is_array() ? "batch"
                         : j.is_object() && j.contains("method") && j["method"].is_string() ? j["method"].get<std::string>()
                                                                                            : "invalid";
    if (method != "batch" && method != "invalid" && dispatcher_.find(method) == nullptr)
      method = "unknown";
    on_call(method, std::to_string(r.http_status),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (r.body.empty()) {
    res.status = 204;
    return;
  }
  send_json(res, r.http_status, r.body);
}

int http_api::bind(std::string& error) {
  auto v = current();
  int port = port_ == 0 ? server_.bind_to_any_port(v->bind) : (server_.bind_to_port(v->bind, port_) ? port_ : -1);
  if (port <= 0) {
    error = "cannot listen on " + v->bind + ":" + std::to_string(port_) + " for the API"
            + (port_ != 0 ? " (in use, or not an address of this machine)" : "");
    return -1;
  }
  return port;
}

void http_api::start() {
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

void http_api::stop() {
  if (server_.is_running() || thread_.joinable())
    server_.stop();
  if (thread_.joinable())
    thread_.join();
}

} // namespace actorrent::daemon
