// A Hub inside a recording shell: the hub's tests send it client lines and
// read back, per session, the lines it sent and whether it closed it.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/chat/hub.hpp"
#include "uvchat/protocol/command.hpp"
#include "uvchat/protocol/parser.hpp"

namespace uvchat::test {

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

class HubFixture {
 public:
  explicit HubFixture(chat::HubConfig config = {})
      : hub_(in_utc(config)), kept_cr_(config.line_ending == protocol::LineEnding::kCrLf ? "\r" : "") {}

  chat::Hub& hub() { return hub_; }

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
  SessionId sign_in(std::string_view name) {
    const SessionId id = new_session();
    send(id, "server:register " + std::string(name));
    const Lines answer = lines(id);
    REQUIRE(!answer.empty());
    REQUIRE(answer.front() == "server:welcome " + std::string(name) + kept_cr_);
    forget();
    return id;
  }

  // One clean line from the client, as the framer hands it over.
  void send(SessionId id, std::string_view line) {
    const std::string kept(line);  // the command's views point into it
    handle(id, protocol::parse_line(kept));
  }

  void handle(SessionId id, const protocol::Command& command) {
    run([&](chat::Effects& out) { hub_.handle(id, command, now_, out); });
  }

  void disconnect(SessionId id) {
    run([&](chat::Effects& out) { hub_.disconnect(id, out); });
  }

  void shutdown() {
    run([&](chat::Effects& out) { hub_.shutdown(out); });
  }

  void advance(std::chrono::seconds by) { now_ += by; }

  // The lines sent to `id` since last asked, without their LF, and kClosed
  // where it was closed; asking forgets them.
  Lines lines(SessionId id) {
    Lines taken = std::move(sent_[id]);
    sent_.erase(id);
    return taken;
  }

  // True when no session was sent anything (or closed) since last asked.
  bool nothing_sent() const {
    for (const auto& [id, session_lines] : sent_) {
      if (!session_lines.empty()) return false;
    }
    return true;
  }

  void forget() {
    sent_.clear();
    logs_.clear();
  }

  const std::vector<LogLine>& logs() const { return logs_; }
  // The effects of the last call into the hub, as it returned them.
  const chat::Effects& last_effects() const { return last_; }

 private:
  static chat::HubConfig in_utc(chat::HubConfig config) {
    config.utc = true;
    return config;
  }

  template <class Call>
  void run(Call call) {
    last_.clear();
    call(last_);
    for (const chat::Effect& effect : last_) record(effect);
  }

  void record(const chat::Effect& effect) {
    switch (effect.kind) {
      case chat::EffectKind::kSend: record_send(effect); break;
      case chat::EffectKind::kClose: sent_[effect.session].push_back(kClosed); break;
      case chat::EffectKind::kLog:
        REQUIRE(effect.payload != nullptr);
        logs_.push_back(LogLine{effect.level, *effect.payload});
        break;
    }
  }

  // A payload holds whole lines: each ends with LF.
  void record_send(const chat::Effect& effect) {
    CHECK(effect.session != 0);
    REQUIRE(effect.payload != nullptr);
    const std::string& bytes = *effect.payload;
    CHECK((!bytes.empty() && bytes.back() == '\n'));
    std::size_t start = 0;
    for (std::size_t end = bytes.find('\n'); end != std::string::npos; end = bytes.find('\n', start)) {
      sent_[effect.session].push_back(bytes.substr(start, end - start));
      start = end + 1;
    }
  }

  chat::Hub hub_;
  std::string kept_cr_;  // what is left of a line end once split at LF
  protocol::TimePoint now_ = kStartTime;
  SessionId next_id_ = 1;
  std::map<SessionId, Lines> sent_;
  std::vector<LogLine> logs_;
  chat::Effects last_;
};

}  // namespace uvchat::test
