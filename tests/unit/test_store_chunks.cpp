// Delivered DMs in the message store's direct_chunks: a conversation's
// key, a chunk's JSON, a batch grouped by conversation, and what the store
// writes and reads back.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store_fixture.hpp"
#include "uvchat/store/direct_chunk.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::test {
namespace {

using Catch::Matchers::Contains;
using store::MessageKind;
using store::MessageRef;
using store::Store;
using store::StoredMessage;

// ---------------------------------------------------------------------------
// Delivered DMs in direct_chunks

TEST_CASE("A conversation's key is both names' keys, the smaller first", "[store]") {
  CHECK(store::conversation_key("Bob", "alice") == "alice bob");
  CHECK(store::conversation_key("ALICE", "Bob") == "alice bob");
  CHECK(store::conversation_key("al", "Alice") == "al alice");
  CHECK(store::conversation_key("Alice", "al") == "al alice");
  CHECK(store::conversation_key("alice", "ALICE") == "alice alice");
  std::string key = "a long key that was there before";
  store::conversation_key_into(key, "Zed", "y.2");
  CHECK(key == "y.2 zed");
}

StoredMessage delivered_at(std::int64_t id, std::string sender, std::string recipient, std::string text,
                           std::int64_t received_at, std::int64_t delivered_at) {
  StoredMessage message = direct(id, std::move(sender), std::move(recipient), std::move(text), received_at);
  message.delivered_at = delivered_at;
  return message;
}

std::vector<const MessageRef*> pointers_to(const std::vector<MessageRef>& messages) {
  std::vector<const MessageRef*> pointers;
  for (const MessageRef& message : messages) pointers.push_back(&message);
  return pointers;
}

TEST_CASE("A chunk says its names once, and each DM as offsets and name positions", "[store]") {
  const std::vector<StoredMessage> chunk{
      delivered_at(41, "Alice", "bob", "hi bob", 1'790'000'000'000, 1'790'000'000'002),
      delivered_at(43, "bob", "Alice", "hi!", 1'790'000'000'001, 1'790'000'000'002),
      delivered_at(44, "Alice", "BOB", "say \"hi\" \\ \x01", 1'790'000'000'005, 1'790'000'000'006)};
  store::DirectChunkWriter writer;
  writer.write(pointers_to(refs_to(chunk)));
  CHECK(writer.names() == R"(["Alice","bob","BOB"])");
  CHECK(writer.dms() == R"([[0,0,0,1,"hi bob",2],[2,1,1,0,"hi!",1],[3,5,0,2,"say \"hi\" \\ \u0001",1]])");
  CHECK(writer.delivered_until() == 1'790'000'000'006);

  // The clock went back: offsets below zero, and the latest delivery still found.
  const std::vector<StoredMessage> back{delivered_at(7, "a", "b", "x", 5'000, 9'000),
                                        delivered_at(8, "a", "b", "y", 4'000, 3'500)};
  writer.write(pointers_to(refs_to(back)));
  CHECK(writer.names() == R"(["a","b"])");
  CHECK(writer.dms() == R"([[0,0,0,1,"x",4000],[1,-1000,0,1,"y",-500]])");
  CHECK(writer.delivered_until() == 9'000);
}

// Each conversation's ids, in the order for_each gives them.
std::vector<std::vector<std::int64_t>> grouped(store::Conversations& conversations) {
  std::vector<std::vector<std::int64_t>> groups;
  conversations.for_each([&](std::span<const MessageRef* const> dms) {
    groups.emplace_back();
    for (const MessageRef* dm : dms) groups.back().push_back(dm->id);
  });
  return groups;
}

void check_grouping(store::Conversations& conversations) {
  const std::vector<StoredMessage> messages{
      delivered(3, "Bob", "ALICE", "b->a"), delivered(2, "carol", "alice", "c->a"),
      delivered(1, "alice", "bob", "a->b"), delivered(5, "alice", "alice", "a->a"),
      delivered(4, "Alice", "Carol", "a->c"), delivered(6, "bob", "alice", "b->a"),
      delivered(7, "al", "ice", "not alice")};
  const std::vector<MessageRef> batch = refs_to(messages);
  for (const MessageRef& dm : batch) conversations.add(dm);
  CHECK(grouped(conversations) == std::vector<std::vector<std::int64_t>>{{1, 3, 6}, {2, 4}, {5}, {7}});
  conversations.clear();
  CHECK(grouped(conversations).empty());
  // Used again, with the vectors of the last batch.
  const std::vector<MessageRef> again{batch[5], batch[6], batch[0]};
  for (const MessageRef& dm : again) conversations.add(dm);
  CHECK(grouped(conversations) == std::vector<std::vector<std::int64_t>>{{3, 6}, {7}});
}

