// The WebSocket client of harness_web.hpp: frames made and read here, a
// LinePeer on top.
#include <openssl/evp.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "harness_web.hpp"

namespace uvchat::test {

using namespace web_detail;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<unsigned char, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};  // RFC 6455 §5.7's

std::string base64(const unsigned char* bytes, std::size_t size) {
  std::string encoded(4 * ((size + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), bytes, static_cast<int>(size));
  encoded.resize(static_cast<std::size_t>(length));
  return encoded;
}

std::string random_key() {
  std::random_device device;
  std::array<unsigned char, 16> bytes{};
  for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(device() & 0xff);
  return base64(bytes.data(), bytes.size());
}

}  // namespace

// --------------------------------------------------------------- frames

std::uint16_t WsFrame::close_code() const {
  if (payload.size() < 2) return 1005;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                    static_cast<unsigned char>(payload[1]));
}

std::string WsFrame::close_reason() const { return payload.size() < 2 ? std::string{} : payload.substr(2); }

std::string WsFrame::describe() const {
  std::string text;
  switch (static_cast<WsOpcode>(opcode)) {
    case WsOpcode::kContinuation: text = "continuation"; break;
    case WsOpcode::kText: text = "text"; break;
    case WsOpcode::kBinary: text = "binary"; break;
    case WsOpcode::kClose:
      return "close " + std::to_string(close_code()) + " '" + printable(close_reason()) + "'";
    case WsOpcode::kPing: text = "ping"; break;
    case WsOpcode::kPong: text = "pong"; break;
    default: text = "opcode " + std::to_string(opcode); break;
  }
  if (!fin) text += " (not FIN)";
  return text + " '" + printable(payload) + "'";
}

std::string ws_frame_header(WsOpcode opcode, std::uint64_t length, bool fin, bool mask) {
  std::string header;
  header.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode)));
  const char mask_bit = mask ? static_cast<char>(0x80) : 0;
  if (length < 126) {
    header.push_back(static_cast<char>(mask_bit | static_cast<char>(length)));
  } else if (length <= 0xffff) {
    header.push_back(static_cast<char>(mask_bit | 126));
    header.push_back(static_cast<char>(length >> 8));
    header.push_back(static_cast<char>(length & 0xff));
  } else {
    header.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      header.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  if (mask) header.append(reinterpret_cast<const char*>(kMask.data()), kMask.size());
  return header;
}

std::string ws_frame(WsOpcode opcode, std::string_view payload, bool fin, bool mask) {
  std::string frame = ws_frame_header(opcode, payload.size(), fin, mask);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(mask ? static_cast<char>(payload[i] ^ static_cast<char>(kMask[i % 4])) : payload[i]);
  }
  return frame;
}

std::string ws_close_payload(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason);
  return payload;
}

