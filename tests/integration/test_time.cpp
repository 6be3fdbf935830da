// PROTOCOL.md 4.1: chat line times are the server's local time of receipt,
// or UTC with --utc.
#include <catch2/catch.hpp>
#include <ctime>
#include <regex>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr std::time_t kSecondsPerDay = 24 * 60 * 60;
// How far a stamp may be from our clock: the two take the time a moment apart.
constexpr std::time_t kTolerance = 5;
// A POSIX TZ ten hours east of UTC, with no daylight saving time.
const std::string kTenHoursEast = "XYZ-10";
constexpr std::time_t kTenHours = 10 * 60 * 60;

// Seconds since the epoch of `line`'s stamp, read as if it were UTC.
std::time_t stamp_as_utc(const std::string& line) {
  static const std::regex kStamp(R"(^\[(?:(\d{4})-(\d{2})-(\d{2}) )?(\d{2}):(\d{2}):(\d{2})\] )");
  std::smatch match;
  REQUIRE(std::regex_search(line, match, kStamp));
  std::tm parts{};
  const std::time_t now = std::time(nullptr);
  gmtime_r(&now, &parts);  // the date, for a stamp that has none
  if (match[1].matched) {
    parts.tm_year = std::stoi(match[1]) - 1900;
    parts.tm_mon = std::stoi(match[2]) - 1;
    parts.tm_mday = std::stoi(match[3]);
  }
  parts.tm_hour = std::stoi(match[4]);
  parts.tm_min = std::stoi(match[5]);
  parts.tm_sec = std::stoi(match[6]);
  return timegm(&parts);
}

// a - b for two times of day, folded into -12 h .. +12 h.
std::time_t time_of_day_difference(std::time_t a, std::time_t b) {
  std::time_t difference = (a - b) % kSecondsPerDay;
  if (difference > kSecondsPerDay / 2) difference -= kSecondsPerDay;
  if (difference < -kSecondsPerDay / 2) difference += kSecondsPerDay;
  return difference;
}

// True when `stamp` is `now` plus `offset`; without a date only the time of
// day counts.
bool stamp_near(std::time_t stamp, std::time_t now, std::time_t offset, bool has_date) {
  const std::time_t expected = now + offset;
  const std::time_t difference = has_date ? stamp - expected : time_of_day_difference(stamp, expected);
  return difference >= -kTolerance && difference <= kTolerance;
}

// Offset from UTC of the stamps on a live DM and on a replayed one.
void expect_stamps_offset_by(const TestServer& server, std::time_t offset) {
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  bob.send_line("server:exit");
  bob.expect("server:bye");
  alice.send_line("bob: queued");
  alice.expect("server:queued bob");
  TestClient bob_again(server, "bob");
  bob_again.register_as("bob", 1);
  const std::string replayed = bob_again.read_line();
  bob_again.send_line("alice: live");
  const std::string live = alice.read_line();
  const std::time_t now = std::time(nullptr);

  INFO("replayed: " << replayed << "\nlive: " << live << "\noffset: " << offset);
  CHECK_THAT(replayed, Catch::EndsWith("] alice: queued"));
  CHECK(stamp_near(stamp_as_utc(replayed), now, offset, /*has_date=*/true));
  CHECK_THAT(live, Catch::EndsWith("] bob: live"));
  CHECK(stamp_near(stamp_as_utc(live), now, offset, /*has_date=*/false));
}

}  // namespace

TEST_CASE("time: stamps are the server's local time", "[time]") {
  TestServer server({.args = {"--presence", "off"}, .tz = kTenHoursEast});
  expect_stamps_offset_by(server, kTenHours);
}

TEST_CASE("time: with --utc stamps are UTC whatever the local time", "[time]") {
  TestServer server({.args = {"--presence", "off", "--utc"}, .tz = kTenHoursEast});
  expect_stamps_offset_by(server, 0);
}
