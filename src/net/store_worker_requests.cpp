// What the store's thread does with each request, in the store's terms:
// a DM held or written, a delivery marked, a user touched, a password set,
// a page of a queue or a history read. The thread itself, its batches, the
// hand-over from the loop and the syncs are in store_worker.cpp.
#include "uvchat/net/store_worker.hpp"

#include <chrono>
#include <iterator>

#include "uvchat/log.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::net {
namespace {

std::int64_t to_millis(chat::TimePoint when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

chat::TimePoint from_millis(std::int64_t millis) {
  return chat::TimePoint(std::chrono::milliseconds(millis));
}

store::MessageKind to_store(chat::MessageKind kind) {
  switch (kind) {
    case chat::MessageKind::kDirect: return store::MessageKind::kDirect;
    case chat::MessageKind::kRoom: return store::MessageKind::kRoom;
    case chat::MessageKind::kBroadcast: return store::MessageKind::kBroadcast;
  }
  return store::MessageKind::kDirect;
}

chat::MessageKind from_store(store::MessageKind kind) {
  switch (kind) {
    case store::MessageKind::kDirect: return chat::MessageKind::kDirect;
    case store::MessageKind::kRoom: return chat::MessageKind::kRoom;
    case store::MessageKind::kBroadcast: return chat::MessageKind::kBroadcast;
  }
  return chat::MessageKind::kDirect;
}

// Views into the request, which lives until its batch is done.
store::MessageRef to_store(const chat::InsertMessage& insert) {
  store::MessageRef stored;
  stored.id = insert.message.id;
  stored.received_at = to_millis(insert.message.received_at);
  stored.sender = insert.message.sender;
  stored.kind = to_store(insert.message.kind);
  stored.target = insert.message.target;
  stored.text = insert.text();
  return stored;
}

std::vector<chat::MessageRecord> from_store(std::vector<store::StoredMessage>&& stored) {
  std::vector<chat::MessageRecord> messages;
  messages.reserve(stored.size());
  for (store::StoredMessage& message : stored) {
    messages.push_back(chat::MessageRecord{message.id, from_millis(message.received_at),
                                           std::move(message.sender), from_store(message.kind),
                                           std::move(message.target), std::move(message.text)});
  }
  return messages;
}

}  // namespace

void StoreWorker::execute(chat::StoreRequest& request, std::vector<chat::StoreResult>& results) {
  if (auto* insert = std::get_if<chat::InsertMessage>(&request)) {
    this->insert(*insert, results);
  } else if (auto* delivered = std::get_if<chat::MarkDelivered>(&request)) {
    mark_delivered(*delivered);
  } else if (auto* touch = std::get_if<chat::TouchUser>(&request)) {
    store_->touch_user(touch->name, to_millis(touch->when));
    for (const auto& [name, when] : touch->more) store_->touch_user(name, to_millis(when));
  } else if (auto* password = std::get_if<chat::SetPasswordHash>(&request)) {
    if (sync_broken_ && password->ticket != 0) {
      results.emplace_back(chat::StoreAck{password->ticket, false});
      return;
    }
    store_->set_password_hash(password->name, password->hash);
    if (password->ticket != 0) results.emplace_back(chat::StoreAck{password->ticket, true});
  } else if (auto* queued = std::get_if<chat::FetchQueued>(&request)) {
    fetch_queued(*queued, results);
  } else if (auto* history = std::get_if<chat::FetchHistory>(&request)) {
    if (!history->of_room && !history->of_broadcast) {
      held_.release_conversation(history->asker, history->target, to_write_);
      write_queued();
      write_delivered();
    }
    auto stored = history->of_broadcast ? store_->broadcast_history(history->limit, history->up_to)
                  : history->of_room    ? store_->room_history(history->target, history->limit, history->up_to)
                                        : store_->direct_history(history->asker, history->target, history->limit,
                                                                 history->up_to);
    results.emplace_back(chat::HistoryFetched{*history, true, from_store(std::move(stored))});
  } else if (auto* retention = std::get_if<chat::DeleteDeliveredBefore>(&request)) {
    const std::int64_t deleted = store_->delete_delivered_before(to_millis(retention->cutoff));
    log(LogLevel::kInfo, "retention: deleted " + std::to_string(deleted) + " messages");
  }
}

// A live DM (one nobody waits for: no ticket) is held until its delivery
// is known; every other message is written at once. Without group commit
// (a mode for measuring it) nothing is held either.
void StoreWorker::insert(chat::InsertMessage& insert, std::vector<chat::StoreResult>& results) {
  if (insert.ticket != 0 && sync_broken_) {
    results.emplace_back(chat::StoreAck{insert.ticket, false});  // not written: "could not store it" is true
    return;
  }
  const store::MessageRef stored = to_store(insert);
  if (group_commit_ && insert.ticket == 0 && stored.kind == store::MessageKind::kDirect) {
    held_.hold(stored, now_, to_write_);
    write_queued();  // pushed out of the hold: in before a delivery later in this batch updates it
    return;
  }
  store_->insert_message(stored);
  // Reported after the commit: the ack must not come before durability.
  if (insert.ticket != 0) results.emplace_back(chat::StoreAck{insert.ticket, true});
}

// A page of the user's queue. DMs to it still held (sent live to an
// earlier session, delivery unknown) are written queued first, so that the
// page finds them.
void StoreWorker::fetch_queued(const chat::FetchQueued& fetch, std::vector<chat::StoreResult>& results) {
  held_.release_to(fetch.user, to_write_);
  write_queued();
  read_page(fetch, replay_of(fetch), results);
}

StoreWorker::Replays::iterator StoreWorker::replay_of(const chat::FetchQueued& fetch) {
  std::string key = protocol::fold_case(fetch.user);
  if (fetch.count_total) {
    return replays_.insert_or_assign(std::move(key), Replay{fetch.after, fetch.after, fetch.up_to, {}}).first;
  }
  const auto replay = replays_.find(key);
  return replay != replays_.end() && fetch.up_to <= replay->second.up_to ? replay : replays_.end();
}

void StoreWorker::read_page(const chat::FetchQueued& fetch, Replays::iterator replay,
                            std::vector<chat::StoreResult>& results) {
  store::QueuePage page;
  page.after = fetch.after;
  page.up_to = fetch.up_to;
  page.max_count = fetch.max_count;
  page.max_bytes = fetch.max_bytes;
  page = store_->undelivered_directs(fetch.user, page);
  if (replay != replays_.end()) {
    add_delivered_meanwhile(replay->second, fetch, page);
    if (!page.more && fetch.up_to == replay->second.up_to) replays_.erase(replay);
  }
  chat::QueuedFetched fetched{fetch, true, from_store(std::move(page.messages)), page.more};
  if (fetch.count_total) {
    fetched.total = static_cast<std::size_t>(store_->count_undelivered(fetch.user, fetch.up_to));
  }
  results.emplace_back(std::move(fetched));
}

// The page's DMs marked delivered since the replay began, in id order
// among the others; those past the page wait for theirs. They leave the
// set only once the replay is past them (a page whose batch fails is read
// again), and one whose mark was rolled back is in the page already.
void StoreWorker::add_delivered_meanwhile(Replay& replay, const chat::FetchQueued& fetch, store::QueuePage& page) {
  replay.after = fetch.after;
  replay.delivered.erase(replay.delivered.begin(), replay.delivered.upper_bound(fetch.after));
  const std::int64_t last = page.more ? page.messages.back().id : fetch.up_to;
  replay.paged = last;
  const std::vector<std::int64_t> ids(replay.delivered.begin(), replay.delivered.upper_bound(last));
  if (ids.empty()) return;
  std::vector<store::StoredMessage> extra = store_->directs_by_id(ids);
  std::vector<store::StoredMessage> merged;
  merged.reserve(page.messages.size() + extra.size());
  const auto older = [](const store::StoredMessage& a, const store::StoredMessage& b) { return a.id < b.id; };
  std::merge(std::make_move_iterator(page.messages.begin()), std::make_move_iterator(page.messages.end()),
             std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()),
             std::back_inserter(merged), older);
  const auto same = [](const store::StoredMessage& a, const store::StoredMessage& b) { return a.id == b.id; };
  merged.erase(std::unique(merged.begin(), merged.end(), same), merged.end());
  page.messages = std::move(merged);
}

void StoreWorker::mark_delivered(chat::MarkDelivered& delivered) {
  const std::int64_t when = to_millis(delivered.when);
  std::erase_if(delivered.ids, [&](chat::MessageId id) { return held_.deliver(id, when, delivered_); });
  if (delivered.ids.empty()) return;
  if (replays_.empty()) {
    store_->mark_delivered(delivered.ids, when);
    return;
  }
  // A replay under way keeps what it promised (Replay).
  store_->mark_delivered(delivered.ids, when, [this](std::int64_t id, std::string_view recipient_key) {
    const auto replay = replays_.find(recipient_key);
    if (replay != replays_.end() && id > replay->second.paged && id <= replay->second.up_to) {
      replay->second.delivered.insert(id);
    }
  });
}

void StoreWorker::write_queued() {
  for (const store::MessageRef& message : to_write_) store_->insert_message(message);
  to_write_.clear();
}

void StoreWorker::write_delivered() {
  if (delivered_.empty()) return;
  store_->insert_delivered_directs(delivered_);
  delivered_.clear();
}

}  // namespace uvchat::net
