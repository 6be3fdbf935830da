// The hub: every rule of docs/PROTOCOL.md, sections 3 to 5.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <iterator>
#include <set>
#include <string>
#include <string_view>

#include "hub_fixture.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::test {
namespace {

using Catch::Matchers::StartsWith;
using Catch::Matchers::UnorderedEquals;
using chat::HubConfig;
using chat::Presence;
using protocol::ErrorCode;

const std::string kNotRegistered = "server:error not-registered register first: server:register NAME";

HubConfig with_presence(Presence presence) {
  HubConfig config;
  config.presence = presence;
  return config;
}

// A framing error as the shell hands it to the hub.
protocol::Command framing_error(ErrorCode code) {
  protocol::Command command;
  command.kind = protocol::CommandKind::kInvalid;
  command.error = code;
  return command;
}

// Checks that `lines` is one line that starts with `prefix`.
void check_one_line_starting(const Lines& lines, const std::string& prefix) {
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines.front(), StartsWith(prefix));
}

// The number of sends in the last effects, and how many distinct events they carried.
struct Fanout {
  std::size_t sends = 0;
  std::size_t payloads = 0;
};

Fanout fanout_of(const chat::Effects& effects) {
  std::set<const chat::Event*> payloads;
  Fanout fanout;
  for (const chat::Effect& effect : effects) {
    if (effect.kind != chat::EffectKind::kSend) continue;
    ++fanout.sends;
    payloads.insert(effect.event.get());
  }
  fanout.payloads = payloads.size();
  return fanout;
}

// ---------------------------------------------------------------------------
// Before registration

TEST_CASE("Before registering, a command other than register, ping, help and exit gets not-registered",
          "[hub][register]") {
  HubFixture server;
  server.sign_in("bob");
  const SessionId guest = server.new_session();
  const auto line =
      GENERATE(as<std::string>{}, "bob: hi", "#team: hi", "*: hi", "server:who", "server:join #team",
               "server:leave #team", "server:rooms", "server:members #team", "server:history #team 5");
  CAPTURE(line);
  server.send(guest, line);
  CHECK(server.lines(guest) == Lines{kNotRegistered});
  CHECK(server.nothing_sent());
}

TEST_CASE("Before registering, a line that does not parse still gets not-registered", "[hub][register]") {
  HubFixture server;
  const SessionId guest = server.new_session();
  const auto line = GENERATE(as<std::string>{}, "hello", "server:dance", "bob:", "all: hi");
  CAPTURE(line);
  server.send(guest, line);
  CHECK(server.lines(guest) == Lines{kNotRegistered});
}

TEST_CASE("Before registering, ping, help and exit work", "[hub][register]") {
  HubFixture server;
  const SessionId guest = server.new_session();

  SECTION("ping") {
    server.send(guest, "server:ping");
    CHECK(server.lines(guest) == Lines{"server:pong"});
  }
  SECTION("help: one line per command") {
    server.send(guest, "server:help");
    const Lines help = server.lines(guest);
    const std::string_view commands[] = {
        "server:register", "NAME:TEXT",    "#ROOM:TEXT",   "*:TEXT",         "server:who",
        "server:join",     "server:leave", "server:rooms", "server:members", "server:history",
        "server:ping",     "server:help",  "server:exit",
    };
    CHECK(help.size() == std::size(commands));
    for (const std::string& line : help) CHECK_THAT(line, StartsWith("server:help "));
    for (const std::string_view command : commands) {
      CAPTURE(command);
      CHECK(std::any_of(help.begin(), help.end(),
                        [&](const std::string& line) { return line.find(command) != std::string::npos; }));
    }
  }
  SECTION("exit") {
    server.send(guest, "server:exit");
    CHECK(server.lines(guest) == Lines{"server:bye", kClosed});
    CHECK(server.hub().session_count() == 0);
  }
}

// ---------------------------------------------------------------------------
// Registration (4.5)

TEST_CASE("Registering a free name answers welcome and queued-messages 0", "[hub][register]") {
  HubFixture server;
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice");
  CHECK(server.lines(alice) == Lines{"server:welcome alice", "server:queued-messages 0"});
  CHECK(server.hub().online_count() == 1);
}

