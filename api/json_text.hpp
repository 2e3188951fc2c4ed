// Appends a JSON value's text to a string, for answers assembled piece by
// piece (a torrents.list page writes thousands of small values): no string
// per value, only nlohmann-json's public interface. Invalid UTF-8 in strings
// (a torrent's name is bytes from its metainfo) becomes U+FFFD, as
// json::dump(..., error_handler_t::replace) does; NaN and infinities become null.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace actorrent::api {

/// Appends `v` as compact JSON text to `out`.
void append_json(std::string& out, const nlohmann::json& v);

/// Numbers as append_json writes them (a double always with a fraction or an
/// exponent, so it reads back as a float; NaN and infinities as null).
void append_json_int(std::string& out, std::int64_t v);
void append_json_uint(std::string& out, std::uint64_t v);
void append_json_double(std::string& out, double v);

/// Appends `s` as a JSON string (quotes included) to `out`.
void append_json_string(std::string& out, std::string_view s);

} // namespace actorrent::api
