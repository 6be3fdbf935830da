// The hub: every decision of the chat (who may say what to whom, rooms,
// presence, the offline queue), as pure code. It takes a session's command
// and the time, and returns effects; it never touches a socket or a file,
// so its tests run in microseconds.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/chat/name_map.hpp"
#include "uvchat/protocol/command.hpp"
#include "uvchat/protocol/formatter.hpp"

namespace uvchat::chat {

using protocol::TimePoint;

enum class Presence { kAll, kRooms, kOff };

struct HubConfig {
  std::size_t max_clients = 0;   // connections at once; 0: no limit
  std::size_t max_queue = 1000;  // offline DMs per user
  std::size_t max_line = 4096;   // only for the line-too-long message
  Presence presence = Presence::kAll;
  bool utc = false;
  protocol::LineEnding line_ending = protocol::LineEnding::kLf;
};

class Hub {
 public:
  explicit Hub(HubConfig config);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // A connection was accepted. Over max_clients it is answered server-full
  // and closed.
  void connect(SessionId session, std::string_view peer, Effects& out);
  void handle(SessionId session, const protocol::Command& command, TimePoint now, Effects& out);
  // The connection is gone. Safe to call for a session the hub already let go.
  void disconnect(SessionId session, Effects& out);
  // The server is stopping: every session is told so and closed.
  void shutdown(Effects& out);

  std::size_t session_count() const { return sessions_.size(); }
  std::size_t online_count() const { return online_; }
  std::size_t room_count() const { return rooms_.size(); }
  std::size_t queued_count(std::string_view name) const;

 private:
  struct Room;
  struct QueuedDirect {
    TimePoint when;
    std::string from;
    std::string text;
  };
  // A name that has registered at least once; online while session != 0.
  struct User {
    std::string name;
    SessionId session = 0;
    std::vector<Room*> rooms;
    std::deque<QueuedDirect> queue;
  };
  struct Room {
    std::string name;  // without '#', as spelled when created
    std::unordered_set<User*> members;
  };
  struct Session {
    std::string peer;
    User* user = nullptr;  // null until registered
  };

  void on_register(Session& session, SessionId id, const protocol::Command& command, TimePoint now,
                   Effects& out);
  void on_direct(User& sender, const protocol::Command& command, TimePoint now, Effects& out);
  void on_room(User& sender, const protocol::Command& command, TimePoint now, Effects& out);
  void on_broadcast(User& sender, const protocol::Command& command, TimePoint now, Effects& out);
  void on_who(SessionId id, Effects& out);
  void on_join(User& user, std::string_view room_name, Effects& out);
  void on_leave(User& user, std::string_view room_name, Effects& out);
  void on_rooms(SessionId id, Effects& out);
  void on_members(SessionId id, std::string_view room_name, Effects& out);
  void on_help(SessionId id, Effects& out);
  void on_exit(SessionId id, Effects& out);

  void send_error(SessionId id, protocol::ErrorCode code, std::string_view subject, std::string_view detail,
                  Effects& out);
  void send_members(SessionId id, const Room& room, Effects& out);
  void leave_room(User& user, Room& room, bool tell_leaver, Effects& out);
  void announce_presence(User& user, std::string_view event, Effects& out);
  void log(LogLevel level, std::string text, Effects& out);

  HubConfig config_;
  protocol::Formatter formatter_;
  std::unordered_map<SessionId, Session> sessions_;
  NameMap<User> users_;  // every known name; node-based, so User* stay valid
  NameMap<Room> rooms_;  // rooms with at least one member
  std::size_t online_ = 0;
  bool stopping_ = false;
  std::vector<Payload> help_;
  std::string line_too_long_detail_;
};

}  // namespace uvchat::chat
