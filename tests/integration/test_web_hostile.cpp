// Issue 19, hostile input at the web door (docs/WEB.md): requests that never
// end, headers too big, frames that break RFC 6455 or the limits, pages
// from other origins. Each is refused in its own words (an HTTP status or a
// WebSocket close code) and ends its connection, and the server goes on
// serving everyone else.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "harness.hpp"
#include "harness_web.hpp"

using namespace uvchat::test;

namespace {

ServerSetup quiet_utc() { return {.args = {"--utc", "--presence", "off"}}; }

WebSocketSetup browser(const std::string& label, const TestServer& server) {
  return {.label = label, .origin = "http://127.0.0.1:" + std::to_string(server.port())};
}

// The server still serves: a page over HTTP, and a WebSocket that registers
// and is answered.
void expect_still_serving(const TestServer& server) {
  HttpClient http(server, "after");
  http.get("/healthz");
  CHECK(http.read_response().body == "ok\n");
  WebSocketClient ws(server, browser("after ws", server));
  ws.send_line("server:ping");
  ws.expect("server:pong");
}

// A close frame without a code. wslay fails a frame its frame layer
// refuses (a control frame over 125 bytes or fragmented, a length with
// the top bit set) with a close frame that has no code, where RFC 6455
// §7.1.7 says it SHOULD send 1002: accepted here, but only for those.
constexpr std::uint16_t kNoCode = 1005;

// `frames` sent by a registered browser must get a close frame with
// `code` (or `or_code`), and the end of the connection, before any line.
void expect_refused_with(const TestServer& server, std::string_view frames, std::uint16_t code,
                         std::uint16_t or_code = 0) {
  WebSocketClient client(server, browser("hostile", server));
  client.register_as("hostile");
  client.try_send_raw(frames);
  const std::uint16_t got = client.expect_close();
  CAPTURE(got);
  CHECK((got == code || (or_code != 0 && got == or_code)));
  CHECK_FALSE(client.try_read_line(Duration{0}));
}

// A handshake with `origin` (empty: none): the status of the answer, 101
// or the refusal.
int origin_status(const TestServer& server, const std::string& origin) {
  WebSocketSetup setup = browser("origin " + origin, server);
  setup.origin = origin;
  HttpClient client(server, setup.label);
  client.send(ws_handshake_request(setup, client.endpoint(), "dGhlIHNhbXBsZSBub25jZQ=="));
  const HttpResponse response = client.read_response();
  if (response.status != 101) {
    INFO(response.head << response.body);
    CHECK(response.has_token("connection", "close"));
    CHECK(client.wait_closed());
  }
  return response.status;
}

constexpr Duration kTrickleGap{250};

}  // namespace

// ----------------------------------------------------------------- HTTP

TEST_CASE("web hostile: slowloris requests are closed by --register-timeout, others served meanwhile",
          "[web]") {
  TestServer server({.args = {"--register-timeout", "2"}});
  const Stopwatch watch;
  HttpClient headers(server, "slowloris headers");
  headers.send("GET / HTTP/1.1\r\nHost: x\r\n");
  HttpClient request_line(server, "slowloris request line");
  const std::string line = "GET /a-very-slow-request-line HTTP/1.1";
  std::size_t next_byte = 0;
  int served = 0;
  int header = 0;
  // One header line (or byte of the request line) every kTrickleGap,
  // never the blank line, until the server closes; meanwhile another
  // client is served each time.
  while (!(headers.closed() && request_line.closed())) {
    REQUIRE(watch.elapsed() < Duration{6000});
    if (!headers.closed()) headers.try_send("X-Trickle-" + std::to_string(++header) + ": still here\r\n");
    if (!request_line.closed() && next_byte < line.size()) request_line.try_send(line.substr(next_byte++, 1));
    HttpClient other(server, "other");
    other.get("/healthz");
    REQUIRE(other.read_response().status == 200);
    ++served;
    headers.wait_closed(kTrickleGap);
    request_line.wait_closed(Duration{0});
  }
  const Duration took = watch.elapsed();
  INFO("closed after " << took.count() << " ms, " << served << " other requests served meanwhile");
  CHECK(took >= Duration{1500});
  CHECK(took < Duration{5000});
  CHECK(served >= 4);
  // The web door answers nothing to a request that never ended, whether
  // its headers or its request line are the slow part: `GET ` opens the
  // web door before its line ends (Server::sniff_web).
  CHECK(headers.unread().empty());
  CHECK(request_line.unread().empty());
  RegisteredClient native(server, "native");
  native.expect_quiet();
}

