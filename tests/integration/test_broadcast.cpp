// PROTOCOL.md 3 and 4.1: broadcasts to everyone registered and online.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("broadcast: to every other registered user but not the sender", "[broadcast]") {
  TestServer server({.args = {"--presence", "off"}});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  RegisteredClient carol(server, "carol");
  TestClient stranger(server, "unregistered");
  stranger.expect_quiet();

  alice.send_line("*: hello everyone");
  bob.expect_chat("* alice: hello everyone");
  carol.expect_chat("* alice: hello everyone");
  alice.expect_quiet();
  stranger.expect_quiet();
}

TEST_CASE("broadcast: users who left get nothing and nothing is queued for them", "[broadcast]") {
  TestServer server({.args = {"--presence", "off"}});
  RegisteredClient alice(server, "alice");
  {
    RegisteredClient bob(server, "bob");
    bob.send_line("server:exit");
    bob.expect("server:bye");
  }
  RegisteredClient carol(server, "carol");
  alice.send_line("*:no space");
  carol.expect_chat("* alice: no space");
  TestClient bob(server, "bob");
  bob.register_as("bob", 0);
  bob.expect_quiet();
}

TEST_CASE("broadcast: alone online nobody gets it", "[broadcast]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  alice.send_line("*: anyone?");
  alice.expect_quiet();
}
