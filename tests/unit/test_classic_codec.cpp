// The classic door's codec (docs/CLASSIC.md): its lines to the hub's
// commands, the hub's events to its lines, and its one piece of state,
// the current room.
#include <catch2/catch.hpp>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/chat/event.hpp"
#include "uvchat/door/classic.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::door {
namespace {

using chat::EventKind;
using chat::MessageKind;
using protocol::CommandKind;
using protocol::ErrorCode;

// 2023-11-14 22:13:20 UTC.
const chat::TimePoint kWhen{std::chrono::seconds{1700000000}};

// A command as the hub saw it, with its views copied while they lived.
struct Seen {
  CommandKind kind;
  CommandKind attempted;
  std::string target;
  std::string text;
  std::string password;
};

class RecordingSink final : public CodecSink {
 public:
  void command(const protocol::Command& command) override {
    commands.push_back({command.kind, command.attempted, std::string(command.target),
                        std::string(command.text), std::string(command.password)});
  }
  void reply(std::string lines) override { replies.push_back(std::move(lines)); }

  std::vector<Seen> commands;
  std::vector<std::string> replies;
};

// One classic connection: bytes through a framer as the server's are, each
// frame into the codec.
class Client {
 public:
  explicit Client(const Settings& settings)
      : codec(settings), ring_(protocol::Framer::buffer_capacity(settings.max_line)) {}

  Client& send(std::string_view bytes) {
    sink.commands.clear();
    sink.replies.clear();
    while (!bytes.empty()) {
      const std::size_t written = ring_.write(std::span<const char>(bytes.data(), bytes.size()));
      REQUIRE(written > 0);
      bytes.remove_prefix(written);
      protocol::Frame frame;
      while (framer_.next(ring_, frame)) codec.on_frame(frame, sink);
    }
    return *this;
  }

  // The only command the last send made.
  const Seen& command() const {
    REQUIRE(sink.commands.size() == 1);
    REQUIRE(sink.replies.empty());
    return sink.commands.front();
  }

  // The only reply the last send made, and that it asked nothing of the hub.
  const std::string& reply() const {
    REQUIRE(sink.replies.size() == 1);
    REQUIRE(sink.commands.empty());
    return sink.replies.front();
  }

  // The hub's welcome: the codec learns its name from it.
  void registered_as(std::string_view name);

  ClassicCodec codec;
  RecordingSink sink;

