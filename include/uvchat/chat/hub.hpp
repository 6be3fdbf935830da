// The hub: every decision of the chat (who may say what to whom, rooms,
// presence, the offline queue, passwords), as pure code. It takes a
// session's command and the time, and returns effects; it never touches a
// socket or a file, so its tests run in microseconds. What it needs from
// slow places (the store, password hashing) it asks for with an effect, and
// the answer comes back through an on_* call.
#pragma once

#include <chrono>
#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/chat/name_map.hpp"
#include "uvchat/fifo.hpp"
#include "uvchat/protocol/command.hpp"

namespace uvchat::chat {

enum class Presence { kAll, kRooms, kOff };

// Monotonic time (the loop's clock), for timeouts and rate windows: the
// wall clock may jump (a Pi without a clock sets it from the network after
// boot), and a jump must not expire every connection at once.
using Monotonic = std::chrono::milliseconds;

struct HubConfig {
  std::size_t max_clients = 0;   // connections at once; 0: no limit
  std::size_t max_queue = 1000;  // offline DMs per user
  std::size_t max_line = 4096;   // only for the line-too-long message
  Presence presence = Presence::kAll;
  // kAll works as kRooms while more users than this are online: told to
  // everyone, N arrivals at once would make N² lines. 0: no limit.
  std::size_t presence_limit = 256;
  int history_on_join = 10;  // room messages replayed on join; 0: none
  std::chrono::milliseconds password_failure_delay{1000};
  std::size_t max_per_ip = 16;                    // connections from one address; 0: no limit
  std::size_t max_registrations_per_minute = 60;  // per address; 0: no limit
  std::chrono::seconds register_timeout{30};      // 0: none
  std::chrono::seconds idle_timeout{0};           // 0: none
  // An answer the server builds in pieces (the offline queue's replay, a
  // history) goes out at most this many bytes at a time, the next piece
  // once the session's unsent output is down to this much again
  // (kWatchOutput): what one session costs does not depend on how much it
  // is owed. The queue is read from the store page_messages DMs at a time.
  std::size_t page_bytes = 256 * 1024;
  std::size_t page_messages = 256;
  // Lines for a session that wait behind such an answer. Past this many
  // bytes DMs to it go to the store (the replay brings them later), and
  // other lines are not kept (server:missed says how many).
  std::size_t max_waiting = 1024 * 1024;
};

class Hub {
 public:
  explicit Hub(HubConfig config);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // A reload (SIGHUP): the limits, timeouts and history length take the
  // values in `config` from now on. max_line and presence stay as they
  // were: they are in what clients were told.
  void reconfigure(const HubConfig& config);

  // Start-up, from the store: a known user, and the last message id used.
  void load_user(std::string_view name, std::string password_hash, std::size_t queued);
  void set_last_message_id(MessageId id) { last_message_id_ = id; }

  // A connection was accepted from `ip` (`peer`: address and port, for
  // logs). Over max_clients or max_per_ip it is answered server-full and
  // closed.
  void connect(SessionId session, std::string_view peer, std::string_view ip, Monotonic now, Effects& out);
  // For tests that need no address: no per-address limits apply.
  void connect(SessionId session, std::string_view peer, Effects& out) {
    connect(session, peer, {}, Monotonic{0}, out);
  }
  // The shell turns the connection away before it says anything (plain
  // text where --tls-only wants TLS): it is told `code` and closed.
  void refuse(SessionId session, protocol::ErrorCode code, std::string_view detail, Effects& out);
  // What the session's door asks of the hub (chat::SessionTraits), once
  // its first line has picked the door.
  void set_traits(SessionId session, SessionTraits traits);
  // Bytes came from the session (the idle timeout starts again).
  void note_activity(SessionId session, Monotonic now);
  // Once a second or so: closes sessions past their timeouts.
  void tick(Monotonic now, Effects& out);
  void handle(SessionId session, const protocol::Command& command, TimePoint now, Effects& out);
  // Lines a door's codec answered by itself (chat::EventKind::kReply):
  // they go out in order with the hub's own answers to the session.
  void reply(SessionId session, std::string lines, Effects& out);
  // The client will send nothing more (it closed its side). The session is
  // closed once every answer owed to it has been sent.
  void end_of_input(SessionId session, Effects& out);
  // The connection is gone. Safe to call for a session the hub already let go.
  void disconnect(SessionId session, Effects& out);
  // The server is stopping: every session is told so and closed.
  void shutdown(Effects& out);

  // Answers to the effects that asked for slow work.
  void on_store_result(StoreResult& result, Effects& out);
  void on_password_checked(SessionId session, std::string_view name, bool matches, TimePoint now,
                           Effects& out);
  // An empty hash: hashing failed.
  void on_password_hashed(SessionId session, std::string_view name, std::string hash, TimePoint now,
                          Effects& out);
  // The bytes of these DMs have been handed to their recipients' sockets.
  void on_delivered(std::span<const MessageId> ids, TimePoint now, Effects& out);
  // The session's unsent output is down to page_bytes (after kWatchOutput).
  void on_output_drained(SessionId session, Effects& out);

