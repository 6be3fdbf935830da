// The hub and the durable store (issue 3): what it asks the store to keep
// and fetch, what it says only once the store has answered, history, and
// passwords.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "hub_fixture.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::test {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using chat::HubConfig;
using chat::MessageKind;
using MessageIds = std::vector<MessageId>;

HubConfig with_history_on_join(int count) {
  HubConfig config;
  config.history_on_join = count;
  return config;
}

// `name` has registered once and is offline now.
void register_and_leave(HubFixture& server, std::string_view name) {
  server.disconnect(server.sign_in(name));
  server.forget();
}

// Sends "`to`: TEXT" from `from` for each text, one second apart.
void say_each(HubFixture& server, SessionId from, std::string_view to,
              const std::vector<std::string>& texts) {
  for (const std::string& text : texts) {
    server.send(from, std::string(to) + ": " + text);
    server.advance(std::chrono::seconds{1});
  }
}

MessageIds ids_of(const std::vector<chat::InsertMessage>& inserts) {
  MessageIds ids;
  for (const chat::InsertMessage& insert : inserts) ids.push_back(insert.message.id);
  return ids;
}

bool logged(const HubFixture& server, LogLevel level, std::string_view words) {
  return std::any_of(server.logs().begin(), server.logs().end(), [&](const LogLine& line) {
    return line.level == level && line.text.find(words) != std::string::npos;
  });
}

const Lines kWelcomeAlice = {"server:welcome alice", "server:queued-messages 0"};

// ---------------------------------------------------------------------------
// Storing messages

// alice and bob online, carol known but offline, alice alone in #team.
struct Cast {
  SessionId alice = 0;
  SessionId bob = 0;
};

Cast set_the_scene(HubFixture& server) {
  Cast cast{server.sign_in("alice"), server.sign_in("bob")};
  register_and_leave(server, "carol");
  server.send(cast.alice, "server:join #team");
  server.forget();
  return cast;
}

TEST_CASE("Every accepted message is stored once, as it was accepted", "[hub][store]") {
  HubFixture server;
  const Cast cast = set_the_scene(server);
  struct Case {
    std::string line;
    MessageKind kind;
    std::string target;
  };
  const auto [line, kind, target] = GENERATE(values<Case>({
      {"BOB: hi", MessageKind::kDirect, "bob"},      // online
      {"carol: hi", MessageKind::kDirect, "carol"},  // offline: queued
      {"#TEAM: hi", MessageKind::kRoom, "team"},
      {"*: hi", MessageKind::kBroadcast, ""},
  }));
  CAPTURE(line);
  server.send(cast.alice, line);
  const auto inserts = server.store_requests<chat::InsertMessage>();
  REQUIRE(inserts.size() == 1);
  const chat::MessageRecord& stored = inserts.front().message;
  CHECK(stored.kind == kind);
  CHECK(stored.target == target);
  CHECK(stored.sender == "alice");
  CHECK(inserts.front().text() == "hi");
  CHECK(inserts.front().record().text == "hi");
  CHECK(stored.received_at == server.now());
  CHECK(server.store().holds(stored.id));
  // The event its recipients get shares the request's copy of the text
  // (and can go as soon as it is written); a live DM's event, for one
  // session, is not kept to be rendered again.
  for (const chat::Effect& effect : server.last_effects()) {
    if (effect.kind == chat::EffectKind::kSend && effect.session == cast.bob) {
      CHECK(effect.event->text() == "hi");
      CHECK(effect.event->one_recipient == (kind == MessageKind::kDirect));
    }
  }
}

TEST_CASE("Message ids count on from the last one the store had", "[hub][store]") {
  HubFixture server;
  const Cast cast = set_the_scene(server);
  server.hub().set_last_message_id(41);
  for (const char* line : {"bob: hi", "carol: hi", "#team: hi", "*: hi"}) server.send(cast.alice, line);
  CHECK(ids_of(server.store_requests<chat::InsertMessage>()) == MessageIds{42, 43, 44, 45});
}

