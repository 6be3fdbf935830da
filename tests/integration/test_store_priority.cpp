// The store's thread shares a core with the loop on a Pi or a pinned
// server, and takes it only when the loop does not want it: SCHED_IDLE
// (src/net/store_worker.cpp, lower_own_priority; docs/BENCHMARKS.md,
// issue 20). The loop's thread keeps the normal policy. Unlike a nice
// value, the policy reads the same whatever nice the tests run at.
#include <dirent.h>
#include <sched.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

// The thread ids of a process, from /proc/PID/task.
std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> threads;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (dir == nullptr) return threads;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') threads.push_back(static_cast<pid_t>(std::stol(entry->d_name)));
  }
  closedir(dir);
  return threads;
}

}  // namespace

TEST_CASE("store: its thread runs SCHED_IDLE, and the loop's thread does not", "[store]") {
  TestServer server;
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  // An answer only the store gives: by then its thread has set its policy.
  alice.send_line("bob:are you there?");
  alice.expect("server:queued bob");

  int idle = 0;
  for (const pid_t thread : threads_of(server.pid())) {
    const int policy = sched_getscheduler(thread);
    CAPTURE(thread, policy);
    if (thread == server.pid()) CHECK(policy == SCHED_OTHER);  // the loop
    if (policy == SCHED_IDLE) ++idle;
  }
  CHECK(idle == 1);
}
