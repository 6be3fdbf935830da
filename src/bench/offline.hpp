// The offline scenario: DMs to users who are known but offline, each
// acknowledged by the server once it is on disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

struct OfflineConfig {
  std::uint32_t recipients = 20;
  std::uint32_t senders = 10;
  std::uint64_t messages = 20'000;  // in all, split among the senders
  double seconds = 0;               // > 0: send for this long instead of a count
  std::uint32_t window = 64;        // unacknowledged DMs per sender
  std::size_t text_size = 64;
};

void add_offline_options(cxxopts::Options& parser);
ScenarioRun configure_offline(const cxxopts::ParseResult& options);

// Phase 1 registers the recipients and has them leave, so that they are
// known and offline (reading any queue left from an earlier run). Phase 2,
// the timed one, has the senders register and then send, from the first DM
// to the last acknowledgement. Phase 3 has every recipient register again
// and checks that each acknowledged DM is in its queue exactly once, intact.
Report run_offline(Driver& driver, const OfflineConfig& config);

}  // namespace uvchat::bench
