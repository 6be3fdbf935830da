#include "uvchat/protocol/parser.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "uvchat/protocol/text.hpp"

namespace uvchat::protocol {
namespace {

constexpr std::string_view kSpaces = " \t";
constexpr std::string_view kReservedHint = "server and all are reserved";

// Splits off the first word of `text`; `text` keeps the rest, untrimmed.
std::string_view next_word(std::string_view& text) {
  const std::size_t start = text.find_first_not_of(kSpaces);
  if (start == std::string_view::npos) {
    text = {};
    return {};
  }
  text.remove_prefix(start);
  const std::size_t end = std::min(text.find_first_of(kSpaces), text.size());
  const std::string_view word = text.substr(0, end);
  text.remove_prefix(end);
  return word;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

Command invalid(ErrorCode error, std::string_view detail = {}, std::string_view subject = {}) {
  Command command;
  command.kind = CommandKind::kInvalid;
  command.error = error;
  command.detail = detail;
  command.detail_subject = subject;
  return command;
}

Command attempting(CommandKind kind, Command command) {
  command.attempted = kind;
  return command;
}

Command with_target(CommandKind kind, std::string_view target) {
  Command command;
  command.kind = kind;
  command.target = target;
  return command;
}

// A name, or why it is not one.
std::optional<Command> check_name(std::string_view name) {
  if (!is_valid_name(name)) return invalid(ErrorCode::kBadName, kNameRule);
  if (is_reserved_name(name)) return invalid(ErrorCode::kBadName, kReservedHint);
  return std::nullopt;
}

// A room word as typed after a server command: `#team` or `team`. The
// command's target is the room name without its `#`.
Command room_command(CommandKind kind, std::string_view word, std::string_view usage) {
  if (word.empty()) return invalid(ErrorCode::kBadName, usage);
  const std::string_view name = (word.front() == '#') ? word.substr(1) : word;
  if (!is_valid_name(name)) return invalid(ErrorCode::kBadName, kRoomRule);
  return with_target(kind, name);
}

Command parse_register(std::string_view args) {
  const std::string_view name = next_word(args);
  if (name.empty()) return invalid(ErrorCode::kBadName, "usage: server:register NAME [PASSWORD]");
  if (auto error = check_name(name)) return *error;
  Command command = with_target(CommandKind::kRegister, name);
  command.password = trim(args);
  return command;
}

Command parse_history(std::string_view args) {
  constexpr std::string_view kUsage = "usage: server:history #ROOM|NAME [N], N from 1 to 500";
  const std::string_view target = next_word(args);
  if (target.empty()) return invalid(ErrorCode::kBadName, kUsage);
  const bool is_room = target.front() == '#';
  if (is_room && !is_valid_room(target)) return invalid(ErrorCode::kBadName, kRoomRule);
  if (!is_room) {
    if (auto error = check_name(target)) return *error;
  }
  Command command = with_target(CommandKind::kHistory, is_room ? target.substr(1) : target);
  command.history_of_room = is_room;
  const std::string_view count = next_word(args);
  if (count.empty()) return command;
  int value = 0;
  const auto [end, status] = std::from_chars(count.data(), count.data() + count.size(), value);
  if (status != std::errc{} || end != count.data() + count.size() || value < 1) {
    return invalid(ErrorCode::kUnknownCommand, kUsage);
  }
  command.count = std::min(value, kMaxHistoryCount);
  return command;
}

Command parse_server_command(std::string_view rest) {
  const std::string_view word = next_word(rest);
  struct Simple {
    std::string_view word;
    CommandKind kind;
  };
  static constexpr Simple kSimple[] = {
      {"who", CommandKind::kWho},   {"rooms", CommandKind::kRooms}, {"ping", CommandKind::kPing},
      {"help", CommandKind::kHelp}, {"exit", CommandKind::kExit},
  };
  for (const Simple& simple : kSimple) {
    if (iequals(word, simple.word)) return with_target(simple.kind, {});
  }
  if (iequals(word, "register")) return attempting(CommandKind::kRegister, parse_register(rest));
  if (iequals(word, "history")) return attempting(CommandKind::kHistory, parse_history(rest));
  struct RoomCommand {
    std::string_view word;
    CommandKind kind;
    std::string_view usage;
  };
  static constexpr RoomCommand kRoomCommands[] = {
      {"join", CommandKind::kJoin, "usage: server:join #ROOM"},
      {"leave", CommandKind::kLeave, "usage: server:leave #ROOM"},
      {"members", CommandKind::kMembers, "usage: server:members #ROOM"},
  };
  for (const RoomCommand& room : kRoomCommands) {
    if (iequals(word, room.word)) {
      return attempting(room.kind, room_command(room.kind, next_word(rest), room.usage));
    }
  }
  return invalid(ErrorCode::kUnknownCommand, "try server:help", word);
}

// NAME:TEXT, #ROOM:TEXT or *:TEXT.
Command parse_message(std::string_view target, std::string_view text) {
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  Command command;
  if (target == "*") {
    command.kind = CommandKind::kBroadcast;
  } else if (!target.empty() && target.front() == '#') {
    if (!is_valid_room(target))
      return attempting(CommandKind::kRoom, invalid(ErrorCode::kBadName, kRoomRule));
    command = with_target(CommandKind::kRoom, target.substr(1));
  } else {
    if (auto error = check_name(target)) return attempting(CommandKind::kDirect, *error);
    command = with_target(CommandKind::kDirect, target);
  }
  if (is_blank(text)) return attempting(command.kind, invalid(ErrorCode::kEmptyMessage));
  command.text = text;
  return command;
}

}  // namespace

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotRegistered: return "not-registered";
    case ErrorCode::kAlreadyRegistered: return "already-registered";
    case ErrorCode::kBadName: return "bad-name";
    case ErrorCode::kNameTaken: return "name-taken";
    case ErrorCode::kWrongPassword: return "wrong-password";
    case ErrorCode::kNoSuchUser: return "no-such-user";
    case ErrorCode::kNotInRoom: return "not-in-room";
    case ErrorCode::kEmptyMessage: return "empty-message";
    case ErrorCode::kUnknownCommand: return "unknown-command";
    case ErrorCode::kLineTooLong: return "line-too-long";
    case ErrorCode::kBadUtf8: return "bad-utf8";
    case ErrorCode::kQueueFull: return "queue-full";
    case ErrorCode::kServerFull: return "server-full";
    case ErrorCode::kTooSlow: return "too-slow";
    case ErrorCode::kIdleTimeout: return "idle-timeout";
    case ErrorCode::kRateLimited: return "rate-limited";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTlsRequired: return "tls-required";
  }
  return "unknown-command";
}

Command parse_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return invalid(ErrorCode::kUnknownCommand, "expected NAME:TEXT, #ROOM:TEXT or *:TEXT, try server:help");
  }
  const std::string_view target = trim(line.substr(0, colon));
  const std::string_view rest = line.substr(colon + 1);
  Command command = iequals(target, "server") ? parse_server_command(rest) : parse_message(target, rest);
  if (command.kind != CommandKind::kInvalid) command.attempted = command.kind;
  return command;
}

}  // namespace uvchat::protocol
