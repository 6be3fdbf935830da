// uvchat-bench: wiring only. The command line, one loop, the scenario, the
// report.
#include <uv.h>

#include <csignal>
#include <cstdio>

#include "cli.hpp"
#include "driver.hpp"
#include "report.hpp"

namespace {

uvchat::bench::Report run_scenario(uv_loop_t* loop, const uvchat::bench::CommandLine& command) {
  uvchat::bench::Driver driver(loop, command.server, command.stall_limit, command.server_pid, command.tls);
  uvchat::bench::Report report = command.scenario(driver);
  for (const std::string& failure : driver.failures()) report.add_error(failure);
  return report;
}

}  // namespace

int main(int argc, char** argv) {
  const uvchat::bench::CommandLine command = uvchat::bench::parse_command_line(argc, argv);
  if (!command.run) {
    std::fputs(command.message.c_str(), command.exit_code == 0 ? stdout : stderr);
    return command.exit_code;
  }
  // A server that closes while we write must cost us an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);

  uv_loop_t loop;
  uv_loop_init(&loop);
  const uvchat::bench::Report report = run_scenario(&loop, command);
  uv_loop_close(&loop);

  std::fputs(uvchat::bench::to_summary(report).c_str(), stderr);
  std::fputs(uvchat::bench::to_json_line(report).c_str(), stdout);
  return report.passed() ? 0 : 1;
}
