// The client's decisions (docs/CLIENT.md): registering (asking again for a
// name that is taken, or for a password), what typed lines send, which rooms
// to rejoin, when to reconnect and when to exit. Pure: events go in, actions
// come out, and src/client/app.cpp carries them out with libuv.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/client/presenter.hpp"
#include "uvchat/client/trust.hpp"

namespace uvchat::client {

struct SessionConfig {
  std::string server;       // "host:port", for what the client says
  std::string name;         // empty: asked at the terminal
  std::string password;     // empty: none
  bool interactive = true;  // a terminal; false: lines from a pipe
  bool reconnect = true;
  bool tls = false;        // for what the client says: the link is encrypted
  std::uint64_t seed = 0;  // for the jitter of the reconnect delays
};

enum class InputMode {
  kName,      // the next typed line is the name
  kPassword,  // ... the password (not shown)
  kTrust,     // ... the answer to "trust this server?"
  kChat,
};

struct Action {
  enum class Kind {
    kConnect,      // connect now
    kTrust,        // `text` is a known_servers line to append: the person trusts the server
    kDisconnect,   // close the connection (a kConnect or kReconnectIn follows)
    kSend,         // `text` is a line to send
    kShow,         // `text` is for the person, in `tone`
    kReconnectIn,  // connect again after `ms`
    kQuitIn,       // exit 0 after `ms` unless something else ends it first
    kExit,         // exit with `status` now
  };
  Kind kind;
  std::string text;
  Tone tone = Tone::kEvent;
  std::uint64_t ms = 0;
  int status = 0;
};
using Actions = std::vector<Action>;

class Session {
 public:
  explicit Session(SessionConfig config);

  Actions start();
  // The connection is up (over TLS: the handshake is done, and the server
  // is trusted).
  Actions connected();
  // Over TLS, instead of connected(): the handshake is done and this is
  // what the client makes of the server's certificate. Trusted: as
  // connected(); unknown at a terminal: the person is asked; otherwise the
  // client says why not and exits 2, having sent nothing.
  Actions server_identity(const TrustCheck& check);
  Actions connect_failed(std::string_view why);
  Actions connection_lost(std::string_view why);
  Actions server_line(std::string_view line);
  // A line typed (at a terminal), or read from the pipe.
  Actions typed(std::string_view line);
  // Ctrl-D on an empty line, or the end of the pipe.
  Actions end_of_input();
  // Ctrl-C.
  Actions interrupted();

  InputMode input_mode() const { return mode_; }
  // "bob> ", "#team> ", "(no target)> ", "name: ", "password for bob: ".
  std::string prompt() const;
  const std::string& target() const { return target_; }
  const std::set<std::string>& rooms() const { return rooms_; }

  // The wait before reconnect attempt `attempt` (0 first): 1 s doubling to
  // 30 s, each between half and all of that.
  static std::uint64_t backoff_ms(unsigned attempt, std::uint64_t random);

 private:
  enum class Phase { kConnecting, kTrusting, kAsking, kRegistering, kChatting, kQuitting, kWaiting, kDone };

  void register_now(Actions& out);
  void on_welcome(std::string_view name, Actions& out);
  void on_registration_error(const ServerError& error, Actions& out);
  void on_chat_line(std::string_view line, Actions& out);
  void note_own_rooms(std::string_view line);
  void run_typed(std::string_view line, Actions& out);
  void after_pipe_lines(Actions& out);
  void quit(Actions& out);
  void retry_later(std::string_view what, Actions& out);
  void give_up_or_retry(std::string what, Actions& out);
  void ask(InputMode mode, Actions& out);
  void show(std::string text, Tone tone, Actions& out) const;
  void fail_pipe(std::string text, Actions& out);
  void answer_trust(std::string_view line, Actions& out);
  void refuse_server(const std::vector<std::string>& lines, Actions& out);

  SessionConfig config_;
  Phase phase_ = Phase::kConnecting;
  InputMode mode_ = InputMode::kChat;
  std::string target_;
  std::set<std::string> rooms_;  // as the server spells them, for rejoining
  bool ever_registered_ = false;
  unsigned attempts_ = 0;  // failed connections since the last welcome
  std::mt19937_64 random_;
  // The server whose certificate the person is asked about, and whether
  // the connection went (the server's register timeout) meanwhile.
  std::optional<TrustCheck> trusting_;
  bool lost_while_trusting_ = false;
  // Pipe mode.
  std::vector<std::string> pending_;  // read before the welcome
  bool input_ended_ = false;
  bool awaiting_last_pong_ = false;
  bool pipe_failed_ = false;
};

}  // namespace uvchat::client
