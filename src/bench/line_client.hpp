// One client connection to the server that speaks in lines.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "uvchat/net/tls.hpp"
#include "ws_framing.hpp"

namespace uvchat::bench {

class Driver;

enum class CloseReason {
  kByUs,      // close() was called
  kByServer,  // the server ended the connection
  kError,     // connecting, reading or writing failed
};

// What a client's owner (a sender, a reader) is told.
class LineHandler {
 public:
  virtual ~LineHandler() = default;
  virtual void on_connected() = 0;
  // A line from the server, without its line end. Only valid during the call.
  virtual void on_line(std::string_view line) = 0;
  // The connection is closed and will say nothing more. `error` says what
  // went wrong when the reason is kError.
  virtual void on_closed(CloseReason reason, std::string_view error) = 0;
};

// Moves lines between a handler and a TCP connection (with TCP_NODELAY).
//
// send_line() only appends to the outbox; the driver flushes each client
// with pending output once per loop turn: uv_try_write first, and a uv_write
// of what is left, while lines that arrive meanwhile collect in the outbox.
//
// Input is read into the driver's shared buffer; a partial line at its end is
// kept in `partial_` until the rest arrives.
//
// Over TLS (the driver's --tls, or use_tls()) the handshake comes first, and
// the handler hears on_connected() once it is done. The outbox then holds
// plaintext, sealed at the flush into records of up to 16 KiB (one a flush
// for small lines, as the server seals its own); ciphertext read goes
// through the session into the driver's plaintext buffer, and on to the
// lines. Without TLS none of that runs: `tls_` is null.
//
// Over a WebSocket (use_websocket(), for --door ws) the connection asks for
// the upgrade (`GET /ws`, subprotocol uvchat) once connected (and, over TLS,
// once the handshake is done), checks the 101, and only then does the
// handler hear on_connected(). From then on each line sent leaves as one
// masked text frame, framed as it is queued (send_bytes() takes whole
// lines; a partial one waits for its end), and each text message the
// server sends is handed over as a line. A ping is answered; a close frame
// ends the connection: by the server when its code is 1000 (normal), else
// with an error that gives the code and the reason.
//
// The client must outlive its close callback: free it only once closed()
// holds (Driver::close_all_clients() waits for that).
class LineClient {
 public:
  LineClient(Driver& driver, LineHandler& handler);
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;
  ~LineClient();

  // Connects to the driver's server; the handler hears on_connected() or
  // on_closed(kError, ...). With a `source` (a local address, port 0) the
  // connection comes from there: on loopback a client may pose as a host of
  // its own. With a `receive_buffer` too (bytes; SO_RCVBUF, which Linux
  // doubles and no longer tunes), the connection has a receive window that
  // small, as over a thin link.
  void connect(const sockaddr* source = nullptr, int receive_buffer = 0);
  // Before connect(): whether this connection speaks TLS, whatever the
  // driver's --tls says, and a session of an earlier connection to offer
  // the server (TlsSession::resume).
  void use_tls(bool tls, std::shared_ptr<SSL_SESSION> resume = {});
  bool speaks_tls() const { return tls_wanted_; }
  // Before connect(): whether this connection is a WebSocket (docs/WEB.md).
  void use_websocket(bool websocket);
  // Once a TLS connection's handshake is done: whether the server took the
  // session offered.
  bool tls_resumed() const { return tls_resumed_; }
  // The session a later connection may resume, once the server's ticket has
  // arrived (it comes with the first lines); null before, and without TLS.
  // Still there after the close.
  std::shared_ptr<SSL_SESSION> tls_session() const;
  // Queues `line` and a line end.
  void send_line(std::string_view line);
  // Queues `bytes` as they are, line end or not.
  void send_bytes(std::string_view bytes);
  // Stops taking input from the socket, so that the kernel's buffers fill
  // and the server meets a client that does not read; and starts again.
  // Only once connected (from on_connected() on).
  void pause_reading();
  void resume_reading();
  void close() { close_for(CloseReason::kByUs, {}); }
  // Closes with a TCP reset instead of a FIN, as a peer that vanished.
  void reset();
  // Bytes that have arrived and not been read (FIONREAD); null where the
  // kernel cannot say.
  std::optional<std::size_t> unread_in_kernel() const;
  // Reads every line that has arrived, then resets. The server counts a DM
  // delivered once our TCP has acknowledged it, so a client that resets
  // with bytes unread has thrown those DMs away; this one has not. Call it
  // with reading paused and once nothing more arrives (the receive window
  // is shut): the bytes are peeked (MSG_PEEK), so the window stays shut and
  // nothing more is acknowledged before the reset.
  void read_all_then_reset();
  bool closed() const { return closed_; }
  // Bytes queued or being written that the kernel has not taken yet.
  std::size_t unsent_bytes() const {
    return outbox_.size() + in_flight_.size() + (tls_ ? tls_->output().size() : 0);
  }

  // For the driver.
  void flush();
  bool flush_scheduled = false;

 private:
  static void on_connect(uv_connect_t* request, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_close(uv_handle_t* handle);

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  void take_input(std::string_view bytes);
  void take_lines(std::string_view bytes);
  void take_plaintext(std::string_view bytes);
  void transport_ready();
  void take_upgrade_response(std::string_view bytes);
  void take_frames(std::string_view bytes);
  void take_control(const ws::FrameReader::Message& message);
  void frame_lines(std::string_view bytes);
  void end_of_input();
  bool start_tls();
  void take_ciphertext(std::string_view bytes);
  void finish_handshake();
  std::string& wire_bytes();
  bool has_output() const { return !outbox_.empty() || (tls_ && !tls_->output().empty()); }
  void write_in_background(std::string& wire, std::size_t already_written);
  void close_for(CloseReason reason, std::string error);
  void write_failed(int status);
  bool begin_closing(CloseReason reason, std::string error);

  Driver& driver_;
  LineHandler& handler_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_request_{};
  uv_write_t write_request_{};

  std::string partial_;    // the start of a line whose end has not arrived
  std::string outbox_;     // queued, not yet handed to the kernel (over TLS: not yet sealed)
  std::string in_flight_;  // held by the uv_write in progress
  bool writing_ = false;
  std::string write_error_;  // set by a failed write; the close waits for the read side

  bool tls_wanted_;
  std::shared_ptr<SSL_SESSION> resume_;  // offered at the handshake
  std::unique_ptr<net::TlsSession> tls_;
  bool handshake_done_ = false;  // and on_connected() said
  bool tls_resumed_ = false;
  std::shared_ptr<SSL_SESSION> tls_session_;  // kept when the connection closes

  // The WebSocket's state; null for a connection that speaks lines bare.
  struct WebSocket {
    explicit WebSocket(std::uint32_t seed) : masker(seed) {}
    std::string key;
    std::string response;  // the 101's head, until its blank line
    bool upgraded = false;
    std::string unframed;  // a partial line sent, waiting for its end
    ws::Masker masker;
    ws::FrameReader reader;
  };
  std::unique_ptr<WebSocket> websocket_;

  bool closing_ = false;
  bool closed_ = false;
  CloseReason close_reason_ = CloseReason::kByUs;
  std::string close_error_;
};

}  // namespace uvchat::bench