TEST_CASE("web hostile: a 1 MB header line gets 431 after the blank line, others served meanwhile", "[web]") {
  TestServer server;
  HttpClient big(server, "1 MB header");
  big.send("GET / HTTP/1.1\r\nHost: x\r\nX-Huge: ");
  const std::string chunk(64 * 1024, 'h');
  for (int i = 0; i < 16; ++i) {
    big.send(chunk);
    if (i == 8) {
      HttpClient other(server, "other");
      other.get("/");
      CHECK(other.read_response().status == 200);
      RegisteredClient native(server, "native");
      native.expect_quiet();
    }
  }
  // Nothing is answered before the request ends.
  big.send("\r\nX-After: the big one\r\n");
  CHECK_FALSE(big.try_read_response(Duration{200}));
  big.send("\r\n");
  const HttpResponse response = big.read_response();
  CHECK(response.status == 431);
  CHECK(response.has_token("connection", "close"));
  CHECK(big.wait_closed());
  expect_still_serving(server);
}

// ------------------------------------------------------------- WebSocket

TEST_CASE("web hostile: a message of --max-line bytes passes, one byte more is closed with 1009", "[web]") {
  TestServer server(quiet_utc());
  RegisteredClient carol(server, "carol");
  WebSocketClient alice(server, browser("alice", server));
  alice.register_as("alice");
  const std::string prefix = "carol: ";
  const std::string most(4096 - prefix.size(), 'x');
  alice.send_frame(WsOpcode::kText, prefix + most);
  carol.expect_chat("alice: " + most);
  alice.expect_quiet();

  // The server may close before it has read all of them: sent with
  // try_send_raw, and what counts is the close that comes back.
  std::string frames;
  SECTION("in one frame") { frames = ws_frame(WsOpcode::kText, prefix + most + "y"); }
  SECTION("in fragments, each small") {
    frames = ws_frame(WsOpcode::kText, prefix, /*fin=*/false);
    for (int i = 0; i < 4; ++i)
      frames += ws_frame(WsOpcode::kContinuation, std::string(1024, 'f'), /*fin=*/false);
    frames += ws_frame(WsOpcode::kContinuation, "end");
  }
  alice.try_send_raw(frames);
  CHECK(alice.expect_close() == 1009);
  carol.expect_quiet();
  expect_still_serving(server);
}

TEST_CASE("web hostile: frames that break RFC 6455 are closed with the right code", "[web]") {
  TestServer server;
  SECTION("unmasked: 1002") {
    expect_refused_with(server, ws_frame(WsOpcode::kText, "server:ping", true, /*mask=*/false), 1002);
  }
  SECTION("binary: 1003") { expect_refused_with(server, ws_frame(WsOpcode::kBinary, "server:ping"), 1003); }
  SECTION("text that is not UTF-8: 1007") {
    expect_refused_with(server, ws_frame(WsOpcode::kText, "server:ping \xff\xfe"), 1007);
  }
  SECTION("a reserved bit: 1002") {
    std::string frame = ws_frame(WsOpcode::kText, "server:ping");
    frame[0] = static_cast<char>(frame[0] | 0x40);
    expect_refused_with(server, frame, 1002);
  }
  SECTION("a reserved opcode: 1002") {
    std::string frame = ws_frame(WsOpcode::kText, "server:ping");
    frame[0] = static_cast<char>(0x80 | 0x3);
    expect_refused_with(server, frame, 1002);
  }
  SECTION("a ping over 125 bytes: 1002") {
    expect_refused_with(server, ws_frame(WsOpcode::kPing, std::string(126, 'p')), 1002, kNoCode);
  }
  SECTION("a continuation with no message: 1002") {
    expect_refused_with(server, ws_frame(WsOpcode::kContinuation, "server:ping"), 1002);
  }
  SECTION("a fragmented ping: 1002") {
    expect_refused_with(server, ws_frame(WsOpcode::kPing, "ping", /*fin=*/false), 1002, kNoCode);
  }
  SECTION("garbage after the handshake: 1002") {
    // 'h' is 0x68: a close frame, not FIN, with two reserved bits.
    expect_refused_with(server, "hello, is this thing on?\r\n\r\n", 1002, kNoCode);
  }
  SECTION("garbage that is a well-formed frame header: 1002") {
    // 0x81 0x05: a text frame of 5 bytes, unmasked.
    expect_refused_with(server, "\x81\x05hello", 1002);
  }
  expect_still_serving(server);
}

