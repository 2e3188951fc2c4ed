// The subcommands of `actorrent`. Each registers its options on a CLI11 app and
// returns the exit code when run: 0 ok, 1 failure, 2 usage.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace actorrent::app {

/// 0 ok, 1 failure, 2 usage; a run stopped by SIGINT (Ctrl-C) or SIGTERM
/// exits 128 + the signal number (130, 143), as shells report it.
enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_signal_base = 128 };

/// A registered subcommand: what to call when CLI11 selected it.
using command_runner = std::function<int()>;

command_runner add_info_command(CLI::App& parent);
command_runner add_create_command(CLI::App& parent);
command_runner add_download_command(CLI::App& parent);
command_runner add_seed_command(CLI::App& parent);
command_runner add_lab_command(CLI::App& parent);
command_runner add_settings_command(CLI::App& parent);
command_runner add_daemon_command(CLI::App& parent);


} // namespace actorrent::app
