// Runs the bench's one event loop, phase by phase.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "server_probe.hpp"
#include "uvchat/net/tls.hpp"

namespace uvchat::bench {

// TLS for the bench's connections (--tls, --tls-ca).
struct TlsSetup {
  bool everywhere = false;  // --tls: every connection, unless a scenario says otherwise
  // --tls-ca: a TLS connection fails unless the server's certificate
  // verifies against these and names `server_name`. Empty: no
  // verification at all, which is all a load generator needs.
  std::string ca_path;
  std::string server_name;  // the --host address, sent as SNI when it is a name
  // Made from ca_path by the command line, or on first use.
  std::shared_ptr<const net::TlsContext> context;
};

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
         pid_t server_pid = 0, TlsSetup tls = {});
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

  // Whether a client speaks TLS when its scenario does not say (--tls).
  bool tls_everywhere() const { return tls_.everywhere; }
  bool tls_verifies() const { return !tls_.ca_path.empty(); }
  const std::string& tls_server_name() const { return tls_.server_name; }
  // The client context of every TLS connection; null, with the reason in
  // `error`, when OpenSSL cannot make one.
  std::shared_ptr<const net::TlsContext> tls_context(std::string& error);

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
  // Where a TLS client decrypts what it read (the read buffer holds the
  // ciphertext meanwhile); made on first use.
  std::span<char> plaintext_buffer();

 private:
  static void on_watchdog(uv_timer_t* timer);
  static void on_prepare(uv_prepare_t* prepare);
  void flush_all();
  bool stalled() const;

  uv_loop_t* loop_;
  sockaddr_storage server_;
  ServerProbe probe_;
  TlsSetup tls_;
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
  std::unique_ptr<std::array<char, 64 * 1024>> plaintext_buffer_;
};

}  // namespace uvchat::bench
