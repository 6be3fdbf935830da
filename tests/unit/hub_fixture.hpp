// A Hub inside a recording shell: the hub's tests send it client lines and
// read back, per session, the lines it sent and whether it closed it.
//
// The slow work the hub asks for is done by fakes: a message store held in
// memory (FakeStore), a password worker whose hash is plainly fake, and
// sockets that take every byte at once. By default each answers at once, and
// its answer is fed back to the hub until nothing is left to do, so that a
// test reads like a conversation. A test about ordering holds one kind of
// answer (hold_store_results and the like) and releases it step by step.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/chat/hub.hpp"
#include "uvchat/chat/name_map.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/protocol/command.hpp"
#include "uvchat/protocol/parser.hpp"

namespace uvchat::test {

using chat::MessageId;
using chat::SessionId;
using Lines = std::vector<std::string>;

// How a close shows among a session's lines.
inline const std::string kClosed = "<closed>";

// 2023-11-14 22:13:20 UTC: the time of every line until a test moves it.
inline const protocol::TimePoint kStartTime{std::chrono::seconds{1700000000}};

struct LogLine {
  LogLevel level;
  std::string text;
};

// The fake password worker's hash: clearly not a real one, and easy to read
// in a failing check.
inline std::string fake_hash(std::string_view password) { return "fake-hash:" + std::string(password); }

// The message store in memory, with the semantics of the real one
// (src/store/store.cpp): what the hub's requests find and change there.
class FakeStore {
 public:
  struct Message {
    chat::MessageRecord record;
    bool delivered = false;  // DMs only
  };

  // Runs `request` as the store worker does; the answer, for a request that has one.
  std::optional<chat::StoreResult> execute(const chat::StoreRequest& request) {
    return std::visit([this](const auto& typed) { return run(typed); }, request);
  }

  // `result` as a store whose transaction failed answers it; a failed insert
  // is rolled back.
  chat::StoreResult fail(chat::StoreResult result) {
    std::visit([this](auto& typed) { spoil(typed); }, result);
    return result;
  }

  const std::map<MessageId, Message>& messages() const { return messages_; }
  bool holds(MessageId id) const { return messages_.contains(id); }
  bool delivered(MessageId id) const { return holds(id) && messages_.at(id).delivered; }
  bool knows(std::string_view name) const { return users_.contains(name); }
  // The stored hash; empty for none, or for a user the store does not know.
  std::string password_hash(std::string_view name) const {
    const auto found = users_.find(name);
    return found == users_.end() ? std::string() : found->second;
  }
  MessageId last_id() const { return messages_.empty() ? 0 : messages_.rbegin()->first; }

 private:
  static constexpr int kNoLimit = std::numeric_limits<int>::max();
  static constexpr MessageId kAnyId = std::numeric_limits<MessageId>::max();

  static bool same_name(std::string_view a, std::string_view b) { return chat::CaseInsensitiveEqual{}(a, b); }

  std::optional<chat::StoreResult> run(const chat::InsertMessage& insert) {
    messages_[insert.message.id] = Message{insert.record()};
    if (insert.ticket == 0) return std::nullopt;
    tickets_[insert.ticket] = insert.message.id;
    return chat::StoreAck{insert.ticket, true};
  }

  std::optional<chat::StoreResult> run(const chat::MarkDelivered& delivered) {
    for (const MessageId id : delivered.ids) {
      const auto found = messages_.find(id);
      if (found != messages_.end() && found->second.record.kind == chat::MessageKind::kDirect) {
        found->second.delivered = true;
      }
    }
    return std::nullopt;
  }

  std::optional<chat::StoreResult> run(const chat::TouchUser& touch) {
    users_.try_emplace(touch.name);
    return std::nullopt;
  }

  // Like the real UPDATE: a user the store does not know gets no hash.
  // With a ticket, acknowledged like a queued DM (the welcome waits for it).
  std::optional<chat::StoreResult> run(const chat::SetPasswordHash& password) {
    const auto found = users_.find(password.name);
    if (found != users_.end()) found->second = password.hash;
    if (password.ticket == 0) return std::nullopt;
    password_tickets_[password.ticket] = password.name;
    return chat::StoreAck{password.ticket, true};
  }