TEST_CASE("A password on a name registered without one is accepted", "[hub][register]") {
  HubFixture server;
  const SessionId first = server.sign_in("alice");
  server.disconnect(first);
  const SessionId second = server.new_session();
  server.send(second, "server:register alice another password");
  CHECK(server.lines(second) == Lines{"server:welcome alice", "server:queued-messages 0"});
}

TEST_CASE("A name online on another connection is name-taken, in any case", "[hub][register]") {
  HubFixture server;
  server.sign_in("alice");
  const SessionId other = server.new_session();
  const auto attempt = GENERATE(as<std::string>{}, "alice", "ALICE", "Alice");
  server.send(other, "server:register " + attempt);
  CHECK(server.lines(other) == Lines{"server:error name-taken alice"});
  CHECK(server.hub().online_count() == 1);

  server.send(other, "server:who");
  CHECK(server.lines(other) == Lines{kNotRegistered});
}

TEST_CASE("A name is shown as it was first registered", "[hub][register]") {
  HubFixture server;
  server.disconnect(server.sign_in("Alice"));
  const SessionId again = server.new_session();
  server.send(again, "server:register ALICE");
  CHECK(server.lines(again) == Lines{"server:welcome Alice", "server:queued-messages 0"});
  server.send(again, "server:who");
  CHECK(server.lines(again) == Lines{"server:users Alice"});
}

TEST_CASE("Registering twice on one connection is already-registered", "[hub][register]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:register bob");
  CHECK(server.lines(alice) == Lines{"server:error already-registered alice"});
  server.send(alice, "server:register alice");
  CHECK(server.lines(alice) == Lines{"server:error already-registered alice"});

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  CHECK(server.lines(bob) == Lines{"server:welcome bob", "server:queued-messages 0"});
}

TEST_CASE("The hub logs registrations and departures at info and refusals at warn", "[hub][log]") {
  HubFixture server(HubConfig{.max_clients = 1});
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice");
  REQUIRE(server.logs().size() == 1);
  CHECK(server.logs()[0].level == LogLevel::kInfo);
  CHECK_THAT(server.logs()[0].text, Catch::Matchers::Contains("alice"));

  server.forget();
  server.new_session();
  REQUIRE(server.logs().size() == 1);
  CHECK(server.logs()[0].level == LogLevel::kWarn);

  server.forget();
  server.disconnect(alice);
  REQUIRE(server.logs().size() == 1);
  CHECK(server.logs()[0].level == LogLevel::kInfo);
  CHECK_THAT(server.logs()[0].text, Catch::Matchers::Contains("alice"));
}

// ---------------------------------------------------------------------------
// Direct messages and the offline queue (4.4)

TEST_CASE("A DM to an online user is delivered at once, with no echo", "[hub][dm]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");

  server.send(alice, "bob: hi bob");
  CHECK(server.lines(bob) == Lines{"[22:13:20] alice: hi bob"});
  CHECK(server.lines(alice).empty());

  server.advance(std::chrono::seconds{65});
  server.send(alice, "BOB:  two spaces");
  CHECK(server.lines(bob) == Lines{"[22:14:25] alice:  two spaces"});
  CHECK(server.nothing_sent());
}

TEST_CASE("A DM to yourself is delivered to you", "[hub][dm]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "alice: note to self");
  CHECK(server.lines(alice) == Lines{"[22:13:20] alice: note to self"});
}

TEST_CASE("A DM to a name never registered is no-such-user", "[hub][dm]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "carol: hi");
  CHECK(server.lines(alice) == Lines{"server:error no-such-user carol"});
  CHECK(server.hub().queued_count("carol") == 0);
}

