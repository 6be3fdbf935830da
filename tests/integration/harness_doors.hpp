// Clients of the doors other than the native one (docs/IRC.md,
// docs/CLASSIC.md), over a real socket: an IRC client that speaks CRLF and
// registers as a modern client does, and a client of the classic dialect.
//
// The waits skip lines that are not the one awaited (presence notices, the
// registration burst): the lines skipped are shown when the wait fails. A
// line that must not arrive is proven absent with expect_quiet(), as in
// harness.hpp: the server answers a connection's lines in order.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace uvchat::test {

using LineTest = std::function<bool(std::string_view)>;

// Reads lines from `peer` until one holds `holds`, within `timeout`, and
// returns it; the lines before it are skipped. Fails the test, naming
// `what` and the lines skipped, on timeout or close.
std::string wait_for_line(LinePeer& peer, const LineTest& holds, std::string_view what,
                          Duration timeout = kLineTimeout);
// The same for a line that starts with `prefix`.
std::string wait_for_prefix(LinePeer& peer, std::string_view prefix, Duration timeout = kLineTimeout);

// A time of day as the doors write it, `HH:MM:SS`, in UTC (the tests run
// the server with --utc or TZ=UTC): true when it names a second between
// `before` and `after` (a wall clock read before and after the line was
// sent; a line sent at midnight may have either date).
bool time_of_day_between(std::string_view hh_mm_ss, std::chrono::system_clock::time_point before,
                         std::chrono::system_clock::time_point after);

// An IRCv3 server-time tag's value, `YYYY-MM-DDThh:mm:ss.sssZ`, as a time,
// or nothing when it is not that form (ISO 8601, UTC, milliseconds).
std::optional<std::chrono::system_clock::time_point> parse_server_time(std::string_view value);

// An IRC line taken apart: `@tags :prefix COMMAND params... :trailing`.
struct IrcLine {
  std::string time;    // the value of the `time` tag, or empty
  std::string prefix;  // without its ':'
  std::string command;
  std::vector<std::string> params;  // the trailing one last, without ':'

  // Nothing when `line` is not a well-formed IRC line.
  static std::optional<IrcLine> parse(std::string_view line);
  std::string param(std::size_t index) const { return index < params.size() ? params[index] : std::string{}; }
  // The nick of the prefix `nick!user@host`.
  std::string nick() const { return prefix.substr(0, prefix.find('!')); }
};

// An IRC client on a TCP connection. Every line it sends ends with CRLF,
// and every line the server sends must end with CRLF too (the CR is taken
// off the lines it returns).
class IrcClient : public TestClient {
 public:
  IrcClient(const TestServer& server, std::string nick);

  const std::string& nick() const { return nick_; }

  // `line` and CRLF.
  void send_irc(std::string_view line);
  // One line without its CRLF; fails the test on timeout, on close, or
  // when the line ends with LF alone.
  std::string read_irc(Duration timeout = kLineTimeout);
  // The next line that holds `holds`, skipping others (see wait_for_line).
  IrcLine wait_for(const std::function<bool(const IrcLine&)>& holds, std::string_view what,
                   Duration timeout = kLineTimeout);
  // The next line with the command (or numeric) `command`.
  IrcLine wait_for_command(std::string_view command, Duration timeout = kLineTimeout);
  // The next line that is one of `commands` (e.g. the 464 or 001 that ends
  // an attempt to register).
  IrcLine wait_for_any(std::initializer_list<std::string_view> commands, Duration timeout = kLineTimeout);

  // Sends the registration a modern client sends: with `server_time`,
  // CAP LS 302, CAP REQ :server-time (and its ACK) and CAP END; then PASS
  // `password` if there is one, NICK and USER.
  void start_registration(bool server_time = true, std::string_view password = {});
  // start_registration, then waits for 001 and the end of the burst (376 or
  // 422), and returns every line of the burst, 001 included.
  std::vector<IrcLine> register_irc(bool server_time = true, std::string_view password = {});

  // A PRIVMSG to `target` ("bob", "#team").
  void privmsg(std::string_view target, std::string_view text);
  // Nothing was sent to this client before the answer to a PING.
  void expect_quiet();
  // QUIT, then ERROR and the close.
  void quit();

 private:
  std::string nick_;
  int pings_ = 0;
};

// A client of the classic dialect (docs/CLASSIC.md): lines end with LF.
class ClassicClient : public TestClient {
 public:
  explicit ClassicClient(const TestServer& server, std::string label = "classic");

  // JOIN:name, then JOINED:name.
  void join(std::string_view name);
  // JOIN_ROOM:room, then JOINED_ROOM:room (`room` without '#').
  void join_room(std::string_view room);
  // The next `NAME [HH:MM:SS]: text` line (skipping others), checked to be
  // from `sender` with `text`; returns its time of day.
  std::string expect_message(std::string_view sender, std::string_view text, Duration timeout = kLineTimeout);
  // Nothing was sent to this client before the answer to LIST_USERS.
  void expect_quiet();
};

// A native line that a chat line is made of: `[HH:MM:SS] rest`; returns the
// time of day, or fails the test. Skips other lines (presence).
std::string expect_native_chat(LinePeer& peer, std::string_view rest, Duration timeout = kLineTimeout);

}  // namespace uvchat::test
