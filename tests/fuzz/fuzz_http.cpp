// Fuzz target: the web door in HTTP (docs/WEB.md), as a browser or anyone
// else reaches it. A client's bytes go through a RingBuffer and a Framer
// that keeps blank lines, in reads of fuzzer-chosen sizes, as src/net reads
// them once the door is picked, into a WebCodec; the hub is a checking
// sink that renders the codec's replies through it, as the hub does. If a
// request upgrades, the rest of the bytes are WebSocket frames, read by the
// codec's reader, and their lines go to the inner (native) door.
//
// Input: byte 0 picks --max-line (bits 0-1), whether the IRC door is open
// (bit 2) and whether https://ok.example is an allowed origin (bit 3);
// bytes 1 and 2 the sizes of the reads, which alternate (1 to 128 bytes,
// or from 128 on, multiples of 64); the rest is what the client sends.
//
// Checks:
// - every reply before the upgrade is one whole HTTP/1.1 response: a
//   status line with a known status and its reason, header lines of
//   visible ASCII (no response splitting), the security headers, and
//   `Connection: close` or `keep-alive`; a Content-Length equal to the
//   body's size, or the body empty (HEAD); no Content-Length and no body
//   for 101 and 304;
// - at most one response per frame, and only for a blank line (the end of
//   a request's head): never more responses than requests;
// - `Connection: close` comes with an exit command to the hub, and nothing
//   is answered or asked after it; an exit only with it;
// - a 101 comes with the upgrade, once, with a Sec-WebSocket-Accept; after
//   it, the raw replies render as they were, and nothing else is raw;
// - after the upgrade the inner door's commands come from clean lines, and
//   whatever the reader owes the client is well-formed unmasked frames.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "check.hpp"
#include "clean_text.hpp"
#include "fuzz_targets.hpp"
#include "uvchat/chat/event.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/door/web.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/http.hpp"
#include "uvchat/protocol/ring_buffer.hpp"
#include "uvchat/protocol/text.hpp"
#include "uvchat/protocol/websocket.hpp"
#include "web_checks.hpp"

namespace uvchat::fuzz {
namespace {

using protocol::CommandKind;

constexpr std::size_t kMaxLines[] = {16, 64, 256, 4096};

std::size_t read_size(std::uint8_t choice) {
  return choice < 128 ? std::size_t{choice} + 1 : (std::size_t{choice} - 127) * 64;
}

bool is_visible_ascii(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte >= 0x7f) return false;
  }
  return true;
}

// What a reply is, once checked.
struct Checked {
  int status = 0;
  bool close = false;
};

std::string_view header_value(std::string_view head, std::string_view name) {
  std::string_view rest = head;
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    if (line.size() > name.size() + 1 && protocol::equal_case_insensitive(line.substr(0, name.size()), name) &&
        line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 2);
  }
  return {};
}

std::string_view last_header_value(std::string_view head, std::string_view name) {
  std::string_view last;
  std::string_view rest = head;
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view value = header_value(rest.substr(0, end), name);
    if (!value.empty()) last = value;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 2);
  }
  return last;
}

bool has_header(std::string_view head, std::string_view name) {
  std::string_view rest = head;
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    if (line.size() > name.size() && protocol::equal_case_insensitive(line.substr(0, name.size()), name) &&
        line[name.size()] == ':') {
      return true;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 2);
  }
  return false;
}

