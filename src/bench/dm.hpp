// The dm scenario (issue 6): being written.
#pragma once

#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

void add_dm_options(cxxopts::Options& parser);
ScenarioRun configure_dm(const cxxopts::ParseResult& options);

}  // namespace uvchat::bench
