// Server lines, docs/PROTOCOL.md section 4, byte for byte.
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

#include "uvchat/protocol/formatter.hpp"

namespace uvchat::protocol {
namespace {

using std::chrono::seconds;

TimePoint at(std::int64_t epoch_seconds) { return TimePoint{seconds{epoch_seconds}}; }

const TimePoint kEvening = at(1700000000);  // 2023-11-14 22:13:20 UTC
const TimePoint kLeapDay = at(951782400);   // 2000-02-29 00:00:00 UTC

// The line ending of `ending`, to build expected lines for both.
std::string line_end(LineEnding ending) { return ending == LineEnding::kCrLf ? "\r\n" : "\n"; }

TEST_CASE("Chat lines are [HH:MM:SS] then scope, sender and text", "[formatter][chat]") {
  const LineEnding ending = GENERATE(LineEnding::kLf, LineEnding::kCrLf);
  const std::string eol = line_end(ending);
  Formatter format(ending, /*utc=*/true);

  CHECK(format.direct(kEvening, "alice", "hi bob") == "[22:13:20] alice: hi bob" + eol);
  CHECK(format.room(kEvening, "team", "alice", "standup in 5") ==
        "[22:13:20] #team alice: standup in 5" + eol);
  CHECK(format.broadcast(kEvening, "alice", "hello all") == "[22:13:20] * alice: hello all" + eol);
  CHECK(format.direct(kLeapDay, "Bob", "a: b") == "[00:00:00] Bob: a: b" + eol);
}

TEST_CASE("Chat lines can be appended to a string, and say where the text starts", "[formatter][chat]") {
  const LineEnding ending = GENERATE(LineEnding::kLf, LineEnding::kCrLf);
  const std::string eol = line_end(ending);
  Formatter format(ending, /*utc=*/true);
  std::string line = "kept";
  std::size_t text_at = format.direct(line, kEvening, "alice", "hi: bob");
  CHECK(line == "kept[22:13:20] alice: hi: bob" + eol);
  CHECK(line.substr(text_at, 7) == "hi: bob");

  line.clear();
  text_at = format.room(line, kEvening, "team", "alice", "hello");
  CHECK(line == format.room(kEvening, "team", "alice", "hello"));
  CHECK(line.substr(text_at) == "hello" + eol);

  line.clear();
  text_at = format.broadcast(line, kEvening, "alice", "");
  CHECK(line == format.broadcast(kEvening, "alice", ""));
  CHECK(text_at == line.size() - eol.size());
}

TEST_CASE("Replayed DMs carry the date", "[formatter][chat]") {
  const LineEnding ending = GENERATE(LineEnding::kLf, LineEnding::kCrLf);
  Formatter format(ending, /*utc=*/true);
  CHECK(format.replayed_direct(kEvening, "alice", "while you were out") ==
        "[2023-11-14 22:13:20] alice: while you were out" + line_end(ending));
  CHECK(format.replayed_direct(kLeapDay - seconds{1}, "bob", "x") ==
        "[2000-02-28 23:59:59] bob: x" + line_end(ending));
}

TEST_CASE("Events are server:EVENT and their arguments, separated by single spaces", "[formatter][events]") {
  const LineEnding ending = GENERATE(LineEnding::kLf, LineEnding::kCrLf);
  const std::string eol = line_end(ending);
  Formatter format(ending, /*utc=*/true);

  CHECK(format.event("pong", {}) == "server:pong" + eol);
  CHECK(format.event("welcome", {"alice"}) == "server:welcome alice" + eol);
  CHECK(format.event("queued-messages", {"0"}) == "server:queued-messages 0" + eol);
  CHECK(format.event("joined", {"#team", "alice"}) == "server:joined #team alice" + eol);
  CHECK(format.event("help", {"server:who - who is online"}) ==
        "server:help server:who - who is online" + eol);
  SECTION("an empty argument is left out") {
    CHECK(format.event("left", {"", "alice"}) == "server:left alice" + eol);
    CHECK(format.event("bye", {""}) == "server:bye" + eol);
  }
}

TEST_CASE("List events may be empty", "[formatter][events]") {
  const LineEnding ending = GENERATE(LineEnding::kLf, LineEnding::kCrLf);
  const std::string eol = line_end(ending);
  Formatter format(ending, /*utc=*/true);
  const std::array<std::string_view, 3> names = {"alice", "Bob", "carol"};
  const std::array<std::string_view, 0> none = {};

  CHECK(format.event_list("users", {}, names) == "server:users alice Bob carol" + eol);
  CHECK(format.event_list("users", {}, none) == "server:users" + eol);
  CHECK(format.event_list("rooms", {}, std::array<std::string_view, 1>{"#team"}) ==
        "server:rooms #team" + eol);
  CHECK(format.event_list("members", "#team", names) == "server:members #team alice Bob carol" + eol);
  CHECK(format.event_list("members", "#team", none) == "server:members #team" + eol);
}

TEST_CASE("Errors are server:error CODE, then subject and detail when given", "[formatter][errors]") {
  const LineEnding ending = GENERATE(LineEnding::kLf, LineEnding::kCrLf);
  const std::string eol = line_end(ending);
  Formatter format(ending, /*utc=*/true);

  CHECK(format.error(ErrorCode::kServerFull) == "server:error server-full" + eol);
  CHECK(format.error(ErrorCode::kNoSuchUser, "bob") == "server:error no-such-user bob" + eol);
  CHECK(format.error(ErrorCode::kNotRegistered, {}, "register first: server:register NAME") ==
        "server:error not-registered register first: server:register NAME" + eol);
  CHECK(format.error(ErrorCode::kUnknownCommand, "dance", "try server:help") ==
        "server:error unknown-command dance, try server:help" + eol);
}

TEST_CASE("Every error code has its protocol word", "[formatter][errors]") {
  const auto [code, word] = GENERATE(table<ErrorCode, std::string>({
      {ErrorCode::kNotRegistered, "not-registered"},
      {ErrorCode::kAlreadyRegistered, "already-registered"},
      {ErrorCode::kBadName, "bad-name"},
      {ErrorCode::kNameTaken, "name-taken"},
      {ErrorCode::kWrongPassword, "wrong-password"},
      {ErrorCode::kNoSuchUser, "no-such-user"},
      {ErrorCode::kNotInRoom, "not-in-room"},
      {ErrorCode::kEmptyMessage, "empty-message"},
      {ErrorCode::kUnknownCommand, "unknown-command"},
      {ErrorCode::kLineTooLong, "line-too-long"},
      {ErrorCode::kBadUtf8, "bad-utf8"},
      {ErrorCode::kQueueFull, "queue-full"},
      {ErrorCode::kServerFull, "server-full"},
      {ErrorCode::kTooSlow, "too-slow"},
  }));
  CHECK(error_code_name(code) == word);
  CHECK(Formatter(LineEnding::kLf, true).error(code) == "server:error " + word + "\n");
}

TEST_CASE("TimeFormatter follows the time when the second changes", "[formatter][time]") {
  TimeFormatter times(/*utc=*/true);
  CHECK(times.time_of_day(kEvening) == "22:13:20");
  CHECK(times.time_of_day(kEvening + std::chrono::milliseconds{999}) == "22:13:20");
  CHECK(times.time_of_day(kEvening + seconds{1}) == "22:13:21");
  CHECK(times.date_and_time(kEvening + seconds{1}) == "2023-11-14 22:13:21");
  CHECK(times.time_of_day(kEvening + seconds{59}) == "22:14:19");
  CHECK(times.date_and_time(kEvening + std::chrono::hours{24}) == "2023-11-15 22:13:20");
  CHECK(times.time_of_day(kEvening) == "22:13:20");  // back in time
  CHECK(times.date_and_time(kLeapDay) == "2000-02-29 00:00:00");
  CHECK(times.date_and_time(kLeapDay - seconds{1}) == "2000-02-28 23:59:59");
}

// Sets the process's time zone for the life of the guard.
class TimeZoneGuard {
 public:
  explicit TimeZoneGuard(const char* zone) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    had_zone_ = std::getenv("TZ") != nullptr;
    set(zone);
  }
  ~TimeZoneGuard() { set(had_zone_ ? old_.c_str() : nullptr); }
  TimeZoneGuard(const TimeZoneGuard&) = delete;
  TimeZoneGuard& operator=(const TimeZoneGuard&) = delete;

 private:
  static void set(const char* zone) {
    if (zone != nullptr) {
      setenv("TZ", zone, 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  std::string old_;
  bool had_zone_ = false;
};

TEST_CASE("TimeFormatter uses the local time zone unless told UTC", "[formatter][time]") {
  SECTION("five hours behind UTC") {
    const TimeZoneGuard zone("EST5");  // a POSIX zone: no tzdata needed
    CHECK(TimeFormatter(/*utc=*/false).date_and_time(kEvening) == "2023-11-14 17:13:20");
    CHECK(TimeFormatter(/*utc=*/true).date_and_time(kEvening) == "2023-11-14 22:13:20");
  }
  SECTION("five and a half hours ahead, past midnight") {
    const TimeZoneGuard zone("<+0530>-5:30");
    CHECK(TimeFormatter(/*utc=*/false).date_and_time(kEvening) == "2023-11-15 03:43:20");
    CHECK(Formatter(LineEnding::kLf, /*utc=*/false).direct(kEvening, "a", "b") == "[03:43:20] a: b\n");
  }
}

}  // namespace
}  // namespace uvchat::protocol
