// Arrivals in a crowd (issue 20): the loop flushes every 256 lines rather
// than once a turn, and also looks in the listener's queue between polls
// (Server::accept_waiting: every 256 lines, every 16 while connections keep
// coming), so that a crowd connecting at once does not overflow the
// kernel's accept queue while the loop is busy.
#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

// The server is stopped while alice's 300 lines and bob's connection come
// in; the kernel completes bob's handshake and queues him. Resumed, the
// loop finds alice's bytes first (they were ready first) and, 256 lines
// into them, takes bob from the queue before it polls again.
TEST_CASE("arrivals: a busy turn takes the connections that wait for it", "[arrivals]") {
  TestServer server({.args = {"--log-level", "debug", "--presence", "off"}});
  RegisteredClient alice(server, "alice");
  server.stop(SIGSTOP);
  std::string pings;
  constexpr int kPings = 300;
  for (int i = 0; i < kPings; ++i) pings += "server:ping\n";
  alice.send(pings);
  TestClient bob(server, "bob");
  server.stop(SIGCONT);

  for (int i = 0; i < kPings; ++i) alice.expect("server:pong");
  CHECK(server.wait_for_log("accepted 1 waiting connections between polls"));
  bob.send_line("server:register bob");
  bob.expect("server:welcome bob");
  bob.expect("server:queued-messages 0");
  alice.send_line("bob: you got in");
  bob.expect_chat("alice: you got in");
}
