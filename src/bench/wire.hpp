// The client's side of the protocol (docs/PROTOCOL.md): the names the bench
// uses, and the server lines it reads; and the dialect seam that lets the
// dm and fanout scenarios speak through another door (docs/IRC.md).
#pragma once

#include <cstddef>
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

// The door a bench client speaks (--door): uvchat's own lines, IRC's, or
// uvchat's own lines through the web door, one per WebSocket message.
enum class Door { kNative, kIrc, kWs };

// Null for a name that is no door's.
std::optional<Door> door_named(std::string_view name);
std::string_view door_name(Door door);

// A server line as the scenarios need it, whatever door it came through.
// Its views point into the line.
struct Heard {
  enum class Kind {
    kOther,        // nothing a scenario needs: numerics, presence, others' lines
    kWelcome,      // registered (IRC: the end of the burst, 376 or 422)
    kQueueCount,   // `count` replayed DMs follow (IRC says nothing when none)
    kPong,         // the answer to a ping, after all queued for us before it
    kJoined,       // `name` joined `room`
    kChat,         // a DM (`room` empty) or a room line (`room` with its '#')
    kUndelivered,  // the DM's receiver is offline: server:queued, IRC 301
    kRefused,      // an error: server:error, an IRC 4xx/5xx or ERROR
  };
  Kind kind = Kind::kOther;
  std::string_view name;  // the sender of a chat line; who joined
  std::string_view room;
  std::string_view text;
  bool replayed = false;  // from the offline queue or the room's history
  std::uint64_t count = 0;
};

// The seam between the dm and fanout scenarios and a door: what a client
// sends to register, join, say and ping, and what the server's lines mean.
// The scenarios keep one code path; only the words differ. Each append_*
// adds whole lines, line ends included, for LineClient::send_bytes().
//
// A switch on the door rather than a virtual call: it is on the hot path of
// every line read, and there are two dialects. The web door speaks the
// native one; its WebSocket is the connection's business (LineClient).
class Dialect {
 public:
  explicit Dialect(Door door = Door::kNative) : door_(door) {}
  Door door() const { return door_; }
  // Whether the connection must be a WebSocket (LineClient::use_websocket).
  bool over_websocket() const { return door_ == Door::kWs; }

  void append_register(std::string& out, std::string_view name) const;
  void append_join(std::string& out, std::string_view room) const;
  void append_ping(std::string& out) const;
  // The start of a line to `target` (a name or a #room); the text follows,
  // then end_line().
  void begin_say(std::string& out, std::string_view target) const;
  void end_line(std::string& out) const;

  Heard hear(std::string_view line) const;
  // The native door always says how many DMs it replays, `0` included; the
  // IRC door says nothing when there are none, so a client pings after the
  // welcome and takes the pong (which comes after any replay) as the end.
  bool announces_empty_queue() const { return native_words(); }

 private:
  bool native_words() const { return door_ != Door::kIrc; }

  Door door_;
};

// With --door irc a line over IRC's 512 bytes is split by the server, so a
// bench text must leave room for the prefix, command and target in front.
inline constexpr std::size_t kMaxIrcTextSize = 400;

// A bench user's name: a role prefix and a number, e.g. "bench-r-" and 3.
std::string indexed_name(std::string_view prefix, std::uint32_t index);
// The number of `name`, or null when it is not `prefix` and a number.
std::optional<std::uint32_t> name_index(std::string_view prefix, std::string_view name);

// Appends `value` in decimal, without a temporary string.
void append_decimal(std::string& out, std::uint64_t value);

// Non-negative decimal; null for anything else.
std::optional<std::uint64_t> parse_count(std::string_view text);

}  // namespace uvchat::bench
