#include "uvchat/net/server.hpp"

#include <algorithm>
#include <csignal>
#include <exception>

#include "uvchat/log.hpp"

namespace uvchat::net {
namespace {

constexpr std::uint64_t kSweepIntervalMs = 1000;
constexpr std::uint64_t kRetentionFirstRunMs = 10'000;
constexpr std::uint64_t kThrottleTickMs = 5;
constexpr std::uint64_t kRetentionIntervalMs = 24 * 60 * 60 * 1000;

// The hard bound on a connection's waiting output: eight times the soft
// one, and room for a few of the longest lines. Answers the server builds
// itself (a replay, a history) go out in pages as the client takes them
// (HubConfig::page_bytes), so no answer needs a larger bound, whatever the
// length of the queue.
std::size_t hard_outbuf(const ServerConfig& config) {
  constexpr std::size_t kHardFactor = 8;
  constexpr std::size_t kLongLines = 4;
  constexpr std::size_t kLineOverhead = 64;  // "[date] #room name: " and the line end
  return std::max(kHardFactor * config.max_outbuf, kLongLines * (config.max_line + kLineOverhead));
}

// The hub's pages follow --max-outbuf: a page is half of it (at most 256
// KiB), and the next one goes once no more than a page is left to write,
// so that a reader never has more than --max-outbuf (and a line) waiting
// for it because of an answer. What waits behind an answer is bounded by
// --max-outbuf too. With no limit, the defaults.
ServerConfig with_pages(ServerConfig config) {
  constexpr std::size_t kMaxPage = 256 * 1024;
  constexpr std::size_t kMinPage = 2048;
  constexpr std::size_t kUnboundedWaiting = 1024 * 1024;
  if (config.max_outbuf == 0) {
    config.hub.page_bytes = kMaxPage;
    config.hub.max_waiting = kUnboundedWaiting;
  } else {
    config.hub.page_bytes = std::clamp(config.max_outbuf / 2, kMinPage, kMaxPage);
    config.hub.max_waiting = config.max_outbuf;
  }
  return config;
}

}  // namespace

Server::Server(uv_loop_t* loop, ServerConfig config)
    : loop_(loop),
      config_(with_pages(std::move(config))),
      hub_(config_.hub),
      native_(config_.line_ending, config_.utc),
      door_settings_{.utc = config_.utc,
                     .max_line = config_.max_line,
                     .version = config_.version,
                     .history_on_join = config_.hub.history_on_join,
                     .web_origins = config_.web_origins,
                     .web_irc = config_.irc_door},
      limits_{config_.max_line, config_.max_outbuf, hard_outbuf(config_), {config_.rate, config_.burst},
              config_.hub.page_bytes} {
  uv_prepare_init(loop_, &flush_handle_);
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &grace_timer_);
  uv_timer_init(loop_, &retention_timer_);
  uv_timer_init(loop_, &throttle_timer_);
  uv_timer_init(loop_, &cut_timer_);
  uv_timer_init(loop_, &drain_timer_);
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  uv_signal_init(loop_, &sighup_);
  for (uv_handle_t* handle : own_handles()) handle->data = this;
}

std::vector<uv_handle_t*> Server::own_handles() {
  return {reinterpret_cast<uv_handle_t*>(&flush_handle_),   reinterpret_cast<uv_handle_t*>(&sweep_timer_),
          reinterpret_cast<uv_handle_t*>(&grace_timer_),    reinterpret_cast<uv_handle_t*>(&retention_timer_),
          reinterpret_cast<uv_handle_t*>(&throttle_timer_), reinterpret_cast<uv_handle_t*>(&cut_timer_),
          reinterpret_cast<uv_handle_t*>(&drain_timer_),    reinterpret_cast<uv_handle_t*>(&sigint_),         reinterpret_cast<uv_handle_t*>(&sigterm_),
          reinterpret_cast<uv_handle_t*>(&sighup_)};
}

