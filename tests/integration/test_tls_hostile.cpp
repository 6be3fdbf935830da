// Issue 17, hostile input over TLS: a garbage handshake, a handshake that
// never finishes, a ClientHello sent a byte at a time, a renegotiation, a
// client that vanishes in the middle of a record. Each costs only its own
// connection: a bystander is served all along, and the server stays up.
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <string>

#include "harness.hpp"
#include "harness_tls.hpp"

using namespace uvchat::test;

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kAlertRecord = 0x15;

// Everything the server sends on `socket` until it closes the connection
// (a FIN or a reset), which must come within `timeout`.
std::string read_raw_until_closed(int socket, Duration timeout = kLineTimeout) {
  const auto deadline = Clock::now() + timeout;
  std::string bytes;
  for (;;) {
    if (!wait_ready(socket, POLLIN, deadline)) {
      FAIL("the connection is still open after " << timeout.count() << " ms; " << bytes.size()
                                                 << " bytes came");
    }
    char buffer[4096];
    const ssize_t count = ::read(socket, buffer, sizeof buffer);
    if (count > 0) {
      bytes.append(buffer, static_cast<std::size_t>(count));
    } else if (count == 0 || errno == ECONNRESET) {
      return bytes;
    } else if (errno != EINTR && errno != EAGAIN) {
      FAIL("read: " << std::strerror(errno));
    }
  }
}

// The types of the TLS records in `bytes`, in order; false when `bytes`
// are not whole TLS records.
bool record_types(const std::string& bytes, std::string& types) {
  std::size_t at = 0;
  while (at + 5 <= bytes.size()) {
    const auto type = bytes[at];
    if (type < 0x14 || type > 0x17 || bytes[at + 1] != 0x03) return false;
    const std::size_t length =
        (static_cast<unsigned char>(bytes[at + 3]) << 8) | static_cast<unsigned char>(bytes[at + 4]);
    types.push_back(type);
    at += 5 + length;
  }
  return at == bytes.size();
}

// A bystander, registered before the trouble: it must be served all along.
class Bystander : public TestClient {
 public:
  explicit Bystander(const TestServer& server) : TestClient(server, "bystander") { register_as("bystander"); }

  // Served, and promptly: a ping and a DM to itself.
  void check_served() {
    expect_quiet();
    send_line("bystander: still here");
    expect_chat("bystander: still here");
  }
};

std::string hex_of(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (const char c : bytes.substr(0, 64)) {
    const auto byte = static_cast<unsigned char>(c);
    text += kHex[byte >> 4];
    text += kHex[byte & 0xF];
    text += ' ';
  }
  return text;
}

}  // namespace

TEST_CASE("TLS hostile: a garbage handshake costs only its own connection, and the log says why",
          "[tls][hostile]") {
  struct Garbage {
    std::string what;
    std::string bytes;
    // A plaintext alert comes before the close (else the close alone: to
    // bytes that do not look like TLS at all, OpenSSL says nothing).
    bool alert;
  };
  const Garbage garbage = GENERATE(
      Garbage{"a handshake record holding no handshake message", std::string("\x16\x03\x01\x00\x05hello", 10),
              true},
      Garbage{"a ClientHello four bytes long",
              std::string("\x16\x03\x01\x00\x08\x01\x00\x00\x04\xde\xad\xbe\xef", 13), true},
      Garbage{"an HTTP request after a handshake byte", "\x16GET / HTTP/1.1\r\nHost: uvchat\r\n\r\n", false},
      Garbage{"a whole ClientHello, then a Finished that is noise",
              client_hello() + std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, '\x5a'), false});
  INFO(garbage.what);
  TlsServer tls;
  Bystander bystander(tls.server);

  const UniqueFd socket = connect_socket(tls.server.host(), tls.server.port(), "garbage");
  REQUIRE(write_all_within(socket.get(), garbage.bytes, kLineTimeout));
  const std::string answer = read_raw_until_closed(socket.get());
  INFO("the server sent " << answer.size() << " bytes: " << hex_of(answer));
  std::string types;
  CHECK(record_types(answer, types));
  if (garbage.alert) {
    REQUIRE(types.size() == 1);
    CHECK(types[0] == kAlertRecord);
  }
  CHECK(answer.find("server:") == std::string::npos);

  const std::string name = connection_name(tls.server, local_port(socket.get()));
  INFO("the server's log:\n" << tls.server.log());
  CHECK(tls.server.wait_for_log(name + ": TLS: "));
  CHECK(std::regex_search(tls.server.log(), std::regex(name + ": TLS: \\S.*\n")));
  CHECK(tls.server.wait_for_log(name + " closed"));
  bystander.check_served();
  TlsTestClient after(tls.server, {.label = "after (TLS)"});
  after.register_as("after");
  bystander.expect("server:online after");
}

