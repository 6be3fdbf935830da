// Debian's netcat-openbsd as a client, as the README shows it.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("nc: register and get a DM and answer it and exit", "[nc]") {
  TestServer server;
  NcClient nc(server);
  nc.register_as("ncuser");
  RegisteredClient alice(server, "alice");
  nc.expect("server:online alice");

  alice.send_line("ncuser: hello nc");
  nc.expect_chat("alice: hello nc");
  nc.send_line("alice: hello from nc");
  alice.expect_chat("ncuser: hello from nc");

  nc.send_line("server:exit");
  nc.expect("server:bye");
  alice.expect("server:offline ncuser");
  nc.close_stdin();
  nc.expect_closed();
  CHECK(nc.wait_exit().describe() == "exited with 0");
}

TEST_CASE("nc -N: a last line without LF is taken at EOF (the PROTOCOL.md example)", "[nc]") {
  TestServer server({.args = {"--presence", "off"}});
  RegisteredClient bob(server, "bob");
  NcClient nc(server, {"-N"}, "nc -N");
  nc.send("server:register bot\nbob:hi");
  nc.close_stdin();
  nc.expect_lines({"server:welcome bot", "server:queued-messages 0"});
  nc.expect_closed();
  bob.expect_chat("bot: hi");
  CHECK(nc.wait_exit().describe() == "exited with 0");
}

TEST_CASE("nc: two people meet in who and DMs and a room and a broadcast and the queue", "[nc]") {
  TestServer server;
  NcClient alice(server, {}, "nc alice");
  alice.register_as("alice");
  {
    NcClient bob(server, {}, "nc bob");
    bob.register_as("bob");
    alice.expect("server:online bob");
    alice.send_line("server:who");
    alice.expect("server:users alice bob");

    alice.send_line("bob: hi bob");
    bob.expect_chat("alice: hi bob");
    bob.send_line("alice: hi alice");
    alice.expect_chat("bob: hi alice");

    alice.send_line("server:join #team");
    alice.expect_lines({"server:joined #team alice", "server:members #team alice"});
    bob.send_line("server:join #team");
    bob.expect_lines({"server:joined #team bob", "server:members #team alice bob"});
    alice.expect("server:joined #team bob");
    alice.send_line("#team: standup in 5");
    bob.expect_chat("#team alice: standup in 5");
    bob.send_line("*: lunch?");
    alice.expect_chat("* bob: lunch?");

    bob.send_line("server:exit");
    bob.expect("server:bye");
    bob.close_stdin();
    bob.expect_closed();
  }
  alice.expect_unordered({"server:offline bob", "server:left #team bob"});
  alice.send_line("bob: see you later");
  alice.expect("server:queued bob");

  NcClient bob_again(server, {}, "nc bob again");
  bob_again.register_as("bob", 1);
  bob_again.expect_replayed("alice: see you later");
  alice.expect("server:online bob");
}
