#include "uvchat/door/classic.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "uvchat/protocol/parser.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::door {
namespace {

using chat::EventKind;
using chat::MessageKind;
using protocol::Command;
using protocol::CommandKind;
using protocol::ErrorCode;


constexpr std::string_view kCommands =
    "send JOIN:name, MESSAGE:text, PRIVATE:user:text, JOIN_ROOM:room, LIST_USERS or QUIT";
constexpr std::string_view kRoomRule = "rooms are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit";

// What an error quotes of the client's line: at most this many bytes, cut
// on a character's boundary, so that a 4 KB mistake is not sent back whole.
constexpr std::size_t kMaxQuoted = 40;

std::string_view quoted(std::string_view text) { return protocol::utf8_prefix(text, kMaxQuoted); }

// ERROR:WORDS[: SUBJECT][, DETAIL] and its LF.
std::string error_line(std::string_view words, std::string_view subject = {}, std::string_view detail = {}) {
  std::string line = "ERROR:";
  line += words;
  if (!subject.empty()) line.append(": ").append(subject);
  if (!detail.empty()) line.append(", ").append(detail);
  line += '\n';
  return line;
}

Command command_of(CommandKind kind, std::string_view target = {}, std::string_view text = {}) {
  Command command;
  command.kind = kind;
  command.attempted = kind;
  command.target = target;
  command.text = text;
  return command;
}

// The hub's error codes in the dialect's words. The hub's detail is kept
// where it says something about this user's situation; where it names a
// native command (`register first: server:register NAME`) it is not.
struct ErrorWords {
  std::string_view words;
  bool keep_detail = true;
};

ErrorWords words_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotRegistered: return {"not joined yet, send JOIN:name first", false};
    case ErrorCode::kAlreadyRegistered: return {"already joined"};
    case ErrorCode::kBadName: return {"bad name"};
    case ErrorCode::kNameTaken: return {"name taken"};
    case ErrorCode::kWrongPassword: return {"name has a password"};
    case ErrorCode::kNoSuchUser: return {"no such user"};
    case ErrorCode::kNotInRoom: return {"not in room"};
    case ErrorCode::kEmptyMessage: return {"empty message"};
    case ErrorCode::kUnknownCommand: return {"unknown command"};
    case ErrorCode::kLineTooLong: return {"line too long"};
    case ErrorCode::kBadUtf8: return {"line not UTF-8"};
    case ErrorCode::kQueueFull: return {"offline queue full"};
    case ErrorCode::kServerFull: return {"server full"};
    case ErrorCode::kTooSlow: return {"too slow reading, disconnected"};
    case ErrorCode::kIdleTimeout: return {"idle timeout"};
    case ErrorCode::kRateLimited: return {"rate limited"};
    case ErrorCode::kUnavailable: return {"unavailable"};
    case ErrorCode::kTlsRequired: return {"TLS required"};
  }
  return {"error"};
}

// NAME [STAMP]: TEXT
void chat_line(std::string& lines, std::string_view sender, std::string_view stamp, std::string_view text) {
  lines.append(sender).append(" [").append(stamp).append("]: ").append(text) += '\n';
}

// PRIVATE:SENDER:TEXT
void private_line(std::string& lines, std::string_view sender, std::string_view text) {
  lines.append("PRIVATE:").append(sender).append(":").append(text) += '\n';
}

}  // namespace

ClassicCodec::ClassicCodec(const Settings& settings) : settings_(settings), times_(settings.utc) {}

chat::SessionTraits ClassicCodec::traits() const {
  return {.echo = true,
          .lobby_history = static_cast<std::int16_t>(
              std::clamp(settings_.history_on_join, 0, int{std::numeric_limits<std::int16_t>::max()}))};
}

void ClassicCodec::on_frame(const protocol::Frame& frame, CodecSink& sink) {
  switch (frame.kind) {
    case protocol::FrameKind::kLine: on_line(frame.line, sink); return;
    case protocol::FrameKind::kTooLong:
      sink.reply(
          error_line("line too long", {}, "the limit is " + std::to_string(settings_.max_line) + " bytes"));
      return;
    case protocol::FrameKind::kBadUtf8: sink.reply(error_line("line not UTF-8, ignored")); return;
  }
}

void ClassicCodec::on_line(std::string_view line, CodecSink& sink) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    // The two commands without an argument. A trailing CR is the framer's
    // to drop; trailing spaces are ours.
    const std::string_view word = protocol::trim(line);
    if (word == "LIST_USERS") {
      sink.command(command_of(CommandKind::kWho));
    } else if (word == "QUIT") {
      sink.command(command_of(CommandKind::kExit));
    } else {
      sink.reply(error_line("unknown command", quoted(word), kCommands));
    }
    return;
  }
  const std::string_view word = protocol::trim(line.substr(0, colon));
  const std::string_view argument = line.substr(colon + 1);

  if (word == "JOIN") {
    const std::string_view name = protocol::trim(argument);
    if (!protocol::is_valid_name(name)) {
      sink.reply(error_line("bad name", quoted(name), protocol::kNameRule));
    } else if (protocol::is_reserved_name(name)) {
      sink.reply(error_line("bad name", name, "server and all are reserved"));
    } else {
      sink.command(command_of(CommandKind::kRegister, name));
    }
  } else if (word == "MESSAGE") {
    // The text goes as it came, spaces and all: the exercise's clients put
    // nothing between the colon and the text.
    if (protocol::is_blank(argument)) {
      sink.reply(error_line("empty message"));
    } else if (room_.empty()) {
      sink.command(command_of(CommandKind::kBroadcast, {}, argument));
    } else {
      sink.command(command_of(CommandKind::kRoom, room_, argument));
    }
  } else if (word == "PRIVATE") {
    const std::size_t second = argument.find(':');
    if (second == std::string_view::npos) {
      sink.reply(error_line("usage: PRIVATE:user:text"));
      return;
    }
    const std::string_view user = protocol::trim(argument.substr(0, second));
    const std::string_view text = argument.substr(second + 1);
    // A name that cannot be registered is nobody's.
    if (!protocol::is_valid_name(user) || protocol::is_reserved_name(user)) {
      sink.reply(error_line("no such user", quoted(user)));
    } else if (protocol::is_blank(text)) {
      sink.reply(error_line("empty message"));
    } else {
      sink.command(command_of(CommandKind::kDirect, user, text));
    }
  } else if (word == "JOIN_ROOM") {
    on_join_room(argument, sink);
  } else {
    sink.reply(error_line("unknown command", quoted(word), kCommands));
  }
}

