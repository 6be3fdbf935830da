#include "harness_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>
#include <thread>

namespace uvchat::test {
namespace {

using Clock = std::chrono::steady_clock;

// The names a test client asks for: every certificate made here has them.
const std::vector<std::string> kHostNames = {"localhost", "127.0.0.1", "::1"};
constexpr int kValidDays = 30;
// A handshake is a round trip or two: slow only on a machine that is busy.
constexpr Duration kHandshakeTimeout{5000};
// Between the pieces of a handshake written a few bytes at a time, so that
// the server is likely to read each on its own (it is right either way).
constexpr std::chrono::microseconds kPieceGap{500};
constexpr std::chrono::milliseconds kFirstPieceGap{30};

// Writes all of `bytes` to the non-blocking `socket` before `deadline`;
// false (errno says why, ETIMEDOUT for the deadline) when it cannot.
bool write_all_by(int socket, std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(socket, bytes.data(), bytes.size());
    if (written > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(written));
    } else if (written < 0 && errno == EAGAIN) {
      if (!wait_ready(socket, POLLOUT, deadline)) {
        errno = ETIMEDOUT;
        return false;
      }
    } else if (written < 0 && errno != EINTR) {
      return false;
    }
  }
  return true;
}

net::SelfSigned new_self_signed() {
  net::SelfSigned made = net::make_self_signed(kHostNames, kValidDays);
  INFO("make_self_signed: " << made.error);
  REQUIRE(made.error.empty());
  return made;
}

// Writes `text` beside `path` and renames it over `path`: a reader sees
// the old file or the new one, never half of one.
void replace_file(const std::string& path, const std::string& text) {
  const std::string beside = path + ".new";
  write_file_bytes(beside, text);
  if (std::rename(beside.c_str(), path.c_str()) != 0)
    FAIL("rename " << beside << ": " << std::strerror(errno));
}

std::string escaped_for_regex(std::string_view text) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{})";
  std::string escaped;
  for (const char c : text) {
    if (kSpecial.find(c) != std::string::npos) escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

}  // namespace

// ------------------------------------------------------------ certificates

CertificateFiles make_certificate(const TempDir& dir, const std::string& stem) {
  const net::SelfSigned made = new_self_signed();
  CertificateFiles files{dir.file(stem + "-cert.pem"), dir.file(stem + "-key.pem"), made.fingerprint};
  write_file_bytes(files.certificate, made.certificate_pem);
  write_file_bytes(files.key, made.key_pem);
  return files;
}

std::string renew_certificate(const CertificateFiles& files) {
  const net::SelfSigned made = new_self_signed();
  // The key first: a server that read the pair between the two renames
  // would find them apart and keep the old pair, which is right too.
  replace_file(files.key, made.key_pem);
  replace_file(files.certificate, made.certificate_pem);
  return made.fingerprint;
}

std::vector<std::string> tls_args(const CertificateFiles& files) {
  return {"--tls-cert", files.certificate, "--tls-key", files.key};
}

namespace {

ServerSetup with_tls(ServerSetup setup, const CertificateFiles& files) {
  std::vector<std::string> args = tls_args(files);
  args.insert(args.end(), setup.args.begin(), setup.args.end());
  setup.args = std::move(args);
  return setup;
}

}  // namespace

TlsServer::TlsServer(ServerSetup setup)
    : files(make_certificate(dir)), server(with_tls(std::move(setup), files)) {
  REQUIRE(server.wait_for_log("SHA-256 fingerprint " + files.fingerprint));
}

// ----------------------------------------------------------- TlsTestClient

TlsTestClient::TlsTestClient(const TestServer& server, TlsClientSetup setup)
    : TlsTestClient(server.host(), server.port(), std::move(setup)) {}

