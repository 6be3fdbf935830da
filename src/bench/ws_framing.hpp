// The client's side of a WebSocket (RFC 6455) for `--door ws`: the upgrade
// request and the check of its answer, the masked frames a client sends,
// and a reader of the unmasked frames the server sends (docs/WEB.md: one
// native line per text message, without its line end, both ways).
//
// Pure: no I/O, no libuv. LineClient puts it between the socket (or TLS)
// and the lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace uvchat::bench::ws {

// The subprotocol that carries the native door's lines.
inline constexpr std::string_view kNativeProtocol = "uvchat";

// A Sec-WebSocket-Key: 16 random bytes in base64.
std::string new_key();
// base64(SHA-1(key + the RFC's GUID)), what the server must answer.
std::string accept_for(std::string_view key);

// `GET /ws HTTP/1.1` with Host, the upgrade headers, `key`, version 13 and
// the subprotocol uvchat. No Origin: only browsers send one.
std::string upgrade_request(std::string_view host, std::string_view key);

// Where the answer's head ends (past its blank line) in `received`, or 0
// while it is not all there.
std::size_t response_head_size(std::string_view received);
// Empty when `head` (the status line and headers, up to the blank line)
// is a 101 that accepts `key` and speaks uvchat; else what is wrong with
// it, the status line included.
std::string check_upgrade_response(std::string_view head, std::string_view key);

enum class Opcode : unsigned char {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// A mask per frame, as the RFC asks, from a xorshift generator: a few
// instructions, not a cryptographic source. A load generator needs the
// masking's cost, not its unpredictability.
class Masker {
 public:
  explicit Masker(std::uint32_t seed) : state_(seed == 0 ? 0x9e3779b9u : seed) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  std::uint32_t state_;
};

// Appends one masked frame (FIN set) holding `payload`.
void append_masked_frame(Opcode opcode, std::string_view payload, Masker& masker, std::string& out);
// Appends a masked text frame for each whole line of `lines` (each ending in
// LF, maybe CR LF), without its line end; returns how many bytes of
// `lines` it framed: a partial line at the end is left.
std::size_t append_lines_as_masked_frames(std::string_view lines, Masker& masker, std::string& out);
// XORs `data` with the mask `key` (its bytes in network order), as a
// receiver unmasks; for tests.
void apply_mask(char* data, std::size_t size, std::uint32_t key);

// The frames the server sends, read out of the bytes as they come. A frame
// that lies whole in the bytes given is handed over in place; only one
// split across reads (and a fragmented message) is copied.
//
//   FrameReader reader;
//   FrameReader::Message message;
//   while (reader.next(bytes, message) == FrameReader::Status::kMessage) use(message);
class FrameReader {
 public:
  enum class Status { kMessage, kMore, kError };
  struct Message {
    Opcode opcode = Opcode::kText;  // text, binary or a control frame; never a continuation
    std::string_view payload;       // valid until the next call
  };

  // Messages over this are refused (the server's are a line each).
  static constexpr std::size_t kMaxMessage = 1 << 20;

  // The next message, taking what it needs from the front of `bytes`.
  // kMore: `bytes` is used up and kept where needed. kError: the server
  // broke the protocol (error() says how); read no more.
  Status next(std::string_view& bytes, Message& message);
  const std::string& error() const { return error_; }

 private:
  Status top_up(std::string_view& bytes);
  Status take_frame(std::string_view frame, Message& message, bool& complete);
  Status fail(std::string why);

  std::string pending_;        // the start of a frame split across reads
  bool pending_used_ = false;  // pending_ held the last message: clear it next time
  std::string fragments_;      // a fragmented message so far
  bool in_fragments_ = false;
  bool fragments_used_ = false;
  Opcode fragments_opcode_ = Opcode::kText;
  std::string error_;
};

// A close frame's payload: a code (0 when none) and a reason.
struct CloseReason {
  std::uint16_t code = 0;
  std::string_view reason;
};
CloseReason parse_close(std::string_view payload);

}  // namespace uvchat::bench::ws
