// Builds the lines the server sends (docs/PROTOCOL.md, section 4).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "uvchat/protocol/command.hpp"

namespace uvchat::protocol {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

enum class LineEnding { kLf, kCrLf };

// Formats times as the server shows them, local or UTC. Converting a time
// costs a localtime_r call, so the last second formatted is cached: a busy
// server formats one second many times.
class TimeFormatter {
 public:
  explicit TimeFormatter(bool utc) : utc_(utc) {}

  // "HH:MM:SS"
  std::string_view time_of_day(TimePoint when);
  // "YYYY-MM-DD HH:MM:SS"
  std::string_view date_and_time(TimePoint when);

 private:
  void update(TimePoint when);

  bool utc_;
  std::int64_t cached_second_ = INT64_MIN;
  char text_[32] = {};  // "YYYY-MM-DD HH:MM:SS", with room to spare for snprintf's checks
};

class Formatter {
 public:
  Formatter(LineEnding ending, bool utc) : ending_(ending), times_(utc) {}

  // [HH:MM:SS] alice: TEXT
  std::string direct(TimePoint when, std::string_view from, std::string_view text);
  // [HH:MM:SS] #room alice: TEXT (room without its #)
  std::string room(TimePoint when, std::string_view room, std::string_view from, std::string_view text);
  // [HH:MM:SS] * alice: TEXT
  std::string broadcast(TimePoint when, std::string_view from, std::string_view text);
  // The same three, appended to `line` (which may come with capacity, from
  // a pool); they return where TEXT starts in it, so that the store can
  // share the line instead of copying the text.
  std::size_t direct(std::string& line, TimePoint when, std::string_view from, std::string_view text);
  std::size_t room(std::string& line, TimePoint when, std::string_view room, std::string_view from,
                   std::string_view text);
  std::size_t broadcast(std::string& line, TimePoint when, std::string_view from, std::string_view text);
  // [YYYY-MM-DD HH:MM:SS] alice: TEXT
  std::string replayed_direct(TimePoint when, std::string_view from, std::string_view text);
  // [YYYY-MM-DD HH:MM:SS] * alice: TEXT
  std::string replayed_broadcast(TimePoint when, std::string_view from, std::string_view text);
  // [YYYY-MM-DD HH:MM:SS] #room alice: TEXT
  std::string replayed_room(TimePoint when, std::string_view room, std::string_view from, std::string_view text);

  // server:EVENT ARG ARG...; an empty argument is left out.
  std::string event(std::string_view event, std::initializer_list<std::string_view> args);
  // server:EVENT FIRST ITEM ITEM...; for the lists (users, rooms, members).
  std::string event_list(std::string_view event, std::string_view first,
                         std::span<const std::string_view> items);
  // server:error CODE [SUBJECT][, DETAIL]
  std::string error(ErrorCode code, std::string_view subject = {}, std::string_view detail = {});

 private:
  enum class Scope { kDirect, kRoom, kBroadcast };
  std::size_t chat(std::string& line, std::string_view stamp, Scope scope, std::string_view room,
                   std::string_view from, std::string_view text);
  std::string chat(std::string_view stamp, Scope scope, std::string_view room, std::string_view from,
                   std::string_view text);
  void end_line(std::string& line) const;

  LineEnding ending_;
  TimeFormatter times_;
};

}  // namespace uvchat::protocol
