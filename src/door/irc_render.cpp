// The IRC door, events out: the hub's events as the lines IRC clients
// expect. Lines that do not name the client (a room line, a join, presence)
// are rendered once for every IRC session (render_once), in one of two
// styles: with IRCv3 server-time tags or without. Numerics carry the
// client's nick and are built for the one session they answer.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "uvchat/door/irc.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::door {

using chat::EventKind;
using chat::MessageKind;
using protocol::ErrorCode;

namespace {

// A middle parameter cannot be empty, hold a space or start with ':'; a
// subject that would (none should) is shown as `*` rather than break the line.
// One echoed from a client is cut to 64 bytes, which no name or room passes.
std::string_view middle(std::string_view param) {
  if (param.empty() || param.front() == ':' || param.find(' ') != std::string_view::npos) return "*";
  constexpr std::size_t kLongestEcho = 64;
  return protocol::utf8_prefix(param, kLongestEcho);
}

// What the framer leaves of CTCP's \x01 in the text of another door's
// user, and the \x01 itself, which IRC clients expect.
constexpr std::string_view kActionOpen = "\x01" "ACTION ";
constexpr std::string_view kActionClose = "\x01";

// Where to end the next piece of `text` of at most `budget` bytes: on a
// UTF-8 boundary, and after a space when there is one near the end, so
// that words are not cut in two.
std::size_t piece_end(std::string_view text, std::size_t budget) {
  if (text.size() <= budget) return text.size();
  const std::size_t cut = protocol::utf8_prefix(text, budget).size();
  if (cut == 0) return budget;  // not UTF-8: cannot happen, the hub's text is
  constexpr std::size_t kWordReach = 64;
  const std::size_t space = text.rfind(' ', cut - 1);
  if (space != std::string_view::npos && space > 0 && cut - space <= kWordReach) return space + 1;
  return cut;
}

// `text` cut, on a UTF-8 boundary, to what is left of a line of which
// `used` bytes are taken. The hub's details and help lines are short, but
// no line may pass 512 bytes whatever they say.
std::string_view fitting(std::string_view text, std::size_t used) {
  return protocol::utf8_prefix(text, used + 2 >= IrcCodec::kMaxLine ? 0 : IrcCodec::kMaxLine - 2 - used);
}

// `:server NOTICE target :text`, one line.
void notice(std::string& lines, std::string_view server, std::string_view target, std::string_view text) {
  const std::size_t start = lines.size();
  lines.append(":").append(server).append(" NOTICE ").append(target).append(" :");
  lines.append(fitting(text, lines.size() - start)).append("\r\n");
}

std::string user_prefix(std::string_view nick, std::string_view host) {
  std::string prefix = ":";
  prefix.append(nick).append("!").append(nick).append("@").append(host);
  return prefix;
}

}  // namespace

namespace irc {

std::string time_tag(chat::TimePoint when) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  long fraction = static_cast<long>(millis % 1000);
  if (fraction < 0) {
    fraction += 1000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "@time=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
  return text;
}

}  // namespace irc

std::string_view IrcCodec::client() const {
  return nick_.empty() || stage_ != Stage::kRegistered ? std::string_view("*") : std::string_view(nick_);
}

void IrcCodec::numeric_bare(std::string& lines, std::string_view code,
                            std::initializer_list<std::string_view> params) const {
  lines += ':';
  lines += settings_.server_name;
  lines += ' ';
  lines += code;
  lines += ' ';
  lines += client();
  for (const std::string_view param : params) {
    lines += ' ';
    lines += middle(param);
  }
  lines += "\r\n";
}

void IrcCodec::numeric(std::string& lines, std::string_view code, std::initializer_list<std::string_view> params,
                       std::string_view trailing) const {
  const std::size_t start = lines.size();
  numeric_bare(lines, code, params);
  lines.resize(lines.size() - 2);
  lines += " :";
  lines += fitting(trailing, lines.size() - start);
  lines += "\r\n";
}