std::string ws_accept_for(std::string_view key) {
  std::string joined(key);
  joined.append("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  REQUIRE(EVP_Digest(joined.data(), joined.size(), digest.data(), &size, EVP_sha1(), nullptr) == 1);
  return base64(digest.data(), size);
}

std::string ws_handshake_request(const WebSocketSetup& setup, const WebEndpoint& endpoint,
                                 const std::string& key) {
  std::string request = "GET " + setup.path + " HTTP/1.1\r\n";
  request += "Host: " + (setup.host.empty() ? endpoint.authority() : setup.host) + "\r\n";
  request += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  request += "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n";
  if (!setup.protocols.empty()) request += "Sec-WebSocket-Protocol: " + setup.protocols + "\r\n";
  if (!setup.origin.empty()) request += "Origin: " + setup.origin + "\r\n";
  return request + "\r\n";
}

// ------------------------------------------------------- WebSocketClient

WebSocketClient::WebSocketClient(const WebEndpoint& endpoint, WebSocketSetup setup)
    : LinePeer(setup.label), transport_(endpoint, setup.label) {
  attach(transport_.fd(), transport_.fd());
  const std::string key = setup.key.empty() ? random_key() : setup.key;
  const std::string request = ws_handshake_request(setup, endpoint, key) + setup.after_handshake;
  if (!transport_.write_all(request)) FAIL(label() << ": cannot send the handshake");
  const auto deadline = Clock::now() + kHandshakeTimeout;
  std::size_t used = 0;
  std::optional<HttpResponse> response;
  while (!(response = parse_http_response(raw_, false, &used))) {
    if (!transport_.has_buffered_input() && !wait_ready(transport_.fd(), POLLIN, deadline)) {
      FAIL(label() << ": no answer to the handshake; received: '" << printable(raw_) << "'");
    }
    std::array<char, 16384> buffer;
    const ssize_t count = transport_.read_some(buffer.data(), buffer.size());
    if (count == 0)
      FAIL(label() << ": the server closed before its 101; received: '" << printable(raw_) << "'");
    if (count > 0) raw_.append(buffer.data(), static_cast<std::size_t>(count));
  }
  raw_.erase(0, used);
  handshake_ = *response;
  INFO(label() << ": the handshake's answer: " << handshake_.head << handshake_.body);
  REQUIRE(handshake_.status == 101);
  REQUIRE(handshake_.version == "HTTP/1.1");
  REQUIRE(lowercase(handshake_.header("upgrade").value_or("")) == "websocket");
  REQUIRE(lowercase(handshake_.header("connection").value_or("")) == "upgrade");
  REQUIRE(handshake_.header("sec-websocket-accept") == ws_accept_for(key));
  decode();
}

WebSocketClient::~WebSocketClient() = default;

void WebSocketClient::send_raw(std::string_view bytes) {
  if (!transport_.write_all(bytes)) FAIL(label() << ": cannot send " << bytes.size() << " bytes");
}

bool WebSocketClient::try_send_raw(std::string_view bytes) { return transport_.write_all(bytes); }

void WebSocketClient::send_frame(WsOpcode opcode, std::string_view payload, bool fin) {
  send_raw(ws_frame(opcode, payload, fin));
}

void WebSocketClient::send_close(std::uint16_t code, std::string_view reason) {
  send_frame(WsOpcode::kClose, ws_close_payload(code, reason));
}

void WebSocketClient::decode() {
  for (;;) {
    if (raw_.size() < 2) return;
    const auto b0 = static_cast<unsigned char>(raw_[0]);
    const auto b1 = static_cast<unsigned char>(raw_[1]);
    WsFrame frame;
    frame.fin = (b0 & 0x80) != 0;
    frame.rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7);
    frame.opcode = static_cast<std::uint8_t>(b0 & 0xf);
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7f;
    if (length == 126) {
      if (raw_.size() < 4) return;
      length = (static_cast<std::uint64_t>(static_cast<unsigned char>(raw_[2])) << 8) |
               static_cast<unsigned char>(raw_[3]);
      header = 4;
      if (length < 126) FAIL(label() << ": a frame's length is not in its shortest form");
    } else if (length == 127) {
      if (raw_.size() < 10) return;
      length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(raw_[i]);
      header = 10;
      if (length <= 0xffff) FAIL(label() << ": a frame's length is not in its shortest form");
    }
    if ((b1 & 0x80) != 0) FAIL(label() << ": the server masked a frame (RFC 6455 §5.1 forbids it)");
    if (length > kMostResponseBytes) FAIL(label() << ": the server sent a frame of " << length << " bytes");
    if (raw_.size() < header + length) return;
    frame.payload = raw_.substr(header, length);
    raw_.erase(0, header + length);
    seen_.push_back(frame.describe());
    if (frame.rsv != 0) FAIL(label() << ": a reserved bit is set in " << frame.describe());
    const bool control = frame.opcode >= 0x8;
    if (control && (!frame.fin || frame.payload.size() > 125)) {
      FAIL(label() << ": a control frame fragmented or over 125 bytes: " << frame.describe());
    }
    if ((frame.opcode > 0x2 && frame.opcode < 0x8) || frame.opcode > 0xA) {
      FAIL(label() << ": a frame with a reserved opcode: " << frame.describe());
    }
    if (close_) FAIL(label() << ": a frame after the close frame: " << frame.describe());
    if (frame.is(WsOpcode::kClose)) close_ = frame;  // nothing may follow it
    frames_.push_back(std::move(frame));
  }
}

bool WebSocketClient::receive(Clock::time_point deadline) {
  while (!end_) {
    if (!transport_.has_buffered_input() && !wait_ready(transport_.fd(), POLLIN, deadline)) return false;
    std::array<char, 65536> buffer;
    const ssize_t count = transport_.read_some(buffer.data(), buffer.size());
    if (count > 0) {
      raw_.append(buffer.data(), static_cast<std::size_t>(count));
      decode();
      return true;
    }
    if (count == 0 || (errno != EINTR && errno != EAGAIN)) end_ = true;
  }
  return false;
}

