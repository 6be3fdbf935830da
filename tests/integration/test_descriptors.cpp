// uvchatd grows its table of file descriptors once, at start-up, for the
// clients it may serve (src/server/descriptors.cpp): grown later, with the
// store's thread running, each doubling stalled the loop for an RCU grace
// period, and a crowd arriving overflowed the kernel's accept queue.
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <string>

#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("descriptors: the table holds --max-clients and more from the start", "[descriptors]") {
  constexpr long kClients = 900;
  constexpr long kWanted = kClients + 64;  // as src/server/descriptors.cpp asks
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < static_cast<rlim_t>(kWanted)) {
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < static_cast<rlim_t>(kWanted)) {
      WARN("the open-file limit is below " << kWanted << ": not checked");
      return;
    }
    limit.rlim_cur = kWanted;  // the server inherits it
    REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  }
  TestServer server({.args = {"--max-clients", std::to_string(kClients)}});
  RegisteredClient alice(server, "alice");  // started and serving
  // FDSize: the slots the table has. A process starts with 64, or as many
  // as its parent had in use.
  CHECK(proc_status_number(server.pid(), "FDSize") >= kWanted);
}
