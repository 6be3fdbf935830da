// The fanout scenario (issue 6): being written.
#pragma once

#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

void add_fanout_options(cxxopts::Options& parser);
ScenarioRun configure_fanout(const cxxopts::ParseResult& options);

}  // namespace uvchat::bench
