// The load generator's own test (docs/BENCHMARKS.md): a small offline run
// against the real server, on a real database file, must lose nothing.
#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

RunResult run_offline(const TestServer& server, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      uvchat_bench_path(), "offline", "--host",    "127.0.0.1", "--port",     std::to_string(server.port()),
      "--recipients",      "5",       "--senders", "3",         "--messages", "500",
      "--timeout",         "10"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_command(argv, Duration(30'000));
}

}  // namespace

TEST_CASE("bench: offline DMs are all acknowledged and replayed exactly once", "[bench]") {
  TempDir dir;
  const auto mode = GENERATE(as<std::string>{}, "group commit", "--no-group-commit");
  CAPTURE(mode);
  std::vector<std::string> args = {"--max-queue", "100000"};
  if (mode != "group commit") args.push_back(mode);
  TestServer server({.args = args, .db = dir.file(mode == "group commit" ? "group.db" : "each.db")});

  const RunResult run = run_offline(server, {});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(run.out.find("\"sent\":500,\"delivered\":500") != std::string::npos);
  CHECK(run.out.find("\"lost\":0,\"duplicated\":0,\"corrupt\":0,\"errors\":0,\"passed\":true") !=
        std::string::npos);
}

TEST_CASE("bench: a server that refuses the DMs makes the run fail", "[bench]") {
  // --max-queue 10: most DMs are refused with queue-full. The run must say
  // so and exit non-zero rather than report a rate.
  TestServer server({.args = {"--max-queue", "10"}});
  const RunResult run = run_offline(server, {});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() != "exited with 0");
  CHECK(run.out.find("\"passed\":false") != std::string::npos);
}
