#include "line_client.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cassert>
#include <span>

#include "driver.hpp"

namespace uvchat::bench {
namespace {

std::string describe(std::string_view what, int status) {
  return std::string(what) + ": " + uv_strerror(status);
}

// A look at what has arrived, and another if more came meanwhile.
constexpr int kPeeks = 4;

// The most of an upgrade's answer read before giving up on its blank line.
constexpr std::size_t kMaxResponseHead = 16 * 1024;

// The server's address as a Host header has it: `127.0.0.1:7777`, `[::1]:7777`.
std::string host_header(const sockaddr* server) {
  char name[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (server->sa_family == AF_INET6) {
    const auto* address = reinterpret_cast<const sockaddr_in6*>(server);
    uv_ip6_name(address, name, sizeof name);
    port = ntohs(address->sin6_port);
    return "[" + std::string(name) + "]:" + std::to_string(port);
  }
  const auto* address = reinterpret_cast<const sockaddr_in*>(server);
  uv_ip4_name(address, name, sizeof name);
  port = ntohs(address->sin_port);
  return std::string(name) + ":" + std::to_string(port);
}

}  // namespace

LineClient::LineClient(Driver& driver, LineHandler& handler)
    : driver_(driver), handler_(handler), tls_wanted_(driver.tls_everywhere()) {
  uv_tcp_init(driver_.loop(), &tcp_);
  tcp_.data = this;
  connect_request_.data = this;
  write_request_.data = this;
  driver_.adopt(*this);
}

LineClient::~LineClient() { assert(closed_ && "a LineClient must be closed before it is freed"); }

void LineClient::use_tls(bool tls, std::shared_ptr<SSL_SESSION> resume) {
  tls_wanted_ = tls;
  resume_ = std::move(resume);
}

void LineClient::use_websocket(bool websocket) {
  if (!websocket) {
    websocket_.reset();
    return;
  }
  // Any seed will do but zero; the address differs from client to client.
  const auto seed = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(this) >> 4);
  websocket_ = std::make_unique<WebSocket>(seed);
}

std::shared_ptr<SSL_SESSION> LineClient::tls_session() const { return tls_ ? tls_->session() : tls_session_; }

void LineClient::connect(const sockaddr* source, int receive_buffer) {
  if (tls_wanted_ && !start_tls()) return;
  if (source != nullptr) {
    if (const int bound = uv_tcp_bind(&tcp_, source, 0); bound < 0) {
      close_for(CloseReason::kError, describe("bind", bound));
      return;
    }
    // Before the handshake, which announces the window scale.
    if (receive_buffer > 0) {
      if (const int sized = uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&tcp_), &receive_buffer);
          sized < 0) {
        close_for(CloseReason::kError, describe("SO_RCVBUF", sized));
        return;
      }
    }
  }
  const int status = uv_tcp_connect(&connect_request_, &tcp_, driver_.server(), on_connect);
  if (status < 0) close_for(CloseReason::kError, describe("connect", status));
}

void LineClient::on_connect(uv_connect_t* request, int status) {
  auto* self = static_cast<LineClient*>(request->data);
  if (self->closing_) return;
  if (status < 0) {
    self->close_for(CloseReason::kError, describe("connect", status));
    return;
  }
  self->driver_.note_progress();
  uv_tcp_nodelay(&self->tcp_, 1);
  self->resume_reading();
  if (self->closing_) return;
  if (!self->tls_) {
    self->transport_ready();
    return;
  }
  // The ClientHello; on_connected() once the server's answer completes it.
  self->tls_->start_handshake();
  if (self->tls_->failed()) {
    self->close_for(CloseReason::kError, "TLS: " + self->tls_->error());
    return;
  }
  self->driver_.schedule_flush(*self);
}

bool LineClient::start_tls() {
  std::string error;
  std::shared_ptr<const net::TlsContext> context = driver_.tls_context(error);
  if (!context) {
    close_for(CloseReason::kError, "TLS: " + error);
    return false;
  }
  tls_ = std::make_unique<net::TlsSession>(std::move(context), net::TlsSession::Role::kClient,
                                           driver_.tls_server_name());
  if (resume_) tls_->resume(resume_);
  if (tls_->failed()) {
    close_for(CloseReason::kError, "TLS: " + tls_->error());
    return false;
  }
  return true;
}

