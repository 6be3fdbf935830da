// The IRC door, lines in: registration (PASS, NICK, USER, CAP) and the
// commands clients send once registered, as hub commands or as answers the
// codec gives by itself. docs/IRC.md says what is supported and why.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "uvchat/door/irc.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::door {

using protocol::Command;
using protocol::CommandKind;
using protocol::equal_case_insensitive;

namespace {

// What the framer leaves of a \x01 (CTCP's delimiter): U+FFFD.
constexpr std::string_view kCtcpMark = "\xEF\xBF\xBD";
constexpr std::string_view kActionStart = "\xEF\xBF\xBD" "ACTION ";

// The commands a client may send before it is registered (RFC 2812 3.1):
// the rest get 451, which is what irssi's early `JOIN :` probe expects.
bool allowed_before_registration(std::string_view command) {
  for (const std::string_view allowed : {"CAP", "NICK", "USER", "PASS", "PING", "PONG", "QUIT"}) {
    if (equal_case_insensitive(command, allowed)) return true;
  }
  return false;
}

bool is_nick(std::string_view name) { return protocol::is_valid_name(name) && !protocol::is_reserved_name(name); }

// Splits "a,b,c" into its non-empty parts.
template <typename Each>
void for_each_target(std::string_view list, Each&& each) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view part = list.substr(0, comma);
    if (!part.empty()) each(part);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

std::size_t count_targets(std::string_view list) {
  std::size_t count = 0;
  for_each_target(list, [&](std::string_view) { ++count; });
  return count;
}

Command with_target(CommandKind kind, std::string_view target) {
  Command command;
  command.kind = kind;
  command.attempted = kind;
  command.target = target;
  return command;
}

}  // namespace

// One IRC message (RFC 1459 2.3.1, with IRCv3 tags): `@tags :prefix
// COMMAND params :trailing`. A client's tags and prefix say nothing the
// server believes, and are skipped. The views point into the frame's line.
struct IrcCodec::Line {
  static constexpr std::size_t kMaxParams = 15;
  std::string_view command;
  std::array<std::string_view, kMaxParams> params{};
  std::size_t count = 0;

  std::string_view param(std::size_t index) const { return index < count ? params[index] : std::string_view{}; }
  std::string_view last() const { return count == 0 ? std::string_view{} : params[count - 1]; }

  explicit Line(std::string_view text) {
    const auto skip_spaces = [&] {
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    };
    const auto take_word = [&] {
      const std::size_t space = text.find(' ');
      const std::string_view word = text.substr(0, space);
      text.remove_prefix(space == std::string_view::npos ? text.size() : space);
      return word;
    };
    skip_spaces();
    if (text.starts_with('@')) take_word();
    skip_spaces();
    if (text.starts_with(':')) take_word();
    skip_spaces();
    command = take_word();
    while (count < kMaxParams) {
      skip_spaces();
      if (text.empty()) break;
      // The last of fifteen takes the rest, as if it were a trailing one.
      if (text.front() == ':' || count == kMaxParams - 1) {
        params[count++] = text.front() == ':' ? text.substr(1) : text;
        break;
      }
      params[count++] = take_word();
    }
  }
};

void IrcCodec::on_frame(const protocol::Frame& frame, CodecSink& sink) {
  switch (frame.kind) {
    case protocol::FrameKind::kLine: on_line(frame.line, sink); return;
    case protocol::FrameKind::kTooLong: reply_numeric(sink, "417", {}, "Input line was too long"); return;
    case protocol::FrameKind::kBadUtf8: {
      std::string lines = ":" + settings_.server_name + " NOTICE " + std::string(client()) +
                          " :That line was not UTF-8, and was dropped\r\n";
      sink.reply(std::move(lines));
      return;
    }
  }
}