Server::~Server() = default;

std::string Server::open_store() {
  try {
    std::unique_ptr<store::Store> db = store::Store::open(config_.db);
    std::size_t users = 0;
    std::int64_t queued = 0;
    for (store::StoredUser& user : db->load_users()) {
      hub_.load_user(user.name, std::move(user.password_hash), static_cast<std::size_t>(user.queued));
      ++users;
      queued += user.queued;
    }
    hub_.set_last_message_id(db->max_message_id());
    log(LogLevel::kInfo, "database " + config_.db + ": " + std::to_string(users) + " known users, " +
                             std::to_string(queued) + " queued messages");
    store_ = std::make_unique<StoreWorker>(
        loop_, std::move(db), [this](std::vector<chat::StoreResult>& results) { on_store_results(results); },
        config_.group_commit);
    ask_for_short_slice();  // this is the loop's thread, and the store now shares its core
    return {};
  } catch (const store::StoreError& error) {
    return "cannot use database " + config_.db + ": " + error.what();
  } catch (const std::exception& error) {  // the store's thread or its wake-up (eventfd)
    return "cannot start the store: " + std::string(error.what());
  }
}

std::string Server::start() {
  if (!config_.tls_cert.empty()) {
    if (std::string error = load_tls(config_.tls_cert, config_.tls_key); !error.empty()) {
      close_own_handles();
      return error;
    }
  }
  // Known users and queue sizes are loaded before anyone can connect.
  if (std::string error = open_store(); !error.empty()) {
    close_own_handles();
    return error;
  }
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
  uv_signal_start(&sighup_, on_signal, SIGHUP);
  if (config_.retain_days > 0) {
    uv_timer_start(&retention_timer_, on_retention, kRetentionFirstRunMs, kRetentionIntervalMs);
  }
  for (const auto& listener : listeners_) log(LogLevel::kInfo, "listening on " + listener->address());
  log_doors();
  // From here the loop's lines are written once a turn, in flush_pending.
  hold_log_lines(true);
  return {};
}

// Which doors are open, and where a browser finds the page: the first
// thing someone who typed `make run` wants to know.
void Server::log_doors() const {
  std::string doors = "doors open: native";
  if (config_.irc_door) doors += ", irc";
  if (config_.classic_door) doors += ", classic";
  if (config_.web_door && !listeners_.empty()) {
    std::string address = listeners_.front()->address();
    for (const std::string_view any : {"0.0.0.0:", "[::]:"}) {
      if (address.starts_with(any)) address = "localhost:" + address.substr(any.size());
    }
    doors += ", web (in a browser: http";
    if (tls_) doors += "s";
    doors += "://" + address + "/)";
  }
  log(LogLevel::kInfo, doors);
}

void Server::on_input(Connection& connection) {
  hub_.note_activity(connection.id(), loop_time());
  take_waiting_lines(connection);
  // A loop turn can be long: libuv polls again at once, up to 48 times,
  // while each poll fills its 1,024 events, before the turn ends. 10,000
  // clients registering at once were all answered in one turn, and every
  // answer, every payload and every store request of the crowd waited in
  // memory for its end (a peak the allocator keeps). Flushing every
  // kFlushAfterLines lines bounds that, and still gathers each busy
  // connection's lines into one write (docs/BENCHMARKS.md, arrivals).
  if (lines_since_flush_ >= kFlushAfterLines) flush_pending();
  if (lines_taken_ >= next_accept_check_) {
    next_accept_check_ = lines_taken_ + (accept_waiting() > 0 ? kAcceptCheckHerd : kAcceptCheckIdle);
  }
}

