#include "uvchat/net/wakeup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace uvchat::net {

Wakeup::Wakeup(uv_loop_t* loop, std::function<void()> on_wake) : on_wake_(std::move(on_wake)) {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  if (const int status = uv_poll_init(loop, &poll_, fd_); status < 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("uv_poll_init: ") + uv_strerror(status));
  }
  poll_.data = this;
  uv_poll_start(&poll_, UV_READABLE, on_readable);
}

// Like any libuv handle, the poll must be closed (close()) and the loop run
// before the memory goes; the owner does so (StoreWorker::stop).
Wakeup::~Wakeup() { close(); }

void Wakeup::wake() {
  if (pending_.exchange(true, std::memory_order_acq_rel)) return;  // the loop will look anyway
  const std::uint64_t one = 1;
  // Cannot fail short of a counter at 2^64 - 1 (EAGAIN): the loop reads it
  // back to 0 at every wake-up.
  [[maybe_unused]] const ssize_t written = ::write(fd_, &one, sizeof one);
}

// uv_poll_stop takes the descriptor out of epoll at once, so it can be
// closed before the handle is.
void Wakeup::close() {
  if (closed_) return;
  closed_ = true;
  uv_poll_stop(&poll_);
  ::close(fd_);
  fd_ = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
}

void Wakeup::on_readable(uv_poll_t* poll, int status, int /*events*/) {
  auto* self = static_cast<Wakeup*>(poll->data);
  if (status < 0) return;
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t read = ::read(self->fd_, &count, sizeof count);
  // Cleared before the callback looks, so that a wake() from now on writes
  // again: what it publishes is either seen below or wakes the loop anew.
  self->pending_.store(false, std::memory_order_seq_cst);
  self->on_wake_();
}

}  // namespace uvchat::net
