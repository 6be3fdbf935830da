#include "slow_reader.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <regex>

namespace uvchat::test::slow_reader {
namespace {

std::string dm_text(int number) { return numbered_text(number) + " " + std::string(kPadding, 'x'); }

// The most the kernel gives a TCP socket to send from, in bytes.
long largest_send_buffer() {
  const std::optional<std::string> tcp_wmem = read_file_bytes("/proc/sys/net/ipv4/tcp_wmem");
  REQUIRE(tcp_wmem);
  return std::stol(tcp_wmem->substr(tcp_wmem->find_last_of(" \t", tcp_wmem->find_last_not_of(" \t\n")) + 1));
}

// The number of a DM from fast, live (`[HH:MM:SS] fast: TEXT`) or replayed
// (`[YYYY-MM-DD HH:MM:SS] fast: TEXT`), whole; nothing for any other line.
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

// DMs `first` to `first + count - 1` to `recipient`, in one string.
std::string dm_lines(const std::string& recipient, int first, int count) {
  std::string lines;
  for (int number = first; number < first + count; ++number)
    lines += recipient + ": " + dm_text(number) + "\n";
  return lines;
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

// Fails unless `numbers` are first, first + 1, ... in that order.
void require_consecutive(const std::vector<int>& numbers, int first, const char* what) {
  std::size_t in_order = 0;
  while (in_order < numbers.size() && numbers[in_order] == first + static_cast<int>(in_order)) ++in_order;
  INFO(what << ": " << numbers.size() << " DMs from " << first << ", the first out of order is DM "
            << in_order + 1 << ": " << (in_order < numbers.size() ? numbers[in_order] : 0));
  REQUIRE(in_order == numbers.size());
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
  CHECK(missing.empty());
  REQUIRE(twice.empty());
}

}  // namespace

std::vector<std::string> limit_args() {
  return {"--max-outbuf", std::to_string(kMaxOutbuf), "--max-queue", "100000", "--presence", "off"};
}

void require_flood_past_buffers() {
  REQUIRE(static_cast<long>(dm_lines("slow", 1, 1).size()) * kMessages > largest_send_buffer() + kMaxOutbuf);
}

// Over TLS a record cut off by the reset is no line at all, so it shows
// here as nothing.
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

Flood flood_until_cut(const TestServer& server, LinePeer& fast, LinePeer& pinger) {
  Flood flood;
  for (int first = 1; first <= kMessages; first += kMessagesPerWrite) {
    fast.send(dm_lines("slow", first, kMessagesPerWrite) + "server:ping\n");
    flood.slowest_ping = std::max(flood.slowest_ping, ping_round_trip(pinger));
    for (const std::string& answer : lines_until_pong(fast)) {
      REQUIRE(answer == "server:queued slow");
      ++flood.queued;
    }
  }
  if (!server.wait_for_log("too slow", kCutTimeout))
    FAIL("slow was not cut; the server's log:\n" << server.log());
  return flood;
}

std::vector<int> expect_the_rest_replayed(const TestServer& server, const std::vector<int>& before,
                                          LinePeer& slow_again) {
  require_consecutive(before, 1, "received before the cut");
  const std::vector<int> replayed = replayed_numbers(slow_again);
  INFO("the server's log:\n" << server.log());
  require_each_once(before, replayed);
  require_consecutive(replayed, static_cast<int>(before.size()) + 1, "replayed, oldest first");
  return replayed;
}

void expect_burst_read(const TestServer& server, LinePeer& reader) {
  RegisteredClient fast(server, "fast");
  fast.send(numbered_dm_lines("reader", kBurst));
  for (int i = 1; i <= kBurst; ++i) reader.expect_chat("fast: " + numbered_text(i));
  reader.expect_quiet();
  fast.expect_quiet();
}

void expect_long_replay_read(const TestServer& server,
                             const std::function<std::unique_ptr<LinePeer>()>& connect_slow) {
  register_and_exit(server, "slow");
  RegisteredClient fast(server, "fast");
  fast.send(dm_lines("slow", 1, kLongReplay) + "server:ping\n");
  CHECK(lines_until_pong(fast) == std::vector<std::string>(kLongReplay, "server:queued slow"));
  const std::unique_ptr<LinePeer> slow = connect_slow();
  const std::vector<int> replayed = replayed_numbers(*slow);
  CHECK(static_cast<int>(replayed.size()) == kLongReplay);
  require_consecutive(replayed, 1, "replayed");
}

}  // namespace uvchat::test::slow_reader
