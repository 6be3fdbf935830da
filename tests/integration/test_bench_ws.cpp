// The load generator through the web door (uvchat-bench --door ws,
// docs/BENCHMARKS.md): dm and fanout over a WebSocket, plain and over TLS,
// against the real server; nothing lost, nothing twice.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "bench_runs.hpp"
#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("bench dm: through the web door's WebSocket, every DM arrives exactly once", "[bench][web]") {
  TestServer server(unthrottled_server());
  // 300 bytes: the frames' 16-bit length, and reads that split frames.
  const RunResult run = run_bench(
      server, "dm", {"--pairs", "5", "--messages", "300", "--window", "16", "--size", "300", "--door", "ws"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"door\":\"ws\""));
  CHECK(has(run.out, "\"sent\":1500,\"delivered\":1500,\"stale\":0,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench fanout: a room over WebSocket, twice on one server", "[bench][web]") {
  TestServer server(unthrottled_server());
  for (int run_number = 1; run_number <= 2; ++run_number) {
    CAPTURE(run_number);
    const RunResult run = run_bench(
        server, "fanout", {"--receivers", "40", "--senders", "2", "--messages", "50", "--door", "ws"});
    INFO("stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.status.describe() == "exited with 0");
    CHECK(has(run.out, "\"door\":\"ws\""));
    CHECK(has(run.out, "\"messages\":4000,"));
    CHECK(has(run.out, kExactlyOnce));
  }
}

TEST_CASE("bench dm and fanout: over a secure WebSocket (wss)", "[bench][web][tls]") {
  TempDir dir;
  const RunResult made = run_uvchatd({"--make-cert", dir.file("cert")});
  INFO(made.err);
  REQUIRE(made.status.describe() == "exited with 0");
  const std::string certificate = dir.file("cert/cert.pem");
  TestServer server(unthrottled_server({"--tls-cert", certificate, "--tls-key", dir.file("cert/key.pem")}));
  const RunResult dm = run_bench(
      server, "dm", {"--pairs", "3", "--messages", "200", "--door", "ws", "--tls", "--tls-ca", certificate});
  INFO("dm stdout: " << dm.out << "\nstderr: " << dm.err);
  CHECK(dm.status.describe() == "exited with 0");
  CHECK(has(dm.out, kExactlyOnce));
  const RunResult fanout =
      run_bench(server, "fanout", {"--receivers", "20", "--messages", "50", "--door", "ws", "--tls"});
  INFO("fanout stdout: " << fanout.out << "\nstderr: " << fanout.err);
  CHECK(fanout.status.describe() == "exited with 0");
  CHECK(has(fanout.out, kExactlyOnce));
  CHECK(server.wait_for_log("TLSv1.3"));
}

TEST_CASE("bench dm: a server with its web door closed fails the run at once, saying why", "[bench][web]") {
  TestServer server(unthrottled_server({"--doors", "native"}));
  const RunResult run = run_bench(server, "dm", {"--pairs", "1", "--messages", "10", "--door", "ws"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 1");
  CHECK(has(run.out, "\"passed\":false"));
  CHECK(has(run.out, "the server answered the upgrade with 'server:error not-registered"));
  CHECK_FALSE(has(run.out, "nothing from the server"));
}

TEST_CASE("bench: only dm and fanout take --door ws", "[bench][web]") {
  const RunResult run =
      run_command({uvchat_bench_path(), "latency", "--port", "1", "--door", "ws"}, Duration(5'000));
  CHECK(run.status.describe() == "exited with 2");
  CHECK(has(run.err, "only the dm and fanout scenarios speak it"));
}
