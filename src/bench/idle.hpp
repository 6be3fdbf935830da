// The idle scenario (issue 6): being written.
#pragma once

#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

void add_idle_options(cxxopts::Options& parser);
ScenarioRun configure_idle(const cxxopts::ParseResult& options);

}  // namespace uvchat::bench
