#include "soak_sources.hpp"

#include <arpa/inet.h>
#include <unistd.h>

namespace uvchat::bench {
namespace {

constexpr std::uint32_t kHostsPerRole = 250 * 250;

sockaddr_in loopback_address(std::uint32_t second, std::uint32_t third, std::uint32_t fourth) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl((127u << 24) | (second << 16) | (third << 8) | fourth);
  return address;
}

bool is_ipv4_loopback(const sockaddr* server) {
  if (server->sa_family != AF_INET) return false;
  const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(server);
  return (ntohl(ipv4->sin_addr.s_addr) >> 24) == 127;
}

// Linux answers for all of 127.0.0.0/8 on lo; other systems may not.
bool can_bind(const sockaddr_in& address) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const bool bound = bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return bound;
}

}  // namespace

SourceAddresses::SourceAddresses(const sockaddr* server)
    : spread_(is_ipv4_loopback(server) && can_bind(loopback_address(10, 0, 1))) {}

std::optional<sockaddr_in> SourceAddresses::address(Role role, std::uint64_t number) const {
  if (!spread_) return std::nullopt;
  const auto host = static_cast<std::uint32_t>(number % kHostsPerRole);
  return loopback_address(10 + static_cast<std::uint32_t>(role), host / 250, host % 250 + 1);
}

}  // namespace uvchat::bench
