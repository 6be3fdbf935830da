// Fuzz target: the IRC door's codec. A program of client lines (made of
// IRC words, names, rooms and garbage), refused frames, and events from the
// hub (random kinds and fields, and the answers a registration gets) is run
// against one IrcCodec, while two registered bystanders render the same
// events.
//
// Checks:
// - everything rendered or replied is whole lines ending in CR LF, each
//   valid UTF-8 with no CR, LF or NUL inside, at most 512 bytes without its
//   tags, and tags only as `@time=...` when the client took server-time;
// - the commands handed to the hub name valid users and rooms, carry text
//   that is not blank, and before the hub's welcome are only the
//   registration (once at a time) and exit;
// - the codec's own replies come back through render unchanged, and the
//   NOTICE markers show nothing;
// - the lines that name no client (chat, joins, presence) are one shared
//   payload for every IRC session of a style.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "check.hpp"
#include "fuzz_targets.hpp"
#include "uvchat/door/irc.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::fuzz {
namespace {

using chat::EventKind;
using protocol::CommandKind;

constexpr std::string_view kWords[] = {
    "CAP", "NICK", "USER", "PASS", "PRIVMSG", "NOTICE", "JOIN", "PART", "NAMES", "WHO", "WHOIS", "LIST",
    "MODE", "TOPIC", "PING", "PONG", "QUIT", "AWAY", "cap", "privmsg", "Join", "", "@time=x", ":pre!fix@h",
};
constexpr std::string_view kParams[] = {
    "alice", "bob", "Alice", "server", "all", "x!y", "-dash", "#team", "#b@d", "#", "#a,#b", "alice,#team,bob",
    "$*", "0", "LS", "302", "REQ", ":server-time", ":server-time sasl", "-server-time", "END", "LIST", "b", "+o",
    ":", ":hello world", ":\xEF\xBF\xBD" "ACTION waves\xEF\xBF\xBD", ":\xEF\xBF\xBDVERSION", "u", "*", ":Real Name",
    ",,,", "a,b,c,d,e,f,g,h,i,j,k", "\xC3\xA9t\xC3\xA9",
};
constexpr std::string_view kNames[] = {"alice", "bob", "Alice", "carol", "d", "a-very-long-name-of-32-bytes-xxx"};
constexpr std::string_view kTexts[] = {"hi", "* alice waves", "* bob ", "  ", "\xEF\xBF\xBD", "tab\there", ":colon"};

// Text as the hub hands it on: UTF-8 without controls but TAB.
std::string clean_text(ByteReader& reader, std::size_t length) {
  std::string text;
  for (const char c : reader.bytes(length)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\t' || (byte >= 0x20 && byte < 0x7F)) {
      text.push_back(c);
    } else if (byte >= 0xF0) {
      text += "\xF0\x9F\x98\x80";  // four bytes: splits must not cut it
    } else {
      text += "\xC3\xA9";
    }
  }
  return text;
}

std::string random_line(ByteReader& reader) {
  std::string line(reader.pick(kWords));
  const std::size_t params = reader.below(5);
  for (std::size_t i = 0; i < params; ++i) {
    line += ' ';
    if (reader.below(4) == 0) {
      line += clean_text(reader, reader.below(12));
    } else {
      line += reader.pick(kParams);
    }
  }
  if (reader.below(8) == 0) line = ":" + clean_text(reader, reader.below(700));
  return line;
}

bool is_nick(std::string_view name) { return protocol::is_valid_name(name) && !protocol::is_reserved_name(name); }

