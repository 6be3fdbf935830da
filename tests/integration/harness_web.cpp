#include "harness_web.hpp"

#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tree_paths.h"
#include "uvchat/net/tls.hpp"

namespace uvchat::test {

using namespace web_detail;

namespace {

using Clock = std::chrono::steady_clock;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

namespace web_detail {

std::string lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string printable(std::string_view bytes, std::size_t most) {
  std::string text;
  for (const char c : bytes.substr(0, most)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      text.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      text += "\\x";
      text.push_back(kHex[byte >> 4]);
      text.push_back(kHex[byte & 0xf]);
    }
  }
  if (bytes.size() > most) text += "... (" + std::to_string(bytes.size()) + " bytes)";
  return text;
}

}  // namespace web_detail

// ------------------------------------------------------------- responses

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::size_t HttpResponse::count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(),
                                                [&](const auto& header) { return header.first == name; }));
}

std::optional<HttpResponse> parse_http_response(std::string_view bytes, bool head_request,
                                                std::size_t* used) {
  const std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() > kMostResponseBytes) FAIL("a response head that never ends: " << printable(bytes));
    return std::nullopt;
  }
  HttpResponse response;
  response.head = std::string(bytes.substr(0, end + 4));
  std::string_view rest = bytes.substr(0, end);
  std::size_t line_end = rest.find("\r\n");
  const std::string_view status_line = rest.substr(0, line_end);
  rest = line_end == std::string_view::npos ? std::string_view{} : rest.substr(line_end + 2);
  INFO("the response head: " << printable(response.head, 4000));
  // HTTP-version SP 3DIGIT SP [reason] (RFC 9112 §4).
  REQUIRE(status_line.size() >= 13);
  REQUIRE(status_line.starts_with("HTTP/"));
  REQUIRE(status_line[8] == ' ');
  REQUIRE(status_line[12] == ' ');
  response.version = std::string(status_line.substr(0, 8));
  for (const char digit : status_line.substr(9, 3)) REQUIRE((digit >= '0' && digit <= '9'));
  response.status = std::stoi(std::string(status_line.substr(9, 3)));
  response.reason = std::string(status_line.substr(13));
  while (!rest.empty()) {
    line_end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, line_end);
    rest = line_end == std::string_view::npos ? std::string_view{} : rest.substr(line_end + 2);
    const std::size_t colon = line.find(':');
    INFO("the header line '" << printable(line) << "'");
    REQUIRE(colon != std::string_view::npos);
    REQUIRE(colon > 0);
    REQUIRE(line.find_first_of(" \t") > colon);  // no space before the colon
    response.headers.emplace_back(lowercase(line.substr(0, colon)),
                                  std::string(trim(line.substr(colon + 1))));
  }
  std::size_t body_size = 0;
  const bool bodiless = head_request || response.status == 304 || response.status == 204 ||
                        (response.status >= 100 && response.status < 200);
  if (!bodiless) {
    const std::optional<std::string> length = response.header("content-length");
    INFO("every response of the web door has a Content-Length");
    REQUIRE(length);
    REQUIRE(response.count("content-length") == 1);
    REQUIRE(!length->empty());
    REQUIRE(length->find_first_not_of("0123456789") == std::string::npos);
    body_size = std::stoul(*length);
    REQUIRE(body_size <= kMostResponseBytes);
  }
  if (bytes.size() < end + 4 + body_size) return std::nullopt;
  response.body = std::string(bytes.substr(end + 4, body_size));
  if (used != nullptr) *used = end + 4 + body_size;
  return response;
}

bool HttpResponse::has_token(std::string_view name, std::string_view token) const {
  const std::string wanted = lowercase(token);
  for (const auto& [key, value] : headers) {
    if (key != name) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (lowercase(trim(rest.substr(0, comma))) == wanted) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

namespace {

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) == 1);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

bool newer_than(const std::string& path, const std::string& than) {
  struct stat file {};
  struct stat reference {};
  if (::stat(path.c_str(), &file) != 0 || ::stat(than.c_str(), &reference) != 0) return false;
  return file.st_mtim.tv_sec > reference.st_mtim.tv_sec || (file.st_mtim.tv_sec == reference.st_mtim.tv_sec &&
                                                            file.st_mtim.tv_nsec > reference.st_mtim.tv_nsec);
}

}  // namespace

