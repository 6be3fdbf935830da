#include "uvchat/store/byte_blocks.hpp"

#include <algorithm>
#include <functional>

namespace uvchat::store {

// release_before finds the oldest block still needed by the pointer it is
// given, which is why allocate() never hands out a pointer at a full
// block's end.
void ByteBlocks::start_block(std::size_t size) {
  Block block;
  block.capacity = std::max(size, block_size_);
  if (spare_ && block.capacity == block_size_) {
    block.bytes = std::move(spare_);
  } else {
    block.bytes = std::make_unique_for_overwrite<char[]>(block.capacity);
  }
  blocks_.push_back(std::move(block));
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
