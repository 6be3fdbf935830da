// Fuzz target: the classic door's codec (docs/CLASSIC.md) between a client
// and the hub. The client's lines go through a RingBuffer and a Framer, as
// src/net reads them, into a ClassicCodec; the events the hub could send
// come out of it as bytes. A second codec, registered under another name,
// renders every event too, as a room-mate of the same door would.
//
// Input: byte 0 picks --max-line, byte 1 whether times are UTC; then a
// program, one operation a byte until the input ends:
// - a line: a template (`JOIN:`, `MESSAGE:`, ... or nothing) and up to 255
//   bytes after it, then LF; or the raw bytes alone (no LF added);
// - the hub's welcome for a name of the pool, to the first codec;
// - an event of any kind, its fields chosen by the input within what the
//   hub gives: valid names and rooms, clean text.
//
// Checks:
// - whatever goes out (a reply, a rendered event) is whole lines ending in
//   LF, valid UTF-8, with no CR, NUL, LF or other control byte inside; a
//   reply is `ERROR:` lines; a payload is never empty (null means nothing);
// - a command handed to the hub is one the dialect makes, attempting what
//   it is, with valid names and rooms, no password, and text not blank;
// - JOIN_ROOM keeps one current room: a leave names the room the codec was
//   in and is followed by the join of another; a room line goes to the
//   current room, a broadcast only while there is none;
// - the welcome sets the name; JOINED_ROOM goes to the joiner alone and
//   never into the event's shared cache; every other event renders the same
//   bytes for both codecs, from one cached string.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "byte_reader.hpp"
#include "check.hpp"
#include "clean_text.hpp"
#include "fuzz_targets.hpp"
#include "uvchat/chat/event.hpp"
#include "uvchat/door/classic.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::fuzz {
namespace {

using chat::EventKind;
using chat::MessageKind;
using protocol::Command;
using protocol::CommandKind;
using protocol::ErrorCode;

constexpr std::size_t kMaxLines[] = {8, 64, 4096};

constexpr std::string_view kTemplates[] = {
    "",           "JOIN:",       "MESSAGE:",       "PRIVATE:",   "PRIVATE:bob:",
    "JOIN_ROOM:", "JOIN_ROOM:#", "JOIN_ROOM:team", "LIST_USERS", "QUIT",
    " JOIN :",    "MESSAGE: ",
};

// Names and rooms as the hub spells them; some equal when folded.
constexpr std::string_view kNames[] = {"alice", "Bob", "carol.x", "d-9", "ALICE", "bob"};
constexpr std::string_view kRooms[] = {"team", "Lab", "x", "TEAM"};

constexpr std::size_t kEventKinds = static_cast<std::size_t>(EventKind::kReply) + 1;
constexpr std::size_t kErrorCodes = static_cast<std::size_t>(ErrorCode::kTlsRequired) + 1;

// Whole lines, each ending in LF, clean before it.
void check_lines(std::string_view lines, std::string_view what) {
  check(!lines.empty() && lines.back() == '\n', "output does not end with LF", lines);
  std::size_t start = 0;
  while (start < lines.size()) {
    const std::size_t end = lines.find('\n', start);
    const std::string_view line = lines.substr(start, end - start);
    check(!line.empty(), "an empty line goes out", what);
    check(protocol::is_valid_utf8(line), "a line that goes out is not UTF-8", line);
    check(has_no_control_bytes(line), "a line that goes out holds a control byte", line);
    start = end + 1;
  }
}

void check_command(const Command& command) {
  check(command.attempted == command.kind, "a command attempts something else");
  check(command.password.empty(), "a classic command carries a password");
  const auto check_name = [&] {
    check(protocol::is_valid_name(command.target), "a command names a bad user", command.target);
    check(!protocol::is_reserved_name(command.target), "a command names a reserved user", command.target);
  };
  const auto check_room = [&] {
    check(protocol::is_valid_name(command.target), "a command names a bad room", command.target);
  };
  const auto check_text = [&] { check(!protocol::is_blank(command.text), "a message is blank"); };
  switch (command.kind) {
    case CommandKind::kRegister: check_name(); break;
    case CommandKind::kDirect:
      check_name();
      check_text();
      break;
    case CommandKind::kRoom:
      check_room();
      check_text();
      break;
    case CommandKind::kBroadcast: check_text(); break;
    case CommandKind::kJoin:
    case CommandKind::kLeave: check_room(); break;
    case CommandKind::kWho:
    case CommandKind::kExit: break;
    default: fail("the codec hands on a command the dialect does not make");
  }
}

// The codec under test, and what it hands the hub.
class Client final : public door::CodecSink {
 public:
  Client(const door::Settings& settings, std::size_t max_line)
      : codec(settings), input_(protocol::Framer::buffer_capacity(max_line)) {}