// Whole lines, each clean and short enough.
void check_lines(std::string_view payload, bool tags_allowed) {
  check(!payload.empty(), "an empty payload");
  check(payload.ends_with("\r\n"), "a payload does not end with CR LF", payload);
  check(protocol::is_valid_utf8(payload), "a payload is not UTF-8", payload);
  std::size_t start = 0;
  while (start < payload.size()) {
    const std::size_t end = payload.find("\r\n", start);
    check(end != std::string_view::npos, "a payload ends inside a line", payload);
    std::string_view line = payload.substr(start, end - start);
    check(!line.empty(), "an empty line", payload);
    check(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
          "a line holds CR, LF or NUL", line);
    if (line.front() == '@') {
      check(tags_allowed && line.starts_with("@time="), "a tag the client did not ask for", line);
      const std::size_t space = line.find(' ');
      check(space != std::string_view::npos && space < 4094, "tags without a message", line);
      line.remove_prefix(space + 1);
    }
    check(line.size() + 2 <= door::IrcCodec::kMaxLine, "a line over 512 bytes", line);
    start = end + 2;
  }
}

class CheckingSink final : public door::CodecSink {
 public:
  explicit CheckingSink(const door::IrcCodec& codec) : codec_(codec) {}

  void command(const protocol::Command& command) override {
    check(command.kind != CommandKind::kInvalid, "the codec handed the hub an invalid command");
    check(command.kind == command.attempted, "a command attempted something else");
    if (!codec_.registered()) {
      const bool allowed = command.kind == CommandKind::kRegister || command.kind == CommandKind::kExit;
      check(allowed, "a command before registration");
    }
    switch (command.kind) {
      case CommandKind::kRegister:
        check(!registering, "a second registration while one is under way");
        check(is_nick(command.target), "a registration of a bad nick", command.target);
        registering = true;
        registered_as = command.target;
        break;
      case CommandKind::kDirect:
        check(is_nick(command.target), "a DM to a bad nick", command.target);
        check(!protocol::is_blank(command.text), "a blank DM");
        break;
      case CommandKind::kRoom:
        check(protocol::is_valid_name(command.target), "a line to a bad room", command.target);
        check(!protocol::is_blank(command.text), "a blank room line");
        break;
      case CommandKind::kBroadcast: check(!protocol::is_blank(command.text), "a blank broadcast"); break;
      case CommandKind::kJoin:
      case CommandKind::kLeave:
      case CommandKind::kMembers:
        check(protocol::is_valid_name(command.target), "a room command on a bad room", command.target);
        break;
      default: break;
    }
    ++commands;
  }

  void reply(std::string lines) override {
    if (lines != door::irc::kQuietOn && lines != door::irc::kQuietOff) check_lines(lines, false);
    replies.push_back(std::move(lines));
  }

  bool registering = false;
  std::string registered_as;
  std::size_t commands = 0;
  std::vector<std::string> replies;  // not yet come back through the hub

 private:
  const door::IrcCodec& codec_;
};

std::shared_ptr<chat::Event> random_event(ByteReader& reader) {
  auto event = chat::make_event(static_cast<EventKind>(reader.below(static_cast<std::size_t>(EventKind::kReply))));
  event->scope = static_cast<chat::MessageKind>(reader.below(3));
  event->replayed = reader.flag();
  event->quit = reader.flag();
  event->of_room = reader.flag();
  event->code = static_cast<protocol::ErrorCode>(reader.below(static_cast<std::size_t>(protocol::ErrorCode::kTlsRequired) + 1));
  event->when = chat::TimePoint{std::chrono::seconds{1700000000 + reader.byte() * 40000}};
  event->count = reader.below(4);
  event->name = reader.pick(kNames);
  event->sender = reader.pick(kNames);
  // Only a broadcast has no target: a room or a name otherwise.
  const bool broadcast = event->kind == EventKind::kChat && event->scope == chat::MessageKind::kBroadcast;
  event->target = broadcast ? std::string_view() : reader.pick(kNames);
  event->set_text(reader.flag() ? std::string(reader.pick(kTexts)) : clean_text(reader, reader.below(4) * reader.byte() * 4 + 1));
  const std::size_t names = reader.below(4) == 0 ? reader.byte() : reader.below(4);
  for (std::size_t i = 0; i < names; ++i) {
    event->names.emplace_back(reader.pick(kNames));
    event->counts.push_back(i);
  }
  return event;
}

