// The imperative shell: one libuv loop, the listeners, the connections, and
// the hub whose effects it carries out.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "uvchat/chat/hub.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/net/connection.hpp"
#include "uvchat/net/listener.hpp"
#include "uvchat/net/store_worker.hpp"
#include "uvchat/protocol/door.hpp"

namespace uvchat::net {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int port = 8080;
  std::size_t max_line = 4096;
  std::size_t max_outbuf = 1 << 20;  // 0: no limit
  double rate = 20;                  // lines a second per connection; 0: no limit
  double burst = 50;
  int backlog = 4096;
  // How long a stopping server waits for clients to take their last lines.
  std::uint64_t shutdown_grace_ms = 2000;
  std::string db = "uvchat.db";
  int retain_days = 0;  // 0: keep every message
  bool group_commit = true;
  // Requests the store may have waiting before no more lines are read from
  // anyone; reading goes on once it is down to a quarter of that.
  std::size_t store_backlog = 20'000;
  // TLS on the same port (docs/PROTOCOL.md, 1.1): a connection whose first
  // byte starts a handshake gets TLS. No certificate: no TLS.
  std::string tls_cert;  // PEM, the full chain
  std::string tls_key;   // PEM; empty: in tls_cert
  bool tls_only = false;  // plain text only from 127.0.0.1 and ::1
  // The native door's lines: times in UTC or local, CR LF or LF. Times
  // other doors put into text follow `utc` too.
  bool utc = false;
  protocol::LineEnding line_ending = protocol::LineEnding::kLf;
  // The doors a first line may open besides the native one, which is
  // always open (docs/IRC.md, docs/CLASSIC.md).
  bool irc_door = true;
  bool classic_door = true;
  bool web_door = true;  // docs/WEB.md
  // Origins besides the server's own whose pages may open its WebSocket.
  std::vector<std::string> web_origins;
  std::string version = "uvchat";  // what the IRC door says it runs (002, 004)
  chat::HubConfig hub;
};

// What the program around the server does when the service manager (or
// an admin) signals it.
struct ServerHooks {
  std::function<void()> reload;    // SIGHUP
  std::function<void()> stopping;  // a graceful stop begins
};