  void receive(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::size_t written = input_.write(std::span<const char>(bytes.data(), bytes.size()));
      check(written > 0, "the framer left the ring full");
      bytes.remove_prefix(written);
      protocol::Frame frame;
      while (framer_.next(input_, frame)) take(frame);
      input_.release();
    }
  }

  void command(const Command& command) override {
    check_command(command);
    const std::optional<std::string> left = std::exchange(leaving_, std::nullopt);
    if (left.has_value()) {
      check(command.kind == CommandKind::kJoin, "a leave is not followed by a join");
      check(!protocol::equal_case_insensitive(*left, command.target), "JOIN_ROOM left the room it joins");
    }
    switch (command.kind) {
      case CommandKind::kLeave:
        check(!codec.name().empty(), "a leave before the codec knows its name");
        check(command.target == codec.room(), "a leave of a room the codec was not in", command.target);
        leaving_ = std::string(command.target);
        break;
      case CommandKind::kJoin:
        if (!codec.name().empty()) {
          check(command.target == codec.room(), "a join that is not the new current room", command.target);
          const bool moves = !in_.empty() && !protocol::equal_case_insensitive(in_, command.target);
          check(!moves || left == in_, "JOIN_ROOM did not leave the room it was in", in_);
          in_ = command.target;
        }
        break;
      case CommandKind::kRoom:
        check(command.target == codec.room(), "a room line to another room than the current", command.target);
        break;
      case CommandKind::kBroadcast: check(codec.room().empty(), "a broadcast while in a room"); break;
      default: break;
    }
  }

  void reply(std::string lines) override {
    check_lines(lines, "a reply");
    check(lines.starts_with("ERROR:"), "a reply is not an error", lines);
    check(lines.find('\n') == lines.size() - 1, "a reply is more than one line", lines);
    // As the hub does: the reply comes back through render, unchanged.
    auto event = chat::make_event(EventKind::kReply);
    event->set_text(std::string(lines));
    const chat::Payload payload = codec.render(event);
    check(payload != nullptr && *payload == lines, "a reply does not come back unchanged", lines);
  }

  door::ClassicCodec codec;

 private:
  void take(const protocol::Frame& frame) {
    codec.on_frame(frame, *this);
    check(!leaving_.has_value(), "a leave was the last command of a line");
  }

  protocol::RingBuffer input_;
  protocol::Framer framer_;
  std::optional<std::string> leaving_;  // the room of a leave, until the join that follows it
  std::string in_;                      // the room of the last join the codec made, registered
};

// Text the hub would carry: clean UTF-8, whatever the bytes were.
std::string clean_text(std::string_view bytes) {
  std::string text;
  if (protocol::is_valid_utf8(bytes)) {
    protocol::append_without_controls(bytes, text);
    return text;
  }
  for (const char c : bytes) text.push_back(static_cast<char>('a' + static_cast<unsigned char>(c) % 26));
  return text;
}

