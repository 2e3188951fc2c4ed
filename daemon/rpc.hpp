// JSON-RPC 2.0 for the daemon's API, without CAF and without HTTP: the
// envelope (single calls, batches, notifications), the method table with the
// scope each method needs, error codes, and the checks of the HTTP layer that
// do not need a socket (bearer tokens, the Host header). Fuzzed through
// fuzz/rpc_fuzzer.cpp: whatever the body, handle() answers with a JSON-RPC
// response (or nothing for notifications) and never throws.
#pragma once

#include "daemon/config.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace actorrent::daemon::rpc {

/// JSON-RPC error codes: the standard ones, then the daemon's own.
enum error_code : int {
  parse_error = -32700,
  invalid_request = -32600,
  method_not_found = -32601,
  invalid_params = -32602,
  internal_error = -32603,
  unauthorized = -32001, ///< no or unknown bearer token (HTTP 401)
  forbidden = -32002,    ///< the token lacks the method's scope (HTTP 403)
  not_found = -32004,    ///< no torrent with that id
  timeout = -32005,      ///< the session did not answer in time
  unavailable = -32006,  ///< shutting down, or the call cannot be served now
  failed = -32010,       ///< the call was valid but did not succeed (bad .torrent, disk error, ...)
};

/// Thrown by a method to answer with a JSON-RPC error.
struct rpc_error : std::runtime_error {
  rpc_error(int code, const std::string& message, nlohmann::json data = nullptr)
    : std::runtime_error(message), code(code), data(std::move(data)) {}
  int code;
  nlohmann::json data;
};

/// Requests in one batch at most.
inline constexpr std::size_t max_batch = 100;

/// A method: its name, the scope it needs and its function (params is an
/// object, or null when absent; it returns the result or throws rpc_error).
struct method {
  method() = default;
  method(std::string name, scope needed, std::function<nlohmann::json(const nlohmann::json&)> fn,
         std::function<std::string(const nlohmann::json&)> text_fn = {})
    : name(std::move(name)), needed(needed), fn(std::move(fn)), text_fn(std::move(text_fn)) {}
  std::string name;
  scope needed = scope::read;
  std::function<nlohmann::json(const nlohmann::json& params)> fn;
  /// Instead of fn: the result as JSON text, put into the answer as it is
  /// (a big result is not parsed and written again).
  std::function<std::string(const nlohmann::json& params)> text_fn;
};

/// What handle() returns: the body (empty for notifications only) and the
/// HTTP status to send with it (200; 403 for a single call refused for its
/// scope; 400 for a body that is not JSON-RPC at all).
struct reply {
  int http_status = 200;
  std::string body;
};

class dispatcher {
public:
  void add(method m);

  /// The scope `name` needs, or nullptr.
  const method* find(std::string_view name) const;

  /// Parses `body` and calls the methods that `granted` allows (any method
  /// needing a scope at or below it).
  reply handle(std::string_view body, scope granted) const;

  /// One request object (already parsed); null for a notification. With
  /// `text_result`, a method's text result goes there and the answer's
  /// "result" is null (handle splices it in); without, it is parsed.
  nlohmann::json handle_one(const nlohmann::json& req, scope granted, bool* refused_scope = nullptr,
                            std::string* text_result = nullptr) const;

  std::vector<std::string> names() const;

private:
  std::map<std::string, method, std::less<>> methods_;
};

/// An error response with this id.
nlohmann::json error_response(const nlohmann::json& id, int code, const std::string& message,
                              const nlohmann::json& data = nullptr);

// ---- helpers for methods: typed access to params, errors naming the field ----

/// The params object (null is an empty object); anything else is invalid_params.
const nlohmann::json& params_object(const nlohmann::json& params);
/// Fields of `params` not in `allowed` are invalid_params ("unknown parameter 'x'").
void only_fields(const nlohmann::json& params, std::initializer_list<std::string_view> allowed);
std::string get_string(const nlohmann::json& params, const char* field, std::size_t max_len = 4096);
std::optional<std::string> opt_string(const nlohmann::json& params, const char* field, std::size_t max_len = 4096);
std::optional<bool> opt_bool(const nlohmann::json& params, const char* field);
std::optional<std::uint64_t> opt_uint(const nlohmann::json& params, const char* field, std::uint64_t max);
std::optional<double> opt_number(const nlohmann::json& params, const char* field, double lo, double hi);
std::optional<std::vector<std::string>> opt_strings(const nlohmann::json& params, const char* field,
                                                    std::size_t max_items, std::size_t max_len);
/// A torrent id: 40 hex digits (either case), returned in lower case.
std::string check_id(const nlohmann::json& v, const char* field = "id");
/// `ids`: a list of torrent ids (1..10000).
std::vector<std::string> get_ids(const nlohmann::json& params);

// ---- HTTP-side checks (no socket needed) ---------------------------------------

/// The outcome of checking an Authorization header.
struct auth_check {
  bool ok = false;
  int http_status = 401;
  std::string message;
  scope granted = scope::read;
};

/// "Bearer TOKEN" against the configured tokens (compared in constant time).
auth_check check_bearer(std::string_view authorization, const std::vector<api_token>& tokens);

/// Whether the Host header names this server: localhost, 127.0.0.1, [::1],
/// the bind address or an allowed host, with or without ":port" (any other
/// name is refused: a DNS-rebinding page cannot reach the API).
bool host_allowed(std::string_view host_header, const std::string& bind, const std::vector<std::string>& allowed);

/// Standard base64 (RFC 4648, padding optional, no line breaks); nullopt if invalid.
std::optional<std::string> base64_decode(std::string_view in, std::size_t max_out);

} // namespace actorrent::daemon::rpc
