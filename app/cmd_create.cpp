// `actorrent create PATH -t TRACKER...`: make a v1 .torrent of a file or a
// directory. Pieces are hashed on every core; the output is deterministic (no
// creation date unless --date is given, files in bytewise order).
#include "app/commands.hpp"
#include "app/format.hpp"
#include "protocol/metainfo.hpp"
#include "protocol/metainfo_writer.hpp"
#include "storage/content_scan.hpp"
#include "storage/piece_hasher.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>

#include <fcntl.h>
#include <unistd.h>

namespace actorrent::app {

namespace {

struct create_options {
  std::string path;
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;
  std::string output;
  std::string piece_length;
  std::string name;
  std::string comment;
  bool is_private = false;
  bool date = false;
  bool force = false;
  bool json = false;
  bool quiet = false;
  unsigned threads = 0;
};

// "262144", "256K", "256KiB", "1M": a power of two from 16 KiB to 64 MiB.
result<std::uint64_t> parse_piece_length(const std::string& text) {
  std::size_t pos = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &pos);
  } catch (...) {
    return make_error("invalid piece length '" + text + "'");
  }
  auto suffix = text.substr(pos);
  std::uint64_t mult = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB")
    mult = 1024;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB")
    mult = 1024 * 1024;
  else if (!suffix.empty())
    return make_error("invalid piece length suffix '" + suffix + "' (use K or M)");
  std::uint64_t len = v * mult;
  if (len < 16 * 1024 || len > 64ull * 1024 * 1024 || (len & (len - 1)) != 0)
    return make_error("piece length must be a power of two from 16 KiB to 64 MiB, got '" + text + "'");
  return len;
}

status write_file_atomically(const std::string& path, const std::string& data, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!force && fs::exists(path, ec))
    return make_error(path + " exists (use --force to overwrite)");
  auto tmp = path + ".part";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error("cannot write " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      auto err = std::string{std::strerror(errno)};
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error("cannot write " + tmp + ": " + err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = std::string{std::strerror(errno)};
    ::unlink(tmp.c_str());
    return make_error("cannot rename " + tmp + " to " + path + ": " + err);
  }
  return {};
}

