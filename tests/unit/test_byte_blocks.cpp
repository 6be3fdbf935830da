// The held DMs' memory: bytes handed out in order, given back a block at a
// time, oldest first.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "uvchat/store/byte_blocks.hpp"

namespace uvchat::test {
namespace {

using store::ByteBlocks;

char* write(ByteBlocks& blocks, const std::string& text) {
  char* out = blocks.allocate(text.size());
  std::memcpy(out, text.data(), text.size());
  return out;
}

TEST_CASE("Bytes come in order from one block until it is full, then from a new one", "[byte-blocks]") {
  ByteBlocks blocks(16);
  char* first = write(blocks, "0123456789");
  char* second = write(blocks, "abcdef");  // fills the block exactly
  CHECK(second == first + 10);
  CHECK(blocks.blocks() == 1);
  char* third = write(blocks, "xyz");
  CHECK(blocks.blocks() == 2);
  CHECK(std::string(first, 10) == "0123456789");
  CHECK(std::string(second, 6) == "abcdef");
  CHECK(std::string(third, 3) == "xyz");
}

TEST_CASE("A size past the usual block gets a block of its own", "[byte-blocks]") {
  ByteBlocks blocks(16);
  write(blocks, "small");
  const std::string big(100, 'b');
  char* out = write(blocks, big);
  CHECK(blocks.blocks() == 2);
  CHECK(std::string(out, big.size()) == big);
  write(blocks, "after");
  CHECK(blocks.blocks() == 3);
}

TEST_CASE("Blocks older than the one holding the oldest kept byte are given back", "[byte-blocks]") {
  ByteBlocks blocks(8);
  char* a = write(blocks, "aaaaaaaa");
  write(blocks, "bbbbbbbb");
  char* c = write(blocks, "cccc");
  CHECK(blocks.blocks() == 3);
  blocks.release_before(a);
  CHECK(blocks.blocks() == 3);
  blocks.release_before(c);
  CHECK(blocks.blocks() == 1);
  CHECK(std::string(c, 4) == "cccc");
  blocks.release_before(nullptr);
  CHECK(blocks.blocks() == 0);
}

TEST_CASE("The newest block is kept while it holds the oldest kept byte", "[byte-blocks]") {
  ByteBlocks blocks(8);
  write(blocks, "aaaaaaaa");
  char* last = write(blocks, "bb");
  blocks.release_before(last + 1);  // any byte of it, not only its first
  CHECK(blocks.blocks() == 1);
  CHECK(std::string(last, 2) == "bb");
}

TEST_CASE("A block given back is the spare the next block is made from", "[byte-blocks]") {
  ByteBlocks blocks(8);
  char* first = write(blocks, "aaaaaaaa");
  char* second = write(blocks, "bbbbbbbb");
  blocks.release_before(second);
  char* third = write(blocks, "cccccccc");
  CHECK(third == first);  // the first block's memory, again
  CHECK(std::string(second, 8) == "bbbbbbbb");
}

TEST_CASE("Nothing still takes a byte, inside a block, even at a full block's end", "[byte-blocks]") {
  ByteBlocks blocks(8);
  write(blocks, "aaaaaaaa");
  char* empty = blocks.allocate(0);
  CHECK(blocks.blocks() == 2);
  write(blocks, "bbbbbbb");  // the rest of the second block
  write(blocks, "c");        // a third
  blocks.release_before(empty);
  CHECK(blocks.blocks() == 2);  // the block holding `empty`, and the newest
}

}  // namespace
}  // namespace uvchat::test