TEST_CASE("A refused message is not stored", "[hub][store]") {
  HubFixture server(HubConfig{.max_queue = 0});
  const Cast cast = set_the_scene(server);
  const auto line = GENERATE(as<std::string>{}, "dave: no such user", "#other: not in room",
                             "carol: queue full", "bob:   ");
  CAPTURE(line);
  server.send(cast.alice, line);
  const Lines answer = server.lines(cast.alice);
  REQUIRE(answer.size() == 1);
  CHECK_THAT(answer.front(), StartsWith("server:error "));
  CHECK(server.store_requests<chat::InsertMessage>().empty());
}

TEST_CASE("A DM to an online user is sent with its message id, stored without an ack ticket",
          "[hub][store][dm]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "bob: hi");
  const auto inserts = server.store_requests<chat::InsertMessage>();
  REQUIRE(inserts.size() == 1);
  CHECK(inserts.front().ticket == 0);
  CHECK(server.message_ids(bob) == MessageIds{inserts.front().message.id});
  CHECK(server.lines(alice).empty());
}

// ---------------------------------------------------------------------------
// The durable offline queue

TEST_CASE("A DM to an offline user is acknowledged only once its insert has committed",
          "[hub][store][queue]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.hold_store_results();

  server.send(alice, "bob: hi");
  const auto inserts = server.store_requests<chat::InsertMessage>();
  REQUIRE(inserts.size() == 1);
  CHECK(inserts.front().ticket != 0);
  CHECK(server.lines(alice).empty());
  CHECK(server.hub().queued_count("bob") == 1);

  server.release_store_result();
  CHECK(server.lines(alice) == Lines{"server:queued bob"});
  CHECK(server.hub().queued_count("bob") == 1);
}

TEST_CASE("A DM whose insert fails is refused with queue-full and frees its place", "[hub][store][queue]") {
  HubFixture server(HubConfig{.max_queue = 1});
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.hold_store_results();

  server.send(alice, "bob: lost");
  server.fail_store_result();
  CHECK(server.lines(alice) == Lines{"server:error queue-full bob, could not store it"});
  CHECK(server.hub().queued_count("bob") == 0);

  server.send(alice, "bob: kept");
  server.release_store_result();
  CHECK(server.lines(alice) == Lines{"server:queued bob"});

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  server.release_all_store_results();
  CHECK(server.lines(bob) ==
        Lines{"server:welcome bob", "server:queued-messages 1", "[2023-11-14 22:13:20] alice: kept"});
}

TEST_CASE("The store's answer to a DM whose sender has left is dropped", "[hub][store][queue]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.hold_store_results();
  server.send(alice, "bob: hi");
  server.disconnect(alice);
  server.forget();

  SECTION("committed") {
    server.release_store_result();
    CHECK(server.hub().queued_count("bob") == 1);
  }
  SECTION("failed: not counted") {
    server.fail_store_result();
    CHECK(server.hub().queued_count("bob") == 0);
  }
  CHECK(server.nothing_sent());
}

TEST_CASE("max_queue counts the DMs still waiting for their commit", "[hub][store][queue]") {
  HubFixture server(HubConfig{.max_queue = 2});
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.hold_store_results();

  for (const char* line : {"bob: one", "bob: two", "bob: three"}) server.send(alice, line);
  CHECK(server.store_requests<chat::InsertMessage>().size() == 2);
  CHECK(server.lines(alice).empty());  // the refusal waits behind the answers owed before it

  server.release_all_store_results();
  CHECK(server.lines(alice) ==
        Lines{"server:queued bob", "server:queued bob", "server:error queue-full bob"});
}

TEST_CASE("A user known from the store gets DMs queued, counting those it already has",
          "[hub][store][queue]") {
  HubFixture server(HubConfig{.max_queue = 3});
  server.load_user("bob", {}, 2);
  const SessionId alice = server.sign_in("alice");

  server.send(alice, "bob: one");
  CHECK(server.lines(alice) == Lines{"server:queued bob"});
  server.send(alice, "bob: two");
  CHECK(server.lines(alice) == Lines{"server:error queue-full bob"});
  CHECK(server.hub().queued_count("bob") == 3);
}

// ---------------------------------------------------------------------------
// Registration and the replay of the queue

