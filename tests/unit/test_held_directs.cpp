// The store worker's hold on live DMs: which leave it delivered, which are
// handed back to be written queued, and when.
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "uvchat/chat/name_map.hpp"
#include "uvchat/store/held_directs.hpp"

namespace uvchat::test {
namespace {

using namespace std::chrono_literals;
using store::HeldDirects;
using store::MessageRef;
using store::StoredMessage;

const HeldDirects::Clock::time_point kStart{};

StoredMessage dm(std::int64_t id, std::string sender, std::string recipient) {
  StoredMessage message;
  message.id = id;
  message.received_at = 1000;
  message.sender = std::move(sender);
  message.target = std::move(recipient);
  message.text = "text " + std::to_string(id);
  return message;
}

std::vector<std::int64_t> ids_of(const std::vector<MessageRef>& messages) {
  std::vector<std::int64_t> ids;
  for (const MessageRef& message : messages) ids.push_back(message.id);
  return ids;
}

struct Hold {
  HeldDirects held{2000ms, 100, 1 << 20};
  std::vector<MessageRef> to_write;
  std::vector<MessageRef> delivered;
  // What the hold was given: one it does not hold is handed back as given.
  std::deque<StoredMessage> given;

  void hold(std::int64_t id, std::string sender, std::string recipient,
            HeldDirects::Clock::time_point at = kStart) {
    held.hold(given.emplace_back(dm(id, std::move(sender), std::move(recipient))), at, to_write);
  }
};

TEST_CASE("A held DM that is delivered leaves the hold delivered, with its time", "[held]") {
  Hold h;
  h.hold(1, "alice", "bob");
  h.hold(3, "bob", "alice");
  CHECK(h.held.size() == 2);
  CHECK(h.held.deliver(3, 5000, h.delivered));
  CHECK_FALSE(h.held.deliver(3, 6000, h.delivered));  // not twice
  CHECK_FALSE(h.held.deliver(2, 5000, h.delivered));  // a gap: never held
  CHECK_FALSE(h.held.deliver(99, 5000, h.delivered));
  CHECK_FALSE(h.held.deliver(0, 5000, h.delivered));
  REQUIRE(ids_of(h.delivered) == std::vector<std::int64_t>{3});
  CHECK(h.delivered[0].delivered_at == 5000);
  CHECK(h.delivered[0].text == "text 3");
  CHECK(h.held.size() == 1);
  CHECK(h.to_write.empty());
}

TEST_CASE("A DM held for the hold time is handed back to be written queued", "[held]") {
  Hold h;
  h.hold(1, "alice", "bob", kStart);
  h.hold(2, "alice", "bob", kStart + 500ms);
  CHECK(h.held.next_expiry() == kStart + 2000ms);
  h.held.expire(kStart + 1999ms, h.to_write);
  CHECK(h.to_write.empty());
  h.held.expire(kStart + 2000ms, h.to_write);
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{1});
  CHECK_FALSE(h.to_write[0].delivered_at);
  CHECK(h.held.next_expiry() == kStart + 2500ms);
  CHECK(h.held.deliver(2, 7000, h.delivered));
  CHECK_FALSE(h.held.next_expiry());
  CHECK(h.held.size() == 0);
}

TEST_CASE("Delivering the oldest moves the next expiry to the next held DM", "[held]") {
  Hold h;
  h.hold(1, "alice", "bob", kStart);
  h.hold(5, "alice", "bob", kStart + 300ms);
  CHECK(h.held.deliver(1, 7000, h.delivered));
  CHECK(h.held.next_expiry() == kStart + 2300ms);
}

TEST_CASE("Holding is bounded: past max_span ids the oldest are handed back", "[held]") {
  HeldDirects held(2000ms, 4, 1 << 20);
  std::vector<MessageRef> to_write;
  held.hold(dm(10, "a", "b"), kStart, to_write);
  held.hold(dm(12, "a", "b"), kStart, to_write);
  held.hold(dm(13, "a", "b"), kStart, to_write);
  CHECK(to_write.empty());
  held.hold(dm(15, "a", "b"), kStart, to_write);  // 10..15 would span 6 ids; 12..15 is 4
  CHECK(ids_of(to_write) == std::vector<std::int64_t>{10});
  CHECK(held.size() == 3);
  held.hold(dm(17, "a", "b"), kStart, to_write);  // 12..17 spans 6: 12 and 13 go, 15..17 stay
  CHECK(ids_of(to_write) == std::vector<std::int64_t>{10, 12, 13});
  CHECK(held.size() == 2);
  held.hold(dm(1000, "a", "b"), kStart, to_write);  // far ahead: everything goes
  CHECK(ids_of(to_write) == std::vector<std::int64_t>{10, 12, 13, 15, 17});
  CHECK(held.size() == 1);
  std::vector<MessageRef> delivered;
  CHECK(held.deliver(1000, 1, delivered));
}

TEST_CASE("Holding is bounded in bytes too: past max_bytes of names and text the oldest are handed back",
          "[held]") {
  HeldDirects held(2000ms, 100, 100);
  std::vector<StoredMessage> given;
  given.reserve(8);
  std::vector<MessageRef> to_write;
  std::vector<MessageRef> delivered;
  const auto hold = [&](std::int64_t id, std::size_t text_size) {
    StoredMessage& message = given.emplace_back(dm(id, "al", "bo"));  // 4 bytes of names
    message.text.assign(text_size, 'x');
    held.hold(message, kStart, to_write);
  };
  hold(1, 36);  // 40 bytes
  hold(2, 36);  // 80
  CHECK(to_write.empty());
  CHECK(held.deliver(2, 1, delivered));  // its bytes still count: 1 is in front
  hold(3, 26);                           // 110 bytes would be past 100: 1 goes, and 2 with it
  CHECK(ids_of(to_write) == std::vector<std::int64_t>{1});
  CHECK(held.size() == 1);
  hold(4, 60);  // 30 + 64 = 94
  CHECK(held.size() == 2);
  hold(5, 200);  // alone past the bound: everything else goes, and it is still held
  CHECK(ids_of(to_write) == std::vector<std::int64_t>{1, 3, 4});
  CHECK(held.size() == 1);
  CHECK(held.deliver(5, 1, delivered));
  CHECK(delivered.back().text == std::string(200, 'x'));
}

TEST_CASE("A DM whose id does not increase is handed straight back", "[held]") {
  Hold h;
  h.hold(5, "alice", "bob");
  h.hold(5, "alice", "bob");
  h.hold(4, "alice", "bob");
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{5, 4});
  CHECK(h.held.size() == 1);
}

