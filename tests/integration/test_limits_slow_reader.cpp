// PROTOCOL.md 6, slow readers: a client past --max-outbuf is cut as too-slow
// while everyone else is served, and every DM it had not received is
// replayed at its next registration, none twice. A client that reads is
// never cut, however much is sent to it at once.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kMaxOutbuf = 65536;
constexpr int kSmallReceiveBuffer = 4096;
// The kernel holds what the server writes to a socket, up to the largest
// send buffer (net.ipv4.tcp_wmem, 4 MiB by default): only past that does
// output wait in the server. 2500 DMs of about 2 KiB are 5 MB.
constexpr int kMessages = 2500;
constexpr std::size_t kPadding = 2000;
// Each write is less than --max-outbuf: a reader that keeps up is never
// that far behind.
constexpr int kMessagesPerWrite = 25;
static_assert(kMessagesPerWrite * (kPadding + 40) < kMaxOutbuf);
// The bound of issue 4.
constexpr Duration kPingBound{100};
// Slow is cut once nothing has left for 5 s with over --max-outbuf waiting
// (the soft bound; the server looks once a second), or at once past the
// hard one.
constexpr Duration kCutTimeout{10'000};
constexpr Duration kDrainTimeout{10'000};

// 3000 DMs of 30 bytes (`[HH:MM:SS] fast: message 0001`), 90 000 in all,
// for one reader from one write of 63 000 bytes.
constexpr int kBurst = 3000;
// 1500 acks of 47 bytes (`server:queued NAME`, a name of 32 characters),
// 70 500 in all, answer one write of DMs: the store acknowledges them in one
// or a few commits.
constexpr int kAckBurst = 1500;
// 100 DMs of about 2 KiB replayed: 200 KB.
constexpr int kLongReplay = 100;

std::vector<std::string> limit_args() {
  return {"--max-outbuf", std::to_string(kMaxOutbuf), "--max-queue", "100000", "--presence", "off"};
}

// `stem` made as long as a name may be: "bob_____..._".
std::string longest_name(const std::string& stem) { return stem + std::string(32 - stem.size(), '_'); }

std::string dm_text(int number) { return numbered_text(number) + " " + std::string(kPadding, 'x'); }

// DMs `first` to `first + count - 1` to `recipient`, in one string.
std::string dm_lines(const std::string& recipient, int first, int count) {
  std::string lines;
  for (int number = first; number < first + count; ++number)
    lines += recipient + ": " + dm_text(number) + "\n";
  return lines;
}

// The most the kernel gives a TCP socket to send from, in bytes.
long largest_send_buffer() {
  const std::optional<std::string> tcp_wmem = read_file_bytes("/proc/sys/net/ipv4/tcp_wmem");
  REQUIRE(tcp_wmem);
  return std::stol(tcp_wmem->substr(tcp_wmem->find_last_of(" \t", tcp_wmem->find_last_not_of(" \t\n")) + 1));
}

// The number of a DM from fast, live (`[HH:MM:SS] fast: TEXT`) or replayed
// (`[YYYY-MM-DD HH:MM:SS] fast: TEXT`); nothing for any other line.
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

// The numbers of the next `count` DMs from fast to `peer`.
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

// What slow read before the cut: DMs, and at most a too-slow notice last.
std::vector<int> numbers_before_cut(const std::vector<std::string>& lines) {
  std::vector<int> numbers;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (const std::optional<int> number = dm_number(lines[i], false)) {
      numbers.push_back(*number);
      continue;
    }
    INFO("line " << i + 1 << " of " << lines.size() << " before the cut: '" << lines[i] << "'");
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

// The lines `peer` gets before `server:pong`.
std::vector<std::string> lines_until_pong(LinePeer& peer) {
  std::vector<std::string> lines;
  for (std::string line = peer.read_line(); line != "server:pong"; line = peer.read_line()) {
    lines.push_back(std::move(line));
  }
  return lines;
}

struct Flood {
  // The `server:queued slow` lines fast got: DMs sent after the cut.
  std::size_t queued = 0;
  Duration slowest_ping{0};
};

// Fast sends every DM to slow, as fast as the server answers its pings,
// and pinger pings while the server works through each write. DMs to slow while it is online get
// no answer; after the cut each is queued and acknowledged.
Flood flood_slow(LinePeer& fast, LinePeer& pinger) {
  Flood flood;
  for (int first = 1; first <= kMessages; first += kMessagesPerWrite) {
    fast.send(dm_lines("slow", first, kMessagesPerWrite) + "server:ping\n");
    flood.slowest_ping = std::max(flood.slowest_ping, ping_round_trip(pinger));
    for (const std::string& answer : lines_until_pong(fast)) {
      REQUIRE(answer == "server:queued slow");
      ++flood.queued;
    }
  }
  return flood;
}

// Fails unless every DM is in `before` or in `after`, and none in both or
// twice in one.
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
  CHECK(missing.size() == 0);
  REQUIRE(twice.size() == 0);
}

// Fails unless `numbers` are first, first + 1, ... in that order.
void require_consecutive(const std::vector<int>& numbers, int first, const char* what) {
  std::size_t in_order = 0;
  while (in_order < numbers.size() && numbers[in_order] == first + static_cast<int>(in_order)) ++in_order;
  INFO(what << ": " << numbers.size() << " DMs from " << first << ", the first out of order is DM "
            << in_order + 1 << ": " << (in_order < numbers.size() ? numbers[in_order] : 0));
  REQUIRE(in_order == numbers.size());
}

// Slow: a small receive buffer, registered, and from then on reading nothing.
class SlowClient : public TestClient {
 public:
  explicit SlowClient(const TestServer& server) : TestClient(server, "slow", kSmallReceiveBuffer) {
    register_as("slow");
  }
};

// The scene of the cut tests: slow, then fast, who floods it, and pinger,
// who checks that everyone else is served meanwhile.
struct SlowReaderCut {
  TempDir dir;
  TestServer server{{.args = limit_args(), .db = dir.file("uvchat.db")}};
  SlowClient slow{server};
  RegisteredClient fast{server, "fast"};
  TestClient pinger{server, "pinger"};

  // Fast floods slow until the server cuts it.
  Flood flood_until_cut() {
    const Flood flood = flood_slow(fast, pinger);
    if (!server.wait_for_log("too slow", kCutTimeout))
      FAIL("slow was not cut; the server's log:\n" << server.log());
    return flood;
  }

  // `before`: what slow read before the cut. Registered again, slow gets
  // every other DM replayed, oldest first, and none twice.
  std::vector<int> expect_the_rest_replayed(const std::vector<int>& before) {
    require_consecutive(before, 1, "received before the cut");
    TestClient slow_again(server, "slow again");
    const std::vector<int> replayed = replayed_numbers(slow_again);
    INFO("the server's log:\n" << server.log());
    require_each_once(before, replayed);
    require_consecutive(replayed, static_cast<int>(before.size()) + 1, "replayed, oldest first");
    return replayed;
  }
};

}  // namespace

TEST_CASE_METHOD(SlowReaderCut,
                 "slow reader: cut past --max-outbuf, others served, every DM delivered exactly once",
                 "[limits]") {
  REQUIRE(static_cast<long>(dm_lines("slow", 1, 1).size()) * kMessages > largest_send_buffer() + kMaxOutbuf);
  const Flood flood = flood_until_cut();
  CHECK(flood.slowest_ping < kPingBound);
  CHECK(server.log().find("--max-outbuf") != std::string::npos);
  const std::vector<int> replayed =
      expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
  CHECK(flood.queued <= replayed.size());
}

// Once in about 20 CI runs the test above saw DMs twice: slow reads from
// the moment the cut begins, and the server, which waited at most 500 ms for
// its TCP to acknowledge what was on its way, reset it while some was. Those
// DMs were counted undelivered and replayed, though slow had read them. Here
// slow reads all through the cut, slowly enough that what the kernel holds
// for it (MiBs) lasts well past 500 ms, so something is nearly always on its
// way, or about to be: the server must wait until the kernel has sent it
// all, or until slow stops reading.
TEST_CASE_METHOD(SlowReaderCut, "slow reader: a cut client that reads all through the cut gets every DM once",
                 "[limits]") {
  constexpr std::size_t kChunk = 1024;
  constexpr std::chrono::microseconds kPause{500};
  flood_until_cut();
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed_paced(kChunk, kPause, kDrainTimeout)));
}

