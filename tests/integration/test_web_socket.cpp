// Issue 19, the web door's WebSocket (docs/WEB.md): the handshake and its
// subprotocols, and the chat through it. Browsers (WebSocketClient), an
// `nc`-style native client and an IRC client over a WebSocket share one
// hub: DMs and room lines in every direction, each in the reader's door's
// words; the offline queue replayed at the next registration; pings;
// server:exit and SIGTERM ending the socket with the right close codes.
#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "harness.hpp"
#include "harness_doors.hpp"
#include "harness_web.hpp"

using namespace uvchat::test;

namespace {

// Presence off where it would only be noise between the lines that matter.
ServerSetup quiet_utc() { return {.args = {"--utc", "--presence", "off"}}; }

WebSocketSetup browser(const std::string& label, const TestServer& server) {
  return {.label = label, .origin = "http://127.0.0.1:" + std::to_string(server.port())};
}

// A WebSocket registered as `name`.
struct WebUser : WebSocketClient {
  WebUser(const TestServer& server, const std::string& name)
      : WebSocketClient(server, browser(name, server)) {
    register_as(name);
  }
};

// What the server answers to a handshake it refuses, on a connection it
// then closes.
HttpResponse refused_handshake(const TestServer& server, const WebSocketSetup& setup,
                               const std::string& key = "dGhlIHNhbXBsZSBub25jZQ==") {
  HttpClient client(server, setup.label);
  client.send(ws_handshake_request(setup, client.endpoint(), key));
  HttpResponse response = client.read_response();
  INFO(response.head << response.body);
  CHECK(response.has_token("connection", "close"));
  CHECK(client.wait_closed());
  return response;
}

IrcLine wait_for_irc(LinePeer& peer, std::string_view command) {
  const std::string line = wait_for_line(
      peer,
      [&](std::string_view text) {
        const std::optional<IrcLine> parsed = IrcLine::parse(text);
        return parsed && parsed->command == command;
      },
      command);
  return *IrcLine::parse(line);
}

}  // namespace

// -------------------------------------------------------------- handshake

