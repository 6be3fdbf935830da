// Fuzz target: the frames a browser (or anyone) sends the web door once it
// is a WebSocket (RFC 6455), through protocol::WebSocketReader (wslay), in
// reads of fuzzer-chosen sizes into a connection's ring; or through a
// WebCodec upgraded by a real handshake, whose lines go to the native door.
//
// Input: byte 0 picks the largest message (bits 0-2), whether the bytes
// go through a WebCodec (bit 3) and whether the rest is raw bytes or a
// program of frames (bit 4); bytes 1 and 2 the sizes of the reads, which
// alternate (1 to 128 bytes, or from 128 on, multiples of 64).
// Raw: the rest is what the client sends. Program: frames until the input
// ends, each a header byte (FIN, RSV and opcode as sent), a length byte
// (below 126: that length; 126: 126 + the next byte; 127: 65536 + the next
// byte * 256, to cross the 16- and 64-bit forms), a byte whose low bit
// says whether to mask, and then the payload, masked with a fixed key
// when asked (what a browser does), taken from the input (zeros past its
// end).
//
// Checks:
// - every line is clean: a line frame, not empty, valid UTF-8, no control
//   byte but TAB, no LF, at most the largest message (controls counted as
//   the byte they were, not the U+FFFD they became); and the lines take no
//   more bytes than the client sent, counted the same way;
// - what the reader owes the client (pongs, the close) is well-formed
//   unmasked frames, and holds one close at most, which ends the reader;
//   once ended it gives no line and owes nothing more;
// - a reader fed the same bytes all at once (as much as its ring takes at
//   a time) gives the same lines, and when both end normally, the same
//   close: how the bytes were cut into reads makes no difference there;
// - through the codec: the handshake upgrades, the native door's commands
//   have clean text, and an event rendered for the session is well-formed
//   frames.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "check.hpp"
#include "clean_text.hpp"
#include "fuzz_targets.hpp"
#include "uvchat/chat/event.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/door/web.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"
#include "uvchat/protocol/text.hpp"
#include "uvchat/protocol/websocket.hpp"
#include "web_checks.hpp"

namespace uvchat::fuzz {
namespace {

constexpr std::size_t kMaxMessages[] = {1, 8, 64, 125, 126, 200, 4096, 70000};

constexpr std::string_view kHandshake =
    "GET /ws HTTP/1.1\r\nHost: chat.lan\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: uvchat\r\nOrigin: http://chat.lan\r\n\r\n";

std::size_t read_size(std::uint8_t choice) {
  return choice < 128 ? std::size_t{choice} + 1 : (std::size_t{choice} - 127) * 64;
}

// The program's frames, as bytes on the wire.
std::string assemble(ByteReader& reader) {
  constexpr std::array<unsigned char, 4> kMask = {0xa5, 0x3c, 0x00, 0xff};
  std::string wire;
  while (!reader.empty()) {
    wire.push_back(static_cast<char>(reader.byte()));
    const std::uint8_t length_byte = reader.byte();
    const bool masked = (reader.byte() & 1) == 0;  // masked unless asked not to
    std::size_t length = length_byte & 0x7f;
    std::string header;
    if (length == 126) {
      length = 126 + reader.byte();
      header.push_back(static_cast<char>(length >> 8));
      header.push_back(static_cast<char>(length & 0xff));
      wire.push_back(static_cast<char>((masked ? 0x80 : 0) | 126));
    } else if (length == 127) {
      length = 65536 + std::size_t{reader.byte()} * 256;
      for (int shift = 56; shift >= 0; shift -= 8) {
        header.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xff));
      }
      wire.push_back(static_cast<char>((masked ? 0x80 : 0) | 127));
    } else {
      wire.push_back(static_cast<char>((masked ? 0x80 : 0) | length));
    }
    wire += header;
    if (masked) wire.append(reinterpret_cast<const char*>(kMask.data()), kMask.size());
    const std::string_view payload = reader.bytes(length);
    for (std::size_t i = 0; i < length; ++i) {
      const char byte = i < payload.size() ? payload[i] : '\0';
      wire.push_back(masked ? static_cast<char>(byte ^ static_cast<char>(kMask[i % 4])) : byte);
    }
  }
  return wire;
}

// What a reader made of a client's bytes.
struct Outcome {
  std::vector<std::string> lines;
  std::string output;  // frames owed to the client
  bool ended = false;
  std::uint16_t refused_with = 0;
};

// Feeds `bytes` to a reader in reads of `sizes` (alternating), or of all
// its ring takes when `sizes` is null, checking each line and frame.
Outcome read_all(std::string_view bytes, std::size_t max_message, const std::size_t* sizes) {
  protocol::WebSocketReader reader(max_message);
  protocol::RingBuffer ring(protocol::Framer::buffer_capacity(max_message));
  Outcome outcome;
  std::size_t turn = 0;
  std::size_t closes = 0;
  while (!bytes.empty() && !reader.ended()) {
    const std::size_t want = sizes != nullptr ? sizes[turn++ % 2] : bytes.size();
    std::string_view chunk = bytes.substr(0, want);
    bytes.remove_prefix(chunk.size());
    while (!chunk.empty() && !reader.ended()) {
      const std::size_t written = ring.write(std::span<const char>(chunk.data(), chunk.size()));
      chunk.remove_prefix(written);
      protocol::Frame frame;
      while (reader.next(ring, frame)) {
        check_clean_line(frame, max_message);
        outcome.lines.emplace_back(frame.line);
      }
      const std::string owed = reader.take_output();
      closes += check_server_frames(owed, max_message);
      outcome.output += owed;
      check(reader.ended() || ring.empty(), "the reader left bytes in the ring");
      check(written > 0 || reader.ended(), "the ring is full and the reader takes nothing");
    }
  }
  check(closes <= 1, "the reader sent two closes");
  check(closes == 0 || reader.ended(), "the reader sent a close and did not end");
  outcome.ended = reader.ended();
  outcome.refused_with = reader.refused_with();
  if (outcome.ended) {
    protocol::RingBuffer more(16);
    more.write(std::span<const char>("\x81\x80\0\0\0\0", 6));
    protocol::Frame frame;
    check(!reader.next(more, frame), "a line after the reader ended");
    check(reader.take_output().empty(), "frames owed after the reader ended");
  }
  return outcome;
}