  // A page, as Store::undelivered_directs(recipient, page) reads it.
  std::optional<chat::StoreResult> run(const chat::FetchQueued& fetch) {
    chat::QueuedFetched fetched{.request = fetch, .ok = true, .messages = {}, .more = false, .total = 0};
    std::size_t bytes = 0;
    for (auto it = messages_.upper_bound(fetch.after); it != messages_.end() && it->first <= fetch.up_to; ++it) {
      const Message& message = it->second;
      if (message.delivered || !is_direct_to(message, fetch.user)) continue;
      if (fetched.messages.size() >= fetch.max_count || (!fetched.messages.empty() && bytes >= fetch.max_bytes)) {
        fetched.more = true;
        break;
      }
      fetched.messages.push_back(message.record);
      bytes += message.record.text.size();
    }
    if (fetch.count_total) fetched.total = count_up_to(fetch.up_to, fetch.user);
    return fetched;
  }

  // Undelivered DMs to `user` with id <= up_to.
  std::size_t count_up_to(MessageId up_to, std::string_view user) const {
    std::size_t count = 0;
    for (auto it = messages_.begin(); it != messages_.end() && it->first <= up_to; ++it) {
      if (!it->second.delivered && is_direct_to(it->second, user)) ++count;
    }
    return count;
  }

  std::optional<chat::StoreResult> run(const chat::FetchHistory& fetch) {
    const auto in_history = [&](const Message& message) {
      if (fetch.of_broadcast) return message.record.kind == chat::MessageKind::kBroadcast;
      if (fetch.of_room) {
        return message.record.kind == chat::MessageKind::kRoom &&
               same_name(message.record.target, fetch.target);
      }
      return (is_direct_to(message, fetch.target) && same_name(message.record.sender, fetch.asker)) ||
             (is_direct_to(message, fetch.asker) && same_name(message.record.sender, fetch.target));
    };
    return chat::HistoryFetched{
        .request = fetch, .ok = true, .messages = select(fetch.limit, fetch.up_to, in_history)};
  }

  std::optional<chat::StoreResult> run(const chat::DeleteDeliveredBefore& retention) {
    std::erase_if(messages_, [&](const auto& entry) {
      const Message& message = entry.second;
      const bool kept_for_delivery = message.record.kind == chat::MessageKind::kDirect && !message.delivered;
      return message.record.received_at < retention.cutoff && !kept_for_delivery;
    });
    return std::nullopt;
  }

  static bool is_direct_to(const Message& message, std::string_view name) {
    return message.record.kind == chat::MessageKind::kDirect && same_name(message.record.target, name);
  }

  // The last `limit` matching messages with id <= up_to, oldest first.
  template <class Match>
  std::vector<chat::MessageRecord> select(int limit, MessageId up_to, Match matches) const {
    std::vector<chat::MessageRecord> found;
    for (const auto& [id, message] : messages_) {
      if (id <= up_to && matches(message)) found.push_back(message.record);
    }
    const auto excess = static_cast<std::ptrdiff_t>(found.size()) - limit;
    if (excess > 0) found.erase(found.begin(), found.begin() + excess);
    return found;
  }

  void spoil(chat::StoreAck& ack) {
    ack.committed = false;
    if (const auto password = password_tickets_.find(ack.ticket); password != password_tickets_.end()) {
      if (const auto user = users_.find(password->second); user != users_.end()) user->second.clear();
      return;
    }
    messages_.erase(tickets_.at(ack.ticket));
  }
  void spoil(chat::QueuedFetched& fetched) {
    fetched.ok = false;
    fetched.messages.clear();
  }
  void spoil(chat::HistoryFetched& fetched) {
    fetched.ok = false;
    fetched.messages.clear();
  }

  std::map<MessageId, Message> messages_;  // by id: oldest first
  chat::NameMap<std::string> users_;       // every known name, and its password hash
  std::map<std::uint64_t, MessageId> tickets_;
  std::map<std::uint64_t, std::string> password_tickets_;  // a password ack: whose
};

class HubFixture {
 public:
  // The hub's events are read as the native door renders them, in UTC.
  explicit HubFixture(chat::HubConfig config = {}, protocol::LineEnding ending = protocol::LineEnding::kLf)
      : hub_(config), native_(ending, /*utc=*/true), kept_cr_(ending == protocol::LineEnding::kCrLf ? "\r" : "") {}

  chat::Hub& hub() { return hub_; }
  FakeStore& store() { return store_; }

