#include "soak_queue_feed.hpp"

#include "soak_dm_book.hpp"

namespace uvchat::bench {

QueueFeed::QueueFeed(const DmBook& book, std::uint32_t large_queue_users)
    : book_(book), wants_(large_queue_users) {}

void QueueFeed::away(std::uint32_t slot, std::uint64_t queue_target) {
  wants_.at(slot) = Wants{State::kAway, queue_target};
}

void QueueFeed::online(std::uint32_t slot) { wants_.at(slot) = Wants{State::kOnline, 0}; }

void QueueFeed::idle(std::uint32_t slot) { wants_.at(slot) = Wants{}; }

bool QueueFeed::queue_ready(std::uint32_t slot) const {
  return wants_.at(slot).state == State::kAway && !hungry(slot);
}

std::uint32_t QueueFeed::identity(std::uint32_t slot) const { return book_.large_queue_identity(slot); }

bool QueueFeed::hungry(std::uint32_t slot) const {
  return book_.unread(identity(slot)) < wants_[slot].queue_target;
}

std::optional<QueueFeed::Choice> QueueFeed::pick(std::uint64_t random) const {
  std::vector<std::uint32_t> away;
  std::vector<std::uint32_t> online;
  for (std::uint32_t slot = 0; slot < wants_.size(); ++slot) {
    if (wants_[slot].state == State::kAway && hungry(slot)) away.push_back(slot);
    if (wants_[slot].state == State::kOnline) online.push_back(slot);
  }
  if (!away.empty()) return Choice{identity(away[random % away.size()]), true};
  if (!online.empty()) return Choice{identity(online[random % online.size()]), false};
  return std::nullopt;
}

}  // namespace uvchat::bench
