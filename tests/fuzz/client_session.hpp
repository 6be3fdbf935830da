// One connection as the hub fuzz target sees it: what the client sent that
// the shell has not read yet, the shell's ring and framer, and what the
// client has been sent, checked line by line against docs/PROTOCOL.md.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "uvchat/chat/effects.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::fuzz {

// The lines one client receives, and what they promise about the next ones.
class Transcript {
 public:
  explicit Transcript(bool crlf) : crlf_(crlf) {}

  // One line, without its LF.
  void on_line(std::string_view line);

  bool welcomed() const { return !name_.empty(); }
  // Welcomed, and not told bye or idle-timeout since: from those on, the
  // user is offline even while its connection is still closing.
  bool online() const { return welcomed() && !said_farewell_; }
  const std::string& name() const { return name_; }
  // True while lines promised by a count (queued-messages, history) are due.
  bool owes_lines() const { return awaiting_queued_count_ || replays_due_ > 0; }

 private:
  std::string_view without_line_end(std::string_view line) const;
  void on_replay_line(std::string_view line);
  void on_live_line(std::string_view line);
  void on_welcome(std::string_view name);
  void on_count(std::string_view count_text);

  bool crlf_;
  std::string name_;                    // from server:welcome
  bool awaiting_queued_count_ = false;  // welcome was the last line
  std::size_t replays_due_ = 0;         // replayed lines still to come
  bool said_farewell_ = false;          // shutdown, bye or idle-timeout was the last line
};

struct RegisterAttempt {
  std::string name;
  std::string password;
  bool hash_failed = false;  // the password worker could not hash it
};

struct ClientSession {
  ClientSession(chat::SessionId session_id, std::string_view address, std::size_t max_line, bool crlf)
      : id(session_id),
        ip(address),
        input(protocol::Framer::buffer_capacity(max_line)),
        transcript(crlf) {}

  // In the hub's hands: connected, not refused, not closed, not gone.
  bool live() const { return !refused && !closed && !disconnected; }
  // The shell still reads and passes on what the client sends.
  bool reading() const { return live() && !paused; }

  chat::SessionId id;
  std::string ip;
  protocol::RingBuffer input;
  protocol::Framer framer;
  std::string unread;          // sent by the client, not read by the shell yet
  bool client_closed = false;  // the client closed its side after `unread`
  bool end_reported = false;   // Hub::end_of_input was called
  bool paused = false;         // kPauseInput without kResumeInput since
  bool refused = false;        // closed by Hub::connect itself
  bool closed = false;         // the hub sent kClose
  bool disconnected = false;   // Hub::disconnect was called
  bool exited = false;         // handed server:exit while registered
  // Its new password was hashed: the hub counts it online while the hash
  // is stored, before its welcome (which waits for the store's ack).
  bool storing_password = false;
  RegisterAttempt last_register;
  std::set<std::string> rooms;  // folded; the rooms it joined, while registered
  std::set<chat::MessageId> dms_received;
  Transcript transcript;
};

}  // namespace uvchat::fuzz
