// actorrent: the command-line entry point. Subcommands live in cmd_*.cpp.
#include "app/commands.hpp"
#include "app/format.hpp"
#include "build_info.hpp" // generated: ACTORRENT_COMMIT
#include "net/quiet_sendfile.hpp"

#include <CLI/CLI.hpp>

#include <map>
#include <string>

namespace {

/// A word from the command line in quotes, cut at 64 bytes, control bytes shown as '?'.
std::string quote_word(const std::string& w) {
  std::string out = "'";
  for (std::size_t i = 0; i < w.size() && i < 64; ++i)
    out += (static_cast<unsigned char>(w[i]) < 0x20 || w[i] == 0x7f) ? '?' : w[i];
  return out + (w.size() > 64 ? "...'" : "'");
}

} // namespace

int main(int argc, char** argv) {
  using namespace actorrent::app;
  // every command may talk to peers, trackers or an API client that hangs up:
  // a write to it fails (EPIPE) instead of killing the process
  actorrent::net::ignore_sigpipe();
  CLI::App app{"actorrent: a BitTorrent client and swarm lab built on CAF", "actorrent"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"actorrent 0.1.0 (commit " ACTORRENT_COMMIT ")"});
  std::map<CLI::App*, command_runner> runners;
  auto reg = [&](command_runner (*add)(CLI::App&)) {
    auto before = app.get_subcommands({}).size();
    auto runner = add(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before)
      runners.emplace(subs.back(), std::move(runner));
  };
  reg(&add_info_command);
  reg(&add_create_command);
  reg(&add_download_command);
  reg(&add_seed_command);
  reg(&add_lab_command);
  reg(&add_settings_command);
  reg(&add_daemon_command);
  // A first word that is no option and no subcommand: name it (CLI11 would say
  // "A subcommand is required" or that the argument was not expected).
  if (argc > 1 && argv[1][0] != '-') {
    std::string word = argv[1];
    bool known = false;
    std::string names;
    for (auto* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == word;
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      bool magnet = word.rfind("magnet:", 0) == 0;
      bool file = !magnet && word.find('.') != std::string::npos;
      print_error("unknown command " + quote_word(word) + " (commands: " + names + ")"
                  + (magnet || file ? "; to download, run: actorrent download FILE.torrent" : "")
                  + "; see actorrent --help");
      return exit_usage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  for (auto* sub : app.get_subcommands())
    if (auto it = runners.find(sub); it != runners.end())
      return it->second();
  return exit_usage;
}