 private:
  protocol::RingBuffer ring_;
  protocol::Framer framer_;
};

Settings utc_settings() {
  Settings settings;
  settings.utc = true;
  return settings;
}

std::shared_ptr<chat::Event> event_about(EventKind kind, std::string_view name) {
  auto event = chat::make_event(kind);
  event->name = name;
  return event;
}

std::shared_ptr<chat::Event> chat_event(MessageKind scope, std::string_view sender, std::string_view target,
                                        std::string_view text, bool replayed = false) {
  auto event = chat::make_event(EventKind::kChat);
  event->scope = scope;
  event->when = kWhen;
  event->sender = sender;
  event->target = target;
  event->set_text(std::string(text));
  event->replayed = replayed;
  return event;
}

std::shared_ptr<chat::Event> error_event(ErrorCode code, std::string_view subject = {},
                                         std::string_view detail = {}) {
  auto event = chat::make_event(EventKind::kError);
  event->code = code;
  event->target = subject;
  event->set_text(std::string(detail));
  return event;
}

// What the codec renders, or "<nothing>".
std::string rendered(ClassicCodec& codec, const chat::EventRef& event) {
  const chat::Payload payload = codec.render(event);
  return payload ? *payload : "<nothing>";
}

void Client::registered_as(std::string_view name) {
  REQUIRE(rendered(codec, event_about(EventKind::kWelcome, name)) == "JOINED:" + std::string(name) + "\n");
}

// ---- Lines in ----

TEST_CASE("classic: JOIN:name registers the name, without a password", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  const Seen& join = client.send("JOIN:alice\n").command();
  CHECK(join.kind == CommandKind::kRegister);
  CHECK(join.attempted == CommandKind::kRegister);
  CHECK(join.target == "alice");
  CHECK(join.password.empty());
}

TEST_CASE("classic: spaces around words and a CR before the LF are forgiven", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  CHECK(client.send("JOIN: alice \r\n").command().target == "alice");
  CHECK(client.send("LIST_USERS  \r\n").command().kind == CommandKind::kWho);
  CHECK(client.send(" QUIT\t\r\n").command().kind == CommandKind::kExit);
}

TEST_CASE("classic: a bad name is refused without asking the hub", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  CHECK(client.send("JOIN:al ice\n").reply() ==
        "ERROR:bad name: al ice, names are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit\n");
  CHECK(client.send("JOIN:\n").reply() ==
        "ERROR:bad name, names are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit\n");
  CHECK(client.send("JOIN:Server\n").reply() == "ERROR:bad name: Server, server and all are reserved\n");
}

TEST_CASE("classic: MESSAGE goes to everyone while in no room, to the room once in one", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");

  const Seen& everyone = client.send("MESSAGE:hello all\n").command();
  CHECK(everyone.kind == CommandKind::kBroadcast);
  CHECK(everyone.attempted == CommandKind::kBroadcast);
  CHECK(everyone.text == "hello all");

  client.send("JOIN_ROOM:team\n");
  const Seen& room = client.send("MESSAGE: spaced out \n").command();
  CHECK(room.kind == CommandKind::kRoom);
  CHECK(room.attempted == CommandKind::kRoom);
  CHECK(room.target == "team");
  CHECK(room.text == " spaced out ");
}

TEST_CASE("classic: MESSAGE before JOIN still goes to the hub, which says not joined", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  CHECK(client.send("MESSAGE:hi\n").command().attempted == CommandKind::kBroadcast);
}

TEST_CASE("classic: blank text is an error", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");
  CHECK(client.send("MESSAGE:\n").reply() == "ERROR:empty message\n");
  CHECK(client.send("MESSAGE:  \t \n").reply() == "ERROR:empty message\n");
  CHECK(client.send("PRIVATE:bob: \n").reply() == "ERROR:empty message\n");
}

TEST_CASE("classic: PRIVATE:user:text is a DM; the text may hold colons", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");
  const Seen& dm = client.send("PRIVATE: bob :meet at 10:30\n").command();
  CHECK(dm.kind == CommandKind::kDirect);
  CHECK(dm.attempted == CommandKind::kDirect);
  CHECK(dm.target == "bob");
  CHECK(dm.text == "meet at 10:30");
}

TEST_CASE("classic: a PRIVATE without a user, or to one that cannot exist, is refused", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");
  CHECK(client.send("PRIVATE:bob\n").reply() == "ERROR:usage: PRIVATE:user:text\n");
  CHECK(client.send("PRIVATE:b b:hi\n").reply() == "ERROR:no such user: b b\n");
  CHECK(client.send("PRIVATE:all:hi\n").reply() == "ERROR:no such user: all\n");
}

TEST_CASE("classic: JOIN_ROOM leaves the current room before it joins the next", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");

  const Seen& first = client.send("JOIN_ROOM:#team\n").command();
  CHECK(first.kind == CommandKind::kJoin);
  CHECK(first.attempted == CommandKind::kJoin);
  CHECK(first.target == "team");
  CHECK(client.codec.room() == "team");

  client.send("JOIN_ROOM:lab\n");
  REQUIRE(client.sink.commands.size() == 2);
  CHECK(client.sink.commands[0].kind == CommandKind::kLeave);
  CHECK(client.sink.commands[0].attempted == CommandKind::kLeave);
  CHECK(client.sink.commands[0].target == "team");
  CHECK(client.sink.commands[1].kind == CommandKind::kJoin);
  CHECK(client.sink.commands[1].target == "lab");
  CHECK(client.codec.room() == "lab");
}

TEST_CASE("classic: JOIN_ROOM of the current room, in any case, leaves nothing", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");
  client.send("JOIN_ROOM:team\n");
  const Seen& again = client.send("JOIN_ROOM:TEAM\n").command();
  CHECK(again.kind == CommandKind::kJoin);
  CHECK(again.target == "TEAM");
}

TEST_CASE("classic: JOIN_ROOM before JOIN changes no state; the hub refuses it", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  CHECK(client.send("JOIN_ROOM:team\n").command().kind == CommandKind::kJoin);
  CHECK(client.codec.room().empty());
  CHECK(client.send("MESSAGE:hi\n").command().kind == CommandKind::kBroadcast);
}

TEST_CASE("classic: a bad room name is refused and the room stays", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  client.registered_as("alice");
  client.send("JOIN_ROOM:team\n");
  CHECK(client.send("JOIN_ROOM:#\n").reply() ==
        "ERROR:bad room name, rooms are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit\n");
  CHECK(client.send("JOIN_ROOM:a b\n").reply() ==
        "ERROR:bad room name: a b, rooms are 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit\n");
  CHECK(client.codec.room() == "team");
}

TEST_CASE("classic: anything else is an unknown command, named in the error", "[classic]") {
  const Settings settings = utc_settings();
  Client client(settings);
  const std::string kHint =
      ", send JOIN:name, MESSAGE:text, PRIVATE:user:text, JOIN_ROOM:room, LIST_USERS or QUIT\n";
  CHECK(client.send("HELLO\n").reply() == "ERROR:unknown command: HELLO" + kHint);
  CHECK(client.send("message:hi\n").reply() == "ERROR:unknown command: message" + kHint);
  CHECK(client.send("LIST_USERS:x\n").reply() == "ERROR:unknown command: LIST_USERS" + kHint);
  // A long mistake is quoted in part, cut between characters (é is two bytes).
  const std::string long_word = "x" + std::string(30, 'y') + "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
  CHECK(client.send(long_word + "\n").reply() ==
        "ERROR:unknown command: x" + std::string(30, 'y') + "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" + kHint);
}

TEST_CASE("classic: a line too long or not UTF-8 is answered with ERROR", "[classic]") {
  Settings settings = utc_settings();
  settings.max_line = 16;
  Client client(settings);
  CHECK(client.send(std::string(40, 'a') + "\n").reply() == "ERROR:line too long, the limit is 16 bytes\n");
  CHECK(client.send("MESSAGE:\xC3\x28\n").reply() == "ERROR:line not UTF-8, ignored\n");
}

TEST_CASE("classic: the hub echoes the user's own lines and replays the lobby's", "[classic]") {
  Settings settings = utc_settings();
  settings.history_on_join = 7;
  const ClassicCodec codec(settings);
  CHECK(codec.traits().echo);
  CHECK(codec.traits().lobby_history == 7);
}

// ---- Events out ----

TEST_CASE("classic: the welcome is JOINED:name, and the codec learns its name", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(codec.name().empty());
  CHECK(rendered(codec, event_about(EventKind::kWelcome, "alice")) == "JOINED:alice\n");
  CHECK(codec.name() == "alice");
}

TEST_CASE("classic: presence is USER_JOINED and USER_LEFT", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, event_about(EventKind::kOnline, "bob")) == "USER_JOINED:bob\n");
  CHECK(rendered(codec, event_about(EventKind::kOffline, "bob")) == "USER_LEFT:bob\n");
}

