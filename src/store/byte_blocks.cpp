#include "uvchat/store/byte_blocks.hpp"

#include <algorithm>
#include <functional>

namespace uvchat::store {

char* ByteBlocks::allocate(std::size_t size) {
  // release_before finds the oldest block still needed by the pointer it
  // is given: a pointer at a full block's end would be in none.
  size = std::max<std::size_t>(size, 1);
  if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < size) {
    Block block;
    block.capacity = std::max(size, block_size_);
    if (spare_ && block.capacity == block_size_) {
      block.bytes = std::move(spare_);
    } else {
      block.bytes = std::make_unique_for_overwrite<char[]>(block.capacity);
    }
    blocks_.push_back(std::move(block));
  }
  Block& block = blocks_.back();
  char* const out = block.bytes.get() + block.used;
  block.used += size;
  return out;
}

void ByteBlocks::release_before(const char* oldest_kept) {
  if (oldest_kept == nullptr) {
    while (!blocks_.empty()) give_back_front();
    return;
  }
  const auto holds_oldest = [oldest_kept](const Block& block) {
    const std::less<const char*> before;  // a total order, even across blocks
    return !before(oldest_kept, block.bytes.get()) && before(oldest_kept, block.bytes.get() + block.capacity);
  };
  while (blocks_.size() > 1 && !holds_oldest(blocks_.front())) give_back_front();
}

void ByteBlocks::give_back_front() {
  Block& front = blocks_.front();
  if (!spare_ && front.capacity == block_size_) spare_ = std::move(front.bytes);
  blocks_.pop_front();
}

}  // namespace uvchat::store