int run_create(const create_options& opts) {
  auto content = storage::scan_content(opts.path);
  if (!content) {
    print_error(content.error().to_string());
    return exit_failure;
  }
  if (content->total_size == 0) {
    print_error(opts.path + ": total size is 0 bytes, nothing to share");
    return exit_failure;
  }
  for (auto& s : content->skipped)
    std::fprintf(stderr, "actorrent: warning: skipped %s (not a regular file; symbolic links are not followed)\n",
                 s.c_str());
  torrent_spec spec;
  spec.name = opts.name.empty() ? content->name : opts.name;
  if (sanitize_path_element(spec.name).size() != 1 || spec.name.find('/') != std::string::npos) {
    print_error("invalid torrent name '" + spec.name + "'");
    return exit_usage;
  }
  spec.multi_file = content->is_directory;
  if (opts.piece_length.empty()) {
    spec.piece_length = default_piece_length(content->total_size);
  } else {
    auto pl = parse_piece_length(opts.piece_length);
    if (!pl) {
      print_error(pl.error().message);
      return exit_usage;
    }
    spec.piece_length = *pl;
  }
  for (auto& t : opts.trackers) {
    std::vector<std::string> tier;
    std::size_t start = 0;
    while (start <= t.size()) {
      auto comma = t.find(',', start);
      auto url = t.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!url.empty())
        tier.push_back(url);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    if (!tier.empty())
      spec.trackers.push_back(std::move(tier));
  }
  spec.url_list = opts.web_seeds;
  spec.is_private = opts.is_private;
  spec.comment = opts.comment;
  spec.created_by = "actorrent 0.1.0";
  if (opts.date)
    spec.creation_date = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<storage::hash_source> sources;
  for (auto& f : content->files) {
    sources.push_back({f.full_path, f.size});
    spec.files.push_back({f.components, f.size, f.executable});
  }
  storage::hash_options hopts;
  hopts.piece_length = spec.piece_length;
  hopts.threads = opts.threads;
  const bool show_progress = !opts.quiet && !opts.json && stderr_is_tty();
  std::mutex progress_mtx;
  auto last = std::chrono::steady_clock::now();
  if (show_progress)
    hopts.progress = [&](std::size_t done, std::size_t total) {
      std::lock_guard<std::mutex> g{progress_mtx};
      auto now = std::chrono::steady_clock::now();
      if (done != total && now - last < std::chrono::milliseconds(100))
        return;
      last = now;
      std::fprintf(stderr, "\rhashing: %3zu%% (%zu/%zu pieces)", done * 100 / total, done, total);
      if (done == total)
        std::fputc('\n', stderr);
    };
  auto started = std::chrono::steady_clock::now();
  auto hashes = storage::hash_pieces(sources, hopts);
  if (!hashes) {
    print_error(hashes.error().to_string());
    return exit_failure;
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (auto& h : *hashes)
    spec.piece_hashes.append(h.view());
  auto bytes = write_metainfo(spec);
  if (!bytes) {
    print_error(bytes.error().message);
    return exit_failure;
  }
  // read our own output back: what we write must load
  auto check = parse_metainfo(*bytes);
  if (!check) {
    print_error("internal error: the new torrent does not load: " + check.error().to_string());
    return exit_failure;
  }
  auto out = opts.output.empty() ? spec.name + ".torrent" : opts.output;
  if (auto st = write_file_atomically(out, *bytes, opts.force); !st) {
    print_error(st.error().message);
    return exit_failure;
  }
  if (opts.json) {
    nlohmann::json j{{"torrent", out},
                     {"name", check->name},
                     {"info_hash", check->info_hash.hex()},
                     {"piece_length", check->piece_length},
                     {"piece_count", check->num_pieces()},
                     {"total_size", check->total_size},
                     {"files", check->files.size()},
                     {"hash_seconds", seconds}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else if (!opts.quiet) {
    std::printf("created %s\n", out.c_str());
    std::printf("info-hash: %s\n", check->info_hash.hex().c_str());
    std::printf("%zu file(s), %s in %zu pieces of %s (hashed in %.2f s)\n", check->files.size(),
                human_size(check->total_size).c_str(), check->num_pieces(),
                human_size(check->piece_length).c_str(), seconds);
  }
  return exit_ok;
}

} // namespace

command_runner add_create_command(CLI::App& parent) {
  auto opts = std::make_shared<create_options>();
  auto* cmd = parent.add_subcommand("create", "Make a .torrent file of a file or a directory");
  cmd->add_option("path", opts->path, "File or directory to share")->required();
  cmd->add_option("-t,--tracker", opts->trackers,
                  "Tracker announce URL; repeat for backup tiers, separate with commas for one tier");
  cmd->add_option("-o,--output", opts->output, "Where to write the torrent (default: NAME.torrent)");
  cmd->add_option("-l,--piece-length", opts->piece_length,
                  "Piece length, a power of two from 16K to 64M (default: about 1,000-2,000 pieces)");
  cmd->add_option("-n,--name", opts->name, "Torrent name (default: the base name of PATH)");
  cmd->add_option("-c,--comment", opts->comment, "Free-text comment");
  cmd->add_option("-w,--web-seed", opts->web_seeds, "BEP 19 web seed URL (repeatable)");
  cmd->add_flag("-p,--private", opts->is_private, "Set the private flag (BEP 27)");
  cmd->add_flag("--date", opts->date, "Record the creation date (makes the output time-dependent)");
  cmd->add_flag("-f,--force", opts->force, "Overwrite the output file");
  cmd->add_option("-j,--threads", opts->threads, "Hashing threads (default: one per core)");
  cmd->add_flag("--json", opts->json, "Print a JSON summary");
  cmd->add_flag("-q,--quiet", opts->quiet, "Print nothing on success");
  return [opts] { return run_create(*opts); };
}

} // namespace actorrent::app
