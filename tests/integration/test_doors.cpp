// Issue 18: one chat, many doors. A native user (docs/PROTOCOL.md), an IRC
// user (docs/IRC.md) and a classic-dialect user (docs/CLASSIC.md) on one
// server: one room, DMs in every direction, and the offline queue of a name
// registered from IRC, each seen in the form of the reader's own door.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "harness.hpp"
#include "harness_doors.hpp"

using namespace uvchat::test;
using SystemClock = std::chrono::system_clock;

namespace {

// The times are checked, so UTC; presence is left out where it would
// only be noise between the lines that matter (test_irssi.cpp sees it).
ServerSetup quiet_utc() { return {.args = {"--utc", "--presence", "off"}}; }

// A room line from `nick` to `#room` with `text`, as an IRC user gets it.
bool is_privmsg(const IrcLine& line, std::string_view nick, std::string_view target, std::string_view text) {
  return line.command == "PRIVMSG" &&
         line.prefix == std::string(nick) + "!" + std::string(nick) + "@uvchat" && line.param(0) == target &&
         line.params.size() == 2 && line.params.back() == text;
}

IrcLine expect_privmsg(IrcClient& reader, std::string_view nick, std::string_view target,
                       std::string_view text) {
  return reader.wait_for([&](const IrcLine& line) { return is_privmsg(line, nick, target, text); },
                         ":" + std::string(nick) + "!" + std::string(nick) + "@uvchat PRIVMSG " +
                             std::string(target) + " :" + std::string(text));
}

// The tag of a line that negotiated server-time: ISO 8601 UTC, between
// `before` and `after` to the second.
void check_time_tag(const IrcLine& line, SystemClock::time_point before, SystemClock::time_point after) {
  INFO("the time tag '" << line.time << "'");
  REQUIRE(!line.time.empty());
  const auto when = parse_server_time(line.time);
  REQUIRE(when);
  using std::chrono::floor;
  using std::chrono::seconds;
  CHECK(floor<seconds>(*when) >= floor<seconds>(before));
  CHECK(floor<seconds>(*when) <= floor<seconds>(after));
}

void check_time_of_day(const std::string& stamp, SystemClock::time_point before,
                       SystemClock::time_point after) {
  INFO("the time '" << stamp << "' should be the UTC time the line was sent");
  CHECK(time_of_day_between(stamp, before, after));
}

// alice (native), bob (IRC, server-time) and carol (classic), all online.
struct ThreeDoors {
  ThreeDoors() {
    bob.register_irc();
    carol.join("carol");
  }

  TestServer server{quiet_utc()};
  RegisteredClient alice{server, "alice"};
  IrcClient bob{server, "bob"};
  ClassicClient carol{server, "carol"};
};

}  // namespace

