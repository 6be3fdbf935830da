// A listening TCP socket on one address.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace uvchat::net {

// Resolves `host` (an IPv4 or IPv6 address, or a name such as localhost) to
// the addresses to listen on. Returns a uv error code, 0 on success.
int resolve_listen_addresses(const std::string& host, int port, std::vector<sockaddr_storage>& out);

// "127.0.0.1:8080" or "[::1]:8080".
std::string format_address(const sockaddr* address);
// A connection's peer: "127.0.0.1:50000" for logs, and "127.0.0.1" for
// per-address limits; {"?", ""} if the socket cannot tell.
std::pair<std::string, std::string> peer_address(uv_tcp_t* tcp);

// The options of a client's socket: no Nagle, and keepalive probes and a
// user timeout that notice a vanished peer within about 90 s.
void set_connection_options(uv_tcp_t* tcp);
// Linux copies a listening socket's options (TCP_NODELAY, SO_KEEPALIVE and
// the keepalive times, TCP_USER_TIMEOUT) to each socket it accepts, with the
// keepalive timer armed: set on the listener, they cost an arrival no system
// call. Elsewhere they are set on each accepted socket.
#ifdef __linux__
inline constexpr bool kAcceptedSocketsInherit = true;
#else
inline constexpr bool kAcceptedSocketsInherit = false;
#endif

class Listener {
 public:
  using AcceptHandler = std::function<void(uv_stream_t* listener)>;

  Listener(uv_loop_t* loop, AcceptHandler on_accept);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; a uv error code, 0 on success. `ipv6_only` keeps an
  // IPv6 socket from also taking IPv4 (for when both are listened on).
  int listen(const sockaddr* address, bool ipv6_only, int backlog);
  // A connection waiting in the kernel's accept queue, taken without waiting
  // for the loop to poll: its descriptor (non-blocking), or -1 if none waits.
  int accept_waiting();
  // The address actually bound (the port is known here when 0 was asked).
  std::string address() const;
  // Closes the socket; the listener must outlive the close callback, which
  // runs on a later loop turn.
  void close();

 private:
  static void on_connection(uv_stream_t* server, int status);

  uv_tcp_t tcp_{};
  AcceptHandler on_accept_;
  bool closed_ = false;
};

}  // namespace uvchat::net
