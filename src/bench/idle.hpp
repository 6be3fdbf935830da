// The idle scenario: many registered connections that say nothing, for the
// server's memory per connection and how fast it takes them on.
#pragma once

#include <cstdint>
#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

struct IdleConfig {
  std::uint32_t connections = 10'000;
  std::uint32_t in_flight = 256;  // connecting or registering at once
  double hold_seconds = 2;
};

void add_idle_options(cxxopts::Options& parser);
ScenarioRun configure_idle(const cxxopts::ParseResult& options);

// Phase 1, the timed one, connects and registers every connection
// (bench-idle-N), from the first connect to the last registration, reading
// the server's memory before and after. Phase 2 holds them, idle. Phase 3
// closes them all, and asks the server who is online until none of them is.
Report run_idle(Driver& driver, const IdleConfig& config);

// For the scenarios that open thousands of connections: raises the soft
// limit on open files, as far as the hard limit allows, to room for
// `connections` and a few more. False, with the error in `report`, when
// the hard limit is too low.
bool make_room_for_connections(std::uint64_t connections, Report& report);

}  // namespace uvchat::bench
