#include "scenario.hpp"

#include <array>

#include "dm.hpp"
#include "fanout.hpp"
#include "handshake.hpp"
#include "idle.hpp"
#include "latency.hpp"
#include "offline.hpp"
#include "soak.hpp"

namespace uvchat::bench {
namespace {

constexpr std::array kScenarios = {
    Scenario{"dm", "DMs between online pairs, a window in flight: messages/s, server CPU per DM, latency",
             add_dm_options, configure_dm, true},
    Scenario{"fanout", "room messages to many members: deliveries/s, server CPU per delivery",
             add_fanout_options, configure_fanout, true},
    Scenario{"handshake", "new connections (with --tls, handshakes), each registered and closed: per second",
             add_handshake_options, configure_handshake},
    Scenario{"idle", "many registered idle connections: server memory per connection, connect+register/s",
             add_idle_options, configure_idle},
    Scenario{"latency", "a fixed rate of DMs over pairs: round-trip percentiles", add_latency_options,
             configure_latency},
    Scenario{"offline", "DMs to offline users: queued-and-acknowledged per second", add_offline_options,
             configure_offline},
    Scenario{"soak", "hostile clients among well-behaved ones for a while; nothing acknowledged lost",
             add_soak_options, configure_soak},
};

}  // namespace

std::span<const Scenario> all_scenarios() { return kScenarios; }

const Scenario* find_scenario(std::string_view name) {
  for (const Scenario& scenario : kScenarios) {
    if (scenario.name == name) return &scenario;
  }
  return nullptr;
}

}  // namespace uvchat::bench
