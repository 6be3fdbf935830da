// Runs the bench's one event loop, phase by phase.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "server_probe.hpp"

namespace uvchat::bench {

class LineClient;

// A scenario is a sequence of phases (connect and register, send, verify),
// each run with run_until(). The driver bounds every phase: when nothing has
// arrived from the server for the stall limit, the phase fails rather than
// waiting forever.
//
// The driver also keeps what all clients share: the server's address, one
// read buffer (libuv reads one stream at a time, so one is enough), and the
// list of clients with output to write, flushed once per loop turn so that
// the lines a turn produces for a client leave in one write.
class Driver {
 public:
  Driver(uv_loop_t* loop, const sockaddr_storage& server, std::chrono::seconds stall_limit,
         pid_t server_pid = 0);
  // Closes every client that is still open and the driver's own handles.
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  uv_loop_t* loop() const { return loop_; }
  // The server's CPU time and memory (--server-pid), when it was given.
  const ServerProbe& server_probe() const { return probe_; }
  const sockaddr* server() const { return reinterpret_cast<const sockaddr*>(&server_); }
  // The loop's clock, in milliseconds; cached once per loop turn.
  std::uint64_t now_ms() const { return uv_now(loop_); }

  // Runs the loop until `done()` holds. False when the phase failed: fail()
  // was called, or the server went quiet for the stall limit.
  bool run_until(std::string_view phase, const std::function<bool()>& done);
  // Ends the running phase with a failure.
  void fail(std::string problem);
  const std::vector<std::string>& failures() const { return failures_; }

  // Closes every client and runs the loop until all their close callbacks
  // have run, so that they can be freed.
  void close_all_clients();

  // For LineClient.
  void adopt(LineClient& client);
  void forget(LineClient& client);
  void note_progress() { last_progress_ms_ = now_ms(); }
  void schedule_flush(LineClient& client);
  uv_buf_t read_buffer();

 private:
  static void on_watchdog(uv_timer_t* timer);
  static void on_prepare(uv_prepare_t* prepare);
  void flush_all();
  bool stalled() const;

  uv_loop_t* loop_;
  sockaddr_storage server_;
  ServerProbe probe_;
  std::uint64_t stall_limit_ms_;
  std::uint64_t last_progress_ms_ = 0;
  std::string phase_;
  std::vector<std::string> failures_;
  bool phase_failed_ = false;

  uv_timer_t watchdog_{};
  uv_prepare_t flusher_{};
  std::unordered_set<LineClient*> clients_;
  std::vector<LineClient*> to_flush_;
  std::vector<LineClient*> flushing_;
  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace uvchat::bench