TEST_CASE("classic: room and broadcast lines are NAME [HH:MM:SS]: text", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, chat_event(MessageKind::kRoom, "bob", "team", "hi all")) ==
        "bob [22:13:20]: hi all\n");
  CHECK(rendered(codec, chat_event(MessageKind::kBroadcast, "bob", "", "hey")) == "bob [22:13:20]: hey\n");
}

TEST_CASE("classic: a DM is PRIVATE:sender:text", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, chat_event(MessageKind::kDirect, "bob", "alice", "psst: hi")) ==
        "PRIVATE:bob:psst: hi\n");
}

TEST_CASE("classic: replayed lines carry their date", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, chat_event(MessageKind::kDirect, "bob", "alice", "later", true)) ==
        "PRIVATE:bob:[2023-11-14 22:13:20] later\n");
  CHECK(rendered(codec, chat_event(MessageKind::kRoom, "bob", "team", "earlier", true)) ==
        "bob [2023-11-14 22:13:20]: earlier\n");
  CHECK(rendered(codec, chat_event(MessageKind::kBroadcast, "bob", "", "before", true)) ==
        "bob [2023-11-14 22:13:20]: before\n");
}

TEST_CASE("classic: one room line, rendered once for every classic session", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec alice(settings);
  ClassicCodec carol(settings);
  const chat::EventRef line = chat_event(MessageKind::kRoom, "bob", "team", "hi");
  const chat::Payload first = alice.render(line);
  const chat::Payload second = carol.render(line);
  REQUIRE(first);
  CHECK(first.get() == second.get());
  CHECK(first.get() == line->cached(kClassicStyle));
}

