#include "uvchat/store/held_directs.hpp"

#include <utility>

#include "uvchat/chat/name_map.hpp"

namespace uvchat::store {
namespace {

// The hub's name map's own: two names with one hash only cost a scan.
std::uint64_t name_hash(std::string_view name) { return chat::CaseInsensitiveHash{}(name); }
bool same_name(std::string_view a, std::string_view b) { return chat::CaseInsensitiveEqual{}(a, b); }

}  // namespace

void HeldDirects::hold(StoredMessage message, Clock::time_point now, std::vector<StoredMessage>& to_write) {
  if (slots_.empty()) first_id_ = message.id;
  const auto end_id = first_id_ + static_cast<std::int64_t>(slots_.size());
  if (message.id < end_id) {  // out of order: not worth holding
    to_write.push_back(std::move(message));
    return;
  }
  // Make room: the oldest go out first, written queued.
  while (!slots_.empty() && static_cast<std::size_t>(message.id - first_id_) >= max_span_) {
    if (slots_.front().message) take(slots_.front(), to_write);
    slots_.pop_front();
    ++first_id_;
    drop_empty_front();
  }
  if (slots_.empty()) first_id_ = message.id;
  slots_.resize(static_cast<std::size_t>(message.id - first_id_), Slot{std::nullopt, now, 0});
  const std::uint64_t recipient = name_hash(message.target);
  ++per_recipient_[recipient];
  ++held_;
  slots_.push_back(Slot{std::move(message), now, recipient});
}

bool HeldDirects::deliver(std::int64_t id, std::int64_t delivered_at, std::vector<StoredMessage>& delivered) {
  if (id < first_id_ || id - first_id_ >= static_cast<std::int64_t>(slots_.size())) return false;
  Slot& slot = slots_[static_cast<std::size_t>(id - first_id_)];
  if (!slot.message) return false;
  slot.message->delivered_at = delivered_at;
  take(slot, delivered);
  drop_empty_front();
  return true;
}

// Held DMs are in id order, which is the order they came in: the oldest
// is always at the front.
void HeldDirects::expire(Clock::time_point now, std::vector<StoredMessage>& to_write) {
  while (!slots_.empty() && now - slots_.front().since >= hold_) {
    if (slots_.front().message) take(slots_.front(), to_write);
    slots_.pop_front();
    ++first_id_;
    drop_empty_front();
  }
}

void HeldDirects::release_to(std::string_view recipient, std::vector<StoredMessage>& to_write) {
  if (!holds_any_to(recipient)) return;
  release_if([recipient](const StoredMessage& dm) { return same_name(dm.target, recipient); }, to_write);
}

void HeldDirects::release_conversation(std::string_view a, std::string_view b,
                                       std::vector<StoredMessage>& to_write) {
  if (!holds_any_to(a) && !holds_any_to(b)) return;
  release_if(
      [a, b](const StoredMessage& dm) {
        return (same_name(dm.sender, a) && same_name(dm.target, b)) ||
               (same_name(dm.sender, b) && same_name(dm.target, a));
      },
      to_write);
}

void HeldDirects::release_all(std::vector<StoredMessage>& to_write) {
  release_if([](const StoredMessage&) { return true; }, to_write);
}

std::optional<HeldDirects::Clock::time_point> HeldDirects::next_expiry() const {
  if (slots_.empty()) return std::nullopt;
  return slots_.front().since + hold_;
}

template <typename Predicate>
void HeldDirects::release_if(Predicate matches, std::vector<StoredMessage>& to_write) {
  for (Slot& slot : slots_) {
    if (slot.message && matches(*slot.message)) take(slot, to_write);
  }
  drop_empty_front();
}

void HeldDirects::take(Slot& slot, std::vector<StoredMessage>& out) {
  const auto count = per_recipient_.find(slot.recipient);
  if (--count->second == 0) per_recipient_.erase(count);
  --held_;
  out.push_back(std::move(*slot.message));
  slot.message.reset();
}

// Keeps the front slot a held DM (or none), so that next_expiry is the front's.
void HeldDirects::drop_empty_front() {
  while (!slots_.empty() && !slots_.front().message) {
    slots_.pop_front();
    ++first_id_;
  }
}

bool HeldDirects::holds_any_to(std::string_view recipient) const {
  return per_recipient_.contains(name_hash(recipient));
}

}  // namespace uvchat::store
