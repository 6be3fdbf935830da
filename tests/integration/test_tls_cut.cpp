// Issue 17, delivery accounting over TLS: the bytes on the wire are
// ciphertext, and a DM counts as delivered once the client's TCP has
// acknowledged the end of the record its line ended in. So the cut of a
// slow TLS reader, as test_limits_slow_reader.cpp does it for plain text,
// must lose and duplicate nothing: every DM is either read before the cut
// or replayed at the next registration, in order, once.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"
#include "harness_tls.hpp"

using namespace uvchat::test;

namespace {

constexpr int kMaxOutbuf = 65536;
constexpr int kSmallReceiveBuffer = 4096;
constexpr int kRecordsReceiveBuffer = 65536;
// Past the kernel's largest send buffer (4 MiB by default) and
// --max-outbuf: 2500 DMs of about 2 KiB, 5 MB.
constexpr int kMessages = 2500;
constexpr std::size_t kPadding = 2000;
constexpr int kMessagesPerWrite = 25;
static_assert(kMessagesPerWrite * (kPadding + 40) < kMaxOutbuf);
// The soft bound cuts after 5 s (the server looks once a second), and the
// cut waits at most 10 s for what is on its way.
constexpr Duration kCutTimeout{10'000};
constexpr Duration kDrainTimeout{12'000};
// 3000 DMs of 30 bytes, 90 000 in all, from one write.
constexpr int kBurst = 3000;
// 100 DMs of about 2 KiB replayed: 200 KB.
constexpr int kLongReplay = 100;

std::vector<std::string> limit_args() {
  return {"--max-outbuf", std::to_string(kMaxOutbuf), "--max-queue", "100000", "--presence", "off"};
}

std::string dm_text(int number) { return numbered_text(number) + " " + std::string(kPadding, 'x'); }

std::string dm_lines(const std::string& recipient, int first, int count) {
  std::string lines;
  for (int number = first; number < first + count; ++number)
    lines += recipient + ": " + dm_text(number) + "\n";
  return lines;
}

long largest_send_buffer() {
  const std::optional<std::string> tcp_wmem = read_file_bytes("/proc/sys/net/ipv4/tcp_wmem");
  REQUIRE(tcp_wmem);
  return std::stol(tcp_wmem->substr(tcp_wmem->find_last_of(" \t", tcp_wmem->find_last_not_of(" \t\n")) + 1));
}

// The number of a DM from fast, live or replayed, whole; nothing for any
// other line.
std::optional<int> dm_number(const std::string& line, bool replayed) {
  static const std::regex kLive(R"(\[\d\d:\d\d:\d\d\] fast: message (\d{4}) )");
  static const std::regex kReplayed(R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] fast: message (\d{4}) )");
  std::smatch match;
  if (!std::regex_search(line, match, replayed ? kReplayed : kLive, std::regex_constants::match_continuous)) {
    return std::nullopt;
  }
  const int number = std::stoi(match[1].str());
  if (line.compare(line.find("message "), std::string::npos, dm_text(number)) != 0) return std::nullopt;
  return number;
}

std::vector<int> read_dm_numbers(LinePeer& peer, int count, bool replayed) {
  std::vector<int> numbers;
  for (int i = 0; i < count; ++i) {
    const std::string line = peer.read_line();
    const std::optional<int> number = dm_number(line, replayed);
    INFO(peer.label() << ": DM " << i + 1 << " of " << count << ": '" << line.substr(0, 80) << "...'");
    REQUIRE(number);
    numbers.push_back(*number);
  }
  return numbers;
}

// What slow read before the cut: whole DMs, and at most a too-slow notice
// last. A record cut off by the reset is no line at all.
std::vector<int> numbers_before_cut(const std::vector<std::string>& lines) {
  std::vector<int> numbers;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (const std::optional<int> number = dm_number(lines[i], false)) {
      numbers.push_back(*number);
      continue;
    }
    INFO("line " << i + 1 << " of " << lines.size() << " before the cut: '" << lines[i].substr(0, 80) << "'");
    REQUIRE(i + 1 == lines.size());
    REQUIRE_THAT(lines[i], Catch::Matches("server:error too-slow .*" + std::to_string(kMaxOutbuf) + ".*"));
  }
  return numbers;
}

// Registers `peer` as slow and reads the DMs replayed to it.
std::vector<int> replayed_numbers(LinePeer& peer) {
  peer.send_line("server:register slow");
  peer.expect("server:welcome slow");
  const std::string header = peer.read_line();
  INFO(peer.label() << ": '" << header << "'");
  REQUIRE(header.starts_with("server:queued-messages "));
  const std::vector<int> numbers =
      read_dm_numbers(peer, std::stoi(header.substr(header.find(' ') + 1)), true);
  peer.expect_quiet();
  return numbers;
}

std::vector<std::string> lines_until_pong(LinePeer& peer) {
  std::vector<std::string> lines;
  for (std::string line = peer.read_line(); line != "server:pong"; line = peer.read_line()) {
    lines.push_back(std::move(line));
  }
  return lines;
}

// Fails unless every DM is in `before` or in `after`, none twice.
void require_each_once(const std::vector<int>& before, const std::vector<int>& after) {
  std::vector<int> times_seen(kMessages + 1, 0);
  for (const std::vector<int>* numbers : {&before, &after}) {
    for (const int number : *numbers) ++times_seen.at(static_cast<std::size_t>(number));
  }
  std::vector<int> missing;
  std::vector<int> twice;
  for (int number = 1; number <= kMessages; ++number) {
    if (times_seen[number] == 0) missing.push_back(number);
    if (times_seen[number] > 1) twice.push_back(number);
  }
  INFO(before.size() << " DMs received before the cut, " << after.size() << " replayed; missing from "
                     << (missing.empty() ? 0 : missing.front()) << ", twice from "
                     << (twice.empty() ? 0 : twice.front()));
  CHECK(missing.empty());
  REQUIRE(twice.empty());
}

void require_consecutive(const std::vector<int>& numbers, int first, const char* what) {
  std::size_t in_order = 0;
  while (in_order < numbers.size() && numbers[in_order] == first + static_cast<int>(in_order)) ++in_order;
  INFO(what << ": " << numbers.size() << " DMs from " << first << ", the first out of order is DM "
            << in_order + 1 << ": " << (in_order < numbers.size() ? numbers[in_order] : 0));
  REQUIRE(in_order == numbers.size());
}

// The scene: slow, a TLS client with a receive buffer of `ReceiveBuffer`
// bytes that reads nothing once registered; fast, in plain text, who floods
// it; and pinger, over TLS, who checks that the other sessions are served
// meanwhile.
template <int ReceiveBuffer>
struct SlowTlsReaderCutWith {
  TempDir db_dir;
  TlsServer tls{{.args = limit_args(), .db = db_dir.file("uvchat.db")}};
  TlsTestClient slow{tls.server, {.label = "slow (TLS)", .receive_buffer = ReceiveBuffer}};
  RegisteredClient fast{tls.server, "fast"};
  TlsTestClient pinger{tls.server, {.label = "pinger (TLS)"}};
  // The `server:queued slow` fast got: DMs sent after the cut.
  std::size_t queued = 0;

