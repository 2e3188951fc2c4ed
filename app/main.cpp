// actorrent: the command-line entry point. Subcommands live in cmd_*.cpp.
#include "app/commands.hpp"
#include "app/format.hpp"
#include "build_info.hpp" // generated: ACTORRENT_COMMIT

#include <CLI/CLI.hpp>

#include <map>

int main(int argc, char** argv) {
  using namespace actorrent::app;
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
