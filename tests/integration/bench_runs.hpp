// Small runs of the load generator (uvchat-bench, docs/BENCHMARKS.md)
// against the real server, for the test_bench*.cpp files: how they start
// the server, run a scenario and read its JSON line.
#pragma once

#include <string>
#include <vector>

#include "harness.hpp"

namespace uvchat::test {

// A server that lets one address send and register as fast as it likes and
// tells nobody of anybody's presence; `extra` options after those.
inline ServerSetup unthrottled_server(const std::vector<std::string>& extra = {}) {
  ServerSetup setup{
      .args = {"--presence", "off", "--rate", "0", "--max-per-ip", "0", "--max-registrations", "0"}};
  setup.args.insert(setup.args.end(), extra.begin(), extra.end());
  return setup;
}

// Runs `scenario` with `args` against `server`. Small runs take well under a
// second; a stall fails within `stall_seconds` (the bench's --timeout).
inline RunResult run_bench(const TestServer& server, const std::string& scenario,
                           const std::vector<std::string>& args, int stall_seconds = 10) {
  std::vector<std::string> argv = {uvchat_bench_path(), scenario,
                                   "--host",            "127.0.0.1",
                                   "--port",            std::to_string(server.port()),
                                   "--timeout",         std::to_string(stall_seconds)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, Duration(20'000));
}

inline bool has(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// What the JSON line of a run says when every message arrived exactly once.
inline const std::string kExactlyOnce = "\"lost\":0,\"duplicated\":0,\"corrupt\":0,\"errors\":0,\"passed\":true";

}  // namespace uvchat::test