TEST_CASE("classic: JOINED_ROOM goes to the joiner only, and is not cached for the room", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec alice(settings);
  ClassicCodec bob(settings);
  CHECK(rendered(alice, event_about(EventKind::kWelcome, "alice")) == "JOINED:alice\n");
  CHECK(rendered(bob, event_about(EventKind::kWelcome, "bob")) == "JOINED:bob\n");
  auto joined = event_about(EventKind::kJoined, "Alice");
  joined->target = "team";
  // Bob first: were his "nothing" cached, Alice would get nothing too.
  CHECK(rendered(bob, joined) == "<nothing>");
  CHECK(rendered(alice, joined) == "JOINED_ROOM:team\n");
  CHECK(joined->cached(kClassicStyle) == nullptr);
}

TEST_CASE("classic: LIST_USERS' answer is USERS:a,b,c", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  auto users = chat::make_event(EventKind::kUsers);
  users->names = {"alice", "Bob", "carol"};
  CHECK(rendered(codec, users) == "USERS:alice,Bob,carol\n");
}

TEST_CASE("classic: a DM to someone offline is acknowledged by server, privately", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, event_about(EventKind::kQueued, "bob")) ==
        "PRIVATE:server:bob is offline and gets your message when they next join\n");
}

TEST_CASE("classic: the hub's errors in the dialect's words", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, error_event(ErrorCode::kNameTaken, "alice")) == "ERROR:name taken: alice\n");
  CHECK(rendered(codec, error_event(ErrorCode::kNoSuchUser, "bob")) == "ERROR:no such user: bob\n");
  CHECK(rendered(codec, error_event(ErrorCode::kAlreadyRegistered, "alice")) ==
        "ERROR:already joined: alice\n");
  CHECK(rendered(codec, error_event(ErrorCode::kNotRegistered, {}, "register first: server:register NAME")) ==
        "ERROR:not joined yet, send JOIN:name first\n");
  CHECK(rendered(codec, error_event(ErrorCode::kWrongPassword, "alice")) ==
        "ERROR:name has a password: alice\n");
  CHECK(rendered(codec, error_event(ErrorCode::kQueueFull, "bob", "could not store it")) ==
        "ERROR:offline queue full: bob, could not store it\n");
  CHECK(rendered(codec, error_event(ErrorCode::kIdleTimeout, {}, "nothing received for 60 s")) ==
        "ERROR:idle timeout, nothing received for 60 s\n");
}

TEST_CASE("classic: shutdown and missed lines are errors; bye is the end", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, chat::make_event(EventKind::kShutdown)) == "ERROR:server shutting down\n");
  auto missed = chat::make_event(EventKind::kMissed);
  missed->count = 3;
  CHECK(rendered(codec, missed) == "ERROR:3 lines for you were dropped while your client read too slowly\n");
  CHECK(rendered(codec, chat::make_event(EventKind::kBye)) == "<nothing>");
}

TEST_CASE("classic: what the dialect has no line for renders nothing", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  CHECK(rendered(codec, event_about(EventKind::kWelcome, "alice")) == "JOINED:alice\n");
  for (const EventKind kind : {EventKind::kQueuedMessages, EventKind::kHistory, EventKind::kMembers,
                               EventKind::kRooms, EventKind::kPong, EventKind::kHelp}) {
    CHECK(rendered(codec, chat::make_event(kind)) == "<nothing>");
  }
  auto left = event_about(EventKind::kLeft, "alice");
  left->target = "team";
  CHECK(rendered(codec, left) == "<nothing>");
  left->quit = true;
  CHECK(rendered(codec, left) == "<nothing>");
}

TEST_CASE("classic: the codec's own replies come back unchanged", "[classic]") {
  const Settings settings = utc_settings();
  ClassicCodec codec(settings);
  auto reply = chat::make_event(EventKind::kReply);
  reply->set_text("ERROR:empty message\n");
  CHECK(rendered(codec, reply) == "ERROR:empty message\n");
}

}  // namespace
}  // namespace uvchat::door
