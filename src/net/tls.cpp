#include "uvchat/net/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#if defined(__linux__) && (defined(__aarch64__) || defined(__arm__))
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <algorithm>
#include <cstring>
#include <limits>

namespace uvchat::net {
namespace {

// Largest plaintext of one record (RFC 8446 §5.1): write() cuts there, so
// that a record ends where the caller can know it does.
constexpr std::size_t kMaxRecordPlaintext = 16384;

// The oldest error on this thread's OpenSSL queue, in words, and the queue
// emptied: a stale error would make the next SSL_get_error lie.
std::string openssl_error(std::string_view fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(fallback);
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::string hex_fingerprint(const unsigned char* digest, unsigned int length) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  text.reserve(length * 3);
  for (unsigned int i = 0; i < length; ++i) {
    if (i != 0) text += ':';
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0xF];
  }
  return text;
}

// A memory BIO that reads `pem` in place; null if it is too long for one.
BIO* pem_reader(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
}

// Never asks for a password: a server has nobody to ask.
int no_password(char*, int, int, void*) { return 0; }

// The leaf, then the rest of the chain, as SSL_CTX_use_certificate_chain_file
// reads them from a file.
bool use_certificate_chain(SSL_CTX* context, std::string_view pem) {
  BIO* bio = pem_reader(pem);
  if (bio == nullptr) return false;
  X509* leaf = PEM_read_bio_X509_AUX(bio, nullptr, no_password, nullptr);
  bool used = leaf != nullptr && SSL_CTX_use_certificate(context, leaf) == 1 &&
              SSL_CTX_clear_chain_certs(context) == 1;
  X509_free(leaf);
  while (used) {
    X509* next = PEM_read_bio_X509(bio, nullptr, no_password, nullptr);
    if (next == nullptr) break;
    if (SSL_CTX_add0_chain_cert(context, next) != 1) {
      X509_free(next);
      used = false;
    }
  }
  BIO_free(bio);
  if (!used) return false;
  // The end of the text is "no start line" on the queue: no error of ours.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) ERR_clear_error();
  return ERR_peek_error() == 0;
}

bool use_private_key(SSL_CTX* context, std::string_view pem) {
  BIO* bio = pem_reader(pem);
  if (bio == nullptr) return false;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, no_password, nullptr);
  BIO_free(bio);
  const bool used = key != nullptr && SSL_CTX_use_PrivateKey(context, key) == 1;
  EVP_PKEY_free(key);
  return used;
}

}  // namespace

// The BIO under every session: memory only, and the session's own. Reads
// come from what receive() was given (the copy kept_ first, then the view),
// writes are appended to output_. With nothing to read it asks OpenSSL to
// retry, which OpenSSL reports as SSL_ERROR_WANT_READ: more must arrive.
struct TlsBio {
  static TlsSession* session(BIO* bio) { return static_cast<TlsSession*>(BIO_get_data(bio)); }

  static int write(BIO* bio, const char* data, std::size_t length, std::size_t* written) {
    BIO_clear_retry_flags(bio);
    session(bio)->output_.append(data, length);
    *written = length;
    return 1;
  }

  static int read(BIO* bio, char* data, std::size_t length, std::size_t* read_bytes) {
    BIO_clear_retry_flags(bio);
    TlsSession& self = *session(bio);
    std::size_t copied = 0;
    if (self.kept_offset_ < self.kept_.size()) {
      copied = std::min(length, self.kept_.size() - self.kept_offset_);
      std::memcpy(data, self.kept_.data() + self.kept_offset_, copied);
      self.kept_offset_ += copied;
      if (self.kept_offset_ == self.kept_.size()) {
        self.kept_.clear();
        self.kept_.shrink_to_fit();
        self.kept_offset_ = 0;
      }
    }
    if (copied < length && !self.incoming_.empty()) {
      const std::size_t more = std::min(length - copied, self.incoming_.size());
      std::memcpy(data + copied, self.incoming_.data(), more);
      self.incoming_ = self.incoming_.subspan(more);
      copied += more;
    }
    if (copied == 0) {
      BIO_set_retry_read(bio);
      *read_bytes = 0;
      return 0;
    }
    *read_bytes = copied;
    return 1;
  }

  static long control(BIO*, int command, long, void*) {
    // SSL flushes after each flight; everything is in output_ already.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static const BIO_METHOD* method() {
    static BIO_METHOD* const kMethod = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "uvchat memory");
      BIO_meth_set_write_ex(made, write);
      BIO_meth_set_read_ex(made, read);
      BIO_meth_set_ctrl(made, control);
      BIO_meth_set_create(made, create);
      return made;
    }();
    return kMethod;
  }
};

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