TEST_CASE("Registering answers welcome at once and queued-messages once the queue is fetched",
          "[hub][store][register]") {
  HubFixture server;
  server.load_user("bob", {}, 2);
  server.hold_store_results();

  const SessionId bob = server.new_session();
  server.send(bob, "server:register BOB");
  CHECK(server.lines(bob) == Lines{"server:welcome bob"});
  const auto fetches = server.store_requests<chat::FetchQueued>();
  REQUIRE(fetches.size() == 1);
  CHECK(fetches.front().session == bob);
  CHECK(fetches.front().user == "bob");

  server.release_store_result();
  CHECK(server.lines(bob) == Lines{"server:queued-messages 2", "[2023-11-14 22:13:20] someone: queued 1",
                                   "[2023-11-14 22:13:20] someone: queued 2"});
  CHECK(server.hub().queued_count("bob") == 0);
}

TEST_CASE("Replayed DMs carry their message ids and are marked delivered once sent",
          "[hub][store][register]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  say_each(server, alice, "bob", {"first", "second"});
  const MessageIds queued = ids_of(server.store_requests<chat::InsertMessage>());
  REQUIRE(queued.size() == 2);

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  CHECK(server.lines(bob) == Lines{"server:welcome bob", "server:queued-messages 2",
                                   "[2023-11-14 22:13:20] alice: first",
                                   "[2023-11-14 22:13:21] alice: second"});
  CHECK(server.message_ids(bob) == queued);
  const auto marks = server.store_requests<chat::MarkDelivered>();
  REQUIRE(marks.size() == 1);
  CHECK(marks.front().ids == queued);
  for (const MessageId id : queued) CHECK(server.store().delivered(id));
}

TEST_CASE("A DM that arrives while the queue is fetched is sent after the replay", "[hub][store][register]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.send(alice, "bob: queued first");
  CHECK(server.lines(alice) == Lines{"server:queued bob"});
  server.hold_store_results();

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  server.send(alice, "bob: live second");
  CHECK(server.lines(bob) == Lines{"server:welcome bob"});

  server.release_store_result();
  CHECK(server.lines(bob) == Lines{"server:queued-messages 1", "[2023-11-14 22:13:20] alice: queued first",
                                   "[22:13:20] alice: live second"});
  CHECK(server.message_ids(bob) == ids_of(server.store_requests<chat::InsertMessage>()));
  CHECK(server.lines(alice) == Lines{"server:online bob"});  // no queued: bob was online for the second
}

TEST_CASE("Queued DMs fetched for a session that has left stay queued", "[hub][store][register]") {
  HubFixture server;
  server.load_user("bob", {}, 1);
  server.hold_store_results();
  const SessionId gone = server.new_session();
  server.send(gone, "server:register bob");
  server.disconnect(gone);
  server.forget();

  server.release_store_result();
  CHECK(server.nothing_sent());
  CHECK(server.store_requests<chat::MarkDelivered>().empty());

  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  server.release_store_result();
  CHECK(server.lines(bob) ==
        Lines{"server:welcome bob", "server:queued-messages 1", "[2023-11-14 22:13:20] someone: queued 1"});
}

// bob, with one DM queued, registers while the store's answers are held,
// and alice sends him a live DM meanwhile; the first read of his queue fails.
SessionId bob_whose_queue_fails(HubFixture& server) {
  server.load_user("bob", {}, 1);
  const SessionId alice = server.sign_in("alice");
  server.hold_store_results();
  const SessionId bob = server.new_session();
  server.send(bob, "server:register bob");
  server.send(alice, "bob: live");
  server.fail_store_result();
  return bob;
}

TEST_CASE("A failed fetch of the queue is asked again at the next tick; what came meanwhile waits",
          "[hub][store][register]") {
  HubFixture server;
  const SessionId bob = bob_whose_queue_fails(server);
  CHECK(server.lines(bob) == Lines{"server:welcome bob"});
  CHECK(logged(server, LogLevel::kError, "bob"));
  server.forget();

  server.tick();
  server.release_all_store_results();
  CHECK(server.lines(bob) == Lines{"server:queued-messages 1", "[2023-11-14 22:13:20] someone: queued 1",
                                   "[22:13:20] alice: live"});
}

