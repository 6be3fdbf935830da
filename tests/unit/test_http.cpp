// The web door's HTTP request reader (src/protocol/http.cpp): request
// lines, headers, the limits, and errors answered only at the blank line.
#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

#include "uvchat/protocol/door.hpp"
#include "uvchat/protocol/http.hpp"

namespace {

using uvchat::protocol::Door;
using uvchat::protocol::door_of_line;
using uvchat::protocol::http_reason;
using uvchat::protocol::HttpRequest;
using uvchat::protocol::HttpRequestReader;
using Status = HttpRequestReader::Status;

// Every line but the last must ask for more; the last's status is returned.
Status feed(HttpRequestReader& reader, std::initializer_list<std::string_view> lines) {
  Status status = Status::kMore;
  std::size_t left = lines.size();
  for (const std::string_view line : lines) {
    status = reader.line(line);
    if (--left > 0) REQUIRE(status == Status::kMore);
  }
  return status;
}

TEST_CASE("http: a browser's GET is read whole, names folded, values trimmed", "[web]") {
  HttpRequestReader reader;
  CHECK_FALSE(reader.in_request());
  REQUIRE(feed(reader, {"GET /app.js?v=3&x HTTP/1.1", "Host: chat.lan:8080", "User-Agent:  Mozilla/5.0 \t",
                        "ACCEPT-Encoding:gzip, br", "X-Empty:", ""}) == Status::kComplete);
  CHECK(reader.done());
  const HttpRequest& request = reader.request();
  CHECK(request.method == "GET");
  CHECK(request.target == "/app.js");
  CHECK(request.query == "v=3&x");
  CHECK(request.minor_version == 1);
  REQUIRE(request.headers.size() == 4);
  CHECK(request.headers[0].first == "host");
  CHECK(request.headers[1] == std::pair<std::string, std::string>("user-agent", "Mozilla/5.0"));
  CHECK(request.headers[2] == std::pair<std::string, std::string>("accept-encoding", "gzip, br"));
  CHECK(request.headers[3] == std::pair<std::string, std::string>("x-empty", ""));
  REQUIRE(request.header("host") != nullptr);
  CHECK(*request.header("host") == "chat.lan:8080");
  CHECK(request.header("Host") == nullptr);  // names are asked for in lowercase
  CHECK(request.header("cookie") == nullptr);
}

TEST_CASE("http: the first of repeated headers is header(); has_token looks at them all", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"GET / HTTP/1.1", "Host: a", "Connection: keep-alive", "Connection: Upgrade", ""}) ==
          Status::kComplete);
  CHECK(*reader.request().header("connection") == "keep-alive");
  CHECK(reader.request().has_token("connection", "upgrade"));
  CHECK(reader.request().has_token("connection", "KEEP-ALIVE"));
  CHECK_FALSE(reader.request().has_token("connection", "close"));
  CHECK_FALSE(reader.request().has_token("upgrade", "websocket"));
}

TEST_CASE("http: has_token splits on commas and ignores the spaces around tokens", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"GET /ws HTTP/1.1", "Host: a", "Sec-WebSocket-Protocol: chat ,  uvchat,,text.ircv3.net ",
                        "Upgrade: WebSocket", ""}) == Status::kComplete);
  const HttpRequest& request = reader.request();
  CHECK(request.has_token("sec-websocket-protocol", "chat"));
  CHECK(request.has_token("sec-websocket-protocol", "uvchat"));
  CHECK(request.has_token("sec-websocket-protocol", "text.ircv3.net"));
  CHECK_FALSE(request.has_token("sec-websocket-protocol", "uv"));
  CHECK_FALSE(request.has_token("sec-websocket-protocol", "uvchat,"));
  CHECK(request.has_token("upgrade", "websocket"));
}

TEST_CASE("http: keep_alive by version and Connection", "[web]") {
  const auto keep_alive = [](std::initializer_list<std::string_view> lines) {
    HttpRequestReader reader;
    REQUIRE(feed(reader, lines) == Status::kComplete);
    return reader.request().keep_alive();
  };
  CHECK(keep_alive({"GET / HTTP/1.1", "Host: a", ""}));
  CHECK_FALSE(keep_alive({"GET / HTTP/1.1", "Host: a", "Connection: close", ""}));
  CHECK_FALSE(keep_alive({"GET / HTTP/1.1", "Host: a", "Connection: Keep-Alive, Close", ""}));
  CHECK_FALSE(keep_alive({"GET / HTTP/1.0", ""}));
  CHECK(keep_alive({"GET / HTTP/1.0", "Connection: keep-alive", ""}));
  CHECK_FALSE(keep_alive({"GET / HTTP/1.0", "Connection: keep-alive", "Connection: close", ""}));
}

TEST_CASE("http: HTTP/1.0 needs no Host, HTTP/1.1 does", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"HEAD /healthz HTTP/1.0", ""}) == Status::kComplete);
  CHECK(reader.request().method == "HEAD");
  CHECK(reader.request().minor_version == 0);
  reader.reset();
  REQUIRE(feed(reader, {"GET / HTTP/1.1", "Accept: */*", ""}) == Status::kFailed);
  CHECK(reader.error() == 400);
  CHECK(reader.reason().find("Host") != std::string_view::npos);
}