TEST_CASE("A batch's DMs are grouped by conversation, in any case and direction, oldest first", "[store]") {
  store::Conversations conversations;
  check_grouping(conversations);
}

TEST_CASE("Conversations whose hashes collide are still told apart by their names", "[store]") {
  store::Conversations conversations([](std::string_view, std::string_view) -> std::uint64_t { return 7; });
  check_grouping(conversations);
}

// The obvious escaping, one byte at a time, to check the fast one against.
std::string escaped_slowly(const std::string& text) {
  std::string json = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      json += '\\';
      json += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", static_cast<unsigned char>(c));
      json += code;
    } else {
      json += c;
    }
  }
  return json + "\"";
}

TEST_CASE("Escaping finds a special byte at any place in a long text", "[store]") {
  const std::string plain = "0123456789abcdef0123456789\xc3\xa9\xe2\x98\x83 ok";
  for (const char special : {'"', '\\', '\x01', '\x1f', '\n', '\x00'}) {
    for (std::size_t at = 0; at <= plain.size(); ++at) {
      std::string text = plain;
      text.insert(at, 1, special);
      const std::vector<StoredMessage> chunk{delivered(1, "a", "b", text, 1002)};
      store::DirectChunkWriter writer;
      writer.write(pointers_to(refs_to(chunk)));
      INFO("byte " << static_cast<int>(special) << " at " << at);
      CHECK(writer.dms() == "[[0,0,0,1," + escaped_slowly(text) + ",2]]");
    }
  }
}

TEST_CASE("Delivered DMs are one row per conversation, and history reads them with the rest", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "alice", "bob", "queued, then delivered"));
  auto batch = delivered_batch({delivered(4, "carol", "alice", "c->a"), delivered(3, "Bob", "ALICE", "b->a"),
                                delivered(2, "alice", "bob", "a->b"), delivered(6, "alice", "bob", "a->b again")});
  insert_delivered(*db, batch);
  db->insert_message(direct(5, "bob", "alice", "queued"));
  auto later = delivered_batch({delivered(7, "bob", "alice", "b->a later")});
  insert_delivered(*db, later);

  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{1, 2, 3, 5, 6, 7});
  CHECK(ids_of(db->direct_history("BOB", "alice", 10, 100)) == std::vector<std::int64_t>{1, 2, 3, 5, 6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 3, 100)) == std::vector<std::int64_t>{5, 6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 3, 5)) == std::vector<std::int64_t>{2, 3, 5});
  CHECK(ids_of(db->direct_history("alice", "bob", 1, 2)) == std::vector<std::int64_t>{2});
  CHECK(ids_of(db->direct_history("alice", "carol", 10, 100)) == std::vector<std::int64_t>{4});
  CHECK(db->direct_history("bob", "carol", 10, 100).empty());
  CHECK(db->max_message_id() == 7);
  // Delivered DMs are nobody's queue.
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{5});
  CHECK(ids_of(db->undelivered_directs("bob")) == std::vector<std::int64_t>{1});

  const auto history = db->direct_history("alice", "bob", 10, 100);
  CHECK(history[2].sender == "Bob");
  CHECK(history[2].target == "ALICE");
  CHECK(history[2].kind == MessageKind::kDirect);
  CHECK(history[2].received_at == 1000);
  CHECK(history[2].delivered_at == 2000);
}

TEST_CASE("A chunk keeps any text intact: quotes, backslashes, controls, UTF-8, SQL", "[store]") {
  const std::vector<std::string> texts{"say \"hi\"", "back\\slash", "tab\tbell\a\x1b[31m",
                                       "caf\u00e9 \u2603 \U0001F600", "'); DROP TABLE messages; --", "",
                                       "[1,2,\"]\"]"};
  auto db = Store::open(":memory:");
  std::vector<StoredMessage> batch;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    batch.push_back(delivered(static_cast<std::int64_t>(i) + 1, "alice", "bob", texts[i]));
  }
  insert_delivered(*db, batch);
  const auto history = db->direct_history("alice", "bob", 100, 100);
  REQUIRE(history.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) CHECK(history[i].text == texts[i]);
}

