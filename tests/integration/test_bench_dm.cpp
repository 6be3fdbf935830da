// The dm and latency scenarios of the load generator (docs/BENCHMARKS.md),
// small runs against the real server: nothing lost, nothing twice, and the
// figures in the JSON line.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "bench_runs.hpp"
#include "harness.hpp"

using namespace uvchat::test;

TEST_CASE("bench dm: every DM between online pairs arrives exactly once", "[bench]") {
  TestServer server(unthrottled_server());
  const RunResult run = run_bench(server, "dm", {"--pairs", "5", "--messages", "200", "--window", "8"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"scenario\":\"dm\""));
  CHECK(has(run.out, "\"messages\":1000,"));
  CHECK(has(run.out, "\"sent\":1000,\"delivered\":1000"));
  CHECK(has(run.out, "\"latency_p50_us\":"));
  CHECK(has(run.out, "\"latency_p99_us\":"));
  CHECK(has(run.out, "\"store_lag_seconds\":"));
  CHECK(has(run.out, kExactlyOnce));
  // Without --server-pid there is no CPU figure.
  CHECK_FALSE(has(run.out, "server_cpu_us_per_message"));
}

TEST_CASE("bench dm: --seconds sends for a time instead of a count", "[bench]") {
  TestServer server(unthrottled_server());
  const RunResult run = run_bench(server, "dm", {"--pairs", "3", "--seconds", "0.5", "--window", "4"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"seconds\":0.500"));
  CHECK_FALSE(has(run.out, "\"messages\":0,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench dm: a second run on the same server passes too", "[bench]") {
  // The names are known from the first run; nothing may be left queued.
  TestServer server(unthrottled_server());
  for (int run_number = 1; run_number <= 2; ++run_number) {
    CAPTURE(run_number);
    const RunResult run = run_bench(server, "dm", {"--pairs", "2", "--messages", "100"});
    INFO("stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.status.describe() == "exited with 0");
    CHECK(has(run.out, "\"stale\":0,"));
    CHECK(has(run.out, kExactlyOnce));
  }
}

TEST_CASE("bench dm: DMs queued for a receiver before the run are skipped as stale", "[bench]") {
  TestServer server(unthrottled_server());
  register_and_exit(server, "bench-dm-r-0");
  {
    RegisteredClient alice(server, "alice");
    // Looks like the run's first DM, but was not sent by this run.
    alice.send_line("bench-dm-r-0: s0 n0 left over");
    alice.expect("server:queued bench-dm-r-0");
  }
  const RunResult run = run_bench(server, "dm", {"--pairs", "2", "--messages", "100"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"sent\":200,\"delivered\":200,\"stale\":1,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench latency: a fixed rate over pairs reports the round-trip percentiles", "[bench]") {
  TestServer server(unthrottled_server());
  const RunResult run = run_bench(server, "latency", {"--pairs", "5", "--rate", "2000", "--seconds", "1"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"scenario\":\"latency\""));
  CHECK(has(run.out, "\"messages\":2000,"));
  CHECK(has(run.out, "\"latency_p99_us\":"));
  CHECK(has(run.out, "\"latency_p999_us\":"));
  CHECK(has(run.out, "\"latency_max_us\":"));
  CHECK(has(run.out, "\"achieved_rate\":"));
  CHECK(has(run.out, kExactlyOnce));
}

// By default each DM goes out at its own time (one DM's share of a second:
// 500 µs at 2,000/s); --tick 1000 sends what is due each millisecond, in
// bursts. Either way the offered rate is kept.
TEST_CASE("bench latency: the schedule's tick is one DM's share of a second, or --tick", "[bench]") {
  TestServer server(unthrottled_server());
  const auto [tick, reported] = GENERATE(table<std::string, std::string>({{"0", "500.000"}, {"1000", "1000.000"}}));
  CAPTURE(tick);
  const RunResult run =
      run_bench(server, "latency", {"--pairs", "4", "--rate", "2000", "--seconds", "0.5", "--tick", tick});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"tick_us\":" + reported + "}"));
  CHECK(has(run.out, "\"messages\":1000,"));
  const std::size_t at = run.out.find("\"achieved_rate\":");
  REQUIRE(at != std::string::npos);
  const double achieved = std::stod(run.out.substr(at + std::string_view("\"achieved_rate\":").size()));
  CHECK(achieved > 1800);
  CHECK(achieved < 2200);
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench latency: a tick under 10 microseconds is refused", "[bench]") {
  const RunResult run = run_command({uvchat_bench_path(), "latency", "--port", "1", "--tick", "5"}, Duration(5'000));
  CHECK(run.status.describe() == "exited with 2");
  CHECK(has(run.err, "--tick must be 0 or at least 10 microseconds"));
}

TEST_CASE("bench dm and latency: --server-pid adds the server's CPU time per DM", "[bench]") {
  TestServer server(unthrottled_server());
  const std::string pid = std::to_string(server.pid());
  const auto scenario = GENERATE(as<std::string>{}, "dm", "latency");
  CAPTURE(scenario);
  const std::vector<std::string> args =
      scenario == "dm" ? std::vector<std::string>{"--pairs", "5", "--messages", "200", "--server-pid", pid}
                       : std::vector<std::string>{"--pairs",   "5",   "--rate",       "2000",
                                                  "--seconds", "0.5", "--server-pid", pid};
  const RunResult run = run_bench(server, scenario, args);
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"server_cpu_us_per_message\":"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench dm: a pair that cannot register makes the run fail", "[bench]") {
  // One name is online elsewhere: its pair cannot register, and the run must
  // say so and exit non-zero rather than report a rate.
  TestServer server(unthrottled_server());
  RegisteredClient squatter(server, "bench-dm-r-1");
  const RunResult run = run_bench(server, "dm", {"--pairs", "3", "--messages", "50"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() != "exited with 0");
  CHECK(has(run.out, "\"passed\":false"));
  CHECK(has(run.out, "name-taken"));
}

namespace {

// The unthrottled server with a certificate made for it (uvchatd
// --make-cert): TLS and plain text on its one port.
struct TlsServer {
  TempDir dir;
  std::string certificate = dir.file("cert/cert.pem");
  std::unique_ptr<TestServer> server;

  TlsServer() {
    const RunResult made = run_uvchatd({"--make-cert", dir.file("cert")});
    INFO(made.err);
    REQUIRE(made.status.describe() == "exited with 0");
    ServerSetup setup = unthrottled_server();
    setup.args.insert(setup.args.end(), {"--tls-cert", certificate, "--tls-key", dir.file("cert/key.pem")});
    server = std::make_unique<TestServer>(setup);
  }
};

}  // namespace

TEST_CASE("bench dm: over TLS, every DM arrives exactly once", "[bench][tls]") {
  TlsServer tls;
  // Verified against the certificate: the bench spoke TLS to this server.
  const RunResult run =
      run_bench(*tls.server, "dm",
                {"--pairs", "5", "--messages", "200", "--window", "8", "--tls", "--tls-ca", tls.certificate});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"sent\":1000,\"delivered\":1000"));
  CHECK(has(run.out, kExactlyOnce));
  CHECK(tls.server->wait_for_log("TLSv1.3"));
}

TEST_CASE("bench handshake: with --resume every connection resumes the first one's session", "[bench][tls]") {
  TlsServer tls;
  const RunResult run =
      run_bench(*tls.server, "handshake", {"--connections", "20", "--in-flight", "4", "--tls", "--resume"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"messages\":20,"));
  CHECK(has(run.out, "\"resumed\":20,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench dm: through the IRC door, every DM arrives exactly once", "[bench][irc]") {
  TestServer server(unthrottled_server());
  const RunResult run = run_bench(server, "dm", {"--pairs", "5", "--messages", "200", "--door", "irc"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"door\":\"irc\""));
  CHECK(has(run.out, "\"sent\":1000,\"delivered\":1000,\"stale\":0,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench dm: through the IRC door, a queue replayed at registration is skipped as stale",
          "[bench][irc]") {
  TestServer server(unthrottled_server());
  register_and_exit(server, "bench-dm-r-1");
  {
    RegisteredClient alice(server, "alice");
    alice.send_line("bench-dm-r-1: s1 n0 left over");
    alice.expect("server:queued bench-dm-r-1");
    alice.send_line("bench-dm-r-1: s1 n1 left over");
    alice.expect("server:queued bench-dm-r-1");
  }
  const RunResult run = run_bench(server, "dm", {"--pairs", "2", "--messages", "100", "--door", "irc"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"sent\":200,\"delivered\":200,\"stale\":2,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench: only dm and fanout take --door irc", "[bench][irc]") {
  const RunResult run =
      run_command({uvchat_bench_path(), "offline", "--port", "1", "--door", "irc"}, Duration(5'000));
  CHECK(run.status.describe() == "exited with 2");
  CHECK(has(run.err, "only the dm and fanout scenarios speak it"));
  const RunResult unknown =
      run_command({uvchat_bench_path(), "dm", "--port", "1", "--door", "xmpp"}, Duration(5'000));
  CHECK(unknown.status.describe() == "exited with 2");
  CHECK(has(unknown.err, "--door must be native or irc"));
}
