// PROTOCOL.md 3 and 4.4: direct messages between online users.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("DM: pushed to the recipient at once with no copy to the sender", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");

  alice.send_line("bob: hi bob");
  bob.expect_match(R"(\[([01]\d|2[0-3]):[0-5]\d:[0-5]\d\] alice: hi bob)");
  alice.expect_quiet();
  bob.send_line("alice: hi alice");
  alice.expect_chat("bob: hi alice");
  bob.expect_quiet();
}

TEST_CASE("DM: only the first colon splits and one leading space is dropped", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.send_line("bob: meet at 10:30: room 2");
  bob.expect_chat("alice: meet at 10:30: room 2");
  alice.send_line("bob:no space");
  bob.expect_chat("alice: no space");
  alice.send_line("bob:   three spaces");
  bob.expect_chat("alice:   three spaces");
  alice.send_line("bob: \ttab and trailing  ");
  bob.expect_chat("alice: \ttab and trailing  ");
}

TEST_CASE("DM: the recipient is found case-insensitively", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "Bob");
  alice.send_line("BOB: shouting");
  bob.expect_chat("alice: shouting");
  alice.send_line(" bob : spaced target");
  bob.expect_chat("alice: spaced target");
}

TEST_CASE("DM: to yourself is delivered to you", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("alice: a note to self");
  alice.expect_chat("alice: a note to self");
  alice.expect_quiet();
}

TEST_CASE("DM: to a name never registered is no-such-user", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("carol: are you there?");
  alice.expect("server:error no-such-user carol");
  alice.send_line("Carol.X: hi");
  alice.expect("server:error no-such-user Carol.X");
}

TEST_CASE("DM: a target that is not a name is bad-name", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("b@d: hi");
  alice.expect("server:error bad-name names are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit");
  alice.send_line("all: hi everyone");
  alice.expect("server:error bad-name server and all are reserved");
}

TEST_CASE("DM: empty or blank text is empty-message", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  for (const char* line : {"bob:", "bob: ", "bob:   ", "bob: \t ", "*:", "*: \t"}) {
    CAPTURE(line);
    alice.send_line(line);
    alice.expect("server:error empty-message");
  }
  bob.expect_quiet();
}

TEST_CASE("DM: a line with no colon is unknown-command", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("hello there");
  alice.expect("server:error unknown-command expected NAME:TEXT, #ROOM:TEXT or *:TEXT, try server:help");
}

TEST_CASE("DM: UTF-8 text passes through unchanged", "[direct]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.send_line("bob: héllo wörld ✓ 😀 日本語");
  bob.expect_chat("alice: héllo wörld ✓ 😀 日本語");
}