TEST_CASE("A DM to a known offline user is queued and replayed on its next registration",
          "[hub][dm][queue]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId carol = server.sign_in("carol");
  server.disconnect(server.sign_in("bob"));
  server.forget();

  server.send(alice, "bob: first");
  CHECK(server.lines(alice) == Lines{"server:queued bob"});
  server.advance(std::chrono::hours{24});
  server.send(carol, "Bob: second");
  CHECK(server.lines(carol) == Lines{"server:queued bob"});
  server.advance(std::chrono::seconds{1});
  server.send(alice, "BOB: third");
  CHECK(server.hub().queued_count("bob") == 3);

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  CHECK(server.lines(bob) == Lines{
                                 "server:welcome bob",
                                 "server:queued-messages 3",
                                 "[2023-11-14 22:13:20] alice: first",
                                 "[2023-11-15 22:13:20] carol: second",
                                 "[2023-11-15 22:13:21] alice: third",
                             });
  CHECK(server.hub().queued_count("bob") == 0);

  SECTION("the queue is emptied by the replay") {
    server.disconnect(bob);
    const SessionId again = server.new_session();
    server.send(again, "server:register bob");
    CHECK(server.lines(again) == Lines{"server:welcome bob", "server:queued-messages 0"});
  }
}

TEST_CASE("A DM past max_queue is refused with queue-full and nothing is dropped", "[hub][dm][queue]") {
  HubFixture server(HubConfig{.max_queue = 3});
  const SessionId alice = server.sign_in("alice");
  server.disconnect(server.sign_in("bob"));
  server.forget();

  for (const std::string text : {"one", "two", "three"}) {
    server.send(alice, "bob: " + text);
    CHECK(server.lines(alice) == Lines{"server:queued bob"});
  }
  server.send(alice, "bob: one too many");
  CHECK(server.lines(alice) == Lines{"server:error queue-full bob"});
  CHECK(server.hub().queued_count("bob") == 3);

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  CHECK(server.lines(bob) == Lines{
                                 "server:welcome bob",
                                 "server:queued-messages 3",
                                 "[2023-11-14 22:13:20] alice: one",
                                 "[2023-11-14 22:13:20] alice: two",
                                 "[2023-11-14 22:13:20] alice: three",
                             });
}

// ---------------------------------------------------------------------------
// Rooms

TEST_CASE("Joining a room tells every member, the joiner too, and gives the joiner the members",
          "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  const SessionId carol = server.sign_in("carol");

  server.send(alice, "server:join #team");
  CHECK(server.lines(alice) == Lines{"server:joined #team alice", "server:members #team alice"});
  CHECK(server.hub().room_count() == 1);

  server.send(bob, "server:join team");
  CHECK(server.lines(alice) == Lines{"server:joined #team bob"});
  CHECK(server.lines(bob) == Lines{"server:joined #team bob", "server:members #team alice bob"});
  CHECK(server.lines(carol).empty());
}

TEST_CASE("A room is shown as spelled when it was created", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #Team");
  server.forget();

  server.send(bob, "server:join #TEAM");
  CHECK(server.lines(bob) == Lines{"server:joined #Team bob", "server:members #Team alice bob"});
  server.send(bob, "#team: hi");
  CHECK(server.lines(alice) == Lines{"server:joined #Team bob", "[22:13:20] #Team bob: hi"});
}

TEST_CASE("Joining a room again answers joined and members to the joiner alone", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  server.send(alice, "server:join #TEAM");
  CHECK(server.lines(alice) == Lines{"server:joined #team alice", "server:members #team alice bob"});
  CHECK(server.nothing_sent());
}

TEST_CASE("A room message goes to the other members only", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  const SessionId carol = server.sign_in("carol");
  const SessionId dave = server.sign_in("dave");
  for (const SessionId member : {alice, bob, carol}) server.send(member, "server:join #team");
  server.forget();

  server.send(alice, "#team: standup in 5");
  CHECK(server.lines(bob) == Lines{"[22:13:20] #team alice: standup in 5"});
  CHECK(server.lines(carol) == Lines{"[22:13:20] #team alice: standup in 5"});
  CHECK(server.lines(alice).empty());
  CHECK(server.lines(dave).empty());
}