TEST_CASE("A queue that cannot be read after five more tries is given up: queued-messages 0, still queued",
          "[hub][store][register]") {
  HubFixture server;
  const SessionId bob = bob_whose_queue_fails(server);
  for (int attempt = 0; attempt < 5; ++attempt) {
    server.tick();
    server.fail_store_result();
  }
  CHECK(server.lines(bob) == Lines{"server:welcome bob"});
  server.tick();
  CHECK(server.held_store_results() == 0);
  CHECK(server.lines(bob) == Lines{"server:queued-messages 0", "[22:13:20] alice: live"});
  CHECK(logged(server, LogLevel::kError, "gave up"));
  CHECK(server.store().messages().size() == 2);
  CHECK(!server.store().delivered(server.store().messages().begin()->first));
}

TEST_CASE("A DM is marked delivered when the shell reports it sent, not before", "[hub][store][dm]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.hold_delivery_reports();
  server.send(alice, "bob: hi");
  const MessageIds sent = ids_of(server.store_requests<chat::InsertMessage>());
  CHECK(server.store_requests<chat::MarkDelivered>().empty());

  SECTION("reported: marked delivered") {
    server.report_deliveries();
    const auto marks = server.store_requests<chat::MarkDelivered>();
    REQUIRE(marks.size() == 1);
    CHECK(marks.front().ids == sent);
    CHECK(marks.front().when == server.now());
    CHECK(server.store().delivered(sent.front()));
  }
  SECTION("never reported: replayed at the next registration") {
    server.disconnect(bob);
    const SessionId again = server.new_session();
    server.send(again, "server:register bob");
    CHECK(server.lines(again) ==
          Lines{"server:welcome bob", "server:queued-messages 1", "[2023-11-14 22:13:20] alice: hi"});
  }
}

// ---------------------------------------------------------------------------
// A session reads its answers in the order it asked: a line for it waits
// behind an answer still owed by the store

TEST_CASE("A sender's later lines wait behind the ack of its queued DM", "[hub][store][order]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.hold_store_results();

  server.send(alice, "bob: hi");
  server.send(alice, "server:ping");
  CHECK(server.lines(alice).empty());
  server.release_store_result();
  CHECK(server.lines(alice) == Lines{"server:queued bob", "server:pong"});
}

TEST_CASE("A session that is done closes only once the answers owed to it are sent", "[hub][store][order]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  register_and_leave(server, "bob");
  server.hold_store_results();
  server.send(alice, "bob: hi");

  SECTION("server:exit") {
    server.send(alice, "server:exit");
    CHECK(server.input_paused(alice));
    CHECK(server.lines(alice).empty());
    server.release_store_result();
    CHECK(server.lines(alice) == Lines{"server:queued bob", "server:bye", kClosed});
  }
  SECTION("the client closed its side") {
    server.end_input(alice);
    CHECK(server.lines(alice).empty());
    server.release_store_result();
    CHECK(server.lines(alice) == Lines{"server:queued bob", kClosed});
  }
  CHECK(server.hub().online_count() == 0);
}

// A client may stop reading at bye: a DM sent after it would count as
// delivered and be lost. So the user is offline from server:exit on.
TEST_CASE("From server:exit on, a user is offline while its owed answers go out", "[hub][store][order]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId carol = server.sign_in("carol");
  server.send(alice, "server:join #team");
  server.send(carol, "server:join #team");
  register_and_leave(server, "bob");
  server.forget();
  server.hold_store_results();
  server.send(alice, "bob: hi");
  server.send(alice, "server:exit");
  CHECK(server.lines(carol) == Lines{"server:offline alice", "server:left #team alice"});
  CHECK(server.hub().online_count() == 1);

  server.send(carol, "alice: are you there?");
  server.send(carol, "#team: anyone?");
  server.send(carol, "*: all");
  server.send(carol, "server:who");
  server.release_all_store_results();
  CHECK(server.lines(alice) == Lines{"server:queued bob", "server:bye", kClosed});
  CHECK(server.lines(carol) == Lines{"server:queued alice", "server:users carol"});

  const SessionId alice_again = server.new_session();
  server.send(alice_again, "server:register alice");
  server.release_all_store_results();
  CHECK(server.lines(alice_again)[1] == "server:queued-messages 1");
}

