#include "fake_store.hpp"

#include <utility>
#include <variant>

#include "check.hpp"

namespace uvchat::fuzz {
namespace {

bool same_name(std::string_view a, std::string_view b) { return chat::CaseInsensitiveEqual{}(a, b); }

bool is_direct_to(const FakeStore::Message& message, std::string_view name) {
  return message.record.kind == chat::MessageKind::kDirect && same_name(message.record.target, name);
}

}  // namespace

std::optional<chat::StoreResult> FakeStore::execute(const chat::StoreRequest& request) {
  if (disk_full_) return failed(request);
  return std::visit([this](const auto& typed) { return run(typed); }, request);
}

const FakeStore::Message* FakeStore::find(chat::MessageId id) const {
  const auto found = messages_.find(id);
  return found == messages_.end() ? nullptr : &found->second;
}

// As StoreWorker's mark_failed: no ack, and nothing read.
std::optional<chat::StoreResult> FakeStore::failed(const chat::StoreRequest& request) const {
  if (const auto* insert = std::get_if<chat::InsertMessage>(&request); insert && insert->ticket != 0) {
    return chat::StoreAck{insert->ticket, false};
  }
  if (const auto* password = std::get_if<chat::SetPasswordHash>(&request); password && password->ticket != 0) {
    return chat::StoreAck{password->ticket, false};
  }
  if (const auto* queued = std::get_if<chat::FetchQueued>(&request)) {
    return chat::QueuedFetched{*queued, false, {}};
  }
  if (const auto* history = std::get_if<chat::FetchHistory>(&request)) {
    return chat::HistoryFetched{*history, false, {}};
  }
  return std::nullopt;
}

std::optional<chat::StoreResult> FakeStore::run(const chat::InsertMessage& insert) {
  // The messages table's primary key: an id given twice fails the insert.
  if (insert.message.id <= last_id_) fail("the hub reused message id " + std::to_string(insert.message.id));
  last_id_ = insert.message.id;
  messages_[insert.message.id] = Message{insert.record(), false};
  if (insert.ticket == 0) return std::nullopt;
  return chat::StoreAck{insert.ticket, true};
}

std::optional<chat::StoreResult> FakeStore::run(const chat::MarkDelivered& delivered) {
  ++marks_;
  for (const chat::MessageId id : delivered.ids) {
    const auto found = messages_.find(id);
    if (found != messages_.end() && found->second.record.kind == chat::MessageKind::kDirect &&
        !found->second.delivered) {
      found->second.delivered = true;
      found->second.delivered_in = marks_;
    }
  }
  return std::nullopt;
}

std::optional<chat::StoreResult> FakeStore::run(const chat::TouchUser& touch) {
  users_.try_emplace(touch.name);
  return std::nullopt;
}

// Like the real UPDATE: a user the store does not know gets no hash.
std::optional<chat::StoreResult> FakeStore::run(const chat::SetPasswordHash& password) {
  const auto found = users_.find(password.name);
  if (found != users_.end()) found->second = password.hash;
  // With a ticket the welcome waits for this, as for a queued DM.
  if (password.ticket == 0) return std::nullopt;
  return chat::StoreAck{password.ticket, true};
}

// A page, as Store::undelivered_directs(recipient, page) reads it.
std::optional<chat::StoreResult> FakeStore::run(const chat::FetchQueued& fetch) {
  chat::QueuedFetched fetched{fetch, true, {}};
  if (fetch.count_total) replays_[fetch.user] = Replay{marks_, fetch.up_to};
  const auto replay = replays_.find(fetch.user);
  const bool promised = replay != replays_.end() && fetch.up_to <= replay->second.up_to;
  std::size_t bytes = 0;
  for (const auto& [id, message] : messages_) {
    if (!is_direct_to(message, fetch.user) || id > fetch.up_to) continue;
    if (fetch.count_total && !message.delivered) ++fetched.total;
    const bool marked_since = promised && message.delivered_in > replay->second.began_after_mark;
    if ((message.delivered && !marked_since) || id <= fetch.after || fetched.more) continue;
    if (fetched.messages.size() >= fetch.max_count || (!fetched.messages.empty() && bytes >= fetch.max_bytes)) {
      fetched.more = true;
      continue;
    }
    fetched.messages.push_back(message.record);
    bytes += message.record.text.size();
  }
  if (promised && !fetched.more && fetch.up_to == replay->second.up_to) replays_.erase(replay);
  return fetched;
}

std::optional<chat::StoreResult> FakeStore::run(const chat::FetchHistory& fetch) {
  return chat::HistoryFetched{fetch, true, select_history(fetch)};
}

std::optional<chat::StoreResult> FakeStore::run(const chat::DeleteDeliveredBefore& retention) {
  std::erase_if(messages_, [&](const auto& entry) {
    const Message& message = entry.second;
    const bool kept_for_delivery = message.record.kind == chat::MessageKind::kDirect && !message.delivered;
    return message.record.received_at < retention.cutoff && !kept_for_delivery;
  });
  return std::nullopt;
}

bool FakeStore::in_history(const Message& message, const chat::FetchHistory& fetch) const {
  const chat::MessageRecord& record = message.record;
  if (fetch.of_broadcast) return record.kind == chat::MessageKind::kBroadcast;
  if (fetch.of_room) return record.kind == chat::MessageKind::kRoom && same_name(record.target, fetch.target);
  return (is_direct_to(message, fetch.target) && same_name(record.sender, fetch.asker)) ||
         (is_direct_to(message, fetch.asker) && same_name(record.sender, fetch.target));
}

std::vector<chat::MessageRecord> FakeStore::select_history(const chat::FetchHistory& fetch) const {
  std::vector<chat::MessageRecord> found;
  if (fetch.limit <= 0) return found;
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
    if (found.size() == static_cast<std::size_t>(fetch.limit)) break;
    if (it->first <= fetch.up_to && in_history(it->second, fetch)) found.push_back(it->second.record);
  }
  return {found.rbegin(), found.rend()};
}

}  // namespace uvchat::fuzz
