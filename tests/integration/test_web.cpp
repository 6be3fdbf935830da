// Issue 19, the web door's HTTP (docs/WEB.md): the page and its files from
// memory, /healthz, the errors, keep-alive, HEAD and conditional requests,
// as `curl -i` and a raw socket see them; and the web door closed by
// --doors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"
#include "harness_web.hpp"

using namespace uvchat::test;

namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// What every answer of the web door carries (docs/WEB.md): a CSP that runs
// no inline script and loads nothing from elsewhere, nosniff, no referrer,
// no framing; one Connection header.
void check_common_headers(const HttpResponse& response) {
  INFO("the response:\n" << response.head);
  CHECK(response.version == "HTTP/1.1");
  const std::optional<std::string> csp = response.header("content-security-policy");
  REQUIRE(csp);
  CHECK(contains(*csp, "default-src 'self'"));
  CHECK(contains(*csp, "script-src 'self'"));
  CHECK(contains(*csp, "frame-ancestors 'none'"));
  CHECK_FALSE(contains(*csp, "unsafe-inline"));
  CHECK_FALSE(contains(*csp, "unsafe-eval"));
  CHECK(response.header("x-content-type-options") == "nosniff");
  CHECK(response.header("referrer-policy") == "no-referrer");
  CHECK(response.header("x-frame-options") == "DENY");
  CHECK(response.count("content-security-policy") == 1);
  // Keep-alive or close, and never both.
  CHECK(response.has_token("connection", "close") != response.has_token("connection", "keep-alive"));
}

// An error in HTTP's words: the status, text/plain, a body that says it,
// and (`closes`) Connection: close.
void check_error(const HttpResponse& response, int status, bool closes = true) {
  INFO("the response:\n" << response.head << response.body);
  CHECK(response.status == status);
  CHECK(response.header("content-type") == "text/plain; charset=utf-8");
  CHECK(response.body.starts_with(std::to_string(status) + " " + response.reason + ": "));
  CHECK(response.body.ends_with("\n"));
  CHECK(response.header("cache-control") == "no-store");
  if (closes) CHECK(response.has_token("connection", "close"));
  check_common_headers(response);
}

// The response to `request`, on a connection of its own that the server
// must then close.
HttpResponse answer_then_close(const TestServer& server, const std::string& request) {
  HttpClient client(server);
  client.send(request);
  HttpResponse response = client.read_response();
  INFO("after " << response.status << ", received: '" << client.unread() << "'");
  CHECK(client.wait_closed());
  return response;
}

std::string base_url(const TestServer& server) { return "http://127.0.0.1:" + std::to_string(server.port()); }

}  // namespace

// ------------------------------------------------------------------- curl

TEST_CASE("web: curl -i gets the page, an asset, /healthz and a 404 with the right headers", "[web]") {
  TestServer server;
  const std::string url = base_url(server);
  const std::optional<CurlResult> curl =
      run_curl({"-i", url + "/", url + "/app.js", url + "/healthz", url + "/no-such-page"});
  if (!curl) return;
  INFO("curl: " << curl->run.err);
  REQUIRE(curl->run.status.describe() == "exited with 0");
  REQUIRE(curl->responses.size() == 4);
  for (const HttpResponse& response : curl->responses) check_common_headers(response);

  const HttpResponse& page = curl->responses[0];
  CHECK(page.status == 200);
  CHECK(page.reason == "OK");
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  CHECK(page.header("content-length") == std::to_string(page.body.size()));
  check_web_asset(page, "index.html");
  CHECK(page.header("cache-control") == "no-cache");
  REQUIRE(page.header("etag"));
  CHECK(page.header("etag")->size() > 2);
  CHECK(page.header("etag")->starts_with("\""));
  CHECK(page.header("etag")->ends_with("\""));
  // curl reuses the connection for the four URLs.
  CHECK(page.header("connection") == "keep-alive");

  const HttpResponse& script = curl->responses[1];
  CHECK(script.status == 200);
  CHECK(script.header("content-type") == "text/javascript; charset=utf-8");
  check_web_asset(script, "app.js");
  CHECK(script.header("content-length") == std::to_string(script.body.size()));
  REQUIRE(script.header("etag"));
  CHECK(script.header("etag") != page.header("etag"));

  const HttpResponse& health = curl->responses[2];
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(health.header("content-length") == "3");
  CHECK(health.header("content-type") == "text/plain; charset=utf-8");
  CHECK(health.header("cache-control") == "no-store");
  CHECK_FALSE(health.header("etag"));

  const HttpResponse& missing = curl->responses[3];
  CHECK(missing.reason == "Not Found");
  check_error(missing, 404, /*closes=*/false);
}

