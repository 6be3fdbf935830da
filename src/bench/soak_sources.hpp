// Where the soak's clients connect from.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>

#include "soak_context.hpp"

namespace uvchat::bench {

// The server limits connections and registrations per address
// (--max-per-ip, --max-registrations). The soak stands for many hosts, not
// one, so against an IPv4 loopback server each client connects from a
// loopback address of its own, 127.R.X.Y (R from its role), and the limits
// stay at their defaults. Elsewhere, or where such an address cannot be
// bound, every client connects from wherever the system picks.
class SourceAddresses {
 public:
  explicit SourceAddresses(const sockaddr* server);

  bool spread() const { return spread_; }
  // The address for a client's `number` (a slot, or a count of
  // connections for clients that should look new each time); null when not
  // spread.
  std::optional<sockaddr_in> address(Role role, std::uint64_t number) const;

 private:
  bool spread_ = false;
};

}  // namespace uvchat::bench
