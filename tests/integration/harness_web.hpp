// Clients of the web door (docs/WEB.md) over real sockets, plain or TLS: an
// HTTP/1.1 client that sends requests as raw bytes and takes the answers
// apart (status line, headers, a body by Content-Length), and a WebSocket
// client (RFC 6455) that is a LinePeer: each text message the server sends
// is one line, and each line sent is one masked text frame. Both can also
// misbehave on purpose (raw bytes, unmasked or oversized frames).
//
// Nothing here uses the server's own HTTP or WebSocket code: the frames are
// made and read by the few lines below, so that a mistake in the server's
// codec cannot hide behind the same mistake in the test's.
//
// harness_web.cpp: the transport, HTTP and curl; harness_web_socket.cpp:
// the WebSocket client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness.hpp"

namespace uvchat::net {
class TlsSession;
}  // namespace uvchat::net

namespace uvchat::test {

// A response taken apart. Header names are lowercased; values as sent,
// without the spaces around them.
struct HttpResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string head;  // the status line and headers, as received

  // The first header called `name` (lowercase), or nothing.
  std::optional<std::string> header(std::string_view name) const;
  // How many headers are called `name`.
  std::size_t count(std::string_view name) const;
  // Whether a comma-separated header `name` (all of them, as one list)
  // has `token`, in any case: Connection: close.
  bool has_token(std::string_view name, std::string_view token) const;
};

// The first response in `bytes`: nothing when they do not hold all of it
// yet. A response to HEAD, a 304 or a 101 has no body whatever its
// Content-Length says. `used` (if given) is how many bytes it took. Fails
// the test when the bytes are not a response.
std::optional<HttpResponse> parse_http_response(std::string_view bytes, bool head_request,
                                                std::size_t* used = nullptr);

// `response` is web/NAME as the server embedded it: its ETag is the
// SHA-256 of the body (scripts/embed-web.py), and the body is the file in
// the tree, unless the file is newer than $UVCHATD (a build older than
// the tree, which the comparison would blame on the server: WARN).
void check_web_asset(const HttpResponse& response, const std::string& name);

// "GET /path HTTP/1.1" with Host and `more` (whole lines, each ending in
// CR LF), and the blank line.
std::string http_get(std::string_view path, std::string_view host, std::string_view more = {});

// Where a web client connects, and how.
struct WebEndpoint {
  std::string host;
  int port = 0;
  // Over TLS, verifying the server against these certificates.
  bool tls = false;
  std::string ca_file = {};

  static WebEndpoint of(const TestServer& server) { return {server.host(), server.port()}; }
  static WebEndpoint tls_of(const TestServer& server, std::string ca_file) {
    return {server.host(), server.port(), true, std::move(ca_file)};
  }
  // "127.0.0.1:PORT", as a browser writes Host.
  std::string authority() const { return host + ":" + std::to_string(port); }
};

// A connected socket, plain or TLS (the handshake done in the
// constructor): bytes in, bytes out. For the clients below.
class WebTransport {
 public:
  WebTransport(const WebEndpoint& endpoint, const std::string& label);
  ~WebTransport();
  WebTransport(const WebTransport&) = delete;
  WebTransport& operator=(const WebTransport&) = delete;

  int fd() const { return socket_.get(); }
  // As read(2): bytes (plaintext), 0 at the end (FIN, close_notify, a TLS
  // failure or a reset), or -1 with errno EAGAIN when nothing is there yet.
  ssize_t read_some(char* buffer, std::size_t most);
  bool has_buffered_input() const;
  // Writes all of `bytes` within `timeout`; false when the peer is gone or
  // would not take them.
  bool write_all(std::string_view bytes, Duration timeout = kLineTimeout);
  // Closes the socket (with `reset`, an RST).
  void close(bool reset = false);

 private:
  void handshake(const WebEndpoint& endpoint);
  void decrypt();
  bool flush_tls();

  std::string label_;
  UniqueFd socket_;
  std::unique_ptr<net::TlsSession> tls_;
  std::string plain_;
  bool ended_ = false;
};

