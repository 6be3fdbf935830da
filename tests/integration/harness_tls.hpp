// TLS for the integration tests: certificates the test makes, a uvchatd
// that serves them, and a client that speaks TLS with LinePeer's API.
//
// TlsTestClient is a socket of its own with a net::TlsSession (the
// server's code, role kClient) in between: ciphertext from the socket goes
// into the session, plaintext comes out as lines. The bytes on the wire
// are exactly what a real client would send, so the server's handshake,
// its records and its delivery accounting are what is tested; and the
// client can also misbehave on purpose (bytes of a handshake one at a
// time, half a record, a renegotiation, a reset).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"
#include "uvchat/net/tls.hpp"

namespace uvchat::test {

// A self-signed certificate and its key, as files.
struct CertificateFiles {
  std::string certificate;  // path of the PEM certificate
  std::string key;          // path of the PEM key
  std::string fingerprint;  // SHA-256, "AB:CD:..."
};

// A new self-signed certificate (ECDSA P-256, for localhost, 127.0.0.1 and
// ::1) written to DIR/STEM-cert.pem and DIR/STEM-key.pem.
CertificateFiles make_certificate(const TempDir& dir, const std::string& stem = "server");

// A new certificate written over the files of `files` (certbot's renewal):
// each file is written beside and renamed over the old one, so the server
// never reads half of one. Returns the new fingerprint.
std::string renew_certificate(const CertificateFiles& files);

// `--tls-cert CERT --tls-key KEY`.
std::vector<std::string> tls_args(const CertificateFiles& files);

// A TestServer that serves TLS (and plain text) on its port, with a
// certificate made for it in a directory of its own. `setup.args` come
// after the TLS options, so they may add to them (--tls-only).
struct TlsServer {
  explicit TlsServer(ServerSetup setup = {});

  TempDir dir;
  CertificateFiles files;
  TestServer server;
};

struct TlsClientSetup {
  std::string label = "tls";
  // SO_RCVBUF in bytes (0: the system's), as for TestClient.
  int receive_buffer = 0;
  // The local address to connect from (e.g. 127.0.0.2); empty: any.
  std::string source = {};
  // Certificates to verify the server against (verified()); empty: the
  // system's CA store, which knows no test certificate.
  std::string ca_file = {};
  // TLS1_2_VERSION for a TLS 1.2 client; 0: the best both have (1.3).
  int max_version = 0;
  // Handshake bytes are written this many at a time, each write on its
  // own; 0: as they come.
  std::size_t handshake_chunk = 0;
};

// A TLS client: connects and completes the handshake in its constructor
// (or fails the test), then works as any LinePeer.
class TlsTestClient : public LinePeer {
 public:
  explicit TlsTestClient(const TestServer& server, TlsClientSetup setup = {});
  TlsTestClient(const std::string& host, int port, TlsClientSetup setup);
  ~TlsTestClient() override;

  // The server's certificate, "AB:CD:...".
  std::string fingerprint() const { return session_->peer_fingerprint(); }
  // The certificate passed verification against `ca_file`, names included.
  bool verified() const { return session_->peer_verified(); }
  // "TLSv1.3 TLS_AES_256_GCM_SHA384".
  std::string description() const { return session_->description(); }
  net::TlsSession& session() { return *session_; }
  int local_port() const { return test::local_port(socket_.get()); }

  // The end of what the server sent, once read: close_notify, a TLS
  // failure (an alert from the server, or bytes that are not TLS), or
  // neither (TCP's end, or a reset, with no word from TLS).
  bool got_close_notify() const { return close_notify_; }
  // What went wrong with TLS, in OpenSSL's words; empty if nothing did.
  const std::string& tls_error() const { return tls_error_; }

  // `plaintext` sealed into records, not sent: for a test that sends them
  // in pieces with send_raw.
  std::string seal(std::string_view plaintext);
  // Bytes as they are, past TLS.
  void send_raw(std::string_view bytes);
  // Sends close_notify: the end of our input, for the server.
  void send_close_notify();
  // Closes the socket (a FIN, or with `reset` an RST: SO_LINGER 0).
  void close(bool reset = false);

  // TLS 1.2 only: asks the server to renegotiate, which it refuses.
  void request_renegotiation();

 protected:
  ssize_t read_some(char* buffer, std::size_t most) override;
  ssize_t write_some(std::string_view bytes) override;
  bool has_buffered_input() const override { return !plain_.empty() || ended_; }

 private:
  void handshake(std::size_t chunk);
  // Ciphertext in, plaintext out into plain_, until the session wants more.
  void decrypt();
  // Writes what the session has to send, `chunk` bytes a write (0: all);
  // false when the socket would not take it.
  bool flush_output(std::size_t chunk = 0);

  UniqueFd socket_;
  std::unique_ptr<net::TlsSession> session_;
  std::string plain_;  // decrypted, not yet read by LinePeer
  bool ended_ = false;
  bool close_notify_ = false;
  std::string tls_error_;
};

// A child process's stdout and stdin as a LinePeer, e.g. `openssl s_client
// -quiet`. Its stderr is drained.
class ProcessPeer : public LinePeer {
 public:
  ProcessPeer(const std::vector<std::string>& argv, std::string label);

  const ChildProcess& process() const { return process_; }
  void close_stdin();
  ExitStatus wait_exit(Duration timeout = kExitTimeout) { return process_.wait_exit(timeout); }

 private:
  ChildProcess process_;
};

// `openssl s_client -quiet` connected to `server`, verifying its
// certificate against `ca_file` for the address 127.0.0.1. Nothing when
// the openssl command is not installed.
std::unique_ptr<ProcessPeer> openssl_s_client(const TestServer& server, const std::string& ca_file,
                                              const std::vector<std::string>& more_args = {});

// "connection N": the name the server's log gives the connection from
// 127.0.0.1:PORT (or SOURCE:PORT), once it has logged it.
std::string connection_name(const TestServer& server, int local_port,
                            const std::string& source = "127.0.0.1");

// The ClientHello a client of ours sends first, as bytes: for tests that
// send it, or some of it, themselves.
std::string client_hello();

}  // namespace uvchat::test
