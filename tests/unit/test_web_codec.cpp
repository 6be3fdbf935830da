// The web door's codec (src/door/web.cpp): HTTP answered from memory,
// the upgrade to a WebSocket, and the inner door's lines framed.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/chat/event.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/door/web.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"
#include "uvchat/protocol/text.hpp"
#include "uvchat/protocol/websocket.hpp"
#include "uvchat/web/assets.hpp"

namespace uvchat::door {
namespace {

using chat::EventKind;
using chat::MessageKind;
using protocol::CommandKind;

const chat::TimePoint kWhen{std::chrono::seconds{1700000000}};

struct Seen {
  CommandKind kind;
  std::string target;
  std::string text;
};

class RecordingSink final : public CodecSink {
 public:
  void command(const protocol::Command& command) override {
    commands.push_back({command.kind, std::string(command.target), std::string(command.text)});
  }
  void reply(std::string lines) override { replies.push_back(std::move(lines)); }
  void upgrade() override { ++upgrades; }

  void clear() {
    commands.clear();
    replies.clear();
  }

  std::vector<Seen> commands;
  std::vector<std::string> replies;
  int upgrades = 0;
};

// A parsed HTTP response: the status, the headers (names as sent), the body.
struct Response {
  int status = 0;
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  const std::string* header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (protocol::equal_case_insensitive(key, name)) return &value;
    }
    return nullptr;
  }
};

// Parses one response from `bytes`, taking its body by Content-Length.
Response parse_response(std::string_view bytes) {
  Response response;
  const std::size_t head_end = bytes.find("\r\n\r\n");
  REQUIRE(head_end != std::string_view::npos);
  std::string_view head = bytes.substr(0, head_end + 2);
  const std::size_t first_end = head.find("\r\n");
  response.status_line = std::string(head.substr(0, first_end));
  REQUIRE(response.status_line.starts_with("HTTP/1.1 "));
  REQUIRE(response.status_line.size() >= 12);
  response.status = std::stoi(response.status_line.substr(9, 3));
  head.remove_prefix(first_end + 2);
  while (!head.empty()) {
    const std::size_t end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    const std::size_t colon = line.find(": ");
    REQUIRE(colon != std::string_view::npos);
    response.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    head.remove_prefix(end + 2);
  }
  response.body = std::string(bytes.substr(head_end + 4));
  return response;
}

// One web connection: bytes through a framer that keeps blank lines, as
// the server's is once the door is picked, into the codec; after the
// upgrade through the codec's WebSocket reader. The hub is the sink.
class Browser {
 public:
  explicit Browser(const Settings& settings, NativeCodec& native)
      : codec(settings, native), ring_(protocol::Framer::buffer_capacity(settings.max_line)) {
    framer_.keep_blank_lines();
  }

  // Sends bytes; returns what the codec asked the hub to send back (its
  // replies, rendered as the hub would).
  std::string send(std::string_view bytes) {
    sink.clear();
    int stuck = 0;
    do {
      const std::size_t written = ring_.write(std::span<const char>(bytes.data(), bytes.size()));
      bytes.remove_prefix(written);
      protocol::Frame frame;
      for (;;) {
        protocol::WebSocketReader* websocket = codec.websocket();
        const bool got = websocket ? websocket->next(ring_, frame) : framer_.next(ring_, frame);
        if (!got) break;
        const int upgrades = sink.upgrades;
        codec.on_frame(frame, sink);
        if (sink.upgrades != upgrades) framer_.drop_taken(ring_);
      }
      stuck = written == 0 ? stuck + 1 : 0;
      REQUIRE(stuck < 2);
    } while (!bytes.empty());
    std::string out;
    for (const std::string& reply : sink.replies) {
      auto event = chat::make_event(EventKind::kReply);
      event->set_text(reply);
      event->one_recipient = true;
      const chat::Payload bytes_out = codec.render(event);
      if (bytes_out) out += *bytes_out;
    }
    return out;
  }

  Response get(std::string_view request) { return parse_response(send(request)); }

  bool exited() const {
    for (const Seen& seen : sink.commands) {
      if (seen.kind == CommandKind::kExit) return true;
    }
    return false;
  }

  WebCodec codec;
  RecordingSink sink;

 private:
  protocol::RingBuffer ring_;
  protocol::Framer framer_;
};

