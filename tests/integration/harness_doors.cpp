#include "harness_doors.hpp"

#include <catch2/catch.hpp>
#include <ctime>
#include <regex>

namespace uvchat::test {

using Clock = std::chrono::steady_clock;

namespace {

std::string quoted(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "  '" + line + "'\n";
  return text.empty() ? "  (none)\n" : text;
}

// Reads with `read` (a line, or nothing on timeout or close) until a line
// holds `holds`. `label` and `what` name the wait in the failure.
std::string wait_with(const std::function<std::optional<std::string>(Duration)>& read, const LineTest& holds,
                      std::string_view label, std::string_view what, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> skipped;
  for (;;) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    std::optional<std::string> line = left.count() > 0 ? read(left) : std::nullopt;
    if (!line) {
      FAIL(label << ": waiting " << timeout.count() << " ms for " << what
                 << ", nothing came (or the connection "
                 << "closed); lines skipped:\n"
                 << quoted(skipped));
    }
    if (holds(*line)) return *line;
    skipped.push_back(std::move(*line));
  }
}

}  // namespace

std::string wait_for_line(LinePeer& peer, const LineTest& holds, std::string_view what, Duration timeout) {
  return wait_with([&](Duration left) { return peer.try_read_line(left); }, holds, peer.label(), what,
                   timeout);
}

std::string wait_for_prefix(LinePeer& peer, std::string_view prefix, Duration timeout) {
  return wait_for_line(
      peer, [&](std::string_view line) { return line.starts_with(prefix); },
      "a line starting with '" + std::string(prefix) + "'", timeout);
}

bool time_of_day_between(std::string_view hh_mm_ss, std::chrono::system_clock::time_point before,
                         std::chrono::system_clock::time_point after) {
  static const std::regex kTime(R"(([01]\d|2[0-3]):([0-5]\d):([0-5]\d))");
  std::match_results<std::string_view::const_iterator> parts;
  if (!std::regex_match(hh_mm_ss.begin(), hh_mm_ss.end(), parts, kTime)) return false;
  const long seconds = std::stol(parts[1]) * 3600 + std::stol(parts[2]) * 60 + std::stol(parts[3]);
  constexpr long kDay = 86'400;
  const auto second_of_day = [](std::chrono::system_clock::time_point when) {
    return static_cast<long>(std::chrono::system_clock::to_time_t(when) % kDay);
  };
  const long first = second_of_day(before);
  const long last = second_of_day(after);
  return first <= last ? first <= seconds && seconds <= last : seconds >= first || seconds <= last;
}

std::optional<std::chrono::system_clock::time_point> parse_server_time(std::string_view value) {
  static const std::regex kIso(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z)");
  std::match_results<std::string_view::const_iterator> parts;
  if (!std::regex_match(value.begin(), value.end(), parts, kIso)) return std::nullopt;
  std::tm utc{};
  utc.tm_year = std::stoi(parts[1]) - 1900;
  utc.tm_mon = std::stoi(parts[2]) - 1;
  utc.tm_mday = std::stoi(parts[3]);
  utc.tm_hour = std::stoi(parts[4]);
  utc.tm_min = std::stoi(parts[5]);
  utc.tm_sec = std::stoi(parts[6]);
  if (utc.tm_mon > 11 || utc.tm_mday < 1 || utc.tm_mday > 31 || utc.tm_hour > 23 || utc.tm_min > 59 ||
      utc.tm_sec > 60) {
    return std::nullopt;
  }
  const std::time_t seconds = ::timegm(&utc);
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::milliseconds(std::stoi(parts[7]));
}

// ------------------------------------------------------------------- IrcLine

std::optional<IrcLine> IrcLine::parse(std::string_view line) {
  IrcLine parsed;
  const auto word = [&line]() {
    const std::size_t space = line.find(' ');
    std::string_view taken = line.substr(0, space);
    line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    return taken;
  };
  if (line.starts_with('@')) {
    const std::string_view tags = word().substr(1);
    std::size_t start = 0;
    while (start <= tags.size()) {
      const std::size_t end = std::min(tags.find(';', start), tags.size());
      const std::string_view tag = tags.substr(start, end - start);
      if (tag.starts_with("time=")) parsed.time = tag.substr(5);
      start = end + 1;
    }
  }
  if (line.starts_with(':')) parsed.prefix = word().substr(1);
  parsed.command = word();
  if (parsed.command.empty()) return std::nullopt;
  while (!line.empty()) {
    if (line.starts_with(':')) {
      parsed.params.emplace_back(line.substr(1));
      break;
    }
    const std::string_view param = word();
    if (param.empty()) return std::nullopt;  // two spaces in a row
    parsed.params.emplace_back(param);
  }
  return parsed;
}

// ----------------------------------------------------------------- IrcClient

IrcClient::IrcClient(const TestServer& server, std::string nick)
    : TestClient(server, "irc " + nick), nick_(std::move(nick)) {}

void IrcClient::send_irc(std::string_view line) { send(std::string(line) + "\r\n"); }

std::string IrcClient::read_irc(Duration timeout) {
  std::string line = read_line(timeout);
  if (!line.ends_with('\r')) FAIL(label() << ": the line '" << line << "' does not end with CRLF");
  line.pop_back();
  return line;
}

