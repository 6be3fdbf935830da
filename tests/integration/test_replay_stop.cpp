// PROTOCOL.md 6, answers in pages: a client that stops reading in the middle
// of its replay is cut as any slow reader is (the replay owes it nothing
// more than a page), and every DM it had not taken is replayed at its next
// registration, once and in order.
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
// More than the kernel's largest send buffer (tcp_wmem, 4 MiB by default)
// and the client's: the replay must wait for the client.
constexpr int kMessages = 3000;
constexpr std::size_t kPadding = 2000;
constexpr int kPerWrite = 100;
// Five seconds of nothing taken, and the server looks once a second.
constexpr Duration kCutTimeout{12'000};

std::string dm_text(int number) { return numbered_text(number) + " " + std::string(kPadding, 'y'); }

// The number of a replayed DM from alice, checked whole; nothing for any
// other line.
std::optional<int> replayed_number(const std::string& line) {
  static const std::regex kReplayed(R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] alice: message (\d{4}) )");
  std::smatch match;
  if (!std::regex_search(line, match, kReplayed, std::regex_constants::match_continuous)) return std::nullopt;
  const int number = std::stoi(match[1].str());
  if (line.compare(line.find("message "), std::string::npos, dm_text(number)) != 0) return std::nullopt;
  return number;
}

void queue_for_bob(LinePeer& alice) {
  for (int first = 1; first <= kMessages; first += kPerWrite) {
    std::string lines;
    for (int number = first; number < first + kPerWrite; ++number) lines += "bob: " + dm_text(number) + "\n";
    alice.send(lines);
    for (int i = 0; i < kPerWrite; ++i) alice.expect("server:queued bob");
  }
}

}  // namespace

TEST_CASE("replay: a client that stops reading mid-replay is cut; the rest comes next time, once, in order",
          "[replay][limits]") {
  TempDir dir;
  TestServer server({.args = {"--max-outbuf", std::to_string(kMaxOutbuf), "--max-queue", "100000", "--presence",
                              "off", "--rate", "0"},
                     .db = dir.file("uvchat.db")});
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  queue_for_bob(alice);

  std::vector<int> before;
  {
    TestClient bob(server, "bob", kSmallReceiveBuffer);
    bob.send_line("server:register bob");
    // Reads nothing now: the replay fills the sockets, then waits.
    if (!server.wait_for_log("too slow", kCutTimeout))
      FAIL("bob was not cut; the server's log:\n" << server.log());
    // Others are served meanwhile.
    CHECK(ping_round_trip(alice) < Duration{1000});
    const std::vector<std::string> lines = bob.read_until_closed();
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0] == "server:welcome bob");
    CHECK(lines[1] == "server:queued-messages " + std::to_string(kMessages));
    for (std::size_t i = 2; i < lines.size(); ++i) {
      if (const std::optional<int> number = replayed_number(lines[i])) {
        before.push_back(*number);
        continue;
      }
      INFO("line " << i + 1 << " of " << lines.size() << " before the cut: '" << lines[i].substr(0, 80) << "'");
      REQUIRE(i + 1 == lines.size());
      REQUIRE_THAT(lines[i], Catch::StartsWith("server:error too-slow"));
    }
  }
  INFO(before.size() << " DMs read before the cut");
  REQUIRE(before.size() < static_cast<std::size_t>(kMessages));
  for (std::size_t i = 0; i < before.size(); ++i) REQUIRE(before[i] == static_cast<int>(i) + 1);

  TestClient again(server, "bob again");
  again.send_line("server:register bob");
  again.expect("server:welcome bob");
  const int rest = kMessages - static_cast<int>(before.size());
  again.expect("server:queued-messages " + std::to_string(rest));
  for (int number = static_cast<int>(before.size()) + 1; number <= kMessages; ++number) {
    const std::string line = again.read_line();
    INFO("expected DM " << number << ": '" << line.substr(0, 80) << "'");
    REQUIRE(replayed_number(line) == std::optional<int>(number));
  }
  again.expect_quiet();
  CHECK(server.log().find("too slow") == server.log().rfind("too slow"));
}
