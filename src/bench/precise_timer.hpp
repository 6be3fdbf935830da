// A repeating timer with a period in nanoseconds, for schedules finer than
// libuv's milliseconds: a Linux timerfd watched by the loop. Destroying it
// closes the watch and the descriptor, and runs the loop until libuv lets
// go of the handle.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <string>

namespace uvchat::bench {

class PreciseTimer {
 public:
  // Throws std::runtime_error if the timerfd cannot be made or watched.
  PreciseTimer(uv_loop_t* loop, std::function<void()> tick);
  ~PreciseTimer();
  PreciseTimer(const PreciseTimer&) = delete;
  PreciseTimer& operator=(const PreciseTimer&) = delete;

  // `tick` runs once per expiry; expiries missed while the loop was busy
  // run it once, not once each (the schedule catches up by what is due).
  void start(std::chrono::nanoseconds period);
  void stop();

 private:
  static void on_readable(uv_poll_t* poll, int status, int events);

  uv_loop_t* loop_;
  std::function<void()> tick_;
  int fd_ = -1;
  uv_poll_t poll_{};
  bool closed_ = false;
};

}  // namespace uvchat::bench
