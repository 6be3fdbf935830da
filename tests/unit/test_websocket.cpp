// WebSocket (RFC 6455) for the web door (src/protocol/websocket.cpp): the
// handshake's key, the frames the server writes, and the reader of what
// clients send, masked frames in, clean lines and control frames out.
#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"
#include "uvchat/protocol/websocket.hpp"

namespace {

using uvchat::protocol::append_close_frame;
using uvchat::protocol::append_lines_as_frames;
using uvchat::protocol::append_text_frame;
using uvchat::protocol::CloseCode;
using uvchat::protocol::Frame;
using uvchat::protocol::FrameKind;
using uvchat::protocol::is_websocket_key;
using uvchat::protocol::RingBuffer;
using uvchat::protocol::WebSocketReader;
using uvchat::protocol::websocket_accept;

constexpr std::uint8_t kContinuation = 0x0;
constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kBinary = 0x2;
constexpr std::uint8_t kClose = 0x8;
constexpr std::uint8_t kPing = 0x9;
constexpr std::uint8_t kPong = 0xA;

// A frame as a browser sends it: masked with `key` (RFC 6455 §5.3).
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true,
                         std::uint32_t key = 0x37fa213d) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(payload.size())));
  } else if (payload.size() <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xff));
    }
  }
  const unsigned char mask[4] = {static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
                                 static_cast<unsigned char>(key >> 8), static_cast<unsigned char>(key)};
  if (masked) out.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(masked ? static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4])) : payload[i]);
  }
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  out.append(reason);
  return out;
}

// A server frame, parsed back: checks it is whole and unmasked.
struct ServerFrame {
  bool fin = false;
  std::uint8_t opcode = 0;
  std::string payload;
};

std::vector<ServerFrame> parse_server_frames(std::string_view bytes) {
  std::vector<ServerFrame> frames;
  while (!bytes.empty()) {
    REQUIRE(bytes.size() >= 2);
    ServerFrame frame;
    const auto b0 = static_cast<unsigned char>(bytes[0]);
    const auto b1 = static_cast<unsigned char>(bytes[1]);
    frame.fin = (b0 & 0x80) != 0;
    REQUIRE((b0 & 0x70) == 0);  // no RSV bits
    frame.opcode = b0 & 0x0f;
    REQUIRE((b1 & 0x80) == 0);  // a server never masks
    std::uint64_t length = b1 & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      REQUIRE(bytes.size() >= 4);
      length = (static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[2])) << 8) |
               static_cast<unsigned char>(bytes[3]);
      CHECK(length >= 126);  // the shortest form
      header = 4;
    } else if (length == 127) {
      REQUIRE(bytes.size() >= 10);
      length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
      CHECK(length > 0xffff);
      header = 10;
    }
    REQUIRE(bytes.size() >= header + length);
    frame.payload = std::string(bytes.substr(header, length));
    bytes.remove_prefix(header + length);
    frames.push_back(std::move(frame));
  }
  return frames;
}

// One client's reader and the ring its bytes arrive in, as a connection's.
class Client {
 public:
  explicit Client(std::size_t max_message = 64, std::size_t ring = 0)
      : reader(max_message), raw_(ring != 0 ? ring : uvchat::protocol::Framer::buffer_capacity(max_message)) {}

  // Writes `bytes` into the ring (as much as fits at a time) and reads
  // every line it gives, as the connection does after each read.
  std::vector<std::string> send(std::string_view bytes) {
    std::vector<std::string> lines;
    for (;;) {
      const std::size_t written = raw_.write(std::span<const char>(bytes.data(), bytes.size()));
      bytes.remove_prefix(written);
      Frame frame;
      while (reader.next(raw_, frame)) {
        REQUIRE(frame.kind == FrameKind::kLine);
        lines.emplace_back(frame.line);
      }
      if (bytes.empty() || reader.ended()) break;
      REQUIRE(written + raw_.size() > 0);  // the ring drains
    }
    return lines;
  }

  WebSocketReader reader;

 private:
  RingBuffer raw_;
};

using Lines = std::vector<std::string>;

