// Choosing files of a multi-file torrent (`--select-file 1,3-5`, as aria2c):
// which files the user asked for, and what that means for pieces. CAF-free,
// unit-tested; see the report of the commit that added it for what is wired.
//
// Files are numbered from 1 in torrent order, pad files (BEP 47) left out: they
// are never written and no user picks them.
//
// A piece is wanted when it holds a byte of a selected file. A wanted piece
// that also holds bytes of an unselected (non-pad) file straddles a boundary:
// it must be downloaded and verified whole, but the bytes of the unselected
// file must not land in that file (they belong in a part file beside the
// resume data).
#pragma once

#include "protocol/metainfo.hpp"
#include "protocol/result.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace actorrent::logic {

/// Number of user files (non-pad entries) of `files`.
std::size_t user_file_count(const std::vector<file_entry>& files);

/// Parses "1,3-5" (numbers and ascending ranges, comma-separated, no blanks)
/// into one flag per entry of `files` (pad files: false). Repeats and overlaps
/// are allowed. Errors: "expected file numbers like 1,3-5, got 'x'", "file 7
/// does not exist (the torrent has 5 files)", "range 5-3 is backwards".
result<std::vector<bool>> parse_file_selection(std::string_view text, const std::vector<file_entry>& files);

/// One flag per piece: true if the piece holds a byte of a selected file.
/// `selected` has one flag per entry of `files`; a selected empty file needs
/// no piece.
std::vector<bool> wanted_pieces(const std::vector<bool>& selected, const std::vector<file_entry>& files,
                                std::uint64_t piece_length, std::uint32_t num_pieces);

/// The wanted pieces that also hold bytes of an unselected non-pad file, in
/// ascending order.
std::vector<std::uint32_t> boundary_pieces(const std::vector<bool>& selected, const std::vector<file_entry>& files,
                                           std::uint64_t piece_length, std::uint32_t num_pieces);

} // namespace actorrent::logic
