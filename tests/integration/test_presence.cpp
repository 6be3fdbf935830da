// PROTOCOL.md 4.3: who hears online and offline with --presence all, rooms, off.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("presence all (the default): every other registered user", "[presence]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  TestClient stranger(server, "unregistered");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  bob.expect_quiet();
  RegisteredClient carol(server, "carol");
  alice.expect("server:online carol");
  bob.expect("server:online carol");
  carol.expect_quiet();

  carol.close();
  alice.expect("server:offline carol");
  bob.expect("server:offline carol");
  stranger.expect_quiet();
}

TEST_CASE("presence all: given explicitly with a room both offline and left come", "[presence]") {
  TestServer server({.args = {"--presence", "all"}});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  join_room(alice, "alice", "#team", "alice");
  join_room(bob, "bob", "#team", "alice bob");
  alice.expect("server:joined #team bob");
  bob.close();
  alice.expect_unordered({"server:offline bob", "server:left #team bob"});
  alice.expect_quiet();
}

TEST_CASE("presence all: past --presence-limit users online, only room-mates hear", "[presence]") {
  TestServer server({.args = {"--presence-limit", "2"}});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  join_room(alice, "alice", "#team", "alice");
  RegisteredClient carol(server, "carol");  // three online: past the limit
  alice.expect_quiet();
  bob.expect_quiet();
  join_room(carol, "carol", "#team", "alice carol");
  alice.expect("server:joined #team carol");
  carol.send_line("server:who");
  carol.expect("server:users alice bob carol");  // who still lists everyone

  carol.close();  // three online as it leaves: #team hears, bob does not
  alice.expect_unordered({"server:offline carol", "server:left #team carol"});
  bob.expect_quiet();
  RegisteredClient dave(server, "dave");  // three online again
  alice.expect_quiet();
  dave.close();
  alice.expect_quiet();
  bob.close();  // two online as bob leaves: told to all
  alice.expect("server:offline bob");
}

TEST_CASE("presence rooms: online reaches nobody; offline reaches each room-mate once", "[presence]") {
  TestServer server({.args = {"--presence", "rooms"}});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  RegisteredClient carol(server, "carol");
  alice.expect_quiet();
  bob.expect_quiet();

  join_room(alice, "alice", "#one", "alice");
  join_room(alice, "alice", "#two", "alice");
  join_room(bob, "bob", "#one", "alice bob");
  join_room(bob, "bob", "#two", "alice bob");
  alice.expect_lines({"server:joined #one bob", "server:joined #two bob"});

  bob.close();
  alice.expect_unordered({"server:offline bob", "server:left #one bob", "server:left #two bob"});
  alice.expect_quiet();
  carol.expect_quiet();
}

TEST_CASE("presence rooms: a returning user's online reaches nobody", "[presence]") {
  TestServer server({.args = {"--presence", "rooms"}});
  RegisteredClient alice(server, "alice");
  join_room(alice, "alice", "#team", "alice");
  {
    RegisteredClient bob(server, "bob");
    join_room(bob, "bob", "#team", "alice bob");
    alice.expect("server:joined #team bob");
    bob.send_line("server:exit");
    bob.expect("server:bye");
  }
  alice.expect_unordered({"server:offline bob", "server:left #team bob"});
  RegisteredClient bob_again(server, "bob");
  alice.expect_quiet();
}

TEST_CASE("presence off: nobody hears online or offline but rooms still get left", "[presence]") {
  TestServer server({.args = {"--presence", "off"}});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect_quiet();
  join_room(alice, "alice", "#team", "alice");
  join_room(bob, "bob", "#team", "alice bob");
  alice.expect("server:joined #team bob");
  RegisteredClient carol(server, "carol");
  carol.send_line("server:exit");
  carol.expect("server:bye");
  bob.close();
  alice.expect("server:left #team bob");
  alice.expect_quiet();
}