TEST_CASE("doors: a native, an IRC and a classic user share a room, each seeing their own door's lines",
          "[doors]") {
  ThreeDoors doors;
  auto& [server, alice, bob, carol] = doors;

  join_room(alice, "alice", "#team", "alice");
  bob.send_irc("JOIN #team");
  bob.wait_for([](const IrcLine& line) { return line.command == "JOIN" && line.nick() == "bob"; },
               ":bob!bob@uvchat JOIN #team");
  const IrcLine names = bob.wait_for_command("353");
  CHECK(names.params.back() == "alice bob");
  bob.wait_for_command("366");
  alice.expect("server:joined #team bob");
  carol.join_room("team");
  alice.expect("server:joined #team carol");
  bob.wait_for([](const IrcLine& line) { return line.command == "JOIN" && line.nick() == "carol"; },
               ":carol!carol@uvchat JOIN #team");

  SECTION("the native user's line") {
    const auto before = SystemClock::now();
    alice.send_line("#team: hello from nc");
    const IrcLine line = expect_privmsg(bob, "alice", "#team", "hello from nc");
    const std::string stamp = carol.expect_message("alice", "hello from nc");
    const auto after = SystemClock::now();
    check_time_tag(line, before, after);
    check_time_of_day(stamp, before, after);
  }
  SECTION("the IRC user's line") {
    const auto before = SystemClock::now();
    bob.privmsg("#team", "hello from irc");
    const std::string native_stamp = expect_native_chat(alice, "#team bob: hello from irc");
    const std::string classic_stamp = carol.expect_message("bob", "hello from irc");
    const auto after = SystemClock::now();
    check_time_of_day(native_stamp, before, after);
    check_time_of_day(classic_stamp, before, after);
  }
  SECTION("the classic user's line, which comes back to its sender too") {
    const auto before = SystemClock::now();
    carol.send_line("MESSAGE:hello from classic");
    const std::string native_stamp = expect_native_chat(alice, "#team carol: hello from classic");
    const IrcLine line = expect_privmsg(bob, "carol", "#team", "hello from classic");
    const std::string own_stamp = carol.expect_message("carol", "hello from classic");
    const auto after = SystemClock::now();
    check_time_of_day(native_stamp, before, after);
    check_time_tag(line, before, after);
    check_time_of_day(own_stamp, before, after);
  }
  // Nothing more, to anyone: no echo to the native and IRC senders, no
  // second copy to the others.
  alice.expect_quiet();
  bob.expect_quiet();
  carol.expect_quiet();
}

TEST_CASE("doors: an IRC user without server-time gets the room's lines without tags", "[doors]") {
  TestServer server(quiet_utc());
  RegisteredClient alice(server, "alice");
  join_room(alice, "alice", "#team", "alice");
  IrcClient bob(server, "bob");
  bob.register_irc(/*server_time=*/false);
  bob.send_irc("JOIN #team");
  bob.wait_for_command("366");
  alice.expect("server:joined #team bob");
  alice.send_line("#team: plain");
  const IrcLine line = expect_privmsg(bob, "alice", "#team", "plain");
  CHECK(line.time.empty());
  bob.expect_quiet();
}

TEST_CASE("doors: DMs in all six directions between a native, an IRC and a classic user", "[doors]") {
  ThreeDoors doors;
  auto& [server, alice, bob, carol] = doors;

  SECTION("native to IRC and to classic") {
    alice.send_line("bob: from alice to bob");
    expect_privmsg(bob, "alice", "bob", "from alice to bob");
    alice.send_line("carol: from alice to carol");
    carol.expect("PRIVATE:alice:from alice to carol");
  }
  SECTION("IRC to native and to classic") {
    const auto before = SystemClock::now();
    bob.privmsg("alice", "from bob to alice");
    const std::string stamp = expect_native_chat(alice, "bob: from bob to alice");
    check_time_of_day(stamp, before, SystemClock::now());
    bob.privmsg("carol", "from bob to carol");
    carol.expect("PRIVATE:bob:from bob to carol");
  }
  SECTION("classic to native and to IRC") {
    carol.send_line("PRIVATE:alice:from carol to alice");
    expect_native_chat(alice, "carol: from carol to alice");
    const auto before = SystemClock::now();
    carol.send_line("PRIVATE:bob:from carol to bob");
    const IrcLine line = expect_privmsg(bob, "carol", "bob", "from carol to bob");
    check_time_tag(line, before, SystemClock::now());
  }
  // No copy to the sender, nothing twice.
  alice.expect_quiet();
  bob.expect_quiet();
  carol.expect_quiet();
}