TEST_CASE("http: any later HTTP/1.x is read as 1.1; other majors are 505", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"GET / HTTP/1.9", "Host: a", ""}) == Status::kComplete);
  CHECK(reader.request().minor_version == 1);
  for (const std::string_view line : {"GET / HTTP/2.0", "GET / HTTP/0.9", "GET / HTTP/3.0"}) {
    INFO(line);
    reader.reset();
    REQUIRE(feed(reader, {line, "Host: a", ""}) == Status::kFailed);
    CHECK(reader.error() == 505);
  }
}

TEST_CASE("http: malformed request lines are 400", "[web]") {
  for (const std::string_view line : {
           "GET /",                   // no version
           "GET",                     // nothing else
           "GET  / HTTP/1.1",         // two spaces: the target would be " /"
           "GET / HTTP/1.1 ",         // a space after the version
           "GET http://a/ HTTP/1.1",  // absolute-form
           "GET * HTTP/1.1",          // asterisk-form
           "GET a/b HTTP/1.1",        // not a path
           "G(T / HTTP/1.1",          // not a token
           "GET / HTTP/1.10",
           "GET / HTTP/11",
           "GET / http/1.1",
           "GET / HTTP/x.1",
           "GET /caf\xC3\xA9 HTTP/1.1",  // not ASCII
       }) {
    INFO(line);
    HttpRequestReader reader;
    CHECK(reader.line(line) == Status::kMore);
    CHECK(reader.in_request());
    CHECK_FALSE(reader.done());
    CHECK(reader.line("Host: a") == Status::kMore);
    REQUIRE(reader.line("") == Status::kFailed);
    CHECK(reader.error() == 400);
    CHECK_FALSE(reader.reason().empty());
  }
}

TEST_CASE("http: any method is read; the door decides what it serves", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"POST /ws HTTP/1.1", "Host: a", "Content-Length: 0", ""}) == Status::kComplete);
  CHECK(reader.request().method == "POST");
  reader.reset();
  REQUIRE(feed(reader, {"get / HTTP/1.1", "Host: a", ""}) == Status::kComplete);
  CHECK(reader.request().method == "get");  // methods are case-sensitive: 405 for the door
}

TEST_CASE("http: empty lines before the request line are skipped", "[web]") {
  HttpRequestReader reader;
  CHECK(reader.line("") == Status::kMore);
  CHECK(reader.line("") == Status::kMore);
  CHECK_FALSE(reader.in_request());
  REQUIRE(feed(reader, {"GET / HTTP/1.1", "Host: a", ""}) == Status::kComplete);
}

TEST_CASE("http: malformed headers are 400", "[web]") {
  for (const std::string_view header : {
           "Host",                    // no colon
           ": value",                 // no name
           "Bad Name: x",             // a space in the name
           "Host : a",                // a space before the colon
           " folded: continuation",   // obs-fold
           "\tfolded",                // obs-fold
           "X-Bin: caf\xC3\xA9",      // past ASCII
           "X-Ctl: a\x7F",            // DEL
           "X-(: y",                  // not a token
       }) {
    INFO(header);
    HttpRequestReader reader;
    REQUIRE(feed(reader, {"GET / HTTP/1.1", "Host: a", header, "Accept: */*", ""}) == Status::kFailed);
    CHECK(reader.error() == 400);
  }
}

TEST_CASE("http: the first error is the one answered, and headers after it are dropped", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"GET / HTTP/2.0", "bad header", "Host: a", ""}) == Status::kFailed);
  CHECK(reader.error() == 505);
  CHECK(reader.request().headers.empty());
}

TEST_CASE("http: 64 headers are taken, the 65th is 431", "[web]") {
  HttpRequestReader reader;
  REQUIRE(reader.line("GET / HTTP/1.1") == Status::kMore);
  REQUIRE(reader.line("Host: a") == Status::kMore);
  for (std::size_t i = 1; i < HttpRequestReader::kMaxHeaders; ++i) {
    REQUIRE(reader.line("X-" + std::to_string(i) + ": v") == Status::kMore);
  }
  HttpRequestReader exactly = reader;
  REQUIRE(exactly.line("") == Status::kComplete);
  CHECK(exactly.request().headers.size() == HttpRequestReader::kMaxHeaders);

  CHECK(reader.line("X-65: v") == Status::kMore);
  CHECK(reader.line("X-66: v") == Status::kMore);
  REQUIRE(reader.line("") == Status::kFailed);
  CHECK(reader.error() == 431);
  CHECK(reader.request().headers.size() == HttpRequestReader::kMaxHeaders);
}

