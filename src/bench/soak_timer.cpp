#include "soak_timer.hpp"

namespace uvchat::bench {

struct Timer::Handle {
  uv_timer_t timer{};
  std::function<void()> callback;
};

Timer::Timer(uv_loop_t* loop) : handle_(new Handle) {
  uv_timer_init(loop, &handle_->timer);
  handle_->timer.data = handle_;
}

Timer::~Timer() {
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* closed) { delete static_cast<Handle*>(closed->data); });
}

void Timer::start(std::uint64_t delay_ms, std::function<void()> callback) {
  handle_->callback = std::move(callback);
  uv_timer_start(&handle_->timer, on_timeout, delay_ms, 0);
}

void Timer::stop() {
  uv_timer_stop(&handle_->timer);
  handle_->callback = nullptr;
}

bool Timer::pending() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0;
}

// The callback may start the timer again, so it is moved out first.
void Timer::on_timeout(uv_timer_t* timer) {
  auto* handle = static_cast<Handle*>(timer->data);
  std::function<void()> callback = std::move(handle->callback);
  handle->callback = nullptr;
  if (callback) callback();
}

}  // namespace uvchat::bench