struct Fixture {
  Settings settings = [] {
    Settings s;
    s.utc = true;
    s.version = "uvchat-test";
    return s;
  }();
  NativeCodec native{protocol::LineEnding::kLf, true};
};

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string upgrade_request(std::string_view extra = {}, std::string_view host = "chat.lan:8080") {
  std::string request = "GET /ws HTTP/1.1\r\nHost: ";
  request.append(host).append(
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
  request.append(kKey).append("\r\n").append(extra).append("\r\n");
  return request;
}

// A masked client text frame.
std::string client_text(std::string_view text) {
  std::string out;
  out.push_back(static_cast<char>(0x81));
  REQUIRE(text.size() < 126);
  out.push_back(static_cast<char>(0x80 | text.size()));
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  out.append(mask, 4);
  for (std::size_t i = 0; i < text.size(); ++i) out.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
  return out;
}

// The payloads of the text frames in `bytes`.
std::vector<std::string> text_frames(std::string_view bytes) {
  std::vector<std::string> texts;
  while (!bytes.empty()) {
    REQUIRE(bytes.size() >= 2);
    const auto opcode = static_cast<unsigned char>(bytes[0]) & 0x0f;
    std::size_t length = static_cast<unsigned char>(bytes[1]) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      length = (static_cast<std::size_t>(static_cast<unsigned char>(bytes[2])) << 8) |
               static_cast<unsigned char>(bytes[3]);
      header = 4;
    }
    REQUIRE(length != 127);
    REQUIRE(bytes.size() >= header + length);
    const std::string payload(bytes.substr(header, length));
    texts.push_back(opcode == 1 ? payload : "<opcode " + std::to_string(opcode) + ">" + payload);
    bytes.remove_prefix(header + length);
  }
  return texts;
}

std::shared_ptr<chat::Event> room_line(std::string_view sender, std::string_view room, std::string_view text) {
  auto event = chat::make_event(EventKind::kChat);
  event->scope = MessageKind::kRoom;
  event->when = kWhen;
  event->sender = sender;
  event->target = room;
  event->set_text(std::string(text));
  return event;
}

