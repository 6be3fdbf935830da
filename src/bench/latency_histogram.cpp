#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace uvchat::bench {

void LatencyHistogram::record(std::uint64_t microseconds) {
  ++buckets_[bucket_of(microseconds)];
  ++count_;
  min_ = std::min(min_, microseconds);
  max_ = std::max(max_, microseconds);
}

std::uint64_t LatencyHistogram::percentile(double fraction) const {
  if (count_ == 0) return 0;
  const auto wanted = static_cast<double>(count_) * std::clamp(fraction, 0.0, 1.0);
  const std::uint64_t rank =
      std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(wanted)), 1, count_);
  if (rank == count_) return max_;
  std::uint64_t seen = 0;
  for (unsigned bucket = 0; bucket < kBucketCount; ++bucket) {
    seen += buckets_[bucket];
    if (seen >= rank) return std::clamp(middle_of(bucket), min_, max_);
  }
  return max_;
}

// Bucket layout: [0, 128) one value each; then for each shift s >= 1, the
// 64 buckets of the values whose top 7 bits are 64..127 once shifted right
// by s, that is [64 << s, 128 << s) in steps of 1 << s.
unsigned LatencyHistogram::bucket_of(std::uint64_t value) {
  if (value < kExactValues) return static_cast<unsigned>(value);
  const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - 7;
  const auto top = static_cast<unsigned>(value >> shift);
  return kExactValues + (shift - 1) * kBucketsPerPowerOfTwo + (top - kBucketsPerPowerOfTwo);
}

std::uint64_t LatencyHistogram::middle_of(unsigned bucket) {
  if (bucket < kExactValues) return bucket;
  const unsigned past_exact = bucket - kExactValues;
  const unsigned shift = past_exact / kBucketsPerPowerOfTwo + 1;
  const std::uint64_t top = past_exact % kBucketsPerPowerOfTwo + kBucketsPerPowerOfTwo;
  return (top << shift) + (std::uint64_t{1} << (shift - 1));
}

}  // namespace uvchat::bench
