// The hub's outbox: what is owed to a session, and when it goes out.
//
// A session's lines go straight out while nothing is owed to it. An answer
// that comes later (from the store: queued DMs, a history, the `queued` of
// a DM to someone offline) holds a slot in the session's outbox, and every
// line after it waits behind it, so that a client reads its answers in the
// order it asked and a user reads queued DMs before newer ones.
//
// Three bounds keep what one session costs independent of what it is owed:
//
// - Pages. A slot's lines go out at most page_bytes at a time; the rest, or
//   the next page of a replay, waits until the shell reports that the
//   session's unsent output is down to page_bytes again (kWatchOutput,
//   on_output_drained). A client that reads slowly is fed slowly.
// - The replay. The offline queue is read from the store a page at a time
//   (page_messages DMs or page_bytes of text), each page only once the one
//   before has left: its length does not matter. The DMs it replays are
//   fixed when it starts (up_to: the last id given out at registration),
//   so a live DM is never read from the store as well.
// - Overflow. Lines that wait behind a slot are counted (waiting_bytes).
//   Past max_waiting the session overflows until its outbox is empty: a DM
//   to it is not kept in memory but replayed from the store after what
//   waits (a spill slot: the store has every DM, live or not, and delivers
//   it as undelivered), a line it did not ask for (a room's, a broadcast,
//   presence) is dropped and counted for `server:missed`, and its input is
//   paused while its own answers wait, so that it cannot pile them up.
#include <algorithm>
#include <utility>
#include <vector>

#include "hub_effects.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::chat {
namespace {

using protocol::ErrorCode;

// A replay page the store could not read is asked for again at each tick
// (about once a second) this many times; then the replay is given up, and
// the DMs it did not reach stay queued for the next registration.
constexpr int kPageRetries = 5;

}  // namespace

void Hub::send(SessionId id, Payload line, Effects& out, MessageId message) {
  Session* session = find_session(id);
  if (session == nullptr || session->outbox.empty()) {
    emit_send(id, std::move(line), out, message);
    return;
  }
  if (!session->overflow && session->waiting_bytes + line->size() > config_.max_waiting) {
    start_overflow(id, *session, out);
  }
  if (session->overflow) {
    if (message != 0 && session->user != nullptr) {
      spill(*session, *session->user, message);
      return;
    }
    if (id != acting_) {
      ++session->missed;
      return;
    }
    if (!session->input_held && !session->leaving) {
      session->input_held = true;
      push_session_effect(EffectKind::kPauseInput, id, out);
    }
  }
  if (!session->outbox.back().behind || session->outbox.back().awaiting != 0) {
    session->outbox.emplace_back().behind = true;
  }
  session->waiting_bytes += line->size();
  session->outbox.back().lines.push_back(Line{std::move(line), message});
}

std::uint64_t Hub::reserve_slot(Session& session) {
  const std::uint64_t ticket = ++last_ticket_;
  session.outbox.emplace_back().awaiting = ticket;
  return ticket;
}

void Hub::fill_slot(SessionId id, std::uint64_t ticket, std::vector<Line> lines, Effects& out) {
  Session* session = find_session(id);
  if (session == nullptr || session->expired) return;
  for (Slot& slot : session->outbox) {
    if (slot.awaiting != ticket) continue;
    slot.awaiting = 0;
    slot.lines = std::move(lines);
    slot.sent = 0;
    break;
  }
  release_ready(id, *session, out);
}

// Sends the slot's lines until `budget` bytes are spent (always at least
// one line). True once every line it has is out.
bool Hub::send_page(SessionId id, Session& session, Slot& slot, std::size_t& budget, Effects& out) {
  while (slot.sent < slot.lines.size()) {
    if (budget == 0) return false;
    Line& line = slot.lines[slot.sent++];
    const std::size_t size = line.bytes->size();
    budget -= std::min(budget, size);
    if (slot.behind) session.waiting_bytes -= std::min(session.waiting_bytes, size);
    emit_send(id, std::move(line.bytes), out, line.message);
  }
  slot.lines.clear();
  slot.sent = 0;
  return true;
}

void Hub::release_ready(SessionId id, Session& session, Effects& out) {
  std::size_t budget = config_.page_bytes == 0 ? SIZE_MAX : config_.page_bytes;
  while (!session.outbox.empty()) {
    Slot& front = session.outbox.front();
    if (front.awaiting != 0 || front.draining || front.failed) break;
    const bool all_out = send_page(id, session, front, budget, out);
    if (!all_out || (front.replay && front.more)) {
      // The rest once the client has taken this: a replay's next page is
      // read from the store only then.
      front.draining = true;
      push_session_effect(EffectKind::kWatchOutput, id, out);
      break;
    }
    session.outbox.pop_front();
  }
  if (session.outbox.empty()) end_overflow(id, session, out);
  if (session.input_ended && session.outbox.empty() && session.verifying == nullptr) finish_session(id, out);
}