TEST_CASE("websocket: the accept key of RFC 6455's example", "[web]") {
  // RFC 6455 §1.3.
  CHECK(websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(websocket_accept("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST_CASE("websocket: is_websocket_key takes 16 bytes of base64 only", "[web]") {
  CHECK(is_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  CHECK(is_websocket_key("AAAAAAAAAAAAAAAAAAAA+/=="));
  CHECK_FALSE(is_websocket_key(""));
  CHECK_FALSE(is_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23
  CHECK_FALSE(is_websocket_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25
  CHECK_FALSE(is_websocket_key("dGhlIHNhbXBsZSBub25jZQAA"));   // no padding
  CHECK_FALSE(is_websocket_key("dGhlIHNhbXBsZSBub25jZ-=="));   // base64url
  CHECK_FALSE(is_websocket_key("dGhlIHNhbXBsZSBub25j Q=="));
}

TEST_CASE("websocket: text frames use the shortest length, unmasked", "[web]") {
  for (const std::size_t length : {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126},
                                   std::size_t{65535}, std::size_t{65536}, std::size_t{70000}}) {
    INFO(length);
    const std::string text(length, 'x');
    std::string out = "before";
    append_text_frame(text, out);
    REQUIRE(out.starts_with("before"));
    const std::string_view frame = std::string_view(out).substr(6);
    const std::size_t header = length < 126 ? 2 : length <= 0xffff ? 4 : 10;
    REQUIRE(frame.size() == header + length);
    CHECK(static_cast<unsigned char>(frame[0]) == 0x81);
    const auto second = static_cast<unsigned char>(frame[1]);
    CHECK(second == (length < 126 ? length : length <= 0xffff ? 126 : 127));
    const auto frames = parse_server_frames(frame);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].fin);
    CHECK(frames[0].opcode == kText);
    CHECK(frames[0].payload == text);
  }
  std::string out;
  append_text_frame("", out);
  CHECK(out == std::string("\x81\x00", 2));
  out.clear();
  append_text_frame(std::string(126, 'a'), out);
  CHECK(out.substr(0, 4) == std::string("\x81\x7e\x00\x7e", 4));
  out.clear();
  append_text_frame(std::string(65536, 'a'), out);
  CHECK(out.substr(0, 10) == std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

TEST_CASE("websocket: a close frame carries its code and at most 123 bytes of reason", "[web]") {
  std::string out;
  append_close_frame(CloseCode::kGoingAway, "bye", out);
  CHECK(out == std::string("\x88\x05\x03\xe9" "bye", 7));
  out.clear();
  append_close_frame(CloseCode::kNormal, {}, out);
  CHECK(out == std::string("\x88\x02\x03\xe8", 4));
  out.clear();
  append_close_frame(CloseCode::kTooBig, std::string(200, 'r'), out);
  const auto frames = parse_server_frames(out);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kClose);
  CHECK(frames[0].payload.size() == 125);
  CHECK(frames[0].payload.substr(0, 2) == "\x03\xf1");
}

TEST_CASE("websocket: lines become one text frame each, without their line ends", "[web]") {
  std::string out;
  append_lines_as_frames("server:welcome alice\nbob:hi\r\nlast", out);
  auto frames = parse_server_frames(out);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].payload == "server:welcome alice");
  CHECK(frames[1].payload == "bob:hi");
  CHECK(frames[2].payload == "last");
  for (const auto& frame : frames) CHECK(frame.opcode == kText);

  out.clear();
  append_lines_as_frames("", out);
  CHECK(out.empty());
  append_lines_as_frames("one\r\n", out);
  frames = parse_server_frames(out);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload == "one");
}

TEST_CASE("websocket: masked text frames are lines", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "server:register alice")) == Lines{"server:register alice"});
  CHECK(c.send(client_frame(kText, "bob:hi") + client_frame(kText, "carol:yo", true, true, 0)) ==
        Lines{"bob:hi", "carol:yo"});
  CHECK_FALSE(c.reader.ended());
  CHECK(c.reader.take_output().empty());
  CHECK(c.reader.refused_with() == 0);
}

