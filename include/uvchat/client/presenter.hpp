// How a line from the server is shown to a person (docs/CLIENT.md, "How
// server lines are shown"): chat lines as they are, events and errors in
// words. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace uvchat::client {

enum class Tone {
  kChat,   // a message from someone
  kEvent,  // presence, rooms, lists, the client's own notes
  kError,  // something went wrong
};

struct Shown {
  std::string text;
  Tone tone;
};

// Nothing for the lines the client answers itself (pong, welcome, bye,
// help). `me` is the name registered, so that "you joined" reads right.
std::optional<Shown> present(std::string_view line, std::string_view me);

// An error line's CODE and DETAIL: "server:error CODE DETAIL".
struct ServerError {
  std::string code;
  std::string detail;
};
std::optional<ServerError> parse_error(std::string_view line);

// The error in words.
std::string describe_error(const ServerError& error);

}  // namespace uvchat::client
