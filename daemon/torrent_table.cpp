#include "daemon/torrent_table.hpp"

#include "daemon/rpc.hpp"
#include "protocol/text.hpp"

#include <algorithm>

namespace actorrent::daemon {

using nlohmann::json;
using rpc::rpc_error;

const std::vector<std::string>& torrent_fields() {
  static const std::vector<std::string> f{
    "id",        "name",       "state",     "progress",   "size",       "down_rate", "up_rate",
    "peers",     "seeds",      "ratio",     "eta",        "labels",     "save_path", "error",
    "downloaded", "uploaded",  "have_bytes", "wanted_size", "pieces",   "pieces_have", "added",
    "queue_reason", "restored", "asleep",   "check",      "ratio_limit", "limits",   "tracker_status"};
  return f;
}

const std::vector<std::string>& torrent_states() {
  static const std::vector<std::string> s{"checking", "downloading", "seeding", "paused", "queued", "error",
                                          "stopping"};
  return s;
}

std::vector<std::string> parse_fields(const json& params) {
  auto f = rpc::opt_strings(params, "fields", 64, 64);
  if (!f)
    return {};
  for (auto& name : *f)
    if (std::find(torrent_fields().begin(), torrent_fields().end(), name) == torrent_fields().end())
      throw rpc_error(rpc::invalid_params, "unknown field " + text::quote(name));
  return *f;
}

list_query parse_list_query(const json& params_in) {
  const auto& params = rpc::params_object(params_in);
  rpc::only_fields(params, {"filter", "sort", "fields", "limit", "cursor"});
  list_query q;
  if (auto it = params.find("filter"); it != params.end() && !it->is_null()) {
    if (!it->is_object())
      throw rpc_error(rpc::invalid_params, "parameter 'filter' must be an object {state?, label?, name?}");
    rpc::only_fields(*it, {"state", "label", "name"});
    q.state = rpc::opt_string(*it, "state", 32);
    if (q.state && std::find(torrent_states().begin(), torrent_states().end(), *q.state) == torrent_states().end())
      throw rpc_error(rpc::invalid_params, "filter.state must be one of checking, downloading, seeding, paused, "
                                           "queued, error, stopping");
    q.label = rpc::opt_string(*it, "label", 64);
    q.name = rpc::opt_string(*it, "name", 256);
  }
  if (auto s = rpc::opt_string(params, "sort", 64)) {
    auto field = !s->empty() && s->front() == '-' ? s->substr(1) : *s;
    if (std::find(torrent_fields().begin(), torrent_fields().end(), field) == torrent_fields().end())
      throw rpc_error(rpc::invalid_params, "sort: unknown field " + text::quote(field));
    q.sort = *s;
  }
  q.fields = parse_fields(params);
  if (auto l = rpc::opt_uint(params, "limit", max_list_limit)) {
    if (*l == 0)
      throw rpc_error(rpc::invalid_params, "parameter 'limit' must be from 1 to " + std::to_string(max_list_limit));
    q.limit = *l;
  }
  if (auto c = rpc::opt_string(params, "cursor", 32)) {
    std::size_t off = 0;
    if (c->empty() || c->size() > 9 || c->find_first_not_of("0123456789") != std::string::npos)
      throw rpc_error(rpc::invalid_params, "parameter 'cursor' is not a cursor from a previous next_cursor");
    for (char ch : *c)
      off = off * 10 + static_cast<std::size_t>(ch - '0');
    q.offset = off;
  }
  return q;
}

json project(const json& row, const std::vector<std::string>& fields) {
  if (fields.empty())
    return row;
  json out = json::object();
  for (auto& f : fields)
    if (auto it = row.find(f); it != row.end())
      out[f] = *it;
  return out;
}

namespace {

const json& field_of(const json& row, const std::string& name) {
  static const json null_value;
  auto it = row.find(name);
  return it == row.end() ? null_value : *it;
}

bool contains_nocase(const std::string& hay, const std::string& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return text::lower_ascii(a) == text::lower_ascii(b); });
  return it != hay.end();
}

// Orders JSON values of one field: numbers by value, strings by text, arrays
// by their first element; null last.
bool less_value(const json& a, const json& b) {
  if (a.is_null() != b.is_null())
    return b.is_null();
  if (a.is_number() && b.is_number())
    return a.get<double>() < b.get<double>();
  if (a.is_string() && b.is_string())
    return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
  return a < b;
}

} // namespace

list_page select_page(const list_source& src, const list_query& q) {
  std::vector<std::size_t> hits;
  hits.reserve(src.size);
  for (std::size_t i = 0; i < src.size; ++i) {
    if (q.state && src.state(i) != *q.state)
      continue;
    if (q.label && !src.has_label(i, *q.label))
      continue;
    if (q.name && !contains_nocase(src.name(i), *q.name))
      continue;
    hits.push_back(i);
  }
  bool desc = !q.sort.empty() && q.sort.front() == '-';
  auto field = desc ? q.sort.substr(1) : q.sort;
  if (!field.empty() && field != "id") {
    // the rows come in id order and the sort is stable: equal values stay by id
    std::vector<std::pair<json, std::size_t>> keyed;
    keyed.reserve(hits.size());
    bool numbers = true;
    for (auto i : hits) {
      keyed.emplace_back(src.value(i, field), i);
      numbers = numbers && keyed.back().first.is_number();
    }
    if (numbers) {
      // the usual case (the default sort is "added"): the same order by the
      // same double comparison as less_value, on plain keys
      std::vector<std::pair<double, std::size_t>> keys;
      keys.reserve(keyed.size());
      for (auto& [v, i] : keyed)
        keys.emplace_back(v.get<double>(), i);
      std::stable_sort(keys.begin(), keys.end(),
                       [&](const auto& a, const auto& b) { return desc ? b.first < a.first : a.first < b.first; });
      for (std::size_t k = 0; k < keys.size(); ++k)
        hits[k] = keys[k].second;
    } else {
      std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        return desc ? less_value(b.first, a.first) : less_value(a.first, b.first);
      });
      for (std::size_t k = 0; k < keyed.size(); ++k)
        hits[k] = keyed[k].second;
    }
  } else if (desc) {
    std::reverse(hits.begin(), hits.end());
  }
  list_page page;
  page.total = hits.size();
  auto end = std::min(hits.size(), q.offset + q.limit);
  for (auto i = q.offset; i < end; ++i)
    page.rows.push_back(hits[i]);
  if (end < hits.size())
    page.next = end;
  return page;
}

json list_torrents(const std::vector<const json*>& rows, const list_query& q) {
  list_source src;
  src.size = rows.size();
  src.state = [&](std::size_t i) {
    const auto& v = field_of(*rows[i], "state");
    return v.is_string() ? v.get<std::string>() : std::string{};
  };
  src.name = [&](std::size_t i) {
    const auto& v = field_of(*rows[i], "name");
    return v.is_string() ? v.get<std::string>() : std::string{};
  };
  src.has_label = [&](std::size_t i, const std::string& label) {
    const auto& labels = field_of(*rows[i], "labels");
    return labels.is_array() && std::find(labels.begin(), labels.end(), label) != labels.end();
  };
  src.value = [&](std::size_t i, const std::string& f) { return field_of(*rows[i], f); };
  auto page = select_page(src, q);
  json out = json::object();
  json list = json::array();
  for (auto i : page.rows)
    list.push_back(project(*rows[i], q.fields));
  out["torrents"] = std::move(list);
  out["next_cursor"] = page.next ? json(std::to_string(*page.next)) : json(nullptr);
  out["total"] = page.total;
  return out;
}

} // namespace actorrent::daemon
