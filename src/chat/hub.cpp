#include "uvchat/chat/hub.hpp"

#include <algorithm>
#include <utility>

#include "hub_shared.hpp"
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
      line_too_long_detail_("the limit is " + std::to_string(config.max_line) + " bytes") {
  for (std::string_view line : kHelpLines) {
    auto help = make_event(EventKind::kHelp);
    help->set_text(std::string(line));
    help_.push_back(std::move(help));
  }
}

void Hub::reconfigure(const HubConfig& config) {
  config_.max_clients = config.max_clients;
  config_.max_queue = config.max_queue;
  config_.history_on_join = config.history_on_join;
  config_.max_per_ip = config.max_per_ip;
  config_.max_registrations_per_minute = config.max_registrations_per_minute;
  config_.register_timeout = config.register_timeout;
  config_.idle_timeout = config.idle_timeout;
  config_.presence_limit = config.presence_limit;
  config_.page_bytes = config.page_bytes;
  config_.page_messages = config.page_messages;
  config_.max_waiting = config.max_waiting;
}

// The map's key views the User's own name (its nodes never move), so the
// name is kept once: a node is made with a view of the caller's string, then
// taken out, given its own, and put back.
Hub::User& Hub::user_named(std::string_view name) {
  const auto [at, made] = users_.try_emplace(name);
  if (!made) return at->second;
  auto node = users_.extract(at);
  node.mapped().name = std::string(name);
  node.key() = node.mapped().name;
  return users_.insert(std::move(node)).position->second;
}

void Hub::load_user(std::string_view name, std::string password_hash, std::size_t queued) {
  User& user = user_named(name);
  user.password_hash = std::move(password_hash);
  user.queued = static_cast<std::uint32_t>(std::min<std::size_t>(queued, UINT32_MAX));
  user.registered_before = true;
}

std::string_view Hub::peer(SessionId id) const {
  const auto found = sessions_.find(id);
  return found == sessions_.end() ? std::string_view{} : std::string_view(found->second.peer);
}

std::size_t Hub::queued_count(std::string_view name) const {
  const auto it = users_.find(name);
  return it == users_.end() ? 0 : it->second.queued;
}

Hub::Session* Hub::find_session(SessionId id) {
  const auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : &found->second;
}

void Hub::end_of_input(SessionId id, Effects& out) {
  Session* session = find_session(id);
  if (session == nullptr) return;
  session->input_ended = true;
  release_ready(id, *session, out);
}

// Everything owed has been sent: close, and let the others know.
void Hub::finish_session(SessionId id, Effects& out) {
  push_close(id, out);
  disconnect(id, out);
}

void Hub::log(LogLevel level, std::string text, Effects& out) {
  Effect effect;
  effect.kind = EffectKind::kLog;
  effect.payload = make_payload(std::move(text));
  effect.level = level;
  out.push_back(std::move(effect));
}

void Hub::store(StoreRequest request, Effects& out) {
  Effect effect;
  effect.kind = EffectKind::kStore;
  effect.store = std::allocate_shared<StoreRequest>(Recycler<StoreRequest>{}, std::move(request));
  out.push_back(std::move(effect));
}

// A message sent as it came: stored, and one event for all its recipients
// (a DM's only for its one). The event shares the text of the store's
// request, and holds the request's block while it lives: one copy of the
// text, and the store holds only its request, not the event, so that the
// event can go once its lines are written (docs/BENCHMARKS.md, "The native
// door before and after the event boundary"). Returns the event, to send.
// Built in place: this runs once a DM.
EventRef Hub::store_sent(MessageId id, const User& sender, MessageKind kind, std::string_view target,
                         std::string_view text, TimePoint now, Effects& out) {
  Effect effect;
  effect.kind = EffectKind::kStore;
  effect.store = std::allocate_shared<StoreRequest>(Recycler<StoreRequest>{}, std::in_place_type<InsertMessage>);
  auto& insert = std::get<InsertMessage>(*effect.store);
  insert.message.id = id;
  insert.message.received_at = now;
  insert.message.sender = sender.name;
  insert.message.kind = kind;
  insert.message.target = target;
  insert.set_text(text);
  auto event = chat_event(kind, now, sender.name, target, SharedText::held_by(effect.store, insert.text()),
                          /*replayed=*/false);
  event->one_recipient = kind == MessageKind::kDirect;
  out.push_back(std::move(effect));
  return event;
}

MessageRecord Hub::new_message(const User& sender, MessageKind kind, std::string_view target,
                               std::string_view text, TimePoint now) {
  return MessageRecord{++last_message_id_, now, sender.name, kind, std::string(target), std::string(text)};
}

