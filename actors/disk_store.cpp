#include "actors/disk_store.hpp"

#include <caf/all.hpp>

namespace actorrent {

namespace {

constexpr std::uint32_t block_size = 16 * 1024;

caf::error disk_error(std::string msg) { return caf::make_error(caf::sec::runtime_error, std::move(msg)); }

} // namespace

disk_actor::behavior_type disk_store(disk_actor::stateful_pointer<disk_state> self, disk_config cfg) {
  auto& st = self->state;
  st.torrent = cfg.torrent;
  st.check_threads = cfg.check_threads;
  auto opened = storage::torrent_storage::open(*cfg.torrent, cfg.root);
  if (!opened) {
    self->quit(disk_error("cannot open storage in " + cfg.root + ": " + opened.error().message));
    return disk_actor::behavior_type::make_empty_behavior();
  }
  st.storage.emplace(std::move(*opened));
  return {
    [self](block_atom, block_data& bd) {
      auto& st = self->state;
      auto data = std::span<const std::uint8_t>{reinterpret_cast<const std::uint8_t*>(bd.bytes.data()),
                                                bd.bytes.size()};
      if (auto pad = st.storage->layout().check_pad(bd.piece, bd.offset, data); !pad) {
        // the sender's fault: the hash check will fail the piece and blame it
        return;
      }
      if (auto w = st.storage->write(bd.piece, bd.offset, data); !w) {
        self->quit(disk_error("write failed: " + w.error().message));
        return;
      }
      st.bytes_written += data.size();
    },
    [self](hash_atom, std::uint32_t piece, bool with_blocks) -> caf::result<piece_verdict> {
      auto& st = self->state;
      piece_verdict v;
      v.piece = piece;
      auto size = static_cast<std::size_t>(st.torrent->piece_size(piece));
      st.piece_buffer.resize(size);
      if (auto r = st.storage->read(piece, 0, st.piece_buffer); !r) {
        v.ok = false; // unreadable: treat as failed, the piece is fetched again
        return v;
      }
      v.ok = sha1(st.piece_buffer.data(), size) == st.torrent->piece_hash(piece);
      if (!v.ok || with_blocks)
        for (std::size_t off = 0; off < size; off += block_size)
          v.block_hashes.push_back(sha1(st.piece_buffer.data() + off, std::min<std::size_t>(block_size, size - off)));
      return v;
    },
    [self](check_atom) -> caf::result<std::vector<bool>> {
      auto& st = self->state;
      auto res = st.storage->check_existing(st.check_threads);
      if (!res)
        return disk_error("checking existing data failed: " + res.error().message);
      return std::move(*res);
    },
    [self](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (auto c = st.storage->create_all_files(); !c)
        return disk_error("creating files failed: " + c.error().message);
      if (auto f = st.storage->flush(); !f)
        return disk_error("flush failed: " + f.error().message);
      return true;
    },
  };
}

} // namespace actorrent
