// `actorrent info FILE.torrent [--json]`: what a torrent holds.
#include "app/commands.hpp"
#include "app/format.hpp"
#include "protocol/metainfo.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

namespace actorrent::app {

namespace {

struct info_options {
  std::string file;
  bool json = false;
};

nlohmann::json to_json(const metainfo& mi) {
  nlohmann::json j;
  j["name"] = mi.name;
  j["info_hash"] = mi.info_hash.hex();
  j["piece_length"] = mi.piece_length;
  j["piece_count"] = mi.num_pieces();
  j["total_size"] = mi.total_size;
  j["private"] = mi.is_private;
  j["multi_file"] = mi.multi_file;
  j["hybrid"] = mi.hybrid;
  auto& files = j["files"] = nlohmann::json::array();
  for (auto& f : mi.files) {
    nlohmann::json jf{{"path", f.path}, {"size", f.size}, {"offset", f.offset}, {"pad", f.pad}};
    if (f.executable)
      jf["executable"] = true;
    if (f.hidden)
      jf["hidden"] = true;
    if (f.symlink) {
      jf["symlink"] = true;
      jf["symlink_target"] = f.symlink_target;
    }
    files.push_back(std::move(jf));
  }
  j["trackers"] = mi.trackers;
  j["url_list"] = mi.url_list;
  j["comment"] = mi.comment;
  j["created_by"] = mi.created_by;
  j["creation_date"] = mi.creation_date ? nlohmann::json(*mi.creation_date) : nlohmann::json(nullptr);
  return j;
}

void print_text(const metainfo& mi) {
  std::printf("name:         %s\n", mi.name.c_str());
  std::printf("info-hash:    %s%s\n", mi.info_hash.hex().c_str(), mi.hybrid ? " (v1 of a hybrid v1/v2 torrent)" : "");
  std::printf("piece length: %s (%llu bytes)\n", human_size(mi.piece_length).c_str(),
              static_cast<unsigned long long>(mi.piece_length));
  std::printf("pieces:       %zu\n", mi.num_pieces());
  std::printf("total size:   %s (%llu bytes)\n", human_size(mi.total_size).c_str(),
              static_cast<unsigned long long>(mi.total_size));
  std::printf("private:      %s\n", mi.is_private ? "yes" : "no");
  if (!mi.comment.empty())
    std::printf("comment:      %s\n", mi.comment.c_str());
  if (!mi.created_by.empty())
    std::printf("created by:   %s\n", mi.created_by.c_str());
  if (mi.creation_date) {
    std::time_t t = static_cast<std::time_t>(*mi.creation_date);
    char buf[64] = "?";
    if (std::tm tm{}; gmtime_r(&t, &tm) != nullptr)
      std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
    std::printf("created:      %s\n", buf);
  }
  if (mi.trackers.empty()) {
    std::printf("trackers:     none\n");
  } else {
    std::printf("trackers:\n");
    for (std::size_t t = 0; t < mi.trackers.size(); ++t)
      for (auto& url : mi.trackers[t])
        std::printf("  tier %zu: %s\n", t + 1, url.c_str());
  }
  for (auto& url : mi.url_list)
    std::printf("web seed:     %s\n", url.c_str());
  std::printf("files (%zu):\n", mi.files.size());
  for (auto& f : mi.files)
    std::printf("  %12llu  %s%s\n", static_cast<unsigned long long>(f.size), f.path.c_str(),
                f.pad ? "  [pad]" : f.symlink ? ("  -> " + f.symlink_target).c_str() : "");
}

int run_info(const info_options& opts) {
  auto mi = load_metainfo_file(opts.file);
  if (!mi) {
    print_error(opts.file + ": " + mi.error().to_string());
    return exit_failure;
  }
  if (opts.json) {
    std::cout << to_json(*mi).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    print_text(*mi);
  }
  return exit_ok;
}

} // namespace

command_runner add_info_command(CLI::App& parent) {
  auto opts = std::make_shared<info_options>();
  auto* cmd = parent.add_subcommand("info", "Show what a .torrent file holds");
  cmd->add_option("file", opts->file, "The .torrent file")->required();
  cmd->add_flag("--json", opts->json, "Print JSON for scripts");
  return [opts] { return run_info(*opts); };
}

} // namespace actorrent::app