void LineClient::pause_reading() {
  if (!closing_) uv_read_stop(stream());
}

void LineClient::resume_reading() {
  if (closing_) return;
  if (const int reading = uv_read_start(stream(), on_alloc, on_read); reading < 0) {
    close_for(CloseReason::kError, describe("read", reading));
  }
}

void LineClient::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  *buf = static_cast<LineClient*>(handle->data)->driver_.read_buffer();
}

void LineClient::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<LineClient*>(stream->data);
  if (nread > 0) {
    self->driver_.note_progress();
    self->take_input(std::string_view(buf->base, static_cast<std::size_t>(nread)));
  } else if (!self->write_error_.empty() && nread < 0) {
    self->close_for(CloseReason::kError, self->write_error_);
  } else if (nread == UV_EOF) {
    self->end_of_input();
  } else if (nread < 0) {
    self->close_for(CloseReason::kError, describe("read", static_cast<int>(nread)));
  }
}

void LineClient::take_input(std::string_view bytes) {
  if (tls_) {
    take_ciphertext(bytes);
  } else {
    take_plaintext(bytes);
  }
}

// TCP is connected and TLS, if any, has shaken hands: the handler may speak,
// unless a WebSocket must be asked for first.
void LineClient::transport_ready() {
  if (!websocket_) {
    handler_.on_connected();
    return;
  }
  websocket_->key = ws::new_key();
  outbox_.append(ws::upgrade_request(host_header(driver_.server()), websocket_->key));
  driver_.schedule_flush(*this);
}

void LineClient::take_plaintext(std::string_view bytes) {
  if (!websocket_) {
    take_lines(bytes);
  } else if (websocket_->upgraded) {
    take_frames(bytes);
  } else {
    take_upgrade_response(bytes);
  }
}

// The answer to `GET /ws`, up to its blank line; frames may follow it in
// the same read.
void LineClient::take_upgrade_response(std::string_view bytes) {
  std::string& response = websocket_->response;
  response.append(bytes);
  const std::size_t head_size = ws::response_head_size(response);
  if (head_size == 0) {
    // A server whose web door is closed takes `GET` for a native line and
    // says so in a line of its own: fail now, not at the stall limit.
    if (const std::size_t first_end = response.find('\n');
        first_end != std::string::npos && !response.starts_with("HTTP/")) {
      close_for(CloseReason::kError, "WebSocket: the server answered the upgrade with '" +
                                         response.substr(0, first_end) + "', not HTTP");
    } else if (response.size() > kMaxResponseHead) {
      close_for(CloseReason::kError, "WebSocket: no end to the answer to the upgrade in 16 KiB");
    }
    return;
  }
  if (const std::string problem =
          ws::check_upgrade_response(std::string_view(response).substr(0, head_size), websocket_->key);
      !problem.empty()) {
    close_for(CloseReason::kError, "WebSocket: " + problem);
    return;
  }
  websocket_->upgraded = true;
  const std::string rest = response.substr(head_size);
  std::string().swap(response);
  handler_.on_connected();
  if (!closing_ && !rest.empty()) take_frames(rest);
}

// Each text message is a line, handed over from the read buffer in place
// when its frame lies whole in it.
void LineClient::take_frames(std::string_view bytes) {
  ws::FrameReader::Message message;
  while (!closing_) {
    switch (websocket_->reader.next(bytes, message)) {
      case ws::FrameReader::Status::kMore: return;
      case ws::FrameReader::Status::kError:
        close_for(CloseReason::kError, "WebSocket: " + websocket_->reader.error());
        return;
      case ws::FrameReader::Status::kMessage: break;
    }
    if (message.opcode != ws::Opcode::kText) {
      take_control(message);
      continue;
    }
    std::string_view line = message.payload;
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    handler_.on_line(line);
  }
}

