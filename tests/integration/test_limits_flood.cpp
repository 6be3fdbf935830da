// PROTOCOL.md 6, floods: a client over --rate is read more slowly; nothing
// it sends is dropped, it stays connected, and others are served meanwhile.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kRate = 10;
constexpr int kBurst = 10;
// Each pair is a DM to bob and a ping: 100 lines in all.
constexpr int kPairs = 50;
// The bucket holds at most kBurst lines when the flood comes: line N is
// taken no sooner than (N - kBurst) / kRate seconds after. Clock
// granularity on top.
constexpr Duration kTimingSlack{20};
// The lines of the burst are answered at once.
constexpr Duration kBurstAnswered{500};
constexpr Duration kFloodAtLeast{7000};
constexpr Duration kFloodAtMost{13'000};
// Another client pings this often, well under its own rate.
constexpr Duration kOtherPingInterval{250};
constexpr Duration kOtherPingBound{200};
constexpr Duration kPollInterval{50};

std::string flood() {
  std::string lines;
  for (int i = 1; i <= kPairs; ++i) lines += "bob: " + numbered_text(i) + "\nserver:ping\n";
  return lines;
}

// The earliest the answer to line `line` (1-based) may come.
Duration earliest_answer(int line) { return Duration((line - kBurst) * 1000 / kRate) - kTimingSlack; }

}  // namespace

TEST_CASE("flood: over --rate a client is read more slowly, nothing dropped, others served", "[limits]") {
  TestServer server(
      {.args = {"--rate", std::to_string(kRate), "--burst", std::to_string(kBurst), "--presence", "off"}});
  RegisteredClient bob(server, "bob");
  RegisteredClient flooder(server, "flooder");
  TestClient other(server, "other");

  const Stopwatch watch;
  flooder.send(flood());
  std::vector<Duration> pongs;  // when each came
  Duration slowest_other{0};
  Duration next_other_ping{0};
  while (static_cast<int>(pongs.size()) < kPairs && watch.elapsed() < kFloodAtMost) {
    if (watch.elapsed() >= next_other_ping) {
      slowest_other = std::max(slowest_other, ping_round_trip(other));
      next_other_ping = watch.elapsed() + kOtherPingInterval;
    }
    const std::optional<std::string> line = flooder.try_read_line(kPollInterval);
    if (!line) continue;
    REQUIRE(*line == "server:pong");
    pongs.push_back(watch.elapsed());
  }
  REQUIRE(static_cast<int>(pongs.size()) == kPairs);
  for (int pair = 1; pair <= kPairs; ++pair) {
    INFO("the answer to line " << 2 * pair << " came after " << pongs[pair - 1].count() << " ms");
    CHECK(pongs[pair - 1] >= earliest_answer(2 * pair));
  }
  CHECK(pongs[kBurst / 2 - 1] < kBurstAnswered);  // the answer to line kBurst
  CHECK(pongs.back() >= kFloodAtLeast);
  CHECK(pongs.back() <= kFloodAtMost);
  CHECK(slowest_other < kOtherPingBound);

  for (int i = 1; i <= kPairs; ++i) bob.expect_chat("flooder: " + numbered_text(i));
  bob.expect_quiet();
  flooder.expect_quiet();
}

// Every line may write to the database, on one thread: past --store-backlog
// requests waiting for it, no line is taken from anyone until it catches up,
// so a flood waits in the sockets rather than in the server's memory.
TEST_CASE("flood: past --store-backlog reading pauses until the store catches up, and nothing is lost",
          "[limits]") {
  TempDir dir;
  TestServer server({.args = {"--store-backlog", "100"}, .db = dir.file("uvchat.db")});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  constexpr int kFlood = 3000;
  alice.send(numbered_dm_lines("bob", kFlood));
  for (int i = 1; i <= kFlood; ++i) bob.expect_chat("alice: " + numbered_text(i));
  CHECK(server.wait_for_log("reading paused until it catches up"));
  CHECK(server.wait_for_log("the database caught up"));
  alice.expect_quiet();
  bob.expect_quiet();
}
