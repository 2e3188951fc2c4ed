#include "storage/file_layout.hpp"

#include <algorithm>
#include <string>

namespace actorrent::storage {

result<file_layout> file_layout::create(const metainfo& mi) {
  if (mi.piece_length == 0)
    return make_error("piece length must be positive");
  file_layout out;
  out.piece_length_ = mi.piece_length;
  std::uint64_t pos = 0;
  for (std::size_t i = 0; i < mi.files.size(); ++i) {
    const auto& f = mi.files[i];
    if (f.symlink && f.size != 0)
      return make_error("symlink file " + std::to_string(i) + " has non-zero size "
                        + std::to_string(f.size));
    if (f.offset != pos)
      return make_error("file " + std::to_string(i) + " has offset " + std::to_string(f.offset)
                        + ", expected " + std::to_string(pos));
    if (f.size > UINT64_MAX - pos)
      return make_error("file sizes overflow at file " + std::to_string(i));
    if (f.size > 0) {
      out.data_files_.push_back(i);
      out.data_offsets_.push_back(pos);
    }
    pos += f.size;
  }
  if (pos != mi.total_size)
    return make_error("file sizes add up to " + std::to_string(pos) + ", not total size "
                      + std::to_string(mi.total_size));
  if (pos == 0)
    return make_error("torrent has no data (total size 0)");
  out.total_size_ = pos;
  const auto pieces = pos / mi.piece_length + (pos % mi.piece_length != 0 ? 1 : 0);
  if (mi.piece_hashes.size() % 20 != 0 || mi.num_pieces() != pieces)
    return make_error("incorrect number of piece hashes: " + std::to_string(mi.piece_hashes.size() / 20)
                      + " for " + std::to_string(pieces) + " pieces");
  out.num_pieces_ = static_cast<std::size_t>(pieces);
  out.files_ = mi.files;
  return out;
}

std::uint64_t file_layout::piece_size(std::size_t piece) const noexcept {
  if (piece >= num_pieces_)
    return 0;
  const std::uint64_t begin = static_cast<std::uint64_t>(piece) * piece_length_;
  return std::min(piece_length_, total_size_ - begin);
}

status file_layout::check_block(std::size_t piece, std::uint64_t offset, std::uint64_t length) const {
  if (piece >= num_pieces_)
    return make_error("piece index " + std::to_string(piece) + " out of range (" + std::to_string(num_pieces_)
                      + " pieces)");
  const auto size = piece_size(piece);
  if (offset > size || length > size - offset)
    return make_error("block at offset " + std::to_string(offset) + " with length " + std::to_string(length)
                      + " exceeds piece " + std::to_string(piece) + " of size " + std::to_string(size));
  return {};
}

result<std::vector<file_slice>> file_layout::map_block(std::size_t piece, std::uint64_t offset,
                                                       std::uint64_t length) const {
  if (auto st = check_block(piece, offset, length); !st)
    return st.error();
  return map_range(static_cast<std::uint64_t>(piece) * piece_length_ + offset, length);
}

std::vector<file_slice> file_layout::map_range(std::uint64_t torrent_offset, std::uint64_t length) const {
  std::vector<file_slice> out;
  if (torrent_offset >= total_size_ || length == 0)
    return out;
  const std::uint64_t end = torrent_offset + std::min(length, total_size_ - torrent_offset);
  // the last data file starting at or before torrent_offset holds it
  auto it = std::upper_bound(data_offsets_.begin(), data_offsets_.end(), torrent_offset);
  auto k = static_cast<std::size_t>(it - data_offsets_.begin()) - 1; // data_offsets_[0] == 0
  std::uint64_t pos = torrent_offset;
  for (; k < data_files_.size() && pos < end; ++k) {
    const auto& f = files_[data_files_[k]];
    const auto in_file = pos - f.offset;
    const auto n = std::min(end - pos, f.size - in_file);
    out.push_back(file_slice{data_files_[k], in_file, n, pos - torrent_offset, f.pad});
    pos += n;
  }
  return out;
}

status file_layout::check_pad(std::size_t piece, std::uint64_t offset,
                              std::span<const std::uint8_t> data) const {
  auto slices = map_block(piece, offset, data.size());
  if (!slices)
    return slices.error();
  for (const auto& s : *slices) {
    if (!s.pad)
      continue;
    const auto* begin = data.data() + s.buffer_offset;
    const auto* bad = std::find_if(begin, begin + s.length, [](std::uint8_t b) { return b != 0; });
    if (bad != begin + s.length) {
      const auto at = static_cast<std::size_t>(bad - data.data());
      return make_error("non-zero data in pad file " + std::to_string(s.file_index) + " at piece "
                          + std::to_string(piece) + " offset " + std::to_string(offset + at),
                        at);
    }
  }
  return {};
}

file_layout::piece_range file_layout::file_pieces(std::size_t file_index) const {
  if (file_index >= files_.size() || files_[file_index].size == 0)
    return {};
  const auto& f = files_[file_index];
  return {static_cast<std::size_t>(f.offset / piece_length_),
          static_cast<std::size_t>((f.offset + f.size - 1) / piece_length_ + 1)};
}

} // namespace actorrent::storage
