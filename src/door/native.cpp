#include "uvchat/door/native.hpp"

#include <string_view>
#include <vector>

#include "uvchat/protocol/parser.hpp"

namespace uvchat::door {

using chat::EventKind;
using chat::MessageKind;

protocol::Command native_command(const protocol::Frame& frame) {
  if (frame.kind == protocol::FrameKind::kLine) return protocol::parse_line(frame.line);
  protocol::Command command;  // kInvalid
  command.error = frame.kind == protocol::FrameKind::kTooLong ? protocol::ErrorCode::kLineTooLong
                                                              : protocol::ErrorCode::kBadUtf8;
  return command;
}

void NativeCodec::on_frame(const protocol::Frame& frame, CodecSink& sink) { sink.command(native_command(frame)); }

chat::Payload NativeCodec::render(const chat::EventRef& event) {
  return chat::render_once(event, kNativeStyle, [&](std::string& lines) { render_into(*event, lines); });
}

namespace {

std::string label(std::string_view room) {
  std::string text = "#";
  text.append(room);
  return text;
}

}  // namespace

void NativeCodec::render_into(const chat::Event& event, std::string& lines) {
  protocol::Formatter& f = formatter_;
  const auto names = [&] { return std::vector<std::string_view>(event.names.begin(), event.names.end()); };
  switch (event.kind) {
    case EventKind::kChat:
      if (event.replayed) {
        if (event.scope == MessageKind::kRoom) {
          lines += f.replayed_room(event.when, event.target, event.sender, event.text());
        } else if (event.scope == MessageKind::kBroadcast) {
          lines += f.replayed_broadcast(event.when, event.sender, event.text());
        } else {
          lines += f.replayed_direct(event.when, event.sender, event.text());
        }
      } else if (event.scope == MessageKind::kDirect) {
        f.direct(lines, event.when, event.sender, event.text());
      } else if (event.scope == MessageKind::kRoom) {
        f.room(lines, event.when, event.target, event.sender, event.text());
      } else {
        f.broadcast(lines, event.when, event.sender, event.text());
      }
      return;
    case EventKind::kWelcome: lines += f.event("welcome", {event.name}); return;
    case EventKind::kQueued: lines += f.event("queued", {event.name}); return;
    case EventKind::kQueuedMessages: lines += f.event("queued-messages", {std::to_string(event.count)}); return;
    case EventKind::kHistory:
      lines += f.event("history", {event.of_room ? label(event.target) : event.target, std::to_string(event.count)});
      return;
    case EventKind::kOnline: lines += f.event("online", {event.name}); return;
    case EventKind::kOffline: lines += f.event("offline", {event.name}); return;
    case EventKind::kJoined: lines += f.event("joined", {label(event.target), event.name}); return;
    case EventKind::kLeft: lines += f.event("left", {label(event.target), event.name}); return;
    case EventKind::kMembers: lines += f.event_list("members", label(event.target), names()); return;
    case EventKind::kUsers: lines += f.event_list("users", {}, names()); return;
    case EventKind::kRooms: {
      std::vector<std::string> labels;
      labels.reserve(event.names.size());
      for (const std::string& room : event.names) labels.push_back(label(room));
      lines += f.event_list("rooms", {}, std::vector<std::string_view>(labels.begin(), labels.end()));
      return;
    }
    case EventKind::kPong: lines += f.event("pong", {}); return;
    case EventKind::kHelp: lines += f.event("help", {event.text()}); return;
    case EventKind::kMissed: lines += f.event("missed", {std::to_string(event.count)}); return;
    case EventKind::kBye: lines += f.event("bye", {}); return;
    case EventKind::kShutdown: lines += f.event("shutdown", {}); return;
    case EventKind::kError: lines += f.error(event.code, event.target, event.text()); return;
    case EventKind::kReply: lines += event.text(); return;
  }
}

}  // namespace uvchat::door