class CheckingSink final : public door::CodecSink {
 public:
  void command(const protocol::Command& command) override {
    ++commands;
    check(protocol::is_valid_utf8(command.target) && has_no_control_bytes(command.target),
          "a command's target is not clean", command.target);
    check(protocol::is_valid_utf8(command.text) && has_no_control_bytes(command.text),
          "a command's text is not clean", command.text);
    last_text = command.text;
  }
  void reply(std::string lines) override { replies.push_back(std::move(lines)); }
  void upgrade() override { ++upgrades; }

  std::size_t commands = 0;
  std::string last_text;
  std::vector<std::string> replies;
  int upgrades = 0;
};

// The bytes through an upgraded WebCodec, as the server's connection
// hands them over.
void through_codec(std::string_view bytes, std::size_t max_message, const std::size_t* sizes) {
  door::Settings settings;
  settings.max_line = max_message < 256 ? 256 : max_message;  // the handshake's lines must fit
  door::NativeCodec native(protocol::LineEnding::kLf, true);
  door::WebCodec codec(settings, native);
  protocol::RingBuffer ring(protocol::Framer::buffer_capacity(settings.max_line));
  protocol::Framer framer;
  framer.keep_blank_lines();
  CheckingSink sink;

  std::string all(kHandshake);
  all.append(bytes);
  std::string_view rest = all;
  std::size_t turn = 0;
  bool ended = false;
  while (!rest.empty() && !ended) {
    std::string_view chunk = rest.substr(0, sizes[turn++ % 2]);
    rest.remove_prefix(chunk.size());
    while (!chunk.empty() && !ended) {
      chunk.remove_prefix(ring.write(std::span<const char>(chunk.data(), chunk.size())));
      protocol::Frame frame;
      for (;;) {
        protocol::WebSocketReader* websocket = codec.websocket();
        const bool got = websocket != nullptr ? websocket->next(ring, frame) : framer.next(ring, frame);
        if (websocket != nullptr) check_server_frames(websocket->take_output(), settings.max_line);
        if (!got) {
          ended = websocket != nullptr && websocket->ended();
          break;
        }
        if (websocket != nullptr) check_clean_line(frame, settings.max_line);
        const int upgrades = sink.upgrades;
        codec.on_frame(frame, sink);
        if (sink.upgrades != upgrades) framer.drop_taken(ring);
      }
    }
  }
  check(sink.upgrades == 1 && codec.upgraded(), "the handshake did not upgrade");
  check(sink.replies.size() == 1 && sink.replies[0].starts_with("HTTP/1.1 101 "), "the handshake's answer",
        sink.replies.empty() ? std::string_view() : std::string_view(sink.replies[0]).substr(0, 40));
  // The 101 as the hub renders it, then a line to the session in frames.
  auto reply = chat::make_event(chat::EventKind::kReply);
  reply->set_text(sink.replies[0]);
  reply->one_recipient = true;
  const chat::Payload raw = codec.render(reply);
  check(raw && *raw == sink.replies[0], "the 101 was not sent as it was");
  auto line = chat::make_event(chat::EventKind::kChat);
  line->scope = chat::MessageKind::kRoom;
  line->sender = "bob";
  line->target = "team";
  line->set_text(sink.last_text.empty() ? std::string("hi") : sink.last_text);
  const chat::Payload framed = codec.render(line);
  check(framed != nullptr, "a room line rendered nothing");
  check_server_frames(*framed, settings.max_line);
}

}  // namespace

void fuzz_websocket(std::span<const std::uint8_t> input) {
  ByteReader reader(input);
  const std::uint8_t config = reader.byte();
  const std::size_t max_message = kMaxMessages[config & 7];
  const std::size_t sizes[2] = {read_size(reader.byte()), read_size(reader.byte())};
  const std::string bytes = (config & 16) != 0 ? assemble(reader) : std::string(reader.rest());

  if ((config & 8) != 0) {
    through_codec(bytes, max_message, sizes);
    return;
  }
  const Outcome cut = read_all(bytes, max_message, sizes);
  const Outcome whole = read_all(bytes, max_message, nullptr);
  check(cut.lines == whole.lines, "cutting the bytes into reads changed the lines");
  // What the reader sends back may differ: wslay drops a pong it owes when
  // a close comes in the same read (RFC 6455 lets a closing endpoint skip
  // it), checks a close's reason a read at a time (so a bad one refused
  // whole may pass a byte at a time), and judges a frame cut at the end of
  // the input on what it has of it. But a normal end is the same.
  const bool cut_normal = cut.ended && cut.refused_with == 0;
  const bool whole_normal = whole.ended && whole.refused_with == 0;
  if (cut_normal && whole_normal) {
    check(close_frames(cut.output) == close_frames(whole.output), "cutting the bytes into reads changed the close");
  }
  std::size_t line_bytes = 0;
  for (const std::string& line : cut.lines) line_bytes += line.size();
  check(line_bytes <= kCleanGrowth * bytes.size(), "the lines are longer than what the client sent");
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_websocket({data, size});
  return 0;
}
#endif
