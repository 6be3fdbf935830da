#include "uvchat/client/session.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "uvchat/chat/name_map.hpp"
#include "uvchat/client/commands.hpp"

namespace uvchat::client {
namespace {

constexpr std::uint64_t kFirstDelayMs = 1000;
constexpr std::uint64_t kLongestDelayMs = 30'000;
// How long /quit waits for bye before it exits anyway.
constexpr std::uint64_t kQuitWaitMs = 2000;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

constexpr chat::CaseInsensitiveEqual same_name;

std::string seconds_text(std::uint64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000.0);
  return text;
}

// "server:EVENT A B" -> {A, B} when the line is that event.
std::vector<std::string_view> event_args(std::string_view line, std::string_view event) {
  const std::string prefix = "server:" + std::string(event) + " ";
  if (!line.starts_with(prefix)) return {};
  line.remove_prefix(prefix.size());
  std::vector<std::string_view> args;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    args.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return args;
}

Action make(Action::Kind kind, std::string text = {}) {
  Action action{};
  action.kind = kind;
  action.text = std::move(text);
  return action;
}

}  // namespace

Session::Session(SessionConfig config) : config_(std::move(config)), random_(config_.seed) {}

std::uint64_t Session::backoff_ms(unsigned attempt, std::uint64_t random) {
  const std::uint64_t base = std::min(kFirstDelayMs << std::min(attempt, 5U), kLongestDelayMs);
  return base / 2 + random % (base / 2 + 1);
}

std::string Session::prompt() const {
  switch (mode_) {
    case InputMode::kName: return "name: ";
    case InputMode::kPassword: return "password for " + config_.name + ": ";
    case InputMode::kTrust: return "trust this server? (yes/no) ";
    case InputMode::kChat: break;
  }
  return (target_.empty() ? std::string("(no target)") : target_) + "> ";
}

Actions Session::start() { return {make(Action::Kind::kConnect)}; }

Actions Session::connected() {
  Actions out;
  if (config_.name.empty()) {
    ask(InputMode::kName, out);
  } else {
    register_now(out);
  }
  return out;
}

Actions Session::server_identity(const TrustCheck& check) {
  Actions out;
  if (phase_ == Phase::kDone) return out;
  switch (check.trust) {
    case Trust::kVerified:
    case Trust::kKnown: return connected();
    case Trust::kUnknown:
      if (!config_.interactive) {
        refuse_server(unknown_in_pipe(check), out);
        return out;
      }
      for (std::string& line : first_use_explanation(check)) show(std::move(line), Tone::kEvent, out);
      trusting_ = check;
      lost_while_trusting_ = false;
      phase_ = Phase::kTrusting;
      mode_ = InputMode::kTrust;
      return out;
    case Trust::kChanged: refuse_server(changed_warning(check), out); return out;
    case Trust::kRejected: refuse_server(rejected_explanation(check), out); return out;
  }
  return out;
}

// Not trusted: never retried, whatever --no-reconnect says, since the next
// connection would show the same certificate.
void Session::refuse_server(const std::vector<std::string>& lines, Actions& out) {
  for (const std::string& line : lines) show(line, Tone::kError, out);
  phase_ = Phase::kDone;
  mode_ = InputMode::kChat;
  out.push_back(Action{Action::Kind::kExit, {}, Tone::kError, 0, 2});
}

void Session::answer_trust(std::string_view line, Actions& out) {
  if (!trusting_) return;
  const TrustCheck& check = *trusting_;
  switch (read_trust_answer(line, check.identity.fingerprint)) {
    case TrustAnswer::kYes: {
      out.push_back(
          make(Action::Kind::kTrust, known_server_line(check.identity.server, check.identity.fingerprint)));
      trusting_.reset();
      mode_ = InputMode::kChat;
      if (std::exchange(lost_while_trusting_, false)) {
        // The server gave up waiting for the answer; the next connection
        // shows the certificate now trusted, and goes on without a question.
        phase_ = Phase::kConnecting;
        out.push_back(make(Action::Kind::kConnect));
        return;
      }
      const Actions next = connected();
      out.insert(out.end(), next.begin(), next.end());
      return;
    }
    case TrustAnswer::kNo:
      trusting_.reset();
      refuse_server({"not trusted: uvchat did not log in, and stored nothing"}, out);
      return;
    case TrustAnswer::kWrongFingerprint:
      show("That is NOT the fingerprint of the certificate this server showed: it may not be the server",
           Tone::kError, out);
      show("you mean. Answer no, unless you know why they differ.", Tone::kError, out);
      return;
    case TrustAnswer::kUnclear:
      show("Please answer yes or no (or paste the fingerprint).", Tone::kEvent, out);
      return;
  }
}

