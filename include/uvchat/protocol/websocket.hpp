// WebSocket (RFC 6455) for the web door: the handshake's key, the frames
// the server writes, and a reader of the frames a client sends.
//
// What the server writes it frames itself: a text message is a two-to-ten
// byte header and the bytes, unmasked, so a line sent to many browsers is
// framed once and shared (door/web.cpp). What clients send is read by
// wslay, which has no I/O of its own: it is handed the bytes the socket
// (or TLS) gave, and says which messages they held and which control
// frames (pongs, the closing handshake) it owes the client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

struct wslay_event_context;

namespace uvchat::protocol {

// Close codes (RFC 6455 §7.4.1).
enum class CloseCode : std::uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,  // the server is stopping
  kProtocolError = 1002,
  kUnsupportedData = 1003,  // a binary message
  kInvalidData = 1007,      // a text message that is not UTF-8
  kTooBig = 1009,           // a message over --max-line
};

// Sec-WebSocket-Key is 16 bytes in base64: 24 characters, "==" at the end.
bool is_websocket_key(std::string_view key);
// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);

// Appends one unmasked text frame holding `text` (FIN set).
void append_text_frame(std::string_view text, std::string& out);
// Appends a close frame with `code` and a short `reason`.
void append_close_frame(CloseCode code, std::string_view reason, std::string& out);
// The lines in `lines` (each ending in LF, maybe CR LF), one text frame
// each, without their line ends.
void append_lines_as_frames(std::string_view lines, std::string& out);

// The frames of one client, as lines. A message is one line (or, should
// it hold LFs, several), cleaned as the framer cleans any line: the same
// rules as a line typed into nc (docs/PROTOCOL.md §1). One per connection
// once it has become a WebSocket.
class WebSocketReader {
 public:
  // Messages over `max_message` bytes close the connection (1009).
  explicit WebSocketReader(std::size_t max_message);
  ~WebSocketReader();
  WebSocketReader(const WebSocketReader&) = delete;
  WebSocketReader& operator=(const WebSocketReader&) = delete;

  // The next line the client sent, reading frames out of `raw` (the bytes
  // off the socket) as needed; false when more bytes are needed, or the
  // client is done (ended()).
  bool next(RingBuffer& raw, Frame& frame);
  // Control frames owed to the client (a pong, a close); empty if none.
  std::string take_output();
  // The client closed, or broke the protocol (and was sent a close frame
  // saying so): no more lines will come.
  bool ended() const { return ended_; }
  // The close code the server sent, when it refused a frame; 0 if none.
  std::uint16_t refused_with() const { return refused_with_; }

 private:
  struct Callbacks;
  void decode(RingBuffer& raw);

  wslay_event_context* context_ = nullptr;
  RingBuffer* raw_ = nullptr;  // while decode() runs
  std::deque<std::string> messages_;  // whole, not yet framed
  std::string output_;
  RingBuffer lines_;  // the message being framed, as "text\n"
  Framer framer_;
  std::uint16_t refused_with_ = 0;
  bool ended_ = false;
};

}  // namespace uvchat::protocol
