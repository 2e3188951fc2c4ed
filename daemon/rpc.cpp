#include "daemon/rpc.hpp"

#include "protocol/text.hpp"

#include <algorithm>
#include <cctype>

namespace actorrent::daemon::rpc {

using nlohmann::json;

namespace {

// A JSON-RPC id: a string, a number or null (anything else is an invalid request).
bool valid_id(const json& id) {
  return id.is_null() || id.is_string() || id.is_number();
}

// Big bodies of deeply nested JSON would recurse in the parser: refuse any
// nesting deeper than this before parsing.
constexpr int max_depth = 64;

bool too_deep(std::string_view body) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (char c : body) {
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return true;
    } else if (c == ']' || c == '}')
      --depth;
  }
  return false;
}

} // namespace

json error_response(const json& id, int code, const std::string& message, const json& data) {
  json err = {{"code", code}, {"message", message}};
  if (!data.is_null())
    err["data"] = data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", err}};
}

void dispatcher::add(method m) {
  auto name = m.name;
  methods_[name] = std::move(m);
}

const method* dispatcher::find(std::string_view name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<std::string> dispatcher::names() const {
  std::vector<std::string> out;
  for (auto& [n, m] : methods_)
    out.push_back(n);
  return out;
}

json dispatcher::handle_one(const json& req, scope granted, bool* refused_scope, std::string* text_result) const {
  if (!req.is_object())
    return error_response(nullptr, invalid_request, "a request is a JSON object");
  json id = nullptr;
  bool notification = true;
  if (auto it = req.find("id"); it != req.end()) {
    if (!valid_id(*it))
      return error_response(nullptr, invalid_request, "id must be a string, a number or null");
    id = *it;
    notification = false;
  }
  auto respond = [&](json r) { return notification ? json{} : r; };
  auto v = req.find("jsonrpc");
  if (v == req.end() || !v->is_string() || v->get_ref<const std::string&>() != "2.0")
    return error_response(id, invalid_request, "jsonrpc must be \"2.0\"");
  auto m = req.find("method");
  if (m == req.end() || !m->is_string())
    return error_response(id, invalid_request, "method must be a string");
  for (auto& [k, val] : req.items())
    if (k != "jsonrpc" && k != "method" && k != "params" && k != "id")
      return error_response(id, invalid_request, "unknown member " + text::quote(k));
  const auto& name = m->get_ref<const std::string&>();
  const method* meth = find(name);
  if (meth == nullptr)
    return respond(error_response(id, method_not_found, "unknown method " + text::quote(name)));
  json params = nullptr;
  if (auto p = req.find("params"); p != req.end()) {
    if (!p->is_object() && !p->is_null())
      return respond(error_response(id, invalid_params, "params must be an object (named parameters)"));
    params = *p;
  }
  if (granted < meth->needed) {
    if (refused_scope != nullptr)
      *refused_scope = true;
    return respond(error_response(id, forbidden,
                                  "method " + name + " needs the scope '" + std::string{scope_name(meth->needed)}
                                    + "'; the token has '" + std::string{scope_name(granted)} + "'"));
  }
  try {
    json result;
    if (meth->text_fn) {
      auto text = meth->text_fn(params);
      if (text_result != nullptr)
        *text_result = std::move(text);
      else
        result = json::parse(text);
    } else {
      result = meth->fn(params);
    }
    return respond({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
  } catch (const rpc_error& e) {
    return respond(error_response(id, e.code, e.what(), e.data));
  } catch (const json::exception& e) {
    return respond(error_response(id, invalid_params, std::string{"bad parameter: "} + e.what()));
  } catch (const std::exception& e) {
    return respond(error_response(id, internal_error, std::string{"internal error: "} + e.what()));
  }
}

reply dispatcher::handle(std::string_view body, scope granted) const {
  auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  if (too_deep(body))
    return {400, dump(error_response(nullptr, parse_error, "JSON nested deeper than 64 levels"))};
  json req = json::parse(body.begin(), body.end(), nullptr, false);
  if (req.is_discarded())
    return {400, dump(error_response(nullptr, parse_error, "the body is not valid JSON"))};
  if (req.is_array()) {
    if (req.empty())
      return {400, dump(error_response(nullptr, invalid_request, "an empty batch"))};
    if (req.size() > max_batch)
      return {400, dump(error_response(nullptr, invalid_request,
                                       "a batch of more than " + std::to_string(max_batch) + " requests"))};
    json out = json::array();
    for (auto& one : req) {
      auto r = handle_one(one, granted);
      if (!r.is_null())
        out.push_back(std::move(r));
    }
    return {200, out.empty() ? std::string{} : dump(out)};
  }
  bool refused = false;
  std::string text;
  auto r = handle_one(req, granted, &refused, &text);
  if (r.is_null())
    return {200, {}};
  int status = refused ? 403 : 200;
  if (r.contains("error") && (r["error"]["code"] == invalid_request || r["error"]["code"] == parse_error))
    status = 400;
  auto out = dump(r);
  if (!text.empty() && r.contains("result")) {
    // the keys are sorted: "result":null closes the object
    static constexpr std::string_view tail = "\"result\":null}";
    if (out.size() >= tail.size() && out.compare(out.size() - tail.size(), tail.size(), tail) == 0)
      out.replace(out.size() - tail.size() + 9, 4, text);
    else
      return {500, dump(error_response(r["id"], internal_error, "cannot place the result"))};
  }
  return {status, out};
}

// ---- params --------------------------------------------------------------------

const json& params_object(const json& params) {
  static const json empty = json::object();
  if (params.is_null())
    return empty;
  if (!params.is_object())
    throw rpc_error(invalid_params, "params must be an object");
  return params;
}

void only_fields(const json& params, std::initializer_list<std::string_view> allowed) {
  if (!params.is_object())
    return;
  for (auto& [k, v] : params.items())
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string names;
      for (auto a : allowed)
        names += (names.empty() ? "" : ", ") + std::string{a};
      throw rpc_error(invalid_params, "unknown parameter " + text::quote(k) + " (this method takes " + names + ")");
    }
}

std::optional<std::string> opt_string(const json& params, const char* field, std::size_t max_len) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null())
    return std::nullopt;
  if (!it->is_string())
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len)
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' is longer than "
                                      + std::to_string(max_len) + " bytes");
  return s;
}

