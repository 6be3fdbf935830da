// Log lines on stderr, or appended to a file: "2026-11-21 13:45:00.123 info: text".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace uvchat {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::optional<LogLevel> parse_log_level(std::string_view name);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
// Whole lines per write(2), so lines from one process never interleave:
// one write per line, or, on a thread that holds its lines, one per turn of
// the loop (up to PIPE_BUF bytes each). Any thread may log.
void log(LogLevel level, std::string_view text);

// While held, the calling thread's debug and info lines wait in memory for
// flush_log_lines() instead of taking a write(2) each; a warning or an
// error writes them out at once, and itself after them. The loop's thread
// holds its lines and writes them once per turn (net::Server's prepare
// callback): 10,000 clients arriving logged 40,000 lines, each its own
// system call. hold_log_lines(false) writes what waits.
void hold_log_lines(bool hold);
void flush_log_lines();

// Lines go to the end of the file at `path` from now on ("": stderr). On
// failure nothing changes, and the reason is returned; "" on success.
// Called on one thread only; that thread's held lines go to the old file.
std::string set_log_file(const std::string& path);
// Opens the log file by its name again: a file renamed away (logrotate)
// gets no more lines, a new one at the name does. "" or the reason.
std::string reopen_log_file();
const std::string& log_file();

}  // namespace uvchat