  SlowTlsReaderCutWith() { slow.register_as("slow"); }

  void flood_until_cut() {
    REQUIRE(static_cast<long>(dm_lines("slow", 1, 1).size()) * kMessages >
            largest_send_buffer() + kMaxOutbuf);
    for (int first = 1; first <= kMessages; first += kMessagesPerWrite) {
      fast.send(dm_lines("slow", first, kMessagesPerWrite) + "server:ping\n");
      pinger.expect_quiet();
      for (const std::string& answer : lines_until_pong(fast)) {
        REQUIRE(answer == "server:queued slow");
        ++queued;
      }
    }
    if (!tls.server.wait_for_log("too slow", kCutTimeout)) {
      FAIL("slow was not cut; the server's log:\n" << tls.server.log());
    }
  }

  // `before`: what slow read before the cut. Registered again over TLS,
  // slow gets every other DM replayed, oldest first, none twice.
  void expect_the_rest_replayed(const std::vector<int>& before) {
    require_consecutive(before, 1, "received before the cut");
    TlsTestClient slow_again(tls.server, {.label = "slow again (TLS)"});
    const std::vector<int> replayed = replayed_numbers(slow_again);
    INFO("the server's log:\n" << tls.server.log());
    require_each_once(before, replayed);
    require_consecutive(replayed, static_cast<int>(before.size()) + 1, "replayed, oldest first");
    CHECK(queued <= replayed.size());
  }
};

using SlowTlsReaderCut = SlowTlsReaderCutWith<kSmallReceiveBuffer>;
// Holds a few records whole, and most likely a part of the next.
using SlowTlsReaderCutBigBuffer = SlowTlsReaderCutWith<kRecordsReceiveBuffer>;

}  // namespace

