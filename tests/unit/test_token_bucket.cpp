#include <catch2/catch.hpp>

#include "uvchat/net/token_bucket.hpp"

using uvchat::net::FloodLimit;
using uvchat::net::TokenBucket;

namespace {

// Takes lines as fast as the bucket allows from `start`; returns when the
// `count`th one was taken.
// A bucket and the limit it is used with.
struct Limited {
  Limited(double rate, double burst) : limit{rate, burst}, bucket(limit) {}
  bool has_token(std::uint64_t now) { return bucket.has_token(now, limit); }
  std::uint64_t next_token_at(std::uint64_t now) { return bucket.next_token_at(now, limit); }

  FloodLimit limit;
  TokenBucket bucket;
};

std::uint64_t time_to_take(Limited& bucket, int count, std::uint64_t start) {
  std::uint64_t now = start;
  for (int taken = 0; taken < count;) {
    if (bucket.has_token(now)) {
      bucket.bucket.take(bucket.limit);
      ++taken;
    } else {
      now = bucket.next_token_at(now);
    }
  }
  return now;
}

}  // namespace

TEST_CASE("A token bucket lets a burst through at once, then the rate", "[token-bucket]") {
  Limited bucket(10, 10);
  CHECK(time_to_take(bucket, 10, 1000) == 1000);
  // 90 more at 10 a second: 9 s.
  CHECK(time_to_take(bucket, 90, 1000) == 10'000);
}

TEST_CASE("A token bucket refills while idle, up to the burst only", "[token-bucket]") {
  Limited bucket(10, 5);
  time_to_take(bucket, 5, 0);
  CHECK_FALSE(bucket.has_token(0));
  CHECK(bucket.next_token_at(0) == 100);
  // A minute of silence gives back the burst, not 600 lines.
  CHECK(time_to_take(bucket, 5, 60'000) == 60'000);
  CHECK_FALSE(bucket.has_token(60'000));
}

TEST_CASE("A token bucket with rate 0 never limits", "[token-bucket]") {
  Limited bucket(0, 1);
  CHECK(bucket.limit.unlimited());
  CHECK(time_to_take(bucket, 100'000, 5) == 5);
}

TEST_CASE("A token bucket never goes back in time", "[token-bucket]") {
  Limited bucket(1, 1);
  time_to_take(bucket, 1, 10'000);
  CHECK_FALSE(bucket.has_token(5'000));  // an older time refills nothing
  CHECK(bucket.next_token_at(10'000) == 11'000);
}

TEST_CASE("A token bucket follows its limit when the limit changes", "[token-bucket]") {
  Limited bucket(1, 1);
  time_to_take(bucket, 1, 1'000);
  CHECK(bucket.next_token_at(1'000) == 2'000);
  bucket.limit.rate = 1'000;  // one a millisecond
  CHECK(bucket.next_token_at(1'000) == 1'001);
  bucket.limit.rate = 0;
  CHECK(bucket.has_token(1'000));
}
