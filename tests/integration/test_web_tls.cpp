// Issue 19 with the TLS issue: the web door behind TLS on the same port is
// https:// for the page and wss:// for the WebSocket (docs/WEB.md).
#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"
#include "harness_tls.hpp"
#include "harness_web.hpp"

using namespace uvchat::test;

namespace {

WebEndpoint over_tls(const TlsServer& tls) { return WebEndpoint::tls_of(tls.server, tls.files.certificate); }

}  // namespace

TEST_CASE("web over TLS: https GET of the page, an asset and /healthz on one connection", "[web]") {
  TlsServer tls({.args = {"--utc"}});
  HttpClient client(over_tls(tls), "https");
  client.get("/");
  const HttpResponse page = client.read_response();
  CHECK(page.status == 200);
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  check_web_asset(page, "index.html");
  CHECK(page.header("x-content-type-options") == "nosniff");
  REQUIRE(page.header("content-security-policy"));
  client.get("/js/protocol.js");
  const HttpResponse script = client.read_response();
  CHECK(script.status == 200);
  check_web_asset(script, "js/protocol.js");
  client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(client.read_response().body == "ok\n");
  CHECK(client.wait_closed());
}

TEST_CASE("web over TLS: curl https:// verifies the certificate and gets the page", "[web]") {
  TlsServer tls;
  const std::optional<CurlResult> curl =
      run_curl({"-i", "--cacert", tls.files.certificate,
                "https://127.0.0.1:" + std::to_string(tls.server.port()) + "/healthz"});
  if (!curl) return;
  INFO("curl: " << curl->run.err);
  REQUIRE(curl->run.status.describe() == "exited with 0");
  REQUIRE(curl->responses.size() == 1);
  CHECK(curl->responses[0].status == 200);
  CHECK(curl->responses[0].body == "ok\n");
}

TEST_CASE("web over TLS: a wss browser, a plain browser and a native user exchange DMs", "[web]") {
  TlsServer tls({.args = {"--utc", "--presence", "off"}});
  const std::string port = std::to_string(tls.server.port());
  WebSocketClient alice(over_tls(tls), {.label = "alice (wss)", .origin = "https://127.0.0.1:" + port});
  alice.register_as("alice");
  WebSocketClient bob(tls.server, {.label = "bob (ws)", .origin = "http://127.0.0.1:" + port});
  bob.register_as("bob");
  RegisteredClient carol(tls.server, "carol");

  alice.send_line("bob: over wss");
  bob.expect_chat("alice: over wss");
  bob.send_line("alice: over ws");
  alice.expect_chat("bob: over ws");
  carol.send_line("alice: from nc");
  alice.expect_chat("carol: from nc");
  alice.send_line("carol: to nc");
  carol.expect_chat("alice: to nc");

  alice.send_ping("tls ping");
  CHECK(alice.expect_pong() == "tls ping");
  alice.send_line("server:exit");
  alice.expect("server:bye");
  CHECK(alice.expect_close() == 1000);
  bob.expect_quiet();
  carol.expect_quiet();
}

TEST_CASE("web over TLS: a bad frame over wss is closed with its code, and TLS goes on", "[web]") {
  TlsServer tls;
  WebSocketClient client(over_tls(tls), {.label = "wss unmasked"});
  client.register_as("unmasked");
  client.try_send_raw(ws_frame(WsOpcode::kText, "server:ping", true, /*mask=*/false));
  CHECK(client.expect_close() == 1002);
  WebSocketClient next(over_tls(tls), {.label = "wss next"});
  next.register_as("next");
}