void Hub::send_error(SessionId id, ErrorCode code, std::string_view subject, std::string_view detail,
                     Effects& out) {
  send(id, error_event(code, subject, detail), out);
}

void Hub::connect(SessionId id, std::string_view peer, std::string_view ip, Monotonic now, Effects& out) {
  // Every connection holds a session and a user, each a node of an
  // unordered_map: these sizes keep each node in a 160-byte malloc chunk on
  // 64-bit glibc (docs/BENCHMARKS.md, issue 20). Only an upper bound, as
  // other standard libraries lay std::string out smaller.
  static_assert(sizeof(void*) != 8 || (sizeof(Session) <= 136 && sizeof(User) <= 120));
  if (stopping_) {
    push_close(id, out);
    return;
  }
  const auto refuse = [&](std::string_view detail, std::string_view why) {
    send_error(id, ErrorCode::kServerFull, {}, detail, out);
    push_close(id, out);
    log(LogLevel::kWarn, "refused " + std::string(peer) + ": " + std::string(why), out);
  };
  if (config_.max_clients != 0 && sessions_.size() >= config_.max_clients) {
    refuse({}, "server full");
    return;
  }
  if (!ip.empty() && config_.max_per_ip != 0) {
    const auto found = addresses_.find(ip);
    if (found != addresses_.end() && found->second.connections >= config_.max_per_ip) {
      refuse("too many connections from your address", "too many connections from its address");
      return;
    }
  }
  Session& session = sessions_[id];
  session.peer = std::string(peer);
  session.connected_at = now;
  session.last_activity = now;
  if (!ip.empty()) {
    session.address = &addresses_.try_emplace(std::string(ip)).first->second;
    ++session.address->connections;
  }
}

void Hub::refuse(SessionId id, ErrorCode code, std::string_view detail, Effects& out) {
  Session* session = find_session(id);
  if (session == nullptr || session->user != nullptr) return;
  send_error(id, code, {}, detail, out);
  push_close(id, out);
}

void Hub::set_traits(SessionId id, SessionTraits traits) {
  if (Session* session = find_session(id)) session->traits = traits;
}

void Hub::note_activity(SessionId id, Monotonic now) {
  if (Session* session = find_session(id)) session->last_activity = now;
}

void Hub::tick(Monotonic now, Effects& out) {
  // Everyone was told `shutdown` and is being closed; nobody else expires.
  if (stopping_) return;
  retry_failed_pages(out);
  for (auto& [id, session] : sessions_) {
    if (session.expired || session.leaving) continue;
    const bool unregistered = session.user == nullptr && session.verifying == nullptr;
    if (unregistered && config_.register_timeout.count() > 0 &&
        now - session.connected_at >= config_.register_timeout) {
      expire(id, session, "not registered within " + std::to_string(config_.register_timeout.count()) + " s",
             out);
    } else if (config_.idle_timeout.count() > 0 && now - session.last_activity >= config_.idle_timeout &&
               session.outbox.empty()) {
      // Not while it is still owed an answer: a long replay is not silence.
      expire(id, session, "nothing received for " + std::to_string(config_.idle_timeout.count()) + " s", out);
    }
  }
  // An address is forgotten once it has no connection and its minute of
  // registrations is over: the table holds only addresses seen lately.
  std::erase_if(addresses_, [&](const auto& entry) {
    return entry.second.connections == 0 && now - entry.second.window_start >= std::chrono::minutes(1);
  });
}

// The error goes out at once, ahead of anything the session still awaits:
// it is closing, and will not get those answers.
void Hub::expire(SessionId id, Session& session, std::string_view why, Effects& out, ErrorCode code) {
  session.expired = true;
  session.outbox.clear();
  session.waiting_bytes = 0;
  session.overflow = false;
  emit_send(id, error_event(code, {}, why), out);
  push_close(id, out);
  log(LogLevel::kInfo, "session " + std::to_string(id) + " from " + session.peer + ": " + std::string(why),
      out);
  take_offline(id, session, out);
}

void Hub::forget_address(Address* address) {
  if (address != nullptr && address->connections > 0) --address->connections;
}

void Hub::handle(SessionId id, const protocol::Command& command, TimePoint now, Effects& out) {
  const auto found = sessions_.find(id);
  if (found == sessions_.end() || stopping_) return;
  Session& session = found->second;
  const Acting acting(acting_, id);

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
    case CommandKind::kHistory: on_history(*session.user, command, out); break;
    case CommandKind::kPing: send(id, make_event(EventKind::kPong), out); break;
    case CommandKind::kHelp: on_help(id, out); break;
    case CommandKind::kExit: on_exit(id, out); break;
    case CommandKind::kInvalid: break;
  }
}

