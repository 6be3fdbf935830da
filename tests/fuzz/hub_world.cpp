#include "hub_world.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "check.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::fuzz {
namespace {

// 2023-11-14 22:13:20 UTC.
const protocol::TimePoint kStartTime{std::chrono::seconds{1700000000}};

bool same_name(std::string_view a, std::string_view b) { return chat::CaseInsensitiveEqual{}(a, b); }

// Sessions, registered sessions and rooms, counted over some sessions.
struct Tally {
  std::size_t sessions = 0;
  std::size_t online = 0;
  std::set<std::string> rooms;

  // `with_pending`: also a session whose welcome waits for its password to
  // be stored (the hub counts it online already).
  void add(const ClientSession& session, bool with_pending = false) {
    ++sessions;
    const bool pending = with_pending && session.storing_password && !session.transcript.welcomed();
    if ((session.transcript.online() || pending) && !session.exited) ++online;
    rooms.insert(session.rooms.begin(), session.rooms.end());
  }
};

void check_between(std::size_t actual, std::size_t low, std::size_t high, std::string_view what) {
  if (actual >= low && actual <= high) return;
  fail(std::string(what) + " is " + std::to_string(actual) + ", the model says " + std::to_string(low) +
       " to " + std::to_string(high));
}

// The password worker's hash: plainly not a real one.
std::string fake_hash(std::string_view password) { return "fake-hash:" + std::string(password); }

// A password that cannot appear in a log line by chance: no name, room or
// peer address holds a '!'.
bool is_recognisable_secret(std::string_view password) {
  return password.find('!') != std::string_view::npos;
}

std::string peer_of(chat::SessionId id, std::string_view ip) {
  return std::string(ip) + " port " + std::to_string(40000 + id);
}

std::string session_label(chat::SessionId id) { return "session " + std::to_string(id); }

chat::HubConfig hub_config(const WorldConfig& config) {
  chat::HubConfig hub = config.hub;
  hub.max_line = config.max_line;
  return hub;
}

}  // namespace

HubWorld::HubWorld(const WorldConfig& config)
    : config_(config),
      hub_(hub_config(config)),
      native_(config.line_ending, /*utc=*/true),
      door_settings_{.utc = true, .max_line = config.max_line},
      now_(kStartTime),
      monotonic_(std::chrono::seconds{1000}),
      queue_bound_(config.hub.max_queue),
      tracing_(std::getenv("UVCHAT_FUZZ_TRACE") != nullptr) {}

void HubWorld::trace(std::string_view what) const {
  if (tracing_) std::fprintf(stderr, "%s\n", escaped(what).c_str());
}

void HubWorld::load_user(std::string_view name, std::string_view password, std::size_t queued) {
  const std::string hash = password.empty() ? std::string() : fake_hash(password);
  store_.execute(chat::TouchUser{std::string(name), now_, {}});
  store_.execute(chat::SetPasswordHash{std::string(name), hash});
  for (std::size_t n = 1; n <= queued; ++n) {
    chat::MessageRecord message{.id = store_.last_id() + 1,
                                .received_at = now_,
                                .sender = "someone",
                                .kind = chat::MessageKind::kDirect,
                                .target = std::string(name),
                                .text = "queued " + std::to_string(n)};
    store_.execute(chat::InsertMessage{std::move(message), 0});
  }
  hub_.load_user(name, hash, queued);
  hub_.set_last_message_id(store_.last_id());
  if (!password.empty()) passwords_[std::string(name)] = std::string(password);
  watched_names_.insert(std::string(name));
  queue_bound_ = std::max(queue_bound_, queued);
}

// ---- Steps ----

void HubWorld::connect(std::size_t slot, std::string_view ip) {
  if (const ClientSession* current = in_slot(slot); current != nullptr && !current->disconnected) return;
  const chat::SessionId id = next_id_++;
  const bool crlf = config_.line_ending == protocol::LineEnding::kCrLf;
  ClientSession& session = sessions_.try_emplace(id, id, ip, config_.max_line, crlf).first->second;
  slots_[slot % kSlots] = id;
  step([&](chat::Effects& out) { hub_.connect(id, peer_of(id, ip), ip, monotonic_, out); });
  if (session.closed) session.refused = true;
  check_admission(session);
}

