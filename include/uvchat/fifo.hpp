// A first-in first-out queue that costs nothing while it is empty.
//
// std::deque would do, but libstdc++'s allocates a map and a 512-byte block
// as soon as it is made, and every connection has queues that are empty
// nearly all the time: with thousands of idle connections that is most of
// the server's memory. This one is a vector read from a moving head; it is
// emptied, and its storage let go, whenever the head catches up, and
// compacted when the head has passed half of it. The storage it lets go
// goes to a per-thread SparePool, and the next Fifo of its type to need
// storage takes it from there: a connection's output queue fills and
// empties every loop turn, and would otherwise allocate every turn.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "uvchat/spare_pool.hpp"

namespace uvchat {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }

  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }
  T& operator[](std::size_t index) { return items_[head_ + index]; }
  const T& operator[](std::size_t index) const { return items_[head_ + index]; }

  auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }

  void push_back(T item) {
    take_storage();
    items_.push_back(std::move(item));
  }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    take_storage();
    return items_.emplace_back(std::forward<Args>(args)...);
  }

  // What the front held is let go at once (it may share a payload).
  void pop_front() {
    items_[head_] = T{};
    ++head_;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), begin());
      head_ = 0;
    }
  }

  void clear() {
    std::vector<T> storage;
    storage.swap(items_);
    Spares::give_back(std::move(storage));
    head_ = 0;
  }

 private:
  // 256 queues of up to 64 items: what a turn of a busy loop empties.
  using Spares = SparePool<std::vector<T>, 256, 64>;

  void take_storage() {
    if (items_.capacity() == 0) items_ = Spares::take();
  }

  static constexpr std::size_t kCompactAfter = 32;

  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace uvchat