void check_web_asset(const HttpResponse& response, const std::string& name) {
  INFO("web/" << name << ", served as:\n" << response.head);
  REQUIRE(response.status == 200);
  CHECK(!response.body.empty());
  CHECK(response.header("content-length") == std::to_string(response.body.size()));
  CHECK(response.header("etag") == "\"" + sha256_hex(response.body).substr(0, 16) + "\"");
  const std::string path = std::string(UVCHAT_SOURCE_ROOT) + "/web/" + name;
  const std::optional<std::string> file = read_file_bytes(path);
  REQUIRE(file);
  if (*file != response.body && newer_than(path, uvchatd_path())) {
    WARN(path << " changed after $UVCHATD was built: its body is not compared");
    return;
  }
  CHECK(response.body == *file);
}

std::string http_get(std::string_view path, std::string_view host, std::string_view more) {
  std::string request = "GET ";
  request.append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
  request.append(more).append("\r\n");
  return request;
}

// ------------------------------------------------------------- transport

WebTransport::WebTransport(const WebEndpoint& endpoint, const std::string& label)
    : label_(label), socket_(connect_socket(endpoint.host, endpoint.port, label)) {
  if (endpoint.tls) handshake(endpoint);
}

WebTransport::~WebTransport() = default;

void WebTransport::handshake(const WebEndpoint& endpoint) {
  std::string error;
  const std::shared_ptr<net::TlsContext> context = net::TlsContext::client(endpoint.ca_file, error);
  if (!context) FAIL(label_ << ": " << error);
  tls_ = std::make_unique<net::TlsSession>(context, net::TlsSession::Role::kClient, endpoint.host);
  if (tls_->failed()) FAIL(label_ << ": " << tls_->error());
  tls_->start_handshake();
  if (!flush_tls()) FAIL(label_ << ": cannot send the ClientHello: " << std::strerror(errno));
  const auto deadline = Clock::now() + kHandshakeTimeout;
  while (!tls_->handshake_done()) {
    if (ended_ || tls_->failed()) FAIL(label_ << ": the TLS handshake failed: " << tls_->error());
    if (!wait_ready(socket_.get(), POLLIN, deadline)) FAIL(label_ << ": no TLS handshake in time");
    std::array<char, 16384> buffer;
    const ssize_t count = ::read(socket_.get(), buffer.data(), buffer.size());
    if (count < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (count <= 0) FAIL(label_ << ": the connection ended during the TLS handshake");
    tls_->receive(std::span<const char>(buffer.data(), static_cast<std::size_t>(count)));
    decrypt();
    tls_->keep_unread();
    if (!flush_tls()) FAIL(label_ << ": during the TLS handshake, write: " << std::strerror(errno));
  }
  if (!tls_->peer_verified()) FAIL(label_ << ": the server's certificate did not verify");
}

void WebTransport::decrypt() {
  for (;;) {
    std::array<char, 16384> buffer;
    const net::TlsSession::ReadResult got = tls_->read(buffer);
    plain_.append(buffer.data(), got.bytes);
    if (got.status != net::TlsSession::Status::kOk) {
      ended_ = true;
      return;
    }
    if (got.bytes < buffer.size()) return;
  }
}

bool WebTransport::flush_tls() {
  const std::string bytes = tls_->take_output();
  if (socket_.get() < 0) return false;
  return write_all_within(socket_.get(), bytes, kLineTimeout);
}

ssize_t WebTransport::read_some(char* buffer, std::size_t most) {
  if (socket_.get() < 0) return 0;
  if (!tls_) {
    const ssize_t count = ::read(socket_.get(), buffer, most);
    if (count < 0 && errno == ECONNRESET) return 0;
    return count;
  }
  if (plain_.empty() && !ended_) {
    std::array<char, 65536> ciphertext;
    const ssize_t count = ::read(socket_.get(), ciphertext.data(), ciphertext.size());
    if (count < 0 && errno != ECONNRESET) return -1;
    if (count <= 0) {
      ended_ = true;
    } else {
      tls_->receive(std::span<const char>(ciphertext.data(), static_cast<std::size_t>(count)));
      decrypt();
      tls_->keep_unread();
      flush_tls();  // a KeyUpdate's answer: best effort
    }
  }
  if (!plain_.empty()) {
    const std::size_t taken = std::min(most, plain_.size());
    std::memcpy(buffer, plain_.data(), taken);
    plain_.erase(0, taken);
    return static_cast<ssize_t>(taken);
  }
  if (ended_) return 0;
  errno = EAGAIN;
  return -1;
}

bool WebTransport::has_buffered_input() const { return tls_ && (!plain_.empty() || ended_); }

bool WebTransport::write_all(std::string_view bytes, Duration timeout) {
  if (socket_.get() < 0) return false;
  if (!tls_) return write_all_within(socket_.get(), bytes, timeout);
  if (!tls_->write(std::span<const char>(bytes.data(), bytes.size()))) return false;
  const std::string sealed = tls_->take_output();
  return write_all_within(socket_.get(), sealed, timeout);
}

void WebTransport::close(bool reset) {
  if (reset && socket_.get() >= 0) {
    const linger abortive{1, 0};
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }
  socket_.reset();
}

// ------------------------------------------------------------ HttpClient

HttpClient::HttpClient(const WebEndpoint& endpoint, std::string label)
    : label_(std::move(label)), endpoint_(endpoint), transport_(endpoint, label_) {}

void HttpClient::send(std::string_view bytes) {
  if (!transport_.write_all(bytes))
    FAIL(label_ << ": cannot send " << bytes.size() << " bytes: " << std::strerror(errno));
}

bool HttpClient::try_send(std::string_view bytes) { return transport_.write_all(bytes); }

void HttpClient::get(std::string_view path, std::string_view more) {
  send(http_get(path, endpoint_.authority(), more));
}

bool HttpClient::receive_more(Clock::time_point deadline) {
  while (!closed_) {
    if (!transport_.has_buffered_input() && !wait_ready(transport_.fd(), POLLIN, deadline)) return false;
    std::array<char, 65536> buffer;
    const ssize_t count = transport_.read_some(buffer.data(), buffer.size());
    if (count > 0) {
      unread_.append(buffer.data(), static_cast<std::size_t>(count));
      return true;
    }
    if (count == 0) {
      closed_ = true;
    } else if (errno != EINTR && errno != EAGAIN) {
      FAIL(label_ << ": read: " << std::strerror(errno));
    }
  }
  return false;
}

std::optional<HttpResponse> HttpClient::try_read_response(Duration timeout, bool head_request) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t used = 0;
    if (std::optional<HttpResponse> response = parse_http_response(unread_, head_request, &used)) {
      unread_.erase(0, used);
      return response;
    }
    if (!receive_more(deadline)) return std::nullopt;
  }
}

