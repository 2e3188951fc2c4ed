// Progress output of `actorrent download`: plain formatting functions (no
// actors, no I/O except terminal_columns), so every string is unit-tested.
//
//   [=====>    ]  45.2%  120.5 MiB/1.0 GiB  23.4 MiB/s  ETA 0:42  peers 3 (seeds 2)
#pragma once

#include "messages/types.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace actorrent::app {

/// "0 B", "1023 B", "1.0 KiB", "120.5 MiB", "1.0 GiB": bytes below 1 KiB as an
/// integer, larger sizes with one decimal in the largest unit that keeps the
/// number below 1024 after rounding (so 1048575 bytes is "1.0 MiB", never
/// "1024.0 KiB").
std::string format_bytes(std::uint64_t bytes);

/// "23.4 MiB/s", "512 B/s"; negative, NaN and infinite rates are "0 B/s".
std::string format_rate(double bytes_per_second);

/// "0:42", "12:05", "1:02:03", "23:59:59"; a day or more is "1d 02h"; from 1000
/// days on ">999d".
std::string format_duration(std::uint64_t seconds);

/// Seconds until done at `rate` bytes/s: 0 when nothing is left, nullopt when
/// something is left but the rate is not positive (unknown). Rounded up.
std::optional<std::uint64_t> eta_seconds(std::uint64_t total, std::uint64_t have, double rate);

/// format_duration of a known ETA, "--:--" for an unknown one.
std::string format_eta(std::optional<std::uint64_t> seconds);

/// Tenths of a percent, rounded down so that "100.0" means really done;
/// 1000 when total is 0. Clamped to 1000.
std::uint32_t permille(std::uint64_t have, std::uint64_t total);

/// "45.2%", "0.0%", "100.0%" (from permille).
std::string format_percent(std::uint64_t have, std::uint64_t total);

/// A bar of exactly `width` characters (at least 3): "[=====>    ]". The inner
/// part is filled in proportion to have/total, rounded down; a '>' marks the
/// head unless the bar is full. Widths below 3 give "".
std::string render_bar(std::uint64_t have, std::uint64_t total, std::size_t width);

/// The text after the bar, without it:
/// "45.2%  120.5 MiB/1.0 GiB  23.4 MiB/s  ETA 0:42  peers 3 (seeds 2)".
std::string status_text(const torrent_status& st);

/// Share ratio uploaded / size with two decimals ("1.25").
std::string format_ratio(std::uint64_t uploaded, std::uint64_t total_size);

/// The terminal line: a bar plus status_text, fitted into `columns - 1`
/// characters (the last column stays free so the terminal never wraps). The
/// percent, the bytes we have and the rate are padded to fixed widths so the bar
/// keeps its size. The bar takes what the text leaves (at least 8 characters)
/// beside all parts, or else beside all parts but the peers; when no bar fits,
/// the line is the text alone, leaving out the peers, then size, then ETA, then
/// rate parts until it fits, and is cut as a last resort.
std::string render_progress_line(const torrent_status& st, std::size_t columns);

/// Width of the terminal on `fd` (TIOCGWINSZ), or `fallback` when it is not a
/// terminal or reports 0 columns.
std::size_t terminal_columns(int fd, std::size_t fallback = 80);

/// One progress object for --json-progress, keys in this order: event (e.g.
/// "progress", "complete"), name, info_hash, percent, have_bytes,
/// total_size, downloaded, uploaded, wasted, down_rate, up_rate, peers, seeds,
/// pieces_have, pieces_total, eta_seconds (null if unknown), hash_failures,
/// banned, complete, tracker (and more: see progress.cpp; "have" is the
/// verified pieces as a hex bitfield). Rates are whole bytes/s; percent has one decimal
/// (rounded down, as shown on the bar).
nlohmann::ordered_json progress_json(const std::string& name, const std::string& info_hash,
                             const torrent_status& st, const std::string& event);

/// A peer's flags as letters, in this order: "I" it dialled us (incoming), "S"
/// seed, "i" interested in our pieces, "U" unchoked by us, "s" snubbed; "-" for
/// none.
std::string format_peer_flags(const peer_info& p);

/// The peer list for people: a header line and one line per peer, fastest
/// download first (then address), in aligned columns:
/// "ADDRESS  CLIENT  DOWN  UP  DOWNLOADED  UPLOADED  FLAGS". "no peers" alone
/// when there are none.
std::vector<std::string> peer_table(const torrent_status& st);

/// A JSON `peers` event: event "peers", name, info_hash, and `peers`: a list of
/// {address, client, down_rate, up_rate, downloaded, uploaded, flags,
/// incoming, seed, interested, unchoked, snubbed}, in peer_table's order.
nlohmann::ordered_json peers_json(const std::string& name, const std::string& info_hash, const torrent_status& st);

/// "download complete: NAME (SIZE), GOT downloaded in T s (avg RATE)": GOT is
/// what this run received (`downloaded`), not the torrent's size, and the
/// average is GOT over `seconds` ("0 B/s" for no time). With nothing
/// received: "download complete: NAME (SIZE), nothing downloaded: the data was
/// already here (checked in T s)".
std::string format_summary(const std::string& name, std::uint64_t total_size, double seconds,
                           std::uint64_t downloaded);

} // namespace actorrent::app
