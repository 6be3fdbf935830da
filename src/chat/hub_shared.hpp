// What the hub's files share (hub.cpp: the commands; hub_register.cpp:
// taking a name; hub_outbox.cpp: when what is sent to a session goes out;
// hub_store.cpp: the store's answers): small builders of effects and
// events, and Acting.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "uvchat/chat/effects.hpp"

namespace uvchat::chat {

// Marks whose line, or whose slow answer, the hub is handling (Hub::acting_).
class Acting {
 public:
  Acting(SessionId& acting, SessionId id) : acting_(acting), previous_(acting) { acting_ = id; }
  Acting(const Acting&) = delete;
  Acting& operator=(const Acting&) = delete;
  ~Acting() { acting_ = previous_; }

 private:
  SessionId& acting_;
  SessionId previous_;
};

// The raw effect; Hub::send decides when it may go.
inline void emit_send(SessionId id, EventRef event, Effects& out, MessageId message = 0) {
  Effect effect;
  effect.session = id;
  effect.event = std::move(event);
  effect.message_id = message;
  out.push_back(std::move(effect));
}

inline void push_session_effect(EffectKind kind, SessionId id, Effects& out) {
  Effect effect;
  effect.kind = kind;
  effect.session = id;
  out.push_back(std::move(effect));
}

inline void push_close(SessionId id, Effects& out) { push_session_effect(EffectKind::kClose, id, out); }

// "#team" for the room "team": how an error names a room, in every door.
inline std::string room_label(std::string_view room) {
  std::string label = "#";
  label.append(room);
  return label;
}

// kWelcome, kQueued, kOnline, kOffline: about the user `name`.
inline EventRef event_about(EventKind kind, std::string_view name) {
  auto event = make_event(kind);
  event->name = name;
  return event;
}

// kJoined, kLeft: `name` and the room.
inline EventRef room_event(EventKind kind, std::string_view room, std::string_view name) {
  auto event = make_event(kind);
  event->target = room;
  event->name = name;
  return event;
}

// kQueuedMessages, kMissed.
inline EventRef count_event(EventKind kind, std::size_t count) {
  auto event = make_event(kind);
  event->one_recipient = true;
  event->count = count;
  return event;
}

inline EventRef error_event(protocol::ErrorCode code, std::string_view subject, std::string_view detail) {
  auto event = make_event(EventKind::kError);
  event->one_recipient = true;
  event->code = code;
  event->target = subject;
  event->set_text(std::string(detail));
  return event;
}

// A message as its recipients are sent it: from the store (the offline
// queue, a history: `replayed`), or as it came (Hub::store_sent, which
// shares `text` with the store).
inline std::shared_ptr<Event> chat_event(MessageKind scope, TimePoint when, std::string_view sender,
                                         std::string_view target, SharedText text, bool replayed) {
  auto event = make_event(EventKind::kChat);
  event->scope = scope;
  event->replayed = replayed;
  event->when = when;
  event->sender = sender;
  event->target = target;
  event->set_text(std::move(text));
  return event;
}

inline std::shared_ptr<Event> chat_event(const MessageRecord& message, bool replayed) {
  return chat_event(message.kind, message.received_at, message.sender, message.target, SharedText::copy_of(message.text),
                    replayed);
}

}  // namespace uvchat::chat
