// Log lines on stderr: "2026-11-21 13:45:00.123 info: text".
#pragma once

#include <optional>
#include <string_view>

namespace uvchat {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::optional<LogLevel> parse_log_level(std::string_view name);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
// One write(2) per line, so lines from one process never interleave.
void log(LogLevel level, std::string_view text);

}  // namespace uvchat
