#include "uvchat/protocol/http.hpp"

#include "uvchat/protocol/text.hpp"

namespace uvchat::protocol {
namespace {

// RFC 9110 §5.6.2: a token's characters.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (const char special : std::string_view("!#$%&'*+-.^_`|~")) {
    if (c == special) return true;
  }
  return false;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// A header value: visible ASCII, spaces and tabs. Bytes past ASCII are
// allowed by RFC 9110 (obs-text), but no header the door reads has any.
bool is_field_value(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t') return false;
    if (byte >= 0x7f) return false;
  }
  return true;
}

// An origin-form target (RFC 9112 §3.2.1): a path and maybe a query, in
// visible ASCII.
bool is_origin_form(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return false;
  }
  return true;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool HttpRequest::has_token(std::string_view name, std::string_view token) const {
  for (const auto& [key, value] : headers) {
    if (key != name) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (equal_case_insensitive(trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool HttpRequest::keep_alive() const {
  if (has_token("connection", "close")) return false;
  return minor_version >= 1 || has_token("connection", "keep-alive");
}

void HttpRequestReader::reset() {
  request_ = HttpRequest{};
  header_bytes_ = 0;
  error_ = 0;
  reason_ = {};
  started_ = false;
  done_ = false;
}

HttpRequestReader::Status HttpRequestReader::fail(int status, std::string_view reason) {
  // The first error is the one answered.
  if (error_ == 0) {
    error_ = status;
    reason_ = reason;
  }
  return Status::kMore;
}

HttpRequestReader::Status HttpRequestReader::line_too_long() {
  if (!started_) {
    started_ = true;
    return fail(414, "the request line is too long");
  }
  return fail(431, "a header line is too long");
}

HttpRequestReader::Status HttpRequestReader::bad_line() {
  started_ = true;
  return fail(400, "the request is not ASCII");
}

HttpRequestReader::Status HttpRequestReader::line(std::string_view line) {
  if (!started_) {
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    if (line.empty()) return Status::kMore;
    started_ = true;
    request_line(line);
    return Status::kMore;
  }
  if (!line.empty()) {
    header_line(line);
    return Status::kMore;
  }
  done_ = true;
  if (error_ == 0 && request_.minor_version == 1 && request_.header("host") == nullptr) {
    fail(400, "an HTTP/1.1 request needs a Host header");
  }
  return error_ == 0 ? Status::kComplete : Status::kFailed;
}

// METHOD SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
HttpRequestReader::Status HttpRequestReader::request_line(std::string_view line) {
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return fail(400, "the request line is malformed");
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, last - first - 1);
  const std::string_view version = line.substr(last + 1);
  if (!is_token(method)) return fail(400, "the method is malformed");
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return fail(400, "the HTTP version is malformed");
  }
  if (version[5] != '1') return fail(505, "only HTTP/1.0 and HTTP/1.1 are spoken here");
  request_.minor_version = version[7] == '0' ? 0 : 1;
  request_.method = method;
  if (!is_origin_form(target)) return fail(400, "the target is not a path");
  const std::size_t question = target.find('?');
  request_.target = target.substr(0, question);
  if (question != std::string_view::npos) request_.query = target.substr(question + 1);
  return Status::kMore;
}

HttpRequestReader::Status HttpRequestReader::header_line(std::string_view line) {
  header_bytes_ += line.size() + 2;
  if (request_.headers.size() >= kMaxHeaders || header_bytes_ > kMaxHeaderBytes) {
    return fail(431, "the headers are too many or too long");
  }
  // obs-fold (a line starting with a space) is refused (RFC 9112 §5.2).
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(400, "a header has no colon");
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (!is_token(name)) return fail(400, "a header name is malformed");
  if (!is_field_value(value)) return fail(400, "a header value has bytes it may not have");
  if (error_ != 0) return Status::kMore;  // dropped: the answer is decided
  request_.headers.emplace_back(fold_case(name), std::string(value));
  return Status::kMore;
}

std::string_view http_reason(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace uvchat::protocol