Checked check_response(std::string_view response) {
  Checked checked;
  check(response.starts_with("HTTP/1.1 "), "a response does not start with HTTP/1.1", response.substr(0, 40));
  const std::size_t head_end = response.find("\r\n\r\n");
  check(head_end != std::string_view::npos, "a response has no end of head", response.substr(0, 80));
  const std::string_view head = response.substr(0, head_end + 2);
  const std::string_view body = response.substr(head_end + 4);
  const std::size_t first_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_end);
  check(status_line.size() > 13 && status_line[12] == ' ', "a status line is malformed", status_line);
  const std::string_view code = status_line.substr(9, 3);
  for (const char c : code) check(c >= '0' && c <= '9', "a status is not a number", status_line);
  checked.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  check(status_line.substr(13) == protocol::http_reason(checked.status) &&
            protocol::http_reason(checked.status) != "Unknown",
        "a status line's reason is not its status's", status_line);
  // Every header line: a name, a colon, visible ASCII; no bare CR or LF
  // anywhere in the head (what a response splitting would need).
  std::string_view rest = head.substr(first_end + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    check(end != std::string_view::npos, "a header line does not end in CR LF", rest);
    const std::string_view line = rest.substr(0, end);
    check(is_visible_ascii(line), "a header line has bytes it may not have", line);
    const std::size_t colon = line.find(':');
    check(colon != std::string_view::npos && colon > 0, "a header line has no name", line);
    rest.remove_prefix(end + 2);
  }
  if (checked.status == 101) {
    check(body.empty(), "a 101 has a body", body);
    check(!has_header(head, "Content-Length"), "a 101 has a Content-Length", head);
    check(!header_value(head, "Sec-WebSocket-Accept").empty(), "a 101 has no Sec-WebSocket-Accept", head);
    return checked;
  }
  check(header_value(head, "X-Content-Type-Options") == "nosniff", "a response lacks nosniff", head);
  check(header_value(head, "Content-Security-Policy").starts_with("default-src 'self'"),
        "a response lacks its Content-Security-Policy", head);
  // A 426 says `Connection: Upgrade` as well (RFC 9110 §7.8): the last
  // Connection header is the codec's own.
  const std::string_view connection = last_header_value(head, "Connection");
  check(connection == "close" || connection == "keep-alive", "a response says neither close nor keep-alive",
        head);
  checked.close = connection == "close";
  if (checked.status == 304) {
    check(body.empty(), "a 304 has a body", body);
    check(!has_header(head, "Content-Length"), "a 304 has a Content-Length", head);
    return checked;
  }
  const std::string_view length = header_value(head, "Content-Length");
  check(!length.empty(), "a response has no Content-Length", head);
  check(body.empty() || length == std::to_string(body.size()), "a Content-Length is not its body's size", head);
  return checked;
}

class CheckingSink final : public door::CodecSink {
 public:
  void command(const protocol::Command& command) override {
    commands.push_back(command.kind);
    if (command.kind != CommandKind::kInvalid) {
      check(protocol::is_valid_utf8(command.target) && has_no_control_bytes(command.target),
            "a command's target is not clean", command.target);
      check(protocol::is_valid_utf8(command.text) && has_no_control_bytes(command.text),
            "a command's text is not clean", command.text);
    }
  }
  void reply(std::string lines) override { replies.push_back(std::move(lines)); }
  void upgrade() override { ++upgrades; }

  std::vector<CommandKind> commands;
  std::vector<std::string> replies;
  int upgrades = 0;
};

}  // namespace