TEST_CASE("http: 16 KiB of headers are taken, a byte more is 431", "[web]") {
  // Each header line counts with its CR LF.
  const std::size_t per_line = 1024;
  const std::string value(per_line - 2 - std::string("X-00: ").size(), 'v');
  HttpRequestReader reader;
  REQUIRE(reader.line("GET / HTTP/1.1") == Status::kMore);
  for (int i = 0; i < 16; ++i) {
    const std::string name = i == 0 ? "Host" : "X-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    REQUIRE(name.size() == 4);
    REQUIRE(reader.line(name + ": " + value) == Status::kMore);
  }
  HttpRequestReader exactly = reader;
  REQUIRE(exactly.line("") == Status::kComplete);

  CHECK(reader.line("X") == Status::kMore);  // 1 byte and its CR LF: over
  REQUIRE(reader.line("") == Status::kFailed);
  CHECK(reader.error() == 431);
}

TEST_CASE("http: a request line too long is 414, a header line too long 431, both at the blank line", "[web]") {
  HttpRequestReader reader;
  CHECK(reader.line_too_long() == Status::kMore);
  CHECK(reader.in_request());
  CHECK(reader.line("Host: a") == Status::kMore);
  CHECK(reader.line_too_long() == Status::kMore);
  CHECK_FALSE(reader.done());
  REQUIRE(reader.line("") == Status::kFailed);
  CHECK(reader.error() == 414);
  CHECK(reader.done());

  reader.reset();
  CHECK(reader.line("GET / HTTP/1.1") == Status::kMore);
  CHECK(reader.line_too_long() == Status::kMore);
  CHECK(reader.line("Host: a") == Status::kMore);
  REQUIRE(reader.line("") == Status::kFailed);
  CHECK(reader.error() == 431);
}

TEST_CASE("http: a line that is not UTF-8 is 400, at the blank line", "[web]") {
  HttpRequestReader reader;
  CHECK(reader.bad_line() == Status::kMore);
  CHECK(reader.in_request());
  REQUIRE(reader.line("") == Status::kFailed);
  CHECK(reader.error() == 400);

  reader.reset();
  CHECK(reader.line("GET / HTTP/1.1") == Status::kMore);
  CHECK(reader.line("Host: a") == Status::kMore);
  CHECK(reader.bad_line() == Status::kMore);
  REQUIRE(reader.line("") == Status::kFailed);
  CHECK(reader.error() == 400);
}

TEST_CASE("http: reset() forgets everything of the last request", "[web]") {
  HttpRequestReader reader;
  REQUIRE(feed(reader, {"GET /a?q HTTP/1.0", "Connection: close", "X: 1", ""}) == Status::kComplete);
  reader.reset();
  CHECK_FALSE(reader.in_request());
  CHECK_FALSE(reader.done());
  CHECK(reader.error() == 0);
  CHECK(reader.request().headers.empty());
  CHECK(reader.request().query.empty());
  REQUIRE(feed(reader, {"HEAD /b HTTP/1.1", "Host: a", ""}) == Status::kComplete);
  CHECK(reader.request().target == "/b");
  CHECK(reader.request().query.empty());
  CHECK(reader.request().minor_version == 1);
  CHECK(reader.request().headers.size() == 1);

  // After a failure too: the next request starts clean.
  reader.reset();
  REQUIRE(feed(reader, {"GET / HTTP/2.0", ""}) == Status::kFailed);
  reader.reset();
  REQUIRE(feed(reader, {"GET / HTTP/1.1", "Host: a", ""}) == Status::kComplete);
  CHECK(reader.error() == 0);
}

TEST_CASE("http: every status the door answers with has its reason phrase", "[web]") {
  CHECK(http_reason(101) == "Switching Protocols");
  CHECK(http_reason(200) == "OK");
  CHECK(http_reason(304) == "Not Modified");
  CHECK(http_reason(400) == "Bad Request");
  CHECK(http_reason(403) == "Forbidden");
  CHECK(http_reason(404) == "Not Found");
  CHECK(http_reason(405) == "Method Not Allowed");
  CHECK(http_reason(414) == "URI Too Long");
  CHECK(http_reason(426) == "Upgrade Required");
  CHECK(http_reason(431) == "Request Header Fields Too Large");
  CHECK(http_reason(505) == "HTTP Version Not Supported");
}

TEST_CASE("door_of_line: HTTP request lines open the web door", "[web][door]") {
  CHECK(door_of_line("GET / HTTP/1.1") == Door::kWeb);
  CHECK(door_of_line("HEAD / HTTP/1.1") == Door::kWeb);
  CHECK(door_of_line("POST / HTTP/1.1") == Door::kWeb);
  CHECK(door_of_line("OPTIONS * HTTP/1.1") == Door::kWeb);
  CHECK(door_of_line("GET /") == Door::kWeb);  // HTTP/0.9's shape: refused in HTTP's words
  CHECK(door_of_line("GET") == Door::kNative);
  CHECK(door_of_line("get / HTTP/1.1") == Door::kNative);
  CHECK(door_of_line("alice: GET / HTTP/1.1") == Door::kNative);
  CHECK(door_of_line("POST /") == Door::kNative);  // no version: not HTTP's
  CHECK(door_of_line("VERYLONGMETHODNAME / HTTP/1.1") == Door::kNative);
}

}  // namespace
