// Exactly-once accounting: what was sent, how much of it the server
// acknowledged, and how often each message was delivered.
#pragma once

#include <cstdint>
#include <vector>

#include "message_text.hpp"

namespace uvchat::bench {

struct Tally {
  std::uint64_t sent = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t delivered = 0;                 // distinct messages seen at least once
  std::uint64_t lost = 0;                      // acknowledged, never delivered
  std::uint64_t duplicated = 0;                // delivered more than once
  std::uint64_t unacknowledged_delivered = 0;  // delivered beyond what was acknowledged
};

// A sender's messages are split into streams (offline: one stream per
// recipient). The server answers a stream's messages in order, but a refusal
// needs no disk and may overtake the acknowledgement of an older message, so
// an answer does not say which message it is about. The ledger therefore
// counts acknowledgements per stream, and a stream has lost as many messages
// as it has more acknowledgements than distinct deliveries.
//
// Keys are dense (each sender counts from 0), so messages are kept in a
// vector per sender rather than a hash set: 8 bytes each.
class Ledger {
 public:
  Ledger(std::uint32_t senders, std::uint32_t streams_per_sender);

  // `key.sequence` must be that sender's next number.
  void record_sent(MessageKey key, std::uint32_t stream);
  void record_acknowledged(std::uint32_t sender, std::uint32_t stream);
  // False when the key was never sent: the message is not one of ours.
  bool record_delivered(MessageKey key);

  std::uint64_t acknowledged() const { return acknowledged_; }
  Tally tally() const;

 private:
  struct Entry {
    std::uint32_t stream = 0;
    std::uint32_t deliveries = 0;
  };

  Entry* find(MessageKey key);
  void tally_sender(std::uint32_t sender, Tally& tally) const;

  std::uint32_t streams_per_sender_;
  std::vector<std::vector<Entry>> messages_;      // by sender, then sequence
  std::vector<std::vector<std::uint64_t>> acks_;  // by sender, then stream
  std::uint64_t acknowledged_ = 0;
};

}  // namespace uvchat::bench
