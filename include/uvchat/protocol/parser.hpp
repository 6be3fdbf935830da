// Parses one clean line (see Framer) into a Command.
#pragma once

#include <string_view>

#include "uvchat/protocol/command.hpp"

namespace uvchat::protocol {

// History asks for at most this many messages.
inline constexpr int kMaxHistoryCount = 500;

// Hints sent as the DETAIL of errors the parser finds.
inline constexpr std::string_view kNameRule =
    "names are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit";
inline constexpr std::string_view kRoomRule =
    "rooms are # and 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit";

// Never fails: a line that asks for nothing valid becomes kInvalid with the
// error to send back.
Command parse_line(std::string_view line);

}  // namespace uvchat::protocol
