// The latency scenario: DMs between online pairs at a fixed offered rate,
// for the round trip's percentiles when the server is not saturated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

struct LatencyConfig {
  std::uint32_t pairs = 50;
  std::uint64_t rate = 20'000;  // DMs per second, over all pairs
  double seconds = 5;
  std::size_t text_size = 64;
  std::uint64_t tick_us = 0;  // 0: each DM at its own time (RateSchedule)
};

void add_latency_options(cxxopts::Options& parser);
ScenarioRun configure_latency(const cxxopts::ParseResult& options);

// Phase 1 registers both ends of every pair. Phase 2 sends DMs on a
// schedule, rate × seconds in all, round-robin over the pairs whatever is in
// flight, and times each from being sent to being read; then waits for the
// last to arrive.
Report run_latency(Driver& driver, const LatencyConfig& config);

}  // namespace uvchat::bench
