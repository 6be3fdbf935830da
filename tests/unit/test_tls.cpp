// TlsSession with no network: a client and a server session hand each
// other their output, as two sockets would.
#include <openssl/ssl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "uvchat/net/tls.hpp"

using uvchat::net::make_self_signed;
using uvchat::net::TlsContext;
using uvchat::net::TlsSession;

namespace {

struct TempFiles {
  std::filesystem::path dir;
  TempFiles() {
    char pattern[] = "/tmp/uvchat-tls-test-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~TempFiles() { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path path = dir / name;
    std::ofstream(path) << text;
    return path.string();
  }
};

struct Pair {
  TempFiles files;
  std::shared_ptr<TlsContext> server_context;
  std::shared_ptr<TlsContext> client_context;
  std::string fingerprint;
  std::unique_ptr<TlsSession> server;
  std::unique_ptr<TlsSession> client;

  explicit Pair(bool trust = true) {
    const uvchat::net::SelfSigned made = make_self_signed({"localhost", "127.0.0.1"}, 30);
    REQUIRE(made.error.empty());
    fingerprint = made.fingerprint;
    const std::string cert = files.write("cert.pem", made.certificate_pem);
    const std::string key = files.write("key.pem", made.key_pem);
    std::string error;
    server_context = TlsContext::server(cert, key, error);
    REQUIRE(server_context);
    client_context = TlsContext::client(trust ? cert : files.write("empty.pem", made.certificate_pem.substr(0, 0)), error);
    if (!trust) {
      error.clear();
      client_context = TlsContext::client({}, error);
    }
    REQUIRE(client_context);
    server = std::make_unique<TlsSession>(server_context, TlsSession::Role::kServer);
    client = std::make_unique<TlsSession>(client_context, TlsSession::Role::kClient, "localhost");
  }

  // Moves everything each side has to say to the other, until both are
  // quiet; returns what each read.
  std::pair<std::string, std::string> pump() {
    std::string to_server, to_client;
    char buffer[4096];
    for (int round = 0; round < 20; ++round) {
      std::string from_client = client->take_output();
      std::string from_server = server->take_output();
      if (from_client.empty() && from_server.empty() && round > 0) break;
      server->receive(from_client);
      for (;;) {
        const auto got = server->read(buffer);
        to_server.append(buffer, got.bytes);
        if (got.bytes < sizeof buffer) break;
      }
      server->keep_unread();
      client->receive(from_server);
      for (;;) {
        const auto got = client->read(buffer);
        to_client.append(buffer, got.bytes);
        if (got.bytes < sizeof buffer) break;
      }
      client->keep_unread();
    }
    return {to_server, to_client};
  }
};

}  // namespace

TEST_CASE("tls: a client and a server shake hands and talk, in memory") {
  Pair pair;
  pair.client->start_handshake();
  pair.pump();
  REQUIRE(pair.client->handshake_done());
  REQUIRE(pair.server->handshake_done());
  CHECK(pair.client->peer_verified());
  CHECK(pair.client->peer_fingerprint() == pair.fingerprint);
  CHECK(pair.server_context->fingerprint() == pair.fingerprint);
  CHECK(pair.client->description().rfind("TLSv1.3 ", 0) == 0);

  REQUIRE(pair.client->write(std::string_view("server:register alice\n")));
  REQUIRE(pair.server->write(std::string_view("server:welcome alice\n")));
  const auto [at_server, at_client] = pair.pump();
  CHECK(at_server == "server:register alice\n");
  CHECK(at_client == "server:welcome alice\n");
}

