// Whether a download may write into files that already exist (issue 11): a
// file that happens to carry a torrent file's name, with no resume data of
// ours and no piece that verifies, is somebody else's and is not overwritten
// unless the user says --force. A file longer than the torrent says is cut to
// its size only when the download goes on writing into it.
#pragma once

#include "storage/file_layout.hpp"
#include "storage/resume_data.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace actorrent::storage {

struct overwrite_check {
  /// Files with bytes in them that nothing says are ours (empty when the data
  /// is ours: resume data, or a piece that verifies).
  std::vector<std::size_t> unrelated;
  /// Existing files longer than the torrent says.
  std::vector<std::size_t> too_long;
};

/// `stamps`: torrent_storage::file_stamps(); `verified`: the start-up check's
/// verdict (trusted resume pieces included); `have_resume`: resume data for
/// this torrent was found beside the data (even if it was not trusted).
overwrite_check check_overwrite(const file_layout& layout, const std::vector<file_stamp>& stamps,
                                const std::vector<bool>& verified, bool have_resume);

/// "refusing to overwrite ROOT/a (and N more files): it exists, but ..." for
/// the files of check.unrelated, naming them with `shown_root` + path.
std::string describe_unrelated(const file_layout& layout, const overwrite_check& check, const std::string& shown_root);

} // namespace actorrent::storage
