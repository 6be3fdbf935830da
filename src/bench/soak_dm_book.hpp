// The soak's ledger of DMs between its identities.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger.hpp"  // Tally
#include "message_text.hpp"
#include "soak_context.hpp"
#include "wire.hpp"

namespace uvchat::bench {

struct Report;

// One DM of the soak: who sent it and which it is (the key), and to whom.
struct SoakDm {
  MessageKey key;
  std::uint32_t recipient = 0;  // an identity
};

enum class Reading {
  kLive,      // pushed to the recipient while online
  kReplayed,  // from its offline queue, at registration
  kStale,     // a queue left by an earlier run: not this run's
};

enum class Acknowledgement {
  kQueued,  // `server:queued NAME`: on disk for an offline recipient
  kLive,    // no answer before the next pong: handed to an online recipient
};

// The identities are the ones that read DMs: the well-behaved users
// (soak-u-N), the slow readers (soak-s-N) and the large-queue users
// (soak-q-N), numbered in that order. The senders are the users, whose
// sender number is their identity, and the bulk senders (soak-b-N),
// numbered after the users.
//
// Who gets a user's DM and how long it is follow from its key: about a
// third go to the slow readers (when there are any), the rest to any user or
// large-queue user, and one in ten is long (1 to 3.5 KB). A bulk sender's DMs
// go to the large-queue users QueueFeed names, and are 1 to 4 KB. The book
// keeps each DM's recipient, so that a reader can tell a DM meant for
// someone else, or cut short, from an intact one.
//
// Unlike the offline scenario's Ledger, which can only count answers per
// recipient, the soak knows which DM each answer is about (DmAnswers), so
// the book keeps, for every DM, how it was acknowledged and how often it
// was read, and can name the ones lost.
class DmBook {
 public:
  DmBook(Report& report, std::uint32_t users, std::uint32_t slow_readers, std::uint32_t large_queue_users,
         std::uint32_t bulk_senders);

  std::uint32_t identities() const { return users_ + slow_readers_ + large_queue_users_; }
  std::uint32_t slow_reader_identity(std::uint32_t slot) const { return users_ + slot; }
  std::uint32_t large_queue_identity(std::uint32_t slot) const { return users_ + slow_readers_ + slot; }
  std::uint32_t bulk_sender(std::uint32_t slot) const { return users_ + slot; }
  std::string identity_name(std::uint32_t identity) const;
  std::optional<std::uint32_t> identity_of(std::string_view name) const;
  std::string sender_name(std::uint32_t sender) const;

  // The next DM of user `sender`, recorded as sent; `line` is set to the
  // line that sends it.
  SoakDm write_next(std::uint32_t sender, std::string& line);
  // The next DM of `sender` (a bulk sender) to identity `recipient`, recorded as
  // sent; `line` is set to the line that sends it.
  SoakDm write_to(std::uint32_t sender, std::uint32_t recipient, std::string& line);
  void acknowledge(const SoakDm& dm, Acknowledgement how);
  void refuse(const SoakDm& dm);
  // The sender will never learn what became of `dm` (it reset its
  // connection): the server may have stored it or not. Read or not, it is
  // neither lost nor an error.
  void forget(const SoakDm& dm);
  // A DM that identity `reader` read. DMs from other senders than the users
  // and bulk senders (a vanisher's half line) are only counted.
  void read(std::uint32_t reader, const ChatLine& dm, Reading how);

  // DMs to `identity` that may still be queued for it: sent, and neither
  // refused, forgotten nor read. An upper bound on its offline queue.
  std::uint64_t unread(std::uint32_t identity) const { return unread_.at(identity); }

  struct Counts {
    std::uint64_t sent = 0;
    std::uint64_t acknowledged_queued = 0;
    std::uint64_t acknowledged_live = 0;
    std::uint64_t refused = 0;
    std::uint64_t forgotten = 0;
    std::uint64_t read_live = 0;
    std::uint64_t read_replayed = 0;
    std::uint64_t stale = 0;
    std::uint64_t foreign = 0;
    std::uint64_t out_of_order = 0;
    // Of the above, DMs to the large-queue users.
    std::uint64_t large_sent = 0;
    std::uint64_t large_acknowledged = 0;
    std::uint64_t large_read = 0;
  };
  const Counts& counts() const { return counts_; }
  Tally tally() const;
  // "soak-u-3 n17 to soak-s-2 (acknowledged live)" for the first `limit`
  // DMs acknowledged and never read.
  std::vector<std::string> describe_lost(std::size_t limit) const;

 private:
  struct Entry {
    std::uint32_t recipient = 0;
    std::uint8_t acknowledged = 0;  // 0, or 1 + Acknowledgement
    std::uint8_t reads = 0;         // stops at 255
    bool unread = true;             // counted in unread_
  };

  Entry* find(MessageKey key);
  std::optional<std::uint32_t> sender_of(std::string_view name) const;
  std::optional<MessageKey> key_of(std::uint32_t reader, std::uint32_t sender, std::string_view text);
  std::size_t text_size_of(MessageKey key) const;
  SoakDm record(MessageKey key, std::uint32_t recipient, std::string& line);
  void settle_unread(Entry& entry);
  bool is_large_queue(std::uint32_t identity) const { return identity >= users_ + slow_readers_; }
  void check_order(std::uint32_t reader, MessageKey key, const ChatLine& dm);
  void record_corrupt(std::uint32_t reader, const ChatLine& dm);
  std::uint32_t recipient_of(MessageKey key) const;

  Report& report_;
  std::uint32_t users_;
  std::uint32_t slow_readers_;
  std::uint32_t large_queue_users_;
  std::uint32_t bulk_senders_;
  std::vector<std::vector<Entry>> messages_;  // by sender, then sequence
  // The next sequence number a sender's DMs to a reader may have
  // (reader * senders + sender): a reader always reads a sender's DMs
  // oldest first.
  std::vector<std::uint64_t> order_floor_;
  std::vector<std::uint64_t> unread_;  // by identity
  Counts counts_;
};

}  // namespace uvchat::bench
