// TLS over a socket the program owns: OpenSSL 3 with no I/O of its own.
//
// A TlsSession sits between a connection's bytes and its lines, as in h2o's
// lib/common/socket.c: ciphertext that arrived is handed to it (receive),
// plaintext comes out of read(); plaintext to send goes into write(), and
// the records it makes wait in output() until the caller writes them. Its
// BIO is ours and memory only: OpenSSL never touches a socket, so the
// server's loop, its coalesced writes and its delivery accounting stay as
// they are, and the whole of it runs (and is fuzzed) without a network.
//
// Handshake records, alerts and session tickets come out of any call, read()
// included: the caller looks at output() after every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using SSL_CTX = struct ssl_ctx_st;
using SSL_METHOD = struct ssl_method_st;
using SSL = struct ssl_st;
using SSL_SESSION = struct ssl_session_st;
using X509 = struct x509_st;

namespace uvchat::net {

// An SSL_CTX: the server's (a certificate and its key) or a client's (what
// it trusts). Shared: every session made from it holds it, so a context
// replaced by a reload lives until its last session ends.
class TlsContext {
 public:
  // The certificate file may hold the full chain (leaf first). On failure
  // returns null and says why in `error`, in words for a log.
  static std::shared_ptr<TlsContext> server(const std::string& certificate_path, const std::string& key_path,
                                            std::string& error);
  // The same from PEM text, for a certificate that never was a file (the
  // fuzz target's, tests'). An encrypted key is refused, not asked about.
  static std::shared_ptr<TlsContext> server_from_pem(std::string_view certificate_pem,
                                                     std::string_view key_pem, std::string& error);
  // Verifies servers against the system's CA store, or against the
  // certificates in `ca_path` alone when it is not empty.
  static std::shared_ptr<TlsContext> client(const std::string& ca_path, std::string& error);

  explicit TlsContext(SSL_CTX* context) : context_(context) {}
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return context_; }
  // The server's certificate: "AB:CD:..." (SHA-256), as `openssl x509
  // -fingerprint -sha256` prints it. Empty for a client's context.
  const std::string& fingerprint() const { return fingerprint_; }

  // Whether this CPU encrypts AES in hardware (AES-NI, the ARMv8 crypto
  // extensions). A Raspberry Pi 3 or 4 does not: there ChaCha20-Poly1305 is
  // several times cheaper, and server() puts it first.
  static bool aes_in_hardware();
  // The server's cipher order with ChaCha20-Poly1305 first, TLS 1.3 and 1.2.
  bool prefer_chacha20();

 private:
  // A context with what both ends insist on.
  static std::shared_ptr<TlsContext> make(const SSL_METHOD* method, std::string& error);
  // A server context with everything but its certificate and key.
  static std::shared_ptr<TlsContext> new_server(std::string& error);
  // Checks the key against the certificate and keeps the fingerprint.
  bool finish_server(const std::string& mismatch, std::string& error);

  SSL_CTX* context_;
  std::string fingerprint_;
};

class TlsSession {
 public:
  enum class Role : std::uint8_t { kServer, kClient };
  enum class Status : std::uint8_t {
    kOk,      // read() returned what there was (maybe nothing: more must arrive)
    kClosed,  // the peer sent close_notify: the end of its input
    kFailed,  // a fatal error (error() says which); an alert may be in output()
  };
  struct ReadResult {
    std::size_t bytes = 0;
    Status status = Status::kOk;
  };

  // `server_name`: for a client, the host it asks for (SNI) and checks the
  // certificate against; ignored for a server.
  TlsSession(std::shared_ptr<const TlsContext> context, Role role, std::string_view server_name = {});
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext that arrived. Only a view is kept until the next read():
  // what read() leaves of it is copied by keep_unread().
  void receive(std::span<const char> ciphertext);
  void receive(std::string&&) = delete;  // the view would outlive it
  // Copies the ciphertext read() has not consumed yet, before the buffer
  // given to receive() is reused.
  void keep_unread();
  bool has_unread() const;

  // A client's first flight; a server's handshake goes on as data arrives.
  void start_handshake();
  // Decrypts into `plaintext` as much as fits and has arrived. Drives the
  // handshake on the way.
  ReadResult read(std::span<char> plaintext);
  // Encrypts all of `plaintext` into output(): one record per 16 KiB.
  // False once the session has failed.
  bool write(std::span<const char> plaintext);
  // Queues close_notify.
  void shutdown();

  // Ciphertext to send, oldest first.
  std::string& output() { return output_; }
  std::string take_output();

  bool handshake_done() const;
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  // "TLSv1.3 TLS_AES_128_GCM_SHA256", for logs.
  std::string description() const;
  bool session_reused() const;

  // Resumption, for a client: the session to offer the server on a later
  // connection (resume()), so that the two skip the certificate and its
  // signatures. TLS 1.3 gives it in a ticket the server sends after the
  // handshake, which read() takes in: null until then, and when the server
  // sends none. A copy, which stays resumable whatever becomes of this
  // connection (OpenSSL marks a session it frees unclosed as spent).
  std::shared_ptr<SSL_SESSION> session() const;
  // Before start_handshake(): offers a copy of `saved`. The server may take
  // it (session_reused() says so once the handshake is done) or refuse it
  // and make a new one. False for a server's session, or with nothing to
  // offer; the handshake is a full one then.
  bool resume(const std::shared_ptr<SSL_SESSION>& saved);

  // A client's view of the server: its certificate's SHA-256 ("AB:CD:...")
  // and whether it passed the context's verification and the name check.
  std::string peer_fingerprint() const;
  bool peer_verified() const;
  std::string verify_error() const;

  SSL* ssl() const { return ssl_; }

 private:
  friend struct TlsBio;
  void fail(std::string why);

  std::shared_ptr<const TlsContext> context_;
  SSL* ssl_ = nullptr;
  std::span<const char> incoming_;  // received, not yet read, not copied
  std::string kept_;                // received before, copied by keep_unread
  std::size_t kept_offset_ = 0;
  std::string output_;
  std::string error_;
  bool failed_ = false;
};

// Certificates for people: the fingerprint of a PEM file, and a
// self-signed certificate for a server that has none (uvchatd --make-cert).
std::string certificate_fingerprint(X509* certificate);

struct SelfSigned {
  std::string certificate_pem;
  std::string key_pem;
  std::string fingerprint;
  std::string error;  // not empty: nothing was made
};
// An ECDSA P-256 key (cheap handshakes on a Raspberry Pi) and a
// certificate valid for `days`, for `host_names` (the first is the
// subject; IP addresses among them go in as such).
SelfSigned make_self_signed(const std::vector<std::string>& host_names, int days);

}  // namespace uvchat::net