TEST_CASE("A read of a user's queue takes back that user's held DMs, in any case", "[held]") {
  Hold h;
  h.hold(1, "alice", "Bob");
  h.hold(2, "bob", "alice");
  h.hold(3, "carol", "BOB");
  h.held.release_to("carol", h.to_write);
  CHECK(h.to_write.empty());
  h.held.release_to("bob", h.to_write);
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{1, 3});
  CHECK(h.held.size() == 1);
  CHECK(h.held.next_expiry() == kStart + 2000ms);
  CHECK(h.held.deliver(2, 1, h.delivered));
}

TEST_CASE("A read of a conversation's history takes back its held DMs, both ways", "[held]") {
  Hold h;
  h.hold(1, "alice", "bob");
  h.hold(2, "BOB", "alice");
  h.hold(3, "carol", "bob");
  h.hold(4, "alice", "carol");
  h.hold(5, "alice", "alice");
  h.held.release_conversation("dave", "erin", h.to_write);
  CHECK(h.to_write.empty());
  h.held.release_conversation("Alice", "bob", h.to_write);
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{1, 2});
  h.held.release_conversation("alice", "alice", h.to_write);
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{1, 2, 5});
  h.held.release_all(h.to_write);
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{1, 2, 5, 3, 4});
  CHECK(h.held.size() == 0);
  CHECK_FALSE(h.held.next_expiry());
}

TEST_CASE("After the hold empties, new ids start a new window", "[held]") {
  Hold h;
  h.hold(1, "alice", "bob");
  CHECK(h.held.deliver(1, 1, h.delivered));
  h.hold(500, "alice", "bob", kStart + 1s);
  CHECK(h.held.size() == 1);
  CHECK(h.held.next_expiry() == kStart + 3s);
  CHECK(h.held.deliver(500, 1, h.delivered));
  CHECK(ids_of(h.delivered) == std::vector<std::int64_t>{1, 500});
}

TEST_CASE("The hold keeps its own copy of a DM: the caller's strings may go", "[held]") {
  HeldDirects held(2000ms, 100, 1 << 20);
  std::vector<MessageRef> delivered;
  std::vector<MessageRef> to_write;
  {
    StoredMessage message = dm(7, "Alice", "bob");
    message.text = std::string(300, 'x') + " the end";
    held.hold(message, kStart, to_write);
    message.sender.assign(5, '?');
    message.text.assign(308, '?');
  }
  REQUIRE(held.deliver(7, 9000, delivered));
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0].id == 7);
  CHECK(delivered[0].received_at == 1000);
  CHECK(delivered[0].sender == "Alice");
  CHECK(delivered[0].target == "bob");
  CHECK(delivered[0].kind == store::MessageKind::kDirect);
  CHECK(delivered[0].text == std::string(300, 'x') + " the end");
  CHECK(delivered[0].delivered_at == 9000);
  CHECK(to_write.empty());
}