// Found by fuzz_hub: otherwise both sessions could be sent the queued DMs.
TEST_CASE("A name that said server:exit is not free until its answers are out", "[hub][store][order]") {
  HubFixture server;
  register_and_leave(server, "alice");
  const SessionId bob = server.sign_in("bob");
  server.send(bob, "alice: while you were out");
  server.release_all_store_results();
  server.hold_store_results();
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice");
  server.send(alice, "server:exit");
  const SessionId again = server.new_session();
  server.send(again, "server:register alice");
  CHECK(server.lines(again) == Lines{"server:error name-taken alice"});

  server.release_all_store_results();
  CHECK(server.lines(alice) == Lines{"server:welcome alice", "server:queued-messages 1",
                                     "[2023-11-14 22:13:20] bob: while you were out", "server:bye", kClosed});
  server.send(again, "server:register alice");
  server.release_all_store_results();
  CHECK(server.lines(again) == Lines{"server:welcome alice", "server:queued-messages 0"});
}

TEST_CASE("A session that closes its side during a password check gets the answer first",
          "[hub][password][order]") {
  HubFixture server;
  server.load_user("alice", fake_hash("s3cret"));
  server.hold_password_work();
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice s3cret");
  server.end_input(alice);
  CHECK(server.lines(alice).empty());

  server.release_password_work();
  CHECK(server.lines(alice) == Lines{"server:welcome alice", "server:queued-messages 0", kClosed});
}

// ---------------------------------------------------------------------------
// History

TEST_CASE("Joining a room replays its last messages after members, to the joiner alone",
          "[hub][store][history]") {
  HubFixture server(with_history_on_join(3));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  say_each(server, alice, "#team", {"one", "two", "three", "four"});
  server.forget();

  server.send(bob, "server:join #team");
  CHECK(server.lines(bob) == Lines{"server:joined #team bob", "server:members #team alice bob",
                                   "server:history #team 3", "[2023-11-14 22:13:21] #team alice: two",
                                   "[2023-11-14 22:13:22] #team alice: three",
                                   "[2023-11-14 22:13:23] #team alice: four"});
  CHECK(server.lines(alice) == Lines{"server:joined #team bob"});
}

TEST_CASE("A room line sent during the join replay comes after it", "[hub][store][history][order]") {
  HubFixture server(with_history_on_join(3));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(alice, "#team: old");
  server.forget();
  server.hold_store_results();

  server.send(bob, "server:join #team");
  server.send(alice, "#team: live");
  CHECK(server.lines(bob) == Lines{"server:joined #team bob", "server:members #team alice bob"});
  server.release_store_result();
  CHECK(server.lines(bob) == Lines{"server:history #team 1", "[2023-11-14 22:13:20] #team alice: old",
                                   "[22:13:20] #team alice: live"});
}

TEST_CASE("Joining a room without a past replays nothing", "[hub][store][history]") {
  HubFixture server(with_history_on_join(3));
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:join #team");
  CHECK(server.lines(alice) == Lines{"server:joined #team alice", "server:members #team alice"});
  const auto fetches = server.store_requests<chat::FetchHistory>();
  REQUIRE(fetches.size() == 1);
  CHECK(fetches.front().for_join);
  CHECK(fetches.front().limit == 3);
}

TEST_CASE("history_on_join 0 turns the join replay off", "[hub][store][history]") {
  HubFixture server(with_history_on_join(0));
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  server.send(alice, "server:join #team");
  server.send(alice, "#team: before bob");
  server.forget();

  server.send(bob, "server:join #team");
  CHECK(server.lines(bob) == Lines{"server:joined #team bob", "server:members #team alice bob"});
  CHECK(server.store_requests<chat::FetchHistory>().empty());
}

// `from`..`to` of the room lines "message N" alice sent to #team.
Lines team_messages(int from, int to) {
  Lines lines;
  for (int n = from; n <= to; ++n)
    lines.push_back("[2023-11-14 22:13:20] #team alice: message " + std::to_string(n));
  return lines;
}

Lines with_header(std::string header, const Lines& body) {
  Lines lines{std::move(header)};
  lines.insert(lines.end(), body.begin(), body.end());
  return lines;
}

