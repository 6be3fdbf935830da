#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "uvchat/fifo.hpp"

using uvchat::Fifo;

TEST_CASE("Fifo: first in, first out, through growth and compaction", "[fifo]") {
  Fifo<int> queue;
  CHECK(queue.empty());
  int next_in = 0;
  int next_out = 0;
  // Uneven pushes and pops, so the head wanders past the compaction point.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 3; ++i) queue.push_back(next_in++);
    for (int i = 0; i < round % 5 + 1 && !queue.empty(); ++i) {
      REQUIRE(queue.front() == next_out);
      queue.pop_front();
      ++next_out;
    }
    REQUIRE(queue.size() == static_cast<std::size_t>(next_in - next_out));
    if (!queue.empty()) {
      CHECK(queue[0] == next_out);
      CHECK(queue.back() == next_in - 1);
    }
  }
  int expected = next_out;
  for (const int value : queue) CHECK(value == expected++);
  while (!queue.empty()) {
    REQUIRE(queue.front() == next_out++);
    queue.pop_front();
  }
  CHECK(next_out == next_in);
}

TEST_CASE("Fifo: what is popped is let go at once", "[fifo]") {
  Fifo<std::shared_ptr<std::string>> queue;
  auto payload = std::make_shared<std::string>("line");
  queue.push_back(payload);
  queue.push_back(payload);
  CHECK(payload.use_count() == 3);
  queue.pop_front();
  CHECK(payload.use_count() == 2);
  queue.clear();
  CHECK(payload.use_count() == 1);
  CHECK(queue.empty());
}

TEST_CASE("Fifo: storage let go when empty is taken by the next Fifo of its type", "[fifo]") {
  struct Item {
    long value;
  };
  const Item* storage = nullptr;
  {
    Fifo<Item> first;
    first.push_back(Item{1});
    storage = &first.front();
    first.pop_front();  // empty: its storage goes to the pool
    CHECK(first.empty());
  }
  Fifo<Item> second;
  second.push_back(Item{2});
  CHECK(&second.front() == storage);
  CHECK(second.front().value == 2);
  second.clear();
}
