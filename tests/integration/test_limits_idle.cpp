// PROTOCOL.md 6, idle connections: --idle-timeout closes a silent
// connection, --register-timeout an unregistered one; a ping keeps one open.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kTimeoutSeconds = 2;
// The server looks once a second: a connection goes between 2 and 3 s, and a
// loaded machine may add a little.
constexpr Duration kClosedAtLeast{kTimeoutSeconds * 1000 - 100};
constexpr Duration kClosedAtMost{4000};
constexpr Duration kWaitAtMost{6000};
constexpr Duration kStaysOpenPast{4500};
constexpr Duration kPingInterval{1000};

std::vector<std::string> timeout_args(const char* option) {
  return {option, std::to_string(kTimeoutSeconds), "--presence", "off"};
}

// `silent` is told idle-timeout and closed, between kClosedAtLeast and
// kClosedAtMost after `watch` started, while `active` (if any) pings once a
// second.
void expect_idle_timeout(LinePeer& silent, const Stopwatch& watch, LinePeer* active) {
  std::optional<std::string> notice;
  while (!notice && !silent.closed() && watch.elapsed() < kWaitAtMost) {
    if (active != nullptr) active->expect_quiet();
    notice = silent.try_read_line(std::min(kPingInterval, kWaitAtMost - watch.elapsed()));
  }
  const Duration waited = watch.elapsed();
  INFO(silent.label() << ": " << (notice ? "'" + *notice + "'" : "no notice") << " after " << waited.count()
                      << " ms");
  REQUIRE(notice);
  REQUIRE_THAT(*notice,
               Catch::Matches("server:error idle-timeout .*\\b" + std::to_string(kTimeoutSeconds) + "\\b.*"));
  silent.expect_closed();
  CHECK(waited >= kClosedAtLeast);
  CHECK(waited <= kClosedAtMost);
}

// `peer` is open until `until` after `watch` started, and gets nothing
// meanwhile but the answers to its pings, if it `pings` once a second.
void expect_open_until(LinePeer& peer, const Stopwatch& watch, Duration until, bool pings) {
  while (watch.elapsed() < until) {
    if (pings) peer.expect_quiet();
    if (const std::optional<std::string> line =
            peer.try_read_line(std::min(kPingInterval, until - watch.elapsed()))) {
      FAIL(peer.label() << ": expected nothing, got '" << *line << "'");
    }
    REQUIRE_FALSE(peer.closed());
  }
  peer.expect_quiet();
}

}  // namespace

TEST_CASE("idle: --idle-timeout 2 closes a silent connection, not one that pings every second", "[limits]") {
  TestServer server({.args = timeout_args("--idle-timeout")});
  const Stopwatch watch;
  RegisteredClient silent(server, "silent");
  RegisteredClient active(server, "active");
  expect_idle_timeout(silent, watch, &active);
  expect_open_until(active, watch, kStaysOpenPast, /*pings=*/true);
}

TEST_CASE("idle: --register-timeout 2 closes an unregistered connection, not a registered one", "[limits]") {
  TestServer server({.args = timeout_args("--register-timeout")});
  const Stopwatch watch;
  TestClient stranger(server, "stranger");
  RegisteredClient alice(server, "alice");
  expect_idle_timeout(stranger, watch, nullptr);
  expect_open_until(alice, watch, kStaysOpenPast, /*pings=*/false);
}