TEST_CASE("A room line is formatted once and shared by every recipient", "[hub][rooms][payload]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  for (const char* name : {"bob", "carol", "dave"}) server.send(server.sign_in(name), "server:join #team");
  server.send(alice, "server:join #team");
  const Fanout joined = fanout_of(server.last_effects());
  CHECK(joined.sends == 5);     // joined to 4 members, members to alice
  CHECK(joined.payloads == 2);  // the joined line is shared

  server.send(alice, "#team: hello");
  const Fanout message = fanout_of(server.last_effects());
  CHECK(message.sends == 3);
  CHECK(message.payloads == 1);
}

TEST_CASE("A room message or leave from a non-member is not-in-room", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId dave = server.sign_in("dave");
  server.send(alice, "server:join #team");
  server.forget();

  server.send(dave, "#team: hi");
  CHECK(server.lines(dave) == Lines{"server:error not-in-room #team"});
  server.send(dave, "server:leave team");
  CHECK(server.lines(dave) == Lines{"server:error not-in-room #team"});
  server.send(dave, "#nowhere: hi");
  CHECK(server.lines(dave) == Lines{"server:error not-in-room #nowhere"});
  server.send(dave, "server:leave #nowhere");
  CHECK(server.lines(dave) == Lines{"server:error not-in-room #nowhere"});
  CHECK(server.nothing_sent());
}

TEST_CASE("Leaving a room tells the remaining members and the leaver", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  server.send(bob, "server:leave #team");
  CHECK(server.lines(alice) == Lines{"server:left #team bob"});
  CHECK(server.lines(bob) == Lines{"server:left #team bob"});

  server.send(bob, "#team: still here?");
  CHECK(server.lines(bob) == Lines{"server:error not-in-room #team"});
  CHECK(server.lines(alice).empty());
}

TEST_CASE("A room exists while it has members", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:join #team");
  server.send(alice, "server:leave #team");
  CHECK(server.hub().room_count() == 0);
  server.forget();

  server.send(alice, "server:rooms");
  CHECK(server.lines(alice) == Lines{"server:rooms"});
  server.send(alice, "server:members #team");
  CHECK(server.lines(alice) == Lines{"server:members #team"});

  server.send(alice, "server:join #TEAM");
  CHECK(server.lines(alice) == Lines{"server:joined #TEAM alice", "server:members #TEAM alice"});
}

TEST_CASE("Disconnecting leaves every room; a room left empty is gone", "[hub][rooms]") {
  HubFixture server(with_presence(Presence::kOff));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  for (const char* room : {"#a", "#b"}) {
    server.send(alice, std::string("server:join ") + room);
    server.send(bob, std::string("server:join ") + room);
  }
  server.send(bob, "server:join #solo");
  REQUIRE(server.hub().room_count() == 3);
  server.forget();

  server.disconnect(bob);
  CHECK_THAT(server.lines(alice), UnorderedEquals(Lines{"server:left #a bob", "server:left #b bob"}));
  CHECK(server.hub().room_count() == 2);
  server.send(alice, "server:rooms");
  CHECK(server.lines(alice) == Lines{"server:rooms #a #b"});
}

TEST_CASE("server:rooms lists every room, sorted", "[hub][rooms]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  for (const char* room : {"#beta", "#Alpha", "#gamma"})
    server.send(alice, std::string("server:join ") + room);
  server.send(bob, "server:join #alpha2");
  server.forget();

  server.send(bob, "server:rooms");
  CHECK(server.lines(bob) == Lines{"server:rooms #Alpha #alpha2 #beta #gamma"});
}

TEST_CASE("server:members lists a room's members sorted, to anyone registered", "[hub][rooms]") {
  HubFixture server;
  for (const char* name : {"carol", "Alice", "bob"}) server.send(server.sign_in(name), "server:join #team");
  const SessionId dave = server.sign_in("dave");

  server.send(dave, "server:members team");
  CHECK(server.lines(dave) == Lines{"server:members #team Alice bob carol"});
  server.send(dave, "server:members #TEAM");
  CHECK(server.lines(dave) == Lines{"server:members #team Alice bob carol"});
  server.send(dave, "server:members #nowhere");
  CHECK(server.lines(dave) == Lines{"server:members #nowhere"});
}

