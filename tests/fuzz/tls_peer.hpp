// One end of a TLS connection for fuzz_tls: a TlsSession driven as a
// connection drives it (ciphertext handed over in reads of scheduled sizes,
// read() drained after each, keep_unread() before the read buffer is
// reused), with every call checked:
// - read() never gives more than the buffer holds; it fails exactly when
//   the session has failed, and once failed it stays failed, gives nothing
//   and sends nothing more;
// - when read() says it wants more, it has consumed every byte it was
//   given (or the connection would wait for bytes it already has);
// - no plaintext before the handshake is done, none after close_notify;
// - output() only grows during a call, and after each call holds whole
//   records (the delivery accounting counts records that have left);
// - write() on an established session puts at least one record per 16 KiB
//   into output(), and answers false exactly when the session has failed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/net/tls.hpp"

namespace uvchat::fuzz {

// What to do with the next stretch of ciphertext: its size, and how it is
// read. Four schedule bytes, used in turn, each a step: the low five bits
// the size (1 to 24 bytes, or one of eight large sizes up to "all the
// rest"), the high three an action.
class Schedule {
 public:
  enum class Action : std::uint8_t {
    kReadLarge,   // read into a buffer larger than any record
    kReadByte,    // read into one byte at a time
    kReadSmall,   // read into seven bytes at a time
    kWriteLine,   // read, then write a line if the handshake is done
    kWriteLarge,  // read, then write 40 KB (three records) if it is done
    kShutdown,    // read, then shutdown()
    kWriteNow,    // read, then write whatever the state (may fail it)
    kHold,        // no read: the next receive() comes on top of this one
  };
  struct Step {
    std::size_t size = 0;
    Action action = Action::kReadLarge;
  };

  static constexpr std::size_t kSteps = 4;

  // `steps`: up to kSteps bytes; missing ones are zero (a byte at a time).
  explicit Schedule(std::string_view steps);

  Step next();

 private:
  std::uint8_t steps_[kSteps] = {};
  std::size_t next_ = 0;
};

class TlsPeer {
 public:
  // `server_name`: what a client asks for and checks (tls.hpp).
  TlsPeer(std::string name, std::shared_ptr<const net::TlsContext> context, net::TlsSession::Role role,
          Schedule schedule, bool tracing, std::string_view server_name = {});

  net::TlsSession& session() { return *session_; }
  const std::string& name() const { return name_; }

  // Ciphertext from the other end, handed over and read per the schedule.
  void receive(std::string_view ciphertext);
  void start_handshake();
  // Writes `plaintext` if the session is established and has not shut
  // down, as a connection would; `anyway` writes whatever the state.
  void write(std::string_view plaintext, bool anyway = false);
  void shutdown();
  // What the session has to send, taken (it is checked after every call).
  std::string take_output();

  // The handshake was done at some point, even if the session failed
  // later in the same call.
  bool established() const { return established_; }
  bool failed() const { return session_->failed(); }
  bool shut_down() const { return shut_down_; }
  // read() said kClosed: the other end sent close_notify.
  bool closed_by_peer() const { return closed_by_peer_; }
  // A write was refused: the session was failed by this end's own doing.
  bool refused_write() const { return refused_write_; }
  // Plaintext read, and plaintext written (a refused write included: some
  // of it may have left before the refusal).
  const std::string& received() const { return received_; }
  const std::string& sent() const { return sent_; }

 private:
  class Call;

  void read(std::size_t buffer_size);
  void act(Schedule::Action action);
  void trace(const std::string& what) const;

  std::string name_;
  std::unique_ptr<net::TlsSession> session_;
  Schedule schedule_;
  bool tracing_;
  std::vector<char> plaintext_;
  // Chunks handed to receive() and not read yet (kHold): the session holds
  // views into them until the next receive() or keep_unread().
  std::vector<std::unique_ptr<char[]>> held_;
  std::size_t checked_output_ = 0;  // output() before this holds whole records
  bool established_ = false;
  bool shut_down_ = false;
  bool closed_by_peer_ = false;
  bool refused_write_ = false;
  int scheduled_writes_ = 0;
  std::string received_;
  std::string sent_;
};

// Counts the records of `bytes`, which must be whole: a five-byte header
// (a known type, a version, a length a record may have) and its body.
std::size_t count_records(std::string_view bytes, std::string_view whose, std::size_t* application_records);

}  // namespace uvchat::fuzz
