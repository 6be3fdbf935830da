// Small builders of the hub's effects, shared by its two files (hub.cpp:
// the commands; hub_output.cpp: when what is sent to a session goes out).
#pragma once

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

}  // namespace uvchat::chat
