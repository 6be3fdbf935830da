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

// The identities are the well-behaved users (soak-u-N), who send DMs and
// read them, and the slow readers (soak-s-N), who only read them. Identity
// numbers run over the users first, then the slow readers.
//
// Who gets a DM and how long it is follow from its key, so that a reader can
// tell a DM meant for someone else, or cut short, from an intact one: about
// a third go to the slow readers (when there are any), and one in ten is
// long (1 to 3.5 KB).
//
// Unlike the offline scenario's Ledger, which can only count answers per
// recipient, the soak knows which DM each answer is about (DmAnswers), so
// the book keeps, for every DM, how it was acknowledged and how often it
// was read, and can name the ones lost.
class DmBook {
 public:
  DmBook(Report& report, std::uint32_t users, std::uint32_t slow_readers);

  std::uint32_t identities() const { return users_ + slow_readers_; }
  std::uint32_t slow_reader_identity(std::uint32_t slot) const { return users_ + slot; }
  std::string identity_name(std::uint32_t identity) const;
  std::optional<std::uint32_t> identity_of(std::string_view name) const;

  // The next DM of user `sender`, recorded as sent; `line` is set to the
  // line that sends it.
  SoakDm write_next(std::uint32_t sender, std::string& line);
  void acknowledge(const SoakDm& dm, Acknowledgement how);
  void refuse() { ++counts_.refused; }
  // A DM that identity `reader` read. DMs from other senders than the users
  // (a vanisher's half line) are only counted.
  void read(std::uint32_t reader, const ChatLine& dm, Reading how);

  struct Counts {
    std::uint64_t sent = 0;
    std::uint64_t acknowledged_queued = 0;
    std::uint64_t acknowledged_live = 0;
    std::uint64_t refused = 0;
    std::uint64_t read_live = 0;
    std::uint64_t read_replayed = 0;
    std::uint64_t stale = 0;
    std::uint64_t foreign = 0;
    std::uint64_t out_of_order = 0;
  };
  const Counts& counts() const { return counts_; }
  Tally tally() const;
  // "soak-u-3 n17 to soak-s-2 (acknowledged live)" for the first `limit`
  // DMs acknowledged and never read.
  std::vector<std::string> describe_lost(std::size_t limit) const;

 private:
  struct Entry {
    std::uint8_t acknowledged = 0;  // 0, or 1 + Acknowledgement
    std::uint8_t reads = 0;         // stops at 255
  };

  Entry* find(MessageKey key);
  std::optional<MessageKey> key_of(std::uint32_t reader, std::uint32_t sender, std::string_view text) const;
  void check_order(std::uint32_t reader, MessageKey key, const ChatLine& dm);
  void record_corrupt(std::uint32_t reader, const ChatLine& dm);
  std::uint32_t recipient_of(MessageKey key) const;

  Report& report_;
  std::uint32_t users_;
  std::uint32_t slow_readers_;
  std::vector<std::vector<Entry>> messages_;  // by sender, then sequence
  // The next sequence number a sender's DMs to a reader may have
  // (reader * users + sender): a user always reads DMs oldest first.
  std::vector<std::uint64_t> order_floor_;
  Counts counts_;
};

}  // namespace uvchat::bench
