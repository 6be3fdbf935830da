// The options of the limits of PROTOCOL.md 6 are listed by --help.
#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("limits: --help lists every option of the limits", "[limits]") {
  const RunResult run = run_uvchatd({"--help"});
  CHECK(run.status.describe() == "exited with 0");
  for (const char* option : {"--max-outbuf", "--rate", "--burst", "--max-per-ip", "--max-registrations",
                             "--register-timeout", "--idle-timeout"}) {
    CAPTURE(option);
    CHECK(run.out.find(std::string(option) + " ") != std::string::npos);
  }
}
