// The byte ring a connection reads into.
#include <catch2/catch.hpp>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::protocol {
namespace {

std::size_t write_text(RingBuffer& ring, std::string_view text) {
  return ring.write(std::span<const char>(text.data(), text.size()));
}

// Everything readable, as a string.
std::string contents(const RingBuffer& ring) {
  std::string scratch;
  return std::string(ring.peek(ring.size(), scratch));
}

// A ring of 8 holding "efghij" with the split after "gh": head at 4, the
// last two bytes at the start of the storage.
RingBuffer wrapped_ring() {
  RingBuffer ring(8);
  REQUIRE(write_text(ring, "abcdef") == 6);
  ring.consume(4);
  REQUIRE(write_text(ring, "ghij") == 4);
  return ring;
}

TEST_CASE("RingBuffer takes no storage until something is to be written", "[ring]") {
  RingBuffer ring(16);
  CHECK(ring.capacity() == 16);
  CHECK(ring.size() == 0);
  CHECK(ring.empty());
  CHECK_FALSE(ring.full());
  CHECK_FALSE(ring.has_storage());
  CHECK(ring.find('\n') == RingBuffer::npos);

  const std::span<char> space = ring.writable();
  CHECK(ring.has_storage());
  CHECK(space.size() == 16);
  CHECK(ring.empty());
}

TEST_CASE("RingBuffer writes, commits and consumes in order", "[ring]") {
  RingBuffer ring(16);

  SECTION("commit makes the bytes written into writable() readable") {
    const std::span<char> space = ring.writable();
    std::memcpy(space.data(), "hello", 5);
    ring.commit(5);
    CHECK(ring.size() == 5);
    CHECK(contents(ring) == "hello");
    CHECK(ring.writable().size() == 11);
  }
  SECTION("write copies and consume drops from the front") {
    CHECK(write_text(ring, "hello ") == 6);
    CHECK(write_text(ring, "world") == 5);
    CHECK(contents(ring) == "hello world");
    ring.consume(6);
    CHECK(ring.size() == 5);
    CHECK(contents(ring) == "world");
  }
  SECTION("clear empties the ring") {
    write_text(ring, "hello");
    ring.clear();
    CHECK(ring.empty());
    CHECK(ring.writable().size() == 16);
  }
}

TEST_CASE("RingBuffer never holds more than its capacity", "[ring]") {
  RingBuffer ring(8);
  CHECK(write_text(ring, "0123456789") == 8);
  CHECK(ring.full());
  CHECK(ring.size() == 8);
  CHECK(ring.writable().empty());
  CHECK(write_text(ring, "x") == 0);
  CHECK(contents(ring) == "01234567");

  ring.consume(3);
  CHECK_FALSE(ring.full());
  CHECK(write_text(ring, "abcdef") == 3);
  CHECK(ring.full());
  CHECK(contents(ring) == "34567abc");
}

TEST_CASE("RingBuffer starts again at offset 0 once emptied", "[ring]") {
  RingBuffer ring(8);
  write_text(ring, "abcde");
  ring.consume(5);
  CHECK(ring.empty());
  // Were the head left at 5, only 3 contiguous bytes would be writable.
  CHECK(ring.writable().size() == 8);
  CHECK(write_text(ring, "12345678") == 8);
  CHECK(contents(ring) == "12345678");
}

TEST_CASE("RingBuffer wraps its readable bytes around the end", "[ring]") {
  RingBuffer ring = wrapped_ring();
  REQUIRE(ring.size() == 6);

  SECTION("the free space is the gap between the tail and the head") { CHECK(ring.writable().size() == 2); }
  SECTION("find looks on both sides of the wrap") {
    CHECK(ring.find('e') == 0);
    CHECK(ring.find('h') == 3);
    CHECK(ring.find('i') == 4);
    CHECK(ring.find('j') == 5);
    CHECK(ring.find('a') == RingBuffer::npos);  // consumed, though still in storage
    CHECK(ring.find('z') == RingBuffer::npos);
  }
  SECTION("peek of a wrapped region copies it into scratch") {
    std::string scratch;
    const std::string_view all = ring.peek(6, scratch);
    CHECK(all == "efghij");
    CHECK(all.data() == scratch.data());
    const std::string_view across = ring.peek(5, scratch);
    CHECK(across == "efghi");
  }
  SECTION("peek of a region before the wrap points into the ring itself") {
    std::string scratch = "untouched";
    const std::string_view front = ring.peek(4, scratch);
    CHECK(front == "efgh");
    CHECK(scratch == "untouched");
    CHECK(ring.peek(0, scratch).empty());
  }
  SECTION("consuming past the end moves the head to the start") {
    ring.consume(5);
    CHECK(contents(ring) == "j");
    CHECK(ring.find('j') == 0);
    CHECK(write_text(ring, "klmnopqr") == 7);
    CHECK(ring.full());
    CHECK(contents(ring) == "jklmnopq");
  }
}

TEST_CASE("RingBuffer::release frees the storage only when empty", "[ring]") {
  RingBuffer ring(8);
  write_text(ring, "abc");

  ring.release();
  CHECK(ring.has_storage());
  CHECK(contents(ring) == "abc");

  ring.consume(3);
  ring.release();
  CHECK_FALSE(ring.has_storage());
  CHECK(ring.empty());

  CHECK(write_text(ring, "again") == 5);
  CHECK(ring.has_storage());
  CHECK(contents(ring) == "again");
}

TEST_CASE("Storage given back is reused by the next ring of that capacity", "[ring]") {
  const char* storage = nullptr;
  {
    RingBuffer first(64);
    storage = first.writable().data();
    first.release();
    CHECK_FALSE(first.has_storage());
  }
  RingBuffer second(64);
  CHECK(second.writable().data() == storage);
  RingBuffer other(32);
  CHECK(other.writable().data() != storage);  // another capacity: its own storage
  CHECK(other.writable().size() == 32);
  second.release();
  other.release();
}

TEST_CASE("A ring destroyed empty gives its storage back", "[ring]") {
  const char* storage = nullptr;
  {
    RingBuffer empty(48);
    storage = empty.writable().data();
  }
  RingBuffer next(48);
  CHECK(next.writable().data() == storage);
  CHECK(next.empty());
  next.release();
}

}  // namespace
}  // namespace uvchat::protocol