void Hub::reply(SessionId id, std::string lines, Effects& out) {
  if (find_session(id) == nullptr || stopping_ || lines.empty()) return;
  const Acting acting(acting_, id);
  auto event = make_event(EventKind::kReply);
  event->set_text(std::move(lines));
  send(id, std::move(event), out);
}

void Hub::on_direct(User& sender, const protocol::Command& command, TimePoint now, Effects& out) {
  const auto found = users_.find(command.target);
  if (found == users_.end()) {
    send_error(sender.session, ErrorCode::kNoSuchUser, command.target, {}, out);
    return;
  }
  User& recipient = found->second;
  if (recipient.session != 0) {
    const MessageId id = ++last_message_id_;
    send(recipient.session, store_sent(id, sender, MessageKind::kDirect, recipient.name, command.text, now, out),
         out, id);
    return;
  }
  if (recipient.queued >= config_.max_queue) {
    send_error(sender.session, ErrorCode::kQueueFull, recipient.name, {}, out);
    return;
  }
  // Acknowledged with server:queued only once the store has committed it.
  ++recipient.queued;
  const std::uint64_t ticket = await_store(sessions_.at(sender.session), PendingAck{sender.session, recipient.name});
  store(InsertMessage{new_message(sender, MessageKind::kDirect, recipient.name, command.text, now), ticket},
        out);
}

void Hub::on_room(User& sender, const protocol::Command& command, TimePoint now, Effects& out) {
  const auto found = rooms_.find(command.target);
  if (found == rooms_.end() || !found->second.members.contains(&sender)) {
    send_error(sender.session, ErrorCode::kNotInRoom, room_label(command.target), {}, out);
    return;
  }
  Room& room = found->second;
  const EventRef line =
      store_sent(++last_message_id_, sender, MessageKind::kRoom, room.name, command.text, now, out);
  const bool echo = sessions_.at(sender.session).traits.echo;
  for (User* member : room.members) {
    if (member != &sender || echo) send(member->session, line, out);
  }
}

void Hub::on_broadcast(User& sender, const protocol::Command& command, TimePoint now, Effects& out) {
  const EventRef line =
      store_sent(++last_message_id_, sender, MessageKind::kBroadcast, {}, command.text, now, out);
  for (const auto& [id, session] : sessions_) {
    if (session.user != nullptr && (session.user != &sender || session.traits.echo)) send(id, line, out);
  }
}

void Hub::on_who(SessionId id, Effects& out) {
  std::vector<std::string_view> names;
  names.reserve(online_);
  for (const auto& [session_id, session] : sessions_) {
    if (session.user != nullptr) names.push_back(session.user->name);
  }
  sort_names(names);
  auto users = make_event(EventKind::kUsers);
  users->one_recipient = true;
  users->names.assign(names.begin(), names.end());
  send(id, std::move(users), out);
}

bool Hub::ByName::operator()(const User* a, const User* b) const {
  return protocol::less_case_insensitive(a->name, b->name);
}

void Hub::send_members(SessionId id, std::string_view room_name, const Room* room, Effects& out) {
  auto members = make_event(EventKind::kMembers);
  members->one_recipient = true;
  members->target = room != nullptr ? std::string_view(room->name) : room_name;
  if (room != nullptr) {
    members->names.reserve(room->listed.size());
    for (const User* member : room->listed) members->names.push_back(member->name);
  }
  send(id, std::move(members), out);
}

void Hub::on_join(User& user, std::string_view room_name, Effects& out) {
  auto [it, is_new] = rooms_.try_emplace(std::string(room_name));
  Room& room = it->second;
  if (is_new) room.name = std::string(room_name);
  const EventRef joined = room_event(EventKind::kJoined, room.name, user.name);
  if (room.members.contains(&user)) {
    send(user.session, joined, out);
    send_members(user.session, room.name, &room, out);
    return;
  }
  room.members.insert(&user);
  room.listed.insert(&user);
  user.rooms.push_back(&room);
  for (User* member : room.members) send(member->session, joined, out);
  send_members(user.session, room.name, &room, out);
  if (config_.history_on_join > 0) {
    fetch_history(user.session, /*of_room=*/true, room.name, user, config_.history_on_join, /*for_join=*/true,
                  out);
  }
}

