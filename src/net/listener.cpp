#include "uvchat/net/listener.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "uvchat/log.hpp"

namespace uvchat::net {
namespace {

// A peer that vanished without a word (a phone off its network, a laptop
// shut) keeps its name taken until the server notices. Idle, it is probed
// after kKeepAliveDelaySeconds, every kKeepAliveIntervalSeconds, and given
// up after kKeepAliveProbes unanswered probes; with lines unacknowledged,
// it is given up after kUserTimeoutMs (TCP_USER_TIMEOUT; without it, the
// kernel retransmits for about 15 minutes). Either way about 90 s.
constexpr unsigned int kKeepAliveDelaySeconds = 30;
constexpr int kKeepAliveIntervalSeconds = 10;
constexpr int kKeepAliveProbes = 6;
constexpr unsigned int kUserTimeoutMs = 90'000;

}  // namespace

// Best effort: a system without these options keeps its own defaults.
void set_connection_options(uv_tcp_t* tcp) {
  // Nagle's algorithm with the client's delayed ACKs would hold back our
  // small lines by up to 40 ms each.
  uv_tcp_nodelay(tcp, 1);
  uv_tcp_keepalive(tcp, 1, kKeepAliveDelaySeconds);
  uv_os_fd_t fd{};
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp), &fd) != 0) return;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepAliveIntervalSeconds, sizeof kKeepAliveIntervalSeconds);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepAliveProbes, sizeof kKeepAliveProbes);
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &kUserTimeoutMs, sizeof kUserTimeoutMs);
}

int resolve_listen_addresses(const std::string& host, int port, std::vector<sockaddr_storage>& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  const std::string service = std::to_string(port);
  const int status = getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (status != 0) return status == EAI_SYSTEM ? uv_translate_sys_error(errno) : UV_EAI_NONAME;
  for (const addrinfo* result = results; result != nullptr; result = result->ai_next) {
    sockaddr_storage address{};
    std::memcpy(&address, result->ai_addr, result->ai_addrlen);
    bool seen = false;
    for (const sockaddr_storage& known : out) {
      seen = seen || std::memcmp(&known, &address, sizeof address) == 0;
    }
    if (!seen) out.push_back(address);
  }
  freeaddrinfo(results);
  return out.empty() ? UV_EAI_NONAME : 0;
}

// Built with append rather than a chain of operator+: GCC 12 at -O3 warns
// falsely (-Wrestrict, GCC bug 105651) on such a chain, and we build with
// -Werror.
std::string format_address(const sockaddr* address) {
  char host[INET6_ADDRSTRLEN] = "?";
  std::string text;
  std::uint16_t port = 0;
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    uv_ip6_name(v6, host, sizeof host);
    text.append("[").append(host).append("]");
    port = ntohs(v6->sin6_port);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    uv_ip4_name(v4, host, sizeof host);
    text.append(host);
    port = ntohs(v4->sin_port);
  }
  text.append(":").append(std::to_string(port));
  return text;
}

std::pair<std::string, std::string> peer_address(uv_tcp_t* tcp) {
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {"?", {}};
  const auto* socket_address = reinterpret_cast<const sockaddr*>(&address);
  std::string with_port = format_address(socket_address);
  std::string ip = with_port.substr(0, with_port.rfind(':'));
  if (ip.size() >= 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  return {std::move(with_port), std::move(ip)};
}


Listener::Listener(uv_loop_t* loop, AcceptHandler on_accept) : on_accept_(std::move(on_accept)) {
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
}

int Listener::listen(const sockaddr* address, bool ipv6_only, int backlog) {
  const unsigned int flags = (address->sa_family == AF_INET6 && ipv6_only) ? UV_TCP_IPV6ONLY : 0;
  if (const int status = uv_tcp_bind(&tcp_, address, flags); status != 0) return status;
  // Set once here rather than on each accepted socket (kAcceptedSocketsInherit).
  if (kAcceptedSocketsInherit) set_connection_options(&tcp_);
  return uv_listen(reinterpret_cast<uv_stream_t*>(&tcp_), backlog, on_connection);
}

int Listener::accept_waiting() {
  uv_os_fd_t fd{};
  if (closed_ || uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0) return -1;
  return ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

std::string Listener::address() const {
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?";
  return format_address(reinterpret_cast<const sockaddr*>(&address));
}

void Listener::close() {
  if (closed_) return;
  closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), nullptr);
}

void Listener::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Listener*>(server->data);
  if (status < 0) {
    // EMFILE and the like: the connection waits in the backlog; say so and
    // carry on serving the ones we have.
    log(LogLevel::kWarn, std::string("accept: ") + uv_strerror(status));
    return;
  }
  self->on_accept_(server);
}

}  // namespace uvchat::net
