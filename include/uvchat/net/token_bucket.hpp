// Flood control for one connection: `rate` lines a second on average, with
// bursts of up to `burst`. Pure arithmetic on a millisecond clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace uvchat::net {

// Shared by every connection, so a bucket is only its own state (16 bytes
// a connection), and a changed limit applies to everyone at once.
struct FloodLimit {
  double rate = 20;  // lines a second; 0: no limit
  double burst = 50;

  bool unlimited() const { return rate <= 0; }
  double per_ms() const { return rate / 1000.0; }
  double capacity() const { return std::max(burst, 1.0); }
};

class TokenBucket {
 public:
  explicit TokenBucket(const FloodLimit& limit) : tokens_(limit.capacity()) {}

  // True when a line may be taken at `now_ms`.
  bool has_token(std::uint64_t now_ms, const FloodLimit& limit) {
    if (limit.unlimited()) return true;
    refill(now_ms, limit);
    return tokens_ >= 1.0;
  }
  void take(const FloodLimit& limit) {
    if (!limit.unlimited()) tokens_ -= 1.0;
  }
  // When has_token will next be true (at least now_ms + 1).
  std::uint64_t next_token_at(std::uint64_t now_ms, const FloodLimit& limit) {
    if (limit.unlimited()) return now_ms;
    refill(now_ms, limit);
    if (tokens_ >= 1.0) return now_ms;
    const double wait = (1.0 - tokens_) / limit.per_ms();
    return now_ms + std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wait + 0.999));
  }

 private:
  void refill(std::uint64_t now_ms, const FloodLimit& limit) {
    if (now_ms > last_ms_)
      tokens_ = std::min(limit.capacity(), tokens_ + static_cast<double>(now_ms - last_ms_) * limit.per_ms());
    last_ms_ = std::max(last_ms_, now_ms);
  }

  double tokens_;
  std::uint64_t last_ms_ = 0;
};

}  // namespace uvchat::net