  std::size_t session_count() const { return sessions_.size(); }
  std::size_t online_count() const { return online_; }
  std::size_t room_count() const { return rooms_.size(); }
  std::size_t queued_count(std::string_view name) const;
  // "address:port" of a session, for logs; "" for none.
  std::string_view peer(SessionId session) const;

 private:
  struct Room;
  // A name that has registered at least once; online while session != 0.
  struct User {
    std::string name;
    std::string password_hash;  // empty: none
    SessionId session = 0;
    SessionId verifying = 0;  // a session proving or setting its password
    SessionId departing = 0;  // a session that said exit and awaits answers
    std::vector<Room*> rooms;
    // Undelivered DMs in the store, as far as the hub knows. 32 bits, beside
    // the flag below, so that a user's map node takes 160 bytes, not 176.
    std::uint32_t queued = 0;
    // Registered before: in this run, or in an earlier one (load_user).
    bool registered_before = false;
  };
  // server:members order; names are unique in any case, so this is strict.
  struct ByName {
    bool operator()(const User* a, const User* b) const;
  };
  struct Room {
    std::string name;  // without '#', as spelled when created
    std::unordered_set<User*> members;
    // The same members, in the order server:members lists them, kept as
    // they join and leave: a join does not sort the whole room again
    // (with 200 members joining one room, those sorts were a third of the
    // loop's work).
    std::set<const User*, ByName> listed;
  };
  struct Line {
    EventRef event;
    MessageId message = 0;
  };
  // A place in a session's output. An answer that comes later (from the
  // store) holds its place with a ticket, and every line for the session
  // after it waits behind it: a client reads its answers in the order it
  // asked, and a user reads queued DMs before newer ones. A slot's lines go
  // out page_bytes at a time (hub_output.cpp).
  struct Slot {
    std::uint64_t awaiting = 0;  // ticket; 0 once the lines are ready
    std::vector<Line> lines;
    std::size_t sent = 0;    // lines[0, sent) have gone out
    bool behind = false;     // lines sent while others waited (count in waiting_bytes)
    bool draining = false;   // a page is out: the rest waits for on_output_drained
    bool failed = false;     // a replay page could not be read: asked again at tick
    int retries = 0;
    // A replay of the offline queue: the undelivered DMs to `user` with
    // after < id <= up_to, read a page at a time. `spill`: DMs that came
    // while too much waited (max_waiting), in the store and not in memory.
    bool replay = false;
    bool spill = false;
    bool more = false;  // DMs in (after, up_to] not read yet
    bool first = false; // the first page: queued-messages N comes first
    MessageId after = 0;
    MessageId up_to = 0;
    std::string user;
  };
  struct Address;
  struct Session {
    std::string peer;
    // Its entry in addresses_ (node-based, and kept while it has a
    // connection); null: no per-address limits.
    Address* address = nullptr;
    Monotonic connected_at{0};
    Monotonic last_activity{0};
    User* user = nullptr;       // null until registered, and once leaving
    // The user it was, while leaving with answers owed: the name is not
    // free until they are out, so that its queued DMs go to one session.
    User* departing = nullptr;
    User* verifying = nullptr;  // a password check is under way for this user
    Fifo<Slot> outbox;          // empty while nothing is awaited
    // Behind the outbox's front: bytes of lines waiting (Slot::behind).
    std::size_t waiting_bytes = 0;
    std::uint32_t missed = 0;  // saturates; tens of thousands of sessions pay for its width
    // The flags together, so that they share a word with `missed` and
    // `traits`: there may be tens of thousands of sessions (136 bytes each).
    bool expired = false;       // told idle-timeout; the close is under way
    bool leaving = false;       // said server:exit; closes once answered
    bool input_ended = false;   // close once the outbox is empty
    // Set once waiting_bytes reached max_waiting, until the outbox is
    // empty: DMs to the session spill to the store, lines not asked for
    // are dropped (and counted in `missed`), and its input is paused
    // (input_held) while answers it asked for wait.
    bool overflow = false;
    bool input_held = false;
    SessionTraits traits;
  };
  // What one address has open and has done lately.
  struct Address {
    std::size_t connections = 0;
    Monotonic window_start{0};  // of the current minute of registrations
    std::size_t registrations = 0;
  };
  // A DM to an offline user, acknowledged once its store commit is on
  // disk; or (password) a password set at registration, whose welcome waits
  // for the disk in the same way.
  struct PendingAck {
    SessionId sender = 0;
    std::string recipient;  // or the name whose password it is
    bool password = false;
  };