// ---------------------------------------------------------------------------
// Broadcast and who

TEST_CASE("A broadcast goes to every other registered user, formatted once", "[hub][broadcast]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  const SessionId carol = server.sign_in("carol");
  const SessionId guest = server.new_session();

  server.send(alice, "*: hello all");
  CHECK(server.lines(bob) == Lines{"[22:13:20] * alice: hello all"});
  CHECK(server.lines(carol) == Lines{"[22:13:20] * alice: hello all"});
  CHECK(server.lines(alice).empty());
  CHECK(server.lines(guest).empty());
  CHECK(fanout_of(server.last_effects()).payloads == 1);
}

TEST_CASE("server:who lists the online users sorted case-insensitively", "[hub][who]") {
  HubFixture server;
  const SessionId carol = server.sign_in("carol");
  server.sign_in("Alice");
  server.sign_in("bob");
  server.disconnect(server.sign_in("dave"));
  server.new_session();
  server.forget();

  server.send(carol, "server:who");
  CHECK(server.lines(carol) == Lines{"server:users Alice bob carol"});
}

// ---------------------------------------------------------------------------
// Presence (4.3)

TEST_CASE("Presence all: online and offline go to every other registered user", "[hub][presence]") {
  HubFixture server(with_presence(Presence::kAll));
  const SessionId alice = server.sign_in("alice");
  const SessionId guest = server.new_session();

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  CHECK(server.lines(alice) == Lines{"server:online bob"});
  CHECK(server.lines(bob) == Lines{"server:welcome bob", "server:queued-messages 0"});
  CHECK(server.lines(guest).empty());

  server.disconnect(bob);
  CHECK(server.lines(alice) == Lines{"server:offline bob"});
  CHECK(server.nothing_sent());

  server.disconnect(guest);
  CHECK(server.nothing_sent());
}

TEST_CASE("Presence all: offline comes before the left lines", "[hub][presence]") {
  HubFixture server(with_presence(Presence::kAll));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  server.disconnect(bob);
  CHECK(server.lines(alice) == Lines{"server:offline bob", "server:left #team bob"});
}

// Registers without forgetting what that sent to the others.
SessionId arrive(HubFixture& server, const std::string& name) {
  const SessionId id = server.new_session();
  server.send(id, HubFixture::register_line(name));
  server.lines(id);
  return id;
}

TEST_CASE("Presence all, past its limit of users online, reaches room-mates only", "[hub][presence]") {
  HubConfig config = with_presence(Presence::kAll);
  config.presence_limit = 3;
  HubFixture server(config);
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  const SessionId carol = arrive(server, "carol");  // the third: still told to all
  CHECK(server.lines(bob) == Lines{"server:online carol"});
  server.send(carol, "server:join #team");
  server.forget();

  // A fourth online is past the limit, and nobody shares a room with dave yet.
  const SessionId dave = arrive(server, "dave");
  CHECK(server.nothing_sent());
  server.send(dave, "server:join #team");
  server.forget();
  // Leaving, dave still counts: four online, so only #team hears.
  server.disconnect(dave);
  CHECK(server.lines(alice) == Lines{"server:offline dave", "server:left #team dave"});
  CHECK(server.lines(carol) == Lines{"server:offline dave", "server:left #team dave"});
  CHECK(server.lines(bob).empty());

  // Three online again: everyone hears.
  server.disconnect(carol);
  CHECK(server.lines(bob) == Lines{"server:offline carol"});
  CHECK(server.lines(alice) == Lines{"server:offline carol", "server:left #team carol"});
}

TEST_CASE("Presence all with no limit (0) tells everyone however many are online", "[hub][presence]") {
  HubConfig config = with_presence(Presence::kAll);
  config.presence_limit = 0;
  HubFixture server(config);
  std::vector<SessionId> users;
  for (int i = 0; i < 300; ++i) users.push_back(server.sign_in("user" + std::to_string(i)));
  arrive(server, "last");
  for (const SessionId user : users) REQUIRE(server.lines(user) == Lines{"server:online last"});
}

