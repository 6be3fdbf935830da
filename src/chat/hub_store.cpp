// The hub and the store: what it asks of the store's thread, and what it
// does with the answers: the `queued` of a DM to someone offline, history,
// and the replay of the offline queue, read a page at a time (see
// hub_outbox.cpp for when each page may go out).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "hub_shared.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::chat {
namespace {

using protocol::ErrorCode;

// A replay page the store could not read is asked for again at each tick
// (about once a second) this many times; then the replay is given up, and
// the DMs it did not reach stay queued for the next registration.
constexpr int kPageRetries = 5;

// server:history without N.
constexpr int kDefaultHistoryCount = 20;

}  // namespace

void Hub::on_store_result(StoreResult& result, Effects& out) {
  if (stopping_) return;
  if (auto* ack = std::get_if<StoreAck>(&result)) {
    on_ack(*ack, out);
  } else if (auto* queued = std::get_if<QueuedFetched>(&result)) {
    on_queued_fetched(*queued, out);
  } else if (auto* history = std::get_if<HistoryFetched>(&result)) {
    on_history_fetched(*history, out);
  }
}

void Hub::on_ack(const StoreAck& ack, Effects& out) {
  auto pending = pending_acks_.extract(ack.ticket);
  if (pending.empty()) return;
  const PendingAck& queued = pending.mapped();
  if (queued.password) {
    on_password_stored(queued, ack, out);
    return;
  }
  if (ack.committed) {
    fill_slot(queued.sender, ack.ticket, {Line{event_about(EventKind::kQueued, queued.recipient)}}, out);
    return;
  }
  // Not stored: the sender must not believe it was.
  const auto recipient = users_.find(queued.recipient);
  if (recipient != users_.end() && recipient->second.queued > 0) --recipient->second.queued;
  fill_slot(queued.sender, ack.ticket, {Line{error_event(ErrorCode::kQueueFull, queued.recipient, "could not store it")}},
            out);
}

// The password is on disk: the welcome goes out. It is not: the name keeps
// no password (the hub forgets it too), and the session, which was told
// nothing yet, is closed with the reason rather than welcomed unprotected.
void Hub::on_password_stored(const PendingAck& pending, const StoreAck& ack, Effects& out) {
  if (ack.committed) {
    fill_slot(pending.sender, ack.ticket, {}, out);
    return;
  }
  const auto user = users_.find(pending.recipient);
  if (user != users_.end()) user->second.password_hash.clear();
  Session* session = find_session(pending.sender);
  if (session == nullptr || session->expired) return;
  log(LogLevel::kError, "could not store the password for " + pending.recipient, out);
  expire(pending.sender, *session, "could not store your password; try again later", out, ErrorCode::kUnavailable);
}

void Hub::on_delivered(std::span<const MessageId> ids, TimePoint now, Effects& out) {
  if (ids.empty()) return;
  store(MarkDelivered{std::vector<MessageId>(ids.begin(), ids.end()), now}, out);
}

void Hub::fetch_history(SessionId id, bool of_room, const std::string& target, const User& asker, int limit,
                        bool for_join, Effects& out) {
  // Up to the last id given out: a message sent after this request is
  // delivered live, not replayed as well.
  Session* session = find_session(id);
  if (session == nullptr) return;
  store(FetchHistory{id, of_room, target, asker.name, limit, last_message_id_, for_join,
                     reserve_slot(*session)},
        out);
}

// A door that replays the last lines said to everyone at registration
// (SessionTraits::lobby_history): after the offline queue, and silent when
// there are none.
void Hub::fetch_lobby(SessionId id, Session& session, const User& user, Effects& out) {
  if (session.traits.lobby_history <= 0) return;
  FetchHistory fetch{id, false, {}, user.name, session.traits.lobby_history, last_message_id_, /*for_join=*/true,
                     reserve_slot(session)};
  fetch.of_broadcast = true;
  store(std::move(fetch), out);
}

void Hub::on_history(User& user, const protocol::Command& command, Effects& out) {
  const int limit = command.count > 0 ? command.count : kDefaultHistoryCount;
  if (command.history_of_room) {
    const auto found = rooms_.find(command.target);
    if (found == rooms_.end() || !found->second.members.contains(&user)) {
      send_error(user.session, ErrorCode::kNotInRoom, room_label(command.target), {}, out);
      return;
    }
    fetch_history(user.session, true, found->second.name, user, limit, false, out);
    return;
  }
  const auto other = users_.find(command.target);
  if (other == users_.end()) {
    send_error(user.session, ErrorCode::kNoSuchUser, command.target, {}, out);
    return;
  }
  fetch_history(user.session, false, other->second.name, user, limit, false, out);
}

