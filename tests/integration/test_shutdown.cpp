// SIGTERM and SIGINT: every client is told server:shutdown, the server exits 0.
#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

void expect_graceful_stop(int signal_number, const std::string& signal_name) {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  join_room(alice, "alice", "#team", "alice");
  TestClient stranger(server, "unregistered");
  stranger.expect_quiet();

  server.stop(signal_number);
  const std::vector<LinePeer*> clients = {&alice, &bob, &stranger};
  for (LinePeer* client : clients) {
    client->expect("server:shutdown");
    client->expect_closed();
  }
  CHECK(server.wait_exit().describe() == "exited with 0");
  INFO(server.log());
  CHECK(server.log().find("got " + signal_name) != std::string::npos);
  CHECK(server.log().find("info: stopped") != std::string::npos);
}

}  // namespace

TEST_CASE("SIGTERM: every client gets server:shutdown and the server exits 0", "[shutdown]") {
  expect_graceful_stop(SIGTERM, "SIGTERM");
}

TEST_CASE("SIGINT: every client gets server:shutdown and the server exits 0", "[shutdown]") {
  expect_graceful_stop(SIGINT, "SIGINT");
}

TEST_CASE("SIGTERM with no clients: the server exits 0", "[shutdown]") {
  TestServer server;
  {
    TestClient visitor(server, "visitor");
    visitor.send_line("server:exit");
    visitor.expect("server:bye");
    visitor.expect_closed();
  }
  server.stop(SIGTERM);
  CHECK(server.wait_exit().describe() == "exited with 0");
}

TEST_CASE("SIGTERM right after the server logs that it listens: exits 0", "[shutdown]") {
  // The `listening on` line tells that the server is ready, for signals too.
  // A server that handles signals only a moment later dies of this SIGTERM
  // only some of the time, so try it a number of times.
  constexpr int kAttempts = 50;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    CAPTURE(attempt);
    TestServer server;
    server.stop(SIGTERM);
    REQUIRE(server.wait_exit().describe() == "exited with 0");
  }
}
