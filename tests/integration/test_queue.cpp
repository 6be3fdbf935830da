// PROTOCOL.md 4.4: DMs to known users who are offline, and the queue bound.
#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("queue: a DM to a known offline user is queued and replayed on registration", "[queue]") {
  TestServer server;
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  alice.send_line("bob: first");
  alice.expect("server:queued bob");
  alice.send_line("bob: second: with a colon");
  alice.expect("server:queued bob");

  TestClient bob(server, "bob");
  bob.register_as("bob", 2);
  bob.expect_replayed("alice: first");
  bob.expect_replayed("alice: second: with a colon");
  bob.expect_quiet();
  alice.expect("server:online bob");
}

TEST_CASE("queue: DMs from several senders are replayed oldest first", "[queue]") {
  TestServer server;
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  RegisteredClient carol(server, "carol");
  alice.expect("server:online carol");
  alice.send_line("bob: one from alice");
  alice.expect("server:queued bob");
  carol.send_line("bob: two from carol");
  carol.expect("server:queued bob");
  alice.send_line("bob: three from alice");
  alice.expect("server:queued bob");

  TestClient bob(server, "bob");
  bob.register_as("bob", 3);
  bob.expect_replayed("alice: one from alice");
  bob.expect_replayed("carol: two from carol");
  bob.expect_replayed("alice: three from alice");
  bob.expect_quiet();
}

TEST_CASE("queue: a replayed queue is empty at the next registration", "[queue]") {
  TestServer server;
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  alice.send_line("bob: only once");
  alice.expect("server:queued bob");
  {
    TestClient bob(server, "bob");
    bob.register_as("bob", 1);
    bob.expect_replayed("alice: only once");
    bob.send_line("server:exit");
    bob.expect("server:bye");
    bob.expect_closed();
  }
  TestClient bob_again(server, "bob again");
  bob_again.register_as("bob", 0);
  bob_again.expect_quiet();
}

TEST_CASE("queue: the offline user is named as first registered", "[queue]") {
  TestServer server;
  register_and_exit(server, "Bob");
  RegisteredClient alice(server, "alice");
  alice.send_line("BOB: hello");
  alice.expect("server:queued Bob");
  TestClient bob(server, "bob");
  bob.send_line("server:register bob");
  bob.expect_lines({"server:welcome Bob", "server:queued-messages 1"});
  bob.expect_replayed("alice: hello");
}

TEST_CASE("queue: past --max-queue a DM is queue-full and nothing is dropped", "[queue]") {
  TestServer server({.args = {"--max-queue", "5"}});
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  send_numbered_dms_to_offline(alice, "bob", 5);
  alice.send_line("bob: one too many");
  alice.expect("server:error queue-full bob");
  alice.send_line("bob: still too many");
  alice.expect("server:error queue-full bob");

  TestClient bob(server, "bob");
  bob.register_as("bob", 5);
  expect_numbered_replay(bob, "alice", 5);
  bob.expect_quiet();
  bob.close();
  alice.expect("server:online bob");
  alice.expect("server:offline bob");
  alice.send_line("bob: room again after the replay");
  alice.expect("server:queued bob");
}

TEST_CASE("queue: --max-queue 0 queues nothing", "[queue]") {
  TestServer server({.args = {"--max-queue", "0"}});
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  alice.send_line("bob: hi");
  alice.expect("server:error queue-full bob");
}

TEST_CASE("queue: by default 1000 DMs are queued and the 1001st is queue-full", "[queue]") {
  constexpr int kDefaultMaxQueue = 1000;
  TestServer server;
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  send_numbered_dms_to_offline(alice, "bob", kDefaultMaxQueue);
  alice.send_line("bob: message 1001");
  alice.expect("server:error queue-full bob");
  alice.expect_quiet();

  TestClient bob(server, "bob");
  bob.register_as("bob", kDefaultMaxQueue);
  expect_numbered_replay(bob, "alice", kDefaultMaxQueue);
  bob.expect_quiet();
}
