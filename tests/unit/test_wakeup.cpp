// net::Wakeup (src/net/wakeup.cpp): the store's thread wakes the loop with
// it. Nothing published before a wake() may be missed, and wake-ups that
// come before the loop looks are folded into one.
#include <uv.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "uvchat/net/wakeup.hpp"

using uvchat::net::Wakeup;

namespace {

// A loop with a Wakeup whose callback takes what the other thread published.
struct Fixture {
  uv_loop_t loop{};
  std::mutex mutex;
  std::vector<int> published;  // guarded by mutex
  std::vector<int> taken;      // loop thread
  int calls = 0;
  std::unique_ptr<Wakeup> wakeup;

  Fixture() {
    uv_loop_init(&loop);
    wakeup = std::make_unique<Wakeup>(&loop, [this] {
      ++calls;
      std::lock_guard lock(mutex);
      taken.insert(taken.end(), published.begin(), published.end());
      published.clear();
    });
  }
  ~Fixture() {
    wakeup->close();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  void publish(int value) {
    {
      std::lock_guard lock(mutex);
      published.push_back(value);
    }
    wakeup->wake();
  }
  // Runs the loop until `done`, for at most 10 s.
  template <typename Done>
  bool run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop, UV_RUN_NOWAIT);
    }
    return true;
  }
};

}  // namespace

TEST_CASE("Wakeup: wake-ups before the loop looks are one callback", "[wakeup]") {
  Fixture fixture;
  for (int i = 0; i < 1000; ++i) fixture.publish(i);
  REQUIRE(fixture.run_until([&] { return fixture.taken.size() == 1000; }));
  CHECK(fixture.calls == 1);
  uv_run(&fixture.loop, UV_RUN_NOWAIT);
  CHECK(fixture.calls == 1);  // nothing was left to wake it again
}

TEST_CASE("Wakeup: nothing published by another thread is missed", "[wakeup]") {
  Fixture fixture;
  constexpr int kValues = 200'000;
  std::thread other([&] {
    for (int i = 0; i < kValues; ++i) {
      fixture.publish(i);
      if (i % 64 == 0) std::this_thread::yield();  // let the loop look in between
    }
  });
  const bool all = fixture.run_until([&] { return fixture.taken.size() == static_cast<std::size_t>(kValues); });
  other.join();
  REQUIRE(all);
  std::vector<int> expected(kValues);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(fixture.taken == expected);
  CHECK(fixture.calls > 1);
}

TEST_CASE("Wakeup: a closed wake-up lets the loop end", "[wakeup]") {
  uv_loop_t loop{};
  uv_loop_init(&loop);
  {
    Wakeup wakeup(&loop, [] {});
    CHECK(uv_loop_alive(&loop) != 0);
    wakeup.close();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  CHECK(uv_loop_close(&loop) == 0);
}