TEST_CASE("web hostile: a frame that claims 2^63 or 2^63-1 bytes ends the connection", "[web]") {
  TestServer server;
  std::uint64_t length = 0;
  SECTION("2^63 (the top bit, which RFC 6455 forbids)") { length = std::uint64_t{1} << 63; }
  SECTION("2^63 - 1") { length = (std::uint64_t{1} << 63) - 1; }
  SECTION("4 GiB") { length = std::uint64_t{1} << 32; }
  WebSocketClient client(server, browser("liar", server));
  client.register_as("liar");
  client.try_send_raw(ws_frame_header(WsOpcode::kText, length) + std::string(1000, 'z'));
  CHECK(client.wait_end());
  REQUIRE(client.close_frame());
  const std::uint16_t code = client.close_frame()->close_code();
  CAPTURE(code);
  if (length >> 63 != 0) {
    CHECK((code == 1002 || code == kNoCode));
  } else {
    CHECK(code == 1009);
  }
  expect_still_serving(server);
}

TEST_CASE("web hostile: a client gone in the middle of a frame leaves the server serving", "[web]") {
  TestServer server({.args = {"--utc"}});
  RegisteredClient carol(server, "carol");
  {
    WebSocketClient client(server, browser("half", server));
    client.register_as("half");
    carol.expect("server:online half");
    client.send_raw(ws_frame_header(WsOpcode::kText, 100) + "carol: only ten");
    client.close_socket(/*reset=*/true);
  }
  carol.expect("server:offline half");
  carol.expect_quiet();
  expect_still_serving(server);
}

TEST_CASE("web hostile: a WebSocket that never registers is closed by --register-timeout", "[web]") {
  TestServer server({.args = {"--register-timeout", "2"}});
  const Stopwatch watch;
  WebSocketClient client(server, browser("idle", server));
  client.send_ping("still here");
  CHECK(client.expect_pong() == "still here");
  CHECK(client.wait_end(Duration{5000}));
  INFO("frames seen:" << [&] {
    std::string all;
    for (const std::string& frame : client.frames_seen()) all += "\n  " + frame;
    return all;
  }());
  CHECK(watch.elapsed() >= Duration{1500});
  CHECK(watch.elapsed() < Duration{5000});
  expect_still_serving(server);
}

// ---------------------------------------------------------------- origins

TEST_CASE("web hostile: a page from another origin may not open the WebSocket", "[web]") {
  TestServer server;
  const std::string port = std::to_string(server.port());
  CHECK(origin_status(server, "http://127.0.0.1:" + port) == 101);
  CHECK(origin_status(server, "https://127.0.0.1:" + port) == 101);
  CHECK(origin_status(server, "") == 101);  // not a browser
  CHECK(origin_status(server, "http://evil.example") == 403);
  CHECK(origin_status(server, "http://127.0.0.1:" + std::to_string(server.port() + 1)) == 403);
  CHECK(origin_status(server, "http://127.0.0.1") == 403);
  CHECK(origin_status(server, "null") == 403);
  CHECK(origin_status(server, "ftp://127.0.0.1:" + port) == 403);
  CHECK(origin_status(server, "http://127.0.0.1:" + port + ".evil.example") == 403);
  // The page itself is served whatever the Origin.
  HttpClient page(server);
  page.get("/", "Origin: http://evil.example\r\n");
  CHECK(page.read_response().status == 200);
}

TEST_CASE("web hostile: the 403 for a bad Origin is text in HTTP's words", "[web]") {
  TestServer server;
  WebSocketSetup setup = browser("evil", server);
  setup.origin = "https://evil.example";
  HttpClient client(server, "evil");
  client.send(ws_handshake_request(setup, client.endpoint(), "dGhlIHNhbXBsZSBub25jZQ=="));
  const HttpResponse response = client.read_response();
  CHECK(response.status == 403);
  CHECK(response.reason == "Forbidden");
  CHECK(response.header("content-type") == "text/plain; charset=utf-8");
  CHECK_FALSE(response.header("sec-websocket-accept"));
  CHECK(response.header("x-content-type-options") == "nosniff");
  CHECK(client.wait_closed());
}

TEST_CASE("web hostile: --web-origins lets the origins it names in, and no others", "[web]") {
  TestServer server({.args = {"--web-origins", "https://chat.example.org,http://pi.local:8080"}});
  CHECK(origin_status(server, "https://chat.example.org") == 101);
  CHECK(origin_status(server, "http://pi.local:8080") == 101);
  CHECK(origin_status(server, "http://chat.example.org") == 403);
  CHECK(origin_status(server, "https://other.example.org") == 403);
  CHECK(origin_status(server, "https://chat.example.org.evil.example") == 403);
  CHECK(origin_status(server, "http://127.0.0.1:" + std::to_string(server.port())) == 101);
  WebSocketSetup setup = browser("allowed", server);
  setup.origin = "https://chat.example.org";
  WebSocketClient allowed(server, setup);
  allowed.register_as("allowed");
}
