#include <catch2/catch.hpp>
#include <cstdint>
#include <utility>

#include "uvchat/net/cut_wait.hpp"

using uvchat::net::CutStep;
using uvchat::net::CutWait;
using uvchat::net::SendQueueSample;

namespace {

// The server looks at a cut this often (kCutTickMs in server.cpp).
constexpr std::uint64_t kTick = 20;
constexpr std::uint64_t kStart = 1'000'000;
// About what a TCP window of 4 KiB lets be in flight.
constexpr std::uint64_t kWindow = 4096;
// What the kernel holds for a client that stopped reading: MiBs.
constexpr std::uint64_t kHeld = 2 << 20;

SendQueueSample sample(std::uint64_t acknowledged, std::uint64_t in_flight, std::uint64_t unsent) {
  return SendQueueSample{.acknowledged = acknowledged, .in_flight = in_flight, .unsent = unsent};
}

// A client that reads all the while, `per_tick` bytes a tick, with a window
// in flight at every look. Looks until `wait` says other than kWait, or
// until `until`; the step and when it came.
std::pair<CutStep, std::uint64_t> read_steadily(CutWait& wait, std::uint64_t per_tick, std::uint64_t until) {
  std::uint64_t acknowledged = 0;
  for (std::uint64_t now = kStart + kTick; now <= until; now += kTick) {
    acknowledged += per_tick;
    const CutStep step = wait.step(sample(acknowledged, kWindow, kHeld - acknowledged), now);
    if (step != CutStep::kWait) return {step, now};
  }
  return {CutStep::kWait, until};
}

}  // namespace

TEST_CASE("cut wait: nothing in flight and nothing left to send settles at once", "[cut]") {
  CutWait wait(kStart, sample(5000, 0, 0));
  CHECK(wait.step(sample(5000, 0, 0), kStart + kTick) == CutStep::kSettled);
}

TEST_CASE("cut wait: a client that reads nothing settles once a look finds it still", "[cut]") {
  // Its window is closed and what was sent is acknowledged.
  CutWait wait(kStart, sample(5000, 0, kHeld));
  CHECK(wait.step(sample(5000, 0, kHeld), kStart + kTick) == CutStep::kSettled);
}

TEST_CASE("cut wait: a client that reads nothing settles after its delayed ACK", "[cut]") {
  CutWait wait(kStart, sample(5000, kWindow, kHeld));
  for (std::uint64_t now = kStart + kTick; now < kStart + 200; now += kTick) {
    CHECK(wait.step(sample(5000, kWindow, kHeld), now) == CutStep::kWait);
  }
  // Acknowledged at last: nothing in flight, but something was acknowledged
  // since the last look, so one more look.
  CHECK(wait.step(sample(5000 + kWindow, 0, kHeld), kStart + 200) == CutStep::kWait);
  CHECK(wait.step(sample(5000 + kWindow, 0, kHeld), kStart + 220) == CutStep::kSettled);
}

// The race a CI run lost: the server gave up 500 ms into the cut whatever
// was in flight, and a client that read all through the cut had read, and
// was replayed, what was in flight then.
TEST_CASE("cut wait: a client that reads all through the cut is waited for past 500 ms", "[cut]") {
  CutWait wait(kStart, sample(0, 0, kHeld));
  const auto [step, at] = read_steadily(wait, 8 * 1024, kStart + 3000);
  CHECK(step == CutStep::kWait);
  CHECK(at == kStart + 3000);
  // The kernel has sent all it held, and the client acknowledged it.
  CHECK(wait.step(sample(kHeld, 0, 0), kStart + 3020) == CutStep::kSettled);
}

// A reading client's window update may come microseconds after a look that
// found nothing in flight, and what the kernel then sends before the reset
// the client reads: replayed too.
TEST_CASE("cut wait: nothing in flight while bytes wait to be sent is not enough after progress", "[cut]") {
  CutWait wait(kStart, sample(0, kWindow, kHeld));
  CHECK(wait.step(sample(40'000, 0, kHeld - 40'000), kStart + kTick) == CutStep::kWait);
  CHECK(wait.step(sample(80'000, 0, kHeld - 80'000), kStart + 2 * kTick) == CutStep::kWait);
  CHECK(wait.step(sample(80'000, kWindow, kHeld - 80'000 - kWindow), kStart + 3 * kTick) == CutStep::kWait);
  CHECK(wait.step(sample(90'000, 0, kHeld - 90'000), kStart + 4 * kTick) == CutStep::kWait);
  // It stopped reading: a whole look apart, nothing moved.
  CHECK(wait.step(sample(90'000, 0, kHeld - 90'000), kStart + 5 * kTick) == CutStep::kSettled);
}

TEST_CASE("cut wait: nothing in flight settles however long the cut took", "[cut]") {
  CutWait wait(kStart, sample(0, kWindow, kHeld));
  CHECK(wait.step(sample(100, 0, 0), kStart + 60'000) == CutStep::kSettled);
}

TEST_CASE("cut wait: a client whose TCP acknowledges nothing is given up after kStallMs", "[cut]") {
  CutWait wait(kStart, sample(7000, kWindow, kHeld));
  const SendQueueSample stuck = sample(7000, kWindow, kHeld);
  CHECK(wait.step(stuck, kStart + CutWait::kStallMs - 1) == CutStep::kWait);
  CHECK(wait.step(stuck, kStart + CutWait::kStallMs) == CutStep::kStalled);
}

TEST_CASE("cut wait: a client that stops acknowledging is given up kStallMs after its last ACK", "[cut]") {
  CutWait wait(kStart, sample(0, 0, kHeld));
  const std::uint64_t last_ack = kStart + 2000;
  const auto [step, at] = read_steadily(wait, 1000, last_ack);
  REQUIRE(step == CutStep::kWait);
  const std::uint64_t acknowledged = 1000 * ((last_ack - kStart) / kTick);
  const SendQueueSample stuck = sample(acknowledged, kWindow, kHeld - acknowledged);
  CHECK(wait.step(stuck, last_ack + CutWait::kStallMs - 1) == CutStep::kWait);
  CHECK(wait.step(stuck, last_ack + CutWait::kStallMs) == CutStep::kStalled);
}

TEST_CASE("cut wait: fewer bytes acknowledged than before is no progress", "[cut]") {
  CutWait wait(kStart, sample(7000, kWindow, kHeld));
  CHECK(wait.step(sample(6000, kWindow, kHeld), kStart + kTick) == CutStep::kWait);
  CHECK(wait.step(sample(6999, kWindow, kHeld), kStart + CutWait::kStallMs) == CutStep::kStalled);
}

TEST_CASE("cut wait: a client still reading at kLimitMs is given up", "[cut]") {
  CutWait wait(kStart, sample(0, 0, kHeld));
  const auto [step, at] = read_steadily(wait, 100, kStart + 2 * CutWait::kLimitMs);
  CHECK(step == CutStep::kTooLong);
  CHECK(at == kStart + CutWait::kLimitMs);
}

TEST_CASE("cut wait: a clock that does not move does not end the wait", "[cut]") {
  CutWait wait(kStart, sample(0, kWindow, kHeld));
  CHECK(wait.step(sample(0, kWindow, kHeld), kStart) == CutStep::kWait);
  CHECK(wait.step(sample(0, kWindow, kHeld), kStart - 1) == CutStep::kWait);
}