TEST_CASE("doors: the offline queue of a name registered from IRC is replayed with server-time tags",
          "[doors]") {
  TestServer server(quiet_utc());
  {
    IrcClient ircy(server, "ircy");
    ircy.register_irc();
    ircy.quit();
  }
  RegisteredClient alice(server, "alice");
  ClassicClient carol(server, "carol");
  carol.join("carol");

  const auto alice_before = SystemClock::now();
  alice.send_line("ircy: kept from nc");
  alice.expect("server:queued ircy");
  const auto alice_after = SystemClock::now();
  const auto carol_before = SystemClock::now();
  carol.send_line("PRIVATE:ircy:kept from classic");
  carol.expect("PRIVATE:server:ircy is offline and gets your message when they next join");
  const auto carol_after = SystemClock::now();

  // A replay stamped with the time it is replayed at would pass for the
  // original time within the same second: the reconnection waits for the
  // next whole second to tell them apart.
  const auto next_second =
      std::chrono::ceil<std::chrono::seconds>(carol_after) + std::chrono::milliseconds(50);
  std::this_thread::sleep_until(next_second);

  IrcClient ircy(server, "ircy");
  const std::vector<IrcLine> burst = ircy.register_irc();
  for (const IrcLine& line : burst) {
    INFO("a line of the registration burst: " << line.command);
    CHECK(line.command != "PRIVMSG");
  }
  // docs/IRC.md: a NOTICE announces them, then each is a PRIVMSG from its
  // sender, oldest first, with the time it was sent and nothing in its text.
  const std::optional<IrcLine> notice = IrcLine::parse(ircy.read_irc());
  REQUIRE(notice);
  CHECK(notice->command == "NOTICE");
  CHECK(notice->params.back() == "2 messages were kept for you while you were offline; here they are");
  const std::optional<IrcLine> from_alice = IrcLine::parse(ircy.read_irc());
  REQUIRE(from_alice);
  CHECK(is_privmsg(*from_alice, "alice", "ircy", "kept from nc"));
  check_time_tag(*from_alice, alice_before, alice_after);
  const std::optional<IrcLine> from_carol = IrcLine::parse(ircy.read_irc());
  REQUIRE(from_carol);
  CHECK(is_privmsg(*from_carol, "carol", "ircy", "kept from classic"));
  check_time_tag(*from_carol, carol_before, carol_after);
  ircy.expect_quiet();

  // Replayed once: the queue is empty at the next registration.
  ircy.quit();
  IrcClient again(server, "ircy");
  again.register_irc();
  again.expect_quiet();
}

TEST_CASE("doors: presence and a DM to someone offline, in each door's words", "[doors]") {
  TestServer server({.args = {"--utc"}});
  RegisteredClient alice(server, "alice");
  IrcClient bob(server, "bob");
  bob.register_irc();
  alice.expect("server:online bob");
  ClassicClient carol(server);
  carol.join("carol");
  alice.expect("server:online carol");
  bob.wait_for(
      [](const IrcLine& line) { return line.command == "NOTICE" && line.params.back() == "carol is online"; },
      ":uvchat NOTICE * :carol is online");

  // docs/CLASSIC.md: QUIT, then USER_LEFT:name to everyone else.
  carol.send_line("QUIT");
  carol.expect_closed();
  alice.expect("server:offline carol");
  bob.wait_for(
      [](const IrcLine& line) {
        return line.command == "NOTICE" && line.params.back() == "carol went offline";
      },
      ":uvchat NOTICE * :carol went offline");

  ClassicClient dave(server, "dave");
  dave.join("dave");
  alice.expect("server:online dave");
  bob.quit();
  alice.expect("server:offline bob");
  dave.expect("USER_LEFT:bob");

  // A DM to a known user who is offline: IRC's 301, classic's server line.
  IrcClient erin(server, "erin");
  erin.register_irc();
  erin.privmsg("carol", "are you there");
  const IrcLine away = erin.wait_for_command("301");
  CHECK(away.param(1) == "carol");
  CHECK(away.params.back() == "carol is offline; your message is kept for them");
  dave.send_line("PRIVATE:bob:later then");
  wait_for_line(
      dave,
      [](std::string_view line) {
        return line == "PRIVATE:server:bob is offline and gets your message when they next join";
      },
      "PRIVATE:server:bob is offline...");
  erin.privmsg("nobody", "hello?");
  CHECK(erin.wait_for_command("401").param(1) == "nobody");
}
