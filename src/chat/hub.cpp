#include "uvchat/chat/hub.hpp"

#include <algorithm>
#include <utility>

#include "uvchat/protocol/text.hpp"

namespace uvchat::chat {
namespace {

using protocol::CommandKind;
using protocol::ErrorCode;

constexpr std::string_view kHelpLines[] = {
    "server:register NAME [PASSWORD] - take NAME (a password keeps it yours)",
    "NAME:TEXT - send TEXT to NAME (queued if NAME is offline)",
    "#ROOM:TEXT - send TEXT to a room you are in",
    "*:TEXT - send TEXT to everyone online",
    "server:who - who is online",
    "server:join #ROOM - join a room, making it if need be",
    "server:leave #ROOM - leave a room",
    "server:rooms - the rooms there are",
    "server:members #ROOM - who is in a room",
    "server:history #ROOM|NAME [N] - recent messages",
    "server:ping - the server answers pong",
    "server:help - this text",
    "server:exit - say goodbye and disconnect",
};

void push_send(SessionId id, Payload payload, Effects& out) {
  out.push_back(Effect{EffectKind::kSend, id, std::move(payload), LogLevel::kInfo});
}

void push_close(SessionId id, Effects& out) {
  out.push_back(Effect{EffectKind::kClose, id, nullptr, LogLevel::kInfo});
}

std::string room_label(std::string_view room) {
  std::string label = "#";
  label.append(room);
  return label;
}

bool allowed_before_register(const protocol::Command& command) {
  // The framer finds these before the line is read for its meaning.
  if (command.kind == CommandKind::kInvalid &&
      (command.error == ErrorCode::kLineTooLong || command.error == ErrorCode::kBadUtf8)) {
    return true;
  }
  const CommandKind kind = command.attempted;
  return kind == CommandKind::kRegister || kind == CommandKind::kPing || kind == CommandKind::kHelp ||
         kind == CommandKind::kExit;
}

void sort_names(std::vector<std::string_view>& names) {
  std::sort(names.begin(), names.end(), protocol::less_case_insensitive);
}

}  // namespace

Hub::Hub(HubConfig config)
    : config_(config),
      formatter_(config.line_ending, config.utc),
      line_too_long_detail_("the limit is " + std::to_string(config.max_line) + " bytes") {
  for (std::string_view line : kHelpLines) help_.push_back(make_payload(formatter_.event("help", {line})));
}

std::size_t Hub::queued_count(std::string_view name) const {
  const auto it = users_.find(name);
  return it == users_.end() ? 0 : it->second.queue.size();
}

void Hub::log(LogLevel level, std::string text, Effects& out) {
  out.push_back(Effect{EffectKind::kLog, 0, make_payload(std::move(text)), level});
}

void Hub::send_error(SessionId id, ErrorCode code, std::string_view subject, std::string_view detail,
                     Effects& out) {
  push_send(id, make_payload(formatter_.error(code, subject, detail)), out);
}

void Hub::connect(SessionId session, std::string_view peer, Effects& out) {
  if (stopping_) {
    push_close(session, out);
    return;
  }
  if (config_.max_clients != 0 && sessions_.size() >= config_.max_clients) {
    send_error(session, ErrorCode::kServerFull, {}, {}, out);
    push_close(session, out);
    log(LogLevel::kWarn, "refused " + std::string(peer) + ": server full", out);
    return;
  }
  sessions_[session].peer = std::string(peer);
}

void Hub::handle(SessionId id, const protocol::Command& command, TimePoint now, Effects& out) {
  const auto found = sessions_.find(id);
  if (found == sessions_.end() || stopping_) return;
  Session& session = found->second;

  if (session.user == nullptr && !allowed_before_register(command)) {
    send_error(id, ErrorCode::kNotRegistered, {}, "register first: server:register NAME", out);
    return;
  }
  if (command.kind == CommandKind::kInvalid) {
    const std::string_view detail =
        command.error == ErrorCode::kLineTooLong ? std::string_view(line_too_long_detail_) : command.detail;
    send_error(id, command.error, command.detail_subject, detail, out);
    return;
  }

  switch (command.kind) {
    case CommandKind::kRegister: on_register(session, id, command, now, out); break;
    case CommandKind::kDirect: on_direct(*session.user, command, now, out); break;
    case CommandKind::kRoom: on_room(*session.user, command, now, out); break;
    case CommandKind::kBroadcast: on_broadcast(*session.user, command, now, out); break;
    case CommandKind::kWho: on_who(id, out); break;
    case CommandKind::kJoin: on_join(*session.user, command.target, out); break;
    case CommandKind::kLeave: on_leave(*session.user, command.target, out); break;
    case CommandKind::kRooms: on_rooms(id, out); break;
    case CommandKind::kMembers: on_members(id, command.target, out); break;
    case CommandKind::kHistory:
      // Needs the message store; until then the command does not exist.
      send_error(id, ErrorCode::kUnknownCommand, "history", "not available on this server yet", out);
      break;
    case CommandKind::kPing: push_send(id, make_payload(formatter_.event("pong", {})), out); break;
    case CommandKind::kHelp: on_help(id, out); break;
    case CommandKind::kExit: on_exit(id, out); break;
    case CommandKind::kInvalid: break;
  }
}

void Hub::on_register(Session& session, SessionId id, const protocol::Command& command, TimePoint,
                      Effects& out) {
  if (session.user != nullptr) {
    send_error(id, ErrorCode::kAlreadyRegistered, session.user->name, {}, out);
    return;
  }
  auto [it, is_new] = users_.try_emplace(std::string(command.target));
  User& user = it->second;
  if (is_new) user.name = std::string(command.target);
  if (user.session != 0) {
    send_error(id, ErrorCode::kNameTaken, user.name, {}, out);
    return;
  }
  user.session = id;
  session.user = &user;
  ++online_;

  push_send(id, make_payload(formatter_.event("welcome", {user.name})), out);
  const std::string count = std::to_string(user.queue.size());
  push_send(id, make_payload(formatter_.event("queued-messages", {count})), out);
  for (const QueuedDirect& queued : user.queue) {
    push_send(id, make_payload(formatter_.replayed_direct(queued.when, queued.from, queued.text)), out);
  }
  user.queue.clear();
  announce_presence(user, "online", out);
  log(LogLevel::kInfo,
      "session " + std::to_string(id) + " from " + session.peer + " registered as " + user.name, out);
}

void Hub::on_direct(User& sender, const protocol::Command& command, TimePoint now, Effects& out) {
  const auto found = users_.find(command.target);
  if (found == users_.end()) {
    send_error(sender.session, ErrorCode::kNoSuchUser, command.target, {}, out);
    return;
  }
  User& recipient = found->second;
  if (recipient.session != 0) {
    push_send(recipient.session, make_payload(formatter_.direct(now, sender.name, command.text)), out);
    return;
  }
  if (recipient.queue.size() >= config_.max_queue) {
    send_error(sender.session, ErrorCode::kQueueFull, recipient.name, {}, out);
    return;
  }
  recipient.queue.push_back(QueuedDirect{now, sender.name, std::string(command.text)});
  push_send(sender.session, make_payload(formatter_.event("queued", {recipient.name})), out);
}

void Hub::on_room(User& sender, const protocol::Command& command, TimePoint now, Effects& out) {
  const auto found = rooms_.find(command.target);
  if (found == rooms_.end() || !found->second.members.contains(&sender)) {
    send_error(sender.session, ErrorCode::kNotInRoom, room_label(command.target), {}, out);
    return;
  }
  Room& room = found->second;
  const Payload line = make_payload(formatter_.room(now, room.name, sender.name, command.text));
  for (User* member : room.members) {
    if (member != &sender) push_send(member->session, line, out);
  }
}

void Hub::on_broadcast(User& sender, const protocol::Command& command, TimePoint now, Effects& out) {
  const Payload line = make_payload(formatter_.broadcast(now, sender.name, command.text));
  for (const auto& [id, session] : sessions_) {
    if (session.user != nullptr && session.user != &sender) push_send(id, line, out);
  }
}

void Hub::on_who(SessionId id, Effects& out) {
  std::vector<std::string_view> names;
  names.reserve(online_);
  for (const auto& [session_id, session] : sessions_) {
    if (session.user != nullptr) names.push_back(session.user->name);
  }
  sort_names(names);
  push_send(id, make_payload(formatter_.event_list("users", {}, names)), out);
}

void Hub::send_members(SessionId id, const Room& room, Effects& out) {
  std::vector<std::string_view> names;
  names.reserve(room.members.size());
  for (const User* member : room.members) names.push_back(member->name);
  sort_names(names);
  push_send(id, make_payload(formatter_.event_list("members", room_label(room.name), names)), out);
}

void Hub::on_join(User& user, std::string_view room_name, Effects& out) {
  auto [it, is_new] = rooms_.try_emplace(std::string(room_name));
  Room& room = it->second;
  if (is_new) room.name = std::string(room_name);
  const Payload joined = make_payload(formatter_.event("joined", {room_label(room.name), user.name}));
  if (room.members.contains(&user)) {
    push_send(user.session, joined, out);
    send_members(user.session, room, out);
    return;
  }
  room.members.insert(&user);
  user.rooms.push_back(&room);
  for (User* member : room.members) push_send(member->session, joined, out);
  send_members(user.session, room, out);
}

void Hub::leave_room(User& user, Room& room, bool tell_leaver, Effects& out) {
  room.members.erase(&user);
  std::erase(user.rooms, &room);
  const Payload left = make_payload(formatter_.event("left", {room_label(room.name), user.name}));
  for (User* member : room.members) push_send(member->session, left, out);
  if (tell_leaver) push_send(user.session, left, out);
  if (room.members.empty()) rooms_.erase(rooms_.find(room.name));
}

void Hub::on_leave(User& user, std::string_view room_name, Effects& out) {
  const auto found = rooms_.find(room_name);
  if (found == rooms_.end() || !found->second.members.contains(&user)) {
    send_error(user.session, ErrorCode::kNotInRoom, room_label(room_name), {}, out);
    return;
  }
  leave_room(user, found->second, /*tell_leaver=*/true, out);
}

void Hub::on_rooms(SessionId id, Effects& out) {
  std::vector<std::string> labels;
  labels.reserve(rooms_.size());
  for (const auto& [key, room] : rooms_) labels.push_back(room_label(room.name));
  std::vector<std::string_view> views(labels.begin(), labels.end());
  sort_names(views);
  push_send(id, make_payload(formatter_.event_list("rooms", {}, views)), out);
}

void Hub::on_members(SessionId id, std::string_view room_name, Effects& out) {
  const auto found = rooms_.find(room_name);
  if (found == rooms_.end()) {
    push_send(id, make_payload(formatter_.event_list("members", room_label(room_name), {})), out);
    return;
  }
  send_members(id, found->second, out);
}

void Hub::on_help(SessionId id, Effects& out) {
  for (const Payload& line : help_) push_send(id, line, out);
}

void Hub::on_exit(SessionId id, Effects& out) {
  push_send(id, make_payload(formatter_.event("bye", {})), out);
  push_close(id, out);
  disconnect(id, out);
}

void Hub::announce_presence(User& user, std::string_view event, Effects& out) {
  if (config_.presence == Presence::kOff) return;
  const Payload line = make_payload(formatter_.event(event, {user.name}));
  if (config_.presence == Presence::kAll) {
    for (const auto& [id, session] : sessions_) {
      if (session.user != nullptr && session.user != &user) push_send(id, line, out);
    }
    return;
  }
  // Rooms: each room-mate once, however many rooms they share.
  std::unordered_set<User*> told;
  for (Room* room : user.rooms) {
    for (User* member : room->members) {
      if (member != &user && told.insert(member).second) push_send(member->session, line, out);
    }
  }
}

void Hub::disconnect(SessionId id, Effects& out) {
  const auto found = sessions_.find(id);
  if (found == sessions_.end()) return;
  User* user = found->second.user;
  const std::string peer = std::move(found->second.peer);
  sessions_.erase(found);
  if (user == nullptr || stopping_) return;

  // The user is still in its rooms here, so presence by rooms finds its
  // room-mates; `offline` goes before the `left` lines.
  announce_presence(*user, "offline", out);
  while (!user->rooms.empty()) leave_room(*user, *user->rooms.back(), /*tell_leaver=*/false, out);
  user->session = 0;
  --online_;
  log(LogLevel::kInfo, "session " + std::to_string(id) + " (" + user->name + ") left", out);
}

void Hub::shutdown(Effects& out) {
  stopping_ = true;
  const Payload line = make_payload(formatter_.event("shutdown", {}));
  for (const auto& [id, session] : sessions_) {
    push_send(id, line, out);
    push_close(id, out);
  }
}

}  // namespace uvchat::chat
