#include "idle.hpp"

namespace uvchat::bench {

void add_idle_options(cxxopts::Options&) {}
ScenarioRun configure_idle(const cxxopts::ParseResult&) {
  return [](Driver&) {
    Report report;
    report.scenario = "idle";
    report.add_error("not written yet");
    return report;
  };
}

}  // namespace uvchat::bench
