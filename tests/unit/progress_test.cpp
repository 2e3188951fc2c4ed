#define CAF_SUITE progress
#include <caf/test/unit_test.hpp>

#include "app/progress.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

using namespace actorrent;
using namespace actorrent::app;

namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t GiB = 1024 * MiB;

/// 120.5 MiB of 1 GiB at 23.4 MiB/s with 3 peers, 2 of them seeds.
torrent_status sample() {
  torrent_status st;
  st.total_size = GiB;
  st.have_bytes = 126353408; // 120.5 MiB, 11.76%
  st.downloaded = 130000000;
  st.uploaded = 4096;
  st.wasted = 16384;
  st.pieces_have = 482;
  st.pieces_total = 4096;
  st.down_rate = 24536678.4; // 23.4 MiB/s
  st.up_rate = 99.6;
  st.peers = 3;
  st.seeds = 2;
  st.hash_failures = 1;
  st.banned = 0;
  st.tracker_status = "ok (3 peers)";
  return st;
}

} // namespace

CAF_TEST(bytes) {
  CAF_CHECK_EQUAL(format_bytes(0), "0 B");
  CAF_CHECK_EQUAL(format_bytes(1), "1 B");
  CAF_CHECK_EQUAL(format_bytes(1023), "1023 B");
  CAF_CHECK_EQUAL(format_bytes(1024), "1.0 KiB");
  CAF_CHECK_EQUAL(format_bytes(1536), "1.5 KiB");
  CAF_CHECK_EQUAL(format_bytes(1048524), "1023.9 KiB"); // 1023.949 KiB
  CAF_CHECK_EQUAL(format_bytes(1048525), "1.0 MiB");    // 1023.950 KiB rounds to 1024.0
  CAF_CHECK_EQUAL(format_bytes(MiB - 1), "1.0 MiB");
  CAF_CHECK_EQUAL(format_bytes(126353408), "120.5 MiB");
  CAF_CHECK_EQUAL(format_bytes(50000000), "47.7 MiB");
  CAF_CHECK_EQUAL(format_bytes(GiB), "1.0 GiB");
  CAF_CHECK_EQUAL(format_bytes(5 * GiB / 2), "2.5 GiB");
  CAF_CHECK_EQUAL(format_bytes(1024 * GiB), "1.0 TiB");
  CAF_CHECK_EQUAL(format_bytes(std::numeric_limits<std::uint64_t>::max()), "16.0 EiB");
}

CAF_TEST(rates) {
  CAF_CHECK_EQUAL(format_rate(0), "0 B/s");
  CAF_CHECK_EQUAL(format_rate(-5), "0 B/s");
  CAF_CHECK_EQUAL(format_rate(std::nan("")), "0 B/s");
  CAF_CHECK_EQUAL(format_rate(std::numeric_limits<double>::infinity()), "0 B/s");
  CAF_CHECK_EQUAL(format_rate(0.4), "0 B/s");
  CAF_CHECK_EQUAL(format_rate(512.4), "512 B/s");
  CAF_CHECK_EQUAL(format_rate(1023.6), "1.0 KiB/s");
  CAF_CHECK_EQUAL(format_rate(24536678.4), "23.4 MiB/s");
  CAF_CHECK_EQUAL(format_rate(1e30), "7.8 EiB/s"); // clamped to 9e18 bytes/s
}

CAF_TEST(durations) {
  CAF_CHECK_EQUAL(format_duration(0), "0:00");
  CAF_CHECK_EQUAL(format_duration(42), "0:42");
  CAF_CHECK_EQUAL(format_duration(62), "1:02");
  CAF_CHECK_EQUAL(format_duration(725), "12:05");
  CAF_CHECK_EQUAL(format_duration(3599), "59:59");
  CAF_CHECK_EQUAL(format_duration(3600), "1:00:00");
  CAF_CHECK_EQUAL(format_duration(3723), "1:02:03");
  CAF_CHECK_EQUAL(format_duration(86399), "23:59:59");
  CAF_CHECK_EQUAL(format_duration(86400), "1d 00h");
  CAF_CHECK_EQUAL(format_duration(93784), "1d 02h");
  CAF_CHECK_EQUAL(format_duration(999 * 86400 + 86399), "999d 23h");
  CAF_CHECK_EQUAL(format_duration(1000 * 86400), ">999d");
  CAF_CHECK_EQUAL(format_duration(std::numeric_limits<std::uint64_t>::max()), ">999d");
}

