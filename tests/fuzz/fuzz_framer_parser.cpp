// Fuzz target: what a client sends, through a connection's RingBuffer and
// Framer in reads of fuzzer-chosen sizes, and every line through parse_line
// and the Formatter.
//
// Input: byte 0 picks --max-line, bytes 1 and 2 the sizes of the reads (they
// alternate), the rest is what the client sends before it closes its side.
//
// Checks:
// - the frames are those a reference finds in the whole input at once, so
//   how the bytes were split into reads (and how they wrapped around the
//   ring) changes nothing;
// - the ring never holds more than its capacity, and once the framer has
//   nothing more to give it holds no line end and has room to read into;
// - every line is clean (docs/PROTOCOL.md, section 1): valid UTF-8, not
//   blank, no LF, NUL, 0xFF or control character but TAB;
// - parse_line's views point into the line, and what it accepts follows the
//   rules of section 2 and 3; what the server would send back is one clean
//   line.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "check.hpp"
#include "clean_text.hpp"
#include "fuzz_targets.hpp"
#include "uvchat/protocol/command.hpp"
#include "uvchat/protocol/formatter.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/parser.hpp"
#include "uvchat/protocol/ring_buffer.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::fuzz {
namespace {

using protocol::Command;
using protocol::CommandKind;
using protocol::FrameKind;

// 1 and 8 make every limit easy to reach; 4096 is the default.
constexpr std::size_t kMaxLines[] = {1, 8, 64, 4096};

// Replacing a one-byte control character by U+FFFD (three bytes) can make
// a line up to three times as long as it was received.
constexpr std::size_t kMaxGrowth = 3;

struct ObservedFrame {
  FrameKind kind = FrameKind::kLine;
  std::string line;

  bool operator==(const ObservedFrame&) const = default;
};

std::string describe(const ObservedFrame& frame) {
  switch (frame.kind) {
    case FrameKind::kLine: return "line \"" + escaped(frame.line) + "\"";
    case FrameKind::kTooLong: return "too-long";
    case FrameKind::kBadUtf8: return "bad-utf8";
  }
  return "?";
}

// A read of 1 to 128 bytes, or of 64 to 8192 for the large ones.
std::size_t read_size(std::uint8_t byte) {
  if (byte < 128) return 1u + byte;
  return (byte - 127u) * 64u;
}

// ---- What the server may do with a line, independent of the framer ----

void check_clean_line(std::string_view line, std::size_t max_line) {
  check(!protocol::is_blank(line), "a line handed over is blank");
  check(protocol::is_valid_utf8(line), "a line handed over is not UTF-8", line);
  check(has_no_control_bytes(line), "a line handed over holds a control byte", line);
  check(line.size() <= kMaxGrowth * max_line, "a line handed over is longer than max_line allows");
}

// What the server sends: one line ending in LF, clean before it.
void check_server_line(std::string_view formatted) {
  check(!formatted.empty() && formatted.back() == '\n', "a formatted line does not end with LF");
  const std::string_view body = formatted.substr(0, formatted.size() - 1);
  check(body.find('\n') == std::string_view::npos, "a formatted line holds two lines", formatted);
  check(protocol::is_valid_utf8(body), "a formatted line is not UTF-8", formatted);
  check(has_no_control_bytes(body), "a formatted line holds a control byte", formatted);
}

// ---- parse_line ----

bool points_into(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  const std::less_equal<const char*> at_or_before;
  return at_or_before(whole.data(), part.data()) &&
         at_or_before(part.data() + part.size(), whole.data() + whole.size());
}

bool is_trimmed(std::string_view text) {
  return text.empty() ||
         (text.front() != ' ' && text.front() != '\t' && text.back() != ' ' && text.back() != '\t');
}

void check_user_name(std::string_view name) {
  check(protocol::is_valid_name(name), "a command names a bad user", name);
  check(!protocol::is_reserved_name(name), "a command names a reserved user", name);
}

void check_room_name(std::string_view room) {
  check(protocol::is_valid_name(room), "a command names a bad room", room);
}

void check_text(std::string_view text) {
  check(!protocol::is_blank(text), "a message command carries blank text");
}

void check_command_fields(const Command& command) {
  switch (command.kind) {
    case CommandKind::kRegister:
      check_user_name(command.target);
      check(is_trimmed(command.password), "a password keeps spaces around it");
      break;
    case CommandKind::kDirect:
      check_user_name(command.target);
      check_text(command.text);
      break;
    case CommandKind::kRoom:
      check_room_name(command.target);
      check_text(command.text);
      break;
    case CommandKind::kBroadcast: check_text(command.text); break;
    case CommandKind::kJoin:
    case CommandKind::kLeave:
    case CommandKind::kMembers: check_room_name(command.target); break;
    case CommandKind::kHistory:
      if (command.history_of_room) {
        check_room_name(command.target);
      } else {
        check_user_name(command.target);
      }
      check(command.count >= 0 && command.count <= protocol::kMaxHistoryCount,
            "a history count out of range");
      break;
    case CommandKind::kWho:
    case CommandKind::kRooms:
    case CommandKind::kPing:
    case CommandKind::kHelp:
    case CommandKind::kExit:
    case CommandKind::kInvalid: break;
  }
}

// What the server would answer: formatted as the hub would.
void check_answers(const Command& command) {
  static protocol::Formatter formatter(protocol::LineEnding::kLf, /*utc=*/true);
  const protocol::TimePoint when{std::chrono::seconds{1700000000}};
  switch (command.kind) {
    case CommandKind::kInvalid:
      check_server_line(formatter.error(command.error, command.detail_subject, command.detail));
      break;
    case CommandKind::kDirect: check_server_line(formatter.direct(when, "al", command.text)); break;
    case CommandKind::kRoom:
      check_server_line(formatter.room(when, command.target, "al", command.text));
      break;
    case CommandKind::kBroadcast: check_server_line(formatter.broadcast(when, "al", command.text)); break;
    default: break;
  }
}

void check_parse(std::string_view line) {
  const Command command = protocol::parse_line(line);
  for (const std::string_view part :
       {command.target, command.text, command.password, command.detail_subject}) {
    check(points_into(part, line), "a command's view points outside its line");
  }
  if (command.kind != CommandKind::kInvalid) {
    check(command.attempted == command.kind, "a valid command attempted something else");
  }
  check_command_fields(command);
  check_answers(command);
}

// ---- A connection, as src/net reads it ----

class Connection {
 public:
  Connection(std::size_t max_line, std::array<std::size_t, 2> read_sizes)
      : max_line_(max_line),
        read_sizes_(read_sizes),
        input_(protocol::Framer::buffer_capacity(max_line)) {}

