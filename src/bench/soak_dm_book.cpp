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

// splitmix64: a key's fixed, well-spread fingerprint.
std::uint64_t mix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9;
  value = (value ^ (value >> 27)) * 0x94d049bb133111eb;
  return value ^ (value >> 31);
}

std::uint64_t fingerprint(MessageKey key) { return mix((std::uint64_t{key.sender} << 40) ^ key.sequence); }

std::size_t text_size_of(MessageKey key) {
  const std::uint64_t print = mix(fingerprint(key));
  if (print % 10 == 0) return kLongText + (print >> 8) % kLongSpread;
  return kShortText + (print >> 8) % kShortSpread;
}

}  // namespace

DmBook::DmBook(Report& report, std::uint32_t users, std::uint32_t slow_readers)
    : report_(report),
      users_(users),
      slow_readers_(slow_readers),
      messages_(users),
      order_floor_(std::size_t{users} * (users + slow_readers), 0) {}

std::string DmBook::identity_name(std::uint32_t identity) const {
  if (identity < users_) return indexed_name(role_prefix(Role::kUser), identity);
  return indexed_name(role_prefix(Role::kSlowReader), identity - users_);
}

std::optional<std::uint32_t> DmBook::identity_of(std::string_view name) const {
  if (const auto user = name_index(role_prefix(Role::kUser), name); user && *user < users_) return *user;
  const auto slow = name_index(role_prefix(Role::kSlowReader), name);
  if (slow && *slow < slow_readers_) return slow_reader_identity(*slow);
  return std::nullopt;
}

std::uint32_t DmBook::recipient_of(MessageKey key) const {
  const std::uint64_t print = fingerprint(key);
  if (slow_readers_ > 0 && print % 100 < kSlowReaderShare) {
    return slow_reader_identity(static_cast<std::uint32_t>((print >> 8) % slow_readers_));
  }
  return static_cast<std::uint32_t>((print >> 16) % users_);
}

SoakDm DmBook::write_next(std::uint32_t sender, std::string& line) {
  const MessageKey key{sender, messages_.at(sender).size()};
  const SoakDm dm{key, recipient_of(key)};
  line = identity_name(dm.recipient);
  line.push_back(':');
  append_message_text(line, key, text_size_of(key));
  messages_[sender].push_back(Entry{});
  ++counts_.sent;
  return dm;
}

void DmBook::acknowledge(const SoakDm& dm, Acknowledgement how) {
  Entry& entry = *find(dm.key);
  if (entry.acknowledged != 0) {
    report_.add_error(identity_name(dm.key.sender) + ": n" + std::to_string(dm.key.sequence) +
                      " acknowledged twice");
  }
  entry.acknowledged = static_cast<std::uint8_t>(1 + static_cast<int>(how));
  ++(how == Acknowledgement::kQueued ? counts_.acknowledged_queued : counts_.acknowledged_live);
}

void DmBook::read(std::uint32_t reader, const ChatLine& dm, Reading how) {
  if (how == Reading::kStale) {
    ++counts_.stale;
    return;
  }
  const auto sender = name_index(role_prefix(Role::kUser), dm.sender);
  if (!sender || *sender >= users_) {
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
      const MessageKey key{sender, sequence};
      const bool queued = entry.acknowledged == 1 + static_cast<int>(Acknowledgement::kQueued);
      lost.push_back(identity_name(sender) + " n" + std::to_string(sequence) + " to " +
                     identity_name(recipient_of(key)) +
                     (queued ? " (acknowledged queued)" : " (acknowledged live)"));
    }
  }
  return lost;
}

// The key of an intact DM from `sender` to `reader`; null for anything else.
std::optional<MessageKey> DmBook::key_of(std::uint32_t reader, std::uint32_t sender,
                                         std::string_view text) const {
  const std::optional<MessageKey> key = parse_message_text(text, text.size());
  if (!key || key->sender != sender || text.size() != text_size_of(*key)) return std::nullopt;
  if (recipient_of(*key) != reader) return std::nullopt;
  return key;
}

// A repeat of the newest is a duplicate, counted as such.
void DmBook::check_order(std::uint32_t reader, MessageKey key, const ChatLine& dm) {
  std::uint64_t& floor = order_floor_[std::size_t{reader} * users_ + key.sender];
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
