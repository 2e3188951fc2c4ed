// Helpers shared by the storage unit tests: temporary directories and
// hand-built torrents with known content. Include after
// <caf/test/unit_test.hpp> (the helpers use CAF_REQUIRE).
#pragma once

#include "storage/torrent_storage.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace actorrent::test {

using storage::storage_options;
using storage::torrent_storage;

// A fresh directory under /tmp, removed (without following symlinks) at the end.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/actorrent-storage-XXXXXX";
    auto* p = ::mkdtemp(tmpl);
    CAF_REQUIRE(p != nullptr);
    path = p;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

struct spec {
  std::string path;
  std::uint64_t size;
  bool pad = false;
};

struct torrent {
  metainfo mi;
  std::string content; // the whole byte stream, pad files as zeroes
};

inline torrent make_torrent(const std::vector<spec>& files, std::uint64_t piece_length, std::uint64_t seed = 1) {
  torrent t;
  std::mt19937_64 rng{seed};
  t.mi.name = "name";
  t.mi.multi_file = files.size() > 1;
  t.mi.piece_length = piece_length;
  for (const auto& s : files) {
    file_entry fe;
    fe.path = s.path;
    fe.size = s.size;
    fe.offset = t.content.size();
    fe.pad = s.pad;
    for (std::uint64_t i = 0; i < s.size; ++i)
      t.content.push_back(s.pad ? '\0' : static_cast<char>(rng()));
    t.mi.files.push_back(fe);
  }
  t.mi.total_size = t.content.size();
  for (std::size_t off = 0; off < t.content.size(); off += piece_length)
    t.mi.piece_hashes += std::string{sha1(std::string_view{t.content}.substr(off, piece_length)).view()};
  return t;
}

// name/a | pad | name/dir/b | name/e2 (empty) | name/c | pad | name/d, with an
// empty name/e1 after a: 9 pieces of 32 KiB, the last one 1696 bytes. Piece 4
// holds the end of b, e2, c and a pad file.
inline torrent sample_torrent() {
  return make_torrent({{"name/a", 37000},
                       {"name/e1", 0},
                       {"name/.pad/28536", 28536, true},
                       {"name/dir/b", 70000},
                       {"name/e2", 0},
                       {"name/c", 5},
                       {"name/.pad/28299", 28299, true},
                       {"name/d", 100000}},
                      32768);
}

inline std::span<const std::uint8_t> bytes(const std::string& s, std::size_t off, std::size_t len) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + off, len};
}

inline torrent_storage open_storage(const torrent& t, const std::string& root, storage_options opts = {}) {
  auto st = torrent_storage::open(t.mi, root, opts);
  CAF_REQUIRE(st.ok());
  return std::move(*st);
}

// Writes every piece in 16 KiB blocks, in random order.
inline void write_all(torrent_storage& st, const torrent& t, std::uint64_t seed = 7) {
  struct blk {
    std::size_t piece;
    std::uint64_t off, len;
  };
  std::vector<blk> blocks;
  const auto& l = st.layout();
  for (std::size_t p = 0; p < l.num_pieces(); ++p)
    for (std::uint64_t off = 0; off < l.piece_size(p); off += 16384)
      blocks.push_back({p, off, std::min<std::uint64_t>(16384, l.piece_size(p) - off)});
  std::mt19937_64 rng{seed};
  std::shuffle(blocks.begin(), blocks.end(), rng);
  for (auto& b : blocks) {
    auto r = st.write(b.piece, b.off, bytes(t.content, b.piece * l.piece_length() + b.off, b.len));
    CAF_REQUIRE(r.ok());
  }
}

inline std::string error_of(const status& s) { return s ? "ok" : s.error().message; }

template <class T>
inline std::string error_of(const result<T>& r) {
  return r ? "ok" : r.error().message;
}

inline std::string pieces_str(const std::vector<bool>& v) {
  std::string s;
  for (bool b : v)
    s += b ? '1' : '0';
  return s;
}

// Records check_existing's progress calls (from any thread).
struct progress_log {
  std::mutex mtx;
  std::size_t calls = 0;
  std::size_t total = 0; ///< the last call's total
  torrent_storage::progress_fn fn() {
    return [this](std::size_t, std::size_t n) {
      std::lock_guard<std::mutex> g{mtx};
      ++calls;
      total = n;
    };
  }
};

} // namespace actorrent::test