TEST_CASE("server:history of a room you are in gives its last 20 messages, or N", "[hub][store][history]") {
  HubFixture server(with_history_on_join(0));
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:join #team");
  for (int n = 1; n <= 25; ++n) server.send(alice, "#team: message " + std::to_string(n));
  const MessageId last_id = server.store_requests<chat::InsertMessage>().back().message.id;
  server.forget();

  SECTION("by default the last 20") {
    server.send(alice, "server:history #TEAM");
    CHECK(server.lines(alice) == with_header("server:history #team 20", team_messages(6, 25)));
    const auto fetches = server.store_requests<chat::FetchHistory>();
    REQUIRE(fetches.size() == 1);
    CHECK(fetches.front().of_room);
    CHECK(fetches.front().target == "team");
    CHECK(fetches.front().asker == "alice");
    CHECK(fetches.front().up_to == last_id);
    CHECK_FALSE(fetches.front().for_join);
  }
  SECTION("N of them") {
    server.send(alice, "server:history #team 2");
    CHECK(server.lines(alice) == with_header("server:history #team 2", team_messages(24, 25)));
  }
  SECTION("at most 500") {
    server.send(alice, "server:history #team 9999");
    CHECK(server.lines(alice) == with_header("server:history #team 25", team_messages(1, 25)));
    CHECK(server.store_requests<chat::FetchHistory>().front().limit == 500);
  }
}

TEST_CASE("server:history of a room you are not in is not-in-room", "[hub][store][history]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId dave = server.sign_in("dave");
  server.send(alice, "server:join #team");
  server.send(alice, "#team: members only");
  server.forget();

  server.send(dave, "server:history #team");
  CHECK(server.lines(dave) == Lines{"server:error not-in-room #team"});
  server.send(dave, "server:history #nowhere 3");
  CHECK(server.lines(dave) == Lines{"server:error not-in-room #nowhere"});
  CHECK(server.store_requests<chat::FetchHistory>().empty());
}

TEST_CASE("server:history NAME gives the DMs between you and NAME, both ways", "[hub][store][history]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  const SessionId bob = server.sign_in("bob");
  const SessionId carol = server.sign_in("carol");
  say_each(server, alice, "bob", {"a to b"});
  say_each(server, bob, "alice", {"b to a"});
  say_each(server, alice, "carol", {"a to c"});
  say_each(server, carol, "bob", {"c to b"});
  say_each(server, bob, "ALICE", {"b to a again"});
  server.forget();

  server.send(alice, "server:history BOB");
  CHECK(server.lines(alice) == Lines{"server:history bob 3", "[2023-11-14 22:13:20] alice: a to b",
                                     "[2023-11-14 22:13:21] bob: b to a",
                                     "[2023-11-14 22:13:24] bob: b to a again"});
  server.send(bob, "server:history alice 1");
  CHECK(server.lines(bob) == Lines{"server:history alice 1", "[2023-11-14 22:13:24] bob: b to a again"});
}

TEST_CASE("server:history of a name never registered is no-such-user", "[hub][store][history]") {
  HubFixture server;
  const SessionId alice = server.sign_in("alice");
  server.send(alice, "server:history dave");
  CHECK(server.lines(alice) == Lines{"server:error no-such-user dave"});
  CHECK(server.store_requests<chat::FetchHistory>().empty());
}

// ---------------------------------------------------------------------------
// Passwords

TEST_CASE("A password on a name without one is hashed off the loop before welcome", "[hub][password]") {
  HubFixture server;
  server.hold_password_work();
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice s3cret words");
  CHECK(server.nothing_sent());
  REQUIRE(server.hash_requests().size() == 1);
  CHECK(server.hash_requests().front().session == alice);
  CHECK(server.hash_requests().front().name == "alice");
  CHECK(server.hash_requests().front().password == "s3cret words");
  CHECK(server.store_requests<chat::SetPasswordHash>().empty());

  // The name is being claimed: held for alice's session meanwhile.
  const SessionId rival = server.new_session();
  server.send(rival, "server:register alice");
  CHECK(server.lines(rival) == Lines{"server:error name-taken alice"});

  server.release_password_work();
  CHECK(server.lines(alice) == kWelcomeAlice);
  const auto stored = server.store_requests<chat::SetPasswordHash>();
  REQUIRE(stored.size() == 1);
  CHECK(stored.front().name == "alice");
  CHECK(stored.front().hash == fake_hash("s3cret words"));
  CHECK(server.store().password_hash("alice") == fake_hash("s3cret words"));
}

