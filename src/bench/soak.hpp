// The soak scenario: hours of a server's life in minutes, with hostile
// clients among the well-behaved ones, and nothing acknowledged lost.
#pragma once

#include <cxxopts.hpp>

#include "scenario.hpp"
#include "soak_context.hpp"

namespace uvchat::bench {

void add_soak_options(cxxopts::Options& parser);
ScenarioRun configure_soak(const cxxopts::ParseResult& options);

// Phase 1 registers every identity (the users, the slow readers and the
// large-queue users) once, so that all are known, and drains what an
// earlier run left in their queues. Phase 2 warms the server up: the whole
// mix of clients (see soak_*.hpp for what each kind does), each coming and
// going, then everyone leaves (the well-behaved with `server:exit`), the
// large-queue users come back once for their queues, and the run rests for
// 5 s, a moment for the caller to measure the server at rest with its
// caches full. Phase 3, the soak proper, is the same for --seconds. Phase 4 has
// every identity register once more and read its queue; then every DM the
// server acknowledged (queued, or pushed to an online recipient) must have
// been read exactly once, intact and in order.
Report run_soak(Driver& driver, const SoakConfig& config);

}  // namespace uvchat::bench