TlsTestClient::TlsTestClient(const std::string& host, int port, TlsClientSetup setup)
    : LinePeer(setup.label),
      socket_(connect_socket(host, port, setup.label, setup.receive_buffer, setup.source)) {
  std::string error;
  const std::shared_ptr<net::TlsContext> context = net::TlsContext::client(setup.ca_file, error);
  if (!context) FAIL(label() << ": " << error);
  session_ = std::make_unique<net::TlsSession>(context, net::TlsSession::Role::kClient, host);
  if (session_->failed()) FAIL(label() << ": " << session_->error());
  if (setup.max_version != 0) SSL_set_max_proto_version(session_->ssl(), setup.max_version);
  attach(socket_.get(), socket_.get());
  handshake(setup.handshake_chunk);
}

TlsTestClient::~TlsTestClient() = default;

void TlsTestClient::handshake(std::size_t chunk) {
  session_->start_handshake();
  if (!flush_output(chunk)) FAIL(label() << ": cannot send the ClientHello: " << std::strerror(errno));
  const auto deadline = Clock::now() + kHandshakeTimeout;
  while (!session_->handshake_done()) {
    if (ended_ || session_->failed()) {
      FAIL(label() << ": the handshake failed: " << (tls_error_.empty() ? session_->error() : tls_error_));
    }
    if (!wait_ready(socket_.get(), POLLIN, deadline)) {
      FAIL(label() << ": no handshake within " << kHandshakeTimeout.count() << " ms");
    }
    std::array<char, 16384> buffer;
    const ssize_t count = ::read(socket_.get(), buffer.data(), buffer.size());
    if (count < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (count < 0) FAIL(label() << ": during the handshake, read: " << std::strerror(errno));
    if (count == 0) FAIL(label() << ": the server closed the connection during the handshake");
    session_->receive(std::span<const char>(buffer.data(), static_cast<std::size_t>(count)));
    decrypt();
    session_->keep_unread();
    if (!flush_output(chunk)) FAIL(label() << ": during the handshake, write: " << std::strerror(errno));
  }
}

void TlsTestClient::decrypt() {
  for (;;) {
    std::array<char, 16384> buffer;
    const net::TlsSession::ReadResult got = session_->read(buffer);
    plain_.append(buffer.data(), got.bytes);
    if (got.status == net::TlsSession::Status::kClosed) {
      close_notify_ = true;
      ended_ = true;
      return;
    }
    if (got.status == net::TlsSession::Status::kFailed) {
      tls_error_ = session_->error();
      ended_ = true;
      return;
    }
    if (got.bytes < buffer.size()) return;
  }
}

bool TlsTestClient::flush_output(std::size_t chunk) {
  const std::string bytes = session_->take_output();
  if (socket_.get() < 0) return false;
  const auto deadline = Clock::now() + kLineTimeout;
  if (chunk == 0) return write_all_by(socket_.get(), bytes, deadline);
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    if (!write_all_by(socket_.get(), std::string_view(bytes).substr(at, chunk), deadline)) return false;
    if (at == 0) {
      std::this_thread::sleep_for(kFirstPieceGap);
    } else {
      std::this_thread::sleep_for(kPieceGap);
    }
  }
  return true;
}

