// The imperative shell: one libuv loop, the listeners, the connections, and
// the hub whose effects it carries out.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "uvchat/chat/hub.hpp"
#include "uvchat/net/connection.hpp"
#include "uvchat/net/listener.hpp"

namespace uvchat::net {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 8080;
  std::size_t max_line = 4096;
  int backlog = 511;
  // How long a stopping server waits for clients to take their last lines.
  std::uint64_t shutdown_grace_ms = 2000;
  chat::HubConfig hub;
};

class Server {
 public:
  Server(uv_loop_t* loop, ServerConfig config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds every address of the host and starts serving; logs the addresses.
  // On failure returns a message and opens nothing.
  std::string start();
  // Graceful stop (SIGINT/SIGTERM): every client gets server:shutdown, what
  // is queued is flushed for at most shutdown_grace_ms, then the loop ends.
  // A second call stops at once.
  void stop();

  // From Connection.
  void on_input(Connection& connection);
  void on_end_of_input(Connection& connection);
  void on_connection_lost(Connection& connection);
  void on_closed(Connection& connection);
  void schedule_flush(Connection& connection);

 private:
  static void on_prepare(uv_prepare_t* handle);
  static void on_sweep(uv_timer_t* handle);
  static void on_signal(uv_signal_t* handle, int signal);
  static void on_grace_over(uv_timer_t* handle);

  void accept(uv_stream_t* listener);
  void process_lines(Connection& connection);
  void apply_effects();
  void flush_pending();
  void close_drained_too_long();
  void finish_if_stopped();
  void close_own_handles();

  uv_loop_t* loop_;
  ServerConfig config_;
  chat::Hub hub_;
  chat::Effects effects_;

  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<chat::SessionId, std::unique_ptr<Connection>> connections_;
  chat::SessionId next_id_ = 1;
  // Connections with output to write this turn; ids, not pointers, so a
  // connection closed meanwhile is simply not found.
  std::vector<chat::SessionId> dirty_;
  std::vector<chat::SessionId> flushing_;

  uv_prepare_t flush_handle_{};
  uv_timer_t sweep_timer_{};
  uv_timer_t grace_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  bool stopping_ = false;
  bool handles_closed_ = false;
};

}  // namespace uvchat::net
