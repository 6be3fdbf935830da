// The allocator that hands a freed block to the next allocation on the
// same thread.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>

#include "uvchat/recycler.hpp"

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

}  // namespace
}  // namespace uvchat::test