class Server {
 public:
  Server(uv_loop_t* loop, ServerConfig config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Opens the database and loads the known users, then binds every address
  // of the host and starts serving; logs the addresses. On failure returns
  // a message and leaves nothing open.
  std::string start();
  // Graceful stop (SIGINT/SIGTERM): every client gets server:shutdown, what
  // is queued is flushed for at most shutdown_grace_ms, then the loop ends.
  // A second call stops at once.
  void stop();
  void set_hooks(ServerHooks hooks) { hooks_ = std::move(hooks); }
  // A reload: the limits that a running server can change take their new
  // values, for every connection at once (see Hub::reconfigure for the
  // hub's). The rest of `config` is ignored.
  void reconfigure(const ServerConfig& config);
  // Builds a TLS context from the certificate files and serves it to new
  // connections, if it loads; otherwise logs why and changes nothing.
  // Connections under way keep the context they began with.
  void reload_tls();
  // "127.0.0.1:8080" for each address listened on.
  std::vector<std::string> addresses() const;

  // From Connection.
  void on_input(Connection& connection);
  // The first bytes of a connection that may be TLS are in its ring.
  void on_first_bytes(Connection& connection);
  void on_tls_established(Connection& connection);
  void on_end_of_input(Connection& connection);
  void on_connection_lost(Connection& connection);
  void on_closed(Connection& connection);
  void schedule_flush(Connection& connection);
  // What renders and reads every native connection's lines.
  door::Codec& native_codec() { return native_; }
  void on_too_slow(Connection& connection) { too_slow_.push_back(connection.id()); }
  // A DM was delivered (Connection::send); the store hears of it once per turn.
  void on_delivered(chat::MessageId id) { delivered_.push_back(id); }
  // The connection's unsent output is down to a page (Connection::watch_output);
  // the hub hears of it in flush_pending.
  void on_output_drained(Connection& connection) { drained_.push_back(connection.id()); }

 private:
  void log_doors() const;
  Connection& new_connection();
  void admit(Connection& connection);
  std::size_t accept_waiting();
  static void on_prepare(uv_prepare_t* handle);
  static void on_sweep(uv_timer_t* handle);
  static void on_signal(uv_signal_t* handle, int signal);
  static void on_grace_over(uv_timer_t* handle);
  static void on_retention(uv_timer_t* handle);
  static void on_throttle_timer(uv_timer_t* handle);
  static void on_cut_timer(uv_timer_t* handle);

  struct PasswordJob;
  static void on_password_work(uv_work_t* work);
  static void on_password_done(uv_work_t* work, int status);
  static void on_password_delay_over(uv_timer_t* timer);
  void start_password_job(chat::Effect& effect);
  void finish_password_job(PasswordJob* job);
  static void free_password_job(PasswordJob* job);
  bool password_work_running() const;
  void drop_password_delays();

  std::string open_store();
  void on_store_results(std::vector<chat::StoreResult>& results);
  void report_delivered();

  void accept(uv_stream_t* listener);
  void process_lines(Connection& connection);
  // The doors (server_doors.cpp): a frame from the connection, through its
  // codec (picked by its first line) to the hub; an event from the hub,
  // through its codec to its output.
  void take_frame(Connection& connection, const protocol::Frame& frame, protocol::TimePoint now);
  void pick_door(Connection& connection, protocol::Door door);
  void sniff_web(Connection& connection);
  void send_event(Connection& connection, chat::Effect& effect);
  void apply_effects();
  void flush_pending();
  void flush_dirty();
  void report_drained();
  void resume_inputs();
  void cut_too_slow();
  // Overload of the store: lines wait in the clients' sockets, not in memory.
  bool store_behind() const;
  void hold_for_store(Connection& connection);
  void release_if_store_caught_up();
  // Cuts off a client that does not read (Connection::begin_cut); it is
  // told `last_words` if there is room, and its session ends with the cut.
  void cut(Connection& connection, std::string last_words);
  void finish_cuts();
  void throttle(Connection& connection);
  void release_throttled();
  chat::Monotonic loop_time() const { return chat::Monotonic(uv_now(loop_)); }
  void sweep();
  void take_waiting_lines(Connection& connection);
  void on_tls_failed(Connection& connection);
  std::string load_tls(const std::string& certificate, const std::string& key);
  void finish_if_stopped();
  void close_own_handles();
  // The handles the server itself owns (not listeners or connections).
  std::vector<uv_handle_t*> own_handles();

  uv_loop_t* loop_;
  ServerConfig config_;
  chat::Hub hub_;
  chat::Effects effects_;
  door::NativeCodec native_;  // every native connection's
  door::Settings door_settings_;

  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<chat::SessionId, std::unique_ptr<Connection>> connections_;
  chat::SessionId next_id_ = 1;
  // Connections with output to write this turn; ids, not pointers, so a
  // connection closed meanwhile is simply not found.
  std::vector<chat::SessionId> dirty_;
  std::vector<chat::SessionId> flushing_;
  // Lines taken since the last flush_pending; at kFlushAfterLines the turn
  // flushes early (on_input).
  static constexpr std::size_t kFlushAfterLines = 256;
  std::size_t lines_since_flush_ = 0;
  // Lines taken in all, and when the listeners' queues are looked at next
  // (on_input): every kAcceptCheckIdle lines, or every kAcceptCheckHerd
  // while the last look found connections waiting.
  static constexpr std::size_t kAcceptCheckIdle = 256;
  static constexpr std::size_t kAcceptCheckHerd = 16;
  std::size_t lines_taken_ = 0;
  std::size_t next_accept_check_ = kAcceptCheckIdle;
  // Connections whose input the hub let go again; resumed before flushing.
  std::vector<chat::SessionId> resuming_;
  // Connections past --max-outbuf, cut before flushing.
  std::vector<chat::SessionId> too_slow_;
  // Connections over their line rate, and when each may go on. Checked by
  // one timer every few milliseconds while any is waiting, rather than a
  // timer per connection.
  std::vector<std::pair<chat::SessionId, std::uint64_t>> throttled_;
  uv_timer_t throttle_timer_{};
  // Connections being cut, what each is told at the end, and how far its
  // client's TCP has got. One timer checks them every few milliseconds
  // while any is waiting.
  struct Cut {
    chat::SessionId id;
    std::string last_words;
    CutWait wait;
  };
  std::vector<Cut> cutting_;
  // Connections waiting for the store to catch up (store_behind).
  std::vector<chat::SessionId> held_for_store_;
  bool holding_for_store_ = false;
  uv_timer_t cut_timer_{};
  // Connections that may take more of an answer (on_output_drained).
  std::vector<chat::SessionId> drained_;
  uv_timer_t drain_timer_{};
  ConnectionLimits limits_;
  std::shared_ptr<const TlsContext> tls_;  // null: no TLS

  uv_prepare_t flush_handle_{};
  uv_timer_t sweep_timer_{};
  uv_timer_t grace_timer_{};
  uv_timer_t retention_timer_{};
  std::unique_ptr<StoreWorker> store_;
  std::vector<chat::MessageId> delivered_;
  std::unordered_set<PasswordJob*> password_jobs_;
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_signal_t sighup_{};
  ServerHooks hooks_;
  bool stopping_ = false;
  bool handles_closed_ = false;
};

}  // namespace uvchat::net