// Over TLS the ring holds plaintext decrypted a ringful at a time: more is
// decrypted as lines are taken, as long as they may be.
void Server::take_waiting_lines(Connection& connection) {
  for (;;) {
    process_lines(connection);
    if (!connection.uses_tls() || !connection.takes_input()) break;
    const Connection::TlsInput more = connection.decrypt_input();
    if (more == Connection::TlsInput::kLines) continue;
    if (more == Connection::TlsInput::kClosed) {
      on_end_of_input(connection);
      return;
    }
    if (more == Connection::TlsInput::kFailed) {
      on_tls_failed(connection);
      return;
    }
    break;
  }
  connection.input().release();
}

void Server::process_lines(Connection& connection) {
  // A registration reads the queue from the store: the store must know of
  // every DM delivered before it does.
  report_delivered();
  const auto now = protocol::Clock::now();
  protocol::Frame frame;
  if (!connection.door_picked()) sniff_web(connection);
  while (connection.takes_input()) {
    if (store_behind()) {
      hold_for_store(connection);
      return;
    }
    if (!connection.may_take_line(uv_now(loop_))) {
      throttle(connection);
      return;
    }
    if (!connection.next_frame(frame)) {
      if (connection.websocket_ended() && !connection.input_ended()) on_end_of_input(connection);
      return;
    }
    connection.take_line();
    take_frame(connection, frame, now);
    apply_effects();
    ++lines_since_flush_;
    ++lines_taken_;
  }
}

// The client closed its side; it may still read. The hub closes the session
// once it has sent every answer it owes (it says so with a close effect).
void Server::on_end_of_input(Connection& connection) {
  const bool websocket = connection.websocket() != nullptr;
  connection.note_end_of_input();
  protocol::Frame frame;
  // A WebSocket's last message came whole, or not at all.
  if (!websocket && connection.framer().finish(connection.input(), frame)) {
    take_frame(connection, frame, protocol::Clock::now());
  }
  connection.input().release();
  hub_.end_of_input(connection.id(), effects_);
  apply_effects();
}

// A broken connection is reset: DMs its client did not acknowledge stay
// queued in the store.
void Server::on_connection_lost(Connection& connection) {
  hub_.disconnect(connection.id(), effects_);
  apply_effects();
  connection.abort();
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
    if (effect.kind == chat::EffectKind::kStore) {
      if (store_) store_->submit(std::move(effect.store));
      continue;
    }
    if (effect.kind == chat::EffectKind::kHashPassword || effect.kind == chat::EffectKind::kVerifyPassword) {
      start_password_job(effect);
      continue;
    }
    const auto found = connections_.find(effect.session);
    if (found == connections_.end()) continue;
    Connection& connection = *found->second;
    switch (effect.kind) {
      case chat::EffectKind::kSend: send_event(connection, effect); break;
      case chat::EffectKind::kClose: connection.close_after_flush(); break;
      case chat::EffectKind::kPauseInput: connection.pause_input(); break;
      // Taking the waiting lines now would call the hub back from here.
      case chat::EffectKind::kResumeInput: resuming_.push_back(effect.session); break;
      case chat::EffectKind::kWatchOutput: connection.watch_output(); break;
      default: break;
    }
  }
  effects_.clear();
}

// Each result's effects at once: a batch may answer hundreds of
// registrations, each releasing the lines its session was owed meanwhile,
// and effects_ would keep the capacity of all of them together (6 MB when
// 10,000 users arrive at once).
void Server::on_store_results(std::vector<chat::StoreResult>& results) {
  for (chat::StoreResult& result : results) {
    hub_.on_store_result(result, effects_);
    apply_effects();
  }
  release_if_store_caught_up();
}

// Every line may write to the store, and the store runs on one thread: a
// flood faster than the disk would queue requests (and memory) without end.
// Past --store-backlog no line is taken from anyone until the store is down
// to a quarter of it; the kernel's buffers and TCP hold the rest.
bool Server::store_behind() const {
  return holding_for_store_ || (store_ && store_->backlog() >= config_.store_backlog);
}