TEST_CASE("Thousands held across many blocks stay intact, and the blocks go back once written", "[held]") {
  HeldDirects held(2000ms, 100000, 1 << 20);
  std::vector<MessageRef> out;
  const auto text_of = [](std::int64_t id) {
    return std::string(200, static_cast<char>('a' + id % 26)) + std::to_string(id);
  };
  for (std::int64_t id = 1; id <= 3000; ++id) {
    const StoredMessage message = [&] {
      StoredMessage m = dm(id, "u" + std::to_string(id % 7), "v" + std::to_string(id % 5));
      m.text = text_of(id);
      return m;
    }();
    held.hold(message, kStart, out);
    // Every third is delivered at once, then written: its bytes may go.
    if (id % 3 == 0) {
      REQUIRE(held.deliver(id, 1, out));
      held.reclaim();
      out.clear();
    }
  }
  CHECK(held.size() == 2000);
  CHECK(held.byte_blocks() > 10);
  // The oldest half delivered, the rest kept: checked after every reclaim.
  for (std::int64_t id = 1; id <= 3000; ++id) {
    if (id % 3 != 0 && id <= 1500) REQUIRE(held.deliver(id, 1, out));
  }
  CHECK(out.size() == 1000);
  for (const MessageRef& message : out) {
    REQUIRE(message.text == text_of(message.id));
    REQUIRE(message.sender == "u" + std::to_string(message.id % 7));
    REQUIRE(message.target == "v" + std::to_string(message.id % 5));
  }
  const std::size_t blocks_before = held.byte_blocks();
  out.clear();
  held.reclaim();
  CHECK(held.byte_blocks() < blocks_before);
  held.release_all(out);
  REQUIRE(out.size() == 1000);
  for (const MessageRef& message : out) REQUIRE(message.text == text_of(message.id));
  out.clear();
  held.reclaim();
  CHECK(held.byte_blocks() == 0);
  CHECK(held.size() == 0);
}

TEST_CASE("An empty DM at the very end of a block does not let later blocks go", "[held]") {
  // The store does not rely on the hub's rules: empty names and text too.
  HeldDirects held(2000ms, 100000, 1 << 20);
  std::vector<MessageRef> out;
  StoredMessage filler = dm(1, "a", "b");
  filler.text.assign(32 * 1024 - 2, 'f');  // fills the first block exactly
  held.hold(filler, kStart, out);
  held.hold(StoredMessage{2, 1000, "", store::MessageKind::kDirect, "", "", std::nullopt}, kStart, out);
  StoredMessage second_block = dm(3, "carol", "dave");
  second_block.text = "still here";
  held.hold(second_block, kStart, out);
  StoredMessage third_block = dm(4, "a", "b");
  third_block.text.assign(32 * 1024, 't');
  held.hold(third_block, kStart, out);
  CHECK(held.byte_blocks() == 3);

  REQUIRE(held.deliver(1, 1, out));
  held.reclaim();  // the empty DM 2 is now the oldest held
  CHECK(held.byte_blocks() == 2);  // only the first given back
  out.clear();
  REQUIRE(held.deliver(3, 1, out));
  CHECK(out.back().text == "still here");
  CHECK(out.back().sender == "carol");
  REQUIRE(held.deliver(2, 1, out));
  CHECK(out.back().text.empty());
  CHECK(out.back().sender.empty());
}

TEST_CASE("A DM with a name too long for a slot is handed back as given", "[held]") {
  Hold h;
  h.hold(1, std::string(300, 'a'), "bob");
  REQUIRE(ids_of(h.to_write) == std::vector<std::int64_t>{1});
  CHECK(h.to_write[0].sender.data() == h.given[0].sender.data());
  CHECK(h.held.size() == 0);
  h.hold(2, "alice", "bob");
  CHECK(h.held.size() == 1);
}

TEST_CASE("Two recipients that share a bucket are still told apart by name", "[held]") {
  // Two names whose hashes fall in the same of the hold's 1,024 buckets.
  const chat::CaseInsensitiveHash hash;
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    const std::string name = "user" + std::to_string(i);
    if (name != "bob" && hash(name) % 1024 == hash("bob") % 1024) other = name;
  }
  Hold h;
  h.hold(1, "alice", "bob");
  h.held.release_to(other, h.to_write);
  CHECK(h.to_write.empty());
  CHECK(h.held.size() == 1);
  h.held.release_to("BOB", h.to_write);
  CHECK(ids_of(h.to_write) == std::vector<std::int64_t>{1});
}

}  // namespace
}  // namespace uvchat::test
