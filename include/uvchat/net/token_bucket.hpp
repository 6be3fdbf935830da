// Flood control for one connection: `rate` lines a second on average, with
// bursts of up to `burst`. Pure arithmetic on a millisecond clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace uvchat::net {

class TokenBucket {
 public:
  // rate 0: no limit.
  TokenBucket(double rate_per_second, double burst)
      : per_ms_(rate_per_second / 1000.0), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

  bool unlimited() const { return per_ms_ <= 0; }

  // True when a line may be taken at `now_ms`.
  bool has_token(std::uint64_t now_ms) {
    if (unlimited()) return true;
    refill(now_ms);
    return tokens_ >= 1.0;
  }
  void take() {
    if (!unlimited()) tokens_ -= 1.0;
  }
  // When has_token will next be true (at least now_ms + 1).
  std::uint64_t next_token_at(std::uint64_t now_ms) {
    refill(now_ms);
    if (tokens_ >= 1.0) return now_ms;
    const double wait = (1.0 - tokens_) / per_ms_;
    return now_ms + std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wait + 0.999));
  }

 private:
  void refill(std::uint64_t now_ms) {
    if (now_ms > last_ms_)
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * per_ms_);
    last_ms_ = std::max(last_ms_, now_ms);
  }

  double per_ms_;
  double burst_;
  double tokens_;
  std::uint64_t last_ms_ = 0;
};

}  // namespace uvchat::net
