#include "make_cert.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include "uvchat/net/tls.hpp"

namespace uvchat::server {
namespace {

// Ten years: a client pins a self-signed certificate by its fingerprint
// (or by the file, --tls-ca), so a short life buys nothing but a chat that
// stops working one day on a Raspberry Pi nobody has logged in to since.
constexpr int kValidDays = 3650;

// The names a LAN reaches this host by: its name, its mDNS name, and the
// loopback names for clients on the host itself.
std::vector<std::string> host_names() {
  char name[HOST_NAME_MAX + 1] = {};
  std::vector<std::string> names;
  if (gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') {
    names.emplace_back(name);
    if (std::strchr(name, '.') == nullptr) names.push_back(std::string(name) + ".local");
  }
  for (const char* local : {"localhost", "127.0.0.1", "::1"}) names.emplace_back(local);
  return names;
}

// O_EXCL: an existing key is never overwritten, and the new one is 0600
// from its first byte.
std::string write_new(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return "cannot create " + path + ": " + std::strerror(errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      return "cannot write " + path + ": " + why;
    }
    done += static_cast<std::size_t>(wrote);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return "cannot write " + path + ": " + std::strerror(errno);
  return {};
}

int fail(const std::string& why) {
  std::fprintf(stderr, "uvchatd: %s\n", why.c_str());
  return 1;
}

}  // namespace

int make_certificate(const std::string& directory) {
  if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail("cannot create " + directory + ": " + std::strerror(errno));
  }
  const std::string certificate_path = directory + "/cert.pem";
  const std::string key_path = directory + "/key.pem";
  for (const std::string& path : {certificate_path, key_path}) {
    if (::access(path.c_str(), F_OK) == 0) return fail(path + " already exists; remove it first to make a new one");
  }
  const std::vector<std::string> names = host_names();
  const net::SelfSigned made = net::make_self_signed(names, kValidDays);
  if (!made.error.empty()) return fail(made.error);
  if (std::string error = write_new(key_path, made.key_pem, 0600); !error.empty()) return fail(error);
  if (std::string error = write_new(certificate_path, made.certificate_pem, 0644); !error.empty()) {
    ::unlink(key_path.c_str());
    return fail(error);
  }
  std::string listed;
  for (const std::string& name : names) listed += (listed.empty() ? "" : ", ") + name;
  std::printf(
      "uvchatd: wrote %s and %s (key 0600), a self-signed certificate for %s, valid %d days\n"
      "SHA-256 fingerprint: %s\n"
      "Serve it:    uvchatd --tls-cert %s --tls-key %s\n"
      "Clients:     uvchat --tls --host HOST asks once whether to trust this fingerprint;\n"
      "             compare it with the one above.\n",
      certificate_path.c_str(), key_path.c_str(), listed.c_str(), kValidDays, made.fingerprint.c_str(),
      certificate_path.c_str(), key_path.c_str());
  return 0;
}

}  // namespace uvchat::server
