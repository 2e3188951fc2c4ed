// torrents.list without actors: filter, sort, choose fields and page through
// the session's rows (one JSON object per torrent, every field). Tested on
// its own; the session actor only builds the rows.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace actorrent::daemon {

/// The fields every row carries (torrents.list `fields` chooses among them).
const std::vector<std::string>& torrent_fields();

/// The API states a torrent can be in.
const std::vector<std::string>& torrent_states();

struct list_query {
  std::optional<std::string> state;
  std::optional<std::string> label;
  std::optional<std::string> name;          ///< substring, ASCII case ignored
  std::string sort = "added";               ///< a field; "-field" sorts descending
  std::vector<std::string> fields;          ///< empty: every field
  std::size_t limit = 1000;
  std::size_t offset = 0;                   ///< from the cursor
};

inline constexpr std::size_t max_list_limit = 10000;

/// Reads torrents.list params; throws rpc::rpc_error (invalid_params) naming the field.
list_query parse_list_query(const nlohmann::json& params);

/// Checks a `fields` list (unknown names are invalid_params).
std::vector<std::string> parse_fields(const nlohmann::json& params);

/// Only `fields` of `row` (all when empty).
nlohmann::json project(const nlohmann::json& row, const std::vector<std::string>& fields);

/// What select_page reads of row i of `size` rows (kept in id order).
struct list_source {
  std::size_t size = 0;
  std::function<std::string(std::size_t)> state;
  std::function<std::string(std::size_t)> name;
  std::function<bool(std::size_t, const std::string&)> has_label;
  std::function<nlohmann::json(std::size_t, const std::string& field)> value; ///< for sorting
};

/// One page of a listing: the rows shown (indices), how many matched, and the
/// offset of the next page (none at the end).
struct list_page {
  std::vector<std::size_t> rows;
  std::size_t total = 0;
  std::optional<std::size_t> next;
};

/// Filters, sorts (ties by id, i.e. by index) and pages `src` as `q` asks.
list_page select_page(const list_source& src, const list_query& q);

/// {torrents: [...], next_cursor: "N" or null, total: matching rows}. The
/// cursor is the offset of the next page in the same filter and sort. `rows`
/// must be in id order.
nlohmann::json list_torrents(const std::vector<const nlohmann::json*>& rows, const list_query& q);

} // namespace actorrent::daemon
