// PROTOCOL.md 2 (rooms), 3 and 4.2: join, leave, room messages, rooms, members.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

const std::string kRoomRule =
    "server:error bad-name rooms are # and 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit";

// Presence lines are tested in test_presence.cpp; here they would only be noise.
ServerSetup without_presence() { return {.args = {"--presence", "off"}}; }

// alice and bob, both in #team; carol registered but in no room.
struct Team {
  Team() {
    join_room(alice, "alice", "#team", "alice");
    join_room(bob, "bob", "#team", "alice bob");
    alice.expect("server:joined #team bob");
  }

  TestServer server{without_presence()};
  RegisteredClient alice{server, "alice"};
  RegisteredClient bob{server, "bob"};
  RegisteredClient carol{server, "carol"};
};

}  // namespace

TEST_CASE("join: joined goes to every member including the joiner and members to the joiner", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  RegisteredClient carol(server, "carol");
  join_room(alice, "alice", "#team", "alice");
  join_room(bob, "bob", "#team", "alice bob");
  alice.expect("server:joined #team bob");
  join_room(carol, "carol", "#team", "alice bob carol");
  alice.expect("server:joined #team carol");
  bob.expect("server:joined #team carol");
  for (LinePeer* member : {&alice, &bob, &carol}) member->expect_quiet();
}

TEST_CASE("join: the # may be left out and the command word is case-insensitive", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.send_line("server:join team");
  alice.expect_lines({"server:joined #team alice", "server:members #team alice"});
  bob.send_line("SERVER:JOIN\t #TEAM");
  bob.expect_lines({"server:joined #team bob", "server:members #team alice bob"});
  alice.expect("server:joined #team bob");
}

TEST_CASE("join: a room is shown as spelled when it was created", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  join_room(alice, "alice", "#Team", "alice");
  bob.send_line("server:join #TEAM");
  bob.expect_lines({"server:joined #Team bob", "server:members #Team alice bob"});
  alice.expect("server:joined #Team bob");
  bob.send_line("#team: hello");
  alice.expect_chat("#Team bob: hello");
}

TEST_CASE("join: joining a room you are in answers joined and members to you alone", "[rooms]") {
  Team team;
  join_room(team.alice, "alice", "#team", "alice bob");
  team.bob.expect_quiet();
}

TEST_CASE("join: bad room names are bad-name", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  for (const char* command : {"join", "leave", "members"}) {
    alice.send_line(std::string("server:") + command);
    alice.expect(std::string("server:error bad-name usage: server:") + command + " #ROOM");
  }
  const std::vector<std::string> bad_rooms = {"#", "#-team", "#te!am", "##team", "#" + std::string(33, 'r')};
  for (const std::string& room : bad_rooms) {
    CAPTURE(room);
    alice.send_line("server:join " + room);
    alice.expect(kRoomRule);
    alice.send_line(room + ": hi");
    alice.expect(kRoomRule);
  }
  const std::string longest = "#" + std::string(32, 'r');
  join_room(alice, "alice", longest, "alice");
}

TEST_CASE("room message: to the other members only", "[rooms]") {
  Team team;
  team.alice.send_line("#team: standup in 5");
  team.bob.expect_chat("#team alice: standup in 5");
  team.alice.expect_quiet();
  team.carol.expect_quiet();

  team.bob.send_line("#TEAM:no space: and a colon");
  team.alice.expect_chat("#team bob: no space: and a colon");
  team.bob.expect_quiet();
}

TEST_CASE("room message: from a non-member or to no room is not-in-room", "[rooms]") {
  Team team;
  team.carol.send_line("#team: let me in");
  team.carol.expect("server:error not-in-room #team");
  team.carol.send_line("#nowhere: anyone?");
  team.carol.expect("server:error not-in-room #nowhere");
  team.alice.expect_quiet();
  team.bob.expect_quiet();
}

TEST_CASE("room message: empty or blank text is empty-message", "[rooms]") {
  Team team;
  for (const char* line : {"#team:", "#team:   ", "#team: \t"}) {
    CAPTURE(line);
    team.alice.send_line(line);
    team.alice.expect("server:error empty-message");
  }
  team.bob.expect_quiet();
}

TEST_CASE("leave: left goes to the remaining members and to the leaver", "[rooms]") {
  Team team;
  team.bob.send_line("server:leave team");
  team.bob.expect("server:left #team bob");
  team.alice.expect("server:left #team bob");
  team.carol.expect_quiet();

  team.bob.send_line("#team: still here?");
  team.bob.expect("server:error not-in-room #team");
  team.alice.send_line("server:members #team");
  team.alice.expect("server:members #team alice");
  team.alice.send_line("#team: alone");
  team.alice.expect_quiet();
  team.bob.expect_quiet();
}

TEST_CASE("leave: a room you are not in is not-in-room", "[rooms]") {
  Team team;
  team.carol.send_line("server:leave #team");
  team.carol.expect("server:error not-in-room #team");
  team.carol.send_line("server:leave #nowhere");
  team.carol.expect("server:error not-in-room #nowhere");
  team.alice.expect_quiet();
}

TEST_CASE("leave: a room exists while it has members", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  join_room(alice, "alice", "#Team", "alice");
  alice.send_line("server:leave #team");
  alice.expect("server:left #Team alice");
  alice.send_line("server:rooms");
  alice.expect("server:rooms");
  join_room(alice, "alice", "#TEAM", "alice");
}

TEST_CASE("disconnect: each of the user's rooms gets left", "[rooms]") {
  Team team;
  join_room(team.alice, "alice", "#two", "alice");
  join_room(team.bob, "bob", "#two", "alice bob");
  team.alice.expect("server:joined #two bob");

  team.bob.close();
  team.alice.expect_unordered({"server:left #team bob", "server:left #two bob"});
  team.alice.expect_quiet();
  team.carol.expect_quiet();
  team.alice.send_line("server:members #team");
  team.alice.expect("server:members #team alice");
}

TEST_CASE("rooms: every room sorted; empty when there are none", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.send_line("server:rooms");
  alice.expect("server:rooms");
  for (const char* room : {"#gamma", "#alpha", "#delta"}) join_room(alice, "alice", room, "alice");
  join_room(bob, "bob", "#beta", "bob");
  bob.send_line("server:rooms");
  bob.expect("server:rooms #alpha #beta #delta #gamma");
  alice.send_line("SERVER:ROOMS extra words");
  alice.expect("server:rooms #alpha #beta #delta #gamma");
}

TEST_CASE("members: the members of a room for anyone registered", "[rooms]") {
  Team team;
  team.carol.send_line("server:members #team");
  team.carol.expect("server:members #team alice bob");
  team.carol.send_line("server:members TEAM");
  team.carol.expect("server:members #team alice bob");
}

TEST_CASE("members: of a room that does not exist is an empty list", "[rooms]") {
  TestServer server(without_presence());
  RegisteredClient alice(server, "alice");
  alice.send_line("server:members #nowhere");
  alice.expect("server:members #nowhere");
  alice.send_line("server:members nowhere");
  alice.expect("server:members #nowhere");
}
