#include "uvchat/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace uvchat {
namespace {

std::atomic<LogLevel> g_level = LogLevel::kInfo;
// Other threads (the store's, the thread pool's) log while the loop's
// thread switches files. The descriptor of the first log file stays the
// log's for good, and later files take its number with dup3(): a line is
// written to the old file or the new one, never to a closed descriptor
// whose number something else has taken meanwhile.
std::atomic<int> g_fd = STDERR_FILENO;
std::string g_path;

// A write(2) of at most PIPE_BUF bytes to a pipe (systemd's journal, a
// shell's `2>&1 | ...`) is never interleaved with another process's or
// thread's; a file opened O_APPEND takes any write whole.
constexpr std::size_t kMostPerWrite = 4096;

thread_local bool t_holding = false;
thread_local std::string t_held;

// Best effort: a log line that cannot be written is not worth dying for.
void write_out(std::string_view lines) {
  [[maybe_unused]] const ssize_t written = ::write(g_fd.load(), lines.data(), lines.size());
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == level_name(level)) return level;
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) { g_level = level; }

bool log_enabled(LogLevel level) { return level >= g_level; }

void log(LogLevel level, std::string_view text) {
  if (!log_enabled(level)) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  localtime_r(&seconds, &parts);
  char stamp[32];
  const std::size_t stamp_length = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &parts);

  std::string line(stamp, stamp_length);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d ", static_cast<int>(millis));
  line.append(fraction);
  line.append(level_name(level));
  line.append(": ");
  line.append(text);
  line.push_back('\n');
  if (!t_holding || level >= LogLevel::kWarn || line.size() > kMostPerWrite) {
    flush_log_lines();
    write_out(line);
    return;
  }
  if (t_held.size() + line.size() > kMostPerWrite) flush_log_lines();
  t_held.append(line);
}

void hold_log_lines(bool hold) {
  if (!hold) flush_log_lines();
  t_holding = hold;
}

void flush_log_lines() {
  if (t_held.empty()) return;
  write_out(t_held);
  t_held.clear();
}

std::string set_log_file(const std::string& path) {
  flush_log_lines();
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return "cannot open log file " + path + ": " + std::strerror(errno);
  }
  if (g_fd.load() == STDERR_FILENO) {
    g_fd.store(fd);
  } else {
    const int status = ::dup3(fd, g_fd.load(), O_CLOEXEC);
    const int error = errno;
    if (fd != STDERR_FILENO) ::close(fd);
    if (status < 0) return "cannot switch log file to " + path + ": " + std::strerror(error);
  }
  g_path = path;
  return {};
}

std::string reopen_log_file() { return g_path.empty() ? std::string() : set_log_file(g_path); }

const std::string& log_file() { return g_path; }

}  // namespace uvchat