  // Reads `bytes` as the network hands them over: into the ring's free space,
  // in reads of the chosen sizes, taking every frame after each read.
  void receive(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::span<char> space = input_.writable();
      check(!space.empty(), "the framer left the ring full");
      const std::size_t count = std::min({space.size(), bytes.size(), next_read_size()});
      std::memcpy(space.data(), bytes.data(), count);
      input_.commit(count);
      bytes.remove_prefix(count);
      check(input_.size() <= input_.capacity(), "the ring holds more than its capacity");
      take_frames();
      input_.release();
    }
  }

  // The client closed its side.
  void end_of_input() {
    protocol::Frame frame;
    if (framer_.finish(input_, frame)) record(frame);
  }

  const std::vector<ObservedFrame>& frames() const { return frames_; }

 private:
  std::size_t next_read_size() { return read_sizes_[reads_++ % read_sizes_.size()]; }

  void take_frames() {
    protocol::Frame frame;
    while (framer_.next(input_, frame)) record(frame);
    check(input_.find('\n') == protocol::RingBuffer::npos, "the framer left a whole line in the ring");
    check(!input_.full(), "the framer left the ring full");
  }

  void record(const protocol::Frame& frame) {
    if (frame.kind == FrameKind::kLine) {
      check_clean_line(frame.line, max_line_);
      check_parse(frame.line);
    } else {
      check(frame.line.empty(), "an error frame carries a line");
    }
    frames_.push_back(ObservedFrame{frame.kind, std::string(frame.line)});
  }

  std::size_t max_line_;
  std::array<std::size_t, 2> read_sizes_;
  std::size_t reads_ = 0;
  protocol::RingBuffer input_;
  protocol::Framer framer_;
  std::vector<ObservedFrame> frames_;
};

// ---- The reference: docs/PROTOCOL.md section 1, on the whole input ----

std::string_view without_trailing_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The frame for one received line (without its LF), if it gives one.
std::optional<ObservedFrame> reference_frame(std::string_view received, std::size_t max_line) {
  if (without_trailing_cr(received).size() > max_line) return ObservedFrame{FrameKind::kTooLong, {}};
  std::string cleaned;
  protocol::strip_telnet(received, cleaned);
  const std::string_view line = without_trailing_cr(cleaned);
  if (protocol::is_blank(line)) return std::nullopt;
  if (!protocol::is_valid_utf8(line)) return ObservedFrame{FrameKind::kBadUtf8, {}};
  ObservedFrame frame;
  protocol::append_without_controls(line, frame.line);
  return frame;
}

std::vector<ObservedFrame> reference_frames(std::string_view sent, std::size_t max_line) {
  std::vector<ObservedFrame> frames;
  for (;;) {
    const std::size_t end = sent.find('\n');
    // After the last LF: the line taken when the client closes.
    const std::string_view received = sent.substr(0, end);
    if (auto frame = reference_frame(received, max_line)) frames.push_back(std::move(*frame));
    if (end == std::string_view::npos) return frames;
    sent.remove_prefix(end + 1);
  }
}

void check_same_frames(const std::vector<ObservedFrame>& got, const std::vector<ObservedFrame>& expected) {
  const std::size_t common = std::min(got.size(), expected.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (got[i] == expected[i]) continue;
    fail("frame " + std::to_string(i) + " is " + describe(got[i]) + ", the reference says " +
         describe(expected[i]));
  }
  check_count(got.size(), expected.size(), "the number of frames");
}

}  // namespace

void fuzz_framer_parser(std::span<const std::uint8_t> input) {
  ByteReader reader(input);
  const std::size_t max_line = reader.pick(kMaxLines);
  const std::array<std::size_t, 2> read_sizes = {read_size(reader.byte()), read_size(reader.byte())};
  const std::string_view sent = reader.rest();

  Connection connection(max_line, read_sizes);
  connection.receive(sent);
  connection.end_of_input();
  check_same_frames(connection.frames(), reference_frames(sent, max_line));
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_framer_parser({data, size});
  return 0;
}
#endif
