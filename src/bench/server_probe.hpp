// What the server process spent, from /proc: CPU time (utime + stime of
// /proc/PID/stat) and resident memory (VmRSS of /proc/PID/status). For the
// scenarios' "server CPU µs per message" and "RSS per connection".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace uvchat::bench {

class ServerProbe {
 public:
  // pid 0: no server to look at; every reading is empty.
  explicit ServerProbe(pid_t pid) : pid_(pid) {}

  bool enabled() const { return pid_ != 0; }
  // User and system CPU time so far, in microseconds (clock-tick resolution,
  // 10 ms on most kernels: measure over seconds, not milliseconds).
  std::optional<std::uint64_t> cpu_microseconds() const;
  // Resident set size now, in KiB.
  std::optional<std::uint64_t> rss_kib() const;

 private:
  pid_t pid_;
};

// CPU spent between two readings, per unit of work; empty unless both
// readings exist and there was work.
// The load generator's own CPU time so far (user and system), in
// microseconds: with the server on one core and the generator on the
// other, it tells which end of a run was the bound.
std::optional<std::uint64_t> own_cpu_microseconds();

std::optional<double> cpu_per_unit(std::optional<std::uint64_t> before, std::optional<std::uint64_t> after,
                                   std::uint64_t units);

}  // namespace uvchat::bench