void Hub::leave_room(User& user, Room& room, bool tell_leaver, Effects& out) {
  room.members.erase(&user);
  room.listed.erase(&user);
  std::erase(user.rooms, &room);
  auto left = make_event(EventKind::kLeft);
  left->target = room.name;
  left->name = user.name;
  left->quit = !tell_leaver;  // only a user going offline is not told
  for (User* member : room.members) send(member->session, left, out);
  if (tell_leaver) send(user.session, left, out);
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
  std::vector<const Room*> sorted;
  sorted.reserve(rooms_.size());
  for (const auto& [key, room] : rooms_) sorted.push_back(&room);
  std::sort(sorted.begin(), sorted.end(),
            [](const Room* a, const Room* b) { return protocol::less_case_insensitive(a->name, b->name); });
  auto rooms = make_event(EventKind::kRooms);
  rooms->one_recipient = true;
  rooms->names.reserve(sorted.size());
  rooms->counts.reserve(sorted.size());
  for (const Room* room : sorted) {
    rooms->names.push_back(room->name);
    rooms->counts.push_back(room->members.size());
  }
  send(id, std::move(rooms), out);
}

void Hub::on_members(SessionId id, std::string_view room_name, Effects& out) {
  const auto found = rooms_.find(room_name);
  send_members(id, room_name, found == rooms_.end() ? nullptr : &found->second, out);
}

void Hub::on_help(SessionId id, Effects& out) {
  for (const EventRef& line : help_) send(id, line, out);
}

// Answers still owed (a queued DM's ack, history) go out before bye; the
// session closes once they have.
void Hub::on_exit(SessionId id, Effects& out) {
  send(id, make_event(EventKind::kBye), out);
  push_session_effect(EffectKind::kPauseInput, id, out);
  Session& session = sessions_.at(id);
  session.leaving = true;
  if (session.user != nullptr && !session.outbox.empty()) {
    session.departing = session.user;
    session.user->departing = id;
  }
  // From `bye` on the user is offline: a DM now is queued, not sent after
  // `bye` to a client that may stop reading there.
  take_offline(id, session, out);
  end_of_input(id, out);
}

// The user is counted online here, arriving or leaving.
void Hub::announce_presence(User& user, EventKind kind, Effects& out) {
  if (config_.presence == Presence::kOff) return;
  const EventRef line = event_about(kind, user.name);
  const bool to_all = config_.presence == Presence::kAll &&
                      (config_.presence_limit == 0 || online_ <= config_.presence_limit);
  if (to_all) {
    for (const auto& [id, session] : sessions_) {
      if (session.user != nullptr && session.user != &user) send(id, line, out);
    }
    return;
  }
  // Rooms: each room-mate once, however many rooms they share.
  std::unordered_set<User*> told;
  for (Room* room : user.rooms) {
    for (User* member : room->members) {
      if (member != &user && told.insert(member).second) send(member->session, line, out);
    }
  }
}

void Hub::disconnect(SessionId id, Effects& out) {
  const auto found = sessions_.find(id);
  if (found == sessions_.end()) return;
  if (User* verifying = found->second.verifying; verifying != nullptr && verifying->verifying == id) {
    verifying->verifying = 0;
  }
  if (User* departing = found->second.departing; departing != nullptr && departing->departing == id) {
    departing->departing = 0;
  }
  take_offline(id, found->second, out);
  forget_address(found->second.address);
  sessions_.erase(found);
}

// The session stays (answers it is owed still go out) but its user is
// offline: out of its rooms, told to nobody, and its DMs are queued.
void Hub::take_offline(SessionId id, Session& session, Effects& out) {
  User* user = std::exchange(session.user, nullptr);
  if (user == nullptr || stopping_) return;
  // The user is still in its rooms here, so presence by rooms finds its
  // room-mates; `offline` goes before the `left` lines.
  announce_presence(*user, EventKind::kOffline, out);
  while (!user->rooms.empty()) leave_room(*user, *user->rooms.back(), /*tell_leaver=*/false, out);
  user->session = 0;
  --online_;
  log(LogLevel::kInfo, "session " + std::to_string(id) + " (" + user->name + ") left", out);
}

void Hub::shutdown(Effects& out) {
  stopping_ = true;
  // Straight out, ahead of anything still awaited: no answer comes now.
  const EventRef line = make_event(EventKind::kShutdown);
  for (const auto& [id, session] : sessions_) {
    if (session.expired) continue;  // told idle-timeout, and closing
    emit_send(id, line, out);
    push_close(id, out);
  }
}

}  // namespace uvchat::chat
