#include "client_session.hpp"

#include <charconv>
#include <span>

#include "check.hpp"
#include "clean_text.hpp"
#include "uvchat/protocol/parser.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::fuzz {
namespace {

// Lines that need no registration: answers to what an unregistered client
// may send, and what anyone may be told.
constexpr std::string_view kOpenEvents[] = {"server:welcome ", "server:error ", "server:pong",
                                            "server:help ",    "server:bye",    "server:shutdown"};

bool starts_with_any(std::string_view line, std::span<const std::string_view> prefixes) {
  for (const std::string_view prefix : prefixes) {
    if (line.starts_with(prefix)) return true;
  }
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "[YYYY-MM-DD HH:MM:SS] ...": a message replayed from the store.
bool is_replay_line(std::string_view line) {
  return line.size() > 22 && line[0] == '[' && is_digit(line[1]) && line[5] == '-' && line[8] == '-' &&
         line[11] == ' ' && line[20] == ']' && line[21] == ' ';
}

// "[HH:MM:SS] ...": a message delivered live.
bool is_live_chat_line(std::string_view line) {
  return line.size() > 11 && line[0] == '[' && is_digit(line[1]) && line[3] == ':' && line[9] == ']' &&
         line[10] == ' ';
}

std::string_view last_word(std::string_view line) { return line.substr(line.rfind(' ') + 1); }

// The last line a closing session is sent; it goes ahead of anything the
// session still waits for.
bool is_farewell(std::string_view line) {
  return line == "server:shutdown" || line.starts_with("server:error idle-timeout") ||
         line.starts_with("server:error unavailable");
}

}  // namespace

void Transcript::on_line(std::string_view line) {
  const std::string_view body = without_line_end(line);
  check(protocol::is_valid_utf8(body), "a line sent is not UTF-8", body);
  check(has_no_control_bytes(body), "a line sent holds a control byte", body);
  check(!said_farewell_, "a line after shutdown, bye or idle-timeout", body);
  check(body.starts_with('[') || body.starts_with("server:"), "a line that is neither chat nor server", body);
  if (replays_due_ > 0 && is_farewell(body)) {
    // A replay goes out in pages: shutdown or idle-timeout may end it.
    replays_due_ = 0;
    said_farewell_ = true;
  } else if (replays_due_ > 0) {
    on_replay_line(body);
  } else if (awaiting_queued_count_) {
    awaiting_queued_count_ = false;
    if (is_farewell(body)) {
      said_farewell_ = true;
      return;
    }
    check(body.starts_with("server:queued-messages "), "welcome not followed by queued-messages", body);
    on_count(last_word(body));
  } else {
    on_live_line(body);
  }
}

std::string_view Transcript::without_line_end(std::string_view line) const {
  if (crlf_) {
    check(line.ends_with('\r'), "a line without its CR under --crlf", line);
    line.remove_suffix(1);
  }
  check(line.find('\r') == std::string_view::npos, "a CR inside a line", line);
  return line;
}

void Transcript::on_replay_line(std::string_view line) {
  check(is_replay_line(line), "a replay promised a line it did not send", line);
  --replays_due_;
}

void Transcript::on_live_line(std::string_view line) {
  check(!is_replay_line(line), "a replayed line outside a replay", line);
  if (line.starts_with('[')) {
    check(is_live_chat_line(line), "a chat line of no known form", line);
  }
  if (!starts_with_any(line, kOpenEvents)) {
    check(welcomed(), "a line for registered users sent before welcome", line);
  }
  if (line.starts_with("server:welcome ")) {
    on_welcome(line.substr(std::string_view("server:welcome ").size()));
  } else if (line.starts_with("server:queued-messages")) {
    fail("queued-messages not right after welcome");
  } else if (line.starts_with("server:history ")) {
    on_count(last_word(line));
    check(replays_due_ <= protocol::kMaxHistoryCount, "a history longer than 500", line);
  } else if (is_farewell(line) || line == "server:bye") {
    // Nothing follows bye: the session closes once it has every answer
    // it asked for, and they all come before bye.
    said_farewell_ = true;
  }
}

void Transcript::on_welcome(std::string_view name) {
  check(!welcomed(), "a second welcome on one connection", name);
  check(protocol::is_valid_name(name) && !protocol::is_reserved_name(name), "welcome to a bad name", name);
  name_ = std::string(name);
  awaiting_queued_count_ = true;
}

void Transcript::on_count(std::string_view count_text) {
  std::size_t count = 0;
  const auto [end, status] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  check(status == std::errc{} && end == count_text.data() + count_text.size(), "a count that is not a number",
        count_text);
  replays_due_ = count;
}

}  // namespace uvchat::fuzz