  // As at start-up: the store knows `name`, with `password_hash` ("" for
  // none) and `queued` DMs waiting for it, and the hub is told so.
  void load_user(std::string_view name, std::string password_hash = {}, std::size_t queued = 0) {
    store_.execute(chat::TouchUser{std::string(name), now_, {}});
    store_.execute(chat::SetPasswordHash{std::string(name), password_hash});
    for (std::size_t n = 1; n <= queued; ++n) {
      store_.execute(chat::InsertMessage{.message = {.id = store_.last_id() + 1,
                                                     .received_at = now_,
                                                     .sender = "someone",
                                                     .kind = chat::MessageKind::kDirect,
                                                     .target = std::string(name),
                                                     .text = "queued " + std::to_string(n)}});
    }
    hub_.load_user(name, std::move(password_hash), queued);
    hub_.set_last_message_id(store_.last_id());
  }

  void connect(SessionId id) {
    run([&](chat::Effects& out) { hub_.connect(id, "127.0.0.1:" + std::to_string(40000 + id), out); });
  }

  // Connects the next session id.
  SessionId new_session() {
    const SessionId id = next_id_++;
    connect(id);
    return id;
  }

  // A new session registered as `name`; what that sent to anyone is forgotten.
  SessionId sign_in(std::string_view name, std::string_view password = {}) {
    const SessionId id = new_session();
    send(id, register_line(name, password));
    const Lines answer = lines(id);
    REQUIRE(!answer.empty());
    REQUIRE(answer.front() == "server:welcome " + std::string(name) + kept_cr_);
    forget();
    return id;
  }

  static std::string register_line(std::string_view name, std::string_view password = {}) {
    std::string line = "server:register " + std::string(name);
    if (!password.empty()) line += " " + std::string(password);
    return line;
  }

  // One clean line from the client, as the framer hands it over. While the
  // hub has paused the session's input the line waits, as unread bytes in
  // the socket would, and is read once the hub resumes it.
  void send(SessionId id, std::string_view line) {
    if (paused_.contains(id)) {
      unread_[id].emplace_back(line);
      return;
    }
    send_despite_pause(id, line);
  }

  // The line handed over at once, as by a shell that ignored kPauseInput.
  void send_despite_pause(SessionId id, std::string_view line) {
    const std::string kept(line);  // the command's views point into it
    handle(id, protocol::parse_line(kept));
  }

  void handle(SessionId id, const protocol::Command& command) {
    run([&](chat::Effects& out) { hub_.handle(id, command, now_, out); });
  }

  // The client closed its side of the connection.
  void end_input(SessionId id) {
    run([&](chat::Effects& out) { hub_.end_of_input(id, out); });
  }

  void disconnect(SessionId id) {
    run([&](chat::Effects& out) { hub_.disconnect(id, out); });
  }

  void shutdown() {
    run([&](chat::Effects& out) { hub_.shutdown(out); });
  }

  void advance(std::chrono::seconds by) { now_ += by; }
  protocol::TimePoint now() const { return now_; }
  // The shell's once-a-second timer (no session here is old enough to expire).
  void tick() {
    run([&](chat::Effects& out) { hub_.tick(chat::Monotonic{0}, out); });
  }

  // ---- Holding the fakes' answers, to test what happens meanwhile ----

  // Store results wait until released, in the order the store made them.
  void hold_store_results() { hold_store_ = true; }
  std::size_t held_store_results() const { return held_results_.size(); }
  void release_store_result() { hand_back_store_result(/*failed=*/false); }
  // The oldest held result, as a store whose write or read failed gives it.
  void fail_store_result() { hand_back_store_result(/*failed=*/true); }
  // Every held result, and those they lead to, until none is left.
  void release_all_store_results() {
    while (!held_results_.empty()) release_store_result();
  }

  // Password work waits until released, oldest first.
  void hold_password_work() { hold_passwords_ = true; }
  std::size_t held_password_work() const { return held_password_work_.size(); }
  void release_password_work() {
    REQUIRE(!held_password_work_.empty());
    const PasswordWork work = std::move(held_password_work_.front());
    held_password_work_.pop_front();
    run(answer_of(work));
  }

  // Sockets keep the DMs they took to themselves until report_deliveries.
  // The sockets stop taking bytes: the hub's kWatchOutput waits until
  // drain_output, as for a client that does not read.
  void hold_output() { hold_output_ = true; }
  // The session's client took what it had: the hub may send it more.
  void drain_output(SessionId id) {
    if (!watching_.erase(id)) return;
    run([&](chat::Effects& out) { hub_.on_output_drained(id, out); });
  }
  bool watching_output(SessionId id) const { return watching_.contains(id); }
  // How many times the hub asked to hear that the session's output drained.
  std::size_t output_watches(SessionId id) const {
    const auto found = watches_.find(id);
    return found == watches_.end() ? 0 : found->second;
  }

