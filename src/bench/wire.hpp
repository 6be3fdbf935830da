// The client's side of the protocol (docs/PROTOCOL.md): the names the bench
// uses, and the server lines it reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uvchat::bench {

// `server:EVENT ARGS`: event "queued", args "bench-r-3".
struct ServerEvent {
  std::string_view event;
  std::string_view args;
};

// Null for a line that is not a server line (a chat line starts with '[').
std::optional<ServerEvent> parse_server_event(std::string_view line);

// The user or room an error is about: `server:error CODE DETAIL`, where
// DETAIL starts with the name when it is about one ("queue-full bob, could
// not store it" -> "bob"). `args` is what follows `server:error `.
std::string_view error_subject(std::string_view args);

// A DM as the server shows it, live or replayed:
// `[HH:MM:SS] NAME: TEXT` or `[YYYY-MM-DD HH:MM:SS] NAME: TEXT`.
struct ChatLine {
  std::string_view sender;
  std::string_view text;
};

// Null for anything else, room and broadcast lines included.
std::optional<ChatLine> parse_direct_message(std::string_view line);

// A bench user's name: a role prefix and a number, e.g. "bench-r-" and 3.
std::string indexed_name(std::string_view prefix, std::uint32_t index);
// The number of `name`, or null when it is not `prefix` and a number.
std::optional<std::uint32_t> name_index(std::string_view prefix, std::string_view name);

// Appends `value` in decimal, without a temporary string.
void append_decimal(std::string& out, std::uint64_t value);

// Non-negative decimal; null for anything else.
std::optional<std::uint64_t> parse_count(std::string_view text);

}  // namespace uvchat::bench
