#include "latency.hpp"

namespace uvchat::bench {

void add_latency_options(cxxopts::Options&) {}
ScenarioRun configure_latency(const cxxopts::ParseResult&) {
  return [](Driver&) {
    Report report;
    report.scenario = "latency";
    report.add_error("not written yet");
    return report;
  };
}

}  // namespace uvchat::bench