TEST_CASE("websocket: a fragmented message is one line", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "bob:", false)).empty());
  CHECK(c.send(client_frame(kContinuation, "hel", false)).empty());
  // A ping between fragments is answered, and does not cut the message.
  CHECK(c.send(client_frame(kPing, "p")).empty());
  CHECK(c.send(client_frame(kContinuation, "lo")) == Lines{"bob:hello"});
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kPong);
}

TEST_CASE("websocket: a message with LFs is several lines, blank ones dropped", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "bob:one\nbob:two\r\n\n  \ncarol:three\n")) ==
        Lines{"bob:one", "bob:two", "carol:three"});
  CHECK(c.send(client_frame(kText, "")).empty());
  CHECK_FALSE(c.reader.ended());
}

TEST_CASE("websocket: control characters are cleaned as the framer cleans a line", "[web]") {
  // Controls become U+FFFD, NULs go (docs/PROTOCOL.md §1); TAB stays.
  Client c;
  CHECK(c.send(client_frame(kText, "bob:a\x01" "b\x1b[31mc\td\x7f" "e")) ==
        Lines{"bob:a\xEF\xBF\xBD" "b\xEF\xBF\xBD[31mc\td\xEF\xBF\xBD" "e"});
  CHECK(c.send(client_frame(kText, std::string("bob:x\0y", 7))) == Lines{"bob:xy"});
  CHECK(c.send(client_frame(kText, "bob:caf\xC3\xA9 \xC2\x85!")) == Lines{"bob:caf\xC3\xA9 \xEF\xBF\xBD!"});
  CHECK(c.send(client_frame(kText, "bob:plain")) == Lines{"bob:plain"});
}

TEST_CASE("websocket: a ping is answered with a pong carrying its payload", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kPing, "are you there")).empty());
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kPong);
  CHECK(frames[0].payload == "are you there");
  CHECK(c.reader.take_output().empty());
  CHECK_FALSE(c.reader.ended());
  // An unsolicited pong is fine and says nothing.
  CHECK(c.send(client_frame(kPong, "x") + client_frame(kText, "a:b")) == Lines{"a:b"});
  CHECK(c.reader.take_output().empty());
}

TEST_CASE("websocket: a close is answered with a close, and ends the reader", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "a:b") + client_frame(kClose, close_payload(1000, "done")) +
               client_frame(kText, "a:after")) == Lines{"a:b"});
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 0);
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kClose);
  REQUIRE(frames[0].payload.size() >= 2);
  CHECK(frames[0].payload.substr(0, 2) == "\x03\xe8");
  Frame frame;
  RingBuffer more(64);
  CHECK_FALSE(c.reader.next(more, frame));
}

TEST_CASE("websocket: an unmasked client frame is refused with 1002", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "a:b", true, false)).empty());
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1002);
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kClose);
  CHECK(frames[0].payload.substr(0, 2) == "\x03\xea");
}

TEST_CASE("websocket: a message over the maximum is refused with 1009", "[web]") {
  Client c(16, 256);
  CHECK(c.send(client_frame(kText, std::string(16, 'a'))) == Lines{std::string(16, 'a')});
  CHECK_FALSE(c.reader.ended());
  CHECK(c.send(client_frame(kText, std::string(17, 'a'))).empty());
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1009);
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload.substr(0, 2) == "\x03\xf1");
}

TEST_CASE("websocket: fragments over the maximum together are refused with 1009", "[web]") {
  Client c(16, 256);
  CHECK(c.send(client_frame(kText, std::string(10, 'a'), false)).empty());
  CHECK(c.send(client_frame(kContinuation, std::string(10, 'a'))).empty());
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1009);
}

TEST_CASE("websocket: a frame announcing 2^63 bytes is refused at its first byte", "[web]") {
  Client c(16, 256);
  std::string header = "\x81\xff";
  header.append("\x7f\xff\xff\xff\xff\xff\xff\xff", 8);
  header.append("\x01\x02\x03\x04", 4);
  // wslay looks at the length once some of the payload is there.
  CHECK(c.send(header).empty());
  CHECK(c.send("x").empty());
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1009);
}