TEST_CASE("web socket: the handshake answers RFC 6455's example key with its example accept", "[web]") {
  TestServer server;
  WebSocketSetup setup = browser("ws", server);
  setup.key = "dGhlIHNhbXBsZSBub25jZQ==";
  WebSocketClient client(server, setup);
  CHECK(client.handshake().header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(client.handshake().header("sec-websocket-protocol") == "uvchat");
  client.register_as("alice");
}

TEST_CASE("web socket: the subprotocol is chosen from the client's offer", "[web]") {
  TestServer server;
  SECTION("none offered: the native protocol, and no header in the answer") {
    WebSocketSetup setup = browser("plain", server);
    setup.protocols.clear();
    WebSocketClient client(server, setup);
    CHECK_FALSE(client.handshake().header("sec-websocket-protocol"));
    client.register_as("alice");
  }
  SECTION("uvchat among others") {
    WebSocketSetup setup = browser("several", server);
    setup.protocols = "chat, superchat, uvchat";
    WebSocketClient client(server, setup);
    CHECK(client.handshake().header("sec-websocket-protocol") == "uvchat");
    client.register_as("alice");
  }
  SECTION("text.ircv3.net") {
    WebSocketSetup setup = browser("irc", server);
    setup.protocols = "text.ircv3.net";
    WebSocketClient client(server, setup);
    CHECK(client.handshake().header("sec-websocket-protocol") == "text.ircv3.net");
    client.send_line("PING :probe");
    const IrcLine pong = wait_for_irc(client, "PONG");
    CHECK(pong.params.back() == "probe");
  }
  SECTION("none known: 400") {
    WebSocketSetup setup = browser("unknown", server);
    setup.protocols = "chat, mqtt";
    const HttpResponse response = refused_handshake(server, setup);
    CHECK(response.status == 400);
    CHECK_FALSE(response.header("sec-websocket-accept"));
  }
}

TEST_CASE("web socket: without the IRC door, text.ircv3.net is refused", "[web]") {
  TestServer server({.args = {"--doors", "native,web"}});
  WebSocketSetup setup = browser("irc", server);
  setup.protocols = "text.ircv3.net";
  CHECK(refused_handshake(server, setup).status == 400);
  setup.protocols = "text.ircv3.net, uvchat";
  WebSocketClient client(server, setup);
  CHECK(client.handshake().header("sec-websocket-protocol") == "uvchat");
  client.register_as("alice");
}

TEST_CASE("web socket: a handshake with a bad version or key is refused", "[web]") {
  TestServer server;
  const std::string authority = "127.0.0.1:" + std::to_string(server.port());
  const std::string start =
      "GET /ws HTTP/1.1\r\nHost: " + authority + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  SECTION("version 8: 426, saying 13") {
    HttpClient client(server);
    client.send(start + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    const HttpResponse response = client.read_response();
    CHECK(response.status == 426);
    CHECK(response.header("sec-websocket-version") == "13");
    CHECK(client.wait_closed());
  }
  SECTION("a key that is not 16 bytes of base64: 400") {
    HttpClient client(server);
    client.send(start + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
    CHECK(client.read_response().status == 400);
    CHECK(client.wait_closed());
  }
  SECTION("no key: 400") {
    HttpClient client(server);
    client.send(start + "Sec-WebSocket-Version: 13\r\n\r\n");
    CHECK(client.read_response().status == 400);
    CHECK(client.wait_closed());
  }
  SECTION("HEAD: 405") {
    HttpClient client(server);
    client.send("HEAD" + start.substr(3) +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    CHECK(client.read_response(kLineTimeout, /*head_request=*/true).status == 405);
    CHECK(client.wait_closed());
  }
}

TEST_CASE("web socket: frames in the same write as the handshake are read after it", "[web]") {
  TestServer server;
  WebSocketSetup setup = browser("eager", server);
  setup.after_handshake = ws_frame(WsOpcode::kText, "server:register eager");
  WebSocketClient client(server, setup);
  client.expect("server:welcome eager");
  client.expect("server:queued-messages 0");
}

// ------------------------------------------------------------------ chat

TEST_CASE("web socket: two browsers and a native user exchange DMs in all six directions", "[web]") {
  TestServer server(quiet_utc());
  WebUser alice(server, "alice");
  WebUser bob(server, "bob");
  RegisteredClient carol(server, "carol");

  alice.send_line("bob: hi bob, alice here");
  bob.expect_chat("alice: hi bob, alice here");
  alice.send_line("carol: hi carol, alice here");
  carol.expect_chat("alice: hi carol, alice here");
  bob.send_line("alice: hi alice, bob here");
  alice.expect_chat("bob: hi alice, bob here");
  bob.send_line("carol: hi carol, bob here <script>alert(1)</script>");
  carol.expect_chat("bob: hi carol, bob here <script>alert(1)</script>");
  carol.send_line("alice: hi alice, carol here é✓");
  alice.expect_chat("carol: hi alice, carol here é✓");
  carol.send_line("bob: hi bob, carol here");
  bob.expect_chat("carol: hi bob, carol here");

  // Nobody got a copy of their own, or anything else.
  alice.expect_quiet();
  bob.expect_quiet();
  carol.expect_quiet();
}

TEST_CASE("web socket: two browsers and a native user share a room and everyone", "[web]") {
  TestServer server(quiet_utc());
  WebUser alice(server, "alice");
  WebUser bob(server, "bob");
  RegisteredClient carol(server, "carol");

  join_room(alice, "alice", "#team", "alice");
  join_room(bob, "bob", "#team", "alice bob");
  alice.expect("server:joined #team bob");
  join_room(carol, "carol", "#team", "alice bob carol");
  alice.expect("server:joined #team carol");
  bob.expect("server:joined #team carol");

  alice.send_line("#team: from alice");
  bob.expect_chat("#team alice: from alice");
  carol.expect_chat("#team alice: from alice");
  bob.send_line("#team: from bob");
  alice.expect_chat("#team bob: from bob");
  carol.expect_chat("#team bob: from bob");
  carol.send_line("#team: from carol");
  alice.expect_chat("#team carol: from carol");
  bob.expect_chat("#team carol: from carol");

  bob.send_line("*: to everyone from bob");
  alice.expect_chat("* bob: to everyone from bob");
  carol.expect_chat("* bob: to everyone from bob");

  bob.send_line("server:leave #team");
  bob.expect("server:left #team bob");
  alice.expect("server:left #team bob");
  carol.expect("server:left #team bob");
  carol.send_line("#team: bob is gone");
  alice.expect_chat("#team carol: bob is gone");

  alice.expect_quiet();
  bob.expect_quiet();
  carol.expect_quiet();
}

TEST_CASE("web socket: presence of a browser user, in and out, as a native user sees it", "[web]") {
  TestServer server({.args = {"--utc"}});
  RegisteredClient carol(server, "carol");
  {
    WebUser alice(server, "alice");
    carol.expect("server:online alice");
    alice.send_line("server:who");
    alice.expect("server:users alice carol");
    // The browser goes away with a close frame of its own: answered, and
    // the connection closed.
    alice.send_close(1000, "tab closed");
    CHECK(alice.expect_close() == 1000);
  }
  carol.expect("server:offline alice");
  carol.expect_quiet();
}

TEST_CASE("web socket: a fragmented message is one line; a message with a LF is two", "[web]") {
  TestServer server(quiet_utc());
  WebUser alice(server, "alice");
  RegisteredClient carol(server, "carol");

  alice.send_frame(WsOpcode::kText, "carol: hel", /*fin=*/false);
  // A ping may come between the fragments (RFC 6455 §5.4).
  alice.send_ping("between");
  alice.send_frame(WsOpcode::kContinuation, "lo ", /*fin=*/false);
  alice.send_frame(WsOpcode::kContinuation, "world");
  CHECK(alice.expect_pong() == "between");
  carol.expect_chat("alice: hello world");

  alice.send_frame(WsOpcode::kText, "carol: one\ncarol: two");
  carol.expect_chat("alice: one");
  carol.expect_chat("alice: two");
  carol.expect_quiet();
  alice.expect_quiet();
}

TEST_CASE("web socket: an IRC client over text.ircv3.net talks with a native user", "[web]") {
  TestServer server(quiet_utc());
  RegisteredClient alice(server, "alice");
  WebSocketSetup setup = browser("web irc", server);
  setup.protocols = "text.ircv3.net";
  WebSocketClient dave(server, setup);
  dave.send_line("NICK dave");
  dave.send_line("USER dave 0 * :Dave on the web");
  const IrcLine welcome = wait_for_irc(dave, "001");
  CHECK(welcome.param(0) == "dave");
  wait_for_line(
      dave,
      [](std::string_view text) {
        const std::optional<IrcLine> line = IrcLine::parse(text);
        return line && (line->command == "376" || line->command == "422");
      },
      "the end of the burst (376 or 422)");

  alice.send_line("dave: hello from nc");
  const IrcLine dm = wait_for_irc(dave, "PRIVMSG");
  CHECK(dm.prefix == "alice!alice@uvchat");
  CHECK(dm.param(0) == "dave");
  CHECK(dm.params.back() == "hello from nc");

  dave.send_line("PRIVMSG alice :hello from the web");
  alice.expect_chat("dave: hello from the web");

  join_room(alice, "alice", "#team", "alice");
  dave.send_line("JOIN #team");
  wait_for_irc(dave, "366");  // the end of NAMES
  alice.expect("server:joined #team dave");
  alice.send_line("#team: hi room");
  const IrcLine room = wait_for_irc(dave, "PRIVMSG");
  CHECK(room.param(0) == "#team");
  CHECK(room.params.back() == "hi room");
  dave.send_line("PRIVMSG #team :hi back");
  alice.expect_chat("#team dave: hi back");

  dave.send_line("QUIT :bye");
  wait_for_irc(dave, "ERROR");
  CHECK(dave.wait_end());
  alice.expect("server:left #team dave");
}

TEST_CASE("web socket: a DM to an offline browser user is replayed at its next registration", "[web]") {
  TestServer server({.args = {"--utc"}});
  RegisteredClient alice(server, "alice");
  {
    WebUser bob(server, "bob");
    alice.expect("server:online bob");
    bob.send_line("server:exit");
    bob.expect("server:bye");
    CHECK(bob.expect_close() == 1000);
  }
  alice.expect("server:offline bob");
  alice.send_line("bob: while you were away");
  alice.expect("server:queued bob");
  alice.send_line("bob: and another");
  alice.expect("server:queued bob");

  WebSocketClient bob(server, browser("bob again", server));
  bob.register_as("bob", 2);
  bob.expect_replayed("alice: while you were away");
  bob.expect_replayed("alice: and another");
  bob.expect_quiet();
  // Live again.
  alice.expect("server:online bob");
  alice.send_line("bob: welcome back");
  bob.expect_chat("alice: welcome back");
}

// --------------------------------------------------------- control frames

TEST_CASE("web socket: a ping gets a pong with its payload, registered or not", "[web]") {
  TestServer server;
  WebSocketClient client(server, browser("pinger", server));
  client.send_ping("before registering");
  CHECK(client.expect_pong() == "before registering");
  client.register_as("pinger");
  client.send_ping("");
  CHECK(client.expect_pong().empty());
  client.send_ping(std::string(125, 'p'));
  CHECK(client.expect_pong() == std::string(125, 'p'));
  // Pongs and lines keep to their lanes.
  client.send_ping("one");
  client.send_line("server:ping");
  client.send_ping("two");
  CHECK(client.expect_pong() == "one");
  CHECK(client.expect_pong() == "two");
  client.expect("server:pong");
  // An unasked pong is taken and ignored.
  client.send_frame(WsOpcode::kPong, "unasked");
  client.expect_quiet();
}

TEST_CASE("web socket: server:exit is server:bye, then close 1000, then the end", "[web]") {
  TestServer server;
  WebSocketClient client(server, browser("leaver", server));
  client.register_as("leaver");
  client.send_line("server:exit");
  client.expect("server:bye");
  CHECK(client.expect_close() == 1000);
  // Unregistered too.
  WebSocketClient visitor(server, browser("visitor", server));
  visitor.send_line("server:exit");
  visitor.expect("server:bye");
  CHECK(visitor.expect_close() == 1000);
}

TEST_CASE("web socket: SIGTERM is server:shutdown, then close 1001; HTTP connections just close", "[web]") {
  TestServer server;
  WebUser alice(server, "alice");
  WebSocketClient stranger(server, browser("stranger", server));
  stranger.expect_quiet();
  RegisteredClient carol(server, "carol");
  alice.expect("server:online carol");
  HttpClient idle(server, "idle http");
  idle.get("/healthz");
  REQUIRE(idle.read_response().status == 200);

  server.stop(SIGTERM);
  for (WebSocketClient* client : std::initializer_list<WebSocketClient*>{&alice, &stranger}) {
    client->expect("server:shutdown");
    CHECK(client->expect_close() == 1001);
    CHECK(client->close_frame()->close_reason().size() <= 123);
  }
  carol.expect("server:shutdown");
  carol.expect_closed();
  CHECK(idle.wait_closed());
  CHECK(server.wait_exit().describe() == "exited with 0");
}