void Hub::on_history_fetched(const HistoryFetched& fetched, Effects& out) {
  const FetchHistory& request = fetched.request;
  if (!sessions_.contains(request.session)) return;
  if (!fetched.ok) log(LogLevel::kError, "could not read the history of " + request.target, out);
  std::vector<Line> lines;
  if (!(request.for_join && fetched.messages.empty())) {
    auto history = make_event(EventKind::kHistory);
    history->target = request.target;
    history->of_room = request.of_room;
    if (request.of_broadcast) history->scope = MessageKind::kBroadcast;
    history->count = fetched.messages.size();
    lines.push_back(Line{std::move(history)});
  }
  for (const MessageRecord& message : fetched.messages) {
    auto line = chat_event(message, /*replayed=*/true);
    // A room's history names the room as the asker spelled it.
    if (request.of_room) line->target = request.target;
    lines.push_back(Line{std::move(line)});
  }
  fill_slot(request.session, request.ticket, std::move(lines), out);
}

// Every DM to the user with an id up to the last one given out is either in
// the store already or ahead of this request in the store's order; every
// later one reaches this session live (or spills, and is replayed by a slot
// of its own).
void Hub::start_replay(SessionId id, Session& session, const User& user, Effects& out) {
  Slot& slot = add_replay(session, user.name, 0, last_message_id_);
  slot.first = true;
  fetch_page(id, slot, out);
}

void Hub::fetch_page(SessionId id, Slot& slot, Effects& out) {
  slot.awaiting = ++last_ticket_;
  slot.lines.clear();
  slot.sent = 0;
  FetchQueued fetch;
  fetch.session = id;
  fetch.user = slot.user;
  fetch.ticket = slot.awaiting;
  fetch.after = slot.after;
  fetch.up_to = slot.up_to;
  fetch.max_count = std::max<std::size_t>(config_.page_messages, 1);
  fetch.max_bytes = page_budget();
  fetch.count_total = slot.first;
  store(std::move(fetch), out);
}

void Hub::on_queued_fetched(QueuedFetched& fetched, Effects& out) {
  // The session may have said `server:exit` since: the replay still goes
  // out, before its `bye`.
  const FetchQueued& request = fetched.request;
  Session* session = find_session(request.session);
  if (session == nullptr || session->expired) return;
  Slot* slot = awaiting_slot(*session, request.ticket);
  if (slot == nullptr) return;
  slot->awaiting = 0;
  if (!fetched.ok) {
    // Still in the store, undelivered: asked for again at the next tick.
    log(LogLevel::kError, "could not read the queued messages for " + request.user + "; trying again", out);
    slot->failed = true;
    return;
  }
  slot->retries = 0;
  // Spilled DMs were never counted as queued: they were sent to a user online.
  if (const auto user = users_.find(request.user); user != users_.end() && !slot->spill) {
    user->second.queued -= static_cast<std::uint32_t>(std::min<std::size_t>(user->second.queued, fetched.messages.size()));
  }
  std::vector<Line> lines;
  lines.reserve(fetched.messages.size() + 1);
  if (request.count_total) {
    lines.push_back(Line{count_event(EventKind::kQueuedMessages, fetched.total)});
  }
  // Spilled DMs are live ones that waited in the store instead of memory:
  // they look as they would have, and only a counted replay uses its form.
  for (const MessageRecord& message : fetched.messages) {
    lines.push_back(Line{chat_event(message, /*replayed=*/!slot->spill), message.id});
  }
  // The page stopped at a limit (the store says `more` only after a DM it
  // read), or DMs spilled past what was asked for: either way, more to read.
  const bool cut_by_limit = fetched.more && !fetched.messages.empty();
  slot->first = false;
  slot->after = cut_by_limit ? fetched.messages.back().id : request.up_to;
  slot->more = cut_by_limit || slot->up_to > request.up_to;
  slot->lines = std::move(lines);
  slot->sent = 0;
  release_ready(request.session, *session, out);
}

// Once a tick. A page that still cannot be read after kPageRetries tries
// is given up, and the DMs not sent stay queued in the store. Before the
// first page nothing was promised: the session is told `queued-messages 0`
// and goes on. Later the client was promised N lines (or waits for DMs in
// the store, in order): it cannot be given what comes after them, so the
// session ends with `unavailable`, and the next registration replays the
// rest.
void Hub::retry_failed_pages(Effects& out) {
  std::vector<SessionId> released;
  std::vector<SessionId> ended;
  for (auto& [id, session] : sessions_) {
    if (session.expired) continue;
    for (Slot& slot : session.outbox) {
      if (!slot.failed) continue;
      slot.failed = false;
      if (++slot.retries <= kPageRetries) {
        fetch_page(id, slot, out);
        continue;
      }
      log(LogLevel::kError, "gave up reading the queued messages for " + slot.user + "; they stay queued", out);
      if (!slot.first) {
        ended.push_back(id);
        break;
      }
      slot.lines.push_back(Line{count_event(EventKind::kQueuedMessages, 0)});
      slot.first = false;
      slot.more = false;
      released.push_back(id);
    }
  }
  for (const SessionId id : released) {
    if (Session* session = find_session(id)) release_ready(id, *session, out);
  }
  for (const SessionId id : ended) {
    if (Session* session = find_session(id)) {
      expire(id, *session, "could not read your queued messages; they stay queued", out,
             ErrorCode::kUnavailable);
    }
  }
}

}  // namespace uvchat::chat