IrcLine IrcClient::wait_for(const std::function<bool(const IrcLine&)>& holds, std::string_view what,
                            Duration timeout) {
  const auto read = [this](Duration left) -> std::optional<std::string> {
    std::optional<std::string> line = try_read_line(left);
    if (!line) return line;
    if (!line->ends_with('\r')) FAIL(label() << ": the line '" << *line << "' does not end with CRLF");
    line->pop_back();
    return line;
  };
  const std::string line = wait_with(
      read,
      [&](std::string_view text) {
        const std::optional<IrcLine> parsed = IrcLine::parse(text);
        if (!parsed) FAIL(label() << ": '" << text << "' is not an IRC line");
        return holds(*parsed);
      },
      label(), what, timeout);
  return *IrcLine::parse(line);
}

IrcLine IrcClient::wait_for_command(std::string_view command, Duration timeout) {
  return wait_for([&](const IrcLine& line) { return line.command == command; },
                  "a line with the command " + std::string(command), timeout);
}

IrcLine IrcClient::wait_for_any(std::initializer_list<std::string_view> commands, Duration timeout) {
  std::string names;
  for (const std::string_view command : commands) names += " " + std::string(command);
  return wait_for(
      [&](const IrcLine& line) {
        for (const std::string_view command : commands) {
          if (line.command == command) return true;
        }
        return false;
      },
      "a line with one of the commands" + names, timeout);
}

void IrcClient::start_registration(bool server_time, std::string_view password) {
  if (server_time) {
    send_irc("CAP LS 302");
    const IrcLine ls = wait_for_command("CAP");
    INFO(label() << ": CAP LS offered '" << ls.params.back() << "'");
    REQUIRE(ls.param(1) == "LS");
    REQUIRE(ls.params.back().find("server-time") != std::string::npos);
    send_irc("CAP REQ :server-time");
    const IrcLine ack = wait_for_command("CAP");
    REQUIRE(ack.param(1) == "ACK");
    REQUIRE(ack.params.back().starts_with("server-time"));
    send_irc("CAP END");
  }
  if (!password.empty()) send_irc("PASS " + std::string(password));
  send_irc("NICK " + nick_);
  send_irc("USER " + nick_ + " 0 * :" + nick_ + " the tester");
}

std::vector<IrcLine> IrcClient::register_irc(bool server_time, std::string_view password) {
  start_registration(server_time, password);
  std::vector<IrcLine> burst;
  burst.push_back(wait_for_any({"001", "432", "433", "464", "ERROR"}));
  INFO(label() << ": registering as " << nick_);
  REQUIRE(burst.front().command == "001");
  REQUIRE(burst.front().param(0) == nick_);
  for (;;) {
    std::optional<IrcLine> line = IrcLine::parse(read_irc());
    if (!line) FAIL(label() << ": a line of the registration burst is not an IRC line");
    burst.push_back(*line);
    if (line->command == "376" || line->command == "422") return burst;
  }
}

void IrcClient::privmsg(std::string_view target, std::string_view text) {
  send_irc("PRIVMSG " + std::string(target) + " :" + std::string(text));
}

void IrcClient::expect_quiet() {
  const std::string token = "quiet" + std::to_string(++pings_);
  send_irc("PING " + token);
  const std::string line = read_irc();
  const std::optional<IrcLine> pong = IrcLine::parse(line);
  INFO(label() << ": expected the PONG to " << token << " and nothing before it, got '" << line << "'");
  REQUIRE(pong);
  REQUIRE(pong->command == "PONG");
  REQUIRE(pong->params.back() == token);
}

void IrcClient::quit() {
  send_irc("QUIT :bye");
  wait_for_command("ERROR");
  expect_closed();
}

// ------------------------------------------------------------- ClassicClient

ClassicClient::ClassicClient(const TestServer& server, std::string label)
    : TestClient(server, std::move(label)) {}

void ClassicClient::join(std::string_view name) {
  send_line("JOIN:" + std::string(name));
  expect("JOINED:" + std::string(name));
}

void ClassicClient::join_room(std::string_view room) {
  send_line("JOIN_ROOM:" + std::string(room));
  wait_for_line(
      *this, [&](std::string_view line) { return line == "JOINED_ROOM:" + std::string(room); },
      "JOINED_ROOM:" + std::string(room));
}

std::string ClassicClient::expect_message(std::string_view sender, std::string_view text, Duration timeout) {
  static const std::regex kLine(R"(([^ ]+) \[(\d\d:\d\d:\d\d)\]: (.*))");
  std::smatch parts;
  const std::string what = std::string(sender) + " [HH:MM:SS]: " + std::string(text);
  const std::string line = wait_for_line(
      *this,
      [&](std::string_view candidate) {
        std::string copy(candidate);
        std::smatch found;
        return std::regex_match(copy, found, kLine) && found[1].str() == sender && found[3].str() == text;
      },
      "'" + what + "'", timeout);
  std::regex_match(line, parts, kLine);
  return parts[2];
}

void ClassicClient::expect_quiet() {
  send_line("LIST_USERS");
  const std::string line = read_line();
  INFO(label() << ": expected USERS:... and nothing before it, got '" << line << "'");
  REQUIRE(line.starts_with("USERS:"));
}

std::string expect_native_chat(LinePeer& peer, std::string_view rest, Duration timeout) {
  static const std::regex kStamp(R"(\[(\d\d:\d\d:\d\d)\] (.*))");
  const std::string line = wait_for_line(
      peer,
      [&](std::string_view candidate) {
        std::string copy(candidate);
        std::smatch found;
        return std::regex_match(copy, found, kStamp) && found[2].str() == rest;
      },
      "'[HH:MM:SS] " + std::string(rest) + "'", timeout);
  std::smatch parts;
  std::regex_match(line, parts, kStamp);
  return parts[1];
}

}  // namespace uvchat::test