  void hold_delivery_reports() { hold_deliveries_ = true; }
  void report_deliveries() {
    const std::vector<MessageId> ids = std::exchange(held_deliveries_, {});
    run([&](chat::Effects& out) { hub_.on_delivered(ids, now_, out); });
  }

  // ---- What the hub did ----

  // The lines sent to `id` since last asked, without their LF, and kClosed
  // where it was closed; asking forgets them.
  Lines lines(SessionId id) {
    Lines taken = std::move(sent_[id]);
    sent_.erase(id);
    return taken;
  }

  // The message ids of the sends to `id` that carried one, since last
  // asked; asking forgets them.
  std::vector<MessageId> message_ids(SessionId id) {
    std::vector<MessageId> taken = std::move(sent_ids_[id]);
    sent_ids_.erase(id);
    return taken;
  }

  // True while the hub has the session's input paused (kPauseInput).
  bool input_paused(SessionId id) const { return paused_.contains(id); }

  // True when no session was sent anything (or closed) since last asked.
  bool nothing_sent() const {
    for (const auto& [id, session_lines] : sent_) {
      if (!session_lines.empty()) return false;
    }
    return true;
  }

  // Forgets what was sent and logged, and the requests made.
  void forget() {
    sent_.clear();
    sent_ids_.clear();
    logs_.clear();
    store_requests_.clear();
    hash_requests_.clear();
    verify_requests_.clear();
  }

  const std::vector<LogLine>& logs() const { return logs_; }
  // The effects of the last call into the hub, as it returned them (not
  // what the fakes' answers to them caused).
  const chat::Effects& last_effects() const { return last_; }

  // The store requests of type Request since the last forget, in order.
  template <class Request>
  std::vector<Request> store_requests() const {
    std::vector<Request> found;
    for (const chat::StoreRequest& request : store_requests_) {
      if (const auto* typed = std::get_if<Request>(&request)) found.push_back(*typed);
    }
    return found;
  }
  const std::vector<chat::HashPassword>& hash_requests() const { return hash_requests_; }
  const std::vector<chat::VerifyPassword>& verify_requests() const { return verify_requests_; }

  // Every payload sent and every log line since the fixture was made; never forgotten.
  const std::vector<std::string>& everything_said() const { return everything_said_; }

 private:
  using Call = std::function<void(chat::Effects&)>;
  using PasswordWork = std::variant<chat::HashPassword, chat::VerifyPassword>;

  // Calls into the hub, records what it returned, then feeds back the
  // answers the fakes give at once, until there are none.
  void run(const Call& call) {
    last_.clear();
    call(last_);
    record_all(last_);
    while (!answers_.empty()) {
      const Call answer = std::move(answers_.front());
      answers_.pop_front();
      chat::Effects out;
      answer(out);
      record_all(out);
    }
  }

  void record_all(const chat::Effects& effects) {
    std::vector<MessageId> delivered;
    for (const chat::Effect& effect : effects) {
      record(effect);
      if (effect.kind == chat::EffectKind::kSend && effect.message_id != 0)
        delivered.push_back(effect.message_id);
    }
    if (delivered.empty()) return;
    if (hold_deliveries_) {
      held_deliveries_.insert(held_deliveries_.end(), delivered.begin(), delivered.end());
      return;
    }
    answers_.push_back([this, delivered](chat::Effects& out) { hub_.on_delivered(delivered, now_, out); });
  }

  void record(const chat::Effect& effect) {
    switch (effect.kind) {
      case chat::EffectKind::kSend: record_send(effect); break;
      case chat::EffectKind::kClose: sent_[effect.session].push_back(kClosed); break;
      case chat::EffectKind::kLog: record_log(effect); break;
      case chat::EffectKind::kStore: record_store(effect); break;
      case chat::EffectKind::kHashPassword:
        REQUIRE(effect.hash_password != nullptr);
        hash_requests_.push_back(*effect.hash_password);
        start_password_work(*effect.hash_password);
        break;
      case chat::EffectKind::kVerifyPassword:
        REQUIRE(effect.verify_password != nullptr);
        verify_requests_.push_back(*effect.verify_password);
        start_password_work(*effect.verify_password);
        break;
      case chat::EffectKind::kPauseInput: paused_.insert(effect.session); break;
      case chat::EffectKind::kResumeInput:
        paused_.erase(effect.session);
        answers_.push_back(read_next_unread(effect.session));
        break;
      case chat::EffectKind::kWatchOutput:
        ++watches_[effect.session];
        if (hold_output_) {
          watching_.insert(effect.session);
        } else {
          answers_.push_back([this, id = effect.session](chat::Effects& out) { hub_.on_output_drained(id, out); });
        }
        break;
    }
  }

