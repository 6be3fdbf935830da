#include "ledger.hpp"

#include <cassert>

namespace uvchat::bench {

Ledger::Ledger(std::uint32_t senders, std::uint32_t streams_per_sender)
    : streams_per_sender_(streams_per_sender),
      messages_(senders),
      acks_(senders, std::vector<std::uint64_t>(streams_per_sender, 0)) {}

void Ledger::record_sent(MessageKey key, std::uint32_t stream) {
  assert(key.sender < messages_.size() && key.sequence == messages_[key.sender].size());
  assert(stream < streams_per_sender_);
  messages_[key.sender].push_back(Entry{stream, 0});
}

void Ledger::record_acknowledged(std::uint32_t sender, std::uint32_t stream) {
  ++acks_.at(sender).at(stream);
  ++acknowledged_;
}

bool Ledger::record_delivered(MessageKey key) {
  Entry* entry = find(key);
  if (entry == nullptr) return false;
  ++entry->deliveries;
  return true;
}

Tally Ledger::tally() const {
  Tally tally;
  for (std::uint32_t sender = 0; sender < messages_.size(); ++sender) tally_sender(sender, tally);
  return tally;
}

void Ledger::tally_sender(std::uint32_t sender, Tally& tally) const {
  std::vector<std::uint64_t> delivered(streams_per_sender_, 0);
  for (const Entry& entry : messages_[sender]) {
    ++tally.sent;
    if (entry.deliveries > 0) ++delivered[entry.stream];
    if (entry.deliveries > 1) ++tally.duplicated;
  }
  for (std::uint32_t stream = 0; stream < streams_per_sender_; ++stream) {
    const std::uint64_t acknowledged = acks_[sender][stream];
    tally.acknowledged += acknowledged;
    tally.delivered += delivered[stream];
    if (acknowledged > delivered[stream]) tally.lost += acknowledged - delivered[stream];
    if (delivered[stream] > acknowledged) tally.unacknowledged_delivered += delivered[stream] - acknowledged;
  }
}

Ledger::Entry* Ledger::find(MessageKey key) {
  if (key.sender >= messages_.size() || key.sequence >= messages_[key.sender].size()) return nullptr;
  return &messages_[key.sender][key.sequence];
}

}  // namespace uvchat::bench