void Server::hold_for_store(Connection& connection) {
  if (!holding_for_store_) {
    holding_for_store_ = true;
    store_->set_server_waiting(true);
    log(LogLevel::kWarn, "the database is " + std::to_string(store_->backlog()) +
                             " requests behind (--store-backlog); reading paused until it catches up");
  }
  connection.hold_for_store();
  held_for_store_.push_back(connection.id());
}

void Server::release_if_store_caught_up() {
  if (!holding_for_store_ || store_->backlog() > config_.store_backlog / 4) return;
  holding_for_store_ = false;
  store_->set_server_waiting(false);
  log(LogLevel::kInfo, "the database caught up; reading again");
  std::vector<chat::SessionId> ids;
  ids.swap(held_for_store_);
  for (const chat::SessionId id : ids) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    found->second->release_for_store();
    take_waiting_lines(*found->second);  // may hold it again
  }
}

void Server::report_delivered() {
  if (delivered_.empty()) return;
  hub_.on_delivered(delivered_, protocol::Clock::now(), effects_);
  delivered_.clear();
  apply_effects();
}

void Server::on_retention(uv_timer_t* handle) {
  auto* self = static_cast<Server*>(handle->data);
  const auto cutoff = protocol::Clock::now() - std::chrono::hours(24) * self->config_.retain_days;
  if (self->store_) self->store_->submit(chat::DeleteDeliveredBefore{cutoff});
}

void Server::schedule_flush(Connection& connection) {
  if (connection.flush_scheduled) return;
  connection.flush_scheduled = true;
  dirty_.push_back(connection.id());
}

// Runs once per loop turn, just before the loop waits for I/O: every
// connection that got output this turn writes it, all of it at once.
void Server::on_prepare(uv_prepare_t* handle) { static_cast<Server*>(handle->data)->flush_pending(); }

// Over its rate the connection is read more slowly, never dropped: its
// lines wait in its ring (and in the kernel) until a token is there.
void Server::throttle(Connection& connection) {
  const std::uint64_t resume_at = connection.throttle(uv_now(loop_));
  throttled_.emplace_back(connection.id(), resume_at);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&throttle_timer_))) {
    uv_timer_start(&throttle_timer_, on_throttle_timer, kThrottleTickMs, kThrottleTickMs);
  }
}

void Server::on_throttle_timer(uv_timer_t* handle) {
  static_cast<Server*>(handle->data)->release_throttled();
}

void Server::release_throttled() {
  const std::uint64_t now = uv_now(loop_);
  std::vector<std::pair<chat::SessionId, std::uint64_t>> waiting;
  waiting.swap(throttled_);
  for (const auto& [id, resume_at] : waiting) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    if (resume_at > now) {
      throttled_.emplace_back(id, resume_at);
      continue;
    }
    found->second->unthrottle();
    take_waiting_lines(*found->second);  // may throttle it again
  }
  if (throttled_.empty()) uv_timer_stop(&throttle_timer_);
}

void Server::resume_inputs() {
  std::vector<chat::SessionId> ids;
  ids.swap(resuming_);
  for (const chat::SessionId id : ids) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    Connection& connection = *found->second;
    connection.resume_input();
    take_waiting_lines(connection);
  }
}

void Server::flush_pending() {
  lines_since_flush_ = 0;
  cut_too_slow();
  resume_inputs();
  // A connection whose output a flush emptied may be owed the next page of
  // an answer at once: a few rounds here, and should a reader keep taking
  // pages that fast, the rest in the next turn (the timer keeps the loop
  // from sleeping meanwhile). A page read from the store ends a round.
  constexpr int kDrainRounds = 8;
  for (int round = 0; round == 0 || (!drained_.empty() && round < kDrainRounds); ++round) {
    report_drained();
    flush_dirty();
  }
  if (!drained_.empty()) uv_timer_start(&drain_timer_, [](uv_timer_t*) {}, 0, 0);
  cut_too_slow();
  report_delivered();
  if (store_) store_->hand_over();  // last: the turn's every request, deliveries included
  flush_log_lines();
}