void check_common_headers(const Response& response) {
  CHECK(response.header("X-Content-Type-Options") != nullptr);
  if (const std::string* nosniff = response.header("X-Content-Type-Options")) CHECK(*nosniff == "nosniff");
  REQUIRE(response.header("Content-Security-Policy") != nullptr);
  const std::string& csp = *response.header("Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(response.header("Referrer-Policy") != nullptr);
  REQUIRE(response.header("Server") != nullptr);
  CHECK(*response.header("Server") == "uvchat-test");
}

void check_length(const Response& response) {
  REQUIRE(response.header("Content-Length") != nullptr);
  CHECK(*response.header("Content-Length") == std::to_string(response.body.size()));
}

TEST_CASE("web codec: GET / serves the page with its headers", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const Response r = b.get("GET / HTTP/1.1\r\nHost: chat.lan\r\nAccept: text/html\r\n\r\n");
  CHECK(r.status_line == "HTTP/1.1 200 OK");
  check_common_headers(r);
  check_length(r);
  const web::Asset* page = web::find_asset("/");
  REQUIRE(page != nullptr);
  CHECK(r.body == page->body);
  REQUIRE(r.header("Content-Type") != nullptr);
  CHECK(*r.header("Content-Type") == page->content_type);
  CHECK(r.header("Content-Type")->starts_with("text/html"));
  REQUIRE(r.header("ETag") != nullptr);
  CHECK(*r.header("ETag") == page->etag);
  CHECK(*r.header("Connection") == "keep-alive");
  CHECK_FALSE(b.exited());
  CHECK(b.sink.upgrades == 0);
  CHECK_FALSE(b.codec.upgraded());
}

TEST_CASE("web codec: every asset is served with its type and ETag, the query ignored", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  REQUIRE(web::assets().size() >= 2);
  for (const web::Asset& asset : web::assets()) {
    INFO(asset.path);
    const Response r = b.get("GET " + std::string(asset.path) + "?v=1 HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(r.status == 200);
    check_length(r);
    CHECK(r.body == asset.body);
    CHECK(*r.header("Content-Type") == asset.content_type);
    CHECK(*r.header("ETag") == asset.etag);
    CHECK(asset.etag.starts_with('"'));
  }
}

TEST_CASE("web codec: HEAD has the headers of GET and no body", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string bytes = b.send("HEAD /app.js HTTP/1.1\r\nHost: h\r\n\r\n");
  const Response r = parse_response(bytes);
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(bytes.ends_with("\r\n\r\n"));
  REQUIRE(r.header("Content-Length") != nullptr);
  CHECK(*r.header("Content-Length") == std::to_string(web::find_asset("/app.js")->body.size()));
}

TEST_CASE("web codec: /healthz answers ok, never cached", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const Response r = b.get("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.body == "ok\n");
  check_length(r);
  check_common_headers(r);
  CHECK(*r.header("Cache-Control") == "no-store");
  CHECK(r.header("Content-Type")->starts_with("text/plain"));
}

TEST_CASE("web codec: If-None-Match with the ETag is 304 without a body", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const web::Asset* page = web::find_asset("/");
  const std::string bytes = b.send("GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: " + std::string(page->etag) +
                                   "\r\n\r\n");
  const Response r = parse_response(bytes);
  CHECK(r.status_line == "HTTP/1.1 304 Not Modified");
  CHECK(r.body.empty());
  CHECK(r.header("Content-Length") == nullptr);
  CHECK(*r.header("ETag") == page->etag);
  check_common_headers(r);
  // In a list too; another tag is a 200.
  CHECK(b.get("GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\", " + std::string(page->etag) + "\r\n\r\n")
            .status == 304);
  CHECK(b.get("GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"nope\"\r\n\r\n").status == 200);
}

TEST_CASE("web codec: an unknown path is 404, and the connection stays", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const Response r = b.get("GET /nope HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(r.status_line == "HTTP/1.1 404 Not Found");
  check_length(r);
  check_common_headers(r);
  CHECK(r.body.starts_with("404 Not Found: "));
  CHECK_FALSE(b.exited());
  CHECK(b.get("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n").status == 200);
}

TEST_CASE("web codec: HEAD of a missing path is a 404 without a body", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string bytes = b.send("HEAD /nope HTTP/1.1\r\nHost: h\r\n\r\n");
  const Response r = parse_response(bytes);
  CHECK(r.status == 404);
  CHECK(r.body.empty());
  CHECK(bytes.ends_with("\r\n\r\n"));
  CHECK_FALSE(b.exited());
  // The next response is read where it starts.
  CHECK(b.get("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n").status == 200);
}

TEST_CASE("web codec: other methods are 405 with Allow, and close", "[web]") {
  Fixture f;
  for (const std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    INFO(method);
    Browser b(f.settings, f.native);
    const Response r = b.get(std::string(method) + " / HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(r.status == 405);
    CHECK(*r.header("Allow") == "GET, HEAD");
    check_length(r);
    CHECK(*r.header("Connection") == "close");
    CHECK(b.exited());
  }
}

TEST_CASE("web codec: a request with a body is 400 and closes", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const Response r = b.get("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  CHECK(r.status == 400);
  CHECK(b.exited());
  Browser chunked(f.settings, f.native);
  CHECK(chunked.get("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n").status == 400);
  Browser empty(f.settings, f.native);
  CHECK(empty.get("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").status == 200);
}

TEST_CASE("web codec: bad requests are answered at their blank line, and close", "[web]") {
  Fixture f;
  struct Case {
    std::string_view request;
    int status;
  };
  for (const Case& c : {
           Case{"GET / HTTP/1.1\r\n\r\n", 400},                      // no Host
           Case{"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},           //
           Case{"GET / HTTP/1.1\r\nHost: h\r\nBad header\r\n\r\n", 400},
           Case{"GET /\xc3( HTTP/1.1\r\nHost: h\r\n\r\n", 400},      // not UTF-8
       }) {
    INFO(c.request);
    Browser b(f.settings, f.native);
    const std::string_view without_blank = c.request.substr(0, c.request.size() - 2);
    CHECK(b.send(without_blank).empty());
    CHECK_FALSE(b.exited());
    const Response r = parse_response(b.send("\r\n"));
    CHECK(r.status == c.status);
    check_length(r);
    check_common_headers(r);
    CHECK(*r.header("Connection") == "close");
    CHECK(b.exited());
    // Nothing more is read on a connection told it closes.
    CHECK(b.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n").empty());
    CHECK(b.sink.commands.empty());
  }
}

TEST_CASE("web codec: a request line over --max-line is 414, a header 431, after the blank line", "[web]") {
  Fixture f;
  f.settings.max_line = 256;
  Browser b(f.settings, f.native);
  CHECK(b.send("GET /" + std::string(1000, 'a') + " HTTP/1.1\r\nHost: h\r\n").empty());
  const Response r = b.get("\r\n");
  CHECK(r.status_line == "HTTP/1.1 414 URI Too Long");
  check_length(r);

  Browser h(f.settings, f.native);
  CHECK(h.send("GET / HTTP/1.1\r\nHost: h\r\nCookie: " + std::string(300, 'c') + "\r\n").empty());
  CHECK(h.get("\r\n").status == 431);
}

TEST_CASE("web codec: a megabyte of headers is read and dropped, then 431", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  CHECK(b.send("GET / HTTP/1.1\r\nHost: h\r\n").empty());
  const std::string header = "X-Filler: " + std::string(1000, 'f') + "\r\n";
  for (int i = 0; i < 1000; ++i) REQUIRE(b.send(header).empty());
  const Response r = b.get("\r\n");
  CHECK(r.status == 431);
  CHECK(b.exited());
}

TEST_CASE("web codec: Connection: close answers and then exits", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const Response r = b.get("GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(*r.header("Connection") == "close");
  REQUIRE(b.sink.commands.size() == 1);
  CHECK(b.sink.commands[0].kind == CommandKind::kExit);
  Browser old(f.settings, f.native);
  CHECK(*old.get("GET /healthz HTTP/1.0\r\n\r\n").header("Connection") == "close");
  CHECK(old.exited());
}

TEST_CASE("web codec: keep-alive serves pipelined requests in order, one answer each", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string bytes = b.send(
      "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\n\r\n"
      "HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(b.sink.replies.size() == 3);
  CHECK_FALSE(b.exited());
  CHECK(b.sink.replies[0].starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(b.sink.replies[0].ends_with("\r\n\r\nok\n"));
  CHECK(b.sink.replies[1].starts_with("HTTP/1.1 404 "));
  CHECK(b.sink.replies[2].starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(b.sink.replies[2].ends_with("\r\n\r\n"));
  CHECK(bytes == b.sink.replies[0] + b.sink.replies[1] + b.sink.replies[2]);
}

TEST_CASE("web codec: the 100th request on a connection is its last", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  for (int i = 1; i < WebCodec::kMaxRequests; ++i) {
    REQUIRE(*b.get("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n").header("Connection") == "keep-alive");
  }
  CHECK(*b.get("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n").header("Connection") == "close");
  CHECK(b.exited());
}

TEST_CASE("web codec: /ws upgrades with the right accept key, then frames are the native door's", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string bytes = b.send(upgrade_request("Origin: http://chat.lan:8080\r\n"));
  CHECK(bytes ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  CHECK(b.sink.upgrades == 1);
  CHECK(b.codec.upgraded());
  CHECK(b.codec.protocol() == WebCodec::kNativeProtocol);
  REQUIRE(b.codec.websocket() != nullptr);
  CHECK(b.sink.commands.empty());

  CHECK(b.send(client_text("server:register alice")).empty());
  REQUIRE(b.sink.commands.size() == 1);
  CHECK(b.sink.commands[0].kind == CommandKind::kRegister);
  CHECK(b.sink.commands[0].target == "alice");

  b.send(client_text("bob:hi there"));
  REQUIRE(b.sink.commands.size() == 1);
  CHECK(b.sink.commands[0].kind == CommandKind::kDirect);
  CHECK(b.sink.commands[0].target == "bob");
  CHECK(b.sink.commands[0].text == "hi there");

  // Events out: the native door's lines, one text frame each.
  auto welcome = chat::make_event(EventKind::kWelcome);
  welcome->name = "alice";
  welcome->count = 2;
  welcome->one_recipient = true;
  const chat::Payload native_lines = f.native.render(welcome);
  REQUIRE(native_lines);
  const chat::Payload framed = b.codec.render(welcome);
  REQUIRE(framed);
  std::string expected;
  protocol::append_lines_as_frames(*native_lines, expected);
  CHECK(*framed == expected);
  const auto texts = text_frames(*framed);
  REQUIRE_FALSE(texts.empty());
  CHECK(texts[0].starts_with("server:welcome alice"));
}

TEST_CASE("web codec: the handshake and the first frames may come in one read", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string bytes = b.send(upgrade_request() + client_text("server:register alice") + client_text("bob:x"));
  CHECK(parse_response(bytes).status == 101);
  REQUIRE(b.sink.commands.size() == 2);
  CHECK(b.sink.commands[0].kind == CommandKind::kRegister);
  CHECK(b.sink.commands[1].kind == CommandKind::kDirect);
}

TEST_CASE("web codec: a page served first, then the upgrade on the same connection", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string bytes = b.send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n" + upgrade_request());
  REQUIRE(b.sink.replies.size() == 2);
  CHECK(b.sink.replies[1].starts_with("HTTP/1.1 101 "));
  CHECK(bytes == b.sink.replies[0] + b.sink.replies[1]);  // both raw, unframed
  CHECK(b.codec.upgraded());
}

TEST_CASE("web codec: subprotocols: uvchat first, text.ircv3.net when IRC is open", "[web]") {
  Fixture f;
  {
    Browser b(f.settings, f.native);
    const Response r = b.get(upgrade_request("Sec-WebSocket-Protocol: text.ircv3.net, uvchat\r\n"));
    CHECK(r.status == 101);
    REQUIRE(r.header("Sec-WebSocket-Protocol") != nullptr);
    CHECK(*r.header("Sec-WebSocket-Protocol") == "uvchat");
    CHECK(*r.header("Sec-WebSocket-Accept") == kAccept);
  }
  {
    Browser b(f.settings, f.native);
    const Response r = b.get(upgrade_request("Sec-WebSocket-Protocol: text.ircv3.net\r\n"));
    CHECK(r.status == 101);
    CHECK(*r.header("Sec-WebSocket-Protocol") == "text.ircv3.net");
    CHECK(b.codec.protocol() == WebCodec::kIrcProtocol);
    CHECK(b.sink.upgrades == 1);
    b.send(client_text("NICK alice") + client_text("USER alice 0 * :Alice"));
    REQUIRE(b.sink.commands.size() == 1);
    CHECK(b.sink.commands[0].kind == CommandKind::kRegister);
    CHECK(b.sink.commands[0].target == "alice");
  }
  {
    Browser b(f.settings, f.native);
    const Response r = b.get(upgrade_request("Sec-WebSocket-Protocol: chat, superchat\r\n"));
    CHECK(r.status == 400);
    CHECK(b.sink.upgrades == 0);
    CHECK_FALSE(b.codec.upgraded());
    CHECK(b.exited());
  }
  f.settings.web_irc = false;
  {
    Browser b(f.settings, f.native);
    const Response r = b.get(upgrade_request("Sec-WebSocket-Protocol: text.ircv3.net\r\n"));
    CHECK(r.status == 400);
    CHECK(b.sink.upgrades == 0);
  }
}

TEST_CASE("web codec: an IRC WebSocket's own replies are framed, after the 101 raw", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  const std::string handshake = b.send(upgrade_request("Sec-WebSocket-Protocol: text.ircv3.net\r\n"));
  CHECK(handshake.starts_with("HTTP/1.1 101 "));
  const std::string pong = b.send(client_text("PING :abc"));
  REQUIRE(b.sink.replies.size() == 1);
  const auto texts = text_frames(pong);
  REQUIRE(texts.size() == 1);
  CHECK(texts[0].find("PONG") != std::string::npos);
  CHECK(texts[0].find("abc") != std::string::npos);
  CHECK_FALSE(texts[0].ends_with("\n"));
}

TEST_CASE("web codec: the upgrade's refusals", "[web]") {
  Fixture f;
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases{
      {"GET /ws HTTP/1.1\r\nHost: h\r\n\r\n", 426},  // a plain GET of the socket's address
      {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
       426},  // no Connection: Upgrade
      {"GET /ws HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
       426},
      {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
       426},
      {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
       "\r\n",
       400},  // no key
      {"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
       "Sec-WebSocket-Key: short==\r\n\r\n",
       400},
      {"HEAD /ws HTTP/1.1\r\nHost: h\r\n\r\n", 405},
      {"POST /ws HTTP/1.1\r\nHost: h\r\n\r\n", 405},
  };
  for (const Case& c : cases) {
    INFO(c.request);
    Browser b(f.settings, f.native);
    const std::string bytes = b.send(c.request);
    const Response r = parse_response(bytes);
    CHECK(r.status == c.status);
    CHECK(b.sink.upgrades == 0);
    CHECK_FALSE(b.codec.upgraded());
    CHECK(b.codec.websocket() == nullptr);
    CHECK(b.exited());
    if (c.request.starts_with("HEAD")) {
      CHECK(r.body.empty());
    } else {
      check_length(r);
    }
    if (r.status == 426) {
      REQUIRE(r.header("Upgrade") != nullptr);
      CHECK(*r.header("Upgrade") == "websocket");
    }
  }
}

TEST_CASE("web codec: Origin must be the server's own host or allowed", "[web]") {
  Fixture f;
  f.settings.web_origins = {"https://chat.example.org"};
  struct Case {
    std::string_view origin;  // empty: none sent
    std::string_view host;
    bool allowed;
  };
  for (const Case& c : {
           Case{"", "chat.lan:8080", true},  // not a browser
           Case{"http://chat.lan:8080", "chat.lan:8080", true},
           Case{"https://chat.lan:8080", "chat.lan:8080", true},
           Case{"http://CHAT.lan:8080", "chat.lan:8080", true},
           Case{"https://chat.example.org", "10.0.0.2:8080", true},
           Case{"HTTPS://CHAT.EXAMPLE.ORG", "10.0.0.2:8080", true},
           Case{"http://chat.lan", "chat.lan:8080", false},  // another port is another origin
           Case{"http://evil.example", "chat.lan:8080", false},
           Case{"http://chat.lan:8080.evil.example", "chat.lan:8080", false},
           Case{"null", "chat.lan:8080", false},
           Case{"https://chat.example.org.evil", "chat.lan:8080", false},
           Case{"ws://chat.lan:8080", "chat.lan:8080", false},
       }) {
    INFO(c.origin << " at " << c.host);
    Browser b(f.settings, f.native);
    const std::string extra = c.origin.empty() ? std::string() : "Origin: " + std::string(c.origin) + "\r\n";
    const Response r = b.get(upgrade_request(extra, c.host));
    CHECK(r.status == (c.allowed ? 101 : 403));
    CHECK(b.codec.upgraded() == c.allowed);
    CHECK(b.sink.upgrades == (c.allowed ? 1 : 0));
  }
}

TEST_CASE("web codec: a room line for two browsers is framed once and shared", "[web]") {
  Fixture f;
  Browser alice(f.settings, f.native);
  Browser carol(f.settings, f.native);
  REQUIRE(alice.get(upgrade_request()).status == 101);
  REQUIRE(carol.get(upgrade_request()).status == 101);
  const chat::EventRef line = room_line("bob", "team", "hello");
  const chat::Payload first = alice.codec.render(line);
  const chat::Payload second = carol.codec.render(line);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first.get() == second.get());
  CHECK(first.get() == line->cached(kNativeStyle + kWebStyles));
  // The native door's own sessions share the unframed lines.
  const chat::Payload native = f.native.render(line);
  REQUIRE(native);
  CHECK(native.get() == line->cached(kNativeStyle));
  std::string expected;
  protocol::append_lines_as_frames(*native, expected);
  CHECK(*first == expected);
  const auto texts = text_frames(*first);
  REQUIRE(texts.size() == 1);
  CHECK(texts[0].find("hello") != std::string::npos);
}

TEST_CASE("web codec: bye and shutdown end with a close frame", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  REQUIRE(b.get(upgrade_request()).status == 101);
  auto bye = chat::make_event(EventKind::kBye);
  bye->one_recipient = true;
  chat::Payload framed = b.codec.render(bye);
  REQUIRE(framed);
  auto texts = text_frames(*framed);
  REQUIRE(texts.size() == 2);
  CHECK(texts[0] == "server:bye");
  CHECK(texts[1] == std::string("<opcode 8>\x03\xe8" "bye", 15));

  Browser s(f.settings, f.native);
  REQUIRE(s.get(upgrade_request()).status == 101);
  const chat::EventRef shutdown = chat::make_event(EventKind::kShutdown);
  framed = s.codec.render(shutdown);
  REQUIRE(framed);
  texts = text_frames(*framed);
  REQUIRE(texts.size() == 2);
  CHECK(texts[0] == "server:shutdown");
  CHECK(texts[1].starts_with(std::string("<opcode 8>\x03\xe9", 12)));
}

TEST_CASE("web codec: before the upgrade the hub's events show nothing", "[web]") {
  Fixture f;
  Browser b(f.settings, f.native);
  CHECK_FALSE(b.codec.render(room_line("bob", "team", "hello")));
  CHECK_FALSE(b.codec.render(chat::make_event(EventKind::kShutdown)));
  CHECK(b.codec.traits().echo == false);
}

}  // namespace
}  // namespace uvchat::door