TEST_CASE("tls: a record is at most 16 KiB of plaintext, and a large write arrives whole") {
  Pair pair;
  pair.client->start_handshake();
  pair.pump();
  const std::string big(100'000, 'x');
  REQUIRE(pair.server->write(big));
  CHECK(pair.server->output().size() > big.size());
  const auto [at_server, at_client] = pair.pump();
  CHECK(at_client == big);
}

TEST_CASE("tls: ciphertext that arrives a byte at a time is read all the same") {
  Pair pair;
  pair.client->start_handshake();
  const std::string hello = pair.client->take_output();
  char buffer[256];
  for (const char byte : hello) {
    pair.server->receive(std::span<const char>(&byte, 1));
    CHECK(pair.server->read(buffer).status == TlsSession::Status::kOk);
    pair.server->keep_unread();
  }
  CHECK_FALSE(pair.server->output().empty());  // its first flight
  pair.pump();
  CHECK(pair.server->handshake_done());
}

TEST_CASE("tls: garbage fails the session, with an alert to send and a reason") {
  Pair pair;
  // A record that says it holds a ClientHello of four bytes.
  const std::string garbage("\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", 13);
  pair.server->receive(garbage);
  char buffer[64];
  CHECK(pair.server->read(buffer).status == TlsSession::Status::kFailed);
  CHECK(pair.server->failed());
  CHECK_FALSE(pair.server->error().empty());
  CHECK_FALSE(pair.server->write(std::string_view("late\n")));
}

TEST_CASE("tls: close_notify reads as the end of input") {
  Pair pair;
  pair.client->start_handshake();
  pair.pump();
  pair.client->shutdown();
  const std::string notify = pair.client->take_output();
  pair.server->receive(notify);
  char buffer[64];
  const auto status = pair.server->read(buffer).status;
  INFO(pair.server->error());
  CHECK(status == TlsSession::Status::kClosed);
}

TEST_CASE("tls: a client that does not trust the certificate still learns its fingerprint") {
  Pair pair(false);
  pair.client->start_handshake();
  pair.pump();
  REQUIRE(pair.client->handshake_done());
  CHECK_FALSE(pair.client->peer_verified());
  CHECK(pair.client->peer_fingerprint() == pair.fingerprint);
  CHECK_FALSE(pair.client->verify_error().empty());
}

TEST_CASE("tls: a server context refuses a key that is not the certificate's") {
  TempFiles files;
  const auto one = make_self_signed({"one"}, 1);
  const auto two = make_self_signed({"two"}, 1);
  std::string error;
  CHECK_FALSE(TlsContext::server(files.write("c.pem", one.certificate_pem), files.write("k.pem", two.key_pem), error));
  CHECK(error.find("cannot use key") != std::string::npos);
  error.clear();
  CHECK_FALSE(TlsContext::server(files.write("bad.pem", "not a certificate\n"), files.write("k2.pem", one.key_pem), error));
  CHECK(error.find("cannot use certificate") != std::string::npos);
}

TEST_CASE("tls: a server context from PEM text serves as one from files") {
  const auto made = make_self_signed({"localhost"}, 1);
  const auto other = make_self_signed({"other"}, 1);
  std::string error;
  Pair pair;
  pair.server_context = TlsContext::server_from_pem(made.certificate_pem, made.key_pem, error);
  REQUIRE(pair.server_context);
  CHECK(pair.server_context->fingerprint() == made.fingerprint);
  pair.server = std::make_unique<TlsSession>(pair.server_context, TlsSession::Role::kServer);
  pair.client->start_handshake();
  pair.pump();
  REQUIRE(pair.server->handshake_done());
  CHECK(pair.client->peer_fingerprint() == made.fingerprint);

  // A full chain: the leaf first, what follows is sent along.
  CHECK(TlsContext::server_from_pem(made.certificate_pem + other.certificate_pem, made.key_pem, error));

  // OpenSSL checks the key against the certificate as it takes it.
  CHECK_FALSE(TlsContext::server_from_pem(made.certificate_pem, other.key_pem, error));
  CHECK(error.find("cannot use the key") == 0);
  CHECK_FALSE(TlsContext::server_from_pem("not a certificate\n", made.key_pem, error));
  CHECK(error.find("cannot use the certificate") == 0);
  CHECK_FALSE(TlsContext::server_from_pem(made.certificate_pem, made.certificate_pem, error));
  CHECK(error.find("cannot use the key") == 0);
  // A chain whose second certificate is broken is refused, not cut short.
  const std::string broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  CHECK_FALSE(TlsContext::server_from_pem(made.certificate_pem + broken, made.key_pem, error));
}

namespace {

// A new connection between the same two contexts, as a client that comes back.
void reconnect(Pair& pair) {
  pair.server = std::make_unique<TlsSession>(pair.server_context, TlsSession::Role::kServer);
  pair.client = std::make_unique<TlsSession>(pair.client_context, TlsSession::Role::kClient, "localhost");
}

// Hands what `from` has to say to `to`, once.
void hand_over(TlsSession& from, TlsSession& to) {
  const std::string bytes = from.take_output();
  to.receive(bytes);
  char buffer[256];
  to.read(buffer);
  to.keep_unread();
}

}  // namespace

TEST_CASE("tls: a client resumes the session of its ticket, on as many connections as it likes") {
  Pair pair;
  pair.client->start_handshake();
  hand_over(*pair.client, *pair.server);  // ClientHello
  hand_over(*pair.server, *pair.client);  // ServerHello .. Finished
  REQUIRE(pair.client->handshake_done());
  // The ticket comes after the client's Finished: nothing to resume yet.
  CHECK(pair.client->session() == nullptr);
  pair.pump();
  const std::shared_ptr<SSL_SESSION> saved = pair.client->session();
  REQUIRE(saved);
  CHECK_FALSE(pair.client->session_reused());
  // Freed without close_notify, as a connection that was reset: the saved
  // copy must stay good all the same.
  pair.client.reset();

  for (int connection = 0; connection < 2; ++connection) {
    CAPTURE(connection);
    reconnect(pair);
    CHECK_FALSE(pair.server->resume(saved));
    REQUIRE(pair.client->resume(saved));
    pair.client->start_handshake();
    pair.pump();
    REQUIRE(pair.client->handshake_done());
    CHECK(pair.client->session_reused());
    CHECK(pair.server->session_reused());
    REQUIRE(pair.client->write(std::string_view("server:register alice\n")));
    CHECK(pair.pump().first == "server:register alice\n");
  }
  CHECK_FALSE(pair.client->resume(nullptr));
}

TEST_CASE("tls: a server that cannot take a session shakes hands in full") {
  Pair first;
  first.client->start_handshake();
  first.pump();
  const std::shared_ptr<SSL_SESSION> saved = first.client->session();
  REQUIRE(saved);

  // Another server: another key for its tickets, another certificate.
  Pair other;
  REQUIRE(other.client->resume(saved));
  other.client->start_handshake();
  other.pump();
  REQUIRE(other.client->handshake_done());
  REQUIRE(other.server->handshake_done());
  CHECK_FALSE(other.client->session_reused());
  CHECK(other.client->peer_fingerprint() == other.fingerprint);
  REQUIRE(other.client->write(std::string_view("hello\n")));
  CHECK(other.pump().first == "hello\n");
}

TEST_CASE("tls: a server that prefers ChaCha20 (a CPU without AES in hardware) gets it, in 1.3 and 1.2") {
  for (const bool tls12 : {false, true}) {
    Pair pair;
    REQUIRE(pair.server_context->prefer_chacha20());
    if (tls12) SSL_set_max_proto_version(pair.client->ssl(), TLS1_2_VERSION);
    pair.server = std::make_unique<TlsSession>(pair.server_context, TlsSession::Role::kServer);
    pair.client->start_handshake();
    pair.pump();
    REQUIRE(pair.server->handshake_done());
    INFO(pair.server->description());
    CHECK(pair.server->description().find("CHACHA20") != std::string::npos);
    CHECK(pair.server->description().find(tls12 ? "TLSv1.2" : "TLSv1.3") == 0);
  }
}
