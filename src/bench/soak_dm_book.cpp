#include "soak_dm_book.hpp"

#include <algorithm>

#include "report.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kSlowReaderShare = 33;  // percent of DMs
constexpr std::size_t kShortText = 32;
constexpr std::size_t kShortSpread = 200;
constexpr std::size_t kLongText = 1000;
constexpr std::size_t kLongSpread = 2500;
// A bulk sender's DMs to the large-queue users: 1 to 4 KB (within the server's
// default --max-line of 4096 with the name in front).
constexpr std::size_t kLargeQueueText = 1000;
constexpr std::size_t kLargeQueueSpread = 3001;

// splitmix64: a key's fixed, well-spread fingerprint.
std::uint64_t mix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9;
  value = (value ^ (value >> 27)) * 0x94d049bb133111eb;
  return value ^ (value >> 31);
}

std::uint64_t fingerprint(MessageKey key) { return mix((std::uint64_t{key.sender} << 40) ^ key.sequence); }

}  // namespace

DmBook::DmBook(Report& report, std::uint32_t users, std::uint32_t slow_readers,
               std::uint32_t large_queue_users, std::uint32_t bulk_senders)
    : report_(report),
      users_(users),
      slow_readers_(slow_readers),
      large_queue_users_(large_queue_users),
      bulk_senders_(bulk_senders),
      messages_(users + bulk_senders),
      order_floor_(std::size_t{users + bulk_senders} * (users + slow_readers + large_queue_users), 0),
      unread_(users + slow_readers + large_queue_users, 0) {}

std::string DmBook::identity_name(std::uint32_t identity) const {
  if (identity < users_) return indexed_name(role_prefix(Role::kUser), identity);
  if (identity < users_ + slow_readers_) {
    return indexed_name(role_prefix(Role::kSlowReader), identity - users_);
  }
  return indexed_name(role_prefix(Role::kLargeQueue), identity - users_ - slow_readers_);
}

std::optional<std::uint32_t> DmBook::identity_of(std::string_view name) const {
  if (const auto user = name_index(role_prefix(Role::kUser), name); user && *user < users_) return *user;
  const auto slow = name_index(role_prefix(Role::kSlowReader), name);
  if (slow && *slow < slow_readers_) return slow_reader_identity(*slow);
  const auto large = name_index(role_prefix(Role::kLargeQueue), name);
  if (large && *large < large_queue_users_) return large_queue_identity(*large);
  return std::nullopt;
}

std::string DmBook::sender_name(std::uint32_t sender) const {
  if (sender < users_) return identity_name(sender);
  return indexed_name(role_prefix(Role::kBulkSender), sender - users_);
}

std::optional<std::uint32_t> DmBook::sender_of(std::string_view name) const {
  if (const auto user = name_index(role_prefix(Role::kUser), name); user && *user < users_) return *user;
  const auto bulk = name_index(role_prefix(Role::kBulkSender), name);
  if (bulk && *bulk < bulk_senders_) return bulk_sender(*bulk);
  return std::nullopt;
}

// A user's DMs: a third to the slow readers, the rest to anyone who reads
// them all.
std::uint32_t DmBook::recipient_of(MessageKey key) const {
  const std::uint64_t print = fingerprint(key);
  if (slow_readers_ > 0 && print % 100 < kSlowReaderShare) {
    return slow_reader_identity(static_cast<std::uint32_t>((print >> 8) % slow_readers_));
  }
  const auto other = static_cast<std::uint32_t>((print >> 16) % (users_ + large_queue_users_));
  return other < users_ ? other : large_queue_identity(other - users_);
}

std::size_t DmBook::text_size_of(MessageKey key) const {
  const std::uint64_t print = mix(fingerprint(key));
  if (key.sender >= users_) return kLargeQueueText + (print >> 8) % kLargeQueueSpread;
  if (print % 10 == 0) return kLongText + (print >> 8) % kLongSpread;
  return kShortText + (print >> 8) % kShortSpread;
}

SoakDm DmBook::write_next(std::uint32_t sender, std::string& line) {
  const MessageKey key{sender, messages_.at(sender).size()};
  return record(key, recipient_of(key), line);
}

SoakDm DmBook::write_to(std::uint32_t sender, std::uint32_t recipient, std::string& line) {
  return record(MessageKey{sender, messages_.at(sender).size()}, recipient, line);
}

SoakDm DmBook::record(MessageKey key, std::uint32_t recipient, std::string& line) {
  line = identity_name(recipient);
  line.push_back(':');
  append_message_text(line, key, text_size_of(key));
  messages_[key.sender].push_back(Entry{.recipient = recipient});
  ++unread_.at(recipient);
  ++counts_.sent;
  if (is_large_queue(recipient)) ++counts_.large_sent;
  return SoakDm{key, recipient};
}

