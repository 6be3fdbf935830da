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

#include "hub_shared.hpp"
#include "uvchat/chat/hub.hpp"

namespace uvchat::chat {

void Hub::send(SessionId id, EventRef event, Effects& out, MessageId message) {
  Session* session = find_session(id);
  if (session == nullptr || session->outbox.empty()) {
    emit_send(id, std::move(event), out, message);
    return;
  }
  const std::size_t weight = event->weight();
  if (!session->overflow && session->waiting_bytes + weight > config_.max_waiting) {
    start_overflow(id, *session, out);
  }
  if (session->overflow) {
    if (message != 0 && session->user != nullptr) {
      spill(*session, *session->user, message);
      return;
    }
    if (id != acting_) {
      if (session->missed < UINT32_MAX) ++session->missed;
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
  session->waiting_bytes += weight;
  session->outbox.back().lines.push_back(Line{std::move(event), message});
}

std::uint64_t Hub::reserve_slot(Session& session) {
  const std::uint64_t ticket = ++last_ticket_;
  session.outbox.emplace_back().awaiting = ticket;
  return ticket;
}

std::uint64_t Hub::await_store(Session& session, PendingAck pending) {
  const std::uint64_t ticket = reserve_slot(session);
  pending_acks_.emplace(ticket, std::move(pending));
  return ticket;
}

Hub::Slot* Hub::awaiting_slot(Session& session, std::uint64_t ticket) {
  for (Slot& slot : session.outbox) {
    if (slot.awaiting == ticket) return &slot;
  }
  return nullptr;
}

// A slot that replays the undelivered DMs to `user` with after < id <= up_to.
Hub::Slot& Hub::add_replay(Session& session, std::string_view user, MessageId after, MessageId up_to) {
  Slot& slot = session.outbox.emplace_back();
  slot.replay = true;
  slot.more = true;
  slot.user = std::string(user);
  slot.after = after;
  slot.up_to = up_to;
  return slot;
}

std::size_t Hub::page_budget() const { return config_.page_bytes == 0 ? SIZE_MAX : config_.page_bytes; }

void Hub::fill_slot(SessionId id, std::uint64_t ticket, std::vector<Line> lines, Effects& out) {
  Session* session = find_session(id);
  if (session == nullptr || session->expired) return;
  if (Slot* slot = awaiting_slot(*session, ticket)) {
    slot->awaiting = 0;
    slot->lines = std::move(lines);
    slot->sent = 0;
  }
  release_ready(id, *session, out);
}

// Sends the slot's lines until `budget` bytes are spent (always at least
// one line). True once every line it has is out.
bool Hub::send_page(SessionId id, Session& session, Slot& slot, std::size_t& budget, Effects& out) {
  while (slot.sent < slot.lines.size()) {
    if (budget == 0) return false;
    Line& line = slot.lines[slot.sent++];
    const std::size_t size = line.event->weight();
    budget -= std::min(budget, size);
    if (slot.behind) session.waiting_bytes -= std::min(session.waiting_bytes, size);
    emit_send(id, std::move(line.event), out, line.message);
  }
  slot.lines.clear();
  slot.sent = 0;
  return true;
}

void Hub::release_ready(SessionId id, Session& session, Effects& out) {
  std::size_t budget = page_budget();
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
  add_replay(session, user.name, message - 1, message).spill = true;
}

// The outbox is empty: the session has caught up.
void Hub::end_overflow(SessionId id, Session& session, Effects& out) {
  session.waiting_bytes = 0;
  if (!session.overflow) return;
  session.overflow = false;
  if (session.missed > 0 && !session.leaving) {
    emit_send(id, count_event(EventKind::kMissed, session.missed), out);
  }
  session.missed = 0;
  if (session.input_held) {
    session.input_held = false;
    if (!session.leaving) push_session_effect(EffectKind::kResumeInput, id, out);
  }
}

}  // namespace uvchat::chat
