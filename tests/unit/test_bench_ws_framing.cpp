// The load generator's WebSocket framing (src/bench/ws_framing.*): the
// upgrade's accept, the masked frames it sends, and the reader of the
// server's frames, fed whole and split at every byte.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../../src/bench/ws_framing.hpp"

using namespace uvchat::bench::ws;

namespace {

// An unmasked frame as the server writes one.
std::string server_frame(unsigned char first, std::string_view payload) {
  std::string frame(1, static_cast<char>(first));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xffff) {
    frame.push_back(static_cast<char>(126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame.push_back(static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> shift) & 0xff));
    }
  }
  frame.append(payload);
  return frame;
}

struct Heard {
  std::vector<std::string> messages;  // "text:..." or "ping:..." and so on
  bool failed = false;
};

std::string tag(Opcode opcode) {
  switch (opcode) {
    case Opcode::kText: return "text:";
    case Opcode::kBinary: return "binary:";
    case Opcode::kClose: return "close:";
    case Opcode::kPing: return "ping:";
    case Opcode::kPong: return "pong:";
    case Opcode::kContinuation: break;
  }
  return "?:";
}

// Feeds `wire` to one reader in pieces of `piece` bytes.
Heard read_in_pieces(std::string_view wire, std::size_t piece) {
  FrameReader reader;
  Heard heard;
  while (!wire.empty() && !heard.failed) {
    std::string_view bytes = wire.substr(0, piece);
    wire.remove_prefix(bytes.size());
    FrameReader::Message message;
    for (;;) {
      const FrameReader::Status status = reader.next(bytes, message);
      if (status == FrameReader::Status::kMore) break;
      if (status == FrameReader::Status::kError) {
        heard.failed = true;
        break;
      }
      heard.messages.push_back(tag(message.opcode) + std::string(message.payload));
    }
  }
  return heard;
}

}  // namespace

