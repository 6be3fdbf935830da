// The message store's operations, against ":memory:" and real files in a
// temporary folder: users, messages and the offline queue, history,
// retention and transactions.
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "store_fixture.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::test {
namespace {

using Catch::Matchers::Contains;
using store::MessageKind;
using store::QueuePage;
using store::Store;
using store::StoredMessage;
using store::StoreError;

StoredMessage broadcast(std::int64_t id, std::string sender, std::string text,
                        std::int64_t received_at = 1000) {
  StoredMessage message = direct(id, std::move(sender), "", std::move(text), received_at);
  message.kind = MessageKind::kBroadcast;
  return message;
}

std::int64_t queued_for(Store& db, const std::string& name) {
  for (const store::StoredUser& user : db.load_users()) {
    if (user.name == name) return user.queued;
  }
  FAIL("no user " << name);
  return -1;
}

// ---------------------------------------------------------------------------
// Users

TEST_CASE("touch_user adds a user, then only moves last_seen", "[store]") {
  auto db = Store::open(":memory:");
  db->touch_user("Alice", 100);
  db->touch_user("ALICE", 250);
  db->touch_user("bob", 300);

  const auto users = db->load_users();
  REQUIRE(users.size() == 2);
  CHECK(users[0].name == "Alice");  // the first spelling stays
  CHECK(users[0].first_seen == 100);
  CHECK(users[0].last_seen == 250);
  CHECK(users[0].password_hash.empty());
  CHECK(users[1].name == "bob");
  CHECK(users[1].first_seen == 300);
  CHECK(users[1].last_seen == 300);
}

TEST_CASE("set_password_hash finds the user case-insensitively, and empty clears it", "[store]") {
  auto db = Store::open(":memory:");
  db->touch_user("Alice", 1);
  db->set_password_hash("aLiCe", "$argon2id$v=19$hash");
  CHECK(db->load_users().at(0).password_hash == "$argon2id$v=19$hash");
  db->set_password_hash("alice", "");
  CHECK(db->load_users().at(0).password_hash.empty());
}

TEST_CASE("set_password_hash of an unknown user is an error", "[store]") {
  auto db = Store::open(":memory:");
  CHECK_THROWS_WITH(db->set_password_hash("nobody", "$argon2id$x"), Contains("nobody"));
}

TEST_CASE("load_users counts each user's undelivered DMs", "[store]") {
  auto db = Store::open(":memory:");
  db->touch_user("Alice", 1);
  db->touch_user("bob", 1);
  db->touch_user("carol", 1);
  db->insert_message(direct(1, "bob", "alice", "one"));
  db->insert_message(direct(2, "bob", "ALICE", "two"));
  db->insert_message(direct(3, "alice", "bob", "three"));
  db->insert_message(room(4, "bob", "alice", "a room named like a user"));
  db->insert_message(direct(5, "carol", "Alice", "four"));
  const std::array<std::int64_t, 1> delivered{3};
  db->mark_delivered(delivered, 2000);

  CHECK(queued_for(*db, "Alice") == 3);
  CHECK(queued_for(*db, "bob") == 0);
  CHECK(queued_for(*db, "carol") == 0);
}

// ---------------------------------------------------------------------------
// Messages and the offline queue

TEST_CASE("Messages keep every field, including text that looks like SQL", "[store]") {
  auto db = Store::open(":memory:");
  StoredMessage message =
      direct(7, "Bob", "Alice", "it's'); DROP TABLE messages; -- \xC3\xA9t\xC3\xA9 \xF0\x9F\x99\x82",
             1'700'000'000'123);
  db->insert_message(message);

  const auto queued = db->undelivered_directs("alice");
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].id == 7);
  CHECK(queued[0].received_at == 1'700'000'000'123);
  CHECK(queued[0].sender == "Bob");
  CHECK(queued[0].kind == MessageKind::kDirect);
  CHECK(queued[0].target == "Alice");
  CHECK(queued[0].text == message.text);
  CHECK_FALSE(queued[0].delivered_at.has_value());
}