TEST_CASE("TLS hostile: a handshake that never finishes is closed at --register-timeout", "[tls][hostile]") {
  struct Unfinished {
    std::string what;
    std::string bytes;
  };
  const Unfinished unfinished =
      GENERATE(Unfinished{"ten bytes of a ClientHello", client_hello().substr(0, 10)},
               Unfinished{"a ClientHello and no Finished", client_hello()});
  INFO(unfinished.what);
  TlsServer tls({.args = {"--register-timeout", "1"}});
  Bystander bystander(tls.server);

  const Stopwatch watch;
  const UniqueFd socket = connect_socket(tls.server.host(), tls.server.port(), "unfinished");
  REQUIRE(write_all_within(socket.get(), unfinished.bytes, kLineTimeout));
  bystander.check_served();
  const std::string answer = read_raw_until_closed(socket.get(), Duration(4000));
  INFO("the server sent " << answer.size() << " bytes: " << hex_of(answer) << "; the server's log:\n"
                          << tls.server.log());
  CHECK(watch.elapsed() >= Duration(900));
  // Whatever came was TLS (the server's first flight, an alert): the
  // plain-text idle-timeout line has no place in a TLS connection.
  std::string types;
  CHECK(record_types(answer, types));
  CHECK(answer.find("server:") == std::string::npos);
  CHECK(tls.server.wait_for_log(":" + std::to_string(local_port(socket.get())) +
                                ": not registered within 1 s"));
  bystander.check_served();
}

// PROTOCOL.md 1.1: until its first byte the server cannot know which a
// client speaks; the register timeout is said in plain text.
TEST_CASE("TLS hostile: a client that sends nothing is told idle-timeout in plain text at --register-timeout",
          "[tls][hostile]") {
  TlsServer tls({.args = {"--register-timeout", "1"}});
  TestClient silent(tls.server, "silent");
  silent.expect_match("server:error idle-timeout .+");
  silent.expect_closed();
}

TEST_CASE("TLS hostile: a ClientHello sent a byte at a time completes, and the client registers",
          "[tls][hostile]") {
  TlsServer tls;
  Bystander bystander(tls.server);
  TlsTestClient slowpoke(tls.server,
                         {.label = "byte by byte", .ca_file = tls.files.certificate, .handshake_chunk = 1});
  CHECK(slowpoke.verified());
  slowpoke.register_as("slowpoke");
  bystander.expect("server:online slowpoke");
  slowpoke.send_line("bystander: made it");
  bystander.expect_chat("slowpoke: made it");
  bystander.check_served();
}

TEST_CASE("TLS hostile: a renegotiation is refused with no_renegotiation and costs only its connection",
          "[tls][hostile]") {
  TlsServer tls;
  Bystander bystander(tls.server);
  TlsTestClient renegotiator(tls.server, {.label = "renegotiator (TLS 1.2)", .max_version = TLS1_2_VERSION});
  renegotiator.register_as("renegotiator");
  bystander.expect("server:online renegotiator");
  renegotiator.send_line("bystander: before");
  bystander.expect_chat("renegotiator: before");

  renegotiator.request_renegotiation();
  // The server refuses with a no_renegotiation alert and would go on, but
  // OpenSSL as a client takes the refusal as fatal and answers with an
  // alert of its own, which ends this connection, and only it. (A client
  // that did not would have a usable connection: we can show the alert.)
  const std::optional<std::string> line = renegotiator.try_read_line();
  INFO("the renegotiator's TLS error: " << renegotiator.tls_error());
  CHECK_FALSE(line);
  CHECK(renegotiator.closed());
  CHECK(renegotiator.tls_error().find("no renegotiation") != std::string::npos);
  bystander.expect("server:offline renegotiator");
  const std::string name = connection_name(tls.server, renegotiator.local_port());
  CHECK(tls.server.wait_for_log(name + ": TLS: "));
  bystander.check_served();
  TlsTestClient again(tls.server, {.label = "renegotiator again"});
  again.register_as("renegotiator");
  bystander.expect("server:online renegotiator");
}

TEST_CASE("TLS hostile: a client that vanishes mid-record costs only its connection, and its DMs stay queued",
          "[tls][hostile]") {
  const bool reset = GENERATE(false, true);
  INFO((reset ? "then a reset (SO_LINGER 0)" : "then a close (FIN)"));
  TlsServer tls;
  RegisteredClient alice(tls.server, "alice");
  {
    TlsTestClient bob(tls.server, {.label = "bob (TLS)"});
    bob.register_as("bob");
    alice.expect("server:online bob");
    alice.send_line("bob: read before you go");
    bob.expect_chat("alice: read before you go");

    const std::string record = bob.seal("alice: never finished\n");
    bob.send_raw(record.substr(0, record.size() / 2));
    bob.close(reset);
  }
  alice.expect("server:offline bob");
  // Half a record is no line: nothing of it reached alice.
  alice.expect_quiet();
  send_numbered_dms_to_offline(alice, "bob", 3);

  TlsTestClient bob_again(tls.server, {.label = "bob again (TLS)"});
  bob_again.register_as("bob", 3);
  expect_numbered_replay(bob_again, "alice", 3);
  bob_again.expect_quiet();
  alice.expect("server:online bob");
  alice.send_line("bob: and live again");
  bob_again.expect_chat("alice: and live again");
}