void Server::flush_dirty() {
  flushing_.swap(dirty_);
  for (const chat::SessionId id : flushing_) {
    const auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    found->second->flush_scheduled = false;
    found->second->flush();
    found->second->check_output_limit(uv_now(loop_));
  }
  flushing_.clear();
}

void Server::report_drained() {
  if (drained_.empty()) return;
  std::vector<chat::SessionId> ids;
  ids.swap(drained_);
  for (const chat::SessionId id : ids) {
    if (!connections_.contains(id)) continue;
    hub_.on_output_drained(id, effects_);
    apply_effects();
  }
}

void Server::on_sweep(uv_timer_t* handle) { static_cast<Server*>(handle->data)->sweep(); }

// Once a second: the hub's timeouts, and connections that took too long to
// take their last lines. O(connections): cheap next to the traffic that
// many connections make, and no timer per connection.
void Server::sweep() {
  hub_.tick(loop_time(), effects_);
  apply_effects();
  // Should the store have caught up between a hold and set_server_waiting.
  release_if_store_caught_up();
  const std::uint64_t now = uv_now(loop_);
  for (auto& [id, connection] : connections_) {
    connection->check_output_limit(now);
    if (connection->awaits_acknowledgement()) connection->release_acknowledged();
    if (connection->state() == Connection::State::kDraining && connection->drain_deadline() <= now) {
      log(LogLevel::kInfo, "connection " + std::to_string(id) + " did not take its last lines in time");
      cut(*connection, {});
    }
  }
}

void Server::on_signal(uv_signal_t* handle, int signal) {
  auto* self = static_cast<Server*>(handle->data);
  if (signal == SIGHUP) {
    log(LogLevel::kInfo, "got SIGHUP");
    // Once stopping, a reload would tell the service manager READY again.
    if (self->hooks_.reload && !self->stopping_) self->hooks_.reload();
    return;
  }
  log(LogLevel::kInfo, std::string("got ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  self->stop();
}

void Server::reconfigure(const ServerConfig& config) {
  config_.max_outbuf = config.max_outbuf;
  config_.rate = config.rate;
  config_.burst = config.burst;
  const ServerConfig paged = with_pages(config);
  limits_.max_outbuf = config_.max_outbuf;
  limits_.hard_outbuf = hard_outbuf(config_);
  limits_.flood = FloodLimit{config_.rate, config_.burst};
  limits_.page_bytes = paged.hub.page_bytes;
  hub_.reconfigure(paged.hub);
  door_settings_.history_on_join = config.hub.history_on_join;  // for doors picked from now on
  config_.tls_cert = config.tls_cert;
  config_.tls_key = config.tls_key;
  config_.tls_only = config.tls_only;
  reload_tls();
}

std::vector<std::string> Server::addresses() const {
  std::vector<std::string> names;
  for (const auto& listener : listeners_) names.push_back(listener->address());
  return names;
}

void Server::stop() {
  if (stopping_) {
    log(LogLevel::kWarn, "stopping now");
    for (auto& [id, connection] : connections_) connection->abort();
    finish_if_stopped();
    return;
  }
  stopping_ = true;
  if (hooks_.stopping) hooks_.stopping();
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
  for (auto& [id, connection] : self->connections_) connection->abort();
}

void Server::finish_if_stopped() {
  if (!stopping_ || !connections_.empty()) return;
  // A password being hashed is stored when the hash is ready; the store
  // must still be there for it.
  if (password_work_running()) return;
  report_delivered();
  close_own_handles();
}

// With these closed the loop has nothing left to wait for, and uv_run returns.
void Server::close_own_handles() {
  if (handles_closed_) return;
  handles_closed_ = true;
  hold_log_lines(false);
  // The worker commits what it was given before its thread ends.
  if (store_) store_->stop();
  drop_password_delays();
  for (uv_handle_t* handle : own_handles()) {
    if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  }
}

}  // namespace uvchat::net
