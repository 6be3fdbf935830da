// docs/CLIENT.md, "How server lines are shown".
#include <catch2/catch.hpp>

#include "uvchat/client/presenter.hpp"

using uvchat::client::present;
using uvchat::client::Tone;

namespace {

std::string shown(std::string_view line, std::string_view me = "alice") {
  const auto result = present(line, me);
  return result ? result->text : "<nothing>";
}

}  // namespace

TEST_CASE("Chat lines are shown as they are", "[client][presenter]") {
  for (const char* line : {"[12:00:03] bob: hi", "[12:00:03] #team bob: hi", "[12:00:03] * bob: hi",
                           "[2026-11-21 12:00:03] bob: while you were out"}) {
    const auto result = present(line, "alice");
    REQUIRE(result);
    CHECK(result->text == line);
    CHECK(result->tone == Tone::kChat);
  }
}

TEST_CASE("Events are shown in words", "[client][presenter]") {
  CHECK(shown("server:online bob") == "bob is online");
  CHECK(shown("server:offline bob") == "bob went offline");
  CHECK(shown("server:joined #team bob") == "bob joined #team");
  CHECK(shown("server:joined #team alice") == "you joined #team");
  CHECK(shown("server:joined #team ALICE") == "you joined #team");
  CHECK(shown("server:left #team bob") == "bob left #team");
  CHECK(shown("server:left #team alice") == "you left #team");
  CHECK(shown("server:queued bob") == "bob is offline; the message is queued");
  CHECK(shown("server:queued-messages 3") == "3 messages while you were away:");
  CHECK(shown("server:queued-messages 1") == "1 message while you were away:");
  CHECK(shown("server:queued-messages 0") == "<nothing>");
  CHECK(shown("server:missed 2") ==
        "missed 2 lines (rooms, broadcasts, presence) while your messages were replayed;"
        " /history #ROOM shows a room's");
  CHECK(shown("server:missed 1").starts_with("missed 1 line (rooms"));
  CHECK(shown("server:users alice bob") == "online: alice, bob");
  CHECK(shown("server:rooms #a #b") == "rooms: #a, #b");
  CHECK(shown("server:rooms") == "no rooms");
  CHECK(shown("server:members #team alice bob") == "members of #team: alice, bob");
  CHECK(shown("server:members #team") == "nobody is in #team");
  CHECK(shown("server:history #team 2") == "history of #team, 2 lines:");
  CHECK(shown("server:history bob 1") == "history of bob, 1 line:");
  CHECK(shown("server:shutdown") == "the server is shutting down");
  CHECK(shown("server:something new") == "server: something new");
}

TEST_CASE("Answers the client asked for itself are not shown", "[client][presenter]") {
  for (const char* line :
       {"server:pong", "server:welcome alice", "server:bye", "server:help server:who ..."}) {
    CAPTURE(line);
    CHECK_FALSE(present(line, "alice"));
  }
}

TEST_CASE("Errors are shown in plain words", "[client][presenter]") {
  const auto error = present("server:error no-such-user carol", "alice");
  REQUIRE(error);
  CHECK(error->tone == Tone::kError);
  CHECK(error->text == "no such user: carol");
  CHECK(shown("server:error not-in-room #ops") == "you are not in #ops");
  CHECK(shown("server:error name-taken bob") == "the name bob is taken");
  CHECK(shown("server:error wrong-password bob") == "wrong password for bob");
  CHECK(shown("server:error queue-full bob") == "bob's queue is full; the message was not queued");
  CHECK(shown("server:error queue-full bob, could not store it") ==
        "the server could not store the message for bob");
  CHECK(shown("server:error empty-message") == "there was nothing to send");
  CHECK(shown("server:error rate-limited wait") == "too many registrations from this address; wait a minute");
  CHECK(shown("server:error unavailable could not read your queued messages; they stay queued") ==
        "the server could not read its database: could not read your queued messages; they stay queued");
  CHECK(shown("server:error idle-timeout nothing received for 600 s") ==
        "the server closed the connection: nothing received for 600 s");
  CHECK(shown("server:error brand-new detail") == "error brand-new: detail");
}