CAF_TEST(eta) {
  CAF_CHECK(eta_seconds(100, 100, 0) == std::optional<std::uint64_t>{0});
  CAF_CHECK(eta_seconds(100, 200, 0) == std::optional<std::uint64_t>{0});
  CAF_CHECK(eta_seconds(0, 0, 0) == std::optional<std::uint64_t>{0});
  CAF_CHECK(!eta_seconds(100, 40, 0));
  CAF_CHECK(!eta_seconds(100, 40, -1));
  CAF_CHECK(!eta_seconds(100, 40, std::nan("")));
  CAF_CHECK(!eta_seconds(100, 40, std::numeric_limits<double>::infinity()));
  CAF_CHECK(eta_seconds(100, 40, 7) == std::optional<std::uint64_t>{9}); // 60/7 = 8.57, rounded up
  CAF_CHECK(eta_seconds(100, 40, 60) == std::optional<std::uint64_t>{1});
  CAF_CHECK(eta_seconds(GiB, 0, 1e-300) == std::optional<std::uint64_t>{1000000000000000ull});
  CAF_CHECK_EQUAL(format_eta(std::nullopt), "--:--");
  CAF_CHECK_EQUAL(format_eta(42), "0:42");
  CAF_CHECK_EQUAL(format_eta(3723), "1:02:03");
}

CAF_TEST(percent) {
  CAF_CHECK_EQUAL(permille(0, 0), 1000u);
  CAF_CHECK_EQUAL(permille(1, 0), 1000u);
  CAF_CHECK_EQUAL(permille(0, 100), 0u);
  CAF_CHECK_EQUAL(permille(452, 1000), 452u);
  CAF_CHECK_EQUAL(permille(999999, 1000000), 999u); // never "100.0%" before done
  auto max = std::numeric_limits<std::uint64_t>::max();
  CAF_CHECK_EQUAL(permille(max - 1, max), 999u);
  CAF_CHECK_EQUAL(permille(max / 2, max), 499u);
  CAF_CHECK_EQUAL(format_percent(452, 1000), "45.2%");
  CAF_CHECK_EQUAL(format_percent(5, 1000), "0.5%");
  CAF_CHECK_EQUAL(format_percent(0, 1000), "0.0%");
  CAF_CHECK_EQUAL(format_percent(999999, 1000000), "99.9%");
  CAF_CHECK_EQUAL(format_percent(1000, 1000), "100.0%");
}

CAF_TEST(bars) {
  CAF_CHECK_EQUAL(render_bar(50, 100, 12), "[=====>    ]");
  CAF_CHECK_EQUAL(render_bar(45, 100, 12), "[====>     ]");
  CAF_CHECK_EQUAL(render_bar(0, 100, 12), "[>         ]");
  CAF_CHECK_EQUAL(render_bar(99, 100, 12), "[=========>]");
  CAF_CHECK_EQUAL(render_bar(100, 100, 12), "[==========]");
  CAF_CHECK_EQUAL(render_bar(1, 0, 5), "[===]");
  CAF_CHECK_EQUAL(render_bar(0, 1, 3), "[>]");
  CAF_CHECK_EQUAL(render_bar(1, 1, 3), "[=]");
  CAF_CHECK_EQUAL(render_bar(0, 1, 2), "");
  CAF_CHECK_EQUAL(render_bar(0, 1, 0), "");
  auto max = std::numeric_limits<std::uint64_t>::max();
  CAF_CHECK_EQUAL(render_bar(max - 1, max, 12), "[=========>]");
  CAF_CHECK_EQUAL(render_bar(5, 10, 200).size(), 200u);
}

CAF_TEST(status text) {
  CAF_CHECK_EQUAL(status_text(sample()),
                  "11.7%  120.5 MiB/1.0 GiB  23.4 MiB/s  ETA 0:39  peers 3 (seeds 2)  up 100 B/s ratio 0.00");
  torrent_status idle;
  idle.total_size = 50000000;
  CAF_CHECK_EQUAL(status_text(idle), "0.0%  0 B/47.7 MiB  0 B/s  ETA --:--  peers 0 (seeds 0)");
}

CAF_TEST(a failing tracker is on the status line and in the JSON lines) {
  torrent_status st;
  st.total_size = 50000000;
  st.tracker_error = "http://127.0.0.1:1/announce: Requested download is not authorized";
  CAF_CHECK_EQUAL(status_text(st), "0.0%  0 B/47.7 MiB  0 B/s  ETA --:--  peers 0 (seeds 0)  "
                                   "tracker error: http://127.0.0.1:1/announce: Requested download is not authorized");
  CAF_CHECK_NOT_EQUAL(render_progress_line(st, 200).find("tracker error: "), std::string::npos);
  auto j = progress_json("x", "00", st, "progress");
  CAF_CHECK_EQUAL(j["tracker_error"].get<std::string>(), st.tracker_error);
  st.seeding = true;
  CAF_CHECK_NOT_EQUAL(status_text(st).find("tracker error: "), std::string::npos);
}

