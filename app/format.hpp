// Human-readable formatting shared by the subcommands.
#pragma once

#include <cstdint>
#include <string>

namespace actorrent::app {

/// "1.5 MiB", "425 B".
std::string human_size(std::uint64_t bytes);

/// Prints "actorrent: error: <msg>" to stderr.
void print_error(const std::string& msg);

/// True if stderr is a terminal (progress output).
bool stderr_is_tty();

} // namespace actorrent::app
