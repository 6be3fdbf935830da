// PROTOCOL.md 2 (names), 3 (before registration) and 4.5 (registration).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

const std::string kNotRegistered = "server:error not-registered register first: server:register NAME";
const std::string kNameRule =
    "server:error bad-name names are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit";
const std::string kReserved = "server:error bad-name server and all are reserved";

}  // namespace

TEST_CASE("register: welcome and then queued-messages 0", "[registration]") {
  TestServer server;
  TestClient alice(server, "alice");
  alice.send_line("server:register alice");
  alice.expect_lines({"server:welcome alice", "server:queued-messages 0"});
  alice.expect_quiet();
}

TEST_CASE("register: the password is the rest of the line, spaces and all", "[registration]") {
  TestServer server;
  TestClient alice(server, "alice");
  alice.send_line("server:register alice some secret words");
  alice.expect_lines({"server:welcome alice", "server:queued-messages 0"});
  alice.send_line("server:exit");
  alice.expect("server:bye");

  TestClient guesser(server, "guesser");
  guesser.send_line("server:register alice some secret");
  guesser.expect("server:error wrong-password alice");
  TestClient again(server, "alice again");
  again.send_line("server:register alice some secret words");
  again.expect_lines({"server:welcome alice", "server:queued-messages 0"});
}

TEST_CASE("register: a name online elsewhere is name-taken in any case", "[registration]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  TestClient other(server, "other");
  other.send_line("server:register alice");
  other.expect("server:error name-taken alice");
  other.send_line("server:register ALICE");
  other.expect("server:error name-taken alice");
  other.register_as("bob");
}

TEST_CASE("register: a name is shown as first registered", "[registration]") {
  TestServer server;
  TestClient first(server, "first");
  first.register_as("Alice");
  TestClient taker(server, "taker");
  taker.send_line("server:register aLiCe");
  taker.expect("server:error name-taken Alice");
  first.send_line("server:exit");
  first.expect("server:bye");
  first.expect_closed();

  TestClient second(server, "second");
  second.send_line("server:register ALICE");
  second.expect_lines({"server:welcome Alice", "server:queued-messages 0"});
  second.send_line("server:who");
  second.expect("server:users Alice");
}

TEST_CASE("register: a second register is already-registered with the name held", "[registration]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("server:register bob");
  alice.expect("server:error already-registered alice");
  alice.send_line("server:register alice");
  alice.expect("server:error already-registered alice");
  alice.send_line("server:who");
  alice.expect("server:users alice");
}

TEST_CASE("register: names that break the rules are bad-name", "[registration]") {
  TestServer server;
  TestClient client(server);
  client.send_line("server:register");
  client.expect("server:error bad-name usage: server:register NAME [PASSWORD]");
  client.send_line("server:register    ");
  client.expect("server:error bad-name usage: server:register NAME [PASSWORD]");
  const std::vector<std::string> bad_names = {"-alice", "_alice", ".alice", "al!ce", "al/ce",
                                              "#team",  "*",      "al:ce",  "ålice", std::string(33, 'a')};
  for (const std::string& name : bad_names) {
    CAPTURE(name);
    client.send_line("server:register " + name);
    client.expect(kNameRule);
  }
  client.register_as("a");
}

TEST_CASE("register: names of 1 and of 32 characters of the whole set are fine", "[registration]") {
  TestServer server;
  TestClient shortest(server, "shortest");
  shortest.register_as("7");
  const std::string longest = "Zz09_.-" + std::string(25, 'x');
  REQUIRE(longest.size() == 32);
  TestClient longer(server, "longest");
  longer.register_as(longest);
  longer.send_line("server:who");
  longer.expect("server:users 7 " + longest);
}

TEST_CASE("register: server and all are reserved in any case", "[registration]") {
  TestServer server;
  TestClient client(server);
  for (const char* name : {"server", "SERVER", "Server", "all", "ALL", "aLl"}) {
    CAPTURE(name);
    client.send_line(std::string("server:register ") + name);
    client.expect(kReserved);
  }
  client.register_as("allison");
}

TEST_CASE("before registering: every command but register/ping/help/exit is not-registered",
          "[registration]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TestClient stranger(server, "stranger");
  for (const char* line : {"bob: hi", "#team: hi", "*: hi", "server:who", "server:join #team",
                           "server:leave #team", "server:rooms", "server:members #team",
                           "server:history #team", "server:history bob 5", "SERVER:WHO"}) {
    CAPTURE(line);
    stranger.send_line(line);
    stranger.expect(kNotRegistered);
  }
  bob.expect_quiet();
}

TEST_CASE("before registering: a line that is no valid command is not-registered too", "[registration]") {
  // PROTOCOL.md 3: "Before a connection has registered, every line except
  // server:register, server:ping, server:help and server:exit gets
  // server:error not-registered".
  TestServer server;
  TestClient stranger(server, "stranger");
  for (const char* line : {"hello there", "server:dance", "bob:", "b@d: hi", "#bad!: hi"}) {
    CAPTURE(line);
    stranger.send_line(line);
    stranger.expect(kNotRegistered);
  }
}

TEST_CASE("before registering: ping and help and exit work", "[registration]") {
  TestServer server;
  TestClient stranger(server, "stranger");
  stranger.send_line("server:ping");
  stranger.expect("server:pong");
  stranger.send_line("server:help");
  for (const std::string& line : help_lines()) stranger.expect(line);
  stranger.send_line("server:exit");
  stranger.expect("server:bye");
  stranger.expect_closed();
}

TEST_CASE("register: the log has the connection and the registration", "[registration]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  CHECK(server.wait_for_log(" registered as alice"));
  alice.close();
  CHECK(server.wait_for_log("(alice) left"));
  INFO(server.log());
  CHECK(server.log().find("info: connection 1 from 127.0.0.1:") != std::string::npos);
}