CAF_TEST(progress line fits the terminal) {
  auto st = sample();
  // 80 columns: 79 used, the bar takes the 12 the text leaves.
  CAF_CHECK_EQUAL(render_progress_line(st, 80),
                  "[=>        ]  11.7%  120.5 MiB/1.0 GiB  23.4 MiB/s  ETA 0:39  peers 3 (seeds 2)");
  CAF_CHECK_EQUAL(render_progress_line(st, 80).size(), 79u);
  CAF_CHECK_EQUAL(render_progress_line(st, 100).size(), 99u);
  // 100 columns: the upload part fits beside a short bar...
  CAF_CHECK_EQUAL(render_progress_line(st, 100).substr(0, 9), "[>      ]");
  CAF_CHECK(render_progress_line(st, 100).find("up 100 B/s ratio 0.00") != std::string::npos);
  // ...and without uploads the bar takes its room.
  auto no_up = st;
  no_up.uploaded = 0;
  CAF_CHECK_EQUAL(render_progress_line(no_up, 100).substr(0, 32), "[===>                          ]");
  // 60: the peers go so that a bar still fits.
  CAF_CHECK_EQUAL(render_progress_line(st, 60), "[=>       ]  11.7%  120.5 MiB/1.0 GiB  23.4 MiB/s  ETA 0:39");
  // Narrower: no bar, then fewer parts.
  CAF_CHECK_EQUAL(render_progress_line(st, 50), " 11.7%  120.5 MiB/1.0 GiB  23.4 MiB/s  ETA 0:39");
  CAF_CHECK_EQUAL(render_progress_line(st, 40), " 11.7%  23.4 MiB/s  ETA 0:39");
  CAF_CHECK_EQUAL(render_progress_line(st, 20), " 11.7%  23.4 MiB/s");
  CAF_CHECK_EQUAL(render_progress_line(st, 10), " 11.7%");
  CAF_CHECK_EQUAL(render_progress_line(st, 4), " 11");
  CAF_CHECK_EQUAL(render_progress_line(st, 1), " ");
  CAF_CHECK_EQUAL(render_progress_line(st, 0), " ");
}

CAF_TEST(progress line keeps its layout) {
  torrent_status st;
  st.total_size = GiB;
  CAF_CHECK_EQUAL(render_progress_line(st, 80),
                  "[>          ]   0.0%      0 B/1.0 GiB       0 B/s  ETA --:--  peers 0 (seeds 0)");
  st.have_bytes = GiB;
  st.complete = true;
  CAF_CHECK_EQUAL(render_progress_line(st, 80),
                  "[============] 100.0%  1.0 GiB/1.0 GiB       0 B/s  ETA 0:00  peers 0 (seeds 0)");
  CAF_CHECK_EQUAL(render_progress_line(st, 80).size(), 79u);
}

CAF_TEST(terminal width falls back when not a terminal) {
  int fds[2];
  CAF_REQUIRE_EQUAL(::pipe(fds), 0);
  CAF_CHECK_EQUAL(terminal_columns(fds[1]), 80u);
  CAF_CHECK_EQUAL(terminal_columns(fds[1], 123), 123u);
  ::close(fds[0]);
  ::close(fds[1]);
  CAF_CHECK_EQUAL(terminal_columns(-1), 80u);
}

