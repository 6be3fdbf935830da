// PROTOCOL.md section 6: a vanished peer is noticed within about 90 s, and
// lines are not held back by Nagle's algorithm. The options are set once on
// the listening socket and Linux copies them to every accepted one
// (src/net/listener.cpp); this looks at the server's own sockets to check
// that each connection has them. The test takes a copy of the server's
// descriptors with pidfd_getfd (Linux 5.6), which needs the right to trace
// the server; without it the test says so and skips.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

int option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  if (getsockopt(fd, level, name, &value, &length) != 0) return -1;
  return value;
}

// Copies of the server's connected TCP sockets (not its listeners); empty
// when the system will not give them.
std::vector<int> connected_sockets(pid_t pid) {
  std::vector<int> sockets;
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return sockets;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code link_error;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_error).string();
    if (link_error || !target.starts_with("socket:")) continue;
    const int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, std::stoi(entry.path().filename().string()), 0));
    if (fd < 0) continue;
    if (option(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM && option(fd, SOL_SOCKET, SO_ACCEPTCONN) == 0 &&
        option(fd, IPPROTO_TCP, TCP_NODELAY) != -1) {
      sockets.push_back(fd);
    } else {
      close(fd);
    }
  }
  close(pidfd);
#else
  static_cast<void>(pid);
#endif
  return sockets;
}

}  // namespace

TEST_CASE("sockets: every accepted connection has no Nagle, keepalive and a user timeout", "[sockets]") {
  TestServer server;
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  const std::vector<int> sockets = connected_sockets(server.pid());
  if (sockets.empty()) {
    WARN("skipped: cannot take a copy of the server's sockets (pidfd_getfd needs the right to trace it)");
    return;
  }
  CHECK(sockets.size() >= 2);
  for (const int fd : sockets) {
    CHECK(option(fd, IPPROTO_TCP, TCP_NODELAY) == 1);
    CHECK(option(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(option(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 30);
    CHECK(option(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 10);
    CHECK(option(fd, IPPROTO_TCP, TCP_KEEPCNT) == 6);
    CHECK(option(fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 90'000);
    close(fd);
  }
}