// A bystander: registered, no server-time.
struct Bystander {
  Bystander(const door::Settings& settings, std::string_view nick) : codec(settings), sink(codec) {
    for (const std::string_view line : {std::string("NICK ") + std::string(nick), std::string("USER u 0 * :u")}) {
      protocol::Frame frame;
      frame.line = line;
      codec.on_frame(frame, sink);
    }
    auto welcome = chat::make_event(EventKind::kWelcome);
    welcome->name = nick;
    codec.render(welcome);
  }
  door::IrcCodec codec;
  CheckingSink sink;
};

bool names_no_one(EventKind kind) {
  return kind == EventKind::kChat || kind == EventKind::kJoined || kind == EventKind::kLeft ||
         kind == EventKind::kOnline || kind == EventKind::kOffline || kind == EventKind::kShutdown ||
         kind == EventKind::kPong || kind == EventKind::kHelp;
}

}  // namespace

void fuzz_irc(std::span<const std::uint8_t> input) {
  ByteReader reader(input);
  door::Settings settings;
  settings.utc = true;
  door::IrcCodec codec(settings);
  CheckingSink sink(codec);
  Bystander first(settings, "obs1");
  Bystander second(settings, "obs2");

  const auto render = [&](const chat::EventRef& event) {
    const chat::Payload payload = codec.render(event);
    if (payload) check_lines(*payload, codec.server_time());
    return payload;
  };

  while (!reader.empty()) {
    switch (reader.below(6)) {
      case 0:
      case 1: {
        const std::string line = random_line(reader);
        protocol::Frame frame;
        frame.line = line;
        codec.on_frame(frame, sink);
        break;
      }
      case 2: {
        protocol::Frame frame;
        frame.kind = reader.flag() ? protocol::FrameKind::kTooLong : protocol::FrameKind::kBadUtf8;
        codec.on_frame(frame, sink);
        break;
      }
      case 3: {
        // The hub's answer to a registration under way.
        if (!sink.registering) break;
        sink.registering = false;
        if (reader.flag()) {
          auto welcome = chat::make_event(EventKind::kWelcome);
          welcome->name = sink.registered_as;
          welcome->count = reader.byte();
          render(welcome);
          check(codec.registered(), "welcome did not register the codec");
        } else {
          auto refusal = chat::make_event(EventKind::kError);
          refusal->code = reader.flag() ? protocol::ErrorCode::kNameTaken : protocol::ErrorCode::kWrongPassword;
          refusal->target = sink.registered_as;
          render(refusal);
          check(!codec.registered(), "a refused registration registered the codec");
        }
        break;
      }
      case 4: {
        // The codec's own replies, back through the hub in order.
        for (std::string& lines : sink.replies) {
          auto event = chat::make_event(EventKind::kReply);
          event->set_text(std::string(lines));
          const chat::Payload payload = render(event);
          if (lines == door::irc::kQuietOn || lines == door::irc::kQuietOff) {
            check(payload == nullptr, "a NOTICE marker was shown");
          } else {
            check(payload != nullptr && *payload == lines, "a reply came back changed", lines);
          }
        }
        sink.replies.clear();
        break;
      }
      case 5: {
        const chat::EventRef event = random_event(reader);
        // A welcome or refusal out of turn is not what the hub sends.
        if (event->kind == EventKind::kWelcome) break;
        if (event->kind == EventKind::kError && sink.registering) break;
        render(event);
        const chat::Payload one = first.codec.render(event);
        const chat::Payload other = second.codec.render(event);
        if (one) check_lines(*one, false);
        if (other) check_lines(*other, false);
        if (names_no_one(event->kind)) check(one == other, "a line that names no one was rendered twice");
        break;
      }
    }
  }
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_irc({data, size});
  return 0;
}
#endif
