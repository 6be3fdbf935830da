// Live DMs the store worker holds back for a moment before writing them.
//
// A DM to an online user is sent at once and counts as delivered only when
// the recipient's TCP acknowledges it, which the server notices a little
// later (docs/PROTOCOL.md, 4.4). Written at once, such a DM is a row of
// `messages` marked queued, then updated when it is delivered: three index
// entries and an update for every DM. Held until its delivery is known, it
// is written once, delivered, into direct_chunks with the rest of its
// conversation's DMs of that commit (docs/STORAGE.md).
//
// A DM leaves the hold when it is delivered, when it has been held for
// `hold`, when holding it would span more than `max_span` message ids (the
// memory bound), or when a read must see it (the recipient's queue, the
// conversation's history). Only the first way makes it a delivered DM; the
// others hand it back to be written queued, as before.
//
// Pure bookkeeping: no SQLite, no threads, the clock passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uvchat/store/store.hpp"

namespace uvchat::store {

class HeldDirects {
 public:
  using Clock = std::chrono::steady_clock;

  HeldDirects(std::chrono::milliseconds hold, std::size_t max_span) : hold_(hold), max_span_(max_span) {}

  // Holds a DM that is not delivered yet. Ids must increase from call to
  // call; one that does not, or any DM pushed out to stay within max_span,
  // is appended to `to_write`.
  void hold(StoredMessage message, Clock::time_point now, std::vector<StoredMessage>& to_write);
  // If `id` is held: sets its delivered_at, moves it to `delivered`, true.
  bool deliver(std::int64_t id, std::int64_t delivered_at, std::vector<StoredMessage>& delivered);
  // Those held for `hold` or longer, to `to_write`.
  void expire(Clock::time_point now, std::vector<StoredMessage>& to_write);
  // Those to `recipient` (any case), to `to_write`.
  void release_to(std::string_view recipient, std::vector<StoredMessage>& to_write);
  // Those between `a` and `b`, either way, to `to_write`.
  void release_conversation(std::string_view a, std::string_view b, std::vector<StoredMessage>& to_write);
  void release_all(std::vector<StoredMessage>& to_write);

  // When expire() will next have something to do.
  std::optional<Clock::time_point> next_expiry() const;
  std::size_t size() const { return held_; }

 private:
  struct Slot {
    std::optional<StoredMessage> message;
    Clock::time_point since;
    std::uint64_t recipient;  // name_hash of message->target, kept to spare a second hashing
  };

  template <typename Predicate>
  void release_if(Predicate matches, std::vector<StoredMessage>& to_write);
  void take(Slot& slot, std::vector<StoredMessage>& out);
  void drop_empty_front();
  bool holds_any_to(std::string_view recipient) const;

  std::chrono::milliseconds hold_;
  std::size_t max_span_;
  // slots_[i] is message id first_id_ + i; ids of messages not held (rooms,
  // queued DMs, those already delivered) are empty slots.
  std::deque<Slot> slots_;
  std::int64_t first_id_ = 0;
  std::size_t held_ = 0;
  // How many held DMs go to each recipient, by a hash of its key: most reads
  // concern nobody held, and are answered without a scan.
  std::unordered_map<std::uint64_t, std::size_t> per_recipient_;
};

}  // namespace uvchat::store