TEST_CASE("Presence limit: 256 users online by default, and a reload changes it", "[hub][presence]") {
  CHECK(HubConfig{}.presence_limit == 256);
  HubFixture server(with_presence(Presence::kAll));
  std::vector<SessionId> users;
  for (int i = 0; i < 255; ++i) users.push_back(server.sign_in("user" + std::to_string(i)));
  arrive(server, "the256th");
  CHECK(server.lines(users.front()) == Lines{"server:online the256th"});
  server.forget();
  arrive(server, "the257th");
  CHECK(server.nothing_sent());

  HubConfig higher = with_presence(Presence::kAll);
  higher.presence_limit = 1000;
  server.hub().reconfigure(higher);
  arrive(server, "the258th");
  CHECK(server.lines(users.back()) == Lines{"server:online the258th"});
}

TEST_CASE("Presence rooms: offline goes to each room-mate once; online reaches nobody", "[hub][presence]") {
  HubFixture server(with_presence(Presence::kRooms));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  const SessionId carol = server.sign_in("carol");
  const SessionId dave = server.sign_in("dave");
  for (const SessionId member : {alice, bob}) {
    server.send(member, "server:join #a");
    server.send(member, "server:join #b");
  }
  server.send(carol, "server:join #b");
  server.forget();

  server.disconnect(bob);
  const Lines to_alice = server.lines(alice);
  REQUIRE(to_alice.size() == 3);
  CHECK(to_alice[0] == "server:offline bob");
  CHECK_THAT(Lines(to_alice.begin() + 1, to_alice.end()),
             UnorderedEquals(Lines{"server:left #a bob", "server:left #b bob"}));
  CHECK(server.lines(carol) == Lines{"server:offline bob", "server:left #b bob"});
  CHECK(server.lines(dave).empty());

  const SessionId back = server.new_session();
  server.send(back, "server:register bob");
  CHECK(server.lines(back) == Lines{"server:welcome bob", "server:queued-messages 0"});
  CHECK(server.nothing_sent());
}

TEST_CASE("Presence off: nobody hears online or offline, rooms still hear left", "[hub][presence]") {
  HubFixture server(with_presence(Presence::kOff));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  const SessionId carol = server.new_session();
  server.send(carol, "server:register carol");
  CHECK(server.lines(carol) == Lines{"server:welcome carol", "server:queued-messages 0"});
  CHECK(server.nothing_sent());

  server.disconnect(bob);
  CHECK(server.lines(alice) == Lines{"server:left #team bob"});
  CHECK(server.nothing_sent());
}

// ---------------------------------------------------------------------------
// Exit, limits, shutdown

TEST_CASE("server:exit answers bye, closes, and the others see the user go", "[hub][exit]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  server.send(alice, "server:exit");
  CHECK(server.lines(alice) == Lines{"server:bye", kClosed});
  CHECK(server.lines(bob) == Lines{"server:offline alice", "server:left #team alice"});
  CHECK(server.hub().online_count() == 1);
  CHECK(server.hub().session_count() == 1);

  SECTION("the shell's disconnect that follows changes nothing") {
    server.disconnect(alice);
    CHECK(server.nothing_sent());
    CHECK(server.hub().online_count() == 1);
  }
  SECTION("the name is free again") {
    const SessionId again = server.new_session();
    server.send(again, "server:register alice");
    CHECK(server.lines(again) == Lines{"server:welcome alice", "server:queued-messages 0"});
    CHECK(server.lines(bob) == Lines{"server:online alice"});
  }
}

TEST_CASE("Disconnecting a session twice, or one never connected, does nothing", "[hub]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.disconnect(bob);
  server.forget();

  server.disconnect(bob);
  server.disconnect(99);
  CHECK(server.nothing_sent());
  CHECK(server.hub().online_count() == 1);
  server.send(alice, "server:who");
  CHECK(server.lines(alice) == Lines{"server:users alice"});
}