void Session::register_now(Actions& out) {
  phase_ = Phase::kRegistering;
  mode_ = InputMode::kChat;
  std::string line = "server:register " + config_.name;
  if (!config_.password.empty()) line += " " + config_.password;
  out.push_back(make(Action::Kind::kSend, std::move(line)));
}

void Session::ask(InputMode mode, Actions&) {
  phase_ = Phase::kAsking;
  mode_ = mode;
}

void Session::show(std::string text, Tone tone, Actions& out) const {
  Action action = make(Action::Kind::kShow, std::move(text));
  action.tone = tone;
  out.push_back(std::move(action));
}

Actions Session::server_line(std::string_view line) {
  Actions out;
  // Before the person trusts the server, the client has not registered:
  // only a line before a close (the register timeout) can come.
  if (phase_ == Phase::kDone || phase_ == Phase::kTrusting) return out;
  if (const auto welcome = event_args(line, "welcome"); !welcome.empty()) {
    on_welcome(welcome.front(), out);
    return out;
  }
  if (phase_ == Phase::kRegistering) {
    if (const std::optional<ServerError> error = parse_error(line)) {
      if (error->code == "name-taken" || error->code == "bad-name" || error->code == "wrong-password" ||
          error->code == "rate-limited") {
        on_registration_error(*error, out);
        return out;
      }
    }
  }
  if (line == "server:bye" && phase_ == Phase::kQuitting) {
    phase_ = Phase::kDone;
    out.push_back(Action{Action::Kind::kExit, {}, Tone::kEvent, 0, pipe_failed_ ? 1 : 0});
    return out;
  }
  if (line == "server:pong" && awaiting_last_pong_) {
    awaiting_last_pong_ = false;
    quit(out);
    return out;
  }
  on_chat_line(line, out);
  return out;
}

void Session::on_welcome(std::string_view name, Actions& out) {
  config_.name = std::string(name);
  phase_ = Phase::kChatting;
  mode_ = InputMode::kChat;
  attempts_ = 0;
  const bool again = std::exchange(ever_registered_, true);
  if (config_.interactive) {
    if (!again) {
      show("connected to " + config_.server + " as " + config_.name + (config_.tls ? " over TLS" : "") +
               "; /help lists the commands",
           Tone::kEvent, out);
    } else {
      std::string text = "reconnected to " + config_.server + " as " + config_.name;
      if (!rooms_.empty()) text += "; rejoining";
      for (const std::string& room : rooms_) text += " " + room;
      show(std::move(text), Tone::kEvent, out);
    }
  }
  for (const std::string& room : rooms_) out.push_back(make(Action::Kind::kSend, "server:join " + room));
  if (config_.interactive) return;
  for (const std::string& pending : std::exchange(pending_, {})) run_typed(pending, out);
  if (input_ended_) after_pipe_lines(out);
}

void Session::on_registration_error(const ServerError& error, Actions& out) {
  const std::string described = describe_error(error);
  if (!config_.interactive) {
    fail_pipe(described, out);
    out.push_back(Action{Action::Kind::kExit, {}, Tone::kError, 0, 1});
    phase_ = Phase::kDone;
    return;
  }
  if (error.code == "name-taken" && ever_registered_) {
    // Our old connection may not be gone from the server yet.
    out.push_back(make(Action::Kind::kDisconnect));
    retry_later("the name " + config_.name + " is still taken on the server", out);
    return;
  }
  if (error.code == "wrong-password") {
    show(config_.password.empty() ? "the name " + config_.name + " has a password" : described, Tone::kError,
         out);
    config_.password.clear();
    ask(InputMode::kPassword, out);
    return;
  }
  show(described + "; choose another", Tone::kError, out);
  config_.name.clear();
  config_.password.clear();
  ask(InputMode::kName, out);
}

void Session::on_chat_line(std::string_view line, Actions& out) {
  note_own_rooms(line);
  const std::optional<Shown> shown = present(line, config_.name);
  if (!shown) return;
  if (shown->tone == Tone::kError && !config_.interactive) pipe_failed_ = true;
  show(shown->text, shown->tone, out);
}

