// Wakes the loop from another thread: an eventfd that the loop watches.
//
// uv_async_send does the same, but libuv's handshake for it (a `pending`
// flag set to 1 before the eventfd write and to 2 after) makes the loop
// spin up to 997 `pause`s, then sched_yield, whenever it finds the flag
// at 1. When the sender shares the loop's core (a Pi, or a server pinned
// to one core) that is the common case: the eventfd write wakes the loop,
// which preempts the sender before it sets 2, and spins for a thread that
// cannot run. In the dm benchmark that spin was 17 % of the server's CPU
// (perf; docs/BENCHMARKS.md, issue 20). Here the sender writes the
// eventfd once, and only when the loop has not been woken since it last
// looked: a wake-up that finds one already pending costs an atomic
// exchange and no system call.
//
// Lifetime: every thread that calls wake() must be done with it (joined)
// before close().
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>

namespace uvchat::net {

class Wakeup {
 public:
  // `on_wake` runs on the loop's thread after one or more wake() calls.
  // Throws std::runtime_error if the eventfd cannot be made or watched.
  Wakeup(uv_loop_t* loop, std::function<void()> on_wake);
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Any thread. What the woken callback must see has to be published (under
  // a lock, or by a release store) before the call.
  void wake();
  // Loop thread. Stops watching and gives the descriptor back (once the loop
  // has let go of the handle); wake() must not be called any more.
  void close();

 private:
  static void on_readable(uv_poll_t* poll, int status, int events);

  std::function<void()> on_wake_;
  int fd_ = -1;
  uv_poll_t poll_{};
  std::atomic<bool> pending_{false};
  bool closed_ = false;
};

}  // namespace uvchat::net
