// What a client line asks for, and the error codes of the protocol.
#pragma once

#include <string_view>

namespace uvchat::protocol {

enum class ErrorCode {
  kNotRegistered,
  kAlreadyRegistered,
  kBadName,
  kNameTaken,
  kWrongPassword,
  kNoSuchUser,
  kNotInRoom,
  kEmptyMessage,
  kUnknownCommand,
  kLineTooLong,
  kBadUtf8,
  kQueueFull,
  kServerFull,
  kTooSlow,
  kIdleTimeout,
  kRateLimited,
  kUnavailable,
  kTlsRequired,
};

// The CODE word of `server:error CODE`, e.g. "not-registered".
std::string_view error_code_name(ErrorCode code);

enum class CommandKind {
  kRegister,   // name, password (may be empty)
  kDirect,     // target = name, text
  kRoom,       // target = room, text
  kBroadcast,  // text
  kWho,
  kJoin,   // target = room
  kLeave,  // target = room
  kRooms,
  kMembers,  // target = room
  kHistory,  // target = room or name, count, history_of_room
  kPing,
  kHelp,
  kExit,
  kInvalid,  // error, detail
};

// A parsed line. The views point into the line it was parsed from and are
// valid as long as that line is. A room target is the room's name without
// its `#`.
struct Command {
  CommandKind kind = CommandKind::kInvalid;
  // What the line asked for, even when it was malformed: a bad
  // `server:register x!` is kInvalid attempting kRegister. kInvalid when the
  // line asked for nothing known.
  CommandKind attempted = CommandKind::kInvalid;
  std::string_view target;
  std::string_view text;
  std::string_view password;
  int count = 0;                 // kHistory: 0 when not given
  bool history_of_room = false;  // kHistory: target is a room
  ErrorCode error = ErrorCode::kUnknownCommand;
  std::string_view detail;
  // For kInvalid from the parser: a word of the line to put before detail
  // (the unknown command), so that the parser need not allocate.
  std::string_view detail_subject;
};

}  // namespace uvchat::protocol
