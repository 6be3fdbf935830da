#include "soak_garbage.hpp"

#include "wire.hpp"

namespace uvchat::bench {
namespace {

using std::string_view_literals::operator""sv;

constexpr std::uint64_t kShortestPauseMs = 300;
constexpr std::uint64_t kLongestPauseMs = 1500;
constexpr std::uint64_t kShortestSessionMs = 10'000;
constexpr std::uint64_t kLongestSessionMs = 40'000;
constexpr std::uint64_t kShortestAbsenceMs = 500;
constexpr std::uint64_t kLongestAbsenceMs = 2'000;
constexpr std::size_t kHugeLineBytes = 1024 * 1024;
constexpr std::uint64_t kShortestRandom = 512;
constexpr std::uint64_t kLongestRandom = 8192;

// Each is invalid UTF-8 on its own; 0xFF is left out, as it starts a telnet
// command.
constexpr std::array<std::string_view, 5> kBadUtf8 = {
    "a\xc0\xaf"
    "b",                 // an overlong '/'
    "\xed\xa0\x80",      // a UTF-16 surrogate
    "\xf4\x90\x80\x80",  // past U+10FFFF
    "cut \xe2\x82",      // a sequence cut short
    "\x80 stray",        // a continuation byte alone
};

// IAC WILL ECHO, NUL, BEL, a sub-negotiation (IAC SB ... IAC SE), ESC, DEL
// and U+0085, then CR LF.
constexpr std::string_view kTelnetText =
    "ab\xff\xfb\x01"
    "cd\0ef\x07gh\xff\xfa\x18\x01xyz\xff\xf0ij\x1b[0mkl\x7fmnop\xc2\x85qr\r"sv;
// The same after the server has removed the telnet commands and NUL and
// replaced each control character with U+FFFD.
constexpr std::string_view kTelnetCleaned =
    "abcdef\xef\xbf\xbdghij\xef\xbf\xbd[0mkl\xef\xbf\xbdmnop\xef\xbf\xbdqr";

}  // namespace

GarbageSender::GarbageSender(SoakContext& context, std::uint32_t slot)
    : SoakClient(context, Role::kGarbage, slot) {}

void GarbageSender::session_began() {
  registered_ = false;
  awaiting_pong_ = false;
  leave_at_ms_ = now_ms() + random_between(kShortestSessionMs, kLongestSessionMs);
  send_line("server:register " + name_);
}

void GarbageSender::line_arrived(std::string_view line) {
  if (const auto event = parse_server_event(line)) {
    if (event->event == "queued-messages" && !registered_) {
      registered_ = true;
      act_later();
    } else if (event->event == "error") {
      take_error(line, event->args);
    } else if (event->event == "pong") {
      take_pong();
    } else if (event->event == "shutdown") {
      fail(line);
    }
  } else if (const auto dm = parse_direct_message(line); dm && dm->sender == name_) {
    take_own_dm(dm->text);
  }
}

void GarbageSender::act_later() {
  pacer_.start(random_between(kShortestPauseMs, kLongestPauseMs), [this] { act(); });
}

void GarbageSender::act() {
  if (now_ms() >= leave_at_ms_) {
    if (chance(0.5)) {
      leave();
    } else {
      client().close();
    }
    return;
  }
  send_garbage(static_cast<GarbageKind>(random_between(0, kGarbageKindCount - 1)));
}

// The line end before the ping ends whatever line the garbage left open;
// where there was none, the empty line is ignored.
void GarbageSender::send_garbage(GarbageKind kind) {
  answers_ = Answers{kind};
  first_wrong_echo_.clear();
  switch (kind) {
    case GarbageKind::kRandomBytes: send_bytes(random_bytes()); break;
    case GarbageKind::kHugeLine: send_bytes(std::string(kHugeLineBytes, 'x')); break;
    case GarbageKind::kBadUtf8: send_bytes(bad_utf8_lines()); break;
    case GarbageKind::kTelnetAndControls: send_bytes(telnet_line()); break;
  }
  send_bytes("\nserver:ping\n");
  awaiting_pong_ = true;
  ++context_.stats.garbage_sent[static_cast<std::size_t>(kind)];
}

std::string GarbageSender::random_bytes() {
  std::string bytes(random_between(kShortestRandom, kLongestRandom), '\0');
  for (char& byte : bytes) byte = static_cast<char>(random_between(0, 255));
  return bytes;
}

std::string GarbageSender::bad_utf8_lines() const {
  std::string lines;
  for (const std::string_view bad : kBadUtf8) lines.append(name_).append(": ").append(bad).append("\n");
  return lines;
}

std::string GarbageSender::telnet_line() const { return name_ + ": " + std::string(kTelnetText) + "\n"; }

void GarbageSender::take_error(std::string_view line, std::string_view args) {
  if (!registered_) {
    fail("registration refused: " + std::string(line));
    client().close();
    return;
  }
  const std::string_view code = error_code(args);
  if (code == "line-too-long") {
    ++answers_.too_long;
  } else if (code == "bad-utf8") {
    ++answers_.bad_utf8;
  } else {
    ++answers_.other_errors;
  }
}

void GarbageSender::take_own_dm(std::string_view text) {
  if (text == kTelnetCleaned) {
    ++answers_.clean_echoes;
    return;
  }
  ++answers_.wrong_echoes;
  if (first_wrong_echo_.empty()) first_wrong_echo_ = text.substr(0, 120);
}

void GarbageSender::take_pong() {
  if (!awaiting_pong_) {
    fail("a pong to no ping");
    return;
  }
  awaiting_pong_ = false;
  check_answers();
  ++context_.stats.garbage_survived;
  if (!leaving()) act_later();
}

// Random bytes may draw any error; the other kinds exactly what the
// protocol says.
void GarbageSender::check_answers() {
  const Answers& got = answers_;
  Answers expected{got.kind};
  switch (got.kind) {
    case GarbageKind::kRandomBytes: return;
    case GarbageKind::kHugeLine: expected.too_long = 1; break;
    case GarbageKind::kBadUtf8: expected.bad_utf8 = kBadUtf8.size(); break;
    case GarbageKind::kTelnetAndControls: expected.clean_echoes = 1; break;
  }
  if (got.too_long == expected.too_long && got.bad_utf8 == expected.bad_utf8 && got.other_errors == 0 &&
      got.clean_echoes == expected.clean_echoes && got.wrong_echoes == 0) {
    return;
  }
  fail(std::string(garbage_kind_name(got.kind)) + ": got " + std::to_string(got.too_long) +
       " line-too-long, " + std::to_string(got.bad_utf8) + " bad-utf8, " + std::to_string(got.other_errors) +
       " other errors, " + std::to_string(got.clean_echoes) + " clean and " +
       std::to_string(got.wrong_echoes) + " wrong echoes (expected " + std::to_string(expected.too_long) +
       ", " + std::to_string(expected.bad_utf8) + ", 0, " + std::to_string(expected.clean_echoes) + ", 0)" +
       (first_wrong_echo_.empty() ? "" : "; first wrong echo: '" + first_wrong_echo_ + "'"));
}

// The garbage must never cost it the connection.
std::optional<std::uint64_t> GarbageSender::session_ended(CloseReason reason, std::string_view error) {
  check_close(reason, error);
  return random_between(kShortestAbsenceMs, kLongestAbsenceMs);
}

}  // namespace uvchat::bench
