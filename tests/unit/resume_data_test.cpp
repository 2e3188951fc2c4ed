#define CAF_SUITE resume_data
#include <caf/test/unit_test.hpp>

#include "protocol/bencode.hpp"
#include "storage/resume_data.hpp"
#include "storage/torrent_storage.hpp"
#include "storage_test_util.hpp"
#include "test_util.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace actorrent;
using namespace actorrent::storage;
using namespace actorrent::test;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

file_layout layout_of(const torrent& t) {
  auto l = file_layout::create(t.mi);
  CAF_REQUIRE(l.ok());
  return std::move(*l);
}

sha1_hash hash_of(char c) {
  sha1_hash h;
  h.bytes.fill(static_cast<std::uint8_t>(c));
  return h;
}

std::vector<bool> bits(const std::string& s) {
  std::vector<bool> out;
  for (char c : s)
    out.push_back(c == '1');
  return out;
}

// Saved data for the padded torrent: every piece but 8 verified, every file
// present with a distinct size and mtime.
resume_data sample_data() {
  resume_data d;
  d.info_hash = hash_of('h');
  d.pieces = bits("111111110");
  for (int i = 0; i < 8; ++i)
    d.files.push_back({true, static_cast<std::uint64_t>(1000 + i), 1'700'000'000'000'000'000 + i});
  d.uploaded = 123;
  d.downloaded = 456;
  d.seconds_active = 789;
  return d;
}

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator{dir})
    out.insert(e.path().filename().string());
  return out;
}

// The decoded sample data as an owned value, to corrupt one field at a time.
bencode::dict sample_dict() {
  const auto bytes = encode_resume(sample_data());
  auto doc = bencode::decode(bytes);
  CAF_REQUIRE(doc.ok());
  return std::get<bencode::dict>(bencode::value::from(doc->root()).data);
}