void Hub::on_output_drained(SessionId id, Effects& out) {
  Session* session = find_session(id);
  if (session == nullptr || session->expired || stopping_ || session->outbox.empty()) return;
  Slot& front = session->outbox.front();
  if (!front.draining) return;
  front.draining = false;
  if (front.replay && front.more && front.sent >= front.lines.size()) {
    fetch_page(id, front, out);
    return;
  }
  release_ready(id, *session, out);
}

// Every DM to the user with an id up to the last one given out is either in
// the store already or ahead of this request in the store's order; every
// later one reaches this session live (or spills, and is replayed by a slot
// of its own).
void Hub::start_replay(SessionId id, Session& session, const User& user, Effects& out) {
  Slot& slot = session.outbox.emplace_back();
  slot.replay = true;
  slot.first = true;
  slot.more = true;
  slot.user = user.name;
  slot.up_to = last_message_id_;
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
  fetch.max_bytes = config_.page_bytes == 0 ? SIZE_MAX : config_.page_bytes;
  fetch.count_total = slot.first;
  store(std::move(fetch), out);
}

void Hub::on_queued_fetched(QueuedFetched& fetched, Effects& out) {
  // The session may have said `server:exit` since: the replay still goes
  // out, before its `bye`.
  const FetchQueued& request = fetched.request;
  Session* session = find_session(request.session);
  if (session == nullptr || session->expired) return;
  const auto slot = std::find_if(session->outbox.begin(), session->outbox.end(),
                                 [&](const Slot& each) { return each.awaiting == request.ticket; });
  if (slot == session->outbox.end()) return;
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
    user->second.queued -= std::min(user->second.queued, fetched.messages.size());
  }
  std::vector<Line> lines;
  lines.reserve(fetched.messages.size() + 1);
  if (request.count_total) {
    lines.push_back(Line{make_payload(formatter_.event("queued-messages", {std::to_string(fetched.total)}))});
  }
  // Spilled DMs are live ones that waited in the store instead of memory:
  // they look as they would have, and only a counted replay uses its form.
  for (const MessageRecord& message : fetched.messages) {
    lines.push_back(Line{make_payload(slot->spill
                                          ? formatter_.direct(message.received_at, message.sender, message.text)
                                          : formatter_.replayed_direct(message.received_at, message.sender,
                                                                       message.text)),
                         message.id});
  }
  slot->first = false;
  slot->after = fetched.more && !fetched.messages.empty() ? fetched.messages.back().id : request.up_to;
  slot->more = (fetched.more && !fetched.messages.empty()) || slot->up_to > request.up_to;
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
      slot.lines.push_back(Line{make_payload(formatter_.event("queued-messages", {"0"}))});
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

void Hub::start_overflow(SessionId id, Session& session, Effects& out) {
  session.overflow = true;
  log(LogLevel::kInfo,
      "session " + std::to_string(id) + ": over " + std::to_string(config_.max_waiting) +
          " bytes wait behind its replay or history; DMs to it wait in the store, other lines are dropped"
          " until it has caught up",
      out);
}

// The DM is in the store (the hub stored it before sending it): a spill
// slot at the back replays it. DMs that spill one after the other share a
// slot, whose range then holds every DM to the user since the first: all
// of them spilled, as overflow lasts until the outbox is empty.
void Hub::spill(Session& session, const User& user, MessageId message) {
  Slot& back = session.outbox.back();
  if (back.spill && back.up_to < message) {
    back.up_to = message;
    back.more = true;
    return;
  }
  Slot& slot = session.outbox.emplace_back();
  slot.replay = true;
  slot.spill = true;
  slot.more = true;
  slot.user = user.name;
  slot.after = message - 1;
  slot.up_to = message;
}

// The outbox is empty: the session has caught up.
void Hub::end_overflow(SessionId id, Session& session, Effects& out) {
  session.waiting_bytes = 0;
  if (!session.overflow) return;
  session.overflow = false;
  if (session.missed > 0 && !session.leaving) {
    emit_send(id, make_payload(formatter_.event("missed", {std::to_string(session.missed)})), out);
  }
  session.missed = 0;
  if (session.input_held) {
    session.input_held = false;
    if (!session.leaving) push_session_effect(EffectKind::kResumeInput, id, out);
  }
}

}  // namespace uvchat::chat