void LineClient::take_control(const ws::FrameReader::Message& message) {
  switch (message.opcode) {
    case ws::Opcode::kPing:
      ws::append_masked_frame(ws::Opcode::kPong, message.payload, websocket_->masker, outbox_);
      driver_.schedule_flush(*this);
      break;
    case ws::Opcode::kClose: {
      const ws::CloseReason why = ws::parse_close(message.payload);
      if (why.code == 1000) {
        close_for(CloseReason::kByServer, {});
      } else {
        close_for(CloseReason::kError, "WebSocket: the server closed it with code " +
                                           std::to_string(why.code) + " (" + std::string(why.reason) + ")");
      }
      break;
    }
    case ws::Opcode::kBinary: close_for(CloseReason::kError, "WebSocket: a binary message"); break;
    default: break;  // a pong
  }
}

// The server's FIN, or its close_notify. After a failed write, what the
// server said before it reset the connection has been read: now the close.
void LineClient::end_of_input() {
  if (write_error_.empty()) {
    close_for(CloseReason::kByServer, {});
  } else {
    close_for(CloseReason::kError, write_error_);
  }
}

// Decrypts everything that has arrived, a buffer at a time, and hands the
// lines over as for plain text. What the session has to say (the client's
// Finished, alerts) leaves with the next flush.
void LineClient::take_ciphertext(std::string_view bytes) {
  tls_->receive(std::span<const char>(bytes.data(), bytes.size()));
  const std::span<char> plaintext = driver_.plaintext_buffer();
  for (;;) {
    const net::TlsSession::ReadResult got = tls_->read(plaintext);
    if (!handshake_done_ && tls_->handshake_done()) finish_handshake();
    if (closing_) return;
    if (got.bytes > 0) take_plaintext(std::string_view(plaintext.data(), got.bytes));
    if (closing_) return;
    if (got.status == net::TlsSession::Status::kClosed) {
      end_of_input();
      return;
    }
    if (got.status == net::TlsSession::Status::kFailed) {
      close_for(CloseReason::kError, "TLS: " + tls_->error());
      return;
    }
    if (got.bytes < plaintext.size()) break;
  }
  tls_->keep_unread();
  if (has_output()) driver_.schedule_flush(*this);
}

void LineClient::finish_handshake() {
  handshake_done_ = true;
  tls_resumed_ = tls_->session_reused();
  if (driver_.tls_verifies() && !tls_->peer_verified()) {
    close_for(CloseReason::kError, "TLS: the server's certificate: " + tls_->verify_error());
    return;
  }
  transport_ready();
}