TEST_CASE("web: curl -i with a 100 KB header gets 431 and Connection: close", "[web]") {
  TestServer server;
  const std::optional<CurlResult> curl =
      run_curl({"-i", "-H", "X-Big: " + std::string(100 * 1024, 'b'), base_url(server) + "/"});
  if (!curl) return;
  INFO("curl: " << curl->run.err);
  REQUIRE(curl->run.status.describe() == "exited with 0");
  REQUIRE(curl->responses.size() == 1);
  const HttpResponse& response = curl->responses[0];
  CHECK(response.reason == "Request Header Fields Too Large");
  CHECK(response.header("content-length") == std::to_string(response.body.size()));
  check_error(response, 431);
  // And the server serves the next one.
  HttpClient next(server);
  next.get("/healthz");
  CHECK(next.read_response().status == 200);
}

TEST_CASE("web: curl -I (HEAD) gets the headers of GET and no body", "[web]") {
  TestServer server;
  const std::optional<CurlResult> curl =
      run_curl({"-I", base_url(server) + "/style.css"}, /*head_requests=*/true);
  if (!curl) return;
  REQUIRE(curl->run.status.describe() == "exited with 0");
  REQUIRE(curl->responses.size() == 1);
  const HttpResponse& response = curl->responses[0];
  CHECK(response.status == 200);
  CHECK(response.header("content-type") == "text/css; charset=utf-8");
  CHECK(response.body.empty());
  HttpClient get(server);
  get.get("/style.css");
  const HttpResponse full = get.read_response();
  check_web_asset(full, "style.css");
  CHECK(response.header("content-length") == full.header("content-length"));
  CHECK(response.header("etag") == full.header("etag"));
  check_common_headers(response);
}

// ------------------------------------------------------------- raw socket

TEST_CASE("web: HEAD has GET's headers and no body, and the connection goes on", "[web]") {
  TestServer server;
  HttpClient client(server);
  client.send("HEAD / HTTP/1.1\r\nHost: " + client.endpoint().authority() + "\r\n\r\n");
  const HttpResponse head = client.read_response(kLineTimeout, /*head_request=*/true);
  client.get("/");
  const HttpResponse get = client.read_response();
  // A body after the HEAD's headers would have been read as this response.
  REQUIRE(get.status == 200);
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.header("content-length") == std::to_string(get.body.size()));
  CHECK(head.header("content-type") == get.header("content-type"));
  CHECK(head.header("etag") == get.header("etag"));
  CHECK(head.header("connection") == "keep-alive");
  check_web_asset(get, "index.html");
  check_common_headers(head);
  CHECK(client.unread().empty());
}

TEST_CASE("web: If-None-Match with the ETag gets 304 and no body; another tag gets 200", "[web]") {
  TestServer server;
  HttpClient client(server);
  client.get("/app.js");
  const HttpResponse first = client.read_response();
  REQUIRE(first.status == 200);
  const std::string etag = first.header("etag").value_or("");
  REQUIRE(!etag.empty());

  client.get("/app.js", "If-None-Match: " + etag + "\r\n");
  const HttpResponse cached = client.read_response();
  CHECK(cached.status == 304);
  CHECK(cached.reason == "Not Modified");
  CHECK(cached.body.empty());
  CHECK(cached.header("etag") == etag);
  CHECK(cached.header("cache-control") == "no-cache");
  CHECK(cached.header("connection") == "keep-alive");
  check_common_headers(cached);

  // A list with the tag in it matches too (RFC 9110 §13.1.2).
  client.get("/app.js", "If-None-Match: \"other\", " + etag + "\r\n");
  CHECK(client.read_response().status == 304);

  client.get("/app.js", "If-None-Match: \"not-the-tag\"\r\n");
  const HttpResponse stale = client.read_response();
  CHECK(stale.status == 200);
  CHECK(stale.body == first.body);
  // Nothing was sent after the 304s' headers.
  CHECK(client.unread().empty());
}

TEST_CASE("web: keep-alive, one request after another and two in one write", "[web]") {
  TestServer server;
  HttpClient client(server);
  client.get("/healthz");
  CHECK(client.read_response().body == "ok\n");
  client.get("/favicon.svg");
  const HttpResponse icon = client.read_response();
  CHECK(icon.status == 200);
  CHECK(icon.header("content-type") == "image/svg+xml; charset=utf-8");
  check_web_asset(icon, "favicon.svg");
  // Pipelined: answered in order.
  client.send(http_get("/healthz", client.endpoint().authority()) +
              http_get("/js/model.js", client.endpoint().authority()));
  CHECK(client.read_response().body == "ok\n");
  const HttpResponse model = client.read_response();
  CHECK(model.status == 200);
  check_web_asset(model, "js/model.js");
  // A 404 keeps the connection too.
  client.get("/nope");
  CHECK(client.read_response().status == 404);
  client.get("/healthz?probe=1");
  const HttpResponse health = client.read_response();
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK_FALSE(client.closed());
}