// Found by the soak: the kernel still held a few MiB for the cut client,
// counted as delivered, and a line from the client made the server's kernel
// reset the connection and drop them. Now the cut is a reset, and only what
// the client's TCP acknowledged counts as delivered.
TEST_CASE_METHOD(SlowReaderCut,
                 "slow reader: a cut client that writes before it reads still gets every DM once", "[limits]") {
  flood_until_cut();
  slow.try_send("server:ping\n");
  expect_the_rest_replayed(numbers_before_cut(slow.read_until_closed(kDrainTimeout)));
}

TEST_CASE("slow reader: a client that reads is not cut when DMs for it pass --max-outbuf at once",
          "[limits]") {
  TestServer server({.args = limit_args()});
  RegisteredClient reader(server, "reader");
  RegisteredClient fast(server, "fast");
  fast.send(numbered_dm_lines("reader", kBurst));
  for (int i = 1; i <= kBurst; ++i) reader.expect_chat("fast: " + numbered_text(i));
  reader.expect_quiet();
  fast.expect_quiet();
}

TEST_CASE("slow reader: a client that reads is not cut when its answers pass --max-outbuf at once",
          "[limits]") {
  TestServer server({.args = limit_args()});
  const std::string bob = longest_name("bob");
  register_and_exit(server, bob);
  RegisteredClient alice(server, "alice");
  send_numbered_dms_to_offline(alice, bob, kAckBurst);
  alice.expect_quiet();
}

TEST_CASE("slow reader: a replay longer than --max-outbuf reaches a client that reads", "[limits]") {
  TestServer server({.args = limit_args()});
  register_and_exit(server, "slow");
  RegisteredClient fast(server, "fast");
  fast.send(dm_lines("slow", 1, kLongReplay) + "server:ping\n");
  CHECK(lines_until_pong(fast) == std::vector<std::string>(kLongReplay, "server:queued slow"));
  TestClient slow(server, "slow");
  const std::vector<int> replayed = replayed_numbers(slow);
  CHECK(static_cast<int>(replayed.size()) == kLongReplay);
  require_consecutive(replayed, 1, "replayed");
}