// Complete lines are handed over straight from the read buffer; only a line
// split across reads is copied.
void LineClient::take_lines(std::string_view bytes) {
  while (!closing_) {
    const std::size_t end = bytes.find('\n');
    if (end == std::string_view::npos) break;
    std::string_view line = bytes.substr(0, end);
    bytes.remove_prefix(end + 1);
    if (!partial_.empty()) {
      partial_.append(line);
      line = partial_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    handler_.on_line(line);
    partial_.clear();
  }
  if (!closing_) partial_.append(bytes);
}

void LineClient::send_line(std::string_view line) {
  if (websocket_ && websocket_->unframed.empty()) {
    if (closing_ || !write_error_.empty()) return;
    ws::append_masked_frame(ws::Opcode::kText, line, websocket_->masker, outbox_);
    driver_.schedule_flush(*this);
    return;
  }
  send_bytes(line);
  send_bytes("\n");
}

void LineClient::send_bytes(std::string_view bytes) {
  if (closing_ || !write_error_.empty()) return;
  if (websocket_) {
    frame_lines(bytes);
  } else {
    outbox_.append(bytes);
  }
  driver_.schedule_flush(*this);
}

// Over a WebSocket: a masked text frame for each whole line, straight into
// the outbox; a partial line waits in `unframed` for its end.
void LineClient::frame_lines(std::string_view bytes) {
  std::string& unframed = websocket_->unframed;
  if (unframed.empty()) {
    const std::size_t framed = ws::append_lines_as_masked_frames(bytes, websocket_->masker, outbox_);
    unframed.assign(bytes.substr(framed));
    return;
  }
  unframed.append(bytes);
  unframed.erase(0, ws::append_lines_as_masked_frames(unframed, websocket_->masker, outbox_));
}

void LineClient::flush() {
  if (closing_ || writing_) return;
  std::string& wire = tls_ ? wire_bytes() : outbox_;
  if (closing_ || wire.empty()) return;
  uv_buf_t buf = uv_buf_init(wire.data(), static_cast<unsigned int>(wire.size()));
  const int written = uv_try_write(stream(), &buf, 1);
  if (written == static_cast<int>(wire.size())) {
    wire.clear();
    return;
  }
  if (written < 0 && written != UV_EAGAIN) {
    write_failed(written);
    return;
  }
  write_in_background(wire, written > 0 ? static_cast<std::size_t>(written) : 0);
}

// Over TLS: what the session has to say, and then the plaintext waiting,
// sealed now (once the handshake is done) into as few records as fit it.
std::string& LineClient::wire_bytes() {
  if (handshake_done_ && !outbox_.empty()) {
    if (!tls_->write(std::span<const char>(outbox_.data(), outbox_.size()))) {
      close_for(CloseReason::kError, "TLS: " + tls_->error());
    }
    outbox_.clear();
  }
  return tls_->output();
}

void LineClient::write_in_background(std::string& wire, std::size_t already_written) {
  in_flight_.swap(wire);
  in_flight_.erase(0, already_written);
  wire.clear();
  uv_buf_t buf = uv_buf_init(in_flight_.data(), static_cast<unsigned int>(in_flight_.size()));
  writing_ = true;
  if (const int status = uv_write(&write_request_, stream(), &buf, 1, on_write); status < 0) {
    writing_ = false;
    write_failed(status);
  }
}

void LineClient::on_write(uv_write_t* request, int status) {
  auto* self = static_cast<LineClient*>(request->data);
  self->writing_ = false;
  self->in_flight_.clear();
  if (self->closing_) return;
  if (status < 0) {
    self->write_failed(status);
    return;
  }
  if (self->has_output()) self->driver_.schedule_flush(*self);
}

// A write fails once the server has reset the connection, but what it sent
// before the reset is still in our kernel: the connection closes when the
// reading reaches the end (at once if we read; else once we read again), as
// a person's client shows every line that came before it says "lost".
void LineClient::write_failed(int status) {
  write_error_ = describe("write", status);
  outbox_.clear();
  if (tls_) tls_->output().clear();
}

void LineClient::close_for(CloseReason reason, std::string error) {
  if (begin_closing(reason, std::move(error))) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void LineClient::reset() {
  if (!begin_closing(CloseReason::kByUs, {})) return;
  // Not connected yet, there is nothing to reset: a plain close will do.
  if (uv_tcp_close_reset(&tcp_, on_close) != 0) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

std::optional<std::size_t> LineClient::unread_in_kernel() const {
  uv_os_fd_t fd = -1;
  int bytes = 0;
  if (closing_ || uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0 ||
      ::ioctl(fd, FIONREAD, &bytes) != 0 || bytes < 0) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(bytes);
}

void LineClient::read_all_then_reset() {
  if (closing_) return;
  uv_os_fd_t fd = -1;
  std::string arrived;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) == 0) {
    for (int peek = 0; peek < kPeeks; ++peek) {
      const std::optional<std::size_t> unread = unread_in_kernel();
      if (!unread || *unread <= arrived.size()) break;
      arrived.resize(*unread);
      const ssize_t got = ::recv(fd, arrived.data(), arrived.size(), MSG_PEEK | MSG_DONTWAIT);
      arrived.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
      if (got <= 0) break;
    }
  }
  if (!arrived.empty()) {
    driver_.note_progress();
    take_input(arrived);
  }
  reset();
}

// False when the client is already closing.
bool LineClient::begin_closing(CloseReason reason, std::string error) {
  if (closing_) return false;
  closing_ = true;
  close_reason_ = reason;
  close_error_ = std::move(error);
  return true;
}

void LineClient::on_close(uv_handle_t* handle) {
  auto* self = static_cast<LineClient*>(handle->data);
  self->closed_ = true;
  // The session's memory goes now (thousands may be closed and kept); its
  // ticket stays, for a connection that comes back.
  if (self->tls_) {
    self->tls_session_ = self->tls_->session();
    self->tls_.reset();
  }
  self->driver_.forget(*self);
  self->handler_.on_closed(self->close_reason_, self->close_error_);
}

}  // namespace uvchat::bench
