// What the hub's files share (hub.cpp: the commands; hub_outbox.cpp: when
// what is sent to a session goes out; hub_store.cpp: the store's answers):
// small builders of effects, and the label of a room.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "uvchat/chat/effects.hpp"

namespace uvchat::chat {

// The raw effect; Hub::send decides when it may go.
inline void emit_send(SessionId id, Payload payload, Effects& out, MessageId message = 0) {
  Effect effect;
  effect.session = id;
  effect.payload = std::move(payload);
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

// "#team" for the room "team".
inline std::string room_label(std::string_view room) {
  std::string label = "#";
  label.append(room);
  return label;
}

}  // namespace uvchat::chat