void fuzz_http(std::span<const std::uint8_t> input) {
  ByteReader reader(input);
  const std::uint8_t config = reader.byte();
  door::Settings settings;
  settings.max_line = kMaxLines[config & 3];
  settings.web_irc = (config & 4) != 0;
  if ((config & 8) != 0) settings.web_origins.push_back("https://ok.example");
  settings.version = "uvchat-fuzz";
  const std::size_t sizes[2] = {read_size(reader.byte()), read_size(reader.byte())};
  const std::string_view bytes = reader.rest();

  door::NativeCodec native(protocol::LineEnding::kLf, true);
  door::WebCodec codec(settings, native);
  protocol::RingBuffer ring(protocol::Framer::buffer_capacity(settings.max_line));
  protocol::Framer framer;
  framer.keep_blank_lines();
  CheckingSink sink;

  std::size_t requests_ended = 0;  // blank lines the codec was given over HTTP
  std::size_t responses = 0;
  bool closed = false;
  bool upgraded = false;
  std::size_t raw_pending = 0;  // replies the codec sent raw, not rendered yet

  const auto take_frame = [&](const protocol::Frame& frame) {
    const bool http = !codec.upgraded();
    if (http && frame.kind == protocol::FrameKind::kLine && frame.line.empty()) ++requests_ended;
    const std::size_t replies_before = sink.replies.size();
    const std::size_t commands_before = sink.commands.size();
    const int upgrades_before = sink.upgrades;
    codec.on_frame(frame, sink);
    const std::size_t new_replies = sink.replies.size() - replies_before;
    if (closed) {
      // back() only when there is a reply: the vector may be empty (its
      // replies are cleared as they are rendered).
      if (new_replies != 0) fail("a reply after Connection: close", sink.replies.back());
      check(sink.commands.size() == commands_before, "a command after Connection: close");
      return;
    }
    if (!http) {
      check(sink.upgrades == upgrades_before, "a second upgrade");
      return;
    }
    check(new_replies <= 1, "two responses for one frame");
    if (new_replies == 0) {
      check(sink.commands.size() == commands_before, "a command without a response");
      check(sink.upgrades == upgrades_before, "an upgrade without a response");
      return;
    }
    check(frame.kind == protocol::FrameKind::kLine && frame.line.empty(), "a response before the blank line");
    ++responses;
    check(responses <= requests_ended, "more responses than requests");
    const Checked checked = check_response(sink.replies.back());
    ++raw_pending;
    const bool exit = sink.commands.size() > commands_before && sink.commands.back() == CommandKind::kExit;
    check(sink.commands.size() - commands_before <= 1, "more than one command for a response");
    check(exit == checked.close, "an exit without Connection: close, or the reverse");
    closed = checked.close;
    check((sink.upgrades != upgrades_before) == (checked.status == 101), "a 101 without an upgrade, or the reverse");
    if (checked.status == 101) {
      check(codec.upgraded() && codec.websocket() != nullptr, "upgraded without a WebSocket");
      upgraded = true;
      framer.drop_taken(ring);
    }
  };

  // The hub renders a session's replies in order: raw, as they were sent.
  const auto render_replies = [&] {
    for (std::string& reply : sink.replies) {
      auto event = chat::make_event(chat::EventKind::kReply);
      event->set_text(reply);
      event->one_recipient = true;
      const chat::Payload rendered = codec.render(event);
      check(raw_pending > 0 || upgraded, "a reply rendered raw that was not an HTTP response");
      if (raw_pending > 0) {
        --raw_pending;
        check(rendered && *rendered == reply, "an HTTP response rendered other than as sent");
      } else if (rendered) {
        check_server_frames(*rendered, settings.max_line);
      }
    }
    sink.replies.clear();
  };

  std::size_t offset = 0;
  std::size_t turn = 0;
  while (offset < bytes.size()) {
    const std::string_view chunk = bytes.substr(offset, sizes[turn++ % 2]);
    std::size_t taken = 0;
    while (taken < chunk.size()) {
      const std::size_t written = ring.write(std::span<const char>(chunk.data() + taken, chunk.size() - taken));
      taken += written;
      protocol::Frame frame;
      for (;;) {
        protocol::WebSocketReader* websocket = codec.websocket();
        const bool got = websocket != nullptr ? websocket->next(ring, frame) : framer.next(ring, frame);
        if (websocket != nullptr) check_server_frames(websocket->take_output(), settings.max_line);
        if (!got) break;
        if (websocket != nullptr) check_clean_line(frame, settings.max_line);
        take_frame(frame);
      }
      render_replies();
      if (codec.websocket() != nullptr && codec.websocket()->ended()) return;
      check(written > 0 || !ring.full(), "the ring is full and nothing reads it");
      if (written == 0) break;  // the codec reads no more (closed)
    }
    offset += chunk.size();
  }
  protocol::Frame frame;
  if (codec.websocket() == nullptr && framer.finish(ring, frame)) take_frame(frame);
  render_replies();
}

}  // namespace uvchat::fuzz

#ifdef UVCHAT_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uvchat::fuzz::fuzz_http({data, size});
  return 0;
}
#endif
