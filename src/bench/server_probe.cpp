#include "server_probe.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace uvchat::bench {

std::optional<std::uint64_t> ServerProbe::cpu_microseconds() const {
  if (pid_ == 0) return std::nullopt;
  std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  if (!std::getline(file, stat)) return std::nullopt;
  // The command name (field 2) may hold spaces; the fields after its ')'
  // start at field 3 (state). utime and stime are fields 14 and 15.
  const std::size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(name_end + 2));
  std::string skipped;
  for (int field = 3; field < 14; ++field) fields >> skipped;
  std::uint64_t user_ticks = 0;
  std::uint64_t system_ticks = 0;
  if (!(fields >> user_ticks >> system_ticks)) return std::nullopt;
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return std::nullopt;
  return (user_ticks + system_ticks) * 1'000'000 / static_cast<std::uint64_t>(ticks_per_second);
}

std::optional<std::uint64_t> ServerProbe::rss_kib() const {
  if (pid_ == 0) return std::nullopt;
  std::ifstream file("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(file, line)) {
    if (!line.starts_with("VmRSS:")) continue;
    std::istringstream value(line.substr(6));
    std::uint64_t kib = 0;
    if (value >> kib) return kib;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> own_cpu_microseconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return std::nullopt;
  const auto micros = [](const timeval& time) {
    return static_cast<std::uint64_t>(time.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(time.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

std::optional<double> cpu_per_unit(std::optional<std::uint64_t> before, std::optional<std::uint64_t> after,
                                   std::uint64_t units) {
  if (!before || !after || units == 0 || *after < *before) return std::nullopt;
  return static_cast<double>(*after - *before) / static_cast<double>(units);
}

}  // namespace uvchat::bench
