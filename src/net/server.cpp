#include "uvchat/net/server.hpp"

#include <csignal>

#include "uvchat/log.hpp"
#include "uvchat/protocol/parser.hpp"

namespace uvchat::net {
namespace {

constexpr unsigned int kKeepAliveDelaySeconds = 60;
constexpr std::uint64_t kSweepIntervalMs = 1000;

protocol::Command command_from_frame(const protocol::Frame& frame) {
  protocol::Command command;
  switch (frame.kind) {
    case protocol::FrameKind::kLine: return protocol::parse_line(frame.line);
    case protocol::FrameKind::kTooLong: command.error = protocol::ErrorCode::kLineTooLong; break;
    case protocol::FrameKind::kBadUtf8: command.error = protocol::ErrorCode::kBadUtf8; break;
  }
  return command;  // kInvalid
}

std::string peer_address(uv_tcp_t* tcp) {
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?";
  return format_address(reinterpret_cast<const sockaddr*>(&address));
}

void close_handle(void* handle) {
  auto* uv_handle = static_cast<uv_handle_t*>(handle);
  if (!uv_is_closing(uv_handle)) uv_close(uv_handle, nullptr);
}

}  // namespace

Server::Server(uv_loop_t* loop, ServerConfig config)
    : loop_(loop), config_(std::move(config)), hub_(config_.hub) {
  uv_prepare_init(loop_, &flush_handle_);
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &grace_timer_);
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&flush_handle_), reinterpret_cast<uv_handle_t*>(&sweep_timer_),
        reinterpret_cast<uv_handle_t*>(&grace_timer_), reinterpret_cast<uv_handle_t*>(&sigint_),
        reinterpret_cast<uv_handle_t*>(&sigterm_)}) {
    handle->data = this;
  }
}

Server::~Server() = default;

std::string Server::start() {
  std::vector<sockaddr_storage> addresses;
  if (resolve_listen_addresses(config_.host, config_.port, addresses) != 0) {
    close_own_handles();
    return "cannot resolve host '" + config_.host + "'";
  }
  bool has_ipv4 = false;
  for (const sockaddr_storage& address : addresses) has_ipv4 = has_ipv4 || address.ss_family == AF_INET;

  for (const sockaddr_storage& address : addresses) {
    auto listener = std::make_unique<Listener>(loop_, [this](uv_stream_t* server) { accept(server); });
    const auto* socket_address = reinterpret_cast<const sockaddr*>(&address);
    const int status = listener->listen(socket_address, has_ipv4, config_.backlog);
    listeners_.push_back(std::move(listener));
    if (status != 0) {
      for (auto& open : listeners_) open->close();
      close_own_handles();
      return "cannot listen on " + format_address(socket_address) + ": " + uv_strerror(status);
    }
  }
  uv_prepare_start(&flush_handle_, on_prepare);
  uv_timer_start(&sweep_timer_, on_sweep, kSweepIntervalMs, kSweepIntervalMs);
  // Before the log line that tells the world we listen: a supervisor (or a
  // test) may send SIGTERM as soon as it reads it.
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  for (const auto& listener : listeners_) log(LogLevel::kInfo, "listening on " + listener->address());
  return {};
}

void Server::accept(uv_stream_t* listener) {
  const chat::SessionId id = next_id_++;
  auto owned = std::make_unique<Connection>(*this, id, config_.max_line);
  Connection& connection = *owned;
  connections_.emplace(id, std::move(owned));
  uv_tcp_init(loop_, connection.tcp());
  if (const int status = uv_accept(listener, connection.stream()); status != 0) {
    log(LogLevel::kWarn, std::string("accept: ") + uv_strerror(status));
    connection.close_now();
    return;
  }
  // Nagle's algorithm with the client's delayed ACKs would hold back our
  // small lines by up to 40 ms each.
  uv_tcp_nodelay(connection.tcp(), 1);
  uv_tcp_keepalive(connection.tcp(), 1, kKeepAliveDelaySeconds);
  connection.set_peer(peer_address(connection.tcp()));
  log(LogLevel::kInfo, "connection " + std::to_string(id) + " from " + connection.peer());

  hub_.connect(id, connection.peer(), effects_);
  apply_effects();
  if (connection.state() != Connection::State::kOpen) return;
  if (const int status = connection.start_reading(); status != 0) {
    log(LogLevel::kWarn, "connection " + std::to_string(id) + ": read: " + uv_strerror(status));
    on_connection_lost(connection);
  }
}

void Server::on_input(Connection& connection) {
  process_lines(connection);
  connection.input().release();
}

