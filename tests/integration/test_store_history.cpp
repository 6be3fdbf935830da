// PROTOCOL.md 4.6: `server:history` of a room or of the DMs with a user, the
// replay on `server:join` (--history), and history across a restart.
#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

// `member` sends numbered messages `first`..`last` to `room` in one write.
// The sender gets no copy; its ping's answer shows the server took them all.
void send_to_room(LinePeer& member, const std::string& room, int first, int last) {
  std::string lines;
  for (int i = first; i <= last; ++i) lines += room + ": " + numbered_text(i) + "\n";
  member.send(lines);
  member.expect_quiet();
}

// The header `server:history TARGET N` and then `sender`'s numbered room
// messages `first`..`last`, oldest first; nothing at all when there are none.
void expect_room_history(LinePeer& reader, const std::string& room, const std::string& sender, int first,
                         int last) {
  if (last < first) return;
  reader.expect("server:history " + room + " " + std::to_string(last - first + 1));
  for (int i = first; i <= last; ++i) reader.expect_replayed(room + " " + sender + ": " + numbered_text(i));
}

// `asker` asks `line` and gets messages `first`..`last` of alice in `room`.
void expect_room_answer(LinePeer& asker, const std::string& line, const std::string& room, int first,
                        int last) {
  asker.send_line(line);
  expect_room_history(asker, room, "alice", first, last);
  asker.expect_quiet();
}

// `from` sends a DM to the online `to`, who gets it live. (A
// RegisteredClient's label is its name.)
void exchange_dm(LinePeer& from, LinePeer& to, const std::string& text) {
  from.send_line(to.label() + ": " + text);
  to.expect_chat(from.label() + ": " + text);
}

struct JoinReplay {
  std::vector<std::string> args;
  int sent;
  int replayed;
};

}  // namespace

TEST_CASE("history: a room's last 20 messages by default, N on request, at most 500", "[store]") {
  constexpr int kSent = 505;
  RestartableServer store;
  RegisteredClient alice(store.server(), "alice");
  join_room(alice, "alice", "#team", "alice");
  send_to_room(alice, "#team", 1, kSent);

  expect_room_answer(alice, "server:history #team", "#team", kSent - 19, kSent);
  expect_room_answer(alice, "server:history #team 3", "#team", kSent - 2, kSent);
  expect_room_answer(alice, "server:history #team 1", "#team", kSent, kSent);
  expect_room_answer(alice, "server:history #team 500", "#team", kSent - 499, kSent);
  expect_room_answer(alice, "server:history #team 100000", "#team", kSent - 499, kSent);
}

TEST_CASE("history: a room with fewer messages than asked for gives what it has", "[store]") {
  RestartableServer store;
  RegisteredClient alice(store.server(), "alice");
  join_room(alice, "alice", "#team", "alice");
  send_to_room(alice, "#team", 1, 2);
  expect_room_answer(alice, "server:history #team", "#team", 1, 2);
  expect_room_answer(alice, "SERVER:HISTORY #TEAM 50", "#team", 1, 2);
}

TEST_CASE("history: only a room's members may read its history", "[store]") {
  RestartableServer store;
  RegisteredClient alice(store.server(), "alice");
  RegisteredClient bob(store.server(), "bob");
  alice.expect("server:online bob");
  join_room(alice, "alice", "#team", "alice");
  send_to_room(alice, "#team", 1, 1);
  bob.send_line("server:history #team");
  bob.expect("server:error not-in-room #team");
  bob.send_line("server:history #nowhere 5");
  bob.expect("server:error not-in-room #nowhere");
  bob.expect_quiet();
}