CAF_TEST(json progress object) {
  auto j = progress_json("data.bin", "c96309b55734392eed11838fc82e5465dddb58c8", sample(), "progress");
  CAF_CHECK_EQUAL(j.dump(),
                  R"j({"event":"progress","name":"data.bin","info_hash":"c96309b55734392eed11838fc82e5465dddb58c8",)j"
                  R"j("percent":11.7,"have_bytes":126353408,"total_size":1073741824,"downloaded":130000000,)j"
                  R"j("uploaded":4096,"wasted":16384,"down_rate":24536678,"up_rate":100,"peers":3,"checking":false,"seeds":2,)j"
                  R"j("pieces_have":482,"pieces_total":4096,"eta_seconds":39,"hash_failures":1,"banned":0,"banned_peers":[],)j"
                  R"j("complete":false,"seeding":false,"leechers":0,"ratio":0.0,"resumed_pieces":0,"listen_port":0,"tracker":"ok (3 peers)",)j"
                  R"j("tracker_error":"","disk_error":""})j");
  torrent_status idle;
  idle.total_size = 10;
  idle.down_rate = std::nan("");
  auto k = progress_json("x", "00", idle, "stopped");
  CAF_CHECK(k["eta_seconds"].is_null());
  CAF_CHECK_EQUAL(k["down_rate"].get<std::uint64_t>(), 0u);
  CAF_CHECK_EQUAL(k["event"].get<std::string>(), "stopped");
  CAF_CHECK_EQUAL(k["percent"].get<double>(), 0.0);
  idle.have_bytes = 10;
  idle.complete = true;
  auto done = progress_json("x", "00", idle, "complete");
  CAF_CHECK_EQUAL(done["percent"].get<double>(), 100.0);
  CAF_CHECK_EQUAL(done["eta_seconds"].get<std::uint64_t>(), 0u);
  CAF_CHECK_EQUAL(done["complete"].get<bool>(), true);
  CAF_CHECK(!done.contains("have")); // no bitfield known: no key
  idle.have_hex = "a0";
  CAF_CHECK_EQUAL(progress_json("x", "00", idle, "progress")["have"].get<std::string>(), "a0");
  CAF_CHECK(!done.contains("wire")); // only a peer with wire faults on says what they did
  // who was banned, and (lab) what the wire-fault layer did
  idle.banned_peers = {"10.77.0.3:6881"};
  idle.wire = {{"wire.corrupt_blocks", "12"}};
  idle.wire_corrupted_to = {{"10.77.0.4:6881", 12}};
  auto lab = progress_json("x", "00", idle, "progress");
  CAF_CHECK_EQUAL(lab["banned_peers"].dump(), R"(["10.77.0.3:6881"])");
  CAF_CHECK_EQUAL(lab["wire"].dump(), R"({"corrupt_blocks":12})");
  CAF_CHECK_EQUAL(lab["wire_corrupted_to"].dump(), R"({"10.77.0.4:6881":12})");
}

CAF_TEST(summary line) {
  CAF_CHECK_EQUAL(format_summary("data.bin", 50000000, 4.66, 50000000),
                  "download complete: data.bin (47.7 MiB), 47.7 MiB downloaded in 4.7 s (avg 10.2 MiB/s)");
  CAF_CHECK_EQUAL(format_summary("big.bin", GiB, 0, GiB),
                  "download complete: big.bin (1.0 GiB), 1.0 GiB downloaded in 0.0 s (avg 0 B/s)");
  CAF_CHECK_EQUAL(format_summary("x", 1, -3, 1), "download complete: x (1 B), 1 B downloaded in 0.0 s (avg 0 B/s)");
  // a resumed download counts what this run fetched, not the whole torrent
  CAF_CHECK_EQUAL(format_summary("big.bin", 32 * MiB, 0.5, 64 * 1024),
                  "download complete: big.bin (32.0 MiB), 64.0 KiB downloaded in 0.5 s (avg 128.0 KiB/s)");
  CAF_CHECK_EQUAL(format_summary("big.bin", 32 * MiB, 0.5, 0),
                  "download complete: big.bin (32.0 MiB), nothing downloaded: the data was already here (checked in 0.5 s)");
}

CAF_TEST(seeding status shows the up rate and ratio and leechers) {
  torrent_status st;
  st.total_size = 1000;
  st.have_bytes = 1000;
  st.uploaded = 1250;
  st.up_rate = 2048;
  st.peers = 3;
  st.leechers = 2;
  st.complete = true;
  st.seeding = true;
  CAF_CHECK_EQUAL(status_text(st), "seeding  ratio 1.25  up 2.0 KiB/s  uploaded 1.2 KiB  peers 3 (leechers 2)");
  auto j = progress_json("x", "00", st, "progress");
  CAF_CHECK_EQUAL(j["ratio"].get<double>(), 1.25);
  CAF_CHECK_EQUAL(j["seeding"].get<bool>(), true);
  // the terminal line shows the same parts, ratio included
  auto line = render_progress_line(st, 120);
  CAF_CHECK(line.find("seeding  ratio 1.25  up 2.0 KiB/s  uploaded 1.2 KiB  peers 3 (leechers 2)")
            != std::string::npos);
  CAF_CHECK(render_progress_line(st, 60).find("ratio 1.25") != std::string::npos);
}

