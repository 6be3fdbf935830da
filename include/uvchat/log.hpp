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
// One write(2) per line, so lines from one process never interleave.
// Any thread may log.
void log(LogLevel level, std::string_view text);

// Lines go to the end of the file at `path` from now on ("": stderr). On
// failure nothing changes, and the reason is returned; "" on success.
// Called on one thread only.
std::string set_log_file(const std::string& path);
// Opens the log file by its name again: a file renamed away (logrotate)
// gets no more lines, a new one at the name does. "" or the reason.
std::string reopen_log_file();
const std::string& log_file();

}  // namespace uvchat
