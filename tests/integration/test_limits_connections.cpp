// PROTOCOL.md 6, connections: --max-per-ip connections from one address,
// and --max-registrations registrations a minute from it.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kMaxPerIp = 3;
constexpr int kMaxRegistrations = 5;

// A connection from 127.0.0.1 past --max-per-ip: refused and closed.
void expect_refused(const TestServer& server, const std::string& label) {
  TestClient refused(server, label);
  refused.expect_match("server:error server-full( .+)?");
  refused.expect_closed();
}

// `peer` registering as `name` is refused as rate-limited and stays open.
void expect_rate_limited(LinePeer& peer, const std::string& name) {
  peer.send_line("server:register " + name);
  peer.expect_match("server:error rate-limited .+");
  peer.expect_quiet();
}

}  // namespace

TEST_CASE("max-per-ip 3: a fourth connection from the address is server-full, a freed place is taken",
          "[limits]") {
  TestServer server({.args = {"--max-per-ip", std::to_string(kMaxPerIp), "--presence", "off"}});
  RegisteredClient alice(server, "alice");
  TestClient second(server, "second");
  TestClient leaver(server, "leaver");
  leaver.expect_quiet();

  expect_refused(server, "fourth");
  expect_refused(server, "fifth");
  CHECK(server.wait_for_log("too many connections"));
  alice.expect_quiet();
  second.expect_quiet();

  leaver.send_line("server:exit");
  leaver.expect("server:bye");
  leaver.expect_closed();
  RegisteredClient bob(server, "bob");
  bob.send_line("server:who");
  bob.expect("server:users alice bob");
  expect_refused(server, "over again");
}

TEST_CASE("max-registrations 5: the sixth register in a minute from the address is rate-limited",
          "[limits]") {
  TestServer server(
      {.args = {"--max-registrations", std::to_string(kMaxRegistrations), "--presence", "off"}});
  std::vector<std::unique_ptr<RegisteredClient>> users;
  for (int i = 1; i < kMaxRegistrations; ++i) {
    users.push_back(std::make_unique<RegisteredClient>(server, "user" + std::to_string(i)));
  }
  // A refused registration counts too.
  TestClient late(server, "late");
  late.send_line("server:register user1");
  late.expect("server:error name-taken user1");

  expect_rate_limited(late, "user5");
  TestClient later(server, "later");
  expect_rate_limited(later, "user6");
  users.front()->send_line("server:who");
  users.front()->expect("server:users user1 user2 user3 user4");
}
