// Taking connections in: from libuv when it polls, and from the listeners'
// queues between polls while a crowd arrives; each one admitted to the hub
// before its first byte is read.
#include <unistd.h>

#include <algorithm>

#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::net {

Connection& Server::new_connection() {
  const chat::SessionId id = next_id_++;
  auto owned = std::make_unique<Connection>(*this, id, limits_);
  Connection& connection = *owned;
  connections_.emplace(id, std::move(owned));
  uv_tcp_init(loop_, connection.tcp());
  return connection;
}

void Server::accept(uv_stream_t* listener) {
  Connection& connection = new_connection();
  if (const int status = uv_accept(listener, connection.stream()); status != 0) {
    log(LogLevel::kWarn, std::string("accept: ") + uv_strerror(status));
    connection.close_now();
    return;
  }
  admit(connection);
}

// During a burst the loop answers hundreds of lines between two polls, and
// libuv accepts only when it polls: 10,000 clients connecting at once
// overflowed the kernel's accept queue (net.core.somaxconn, 4096 by
// default), and the clients it dropped came back a second later. So
// between polls the loop also empties the listeners' queues (on_input):
// every 256 lines, and every 16 while connections keep coming. Taking at
// most 256 every 256 lines, as first written, accepted only as fast as the
// crowd's lines were answered, and the queue still overflowed in a third
// to a half of the runs of 10,000 at once (TcpExtListenOverflows). An
// accepted connection costs a few microseconds, and its first line waits
// in the kernel until it is read; one left to overflow costs its client a
// second. The overflows left after this were the kernel growing the
// descriptor table (src/server/descriptors.cpp). Returns how many were taken.
std::size_t Server::accept_waiting() {
  const int most = std::max(config_.backlog, 1);
  std::size_t all = 0;
  for (const auto& listener : listeners_) {
    int taken = 0;
    for (; taken < most; ++taken) {
      const int fd = listener->accept_waiting();
      if (fd < 0) break;
      Connection& connection = new_connection();
      if (const int status = uv_tcp_open(connection.tcp(), fd); status != 0) {
        log(LogLevel::kWarn, std::string("accept: ") + uv_strerror(status));
        ::close(fd);
        connection.close_now();
        continue;
      }
      admit(connection);
    }
    if (taken > 0) log(LogLevel::kDebug, "accepted " + std::to_string(taken) + " waiting connections between polls");
    all += static_cast<std::size_t>(taken);
  }
  return all;
}

void Server::admit(Connection& connection) {
  const chat::SessionId id = connection.id();
  if (!kAcceptedSocketsInherit) set_connection_options(connection.tcp());
  const auto [peer, ip] = peer_address(connection.tcp());
  log(LogLevel::kInfo, "connection " + std::to_string(id) + " from " + peer);

  hub_.connect(id, peer, ip, loop_time(), effects_);
  apply_effects();
  if (connection.state() != Connection::State::kOpen) return;
  if (tls_ || config_.tls_only) connection.sniff_first_bytes();
  if (const int status = connection.start_reading(); status != 0) {
    log(LogLevel::kWarn, "connection " + std::to_string(id) + ": read: " + uv_strerror(status));
    on_connection_lost(connection);
  }
}

}  // namespace uvchat::net
