#include "known_servers_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace uvchat::client {
namespace {

std::string failed(std::string_view what, const std::string& path) {
  return "cannot " + std::string(what) + " " + path + ": " + std::strerror(errno);
}

// mkdir -p with mode 0700 for every directory it makes (the XDG base
// directory specification asks that of $XDG_DATA_HOME too). Directories
// that exist keep their mode.
std::string make_directories(const std::string& directory) {
  for (std::size_t slash = directory.find('/', 1);; slash = directory.find('/', slash + 1)) {
    const std::string prefix = directory.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return failed("make the directory", prefix);
    if (slash == std::string::npos) return {};
  }
}

}  // namespace

std::vector<KnownServer> read_known_servers(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream file(path);
  if (!file) return {};
  std::ostringstream text;
  text << file.rdbuf();
  return parse_known_servers(text.str());
}

std::string append_known_server(const std::string& path, const std::string& line) {
  if (path.empty()) return "cannot store it: neither XDG_DATA_HOME nor HOME is set";
  const std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (std::string error = make_directories(path.substr(0, slash)); !error.empty()) return error;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return failed("open", path);
  // A last line a person left without its LF is ended first.
  std::string text = line;
  char last = '\n';
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n') text.insert(0, "\n");
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      std::string error = failed("write to", path);
      ::close(fd);
      return error;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::close(fd) != 0) return failed("write to", path);
  return {};
}

}  // namespace uvchat::client