void HubWorld::client_sends(std::size_t slot, std::string_view bytes) {
  ClientSession* session = in_slot(slot);
  if (session == nullptr || !session->live() || session->client_closed) return;
  session->unread.append(bytes);
  read_input(*session);
  end_turn();
}

void HubWorld::client_closes(std::size_t slot) {
  ClientSession* session = in_slot(slot);
  if (session == nullptr || !session->live() || session->client_closed) return;
  session->client_closed = true;
  read_input(*session);
  end_turn();
}

void HubWorld::connection_lost(std::size_t slot) {
  ClientSession* session = in_slot(slot);
  if (session == nullptr || session->disconnected) return;
  session->disconnected = true;
  session->rooms.clear();
  const chat::SessionId id = session->id;
  step([&](chat::Effects& out) { hub_.disconnect(id, out); });
}

void HubWorld::release_store_results(std::size_t count) {
  for (std::size_t n = 0; n < count && !store_results_.empty(); ++n) {
    chat::StoreResult result = std::move(store_results_.front());
    store_results_.pop_front();
    step([&](chat::Effects& out) { hub_.on_store_result(result, out); });
  }
}

void HubWorld::answer_password_work(std::size_t choice, bool hashing_fails) {
  if (password_work_.empty()) return;
  const auto chosen = password_work_.begin() + static_cast<std::ptrdiff_t>(choice % password_work_.size());
  const PasswordWork work = std::move(*chosen);
  password_work_.erase(chosen);
  answer(work, hashing_fails);
  end_turn();
}

void HubWorld::answer(const PasswordWork& work, bool hashing_fails) {
  if (const auto* hash = std::get_if<chat::HashPassword>(&work)) {
    ClientSession* session = find(hash->session);
    if (hashing_fails && session != nullptr) session->last_register.hash_failed = true;
    if (!hashing_fails && session != nullptr) session->storing_password = true;
    const std::string hashed = hashing_fails ? std::string() : fake_hash(hash->password);
    call_hub(
        [&](chat::Effects& out) { hub_.on_password_hashed(hash->session, hash->name, hashed, now_, out); });
    return;
  }
  const auto& verify = std::get<chat::VerifyPassword>(work);
  const bool matches = fake_hash(verify.password) == verify.hash;
  call_hub(
      [&](chat::Effects& out) { hub_.on_password_checked(verify.session, verify.name, matches, now_, out); });
}

void HubWorld::advance_time(std::chrono::seconds by) {
  now_ += by;
  monotonic_ += by;
}

void HubWorld::tick() {
  step([&](chat::Effects& out) { hub_.tick(monotonic_, out); });
}

void HubWorld::report_deliveries() {
  if (delivered_.empty()) return;
  const std::vector<chat::MessageId> ids = std::exchange(delivered_, {});
  step([&](chat::Effects& out) { hub_.on_delivered(ids, now_, out); });
}

// The clients of the sessions the hub watches take what they were sent
// (the shell's on_output_drained); with `one`, only the first of them.
void HubWorld::clients_read(bool one) {
  const std::vector<chat::SessionId> ids(watching_.begin(), watching_.end());
  for (const chat::SessionId id : ids) {
    if (!watching_.erase(id)) continue;
    const ClientSession* session = find(id);
    if (session == nullptr || !session->live()) continue;
    step([&](chat::Effects& out) { hub_.on_output_drained(id, out); });
    if (one) return;
  }
}

void HubWorld::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  call_hub([&](chat::Effects& out) { hub_.shutdown(out); });
  silenced_ = true;
  end_turn();
}

// ---- Calling the hub ----

ClientSession* HubWorld::in_slot(std::size_t slot) { return find(slots_[slot % kSlots]); }

ClientSession* HubWorld::find(chat::SessionId id) {
  const auto found = sessions_.find(id);
  return found == sessions_.end() ? nullptr : &found->second;
}

ClientSession& HubWorld::known(chat::SessionId id, std::string_view what) {
  ClientSession* session = find(id);
  if (session == nullptr) fail(std::string(what) + " for a session never connected: " + std::to_string(id));
  return *session;
}

