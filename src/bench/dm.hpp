// The dm scenario: DMs between online pairs as fast as a window of DMs in
// flight allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cxxopts.hpp>

#include "scenario.hpp"
#include "wire.hpp"

namespace uvchat::bench {

struct DmConfig {
  std::uint32_t pairs = 50;
  std::uint64_t messages = 2000;  // per sender
  double seconds = 0;             // > 0: send for this long instead of a count
  std::uint32_t window = 32;      // DMs sent that the receiver has not read yet
  std::size_t text_size = 64;
  Door door = Door::kNative;  // --door
};

void add_dm_options(cxxopts::Options& parser);
ScenarioRun configure_dm(const cxxopts::ParseResult& options);

// Phase 1 registers both ends of every pair. Phase 2, the timed one, has
// every sender keep `window` DMs in flight to its receiver, from the first
// DM sent to the last read; each arrival is checked (exactly once, intact,
// in order) and timed.
Report run_dm(Driver& driver, const DmConfig& config);

}  // namespace uvchat::bench
