// uvchat-relay, the floor of the benchmarks (docs/BENCHMARKS.md): it takes
// uvchatd's command line, so scripts/bench-versus can run it in uvchatd's
// place, and the load generator's scenarios pass against it.
#include <catch2/catch.hpp>
#include <string>

#include "bench_runs.hpp"
#include "harness.hpp"

using namespace uvchat::test;

namespace {

ServerSetup relay() {
  ServerSetup setup = unthrottled_server();
  setup.program = uvchat_relay_path();
  return setup;
}

}  // namespace

TEST_CASE("relay: takes uvchatd's command line and speaks enough of the native door", "[bench][relay]") {
  TestServer server(relay());
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.send_line("bob:hello bob");
  bob.expect_chat("alice: hello bob");
  alice.send_line("server:join #team");
  alice.expect("server:joined #team alice");
  bob.send_line("server:join #team");
  alice.expect("server:joined #team bob");
  bob.expect("server:joined #team bob");
  bob.send_line("#team:hi all");
  alice.expect_chat("#team bob: hi all");
  alice.send_line("server:ping");
  alice.expect("server:pong");
  bob.send_line("server:exit");
  bob.expect_closed();
  alice.send_line("server:who");
  alice.expect("server:users alice");
}

TEST_CASE("relay: the scenarios that measure the floor pass against it", "[bench][relay]") {
  TestServer server(relay());
  const auto check = [&server](const std::string& scenario, const std::vector<std::string>& args) {
    const RunResult run = run_bench(server, scenario, args);
    INFO(scenario << " stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.status.describe() == "exited with 0");
    CHECK(has(run.out, "\"passed\":true"));
  };
  check("dm", {"--pairs", "5", "--messages", "200", "--window", "8"});
  check("latency", {"--pairs", "5", "--rate", "1000", "--seconds", "0.3"});
  check("fanout", {"--receivers", "20", "--senders", "2", "--messages", "50"});
  check("idle", {"--connections", "200", "--hold", "0.2"});
}

TEST_CASE("relay: refuses to listen anywhere but on loopback", "[bench][relay]") {
  const RunResult run = run_command({uvchat_relay_path(), "--host", "0.0.0.0", "--port", "0"}, Duration(5'000));
  CHECK(run.status.describe() == "exited with 1");
  CHECK(has(run.err, "listens on loopback only"));
}

TEST_CASE("relay: stops on SIGTERM with clients connected", "[bench][relay]") {
  TestServer server(relay());
  RegisteredClient alice(server, "alice");
  TestClient stranger(server, "stranger");  // connected, never registered
  alice.send_line("server:ping");
  alice.expect("server:pong");
  server.stop(SIGTERM);
  CHECK(server.wait_exit().describe() == "exited with 0");
}
