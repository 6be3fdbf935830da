// The store worker's hold on live DMs: which leave it delivered, which are
// handed back to be written queued, and when.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "uvchat/store/held_directs.hpp"

namespace uvchat::test {
namespace {

using namespace std::chrono_literals;
using store::HeldDirects;
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

std::vector<std::int64_t> ids_of(const std::vector<StoredMessage>& messages) {
  std::vector<std::int64_t> ids;
  for (const StoredMessage& message : messages) ids.push_back(message.id);
  return ids;
}

struct Hold {
  HeldDirects held{2000ms, 100};
  std::vector<StoredMessage> to_write;
  std::vector<StoredMessage> delivered;

  void hold(std::int64_t id, std::string sender, std::string recipient,
            HeldDirects::Clock::time_point at = kStart) {
    held.hold(dm(id, std::move(sender), std::move(recipient)), at, to_write);
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
  HeldDirects held(2000ms, 4);
  std::vector<StoredMessage> to_write;
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
  std::vector<StoredMessage> delivered;
  CHECK(held.deliver(1000, 1, delivered));
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

}  // namespace
}  // namespace uvchat::test