void Session::note_own_rooms(std::string_view line) {
  if (const auto joined = event_args(line, "joined");
      joined.size() == 2 && same_name(joined[1], config_.name)) {
    rooms_.insert(std::string(joined[0]));
  }
  if (const auto left = event_args(line, "left"); left.size() == 2 && same_name(left[1], config_.name)) {
    std::erase_if(rooms_, [&](const std::string& room) { return same_name(room, left[0]); });
    if (same_name(target_, left[0])) target_.clear();
  }
}

Actions Session::typed(std::string_view line) {
  Actions out;
  switch (mode_) {
    case InputMode::kName:
      if (trim(line).empty()) return out;
      config_.name = std::string(trim(line));
      register_now(out);
      return out;
    case InputMode::kPassword:
      config_.password = std::string(trim(line));
      register_now(out);
      return out;
    case InputMode::kTrust: answer_trust(line, out); return out;
    case InputMode::kChat: break;
  }
  if (!config_.interactive && phase_ != Phase::kChatting) {
    pending_.emplace_back(line);
    return out;
  }
  run_typed(line, out);
  return out;
}

void Session::run_typed(std::string_view line, Actions& out) {
  const Typed typed = interpret(line, target_);
  for (const std::string& note : typed.notes) {
    if (config_.interactive) {
      show(note, Tone::kEvent, out);
    } else {
      fail_pipe(note, out);
    }
  }
  if (typed.changes_target) target_ = typed.target;
  if (!typed.wire.empty() && phase_ != Phase::kChatting) {
    show("not connected: the line was not sent", Tone::kError, out);
  } else {
    for (const std::string& wire : typed.wire) out.push_back(make(Action::Kind::kSend, wire));
  }
  if (typed.quit) quit(out);
}

// Every line was sent: a pong proves every one was answered.
void Session::after_pipe_lines(Actions& out) {
  awaiting_last_pong_ = true;
  out.push_back(make(Action::Kind::kSend, "server:ping"));
}

Actions Session::end_of_input() {
  Actions out;
  if (config_.interactive) {
    quit(out);
    return out;
  }
  input_ended_ = true;
  if (phase_ == Phase::kChatting && !awaiting_last_pong_) after_pipe_lines(out);
  return out;
}

Actions Session::interrupted() {
  Actions out;
  quit(out);
  return out;
}

void Session::quit(Actions& out) {
  const int status = pipe_failed_ ? 1 : 0;
  if (phase_ == Phase::kChatting) {
    phase_ = Phase::kQuitting;
    out.push_back(make(Action::Kind::kSend, "server:exit"));
    out.push_back(Action{Action::Kind::kQuitIn, {}, Tone::kEvent, kQuitWaitMs, status});
    return;
  }
  phase_ = Phase::kDone;
  out.push_back(Action{Action::Kind::kExit, {}, Tone::kEvent, 0, status});
}

Actions Session::connect_failed(std::string_view why) {
  Actions out;
  if (phase_ == Phase::kDone) return out;
  give_up_or_retry("cannot connect to " + config_.server + " (" + std::string(why) + ")", out);
  return out;
}

Actions Session::connection_lost(std::string_view why) {
  Actions out;
  if (phase_ == Phase::kDone) return out;
  if (phase_ == Phase::kTrusting) {
    // The question stays; the answer decides whether to connect again.
    lost_while_trusting_ = true;
    return out;
  }
  if (phase_ == Phase::kQuitting) {
    phase_ = Phase::kDone;
    out.push_back(Action{Action::Kind::kExit, {}, Tone::kEvent, 0, pipe_failed_ ? 1 : 0});
    return out;
  }
  give_up_or_retry("connection lost (" + std::string(why) + ")", out);
  return out;
}

// A pipe, or --no-reconnect, ends here with status 1.
void Session::give_up_or_retry(std::string what, Actions& out) {
  if (config_.interactive && config_.reconnect) {
    retry_later(what, out);
    return;
  }
  show(std::move(what), Tone::kError, out);
  phase_ = Phase::kDone;
  out.push_back(Action{Action::Kind::kExit, {}, Tone::kError, 0, 1});
}

void Session::retry_later(std::string_view what, Actions& out) {
  const std::uint64_t delay = backoff_ms(attempts_++, random_());
  phase_ = Phase::kWaiting;
  mode_ = InputMode::kChat;
  show(std::string(what) + "; reconnecting in " + seconds_text(delay), Tone::kError, out);
  Action reconnect = make(Action::Kind::kReconnectIn);
  reconnect.ms = delay;
  out.push_back(std::move(reconnect));
}

void Session::fail_pipe(std::string text, Actions& out) {
  pipe_failed_ = true;
  show(std::move(text), Tone::kError, out);
}

}  // namespace uvchat::client
