// The allocator that hands a freed block to the next allocation on the
// same thread.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>

#include "uvchat/chat/effects.hpp"
#include "uvchat/recycler.hpp"
#include "uvchat/spare_pool.hpp"

namespace uvchat::test {
namespace {

struct Block {
  char bytes[48];
};

TEST_CASE("Recycler gives a freed block to the next allocation of its type", "[recycler]") {
  Recycler<Block> recycler;
  Block* first = recycler.allocate(1);
  recycler.deallocate(first, 1);
  Block* second = recycler.allocate(1);
  CHECK(second == first);
  Block* third = recycler.allocate(1);
  CHECK(third != second);
  recycler.deallocate(second, 1);
  recycler.deallocate(third, 1);
}

TEST_CASE("Recycler keeps blocks per thread", "[recycler]") {
  Recycler<Block> recycler;
  Block* here = recycler.allocate(1);
  recycler.deallocate(here, 1);
  Block* there = nullptr;
  std::thread([&] {
    Block* block = recycler.allocate(1);
    there = block;
    recycler.deallocate(block, 1);  // kept by that thread, freed when it ends
  }).join();
  CHECK(there != here);
  CHECK(recycler.allocate(1) == here);
  recycler.deallocate(here, 1);
}

TEST_CASE("allocate_shared through a Recycler reuses the shared block", "[recycler]") {
  const std::string* address = nullptr;
  {
    auto line = std::allocate_shared<const std::string>(Recycler<std::string>{}, "server:pong\n");
    address = line.get();
    CHECK(*line == "server:pong\n");
  }
  auto next = std::allocate_shared<const std::string>(Recycler<std::string>{}, "server:bye\n");
  CHECK(next.get() == address);
  CHECK(*next == "server:bye\n");
}

TEST_CASE("StringPool gives a string's room to the next line on the thread", "[recycler][pool]") {
  while (StringPool::kept() != 0) StringPool::take();
  std::string line = StringPool::take();
  line.assign(100, 'x');
  const char* room = line.data();
  StringPool::give_back(std::move(line));
  CHECK(StringPool::kept() == 1);
  const std::string next = StringPool::take();
  CHECK(next.empty());
  CHECK(next.capacity() >= 100);
  CHECK(next.data() == room);
  CHECK(StringPool::kept() == 0);
}

TEST_CASE("StringPool keeps neither long strings nor more than kKeep", "[recycler][pool]") {
  while (StringPool::kept() != 0) StringPool::take();
  StringPool::give_back(std::string(StringPool::kLargestKept + 1, 'x'));
  CHECK(StringPool::kept() == 0);
  for (std::size_t i = 0; i < StringPool::kMostKept + 10; ++i) StringPool::give_back(std::string(40, 'x'));
  CHECK(StringPool::kept() == StringPool::kMostKept);
  while (StringPool::kept() != 0) StringPool::take();
}

TEST_CASE("A pooled payload lives while shared, then its room is reused", "[recycler][pool]") {
  while (StringPool::kept() != 0) StringPool::take();
  const char* room = nullptr;
  {
    chat::Payload line = chat::make_pooled_payload([](std::string& bytes) { bytes = std::string(90, 'a') + "\n"; });
    chat::Payload copy = line;
    room = line->data();
    line.reset();
    CHECK(*copy == std::string(90, 'a') + "\n");  // the other holder still reads it
    CHECK(StringPool::kept() == 0);
  }
  CHECK(StringPool::kept() == 1);
  const chat::Payload next = chat::make_pooled_payload([](std::string& bytes) { bytes.append("server:pong\n"); });
  CHECK(*next == "server:pong\n");
  CHECK(next->data() == room);
}

}  // namespace
}  // namespace uvchat::test
