#include "scenario.hpp"

#include <array>

#include "offline.hpp"
#include "soak.hpp"

namespace uvchat::bench {
namespace {

constexpr std::array kScenarios = {
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
