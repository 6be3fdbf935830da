#include "soak_context.hpp"

#include <array>

namespace uvchat::bench {

std::string_view role_name(Role role) {
  constexpr std::array<std::string_view, kRoleCount> kNames = {
      "users",     "slow_readers",      "flooders",    "garbage_senders",
      "vanishers", "large_queue_users", "bulk_senders"};
  return kNames[static_cast<std::size_t>(role)];
}

std::string_view role_prefix(Role role) {
  constexpr std::array<std::string_view, kRoleCount> kPrefixes = {"soak-u-", "soak-s-", "soak-f-", "soak-g-",
                                                                  "soak-v-", "soak-q-", "soak-b-"};
  return kPrefixes[static_cast<std::size_t>(role)];
}

std::string_view garbage_kind_name(GarbageKind kind) {
  constexpr std::array<std::string_view, kGarbageKindCount> kNames = {"random_bytes", "huge_lines",
                                                                      "bad_utf8", "telnet_and_controls"};
  return kNames[static_cast<std::size_t>(kind)];
}

}  // namespace uvchat::bench
