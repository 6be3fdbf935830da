// The life of one of the soak's clients: session after session, each on a
// fresh connection, until the run stops it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "line_client.hpp"
#include "soak_context.hpp"
#include "soak_timer.hpp"

namespace uvchat::bench {

// A subclass says what a session does; this class connects (from the
// client's own source address), counts what goes each way, and starts the
// next session after the pause the subclass asks for.
class SoakClient : public LineHandler {
 public:
  SoakClient(SoakContext& context, Role role, std::uint32_t slot);
  ~SoakClient() override;
  SoakClient(const SoakClient&) = delete;
  SoakClient& operator=(const SoakClient&) = delete;

  // Starts a session after `delay_ms`; later ones follow as the subclass asks.
  void start(std::uint64_t delay_ms);
  // No more sessions; an open one is wound down (wind_down()).
  void stop();
  // No connection open and none about to be.
  bool finished() const { return !session_open() && !next_session_.pending(); }

 protected:
  // The connection is up.
  virtual void session_began() = 0;
  virtual void line_arrived(std::string_view line) = 0;
  // The connection is closed: the pause before the next session, or null
  // for none.
  virtual std::optional<std::uint64_t> session_ended(CloseReason reason, std::string_view error) = 0;
  // stop() came while a session is open: end it.
  virtual void wind_down() = 0;
  // Which source address the next session uses (see SourceAddresses): by
  // default the slot's own, as for a user at home.
  virtual std::uint64_t source_number() const { return slot_; }
  // The next session's SO_RCVBUF (see LineClient::connect); 0: the
  // system's, tuned as it goes. Asked just before it connects.
  virtual int receive_buffer() { return 0; }
  // Asked when a session is due: null to begin it now, or how much longer
  // to wait before asking again.
  virtual std::optional<std::uint64_t> postpone_session() { return std::nullopt; }

  void send_line(std::string_view line);
  void send_bytes(std::string_view bytes);
  // Sends `server:exit`, once a session, and stops the pacer: the server
  // reads nothing after it, and closes the connection after `bye`.
  void leave();
  bool leaving() const { return leaving_; }
  // Reports a close the client did not ask for: any but its own, or the
  // server's after leave().
  void check_close(CloseReason reason, std::string_view error);
  LineClient& client() { return *client_; }
  bool session_open() const { return client_ && !client_->closed(); }
  std::uint64_t now_ms() const;
  // Uniform in [low, high].
  std::uint64_t random_between(std::uint64_t low, std::uint64_t high);
  bool chance(double probability);
  // Counts an error of the run, with the client's name in front.
  void fail(std::string_view what);
  // `server:missed N` (`args` is N): the server dropped N lines nobody
  // asked for (room lines, broadcasts, presence) while this session caught
  // up with an answer. Valid wherever it comes; counted.
  void note_missed(std::string_view line, std::string_view args);
  // CODE of `server:error CODE DETAIL`, from what follows `server:error `.
  static std::string_view error_code(std::string_view args) { return args.substr(0, args.find(' ')); }

  SoakContext& context_;
  const Role role_;
  const std::uint32_t slot_;
  const std::string name_;
  std::uint64_t sessions_ = 0;  // started so far
  // Timing within a session, for the subclass; stopped when it ends.
  Timer pacer_;

 private:
  void on_connected() final;
  void on_line(std::string_view line) final;
  void on_closed(CloseReason reason, std::string_view error) final;
  void begin_session();
  void choose_tls();

  std::mt19937_64 random_;
  Timer next_session_;
  std::unique_ptr<LineClient> client_;
  // The session of its last TLS connection, for the next to resume.
  std::shared_ptr<SSL_SESSION> tls_session_;
  bool stopping_ = false;
  bool leaving_ = false;
};

}  // namespace uvchat::bench
