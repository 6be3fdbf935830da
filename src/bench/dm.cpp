#include "dm.hpp"

namespace uvchat::bench {

void add_dm_options(cxxopts::Options&) {}
ScenarioRun configure_dm(const cxxopts::ParseResult&) {
  return [](Driver&) {
    Report report;
    report.scenario = "dm";
    report.add_error("not written yet");
    return report;
  };
}

}  // namespace uvchat::bench