TEST_CASE("websocket: a binary message is refused with 1003", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "a:b") + client_frame(kBinary, "\x01\x02")) == Lines{"a:b"});
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1003);
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kClose);
  CHECK(frames[0].payload.substr(0, 2) == "\x03\xeb");
}

TEST_CASE("websocket: a text message that is not UTF-8 is refused with 1007", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "a:\xff\xfe")).empty());
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1007);
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload.substr(0, 2) == "\x03\xef");
}

TEST_CASE("websocket: a UTF-8 character split between fragments is fine", "[web]") {
  Client c;
  CHECK(c.send(client_frame(kText, "a:caf\xC3", false)).empty());
  CHECK(c.send(client_frame(kContinuation, "\xA9")) == Lines{"a:caf\xC3\xA9"});
  CHECK_FALSE(c.reader.ended());
}

TEST_CASE("websocket: bytes split at every offset give the same lines", "[web]") {
  const std::string bytes = client_frame(kText, "bob:first") + client_frame(kPing, "p") +
                            client_frame(kText, "car", false) + client_frame(kContinuation, "ol:sec\nond") +
                            client_frame(kText, std::string(200, 'z'));
  const Lines expected{"bob:first", "carol:sec", "ond", std::string(200, 'z')};
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    INFO("cut at " << cut);
    Client c(256);
    Lines lines = c.send(std::string_view(bytes).substr(0, cut));
    const Lines rest = c.send(std::string_view(bytes).substr(cut));
    lines.insert(lines.end(), rest.begin(), rest.end());
    CHECK(lines == expected);
    CHECK_FALSE(c.reader.ended());
    const auto frames = parse_server_frames(c.reader.take_output());
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].opcode == kPong);
    // The close, wherever it comes, ends it the same way.
    CHECK(c.send(client_frame(kClose, close_payload(1001))).empty());
    CHECK(c.reader.ended());
    CHECK(c.reader.refused_with() == 0);
  }
  // A byte at a time, through a ring of 3 bytes.
  Client c(1, 3);
  Lines lines;
  for (const char byte : client_frame(kText, "a") + client_frame(kText, "bc") + client_frame(kText, "d")) {
    const Lines got = c.send(std::string_view(&byte, 1));
    lines.insert(lines.end(), got.begin(), got.end());
  }
  CHECK(lines == Lines{"a"});  // "bc" is over the limit: nothing after it
  CHECK(c.reader.ended());
  CHECK(c.reader.refused_with() == 1009);
}

TEST_CASE("websocket: a close whose reason is not UTF-8 is never echoed, however it arrives", "[web]") {
  const std::string close = client_frame(kClose, close_payload(1000, "\xab"));
  // Whole: wslay sees the reason and refuses it.
  Client whole;
  CHECK(whole.send(close).empty());
  CHECK(whole.reader.ended());
  CHECK(whole.reader.refused_with() == 1007);
  auto frames = parse_server_frames(whole.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload == "\x03\xef");
  // A byte a read: wslay checks none of it and echoes it; the reason that
  // is not UTF-8 is dropped from the answer (it used to go back as it came).
  Client bytewise;
  for (const char byte : close) CHECK(bytewise.send(std::string_view(&byte, 1)).empty());
  CHECK(bytewise.reader.ended());
  frames = parse_server_frames(bytewise.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kClose);
  CHECK(frames[0].payload == "\x03\xe8");
  // A reason that is UTF-8 is echoed either way.
  Client fine;
  for (const char byte : client_frame(kClose, close_payload(1001, "caf\xC3\xA9"))) {
    CHECK(fine.send(std::string_view(&byte, 1)).empty());
  }
  frames = parse_server_frames(fine.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].payload == "\x03\xe9" "caf\xC3\xA9");
}

TEST_CASE("websocket: a ping and a close in one read: only the close is answered", "[web]") {
  // wslay drops the pong it owes once it queues the closing handshake's
  // answer; RFC 6455 lets an endpoint that is closing skip it.
  Client c;
  CHECK(c.send(client_frame(kPing, "p") + client_frame(kClose, close_payload(1000))).empty());
  CHECK(c.reader.ended());
  const auto frames = parse_server_frames(c.reader.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == kClose);
}

}  // namespace
