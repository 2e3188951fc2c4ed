// `actorrent settings [--config FILE.yaml] [--set NAME=VALUE ...] [--json]`:
// every tunable of the engine with its default, bounds, unit and meaning (and
// its value where the file or --set change it), from logic/settings.
#include "app/commands.hpp"
#include "app/download_config.hpp"
#include "app/format.hpp"
#include "logic/settings.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace actorrent::app {

namespace {

struct settings_cli {
  std::string config_file;
  std::vector<std::string> sets;
  bool json = false;
};

int run_settings(const settings_cli& cli) {
  download_options opts;
  if (auto err = apply_config_file(cli.config_file, opts)) {
    print_error(*err);
    return exit_usage;
  }
  for (auto& a : cli.sets)
    if (auto ok = logic::set_setting(opts.tunables, a); !ok) {
      print_error("--set: " + ok.error().message);
      return exit_usage;
    }
  if (auto ok = logic::validate(opts.tunables); !ok) {
    print_error(ok.error().message);
    return exit_usage;
  }
  if (!cli.json) {
    std::fputs(logic::describe_settings(opts.tunables).c_str(), stdout);
    return exit_ok;
  }
  const logic::settings defaults;
  auto list = nlohmann::ordered_json::array();
  for (auto& e : logic::default_setting_table()) {
    nlohmann::ordered_json j;
    j["name"] = e.name;
    j["value"] = opts.tunables.*(e.field);
    j["default"] = defaults.*(e.field);
    j["min"] = e.min;
    j["max"] = e.max;
    j["unit"] = logic::unit_name(e.unit);
    j["help"] = e.help;
    list.push_back(std::move(j));
  }
  std::printf("%s\n", list.dump(2).c_str());
  return exit_ok;
}

} // namespace

command_runner add_settings_command(CLI::App& parent) {
  auto cli = std::make_shared<settings_cli>();
  auto* cmd = parent.add_subcommand("settings", "List every tunable: default, range, unit, meaning "
                                                "(set them with --set NAME=VALUE or in the YAML file)");
  cmd->add_option("--config", cli->config_file, "Show the values this YAML file sets");
  cmd->add_option("--set", cli->sets, "Show the value NAME=VALUE sets (repeatable)")->allow_extra_args(false);
  cmd->add_flag("--json", cli->json, "A JSON list of {name, value, default, min, max, unit, help}");
  return [cli] { return run_settings(*cli); };
}

} // namespace actorrent::app
