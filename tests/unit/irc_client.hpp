// What the IRC codec's tests share: a sink that records, a client that
// sends lines and sees events, and events made the way the hub makes them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/door/irc.hpp"

namespace irc_test {

using uvchat::chat::EventKind;
using uvchat::chat::MessageKind;
using uvchat::door::IrcCodec;
using uvchat::door::Settings;
using uvchat::protocol::CommandKind;
using uvchat::protocol::ErrorCode;

// What the codec handed over, in order: a command (copied out of its
// views) or a reply.
struct Recorded {
  bool is_reply = false;
  CommandKind kind = CommandKind::kInvalid;
  std::string target;
  std::string text;
  std::string password;
  std::string lines;  // a reply
};

class RecordingSink final : public uvchat::door::CodecSink {
 public:
  void command(const uvchat::protocol::Command& command) override {
    Recorded r;
    r.kind = command.kind;
    r.target = command.target;
    r.text = command.text;
    r.password = command.password;
    all.push_back(r);
  }
  void reply(std::string lines) override {
    Recorded r;
    r.is_reply = true;
    r.lines = std::move(lines);
    all.push_back(r);
  }
  // Every reply, joined.
  std::string replies() const {
    std::string out;
    for (const Recorded& r : all) {
      if (r.is_reply) out += r.lines;
    }
    return out;
  }
  std::vector<Recorded> commands() const {
    std::vector<Recorded> out;
    for (const Recorded& r : all) {
      if (!r.is_reply) out.push_back(r);
    }
    return out;
  }
  void clear() { all.clear(); }

  std::vector<Recorded> all;
};

// One IRC client's side: its codec and what it handed over.
struct Client {
  explicit Client(const Settings& settings) : codec(settings) {}

  void send(std::string_view line) {
    uvchat::protocol::Frame frame;
    frame.kind = uvchat::protocol::FrameKind::kLine;
    frame.line = line;
    codec.on_frame(frame, sink);
  }
  // The event rendered for this client; "" when it shows nothing.
  std::string see(const uvchat::chat::EventRef& event) {
    const uvchat::chat::Payload payload = codec.render(event);
    return payload ? *payload : std::string();
  }
  // Registers as `nick` the usual way, and takes the hub's welcome.
  void register_as(std::string_view nick) {
    send("NICK " + std::string(nick));
    send("USER u 0 * :Real Name");
    auto welcome = uvchat::chat::make_event(EventKind::kWelcome);
    welcome->name = nick;
    welcome->count = 1;
    see(welcome);
    sink.clear();
  }

  IrcCodec codec;
  RecordingSink sink;
};

inline Settings test_settings() {
  Settings settings;
  settings.utc = true;
  settings.server_name = "irc.test";
  settings.network = "TestNet";
  settings.version = "uvchat-1";
  return settings;
}

inline const uvchat::chat::TimePoint kWhen{std::chrono::milliseconds{1700000000123}};  // 2023-11-14 22:13:20.123 UTC

inline std::shared_ptr<uvchat::chat::Event> chat_line(MessageKind scope, std::string_view sender, std::string_view target,
                                               std::string_view text, bool replayed = false) {
  auto event = uvchat::chat::make_event(EventKind::kChat);
  event->scope = scope;
  event->sender = sender;
  event->target = target;
  event->set_text(std::string(text));
  event->when = kWhen;
  event->replayed = replayed;
  return event;
}

inline std::shared_ptr<uvchat::chat::Event> room_event(EventKind kind, std::string_view room, std::string_view name) {
  auto event = uvchat::chat::make_event(kind);
  event->target = room;
  event->name = name;
  return event;
}

inline std::shared_ptr<uvchat::chat::Event> error(ErrorCode code, std::string_view subject, std::string_view detail = {}) {
  auto event = uvchat::chat::make_event(EventKind::kError);
  event->code = code;
  event->target = subject;
  event->set_text(std::string(detail));
  return event;
}

}  // namespace irc_test
