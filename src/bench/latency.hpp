// The latency scenario (issue 6): being written.
#pragma once

#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

void add_latency_options(cxxopts::Options& parser);
ScenarioRun configure_latency(const cxxopts::ParseResult& options);

}  // namespace uvchat::bench
