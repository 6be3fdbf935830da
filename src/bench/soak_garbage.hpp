// A client of the soak that sends what no chat client would.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "soak_client.hpp"

namespace uvchat::bench {

// Registers, then every second or so sends one piece of garbage and a ping:
// random bytes; a line of 1 MiB (more than --max-line, sent without a line
// end until the last byte); lines that are not UTF-8 (overlong forms,
// surrogates, code points past U+10FFFF, cut sequences, stray continuation
// bytes); or a DM to itself full of telnet IAC sequences, NUL and control
// characters. Each piece must cost it the errors the protocol names and no
// more (one `line-too-long`, one `bad-utf8` a line; the telnet DM arrives
// cleaned), and the connection must stay open: the pong says the server
// got through it. After 10 to 40 s it leaves, by closing or with
// `server:exit`.
class GarbageSender final : public SoakClient {
 public:
  GarbageSender(SoakContext& context, std::uint32_t slot);

 private:
  void session_began() override;
  void line_arrived(std::string_view line) override;
  std::optional<std::uint64_t> session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override { leave(); }

  void act_later();
  void act();
  void send_garbage(GarbageKind kind);
  std::string random_bytes();
  std::string bad_utf8_lines() const;
  std::string telnet_line() const;
  void take_error(std::string_view line, std::string_view args);
  void take_own_dm(std::string_view text);
  void take_pong();
  void check_answers();

  // What the piece of garbage in flight has drawn so far.
  struct Answers {
    GarbageKind kind = GarbageKind::kRandomBytes;
    std::uint64_t too_long = 0;
    std::uint64_t bad_utf8 = 0;
    std::uint64_t other_errors = 0;
    std::uint64_t clean_echoes = 0;
    std::uint64_t wrong_echoes = 0;
  };

  bool registered_ = false;
  bool awaiting_pong_ = false;
  std::uint64_t leave_at_ms_ = 0;
  Answers answers_;
  std::string first_wrong_echo_;
};

}  // namespace uvchat::bench
