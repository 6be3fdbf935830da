// A one-shot timer on the driver's loop that its owner may outlive or not.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace uvchat::bench {

// uv_timer_t must stay put until its close callback, which runs on a later
// loop turn; so the handle lives on the heap and frees itself there, and the
// owner may be destroyed at any time (the callback is dropped with it).
class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Calls `callback` once, after `delay_ms`; replaces a pending call.
  void start(std::uint64_t delay_ms, std::function<void()> callback);
  void stop();
  bool pending() const;

 private:
  struct Handle;
  static void on_timeout(uv_timer_t* timer);

  Handle* handle_;
};

}  // namespace uvchat::bench