TEST_CASE("max_message_id is the largest id stored", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(room(5, "bob", "team", "a"));
  db->insert_message(broadcast(9, "bob", "b"));
  db->insert_message(direct(7, "bob", "alice", "c"));
  CHECK(db->max_message_id() == 9);
}

TEST_CASE("A duplicate message id is a StoreError naming the operation", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(room(1, "bob", "team", "a"));
  CHECK_THROWS_WITH(db->insert_message(room(1, "bob", "team", "b")), Contains("insert a message"));
}

TEST_CASE("undelivered_directs: only the recipient's queued DMs, oldest first", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(3, "bob", "Alice", "first"));
  db->insert_message(direct(4, "carol", "alice", "second"));
  db->insert_message(direct(5, "alice", "bob", "to bob"));
  db->insert_message(room(6, "bob", "alice", "a room"));
  db->insert_message(broadcast(7, "bob", "everyone"));
  db->insert_message(direct(8, "bob", "ALICE", "third"));

  CHECK(ids_of(db->undelivered_directs("aLiCe")) == std::vector<std::int64_t>{3, 4, 8});
  const std::array<std::int64_t, 1> delivered{4};
  db->mark_delivered(delivered, 2000);
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{3, 8});
  CHECK(db->undelivered_directs("nobody").empty());
}

TEST_CASE("undelivered_directs: a page of a queue, by range, count and bytes", "[store][replay]") {
  auto db = Store::open(":memory:");
  for (std::int64_t id = 1; id <= 9; ++id) {
    db->insert_message(direct(id, "bob", id % 3 == 0 ? "carol" : "alice", std::string(10, 'x')));
  }
  // alice's: 1 2 4 5 7 8.
  QueuePage page;
  page.max_count = 2;
  QueuePage read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{1, 2});
  CHECK(read.more);

  page.after = 2;
  page.up_to = 7;
  page.max_count = 10;
  page.max_bytes = 15;  // a second DM passes it: two
  read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{4, 5});
  CHECK(read.more);

  page.after = 5;
  read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{7});
  CHECK_FALSE(read.more);  // 8 is past up_to

  page.max_bytes = 1;  // one DM, however long
  page.after = 0;
  page.up_to = 100;
  read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{1});
  CHECK(read.more);

  page.after = 8;  // the last one: no empty page after it
  read = db->undelivered_directs("alice", page);
  CHECK(read.messages.empty());
  CHECK_FALSE(read.more);

  CHECK(db->count_undelivered("ALICE", 7) == 5);
  const std::array<std::int64_t, 2> delivered{2, 4};
  db->mark_delivered(delivered, 2000);
  CHECK(db->count_undelivered("alice", 7) == 3);
  CHECK(db->count_undelivered("alice", 100) == 4);
  CHECK(db->count_undelivered("nobody", 100) == 0);
}

TEST_CASE("mark_delivered sets delivered_at once and ignores repeats", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "bob", "alice", "hi"));
  db->insert_message(direct(2, "bob", "alice", "again"));
  const std::array<std::int64_t, 2> both{1, 2};
  const std::array<std::int64_t, 2> first_and_unknown{1, 99};
  db->mark_delivered(std::span<const std::int64_t>(both).first(1), 2000);
  db->mark_delivered(first_and_unknown, 5000);  // 1 is delivered already; 99 does not exist
  db->mark_delivered(both, 3000);
  db->mark_delivered({}, 4000);

  const auto history = db->direct_history("alice", "bob", 10, 100);
  REQUIRE(history.size() == 2);
  CHECK(history[0].delivered_at == std::optional<std::int64_t>(2000));
  CHECK(history[1].delivered_at == std::optional<std::int64_t>(3000));
  CHECK(db->undelivered_directs("alice").empty());
}

// ---------------------------------------------------------------------------
// History