void IrcCodec::on_line(std::string_view text, CodecSink& sink) {
  const Line line(text);
  const std::string_view command = line.command;
  if (command.empty()) return;
  const auto is = [&](std::string_view name) { return equal_case_insensitive(command, name); };

  // Until the hub has said welcome the codec answers by itself: the hub
  // would only say not-registered, in the native door's words.
  if (stage_ != Stage::kRegistered && !allowed_before_registration(command)) {
    reply_numeric(sink, "451", {}, "You have not registered");
    return;
  }
  if (is("CAP") || is("NICK") || is("USER") || is("PASS")) {
    on_registration(line, sink);
  } else if (is("PING")) {
    if (line.count == 0) {
      reply_numeric(sink, "409", {}, "No origin specified");
      return;
    }
    constexpr std::size_t kLongestToken = 400;
    sink.reply(":" + settings_.server_name + " PONG " + settings_.server_name + " :" +
               std::string(protocol::utf8_prefix(line.param(0), kLongestToken)) + "\r\n");
  } else if (is("PONG")) {
    // The codec sends no PING of its own: the hub's idle timeout counts
    // any line, and a client's PONG to nothing is harmless.
  } else if (is("QUIT")) {
    sink.command(with_target(CommandKind::kExit, {}));
  } else if (is("PRIVMSG") || is("NOTICE")) {
    on_message(line, is("NOTICE"), sink);
  } else if (is("JOIN")) {
    on_join(line, sink);
  } else if (is("PART")) {
    on_part(line, sink);
  } else if (is("NAMES")) {
    on_names(line, sink);
  } else if (is("WHO") || is("WHOIS")) {
    on_who(line, is("WHOIS"), sink);
  } else if (is("LIST")) {
    // Every room, whatever the arguments: there are few, and no modes.
    sink.command(with_target(CommandKind::kRooms, {}));
  } else if (is("MODE")) {
    on_mode(line, sink);
  } else if (is("TOPIC")) {
    on_topic(line, sink);
  } else {
    reply_numeric(sink, "421", {command}, "Unknown command");
  }
}

// ---- Registration ----

void IrcCodec::on_registration(const Line& line, CodecSink& sink) {
  const auto is = [&](std::string_view name) { return equal_case_insensitive(line.command, name); };
  if (is("CAP")) {
    on_cap(line, sink);
    return;
  }
  if (is("NICK")) {
    on_nick(line, sink);
    return;
  }
  if (stage_ == Stage::kRegistered) {
    reply_numeric(sink, "462", {}, "You may not reregister");
    return;
  }
  if (is("PASS")) {
    if (line.count < 1) {
      reply_numeric(sink, "461", {"PASS"}, "Not enough parameters");
      return;
    }
    password_ = line.param(0);
    return;
  }
  // USER username mode unused :realname. Only that it came matters: a
  // uvchat user is a name, which the nick is.
  if (line.count < 4) {
    reply_numeric(sink, "461", {"USER"}, "Not enough parameters");
    return;
  }
  user_given_ = true;
  try_register(sink);
}

void IrcCodec::on_nick(const Line& line, CodecSink& sink) {
  const std::string_view wanted = line.param(0);
  if (wanted.empty()) {
    reply_numeric(sink, "431", {}, "No nickname given");
    return;
  }
  if (stage_ == Stage::kRegistered) {
    // The nick is the uvchat name the session registered: changing it
    // would be a new registration. 447 is a refusal clients show and
    // then carry on with the old nick, which they keep until told NICK.
    if (wanted != nick_) reply_numeric(sink, "447", {}, "You cannot change your nick here: it is your uvchat name");
    return;
  }
  if (!is_nick(wanted)) {
    reply_numeric(sink, "432", {wanted}, "Erroneous nickname: 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit");
    return;
  }
  nick_ = wanted;
  try_register(sink);
}

void IrcCodec::on_cap(const Line& line, CodecSink& sink) {
  const std::string_view sub = line.param(0);
  const std::string prefix = ":" + settings_.server_name + " CAP " + std::string(client()) + " ";
  const auto is = [&](std::string_view name) { return equal_case_insensitive(sub, name); };
  if (is("LS") || is("REQ")) {
    // Either one before registration holds it until CAP END (IRCv3
    // capability negotiation).
    if (stage_ == Stage::kNew) cap_open_ = true;
  }
  if (is("LS")) {
    sink.reply(prefix + "LS :" + std::string(kCaps) + "\r\n");
  } else if (is("LIST")) {
    sink.reply(prefix + "LIST :" + (server_time_ ? std::string(kCaps) : std::string()) + "\r\n");
  } else if (is("REQ")) {
    // All or nothing: one unknown capability refuses the whole request.
    const std::string_view asked = line.param(1);
    bool known = true;
    bool wants_time = server_time_;
    std::size_t start = 0;
    while (start < asked.size()) {
      std::size_t end = asked.find(' ', start);
      if (end == std::string_view::npos) end = asked.size();
      std::string_view cap = asked.substr(start, end - start);
      start = end + 1;
      if (cap.empty()) continue;
      const bool removing = cap.front() == '-';
      if (removing) cap.remove_prefix(1);
      if (cap != "server-time") {
        known = false;
        break;
      }
      wants_time = !removing;
    }
    if (known) server_time_ = wants_time;
    constexpr std::size_t kLongestCaps = 400;
    sink.reply(prefix + (known ? "ACK :" : "NAK :") + std::string(protocol::utf8_prefix(asked, kLongestCaps)) + "\r\n");
  } else if (is("END")) {
    cap_open_ = false;
    try_register(sink);
  } else {
    reply_numeric(sink, "410", {sub.empty() ? std::string_view("*") : sub}, "Invalid CAP command");
  }
}