// The welcome says the name is protected: a crash must not undo that, so it
// waits until the hash is on disk (the store's ack), like `queued`.
TEST_CASE("A new password is on disk before the welcome", "[hub][password][durability]") {
  HubFixture server;
  const SessionId bob = server.sign_in("bob");
  server.hold_store_results();
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice s3cret");
  CHECK(server.lines(alice).empty());
  CHECK(server.lines(bob) == Lines{"server:online alice"});  // others hear at once
  const auto stored = server.store_requests<chat::SetPasswordHash>();
  REQUIRE(stored.size() == 1);
  CHECK(stored.front().ticket != 0);

  SECTION("on disk: welcome, then the rest in order") {
    server.release_all_store_results();
    CHECK(server.lines(alice) == kWelcomeAlice);
    server.send(alice, "server:register alice s3cret");
    CHECK(server.lines(alice) == Lines{"server:error already-registered alice"});
  }
  SECTION("not on disk: no welcome, the reason, the connection closed, and no password") {
    while (server.held_store_results() > 0) {
      // The ack is the last of the registration's results (after the page).
      if (server.held_store_results() == 1) {
        server.fail_store_result();
      } else {
        server.release_store_result();
      }
    }
    CHECK(server.lines(alice) ==
          Lines{"server:error unavailable could not store your password; try again later", kClosed});
    CHECK(logged(server, LogLevel::kError, "could not store the password for alice"));
    CHECK(server.store().password_hash("alice").empty());
    server.disconnect(alice);
    const SessionId again = server.new_session();
    server.send(again, "server:register alice");
    server.release_all_store_results();
    CHECK(server.lines(again) == kWelcomeAlice);  // the name was never protected
  }
}

TEST_CASE("Once a name has a password, registering needs it", "[hub][password]") {
  HubFixture server;
  server.disconnect(server.sign_in("alice", "s3cret"));
  server.forget();
  const SessionId again = server.new_session();

  SECTION("the right one: welcome") {
    server.send(again, HubFixture::register_line("ALICE", "s3cret"));
    CHECK(server.lines(again) == kWelcomeAlice);
  }
  SECTION("a wrong or missing one: wrong-password, and the session may try again") {
    const auto attempt = GENERATE(as<std::string>{}, "guess", "S3CRET", "");
    CAPTURE(attempt);
    server.send(again, HubFixture::register_line("alice", attempt));
    CHECK(server.lines(again) == Lines{"server:error wrong-password alice"});
    CHECK(logged(server, LogLevel::kWarn, "wrong password for alice"));
    CHECK(server.hub().online_count() == 0);

    server.send(again, HubFixture::register_line("alice", "s3cret"));
    CHECK(server.lines(again) == kWelcomeAlice);
  }
  REQUIRE(server.verify_requests().size() >= 1);
  CHECK(server.verify_requests().front().hash == fake_hash("s3cret"));
  CHECK(server.hash_requests().empty());
}

TEST_CASE("While a password is checked the name is held for the session that gave it", "[hub][password]") {
  HubFixture server;
  server.disconnect(server.sign_in("alice", "s3cret"));
  server.forget();
  server.hold_password_work();
  const SessionId claimant = server.new_session();
  server.send(claimant, "server:register alice s3cret");
  CHECK(server.lines(claimant).empty());
  REQUIRE(server.held_password_work() == 1);

  SECTION("the answer completes the registration") {
    server.release_password_work();
    CHECK(server.lines(claimant) == kWelcomeAlice);
  }
  SECTION("another session gets name-taken") {
    const SessionId other = server.new_session();
    server.send(other, "server:register alice s3cret");
    CHECK(server.lines(other) == Lines{"server:error name-taken alice"});
    CHECK(server.held_password_work() == 1);
  }
  SECTION("its input is paused: a line sent meanwhile is read after the answer") {
    CHECK(server.input_paused(claimant));
    server.send(claimant, "server:register alice guess");
    server.release_password_work();
    CHECK_FALSE(server.input_paused(claimant));
    CHECK(server.lines(claimant) ==
          Lines{"server:welcome alice", "server:queued-messages 0", "server:error already-registered alice"});
  }
  SECTION("one attempt at a time, should a shell read on despite the pause") {
    server.send_despite_pause(claimant, "server:register alice guess");
    CHECK(server.lines(claimant) == Lines{"server:error wrong-password alice, one attempt at a time"});
    CHECK(server.held_password_work() == 1);
    server.release_password_work();
    CHECK(server.lines(claimant) == kWelcomeAlice);
  }
  SECTION("disconnecting releases the name; the late answer is ignored") {
    server.disconnect(claimant);
    const SessionId other = server.new_session();
    server.send(other, "server:register alice s3cret");
    REQUIRE(server.held_password_work() == 2);
    server.release_password_work();
    CHECK(server.nothing_sent());
    server.release_password_work();
    CHECK(server.lines(other) == kWelcomeAlice);
  }
}