chat::Payload IrcCodec::render(const chat::EventRef& ref) {
  const chat::Event& event = *ref;
  const std::string& server = settings_.server_name;
  const auto shared = [&](auto&& render_into) { return chat::render_once(ref, kIrcStyle, render_into); };
  const auto mine = [](std::string lines) -> chat::Payload {
    if (lines.empty()) return nullptr;
    return chat::make_payload(std::move(lines));
  };
  const auto server_notice = [&](std::string_view text) {
    std::string lines;
    notice(lines, server, client(), text);
    return mine(std::move(lines));
  };
  switch (event.kind) {
    case EventKind::kChat:
      // One cache slot per style: the tagged lines differ from the plain.
      return chat::render_once(ref, server_time_ ? kIrcTaggedStyle : kIrcStyle,
                               [&](std::string& lines) { render_chat(event, lines); });
    case EventKind::kWelcome: return render_welcome(event);
    case EventKind::kQueued: {
      if (quiet_) return nullptr;
      std::string lines;
      numeric(lines, "301", {event.name}, event.name + " is offline; your message is kept for them");
      return mine(std::move(lines));
    }
    case EventKind::kQueuedMessages:
      if (event.count == 0) return nullptr;
      return server_notice(std::to_string(event.count) +
                           (event.count == 1 ? " message was" : " messages were") +
                           " kept for you while you were offline; here " + (event.count == 1 ? "it is" : "they are"));
    case EventKind::kHistory: {
      if (event.count == 0) return nullptr;
      std::string text = "The last " + std::to_string(event.count) + (event.count == 1 ? " line" : " lines");
      if (!event.of_room) return server_notice(text + (event.target.empty() ? " said to everyone" : " with " + event.target));
      // Into the room's window, before its lines.
      std::string lines;
      notice(lines, server, "#" + event.target, text + " of #" + event.target);
      return mine(std::move(lines));
    }
    case EventKind::kOnline:
    case EventKind::kOffline:
      // Presence is not IRC's (MONITOR would need the client to ask): a
      // server notice, the same for everyone, so shared.
      return shared([&](std::string& lines) {
        lines.append(":").append(server).append(" NOTICE * :").append(event.name);
        lines.append(event.kind == EventKind::kOnline ? " is online\r\n" : " went offline\r\n");
      });
    case EventKind::kJoined:
      note_membership(event);
      return shared([&](std::string& lines) {
        lines.append(user_prefix(event.name, server)).append(" JOIN #").append(event.target).append("\r\n");
      });
    case EventKind::kLeft:
      note_membership(event);
      // Going offline is a QUIT, once per room shared with the user: a
      // client ignores the QUIT of a nick it no longer sees anywhere.
      return shared([&](std::string& lines) {
        lines.append(user_prefix(event.name, server));
        if (event.quit) {
          lines.append(" QUIT :offline\r\n");
        } else {
          lines.append(" PART #").append(event.target).append("\r\n");
        }
      });
    case EventKind::kMembers: return render_members(event);
    case EventKind::kUsers: return render_users(event);
    case EventKind::kRooms: return render_rooms(event);
    case EventKind::kPong:
      return shared([&](std::string& lines) { lines.append(":").append(server).append(" PONG ").append(server).append("\r\n"); });
    case EventKind::kHelp:
      return shared([&](std::string& lines) {
notice(lines, server, "*", event.text());
      });
    case EventKind::kMissed:
      return server_notice(std::to_string(event.count) + " lines were not sent to you while you were not reading");
    case EventKind::kBye: return mine("ERROR :Closing Link: " + std::string(client()) + " (Quit)\r\n");
    case EventKind::kShutdown:
      return shared([](std::string& lines) { lines.append("ERROR :Server shutting down\r\n"); });
    case EventKind::kError: return render_error(event);
    case EventKind::kReply:
      if (event.text() == irc::kQuietOn || event.text() == irc::kQuietOff) {
        quiet_ = event.text() == irc::kQuietOn;
        return nullptr;
      }
      // The codec's own lines, for this session only: as they are.
      return event.text_payload();
  }
  return nullptr;
}

void IrcCodec::note_membership(const chat::Event& event) {
  if (!protocol::equal_case_insensitive(event.name, nick_)) return;
  const auto same = [&](const std::string& room) { return protocol::equal_case_insensitive(room, event.target); };
  std::erase_if(rooms_, same);
  if (event.kind == EventKind::kJoined) rooms_.push_back(event.target);
}