void IrcCodec::try_register(CodecSink& sink) {
  if (stage_ != Stage::kNew || cap_open_ || !user_given_ || nick_.empty()) return;
  Command command = with_target(CommandKind::kRegister, nick_);
  command.password = password_;
  stage_ = Stage::kRegistering;
  sink.command(command);
}

// ---- Messages ----

void IrcCodec::on_message(const Line& line, bool notice, CodecSink& sink) {
  if (line.count < 1 || line.param(0).empty()) {
    if (!notice) reply_numeric(sink, "411", {}, "No recipient given (PRIVMSG)");
    return;
  }
  std::string_view text = line.param(1);
  if (protocol::is_blank(text)) {
    if (!notice) reply_numeric(sink, "412", {}, "No text to send");
    return;
  }
  if (count_targets(line.param(0)) > kMaxTargets) {
    if (!notice) reply_numeric(sink, "407", {line.param(0)}, "Too many targets");
    return;
  }
  // CTCP, which the framer left as U+FFFD: /me becomes "* nick waves",
  // which every door shows as an action (and irc_render.cpp turns back
  // into one); VERSION, PING and the other queries are dropped, as they
  // mean nothing to a user on another door and there is no one to answer.
  if (text.starts_with(kCtcpMark)) {
    if (!text.starts_with(kActionStart)) return;
    text.remove_prefix(kActionStart.size());
    if (text.ends_with(kCtcpMark)) text.remove_suffix(kCtcpMark.size());
    if (protocol::is_blank(text)) return;
    scratch_ = "* " + nick_ + " ";
    scratch_.append(text);
    text = scratch_;
  }
  bool quiet = false;
  for_each_target(line.param(0), [&](std::string_view target) {
    const std::optional<Command> command = message_command(target, text, notice, sink);
    if (!command) return;
    if (notice && !quiet) {
      sink.reply(std::string(irc::kQuietOn));
      quiet = true;
    }
    sink.command(*command);
  });
  if (quiet) sink.reply(std::string(irc::kQuietOff));
}

std::optional<Command> IrcCodec::message_command(std::string_view target, std::string_view text, bool notice,
                                                 CodecSink& sink) {
  Command command;
  if (target == "$*") {
    // A server mask, as IRC operators address everyone: uvchat's `*:`.
    command = with_target(CommandKind::kBroadcast, {});
  } else if (target.front() == '#') {
    if (!protocol::is_valid_room(target)) {
      if (!notice) reply_numeric(sink, "403", {target}, "No such channel");
      return std::nullopt;
    }
    command = with_target(CommandKind::kRoom, target.substr(1));
    not_in_room_ = "404";
  } else {
    if (!is_nick(target)) {
      if (!notice) reply_numeric(sink, "401", {target}, "No such nick/channel");
      return std::nullopt;
    }
    command = with_target(CommandKind::kDirect, target);
  }
  command.text = text;
  return command;
}

// ---- Rooms ----

template <typename Each>
void IrcCodec::for_each_room(std::string_view command, std::string_view rooms, CodecSink& sink, Each&& each) {
  if (rooms.empty()) {
    reply_numeric(sink, "461", {command}, "Not enough parameters");
    return;
  }
  if (count_targets(rooms) > kMaxTargets) {
    reply_numeric(sink, "407", {rooms}, "Too many targets");
    return;
  }
  for_each_target(rooms, [&](std::string_view room) {
    if (!protocol::is_valid_room(room)) {
      reply_numeric(sink, "403", {room}, "No such channel: a room is # and 1-32 of A-Z a-z 0-9 _ . -");
      return;
    }
    each(room.substr(1));
  });
}

void IrcCodec::on_join(const Line& line, CodecSink& sink) {
  const std::string_view rooms = line.param(0);
  if (rooms == "0") {
    // Leave every room (RFC 2812 3.2.1). Copied: kLeft answers change rooms_
    // only when rendered, but the copy keeps this loop simple to read.
    const std::vector<std::string> joined = rooms_;
    for (const std::string& room : joined) {
      not_in_room_ = "442";
      sink.command(with_target(CommandKind::kLeave, room));
    }
    return;
  }
  for_each_room("JOIN", rooms, sink, [&](std::string_view room) {
    // The hub answers a join with joined, then the members: shown as NAMES.
    members_forms_.push_back(MembersForm::kNames);
    sink.command(with_target(CommandKind::kJoin, room));
  });
}

