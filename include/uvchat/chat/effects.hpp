// What the hub asks the shell to do. The hub decides; the shell executes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "uvchat/log.hpp"

namespace uvchat::chat {

using SessionId = std::uint64_t;

// The bytes of one or more whole lines. A line sent to many sessions is
// built once and shared by all of them.
using Payload = std::shared_ptr<const std::string>;

inline Payload make_payload(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

using uvchat::LogLevel;

enum class EffectKind {
  kSend,   // queue payload for the session
  kClose,  // close the session once what is queued for it has been sent
  kLog,    // log payload (text, no line end) at level
};

struct Effect {
  EffectKind kind = EffectKind::kSend;
  SessionId session = 0;
  Payload payload;
  LogLevel level = LogLevel::kInfo;
};

using Effects = std::vector<Effect>;

}  // namespace uvchat::chat