TEST_CASE("A user loaded from the store with a password needs it", "[hub][password]") {
  HubFixture server;
  server.load_user("alice", fake_hash("s3cret"));
  const SessionId guesser = server.new_session();
  server.send(guesser, "server:register alice guess");
  CHECK(server.lines(guesser) == Lines{"server:error wrong-password alice"});

  const SessionId owner = server.new_session();
  server.send(owner, "server:register alice s3cret");
  CHECK(server.lines(owner) == kWelcomeAlice);
  CHECK(server.hash_requests().empty());
}

TEST_CASE("A password check carries the failure delay of the config", "[hub][password]") {
  HubConfig config;
  config.password_failure_delay = std::chrono::milliseconds{250};
  HubFixture server(config);
  server.load_user("alice", fake_hash("s3cret"));
  const SessionId guesser = server.new_session();
  server.send(guesser, "server:register alice guess");

  REQUIRE(server.verify_requests().size() == 1);
  const chat::VerifyPassword& check = server.verify_requests().front();
  CHECK(check.failure_delay.count() == 250);
  CHECK(check.session == guesser);
  CHECK(check.name == "alice");
  CHECK(check.password == "guess");
  CHECK(check.hash == fake_hash("s3cret"));
}

TEST_CASE("No password shows in a log line or in anything sent", "[hub][password]") {
  const std::string password = "Tr0ub4dor-and-3";
  const std::string guess = "gue55-Xy9";
  HubFixture server;
  server.disconnect(server.sign_in("alice", password));
  const SessionId session = server.new_session();
  server.send(session, HubFixture::register_line("alice", guess));
  server.hold_password_work();
  server.send(session, HubFixture::register_line("alice", guess));
  server.send_despite_pause(session, HubFixture::register_line("alice", guess));  // one attempt at a time
  server.release_password_work();
  server.send(session, HubFixture::register_line("alice", password));
  server.release_password_work();
  REQUIRE(server.hub().online_count() == 1);

  REQUIRE(!server.everything_said().empty());
  for (const std::string& said : server.everything_said()) {
    CAPTURE(said);
    CHECK_THAT(said, !Contains(password) && !Contains(guess));
  }
}

// ---------------------------------------------------------------------------
// Arrivals (issue 20): a name never registered has nothing queued anywhere.

TEST_CASE("A name registering for the first time is welcomed without a store round trip", "[hub][arrivals]") {
  HubFixture server;
  server.hold_store_results();
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice");
  CHECK(server.lines(alice) == kWelcomeAlice);
  CHECK(server.store_requests<chat::FetchQueued>().empty());
  CHECK(server.store_requests<chat::TouchUser>().size() == 1);  // still remembered
}

TEST_CASE("A name registered before asks the store for its queue, even with none counted", "[hub][arrivals]") {
  HubFixture server;
  SECTION("known from an earlier run") { server.load_user("alice"); }
  SECTION("registered earlier in this run") {
    server.disconnect(server.sign_in("alice"));
    server.forget();
    static_cast<void>(server.store_requests<chat::FetchQueued>());
  }
  server.hold_store_results();
  const SessionId alice = server.new_session();
  server.send(alice, "server:register alice");
  CHECK(server.lines(alice) == Lines{"server:welcome alice"});
  CHECK(server.store_requests<chat::FetchQueued>().size() == 1);
  server.release_all_store_results();
  CHECK(server.lines(alice) == Lines{"server:queued-messages 0"});
}

}  // namespace
}  // namespace uvchat::test
