// Strings kept with their capacity, per thread, for the next line to be
// formatted on that thread.
//
// Every chat line the server sends is a string of about a hundred bytes,
// made on the loop thread and freed there once written. Taking its buffer
// from here and giving it back costs a few instructions, where malloc and
// free cost hundreds (callgrind, dm run).
// Enough are kept for every line a busy loop has in flight at once (50
// pairs with 32 DMs each in flight, and the store's batch, which holds its
// lines until it is done: see StoreWorker). At most kKeep strings are kept,
// none with more than kMaxCapacity bytes, so a burst of long lines is not
// hoarded: at most 1 MiB a thread, after a burst that used that much.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace uvchat {

class StringPool {
 public:
  static constexpr std::size_t kKeep = 4096;
  static constexpr std::size_t kMaxCapacity = 256;

  // An empty string, with room from an earlier one when there is one.
  static std::string take() {
    std::vector<std::string>& spare = strings();
    if (spare.empty()) return {};
    std::string text = std::move(spare.back());
    spare.pop_back();
    return text;
  }

  static void give_back(std::string&& text) {
    std::vector<std::string>& spare = strings();
    if (spare.size() >= kKeep || text.capacity() > kMaxCapacity) return;
    text.clear();
    spare.push_back(std::move(text));  // capacity reserved: does not allocate
  }

  static std::size_t kept() { return strings().size(); }

 private:
  static std::vector<std::string>& strings() {
    thread_local std::vector<std::string> spare = [] {
      std::vector<std::string> reserved;
      reserved.reserve(kKeep);
      return reserved;
    }();
    return spare;
  }
};

}  // namespace uvchat