void HubWorld::step(const Call& call) {
  call_hub(call);
  end_turn();
}

// The shell's end of a loop turn: sessions the hub resumed read on. Then
// the counts must match the model.
void HubWorld::end_turn() {
  resume_reading();
  check_counts();
}

void HubWorld::call_hub(const Call& call) {
  chat::Effects effects;
  call(effects);
  for (const chat::Effect& effect : effects) apply(effect);
}

void HubWorld::resume_reading() {
  while (!resuming_.empty()) {
    const std::vector<chat::SessionId> ids = std::exchange(resuming_, {});
    for (const chat::SessionId id : ids) {
      ClientSession* session = find(id);
      if (session != nullptr && session->reading()) read_input(*session);
    }
  }
}

// ---- The shell reading a connection ----

void HubWorld::read_input(ClientSession& session) {
  for (;;) {
    take_lines(session);
    if (!session.reading()) break;
    if (session.unread.empty()) {
      if (session.client_closed && !session.end_reported) report_end_of_input(session);
      break;
    }
    fill_ring(session);
  }
  session.input.release();
}

void HubWorld::take_lines(ClientSession& session) {
  protocol::Frame frame;
  while (session.reading() && session.framer.next(session.input, frame)) {
    hand_over(session, door::native_command(frame));
  }
}

void HubWorld::fill_ring(ClientSession& session) {
  const std::span<char> space = session.input.writable();
  check(!space.empty(), "the framer left a session's ring full");
  const std::size_t count = std::min(space.size(), session.unread.size());
  std::memcpy(space.data(), session.unread.data(), count);
  session.input.commit(count);
  session.unread.erase(0, count);
  hub_.note_activity(session.id, monotonic_);
}

// As Server::on_end_of_input: the last line without LF, then the news.
void HubWorld::report_end_of_input(ClientSession& session) {
  session.end_reported = true;
  protocol::Frame frame;
  if (session.framer.finish(session.input, frame)) hand_over(session, door::native_command(frame));
  const chat::SessionId id = session.id;
  call_hub([&](chat::Effects& out) { hub_.end_of_input(id, out); });
}

void HubWorld::hand_over(ClientSession& session, const protocol::Command& command) {
  if (tracing_) {
    trace("  " + session_label(session.id) + " reads command " +
          std::to_string(static_cast<int>(command.kind)));
  }
  // A session whose new password is being stored is registered in the hub,
  // though its welcome (and every answer after it) waits for the store.
  const bool was_registered = session.live() && (session.transcript.welcomed() || session.storing_password);
  // A register on a registered session is refused (already-registered):
  // it is not the attempt a welcome answers.
  if (command.kind == protocol::CommandKind::kRegister && !was_registered) {
    session.last_register = RegisterAttempt{std::string(command.target), std::string(command.password)};
    watched_names_.insert(std::string(command.target));
    if (is_recognisable_secret(command.password)) secrets_.insert(std::string(command.password));
  }
  const chat::SessionId id = session.id;
  call_hub([&](chat::Effects& out) { hub_.handle(id, command, now_, out); });
  note_command(session, command, was_registered);
}

// The rooms a registered session is in, as its joins and leaves say.
void HubWorld::note_command(ClientSession& session, const protocol::Command& command, bool was_registered) {
  if (!was_registered || !session.live()) return;
  // The user is offline from server:exit on, though its bye may wait.
  if (command.kind == protocol::CommandKind::kExit) {
    session.exited = true;
    session.rooms.clear();
  }
  if (session.exited) return;
  if (command.kind == protocol::CommandKind::kJoin) session.rooms.insert(protocol::fold_case(command.target));
  if (command.kind == protocol::CommandKind::kLeave) session.rooms.erase(protocol::fold_case(command.target));
}

// ---- Applying effects ----