void DmBook::acknowledge(const SoakDm& dm, Acknowledgement how) {
  Entry& entry = *find(dm.key);
  if (entry.acknowledged != 0) {
    report_.add_error(sender_name(dm.key.sender) + ": n" + std::to_string(dm.key.sequence) +
                      " acknowledged twice");
  }
  entry.acknowledged = static_cast<std::uint8_t>(1 + static_cast<int>(how));
  ++(how == Acknowledgement::kQueued ? counts_.acknowledged_queued : counts_.acknowledged_live);
  if (is_large_queue(dm.recipient)) ++counts_.large_acknowledged;
}

void DmBook::refuse(const SoakDm& dm) {
  ++counts_.refused;
  settle_unread(*find(dm.key));
}

void DmBook::forget(const SoakDm& dm) {
  ++counts_.forgotten;
  settle_unread(*find(dm.key));
}

void DmBook::settle_unread(Entry& entry) {
  if (!entry.unread) return;
  entry.unread = false;
  --unread_[entry.recipient];
}

void DmBook::read(std::uint32_t reader, const ChatLine& dm, Reading how) {
  if (how == Reading::kStale) {
    ++counts_.stale;
    return;
  }
  const auto sender = sender_of(dm.sender);
  if (!sender) {
    ++counts_.foreign;
    return;
  }
  const std::optional<MessageKey> key = key_of(reader, *sender, dm.text);
  Entry* entry = key ? find(*key) : nullptr;
  if (entry == nullptr) {
    record_corrupt(reader, dm);
    return;
  }
  if (entry->reads < UINT8_MAX) ++entry->reads;
  if (entry->reads == 1 && is_large_queue(reader)) ++counts_.large_read;
  settle_unread(*entry);
  ++(how == Reading::kLive ? counts_.read_live : counts_.read_replayed);
  check_order(reader, *key, dm);
}

DmBook::Entry* DmBook::find(MessageKey key) {
  if (key.sender >= messages_.size() || key.sequence >= messages_[key.sender].size()) return nullptr;
  return &messages_[key.sender][key.sequence];
}

Tally DmBook::tally() const {
  Tally tally;
  for (const std::vector<Entry>& sent : messages_) {
    for (const Entry& entry : sent) {
      ++tally.sent;
      if (entry.acknowledged != 0) ++tally.acknowledged;
      if (entry.reads > 0) ++tally.delivered;
      if (entry.reads > 1) ++tally.duplicated;
      if (entry.acknowledged != 0 && entry.reads == 0) ++tally.lost;
      if (entry.acknowledged == 0 && entry.reads > 0) ++tally.unacknowledged_delivered;
    }
  }
  return tally;
}

std::vector<std::string> DmBook::describe_lost(std::size_t limit) const {
  std::vector<std::string> lost;
  for (std::uint32_t sender = 0; sender < messages_.size(); ++sender) {
    for (std::uint64_t sequence = 0; sequence < messages_[sender].size() && lost.size() < limit; ++sequence) {
      const Entry& entry = messages_[sender][sequence];
      if (entry.acknowledged == 0 || entry.reads > 0) continue;
      const bool queued = entry.acknowledged == 1 + static_cast<int>(Acknowledgement::kQueued);
      lost.push_back(sender_name(sender) + " n" + std::to_string(sequence) + " to " +
                     identity_name(entry.recipient) +
                     (queued ? " (acknowledged queued)" : " (acknowledged live)"));
    }
  }
  return lost;
}

// The key of an intact DM from `sender` to `reader`; null for anything else.
std::optional<MessageKey> DmBook::key_of(std::uint32_t reader, std::uint32_t sender, std::string_view text) {
  const std::optional<MessageKey> key = parse_message_text(text, text.size());
  if (!key || key->sender != sender || text.size() != text_size_of(*key)) return std::nullopt;
  const Entry* entry = find(*key);
  if (entry == nullptr || entry->recipient != reader) return std::nullopt;
  return key;
}

// A repeat of the newest is a duplicate, counted as such.
void DmBook::check_order(std::uint32_t reader, MessageKey key, const ChatLine& dm) {
  std::uint64_t& floor = order_floor_[std::size_t{reader} * messages_.size() + key.sender];
  if (key.sequence + 1 < floor) {
    ++counts_.out_of_order;
    report_.add_error(identity_name(reader) + " read an older DM after a newer one from " +
                      std::string(dm.sender) + ": n" + std::to_string(key.sequence));
  }
  floor = std::max(floor, key.sequence + 1);
}

void DmBook::record_corrupt(std::uint32_t reader, const ChatLine& dm) {
  std::string text(dm.text.substr(0, 80));
  if (dm.text.size() > text.size()) text += "...";
  report_.add_corrupt(identity_name(reader) + " read from " + std::string(dm.sender) + ": '" + text + "'");
}

}  // namespace uvchat::bench
