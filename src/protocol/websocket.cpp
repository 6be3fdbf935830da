#include "uvchat/protocol/websocket.hpp"

#include "uvchat/protocol/text.hpp"

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>

namespace uvchat::protocol {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr unsigned char kFin = 0x80;
constexpr unsigned char kText = 0x1;
constexpr unsigned char kClose = 0x8;

void append_header(unsigned char opcode, std::size_t length, std::string& out) {
  out.push_back(static_cast<char>(kFin | opcode));
  if (length < 126) {
    out.push_back(static_cast<char>(length));
  } else if (length <= 0xffff) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xff));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xff));
    }
  }
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// wslay answers a client's close with the client's code and reason, and
// checks the reason's UTF-8 as it reads it; but when the close frame comes
// a byte or two a read, it checks none of it, and the answer would carry
// bytes that are not UTF-8, which RFC 6455 §5.5.1 forbids. Such a reason
// is dropped from the answer: the code says all that matters. `frames`
// is whole frames (wslay's, written unmasked by the send callback).
void drop_bad_close_reasons(std::string& frames) {
  std::size_t at = 0;
  while (frames.size() - at >= 2) {
    const auto opcode = static_cast<unsigned char>(frames[at]) & 0x0f;
    std::size_t length = static_cast<unsigned char>(frames[at + 1]) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      if (frames.size() - at < 4) return;
      length = (std::size_t{static_cast<unsigned char>(frames[at + 2])} << 8) |
               static_cast<unsigned char>(frames[at + 3]);
      header = 4;
    } else if (length == 127) {
      if (frames.size() - at < 10) return;
      length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<unsigned char>(frames[at + i]);
      header = 10;
    }
    if (frames.size() - at - header < length) return;
    if (opcode == kClose && header == 2 && length > 2 &&
        !is_valid_utf8(std::string_view(frames).substr(at + header + 2, length - 2))) {
      frames.erase(at + header + 2, length - 2);
      frames[at + 1] = static_cast<char>((static_cast<unsigned char>(frames[at + 1]) & 0x80) | 2);
      length = 2;
    }
    at += header + length;
  }
}

}  // namespace

bool is_websocket_key(std::string_view key) {
  if (key.size() != 24 || !key.ends_with("==")) return false;
  return std::all_of(key.begin(), key.end() - 2, is_base64_char);
}

std::string websocket_accept(std::string_view key) {
  std::string joined(key);
  joined.append(kGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(joined.data(), joined.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length));
}

void append_text_frame(std::string_view text, std::string& out) {
  append_header(kText, text.size(), out);
  out.append(text);
}

void append_close_frame(CloseCode code, std::string_view reason, std::string& out) {
  // A control frame's payload is at most 125 bytes: the code and 123 more.
  reason = reason.substr(0, 123);
  append_header(kClose, 2 + reason.size(), out);
  const auto value = static_cast<std::uint16_t>(code);
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
  out.append(reason);
}

void append_lines_as_frames(std::string_view lines, std::string& out) {
  while (!lines.empty()) {
    const std::size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    append_text_frame(line, out);
    if (end == std::string_view::npos) break;
    lines.remove_prefix(end + 1);
  }
}

// wslay calls back into the reader with `user_data` pointing at it.
struct WebSocketReader::Callbacks {
  static ssize_t recv(wslay_event_context_ptr context, std::uint8_t* buffer, std::size_t length, int,
                      void* user_data) {
    auto* self = static_cast<WebSocketReader*>(user_data);
    RingBuffer& raw = *self->raw_;
    const std::size_t take = std::min(length, raw.size());
    if (take == 0) {
      wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    std::string scratch;
    const std::string_view bytes = raw.peek(take, scratch);
    std::memcpy(buffer, bytes.data(), take);
    raw.consume(take);
    return static_cast<ssize_t>(take);
  }

  static ssize_t send(wslay_event_context_ptr, const std::uint8_t* data, std::size_t length, int,
                      void* user_data) {
    auto* self = static_cast<WebSocketReader*>(user_data);
    self->output_.append(reinterpret_cast<const char*>(data), length);
    return static_cast<ssize_t>(length);
  }

  static void on_message(wslay_event_context_ptr context, const wslay_event_on_msg_recv_arg* message,
                         void* user_data) {
    auto* self = static_cast<WebSocketReader*>(user_data);
    if (message->opcode == WSLAY_TEXT_FRAME) {
      self->messages_.emplace_back(reinterpret_cast<const char*>(message->msg), message->msg_length);
    } else if (message->opcode == WSLAY_BINARY_FRAME) {
      // Lines are text: a binary message is refused, and the connection
      // closed (RFC 6455 §7.4.1, 1003).
      constexpr std::string_view kWhy = "text messages only";
      wslay_event_queue_close(context, static_cast<std::uint16_t>(CloseCode::kUnsupportedData),
                              reinterpret_cast<const std::uint8_t*>(kWhy.data()), kWhy.size());
      wslay_event_shutdown_read(context);
    }
    // Pings, pongs and closes: wslay answers them itself.
  }
};

WebSocketReader::WebSocketReader(std::size_t max_message) : lines_(Framer::buffer_capacity(max_message)) {
  wslay_event_callbacks callbacks{};
  callbacks.recv_callback = Callbacks::recv;
  callbacks.send_callback = Callbacks::send;
  callbacks.on_msg_recv_callback = Callbacks::on_message;
  if (wslay_event_context_server_init(&context_, &callbacks, this) != 0) throw std::bad_alloc();
  wslay_event_config_set_max_recv_msg_length(context_, max_message);
}

WebSocketReader::~WebSocketReader() { wslay_event_context_free(context_); }

void WebSocketReader::decode(RingBuffer& raw) {
  raw_ = &raw;
  const int status = wslay_event_recv(context_);
  raw_ = nullptr;
  if (wslay_event_want_write(context_)) {
    wslay_event_send(context_);
    drop_bad_close_reasons(output_);
  }
  if (status != 0 || !wslay_event_want_read(context_)) {
    ended_ = true;
    // wslay says 1005 (no code) when it sent none of its own.
    const std::uint16_t sent = wslay_event_get_status_code_sent(context_);
    if (sent != WSLAY_CODE_NO_STATUS_RCVD && sent != static_cast<std::uint16_t>(CloseCode::kNormal) &&
        !wslay_event_get_close_received(context_)) {
      refused_with_ = sent;
    }
  }
}

bool WebSocketReader::next(RingBuffer& raw, Frame& frame) {
  for (;;) {
    if (framer_.next(lines_, frame)) return true;
    if (messages_.empty()) {
      if (ended_) break;
      decode(raw);
      if (messages_.empty()) break;
    }
    // The ring is empty here (every message was written with its LF, and
    // the framer took every line), and a message is at most max_message.
    const std::string& message = messages_.front();
    lines_.write(std::span<const char>(message.data(), message.size()));
    lines_.write(std::span<const char>("\n", 1));
    messages_.pop_front();
  }
  lines_.release();
  return false;
}

std::string WebSocketReader::take_output() {
  std::string output;
  output.swap(output_);
  return output;
}

}  // namespace uvchat::protocol