TEST_CASE("Chunks of any size in turn are written whole: short, then long, then short", "[store]") {
  auto db = Store::open(":memory:");
  const std::vector<std::string> texts{"hi", std::string(3000, '"'), std::string(4000, 'x') + "\\", "ok"};
  std::vector<std::string> expected;
  std::int64_t id = 0;
  for (const std::string& text : texts) {
    std::vector<StoredMessage> batch;
    for (int i = 0; i < 3; ++i) batch.push_back(delivered(++id, "alice", "bob", text + std::to_string(i)));
    insert_delivered(*db, batch);
    for (int i = 0; i < 3; ++i) expected.push_back(text + std::to_string(i));
  }
  const auto history = db->direct_history("alice", "bob", 100, 100);
  REQUIRE(history.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(history[i].text == expected[i]);
}

TEST_CASE("A delivered DM with a NUL in its text is kept whole, as a row of messages", "[store]") {
  const std::string text("before\0after", 12);
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    auto batch = delivered_batch({delivered(1, "alice", "bob", text), delivered(2, "alice", "bob", "plain")});
    insert_delivered(*db, batch);
    const auto history = db->direct_history("alice", "bob", 10, 10);
    REQUIRE(history.size() == 2);
    CHECK(history[0].text == text);
    CHECK(history[0].delivered_at == 2000);
    CHECK(ids_of(db->undelivered_directs("bob")).empty());
  }
  RawDb raw(path);
  CHECK(raw.integer("SELECT count(*) FROM messages") == 1);
  CHECK(raw.integer("SELECT count(*) FROM direct_chunks") == 1);
}

TEST_CASE("A conversation's delivered DMs are split into rows of at most 64", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    std::vector<StoredMessage> batch;
    for (std::int64_t id = 1; id <= 150; ++id) {
      batch.push_back(delivered(id, id % 2 ? "alice" : "bob", id % 2 ? "bob" : "alice", std::to_string(id)));
    }
    insert_delivered(*db, batch);
    std::vector<std::int64_t> expected;
    for (std::int64_t id = 51; id <= 150; ++id) expected.push_back(id);
    CHECK(ids_of(db->direct_history("alice", "bob", 100, 1000)) == expected);
    CHECK(ids_of(db->direct_history("alice", "bob", 2, 65)) == std::vector<std::int64_t>{64, 65});
  }
  RawDb raw(path);
  CHECK(raw.integer("SELECT count(*) FROM direct_chunks") == 3);
  CHECK(raw.integer("SELECT max(messages) FROM direct_chunks") == 64);
  CHECK(raw.integer("SELECT sum(messages) FROM direct_chunks") == 150);
  // The view shows every DM as a row, for the sqlite3 shell.
  CHECK(raw.integer("SELECT count(*) FROM all_messages WHERE kind = 'dm' AND delivered_at = 2000") == 150);
  CHECK(raw.text("SELECT text FROM all_messages WHERE id = 77") == "77");
  CHECK(raw.text("SELECT sender FROM all_messages WHERE id = 77") == "alice");
}

TEST_CASE("insert_delivered_directs refuses a queued DM or a room message", "[store]") {
  auto db = Store::open(":memory:");
  auto queued = delivered_batch({direct(1, "alice", "bob", "not delivered")});
  CHECK_THROWS_WITH(insert_delivered(*db, queued), Contains("message 1 is not a delivered DM"));
  StoredMessage room_message = room(2, "alice", "team", "a room");
  room_message.delivered_at = 2000;
  auto rooms = delivered_batch({room_message});
  CHECK_THROWS_WITH(insert_delivered(*db, rooms), Contains("message 2 is not a delivered DM"));
}

TEST_CASE("History is right when a DM delivered late lands in a later row than newer ones", "[store]") {
  auto db = Store::open(":memory:");
  // 3 and 8 were delivered after 5 and 6 had been written: the two rows'
  // id ranges, 5..6 and 3..8, overlap.
  auto first = delivered_batch({delivered(5, "bob", "alice", "5"), delivered(6, "bob", "alice", "6")});
  insert_delivered(*db, first);
  auto second = delivered_batch({delivered(8, "alice", "bob", "8"), delivered(3, "alice", "bob", "3")});
  insert_delivered(*db, second);
  db->insert_message(direct(7, "alice", "bob", "7, queued"));

  CHECK(ids_of(db->direct_history("alice", "bob", 2, 100)) == std::vector<std::int64_t>{7, 8});
  CHECK(ids_of(db->direct_history("alice", "bob", 3, 100)) == std::vector<std::int64_t>{6, 7, 8});
  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{3, 5, 6, 7, 8});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 7)) == std::vector<std::int64_t>{6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 6)) == std::vector<std::int64_t>{5, 6});
  CHECK(ids_of(db->direct_history("alice", "bob", 5, 4)) == std::vector<std::int64_t>{3});
  CHECK(db->direct_history("alice", "bob", 5, 2).empty());
}

TEST_CASE("A DM to oneself in a chunk is listed once", "[store]") {
  auto db = Store::open(":memory:");
  auto batch = delivered_batch({delivered(1, "alice", "Alice", "note"), delivered(2, "alice", "bob", "to bob")});
  insert_delivered(*db, batch);
  CHECK(ids_of(db->direct_history("alice", "alice", 10, 100)) == std::vector<std::int64_t>{1});
}

}  // namespace
}  // namespace uvchat::test