TEST_CASE("web: Connection: close and HTTP/1.0 get their answer and then the close", "[web]") {
  TestServer server;
  SECTION("HTTP/1.1 with Connection: close") {
    const HttpResponse response =
        answer_then_close(server, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(response.status == 200);
    CHECK(response.has_token("connection", "close"));
  }
  SECTION("HTTP/1.0") {
    const HttpResponse response = answer_then_close(server, "GET /healthz HTTP/1.0\r\n\r\n");
    CHECK(response.status == 200);
    CHECK(response.body == "ok\n");
    CHECK(response.has_token("connection", "close"));
  }
}

TEST_CASE("web: a connection is closed after its 100th request", "[web]") {
  // 300 lines at once: past --rate's burst they would be read 20 a second.
  TestServer server({.args = {"--rate", "0"}});
  HttpClient client(server);
  std::string requests;
  for (int i = 0; i < 100; ++i) requests += http_get("/healthz", "x");
  client.send(requests);
  for (int i = 1; i <= 100; ++i) {
    CAPTURE(i);
    const HttpResponse response = client.read_response();
    REQUIRE(response.status == 200);
    REQUIRE(response.header("connection") == (i < 100 ? "keep-alive" : "close"));
  }
  CHECK(client.wait_closed());
}

TEST_CASE("web: the errors: 405 with Allow, 400, 505, 426, a body, and each closes", "[web]") {
  TestServer server;
  SECTION("POST: 405 with Allow") {
    const HttpResponse response =
        answer_then_close(server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    check_error(response, 405);
    CHECK(response.reason == "Method Not Allowed");
    CHECK(response.header("allow") == "GET, HEAD");
  }
  SECTION("DELETE: 405") {
    check_error(answer_then_close(server, "DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
  }
  SECTION("no Host: 400") {
    const HttpResponse response = answer_then_close(server, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
    check_error(response, 400);
    CHECK(response.reason == "Bad Request");
  }
  SECTION("HTTP/2.0: 505") {
    const HttpResponse response = answer_then_close(server, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
    check_error(response, 505);
    CHECK(response.reason == "HTTP Version Not Supported");
  }
  SECTION("/ws without an upgrade: 426") {
    const HttpResponse response = answer_then_close(server, http_get("/ws", "x"));
    check_error(response, 426);
    CHECK(response.reason == "Upgrade Required");
    CHECK(response.header("upgrade") == "websocket");
    // RFC 9110 §7.8: an Upgrade header goes with Connection: upgrade.
    CHECK(response.has_token("connection", "upgrade"));
  }
  SECTION("a body: 400") {
    check_error(answer_then_close(server, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
                400);
  }
  SECTION("a header without a colon: 400") {
    check_error(answer_then_close(server, "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"), 400);
  }
  SECTION("a target that is not a path: 400") {
    check_error(answer_then_close(server, "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  }
  SECTION("65 headers: 431") {
    std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 64; ++i) request += "X-Header-" + std::to_string(i) + ": v\r\n";
    check_error(answer_then_close(server, request + "\r\n"), 431);
  }
  SECTION("headers over 16 KiB in lines under --max-line: 431") {
    std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 6; ++i)
      request += "X-Part-" + std::to_string(i) + ": " + std::string(3000, 'p') + "\r\n";
    check_error(answer_then_close(server, request + "\r\n"), 431);
  }
  // The server answers the next client as ever.
  HttpClient next(server);
  next.get("/healthz");
  CHECK(next.read_response().body == "ok\n");
}

TEST_CASE("web: a request line over --max-line on a kept connection gets 414", "[web]") {
  TestServer server;
  HttpClient client(server);
  client.get("/healthz");
  REQUIRE(client.read_response().status == 200);
  client.send("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const HttpResponse response = client.read_response();
  check_error(response, 414);
  CHECK(response.reason == "URI Too Long");
  CHECK(client.wait_closed());
}

TEST_CASE("web: a first request line over --max-line gets 414 too", "[web]") {
  TestServer server;
  HttpClient client(server);
  client.send("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const HttpResponse response = client.read_response();
  check_error(response, 414);
  CHECK(client.wait_closed());
}

TEST_CASE("web: HEAD of an error has its headers and no body", "[web]") {
  TestServer server;
  HttpClient client(server);
  client.send("HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  const HttpResponse response = client.read_response(kLineTimeout, /*head_request=*/true);
  CHECK(response.status == 404);
  client.get("/healthz");
  // A body after the 404's headers would be read here instead.
  CHECK(client.read_response().status == 200);
}

// ---------------------------------------------------------------- --doors

TEST_CASE("web: --doors native closes the web door: a GET line gets native answers", "[web]") {
  TestServer server({.args = {"--doors", "native"}});
  TestClient client(server, "curious");
  client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  client.expect_match("server:error not-registered .*");
  client.expect_match("server:error not-registered .*");
  client.expect_quiet();
  client.register_as("curious");
}

TEST_CASE("web: --doors native,irc,classic refuses a WebSocket too", "[web]") {
  TestServer server({.args = {"--doors", "native,irc,classic"}});
  TestClient client(server, "curious");
  // Seven lines (the request line and six headers), each a native line.
  client.send(ws_handshake_request({}, WebEndpoint::of(server), "dGhlIHNhbXBsZSBub25jZQ=="));
  for (int i = 0; i < 7; ++i) client.expect_match("server:error not-registered .*");
  client.expect_quiet();
}
