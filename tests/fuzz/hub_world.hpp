// The Hub inside a model of everything around it, for the hub fuzz target:
// clients that send bytes and close, a shell that reads them through a ring
// and a framer as src/net does (and stops reading while the hub pauses a
// session), a store that answers in order and whose disk may fill, a
// password worker that answers in any order, and the shell's clocks.
//
// Each step is one thing happening; after it the effects are applied as the
// shell would and the invariants checked (check.hpp):
// - sends and closes go only to sessions that were connected, never after
//   their close or their disconnect, and nothing is sent after shutdown;
// - every payload is whole, clean lines, and shutdown or idle-timeout is
//   the last line a session gets (each client's Transcript);
// - one name is online on one session at a time, and a name with a password
//   is only given to a session that gave that password;
// - a DM (a send with a message id) goes to a session registered as its
//   recipient, and at most once to each session; a room or broadcast
//   message never goes back to its sender; presence only when it is on;
// - session_count, online_count and room_count match the model, and
//   queued_count stays within --max-queue;
// - no more than --max-per-ip connections from one address, and no refusal
//   under every limit;
// - nothing logged holds a password;
// - every event the hub sends renders in every door: each session's events
//   go through the native codec (what the model reads) and through an IRC
//   and a classic codec of its own, whose lines must be whole and clean;
// - at the end, once every slow answer is in, nobody is left waiting, and
//   when every client closes its side every session is closed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "client_session.hpp"
#include "fake_store.hpp"
#include "uvchat/chat/hub.hpp"
#include "uvchat/chat/name_map.hpp"
#include "uvchat/door/classic.hpp"
#include "uvchat/door/irc.hpp"
#include "uvchat/door/native.hpp"
#include "uvchat/protocol/command.hpp"

namespace uvchat::fuzz {

struct WorldConfig {
  chat::HubConfig hub;
  std::size_t max_line = 4096;  // the framers'; hub.max_line is set to it
  protocol::LineEnding line_ending = protocol::LineEnding::kLf;  // the native door's
};

class HubWorld {
 public:
  static constexpr std::size_t kSlots = 8;

  explicit HubWorld(const WorldConfig& config);
  HubWorld(const HubWorld&) = delete;
  HubWorld& operator=(const HubWorld&) = delete;

  // Start-up, before any step: a user the store knows ("" for no password).
  void load_user(std::string_view name, std::string_view password, std::size_t queued);

  // ---- Steps. A slot holds one connection at a time. ----

  // A new connection from `ip` in `slot`, unless the one there is still in use.
  void connect(std::size_t slot, std::string_view ip);
  void client_sends(std::size_t slot, std::string_view bytes);
  // The client closes its side once the shell has read what it sent.
  void client_closes(std::size_t slot);
  // The connection is gone (lost, or closed after the hub's kClose).
  void connection_lost(std::size_t slot);
  // The oldest `count` store results, in order.
  void release_store_results(std::size_t count);
  void set_disk_full(bool full) { store_.set_disk_full(full); }
  // One piece of password work, chosen by `choice`: hashing may fail; a
  // check answers whether the password is right.
  void answer_password_work(std::size_t choice, bool hashing_fails);
  void report_deliveries();
  // Clients take what they were sent, so the hub may send them more.
  void clients_read(bool one);
  // Both clocks move on.
  void advance_time(std::chrono::seconds by);
  // The wall clock jumps (set from the network), the loop's clock does not.
  void jump_wall_clock(std::chrono::seconds by) { now_ += by; }
  // The shell's timer: timeouts.
  void tick();
  void shutdown();

  // Lets every slow answer in, then closes every client: everybody must
  // end up closed, and the hub empty.
  void finish();

  // With UVCHAT_FUZZ_TRACE set in the environment, what happens is told on
  // stderr: for reading a crash input.
  void trace(std::string_view what) const;

 private:
  using Call = std::function<void(chat::Effects&)>;
  using PasswordWork = std::variant<chat::HashPassword, chat::VerifyPassword>;

  ClientSession* in_slot(std::size_t slot);
  ClientSession* find(chat::SessionId id);
  ClientSession& known(chat::SessionId id, std::string_view what);

  // One call into the hub, its effects applied, then the end of the turn.
  void step(const Call& call);
  void call_hub(const Call& call);
  void end_turn();
  void resume_reading();

  // ---- The shell reading a connection (src/net/server.cpp) ----
  void read_input(ClientSession& session);
  void take_lines(ClientSession& session);
  void fill_ring(ClientSession& session);
  void report_end_of_input(ClientSession& session);
  void hand_over(ClientSession& session, const protocol::Command& command);
  void note_command(ClientSession& session, const protocol::Command& command, bool was_registered);

  // ---- Applying effects ----
  void apply(const chat::Effect& effect);
  void trace_effect(const chat::Effect& effect) const;
  void on_send(const chat::Effect& effect);
  void on_line(ClientSession& session, std::string_view line);
  void on_welcome(ClientSession& session);
  void on_presence(const ClientSession& session, std::string_view line);
  void on_chat(const ClientSession& session, std::string_view line);
  void on_direct_sent(ClientSession& session, chat::MessageId id, const std::string& payload);
  void on_close(const chat::Effect& effect);
  void on_log(const chat::Effect& effect);
  void on_store(const chat::Effect& effect);
  void on_password_work(const chat::Effect& effect);
  void on_pause(const chat::Effect& effect, bool paused);

  void answer(const PasswordWork& work, bool hashing_fails);

  // ---- Invariants ----
  void check_admission(const ClientSession& session) const;
  void check_counts() const;
  void check_queued_counts() const;
  void settle();
  bool has_pending_work() const;
  void check_settled() const;
  void close_every_client();
  void lose_every_connection();

  WorldConfig config_;
  chat::Hub hub_;
  door::NativeCodec native_;  // renders every event the hub sends, in UTC
  // The other doors' renderings of the same events, one codec per session
  // as the server has (their state follows the session's welcome, rooms,
  // answers); the hub does not know which door a session came by.
  struct OtherDoors {
    explicit OtherDoors(const door::Settings& settings) : irc(settings), classic(settings) {}
    door::IrcCodec irc;
    door::ClassicCodec classic;
  };
  door::Settings door_settings_;
  std::map<chat::SessionId, OtherDoors> other_doors_;
  void render_in_other_doors(chat::SessionId id, const chat::EventRef& event);
  FakeStore store_;
  protocol::TimePoint now_;    // the wall clock
  chat::Monotonic monotonic_;  // the loop's clock
  chat::SessionId next_id_ = 1;
  std::array<chat::SessionId, kSlots> slots_{};
  std::map<chat::SessionId, ClientSession> sessions_;
  std::vector<chat::SessionId> resuming_;  // kResumeInput seen this turn
  std::deque<chat::StoreResult> store_results_;
  std::vector<PasswordWork> password_work_;
  std::vector<chat::MessageId> delivered_;  // DMs handed to sockets, not reported yet
  std::set<chat::SessionId> watching_;      // kWatchOutput, not answered yet
  chat::NameMap<std::string> passwords_;    // names that have one, and it
  std::set<std::string> watched_names_;     // names whose queued_count is checked
  std::set<std::string> secrets_;           // passwords that no log line may hold
  std::size_t queue_bound_ = 0;
  bool tracing_ = false;
  bool shut_down_ = false;  // Hub::shutdown was called
  bool silenced_ = false;   // and has returned: nothing may be sent now
};

}  // namespace uvchat::fuzz