TEST_CASE("bench ws: the accept of the RFC's example key", "[bench][ws]") {
  // RFC 6455, section 1.3.
  CHECK(accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const std::string key = new_key();
  CHECK(key.size() == 24);
  CHECK(key.ends_with("=="));
}

TEST_CASE("bench ws: the upgrade's answer is checked", "[bench][ws]") {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string good =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: uvchat\r\n\r\n";
  CHECK(response_head_size(good) == good.size());
  CHECK(response_head_size(good.substr(0, good.size() - 1)) == 0);
  CHECK(check_upgrade_response(good, key).empty());
  CHECK(check_upgrade_response("HTTP/1.1 403 Forbidden\r\n\r\n", key) ==
        "the server answered the upgrade with 'HTTP/1.1 403 Forbidden'");
  std::string wrong_accept = good;
  wrong_accept.replace(wrong_accept.find("s3pP"), 4, "AAAA");
  CHECK(check_upgrade_response(wrong_accept, key).starts_with("the 101's Sec-WebSocket-Accept"));
  std::string no_protocol = good;
  no_protocol.erase(no_protocol.find("Sec-WebSocket-Protocol"));
  no_protocol.append("\r\n");
  CHECK(check_upgrade_response(no_protocol, key).starts_with("the 101 chose the subprotocol ''"));
  const std::string request = upgrade_request("127.0.0.1:7777", key);
  CHECK(request.starts_with("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:7777\r\n"));
  CHECK(request.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(request.find("Sec-WebSocket-Protocol: uvchat\r\n") != std::string::npos);
  CHECK(request.ends_with("\r\n\r\n"));
}

TEST_CASE("bench ws: each line becomes one masked text frame, without its line end", "[bench][ws]") {
  Masker masker(42);
  std::string out;
  const std::string long_line(300, 'x');
  const std::string lines = "bob:hi\r\nserver:ping\n" + long_line + "\npart";
  const std::size_t framed = append_lines_as_masked_frames(lines, masker, out);
  CHECK(framed == lines.size() - 4);  // "part" waits for its end
  // Unmask them as a server would and read the frames back.
  std::vector<std::string> payloads;
  std::string_view wire = out;
  while (!wire.empty()) {
    const auto first = static_cast<unsigned char>(wire[0]);
    const auto second = static_cast<unsigned char>(wire[1]);
    CHECK(first == 0x81);           // FIN, text
    REQUIRE((second & 0x80) != 0);  // masked
    std::size_t size = second & 0x7f;
    std::size_t at = 2;
    if (size == 126) {
      size = (static_cast<unsigned char>(wire[2]) << 8) | static_cast<unsigned char>(wire[3]);
      at = 4;
    }
    const std::uint32_t key = (static_cast<std::uint32_t>(static_cast<unsigned char>(wire[at])) << 24) |
                              (static_cast<std::uint32_t>(static_cast<unsigned char>(wire[at + 1])) << 16) |
                              (static_cast<std::uint32_t>(static_cast<unsigned char>(wire[at + 2])) << 8) |
                              static_cast<unsigned char>(wire[at + 3]);
    at += 4;
    std::string payload(wire.substr(at, size));
    apply_mask(payload.data(), payload.size(), key);
    payloads.push_back(payload);
    wire.remove_prefix(at + size);
  }
  CHECK(payloads == std::vector<std::string>{"bob:hi", "server:ping", long_line});
}

TEST_CASE("bench ws: masking is its own inverse at every length", "[bench][ws]") {
  for (std::size_t size = 0; size < 40; ++size) {
    std::string text;
    for (std::size_t i = 0; i < size; ++i) text.push_back(static_cast<char>('a' + i % 26));
    std::string masked = text;
    apply_mask(masked.data(), masked.size(), 0x12345678);
    if (size > 0) CHECK(masked != text);
    // Byte by byte, as the RFC defines it.
    for (std::size_t i = 0; i < size; ++i) {
      const unsigned char key_byte = static_cast<unsigned char>(0x12345678u >> (24 - 8 * (i % 4)));
      CHECK(static_cast<unsigned char>(masked[i]) == (static_cast<unsigned char>(text[i]) ^ key_byte));
    }
    apply_mask(masked.data(), masked.size(), 0x12345678);
    CHECK(masked == text);
  }
}

TEST_CASE("bench ws: the server's frames are read whole or split at any byte", "[bench][ws]") {
  const std::string medium(200, 'm');
  const std::string large(70'000, 'L');
  std::string wire = server_frame(0x81, "[12:00:00] bob: hi") + server_frame(0x89, "are you there") +
                     server_frame(0x81, "") + server_frame(0x81, medium) +
                     // A fragmented message with a pong between its pieces.
                     server_frame(0x01, "frag") + server_frame(0x8A, "") + server_frame(0x80, "mented") +
                     server_frame(0x81, large) + server_frame(0x88, std::string("\x03\xe8", 2) + "bye");
  const std::vector<std::string> expected = {"text:[12:00:00] bob: hi",
                                             "ping:are you there",
                                             "text:",
                                             "text:" + medium,
                                             "pong:",
                                             "text:fragmented",
                                             "text:" + large,
                                             std::string("close:\x03\xe8", 8) + "bye"};
  for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                                  std::size_t{100}, std::size_t{4096}, wire.size()}) {
    CAPTURE(piece);
    const Heard heard = read_in_pieces(wire, piece);
    CHECK_FALSE(heard.failed);
    CHECK(heard.messages == expected);
  }
  const std::string close_payload = std::string("\x03\xe8", 2) + "bye";
  const CloseReason why = parse_close(close_payload);
  CHECK(why.code == 1000);
  CHECK(why.reason == "bye");
}

TEST_CASE("bench ws: a frame a server must not send is an error", "[bench][ws]") {
  FrameReader reader;
  // Masked, as only clients may.
  std::string masked =
      "\x81\x82\x01\x02\x03\x04"
      "ab";
  std::string_view bytes = masked;
  FrameReader::Message message;
  CHECK(reader.next(bytes, message) == FrameReader::Status::kError);
  CHECK(reader.error() == "the server masked a frame");
  CHECK(read_in_pieces(server_frame(0x80, "orphan"), 100).failed);  // a continuation of nothing
  CHECK(read_in_pieces(server_frame(0x83, "x"), 100).failed);       // opcode 3
  CHECK(read_in_pieces(server_frame(0xC1, "x"), 100).failed);       // RSV1
  CHECK(read_in_pieces(server_frame(0x09, "ping"), 100).failed);    // a fragmented control frame
  CHECK(read_in_pieces(server_frame(0x01, "a") + server_frame(0x81, "b"), 100).failed);  // interleaved
}
