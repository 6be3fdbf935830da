// Latencies in microseconds, every sample counted in a fixed amount of
// memory, for percentiles over runs of any length.
#pragma once

#include <array>
#include <cstdint>

namespace uvchat::bench {

// A log-linear histogram (as HdrHistogram): values below 128 have a bucket
// each; above, every power of two is split into 64 buckets, so a percentile
// is off by less than 1/64 (1.6 %) of its value. 3,776 buckets cover every
// 64-bit value: 30 KiB, whatever the number of samples. The minimum and
// maximum are kept exactly.
class LatencyHistogram {
 public:
  void record(std::uint64_t microseconds);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ > 0 ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  // The value at `fraction` (0.5: the median, 0.999: p99.9) of the samples,
  // sorted: the middle of the bucket that holds it, within [min, max]; the
  // last sample's value is exact. 0 when there are no samples.
  std::uint64_t percentile(double fraction) const;

 private:
  static constexpr unsigned kExactValues = 128;
  static constexpr unsigned kBucketsPerPowerOfTwo = 64;
  static constexpr unsigned kBucketCount = kExactValues + 57 * kBucketsPerPowerOfTwo;

  static unsigned bucket_of(std::uint64_t value);
  static std::uint64_t middle_of(unsigned bucket);

  std::array<std::uint64_t, kBucketCount> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace uvchat::bench
