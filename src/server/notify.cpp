#include "notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "uvchat/log.hpp"

namespace uvchat::server {
namespace {

// The socket's address; a leading '@' names one in the abstract namespace.
bool socket_address(const std::string& name, sockaddr_un& address, socklen_t& length) {
  if (name.size() < 2 || name.size() >= sizeof address.sun_path || (name[0] != '/' && name[0] != '@'))
    return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, name.data(), name.size());
  if (name[0] == '@') address.sun_path[0] = '\0';
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  return true;
}

void warn_once(const std::string& why) {
  static bool warned = false;
  if (warned) return;
  warned = true;
  log(LogLevel::kWarn, "cannot notify the service manager: " + why);
}

}  // namespace

void notify_service_manager(const std::string& state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || *name == '\0') return;
  sockaddr_un address{};
  socklen_t length = 0;
  if (!socket_address(name, address, length)) {
    warn_once(std::string("NOTIFY_SOCKET=") + name + " is not a socket's path");
    return;
  }
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    warn_once(std::strerror(errno));
    return;
  }
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0) warn_once(std::string(name) + ": " + std::strerror(errno));
  close(fd);
}

std::string reloading_state() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long microseconds = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(microseconds);
}

}  // namespace uvchat::server
