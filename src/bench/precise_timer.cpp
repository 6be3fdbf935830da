#include "precise_timer.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace uvchat::bench {
namespace {

timespec to_timespec(std::chrono::nanoseconds period) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(period);
  return timespec{static_cast<time_t>(seconds.count()), static_cast<long>((period - seconds).count())};
}

}  // namespace

PreciseTimer::PreciseTimer(uv_loop_t* loop, std::function<void()> tick) : loop_(loop), tick_(std::move(tick)) {
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(std::string("timerfd_create: ") + std::strerror(errno));
  if (const int status = uv_poll_init(loop_, &poll_, fd_); status < 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("uv_poll_init: ") + uv_strerror(status));
  }
  poll_.data = this;
}

PreciseTimer::~PreciseTimer() {
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_),
           [](uv_handle_t* handle) { static_cast<PreciseTimer*>(handle->data)->closed_ = true; });
  while (!closed_) uv_run(loop_, UV_RUN_NOWAIT);
  ::close(fd_);
}

void PreciseTimer::start(std::chrono::nanoseconds period) {
  const timespec every = to_timespec(period);
  const itimerspec spec{every, every};
  if (timerfd_settime(fd_, 0, &spec, nullptr) < 0) {
    throw std::runtime_error(std::string("timerfd_settime: ") + std::strerror(errno));
  }
  uv_poll_start(&poll_, UV_READABLE, on_readable);
}

void PreciseTimer::stop() {
  const itimerspec off{};
  timerfd_settime(fd_, 0, &off, nullptr);
  uv_poll_stop(&poll_);
}

void PreciseTimer::on_readable(uv_poll_t* poll, int status, int /*events*/) {
  auto* self = static_cast<PreciseTimer*>(poll->data);
  std::uint64_t expiries = 0;
  if (status < 0 || ::read(self->fd_, &expiries, sizeof expiries) != sizeof expiries) return;
  self->tick_();
}

}  // namespace uvchat::bench