  // Reads one line the session sent while paused, then the next, unless
  // that line paused it again.
  Call read_next_unread(SessionId id) {
    return [this, id](chat::Effects& out) {
      auto& waiting = unread_[id];
      if (paused_.contains(id) || waiting.empty()) return;
      const std::string line = std::move(waiting.front());
      waiting.pop_front();
      hub_.handle(id, protocol::parse_line(line), now_, out);
      answers_.push_back(read_next_unread(id));
    };
  }

  // A payload holds whole lines: each ends with LF.
  void record_send(const chat::Effect& effect) {
    CHECK(effect.session != 0);
    REQUIRE(effect.event != nullptr);
    const chat::Payload rendered = native_.render(effect.event);
    REQUIRE(rendered != nullptr);
    const std::string& bytes = *rendered;
    everything_said_.push_back(bytes);
    CHECK((!bytes.empty() && bytes.back() == '\n'));
    std::size_t start = 0;
    for (std::size_t end = bytes.find('\n'); end != std::string::npos; end = bytes.find('\n', start)) {
      sent_[effect.session].push_back(bytes.substr(start, end - start));
      start = end + 1;
    }
    if (effect.message_id != 0) sent_ids_[effect.session].push_back(effect.message_id);
  }

  void record_log(const chat::Effect& effect) {
    REQUIRE(effect.payload != nullptr);
    everything_said_.push_back(*effect.payload);
    logs_.push_back(LogLine{effect.level, *effect.payload});
  }

  // The store runs each request as it comes, as the worker does; only the
  // answer may be held back.
  void record_store(const chat::Effect& effect) {
    REQUIRE(effect.store != nullptr);
    store_requests_.push_back(*effect.store);
    std::optional<chat::StoreResult> result = store_.execute(*effect.store);
    if (!result) return;
    if (hold_store_) {
      held_results_.push_back(std::move(*result));
      return;
    }
    answers_.push_back([this, answer = std::move(*result)](chat::Effects& out) mutable {
      hub_.on_store_result(answer, out);
    });
  }

  void hand_back_store_result(bool failed) {
    REQUIRE(!held_results_.empty());
    chat::StoreResult result = std::move(held_results_.front());
    held_results_.pop_front();
    if (failed) result = store_.fail(std::move(result));
    run([&](chat::Effects& out) { hub_.on_store_result(result, out); });
  }

  void start_password_work(PasswordWork work) {
    if (hold_passwords_) {
      held_password_work_.push_back(std::move(work));
      return;
    }
    answers_.push_back(answer_of(work));
  }

  // The password worker's answer: a hash, or whether the password matched.
  Call answer_of(const PasswordWork& work) {
    if (const auto* hash = std::get_if<chat::HashPassword>(&work)) {
      return [this, session = hash->session, name = hash->name, hashed = fake_hash(hash->password)](
                 chat::Effects& out) { hub_.on_password_hashed(session, name, hashed, now_, out); };
    }
    const auto& verify = std::get<chat::VerifyPassword>(work);
    return [this, verify](chat::Effects& out) {
      hub_.on_password_checked(verify.session, verify.name, fake_hash(verify.password) == verify.hash, now_,
                               out);
    };
  }

  chat::Hub hub_;
  door::NativeCodec native_;
  FakeStore store_;
  std::string kept_cr_;  // what is left of a line end once split at LF
  protocol::TimePoint now_ = kStartTime;
  SessionId next_id_ = 1;

  bool hold_store_ = false;
  bool hold_passwords_ = false;
  bool hold_deliveries_ = false;
  bool hold_output_ = false;
  std::set<SessionId> watching_;
  std::map<SessionId, std::size_t> watches_;
  std::deque<Call> answers_;  // answers due at once, to feed back before returning
  std::deque<chat::StoreResult> held_results_;
  std::deque<PasswordWork> held_password_work_;
  std::vector<MessageId> held_deliveries_;
  std::set<SessionId> paused_;
  std::map<SessionId, std::deque<std::string>> unread_;

  std::map<SessionId, Lines> sent_;
  std::map<SessionId, std::vector<MessageId>> sent_ids_;
  std::vector<LogLine> logs_;
  std::vector<chat::StoreRequest> store_requests_;
  std::vector<chat::HashPassword> hash_requests_;
  std::vector<chat::VerifyPassword> verify_requests_;
  std::vector<std::string> everything_said_;
  chat::Effects last_;
};

}  // namespace uvchat::test