// `:alice!alice@server PRIVMSG bob :text`, split into lines that fit 512
// bytes; the date in front of a replay's text when the client has no
// server-time; a `* alice waves` line as the /me it was.
void IrcCodec::render_chat(const chat::Event& event, std::string& lines) {
  const std::string& server = settings_.server_name;
  std::string head = user_prefix(event.sender, server);
  switch (event.scope) {
    case MessageKind::kDirect: head.append(" PRIVMSG ").append(event.target); break;
    case MessageKind::kRoom: head.append(" PRIVMSG #").append(event.target); break;
    // A NOTICE to the server mask, as a network-wide message from an
    // operator looks: clients show it apart, and do not open a private
    // window whose replies would go to the sender alone.
    case MessageKind::kBroadcast: head.append(" NOTICE $*"); break;
  }
  head.append(" :");
  const std::string tag = server_time_ ? irc::time_tag(event.when) : std::string();

  std::string dated;
  std::string_view text = event.text();
  if (event.replayed && !server_time_) {
    dated = "[";
    dated.append(times_.date_and_time(event.when)).append("] ").append(event.text());
    text = dated;
  }
  const std::string action_start = "* " + event.sender + " ";
  const bool action = text.starts_with(action_start) && text.size() > action_start.size();
  if (action) text.remove_prefix(action_start.size());

  const std::size_t wrapping = action ? kActionOpen.size() + kActionClose.size() : 0;
  constexpr std::size_t kLeastRoom = 32;  // a server name too long to be sane still gets lines out
  const std::size_t used = head.size() + wrapping + 2;
  const std::size_t budget = used + kLeastRoom > kMaxLine ? kLeastRoom : kMaxLine - used;
  while (!text.empty()) {
    const std::size_t end = piece_end(text, budget);
    lines.append(tag).append(head);
    if (action) lines.append(kActionOpen);
    lines.append(text.substr(0, end));
    if (action) lines.append(kActionClose);
    lines.append("\r\n");
    text.remove_prefix(end);
  }
}

chat::Payload IrcCodec::render_welcome(const chat::Event& event) {
  stage_ = Stage::kRegistered;
  nick_ = event.name;  // the hub's spelling of the name
  const std::string& server = settings_.server_name;
  const std::string online = std::to_string(event.count);
  std::string lines;
  numeric(lines, "001", {}, "Welcome to the " + settings_.network + " IRC network, " + nick_);
  numeric(lines, "002", {}, "Your host is " + server + ", running version " + settings_.version);
  numeric(lines, "003", {}, "This server does not say when it was created");
  // No user or channel modes to list after the version: there are none.
  numeric_bare(lines, "004", {server, settings_.version});
  // Only what holds: names and rooms are ASCII and fold as ASCII; a room is
  // `#` and a name (32 bytes); nobody has a prefix or a mode; one may be in
  // any number of rooms; and lines are UTF-8 or dropped.
  numeric(lines, "005",
          {"CASEMAPPING=ascii", "CHANTYPES=#", "NICKLEN=32", "CHANNELLEN=33", "PREFIX=()", "CHANMODES=,,,",
           "CHANLIMIT=#:", "TARGMAX=PRIVMSG:10,NOTICE:10,JOIN:10,PART:10,NAMES:10,WHOIS:1", "UTF8ONLY",
           "NETWORK=" + settings_.network},
          "are supported by this server");
  numeric(lines, "251", {}, "There are " + online + " users and 0 invisible on 1 servers");
  numeric(lines, "255", {}, "I have " + online + " clients and 0 servers");
  // HexChat and others join their channels once the MOTD is over.
  numeric(lines, "422", {}, "MOTD File is missing");
  return chat::make_payload(std::move(lines));
}

chat::Payload IrcCodec::render_error(const chat::Event& event) {
  const std::string_view subject = event.target;
  const std::string_view detail = event.text();
  const auto closing = [&](std::string_view fallback) {
    const std::string_view why = fitting(detail.empty() ? fallback : detail, 7);
    return chat::make_payload("ERROR :" + std::string(why) + "\r\n");
  };
  // The hub closes the session after these.
  switch (event.code) {
    case ErrorCode::kServerFull: return closing("Server is full");
    case ErrorCode::kTooSlow: return closing("You were too slow to read");
    case ErrorCode::kIdleTimeout: return closing("Idle for too long");
    case ErrorCode::kUnavailable: return closing("Service unavailable");
    case ErrorCode::kTlsRequired: return closing("TLS is required");
    default: break;
  }
  // A registration the hub refused: the client may try another nick.
  const bool refused = event.code == ErrorCode::kNameTaken || event.code == ErrorCode::kWrongPassword ||
                       event.code == ErrorCode::kBadName || event.code == ErrorCode::kRateLimited;
  if (refused && stage_ == Stage::kRegistering) stage_ = Stage::kNew;
  if (quiet_) return nullptr;

  std::string lines;
  const auto with_detail = [&](std::string text) {
    if (!detail.empty()) text.append(": ").append(detail);
    return text;
  };
  switch (event.code) {
    case ErrorCode::kNotRegistered: numeric(lines, "451", {}, "You have not registered"); break;
    case ErrorCode::kAlreadyRegistered: numeric(lines, "462", {}, "You may not reregister"); break;
    case ErrorCode::kBadName:
      numeric(lines, "432", {subject.empty() ? std::string_view(nick_) : subject}, with_detail("Erroneous nickname"));
      break;
    case ErrorCode::kNameTaken: numeric(lines, "433", {subject}, "Nickname is already in use"); break;
    case ErrorCode::kWrongPassword:
      numeric(lines, "464", {}, with_detail("Password incorrect for " + std::string(subject)));
      break;
    case ErrorCode::kNoSuchUser: numeric(lines, "401", {subject}, "No such nick/channel"); break;
    case ErrorCode::kNotInRoom:
      numeric(lines, not_in_room_, {subject},
              not_in_room_ == "404" ? "Cannot send to channel: you are not in it" : "You're not on that channel");
      break;
    case ErrorCode::kEmptyMessage: numeric(lines, "412", {}, "No text to send"); break;
    case ErrorCode::kUnknownCommand: numeric(lines, "421", {subject}, with_detail("Unknown command")); break;
    case ErrorCode::kLineTooLong: numeric(lines, "417", {}, with_detail("Input line was too long")); break;
    default: {
      // Not IRC's: a notice in plain words (queue full, rate limited, not UTF-8).
      std::string text = std::string(protocol::error_code_name(event.code));
      if (!subject.empty()) text.append(" ").append(subject);
      if (!detail.empty()) text.append(": ").append(detail);
      notice(lines, settings_.server_name, client(), text);
      break;
    }
  }
  return chat::make_payload(std::move(lines));
}

