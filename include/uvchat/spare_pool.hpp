// Emptied containers kept with their capacity, per thread, for the next
// one made on that thread.
//
// The loop makes and drops a few containers for every message: the string
// of each chat line it sends, the vector behind each connection's output
// queue (a Fifo lets its storage go when it empties, so that idle
// connections hold none). Taking the storage from here and giving it back
// costs a few instructions, where malloc and free cost hundreds (callgrind).
// At most kKeep containers are kept, none with a capacity over
// kMaxCapacity, so a burst of long lines or deep queues is not hoarded.
// Thread-local: no locking, and what a thread gives back only it takes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace uvchat {

template <typename Container, std::size_t kKeep, std::size_t kMaxCapacity>
class SparePool {
 public:
  static constexpr std::size_t kMostKept = kKeep;
  static constexpr std::size_t kLargestKept = kMaxCapacity;

  // An empty container, with the capacity of an earlier one when there is one.
  static Container take() {
    std::vector<Container>& spare = containers();
    if (spare.empty()) return {};
    Container container = std::move(spare.back());
    spare.pop_back();
    return container;
  }

  static void give_back(Container&& container) {
    std::vector<Container>& spare = containers();
    if (spare.size() >= kKeep || container.capacity() == 0 || container.capacity() > kMaxCapacity) return;
    container.clear();
    spare.push_back(std::move(container));  // capacity reserved: does not allocate
  }

  static std::size_t kept() { return containers().size(); }

 private:
  static std::vector<Container>& containers() {
    thread_local std::vector<Container> spare = [] {
      std::vector<Container> reserved;
      reserved.reserve(kKeep);
      return reserved;
    }();
    return spare;
  }
};

// The chat lines: enough for every line a busy loop has in flight at once
// (50 pairs with 32 DMs each in flight, and the store's current batch,
// which holds its messages until it is done: see StoreWorker), two strings
// a message: its text, and its line as the native door renders it (more
// doors, more lines). At most 2 MiB is kept, after a burst that used that
// much. With half as many, the spent batches given back at once overflowed
// it and the next turn's DMs found it empty: malloc and free were a fifth
// of the loop.
using StringPool = SparePool<std::string, 8192, 256>;

}  // namespace uvchat
