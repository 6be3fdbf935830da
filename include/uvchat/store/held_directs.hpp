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
// `hold`, when holding it would span more than `max_span` message ids or
// `max_bytes` of names and text (the memory bound), or when a read must
// see it (the recipient's queue, the conversation's history). Only the
// first way makes it a delivered DM; the others hand it back to be written
// queued, as before.
//
// Every DM of a busy server passes through here, so it costs no allocation
// once warm: a held DM is a 32-byte slot in a queue indexed by id, and its
// names and text are copied into blocks of bytes that are given back oldest
// first. What leaves the hold is handed out as a MessageRef into those
// blocks, valid until the next reclaim(): the caller writes it, then
// reclaims.
//
// Pure bookkeeping: no SQLite, no threads, the clock passed in.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "uvchat/fifo.hpp"
#include "uvchat/store/byte_blocks.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::store {

class HeldDirects {
 public:
  using Clock = std::chrono::steady_clock;

  HeldDirects(std::chrono::milliseconds hold, std::size_t max_span, std::size_t max_bytes);

  // Holds a copy of a DM that is not delivered yet. Ids must increase from
  // call to call; a DM that does not, or whose names or text are too long
  // to hold, is appended to `to_write` as it was given. Any DM pushed out
  // to stay within max_span and max_bytes is appended too.
  void hold(const MessageRef& dm, Clock::time_point now, std::vector<MessageRef>& to_write);
  // If `id` is held: appends it to `delivered` with delivered_at set, true.
  bool deliver(std::int64_t id, std::int64_t delivered_at, std::vector<MessageRef>& delivered);
  // Those held for `hold` or longer, to `to_write`.
  void expire(Clock::time_point now, std::vector<MessageRef>& to_write);
  // Those to `recipient` (any case), to `to_write`.
  void release_to(std::string_view recipient, std::vector<MessageRef>& to_write);
  // Those between `a` and `b`, either way, to `to_write`.
  void release_conversation(std::string_view a, std::string_view b, std::vector<MessageRef>& to_write);
  void release_all(std::vector<MessageRef>& to_write);
  // Ends the life of every MessageRef handed out so far: call once they
  // are written (or dropped).
  void reclaim();

  // When expire() will next have something to do.
  std::optional<Clock::time_point> next_expiry() const;
  std::size_t size() const { return held_; }
  std::size_t byte_blocks() const { return bytes_.blocks(); }

 private:
  struct Slot {
    const char* bytes = nullptr;  // sender, target, text, back to back; none: not held (any more)
    std::int64_t received_at = 0;
    Clock::time_point since{};
    std::uint32_t text_size = 0;
    std::uint16_t bucket = 0;  // of the recipient, in held_to_
    std::uint8_t sender_size = 0;
    std::uint8_t target_size = 0;
  };

  static bool fits_in_slot(const MessageRef& dm);
  static std::size_t size_of(const Slot& slot);
  MessageRef message_in(const Slot& slot, std::int64_t id) const;
  void make_room_for(std::int64_t id, std::size_t size, std::vector<MessageRef>& to_write);
  template <typename Predicate>
  void release_if(Predicate matches, std::vector<MessageRef>& to_write);
  void take(Slot& slot, std::int64_t id, std::vector<MessageRef>& out);
  void pop_front(std::vector<MessageRef>& to_write);
  void drop_empty_front();
  bool holds_any_to(std::string_view recipient) const;

  std::chrono::milliseconds hold_;
  std::size_t max_span_;
  std::size_t max_bytes_;
  // slots_[i] is message id first_id_ + i; ids of messages not held (rooms,
  // queued DMs, those already delivered) are empty slots. The front slot is
  // always a held DM, so it is the next to expire.
  Fifo<Slot> slots_;
  std::int64_t first_id_ = 0;
  std::size_t held_ = 0;
  // The names and text of every slot from the front on, held or not: what
  // the byte blocks cannot give back yet.
  std::size_t span_bytes_ = 0;
  ByteBlocks bytes_;
  // How many held DMs go to recipients whose name falls in each bucket (a
  // case-insensitive hash): a read that concerns nobody held, nearly every
  // one, is answered without a scan; a shared bucket only costs one.
  static constexpr std::size_t kBuckets = 1024;
  std::array<std::uint32_t, kBuckets> held_to_{};
};

}  // namespace uvchat::store
