// libFuzzer target for the resume-data codec (decode_resume, encode_resume).
//
// Every input is decoded as a resume file for two fixed torrents, built once
// from bencoded metainfo: a single file of 8 pieces (the bitfield has no spare
// bits) and five files of 5 pieces with a pad file and an empty file (3 spare
// bits), and against the first one's layout with the second one's info-hash.
// When the decoder accepts, the result must fit the torrent (one entry
// per piece and per file, its info-hash, a missing file is [0 0 0], counters
// and sizes within int64) and the codec must be canonical: encoding the result
// gives back the input byte for byte, and that decodes to the same data. When it
// refuses, the error must be a "bad resume data" message with an offset inside
// the input.
//
// The same bytes also describe a resume_data value x for each torrent (through
// FuzzedDataProvider), which must survive decode(encode(x)) as x with its
// counters clamped to int64 and missing files as [0 0 0]. Any broken invariant
// calls abort(), which libFuzzer reports as a crash.

#include "fuzz/fuzz_check.hpp"
#include "protocol/metainfo.hpp"
#include "storage/file_layout.hpp"
#include "storage/resume_data.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

using namespace actorrent;
using namespace actorrent::storage;

namespace {

constexpr std::uint64_t int64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

struct fixture {
  file_layout layout;
  sha1_hash info_hash;
};

// `info_head` is the info dictionary without its "pieces" key and closing "e"
// (which sort last here); the piece hashes are filler, nothing is hashed.
fixture make_fixture(const std::string& info_head, std::size_t num_pieces) {
  const std::string hashes(num_pieces * 20, '\x5a');
  const auto torrent = "d4:infod" + info_head + "6:pieces" + std::to_string(hashes.size()) + ":" + hashes + "ee";
  auto mi = parse_metainfo(torrent, metainfo_limits{});
  FUZZ_CHECK_MSG(mi.ok(), mi.ok() ? std::string{} : mi.error().message);
  auto layout = file_layout::create(*mi);
  FUZZ_CHECK_MSG(layout.ok(), layout.ok() ? std::string{} : layout.error().message);
  FUZZ_CHECK(layout->num_pieces() == num_pieces);
  return {std::move(*layout), mi->info_hash};
}

const std::vector<fixture>& fixtures() {
  static const std::vector<fixture> all = [] {
    std::vector<fixture> v;
    // 8 * 16384 - 100 bytes: 8 pieces, the last one short
    v.push_back(make_fixture("6:lengthi130972e4:name5:a.bin12:piece lengthi16384e", 8));
    // a | pad (to the piece boundary) | dir/b | e (empty) | c: 135541 bytes, 5 pieces
    v.push_back(make_fixture("5:filesl"
                             "d6:lengthi37000e4:pathl1:aee"
                             "d4:attr1:p6:lengthi28536e4:pathl4:.pad5:28536ee"
                             "d6:lengthi70000e4:pathl3:dir1:bee"
                             "d6:lengthi0e4:pathl1:eee"
                             "d6:lengthi5e4:pathl1:cee"
                             "e4:name4:root12:piece lengthi32768e",
                             5));
    FUZZ_CHECK(v[1].layout.num_files() == 5);
    return v;
  }();
  return all;
}

std::string error_text(const error_info& err) {
  return err.message + " at offset " + std::to_string(err.offset);
}

// What decode(encode(x)) must give: the form the file format can hold.
resume_data storable(resume_data x) {
  for (auto& f : x.files) {
    if (!f.exists)
      f = file_stamp{};
    f.size = std::min(f.size, int64_max);
  }
  for (auto* c : {&x.uploaded, &x.downloaded, &x.seconds_active})
    *c = std::min(*c, int64_max);
  return x;
}

void check_accepted(const resume_data& r, std::string_view input, const fixture& fx) {
  const auto& layout = fx.layout;
  FUZZ_CHECK(input.size() <= max_resume_size(layout));
  FUZZ_CHECK(r.info_hash == fx.info_hash);
  FUZZ_CHECK(r.pieces.size() == layout.num_pieces());
  FUZZ_CHECK(r.files.size() == layout.num_files());
  for (const auto& f : r.files) {
    FUZZ_CHECK(f.size <= int64_max);
    if (!f.exists)
      FUZZ_CHECK(f.size == 0 && f.mtime_ns == 0);
  }
  FUZZ_CHECK(r.uploaded <= int64_max && r.downloaded <= int64_max && r.seconds_active <= int64_max);
  FUZZ_CHECK(storable(r) == r);

  // canonical: the only spelling the decoder accepts is the encoder's
  const auto again = encode_resume(r);
  FUZZ_CHECK_MSG(again == input, "re-encoded: " + again);
  auto back = decode_resume(again, layout, fx.info_hash);
  FUZZ_CHECK_MSG(back.ok(), back.ok() ? std::string{} : error_text(back.error()));
  FUZZ_CHECK(*back == r);
}

void check_refused(const error_info& err, std::string_view input) {
  FUZZ_CHECK_MSG(err.message.starts_with("bad resume data: "), err.message);
  FUZZ_CHECK_MSG(err.offset == error_info::no_offset || err.offset <= input.size(), error_text(err));
}

// A resume_data for `fx` drawn from the input bytes: any pieces, any stamps
// (also missing files with a size or mtime), any counters.
resume_data arbitrary(FuzzedDataProvider& in, const fixture& fx) {
  resume_data x;
  x.info_hash = fx.info_hash;
  x.pieces.resize(fx.layout.num_pieces());
  for (std::size_t i = 0; i < x.pieces.size(); ++i)
    x.pieces[i] = in.ConsumeBool();
  x.files.resize(fx.layout.num_files());
  for (auto& f : x.files) {
    f.exists = in.ConsumeBool();
    f.size = in.ConsumeIntegral<std::uint64_t>();
    f.mtime_ns = in.ConsumeIntegral<std::int64_t>();
  }
  x.uploaded = in.ConsumeIntegral<std::uint64_t>();
  x.downloaded = in.ConsumeIntegral<std::uint64_t>();
  x.seconds_active = in.ConsumeIntegral<std::uint64_t>();
  return x;
}

void check_round_trip(const resume_data& x, const fixture& fx) {
  const auto bytes = encode_resume(x);
  FUZZ_CHECK(bytes.size() <= max_resume_size(fx.layout));
  auto back = decode_resume(bytes, fx.layout, fx.info_hash);
  FUZZ_CHECK_MSG(back.ok(), (back.ok() ? std::string{} : error_text(back.error())) + " for " + bytes);
  FUZZ_CHECK(*back == storable(x));
  FUZZ_CHECK(encode_resume(*back) == encode_resume(storable(x)));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  const auto& all = fixtures();

  std::vector<bool> accepted(all.size(), false);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& fx = all[i];
    auto r = decode_resume(input, fx.layout, fx.info_hash);
    if (r) {
      check_accepted(*r, input, fx);
      accepted[i] = true;
    } else {
      check_refused(r.error(), input);
    }
  }
  // the info-hash decides: a file for one torrent is never taken for the
  // other, even where the piece and file counts would fit
  FUZZ_CHECK(!(accepted[0] && accepted[1]));
  auto foreign = decode_resume(input, all[0].layout, all[1].info_hash);
  if (foreign)
    FUZZ_CHECK(foreign->info_hash == all[1].info_hash && !accepted[0]);

  FuzzedDataProvider in{data, size};
  for (const auto& fx : all)
    check_round_trip(arbitrary(in, fx), fx);
  return 0;
}