TEST_CASE("history: the DMs between two users, both ways, oldest first", "[store]") {
  RestartableServer store;
  RegisteredClient alice(store.server(), "alice");
  RegisteredClient bob(store.server(), "bob");
  RegisteredClient carol(store.server(), "carol");
  alice.expect_lines({"server:online bob", "server:online carol"});
  bob.expect("server:online carol");
  exchange_dm(alice, bob, "one");
  exchange_dm(bob, alice, "two");
  exchange_dm(carol, alice, "not between alice and bob");
  exchange_dm(alice, bob, "three");

  alice.send_line("server:history bob");
  alice.expect("server:history bob 3");
  alice.expect_replayed("alice: one");
  alice.expect_replayed("bob: two");
  alice.expect_replayed("alice: three");
  alice.expect_quiet();

  bob.send_line("server:history alice 2");
  bob.expect("server:history alice 2");
  bob.expect_replayed("bob: two");
  bob.expect_replayed("alice: three");
  bob.expect_quiet();

  bob.send_line("server:history nobody");
  bob.expect("server:error no-such-user nobody");
}

// Live DMs are held by the store until their delivery is known and then
// written in bulk (docs/STORAGE.md): read back after a restart, every one
// is there once, in order, and none came back as queued.
TEST_CASE("history: live DMs both ways survive a restart, none of them queued", "[store]") {
  constexpr int kDms = 150;
  RestartableServer store;
  {
    RegisteredClient alice(store.server(), "alice");
    RegisteredClient bob(store.server(), "bob");
    alice.expect("server:online bob");
    for (int i = 1; i <= kDms; ++i) {
      if (i % 3 == 0) {
        exchange_dm(bob, alice, numbered_text(i));
      } else {
        exchange_dm(alice, bob, numbered_text(i));
      }
    }
    // Both leave cleanly, having read everything: a client that closes with
    // a line unread (alice, with bob's server:offline) resets the
    // connection, and a DM its kernel had read but not yet acknowledged then
    // counts as undelivered and is queued again (docs/PROTOCOL.md, 4.4),
    // which is right, but not what this test is about.
    bob.send_line("server:exit");
    bob.expect("server:bye");
    alice.expect("server:offline bob");
    alice.send_line("server:exit");
    alice.expect("server:bye");
  }
  store.restart(SIGTERM);

  RegisteredClient bob(store.server(), "bob");      // queued-messages 0
  RegisteredClient alice(store.server(), "alice");  // likewise
  bob.expect("server:online alice");
  bob.send_line("server:history alice " + std::to_string(kDms));
  bob.expect("server:history alice " + std::to_string(kDms));
  for (int i = 1; i <= kDms; ++i) bob.expect_replayed((i % 3 == 0 ? "bob: " : "alice: ") + numbered_text(i));
  bob.expect_quiet();
}

TEST_CASE("history: room and DM history survive a restart", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "bob");
  {
    RegisteredClient alice(store.server(), "alice");
    join_room(alice, "alice", "#team", "alice");
    send_to_room(alice, "#team", 1, 3);
    alice.send_line("bob: kept for later");
    alice.expect("server:queued bob");
  }
  store.restart(SIGTERM);

  RegisteredClient alice(store.server(), "alice");
  alice.send_line("server:join #team");
  alice.expect_lines({"server:joined #team alice", "server:members #team alice"});
  expect_room_history(alice, "#team", "alice", 1, 3);
  expect_room_answer(alice, "server:history #team", "#team", 1, 3);
  alice.send_line("server:history bob");
  alice.expect("server:history bob 1");
  alice.expect_replayed("alice: kept for later");
}

TEST_CASE("history: joining a room replays its last --history messages", "[store]") {
  const std::vector<JoinReplay> cases = {
      {{}, 12, 10},
      {{"--history", "3"}, 5, 3},
      {{"--history", "0"}, 5, 0},
      {{}, 0, 0},
  };
  for (const JoinReplay& replay : cases) {
    CAPTURE(replay.args, replay.sent);
    RestartableServer store({.args = replay.args});
    RegisteredClient alice(store.server(), "alice");
    RegisteredClient bob(store.server(), "bob");
    alice.expect("server:online bob");
    join_room(alice, "alice", "#team", "alice");
    send_to_room(alice, "#team", 1, replay.sent);

    join_room(bob, "bob", "#team", "alice bob");
    expect_room_history(bob, "#team", "alice", replay.sent - replay.replayed + 1, replay.sent);
    bob.expect_quiet();
    alice.expect("server:joined #team bob");
    alice.expect_quiet();
  }
}
