// PROTOCOL.md 4.4 with a database file: `server:queued NAME` is sent once the
// DM is on disk, so the offline queue survives a crash (SIGKILL) or a stop,
// and known users, the queue bound and the options of the store hold across
// a restart.
#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

// The acceptance scenario.
constexpr int kDmsBeforeCrash = 200;

// bob registers and leaves; alice sends `count` DMs to bob in one write and
// gets every `server:queued bob`; right after the last of them the server is
// stopped with `stop_signal` and a new one starts on the same file.
void queue_for_bob_then_restart(RestartableServer& store, int count, int stop_signal) {
  register_and_exit(store.server(), "bob");
  RegisteredClient alice(store.server(), "alice");
  send_numbered_dms_to_offline(alice, "bob", count);
  store.restart(stop_signal);
}

// bob registers and gets alice's `count` DMs, in order, each exactly once,
// and then leaves.
void expect_bob_gets_all(const TestServer& server, int count) {
  TestClient bob(server, "bob");
  bob.register_as("bob", count);
  expect_numbered_replay(bob, "alice", count);
  bob.expect_quiet();
  bob.send_line("server:exit");
  bob.expect("server:bye");
  bob.expect_closed();
}

}  // namespace

TEST_CASE("store: 200 DMs acknowledged before a SIGKILL are all replayed after the restart", "[store]") {
  RestartableServer store;
  queue_for_bob_then_restart(store, kDmsBeforeCrash, SIGKILL);
  expect_bob_gets_all(store.server(), kDmsBeforeCrash);
}

TEST_CASE("store: 200 DMs queued before a SIGTERM are all replayed after the restart", "[store]") {
  RestartableServer store;
  queue_for_bob_then_restart(store, kDmsBeforeCrash, SIGTERM);
  expect_bob_gets_all(store.server(), kDmsBeforeCrash);
}

TEST_CASE("store: replayed DMs are marked delivered and never replayed twice", "[store]") {
  RestartableServer store;
  queue_for_bob_then_restart(store, kDmsBeforeCrash, SIGKILL);
  expect_bob_gets_all(store.server(), kDmsBeforeCrash);
  expect_bob_gets_all(store.server(), 0);
  store.restart(SIGTERM);
  expect_bob_gets_all(store.server(), 0);
}

TEST_CASE("store: with --no-group-commit every DM is still acknowledged and kept", "[store]") {
  constexpr int kDms = 50;
  RestartableServer store({.args = {"--no-group-commit"}});
  queue_for_bob_then_restart(store, kDms, SIGKILL);
  expect_bob_gets_all(store.server(), kDms);
}

TEST_CASE("store: --retain-days is accepted and keeps queued DMs", "[store]") {
  RestartableServer store({.args = {"--retain-days", "1"}});
  queue_for_bob_then_restart(store, 3, SIGTERM);
  expect_bob_gets_all(store.server(), 3);
}

TEST_CASE("store: users known before a restart are still known after it", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "Bob");
  store.restart(SIGTERM);

  RegisteredClient alice(store.server(), "alice");
  alice.send_line("BOB: are you there?");
  alice.expect("server:queued Bob");
  alice.send_line("nobody: hello?");
  alice.expect("server:error no-such-user nobody");

  TestClient bob(store.server(), "bob");
  bob.send_line("server:register bob");
  bob.expect_lines({"server:welcome Bob", "server:queued-messages 1"});
  bob.expect_replayed("alice: are you there?");
}

TEST_CASE("store: --max-queue counts the DMs queued before a restart", "[store]") {
  constexpr int kMaxQueue = 5;
  RestartableServer store({.args = {"--max-queue", std::to_string(kMaxQueue)}});
  queue_for_bob_then_restart(store, kMaxQueue, SIGTERM);

  RegisteredClient alice(store.server(), "alice");
  alice.send_line("bob: one too many");
  alice.expect("server:error queue-full bob");
  expect_bob_gets_all(store.server(), kMaxQueue);
  alice.expect_lines({"server:online bob", "server:offline bob"});
  alice.send_line("bob: room again");
  alice.expect("server:queued bob");
}

