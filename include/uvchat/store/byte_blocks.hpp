// Bytes handed out in order from blocks, and given back a whole block at a
// time, oldest first: the memory of the store worker's held DMs
// (held_directs.hpp), whose names and text come and go in about the order
// they arrived.
//
//   blocks_:  [ oldest | ... | newest ]      a Fifo, front to back
//   a block:  [ handed out ......... | free ]
//             0                  used     capacity
//
// allocate() takes from the newest block, or starts a block when the rest
// of it is too small (a size past the usual block gets a block of its own).
// Nothing written moves, so a view into a block stays valid until the block
// is given back. One emptied block of the usual size is kept as a spare: a
// steady stream of DMs fills and frees blocks without calling malloc.
#pragma once

#include <cstddef>
#include <memory>

#include "uvchat/fifo.hpp"

namespace uvchat::store {

class ByteBlocks {
 public:
  explicit ByteBlocks(std::size_t block_size) : block_size_(block_size) {}

  // At least one byte is taken, even for size 0, so that what is handed out
  // always points into its own block. Inline: every held DM comes here.
  char* allocate(std::size_t size) {
    size = size == 0 ? 1 : size;
    if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < size) start_block(size);
    Block& block = blocks_.back();
    char* const out = block.bytes.get() + block.used;
    block.used += size;
    return out;
  }
  // Gives back every block older than the one holding `oldest_kept`; with
  // none, every block.
  void release_before(const char* oldest_kept);
  std::size_t blocks() const { return blocks_.size(); }

 private:
  struct Block {
    std::unique_ptr<char[]> bytes;
    std::size_t capacity = 0;
    std::size_t used = 0;
  };
  void start_block(std::size_t size);
  void give_back_front();

  std::size_t block_size_;
  Fifo<Block> blocks_;
  std::unique_ptr<char[]> spare_;
};

}  // namespace uvchat::store
