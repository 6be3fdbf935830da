// Checks the web door's fuzz targets share: what a WebSocket reader gives
// the door (clean lines), and what the server sends a browser (frames).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "clean_text.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::fuzz {

// The framer turns each control byte into U+FFFD, three bytes: a clean
// line is at most this many times the bytes it came from.
inline constexpr std::size_t kCleanGrowth = 3;

// A line out of a WebSocket message: whole, clean, and within --max-line
// before its controls were replaced, as any line out of the framer.
inline void check_clean_line(const protocol::Frame& frame, std::size_t max_line) {
  check(frame.kind == protocol::FrameKind::kLine, "a WebSocket gave a frame that is not a line");
  check(!frame.line.empty(), "a WebSocket gave an empty line");
  check(frame.line.size() <= kCleanGrowth * max_line, "a WebSocket gave a line over --max-line",
        frame.line.substr(0, 64));
  check(protocol::is_valid_utf8(frame.line), "a WebSocket gave a line that is not UTF-8", frame.line);
  check(has_no_control_bytes(frame.line), "a WebSocket gave a line with a control byte", frame.line);
  check(frame.line.find('\n') == std::string_view::npos, "a WebSocket gave a line with an LF", frame.line);
}

// Whatever the server writes on a WebSocket: whole frames, unmasked, FIN
// set, each text (valid UTF-8 without line ends), a pong or a close with a
// valid code; control frames at most 125 bytes, lengths in their shortest
// form. Returns how many close frames there were.
inline std::size_t check_server_frames(std::string_view bytes, std::size_t /*max_line*/) {
  std::size_t closes = 0;
  while (!bytes.empty()) {
    check(bytes.size() >= 2, "a server frame is cut in its header", bytes);
    const auto b0 = static_cast<unsigned char>(bytes[0]);
    const auto b1 = static_cast<unsigned char>(bytes[1]);
    check((b0 & 0x80) != 0, "a server frame is not final", bytes.substr(0, 2));
    check((b0 & 0x70) == 0, "a server frame has RSV bits", bytes.substr(0, 2));
    check((b1 & 0x80) == 0, "a server frame is masked", bytes.substr(0, 2));
    const unsigned opcode = b0 & 0x0f;
    std::uint64_t length = b1 & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      check(bytes.size() >= 4, "a server frame is cut in its length", bytes);
      length = (std::uint64_t{static_cast<unsigned char>(bytes[2])} << 8) | static_cast<unsigned char>(bytes[3]);
      check(length >= 126, "a server frame's length is not in its shortest form", bytes.substr(0, 4));
      header = 4;
    } else if (length == 127) {
      check(bytes.size() >= 10, "a server frame is cut in its length", bytes);
      length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
      check(length > 0xffff && length < (std::uint64_t{1} << 63), "a server frame's 64-bit length is wrong",
            bytes.substr(0, 10));
      header = 10;
    }
    check(bytes.size() - header >= length, "a server frame is cut in its payload", bytes.substr(0, 10));
    const std::string_view payload = bytes.substr(header, static_cast<std::size_t>(length));
    switch (opcode) {
      case 0x1:
        check(protocol::is_valid_utf8(payload), "a server text frame is not UTF-8", payload);
        check(payload.find('\n') == std::string_view::npos, "a server text frame holds an LF", payload);
        break;
      case 0x8: {
        ++closes;
        check(payload.size() <= 125 && payload.size() != 1, "a close frame's payload is wrong", payload);
        if (payload.size() >= 2) {
          const unsigned code = (unsigned{static_cast<unsigned char>(payload[0])} << 8) |
                                static_cast<unsigned char>(payload[1]);
          // RFC 6455 §7.4: the defined codes that may be sent, and those
          // of applications (3000-4999), which a closing client's are
          // echoed as.
          const bool defined = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
          check(defined || (code >= 3000 && code <= 4999), "a close frame's code is not one to send",
                payload.substr(0, 2));
          check(protocol::is_valid_utf8(payload.substr(2)), "a close frame's reason is not UTF-8", payload);
        }
        break;
      }
      case 0xA:
        check(payload.size() <= 125, "a pong is over 125 bytes");
        break;
      default:
        fail("a server frame has an opcode the server does not send", bytes.substr(0, 2));
    }
    bytes.remove_prefix(header + static_cast<std::size_t>(length));
  }
  return closes;
}

// The close frames in what the server sent (well-formed, see above).
inline std::string close_frames(std::string_view bytes) {
  std::string closes;
  while (bytes.size() >= 2) {
    std::size_t length = static_cast<unsigned char>(bytes[1]) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      length = (std::size_t{static_cast<unsigned char>(bytes[2])} << 8) | static_cast<unsigned char>(bytes[3]);
      header = 4;
    } else if (length == 127) {
      length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
      header = 10;
    }
    if ((static_cast<unsigned char>(bytes[0]) & 0x0f) == 0x8) closes.append(bytes.substr(0, header + length));
    bytes.remove_prefix(header + length);
  }
  return closes;
}

}  // namespace uvchat::fuzz