void WebSocketClient::take_for_lines(WsFrame frame) {
  const auto line = [&](const std::string& text) {
    if (text.find_first_of("\r\n") != std::string::npos) {
      FAIL(label() << ": a text message with a line end in it: '" << printable(text) << "'");
    }
    plain_ += text + "\n";
  };
  switch (static_cast<WsOpcode>(frame.opcode)) {
    case WsOpcode::kText:
      if (in_message_) FAIL(label() << ": a text frame inside a fragmented message");
      if (frame.fin) {
        line(frame.payload);
      } else {
        in_message_ = true;
        message_ = frame.payload;
      }
      break;
    case WsOpcode::kContinuation:
      if (!in_message_) FAIL(label() << ": a continuation frame outside a message");
      message_ += frame.payload;
      if (frame.fin) {
        in_message_ = false;
        line(message_);
      }
      break;
    case WsOpcode::kPong: pongs_.push_back(frame.payload); break;
    case WsOpcode::kClose:
    case WsOpcode::kPing: break;  // kept in close_, seen_
    default: FAIL(label() << ": the server sent " << frame.describe() << "; it sends text only");
  }
}

bool WebSocketClient::has_buffered_input() const {
  return !plain_.empty() || !frames_.empty() || close_ || end_ || transport_.has_buffered_input();
}

ssize_t WebSocketClient::read_some(char* buffer, std::size_t most) {
  if (plain_.empty() && frames_.empty() && !close_ && !end_) {
    std::array<char, 65536> bytes;
    const ssize_t count = transport_.read_some(bytes.data(), bytes.size());
    if (count > 0) {
      raw_.append(bytes.data(), static_cast<std::size_t>(count));
      decode();
    } else if (count == 0 || (errno != EINTR && errno != EAGAIN)) {
      end_ = true;
    }
  }
  while (plain_.empty() && !frames_.empty()) {
    WsFrame frame = std::move(frames_.front());
    frames_.erase(frames_.begin());
    take_for_lines(std::move(frame));
  }
  if (!plain_.empty()) {
    const std::size_t taken = std::min(most, plain_.size());
    std::memcpy(buffer, plain_.data(), taken);
    plain_.erase(0, taken);
    return static_cast<ssize_t>(taken);
  }
  if (close_ || end_) return 0;
  errno = EAGAIN;
  return -1;
}

ssize_t WebSocketClient::write_some(std::string_view bytes) {
  line_out_.append(bytes);
  std::size_t end = 0;
  while ((end = line_out_.find('\n')) != std::string::npos) {
    const std::string frame = ws_frame(WsOpcode::kText, std::string_view(line_out_).substr(0, end));
    line_out_.erase(0, end + 1);
    if (!transport_.write_all(frame)) {
      errno = EPIPE;
      return -1;
    }
  }
  return static_cast<ssize_t>(bytes.size());
}

std::optional<WsFrame> WebSocketClient::try_next_frame(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (frames_.empty()) {
    if (!receive(deadline)) return std::nullopt;
  }
  WsFrame frame = std::move(frames_.front());
  frames_.erase(frames_.begin());
  return frame;
}

WsFrame WebSocketClient::next_frame(Duration timeout) {
  std::optional<WsFrame> frame = try_next_frame(timeout);
  if (!frame) {
    std::string seen;
    for (const std::string& one : seen_) seen += "  " + one + "\n";
    FAIL(label() << ": no frame within " << timeout.count() << " ms"
                 << (end_ ? " (the connection ended)" : "") << "; frames so far:\n"
                 << seen);
  }
  return *frame;
}

std::string WebSocketClient::expect_pong(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (pongs_.empty()) {
    if (!frames_.empty()) {
      WsFrame frame = std::move(frames_.front());
      frames_.erase(frames_.begin());
      take_for_lines(std::move(frame));
      continue;
    }
    if (!receive(deadline)) {
      FAIL(label() << ": no pong within " << timeout.count() << " ms"
                   << (end_ ? " (the connection ended)" : ""));
    }
  }
  std::string payload = pongs_.front();
  pongs_.erase(pongs_.begin());
  return payload;
}

std::uint16_t WebSocketClient::expect_close(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  // Text before the close is lines, to be read as lines.
  while (!close_) {
    if (!receive(deadline)) {
      std::string seen;
      for (const std::string& one : seen_) seen += "  " + one + "\n";
      FAIL(label() << ": no close frame within " << timeout.count() << " ms"
                   << (end_ ? " (the connection ended without one)" : "") << "; frames so far:\n"
                   << seen);
    }
  }
  if (!wait_end(timeout)) FAIL(label() << ": the server sent its close frame but kept the connection open");
  return close_->close_code();
}

bool WebSocketClient::wait_end(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (receive(deadline)) {
  }
  return end_;
}

}  // namespace uvchat::test
