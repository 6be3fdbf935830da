// The scenarios uvchat-bench can run, and what each must provide.
#pragma once

#include <cxxopts.hpp>
#include <functional>
#include <span>
#include <string_view>

#include "report.hpp"

namespace uvchat::bench {

class Driver;

using ScenarioRun = std::function<Report(Driver& driver)>;

// A scenario declares its own options, so that two scenarios may both have
// a --window; only the chosen scenario's options are on the command line.
struct Scenario {
  std::string_view name;
  std::string_view summary;
  void (*add_options)(cxxopts::Options& parser);
  // Checks the scenario's options (throws BadOption) and returns the run.
  ScenarioRun (*configure)(const cxxopts::ParseResult& options);
  // Whether --door irc may be given; the others speak the native door only.
  bool any_door = false;
};

std::span<const Scenario> all_scenarios();
const Scenario* find_scenario(std::string_view name);

}  // namespace uvchat::bench