// An HTTP/1.1 client on one connection.
class HttpClient {
 public:
  explicit HttpClient(const TestServer& server, std::string label = "http")
      : HttpClient(WebEndpoint::of(server), std::move(label)) {}
  explicit HttpClient(const WebEndpoint& endpoint, std::string label = "http");

  const std::string& label() const { return label_; }
  const WebEndpoint& endpoint() const { return endpoint_; }

  // Sends raw bytes; fails the test when they cannot be sent.
  void send(std::string_view bytes);
  // The same for a peer that may have closed: false when it failed.
  bool try_send(std::string_view bytes);
  // GET `path` with Host (the server's address) and `more` header lines.
  void get(std::string_view path, std::string_view more = {});

  // The next response, within `timeout`; fails the test on timeout or on
  // a close before it is whole. `head_request`: it answers a HEAD.
  HttpResponse read_response(Duration timeout = kLineTimeout, bool head_request = false);
  std::optional<HttpResponse> try_read_response(Duration timeout = kLineTimeout, bool head_request = false);
  // True when the server closes the connection within `timeout` and sends
  // nothing more before that; what it did send is in unread().
  bool wait_closed(Duration timeout = kLineTimeout);
  // True once a read saw the end.
  bool closed() const { return closed_; }
  // Bytes received and not taken by a response.
  const std::string& unread() const { return unread_; }

 private:
  // Reads what comes before `deadline`; false on timeout or close.
  bool receive_more(std::chrono::steady_clock::time_point deadline);

  std::string label_;
  WebEndpoint endpoint_;
  WebTransport transport_;
  std::string unread_;
  bool closed_ = false;
};

// WebSocket opcodes (RFC 6455 §5.2).
enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// A frame the server sent.
struct WsFrame {
  bool fin = true;
  std::uint8_t rsv = 0;  // the three reserved bits, which must be 0
  std::uint8_t opcode = 0;
  std::string payload;

  bool is(WsOpcode op) const { return opcode == static_cast<std::uint8_t>(op); }
  // A close frame's code (1005 when it has none) and reason.
  std::uint16_t close_code() const;
  std::string close_reason() const;
  // "text 'server:pong'", "close 1000 'bye'": for messages.
  std::string describe() const;
};

// One frame as a client sends it: masked (with a fixed key, unless
// `mask` is false), FIN unless `fin` is false.
std::string ws_frame(WsOpcode opcode, std::string_view payload, bool fin = true, bool mask = true);
// Only the header of a masked frame that claims `length` payload bytes.
std::string ws_frame_header(WsOpcode opcode, std::uint64_t length, bool fin = true, bool mask = true);
// A close frame's payload: the code, then the reason.
std::string ws_close_payload(std::uint16_t code, std::string_view reason = {});

// Sec-WebSocket-Accept for `key`, computed here (SHA-1, base64).
std::string ws_accept_for(std::string_view key);

struct WebSocketSetup {
  std::string label = "ws";
  std::string path = "/ws";
  // Sec-WebSocket-Protocol, comma-separated; empty: no such header.
  std::string protocols = "uvchat";
  // Origin; empty: no such header (as a program that is no browser).
  std::string origin = {};
  // Host; empty: the endpoint's HOST:PORT.
  std::string host = {};
  // Sec-WebSocket-Key; empty: a fresh random one.
  std::string key = {};
  // Bytes sent in the same write as the handshake, right after it.
  std::string after_handshake = {};
};

// The request that opens a WebSocket: GET with Upgrade, the key, the
// version, and the setup's headers.
std::string ws_handshake_request(const WebSocketSetup& setup, const WebEndpoint& endpoint,
                                 const std::string& key);

// A WebSocket client. The constructor opens it (the server must answer 101
// with the right Sec-WebSocket-Accept, or the test fails); then it is a
// LinePeer: a line sent is a masked text frame, a text message received is
// a line. A text message with a CR or LF in it, a masked frame, a reserved
// bit or a bad opcode from the server fail the test. Pongs are kept
// aside; a close frame ends the lines (closed()).
class WebSocketClient : public LinePeer {
 public:
  explicit WebSocketClient(const TestServer& server, WebSocketSetup setup = {})
      : WebSocketClient(WebEndpoint::of(server), std::move(setup)) {}
  WebSocketClient(const WebEndpoint& endpoint, WebSocketSetup setup);
  ~WebSocketClient() override;

