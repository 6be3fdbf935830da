#include "descriptors.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace uvchat::server {
namespace {

// Beside the clients' sockets: listeners, the database's files, the loop's
// own, the log.
constexpr std::size_t kSpareDescriptors = 64;
// The most slots taken: the systemd unit's LimitNOFILE, 128 KiB of kernel
// memory on a 64-bit machine.
constexpr std::size_t kMostReservedDescriptors = 16'384;

}  // namespace

// Linux starts a process with room for 64 descriptors and doubles the table
// whenever a new descriptor does not fit. While the table is shared by
// threads, as soon as the store's thread runs, each doubling waits for an
// RCU grace period (fs/file.c, expand_fdtable: synchronize_rcu), and the
// loop with it: 10 to 20 ms at 256, 512, ..., 8,192 descriptors, in the
// accept4 that needed the room (perf trace). 10,000 clients arriving at
// once met six such stalls, and in about one run in five the kernel's
// accept queue overflowed meanwhile; its clients came back a second later
// (docs/BENCHMARKS.md, issue 20, fourth session). The table never shrinks,
// so growing it once here, while the process has one thread, costs no wait
// and 8 bytes a slot of kernel memory.
//
// F_DUPFD takes the lowest free descriptor at or above its argument, so
// it never replaces one that is open.
std::size_t reserve_descriptors_for(std::size_t max_clients) {
  std::size_t count = max_clients == 0 ? kMostReservedDescriptors : max_clients + kSpareDescriptors;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur != RLIM_INFINITY) count = std::min<std::size_t>(count, limit.rlim_cur);
  count = std::min(count, kMostReservedDescriptors);
  if (count <= 256) return 0;  // a table that small grows without a wait worth saving
  const int top = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, static_cast<int>(count) - 1);
  if (top < 0) return 0;
  ::close(top);
  return count;
}

}  // namespace uvchat::server
