#include "uvchat/protocol/formatter.hpp"

#include <cstdio>
#include <ctime>

namespace uvchat::protocol {

void TimeFormatter::update(TimePoint when) {
  const std::int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  if (second == cached_second_) return;
  cached_second_ = second;
  const auto seconds = static_cast<std::time_t>(second);
  std::tm parts{};
  if (utc_) {
    gmtime_r(&seconds, &parts);
  } else {
    localtime_r(&seconds, &parts);
  }
  std::snprintf(text_, sizeof text_, "%04d-%02d-%02d %02d:%02d:%02d", (parts.tm_year + 1900) % 10000,
                (parts.tm_mon + 1) % 100, parts.tm_mday % 100, parts.tm_hour % 100, parts.tm_min % 100,
                parts.tm_sec % 100);
}

std::string_view TimeFormatter::time_of_day(TimePoint when) {
  update(when);
  return std::string_view(text_ + 11, 8);
}

std::string_view TimeFormatter::date_and_time(TimePoint when) {
  update(when);
  return std::string_view(text_, 19);
}

void Formatter::end_line(std::string& line) const {
  if (ending_ == LineEnding::kCrLf) line.push_back('\r');
  line.push_back('\n');
}

// [STAMP] FROM: TEXT, [STAMP] #ROOM FROM: TEXT or [STAMP] * FROM: TEXT,
// and the line end.
std::size_t Formatter::chat(std::string& line, std::string_view stamp, Scope scope, std::string_view room,
                            std::string_view from, std::string_view text) {
  line.reserve(line.size() + stamp.size() + room.size() + from.size() + text.size() + 8);
  line.push_back('[');
  line.append(stamp);
  line.append("] ");
  if (scope == Scope::kRoom) {
    line.push_back('#');
    line.append(room);
    line.push_back(' ');
  } else if (scope == Scope::kBroadcast) {
    line.append("* ");
  }
  line.append(from);
  line.append(": ");
  const std::size_t text_at = line.size();
  line.append(text);
  end_line(line);
  return text_at;
}

std::string Formatter::chat(std::string_view stamp, Scope scope, std::string_view room, std::string_view from,
                            std::string_view text) {
  std::string line;
  chat(line, stamp, scope, room, from, text);
  return line;
}

std::size_t Formatter::direct(std::string& line, TimePoint when, std::string_view from, std::string_view text) {
  return chat(line, times_.time_of_day(when), Scope::kDirect, {}, from, text);
}

std::size_t Formatter::room(std::string& line, TimePoint when, std::string_view room, std::string_view from,
                            std::string_view text) {
  return chat(line, times_.time_of_day(when), Scope::kRoom, room, from, text);
}

std::size_t Formatter::broadcast(std::string& line, TimePoint when, std::string_view from,
                                 std::string_view text) {
  return chat(line, times_.time_of_day(when), Scope::kBroadcast, {}, from, text);
}

std::string Formatter::direct(TimePoint when, std::string_view from, std::string_view text) {
  return chat(times_.time_of_day(when), Scope::kDirect, {}, from, text);
}

std::string Formatter::room(TimePoint when, std::string_view room, std::string_view from,
                            std::string_view text) {
  return chat(times_.time_of_day(when), Scope::kRoom, room, from, text);
}

std::string Formatter::replayed_room(TimePoint when, std::string_view room, std::string_view from,
                                     std::string_view text) {
  return chat(times_.date_and_time(when), Scope::kRoom, room, from, text);
}

std::string Formatter::broadcast(TimePoint when, std::string_view from, std::string_view text) {
  return chat(times_.time_of_day(when), Scope::kBroadcast, {}, from, text);
}

std::string Formatter::replayed_direct(TimePoint when, std::string_view from, std::string_view text) {
  return chat(times_.date_and_time(when), Scope::kDirect, {}, from, text);
}

std::string Formatter::replayed_broadcast(TimePoint when, std::string_view from, std::string_view text) {
  return chat(times_.date_and_time(when), Scope::kBroadcast, {}, from, text);
}

std::string Formatter::event(std::string_view event, std::initializer_list<std::string_view> args) {
  std::string line = "server:";
  line.append(event);
  for (std::string_view arg : args) {
    if (arg.empty()) continue;
    line.push_back(' ');
    line.append(arg);
  }
  end_line(line);
  return line;
}

std::string Formatter::event_list(std::string_view event, std::string_view first,
                                  std::span<const std::string_view> items) {
  std::string line = "server:";
  line.append(event);
  if (!first.empty()) {
    line.push_back(' ');
    line.append(first);
  }
  for (std::string_view item : items) {
    line.push_back(' ');
    line.append(item);
  }
  end_line(line);
  return line;
}

std::string Formatter::error(ErrorCode code, std::string_view subject, std::string_view detail) {
  std::string line = "server:error ";
  line.append(error_code_name(code));
  if (!subject.empty()) {
    line.push_back(' ');
    line.append(subject);
  }
  if (!detail.empty()) {
    line.append(subject.empty() ? " " : ", ");
    line.append(detail);
  }
  end_line(line);
  return line;
}

}  // namespace uvchat::protocol