  // The server's 101.
  const HttpResponse& handshake() const { return handshake_; }

  // Frames as they are, or raw bytes, after the handshake.
  void send_frame(WsOpcode opcode, std::string_view payload, bool fin = true);
  void send_raw(std::string_view bytes);
  // As send_raw, for a server that may have closed: false when it failed.
  bool try_send_raw(std::string_view bytes);
  void send_ping(std::string_view payload) { send_frame(WsOpcode::kPing, payload); }
  void send_close(std::uint16_t code, std::string_view reason = {});

  // The next frame of any kind, in order, within `timeout`; nothing on
  // timeout or at the end. Text frames read this way are not lines.
  std::optional<WsFrame> try_next_frame(Duration timeout = kLineTimeout);
  WsFrame next_frame(Duration timeout = kLineTimeout);
  // Skips text messages (as lines) until a pong, within `timeout`, and
  // returns its payload; fails the test on timeout.
  std::string expect_pong(Duration timeout = kLineTimeout);
  // The server's close frame (text before it is taken as lines) and then
  // the end of the connection, each within `timeout`; returns the code.
  // Fails the test when either does not come.
  std::uint16_t expect_close(Duration timeout = kLineTimeout);
  // The close frame received, if one was.
  const std::optional<WsFrame>& close_frame() const { return close_; }
  // True when the server ended the connection (TCP or TLS) within
  // `timeout`, whatever it sent first (kept in frames_seen()).
  bool wait_end(Duration timeout = kLineTimeout);
  // Descriptions of the frames taken so far, for messages.
  const std::vector<std::string>& frames_seen() const { return seen_; }

  void close_socket(bool reset = false) { transport_.close(reset); }

 protected:
  ssize_t read_some(char* buffer, std::size_t most) override;
  ssize_t write_some(std::string_view bytes) override;
  bool has_buffered_input() const override;

 private:
  // Takes every whole frame out of raw_ into frames_.
  void decode();
  // Reads more from the transport into raw_ and decodes; false at the end
  // or on timeout (the end sets end_).
  bool receive(std::chrono::steady_clock::time_point deadline);
  // A frame for LinePeer: text becomes lines (in plain_), the rest is kept.
  void take_for_lines(WsFrame frame);

  WebTransport transport_;
  HttpResponse handshake_;
  std::string raw_;              // received, not yet a whole frame
  std::vector<WsFrame> frames_;  // decoded, not yet taken
  std::string message_;          // a fragmented text message so far
  bool in_message_ = false;
  std::string plain_;     // lines for LinePeer
  std::string line_out_;  // a line being sent, not yet whole
  std::vector<std::string> pongs_;
  std::optional<WsFrame> close_;
  std::vector<std::string> seen_;
  bool end_ = false;  // the transport ended
};

// `curl ARGS...` run to its end; its stdout taken apart as the responses
// of `curl -i` (one per URL; with -I, responses to HEAD). Nothing when
// curl is not installed: skipped with a WARN, or a failure under CI=true.
struct CurlResult {
  RunResult run;
  std::vector<HttpResponse> responses;
};
std::optional<CurlResult> run_curl(const std::vector<std::string>& args, bool head_requests = false);

// Shared by harness_web.cpp and harness_web_socket.cpp.
namespace web_detail {

inline constexpr Duration kHandshakeTimeout{5000};
// More than any answer of the web door; a response or a frame that claims
// more is a bug, not something to wait for.
inline constexpr std::size_t kMostResponseBytes = 64 * 1024 * 1024;

std::string lowercase(std::string_view text);
// `bytes` with what is not printable ASCII as \xNN, cut after `most`.
std::string printable(std::string_view bytes, std::size_t most = 200);

}  // namespace web_detail

}  // namespace uvchat::test