void HubWorld::apply(const chat::Effect& effect) {
  trace_effect(effect);
  switch (effect.kind) {
    case chat::EffectKind::kSend: on_send(effect); break;
    case chat::EffectKind::kClose: on_close(effect); break;
    case chat::EffectKind::kLog: on_log(effect); break;
    case chat::EffectKind::kStore: on_store(effect); break;
    case chat::EffectKind::kHashPassword:
    case chat::EffectKind::kVerifyPassword: on_password_work(effect); break;
    case chat::EffectKind::kPauseInput: on_pause(effect, true); break;
    case chat::EffectKind::kResumeInput: on_pause(effect, false); break;
    case chat::EffectKind::kWatchOutput:
      known(effect.session, "a watch");
      watching_.insert(effect.session);
      break;
  }
}

void HubWorld::on_send(const chat::Effect& effect) {
  ClientSession& session = known(effect.session, "a send");
  check(effect.event != nullptr, "a send without an event");
  const chat::Payload rendered = native_.render(effect.event);
  check(rendered != nullptr, "an event the native door does not show");
  const std::string& payload = *rendered;
  render_in_other_doors(effect.session, effect.event);
  check(!silenced_, "a send after shutdown", payload);
  check(!session.disconnected, "a send after disconnect", payload);
  check(!session.closed, "a send after close", payload);
  check(!payload.empty() && payload.back() == '\n', "a payload that is not whole lines", payload);
  for (std::size_t start = 0; start < payload.size();) {
    const std::size_t end = payload.find('\n', start);
    on_line(session, std::string_view(payload).substr(start, end - start));
    start = end + 1;
  }
  if (effect.message_id == 0) return;
  on_direct_sent(session, effect.message_id, payload);
  delivered_.push_back(effect.message_id);
}

namespace {

// Whole lines, each ending with `ending`, with no other CR, LF or NUL.
void check_lines(const chat::Payload& payload, std::string_view ending, std::string_view door) {
  if (payload == nullptr) return;  // the door shows nothing of it
  const std::string& bytes = *payload;
  check(!bytes.empty() && bytes.ends_with(ending), "a rendering that is not whole lines", door);
  for (std::size_t start = 0; start < bytes.size();) {
    const std::size_t end = bytes.find(ending, start);
    check(end != std::string::npos, "a rendering that is not whole lines", door);
    const std::string_view line = std::string_view(bytes).substr(start, end - start);
    check(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
          "a rendered line with a CR, LF or NUL inside", door);
    start = end + ending.size();
  }
}

}  // namespace

void HubWorld::render_in_other_doors(chat::SessionId id, const chat::EventRef& event) {
  OtherDoors& doors = other_doors_.try_emplace(id, door_settings_).first->second;
  check_lines(doors.irc.render(event), "\r\n", "irc");
  check_lines(doors.classic.render(event), "\n", "classic");
}

void HubWorld::on_line(ClientSession& session, std::string_view line) {
  const bool was_welcomed = session.transcript.welcomed();
  session.transcript.on_line(line);
  if (!was_welcomed && session.transcript.welcomed()) on_welcome(session);
  if (line.ends_with('\r')) line.remove_suffix(1);  // the transcript checked it belongs there
  if (line.starts_with("server:online ") || line.starts_with("server:offline ")) on_presence(session, line);
  if (line.starts_with('[')) on_chat(session, line);
}

void HubWorld::on_presence(const ClientSession& session, std::string_view line) {
  check(config_.hub.presence != chat::Presence::kOff, "presence is off, yet", line);
  const std::string_view subject = line.substr(line.find(' ') + 1);
  check(!same_name(subject, session.transcript.name()), "a user told of its own presence", line);
}

// The sender gets no copy of its room or broadcast message (a replay from
// the history may show it, a live line may not).
void HubWorld::on_chat(const ClientSession& session, std::string_view line) {
  const bool live = line.size() > 10 && line[9] == ']';
  if (!live) return;
  std::string_view rest = line.substr(11);
  const bool to_many = rest.starts_with('#') || rest.starts_with("* ");
  if (!to_many) return;
  rest.remove_prefix(rest.find(' ') + 1);
  const std::string_view sender = rest.substr(0, rest.find(": "));
  check(!same_name(sender, session.transcript.name()), "a sender got its own message", line);
}