TEST_CASE("broadcast_history: the last N lines to everyone up to an id, oldest first", "[store]") {
  auto db = Store::open(":memory:");
  for (std::int64_t id = 1; id <= 6; ++id) {
    StoredMessage line = direct(id, "bob", "", "news " + std::to_string(id));
    line.kind = MessageKind::kBroadcast;
    db->insert_message(line);
  }
  db->insert_message(room(7, "bob", "team", "not to everyone"));
  db->insert_message(direct(8, "bob", "alice", "nor this"));

  CHECK(ids_of(db->broadcast_history(3, 100)) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(ids_of(db->broadcast_history(2, 4)) == std::vector<std::int64_t>{3, 4});
  CHECK(ids_of(db->broadcast_history(100, 100)) == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6});
  CHECK(db->broadcast_history(0, 100).empty());
  CHECK(db->broadcast_history(-1, 100).empty());
  CHECK(db->broadcast_history(5, 100).back().text == "news 6");
}

TEST_CASE("room_history: the last N up to an id, oldest first, case-insensitive", "[store]") {
  auto db = Store::open(":memory:");
  for (std::int64_t id = 1; id <= 10; ++id)
    db->insert_message(room(id, "bob", id % 2 ? "Team" : "team", "m"));
  db->insert_message(room(11, "bob", "other", "elsewhere"));
  db->insert_message(direct(12, "bob", "team", "a DM to a user named team"));
  db->insert_message(room(13, "bob", "TEAM", "latest"));

  CHECK(ids_of(db->room_history("team", 3, 100)) == std::vector<std::int64_t>{9, 10, 13});
  CHECK(ids_of(db->room_history("TeAm", 3, 10)) == std::vector<std::int64_t>{8, 9, 10});
  CHECK(ids_of(db->room_history("team", 100, 4)) == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(db->room_history("team", 0, 100).empty());
  CHECK(db->room_history("team", -1, 100).empty());
  CHECK(db->room_history("nowhere", 5, 100).empty());

  const auto latest = db->room_history("team", 1, 100);
  REQUIRE(latest.size() == 1);
  CHECK(latest[0].kind == MessageKind::kRoom);
  CHECK(latest[0].target == "TEAM");
  CHECK(latest[0].text == "latest");
}

TEST_CASE("direct_history: both directions between two users, oldest first", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "Alice", "bob", "a->b"));
  db->insert_message(direct(2, "bob", "alice", "b->a"));
  db->insert_message(direct(3, "carol", "alice", "c->a"));
  db->insert_message(direct(4, "alice", "carol", "a->c"));
  db->insert_message(room(5, "alice", "bob", "room named bob"));
  db->insert_message(direct(6, "BOB", "ALICE", "b->a again"));
  db->insert_message(direct(7, "alice", "bob", "a->b again"));
  const std::array<std::int64_t, 1> delivered{2};
  db->mark_delivered(delivered, 2000);  // delivered or queued, both are history

  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{1, 2, 6, 7});
  CHECK(ids_of(db->direct_history("BOB", "Alice", 10, 100)) == std::vector<std::int64_t>{1, 2, 6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 100)) == std::vector<std::int64_t>{6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 6)) == std::vector<std::int64_t>{2, 6});
  CHECK(ids_of(db->direct_history("alice", "carol", 10, 100)) == std::vector<std::int64_t>{3, 4});
  CHECK(db->direct_history("alice", "bob", 0, 100).empty());
  CHECK(db->direct_history("bob", "carol", 10, 100).empty());
}

TEST_CASE("direct_history with oneself lists each DM once", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "alice", "Alice", "note to self"));
  db->insert_message(direct(2, "alice", "bob", "to bob"));
  db->insert_message(direct(3, "ALICE", "alice", "another note"));
  CHECK(ids_of(db->direct_history("alice", "alice", 10, 100)) == std::vector<std::int64_t>{1, 3});
}

// ---------------------------------------------------------------------------
// Retention