// One current room: the codec leaves the last before it joins the next.
// The room is remembered as the command goes to the hub, not when
// JOINED_ROOM comes back: that can wait behind the offline queue's replay,
// and a MESSAGE: sent meanwhile belongs in the new room.
void ClassicCodec::on_join_room(std::string_view argument, CodecSink& sink) {
  std::string_view room = protocol::trim(argument);
  if (!room.empty() && room.front() == '#') room.remove_prefix(1);
  if (!protocol::is_valid_name(room)) {
    sink.reply(error_line("bad room name", quoted(room), kRoomRule));
    return;
  }
  // Before JOIN: the hub says `not joined yet`, and nothing changes here.
  if (name_.empty()) {
    sink.command(command_of(CommandKind::kJoin, room));
    return;
  }
  if (!room_.empty() && !protocol::equal_case_insensitive(room_, room)) {
    sink.command(command_of(CommandKind::kLeave, room_));
  }
  room_.assign(room);
  sink.command(command_of(CommandKind::kJoin, room_));
}

chat::Payload ClassicCodec::render(const chat::EventRef& event) {
  switch (event->kind) {
    case EventKind::kWelcome: name_ = event->name; break;
    case EventKind::kJoined:
      // The one event whose line depends on who reads it: the joiner gets
      // JOINED_ROOM, the room's other members nothing. So it is never put
      // in the event's shared cache.
      if (!name_.empty() && protocol::equal_case_insensitive(event->name, name_)) {
        return chat::make_payload("JOINED_ROOM:" + event->target + "\n");
      }
      return nullptr;
    case EventKind::kReply:
      // The codec's own lines, for this session only: no copy.
      return event->text().empty() ? nullptr : event->text_payload();
    default: break;
  }
  return chat::render_once(event, kClassicStyle, [&](std::string& lines) { render_shared(*event, lines); });
}

void ClassicCodec::render_shared(const chat::Event& event, std::string& lines) {
  switch (event.kind) {
    case EventKind::kChat:
      // A replay may be days old, so it shows its date; a student's client
      // that shows the line as it comes shows that too.
      if (event.scope == MessageKind::kDirect) {
        if (!event.replayed) {
          private_line(lines, event.sender, event.text());
          return;
        }
        std::string dated = "[";
        dated.append(times_.date_and_time(event.when)).append("] ").append(event.text());
        private_line(lines, event.sender, dated);
        return;
      }
      chat_line(lines, event.sender,
                event.replayed ? times_.date_and_time(event.when) : times_.time_of_day(event.when),
                event.text());
      return;
    case EventKind::kWelcome: lines.append("JOINED:").append(event.name) += '\n'; return;
    case EventKind::kOnline: lines.append("USER_JOINED:").append(event.name) += '\n'; return;
    case EventKind::kOffline: lines.append("USER_LEFT:").append(event.name) += '\n'; return;
    case EventKind::kUsers:
      lines += "USERS:";
      for (std::size_t i = 0; i < event.names.size(); ++i) {
        if (i > 0) lines += ',';
        lines += event.names[i];
      }
      lines += '\n';
      return;
    case EventKind::kQueued:
      // The dialect has no word for it, but silence would let the sender
      // believe the DM was read. A PRIVATE line is one the client already
      // shows, and `server` is a name nobody can take.
      private_line(lines, "server", event.name + " is offline and gets your message when they next join");
      return;
    case EventKind::kMissed:
      lines += error_line(std::to_string(event.count) +
                          " lines for you were dropped while your client read too slowly");
      return;
    case EventKind::kShutdown: lines += error_line("server shutting down"); return;
    case EventKind::kError: {
      const ErrorWords words = words_of(event.code);
      lines += error_line(words.words, event.target, words.keep_detail ? event.text() : std::string_view());
      return;
    }
    // Nothing the dialect asks for, or the lines themselves follow
    // (kQueuedMessages, kHistory); kLeft says nothing that kOffline or
    // JOINED_ROOM does not; kBye: the connection closes.
    case EventKind::kQueuedMessages:
    case EventKind::kHistory:
    case EventKind::kJoined:
    case EventKind::kLeft:
    case EventKind::kMembers:
    case EventKind::kRooms:
    case EventKind::kPong:
    case EventKind::kHelp:
    case EventKind::kBye:
    case EventKind::kReply: return;
  }
}

}  // namespace uvchat::door