// What both ends insist on: TLS 1.2 at least, no renegotiation (a client
// could make the server redo its most costly work at will), no compression
// (CRIME).
std::shared_ptr<TlsContext> TlsContext::make(const SSL_METHOD* method, std::string& error) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(method);
  if (raw == nullptr) {
    error = openssl_error("cannot make a TLS context");
    return nullptr;
  }
  auto context = std::make_shared<TlsContext>(raw);
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  return context;
}

std::shared_ptr<TlsContext> TlsContext::new_server(std::string& error) {
  auto context = make(TLS_server_method(), error);
  if (!context) return nullptr;
  SSL_CTX* raw = context->get();
  // The server picks the cipher.
  SSL_CTX_set_options(raw, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle connection gives its record buffers back: there may be
  // thousands on a Raspberry Pi.
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  // One ticket is all a client that comes back needs (OpenSSL sends two).
  SSL_CTX_set_num_tickets(raw, 1);
  if (!aes_in_hardware()) context->prefer_chacha20();
  // An encrypted key fails to load rather than have OpenSSL ask for its
  // pass phrase on the terminal, which would stop the loop at a SIGHUP.
  SSL_CTX_set_default_passwd_cb(raw, [](char*, int, int, void*) { return 0; });
  return context;
}

bool TlsContext::aes_in_hardware() {
#if defined(__linux__) && defined(__aarch64__)
  return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
#elif defined(__linux__) && defined(__arm__)
  return (getauxval(AT_HWCAP2) & HWCAP2_AES) != 0;
#else
  return true;  // x86-64 has had AES-NI for a decade; elsewhere, OpenSSL's order
#endif
}

bool TlsContext::prefer_chacha20() {
  return SSL_CTX_set_ciphersuites(
             context_, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") == 1 &&
         SSL_CTX_set_cipher_list(context_,
                                 "ECDHE+CHACHA20:ECDHE+AESGCM:!aNULL:!eNULL:!MD5:!DSS:!RC4:!3DES:!SHA1") == 1;
}

bool TlsContext::finish_server(const std::string& mismatch, std::string& error) {
  if (SSL_CTX_check_private_key(context_) != 1) {
    error = mismatch;
    ERR_clear_error();
    return false;
  }
  if (X509* leaf = SSL_CTX_get0_certificate(context_)) fingerprint_ = certificate_fingerprint(leaf);
  return true;
}

std::shared_ptr<TlsContext> TlsContext::server(const std::string& certificate_path, const std::string& key_path,
                                               std::string& error) {
  auto context = new_server(error);
  if (!context) return nullptr;
  SSL_CTX* raw = context->get();
  if (SSL_CTX_use_certificate_chain_file(raw, certificate_path.c_str()) != 1) {
    error = "cannot use certificate " + certificate_path + ": " + openssl_error("unreadable");
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot use key " + key_path + ": " + openssl_error("unreadable");
    return nullptr;
  }
  if (!context->finish_server("key " + key_path + " does not match certificate " + certificate_path, error)) {
    return nullptr;
  }
  return context;
}

std::shared_ptr<TlsContext> TlsContext::server_from_pem(std::string_view certificate_pem,
                                                        std::string_view key_pem, std::string& error) {
  auto context = new_server(error);
  if (!context) return nullptr;
  if (!use_certificate_chain(context->get(), certificate_pem)) {
    error = "cannot use the certificate: " + openssl_error("no certificate in the PEM");
    return nullptr;
  }
  if (!use_private_key(context->get(), key_pem)) {
    error = "cannot use the key: " + openssl_error("no key in the PEM");
    return nullptr;
  }
  if (!context->finish_server("the key does not match the certificate", error)) return nullptr;
  return context;
}

std::shared_ptr<TlsContext> TlsContext::client(const std::string& ca_path, std::string& error) {
  auto context = make(TLS_client_method(), error);
  if (!context) return nullptr;
  SSL_CTX* raw = context->get();
  // Verification runs, and its result is looked at once the handshake is
  // done (peer_verified): a client may then trust the certificate by its
  // fingerprint instead, as ssh does.
  SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  const int loaded = ca_path.empty() ? SSL_CTX_set_default_verify_paths(raw)
                                     : SSL_CTX_load_verify_locations(raw, ca_path.c_str(), nullptr);
  if (loaded != 1) {
    error = (ca_path.empty() ? std::string("cannot load the system's CA certificates")
                             : "cannot use CA file " + ca_path) +
            ": " + openssl_error("unreadable");
    return nullptr;
  }
  return context;
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, Role role, std::string_view server_name)
    : context_(std::move(context)) {
  ssl_ = SSL_new(context_->get());
  if (ssl_ == nullptr) {
    fail(openssl_error("cannot make a TLS session"));
    return;
  }
  BIO* bio = BIO_new(TlsBio::method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; the SSL owns it
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (server_name.empty()) return;
  const std::string name(server_name);
  // SNI carries host names only; the name check takes an address too.
  ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
  if (address == nullptr) {
    ERR_clear_error();
    SSL_set_tlsext_host_name(ssl_, name.c_str());
    SSL_set1_host(ssl_, name.c_str());
  } else {
    ASN1_OCTET_STRING_free(address);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::fail(std::string why) {
  if (failed_) return;
  failed_ = true;
  error_ = std::move(why);
}

void TlsSession::receive(std::span<const char> ciphertext) {
  if (!incoming_.empty()) keep_unread();
  incoming_ = ciphertext;
}

void TlsSession::keep_unread() {
  if (incoming_.empty()) return;
  if (kept_offset_ > 0) {
    kept_.erase(0, kept_offset_);
    kept_offset_ = 0;
  }
  kept_.append(incoming_.data(), incoming_.size());
  incoming_ = {};
}

bool TlsSession::has_unread() const { return kept_offset_ < kept_.size() || !incoming_.empty(); }

void TlsSession::start_handshake() {
  if (failed_) return;
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) return;
  const int code = SSL_get_error(ssl_, result);
  if (code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE) fail(openssl_error("handshake failed"));
}

TlsSession::ReadResult TlsSession::read(std::span<char> plaintext) {
  ReadResult result;
  if (failed_) {
    result.status = Status::kFailed;
    return result;
  }
  while (result.bytes < plaintext.size()) {
    ERR_clear_error();
    std::size_t got = 0;
    const int status = SSL_read_ex(ssl_, plaintext.data() + result.bytes, plaintext.size() - result.bytes, &got);
    if (status == 1) {
      result.bytes += got;
      continue;
    }
    switch (SSL_get_error(ssl_, status)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE: return result;
      case SSL_ERROR_ZERO_RETURN: result.status = Status::kClosed; return result;
      default:
        fail(openssl_error("the peer broke the TLS protocol"));
        result.status = Status::kFailed;
        return result;
    }
  }
  return result;
}

bool TlsSession::write(std::span<const char> plaintext) {
  while (!failed_ && !plaintext.empty()) {
    ERR_clear_error();
    const std::size_t chunk = std::min(plaintext.size(), kMaxRecordPlaintext);
    std::size_t written = 0;
    if (SSL_write_ex(ssl_, plaintext.data(), chunk, &written) != 1) {
      fail(openssl_error("cannot encrypt"));
      break;
    }
    plaintext = plaintext.subspan(written);
  }
  return !failed_;
}

void TlsSession::shutdown() {
  // A second SSL_shutdown would read (and drop) records still unread.
  if (failed_ || !handshake_done() || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string TlsSession::take_output() {
  std::string taken;
  taken.swap(output_);
  return taken;
}

bool TlsSession::handshake_done() const { return ssl_ != nullptr && SSL_is_init_finished(ssl_) == 1; }

std::string TlsSession::description() const {
  if (ssl_ == nullptr) return {};
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

bool TlsSession::session_reused() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }

std::shared_ptr<SSL_SESSION> TlsSession::session() const {
  SSL_SESSION* current = ssl_ == nullptr ? nullptr : SSL_get0_session(ssl_);
  if (current == nullptr || SSL_SESSION_is_resumable(current) != 1) return nullptr;
  SSL_SESSION* copy = SSL_SESSION_dup(current);
  if (copy == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  return std::shared_ptr<SSL_SESSION>(copy, SSL_SESSION_free);
}

bool TlsSession::resume(const std::shared_ptr<SSL_SESSION>& saved) {
  if (!saved || failed_ || ssl_ == nullptr || SSL_is_server(ssl_) == 1) return false;
  // A copy of its own: the saved one stays resumable for the next.
  SSL_SESSION* copy = SSL_SESSION_dup(saved.get());
  const bool offered = copy != nullptr && SSL_set_session(ssl_, copy) == 1;
  SSL_SESSION_free(copy);  // SSL_set_session holds its own reference
  if (!offered) ERR_clear_error();
  return offered;
}

std::string TlsSession::peer_fingerprint() const {
  X509* certificate = ssl_ == nullptr ? nullptr : SSL_get0_peer_certificate(ssl_);
  return certificate == nullptr ? std::string() : certificate_fingerprint(certificate);
}

bool TlsSession::peer_verified() const {
  return ssl_ != nullptr && SSL_get0_peer_certificate(ssl_) != nullptr &&
         SSL_get_verify_result(ssl_) == X509_V_OK;
}

std::string TlsSession::verify_error() const {
  if (ssl_ == nullptr) return "no session";
  if (SSL_get0_peer_certificate(ssl_) == nullptr) return "the server sent no certificate";
  return X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
}

std::string certificate_fingerprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return {};
  }
  return hex_fingerprint(digest, length);
}

}  // namespace uvchat::net
