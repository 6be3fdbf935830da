// PROTOCOL.md 3 and 4.2: who, ping, help, exit, unknown commands, case.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("who: the online users sorted case-insensitively", "[commands]") {
  TestServer server({.args = {"--presence", "off"}});
  RegisteredClient carol(server, "carol");
  RegisteredClient bob(server, "Bob");
  RegisteredClient alice(server, "alice");
  RegisteredClient dave(server, "DAVE");
  TestClient stranger(server, "unregistered");
  stranger.expect_quiet();
  alice.send_line("server:who");
  alice.expect("server:users alice Bob carol DAVE");

  dave.send_line("server:exit");
  dave.expect("server:bye");
  carol.send_line("server:who");
  carol.expect("server:users alice Bob carol");
}

TEST_CASE("commands: the server target and the command word are case-insensitive", "[commands]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  for (const char* line : {"SERVER:WHO", "Server:Who", "server:WHO", "sErVeR:wHo"}) {
    CAPTURE(line);
    alice.send_line(line);
    alice.expect("server:users alice");
  }
  alice.send_line("SERVER:PING");
  alice.expect("server:pong");
}

TEST_CASE("commands: words split on spaces and tabs; extra words are ignored", "[commands]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("server:who am i");
  alice.expect("server:users alice");
  alice.send_line("server:ping \t pong please");
  alice.expect("server:pong");
  alice.send_line("server: \twho");
  alice.expect("server:users alice");
  alice.send_line("server:join \t #team \t now");
  alice.expect_lines({"server:joined #team alice", "server:members #team alice"});
}

TEST_CASE("help: one line per command", "[commands]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("server:help");
  for (const std::string& line : help_lines()) alice.expect(line);
  alice.expect_quiet();
}

TEST_CASE("exit: bye and then the server closes the connection", "[commands]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  bob.send_line("server:exit");
  bob.expect("server:bye");
  bob.expect_closed();
  alice.expect("server:offline bob");
  alice.send_line("server:who");
  alice.expect("server:users alice");
}

TEST_CASE("exit: lines after exit in the same write are not answered", "[commands]") {
  TestServer server;
  TestClient client(server);
  client.send("server:exit\nserver:ping\n");
  client.expect("server:bye");
  client.expect_closed();
}

TEST_CASE("unknown-command: a server word that does not exist", "[commands]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("server:dance");
  alice.expect("server:error unknown-command dance, try server:help");
  alice.send_line("SERVER:Dance wildly");
  alice.expect("server:error unknown-command Dance, try server:help");
  alice.send_line("server:");
  alice.expect("server:error unknown-command try server:help");
}