chat::Payload IrcCodec::render_members(const chat::Event& event) {
  MembersForm form = MembersForm::kNames;  // unasked: shown as NAMES
  if (!members_forms_.empty()) {
    form = members_forms_.front();
    members_forms_.pop_front();
  }
  const std::string room = "#" + event.target;
  const std::string& server = settings_.server_name;
  std::string lines;
  if (form == MembersForm::kWho) {
    for (const std::string& name : event.names) numeric(lines, "352", {room, name, server, server, name, "H"}, "0 " + name);
    numeric(lines, "315", {room}, "End of /WHO list");
    return chat::make_payload(std::move(lines));
  }
  // 353 lines of as many names as fit in 512 bytes.
  std::string head;
  numeric(head, "353", {"=", room}, {});
  head.resize(head.size() - 2);
  std::size_t at = 0;
  while (at < event.names.size()) {
    std::string line = head;
    line.append(event.names[at++]);
    while (at < event.names.size() && line.size() + 1 + event.names[at].size() + 2 <= kMaxLine) {
      line.append(" ").append(event.names[at++]);
    }
    lines.append(line).append("\r\n");
  }
  numeric(lines, "366", {room}, "End of /NAMES list");
  return chat::make_payload(std::move(lines));
}

chat::Payload IrcCodec::render_users(const chat::Event& event) {
  UsersQuery query;  // unasked: WHO of everyone
  if (!users_queries_.empty()) {
    query = std::move(users_queries_.front());
    users_queries_.pop_front();
  }
  const std::string& server = settings_.server_name;
  std::string lines;
  const auto matches = [&](const std::string& name) {
    return query.mask.empty() || protocol::equal_case_insensitive(name, query.mask);
  };
  if (query.whois) {
    bool online = false;
    for (const std::string& name : event.names) {
      if (!matches(name)) continue;
      online = true;
      numeric(lines, "311", {name, name, server, "*"}, name);
      numeric(lines, "312", {name, server}, settings_.network);
    }
    // Known or not, a user who is not online is nobody IRC can see.
    if (!online) numeric(lines, "401", {query.mask}, "No such nick/channel");
    numeric(lines, "318", {query.mask}, "End of /WHOIS list");
    return chat::make_payload(std::move(lines));
  }
  for (const std::string& name : event.names) {
    if (matches(name)) numeric(lines, "352", {"*", name, server, server, name, "H"}, "0 " + name);
  }
  numeric(lines, "315", {query.mask.empty() ? std::string_view("*") : std::string_view(query.mask)}, "End of /WHO list");
  return chat::make_payload(std::move(lines));
}

chat::Payload IrcCodec::render_rooms(const chat::Event& event) {
  std::string lines;
  numeric(lines, "321", {"Channel"}, "Users  Name");
  for (std::size_t i = 0; i < event.names.size(); ++i) {
    const std::size_t members = i < event.counts.size() ? event.counts[i] : 0;
    numeric(lines, "322", {"#" + event.names[i], std::to_string(members)}, {});
  }
  numeric(lines, "323", {}, "End of /LIST");
  return chat::make_payload(std::move(lines));
}

}  // namespace uvchat::door
