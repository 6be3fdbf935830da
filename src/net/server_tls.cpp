// The server's TLS: its context (loaded at start and at each SIGHUP), the
// first bytes that say whether a connection speaks it, and what a broken
// session costs. The records themselves are Connection's (connection_tls.cpp).
#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"
#include "uvchat/net/tls.hpp"
#include "uvchat/protocol/door.hpp"

namespace uvchat::net {

std::string Server::load_tls(const std::string& certificate, const std::string& key) {
  std::string error;
  std::shared_ptr<TlsContext> context = TlsContext::server(certificate, key.empty() ? certificate : key, error);
  if (!context) return error;
  tls_ = std::move(context);
  log(LogLevel::kInfo, "TLS certificate " + certificate + ", SHA-256 fingerprint " + tls_->fingerprint());
  return {};
}

void Server::reload_tls() {
  if (config_.tls_cert.empty()) {
    if (tls_) log(LogLevel::kInfo, "TLS off for new connections");
    tls_.reset();
    return;
  }
  if (std::string error = load_tls(config_.tls_cert, config_.tls_key); !error.empty()) {
    log(LogLevel::kError, "reload: " + error + (tls_ ? "; new connections get the certificate they got before"
                                                     : "; no TLS until it loads"));
  }
}

// A ClientHello gets TLS; plain text gets the native door, unless
// --tls-only wants TLS from everyone but this machine's own clients.
void Server::on_first_bytes(Connection& connection) {
  std::string scratch;
  const protocol::Door door = protocol::sniff_door(connection.input().peek(1, scratch));
  if (door == protocol::Door::kTls && tls_) {
    connection.start_tls(tls_);
    on_input(connection);
    return;
  }
  if (!config_.tls_only) return;
  const std::string ip = peer_address(connection.tcp()).second;
  if (ip == "127.0.0.1" || ip == "::1" || ip == "::ffff:127.0.0.1") return;
  log(LogLevel::kInfo, "connection " + std::to_string(connection.id()) + " refused: plain text (--tls-only)");
  connection.input().clear();
  hub_.refuse(connection.id(), protocol::ErrorCode::kTlsRequired,
              "this server takes TLS only: connect with uvchat --tls, or openssl s_client", effects_);
  apply_effects();
}

void Server::on_tls_established(Connection& connection) {
  const TlsSession& session = *connection.tls_session();
  log(LogLevel::kInfo, "connection " + std::to_string(connection.id()) + ": " + session.description() +
                           (session.session_reused() ? ", resumed" : ""));
}

// Before the handshake is done the client is told with an alert, which is
// written before the close; after it, the connection is broken and reset,
// so that only what the client acknowledged counts as delivered.
void Server::on_tls_failed(Connection& connection) {
  const TlsSession& session = *connection.tls_session();
  log(LogLevel::kInfo, "connection " + std::to_string(connection.id()) + ": TLS: " + session.error());
  if (connection.tls_established()) {
    on_connection_lost(connection);
    return;
  }
  hub_.disconnect(connection.id(), effects_);
  apply_effects();
  connection.close_after_flush();
}

}  // namespace uvchat::net
