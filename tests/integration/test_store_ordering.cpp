// PROTOCOL.md 1 and 3 with answers that wait for the disk: a connection's
// answers come in the order of its lines, and all of them are sent before the
// server closes a connection whose input ended.
#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("ordering: after the client's EOF every answer is sent, then the server closes", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "bob");
  {
    TestClient bot(store.server(), "bot");
    // The last line has no LF: the end of input ends it.
    bot.send("server:register bot\nbob: hi");
    bot.shutdown_write();
    bot.expect_lines({"server:welcome bot", "server:queued-messages 0", "server:queued bob"});
    bot.expect_closed();
  }
  TestClient bob(store.server(), "bob");
  bob.register_as("bob", 1);
  bob.expect_replayed("bot: hi");
}

TEST_CASE("ordering: printf ... | nc -N gets every answer", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "bob");
  NcClient nc(store.server(), {"-N"});
  nc.send("server:register bot\nbob: build finished");
  nc.close_stdin();
  nc.expect_lines({"server:welcome bot", "server:queued-messages 0", "server:queued bob"});
  CHECK(nc.wait_exit().describe() == "exited with 0");
}

TEST_CASE("ordering: the queued DMs come after welcome and before the answer to the next line", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "x");
  RegisteredClient alice(store.server(), "alice");
  send_numbered_dms_to_offline(alice, "x", 2);

  TestClient x(store.server(), "x");
  x.send("server:register x\nserver:who\n");
  x.expect_lines({"server:welcome x", "server:queued-messages 2"});
  expect_numbered_replay(x, "alice", 2);
  x.expect("server:users alice x");
}

TEST_CASE("ordering: `server:queued` comes before the answer to the next line", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "bob");
  RegisteredClient alice(store.server(), "alice");
  alice.send("bob: hi\nserver:ping\n");
  alice.expect_lines({"server:queued bob", "server:pong"});
}

TEST_CASE("ordering: `server:exit` right after queued DMs answers the DMs first", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "bob");
  RegisteredClient alice(store.server(), "alice");
  alice.send("bob: one\nbob: two\nserver:exit\nbob: never read\n");
  alice.expect_lines({"server:queued bob", "server:queued bob", "server:bye"});
  alice.expect_closed();

  TestClient bob(store.server(), "bob");
  bob.register_as("bob", 2);
  bob.expect_replayed("alice: one");
  bob.expect_replayed("alice: two");
  bob.expect_quiet();
}

TEST_CASE("ordering: a history answer comes before the answer to the next line", "[store]") {
  RestartableServer store;
  RegisteredClient alice(store.server(), "alice");
  join_room(alice, "alice", "#team", "alice");
  alice.send("#team: hello\nserver:history #team\nserver:ping\n");
  alice.expect("server:history #team 1");
  alice.expect_replayed("#team alice: hello");
  alice.expect("server:pong");
}
