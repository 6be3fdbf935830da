// The load generator's fanout and idle scenarios, small runs against the
// real server: every room message reaches every member exactly once, and
// every idle connection registers and closes without error.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "bench_runs.hpp"
#include "harness.hpp"

using namespace uvchat::test;

namespace {

// No room history and no presence: a receiver reads only the messages.
// (The harness turns the per-address limits off.)
const std::vector<std::string> kQuietServer = {"--history", "0", "--presence", "off"};

RunResult run_fanout(const TestServer& server) {
  return run_bench(server, "fanout", {"--receivers", "50", "--senders", "2", "--messages", "100"});
}

}  // namespace

TEST_CASE("bench: fanout delivers every room message to every receiver exactly once", "[bench]") {
  TestServer server({.args = kQuietServer});
  const RunResult run = run_fanout(server);
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  // 2 senders x 100 messages, each to 50 receivers.
  CHECK(has(run.out, "\"messages\":10000,"));
  CHECK(has(run.out, "\"unit\":\"deliveries/s\",\"sent\":200,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench: fanout reports the server's CPU per delivery when it knows the server", "[bench]") {
  TestServer server({.args = kQuietServer});
  const RunResult run =
      run_bench(server, "fanout",
                {"--receivers", "20", "--messages", "50", "--server-pid", std::to_string(server.pid())});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"server_cpu_us_per_delivery\":"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench: fanout ignores the room's history and presence", "[bench]") {
  // Default --history and --presence: joined, members, online lines, and on
  // the second run the first run's messages replayed on join.
  TestServer server;
  for (int round = 1; round <= 2; ++round) {
    CAPTURE(round);
    const RunResult run = run_fanout(server);
    INFO("stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.status.describe() == "exited with 0");
    CHECK(has(run.out, "\"messages\":10000,"));
    CHECK(has(run.out, kExactlyOnce));
  }
}

TEST_CASE("bench: fanout fails when the server turns receivers away", "[bench]") {
  // 16 connections from one address: most of 50 receivers are refused.
  TestServer server({.args = {"--history", "0", "--presence", "off", "--max-per-ip", "16"}});
  const RunResult run = run_fanout(server);
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 1");
  CHECK(has(run.out, "server-full"));
  CHECK(has(run.out, "\"passed\":false"));
}

TEST_CASE("bench: idle registers every connection and reports the server's memory per connection",
          "[bench]") {
  TestServer server({.args = kQuietServer});
  const RunResult run = run_bench(server, "idle",
                                  {"--connections", "200", "--in-flight", "32", "--hold", "0.5",
                                   "--server-pid", std::to_string(server.pid())});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"messages\":200,"));
  CHECK(has(run.out, "\"unit\":\"registrations/s\""));
  CHECK(has(run.out, "\"rss_per_connection_bytes\":"));
  CHECK(has(run.out, kExactlyOnce));
}

// 900 at once (under the default limit of 1,024 descriptors on each side):
// the loop flushes early and takes waiting connections between its polls
// (Server::accept_waiting), and every one of them is welcomed once.
TEST_CASE("bench: idle with every connection in flight at once registers them all", "[bench]") {
  TestServer server({.args = kQuietServer});
  const RunResult run = run_bench(server, "idle", {"--connections", "900", "--in-flight", "900", "--hold", "0.2"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"messages\":900,"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench: idle copes with presence, each client told of those after it", "[bench]") {
  TestServer server;
  const RunResult run = run_bench(server, "idle", {"--connections", "200", "--hold", "0.2"});
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(has(run.out, "\"messages\":200,"));
  CHECK_FALSE(has(run.out, "rss_per_connection_bytes"));
  CHECK(has(run.out, kExactlyOnce));
}

TEST_CASE("bench: fanout through the IRC door, with history and presence, twice on one server",
          "[bench][irc]") {
  // JOIN, 353/366, presence NOTICEs and, the second time, the first run's
  // lines replayed on JOIN with their date in front: none of it counts.
  TestServer server;
  for (int round = 1; round <= 2; ++round) {
    CAPTURE(round);
    const RunResult run = run_bench(
        server, "fanout", {"--receivers", "50", "--senders", "2", "--messages", "100", "--door", "irc"});
    INFO("stdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.status.describe() == "exited with 0");
    CHECK(has(run.out, "\"door\":\"irc\""));
    CHECK(has(run.out, "\"messages\":10000,"));
    CHECK(has(run.out, kExactlyOnce));
  }
}
