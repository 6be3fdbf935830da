#include "driver.hpp"

#include <algorithm>

#include "line_client.hpp"

namespace uvchat::bench {
namespace {

// How often the watchdog looks at the clock. It also wakes a loop that would
// otherwise sleep until the server speaks, so that a stall is noticed.
constexpr std::uint64_t kWatchdogIntervalMs = 100;

}  // namespace

Driver::Driver(uv_loop_t* loop, const sockaddr_storage& server, std::chrono::seconds stall_limit,
               pid_t server_pid, TlsSetup tls)
    : loop_(loop),
      server_(server),
      probe_(server_pid),
      tls_(std::move(tls)),
      stall_limit_ms_(static_cast<std::uint64_t>(std::chrono::milliseconds(stall_limit).count())) {
  uv_timer_init(loop_, &watchdog_);
  watchdog_.data = this;
  uv_prepare_init(loop_, &flusher_);
  flusher_.data = this;
  uv_prepare_start(&flusher_, on_prepare);
}

Driver::~Driver() {
  close_all_clients();
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flusher_), nullptr);
  uv_run(loop_, UV_RUN_DEFAULT);
}

bool Driver::run_until(std::string_view phase, const std::function<bool()>& done) {
  phase_ = phase;
  phase_failed_ = false;
  uv_update_time(loop_);
  note_progress();
  uv_timer_start(&watchdog_, on_watchdog, kWatchdogIntervalMs, kWatchdogIntervalMs);
  while (!phase_failed_ && !done()) {
    // Output queued outside a callback (a scenario starting its senders)
    // would otherwise wait for the next wake-up.
    flush_all();
    uv_run(loop_, UV_RUN_ONCE);
  }
  uv_timer_stop(&watchdog_);
  return !phase_failed_;
}

void Driver::fail(std::string problem) {
  failures_.push_back(std::move(problem));
  phase_failed_ = true;
  uv_stop(loop_);
}

void Driver::close_all_clients() {
  // Closing calls back into forget(), so close from a copy.
  const std::vector<LineClient*> open(clients_.begin(), clients_.end());
  for (LineClient* client : open) client->close();
  while (!clients_.empty()) uv_run(loop_, UV_RUN_ONCE);
}

void Driver::adopt(LineClient& client) { clients_.insert(&client); }

void Driver::forget(LineClient& client) {
  clients_.erase(&client);
  if (client.flush_scheduled) std::erase(to_flush_, &client);
}

void Driver::schedule_flush(LineClient& client) {
  if (client.flush_scheduled) return;
  client.flush_scheduled = true;
  to_flush_.push_back(&client);
}

uv_buf_t Driver::read_buffer() {
  return uv_buf_init(read_buffer_.data(), static_cast<unsigned int>(read_buffer_.size()));
}

std::span<char> Driver::plaintext_buffer() {
  if (!plaintext_buffer_) plaintext_buffer_ = std::make_unique<std::array<char, 64 * 1024>>();
  return *plaintext_buffer_;
}

std::shared_ptr<const net::TlsContext> Driver::tls_context(std::string& error) {
  if (!tls_.context) tls_.context = net::TlsContext::client(tls_.ca_path, error);
  return tls_.context;
}

void Driver::on_watchdog(uv_timer_t* timer) {
  auto* self = static_cast<Driver*>(timer->data);
  if (!self->stalled()) return;
  self->fail(self->phase_ + ": nothing from the server for " + std::to_string(self->stall_limit_ms_ / 1000) +
             " s");
}

void Driver::on_prepare(uv_prepare_t* prepare) { static_cast<Driver*>(prepare->data)->flush_all(); }

void Driver::flush_all() {
  // A flush may schedule another (a write that completes at once), so work
  // on a batch while new requests collect in to_flush_.
  flushing_.swap(to_flush_);
  for (LineClient* client : flushing_) {
    client->flush_scheduled = false;
    client->flush();
  }
  flushing_.clear();
}

bool Driver::stalled() const { return now_ms() - last_progress_ms_ >= stall_limit_ms_; }

}  // namespace uvchat::bench
