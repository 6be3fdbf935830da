// A connection's TLS state, for the two files that make Connection:
// connection.cpp (which only frees it) and connection_tls.cpp.
#pragma once

#include <memory>

#include "uvchat/net/connection.hpp"
#include "uvchat/net/tls.hpp"

namespace uvchat::net {

struct Connection::Tls {
  explicit Tls(std::shared_ptr<const TlsContext> context)
      : session(std::move(context), TlsSession::Role::kServer) {}

  TlsSession session;
  Fifo<Outgoing> wire;           // records not yet handed to the kernel
  std::size_t plain_offset = 0;  // bytes of output_.front() already sealed
  std::uint64_t sealed = 0;      // bytes ever put on the wire queue
  bool established = false;      // the handshake is done and was logged
  bool peer_closed = false;      // close_notify read; said once the ring is empty
  bool peer_failed = false;      // a broken record read; said the same way
  bool close_notify_sent = false;
};

}  // namespace uvchat::net
