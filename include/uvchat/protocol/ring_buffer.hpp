// A fixed-capacity byte ring: a connection reads into it, the framer takes
// whole lines out of it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace uvchat::protocol {

// Layout, with the readable bytes wrapped around the end:
//
//   +-----------+--------------------+-----------+
//   | readable  |      writable      | readable  |
//   | (2nd part)|                    | (1st part)|
//   +-----------+--------------------+-----------+
//   0        head - ... tail       head        capacity
//
// Storage is taken only when bytes arrive and handed back by release() once
// everything has been consumed, so an idle connection costs no buffer. The
// storage given back is kept, a few blocks per thread, for the next ring.
class RingBuffer {
 public:
  explicit RingBuffer(std::size_t capacity);
  ~RingBuffer();
  RingBuffer(RingBuffer&&) noexcept = default;
  RingBuffer& operator=(RingBuffer&&) noexcept = default;

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == capacity_; }
  bool has_storage() const { return storage_ != nullptr; }

  // The largest contiguous free region; empty when full. Takes storage if
  // the buffer has none.
  std::span<char> writable();
  // Marks `count` bytes of writable() as filled.
  void commit(std::size_t count);
  // Copies as much of `bytes` as fits; returns how much that was.
  std::size_t write(std::span<const char> bytes);

  // Offset (from the first readable byte) of the first `byte`, or npos.
  std::size_t find(char byte) const;
  // The first `count` readable bytes. When they wrap around the end they are
  // copied into `scratch` and the view points there.
  std::string_view peek(std::size_t count, std::string& scratch) const;
  void consume(std::size_t count);
  void clear();

  // Frees the storage if the buffer is empty.
  void release();

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  std::size_t tail() const;

  std::size_t capacity_;
  std::unique_ptr<char[]> storage_;
  std::size_t head_ = 0;  // first readable byte
  std::size_t size_ = 0;  // readable bytes
};

}  // namespace uvchat::protocol
