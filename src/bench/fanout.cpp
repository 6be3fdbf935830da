#include "fanout.hpp"

namespace uvchat::bench {

void add_fanout_options(cxxopts::Options&) {}
ScenarioRun configure_fanout(const cxxopts::ParseResult&) {
  return [](Driver&) {
    Report report;
    report.scenario = "fanout";
    report.add_error("not written yet");
    return report;
  };
}

}  // namespace uvchat::bench