void HubWorld::on_welcome(ClientSession& session) {
  const std::string& name = session.transcript.name();
  for (const auto& [id, other] : sessions_) {
    // One that said exit holds its name until its bye.
    if (&other == &session || !other.live() || !other.transcript.online()) continue;
    check(!same_name(other.transcript.name(), name), "a name online on two sessions", name);
  }
  const RegisterAttempt& attempt = session.last_register;
  check(same_name(attempt.name, name), "a welcome to a name the session did not ask for", name);
  if (const auto found = passwords_.find(name); found != passwords_.end()) {
    check(attempt.password == found->second, "a welcome without the name's password", name);
  } else if (!attempt.password.empty() && !attempt.hash_failed) {
    passwords_[name] = attempt.password;
  }
  watched_names_.insert(name);
}

void HubWorld::on_direct_sent(ClientSession& session, chat::MessageId id, const std::string& payload) {
  check(session.transcript.welcomed(), "a DM to a session not registered", payload);
  check(payload.find('\n') + 1 == payload.size(), "a DM send of more than one line", payload);
  check(session.dms_received.insert(id).second, "a DM sent twice to one session", payload);
  const FakeStore::Message* stored = store_.find(id);
  if (stored == nullptr) return;  // its insert failed: the disk was full
  check(stored->record.kind == chat::MessageKind::kDirect, "a DM id that is no DM in the store", payload);
  check(same_name(stored->record.target, session.transcript.name()), "a DM to a session not its recipient",
        payload);
  check(payload.find(stored->record.text) != std::string::npos, "a DM that lost its text", payload);
}

void HubWorld::on_close(const chat::Effect& effect) {
  ClientSession& session = known(effect.session, "a close");
  check(!session.disconnected, "a close after disconnect", session_label(effect.session));
  session.closed = true;
}

void HubWorld::on_log(const chat::Effect& effect) {
  check(effect.payload != nullptr, "a log effect without text");
  const std::string& text = *effect.payload;
  check(text.find('\n') == std::string::npos, "a log line holds a line end", text);
  for (const std::string& secret : secrets_) {
    check(text.find(secret) == std::string::npos, "a password was logged", text);
  }
}

void HubWorld::on_store(const chat::Effect& effect) {
  check(effect.store != nullptr, "a store effect without request");
  if (auto result = store_.execute(*effect.store)) store_results_.push_back(std::move(*result));
}

void HubWorld::on_password_work(const chat::Effect& effect) {
  if (effect.kind == chat::EffectKind::kHashPassword) {
    check(effect.hash_password != nullptr, "a hash effect without work");
    check(effect.hash_password->session == effect.session, "hash work for another session");
    password_work_.emplace_back(*effect.hash_password);
    return;
  }
  check(effect.verify_password != nullptr, "a verify effect without work");
  check(effect.verify_password->session == effect.session, "verify work for another session");
  check(!effect.verify_password->hash.empty(), "a password checked against no hash");
  password_work_.emplace_back(*effect.verify_password);
}

void HubWorld::on_pause(const chat::Effect& effect, bool paused) {
  ClientSession& session = known(effect.session, paused ? "a pause" : "a resume");
  session.paused = paused;
  if (!paused) resuming_.push_back(session.id);
}

void HubWorld::trace_effect(const chat::Effect& effect) const {
  if (!tracing_) return;
  static constexpr const char* kNames[] = {"send",   "close", "log",    "store", "hash",
                                           "verify", "pause", "resume", "watch"};
  std::string text =
      "    -> " + std::string(kNames[static_cast<int>(effect.kind)]) + " " + session_label(effect.session);
  if (effect.payload != nullptr) text += ": " + *effect.payload;
  if (effect.message_id != 0) text += " (message " + std::to_string(effect.message_id) + ")";
  trace(text);
}

// ---- Invariants ----