void IrcCodec::on_part(const Line& line, CodecSink& sink) {
  for_each_room("PART", line.param(0), sink, [&](std::string_view room) {
    not_in_room_ = "442";
    sink.command(with_target(CommandKind::kLeave, room));
  });
}

void IrcCodec::on_names(const Line& line, CodecSink& sink) {
  const std::string_view rooms = line.param(0);
  if (rooms.empty() || count_targets(rooms) > kMaxTargets) {
    // NAMES of every channel is not offered: LIST says which rooms there are.
    reply_numeric(sink, "366", {"*"}, "End of /NAMES list");
    return;
  }
  for_each_target(rooms, [&](std::string_view room) {
    if (!protocol::is_valid_room(room)) {
      reply_numeric(sink, "366", {room}, "End of /NAMES list");
      return;
    }
    members_forms_.push_back(MembersForm::kNames);
    sink.command(with_target(CommandKind::kMembers, room.substr(1)));
  });
}

// WHO #room: the room's members. WHO nick, WHO (or * or 0: everyone) and
// WHOIS nick: the users online, picked from when the answer comes.
void IrcCodec::on_who(const Line& line, bool whois, CodecSink& sink) {
  // WHOIS may name a server first: the nick is the last parameter.
  std::string_view mask = whois ? line.last() : line.param(0);
  if (whois && mask.empty()) {
    reply_numeric(sink, "431", {}, "No nickname given");
    return;
  }
  if (!whois && !mask.empty() && mask.front() == '#') {
    if (!protocol::is_valid_room(mask)) {
      reply_numeric(sink, "315", {mask}, "End of /WHO list");
      return;
    }
    members_forms_.push_back(MembersForm::kWho);
    sink.command(with_target(CommandKind::kMembers, mask.substr(1)));
    return;
  }
  if (!whois && (mask == "*" || mask == "0")) mask = {};
  users_queries_.push_back(UsersQuery{whois, std::string(mask)});
  sink.command(with_target(CommandKind::kWho, {}));
}

// ---- What uvchat has no notion of, answered so that clients stay calm ----

void IrcCodec::on_mode(const Line& line, CodecSink& sink) {
  const std::string_view target = line.param(0);
  const std::string_view change = line.param(1);
  if (target.empty()) {
    reply_numeric(sink, "461", {"MODE"}, "Not enough parameters");
    return;
  }
  if (target.front() != '#') {
    // irssi sends `MODE nick +i` after connecting: there are no user modes
    // to set, and the answer is what they are, none.
    if (!equal_case_insensitive(target, nick_)) {
      reply_numeric(sink, "502", {}, "Can't change mode for other users");
      return;
    }
    std::string lines;
    numeric_bare(lines, "221", {"+"});
    sink.reply(std::move(lines));
    return;
  }
  if (change.empty()) {
    std::string lines;
    numeric_bare(lines, "324", {target, "+"});
    sink.reply(std::move(lines));
    return;
  }
  // The lists clients ask for on joining (bans, exceptions, invites) are
  // empty; any change is refused, as nobody is an operator.
  const std::string_view list = change.front() == '+' ? change.substr(1) : change;
  if (line.count == 2 && list == "b") {
    reply_numeric(sink, "368", {target}, "End of channel ban list");
  } else if (line.count == 2 && list == "e") {
    reply_numeric(sink, "349", {target}, "End of channel exception list");
  } else if (line.count == 2 && list == "I") {
    reply_numeric(sink, "347", {target}, "End of channel invite list");
  } else {
    reply_numeric(sink, "482", {target}, "Rooms have no modes here, and no operators");
  }
}

void IrcCodec::on_topic(const Line& line, CodecSink& sink) {
  const std::string_view room = line.param(0);
  if (room.empty()) {
    reply_numeric(sink, "461", {"TOPIC"}, "Not enough parameters");
  } else if (line.count >= 2) {
    reply_numeric(sink, "482", {room}, "Rooms have no topics here");
  } else {
    reply_numeric(sink, "331", {room}, "No topic is set");
  }
}

void IrcCodec::reply_numeric(CodecSink& sink, std::string_view code, std::initializer_list<std::string_view> params,
                             std::string_view trailing) {
  std::string lines;
  numeric(lines, code, params, trailing);
  sink.reply(std::move(lines));
}

}  // namespace uvchat::door
