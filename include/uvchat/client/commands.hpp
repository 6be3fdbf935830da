// What a line typed into the client means (docs/CLIENT.md, "What a typed
// line does"): the wire lines it sends, the target it chooses, or a note
// the client shows itself. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace uvchat::client {

struct Typed {
  std::vector<std::string> wire;  // lines to send, without line ends
  bool changes_target = false;
  std::string target;              // the new target when changes_target; "" for none
  std::vector<std::string> notes;  // for the person, shown by the client
  bool quit = false;
};

// `target` is the current one: a name, `#room`, `*`, or "" for none.
Typed interpret(std::string_view typed, std::string_view target);

// The lines /help shows.
const std::vector<std::string>& help_text();

}  // namespace uvchat::client