TEST_CASE_METHOD(SlowTlsReaderCut, "TLS cut: a slow TLS reader is cut and every DM reaches it exactly once",
                 "[tls][limits]") {
  flood_until_cut();
  CHECK(tls.server.log().find("--max-outbuf") != std::string::npos);
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
  // The cut is a reset: no close_notify, which would say all was sent.
  CHECK_FALSE(slow.got_close_notify());
}

TEST_CASE_METHOD(SlowTlsReaderCut,
                 "TLS cut: a slow TLS reader that reads all through the cut gets every DM once",
                 "[tls][limits]") {
  constexpr std::size_t kChunk = 1024;
  constexpr std::chrono::microseconds kPause{500};
  flood_until_cut();
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed_paced(kChunk, kPause, kDrainTimeout)));
}

TEST_CASE_METHOD(SlowTlsReaderCut,
                 "TLS cut: a slow TLS reader that writes before it reads still gets every DM once",
                 "[tls][limits]") {
  flood_until_cut();
  slow.try_send("server:ping\n");
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
}

// The case that tells records from lines: slow reads nothing until the
// server has reset the connection, so its TCP acknowledged what its buffer
// holds, which ends in the middle of a record. The DMs of that record
// cannot be read, and must be replayed; those of the records before it
// were read, and must not be. (Counting a DM delivered where its record
// starts, or at its offset in the plaintext, fails here.)
TEST_CASE_METHOD(SlowTlsReaderCutBigBuffer,
                 "TLS cut: a slow TLS reader that reads only after the reset gets every DM once",
                 "[tls][limits]") {
  flood_until_cut();
  const std::string connection = connection_name(tls.server, slow.local_port());
  if (!tls.server.wait_for_log(connection + " closed", kCutTimeout)) {
    FAIL("the cut of slow did not end; the server's log:\n" << tls.server.log());
  }
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
}

TEST_CASE("TLS cut: a TLS client that reads is not cut when DMs for it pass --max-outbuf at once",
          "[tls][limits]") {
  TlsServer tls({.args = limit_args()});
  TlsTestClient reader(tls.server, {.label = "reader (TLS)"});
  reader.register_as("reader");
  RegisteredClient fast(tls.server, "fast");
  fast.send(numbered_dm_lines("reader", kBurst));
  for (int i = 1; i <= kBurst; ++i) reader.expect_chat("fast: " + numbered_text(i));
  reader.expect_quiet();
  fast.expect_quiet();
  CHECK(tls.server.log().find("too slow") == std::string::npos);
}

TEST_CASE("TLS cut: a replay longer than --max-outbuf reaches a TLS client that reads", "[tls][limits]") {
  TlsServer tls({.args = limit_args()});
  register_and_exit(tls.server, "slow");
  RegisteredClient fast(tls.server, "fast");
  fast.send(dm_lines("slow", 1, kLongReplay) + "server:ping\n");
  CHECK(lines_until_pong(fast) == std::vector<std::string>(kLongReplay, "server:queued slow"));
  TlsTestClient slow(tls.server, {.label = "slow (TLS)"});
  const std::vector<int> replayed = replayed_numbers(slow);
  CHECK(static_cast<int>(replayed.size()) == kLongReplay);
  require_consecutive(replayed, 1, "replayed");
}
