// The IRC codec, events out (src/door/irc_render.cpp): what each event
// looks like to a client, exactly, and which lines are shared.
#include <catch2/catch.hpp>

#include "irc_client.hpp"

namespace {

using namespace irc_test;

TEST_CASE("IRC: /me goes to the hub as '* nick text', and comes back as ACTION", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("PRIVMSG #team :\xEF\xBF\xBD" "ACTION waves\xEF\xBF\xBD");
  c.send("PRIVMSG bob :\xEF\xBF\xBDVERSION\xEF\xBF\xBD");  // other CTCP: dropped
  const auto commands = c.sink.commands();
  REQUIRE(commands.size() == 1);
  CHECK(commands[0].text == "* alice waves");
  CHECK(c.sink.replies().empty());

  Client bob(settings);
  bob.register_as("bob");
  CHECK(bob.see(chat_line(MessageKind::kRoom, "alice", "team", "* alice waves")) ==
        ":alice!alice@irc.test PRIVMSG #team :\x01" "ACTION waves\x01\r\n");
  CHECK(bob.see(chat_line(MessageKind::kRoom, "carol", "team", "* alice waves")) ==
        ":carol!carol@irc.test PRIVMSG #team :* alice waves\r\n");
}

TEST_CASE("IRC: live lines, and the broadcast form", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("bob");
  CHECK(c.see(chat_line(MessageKind::kDirect, "alice", "bob", "hi")) == ":alice!alice@irc.test PRIVMSG bob :hi\r\n");
  CHECK(c.see(chat_line(MessageKind::kRoom, "alice", "team", "hey")) ==
        ":alice!alice@irc.test PRIVMSG #team :hey\r\n");
  CHECK(c.see(chat_line(MessageKind::kBroadcast, "alice", "", "all")) == ":alice!alice@irc.test NOTICE $* :all\r\n");
}

TEST_CASE("IRC: replays carry their time as a tag with server-time, in the text without", "[irc]") {
  const Settings settings = test_settings();
  Client plain(settings);
  plain.register_as("bob");
  Client tagged(settings);
  tagged.send("CAP REQ server-time");
  tagged.send("CAP END");
  tagged.register_as("bob");
  REQUIRE(tagged.codec.server_time());

  const auto replay = chat_line(MessageKind::kDirect, "alice", "bob", "while you were out", true);
  CHECK(plain.see(replay) == ":alice!alice@irc.test PRIVMSG bob :[2023-11-14 22:13:20] while you were out\r\n");
  CHECK(tagged.see(replay) ==
        "@time=2023-11-14T22:13:20.123Z :alice!alice@irc.test PRIVMSG bob :while you were out\r\n");
  // Live lines are tagged too, and not dated.
  const auto live = chat_line(MessageKind::kRoom, "alice", "team", "now");
  CHECK(plain.see(live) == ":alice!alice@irc.test PRIVMSG #team :now\r\n");
  CHECK(tagged.see(live) == "@time=2023-11-14T22:13:20.123Z :alice!alice@irc.test PRIVMSG #team :now\r\n");
}

TEST_CASE("IRC: a long text is split into lines of at most 512 bytes, on UTF-8 boundaries", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("bob");
  std::string text;
  while (text.size() < 4000) text += "\xC3\xA9t\xC3\xA9";  // "été", no spaces
  const std::string lines = c.see(chat_line(MessageKind::kRoom, "alice", "team", text));
  const std::string head = ":alice!alice@irc.test PRIVMSG #team :";
  std::string joined;
  std::size_t count = 0;
  std::size_t start = 0;
  while (start < lines.size()) {
    const std::size_t end = lines.find("\r\n", start);
    REQUIRE(end != std::string::npos);
    const std::string line = lines.substr(start, end - start);
    CHECK(line.size() + 2 <= IrcCodec::kMaxLine);
    REQUIRE(line.starts_with(head));
    const std::string piece = line.substr(head.size());
    // No piece starts inside a character.
    CHECK((static_cast<unsigned char>(piece.front()) & 0xC0) != 0x80);
    joined += piece;
    ++count;
    start = end + 2;
  }
  CHECK(count == 9);
  CHECK(joined == text);
}

TEST_CASE("IRC: long text is split after a space near the limit", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("bob");
  std::string text;
  while (text.size() < 600) text += "word ";
  const std::string lines = c.see(chat_line(MessageKind::kDirect, "alice", "bob", text));
  const std::size_t first_end = lines.find("\r\n");
  CHECK(lines.substr(0, first_end).ends_with("word "));
}

TEST_CASE("IRC: lines that do not name the client are rendered once for all IRC sessions", "[irc]") {
  const Settings settings = test_settings();
  Client a(settings);
  a.register_as("alice");
  Client b(settings);
  b.register_as("bob");
  const uvchat::chat::EventRef line = chat_line(MessageKind::kRoom, "carol", "team", "hi");
  CHECK(a.codec.render(line).get() == b.codec.render(line).get());
  const uvchat::chat::EventRef joined = room_event(EventKind::kJoined, "team", "carol");
  CHECK(a.codec.render(joined).get() == b.codec.render(joined).get());
  auto online = uvchat::chat::make_event(EventKind::kOnline);
  online->name = "dave";
  const uvchat::chat::EventRef presence = online;
  CHECK(a.see(presence) == ":irc.test NOTICE * :dave is online\r\n");
  CHECK(a.codec.render(presence).get() == b.codec.render(presence).get());
  // A numeric names its client: one for each.
  auto queued = uvchat::chat::make_event(EventKind::kQueued);
  queued->name = "erin";
  const uvchat::chat::EventRef ack = queued;
  CHECK(a.see(ack) == ":irc.test 301 alice erin :erin is offline; your message is kept for them\r\n");
  CHECK(b.see(ack) == ":irc.test 301 bob erin :erin is offline; your message is kept for them\r\n");
}

TEST_CASE("IRC: the hub's errors as numerics", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("PRIVMSG #team :hi");
  CHECK(c.see(error(ErrorCode::kNotInRoom, "#team")) ==
        ":irc.test 404 alice #team :Cannot send to channel: you are not in it\r\n");
  c.send("PART #team");
  CHECK(c.see(error(ErrorCode::kNotInRoom, "#team")) == ":irc.test 442 alice #team :You're not on that channel\r\n");
  CHECK(c.see(error(ErrorCode::kNoSuchUser, "zed")) == ":irc.test 401 alice zed :No such nick/channel\r\n");
  CHECK(c.see(error(ErrorCode::kQueueFull, "bob")) == ":irc.test NOTICE alice :queue-full bob\r\n");
  CHECK(c.see(error(ErrorCode::kIdleTimeout, "", "nothing received for 60 s")) ==
        "ERROR :nothing received for 60 s\r\n");
}

TEST_CASE("IRC: QUIT is the hub's exit, and bye is ERROR", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  c.register_as("alice");
  c.send("QUIT :gone fishing");
  REQUIRE(c.sink.commands().size() == 1);
  CHECK(c.sink.commands()[0].kind == CommandKind::kExit);
  CHECK(c.see(uvchat::chat::make_event(EventKind::kBye)) == "ERROR :Closing Link: alice (Quit)\r\n");
  CHECK(c.see(uvchat::chat::make_event(EventKind::kShutdown)) == "ERROR :Server shutting down\r\n");
}

TEST_CASE("IRC: refused frames and the offline queue's notice", "[irc]") {
  const Settings settings = test_settings();
  Client c(settings);
  uvchat::protocol::Frame frame;
  frame.kind = uvchat::protocol::FrameKind::kTooLong;
  c.codec.on_frame(frame, c.sink);
  CHECK(c.sink.replies() == ":irc.test 417 * :Input line was too long\r\n");
  c.register_as("bob");
  auto queued = uvchat::chat::make_event(EventKind::kQueuedMessages);
  queued->count = 2;
  CHECK(c.see(queued) == ":irc.test NOTICE bob :2 messages were kept for you while you were offline; here they are\r\n");
  queued = uvchat::chat::make_event(EventKind::kQueuedMessages);
  CHECK(c.see(queued).empty());
}

}  // namespace