void set_mtime(const std::string& path, std::int64_t sec) {
  const struct timespec ts[2] = {{sec, 0}, {sec, 0}};
  CAF_REQUIRE_EQUAL(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

// Whether this filesystem tells holes from data (SEEK_DATA on an all-hole file).
bool reports_holes(const std::string& dir) {
  const auto path = dir + "/probe";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  CAF_REQUIRE(fd >= 0);
  const bool ok = ::ftruncate(fd, 1 << 20) == 0 && ::lseek(fd, 0, SEEK_DATA) < 0 && errno == ENXIO;
  ::close(fd);
  ::unlink(path.c_str());
  return ok;
}

// check_existing's answer as "0101…", or "error: …"; `prog` counts afresh.
std::string check(const torrent_storage& st, unsigned threads, progress_log& prog,
                  const std::vector<bool>* mask = nullptr) {
  prog.calls = 0;
  prog.total = 0;
  auto r = st.check_existing(threads, prog.fn(), mask);
  return r ? pieces_str(*r) : "error: " + r.error().message;
}

} // namespace

// ---- encoding -------------------------------------------------------------

CAF_TEST(encode and decode round trip) {
  auto t = sample_torrent();
  const auto layout = layout_of(t);
  const auto data = sample_data();
  const auto bytes = encode_resume(data);
  auto back = decode_resume(bytes, layout, data.info_hash);
  CAF_REQUIRE_EQUAL(error_of(back), "ok");
  CAF_CHECK(*back == data);
  // canonical: encoding the decoded data gives the same bytes
  CAF_CHECK_EQUAL(encode_resume(*back), bytes);
  // missing files, negative mtimes, nothing verified
  auto other = data;
  other.pieces = bits("000000000");
  other.files[3] = {};
  other.files[5].mtime_ns = -5;
  auto back2 = decode_resume(encode_resume(other), layout, data.info_hash);
  CAF_REQUIRE_EQUAL(error_of(back2), "ok");
  CAF_CHECK(*back2 == other);
}

CAF_TEST(the on-disk format) {
  auto t = make_torrent({{"f", 40000}, {"g", 1}}, 16384); // 3 pieces, 2 files
  resume_data d;
  d.info_hash = hash_of('A');
  d.pieces = bits("101");
  d.files = {{true, 40000, 1500000000123456789}, {}};
  d.uploaded = 7;
  d.downloaded = 8;
  d.seconds_active = 9;
  const auto bytes = encode_resume(d);
  CAF_CHECK_EQUAL(bytes, "d10:downloadedi8e5:filesll" "i1ei40000ei1500000000123456789ee" "li0ei0ei0eee"
                         "9:info-hash20:AAAAAAAAAAAAAAAAAAAA6:pieces1:\xa0"
                         "14:seconds-activei9e8:uploadedi7e7:versioni1ee");
  CAF_CHECK(bytes.size() <= max_resume_size(layout_of(t)));
}

// Found by fuzz/resume_fuzzer.cpp (fuzz/regressions/resume/empty-missing-file-with-mtime-not-decodable):
// a missing file whose stamp still held an mtime was written as [0 0 mtime],
// which decode_resume refuses, so the whole resume file was lost.
CAF_TEST(a missing file is written as zeroes whatever its stamp holds) {
  auto t = make_torrent({{"f", 40000}, {"g", 1}}, 16384);
  resume_data d;
  d.info_hash = hash_of('A');
  d.pieces = bits("000");
  d.files = {{false, 0, std::numeric_limits<std::int64_t>::min()}, {false, 7, 5}};
  const auto bytes = encode_resume(d);
  CAF_CHECK_EQUAL(bytes, "d10:downloadedi0e5:filesll" "i0ei0ei0ee" "li0ei0ei0eee"
                         "9:info-hash20:AAAAAAAAAAAAAAAAAAAA6:pieces1:\x00"
                         "14:seconds-activei0e8:uploadedi0e7:versioni1ee"s);
  auto back = decode_resume(bytes, layout_of(t), d.info_hash);
  CAF_REQUIRE_EQUAL(error_of(back), "ok");
  CAF_CHECK((back->files == std::vector<file_stamp>{{}, {}}));
}

CAF_TEST(counters past the int64 range are clamped) {
  auto t = sample_torrent();
  auto d = sample_data();
  d.uploaded = ~std::uint64_t{0};
  auto back = decode_resume(encode_resume(d), layout_of(t), d.info_hash);
  CAF_REQUIRE_EQUAL(error_of(back), "ok");
  CAF_CHECK_EQUAL(back->uploaded, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
}

// ---- malformed input --------------------------------------------------------

CAF_TEST(malformed resume data is rejected with a reason) {
  auto t = sample_torrent();
  const auto layout = layout_of(t);
  const auto ih = sample_data().info_hash;
  // every case: the message must contain `why`
  auto rejects = [&](const std::string& bytes, const std::string& why) {
    auto r = decode_resume(bytes, layout, ih);
    const auto msg = error_of(r);
    CAF_CHECK(!r.ok());
    if (msg.find(why) == std::string::npos)
      CAF_FAIL("expected an error containing \"" << why << "\", got \"" << msg << "\"");
  };
  auto with = [&](const std::string& key, bencode::value v) {
    auto d = sample_dict();
    d[key] = std::move(v);
    return bencode::encode(d);
  };
  auto without = [&](const std::string& key) {
    auto d = sample_dict();
    d.erase(key);
    return bencode::encode(d);
  };
  auto with_file = [&](std::size_t i, bencode::value v) {
    auto d = sample_dict();
    std::get<bencode::list>(d["files"].data)[i] = std::move(v);
    return bencode::encode(d);
  };
  // the unmodified base decodes, so each failure below is the mutation's
  CAF_REQUIRE_EQUAL(error_of(decode_resume(bencode::encode(sample_dict()), layout, ih)), "ok");

  rejects("", "empty input");
  rejects(encode_resume(sample_data()).substr(0, 50), "unexpected end of input");
  rejects(encode_resume(sample_data()) + "x", "bad resume data");
  rejects("li1ee", "is list, expected a dictionary");
  rejects(with("version", 2), "unsupported version 2");
  rejects(with("version", "1"), "version is string, expected an integer");
  rejects(without("version"), "missing key \"version\"");
  rejects(without("files"), "missing key \"files\"");
  rejects(with("zzz", 1), "unknown key \"zzz\"");
  rejects(with("info-hash", std::string(20, 'x')), "is not this torrent's");
  rejects(with("info-hash", std::string(19, 'h')), "info-hash has 19 bytes, expected 20");
  rejects(with("info-hash", 5), "info-hash is integer");
  rejects(with("pieces", std::string(1, '\xff')), "bitfield has 1 bytes, expected 2 for 9 pieces");
  rejects(with("pieces", std::string("\xff\x40", 2)), "spare bit 9");
  rejects(with("pieces", bencode::list{}), "pieces is list");
  rejects(with("files", bencode::list{}), "files has 0 entries, expected 8");
  rejects(with("files", "x"), "files is string, expected a list");
  rejects(with_file(2, bencode::list{1, 2}), "files[2] is not a list of 3 integers");
  rejects(with_file(2, 7), "files[2] is not a list of 3 integers");
  rejects(with_file(2, bencode::list{2, 10, 10}), "files[2].exists is 2, expected 0 or 1");
  rejects(with_file(2, bencode::list{1, -10, 10}), "files[2].size is negative (-10)");
  rejects(with_file(2, bencode::list{1, 10, "x"}), "files[2].mtime_ns is string");
  rejects(with_file(2, bencode::list{0, 10, 0}), "files[2] is a missing file with a size or mtime");
  rejects(with("uploaded", -1), "uploaded is negative (-1)");
  rejects(with("downloaded", -1), "downloaded is negative (-1)");
  rejects(with("seconds-active", bencode::dict{}), "seconds-active is dictionary");
  // keys out of order (the encoder always sorts, so write them by hand)
  auto sorted = encode_resume(sample_data());
  auto pos = sorted.find("7:versioni1e");
  CAF_REQUIRE(pos != std::string::npos);
  auto unsorted = "d7:versioni1e" + sorted.substr(1, pos - 1) + "e";
  rejects(unsorted, "out of order");
  // too large for this torrent, however well formed
  rejects(with("zzz", std::string(max_resume_size(layout), 'x')), "expected at most");
  // data for another torrent with a different piece or file count
  auto few_pieces = layout_of(make_torrent({{"f", 40000}}, 16384));
  CAF_CHECK_EQUAL(error_of(decode_resume(encode_resume(sample_data()), few_pieces, ih)),
                  "bad resume data: pieces: bitfield has 2 bytes, expected 1 for 3 pieces");
  auto one_file = layout_of(make_torrent({{"f", 9 * 32768}}, 32768));
  CAF_CHECK_EQUAL(error_of(decode_resume(encode_resume(sample_data()), one_file, ih)),
                  "bad resume data: files has 8 entries, expected 1");
}

// ---- files ----------------------------------------------------------------

CAF_TEST(the resume file is written atomically) {
  temp_dir tmp;
  auto t = sample_torrent();
  const auto layout = layout_of(t);
  const auto dir = tmp.path + "/state/deeper";
  const auto path = dir + "/resume";
  auto old_data = sample_data();
  old_data.uploaded = 1;
  // the directory is created
  CAF_REQUIRE_EQUAL(error_of(write_resume_file(path, old_data)), "ok");
  CAF_CHECK_EQUAL(read_file(path), encode_resume(old_data));
  CAF_CHECK(names_in(dir) == std::set<std::string>{"resume"});
  // an existing file is replaced as a whole
  auto new_data = sample_data();
  new_data.pieces = bits("000000000");
  CAF_REQUIRE_EQUAL(error_of(write_resume_file(path, new_data)), "ok");
  CAF_CHECK_EQUAL(read_file(path), encode_resume(new_data));
  CAF_CHECK(names_in(dir) == std::set<std::string>{"resume"});
  auto back = read_resume_file(path, layout, new_data.info_hash);
  CAF_REQUIRE_EQUAL(error_of(back), "ok");
  CAF_REQUIRE(back->has_value());
  CAF_CHECK(**back == new_data);
}

CAF_TEST(a failed write leaves no temporary file and the old file intact) {
  temp_dir tmp;
  const auto pid = std::to_string(::getpid());
  // rename fails: the path is a directory
  const auto taken = tmp.path + "/taken";
  fs::create_directories(taken + "/inside");
  CAF_CHECK_EQUAL(error_of(write_resume_file(taken, sample_data())),
                  "cannot write " + taken + ": cannot rename " + taken + ".tmp-" + pid + ": Is a directory");
  CAF_CHECK(names_in(tmp.path) == std::set<std::string>{"taken"});
  // the parent is a regular file
  {
    std::ofstream f{tmp.path + "/plain"};
  }
  CAF_CHECK_EQUAL(error_of(write_resume_file(tmp.path + "/plain/resume", sample_data())),
                  "cannot write " + tmp.path + "/plain/resume: cannot create " + tmp.path + "/plain/resume.tmp-"
                    + pid + ": Not a directory");
  CAF_CHECK_EQUAL(error_of(write_resume_file(tmp.path + "/", sample_data())),
                  "cannot write " + tmp.path + "/: not a file name");
  // An existing file whose replacement cannot be written: the old file is
  // kept and no temporary file is left. The write fails on the file-size limit
  // (RLIMIT_FSIZE, as a full disk would fail it), which binds root as well.
  const auto dir = tmp.path + "/full";
  const auto path = dir + "/resume";
  CAF_REQUIRE_EQUAL(error_of(write_resume_file(path, sample_data())), "ok");
  const auto before = read_file(path);
  auto bigger = sample_data();
  bigger.downloaded = 99;
  CAF_REQUIRE_GREATER(encode_resume(bigger).size(), 16u);
  {
    struct ::sigaction ignore = {}, old_action = {};
    ignore.sa_handler = SIG_IGN; // else SIGXFSZ ends the process
    CAF_REQUIRE_EQUAL(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
    ::rlimit old_limit{};
    CAF_REQUIRE_EQUAL(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    auto limit = old_limit;
    limit.rlim_cur = 16;
    CAF_REQUIRE_EQUAL(::setrlimit(RLIMIT_FSIZE, &limit), 0);
    auto err = error_of(write_resume_file(path, bigger));
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::sigaction(SIGXFSZ, &old_action, nullptr);
    CAF_CHECK_EQUAL(err, "cannot write " + path + ": cannot write " + path + ".tmp-" + pid + ": File too large");
  }
  CAF_CHECK_EQUAL(read_file(path), before);
  CAF_CHECK(names_in(dir) == std::set<std::string>{"resume"});
  // An unwritable directory: only checkable when not root (root may write
  // anywhere); the failed write above covers the same promise for root.
  if (::geteuid() != 0) {
    CAF_REQUIRE_EQUAL(::chmod(dir.c_str(), 0555), 0);
    auto d = sample_data();
    d.downloaded = 98;
    CAF_CHECK_EQUAL(error_of(write_resume_file(path, d)),
                    "cannot write " + path + ": cannot create " + path + ".tmp-" + pid + ": Permission denied");
    CAF_CHECK_EQUAL(read_file(path), before);
    CAF_CHECK(names_in(dir) == std::set<std::string>{"resume"});
    ::chmod(dir.c_str(), 0755);
  }
}

CAF_TEST(reading tells absent from corrupt) {
  temp_dir tmp;
  auto t = sample_torrent();
  const auto layout = layout_of(t);
  const auto ih = sample_data().info_hash;
  const auto path = tmp.path + "/resume";
  // absent: ok, but no data
  auto none = read_resume_file(path, layout, ih);
  CAF_REQUIRE_EQUAL(error_of(none), "ok");
  CAF_CHECK(!none->has_value());
  auto none2 = read_resume_file(tmp.path + "/no/such/dir/resume", layout, ih);
  CAF_REQUIRE_EQUAL(error_of(none2), "ok");
  CAF_CHECK(!none2->has_value());
  // corrupt: an error naming the file
  {
    std::ofstream f{path, std::ios::binary};
    f << "d7:versioni2ee";
  }
  CAF_CHECK_EQUAL(error_of(read_resume_file(path, layout, ih)),
                  "resume file " + path + ": bad resume data: unsupported version 2 (this program reads version 1)");
  // another torrent's data
  CAF_REQUIRE(write_resume_file(path, sample_data()).ok());
  auto other = read_resume_file(path, layout, hash_of('o'));
  CAF_CHECK(!other.ok());
  CAF_CHECK(error_of(other).find("is not this torrent's") != std::string::npos);
  // a directory is not a resume file
  CAF_CHECK_EQUAL(error_of(read_resume_file(tmp.path, layout, ih)), "resume file " + tmp.path + ": not a regular file");
}

CAF_TEST(an oversize resume file is refused before it is read) {
  temp_dir tmp;
  auto t = sample_torrent();
  const auto layout = layout_of(t);
  const auto path = tmp.path + "/resume";
  const auto cap = max_resume_size(layout);
  // 512 + 2 bitfield bytes + 64 per file
  CAF_CHECK_EQUAL(cap, 512u + 2u + 8u * 64u);
  {
    std::ofstream f{path, std::ios::binary};
    f << std::string(cap + 1, 'x');
  }
  CAF_CHECK_EQUAL(error_of(read_resume_file(path, layout, sample_data().info_hash)),
                  "resume file " + path + ": " + std::to_string(cap + 1)
                    + " bytes, more than the 1026 expected at most for 9 pieces and 8 files");
  // a sparse file of 1 TiB is refused just the same, without reading it
  CAF_REQUIRE(::truncate(path.c_str(), std::int64_t{1} << 40) == 0);
  CAF_CHECK_EQUAL(error_of(read_resume_file(path, layout, sample_data().info_hash)),
                  "resume file " + path + ": 1099511627776 bytes, more than the 1026 expected at most for 9 pieces and 8 files");
}

// ---- plan_resume ------------------------------------------------------------

std::string trusted_str(const resume_plan& p) {
  // the two vectors are complements of each other
  for (std::size_t i = 0; i < p.trusted.size(); ++i)
    if (p.trusted[i] == p.to_check[i])
      return "inconsistent at " + std::to_string(i);
  return pieces_str(p.trusted);
}

CAF_TEST(plan_resume trusts verified pieces of unchanged files only) {
  auto t = sample_torrent();
  const auto layout = layout_of(t);
  const auto saved = sample_data();
  auto now = saved.files;
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, now)), "111111110");
  // b (pieces 2-4) grew
  auto grown = now;
  grown[3].size += 1;
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, grown)), "110001110");
  // c (piece 4, shared with the end of b) touched: b's other pieces stay trusted
  auto touched = now;
  touched[5].mtime_ns += 1;
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, touched)), "111101110");
  // d (pieces 5-8) deleted
  auto deleted = now;
  deleted[7] = {};
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, deleted)), "111110000");
  // a (pieces 0-1) appeared after the save
  auto before = saved;
  before.files[0] = {};
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, before, now)), "001111110");
  // pad files and empty files always match
  auto odd = now;
  odd[1] = {}; // e1, empty
  odd[2] = {false, 0, 0}; // pad
  odd[4].mtime_ns = 42; // e2, empty
  odd[6] = {true, 1, 1}; // pad
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, odd)), "111111110");
  // nothing verified: nothing trusted, whatever the files say
  auto fresh = saved;
  fresh.pieces = bits("000000000");
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, fresh, now)), "000000000");
  // inconsistent sizes: nothing trusted
  auto short_now = now;
  short_now.pop_back();
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, short_now)), "000000000");
  auto short_pieces = saved;
  short_pieces.pieces.pop_back();
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, short_pieces, now)), "000000000");
}

