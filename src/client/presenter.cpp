#include "uvchat/client/presenter.hpp"

#include <vector>

#include "uvchat/chat/name_map.hpp"

namespace uvchat::client {
namespace {

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> found;
  while (!text.empty()) {
    const std::size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const std::size_t end = text.find(' ');
    found.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end);
  }
  return found;
}

std::string joined(const std::vector<std::string_view>& names, std::size_t from) {
  std::string text;
  for (std::size_t i = from; i < names.size(); ++i) {
    if (!text.empty()) text += ", ";
    text += names[i];
  }
  return text;
}

constexpr chat::CaseInsensitiveEqual same_name;

Shown event(std::string text) { return Shown{std::move(text), Tone::kEvent}; }

std::optional<Shown> present_room_event(std::string_view verb, const std::vector<std::string_view>& args,
                                        std::string_view me) {
  if (args.size() < 2) return std::nullopt;
  const std::string room(args[0]);
  if (same_name(args[1], me)) return event("you " + std::string(verb) + " " + room);
  return event(std::string(args[1]) + " " + std::string(verb) + " " + room);
}

std::optional<Shown> present_event(std::string_view name, std::string_view rest, std::string_view me) {
  const std::vector<std::string_view> args = words(rest);
  const std::string first = args.empty() ? std::string() : std::string(args[0]);
  if (name == "online") return event(first + " is online");
  if (name == "offline") return event(first + " went offline");
  if (name == "joined") return present_room_event("joined", args, me);
  if (name == "left") return present_room_event("left", args, me);
  if (name == "queued") return event(first + " is offline; the message is queued");
  if (name == "queued-messages") {
    if (first == "0") return std::nullopt;
    return event(first + (first == "1" ? " message" : " messages") + " while you were away:");
  }
  if (name == "missed") {
    return event("missed " + first + (first == "1" ? " line" : " lines") +
                 " (rooms, broadcasts, presence) while your messages were replayed; /history #ROOM shows a room's");
  }
  if (name == "users") return event(args.empty() ? "nobody is online" : "online: " + joined(args, 0));
  if (name == "rooms") return event(args.empty() ? "no rooms" : "rooms: " + joined(args, 0));
  if (name == "members") {
    if (args.size() <= 1) return event("nobody is in " + first);
    return event("members of " + first + ": " + joined(args, 1));
  }
  if (name == "history" && args.size() >= 2) {
    return event("history of " + first + ", " + std::string(args[1]) +
                 (args[1] == "1" ? " line:" : " lines:"));
  }
  if (name == "shutdown") return Shown{"the server is shutting down", Tone::kError};
  if (name == "pong" || name == "welcome" || name == "bye" || name == "help") return std::nullopt;
  return event("server: " + std::string(name) + (rest.empty() ? "" : " " + std::string(rest)));
}

}  // namespace

std::optional<ServerError> parse_error(std::string_view line) {
  constexpr std::string_view kPrefix = "server:error ";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return ServerError{std::string(line), {}};
  return ServerError{std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

std::string describe_error(const ServerError& error) {
  const std::string& code = error.code;
  const std::string& detail = error.detail;
  const std::string subject = detail.substr(0, detail.find(' '));
  if (code == "no-such-user") return "no such user: " + subject;
  if (code == "not-in-room") return "you are not in " + subject;
  if (code == "name-taken") return "the name " + subject + " is taken";
  if (code == "wrong-password") return "wrong password for " + subject;
  if (code == "bad-name") return "not a valid name or room: " + detail;
  if (code == "empty-message") return "there was nothing to send";
  if (code == "queue-full") {
    if (detail.find("could not store") != std::string::npos) {
      return "the server could not store the message for " + subject.substr(0, subject.find(','));
    }
    return subject + "'s queue is full; the message was not queued";
  }
  if (code == "line-too-long") return "the line was too long (" + detail + ")";
  if (code == "bad-utf8") return "the line was not UTF-8";
  if (code == "unknown-command") return "the server does not know that: " + detail;
  if (code == "not-registered") return "not registered yet";
  if (code == "already-registered") return "already registered as " + subject;
  if (code == "server-full") return "the server is full" + (detail.empty() ? "" : ": " + detail);
  if (code == "too-slow") return "the server cut the connection: we did not read fast enough";
  if (code == "idle-timeout") return "the server closed the connection: " + detail;
  if (code == "rate-limited") return "too many registrations from this address; wait a minute";
  if (code == "unavailable") return "the server could not read its database: " + detail;
  return "error " + code + (detail.empty() ? "" : ": " + detail);
}

std::optional<Shown> present(std::string_view line, std::string_view me) {
  if (const std::optional<ServerError> error = parse_error(line)) {
    return Shown{describe_error(*error), Tone::kError};
  }
  constexpr std::string_view kServer = "server:";
  if (!line.starts_with(kServer)) return Shown{std::string(line), Tone::kChat};
  line.remove_prefix(kServer.size());
  const std::size_t space = line.find(' ');
  const std::string_view name = line.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  return present_event(name, rest, me);
}

}  // namespace uvchat::client