TEST_CASE("Past max_clients a connection gets server-full and is closed", "[hub][limits]") {
  HubFixture server(HubConfig{.max_clients = 2});
  const SessionId first = server.new_session();
  server.new_session();
  CHECK(server.nothing_sent());

  const SessionId refused = server.new_session();
  CHECK(server.lines(refused) == Lines{"server:error server-full", kClosed});
  CHECK(server.hub().session_count() == 2);

  server.send(refused, "server:ping");
  server.disconnect(refused);
  CHECK(server.nothing_sent());
  CHECK(server.hub().session_count() == 2);

  server.disconnect(first);
  const SessionId later = server.new_session();
  server.send(later, "server:ping");
  CHECK(server.lines(later) == Lines{"server:pong"});
}

TEST_CASE("Shutdown tells every session and closes it; nothing follows", "[hub][shutdown]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  const SessionId guest = server.new_session();
  server.send(alice, "server:join #team");
  server.send(bob, "server:join #team");
  server.forget();

  server.shutdown();
  for (const SessionId session : {alice, bob, guest}) {
    CAPTURE(session);
    CHECK(server.lines(session) == Lines{"server:shutdown", kClosed});
  }
  CHECK(server.nothing_sent());

  server.send(alice, "*: anyone?");
  for (const SessionId session : {alice, bob, guest}) server.disconnect(session);
  CHECK(server.nothing_sent());
  CHECK(server.last_effects().empty());
}

// ---------------------------------------------------------------------------
// History (more in test_hub_store.cpp)

TEST_CASE("server:history is answered from the message store", "[hub][history]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(alice, "#team: hello");
  server.forget();

  server.send(alice, "server:history #team 5");
  CHECK(server.lines(alice) == Lines{"server:history #team 1", "[2023-11-14 22:13:20] #team alice: hello"});
  server.send(bob, "server:history #team 5");
  CHECK(server.lines(bob) == Lines{"server:error not-in-room #team"});
}

// ---------------------------------------------------------------------------
// Errors (5)

TEST_CASE("A line the parser refuses gets its error", "[hub][errors]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  struct Case {
    std::string line;
    std::string error;
  };
  const auto [line, error] = GENERATE(values<Case>({
      {"hello there", "server:error unknown-command "},
      {"server:dance now", "server:error unknown-command dance"},
      {"all: hi", "server:error bad-name "},
      {"bob smith: hi", "server:error bad-name "},
      {"server:join #-x", "server:error bad-name "},
      {"server:register", "server:error bad-name "},
  }));
  CAPTURE(line);
  server.send(alice, line);
  check_one_line_starting(server.lines(alice), error);
}

TEST_CASE("An empty message is empty-message, without detail", "[hub][errors]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  for (const char* line : {"alice:", "#team: ", "*: \t"}) {
    server.send(alice, line);
    CHECK(server.lines(alice) == Lines{"server:error empty-message"});
  }
}

TEST_CASE("Framing errors are answered, before registration too", "[hub][errors]") {
  HubFixture server(HubConfig{.max_line = 100});
  const SessionId alice = server.sign_in("alice");
  const SessionId guest = server.new_session();

  for (const SessionId session : {alice, guest}) {
    CAPTURE(session);
    server.handle(session, framing_error(ErrorCode::kLineTooLong));
    const Lines too_long = server.lines(session);
    check_one_line_starting(too_long, "server:error line-too-long ");
    CHECK_THAT(too_long.front(), Catch::Matchers::Contains("100"));

    server.handle(session, framing_error(ErrorCode::kBadUtf8));
    CHECK(server.lines(session) == Lines{"server:error bad-utf8"});
  }
}

TEST_CASE("With CRLF line endings every line the hub sends ends with CR LF", "[hub][crlf]") {
  HubFixture server(HubConfig{}, protocol::LineEnding::kCrLf);
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice");
  CHECK(server.lines(alice) == Lines{"server:welcome alice\r", "server:queued-messages 0\r"});

  const SessionId bob = server.sign_in("bob");
  server.send(bob, "alice: hi");
  CHECK(server.lines(alice) == Lines{"[22:13:20] bob: hi\r"});
}

}  // namespace
}  // namespace uvchat::test