HttpResponse HttpClient::read_response(Duration timeout, bool head_request) {
  std::optional<HttpResponse> response = try_read_response(timeout, head_request);
  if (!response) {
    FAIL(label_ << ": no whole response within " << timeout.count() << " ms"
                << (closed_ ? " (the server closed the connection)" : "") << "; received: '"
                << printable(unread_, 2000) << "'");
  }
  return *response;
}

bool HttpClient::wait_closed(Duration timeout) {
  const std::size_t before = unread_.size();
  const auto deadline = Clock::now() + timeout;
  while (receive_more(deadline)) {
  }
  return closed_ && unread_.size() == before;
}

// ------------------------------------------------------------------ curl

std::optional<CurlResult> run_curl(const std::vector<std::string>& args, bool head_requests) {
  const std::optional<std::string> curl = find_program("curl");
  if (!curl) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string_view(ci) == "true") FAIL("curl is not installed, and CI=true needs it");
    WARN("curl is not installed: skipped");
    return std::nullopt;
  }
  std::vector<std::string> argv = {*curl, "--silent", "--show-error", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  CurlResult result{run_command(argv, Duration{15000}), {}};
  INFO("curl's stderr: " << result.run.err);
  std::string_view rest = result.run.out;
  while (!rest.empty()) {
    std::size_t used = 0;
    std::optional<HttpResponse> response = parse_http_response(rest, head_requests, &used);
    INFO("curl's output: " << printable(result.run.out, 4000));
    REQUIRE(response);
    result.responses.push_back(std::move(*response));
    rest.remove_prefix(used);
  }
  return result;
}

}  // namespace uvchat::test