ssize_t TlsTestClient::read_some(char* buffer, std::size_t most) {
  if (plain_.empty() && !ended_) {
    std::array<char, 65536> ciphertext;
    const ssize_t count = ::read(socket_.get(), ciphertext.data(), std::min(most, ciphertext.size()));
    if (count < 0) return -1;
    if (count == 0) {
      ended_ = true;
    } else {
      session_->receive(std::span<const char>(ciphertext.data(), static_cast<std::size_t>(count)));
      decrypt();
      session_->keep_unread();
      // A KeyUpdate's answer, or our alert: best effort, the server may be
      // gone.
      flush_output();
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

ssize_t TlsTestClient::write_some(std::string_view bytes) {
  if (!session_->write(std::span<const char>(bytes.data(), bytes.size()))) {
    errno = EPROTO;
    return -1;
  }
  if (!flush_output()) return -1;
  return static_cast<ssize_t>(bytes.size());
}

std::string TlsTestClient::seal(std::string_view plaintext) {
  REQUIRE(session_->output().empty());
  INFO(label() << ": " << session_->error());
  REQUIRE(session_->write(std::span<const char>(plaintext.data(), plaintext.size())));
  return session_->take_output();
}

void TlsTestClient::send_raw(std::string_view bytes) {
  if (!write_all_by(socket_.get(), bytes, Clock::now() + kLineTimeout)) {
    FAIL(label() << ": write: " << std::strerror(errno));
  }
}

void TlsTestClient::send_close_notify() {
  session_->shutdown();
  if (!flush_output()) FAIL(label() << ": cannot send close_notify: " << std::strerror(errno));
}

void TlsTestClient::close(bool reset) {
  if (reset) {
    const linger abortive{1, 0};
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }
  attach(-1, -1);
  socket_.reset();
}

void TlsTestClient::request_renegotiation() {
  SSL* ssl = session_->ssl();
  REQUIRE(SSL_version(ssl) == TLS1_2_VERSION);
  // Our clients never renegotiate either; this one is made to.
  SSL_clear_options(ssl, SSL_OP_NO_RENEGOTIATION);
  REQUIRE(SSL_renegotiate(ssl) == 1);
  // Writes the new ClientHello and wants the server's answer, which
  // read() takes.
  SSL_do_handshake(ssl);
  ERR_clear_error();
  REQUIRE_FALSE(session_->output().empty());
  if (!flush_output()) FAIL(label() << ": cannot ask to renegotiate: " << std::strerror(errno));
}

// -------------------------------------------------------------- processes

ProcessPeer::ProcessPeer(const std::vector<std::string>& argv, std::string label)
    : LinePeer(std::move(label)), process_(argv, {}, ChildProcess::Stdout::kPipe) {
  attach(process_.stdout_fd(), process_.stdin_fd());
}

void ProcessPeer::close_stdin() {
  attach(process_.stdout_fd(), -1);
  process_.close_stdin();
}

std::unique_ptr<ProcessPeer> openssl_s_client(const TestServer& server, const std::string& ca_file,
                                              const std::vector<std::string>& more_args) {
  const std::optional<std::string> openssl = find_program("openssl");
  if (!openssl) return nullptr;
  std::vector<std::string> argv = {
      *openssl,  "s_client", "-quiet",     "-connect",  server.host() + ":" + std::to_string(server.port()),
      "-CAfile", ca_file,    "-verify_ip", "127.0.0.1", "-verify_return_error"};
  argv.insert(argv.end(), more_args.begin(), more_args.end());
  return std::make_unique<ProcessPeer>(argv, "openssl s_client");
}

// -------------------------------------------------------------------- logs

std::string connection_name(const TestServer& server, int local_port, const std::string& source) {
  const std::string from = " from " + source + ":" + std::to_string(local_port) + "\n";
  if (!server.wait_for_log(from))
    FAIL("the server did not log a connection" << from << "its log:\n" << server.log());
  const std::regex pattern("(connection \\d+)" + escaped_for_regex(from));
  std::smatch match;
  const std::string log = server.log();
  if (!std::regex_search(log, match, pattern)) FAIL("no 'connection N" << from << "' in the log:\n" << log);
  return match[1].str();
}

std::string client_hello() {
  std::string error;
  const std::shared_ptr<net::TlsContext> context = net::TlsContext::client({}, error);
  INFO(error);
  REQUIRE(context);
  net::TlsSession session(context, net::TlsSession::Role::kClient, "127.0.0.1");
  session.start_handshake();
  REQUIRE_FALSE(session.failed());
  std::string hello = session.take_output();
  // A record of type handshake (22) whose message is a ClientHello (1).
  REQUIRE(hello.size() > 9);
  REQUIRE(hello[0] == 0x16);
  REQUIRE(hello[5] == 0x01);
  return hello;
}

}  // namespace uvchat::test