// At most --max-per-ip connections from one address, and a refusal only
// past a limit. Sessions closing may or may not be counted by the hub yet.
void HubWorld::check_admission(const ClientSession& session) const {
  std::size_t live_from_ip = 0;
  std::size_t held_from_ip = 0;
  std::size_t held = 0;
  for (const auto& [id, other] : sessions_) {
    if (&other == &session || other.refused || other.disconnected) continue;
    ++held;
    if (!same_name(other.ip, session.ip)) continue;
    ++held_from_ip;
    if (other.live()) ++live_from_ip;
  }
  const std::size_t per_ip = config_.hub.max_per_ip;
  const std::size_t clients = config_.hub.max_clients;
  if (!session.refused) {
    check(per_ip == 0 || live_from_ip < per_ip, "more connections from one address than --max-per-ip",
          session.ip);
    return;
  }
  const bool full = (clients != 0 && held >= clients) || (per_ip != 0 && held_from_ip >= per_ip);
  check(shut_down_ || full, "a connection refused under every limit", session.ip);
}

// Who the hub holds: at least every live session, at most those not yet
// disconnected (a closed session may still be held, e.g. after idle-timeout,
// until the shell reports it gone).
void HubWorld::check_counts() const {
  check_queued_counts();
  // After shutdown the hub lets sessions go without accounting for them.
  if (shut_down_) return;
  Tally live;
  Tally held;
  for (const auto& [id, session] : sessions_) {
    if (session.refused || session.disconnected) continue;
    held.add(session, /*with_pending=*/true);
    if (session.live()) live.add(session);
  }
  check_between(hub_.session_count(), live.sessions, held.sessions, "session_count()");
  check_between(hub_.online_count(), live.online, held.online, "online_count()");
  check_between(hub_.room_count(), live.rooms.size(), held.rooms.size(), "room_count()");
}

void HubWorld::check_queued_counts() const {
  for (const std::string& name : watched_names_) {
    const std::size_t queued = hub_.queued_count(name);
    if (queued > queue_bound_) fail("queued_count(" + name + ") is " + std::to_string(queued));
  }
}

void HubWorld::finish() {
  settle();
  check_settled();
  close_every_client();
  settle();
  for (const auto& [id, session] : sessions_) {
    check(!session.live(), "every client closed its side, but " + session_label(id) + " stayed open");
  }
  lose_every_connection();
  check(hub_.session_count() == 0, "sessions left after every connection went");
  // Known and reported: after shutdown, Hub::disconnect returns before it
  // takes the user offline and out of its rooms.
  if (shut_down_) return;
  check(hub_.online_count() == 0,
        "online_count() is " + std::to_string(hub_.online_count()) + " after every connection went");
  check(hub_.room_count() == 0, "rooms left after every connection went");
}

// Every slow answer let in, with the disk healthy again.
// Then a tick, as the shell's timer would make: a replay page the store
// could not read is asked for again then.
void HubWorld::settle() {
  store_.set_disk_full(false);
  do {
    while (has_pending_work()) {
      release_store_results(store_results_.size());
      while (!password_work_.empty()) answer_password_work(0, /*hashing_fails=*/false);
      report_deliveries();
      clients_read(/*one=*/false);
    }
    if (!shut_down_) tick();
  } while (has_pending_work());
}

bool HubWorld::has_pending_work() const {
  return !store_results_.empty() || !password_work_.empty() || !delivered_.empty() || !watching_.empty();
}

// Nothing is slow any more, so no open session may still wait for anything.
void HubWorld::check_settled() const {
  if (shut_down_) return;
  for (const auto& [id, session] : sessions_) {
    if (!session.live()) continue;
    const std::string label = session_label(id);
    check(!session.transcript.owes_lines(), label + " still waits for lines it was promised");
    check(!session.paused, label + " is paused with nothing to wait for");
    check(!session.end_reported, label + " ended its input and is owed nothing, but is still open");
  }
}

void HubWorld::close_every_client() {
  for (auto& [id, session] : sessions_) {
    if (!session.live() || session.client_closed) continue;
    session.client_closed = true;
    read_input(session);
    end_turn();
  }
}

void HubWorld::lose_every_connection() {
  for (auto& [id, session] : sessions_) {
    if (session.disconnected) continue;
    session.disconnected = true;
    session.rooms.clear();
    step([&, session_id = id](chat::Effects& out) { hub_.disconnect(session_id, out); });
  }
}

}  // namespace uvchat::fuzz
