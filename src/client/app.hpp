// The client's imperative shell: one libuv loop for the server connection,
// the terminal (or the pipe on standard input) and the timers. It feeds
// events to the Session and carries out the actions that come back.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "options.hpp"
#include "terminal.hpp"
#include "uvchat/client/known_servers.hpp"
#include "uvchat/client/line_editor.hpp"
#include "uvchat/client/session.hpp"
#include "uvchat/net/tls.hpp"

namespace uvchat::client {

class App {
 public:
  App(uv_loop_t* loop, ClientOptions options, bool interactive);
  App(const App&) = delete;
  App& operator=(const App&) = delete;
  ~App();

  // Runs until the session exits; its exit status.
  int run();

 private:
  struct Link;  // one connection attempt and its socket

  void apply(const Actions& actions);
  void apply(const Action& action);
  void connect();
  // Closes the current link; over TLS with `close_notify`, says goodbye
  // first (a link the server broke gets nothing).
  void drop_link(bool close_notify = true);
  void send(const std::string& line);
  void write_bytes(Link& link, std::string bytes);
  void show(const std::string& text, Tone tone);
  void redraw();
  void exit_with(int status);

  // Events from the link.
  static void on_resolved(uv_getaddrinfo_t* request, int status, addrinfo* result);
  static void on_connected(uv_connect_t* request, int status);
  void connect_to(Link& link);
  void try_next_address(Link& link, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void take_server_bytes(Link& link, std::string_view bytes);
  void lose_link(Link& link, std::string_view why);

  // TLS (--tls): the link's TlsSession sits between the socket and the
  // lines; what it has to send leaves after every call into it.
  void start_tls(Link& link);
  void take_tls_bytes(Link& link, std::string_view ciphertext);
  void flush_tls(Link& link);
  void check_server(Link& link);
  void trust_server(const std::string& known_server_line);
  static void on_handshake_timeout(uv_timer_t* timer);

  // Events from standard input.
  void on_typed_bytes(std::string_view bytes);
  void start_pipe_input();
  static void on_pipe_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_pipe_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void take_pipe_bytes(std::string_view bytes);
  void read_file_input();

  static void on_signal(uv_signal_t* handle, int signal);

  uv_loop_t* loop_;
  ClientOptions options_;
  bool interactive_;
  bool colour_;
  Session session_;
  LineEditor editor_;
  std::unique_ptr<Terminal> terminal_;
  Link* link_ = nullptr;
  std::shared_ptr<net::TlsContext> tls_context_;  // null: plain text
  // Trusted in this run: they count even when known_servers cannot be written.
  std::vector<KnownServer> trusted_;
  uv_timer_t handshake_timer_{};
  uv_timer_t reconnect_timer_{};
  uv_timer_t quit_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_pipe_t pipe_input_{};
  bool pipe_open_ = false;
  std::string pipe_partial_;
  char pipe_buffer_[4096];
  int exit_status_ = -1;
};

}  // namespace uvchat::client
