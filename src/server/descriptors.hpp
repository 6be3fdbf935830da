// The process's table of file descriptors, grown once at start-up.
#pragma once

#include <cstddef>

namespace uvchat::server {

// Grows the table now, before the store's thread exists, to hold
// `max_clients` connections and 64 descriptors more (0: no limit), at most
// the soft RLIMIT_NOFILE and 16,384 slots. Returns how many slots were
// asked for, 0 when none were needed or the kernel said no (nothing is lost
// then: the table grows as before).
std::size_t reserve_descriptors_for(std::size_t max_clients);

}  // namespace uvchat::server