TEST_CASE("Retention deletes old rooms, broadcasts and delivered DMs, never a queued DM", "[store]") {
  auto db = Store::open(":memory:");
  constexpr std::int64_t kCutoff = 10'000;
  db->insert_message(room(1, "bob", "team", "old room", 1'000));
  db->insert_message(broadcast(2, "bob", "old broadcast", 1'000));
  db->insert_message(direct(3, "bob", "alice", "old, delivered long ago", 1'000));
  db->insert_message(direct(4, "bob", "alice", "old, delivered after the cutoff", 1'000));
  db->insert_message(direct(5, "bob", "alice", "old, never delivered", 1'000));
  db->insert_message(room(6, "bob", "team", "new room", 20'000));
  db->insert_message(broadcast(7, "bob", "new broadcast", 20'000));
  db->insert_message(direct(8, "bob", "carol", "new, delivered", 20'000));
  const std::array<std::int64_t, 1> early{3};
  const std::array<std::int64_t, 2> late{4, 8};
  db->mark_delivered(early, 2'000);
  db->mark_delivered(late, 30'000);

  CHECK(db->delete_delivered_before(kCutoff) == 3);
  CHECK(ids_of(db->room_history("team", 10, 100)) == std::vector<std::int64_t>{6});
  CHECK(ids_of(db->direct_history("bob", "alice", 10, 100)) == std::vector<std::int64_t>{4, 5});
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{5});
  CHECK(db->delete_delivered_before(kCutoff) == 0);
  CHECK(db->delete_delivered_before(1'000'000) == 4);  // 4, 6, 7 and 8
  CHECK(db->max_message_id() == 5);                    // the queued DM stays, however old
}

TEST_CASE("Retention deletes chunks of DMs all delivered before the cutoff, and counts their DMs", "[store]") {
  auto db = Store::open(":memory:");
  auto old_batch = delivered_batch({delivered(1, "alice", "bob", "old", 2'000), delivered(2, "bob", "alice", "old", 3'000),
                                    delivered(3, "carol", "bob", "old", 2'000)});
  insert_delivered(*db, old_batch);
  auto straddling = delivered_batch({delivered(4, "alice", "bob", "before", 9'000),
                                     delivered(5, "alice", "bob", "after", 11'000)});
  insert_delivered(*db, straddling);
  auto recent = delivered_batch({delivered(6, "carol", "bob", "new", 20'000)});
  insert_delivered(*db, recent);

  CHECK(db->delete_delivered_before(10'000) == 3);  // 1, 2 and 3; 4 shares its row with 5
  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{4, 5});
  CHECK(ids_of(db->direct_history("carol", "bob", 10, 100)) == std::vector<std::int64_t>{6});
  CHECK(db->delete_delivered_before(10'000) == 0);
  CHECK(db->delete_delivered_before(1'000'000) == 3);
  CHECK(db->max_message_id() == 0);
}

// ---------------------------------------------------------------------------
// Transactions

TEST_CASE("commit keeps a batch and rollback discards one", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    db->begin();
    db->touch_user("alice", 1);
    db->insert_message(direct(1, "bob", "alice", "kept"));
    db->commit();

    db->begin();
    db->touch_user("bob", 2);
    db->insert_message(direct(2, "bob", "alice", "discarded"));
    const std::array<std::int64_t, 1> first{1};
    db->mark_delivered(first, 3);
    db->rollback();

    CHECK(db->load_users().size() == 1);
    CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{1});
  }
  auto db = Store::open(path);
  CHECK(db->max_message_id() == 1);
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{1});
}

TEST_CASE("rollback without a transaction does nothing", "[store]") {
  auto db = Store::open(":memory:");
  CHECK_NOTHROW(db->rollback());
  db->begin();
  db->rollback();
  CHECK_NOTHROW(db->rollback());
}

TEST_CASE("A failed write inside a batch can be rolled back and the store goes on", "[store]") {
  auto db = Store::open(":memory:");
  db->begin();
  db->insert_message(room(1, "bob", "team", "a"));
  CHECK_THROWS_AS(db->insert_message(room(1, "bob", "team", "duplicate")), StoreError);
  db->rollback();
  CHECK(db->max_message_id() == 0);
  db->begin();
  db->insert_message(room(1, "bob", "team", "again"));
  db->commit();
  CHECK(db->max_message_id() == 1);
}

TEST_CASE("begin inside a transaction is a StoreError", "[store]") {
  auto db = Store::open(":memory:");
  db->begin();
  CHECK_THROWS_WITH(db->begin(), Contains("begin a transaction"));
  db->rollback();
}

}  // namespace
}  // namespace uvchat::test
