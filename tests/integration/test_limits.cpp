// PROTOCOL.md 5 (server-full) and --max-clients.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("max-clients 2: a third connection gets server-full and is closed", "[limits]") {
  TestServer server({.args = {"--max-clients", "2"}});
  RegisteredClient alice(server, "alice");
  TestClient stranger(server, "unregistered");
  stranger.expect_quiet();

  TestClient third(server, "third");
  third.expect("server:error server-full");
  third.expect_closed();
  alice.expect_quiet();
  stranger.expect_quiet();
  CHECK(server.wait_for_log("server full"));
}

TEST_CASE("max-clients 2: a place that frees up can be taken again", "[limits]") {
  TestServer server({.args = {"--max-clients", "2"}});
  RegisteredClient alice(server, "alice");
  TestClient leaver(server, "leaver");
  leaver.send_line("server:exit");
  leaver.expect("server:bye");
  leaver.expect_closed();

  RegisteredClient bob(server, "bob");
  bob.send_line("server:who");
  bob.expect("server:users alice bob");
}
