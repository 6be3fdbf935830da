// HTTP/1.1 requests, read a line at a time (RFC 9112), for the web door.
//
// The web door serves a page and a WebSocket, nothing else: requests have
// no body, and what is read of them is bounded. The framer has already cut
// the bytes into lines (without CR LF) and refused any longer than
// --max-line; this reader checks what is left: the request line's shape,
// each header's, how many there are and how many bytes they take. Pure: the
// door (door/web.cpp) decides what to answer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uvchat::protocol {

struct HttpRequest {
  std::string method;  // "GET", as sent (methods are case-sensitive)
  std::string target;  // the path, without its query: "/app.js"
  std::string query;   // after '?', without it
  int minor_version = 1;  // HTTP/1.0 or HTTP/1.1
  // Names lowercased, values without the spaces around them, in order.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header called `name` (lowercase), or null.
  const std::string* header(std::string_view name) const;
  // Whether the comma-separated header `name` has `token`, in any case
  // (Connection: keep-alive, Upgrade: websocket).
  bool has_token(std::string_view name, std::string_view token) const;
  // Whether the client wants the connection kept for another request.
  bool keep_alive() const;
};

class HttpRequestReader {
 public:
  static constexpr std::size_t kMaxHeaders = 64;
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

  enum class Status {
    kMore,      // give it the next line
    kComplete,  // request() is a whole request; reset() before the next
    kFailed,    // the request is bad; error() says how. Lines up to its
                // blank line are still read (and dropped), to answer only
                // once the client is done sending it.
  };

  // One line of the request, without its line end.
  Status line(std::string_view line);
  // The framer dropped a line longer than --max-line.
  Status line_too_long();
  // The framer dropped a line that was not UTF-8.
  Status bad_line();

  const HttpRequest& request() const { return request_; }
  // For kFailed: the status to answer with (400, 414, 431, 505, ...) and
  // a few words on why.
  int error() const { return error_; }
  std::string_view reason() const { return reason_; }
  // Between the request line and the blank line that ends the headers.
  bool in_request() const { return started_; }
  // Whether the request's head is over: kComplete or kFailed was said at
  // its blank line.
  bool done() const { return done_; }

  void reset();

 private:
  Status fail(int status, std::string_view reason);
  Status request_line(std::string_view line);
  Status header_line(std::string_view line);

  HttpRequest request_;
  std::size_t header_bytes_ = 0;
  int error_ = 0;
  std::string_view reason_;
  bool started_ = false;
  bool done_ = false;
};

// The standard reason phrase of a status the web door answers with.
std::string_view http_reason(int status);

}  // namespace uvchat::protocol
