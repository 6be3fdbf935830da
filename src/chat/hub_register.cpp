// How a session takes a name: server:register, with or without a
// password (checked or hashed off the loop, Server's thread pool), the
// per-address limit, and the welcome with what follows it (the queue's
// replay, the lobby's history, presence). The other commands are in
// hub.cpp.
#include <string>
#include <utility>

#include "hub_shared.hpp"
#include "uvchat/chat/hub.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::chat {

using protocol::ErrorCode;

void Hub::on_register(Session& session, SessionId id, const protocol::Command& command, TimePoint now,
                      Effects& out) {
  if (session.user != nullptr) {
    send_error(id, ErrorCode::kAlreadyRegistered, session.user->name, {}, out);
    return;
  }
  if (session.verifying != nullptr) {
    send_error(id, ErrorCode::kWrongPassword, session.verifying->name, "one attempt at a time", out);
    return;
  }
  // Counted before the name is looked at, so that guessing passwords or
  // probing names from one address is slow too.
  if (!allow_registration(session)) {
    send_error(id, ErrorCode::kRateLimited, {}, "too many registrations from your address, wait a minute",
               out);
    return;
  }
  User& user = user_named(command.target);
  if (user.session != 0 || user.verifying != 0 || user.departing != 0) {
    send_error(id, ErrorCode::kNameTaken, user.name, {}, out);
    return;
  }
  if (user.password_hash.empty() && command.password.empty()) {
    complete_register(session, id, user, now, out);
    return;
  }
  hold_name(session, id, user, out);
  Effect effect;
  if (user.password_hash.empty()) {
    // A password on a name that has none claims it. The registration
    // completes once the hash is ready, so that from `welcome` on the name
    // is the user's.
    effect.kind = EffectKind::kHashPassword;
    effect.session = id;
    effect.hash_password =
        std::make_shared<HashPassword>(HashPassword{id, user.name, std::string(command.password)});
    out.push_back(std::move(effect));
    return;
  }
  // A missing password is checked too, so that every wrong answer costs
  // the same.
  effect.kind = EffectKind::kVerifyPassword;
  effect.session = id;
  effect.verify_password = std::make_shared<VerifyPassword>(VerifyPassword{
      id, user.name, std::string(command.password), user.password_hash, config_.password_failure_delay});
  out.push_back(std::move(effect));
}

// The name is held for the session until the password work answers, and
// nothing after the register line can be understood before we know who it is.
void Hub::hold_name(Session& session, SessionId id, User& user, Effects& out) {
  user.verifying = id;
  session.verifying = &user;
  push_session_effect(EffectKind::kPauseInput, id, out);
}

void Hub::release_name(SessionId id, std::string_view name, Effects& out) {
  const auto found = users_.find(name);
  if (found != users_.end() && found->second.verifying == id) found->second.verifying = 0;
  Session* session = find_session(id);
  if (session == nullptr) return;
  session->verifying = nullptr;
  push_session_effect(EffectKind::kResumeInput, id, out);
}

void Hub::on_password_hashed(SessionId id, std::string_view name, std::string hash, TimePoint now,
                             Effects& out) {
  const Acting acting(acting_, id);
  release_name(id, name, out);
  Session* session = find_session(id);
  const auto found = users_.find(name);
  // A session that timed out while the hash was made is closing: no welcome.
  if (session == nullptr || session->expired || stopping_ || found == users_.end()) return;
  User& user = found->second;
  if (hash.empty()) {
    complete_register(*session, id, user, now, out);
    log(LogLevel::kError, "could not hash the password for " + user.name + "; registered without one", out);
  } else {
    // The welcome and all that follows wait in the slot's shadow until the
    // password is on disk (on_ack): a name welcomed as protected stays
    // protected after a crash or a power cut.
    const std::uint64_t ticket = await_store(*session, PendingAck{id, user.name, true});
    complete_register(*session, id, user, now, out);
    // After the user row (complete_register's TouchUser) in the store's order.
    user.password_hash = hash;
    store(SetPasswordHash{user.name, std::move(hash), ticket}, out);
  }
  release_ready(id, *session, out);
}

void Hub::on_password_checked(SessionId id, std::string_view name, bool matches, TimePoint now,
                              Effects& out) {
  const Acting acting(acting_, id);
  release_name(id, name, out);
  Session* session = find_session(id);
  const auto found = users_.find(name);
  if (session == nullptr || session->expired || stopping_) return;
  if (found != users_.end() && matches) {
    complete_register(*session, id, found->second, now, out);
  } else if (found != users_.end()) {
    send_error(id, ErrorCode::kWrongPassword, found->second.name, {}, out);
    log(LogLevel::kWarn,
        "session " + std::to_string(id) + " from " + session->peer + ": wrong password for " +
            found->second.name,
        out);
  }
  release_ready(id, *session, out);
}

void Hub::complete_register(Session& session, SessionId id, User& user, TimePoint now, Effects& out) {
  user.session = id;
  session.user = &user;
  ++online_;
  const bool first_time = !user.registered_before && user.queued == 0;
  user.registered_before = true;

  auto welcome = make_event(EventKind::kWelcome);
  welcome->one_recipient = true;
  welcome->name = user.name;
  welcome->count = online_;
  send(id, std::move(welcome), out);
  store(TouchUser{user.name, now, {}}, out);
  if (first_time) {
    // A name registering for the first time, with no DM queued for it
    // while it was being claimed, has nothing queued anywhere, so its
    // welcome needs no store round trip: a crowd of newcomers costs the
    // store's thread one lazy batch of TouchUser, not a transaction and an
    // answer each.
    send(id, count_event(EventKind::kQueuedMessages, 0), out);
  } else {
    // The store is asked even when the hub counts no queued DM: a DM sent
    // live to an earlier session that never reached its socket is still
    // undelivered there, and is delivered now.
    start_replay(id, session, user, out);
  }
  fetch_lobby(id, session, user, out);
  announce_presence(user, EventKind::kOnline, out);
  log(LogLevel::kInfo,
      "session " + std::to_string(id) + " from " + session.peer + " registered as " + user.name, out);
}

bool Hub::allow_registration(Session& session) {
  if (session.address == nullptr || config_.max_registrations_per_minute == 0) return true;
  Address& address = *session.address;
  if (session.last_activity - address.window_start >= std::chrono::minutes(1)) {
    address.window_start = session.last_activity;
    address.registrations = 0;
  }
  return address.registrations++ < config_.max_registrations_per_minute;
}

}  // namespace uvchat::chat
