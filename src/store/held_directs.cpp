#include "uvchat/store/held_directs.hpp"

#include <algorithm>
#include <limits>

#include "uvchat/chat/name_map.hpp"

namespace uvchat::store {
namespace {

// The hub's name map's own.
std::uint64_t name_hash(std::string_view name) { return chat::CaseInsensitiveHash{}(name); }
bool same_name(std::string_view a, std::string_view b) { return chat::CaseInsensitiveEqual{}(a, b); }

// About 400 DMs of 64 bytes: a malloc for that many when the spare is taken.
constexpr std::size_t kBlockSize = 32 * 1024;

}  // namespace

HeldDirects::HeldDirects(std::chrono::milliseconds hold, std::size_t max_span, std::size_t max_bytes)
    : hold_(hold), max_span_(max_span), max_bytes_(max_bytes), bytes_(kBlockSize) {}

void HeldDirects::hold(const MessageRef& dm, Clock::time_point now, std::vector<MessageRef>& to_write) {
  if (slots_.empty()) first_id_ = dm.id;
  // Out of order, or too long for a slot: not worth holding.
  if (dm.id < first_id_ + static_cast<std::int64_t>(slots_.size()) || !fits_in_slot(dm)) {
    to_write.push_back(dm);
    return;
  }
  const std::size_t size = dm.sender.size() + dm.target.size() + dm.text.size();
  make_room_for(dm.id, size, to_write);
  while (first_id_ + static_cast<std::int64_t>(slots_.size()) < dm.id) slots_.push_back(Slot{});

  char* const bytes = bytes_.allocate(size);
  char* out = std::copy(dm.sender.begin(), dm.sender.end(), bytes);
  out = std::copy(dm.target.begin(), dm.target.end(), out);
  std::copy(dm.text.begin(), dm.text.end(), out);
  const auto bucket = static_cast<std::uint16_t>(name_hash(dm.target) % kBuckets);
  ++held_to_[bucket];
  ++held_;
  span_bytes_ += size;
  slots_.push_back(Slot{bytes, dm.received_at, now, static_cast<std::uint32_t>(dm.text.size()), bucket,
                        static_cast<std::uint8_t>(dm.sender.size()),
                        static_cast<std::uint8_t>(dm.target.size())});
}

bool HeldDirects::fits_in_slot(const MessageRef& dm) {
  constexpr std::size_t kMostName = std::numeric_limits<std::uint8_t>::max();
  return dm.sender.size() <= kMostName && dm.target.size() <= kMostName &&
         dm.text.size() <= std::numeric_limits<std::uint32_t>::max();
}

// The oldest go out first, written queued, until `id` is within max_span
// and `size` more bytes within max_bytes.
void HeldDirects::make_room_for(std::int64_t id, std::size_t size, std::vector<MessageRef>& to_write) {
  while (!slots_.empty() &&
         (static_cast<std::size_t>(id - first_id_) >= max_span_ || span_bytes_ + size > max_bytes_)) {
    pop_front(to_write);
  }
  if (slots_.empty()) first_id_ = id;
}

std::size_t HeldDirects::size_of(const Slot& slot) {
  return std::size_t{slot.sender_size} + slot.target_size + slot.text_size;
}

bool HeldDirects::deliver(std::int64_t id, std::int64_t delivered_at, std::vector<MessageRef>& delivered) {
  if (id < first_id_ || id - first_id_ >= static_cast<std::int64_t>(slots_.size())) return false;
  Slot& slot = slots_[static_cast<std::size_t>(id - first_id_)];
  if (slot.bytes == nullptr) return false;
  take(slot, id, delivered);
  delivered.back().delivered_at = delivered_at;
  drop_empty_front();
  return true;
}

// Held DMs are in id order, which is the order they came in: the oldest
// is always at the front.
void HeldDirects::expire(Clock::time_point now, std::vector<MessageRef>& to_write) {
  while (!slots_.empty() && now - slots_.front().since >= hold_) pop_front(to_write);
}

void HeldDirects::release_to(std::string_view recipient, std::vector<MessageRef>& to_write) {
  if (!holds_any_to(recipient)) return;
  release_if([recipient](const MessageRef& dm) { return same_name(dm.target, recipient); }, to_write);
}

void HeldDirects::release_conversation(std::string_view a, std::string_view b,
                                       std::vector<MessageRef>& to_write) {
  if (!holds_any_to(a) && !holds_any_to(b)) return;
  release_if(
      [a, b](const MessageRef& dm) {
        return (same_name(dm.sender, a) && same_name(dm.target, b)) ||
               (same_name(dm.sender, b) && same_name(dm.target, a));
      },
      to_write);
}

void HeldDirects::release_all(std::vector<MessageRef>& to_write) {
  release_if([](const MessageRef&) { return true; }, to_write);
}

void HeldDirects::reclaim() { bytes_.release_before(slots_.empty() ? nullptr : slots_.front().bytes); }

std::optional<HeldDirects::Clock::time_point> HeldDirects::next_expiry() const {
  if (slots_.empty()) return std::nullopt;
  return slots_.front().since + hold_;
}

MessageRef HeldDirects::message_in(const Slot& slot, std::int64_t id) const {
  const std::string_view sender(slot.bytes, slot.sender_size);
  const std::string_view target(slot.bytes + slot.sender_size, slot.target_size);
  const std::string_view text(slot.bytes + slot.sender_size + slot.target_size, slot.text_size);
  return MessageRef{id, slot.received_at, sender, MessageKind::kDirect, target, text, std::nullopt};
}

template <typename Predicate>
void HeldDirects::release_if(Predicate matches, std::vector<MessageRef>& to_write) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    const auto id = first_id_ + static_cast<std::int64_t>(i);
    if (slot.bytes != nullptr && matches(message_in(slot, id))) take(slot, id, to_write);
  }
  drop_empty_front();
}

// The slot is emptied; its bytes stay until reclaim(), and count against
// max_bytes until the slot leaves the front.
void HeldDirects::take(Slot& slot, std::int64_t id, std::vector<MessageRef>& out) {
  out.push_back(message_in(slot, id));
  --held_to_[slot.bucket];
  --held_;
  slot.bytes = nullptr;
}

void HeldDirects::pop_front(std::vector<MessageRef>& to_write) {
  if (slots_.front().bytes != nullptr) take(slots_.front(), first_id_, to_write);
  drop_empty_front();
}

void HeldDirects::drop_empty_front() {
  while (!slots_.empty() && slots_.front().bytes == nullptr) {
    span_bytes_ -= size_of(slots_.front());
    slots_.pop_front();
    ++first_id_;
  }
}

bool HeldDirects::holds_any_to(std::string_view recipient) const {
  return held_to_[name_hash(recipient) % kBuckets] != 0;
}

}  // namespace uvchat::store
