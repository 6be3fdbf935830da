// uvchat-bench's command line: a scenario, where the server is, and the
// scenario's own options.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <string>

#include "driver.hpp"
#include "scenario.hpp"

namespace uvchat::bench {

struct CommandLine {
  bool run = false;     // false: print `message` and exit with exit_code
  int exit_code = 0;    // 0 for --help, 2 for a bad command line
  std::string message;  // for stdout when exit_code is 0, else stderr
  sockaddr_storage server{};
  std::chrono::seconds stall_limit{30};
  pid_t server_pid = 0;  // 0: the server's CPU and memory are not measured
  TlsSetup tls;
  ScenarioRun scenario;
};

CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace uvchat::bench