  void on_register(Session& session, SessionId id, const protocol::Command& command, TimePoint now,
                   Effects& out);
  void complete_register(Session& session, SessionId id, User& user, TimePoint now, Effects& out);
  void hold_name(Session& session, SessionId id, User& user, Effects& out);
  void release_name(SessionId id, std::string_view name, Effects& out);
  void on_history(User& user, const protocol::Command& command, Effects& out);
  void on_ack(const StoreAck& ack, Effects& out);
  void on_password_stored(const PendingAck& pending, const StoreAck& ack, Effects& out);
  void on_queued_fetched(QueuedFetched& fetched, Effects& out);
  void on_history_fetched(const HistoryFetched& fetched, Effects& out);
  MessageRecord new_message(const User& sender, MessageKind kind, std::string_view target,
                            std::string_view text, TimePoint now);
  void store(StoreRequest request, Effects& out);
  EventRef store_sent(MessageId id, const User& sender, MessageKind kind, std::string_view target,
                      std::string_view text, TimePoint now, Effects& out);
  void on_direct(User& sender, const protocol::Command& command, TimePoint now, Effects& out);
  void on_room(User& sender, const protocol::Command& command, TimePoint now, Effects& out);
  void on_broadcast(User& sender, const protocol::Command& command, TimePoint now, Effects& out);
  void on_who(SessionId id, Effects& out);
  void on_join(User& user, std::string_view room_name, Effects& out);
  void fetch_history(SessionId id, bool of_room, const std::string& target, const User& asker, int limit,
                     bool for_join, Effects& out);
  void fetch_lobby(SessionId id, Session& session, const User& user, Effects& out);
  void on_leave(User& user, std::string_view room_name, Effects& out);
  void on_rooms(SessionId id, Effects& out);
  void on_members(SessionId id, std::string_view room_name, Effects& out);
  void on_help(SessionId id, Effects& out);
  void on_exit(SessionId id, Effects& out);
  void take_offline(SessionId id, Session& session, Effects& out);

  void send_error(SessionId id, protocol::ErrorCode code, std::string_view subject, std::string_view detail,
                  Effects& out);
  // Every line to a session goes through here (see Slot, hub_output.cpp).
  void send(SessionId id, EventRef event, Effects& out, MessageId message = 0);
  std::uint64_t reserve_slot(Session& session);
  // A slot for what the store's commit decides (a queued DM's ack, a
  // password's welcome), and what on_ack needs to fill it: the ticket.
  std::uint64_t await_store(Session& session, PendingAck pending);
  static Slot* awaiting_slot(Session& session, std::uint64_t ticket);
  static Slot& add_replay(Session& session, std::string_view user, MessageId after, MessageId up_to);
  // What a page may hold, in bytes (page_bytes; 0: no bound).
  std::size_t page_budget() const;
  void fill_slot(SessionId id, std::uint64_t ticket, std::vector<Line> lines, Effects& out);
  void release_ready(SessionId id, Session& session, Effects& out);
  bool send_page(SessionId id, Session& session, Slot& slot, std::size_t& budget, Effects& out);
  void start_replay(SessionId id, Session& session, const User& user, Effects& out);
  void fetch_page(SessionId id, Slot& slot, Effects& out);
  void start_overflow(SessionId id, Session& session, Effects& out);
  void spill(Session& session, const User& user, MessageId message);
  void end_overflow(SessionId id, Session& session, Effects& out);
  void retry_failed_pages(Effects& out);
  void finish_session(SessionId id, Effects& out);
  Session* find_session(SessionId id);
  // The members of `room`; none when it is null (no room is called room_name).
  void send_members(SessionId id, std::string_view room_name, const Room* room, Effects& out);
  void leave_room(User& user, Room& room, bool tell_leaver, Effects& out);
  void announce_presence(User& user, EventKind kind, Effects& out);
  void log(LogLevel level, std::string text, Effects& out);
  bool allow_registration(Session& session);
  void expire(SessionId id, Session& session, std::string_view why, Effects& out,
              protocol::ErrorCode code = protocol::ErrorCode::kIdleTimeout);
  void forget_address(Address* address);

  HubConfig config_;
  std::unordered_map<SessionId, Session> sessions_;
  // Every known name; node-based, so User* stay valid. Keyed by a view of
  // User::name, which never changes once made (user_named).
  std::unordered_map<std::string_view, User, CaseInsensitiveHash, CaseInsensitiveEqual> users_;
  User& user_named(std::string_view name);
  NameMap<Room> rooms_;  // rooms with at least one member
  std::size_t online_ = 0;
  bool stopping_ = false;
  MessageId last_message_id_ = 0;
  std::uint64_t last_ticket_ = 0;
  // The session whose line or answer is being handled: a line to it answers
  // what it asked (kept even in overflow); a line to anyone else is news.
  SessionId acting_ = 0;
  std::unordered_map<std::uint64_t, PendingAck> pending_acks_;
  NameMap<Address> addresses_;  // IPv6 hex is case-insensitive too
  std::vector<EventRef> help_;
  std::string line_too_long_detail_;
};

}  // namespace uvchat::chat
