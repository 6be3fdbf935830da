// The process's table of file descriptors, grown once at start-up.
#pragma once

#include <cstddef>

namespace uvchat::server {

// The most slots reserve_descriptor_table() takes: the systemd unit's
// LimitNOFILE, 128 KiB of kernel memory on a 64-bit machine.
inline constexpr std::size_t kMostReservedDescriptors = 16'384;

// Grows the table to hold `count` descriptors now (at most the soft
// RLIMIT_NOFILE and kMostReservedDescriptors), before the store's thread
// exists. Returns how many slots were asked for, 0 when none were needed
// or the kernel said no (nothing is lost then: the table grows as before).
std::size_t reserve_descriptor_table(std::size_t count);

}  // namespace uvchat::server
