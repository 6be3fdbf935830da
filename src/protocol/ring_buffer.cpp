#include "uvchat/protocol/ring_buffer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

namespace uvchat::protocol {

RingBuffer::RingBuffer(std::size_t capacity) : capacity_(capacity) { assert(capacity > 0); }

std::size_t RingBuffer::tail() const { return (head_ + size_) % capacity_; }

namespace {

// Storage the rings give back, kept for the next ring on the thread that
// needs some. A connection whose reads end on a line end (the usual case)
// takes storage and gives it back every read: malloc and free of 4 KiB
// cost about 2,700 instructions (callgrind, dm run), this a few.
// All rings of a server have one capacity; at most kKeep blocks of the last
// capacity given back are kept (256 KiB with the default --max-line).
class StoragePool {
 public:
  static std::unique_ptr<char[]> take(std::size_t capacity) {
    StoragePool& pool = of_this_thread();
    if (capacity == pool.capacity_ && !pool.blocks_.empty()) {
      std::unique_ptr<char[]> block = std::move(pool.blocks_.back());
      pool.blocks_.pop_back();
      return block;
    }
    // Not zeroed: every byte is written by a read before it is looked at.
    return std::make_unique_for_overwrite<char[]>(capacity);
  }

  static void give_back(std::unique_ptr<char[]> block, std::size_t capacity) {
    StoragePool& pool = of_this_thread();
    if (capacity != pool.capacity_) {
      pool.blocks_.clear();
      pool.capacity_ = capacity;
    }
    if (pool.blocks_.size() < kKeep) pool.blocks_.push_back(std::move(block));
  }

 private:
  static constexpr std::size_t kKeep = 64;

  static StoragePool& of_this_thread() {
    thread_local StoragePool pool;
    return pool;
  }

  std::size_t capacity_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
};

}  // namespace

RingBuffer::~RingBuffer() { release(); }

std::span<char> RingBuffer::writable() {
  if (!storage_) storage_ = StoragePool::take(capacity_);
  if (full()) return {};
  const std::size_t start = tail();
  const std::size_t end = (start < head_) ? head_ : capacity_;
  return {storage_.get() + start, end - start};
}

void RingBuffer::commit(std::size_t count) {
  assert(count <= capacity_ - size_);
  size_ += count;
}

std::size_t RingBuffer::write(std::span<const char> bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const std::span<char> space = writable();
    if (space.empty()) break;
    const std::size_t chunk = std::min(space.size(), bytes.size() - written);
    std::memcpy(space.data(), bytes.data() + written, chunk);
    commit(chunk);
    written += chunk;
  }
  return written;
}

std::size_t RingBuffer::find(char byte) const {
  if (empty()) return npos;
  const std::size_t first_length = std::min(size_, capacity_ - head_);
  const char* first = storage_.get() + head_;
  if (const void* hit = std::memchr(first, byte, first_length)) {
    return static_cast<std::size_t>(static_cast<const char*>(hit) - first);
  }
  const std::size_t second_length = size_ - first_length;
  if (const void* hit = std::memchr(storage_.get(), byte, second_length)) {
    return first_length + static_cast<std::size_t>(static_cast<const char*>(hit) - storage_.get());
  }
  return npos;
}

std::string_view RingBuffer::peek(std::size_t count, std::string& scratch) const {
  assert(count <= size_);
  if (count == 0) return {};
  const std::size_t first_length = std::min(count, capacity_ - head_);
  if (first_length == count) return {storage_.get() + head_, count};
  scratch.assign(storage_.get() + head_, first_length);
  scratch.append(storage_.get(), count - first_length);
  return scratch;
}

void RingBuffer::consume(std::size_t count) {
  assert(count <= size_);
  size_ -= count;
  // An empty ring starts again at 0, so the next read gets all of it in one
  // contiguous piece.
  head_ = (size_ == 0) ? 0 : (head_ + count) % capacity_;
}

void RingBuffer::clear() {
  head_ = 0;
  size_ = 0;
}

void RingBuffer::release() {
  if (empty() && storage_) StoragePool::give_back(std::move(storage_), capacity_);
}

}  // namespace uvchat::protocol