CAF_TEST(plan_resume rechecks a piece spanning two files when one changed) {
  // x: [0, 50000) pieces 0-1, y: [50000, 100000) pieces 1-3 (piece 1 spans both)
  auto t = make_torrent({{"n/x", 50000}, {"n/y", 50000}}, 32768);
  const auto layout = layout_of(t);
  resume_data saved;
  saved.pieces = bits("1111");
  saved.files = {{true, 50000, 10}, {true, 50000, 20}};
  auto now = saved.files;
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, now)), "1111");
  now[1].mtime_ns = 21;
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, now)), "1000");
  now = saved.files;
  now[0].size = 49999;
  CAF_CHECK_EQUAL(trusted_str(plan_resume(layout, saved, now)), "0011");
}

// ---- torrent_storage: file_stamps and check_existing with a mask -------------

CAF_TEST(file_stamps reports files as they are on disk) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  // nothing on disk yet
  auto none = st.file_stamps();
  CAF_REQUIRE_EQUAL(error_of(none), "ok");
  CAF_REQUIRE_EQUAL(none->size(), 8u);
  CAF_CHECK(!(*none)[0].exists);
  CAF_CHECK(((*none)[2] == file_stamp{true, 28536, 0})); // pad
  write_all(st, t);
  CAF_REQUIRE(st.create_all_files().ok());
  CAF_REQUIRE(st.flush().ok());
  const auto a = tmp.path + "/name/a";
  set_mtime(a, 1'000'000'000);
  auto s1 = st.file_stamps();
  CAF_REQUIRE_EQUAL(error_of(s1), "ok");
  CAF_CHECK(((*s1)[0] == file_stamp{true, 37000, 1'000'000'000'000'000'000}));
  CAF_CHECK(((*s1)[1] == file_stamp{true, 0, (*s1)[1].mtime_ns})); // e1, empty
  CAF_CHECK(((*s1)[3].exists && (*s1)[3].size == 70000));
  // nanoseconds are kept
  const struct timespec ts[2] = {{5, 123456789}, {5, 123456789}};
  CAF_REQUIRE_EQUAL(::utimensat(AT_FDCWD, (tmp.path + "/name/c").c_str(), ts, 0), 0);
  auto stamps = st.file_stamps(); // kept: CAF_CHECK_EQUAL binds references to its arguments
  CAF_REQUIRE_EQUAL(error_of(stamps), "ok");
  CAF_CHECK_EQUAL((*stamps)[5].mtime_ns, 5'123'456'789);
  // a write moves the mtime
  CAF_REQUIRE(st.write(0, 0, bytes(t.content, 0, 16384)).ok());
  auto s2 = st.file_stamps();
  CAF_REQUIRE_EQUAL(error_of(s2), "ok");
  CAF_CHECK_NOT_EQUAL((*s2)[0].mtime_ns, (*s1)[0].mtime_ns);
  CAF_CHECK_EQUAL((*s2)[0].size, 37000u);
  // deleted files and directories are absent, not errors
  fs::remove(tmp.path + "/name/d");
  fs::remove_all(tmp.path + "/name/dir");
  auto s3 = st.file_stamps();
  CAF_REQUIRE_EQUAL(error_of(s3), "ok");
  CAF_CHECK(((*s3)[7] == file_stamp{}));
  CAF_CHECK(((*s3)[3] == file_stamp{}));
  CAF_CHECK((*s3)[0].exists);
}

CAF_TEST(file_stamps never follows a symbolic link) {
  temp_dir tmp;
  temp_dir outside;
  auto t = sample_torrent();
  const auto root = tmp.path + "/dl";
  auto st = open_storage(t, root);
  fs::create_directories(outside.path + "/dir");
  {
    std::ofstream f{outside.path + "/a", std::ios::binary};
    f << std::string(37000, 'x');
  }
  // a directory on the way is a link
  CAF_REQUIRE(::symlink(outside.path.c_str(), (root + "/name").c_str()) == 0);
  CAF_CHECK_EQUAL(error_of(st.file_stamps()), root + "/name is a symbolic link; refusing to follow it");
  // the file itself is a link
  fs::remove(root + "/name");
  fs::create_directory(root + "/name");
  CAF_REQUIRE(::symlink((outside.path + "/a").c_str(), (root + "/name/a").c_str()) == 0);
  CAF_CHECK_EQUAL(error_of(st.file_stamps()), root + "/name/a is a symbolic link; refusing to follow it");
  // and so is a dangling one
  fs::remove(root + "/name/a");
  CAF_REQUIRE(::symlink((outside.path + "/nothing").c_str(), (root + "/name/a").c_str()) == 0);
  CAF_CHECK_EQUAL(error_of(st.file_stamps()), root + "/name/a is a symbolic link; refusing to follow it");
  // a directory where a file should be
  fs::remove(root + "/name/a");
  fs::create_directory(root + "/name/a");
  CAF_CHECK_EQUAL(error_of(st.file_stamps()), root + "/name/a is not a regular file");
}

CAF_TEST(check_existing hashes only the masked pieces) {
  temp_dir tmp;
  auto t = sample_torrent();
  auto st = open_storage(t, tmp.path);
  write_all(st, t);
  progress_log prog;
  const auto mask = bits("010001001");
  CAF_CHECK_EQUAL(check(st, 2, prog, &mask), "010001001");
  CAF_CHECK_EQUAL(prog.calls, 3u);
  CAF_CHECK_EQUAL(prog.total, 3u);
  // an empty mask hashes nothing
  const auto nothing = bits("000000000");
  CAF_CHECK_EQUAL(check(st, 2, prog, &nothing), "000000000");
  CAF_CHECK_EQUAL(prog.calls, 0u);
  // a masked-out file is not even opened: a symlink there goes unnoticed,
  // while a masked piece in it finds it
  fs::remove(tmp.path + "/name/d");
  CAF_REQUIRE(::symlink("/etc/passwd", (tmp.path + "/name/d").c_str()) == 0);
  const auto front = bits("111110000");
  CAF_CHECK_EQUAL(check(st, 1, prog, &front), "111110000");
  const auto back = bits("000000010");
  CAF_CHECK_EQUAL(check(st, 1, prog, &back),
                  "error: " + tmp.path + "/name/d is a symbolic link; refusing to follow it");
  // a mask of the wrong size
  const auto wrong = bits("11");
  CAF_CHECK_EQUAL(check(st, 1, prog, &wrong), "error: piece mask has 2 entries, expected 9");
}

CAF_TEST(check_existing skips pieces in holes of sparse files) {
  temp_dir tmp;
  // one file of 10 pieces; piece 7 is all zeroes
  auto t = make_torrent({{"sparse", 10 * 32768}}, 32768);
  std::fill_n(t.content.begin() + 7 * 32768, 32768, '\0');
  std::string hashes;
  for (std::size_t off = 0; off < t.content.size(); off += 32768)
    hashes += std::string{sha1(std::string_view{t.content}.substr(off, 32768)).view()};
  t.mi.piece_hashes = hashes;
  auto st = open_storage(t, tmp.path);
  CAF_REQUIRE(st.create_all_files().ok()); // full size, all holes
  CAF_REQUIRE(st.write(4, 0, bytes(t.content, 4 * 32768, 32768)).ok());
  CAF_REQUIRE(st.flush().ok());
  CAF_REQUIRE_EQUAL(fs::file_size(tmp.path + "/sparse"), 10u * 32768);
  progress_log prog;
  // piece 7 is zeroes: a hole holds exactly that
  CAF_CHECK_EQUAL(check(st, 2, prog), "0000100100");
  if (reports_holes(tmp.path)) {
    // only piece 4 was read
    CAF_CHECK_EQUAL(prog.calls, 1u);
    CAF_CHECK_EQUAL(prog.total, 1u);
  } else {
    CAF_MESSAGE("this filesystem does not report holes: every piece was hashed");
    CAF_CHECK_EQUAL(prog.total, 10u);
  }
  // with a mask that leaves piece 4 out nothing is read
  const auto mask = bits("1111011111");
  CAF_CHECK_EQUAL(check(st, 1, prog, &mask), "0000000100");
  if (reports_holes(tmp.path))
    CAF_CHECK_EQUAL(prog.calls, 0u);
}

CAF_TEST(a restart rechecks only what changed) {
  temp_dir tmp;
  auto t = sample_torrent();
  const auto resume_path = tmp.path + "/state/resume";
  const auto ih = hash_of('h');
  {
    auto st = open_storage(t, tmp.path + "/dl");
    write_all(st, t);
    CAF_REQUIRE(st.flush().ok());
    auto pieces = st.check_existing(2);
    CAF_REQUIRE(pieces.ok());
    auto stamps = st.file_stamps();
    CAF_REQUIRE(stamps.ok());
    resume_data d;
    d.info_hash = ih;
    d.pieces = *pieces;
    d.files = *stamps;
    CAF_REQUIRE_EQUAL(error_of(write_resume_file(resume_path, d)), "ok");
  }
  auto restart = [&](std::size_t& hashed) {
    auto st = open_storage(t, tmp.path + "/dl");
    auto saved = read_resume_file(resume_path, st.layout(), ih);
    CAF_REQUIRE_EQUAL(error_of(saved), "ok");
    CAF_REQUIRE(saved->has_value());
    auto now = st.file_stamps();
    CAF_REQUIRE(now.ok());
    auto plan = plan_resume(st.layout(), **saved, *now);
    hashed = 0;
    auto checked = st.check_existing(1, [&](std::size_t, std::size_t n) { hashed = n; }, &plan.to_check);
    CAF_REQUIRE(checked.ok());
    std::vector<bool> have(plan.trusted.size());
    for (std::size_t p = 0; p < have.size(); ++p)
      have[p] = plan.trusted[p] || (*checked)[p];
    return pieces_str(have);
  };
  std::size_t hashed = 0;
  CAF_CHECK_EQUAL(restart(hashed), "111111111");
  CAF_CHECK_EQUAL(hashed, 0u);
  // someone flips a byte of d (pieces 5-8) and its mtime moves
  {
    std::fstream f{tmp.path + "/dl/name/d", std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(40000);
    f.put(static_cast<char>(t.content[203840] ^ 0x01));
  }
  set_mtime(tmp.path + "/dl/name/d", 12345);
  CAF_CHECK_EQUAL(restart(hashed), "111111011");
  CAF_CHECK_EQUAL(hashed, 4u);
}
