// Command-line options: bad ones exit 2, a port in use exits 1, --version,
// --help, and --host with IPv6.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

struct BadOption {
  std::vector<std::string> args;
  // What a clear message names: the option, and the value it does not take.
  std::vector<std::string> mentions;
};

const std::vector<BadOption>& bad_options() {
  static const std::vector<BadOption> kCases = {
      {{"--bogus"}, {"bogus"}},
      {{"--port", "70000"}, {"--port", "70000"}},
      {{"--port", "-1"}, {"--port", "-1"}},
      {{"--port", "eighty"}, {"port", "eighty"}},
      {{"--max-line", "63"}, {"--max-line", "63"}},
      {{"--max-line", "1048577"}, {"--max-line", "1048577"}},
      {{"--max-clients", "-1"}, {"--max-clients", "-1"}},
      {{"--max-queue", "-5"}, {"--max-queue", "-5"}},
      {{"--presence", "loud"}, {"--presence", "loud"}},
      {{"--log-level", "chatty"}, {"--log-level", "chatty"}},
      {{"--port", "0", "stray"}, {"stray"}},
  };
  return kCases;
}

}  // namespace

TEST_CASE("options: an unknown option or a bad value exits 2 with a message", "[options]") {
  for (const BadOption& bad : bad_options()) {
    CAPTURE(bad.args);
    const RunResult run = run_uvchatd(bad.args);
    INFO("stderr: " << run.err);
    CHECK(run.status.describe() == "exited with 2");
    for (const std::string& word : bad.mentions) CHECK(run.err.find(word) != std::string::npos);
    CHECK(run.err.find("listening on") == std::string::npos);
    CHECK(run.out.empty());
  }
}

TEST_CASE("options: --version prints the version and exits 0", "[options]") {
  const RunResult run = run_uvchatd({"--version"});
  CHECK(run.status.describe() == "exited with 0");
  CHECK_THAT(run.out, Catch::Matches(R"(uvchatd \d+\.\d+\.\d+\n)"));
  CHECK(run.err.empty());
}

TEST_CASE("options: --help lists every option and exits 0", "[options]") {
  const RunResult run = run_uvchatd({"--help"});
  CHECK(run.status.describe() == "exited with 0");
  for (const char* option :
       {"--host", "--port", "--db", "--max-clients", "--max-line", "--max-queue", "--presence",
        "--presence-limit", "--utc", "--crlf", "--log-level", "--version", "--help"}) {
    CAPTURE(option);
    CHECK(run.out.find(option) != std::string::npos);
  }
}

TEST_CASE("options: a port already in use exits 1 with a message", "[options]") {
  TestServer holder;
  const std::string port = std::to_string(holder.port());
  const RunResult run = run_uvchatd({"--host", "127.0.0.1", "--port", port, "--db", ":memory:"});
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 1");
  CHECK(run.err.find("cannot listen on 127.0.0.1:" + port + ": address already in use") != std::string::npos);
  RegisteredClient still_served(holder, "alice");
}

TEST_CASE("options: the other options are accepted together", "[options]") {
  TestServer server(
      {.args = {"--max-clients", "100", "--max-line", "1048576", "--max-queue", "1000000", "--presence", "rooms",
                "--history", "0", "--retain-days", "30", "--utc", "--log-level", "info"}});
  RegisteredClient alice(server, "alice");
  alice.expect_quiet();
}

TEST_CASE("options: --host ::1 serves IPv6", "[options][ipv6]") {
  if (!has_ipv6_loopback()) {
    WARN("skipped: this machine cannot bind ::1");
    return;
  }
  TestServer server({.args = {}, .host = "::1"});
  CHECK(server.wait_for_log("listening on [::1]:" + std::to_string(server.port())));
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect("server:online bob");
  alice.send_line("bob: over IPv6");
  bob.expect_chat("alice: over IPv6");
  CHECK(server.wait_for_log("connection 1 from [::1]:"));
}