std::string get_string(const json& params, const char* field, std::size_t max_len) {
  auto s = opt_string(params, field, max_len);
  if (!s)
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' is required");
  return *s;
}

std::optional<bool> opt_bool(const json& params, const char* field) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null())
    return std::nullopt;
  if (!it->is_boolean())
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be true or false");
  return it->get<bool>();
}

std::optional<std::uint64_t> opt_uint(const json& params, const char* field, std::uint64_t max) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null())
    return std::nullopt;
  // an integer (signed or not in nlohmann's terms) that is not negative
  if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<std::int64_t>() < 0)
      || it->get<std::uint64_t>() > max)
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be an integer from 0 to "
                                      + std::to_string(max));
  return it->get<std::uint64_t>();
}

std::optional<double> opt_number(const json& params, const char* field, double lo, double hi) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null())
    return std::nullopt;
  if (!it->is_number() || !(it->get<double>() >= lo && it->get<double>() <= hi))
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be a number from "
                                      + std::to_string(lo) + " to " + std::to_string(hi));
  return it->get<double>();
}

std::optional<std::vector<std::string>> opt_strings(const json& params, const char* field, std::size_t max_items,
                                                    std::size_t max_len) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null())
    return std::nullopt;
  auto bad = [&] {
    return rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be a list of at most "
                                       + std::to_string(max_items) + " strings of at most " + std::to_string(max_len)
                                       + " bytes");
  };
  if (!it->is_array() || it->size() > max_items)
    throw bad();
  std::vector<std::string> out;
  for (auto& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().size() > max_len)
      throw bad();
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string check_id(const json& v, const char* field) {
  if (!v.is_string() || v.get_ref<const std::string&>().size() != 40)
    throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be a 40-digit hex info-hash");
  std::string id = v.get<std::string>();
  for (auto& c : id) {
    if (text::hex_digit(c) < 0)
      throw rpc_error(invalid_params, std::string{"parameter '"} + field + "' must be a 40-digit hex info-hash");
    c = text::lower_ascii(c);
  }
  return id;
}

std::vector<std::string> get_ids(const json& params) {
  auto it = params.find("ids");
  if (it == params.end() || !it->is_array() || it->empty() || it->size() > 10000)
    throw rpc_error(invalid_params, "parameter 'ids' must be a list of 1 to 10000 torrent ids");
  std::vector<std::string> out;
  for (auto& v : *it)
    out.push_back(check_id(v, "ids"));
  return out;
}

// ---- HTTP-side checks -------------------------------------------------------------

auth_check check_bearer(std::string_view authorization, const std::vector<api_token>& tokens) {
  auth_check r;
  constexpr std::string_view prefix = "Bearer ";
  if (authorization.empty()) {
    r.message = "missing Authorization: Bearer TOKEN";
    return r;
  }
  if (authorization.size() <= prefix.size() || !text::starts_with_nocase(authorization, "bearer ")) {
    r.message = "the Authorization header must be 'Bearer TOKEN'";
    return r;
  }
  auto given = authorization.substr(prefix.size());
  bool found = false;
  for (auto& t : tokens) {
    // constant time in the token's length: no early exit on the first difference
    unsigned diff = given.size() == t.token.size() ? 0u : 1u;
    for (std::size_t i = 0; i < t.token.size(); ++i)
      diff |= static_cast<unsigned char>(t.token[i]) ^ static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    if (diff == 0 && !found) {
      found = true;
      r.granted = t.level;
    }
  }
  if (!found) {
    r.message = "unknown token";
    return r;
  }
  r.ok = true;
  r.http_status = 200;
  return r;
}

bool host_allowed(std::string_view host, const std::string& bind, const std::vector<std::string>& allowed) {
  if (host.empty() || host.size() > 300)
    return false;
  std::string name;
  if (host.front() == '[') { // [::1]:9091
    auto close = host.find(']');
    if (close == std::string_view::npos)
      return false;
    name = std::string{host.substr(1, close - 1)};
    auto rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() == 1))
      return false;
  } else {
    auto colon = host.find(':');
    name = std::string{host.substr(0, colon)};
  }
  for (auto& c : name)
    c = text::lower_ascii(c);
  if (!name.empty() && name.back() == '.')
    name.pop_back();
  if (name == "localhost" || name == "127.0.0.1" || name == "::1")
    return true;
  if (name == bind && bind != "0.0.0.0" && bind != "::")
    return true;
  for (auto a : allowed) {
    for (auto& c : a)
      c = text::lower_ascii(c);
    if (a == name)
      return true;
  }
  return false;
}

std::optional<std::string> base64_decode(std::string_view in, std::size_t max_out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  if (in.size() % 4 == 1 || in.size() / 4 * 3 > max_out)
    return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (out.size() > max_out)
    return std::nullopt;
  return out;
}

} // namespace actorrent::daemon::rpc
