#include "wire.hpp"

#include <charconv>
#include <limits>

namespace uvchat::bench {
namespace {

constexpr std::string_view kServerPrefix = "server:";
constexpr std::string_view kIrcPingToken = "bench";

// The first word of `rest`, which loses it and the space after it.
std::string_view take_word(std::string_view& rest) {
  const std::size_t space = rest.find(' ');
  const std::string_view word = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
  return word;
}

// A chat line of the native door: `[STAMP] NAME: TEXT` for a DM, `[STAMP]
// #room NAME: TEXT` for a room line, `[STAMP] * NAME: TEXT` for a broadcast.
// A live line's stamp is a time, a replayed one's a date and a time. A line
// that is none of these is still chat, with no sender: corrupt.
Heard hear_native_chat(std::string_view line) {
  Heard heard;
  heard.kind = Heard::Kind::kChat;
  if (!line.starts_with('[')) return heard;
  const std::size_t stamp_end = line.find("] ");
  if (stamp_end == std::string_view::npos) return heard;
  heard.replayed = line.substr(0, stamp_end).find(' ') != std::string_view::npos;
  line.remove_prefix(stamp_end + 2);
  if (line.starts_with('#') || line.starts_with("* ")) {
    const std::size_t room_end = line.find(' ');
    if (room_end == std::string_view::npos) return heard;
    heard.room = line.substr(0, room_end);
    line.remove_prefix(room_end + 1);
  }
  const std::size_t colon = line.find(": ");
  if (colon == std::string_view::npos || colon == 0) return heard;
  const std::string_view sender = line.substr(0, colon);
  if (sender.find(' ') != std::string_view::npos) return heard;
  heard.name = sender;
  heard.text = line.substr(colon + 2);
  return heard;
}

Heard hear_native(std::string_view line) {
  const auto event = parse_server_event(line);
  if (!event) return hear_native_chat(line);
  Heard heard;
  if (event->event == "welcome") {
    heard.kind = Heard::Kind::kWelcome;
  } else if (event->event == "queued-messages") {
    const auto count = parse_count(event->args);
    heard.kind = count ? Heard::Kind::kQueueCount : Heard::Kind::kRefused;
    heard.count = count.value_or(0);
  } else if (event->event == "pong") {
    heard.kind = Heard::Kind::kPong;
  } else if (event->event == "joined") {
    // `server:joined #room NAME`
    std::string_view rest = event->args;
    heard.kind = Heard::Kind::kJoined;
    heard.room = take_word(rest);
    heard.name = rest;
  } else if (event->event == "error") {
    heard.kind = Heard::Kind::kRefused;
  } else if (event->event == "queued") {
    heard.kind = Heard::Kind::kUndelivered;
  }
  return heard;
}

// `N message(s) was/were kept for you while you were offline; ...`, the
// server's NOTICE before the offline queue's replay (docs/IRC.md).
std::optional<std::uint64_t> irc_queue_count(std::string_view text) {
  std::string_view rest = text;
  const auto count = parse_count(take_word(rest));
  if (!count || !rest.starts_with("message") || rest.find(" kept for you ") == std::string_view::npos) {
    return std::nullopt;
  }
  return count;
}

// Without server-time the IRC door writes a replay's date in front of its
// text: `[YYYY-MM-DD HH:MM:SS] text`. A bench text starts with `s`.
bool irc_dated(std::string_view text) {
  return text.size() > 11 && text[0] == '[' && text[5] == '-' && text[8] == '-' && text[11] == ' ';
}

// `[@tags] [:prefix] COMMAND params [:trailing]`. The bench asks for no
// capability, so there are no tags; it skips them all the same.
Heard hear_irc(std::string_view line) {
  Heard heard;
  if (line.starts_with('@')) take_word(line);
  std::string_view prefix;
  if (line.starts_with(':')) prefix = take_word(line).substr(1);
  const std::string_view nick = prefix.substr(0, prefix.find('!'));
  const std::string_view command = take_word(line);
  // The last parameter: after " :", or the last word.
  const std::size_t trailing_at = line.starts_with(':') ? 0 : line.find(" :");
  const std::string_view middle = trailing_at == std::string_view::npos ? line : line.substr(0, trailing_at);
  const std::string_view trailing = trailing_at == std::string_view::npos
                                        ? std::string_view{}
                                        : line.substr(trailing_at + (trailing_at == 0 ? 1 : 2));
  if (command == "PRIVMSG") {
    std::string_view params = middle;
    const std::string_view target = take_word(params);
    heard.kind = Heard::Kind::kChat;
    if (target.starts_with('#')) heard.room = target;
    if (target.empty() || trailing_at == std::string_view::npos) return heard;  // no sender: corrupt
    heard.name = nick;
    heard.text = trailing;
    heard.replayed = irc_dated(trailing);
  } else if (command == "JOIN") {
    heard.kind = Heard::Kind::kJoined;
    heard.name = nick;
    heard.room = trailing_at == std::string_view::npos ? middle : trailing;
  } else if (command == "PONG") {
    heard.kind = Heard::Kind::kPong;
  } else if (command == "NOTICE") {
    // The server's own notice (no `nick!user@host`), not a user's text.
    if (const auto count = irc_queue_count(trailing); count && prefix.find('!') == std::string_view::npos) {
      heard.kind = Heard::Kind::kQueueCount;
      heard.count = *count;
    }
  } else if (command == "ERROR") {
    heard.kind = Heard::Kind::kRefused;
  } else if (command == "376" || command == "422") {
    heard.kind = Heard::Kind::kWelcome;
  } else if (command == "301") {
    heard.kind = Heard::Kind::kUndelivered;
  } else if (command.size() == 3 && (command[0] == '4' || command[0] == '5')) {
    heard.kind = Heard::Kind::kRefused;
  }
  return heard;
}

}  // namespace

std::optional<Door> door_named(std::string_view name) {
  if (name == "native") return Door::kNative;
  if (name == "irc") return Door::kIrc;
  if (name == "ws") return Door::kWs;
  return std::nullopt;
}

std::string_view door_name(Door door) {
  switch (door) {
    case Door::kIrc: return "irc";
    case Door::kWs: return "ws";
    case Door::kNative: break;
  }
  return "native";
}

void Dialect::append_register(std::string& out, std::string_view name) const {
  if (native_words()) {
    out.append("server:register ").append(name).append("\n");
    return;
  }
  out.append("NICK ").append(name).append("\r\n");
  out.append("USER ").append(name).append(" 0 * :").append(name).append("\r\n");
}

void Dialect::append_join(std::string& out, std::string_view room) const {
  out.append(native_words() ? "server:join " : "JOIN ").append(room);
  end_line(out);
}

void Dialect::append_ping(std::string& out) const {
  if (native_words()) {
    out.append("server:ping\n");
  } else {
    out.append("PING ").append(kIrcPingToken).append("\r\n");
  }
}

void Dialect::begin_say(std::string& out, std::string_view target) const {
  if (native_words()) {
    out.append(target).push_back(':');
  } else {
    out.append("PRIVMSG ").append(target).append(" :");
  }
}

void Dialect::end_line(std::string& out) const { out.append(native_words() ? "\n" : "\r\n"); }

Heard Dialect::hear(std::string_view line) const {
  return native_words() ? hear_native(line) : hear_irc(line);
}

std::optional<ServerEvent> parse_server_event(std::string_view line) {
  if (!line.starts_with(kServerPrefix)) return std::nullopt;
  line.remove_prefix(kServerPrefix.size());
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return ServerEvent{line, {}};
  return ServerEvent{line.substr(0, space), line.substr(space + 1)};
}

std::string_view error_subject(std::string_view args) {
  const std::size_t code_end = args.find(' ');
  if (code_end == std::string_view::npos) return {};
  const std::string_view detail = args.substr(code_end + 1);
  return detail.substr(0, detail.find_first_of(" ,"));
}

std::optional<ChatLine> parse_direct_message(std::string_view line) {
  if (!line.starts_with('[')) return std::nullopt;
  const std::size_t stamp_end = line.find("] ");
  if (stamp_end == std::string_view::npos) return std::nullopt;
  line.remove_prefix(stamp_end + 2);
  const std::size_t colon = line.find(": ");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view sender = line.substr(0, colon);
  // A room line is "#room NAME: TEXT", a broadcast "* NAME: TEXT".
  if (sender.find(' ') != std::string_view::npos) return std::nullopt;
  return ChatLine{sender, line.substr(colon + 2)};
}

std::string indexed_name(std::string_view prefix, std::uint32_t index) {
  std::string name(prefix);
  append_decimal(name, index);
  return name;
}

std::optional<std::uint32_t> name_index(std::string_view prefix, std::string_view name) {
  if (!name.starts_with(prefix)) return std::nullopt;
  const auto count = parse_count(name.substr(prefix.size()));
  if (!count || *count > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(*count);
}

void append_decimal(std::string& out, std::uint64_t value) {
  char digits[20];
  char* end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || status != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace uvchat::bench
