// Which door a connection came in by, told from its first bytes.
//
// One port serves every door: what a client sends first says which it
// speaks. A TLS ClientHello starts with 0x16 (a handshake record), which no
// line of any text door can start with (sniff_door). Inside, in plaintext,
// the first line picks the text door (door_of_line): IRC clients begin with
// NICK, USER, CAP or PASS; the classic dialect's clients with JOIN:,
// MESSAGE:, PRIVATE:, JOIN_ROOM:, LIST_USERS or QUIT; browsers with an HTTP
// request line (GET or HEAD, or any method with an HTTP version after the
// target); everything else is the native protocol. Pure, so that it is fuzzed with the rest of the codecs.
#pragma once

#include <cstdint>
#include <string_view>

#include "uvchat/protocol/text.hpp"

namespace uvchat::protocol {

enum class Door : std::uint8_t {
  kUnknown,  // nothing has arrived yet
  kTls,      // a TLS handshake: the door inside is sniffed again in plaintext
  kNative,
  kIrc,
  kClassic,
  kWeb,
};

// The record type of a TLS handshake (RFC 8446 §5.1).
constexpr unsigned char kTlsHandshakeRecord = 0x16;

constexpr Door sniff_door(std::string_view first_bytes) {
  if (first_bytes.empty()) return Door::kUnknown;
  return static_cast<unsigned char>(first_bytes.front()) == kTlsHandshakeRecord ? Door::kTls : Door::kNative;
}

// An HTTP request line: `GET ` or `HEAD ` first, or an upper-case method,
// a target and an HTTP version (`POST / HTTP/1.1`), which the web door
// refuses in HTTP's words rather than the native door in its own.
// `GET ` or `HEAD `: the start of a browser's request, enough to pick the
// web door before the line ends (it may be longer than --max-line).
constexpr bool starts_web_request(std::string_view bytes) {
  return bytes.starts_with("GET ") || bytes.starts_with("HEAD ");
}

constexpr bool is_http_request_line(std::string_view line) {
  if (starts_web_request(line)) return true;
  const std::size_t space = line.find(' ');
  if (space == 0 || space == std::string_view::npos || space > 16) return false;
  for (const char c : line.substr(0, space)) {
    if (c < 'A' || c > 'Z') return false;
  }
  const std::size_t last = line.rfind(' ');
  return last > space && line.substr(last + 1).starts_with("HTTP/");
}

// The text door a first line (without its line end) opens. IRC commands
// are matched in any case, as IRC servers match them; the classic
// dialect's words only as the exercise writes them, in capitals, so that
// `join: hi` stays a native DM to a user called join.
constexpr Door door_of_line(std::string_view line) {
  const std::string_view word = line.substr(0, line.find(' '));
  for (const std::string_view irc : {"NICK", "USER", "CAP", "PASS"}) {
    if (equal_case_insensitive(word, irc)) return Door::kIrc;
  }
  for (const std::string_view classic : {"JOIN:", "MESSAGE:", "PRIVATE:", "JOIN_ROOM:"}) {
    if (line.starts_with(classic)) return Door::kClassic;
  }
  if (is_http_request_line(line)) return Door::kWeb;
  std::string_view bare = line;
  while (!bare.empty() && (bare.back() == ' ' || bare.back() == '\t')) bare.remove_suffix(1);
  if (bare == "LIST_USERS" || bare == "QUIT") return Door::kClassic;
  return Door::kNative;
}

}  // namespace uvchat::protocol
