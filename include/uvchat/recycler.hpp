// An allocator that keeps the blocks it frees for the next allocation of the
// same type on the same thread.
//
// For the objects the loop makes and drops once per message: the shared
// block of a store request and of a formatted line. malloc and free were a
// sixth of the loop's instructions for a DM (callgrind), and a block that
// goes back to a per-thread list costs a few instructions instead.
// Thread-local, so no locking; at most kKeep blocks a type and thread are
// kept (as many as a busy loop has in flight: see StringPool), and they are
// freed when the thread ends.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace uvchat {

template <typename T>
class Recycler {
 public:
  using value_type = T;

  Recycler() = default;
  template <typename U>
  Recycler(const Recycler<U>&) noexcept {}  // NOLINT: rebinding, as allocators do

  T* allocate(std::size_t count) {
    std::vector<void*>& blocks = spare().blocks;
    if (count == 1 && !blocks.empty()) {
      void* block = blocks.back();
      blocks.pop_back();
      return static_cast<T*>(block);
    }
    return static_cast<T*>(::operator new(count * sizeof(T)));
  }

  void deallocate(T* block, std::size_t count) noexcept {
    std::vector<void*>& blocks = spare().blocks;
    if (count == 1 && blocks.size() < kKeep) {
      blocks.push_back(block);  // capacity reserved: does not allocate
      return;
    }
    ::operator delete(block);
  }

  template <typename U>
  bool operator==(const Recycler<U>&) const noexcept {
    return true;
  }

 private:
  static constexpr std::size_t kKeep = 4096;

  struct Spare {
    Spare() { blocks.reserve(kKeep); }
    ~Spare() {
      for (void* block : blocks) ::operator delete(block);
    }
    std::vector<void*> blocks;
  };

  static Spare& spare() {
    thread_local Spare spare;
    return spare;
  }
};

}  // namespace uvchat