void Server::process_lines(Connection& connection) {
  const auto now = protocol::Clock::now();
  protocol::Frame frame;
  while (connection.state() == Connection::State::kOpen &&
         connection.framer().next(connection.input(), frame)) {
    hub_.handle(connection.id(), command_from_frame(frame), now, effects_);
    apply_effects();
  }
}

void Server::on_end_of_input(Connection& connection) {
  protocol::Frame frame;
  if (connection.framer().finish(connection.input(), frame)) {
    hub_.handle(connection.id(), command_from_frame(frame), protocol::Clock::now(), effects_);
  }
  connection.input().release();
  hub_.disconnect(connection.id(), effects_);
  apply_effects();
  connection.close_after_flush();
}

void Server::on_connection_lost(Connection& connection) {
  hub_.disconnect(connection.id(), effects_);
  apply_effects();
  connection.close_now();
}

void Server::on_closed(Connection& connection) {
  const chat::SessionId id = connection.id();
  log(LogLevel::kInfo, "connection " + std::to_string(id) + " closed");
  connections_.erase(id);  // frees the connection
  hub_.disconnect(id, effects_);
  apply_effects();
  finish_if_stopped();
}

// The hub's decisions, carried out. Sends only queue bytes and closes only
// start closing, so nothing here frees a connection or calls the hub back.
void Server::apply_effects() {
  for (chat::Effect& effect : effects_) {
    if (effect.kind == chat::EffectKind::kLog) {
      log(effect.level, *effect.payload);
      continue;
    }
    const auto found = connections_.find(effect.session);
    if (found == connections_.end()) continue;
    if (effect.kind == chat::EffectKind::kSend) {
      found->second->send(std::move(effect.payload));
    } else {
      found->second->close_after_flush();
    }
  }
  effects_.clear();
}

void Server::schedule_flush(Connection& connection) {
  if (connection.flush_scheduled) return;
  connection.flush_scheduled = true;
  dirty_.push_back(connection.id());
}

void Server::on_prepare(uv_prepare_t* handle) { static_cast<Server*>(handle->data)->flush_pending(); }

// Runs once per loop turn, just before the loop waits for I/O: every
// connection that got output this turn writes it, all of it at once.
void Server::flush_pending() {
  flushing_.swap(dirty_);
  for (const chat::SessionId id : flushing_) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    found->second->flush_scheduled = false;
    found->second->flush();
  }
  flushing_.clear();
}

void Server::on_sweep(uv_timer_t* handle) { static_cast<Server*>(handle->data)->close_drained_too_long(); }

// O(connections) once a second: cheap next to the traffic that many
// connections make, and it needs no timer per connection.
void Server::close_drained_too_long() {
  const std::uint64_t now = uv_now(loop_);
  for (auto& [id, connection] : connections_) {
    if (connection->state() == Connection::State::kDraining && connection->drain_deadline() <= now) {
      log(LogLevel::kInfo, "connection " + std::to_string(id) + " did not take its last lines in time");
      connection->close_now();
    }
  }
}

void Server::on_signal(uv_signal_t* handle, int signal) {
  log(LogLevel::kInfo, std::string("got ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  static_cast<Server*>(handle->data)->stop();
}

void Server::stop() {
  if (stopping_) {
    log(LogLevel::kWarn, "stopping now");
    for (auto& [id, connection] : connections_) connection->close_now();
    finish_if_stopped();
    return;
  }
  stopping_ = true;
  log(LogLevel::kInfo, "shutting down: telling " + std::to_string(connections_.size()) + " clients");
  for (auto& listener : listeners_) listener->close();
  hub_.shutdown(effects_);
  apply_effects();
  uv_timer_start(&grace_timer_, on_grace_over, config_.shutdown_grace_ms, 0);
  finish_if_stopped();
}

void Server::on_grace_over(uv_timer_t* handle) {
  auto* self = static_cast<Server*>(handle->data);
  log(LogLevel::kWarn,
      std::to_string(self->connections_.size()) + " clients did not take their last lines in time");
  for (auto& [id, connection] : self->connections_) connection->close_now();
}

void Server::finish_if_stopped() {
  if (!stopping_ || !connections_.empty()) return;
  close_own_handles();
}

// With these closed the loop has nothing left to wait for, and uv_run returns.
void Server::close_own_handles() {
  if (handles_closed_) return;
  handles_closed_ = true;
  for (void* handle :
       {static_cast<void*>(&flush_handle_), static_cast<void*>(&sweep_timer_),
        static_cast<void*>(&grace_timer_), static_cast<void*>(&sigint_), static_cast<void*>(&sigterm_)}) {
    close_handle(handle);
  }
}

}  // namespace uvchat::net
