#include "uvchat/client/commands.hpp"

#include <algorithm>
#include <cctype>

#include "uvchat/chat/name_map.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::client {
namespace {

constexpr std::string_view kNoTarget = "no target yet: /msg NAME, /join #room or /all chooses one";

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

// The first word of `text`, and the rest after the blanks that follow it.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  text = trim(text);
  const std::size_t end = text.find_first_of(" \t");
  if (end == std::string_view::npos) return {text, {}};
  return {text.substr(0, end), trim(text.substr(end))};
}

bool is_room(std::string_view target) { return target.starts_with('#'); }

std::string as_room(std::string_view word) {
  return word.starts_with('#') ? std::string(word) : "#" + std::string(word);
}

bool is_count(std::string_view word) {
  return !word.empty() && word.size() <= 3 && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// `NAME: text`, `#room: text`, `*: text`, `server:...`: what is before the
// colon names a target, so the line goes out as it is.
bool is_wire_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view target = line.substr(0, colon);
  return target == "*" || protocol::is_valid_room(target) || protocol::is_valid_name(target);
}

Typed note(std::string text) {
  Typed typed;
  typed.notes.push_back(std::move(text));
  return typed;
}

Typed simple(std::string line) {
  Typed typed;
  typed.wire.push_back(std::move(line));
  return typed;
}

Typed message(std::string_view target, std::string_view text) {
  if (target.empty()) return note(std::string(kNoTarget));
  Typed typed;
  typed.wire.push_back(std::string(target) + ": " + std::string(text));
  return typed;
}

Typed msg_command(std::string_view args) {
  const auto [name, text] = split_word(args);
  if (name.empty()) return note("usage: /msg NAME [text]");
  Typed typed = text.empty() ? Typed{} : message(name, text);
  typed.changes_target = true;
  typed.target = std::string(name);
  return typed;
}

Typed join_command(std::string_view args) {
  const auto [room, rest] = split_word(args);
  if (room.empty()) return note("usage: /join #room");
  Typed typed;
  typed.wire.push_back("server:join " + as_room(room));
  typed.changes_target = true;
  typed.target = as_room(room);
  return typed;
}

// The room a command names, or the current target when it is a room; ""
// for neither.
std::string named_or_current_room(std::string_view args, std::string_view target) {
  const std::string_view word = split_word(args).first;
  if (!word.empty()) return as_room(word);
  return is_room(target) ? std::string(target) : std::string();
}

Typed leave_command(std::string_view args, std::string_view target) {
  const std::string room = named_or_current_room(args, target);
  if (room.empty()) return note("usage: /leave #room");
  Typed typed = simple("server:leave " + room);
  if (chat::CaseInsensitiveEqual{}(room, target)) typed.changes_target = true;
  return typed;
}

Typed members_command(std::string_view args, std::string_view target) {
  const std::string room = named_or_current_room(args, target);
  if (room.empty()) return note("usage: /members #room");
  return simple("server:members " + room);
}

// /history [TARGET] [N]
Typed history_command(std::string_view args, std::string_view target) {
  auto [first, rest] = split_word(args);
  std::string_view of = target;
  std::string_view count;
  if (is_count(first) && rest.empty()) {
    count = first;
  } else if (!first.empty()) {
    of = first;
    count = split_word(rest).first;
  }
  if (of.empty() || of == "*") return note("usage: /history #room|NAME [N]");
  if (!count.empty() && !is_count(count)) return note("usage: /history #room|NAME [N]");
  Typed typed;
  typed.wire.push_back("server:history " + std::string(of) + (count.empty() ? "" : " " + std::string(count)));
  return typed;
}

Typed command(std::string_view line, std::string_view target) {
  const auto [word, args] = split_word(line);
  if (word == "/msg") return msg_command(args);
  if (word == "/join") return join_command(args);
  if (word == "/leave") return leave_command(args, target);
  if (word == "/members") return members_command(args, target);
  if (word == "/history") return history_command(args, target);
  if (word == "/who") return simple("server:who");
  if (word == "/rooms") return simple("server:rooms");
  if (word == "/all") {
    Typed typed;
    typed.changes_target = true;
    typed.target = "*";
    return typed;
  }
  if (word == "/help") {
    Typed typed;
    typed.notes = help_text();
    return typed;
  }
  if (word == "/quit") {
    Typed typed;
    typed.quit = true;
    return typed;
  }
  return note("unknown command " + std::string(word) + "; /help lists the commands");
}

}  // namespace

Typed interpret(std::string_view typed, std::string_view target) {
  const std::string_view line = trim(typed);
  if (line.empty()) return {};
  // `//text` sends `/text`.
  if (line.starts_with("//")) return message(target, line.substr(1));
  if (line.starts_with('/')) return command(line, target);
  if (is_wire_line(line)) return simple(std::string(line));
  return message(target, line);
}

const std::vector<std::string>& help_text() {
  static const std::vector<std::string> lines = {
      "text                   to the current target (shown in the prompt)",
      "NAME: text             a message to NAME; #room: text and *: text likewise",
      "/msg NAME [text]       talk to NAME from now on (and send text)",
      "/join #room            join a room and talk there",
      "/leave [#room]         leave a room (the current one)",
      "/all                   talk to everyone online",
      "/who, /rooms           who is online; which rooms exist",
      "/members [#room]       who is in a room",
      "/history [TARGET] [N]  the last N messages of a room or with a name",
      "/quit                  leave (Ctrl-D and Ctrl-C too)",
      "//text                 send text that starts with /",
  };
  return lines;
}

}  // namespace uvchat::client
