// The fanout scenario: room messages from a few senders to many members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cxxopts.hpp>

#include "scenario.hpp"
#include "wire.hpp"

namespace uvchat::bench {

struct FanoutConfig {
  std::uint32_t receivers = 1000;
  std::uint32_t senders = 1;
  std::uint64_t messages = 1000;  // per sender
  double seconds = 0;             // > 0: send for this long instead of a count
  std::uint32_t window = 8;       // per sender: messages not yet read by every receiver
  std::size_t text_size = 64;
  Door door = Door::kNative;  // --door
};

void add_fanout_options(cxxopts::Options& parser);
ScenarioRun configure_fanout(const cxxopts::ParseResult& options);

// Phase 1 has the receivers (bench-fan-r-N) and then the senders
// (bench-fan-s-N) register and join #bench-fanout, a few hundred at a time.
// Phase 2, the timed one, has each sender send its messages to the room,
// with at most `window` of them not yet read by every receiver, from the
// first message sent to the last delivery. Every receiver checks that it
// gets each message once, intact, and in each sender's order.
Report run_fanout(Driver& driver, const FanoutConfig& config);

}  // namespace uvchat::bench