CAF_TEST(the start-up check shows its progress) {
  torrent_status st;
  st.total_size = 1000;
  st.checking = true;
  CAF_CHECK(status_text(st).find("checking files  ") != std::string::npos);
  st.check_done = 45;
  st.check_total = 100;
  CAF_CHECK(status_text(st).find("checking files 45.0%") != std::string::npos);
}

CAF_TEST(the peer list) {
  torrent_status st;
  auto none = peer_table(st);
  CAF_REQUIRE_EQUAL(none.size(), 1u);
  CAF_CHECK_EQUAL(none[0], "no peers");
  peer_info slow;
  slow.address = "127.0.0.1:6881";
  slow.client = "libtorrent 2.0.9";
  slow.down_rate = 1024;
  slow.downloaded = 2048;
  slow.seed = true;
  slow.snubbed = true;
  peer_info fast;
  fast.address = "[::1]:51413";
  fast.client = "Transmission 4.0.0";
  fast.down_rate = 2 * 1048576.0;
  fast.up_rate = 512;
  fast.uploaded = 100;
  fast.incoming = true;
  fast.interested = true;
  fast.unchoked = true;
  st.peer_list = {slow, fast};
  CAF_CHECK_EQUAL(format_peer_flags(slow), "Ss");
  CAF_CHECK_EQUAL(format_peer_flags(fast), "IiU");
  CAF_CHECK_EQUAL(format_peer_flags(peer_info{}), "-");
  auto t = peer_table(st);
  CAF_REQUIRE_EQUAL(t.size(), 3u);
  CAF_CHECK_EQUAL(t[0], "ADDRESS         CLIENT              DOWN       UP       DOWNLOADED  UPLOADED  FLAGS");
  CAF_CHECK_EQUAL(t[1], "[::1]:51413     Transmission 4.0.0  2.0 MiB/s  512 B/s  0 B         100 B     IiU");
  CAF_CHECK_EQUAL(t[2], "127.0.0.1:6881  libtorrent 2.0.9    1.0 KiB/s  0 B/s    2.0 KiB     0 B       Ss");
  auto j = peers_json("x", "00", st);
  CAF_CHECK_EQUAL(j["event"].get<std::string>(), "peers");
  CAF_REQUIRE_EQUAL(j["peers"].size(), 2u);
  CAF_CHECK_EQUAL(j["peers"][0]["address"].get<std::string>(), "[::1]:51413");
  CAF_CHECK_EQUAL(j["peers"][0]["down_rate"].get<std::uint64_t>(), 2097152u);
  CAF_CHECK_EQUAL(j["peers"][0]["flags"].get<std::string>(), "IiU");
  CAF_CHECK_EQUAL(j["peers"][1]["client"].get<std::string>(), "libtorrent 2.0.9");
  CAF_CHECK_EQUAL(j["peers"][1]["seed"].get<bool>(), true);
  CAF_CHECK_EQUAL(j["peers"][1]["downloaded"].get<std::uint64_t>(), 2048u);
}

CAF_TEST(with files selected progress counts the selection) {
  auto st = sample();
  st.selected_pieces = 1024;   // a quarter of the pieces
  st.selected_size = 256 * MiB;
  st.selected_have = 64 * MiB;
  CAF_CHECK_EQUAL(status_text(st),
                  "25.0%  64.0 MiB/256.0 MiB  23.4 MiB/s  ETA 0:09  peers 3 (seeds 2)  up 100 B/s ratio 0.00");
  auto j = progress_json("x", "00", st, "progress");
  CAF_CHECK_EQUAL(j["percent"].get<double>(), 25.0);
  CAF_CHECK_EQUAL(j["have_bytes"].get<std::uint64_t>(), st.have_bytes); // the existing fields stay as they were
  CAF_CHECK_EQUAL(j["total_size"].get<std::uint64_t>(), GiB);
  CAF_CHECK_EQUAL(j["selected_size"].get<std::uint64_t>(), 256 * MiB);
  CAF_CHECK_EQUAL(j["selected_have"].get<std::uint64_t>(), 64 * MiB);
  CAF_CHECK_EQUAL(j["selected_pieces"].get<std::uint64_t>(), 1024u);
  CAF_CHECK_EQUAL(j["eta_seconds"].get<std::uint64_t>(), 9u); // 192 MiB at 23.4 MiB/s, rounded up
  // every piece selected: no selection fields, the whole torrent counts
  st.selected_pieces = st.pieces_total;
  auto all = progress_json("x", "00", st, "progress");
  CAF_CHECK(!all.contains("selected_size"));
  CAF_CHECK_EQUAL(all["percent"].get<double>(), 11.7);
}