std::shared_ptr<chat::Event> make_event(ByteReader& reader) {
  auto event = chat::make_event(static_cast<EventKind>(reader.below(kEventKinds)));
  event->scope = static_cast<MessageKind>(reader.below(3));
  event->replayed = reader.flag();
  event->quit = reader.flag();
  event->of_room = reader.flag();
  event->code = static_cast<ErrorCode>(reader.below(kErrorCodes));
  event->when = chat::TimePoint{std::chrono::seconds{1700000000 + reader.byte() * 4000}};
  event->count = reader.byte();
  event->name = reader.pick(kNames);
  event->sender = reader.pick(kNames);
  event->target = reader.flag() ? reader.pick(kRooms) : reader.pick(kNames);
  event->set_text(clean_text(reader.bytes(reader.byte() % 64)));
  for (std::size_t i = reader.below(5); i > 0; --i) event->names.emplace_back(reader.pick(kNames));
  // What the codec itself sent, as the hub hands it back.
  if (event->kind == EventKind::kReply) event->set_text("ERROR:" + std::string(event->text()) + "\n");
  return event;
}

// A welcome goes to one session, the first: the second stays who it was.
void welcome(Client& client, const chat::EventRef& event) {
  const chat::Payload payload = client.codec.render(event);
  check(payload != nullptr && *payload == "JOINED:" + event->name + "\n", "the welcome is not JOINED:");
  check(client.codec.name() == event->name, "the welcome did not set the name");
}

// Every other event reaches both codecs, as it would two classic room-mates.
void render_to_both(Client& first, Client& second, const chat::EventRef& event) {
  const bool cached_before = event->cached(door::kClassicStyle) != nullptr;
  const chat::Payload a = first.codec.render(event);
  const chat::Payload b = second.codec.render(event);
  for (const chat::Payload& payload : {a, b}) {
    if (payload) check_lines(*payload, "a rendered event");
  }
  const std::string* cached = event->cached(door::kClassicStyle);
  switch (event->kind) {
    case EventKind::kJoined: {
      check(!cached_before && event->cached(door::kClassicStyle) == nullptr,
            "JOINED_ROOM went into the shared cache");
      const bool first_joined =
          !first.codec.name().empty() && protocol::equal_case_insensitive(first.codec.name(), event->name);
      check((a != nullptr) == first_joined, "JOINED_ROOM went to someone else than the joiner");
      check(b == nullptr, "JOINED_ROOM went to a room-mate");
      if (a) check(*a == "JOINED_ROOM:" + event->target + "\n", "JOINED_ROOM names another room", *a);
      return;
    }
    case EventKind::kReply: return;  // each session's own
    default: break;
  }
  check((a == nullptr) == (b == nullptr), "one codec rendered an event, the other nothing");
  if (a) {
    check(a.get() == b.get() && a.get() == cached,
          "an event's lines are not shared between codecs");
  } else {
    check(cached == nullptr || cached->empty(), "an event rendered as nothing left lines in the cache");
  }
}

}  // namespace

void fuzz_classic(std::span<const std::uint8_t> input) {
  ByteReader reader(input);
  const std::size_t max_line = reader.pick(kMaxLines);
  door::Settings settings;
  settings.max_line = max_line;
  settings.utc = reader.flag();
  Client first(settings, max_line);
  Client second(settings, max_line);
  // A room-mate of the same door, under a name the program never uses.
  auto second_name = chat::make_event(EventKind::kWelcome);
  second_name->name = "zed";
  welcome(second, second_name);

  while (!reader.empty()) {
    switch (reader.below(4)) {
      case 0: {
        std::string line(reader.pick(kTemplates));
        line += reader.bytes(reader.byte());
        line += '\n';
        first.receive(line);
        break;
      }
      case 1: first.receive(reader.bytes(reader.byte())); break;
      case 2: {
        auto event = chat::make_event(EventKind::kWelcome);
        event->name = reader.pick(kNames);
        welcome(first, event);
        break;
      }
      default: {
        const chat::EventRef event = make_event(reader);
        if (event->kind == EventKind::kWelcome) {
          welcome(first, event);
        } else {
          render_to_both(first, second, event);
        }
        break;
      }
    }
  }
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_classic({data, size});
  return 0;
}
#endif
